"""gpu_8b_compare.py REF.f32 GOT.f32 VOCAB LABEL — max|got-ref|/max|ref| over all
positions, mean top-10 overlap and argmax agreement per position."""
import sys
import numpy as np
V = int(sys.argv[3])
ref = np.fromfile(sys.argv[1], dtype=np.float32).reshape(-1, V)
got = np.fromfile(sys.argv[2], dtype=np.float32).reshape(-1, V)
n = min(len(ref), len(got))
ref, got = ref[:n], got[:n]
err = np.abs(got - ref).max() / np.abs(ref).max()
top = np.mean([len(set(np.argsort(-r)[:10]) & set(np.argsort(-g)[:10])) / 10 for r, g in zip(ref, got)])
arg = np.mean(ref.argmax(1) == got.argmax(1))
print("8b-check: %s: %d positions, max|d|/max|ref| %.3e, top-10 overlap %.3f, argmax agree %.3f%s"
      % (sys.argv[4], n, err, top, arg, "" if np.isfinite(got).all() else " (NON-FINITE VALUES)"))
