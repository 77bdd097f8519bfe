#!/usr/bin/env bash
# The main job: installs missing system libraries, builds, and runs the demonstrations —
# max-sum in a DRMM equals Conv → ReLU → MaxPool (four computations side by side), sampling and
# reconstructing images from a rendering model (PNGs in ./drmm-demo), training a one-level
# DRMM (the RFM) on the bundled MNIST by EG for two epochs and evaluating it (a few minutes on
# two cores; checkpoint, metrics and PNGs in ./drmm-demo/rfm), and exact inference on the
# bundled ALARM network.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-dependencies.sh
swift build -c release --product drmm >&2
echo "== drmm equivalence: one tiny DRMM, its class scores four ways"
.build/release/drmm equivalence --seed 1
echo
echo "== drmm render: sample from a stroke-rendering DRMM, infer back, write PNGs"
.build/release/drmm render --out drmm-demo --count 24
echo
echo "== drmm train: a one-level DRMM (RFM) on MNIST by EG, 2 epochs, then drmm evaluate"
OPENBLAS_NUM_THREADS=1 .build/release/drmm train --model rfm --epochs 2 --rc 0.5 --out drmm-demo/rfm
OPENBLAS_NUM_THREADS=1 .build/release/drmm evaluate --checkpoint drmm-demo/rfm/checkpoint.json
echo
echo "== drmm infer: exact marginals of the ALARM network (UAI MAR format)"
.build/release/drmm infer Examples/Models/alarm.fg --task MAR
