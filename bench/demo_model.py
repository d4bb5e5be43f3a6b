#!/usr/bin/env python3
"""bench/demo_model.py OUT — a random-weight model of the demo models' shape
(models/README.md: Bamba, hidden 64, 8 layers, attention at 1,3,5,7, MLP 128,
vocabulary 1024), from the bamba fixture's config, for timing tts-generate
on the CPU.  Needs numpy only."""
import json, os, shutil, struct, sys
import numpy as np

out = sys.argv[1]
fx = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "models", "bamba")
cfg = json.load(open(os.path.join(fx, "config.json")))
cfg.update(num_hidden_layers=8, attn_layer_indices=[1, 3, 5, 7], vocab_size=1024,
           max_position_embeddings=4096, time_step_limit=[0.0, 1e30])
D, F, V, H, P, N = 64, 128, 1024, 8, 16, 16
I, conv = H * P, H * P + 2 * N
rng = np.random.default_rng(1)
t = {"model.embed_tokens.weight": (V, D), "lm_head.weight": (V, D), "model.final_layernorm.weight": (D,)}
for i in range(8):
    p = "model.layers.%d." % i
    t[p + "input_layernorm.weight"] = (D,)
    t[p + "pre_ff_layernorm.weight"] = (D,)
    for k, s in (("gate_proj", (F, D)), ("up_proj", (F, D)), ("down_proj", (D, F))):
        t[p + "feed_forward.%s.weight" % k] = s
    if i in cfg["attn_layer_indices"]:
        for k, s in (("q_proj", (64, D)), ("k_proj", (32, D)), ("v_proj", (32, D)), ("o_proj", (D, 64))):
            t[p + "self_attn.%s.weight" % k] = s
    else:
        m = p + "mamba."
        t.update({m + "in_proj.weight": (I + conv + H, D), m + "conv1d.weight": (conv, 1, 4),
                  m + "conv1d.bias": (conv,), m + "dt_bias": (H,), m + "A_log": (H,), m + "D": (H,),
                  m + "norm.weight": (I,), m + "out_proj.weight": (D, I)})
header, blobs, off = {}, [], 0
for k, s in t.items():
    a = (rng.standard_normal(s) * (0.1 if len(s) > 1 else 0.1) + (1.0 if "norm" in k else 0.0)).astype("<f4")
    b = a.tobytes()
    header[k] = {"dtype": "F32", "shape": list(s), "data_offsets": [off, off + len(b)]}
    blobs.append(b)
    off += len(b)
h = json.dumps(header).encode()
h += b" " * (-len(h) % 8)
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
json.dump(cfg, open(os.path.join(out, "config.json"), "w"), indent=1)
shutil.copy(os.path.join(fx, "tokenizer.json"), out)
