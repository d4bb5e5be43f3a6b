#!/usr/bin/env python3
"""models/attn-offsets.py — where a trained model's attention heads look.

For each attention layer and head, the mean attention weight a position puts
on the positions 0..4 tokens back, over the prompts of held-out AR problems at
10 pairs.  A head that has learnt "the token k back" shows a weight near 1 at
offset k; looking up a value in the task's list (`key: value`, which this
tokenizer splits as key, ':', ' ', digit) needs one at offset 3 (or a chain
of shorter ones).  Uniform attention over ~70 positions gives ~0.03 everywhere.
Then, at the last position of the first prompt, each head's spread of scores
(the standard deviation of the log-weights, which is that of the scores) and
its largest weight: how far from flat the softmax is.

    python3 models/attn-offsets.py models/llama [--data models/data] [--problems 20]

Needs torch and transformers (a diagnostic, run wherever those are; CPU is
fine).  Not used by the build or the tests.
"""
import argparse
import gzip
import json
import os
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("--data", default="models/data")
    ap.add_argument("--problems", type=int, default=20)
    ap.add_argument("--max-offset", type=int, default=4)
    args = ap.parse_args()
    import torch
    import transformers as T
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(args.model, "tokenizer.json"))
    model = T.AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32,
                                                   attn_implementation="eager")
    model.eval()
    with gzip.open(os.path.join(args.data, "heldout.jsonl.gz"), "rt", encoding="utf-8") as f:
        recs = [json.loads(line) for line in f if line.strip()]
    recs = [r for r in recs if r["task"] == "ar" and r["pairs"] == 10][:args.problems]
    if not recs:
        sys.exit(f"attn-offsets.py: no AR problems at 10 pairs in {args.data}/heldout.jsonl.gz")
    K = args.max_offset + 1
    acc = {}
    last = None
    with torch.no_grad():
        for r in recs:
            ids = tok.encode(r["prompt"]).ids
            out = model(torch.tensor([ids]), output_attentions=True)
            n = len(ids)
            if last is None:
                n0 = n
                last = [(layer, a[0, :, n - 1].clamp_min(1e-30)) for layer, a in enumerate(out.attentions)
                        if a is not None]
            rows = torch.arange(K, n)
            for layer, a in enumerate(out.attentions):
                if a is None:                  # a Mamba2 layer
                    continue
                for o in range(K):
                    w = a[0, :, rows, rows - o].mean(-1)     # [heads]
                    acc[layer, o] = acc.get((layer, o), 0) + w / len(recs)
    print(f"{args.model}: mean attention weight at offsets 0..{K - 1} back, per head "
          f"({len(recs)} AR-10 prompts)")
    for layer in sorted({k[0] for k in acc}):
        heads = torch.stack([acc[layer, o] for o in range(K)], 1)    # [heads, K]
        print(f"layer {layer}: " + " | ".join(" ".join(f"{v:.2f}" for v in h.tolist()) for h in heads))
    print(f"at the last position of the first prompt ({n0} positions): "
          "per head, score spread (std) / largest weight")
    for layer, w in last:
        print(f"layer {layer}: " + " | ".join(f"{float(sd):.2f} / {float(mx):.2f}"
                                             for sd, mx in zip(w.log().std(-1), w.max(-1).values)))


if __name__ == "__main__":
    main()
