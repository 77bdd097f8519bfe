#!/usr/bin/env python3
"""Scaling model of distributed EG from a run of Benchmarks/run-mpi.sh.

    python3 Scripts/scaling-model.py [Benchmarks/results/mpi-DATE.json]

Prints the Markdown tables of Documentation/Distributed.md: per network and node count, the
time of one step's communication, the parallel efficiency and the throughput, under the
assumptions stated there (weak scaling, 100 images per node and step, no overlap of the
reduction with the backward pass).
"""
import glob
import json
import math
import sys

path = sys.argv[1] if len(sys.argv) > 1 else sorted(glob.glob("Benchmarks/results/mpi-*.json"))[-1]
r = json.load(open(path))
a = r["allreduce"]
node_rate = r["throughput"]["2 ranks x 1 worker (MPI)"]["imagesPerSecond"]  # one 2-core node
per_node = 100  # images per node and step
step_bytes = a["convSmallBytesPerStep"]
local = next(x for x in a["allreduce"] if x["bytes"] == step_bytes)
gamma = step_bytes / local["medianSeconds"]  # local reduction speed (bytes/s), shared memory
gather = a["gatherSecondsPerImage"]
compute = per_node / node_rate
networks = [  # name, link bandwidth (bytes/s, 90 % of nominal), latency per message (s)
    ("10 Gb/s Ethernet (TCP)", 0.9 * 10e9 / 8, 30e-6),
    ("25 Gb/s Ethernet (RoCE)", 0.9 * 25e9 / 8, 5e-6),
    ("100 Gb/s InfiniBand", 0.9 * 100e9 / 8, 1.5e-6),
]


def allreduce(p, size, beta, alpha):
    """Reduce-scatter + allgather (Rabenseifner): 2 log2 p latencies, 2 (p-1)/p S over the
    link, (p-1)/p S reduced locally."""
    if p == 1:
        return 0.0
    return 2 * math.log2(p) * alpha + 2 * (p - 1) / p * size / beta + (p - 1) / p * size / gamma


print(f"From `{path}` ({r['machine']}, {r['mpi']}):\n")
print(f"- one node (2 ranks × 1 worker): {node_rate:.0f} images/s, so a step of {per_node} images "
      f"computes in {1e3 * compute:.1f} ms;")
print(f"- one step reduces {a['convSmallValuesPerStep']:,} values ({step_bytes / 1e3:.0f} kB: "
      f"{a['convSmallParameters']:,} gradient entries, loss terms, counts, batch statistics) and, "
      f"mid-pass, the 10 values of q̄;")
print(f"- MPI_Allreduce of that buffer between the 2 ranks of this machine: "
      f"{1e6 * local['medianSeconds']:.0f} µs (median of {local['repeats']});")
print(f"- every rank repeats the Adam step ({1e3 * a['adamStepSeconds']:.2f} ms) and gathers its images "
      f"({1e6 * gather:.2f} µs each; the whole global batch with augmentation or pseudo-labels).\n")
print("| network | nodes | allreduce / step | efficiency | images/s | 500 epochs of 120,000 images "
      "| efficiency with whole-batch gather |")
print("|---|---|---|---|---|---|---|")
for name, beta, alpha in networks:
    for p in (8, 64, 512):
        comm = allreduce(p, step_bytes, beta, alpha) + allreduce(p, 80, beta, alpha)
        step = compute + comm
        rate = p * per_node / step
        days = 500 * 120_000 / rate / 86400
        whole = compute / (step + (p - 1) * per_node * gather)
        hours = days * 24
        span = f"{60 * hours:.0f} min" if hours < 1 else f"{hours:.1f} h" if days < 2 else f"{days:.1f} days"
        print(f"| {name} | {p} | {1e3 * comm:.2f} ms | {100 * compute / step:.1f} % | {rate:,.0f} | {span} "
              f"| {100 * whole:.1f} % |")
one = 500 * 120_000 / node_rate / 86400
print(f"\nOne node: {node_rate:.0f} images/s, {24 * one:.1f} h for the 500 epochs.")

print("\nThe paper's global batch of 100 images spread over the nodes instead (strong scaling: a node "
      "computes its share at the measured per-image speed, which small batches only lower, plus the whole "
      "Adam step):\n")
print("| network | nodes | images per node | compute / step | allreduce / step | efficiency | images/s |")
print("|---|---|---|---|---|---|---|")
for name, beta, alpha in networks:
    for p in (8, 64):
        share = 100 / p
        # The Adam step (every rank, every step) does not shrink with the share of images.
        work = share * (compute - a["adamStepSeconds"]) / per_node + a["adamStepSeconds"]
        comm = allreduce(p, step_bytes, beta, alpha) + allreduce(p, 80, beta, alpha)
        print(f"| {name} | {p} | {share:.1f} | {1e3 * work:.2f} ms | {1e3 * comm:.2f} ms | "
              f"{100 * work / (work + comm):.0f} % | {100 / (work + comm):,.0f} |")
