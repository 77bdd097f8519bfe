#!/usr/bin/env bash
# Training throughput of `drmm train` (EG: E-step, hand-written gradient, Adam) on the 5-level
# Conv-Small DRMM, supervised (cross-entropy only) and with the reconstruction term (the tied
# top-down pass and its gradient), next to PyTorch CPU on the identical model and objective in
# the same run when a Python with torch is given. Ours runs with each convolution algorithm
# (Winograd F(2×2,3×3) for the 3×3 levels, the default, and im2col for every level). Peak memory
# of our run is in results.json.
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
    # rc weight, batch normalisation, convolution algorithm (PyTorch runs once per model).
    for variant in "0 no winograd" "0 no im2col" "0.5 no winograd" "0.5 no im2col" "0 bn winograd"; do
        set -- $variant
        rc=$1
        bn=$([ "$2" = bn ] && echo bn || true)
        conv=$3
        tag="t$threads-rc$rc${bn:+-bn}-$conv"
        OPENBLAS_NUM_THREADS=1 .build/release/drmm train --model drmm5 ${bn:+--batch-norm} --epochs 1 --train-limit 6000 --test-limit 100 \
            --rc "$rc" --workers "$threads" --convolution "$conv" --out "$out/$tag" --quiet 2>/dev/null >/dev/null
        python3 - "$out/$tag/results.json" "$threads" "$rc" "$conv" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"ours    {r['model']} rc={sys.argv[3]} {sys.argv[4]} workers={sys.argv[2]} (BLAS threads {r['blasThreads']}): "
      f"{r['meanImagesPerSecond']:.0f} images/s, peak RSS {r['peakResidentMegabytes']:.0f} MB")
PY
        if [ -n "$peer" ] && [ "$conv" = winograd ]; then
            "$peer" Benchmarks/peers/drmm_training_torch.py --model drmm5 ${bn:+--batch-norm} --steps 60 --rc "$rc" --threads "$threads" 2>/dev/null \
                | python3 -c "import json,sys; r=json.load(sys.stdin); print(f\"PyTorch drmm5{'-bn' if r['batchNorm'] else ''} rc={r['rc']} threads={r['threads']} (torch {r['torch']}): {r['imagesPerSecond']:.0f} images/s\")"
        fi
    done
done
rm -rf "$out"
