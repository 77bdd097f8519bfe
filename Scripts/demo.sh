#!/usr/bin/env bash
# The main job: installs missing system libraries, builds, and runs the demonstrations —
# max-sum in a DRMM equals Conv → ReLU → MaxPool (four computations side by side), sampling and
# reconstructing images from a rendering model (PNGs in ./drmm-demo), and exact inference on
# the bundled ALARM network.
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
echo "== drmm infer: exact marginals of the ALARM network (UAI MAR format)"
.build/release/drmm infer Examples/Models/alarm.fg --task MAR
