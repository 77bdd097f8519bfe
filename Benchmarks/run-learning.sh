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
peer=${1:-}
echo "## DRMM training throughput, $(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for threads in 1 2; do
    for variant in "0" "0.5" "0 bn"; do
        set -- "$peer" $variant
        rc=$2
        bn=${3:-}
        tag="t$threads-rc$rc${bn:+-bn}"
        OPENBLAS_NUM_THREADS=1 .build/release/drmm train --model drmm5 ${bn:+--batch-norm} --epochs 1 --train-limit 6000 --test-limit 100 \
            --rc "$rc" --workers "$threads" --out "$out/$tag" --quiet 2>/dev/null >/dev/null
        python3 - "$out/$tag/results.json" "$threads" "$rc" "${bn:-}" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"ours    {r['model']} rc={sys.argv[3]} workers={sys.argv[2]} (BLAS threads {r['blasThreads']}): "
      f"{r['meanImagesPerSecond']:.0f} images/s, peak RSS {r['peakResidentMegabytes']:.0f} MB")
PY
        if [ -n "$peer" ]; then
            "$peer" Benchmarks/peers/drmm_training_torch.py --model drmm5 ${bn:+--batch-norm} --steps 60 --rc "$rc" --threads "$threads" 2>/dev/null \
                | python3 -c "import json,sys; r=json.load(sys.stdin); print(f\"PyTorch drmm5{'-bn' if r['batchNorm'] else ''} rc={r['rc']} threads={r['threads']} (torch {r['torch']}): {r['imagesPerSecond']:.0f} images/s\")"
        fi
    done
done
rm -rf "$out"
