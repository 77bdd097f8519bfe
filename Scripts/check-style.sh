#!/usr/bin/env bash
# Checks the layout of every Swift file against .swift-format (4-space indentation, lines of at
# most 120 characters) with the toolchain's swift-format; fails on any difference.
# `swift format format -i -r Sources Tests Benchmarks Examples` applies the layout.
set -euo pipefail
cd "$(dirname "$0")/.."
swift format lint --strict --parallel -r Sources Tests Benchmarks Examples
long=$(find Sources Tests Benchmarks Examples -name '*.swift' -not -path '*/.*' -print0 \
    | xargs -0 python3 -c '
import sys
for path in sys.argv[1:]:
    for number, line in enumerate(open(path, encoding="utf-8"), 1):
        if len(line.rstrip("\n")) > 120:
            print(f"{path}:{number}: {len(line.rstrip())} characters")')
if [ -n "$long" ]; then
    echo "lines over 120 characters:" >&2
    echo "$long" >&2
    exit 1
fi
