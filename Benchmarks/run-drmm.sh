#!/usr/bin/env bash
# DRMM bottom-up inference (Conv-Small forward) at 1 and 2 threads, next to sgemm's peak and,
# when a Python with torch is given, PyTorch CPU on the identical architecture in the same run.
#
#   Benchmarks/run-drmm.sh [PYTHON]          e.g. /tmp/peers/bin/python (pip install torch)
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-dependencies.sh
swift build -c release --product DRMMBenchmark >&2
echo "## DRMM, $(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for threads in 1 2; do
    # Our forward splits its GEMMs between its own workers, each with one BLAS thread.
    OPENBLAS_NUM_THREADS=1 .build/release/DRMMBenchmark --workers "$threads" --batch 100 --repeats 30
    if [ $# -ge 1 ]; then "$1" Benchmarks/peers/conv_small_torch.py --threads "$threads" --batch 100 --repeats 30 2>/dev/null; fi
done
