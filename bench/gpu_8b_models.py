"""gpu_8b_models.py — random-weight 8B-shaped checkpoints for bench/gpu-8b-check.sh
and bench/gpu-e2.sh (run on the GPU machine, transformers + torch there).

  llama OUT   Llama-3-8B config, bf16, save_pretrained (safetensors);
              transformers' bf16 logits of the prompt in OUT/ref.f32
              (float32 [positions][vocab]), its float32 logits in OUT/ref32.f32
              and the prompt in OUT/prompt.jsonl
  mil2 OUT N [ATTN]
              a MambaInLlama Mamba2 checkpoint (Mamba2InLlama shapes, N layers):
              Llama config.json + mamba_config.json + model.safetensors, bf16.
              ATTN: the attention layers, "none" (default: Mamba2InLlama_1),
              "odd" (1, 3, ..., checkpoints.md 1.2 for Mamba2InLlama_0_50) or a
              comma list; those layers get Llama self_attn.{q,k,v,o}_proj tensors
  mil1 OUT N  a MambaInLlama Mamba-1 hybrid (MambaInLlama_0_50 shapes,
              checkpoints.md section 7): attention at the odd layers, Mamba-1
              mixers (in_proj_x, in_proj_z, B_proj, C_proj, dt_proj_down,
              dt_proj, conv1d, A_log [E, 16], D, out_proj) at the even ones
  eos DIR [MEAN [T]]
              give DIR's checkpoint a list of eos ids (generation_config.json)
              whose per-token stop probability, sampled at temperature T (0.8),
              is about 1/MEAN (300): n = min(16, V / (2 MEAN)) ids (at least 1),
              the last n of the vocabulary, whose lm_head rows are rewritten in
              place (a fresh Gaussian row, a larger scale) so that
              n exp(s_e^2/2) / (V exp(s^2/2)) = 1/MEAN, s and s_e the other and
              the eos logits' standard deviations / T (h the final-normed hidden
              state, any direction: logit std = row std x |h|).  The estimate
              assumes h turns at random from step to step; the records' lengths
              give the real rate (gpu_e2.py stops).  Measured on the CPU with
              GPU8B_SMALL=1, temperature 0.8, 768 tokens at most: vocabulary
              128256 (16 ids), 2 prompts x 32 samples: 1/193 per token (63 of
              64 stopped); vocabulary 528 (1 id), 8 x 32: 1/731 (162 of 256):
              within a factor 2.5 of the 1/300 aimed at
All get the tokenizer of tests/fixtures/models/llama3-untied (ids < 528).
GPU8B_SMALL=1: the same layouts with hidden 256, 4 heads of 64 (2 KV heads),
MLP 512, vocabulary 528 (the fixture tokenizer's), N layers as given (the
CPU check: tts-generate -m OUT --device cpu); GPU8B_VOCAB=V another vocabulary
size (e.g. 128256 to try eos's 16 ids small); without CUDA, torch's CPU."""
import json, math, os, shutil, struct, sys
import torch

FIX = "tests/fixtures/models/llama3-untied"
PROMPT = [(i * 37 + 11) % 500 for i in range(32)]
SMALL = os.environ.get("GPU8B_SMALL", "0") not in ("", "0")
DEV = "cuda" if torch.cuda.is_available() else "cpu"
# hidden, MLP, vocabulary, heads, KV heads, head dim
D, F, V, NH, NKV, HD = (256, 512, 528, 4, 2, 64) if SMALL else (4096, 14336, 128256, 32, 8, 128)
V = int(os.environ.get("GPU8B_VOCAB", V))

def llama_config(layers):
    return dict(architectures=["LlamaForCausalLM"], model_type="llama", hidden_size=D,
                intermediate_size=F, num_attention_heads=NH, num_key_value_heads=NKV,
                num_hidden_layers=layers, rms_norm_eps=1e-5, rope_theta=500000.0,
                max_position_embeddings=8192, vocab_size=V, tie_word_embeddings=False,
                attention_bias=False, mlp_bias=False, hidden_act="silu",
                bos_token_id=520 if SMALL else 128000, eos_token_id=527 if SMALL else 128009,
                torch_dtype="bfloat16")

def common(out):
    os.makedirs(out, exist_ok=True)
    shutil.copy(os.path.join(FIX, "tokenizer.json"), out)
    with open(os.path.join(out, "prompt.jsonl"), "w") as f:
        f.write(json.dumps({"id": "p", "prompt_ids": PROMPT}) + "\n")

def llama(out):
    from transformers import LlamaConfig, LlamaForCausalLM
    common(out)
    torch.manual_seed(0)
    cfg = LlamaConfig(**llama_config(4 if SMALL else 32))
    torch.set_default_dtype(torch.bfloat16)
    with torch.device(DEV):
        model = LlamaForCausalLM(cfg)
    model.eval()
    with torch.no_grad():
        logits = model(torch.tensor([PROMPT], device=DEV)).logits[0].float()
    logits.cpu().numpy().tofile(os.path.join(out, "ref.f32"))
    model.save_pretrained(out, safe_serialization=True)
    # the same weights in float32: the reference both bf16 runs are measured
    # against, so transformers' own bf16 error is the yardstick for ours
    model.float()
    with torch.no_grad():
        logits = model(torch.tensor([PROMPT], device=DEV)).logits[0].float()
    logits.cpu().numpy().tofile(os.path.join(out, "ref32.f32"))

def g(*s, std=0.02):
    return (torch.randn(*s, device=DEV) * std).to(torch.bfloat16)

def ones(n):
    return torch.ones(n, dtype=torch.bfloat16, device=DEV)

def attn_list(spec, layers):
    if spec in ("", "none"):
        return []
    if spec == "odd":
        return list(range(1, layers, 2))
    return sorted(int(x) for x in spec.split(","))

def hybrid(out, layers, attn, mixer):
    """attention layers (Llama names) at attn, mixer(sd, prefix) elsewhere,
    the MLP everywhere; config.json + mamba_config.json by the caller."""
    from safetensors.torch import save_file
    common(out)
    torch.manual_seed(0)
    sd = {"model.embed_tokens.weight": g(V, D), "lm_head.weight": g(V, D),
          "model.norm.weight": ones(D)}
    for i in range(layers):
        p = "model.layers.%d." % i
        sd[p + "input_layernorm.weight"] = ones(D)
        sd[p + "post_attention_layernorm.weight"] = ones(D)
        sd[p + "mlp.gate_proj.weight"] = g(F, D)
        sd[p + "mlp.up_proj.weight"] = g(F, D)
        sd[p + "mlp.down_proj.weight"] = g(D, F)
        if i in attn:
            a = p + "self_attn."
            sd[a + "q_proj.weight"] = g(NH * HD, D)
            sd[a + "k_proj.weight"] = g(NKV * HD, D)
            sd[a + "v_proj.weight"] = g(NKV * HD, D)
            sd[a + "o_proj.weight"] = g(D, NH * HD)
        else:
            mixer(sd, p + "mamba.")
    save_file({k: v.contiguous().cpu() for k, v in sd.items()}, os.path.join(out, "model.safetensors"))
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(llama_config(layers), f)

def mil2(out, layers, spec="none"):
    # checkpoints.md 1.2: d_inner = D, d_xb = KV heads x head dim, ngroups =
    # heads, d_state = head dim (so nheads = heads, headdim = head dim)
    H, I, X = NH, D, NKV * HD
    C = I + 2 * X                                  # conv_dim
    attn = attn_list(spec, layers)
    def mixer(sd, m):
        sd[m + "in_proj.weight"] = g(I + C + H, D)   # z, x, B, C, dt
        sd[m + "conv1d.weight"] = g(C, 1, 4, std=0.3)
        sd[m + "conv1d.bias"] = g(C, std=0.1)
        sd[m + "dt_bias"] = (torch.rand(H, device=DEV) * 2 - 4).to(torch.bfloat16)
        sd[m + "A_log"] = torch.log(torch.rand(H, device=DEV) * 15 + 1).to(torch.bfloat16)
        sd[m + "D"] = ones(H)
        sd[m + "norm.weight"] = ones(I)
        sd[m + "out_proj.weight"] = g(D, I)
    hybrid(out, layers, attn, mixer)
    with open(os.path.join(out, "mamba_config.json"), "w") as f:
        json.dump({"d_model": D, "ssm_cfg": {"expand": 1, "ngroups": NH, "d_state": HD},
                   "rms_norm_eps": 1e-5, "vocab_size": None, "d_inner": I, "d_xb": X,
                   "intermediate_size": F, "hidden_act": "silu", "n_layer": layers,
                   "attn_layers": attn}, f)

def mil1(out, layers):
    # checkpoints.md section 7: E = D, X = KV heads x head dim, N = 16,
    # dt_rank = ceil(D / 16), conv 4 over E (repeat_kv_before_conv)
    E, X, N, R = D, NKV * HD, 16, (D + 15) // 16
    attn = attn_list("odd", layers)
    def mixer(sd, m):
        sd[m + "in_proj_x.weight"] = g(X, D)
        sd[m + "in_proj_z.weight"] = g(E, D)
        sd[m + "B_proj.weight"] = g(X, D)
        sd[m + "C_proj.weight"] = g(E, D)
        sd[m + "dt_proj_down.weight"] = g(R, D)
        sd[m + "dt_proj.weight"] = g(E, R, std=R ** -0.5)
        # the bias is added twice: softplus(2 b + ...) about 0.01
        sd[m + "dt_proj.bias"] = (torch.rand(E, device=DEV) - 3).to(torch.bfloat16)
        sd[m + "conv1d.weight"] = g(E, 1, 4, std=0.3)
        sd[m + "conv1d.bias"] = g(E, std=0.1)
        sd[m + "A_log"] = torch.log(torch.arange(1, N + 1, device=DEV, dtype=torch.float32)
                                    ).repeat(E, 1).to(torch.bfloat16)
        sd[m + "D"] = ones(E)
        sd[m + "out_proj.weight"] = g(D, E)
    hybrid(out, layers, attn, mixer)
    with open(os.path.join(out, "mamba_config.json"), "w") as f:
        json.dump({"d_model": D, "ssm_cfg": {"expand": 1}, "rms_norm_eps": 1e-5,
                   "vocab_size": None, "d_inner": E, "d_xb": X, "intermediate_size": F,
                   "hidden_act": "silu", "n_layer": layers, "attn_layers": attn}, f)

# ---- eos: a stop rate through the real eos path ----
def tensor_at(d, name):
    """(file, byte offset of the data, shape, dtype) of tensor name in d."""
    idx = os.path.join(d, "model.safetensors.index.json")
    fn = json.load(open(idx))["weight_map"][name] if os.path.exists(idx) else "model.safetensors"
    path = os.path.join(d, fn)
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        t = json.loads(f.read(n))[name]
    return path, 8 + n + t["data_offsets"][0], t["shape"], t["dtype"]

def read_rows(d, name, r0, r1):
    path, off, shape, dt = tensor_at(d, name)
    assert dt == "BF16", dt
    cols = shape[1] if len(shape) > 1 else 1
    with open(path, "rb") as f:
        f.seek(off + r0 * cols * 2)
        b = bytearray(f.read((r1 - r0) * cols * 2))
    return torch.frombuffer(b, dtype=torch.bfloat16).float().reshape(r1 - r0, cols), shape

def eos(d, mean=300.0, T=0.8):
    w, shape = read_rows(d, "lm_head.weight", 0, 2048)
    Vv, Dd = shape
    gn, _ = read_rows(d, "model.norm.weight", 0, Dd)
    hnorm = math.sqrt(float((gn.flatten() ** 2).sum()))     # |h|, rms-normed x times the weight
    s = float(w.std()) * hnorm / T
    n = max(1, min(16, int(Vv / (2 * mean))))
    se2 = s * s + 2 * math.log(Vv / (mean * n))
    assert se2 > 0, (Vv, mean, n)
    se = math.sqrt(se2)
    ids = list(range(Vv - n, Vv))
    torch.manual_seed(1)
    rows = (torch.randn(n, Dd) * (se * T / hnorm)).to(torch.bfloat16)
    path, off, _, _ = tensor_at(d, "lm_head.weight")
    with open(path, "r+b") as f:
        f.seek(off + ids[0] * Dd * 2)
        f.write(rows.view(torch.int16).numpy().tobytes())
    gc = os.path.join(d, "generation_config.json")
    cfg = json.load(open(gc)) if os.path.exists(gc) else {}
    cfg["eos_token_id"] = ids
    cfg.setdefault("bos_token_id", json.load(open(os.path.join(d, "config.json")))["bos_token_id"])
    with open(gc, "w") as f:
        json.dump(cfg, f)
    print("e2: eos: %d ids %d..%d, logit std / T: others %.3f, eos %.3f; expected per-token "
          "stop probability 1/%.0f at T %.2g (about 1/%g wanted)"
          % (n, ids[0], ids[-1], s, se, Vv * math.exp(s * s / 2) / (n * math.exp(se2 / 2)), T, mean),
          flush=True)

if __name__ == "__main__":
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "llama":
        llama(a[0])
    elif cmd == "mil2":
        mil2(a[0], int(a[1]), a[2] if len(a) > 2 else "none")
    elif cmd == "mil1":
        mil1(a[0], int(a[1]))
    elif cmd == "eos":
        eos(a[0], float(a[1]) if len(a) > 1 else 300.0, float(a[2]) if len(a) > 2 else 0.8)
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
