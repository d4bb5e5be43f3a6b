#!/bin/sh
# bench/gpu-tiny-acc.sh — issue 8's "a sampled run's answer accuracy on a tiny
# model matches the CPU backend's within noise": the bundled models (models/,
# the task of models/task.mk, as `make demo` asks it) sampled on each device of
# DEVICES, then compared cell by cell.
#  1. tts-synth-ar: COUNT AR + COUNT non-AR problems at each of PAIRS pairs
#     (models/task.mk's SYNTH_FLAGS, seed SEED); tts-prompt (PROMPT_FLAGS);
#  2. for each MODEL in MODELS and the i-th device D of DEVICES (i = 0, 1, ..):
#     tts-generate -m models/MODEL --device D -n N --temperature 0.8
#     --max-tokens 48 --seed SEED+i --name MODEL@i (each device its own seed:
#     the runs are independent samples, not copies), under timeout GEN_S;
#  3. tts-extract -r boxed, tts-vote -m majority; at k = 1 a problem's
#     "correct" is its fraction of correct samples;
#  4. per cell (model, task, pairs): accuracy p_i = mean over the cell's
#     problems, n_i = problems x N samples; the first device is the reference,
#     each other one is compared with it: PASS when |p_i - p_0| <= 3 x
#     sqrt(p_0 (1 - p_0) / n_0 + p_i (1 - p_i) / n_i) (a difference of two
#     binomial proportions, samples counted as independent: the samples of one
#     problem are correlated, so this is the stricter side of the test; the
#     variances use (correct + 1) / (n + 2), so a cell at 100 % on both devices
#     still tolerates a few differing samples).
#     One line per cell "tiny-acc: MODEL TASK PAIRS D0 p0 Di pi diff se
#     PASS|FAIL", then "tiny-acc: PASS (c cells)" or "tiny-acc: FAIL (f of c
#     cells)"; exit 0 on PASS, 1 on FAIL, 2 when a step failed.
# Knobs: DEVICES ("cpu cuda"; "cpu cpu" here, without a GPU, tests the plumbing),
# MODELS ("llama mamba2-50": attention, and the hybrid's Mamba2 + attention),
# COUNT (100), PAIRS ("10 20"), N (16), SEED (1), GEN_S (240 s per tts-generate
# run), BUILD (build: its tts-* tools), OUT (out/tiny-acc: problems, samples,
# votes, tiny-acc.log).
# Usage: sh bench/gpu-tiny-acc.sh                       # on the GPU machine
#        DEVICES="cpu cpu" sh bench/gpu-tiny-acc.sh     # anywhere (84 s on 2 cores
#        here: 8 cells PASS, llama AR 7-8 %, mamba2-50 AR 70-84 %, non-AR 100 %)
# Hooked into bench/gpu-e2.sh as its first workload (E2_TINY_ACC=1, the default).
set -u
cd "$(dirname "$0")/.." || exit 2
# models/task.mk's SYNTH_FLAGS and PROMPT_FLAGS, read from it (one source for both)
SYNTH_FLAGS=$(sed -n 's/^SYNTH_FLAGS *?= *//p' models/task.mk)
PROMPT_FLAGS=$(sed -n 's/^PROMPT_FLAGS *?= *//p' models/task.mk)
[ -n "$SYNTH_FLAGS" ] && [ -n "$PROMPT_FLAGS" ] || { echo "gpu-tiny-acc: no flags in models/task.mk" >&2; exit 2; }
B=${BUILD:-build}
O=${OUT:-out/tiny-acc}
DEVICES=${DEVICES:-cpu cuda}
MODELS=${MODELS:-llama mamba2-50}
COUNT=${COUNT:-100} PAIRS=${PAIRS:-10 20} N=${N:-16} SEED=${SEED:-1} GEN_S=${GEN_S:-240}
mkdir -p "$O"
log=$O/tiny-acc.log
: >"$log"
say() { echo "tiny-acc: $*" | tee -a "$log"; }
for L in $PAIRS; do
	"$B"/tts-synth-ar $SYNTH_FLAGS --task both -L "$L" -n "$COUNT" -s "$SEED" || exit 2
done >"$O/problems.jsonl"
"$B"/tts-prompt $PROMPT_FLAGS "$O/problems.jsonl" >"$O/prompts.jsonl" || exit 2
: >"$O/samples.list"
for m in $MODELS; do
	i=0
	for d in $DEVICES; do
		s0=$(date +%s)
		timeout -k 5 "$GEN_S" "$B"/tts-generate -m "models/$m" --device "$d" -n "$N" \
			--temperature 0.8 --max-tokens 48 --seed $((SEED + i)) --name "$m@$i" \
			-o "$O/samples-$m-$i.jsonl" "$O/prompts.jsonl" 2>>"$log" || {
			say "tts-generate -m models/$m --device $d failed or timed out (exit $?)"; exit 2; }
		say "$m on $d (seed $((SEED + i))): $(wc -l <"$O/samples-$m-$i.jsonl") samples in $(($(date +%s) - s0)) s"
		echo "$O/samples-$m-$i.jsonl" >>"$O/samples.list"
		i=$((i + 1))
	done
done
# shellcheck disable=SC2046
"$B"/tts-extract -r boxed $(cat "$O/samples.list") >"$O/extracted.jsonl" &&
	"$B"/tts-vote -m majority "$O/extracted.jsonl" >"$O/votes.jsonl" || { say "extract/vote failed"; exit 2; }
python3 - "$O/votes.jsonl" "$DEVICES" <<'PY' | tee -a "$log"
import json, math, sys
devs = sys.argv[2].split()
cells = {}   # (model, task, pairs) -> device index -> [sum correct, problems, samples]
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["k"] != 1:
        continue
    m, i = r["model"].rsplit("@", 1)
    c = cells.setdefault((m, r["task"], r["pairs"]), {}).setdefault(int(i), [0.0, 0, 0])
    c[0] += r["correct"]; c[1] += 1; c[2] += r["n"]
bad = 0
for key in sorted(cells):
    c = cells[key]
    p0, n0 = c[0][0] / c[0][1], c[0][2]
    for i in sorted(c):
        if i == 0:
            continue
        p, n = c[i][0] / c[i][1], c[i][2]
        # the variances from (correct + 1) / (n + 2): a cell at 100 % (or 0)
        # would otherwise have se 0 and fail on a single differing sample
        q0, q = (p0 * n0 + 1) / (n0 + 2), (p * n + 1) / (n + 2)
        se = math.sqrt(q0 * (1 - q0) / n0 + q * (1 - q) / n)
        ok = abs(p - p0) <= 3 * se
        bad += not ok
        print("tiny-acc: %s %s %d pairs: %s %.4f (%d samples) %s %.4f (%d) diff %+.4f se %.4f %s"
              % (key[0], key[1], key[2], devs[0], p0, n0, devs[i], p, n, p - p0, se,
                 "PASS" if ok else "FAIL"))
total = sum(len(c) - 1 for c in cells.values())
print("tiny-acc: %s" % ("PASS (%d cells)" % total if not bad and total else
                         "FAIL (%d of %d cells)" % (bad, total)))
sys.exit(1 if bad or not total else 0)
PY
