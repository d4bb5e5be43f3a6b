#!/bin/sh
# bench/tokenize.sh — tts-generate --tokenize against Hugging Face tokenizers
# on 20000 random texts (2.2 MB) with a 32k-token byte-level BPE (Llama-3
# pre-tokenizer, ignore_merges): checks the ids are identical, then times
# both (tokenizers: one encode call per text from Python, one thread).
# Needs python3 with `tokenizers`.  Usage: bench/tokenize.sh [WORKDIR]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$(mktemp -d)}
cd "$dir"
[ -f corpus.jsonl ] || python3 "$top/bench/tokenize_corpus.py"
gen="$top/build/tts-generate"
# CPU seconds (user + system), so that a busy machine does not skew them.
/usr/bin/time -f "tts-generate --tokenize (load + JSONL in/out): %U s user %S s sys" \
	"$gen" -m tokenizer.json --tokenize --no-bos corpus.jsonl > out.jsonl
jq -s -e 'all(.ids == .want)' out.jsonl > /dev/null && echo "ids identical to tokenizers on $(wc -l < corpus.jsonl) texts"
/usr/bin/time -f "tokenizer.json load alone: %U s user %S s sys" "$gen" -m tokenizer.json --tokenize /dev/null
python3 -c '
import json, time
from tokenizers import Tokenizer
t = Tokenizer.from_file("tokenizer.json")
texts = [json.loads(l)["text"] for l in open("corpus.jsonl")]
c = time.process_time()
for s in texts:
    t.encode(s, add_special_tokens=False)
print("tokenizers (Python, one encode per text): %.2f s CPU" % (time.process_time() - c))' 
