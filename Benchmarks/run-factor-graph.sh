#!/usr/bin/env bash
# Runs the FactorGraph benchmark (release build) and, when a Python environment with pgmpy and
# pomegranate is given, the peers on the same machine in the same run.
#
#   Benchmarks/run-factor-graph.sh [PYTHON]        e.g. PYTHON=/tmp/peers/bin/python
#
# Prepare the peers once with: python3 -m venv /tmp/peers && /tmp/peers/bin/pip install pgmpy pomegranate
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-dependencies.sh
export OPENBLAS_NUM_THREADS=1
swift build -c release --product FactorGraphBenchmark >&2
echo "## FactorGraph, $(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
.build/release/FactorGraphBenchmark --repeats 11 --json .build/factor-graph-benchmark.json
echo
.build/release/FactorGraphBenchmark memory
echo
.build/release/FactorGraphBenchmark order
if [ $# -ge 1 ]; then
    echo
    "$1" Benchmarks/peers/factor_graph_peers.py --repeats 3 2>/dev/null
fi
