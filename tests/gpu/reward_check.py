#!/usr/bin/env python3
# tests/gpu/reward_check.py — tts-generate --reward on a device against the
# transformers fixtures (tests/fixtures/reward/cases.json): the ORM rewards
# and the PRM step probabilities (softmax over '+'/'-' and over the whole
# vocabulary), as max|got - want| / max|want|.  Standard library only (the
# GPU machine has python3 but maybe not jq).
# Usage: python3 tests/gpu/reward_check.py [TTS_GENERATE [DEVICE [TOL]]]
#   defaults: build/tts-generate, cuda, 2e-2 (bf16 weights); with DEVICE cpu
#   use TOL 1e-4.  Exit 0 when every check is within TOL.
import json, math, os, subprocess, sys

exe = sys.argv[1] if len(sys.argv) > 1 else "build/tts-generate"
device = sys.argv[2] if len(sys.argv) > 2 else "cuda"
tol = float(sys.argv[3]) if len(sys.argv) > 3 else 2e-2
rw = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "reward")
cases = json.load(open(os.path.join(rw, "cases.json")))["cases"]
# the token that ends each step (as in tests/reward.bats)
steps = [[38, 48, 57], [35, 45], [41], [25]]
inp = "".join(json.dumps({"id": "p1", "sample": k, "prompt": c["prompt"], "text": c["text"]}) + "\n"
              for k, c in enumerate(cases))


def run(model, *opts):
    p = subprocess.run([exe, "--reward", "-m", os.path.join(rw, model), "--device", device, *opts],
                       input=inp, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("%s: exit %d: %s" % (exe, p.returncode, p.stderr.strip()))
    return [json.loads(l) for l in p.stdout.splitlines()]


def rel(got, want):
    return max(abs(a - b) for a, b in zip(got, want)) / max(abs(b) for b in want)


checks = []
got = [r["reward"] for r in run("orm")]
checks.append(("orm reward", rel(got, [c["orm_reward"] for c in cases])))
got = [x for r in run("prm", "--step-scores") for x in r["step_rewards"]]
want = [1 / (1 + math.exp(c["prm_minus_logit"][i] - c["prm_plus_logit"][i]))
        for c, s in zip(cases, steps) for i in s]
checks.append(("prm P(+) over +/-", rel(got, want)))
got = [x for r in run("prm", "--step-scores", "--prm-softmax", "vocab") for x in r["step_rewards"]]
want = [math.exp(c["prm_plus_logprob"][i]) for c, s in zip(cases, steps) for i in s]
checks.append(("prm P(+) over vocab", rel(got, want)))
bad = 0
for name, e in checks:
    ok = e <= tol
    bad += not ok
    print("%-22s rel err %.3g  %s (tol %g, --device %s)" % (name, e, "ok" if ok else "FAIL", tol, device))
sys.exit(1 if bad else 0)
