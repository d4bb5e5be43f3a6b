"""gpu_8b_models.py — random-weight 8B-shaped checkpoints for bench/gpu-8b-check.sh
(run on the GPU machine, transformers + torch there).

  llama OUT   Llama-3-8B config, bf16, initialised on the GPU, save_pretrained
              (safetensors); transformers' bf16 logits of the prompt in OUT/ref.f32
              (float32 [positions][vocab]) and the prompt in OUT/prompt.jsonl
  mil2 OUT N  a MambaInLlama Mamba2 checkpoint (Mamba2InLlama_1 shapes, N layers):
              Llama config.json + mamba_config.json + model.safetensors, bf16
Both get the tokenizer of tests/fixtures/models/llama3-untied (ids < 528)."""
import json, os, shutil, sys
import torch

FIX = "tests/fixtures/models/llama3-untied"
PROMPT = [(i * 37 + 11) % 500 for i in range(32)]

def llama_config(layers):
    return dict(architectures=["LlamaForCausalLM"], model_type="llama", hidden_size=4096,
                intermediate_size=14336, num_attention_heads=32, num_key_value_heads=8,
                num_hidden_layers=layers, rms_norm_eps=1e-5, rope_theta=500000.0,
                max_position_embeddings=8192, vocab_size=128256, tie_word_embeddings=False,
                attention_bias=False, mlp_bias=False, hidden_act="silu", bos_token_id=128000,
                eos_token_id=128009, torch_dtype="bfloat16")

def common(out):
    os.makedirs(out, exist_ok=True)
    shutil.copy(os.path.join(FIX, "tokenizer.json"), out)
    with open(os.path.join(out, "prompt.jsonl"), "w") as f:
        f.write(json.dumps({"id": "p", "prompt_ids": PROMPT}) + "\n")

def llama(out):
    from transformers import LlamaConfig, LlamaForCausalLM
    common(out)
    torch.manual_seed(0)
    cfg = LlamaConfig(**llama_config(32))
    torch.set_default_dtype(torch.bfloat16)
    with torch.device("cuda"):
        model = LlamaForCausalLM(cfg)
    model.eval()
    with torch.no_grad():
        logits = model(torch.tensor([PROMPT], device="cuda")).logits[0].float()
    logits.cpu().numpy().tofile(os.path.join(out, "ref.f32"))
    model.save_pretrained(out, safe_serialization=True)
    # the same weights in float32: the reference both bf16 runs are measured
    # against, so transformers' own bf16 error is the yardstick for ours
    model.float()
    with torch.no_grad():
        logits = model(torch.tensor([PROMPT], device="cuda")).logits[0].float()
    logits.cpu().numpy().tofile(os.path.join(out, "ref32.f32"))

def mil2(out, layers):
    from safetensors.torch import save_file
    common(out)
    torch.manual_seed(0)
    D, F, V, H, P, N, I, C = 4096, 14336, 128256, 32, 128, 128, 4096, 6144
    g = lambda *s, std=0.02: (torch.randn(*s, device="cuda") * std).to(torch.bfloat16)
    sd = {"model.embed_tokens.weight": g(V, D), "lm_head.weight": g(V, D),
          "model.norm.weight": torch.ones(D, dtype=torch.bfloat16, device="cuda")}
    for i in range(layers):
        p = "model.layers.%d." % i
        sd[p + "input_layernorm.weight"] = torch.ones(D, dtype=torch.bfloat16, device="cuda")
        sd[p + "post_attention_layernorm.weight"] = torch.ones(D, dtype=torch.bfloat16, device="cuda")
        sd[p + "mlp.gate_proj.weight"] = g(F, D)
        sd[p + "mlp.up_proj.weight"] = g(F, D)
        sd[p + "mlp.down_proj.weight"] = g(D, F)
        m = p + "mamba."
        sd[m + "in_proj.weight"] = g(I + C + H, D)
        sd[m + "conv1d.weight"] = g(C, 1, 4, std=0.3)
        sd[m + "conv1d.bias"] = g(C, std=0.1)
        sd[m + "dt_bias"] = (torch.rand(H, device="cuda") * 2 - 4).to(torch.bfloat16)
        sd[m + "A_log"] = torch.log(torch.rand(H, device="cuda") * 15 + 1).to(torch.bfloat16)
        sd[m + "D"] = torch.ones(H, dtype=torch.bfloat16, device="cuda")
        sd[m + "norm.weight"] = torch.ones(I, dtype=torch.bfloat16, device="cuda")
        sd[m + "out_proj.weight"] = g(D, I)
    save_file({k: v.contiguous().cpu() for k, v in sd.items()}, os.path.join(out, "model.safetensors"))
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(llama_config(layers), f)
    with open(os.path.join(out, "mamba_config.json"), "w") as f:
        json.dump({"d_model": D, "ssm_cfg": {"expand": 1, "ngroups": 32, "d_state": 128},
                   "rms_norm_eps": 1e-5, "vocab_size": None, "d_inner": I, "d_xb": 1024,
                   "intermediate_size": F, "hidden_act": "silu", "n_layer": layers,
                   "attn_layers": []}, f)

if __name__ == "__main__":
    if sys.argv[1] == "llama":
        llama(sys.argv[2])
    else:
        mil2(sys.argv[2], int(sys.argv[3]))
