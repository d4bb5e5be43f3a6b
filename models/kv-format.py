#!/usr/bin/env python3
"""Rewrite a training-data folder (train.jsonl.gz, heldout.jsonl.gz, as
`make models-data` writes them) for the --kv-tokens experiment of
models/make-tokenizer.py: the AR completions recall "key: 5" (the list's own
form, so with that tokenizer each value token follows its key) instead of
"key=5"; everything else unchanged.

Usage: python3 models/kv-format.py IN_DIR OUT_DIR
"""
import gzip
import json
import os
import re
import sys

RECALL = re.compile(r"^Recall ([^.]*)\.")


def convert(rec):
    if rec.get("task") == "ar":
        m = RECALL.match(rec["completion"])
        if not m:
            raise ValueError(f"{rec.get('id')}: AR completion without a 'Recall ...' sentence")
        recall = re.sub(r"=(\d)", r": \1", m.group(1))
        rec["completion"] = "Recall " + recall + "." + rec["completion"][m.end():]
    return rec


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, dst = sys.argv[1], sys.argv[2]
    os.makedirs(dst, exist_ok=True)
    for name in ("train.jsonl.gz", "heldout.jsonl.gz"):
        with gzip.open(os.path.join(src, name), "rt", encoding="utf-8") as f, \
                gzip.open(os.path.join(dst, name), "wt", encoding="utf-8") as g:
            for line in f:
                g.write(json.dumps(convert(json.loads(line)), separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
