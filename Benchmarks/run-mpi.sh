#!/usr/bin/env bash
# Distributed EG on this machine: training throughput of the Conv-Small DRMM (drmm5 with batch
# normalisation, supervised, batch 100) as one process of 1 and 2 workers and as MPI jobs of 1
# and 2 ranks (one worker each), then the time of one MPI_Allreduce of the step's buffer and
# of other sizes (Benchmarks/MPIBenchmark). Writes Benchmarks/results/mpi-<date>.json and prints
# it; Scripts/scaling-model.py turns it into the scaling table of Documentation/Distributed.md.
#
#   Benchmarks/run-mpi.sh [EPOCHS] [IMAGES]        (default 3 epochs of 6,000 images)
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-dependencies.sh --mpi
swift build -c release --traits MPI --product drmm >&2
swift build -c release --traits MPI --product MPIBenchmark >&2
epochs=${1:-3}
images=${2:-6000}
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
launcher=(mpirun)
mpirun --version 2>&1 | grep -q "Open MPI" && launcher+=(--oversubscribe)
out=$(mktemp -d)
common=(train --model drmm5 --batch-norm --epochs "$epochs" --train-limit "$images" --test-limit 100 --quiet)
run() { # tag, then the command
    local tag=$1
    shift
    "$@" --out "$out/$tag" >/dev/null 2>"$out/$tag.log" || { cat "$out/$tag.log" >&2; exit 1; }
}
run one-w1 .build/release/drmm "${common[@]}" --workers 1
run one-w2 .build/release/drmm "${common[@]}" --workers 2
run mpi-np1 "${launcher[@]}" -np 1 .build/release/drmm "${common[@]}" --workers 1 --mpi
run mpi-np2 "${launcher[@]}" -np 2 .build/release/drmm "${common[@]}" --workers 2 --mpi
# Three runs of the reduction benchmark; the one with the median Conv-Small time is kept.
for i in 1 2 3; do "${launcher[@]}" -np 2 .build/release/MPIBenchmark --json "$out/allreduce-$i.json" >/dev/null; done
python3 - "$out" <<'PY'
import json, shutil, sys
runs = [json.load(open(f"{sys.argv[1]}/allreduce-{i}.json")) for i in (1, 2, 3)]
times = [r["allreduce"][0]["medianSeconds"] for r in runs]
keep = sorted(range(3), key=lambda i: times[i])[1]
runs[keep]["convSmallSecondsOfEachRun"] = times
json.dump(runs[keep], open(f"{sys.argv[1]}/allreduce.json", "w"))
PY
file=Benchmarks/results/mpi-$(date -u +%Y-%m-%d).json
python3 - "$out" "$file" "$epochs" "$images" <<'PY'
import json, statistics, sys, subprocess
out, file, epochs, images = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def speed(tag):
    r = json.load(open(f"{out}/{tag}/results.json"))
    rates = [m["imagesPerSecond"] for m in r["history"]][1:] or [r["history"][0]["imagesPerSecond"]]
    return {"imagesPerSecond": statistics.median(rates), "epochs": rates, "testError": r["testError"]}
cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
mpi = subprocess.run(["mpirun", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
report = {
    "date": file[-15:-5], "machine": f"{subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores, {cpu}",
    "mpi": mpi, "model": "drmm5-bn (Conv-Small)", "batch": 100, "trainImages": images,
    "command": f"Benchmarks/run-mpi.sh {epochs} {images}",
    "throughput": {
        "1 process x 1 worker": speed("one-w1"), "1 process x 2 workers": speed("one-w2"),
        "1 rank x 1 worker (MPI)": speed("mpi-np1"), "2 ranks x 1 worker (MPI)": speed("mpi-np2"),
    },
    "allreduce": json.load(open(f"{out}/allreduce.json")),
}
json.dump(report, open(file, "w"), indent=2, sort_keys=True)
print(json.dumps(report, indent=2, sort_keys=True))
PY
