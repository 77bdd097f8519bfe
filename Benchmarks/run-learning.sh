#!/usr/bin/env bash
# Training throughput of `drmm train` (EG: E-step, hand-written gradient, Adam) on the 5-level
# Conv-Small DRMM, supervised (cross-entropy only) and with the reconstruction term (the tied
# top-down pass and its gradient), next to PyTorch CPU on the identical model and objective in
# the same run when a Python with torch is given. Peak memory of our run is in results.json.
#
#   Benchmarks/run-learning.sh [PYTHON]          e.g. /tmp/peers/bin/python (pip install torch)
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-dependencies.sh
swift build -c release --product drmm >&2
out=$(mktemp -d)
echo "## DRMM training throughput, $(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for threads in 1 2; do
    for rc in 0 0.5; do
        OPENBLAS_NUM_THREADS=1 .build/release/drmm train --model drmm5 --epochs 1 --train-limit 6000 --test-limit 100 \
            --rc "$rc" --workers "$threads" --out "$out/t$threads-rc$rc" --quiet 2>/dev/null >/dev/null
        python3 - "$out/t$threads-rc$rc/results.json" "$threads" "$rc" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"ours    drmm5 rc={sys.argv[3]} workers={sys.argv[2]} (BLAS threads {r['blasThreads']}): "
      f"{r['meanImagesPerSecond']:.0f} images/s, peak RSS {r['peakResidentMegabytes']:.0f} MB")
PY
        if [ $# -ge 1 ]; then
            "$1" Benchmarks/peers/drmm_training_torch.py --model drmm5 --steps 60 --rc "$rc" --threads "$threads" 2>/dev/null \
                | python3 -c "import json,sys; r=json.load(sys.stdin); print(f\"PyTorch drmm5 rc={r['rc']} threads={r['threads']} (torch {r['torch']}): {r['imagesPerSecond']:.0f} images/s\")"
        fi
    done
done
rm -rf "$out"
