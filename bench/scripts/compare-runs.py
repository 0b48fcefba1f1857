"""Compares two runs' metrics.jsonl step by step: every loss and gradient norm finite, and equal.

    python3 bench/scripts/compare-runs.py A/metrics.jsonl B/metrics.jsonl
Exit 0 when both runs are finite and identical at every step, 1 otherwise.
"""
import json
import math
import sys


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


a, b = load(sys.argv[1]), load(sys.argv[2])
bad = [r["step"] for r in a + b if not all(math.isfinite(r[k]) for k in ("loss", "grad_norm"))]
same = sum(1 for x, y in zip(a, b) if (x["step"], x["loss"], x["grad_norm"]) == (y["step"], y["loss"], y["grad_norm"]))
first = next((x["step"] for x, y in zip(a, b) if (x["loss"], x["grad_norm"]) != (y["loss"], y["grad_norm"])), None)
print(f"A: {len(a)} steps, last loss {a[-1]['loss']}, max grad norm {max(r['grad_norm'] for r in a):.3f}")
print(f"B: {len(b)} steps, last loss {b[-1]['loss']}, max grad norm {max(r['grad_norm'] for r in b):.3f}")
print(f"non-finite steps: {bad if bad else 'none'}")
print(f"identical steps (loss and gradient norm as logged): {same} of {len(a)}"
      + ("" if first is None else f"; first difference at step {first}"))
sys.exit(0 if not bad and same == len(a) == len(b) else 1)
