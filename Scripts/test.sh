#!/usr/bin/env bash
# Runs the whole test suite: installs missing system libraries (Open MPI included, for the
# tests that run `drmm` under `mpirun -np 2`), then a release build of the tests with the
# package trait MPI (the exact-inference and enumeration oracles are numeric code; debug builds
# are 10–50× slower). One BLAS thread: two on a shared 2-core machine are often slower.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-dependencies.sh --mpi
export OPENBLAS_NUM_THREADS=1
# -enable-testing lets the learning tests check internal kernels (@testable) in the optimised build.
swift test -c release -Xswiftc -enable-testing --traits MPI "$@"
# The whole suite also builds the client example, a package outside the library that uses only
# its products with the default traits (no MPI), and runs it: train, convert, sample,
# reconstruct, certify (it fails otherwise); and it checks the layout of the sources
# (Scripts/check-style.sh) and that Documentation/Results.md is the one its data give.
if [ $# -eq 0 ]; then
    # The default build of the command, without the trait, needs no MPI.
    swift build -c release --product drmm --scratch-path .build-default
    Scripts/check-style.sh
    python3 Scripts/results-summary.py --check
    swift run -c release --package-path Examples/ClientPackage Client Data/mnist
fi
