#!/usr/bin/env bash
# The long-run proof of the README's MNIST U-Net command (lr 1e-3, 1150 steps, the machine's threads):
# run A trains uninterrupted; run B trains the same command side by side, is killed with SIGKILL at a
# random step and continued with plain --resume. Then every step's loss and gradient norm are compared
# (bench/scripts/compare-runs.py): finite everywhere, and B equal to A bit for bit from its resume on.
#   bench/scripts/kill-resume-proof.sh OUTDIR [STEPS]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$(mkdir -p "$1" && cd "$1" && pwd)"
steps="${2:-1150}"
cd "$root"
cmd=(bin/d4j train --data mnist:../shared/data/mnist --base-channels 32 --multipliers 1,2,2 --blocks-per-level 1
  --attention 7 --dropout 0 --batch 64 --lr 1e-3 --warmup 100 --ema 0.995 --steps "$steps" --log-every 1
  --checkpoint-every 100)
rm -rf "$out/A" "$out/B"
bin/d4j --help > /dev/null 2>&1 || true   # build once, before two processes start
"${cmd[@]}" --out "$out/A" > "$out/A.log" 2>&1 &
pa=$!
kill_at=$(( steps / 5 + RANDOM % (steps / 2) ))
"${cmd[@]}" --out "$out/B" > "$out/B1.log" 2>&1 &
pb=$!
while kill -0 $pb 2>/dev/null; do
  n=$(wc -l < "$out/B/metrics.jsonl" 2>/dev/null || echo 0)
  if [ "$n" -ge "$kill_at" ]; then kill -9 $pb; break; fi
  sleep 1
done
wait $pb 2>/dev/null || true
echo "B killed with SIGKILL after logging step $kill_at"
bin/d4j train --out "$out/B" --resume > "$out/B2.log" 2>&1
wait $pa
python3 bench/scripts/compare-runs.py "$out/A/metrics.jsonl" "$out/B/metrics.jsonl"
