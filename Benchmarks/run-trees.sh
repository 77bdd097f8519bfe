#!/usr/bin/env bash
# Decision trees and random forests (relaxed E-DRMMs) on MNIST next to scikit-learn in the same
# run: same depth, minimum split size, entropy criterion, 100 trees, 28 features per split.
#
#   Benchmarks/run-trees.sh [PYTHON]      e.g. /tmp/peers/bin/python (pip install scikit-learn)
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-dependencies.sh
swift build -c release --product drmm >&2
echo "## Trees on MNIST, $(date -u +%Y-%m-%d), $(nproc) cores"
.build/release/drmm tree --max-depth 20
.build/release/drmm forest --trees 100 --max-depth 20
if [ $# -ge 1 ]; then
    "$1" Benchmarks/peers/mnist_trees_sklearn.py --max-depth 20
    "$1" Benchmarks/peers/mnist_trees_sklearn.py --max-depth 20 --trees 100 --jobs 2
fi
