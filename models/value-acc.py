#!/usr/bin/env python3
"""Value accuracy of a trained model (CPU, transformers): the fraction of the
recalled values it predicts right after each `=` of the `Recall ...` sentence
of a completion (or, with a --kv-tokens tokenizer, each value token ": N"
from its key), under teacher forcing.  A model that looks nothing up scores
what the values' counts in the list allow (~0.3 at 10 pairs, values 1..9).

Usage: python3 models/value-acc.py MODEL_DIR RECORDS.jsonl[.gz] [N]
       (the first N records, default 100; records with prompt and completion)
"""
import gzip
import json
import sys

import torch
import transformers as T
from tokenizers import Tokenizer


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    md, path = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    tok = Tokenizer.from_file(md + "/tokenizer.json")
    model = T.AutoModelForCausalLM.from_pretrained(md, dtype=torch.float32).eval()
    eq, dot = tok.token_to_id("="), tok.token_to_id(".")
    kv_vals = {tok.token_to_id(":\u0120" + d) for d in "0123456789"} - {None}
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rt", encoding="utf-8") as f:
        recs = [json.loads(line) for line in f if line.strip()][:n]
    hit = tot = 0
    for r in recs:
        p = tok.encode(r["prompt"]).ids
        c = tok.encode(r["completion"], add_special_tokens=False).ids
        ids = torch.tensor([p + c])
        with torch.no_grad():
            pred = model(input_ids=ids).logits[0].argmax(-1)
        for i in range(len(p), len(p) + len(c) - 1):
            if ids[0, i].item() == dot:
                break             # the recall sentence ends at its first '.'
            if ids[0, i].item() == eq or ids[0, i + 1].item() in kv_vals:
                tot += 1
                hit += int(pred[i].item() == ids[0, i + 1].item())
    if not tot:
        sys.exit(f"{path}: no 'Recall k=v' (or 'k: v') sentence in the first {n} completions")
    print(f"{md}: value accuracy {hit}/{tot} = {hit / tot:.3f} ({len(recs)} records of {path})")


if __name__ == "__main__":
    main()
