#!/usr/bin/env python3
"""Train the bundled tiny models for the synthetic AR / non-AR tasks.

Five models, one recipe: an attention model (LlamaForCausalLM), a pure Mamba2
model (BambaForCausalLM with no attention layer: the same block as the
hybrids, Mamba2 mixer + SwiGLU MLP, like the paper's Mamba2InLlama_1) and
Mamba2/attention hybrids with 50 %, 75 % and 87.5 % Mamba2 layers
(BambaForCausalLM, attention at layers [1,3,5,7], [3,7], [7] of 8).

Every model sees the same batches in the same order (the order comes from
--seed, not from the model), the same optimiser (AdamW), the same learning
rate schedule (linear warm-up, cosine decay) and the same number of steps.
The models train concurrently, one process each, spread over the GPUs of the
machine; each training step is compiled (torch.compile, reduce-overhead: CUDA
graphs) over batches padded to one length.  The number of steps is fixed
before the schedule starts: --steps N, or, with --steps 0, from a short
calibration (once every process has compiled, each times --calib steps under
the shared load; all take the slowest rate) so that training ends --budget
seconds after the start.  Either way it is the same number for every model,
and it is logged.  --deadline is a safety net that stops, evaluates and saves
every model (with the steps it has, logged) if the machine is slower than the
calibration said.

After training, each model is evaluated with greedy decoding on held-out
problems (exact match of the whole completion under teacher forcing, which is
precisely "greedy decoding reproduces the gold completion"; a few real
`generate` calls are printed beside it), saved in bf16 safetensors with
save_pretrained, and reloaded in float32 on the CPU to record transformers'
logits for a fixed prompt and 16 greedy tokens (OUT/reference/NAME/:
expected.json + logits.f32, the layout of tests/fixtures), so the C engine
can be checked against transformers on these very models.

Input (made by `make models-data` with tts-synth-ar, tts-prompt and models/cot.jq):
  DATA/train.jsonl.gz, DATA/heldout.jsonl.gz: records with `prompt`,
  `completion`, `task`, `pairs`, `answer`, `id`.
Output, for each model NAME, in OUT/NAME/:
  config.json model.safetensors generation_config.json tokenizer.json
  train.log (the step log), result.json (settings, param count, steps,
  final loss, held-out accuracy, times).
  OUT/summary.json and OUT/train.log gather them all.

Usage:
  PYTHONUNBUFFERED=1 python3 models/train.py --data models/data --out "$OUT"
"""
import argparse
import gzip
import json
import math
import multiprocessing as mp
import os
import pickle
import sys
import tempfile
import time
import traceback

TOKENIZER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tokenizer.json")

# name -> (architecture, attention layer indices); 8 layers each.
MODELS = {
    "llama":          ("llama", None),
    "mamba2-50":      ("bamba", [1, 3, 5, 7]),
    "mamba2-75":      ("bamba", [3, 7]),
    "mamba2-87.5":    ("bamba", [7]),
    "mamba2-100":     ("bamba", []),
}

SHAPE = dict(hidden=64, layers=8, intermediate=128, heads=4, kv_heads=4, head_dim=32,
             mamba_heads=8, mamba_head_dim=16, mamba_state=16, mamba_conv=4,
             mamba_chunk=64)


def log(fh, msg):
    line = f"[{time.strftime('%H:%M:%S')}] {msg}"
    print(line, flush=True)
    if fh:
        fh.write(line + "\n")
        fh.flush()


def read_jsonl(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def make_model(name, vocab, bos, eos, rope_theta, init_std):
    import transformers as T
    arch, attn = MODELS[name]
    s = SHAPE
    common = dict(vocab_size=vocab, hidden_size=s["hidden"], num_hidden_layers=s["layers"],
                  intermediate_size=s["intermediate"], num_attention_heads=s["heads"],
                  num_key_value_heads=s["kv_heads"], head_dim=s["head_dim"], rms_norm_eps=1e-5,
                  tie_word_embeddings=False, bos_token_id=bos, eos_token_id=eos,
                  pad_token_id=eos, max_position_embeddings=1024,
                  initializer_range=init_std)
    if arch == "llama":
        cfg = T.LlamaConfig(**common, hidden_act="silu", attention_bias=False,
                            rope_parameters={"rope_type": "default", "rope_theta": rope_theta})
        return T.LlamaForCausalLM(cfg)
    cfg = T.BambaConfig(**common, attn_layer_indices=attn, mamba_n_heads=s["mamba_heads"],
                        mamba_d_head=s["mamba_head_dim"], mamba_n_groups=1,
                        mamba_d_state=s["mamba_state"], mamba_d_conv=s["mamba_conv"],
                        mamba_expand=2, mamba_chunk_size=s["mamba_chunk"],
                        mamba_conv_bias=True, mamba_proj_bias=False,
                        # finite, so config.json is plain JSON (no Infinity); a
                        # clamp of softplus(dt) >= 0 at 1e9 changes nothing
                        time_step_limit=(0.0, 1e9),
                        rope_parameters={"rope_type": "default", "rope_theta": rope_theta,
                                         "partial_rotary_factor": 0.5})
    return T.BambaForCausalLM(cfg)


AUX_ASK = "Recall the values.\n"


def recall_records(recs, k, seed):
    """--aux-recall K: for each training problem, a second sequence on the
    same list that asks for no sum: the problem's prompt and a line asking
    for the values, then "Recall" with the values of K of its keys (all when
    fewer) in a random order.  Ten-odd lookups a sequence where the task has
    three (and half the task none), with the question's keys still there as
    distractors (models/README)."""
    import random
    rng = random.Random(seed + 2)
    out = []
    for r in recs:
        if "kv" not in r:
            sys.exit(f"train.py: --aux-recall: {r.get('id')}: no kv (data made before models/cot.jq "
                     "kept it: run `make models-data` again)")
        pick = rng.sample(r["kv"], min(k, len(r["kv"])))
        out.append({"id": f"{r.get('id')}-recall", "task": "recall", "pairs": r["pairs"],
                    "prompt": r["prompt"] + AUX_ASK,
                    "completion": "Recall " + ", ".join(f"{a}={b}" for a, b in pick) + "."})
    return out


def encode(tok, recs, eot):
    """prompt ids (with BOS, as the engine tokenizes a prompt) + completion ids + eot."""
    out = []
    for i in range(0, len(recs), 4096):      # in chunks: Encoding objects are large
        part = recs[i:i + 4096]
        p = tok.encode_batch([r["prompt"] for r in part], add_special_tokens=True)
        c = tok.encode_batch([r["completion"] for r in part], add_special_tokens=False)
        out += [(a.ids, b.ids + [eot]) for a, b in zip(p, c)]
    return out


def pad_arrays(np, seqs, pad, length, prompt_loss=False):
    """Right-padded input ids and labels (-100 outside completions, or with
    prompt_loss outside the whole text: the prompt's tokens after BOS are
    predicted too) as int32 arrays [len(seqs), length].  Right padding never changes the earlier
    positions of a causal model, attention or Mamba.  Every batch has the same
    length, so the compiled training step has one shape."""
    ids = np.full((len(seqs), length), pad, dtype=np.int32)
    lab = np.full((len(seqs), length), -100, dtype=np.int32)
    for i, (p, c) in enumerate(seqs):
        x = p + c
        ids[i, :len(x)] = x
        lab[i, len(p):len(x)] = c
        if prompt_loss:
            lab[i, 1:len(p)] = p[1:]
    return ids, lab


class BatchOrder:
    """An endless seeded order over IDX, reshuffled each time it runs low:
    peek the next batch, consume it once the step that used it succeeded."""

    def __init__(self, idx, seed):
        import random
        self.idx, self.rng, self.queue = list(idx), random.Random(seed), []

    def peek(self, n):
        if len(self.queue) < n:
            perm = list(self.idx)
            self.rng.shuffle(perm)
            self.queue += perm
        return self.queue[:n]

    def consume(self, n):
        self.queue = self.queue[n:]

    def set_state(self, rng_state, queue):
        self.rng.setstate(rng_state)
        self.queue = queue


def lr_at(step, total, args):
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    t = (step - args.warmup) / max(1, total - args.warmup)
    return args.lr * (args.min_lr_frac + (1 - args.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def evaluate(torch, model, ids_all, lab_all, recs, bs=100):
    """Greedy exact match per (task, pairs) under teacher forcing; ids_all,
    lab_all: the padded held-out tensors on the model's device."""
    model.eval()
    cells = {}
    with torch.no_grad():
        for i in range(0, len(recs), bs):
            ids, lab = ids_all[i:i + bs].long(), lab_all[i:i + bs].long()
            logits = model(input_ids=ids, use_cache=False).logits
            pred = logits[:, :-1].argmax(-1)
            gold = lab[:, 1:]
            ok = ((pred == gold) | (gold == -100)).all(-1).tolist()
            for r, o in zip(recs[i:i + bs], ok):
                k = f"{r['task']}-{r['pairs']}"
                a = cells.setdefault(k, [0, 0])
                a[0] += int(o)
                a[1] += 1
    model.train()
    return {k: {"correct": v[0], "n": v[1], "accuracy": v[0] / v[1]} for k, v in sorted(cells.items())}


def greedy(torch, model, ids, n, eot=None, device="cpu"):
    """n greedy tokens by full forward passes (no cache: transformers' Bamba
    cache fails without attention layers): ids, top1-top2 margins."""
    out, margins = [], []
    x = torch.tensor([ids], device=device)
    with torch.no_grad():
        for _ in range(n):
            lg = model(input_ids=x, use_cache=False).logits[0, -1].float()
            top = torch.topk(lg, 2)
            t = int(top.indices[0])
            out.append(t)
            margins.append(float(top.values[0] - top.values[1]))
            if eot is not None and t == eot:
                break
            x = torch.cat([x, torch.tensor([[t]], device=device)], 1)
    return out, margins


def reference(torch, T, dirname, refdir, name, prompt, tok):
    """transformers' float32 logits on the CPU for the saved (bf16) model, in the
    layout of tests/fixtures (expected.json + logits.f32 [position][vocab])."""
    import hashlib
    import numpy as np
    m = T.AutoModelForCausalLM.from_pretrained(dirname, dtype=torch.float32)
    m.eval()
    ids = tok.encode(prompt, add_special_tokens=True).ids   # BOS + prompt, as the engine does
    with torch.no_grad():
        lg = m(input_ids=torch.tensor([ids]), use_cache=False).logits[0].float()
    g, margins = greedy(torch, m, ids, 16)
    arr = lg.numpy().astype("<f4")
    os.makedirs(refdir, exist_ok=True)
    arr.tofile(os.path.join(refdir, "logits.f32"))
    e = {"model": name, "prompt": prompt, "prompt_ids": ids, "logits_file": "logits.f32",
         "logits_shape": list(arr.shape),
         "logits_dtype": "float32 little-endian, row-major [position][vocab]",
         "greedy_ids": g, "greedy_text": tok.decode(g, skip_special_tokens=False),
         "margins": margins, "min_margin": min(margins), "n_params": sum(p.numel() for p in m.parameters()),
         "sha256_logits": hashlib.sha256(arr.tobytes()).hexdigest(),
         "reference": "transformers %s, torch %s, CPU, float32 (weights stored in bf16, upcast); "
                      "greedy by full recompute, no cache, eos not applied" % (T.__version__, torch.__version__)}
    with open(os.path.join(refdir, "expected.json"), "w") as f:
        json.dump(e, f, indent=1)
    return e


def wait_for(state, cond, timeout=300):
    """Wait until every process is dead (state -1) or satisfies cond(rank)."""
    t = time.time()
    while time.time() - t < timeout:
        if all(state[r] == -1 or cond(r) for r in range(len(state))):
            return True
        time.sleep(0.05)
    return False


def child(name, args, rank, state, rates, ends):
    import torch
    import transformers as T
    from tokenizers import Tokenizer
    outdir = os.path.join(args.out, name)
    os.makedirs(outdir, exist_ok=True)
    fh = open(os.path.join(outdir, "train.log"), "w")
    res = {"model": name, "ok": False}
    try:
        t0 = time.time()
        device = args.gpu_of.get(name, "cuda:0" if args.device == "cuda" else args.device)
        torch.manual_seed(args.seed)
        # float32 weights and activations (TF32 matmuls on the GPU): models this
        # small are bound by kernel launches, not arithmetic, and transformers'
        # pure-torch Mamba2 path is safest in float32.
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.set_num_threads(max(1, (os.cpu_count() or 2) // max(1, len(args.models))))
        tok = Tokenizer.from_file(args.tokenizer)
        vocab = tok.get_vocab_size()
        bos, eot = tok.token_to_id("<|begin_of_text|>"), tok.token_to_id("<|eot_id|>")
        import numpy as np
        with np.load(args.tokenized) as z:      # tokenized and padded once, by the driver
            tr_ids, tr_lab = torch.from_numpy(z["tr_ids"]).to(device), torch.from_numpy(z["tr_lab"]).to(device)
            he_ids, he_lab = torch.from_numpy(z["he_ids"]).to(device), torch.from_numpy(z["he_lab"]).to(device)
            he_seqs = pickle.loads(z["he_seqs"].tobytes())
            tr_pairs = z["tr_pairs"].tolist()
        held = read_jsonl(os.path.join(args.data, "heldout.jsonl.gz"))
        ntrain = tr_ids.shape[0]
        SHAPE.update(args.shape)     # as main() did: a spawned process imports SHAPE afresh
        model = make_model(name, vocab, bos, eot, args.rope_theta, args.init_std)
        if args.init_from:        # a second phase: start from a saved model of this shape
            src = T.AutoModelForCausalLM.from_pretrained(os.path.join(args.init_from, name),
                                                         dtype=torch.float32)
            model.load_state_dict(src.state_dict())
            del src
        model = model.to(device)
        nparam = sum(p.numel() for p in model.parameters())
        arch, attn = MODELS[name]
        log(fh, f"{name}: {type(model).__name__}, attention layers {attn if attn is not None else 'all'}, "
                f"{nparam} parameters, {ntrain} training sequences of {tr_ids.shape[1]} positions, "
                f"{len(held)} held-out, device {device}, transformers {T.__version__}, torch {torch.__version__}")
        cuda = device.startswith("cuda")
        if cuda:
            torch.cuda.set_device(device)
        opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95),
                                weight_decay=args.weight_decay, **({"fused": True} if cuda else {}))
        # The training step compiled (torch.compile; with reduce-overhead also
        # captured as CUDA graphs): models this small are bound by kernel
        # launches, so this is what buys the steps.  Same numerics up to float
        # rounding; a model whose compiled step fails falls back to eager and
        # says so.  --compile none: eager everywhere.
        fwd = model if args.compile == "none" else torch.compile(model, mode=args.compile, dynamic=False)
        graphs = args.compile == "reduce-overhead"
        # The data order: a function of --seed only, identical for every model.
        # --curriculum N: the first N steps draw from the sequences with the
        # fewest pairs, in an order of their own; the main order starts after.
        main_order, easy_order = BatchOrder(range(ntrain), args.seed), None
        if args.curriculum > 0:
            fewest = min(tr_pairs)
            easy_order = BatchOrder([i for i, p in enumerate(tr_pairs) if p == fewest], args.seed + 1)

        def order_at(step):
            return easy_order if step < args.curriculum else main_order

        run = {"sum": torch.zeros((), device=device), "n": 0}

        def step_once(step, total):
            nonlocal fwd, graphs
            for g in opt.param_groups:
                g["lr"] = lr_at(step, total, args)
            idx = torch.tensor(order_at(step).peek(args.batch), device=device)
            ids, lab = tr_ids[idx].long(), tr_lab[idx].long()
            while True:
                try:
                    if graphs:
                        torch.compiler.cudagraph_mark_step_begin()
                    loss = fwd(input_ids=ids, labels=lab, use_cache=False).loss
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    break
                except Exception as e:
                    if fwd is model:
                        raise
                    log(fh, f"compiled step failed ({type(e).__name__}: {str(e).splitlines()[0][:200]}); "
                            "this model goes on eager")
                    fwd, graphs = model, False
                    opt.zero_grad(set_to_none=True)
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            run["sum"] += loss.detach()     # no host sync per step
            run["n"] += 1
            order_at(step).consume(args.batch)     # only once the step succeeded

        def take_loss():
            v = float(run["sum"]) / max(1, run["n"])
            run["sum"].zero_()
            run["n"] = 0
            return v

        shortest = min(r["pairs"] for r in held)
        probe = [i for i, r in enumerate(held) if r["pairs"] == shortest]
        probe_recs = [held[i] for i in probe]
        probe_idx = torch.tensor(probe, device=device)

        def probe_log(step):
            a = evaluate(torch, model, he_ids[probe_idx], he_lab[probe_idx], probe_recs)
            log(fh, f"probe step {step}: held-out greedy exact match " +
                    ", ".join(f"{k} {100 * v['accuracy']:.0f}%" for k, v in a.items()))
            return {k: v["accuracy"] for k, v in a.items()}

        model.train()
        step, curve, window = 0, [], []
        total = args.steps if args.steps > 0 else None
        train_before = 0.0
        resumed = None
        ck_in = os.path.join(args.state_in, name + ".pt") if args.state_in else None
        if ck_in and os.path.exists(ck_in):
            # a run continued from where an earlier call stopped (--state-out):
            # weights, optimiser moments, the data order and the planned steps
            ck = torch.load(ck_in, map_location=device, weights_only=False)
            model.load_state_dict(ck["model"])
            opt.load_state_dict(ck["opt"])
            main_order.set_state(ck["rng"], ck["order"])
            if easy_order and ck.get("easy_rng"):     # states saved before --curriculum have none
                easy_order.set_state(ck["easy_rng"], ck["easy_order"])
            step, total, curve, window = ck["step"], ck["total"], ck["curve"], ck["window"]
            train_before = ck["train_seconds"]
            resumed = step
            log(fh, f"resumed from {ck_in} at step {step} of {total}")
        state[rank] = 1                    # start together: timing under the same load
        if not wait_for(state, lambda r: state[r] >= 1):
            log(fh, "timed out waiting for the other processes to start; going on")
        t_train = time.time()
        calib = args.calib
        if total is None:
            for _ in range(5):             # warm-up steps (compilation, allocator)
                step_once(step, 10 ** 9); step += 1
            if cuda:
                torch.cuda.synchronize()
            log(fh, f"compile {args.compile}: {'eager' if fwd is model else 'compiled'}, "
                    f"first 5 steps {time.time() - t_train:.0f} s")
            # calibrate only once every process is compiled and training, so
            # the rate is measured under the load that training will see
            state[rank] = 2
            if not wait_for(state, lambda r: state[r] == 2, timeout=max(300, args.budget)):
                log(fh, "timed out waiting for the others to compile; calibrating now")
            tc = time.time()
            for _ in range(calib):
                step_once(step, 10 ** 9); step += 1
            if cuda:
                torch.cuda.synchronize()
            ends[rank] = time.time()
            rates[rank] = (ends[rank] - tc) / calib
            if not wait_for(state, lambda r: rates[r] > 0, timeout=max(300, args.budget)):
                log(fh, "timed out waiting for the others' calibration; using the rates so far")
            slowest = max(r for r in rates[:] if r > 0)
            # one formula, same inputs in every process (the driver's start,
            # the last calibration's end), so every model gets the same count
            left = args.budget - (max(ends[:]) - args.t_start)
            total = int(min(args.max_steps, max(args.min_steps, step + left / slowest)))
            log(fh, f"calibration: {rates[rank] * 1e3:.1f} ms/step here, slowest {slowest * 1e3:.1f} ms/step; "
                    f"steps = {total} for every model")
        stopped = None
        while step < total:
            if args.deadline and time.time() - args.t_start > args.deadline:
                stopped = step            # keep what was learnt rather than lose it all
                log(fh, f"DEADLINE ({args.deadline:.0f} s): stopped at step {step} of {total}")
                break
            step_once(step, total); step += 1
            if step % args.log_every == 0 or step == total:
                window.append(take_loss())
                log(fh, f"step {step}/{total} loss {window[-1]:.4f} "
                        f"lr {lr_at(step - 1, total, args):.2e} {time.time() - t_train:.0f}s")
            if args.probe_every and (step % args.probe_every == 0 or step == total):
                curve.append({"step": step, "loss": window[-1] if window else None, **probe_log(step)})
        train_s = train_before + time.time() - t_train
        if args.state_out:
            os.makedirs(args.state_out, exist_ok=True)
            tmp = os.path.join(args.state_out, f".{name}.pt.tmp")
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(),
                        "rng": main_order.rng.getstate(), "order": main_order.queue,
                        "easy_rng": easy_order.rng.getstate() if easy_order else None,
                        "easy_order": easy_order.queue if easy_order else None, "step": step, "total": total, "curve": curve, "window": window,
                        "train_seconds": train_s}, tmp)
            os.replace(tmp, os.path.join(args.state_out, name + ".pt"))
            log(fh, f"state at step {step} of {total} saved to {args.state_out}/{name}.pt")
        final = window[-1] if window else take_loss()
        acc = evaluate(torch, model, he_ids, he_lab, held)
        for k, v in acc.items():
            log(fh, f"held-out greedy exact match {k}: {v['correct']}/{v['n']} = {100 * v['accuracy']:.1f}%")
        # A few real greedy decodes beside the teacher-forced measure.
        model.eval()
        shown = []
        for r, (p, c) in list(zip(held, he_seqs))[:: max(1, len(he_seqs) // 4)][:4]:
            o, _ = greedy(torch, model, p, len(c) + 8, eot, device)
            text = tok.decode(o, skip_special_tokens=False)
            shown.append({"id": r.get("id"), "task": r["task"], "pairs": r["pairs"],
                          "gold": r["completion"], "generated": text})
            log(fh, f"generate {r['task']}-{r['pairs']}: {text!r}  (gold {r['completion']!r})")
        model.to(torch.bfloat16).save_pretrained(outdir, safe_serialization=True)
        gc = T.GenerationConfig(bos_token_id=bos, eos_token_id=eot, pad_token_id=eot,
                                do_sample=True, temperature=0.8, top_p=1.0, max_new_tokens=64)
        gc.save_pretrained(outdir)
        tok.save(os.path.join(outdir, "tokenizer.json"))
        with open(os.path.join(outdir, "tokenizer_config.json"), "w") as f:
            json.dump({"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>",
                       "pad_token": "<|eot_id|>", "model_max_length": 1024,
                       "tokenizer_class": "PreTrainedTokenizerFast"}, f, indent=1)
        ref = reference(torch, T, outdir, os.path.join(args.out, "reference", name), name,
                        held[0]["prompt"], tok)
        log(fh, f"reference: {len(ref['prompt_ids'])} prompt tokens, greedy {ref['greedy_text']!r}")
        res.update(ok=True, architecture=type(model).__name__, attn_layer_indices=attn,
                   parameters=nparam, steps=step, planned_steps=total,
                   stopped_at_deadline=stopped is not None, resumed_at=resumed, batch=args.batch, final_loss=round(final, 5),
                   heldout=acc, curve=curve, compiled=fwd is not model, generate_examples=shown, train_seconds=round(train_s, 1),
                   total_seconds=round(time.time() - t0, 1), shape=SHAPE,
                   settings={k: getattr(args, k) for k in
                             ("seed", "lr", "min_lr_frac", "warmup", "weight_decay", "batch",
                              "budget", "max_steps", "min_steps", "steps", "compile", "deadline", "rope_theta", "loss_on", "shape", "init_std", "curriculum", "aux_recall", "init_from", "tokenizer")},
                   device=device,
                   transformers=T.__version__, torch=torch.__version__,
                   device_name=(torch.cuda.get_device_name(0) if device.startswith("cuda") else "cpu"))
    except Exception as e:
        res["error"] = f"{type(e).__name__}: {e}"
        log(fh, "FAILED\n" + traceback.format_exc())
        state[rank] = -1
    with open(os.path.join(outdir, "result.json"), "w") as f:
        json.dump(res, f, indent=1)
    fh.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="models/data")
    ap.add_argument("--out", default=os.environ.get("OUT", "models/out"))
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated subset")
    ap.add_argument("--device", default=None, help="cuda (default when present) or cpu")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr-frac", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--steps", type=int, default=0, help="fixed step count (0: from --budget)")
    ap.add_argument("--budget", type=float, default=360.0, help="seconds from the start (data loading and compilation included) to the end of "
                         "training, with --steps 0")
    ap.add_argument("--max-steps", type=int, default=40000)
    ap.add_argument("--min-steps", type=int, default=200)
    ap.add_argument("--shape", default="", metavar="K=V,...",
                    help="override entries of SHAPE for an experiment, e.g. layers=4,heads=1,kv_heads=1,head_dim=64 "
                         "(the hybrids' attention layer indices assume 8 layers; with hidden=H the Mamba2 "
                         "mixer gets 2H/mamba_head_dim heads unless mamba_heads is given)")
    ap.add_argument("--init-std", type=float, default=0.02,
                    help="standard deviation of the initial weights (transformers' initializer_range)")
    ap.add_argument("--loss-on", default="completion", choices=("completion", "all"),
                    help="train on the completion's tokens only, or on the prompt's as well (held-out scoring is always the completion)")
    ap.add_argument("--rope-theta", type=float, default=500000.0, help="RoPE base of every attention layer")
    ap.add_argument("--tokenizer", default=TOKENIZER,
                    help="tokenizer.json the models use (saved beside each model)")
    ap.add_argument("--aux-recall", type=int, default=0, metavar="K",
                    help="add, for every training problem, a sequence recalling K keys of its list "
                         "(0: none)")
    ap.add_argument("--init-from", default=None, metavar="DIR",
                    help="start each model from DIR/NAME (a model saved by an earlier run) "
                         "instead of random weights")
    ap.add_argument("--curriculum", type=int, default=0, metavar="N",
                    help="the first N steps train on the shortest sequences only (the fewest pairs)")
    ap.add_argument("--deadline", type=float, default=0,
                    help="seconds from the start after which every model stops training, is evaluated "
                         "and saved with the steps it has (0: none); a safety net, logged")
    ap.add_argument("--state-out", default=None,
                    help="directory: when training stops (done or --deadline), save each model's training "
                         "state there (NAME.pt) so that a later call can continue it")
    ap.add_argument("--state-in", default=None,
                    help="directory of NAME.pt from --state-out: continue those models where they stopped "
                         "(same data, same planned steps)")
    ap.add_argument("--calib", type=int, default=30)
    ap.add_argument("--log-every", type=int, default=100)
    ap.add_argument("--probe-every", type=int, default=500,
                    help="held-out exact match at the shortest length every N steps (0: never)")
    ap.add_argument("--compile", default=None, choices=("reduce-overhead", "default", "none"),
                    help="torch.compile mode of the training step (default: reduce-overhead on cuda, none on cpu)")
    args = ap.parse_args()
    args.models = [m for m in args.models.split(",") if m]
    shape = {}
    for kv in (x for x in args.shape.split(",") if x):
        k, _, v = kv.partition("=")
        if k not in SHAPE or not v.isdigit() or int(v) <= 0:
            ap.error(f"--shape: {kv!r} is not KEY=POSITIVE_INT with KEY one of {', '.join(SHAPE)}")
        shape[k] = int(v)
    # the Mamba2 mixer is 2 x hidden wide (mamba_expand=2): unless given, its
    # head count follows the width, so hidden=128 gives 16 heads of 16
    if "mamba_heads" not in shape and ("hidden" in shape or "mamba_head_dim" in shape):
        width = 2 * shape.get("hidden", SHAPE["hidden"])
        hd = shape.get("mamba_head_dim", SHAPE["mamba_head_dim"])
        if width % hd:
            ap.error(f"--shape: the Mamba2 width 2 x hidden = {width} is no multiple of mamba_head_dim {hd}")
        shape["mamba_heads"] = width // hd
    args.shape = shape
    SHAPE.update(shape)          # the padded length and the placement read it here too
    for m in args.models:
        if m not in MODELS:
            ap.error(f"unknown model {m!r}; known: {', '.join(MODELS)}")
    if args.device is None:
        try:
            import torch
            args.device = "cuda" if torch.cuda.is_available() else "cpu"
        except ImportError:
            sys.exit("train.py: torch is not installed")
    if args.compile is None:
        args.compile = "reduce-overhead" if args.device.startswith("cuda") else "none"
    for f in ("train.jsonl.gz", "heldout.jsonl.gz"):
        if not os.path.exists(os.path.join(args.data, f)):
            sys.exit(f"train.py: {os.path.join(args.data, f)} is missing: run `make models-data` first")
    os.makedirs(args.out, exist_ok=True)
    t0 = args.t_start = time.time()
    # Several GPUs: the models are spread over them, the ones with more Mamba2
    # layers (slower in transformers' pure-torch path) first, each to the GPU
    # with the least work so far (longest-processing-time first).
    args.gpu_of = {}
    ngpu = 0
    if args.device == "cuda":
        import torch
        ngpu = torch.cuda.device_count()
    if ngpu > 1:
        load = [0.0] * ngpu
        cost = lambda m: 1.0 + 0.05 * (SHAPE["layers"] - len(MODELS[m][1] if MODELS[m][1] is not None
                                                             else range(SHAPE["layers"])))
        for m in sorted(args.models, key=cost, reverse=True):
            g = min(range(ngpu), key=lambda i: load[i])
            load[g] += cost(m)
            args.gpu_of[m] = f"cuda:{g}"
        print("devices: " + ", ".join(f"{m} {d}" for m, d in args.gpu_of.items()), flush=True)
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(args.tokenizer)
    eot = tok.token_to_id("<|eot_id|>")
    held = read_jsonl(os.path.join(args.data, "heldout.jsonl.gz"))
    tmp = tempfile.mkdtemp(prefix="tts-train-")
    args.tokenized = os.path.join(tmp, "tokenized.npz")
    import numpy as np
    tr_recs = read_jsonl(os.path.join(args.data, "train.jsonl.gz"))
    if args.aux_recall > 0:
        tr_recs += recall_records(tr_recs, args.aux_recall, args.seed)
    tr = encode(tok, tr_recs, eot)
    he = encode(tok, held, eot)
    # one padded length for every batch: the longest sequence, rounded up to
    # the Mamba2 chunk (the mixer pads to it anyway)
    longest = max(len(p) + len(c) for p, c in tr + he)
    length = -(-longest // SHAPE["mamba_chunk"]) * SHAPE["mamba_chunk"]
    tr_ids, tr_lab = pad_arrays(np, tr, eot, length, args.loss_on == "all")
    he_ids, he_lab = pad_arrays(np, he, eot, length)
    tr_pairs = np.array([r["pairs"] for r in tr_recs], dtype=np.int32)
    np.savez(args.tokenized, tr_ids=tr_ids, tr_lab=tr_lab, tr_pairs=tr_pairs, he_ids=he_ids, he_lab=he_lab,
             he_seqs=np.frombuffer(pickle.dumps(he), dtype=np.uint8))
    del tr, tr_recs, tr_ids, tr_lab
    print("tokenized the data in %.0f s: %d positions per sequence (longest %d)"
          % (time.time() - t0, length, longest), flush=True)
    ctx = mp.get_context("spawn")
    state = ctx.Array("i", len(args.models))   # 0 starting, 1 ready, -1 gone
    rates = ctx.Array("d", len(args.models))   # seconds per step, from calibration
    ends = ctx.Array("d", len(args.models))    # when each calibration ended
    procs = [ctx.Process(target=child, args=(m, args, i, state, rates, ends), name=m)
             for i, m in enumerate(args.models)]
    for p in procs:
        p.start()
    while any(p.is_alive() for p in procs):
        for i, p in enumerate(procs):
            if not p.is_alive():
                state[i] = -1                      # so nobody waits for a crashed one
        time.sleep(0.2)
    for p in procs:
        p.join()
    os.remove(args.tokenized)
    os.rmdir(tmp)
    summary = []
    for m in args.models:
        try:
            with open(os.path.join(args.out, m, "result.json")) as f:
                summary.append(json.load(f))
        except Exception as e:
            summary.append({"model": m, "ok": False, "error": f"no result.json: {e}"})
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    with open(os.path.join(args.out, "train.log"), "w") as f:
        for m in args.models:
            try:
                f.write(open(os.path.join(args.out, m, "train.log")).read())
            except OSError:
                pass
    print("\n==== summary (%.0f s) ====" % (time.time() - t0))
    cells = sorted({k for r in summary if r.get("ok") for k in r["heldout"]})
    print("%-12s %8s %6s %8s  %s" % ("model", "params", "steps", "loss", "  ".join(cells)))
    for r in summary:
        if not r.get("ok"):
            print("%-12s FAILED: %s" % (r["model"], r.get("error")))
            continue
        print("%-12s %8d %6d %8.4f  %s" % (r["model"], r["parameters"], r["steps"], r["final_loss"],
              "  ".join("%*.1f%%" % (len(c) - 1, 100 * r["heldout"][c]["accuracy"]) for c in cells)))
    floor = next((r for r in summary if r["model"] == "llama" and r.get("ok")), None)
    if floor:
        a = [floor["heldout"].get(k, {}).get("accuracy", 0) for k in ("ar-10", "noar-10")]
        print("sanity floor (llama, 10 pairs, N=1, both tasks >= 90%%): %s (%s)" %
              ("PASS" if min(a) >= 0.9 else "FAIL", ", ".join("%.1f%%" % (100 * x) for x in a)))
    print("TRAINING %s" % ("DONE" if all(r.get("ok") for r in summary) else "PARTIAL"))
    sys.exit(0 if all(r.get("ok") for r in summary) else 1)


if __name__ == "__main__":
    main()
