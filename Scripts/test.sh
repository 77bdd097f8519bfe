#!/usr/bin/env bash
# Runs the whole test suite: installs missing system libraries, then a release build of the
# tests (the exact-inference and enumeration oracles are numeric code; debug builds are
# 10–50× slower). One BLAS thread: two on a shared 2-core machine are often slower.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-dependencies.sh
export OPENBLAS_NUM_THREADS=1
# -enable-testing lets the learning tests check internal kernels (@testable) in the optimised build.
swift test -c release -Xswiftc -enable-testing "$@"
# The whole suite also builds the client example, a package outside the library that uses only
# its products, and runs it: train, convert, sample, reconstruct, certify (it fails otherwise);
# and it checks the layout of the sources (Scripts/check-style.sh) and that
# Documentation/Results.md is the one its data give.
if [ $# -eq 0 ]; then
    Scripts/check-style.sh
    python3 Scripts/results-summary.py --check
    swift run -c release --package-path Examples/ClientPackage Client Data/mnist
fi
