#!/usr/bin/env python3
"""fuzz_load.py — mutate the loaders' inputs and run tts-generate (built
with ASan and UBSan: `make fuzz-load`) on each: weight files (safetensors,
torch zip), tokenizer.json, config.json / mamba_config.json.  Every run must
end with status 0 or 1 and no sanitizer report.  Usage:
  fuzz_load.py TTS_GENERATE [N per kind] [SEED]"""
import json, os, random, shutil, subprocess, sys, tempfile

B = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 200
random.seed(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
TMP = tempfile.mkdtemp(prefix="tts-fuzz-")
failures = 0


def run(args, stdin=b""):
    global failures
    p = subprocess.run([B] + args, input=stdin, capture_output=True)
    if p.returncode not in (0, 1) or b"Sanitizer" in p.stderr or b"runtime error" in p.stderr:
        failures += 1
        keep = tempfile.mkdtemp(prefix="tts-fuzz-crash-")
        for a in args:
            if os.path.exists(a):
                (shutil.copytree if os.path.isdir(a) else shutil.copy)(a, os.path.join(keep, os.path.basename(a)))
        print("FAIL (status %d), input kept in %s:\n%s" % (p.returncode, keep, p.stderr[-1500:].decode(errors="replace")))
    return p.returncode


def model_copy(src):
    d = os.path.join(TMP, "m")
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(src, d)
    return d


def weights(src):
    d = model_copy(src)
    fn = [f for f in os.listdir(d) if f.endswith((".bin", ".safetensors"))][0]
    data = open(os.path.join(d, fn), "rb").read()
    for _ in range(N):
        b = bytearray(data)
        for _ in range(random.randint(1, 8)):
            if len(b) < 2:
                break
            r, i = random.random(), random.randrange(len(b))
            if r < 0.5:
                b[i] = random.randrange(256)
            elif r < 0.7:
                b[i:i + 4] = random.choice([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x7f\xff\xff\xff"])
            elif r < 0.85:
                del b[i:]
            else:
                b[i:i] = bytes(random.randrange(256) for _ in range(random.randint(1, 16)))
        open(os.path.join(d, fn), "wb").write(b)
        run(["-m", d, "--inspect"])


VALS = [0, -1, 1, 2, 3, 7, 1 << 29, 1 << 30, 2 ** 31, 2 ** 40, 1.5, -0.5, 1e300, "auto", "x", None, True, [], {},
        [1, 2], {"rope_type": "llama3"}, {"rope_type": "yarn"}, {"__float__": "NaN"}]


def configs(src):
    for _ in range(N):
        d = model_copy(src)
        for fn in ("config.json", "mamba_config.json"):
            p = os.path.join(d, fn)
            if not os.path.exists(p):
                continue
            j = json.load(open(p))
            for _ in range(random.randint(1, 3)):
                k = random.choice(list(j))
                if isinstance(j[k], dict) and j[k] and random.random() < 0.5:
                    j[k][random.choice(list(j[k]))] = random.choice(VALS)
                else:
                    j[k] = random.choice(VALS)
            json.dump(j, open(p, "w"))
        run(["-m", d, "--inspect"])


def tokenizers():
    src = json.load(open(os.path.join(TOP, "tokenizer", "tokenizer.json")))
    texts = "".join(json.dumps({"text": t}) + "\n" for t in
                    ["hello world", "<|eot_id|> x", "  \n\n 123456 \u00e9\U0001F600", "", "a" * 40])
    p = os.path.join(TMP, "tok.json")
    for _ in range(N):
        j = json.loads(json.dumps(src))
        v = j["model"]["vocab"]
        for _ in range(random.randint(1, 4)):
            r = random.random()
            if r < 0.2:
                v[random.choice(list(v))] = random.choice([-1, 10 ** 7, 4194303, "x", None, 0])
            elif r < 0.4:
                m = j["model"]["merges"]
                m[random.randrange(len(m))] = random.choice([["a"], "a", "a b c", ["\u0120", "zz"], 5, ["", ""], " "])
            elif r < 0.55:
                j["added_tokens"][random.randrange(len(j["added_tokens"]))]["id"] = random.choice([-5, 4194303, 600, "x"])
            elif r < 0.65:
                j["added_tokens"][random.randrange(len(j["added_tokens"]))]["content"] = random.choice(["", "<", "a", "\u00e9"])
            elif r < 0.75:
                j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = random.choice(["(", "", "a*", "\\p{Zzz}", "x|"])
            elif r < 0.85:
                j["post_processor"] = random.choice([None, {"type": "Sequence", "processors": 3},
                                                     {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "no"}}]}])
            else:
                del v[random.choice(list(v))]
        json.dump(j, open(p, "w"))
        run(["-m", p, "--tokenize"], texts.encode())


weights(os.path.join(TOP, "bad", "bin-good"))
weights(os.path.join(TOP, "bad", "st-good"))
weights(os.path.join(TOP, "bad", "synth-mil2"))
for m in ("mamba2-g2", "bamba", "llama3-untied", "mil2-hybrid", "mil1-hybrid"):
    if os.path.isdir(os.path.join(TOP, "models", m)):
        configs(os.path.join(TOP, "models", m))
tokenizers()
shutil.rmtree(TMP, ignore_errors=True)
print("fuzz-load: %d failures" % failures)
sys.exit(1 if failures else 0)
