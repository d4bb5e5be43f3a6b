#!/usr/bin/env python3
"""Does the attention model's shape learn multi-query associative recall
(MQAR, Zoology's test) at all, on the plainest form of it?  Each sequence is
BOS, P key-value pairs "k v" (keys from 200 token ids, values from 9), then
Q of the keys again, each followed by its value; the loss is on those values
only.  Random data, a fresh batch each step; train.py's make_model and
optimiser (AdamW, betas 0.9/0.95, weight decay 0.01, clipping 1.0, constant
learning rate).  A model that looks nothing up scores about 0.25 (it guesses
among the values in its list); a working lookup, 1.0.

--format kv and kv-question bridge MQAR to the task: the same random lists,
written as the task writes them and tokenized by a --kv-tokens tokenizer
(models/make-tokenizer.py), so each value token follows its key:
"List: boat: 2, cube: 9, ...\n" then (kv-question) the task's question line
"What is boat + cube + glove? Put the final answer in \\boxed{}.\n", then
"Recall boat: 2, cube: 9, glove: 4."; keys are the tokenizer's whole-word
tokens, values 1..9, the loss on the recalled values only.

Usage: python3 models/mqar-probe.py [--layers L] [--hidden H] [--lr LR]
       [--batch B] [--steps N] [--seconds S] [--pairs P] [--queries Q]
       [--every K] [--device cpu|cuda] [--seed S] [--format mqar|kv|kv-question --tokenizer T]
"""
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train as tr  # noqa: E402  (models/train.py: make_model, SHAPE)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=0, help="steps of linear learning-rate warm-up")
    ap.add_argument("--seconds", type=float, default=0, help="stop after this long (0: no limit)")
    ap.add_argument("--pairs", type=int, default=10)
    ap.add_argument("--queries", type=int, default=3)
    ap.add_argument("--every", type=int, default=500)
    ap.add_argument("--rope-theta", type=float, default=500000.0)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--seed", type=int, default=0, help="the weights' seed; the data's is seed + 1")
    ap.add_argument("--format", default="mqar", choices=("mqar", "kv", "kv-question"))
    ap.add_argument("--tokenizer", default=None, help="a --kv-tokens tokenizer.json (kv formats)")
    a = ap.parse_args()
    if a.format != "mqar" and not a.tokenizer:
        ap.error(f"--format {a.format} needs --tokenizer (models/make-tokenizer.py --kv-tokens T)")
    tr.SHAPE.update(layers=a.layers, hidden=a.hidden, intermediate=2 * a.hidden)
    torch.manual_seed(a.seed)
    dev = a.device
    model = tr.make_model("llama", 1024, 0, 4, a.rope_theta, 0.02).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, betas=(0.9, 0.95), weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: min(1.0, (i + 1) / max(a.warmup, 1)))
    g = torch.Generator(device=dev)
    g.manual_seed(a.seed + 1)
    P, Q = a.pairs, a.queries

    def batch(B):
        keys = torch.argsort(torch.rand(B, 200, generator=g, device=dev), 1)[:, :P] + 100
        vals = torch.randint(20, 29, (B, P), generator=g, device=dev)
        ask = torch.argsort(torch.rand(B, P, generator=g, device=dev), 1)[:, :Q]
        qk, qv = keys.gather(1, ask), vals.gather(1, ask)
        body = torch.stack([keys, vals], 2).reshape(B, 2 * P)
        tail = torch.stack([qk, qv], 2).reshape(B, 2 * Q)
        x = torch.cat([torch.zeros(B, 1, dtype=torch.long, device=dev), body, tail], 1)
        lab = torch.full_like(x, -100)
        lab[:, 2 + 2 * P::2] = qv        # the value after each asked key
        return x, lab

    if a.format != "mqar":
        batch = task_batches(a, dev)

    t0 = time.time()
    for step in range(1, a.steps + 1):
        x, lab = batch(a.batch)
        loss = model(input_ids=x, labels=lab).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        done = a.seconds and time.time() - t0 > a.seconds
        if step % a.every == 0 or step == a.steps or done:
            with torch.no_grad():
                x, lab = batch(512)
                pred = model(input_ids=x).logits[:, :-1].argmax(-1)
            tgt = lab[:, 1:]
            acc = (pred == tgt)[tgt >= 0].float().mean().item()
            print(f"{a.format} seed {a.seed} layers {a.layers} hidden {a.hidden} lr {a.lr:g} warmup {a.warmup} batch {a.batch} "
                  f"step {step} ({step * a.batch} sequences): loss {loss.item():.3f}, "
                  f"accuracy {acc:.3f} ({time.time() - t0:.0f} s)", flush=True)
        if done:
            break


def task_batches(a, dev):
    """batch(B) for the kv formats: token ids and labels (the recalled values)"""
    import random
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(a.tokenizer)
    vocab = tok.get_vocab()
    keys = sorted(t[1:] for t in vocab if t[0] == "\u0120" and t[1:].isalpha() and t[1:].islower())
    vals = {vocab.get(":\u0120" + str(d)) for d in range(1, 10)}
    rec = vocab.get("Recall")
    if None in vals or rec is None or len(keys) < a.pairs:
        sys.exit(f"{a.tokenizer}: not a --kv-tokens tokenizer (no ': N' value tokens or 'Recall')")
    rng = random.Random(a.seed + 1)

    def text():
        ks = rng.sample(keys, a.pairs)
        vs = [rng.randint(1, 9) for _ in ks]
        ask = rng.sample(range(a.pairs), a.queries)
        t = "List: " + ", ".join(f"{k}: {v}" for k, v in zip(ks, vs)) + ".\n"
        if a.format == "kv-question":
            t += ("What is " + " + ".join(ks[i] for i in ask) +
                  "? Put the final answer in \\boxed{}.\n")
        return t + "Recall " + ", ".join(f"{ks[i]}: {vs[i]}" for i in ask) + "."

    def batch(B):
        enc = tok.encode_batch([text() for _ in range(B)])
        n = max(len(e.ids) for e in enc)
        x = torch.zeros(B, n, dtype=torch.long)
        lab = torch.full((B, n), -100, dtype=torch.long)
        for b, e in enumerate(enc):
            ids = e.ids
            x[b, :len(ids)] = torch.tensor(ids)
            r = ids.index(rec)
            for i in range(r + 1, len(ids)):
                if ids[i] in vals:
                    lab[b, i] = ids[i]
        return x.to(dev), lab.to(dev)
    return batch


if __name__ == "__main__":
    main()
