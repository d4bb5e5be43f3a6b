"""gpu_e2.py — helpers of bench/gpu-e2.sh and bench/gpu-2x.sh (issue 8's and
issue 11's GPU benchmarks).  Every figure is printed as a line "e2: KEY VALUE ..."
and, with --json FILE, appended to FILE as {"key": KEY, "value": VALUE}.

  device                     copy bandwidth (2 GiB d2d, read + write) and bf16
                             matmul rate (best of a few cuBLAS shapes), torch
  prompt FILE N [ID]         a prompt_ids record of N ids (< 500: the fixture
                             tokenizer's range), as gpu_8b_models.py writes
  prompts FILE P N           P such records, ids q0.., N ids each
  shard-stage --shard i/k FILE   the records of FILE at positions p, p mod k = i
                             (a prompt stage for pipelines/shard.sh -s)
  tally NAME FILE WALL_S [ERR]  tokens/s of a tts-generate output, from wall
                             time and from the records' ms; with ERR, its standard
                             error, the scheduler's occupancy (TTS_SCHED_STATS=1)
  stops NAME FILE B          the early-stop figures of a tts-generate output
                             (records' lengths and finish): stopped fraction,
                             lengths, stops per token (the measured stop rate),
                             and the occupancy an ideal continuous batcher of
                             B slots would keep on these lengths (to set
                             tts-generate's own, TTS_SCHED_STATS, against;
                             it counts each sample's first token, which
                             tts-generate samples in the prefill, as a step)
  roofline NAME DIR P N G    the design's roofline for DIR's checkpoint, one
                             prompt of P tokens x N samples x G new tokens
                             (needs --bw, --rate from `device`; --ssm-bytes 4|2):
                             attention layers' KV, Mamba2 and Mamba-1 layers'
                             SSM and conv states (shape_rates)
  hf DIR P N G MODE          transformers generate on the same weights: MODE
                             compile (static cache + torch.compile) or eager
  selftest                   the roofline against DESIGN.md's example figures,
                             shape_rates on the 8B Llama, Mamba2InLlama_1,
                             Mamba2InLlama_0_50 and MambaInLlama_0_50 shapes
  table FILE                 the final table from the --json FILE"""
import json, os, struct, sys, time

JSON = None

def emit(key, value, text=""):
    print("e2: %s %s%s" % (key, value if not isinstance(value, float) else "%.6g" % value,
                           " " + text if text else ""), flush=True)
    if JSON:
        with open(JSON, "a") as f:
            f.write(json.dumps({"key": key, "value": value}) + "\n")

PROMPT = lambda n, salt=0: [(i * 37 + 11 + salt * 101) % 500 for i in range(n)]

# ---- the roofline (DESIGN.md, Performance) ----
def roofline(weight_bytes, params, kv_tok, state_rw, P, N, G, bw, rate):
    """Aggregate generated tokens/s bound for one prompt of P tokens forked
    into N samples of G new tokens: step t reads the weights once, the shared
    prompt's KV once, each sample's own t tokens of KV, and each sample's SSM
    state (read + write); it also must do 2*params*N flops.  Returns
    (tokens/s, seconds summed over the G steps, bandwidth-only tokens/s)."""
    total = mem_total = 0.0
    for t in range(G):
        mem = (weight_bytes + (P + N * t) * kv_tok + N * state_rw) / bw
        total += max(mem, 2.0 * params * N / rate)
        mem_total += mem
    return N * G / total, total, N * G / mem_total

def safetensors_sizes(d):
    """(weight bytes read per step, matrix params): every tensor but the
    input embedding (gathered by row, not read whole)."""
    idx = os.path.join(d, "model.safetensors.index.json")
    files = sorted(set(json.load(open(idx))["weight_map"].values())) if os.path.exists(idx) \
        else ["model.safetensors"]
    wbytes = params = 0
    for fn in files:
        with open(os.path.join(d, fn), "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            hdr = json.loads(f.read(n))
        for k, v in hdr.items():
            if k == "__metadata__" or "embed_tokens" in k:
                continue
            b = v["data_offsets"][1] - v["data_offsets"][0]
            wbytes += b
            if len(v["shape"]) == 2:
                params += v["shape"][0] * v["shape"][1]
    return wbytes, params

def shape_rates(cfg, m, ssm_bytes):
    """(KV bytes per token, recurrent state bytes read + written per sequence
    per step) of a Llama config.json cfg and its mamba_config.json m (None:
    all attention).  The SSM states are ssm_bytes a number (--ssm-state), the
    conv states float32 (kernels/forward.c: conv_dim x (d_conv - 1) floats)."""
    L = cfg["num_hidden_layers"]
    hd = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
    attn, state = L, 0
    if m:
        attn = len(m.get("attn_layers") or [])
        ssm = m.get("ssm_cfg", {})
        d_inner, d_state = m.get("d_inner") or m["d_model"], ssm.get("d_state", 16)
        K = ssm.get("d_conv", 4)
        # Mamba2 (ngroups; d_state 128 here): heads x headdim x d_state = d_inner x
        # d_state, conv over x|B|C; Mamba-1 (no ngroups, d_state 16): d_inner x
        # d_state, conv over the repeated x (d_inner)
        conv = d_inner + 2 * m["d_xb"] if "ngroups" in ssm else d_inner
        state = 2 * (L - attn) * (d_inner * d_state * ssm_bytes + conv * (K - 1) * 4)
    kv_tok = 2 * 2 * cfg.get("num_key_value_heads", cfg["num_attention_heads"]) * hd * attn
    return kv_tok, state

def model_rates(d, ssm_bytes):
    """(weight bytes, params, KV bytes per token, SSM state bytes read +
    written per sequence per step) of checkpoint d."""
    cfg = json.load(open(os.path.join(d, "config.json")))
    wbytes, params = safetensors_sizes(d)
    mc = os.path.join(d, "mamba_config.json")
    m = json.load(open(mc)) if os.path.exists(mc) else None
    return (wbytes, params) + shape_rates(cfg, m, ssm_bytes)

# ---- device ceilings, torch ----
def device():
    import torch
    n = 1 << 30   # 2 GiB of bf16
    a = torch.empty(n, dtype=torch.bfloat16, device="cuda").fill_(1)
    b = torch.empty_like(a)
    def timeit(f, k):
        for _ in range(2):
            f()
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(k):
            f()
        torch.cuda.synchronize()
        return (time.perf_counter() - t0) / k
    bw = 2.0 * a.numel() * 2 / timeit(lambda: b.copy_(a), 20)
    a = b = None   # free the 4 GiB before the matmuls
    torch.cuda.empty_cache()
    emit("copy_GBps", bw / 1e9, "(torch, 2 GiB device to device, read + write)")
    best = 0
    for m, k, n_ in ((1024, 4096, 14336), (4096, 4096, 14336), (8192, 8192, 8192)):
        x = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
        w = torch.randn(k, n_, device="cuda", dtype=torch.bfloat16)
        s = timeit(lambda: x @ w, 30)
        r = 2.0 * m * k * n_ / s
        print("e2: matmul %dx%dx%d bf16: %.1f TFLOP/s" % (m, k, n_, r / 1e12), flush=True)
        best = max(best, r)
    emit("matmul_TFLOPs", best / 1e12, "(torch bf16, best shape)")

# ---- prompts ----
def write_prompts(path, P, N, single_id=None):
    with open(path, "w") as f:
        for i in range(P):
            rid = single_id if single_id else "q%d" % i
            f.write(json.dumps({"id": rid, "prompt_ids": PROMPT(N, i)}) + "\n")

def shard_stage(args):
    i = k = None
    files = []
    it = iter(args)
    for a in it:
        if a == "--shard":
            i, k = map(int, next(it).split("/"))
        else:
            files.append(a)
    p = 0
    for fn in files:
        for line in open(fn):
            if line.strip():
                if p % k == i:
                    sys.stdout.write(line)
                p += 1

# ---- tts-generate's output ----
def tally(name, path, wall, err=None):
    recs = [json.loads(l) for l in open(path) if l.strip()]
    # TTS_SCHED_STATS=1's line on tts-generate's standard error
    for l in open(err) if err and os.path.exists(err) else ():
        if "scheduler:" in l:
            print("e2: %s %s" % (name, l[l.index("scheduler:"):].strip()), flush=True)
            try:
                emit(name + "_occupancy", float(l.split("(")[1].split("%")[0]) / 100,
                     "(decode steps' mean batch / --max-batch, tts-generate's scheduler)")
            except (IndexError, ValueError):
                pass
    toks = sum(r["tokens"] for r in recs)
    ms = sum(r["ms"] for r in recs)
    emit(name + "_samples", len(recs))
    emit(name + "_tokens", toks)
    emit(name + "_wall_s", wall)
    emit(name + "_tps_wall", toks / wall, "(tokens / wall, load included)")
    if ms > 0:
        emit(name + "_engine_s", ms / 1e3, "(sum of the records' ms)")
        emit(name + "_tps", toks / (ms / 1e3), "(tokens / sum of records' ms)")

def stops(name, path, B):
    recs = [json.loads(l) for l in open(path) if l.strip()]
    lens = [r["tokens"] for r in recs]
    n_stop = sum(r.get("finish") == "stop" for r in recs)
    toks = sum(lens)
    emit(name + "_stopped", n_stop / len(recs), "(of %d samples; finish stop)" % len(recs))
    emit(name + "_len_mean", toks / len(recs), "(min %d, max %d)" % (min(lens), max(lens)))
    if n_stop:
        emit(name + "_stop_rate", n_stop / toks, "(stops per generated token: 1/%.0f)" % (toks / n_stop))
    # an ideal continuous batcher: B slots, the samples in record order, a
    # finished one replaced in the next step (prefill free)
    import heapq
    slots = [0] * min(B, len(lens))
    for L in lens:
        heapq.heappush(slots, heapq.heappop(slots) + L)
    steps = max(slots)
    emit(name + "_ideal_occupancy", toks / (B * steps),
         "(an ideal refilling batcher of %d slots: %d steps; tts-generate's own: _occupancy)"
         % (B, steps))

# ---- transformers generate ----
def hf(d, P, N, G, mode):
    import torch
    from transformers import AutoModelForCausalLM, StoppingCriteria, StoppingCriteriaList
    t0 = time.time()
    try:
        model = AutoModelForCausalLM.from_pretrained(d, dtype=torch.bfloat16, device_map="cuda")
    except Exception as e:   # device_map may want accelerate
        print("e2: hf: device_map failed (%s); loading on the CPU, then .cuda()" % e, flush=True)
        model = AutoModelForCausalLM.from_pretrained(d, dtype=torch.bfloat16).cuda()
    model.eval()
    gc = model.generation_config
    gc.eos_token_id = None          # --ignore-eos
    gc.pad_token_id = 0
    print("e2: hf loaded in %.1f s (transformers %s, torch %s)"
          % (time.time() - t0, __import__("transformers").__version__, torch.__version__), flush=True)
    ids = torch.tensor([PROMPT(P)] * N, device="cuda")
    kw = dict(do_sample=True, temperature=0.8, top_k=0, top_p=1.0, max_new_tokens=G,
              attention_mask=torch.ones_like(ids))
    if mode == "compile":
        # static cache: generate compiles the decoding forward itself
        # (GenerationConfig.compile_config; reduce-overhead = CUDA graphs)
        gc.cache_implementation = "static"
        try:
            from transformers import CompileConfig
            gc.compile_config = CompileConfig(fullgraph=True, mode="reduce-overhead")
        except ImportError:
            print("e2: hf: no CompileConfig; the default compile settings", flush=True)
    else:
        gc.disable_compile = True

    class Stop(StoppingCriteria):   # the warm-up: same shapes, a few steps
        def __call__(self, input_ids, scores, **k):
            return torch.full((input_ids.shape[0],), input_ids.shape[1] >= P + 8,
                              dtype=torch.bool, device=input_ids.device)
    t0 = time.time()
    with torch.no_grad():
        model.generate(ids, stopping_criteria=StoppingCriteriaList([Stop()]), **kw)
    torch.cuda.synchronize()
    warm = time.time() - t0
    try:   # did dynamo compile anything in this process?
        from torch._dynamo.utils import counters
        compiled = counters["stats"]["unique_graphs"] > 0
    except Exception:
        compiled = getattr(model, "_compiled_call", None) is not None
    emit("hf_%s_warmup_s" % mode, warm, "(8 tokens; compilation included; compiled forward: %s)"
         % compiled)
    torch.cuda.synchronize()
    t0 = time.time()
    with torch.no_grad():
        out = model.generate(ids, **kw)
    torch.cuda.synchronize()
    wall = time.time() - t0
    toks = (out.shape[1] - P) * out.shape[0]
    emit("hf_%s_tokens" % mode, toks)
    emit("hf_%s_wall_s" % mode, wall)
    emit("hf_%s_tps" % mode, toks / wall, "(cache %s, compiled forward %s)"
         % (gc.cache_implementation or "dynamic", compiled))
    emit("hf_config", "%s (cache %s, compiled forward %s)"
         % (mode, gc.cache_implementation or "dynamic", compiled))

# ---- the self-test and the table ----
def selftest():
    # DESIGN.md: Llama-3-8B bf16, 16 GB of weights, 128 KiB KV per token, one
    # prompt (200 tokens) x 128 samples x 768 new tokens, 4.2 TB/s, 780 TFLOP/s:
    # about 24k tokens/s with the prompt read once, batch 1 about 260
    a = roofline(16e9, 8e9, 131072, 0, 200, 128, 768, 4.2e12, 780e12)[0]
    b = roofline(16e9, 8e9, 131072, 0, 200, 1, 768, 4.2e12, 780e12)[0]
    print("selftest: N 128 %.0f tok/s (design: about 24k); N 1 %.0f tok/s (about 260)" % (a, b))
    ok = 23000 < a < 25000 and 250 < b < 270
    # the 8B shapes (checkpoints.md 1.2 and 7): KV per token, state r+w per step
    cfg = dict(num_hidden_layers=32, hidden_size=4096, num_attention_heads=32, num_key_value_heads=8)
    m2 = dict(d_model=4096, d_inner=4096, d_xb=1024, ssm_cfg=dict(expand=1, ngroups=32, d_state=128))
    odd = list(range(1, 32, 2))
    got = [shape_rates(cfg, None, 4), shape_rates(cfg, dict(m2, attn_layers=[]), 4),
           shape_rates(cfg, dict(m2, attn_layers=odd), 2),
           shape_rates(cfg, dict(d_model=4096, d_inner=None, d_xb=1024, ssm_cfg=dict(expand=1),
                                 attn_layers=odd), 4)]
    want = [(131072, 0), (0, 2 * 32 * (4096 * 128 * 4 + 6144 * 3 * 4)),
            (65536, 2 * 16 * (4096 * 128 * 2 + 6144 * 3 * 4)),
            (65536, 2 * 16 * (4096 * 16 * 4 + 4096 * 3 * 4))]
    print("selftest: KV B/token, state B/seq/step: llama %s, mil2 %s, mil2h (bf16) %s, mil1 %s"
          % tuple(got))
    ok = ok and got == want
    print("selftest:", "ok" if ok else "FAILED")
    return 0 if ok else 1

def table(path):
    v = {}
    for l in open(path):
        r = json.loads(l)
        v[r["key"]] = r["value"]
    g = lambda k, f="%.0f": (f % v[k]) if k in v and not isinstance(v[k], str) else v.get(k, "-")
    print("e2: ---- results (bandwidth %s GB/s, bf16 matmul %s TFLOP/s, %s) ----"
          % (g("copy_GBps"), g("matmul_TFLOPs"),
             "ASSUMED, not measured" if "device_assumed" in v else "measured in this run"))
    print("| workload | engine | tok/s (engine ms) | tok/s (wall) | roofline tok/s | fraction | vs transformers |")
    print("|---|---|---|---|---|---|---|")
    hfk = next((k for k in ("hf_compile_tps", "hf_eager_tps") if k in v), None)
    for name, label in (("llama", "Llama-3-8B, 1 x 128 x 768"), ("llama_b1", "Llama-3-8B, batch 1, 768"),
                        ("mil2", "Mamba2InLlama_1, 1 x 128 x 768"),
                        ("mil2h", "Mamba2InLlama_0_50, 1 x 128 x 768"),
                        ("mil1", "MambaInLlama_0_50 (Mamba-1), 1 x 128 x 768"),
                        ("early", "Llama-3-8B, 8 x 128, early stops (<= 768)")) + tuple(
                            (k[:-5], "Llama-3-8B, 1 x 128 x 768, " + str(v[k]))
                            for k in sorted(v) if k.startswith("llama_k") and k.endswith("_knob")):
        if name + "_tps_wall" not in v and name + "_roof_tps" not in v:
            continue
        tps = v.get(name + "_tps", v.get(name + "_tps_wall"))
        roof = v.get(name + "_roof_tps" if name != "llama_b1" else name + "_roof_bw_tps")
        frac = "%.0f %%" % (100 * tps / roof) if tps and roof else "-"
        vs = "%.2fx" % (tps / v[hfk]) if name == "llama" and hfk and tps else "-"
        print("| %s | tts-generate | %s | %s | %s | %s | %s |" % (label, g(name + "_tps"),
              g(name + "_tps_wall"), "%.0f" % roof if roof else "-", frac, vs))
    for k in ("hf_compile_tps", "hf_eager_tps"):
        if k in v:
            roof = v.get("llama_roof_tps")
            print("| Llama-3-8B, 128 x 768 (no prefix sharing) | transformers %s | - | %.0f | %s | %s | 1 |"
                  % (k[3:-4], v[k], "%.0f" % roof if roof else "-",
                     "%.0f %%" % (100 * v[k] / roof) if roof else "-"))

def main(argv):
    global JSON
    if "--json" in argv:
        i = argv.index("--json")
        JSON = argv[i + 1]
        del argv[i:i + 2]
    opt = {}
    for k in ("--bw", "--rate", "--ssm-bytes"):
        if k in argv:
            i = argv.index(k)
            opt[k] = float(argv[i + 1])
            del argv[i:i + 2]
    cmd, a = argv[1], argv[2:]
    if cmd == "device":
        device()
    elif cmd == "prompt":
        write_prompts(a[0], 1, int(a[1]), a[2] if len(a) > 2 else "p")
    elif cmd == "prompts":
        write_prompts(a[0], int(a[1]), int(a[2]))
    elif cmd == "shard-stage":
        shard_stage(a)
    elif cmd == "tally":
        tally(a[0], a[1], float(a[2]), a[3] if len(a) > 3 else None)
    elif cmd == "stops":
        stops(a[0], a[1], int(a[2]))
    elif cmd == "knob":
        emit(a[0] + "_knob", a[1], "(the environment of this run)")
    elif cmd == "roofline":
        name, d, P, N, G = a[0], a[1], int(a[2]), int(a[3]), int(a[4])
        bw, rate = opt["--bw"] * 1e9, opt["--rate"] * 1e12
        w, params, kv, st = model_rates(d, int(opt.get("--ssm-bytes", 4)))
        tps, secs, bw_tps = roofline(w, params, kv, st, P, N, G, bw, rate)
        print("e2: %s roofline inputs: weights %.2f GB, %.2f G matrix params, KV %d B/token, "
              "state r+w %.1f MB/seq, P %d N %d G %d, %.0f GB/s, %.0f TFLOP/s"
              % (name, w / 1e9, params / 1e9, kv, st / 1e6, P, N, G, bw / 1e9, rate / 1e12), flush=True)
        emit(name + "_roof_tps", tps, "(decode steps summed over the growing context)")
        emit(name + "_roof_bw_tps", bw_tps, "(bandwidth term only)")
    elif cmd == "hf":
        hf(a[0], int(a[1]), int(a[2]), int(a[3]), a[4])
    elif cmd == "selftest":
        return selftest()
    elif cmd == "table":
        table(a[0])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0

if __name__ == "__main__":
    sys.exit(main(sys.argv))
