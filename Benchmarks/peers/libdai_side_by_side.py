"""`pgm infer` (or `drmm infer`) and libDAI side by side, whole process, in one run on one machine.

libDAI is not installable from a package registry; build it from its public source beside the
project (it is not part of this repository) together with a small driver that reads a .fg
file, runs one libDAI algorithm with a properties string and prints JSON
({"iterations", "seconds", "logZ" | "logScore", "marginals"}); pass that driver as --libdai.

    swift build -c release --product pgm --static-swift-stdlib
    python Benchmarks/peers/libdai_side_by_side.py --ours .build/release/pgm --libdai DRIVER \
        --grid100 ising100.fg --uai-fg DIR --repeats 7 --json OUT.json

Sections: loopy BP marginals on the Ising grids in three schedules (tolerance 1e-9), exact
inference on the UAI 2014 instances (our variable elimination and junction tree against
libDAI's junction tree, evidence applied), and MAP on the Ising grids and ALARM (libDAI's
max-product in every schedule, with and without damping, against MPLP).
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import time

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "FactorGraphTests", "Fixtures")
SCHEDULES = [("sequential", "SEQFIX"), ("parallel", "PARALL"), ("random", "SEQRND")]
UAI = ["Alchemy_11", "CSP_12", "DBN_11", "Grids_12", "Promedus_24", "Segmentation_11"]


def timed(command):
    start = time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return time.perf_counter() - start, out


def ours(binary, arguments):
    """Our answer as JSON on standard output, as the libDAI driver prints its own."""
    seconds, out = timed([binary, "infer"] + arguments + ["--json", "-"])
    return seconds, json.loads(out)


def theirs(driver, path, method, properties, marginals=False):
    seconds, out = timed([driver, path, method, properties] + (["marginals"] if marginals else []))
    return seconds, json.loads(out)


def interleaved(repeats, a, b):
    """Medians of `repeats` alternating runs of a and b, with the last outputs."""
    ta, tb = [], []
    for _ in range(repeats):
        s, ra = a()
        ta.append(s)
        s, rb = b()
        tb.append(s)
    return statistics.median(ta), ra, statistics.median(tb), rb


def largest_difference(p, q):
    return max(abs(x - y) for a, b in zip(p, q) for x, y in zip(a, b))


def bp_marginals(args, rows):
    grids = [("10×10", f"{FIXTURES}/ising/ising10.fg"), ("20×20", f"{FIXTURES}/ising/ising20.fg"),
             ("50×50", f"{FIXTURES}/ising/ising50.fg")]
    if args.grid100:
        grids.append(("100×100", args.grid100))
    for name, path in grids:
        for schedule, updates in SCHEDULES:
            variants = [["--threads", "1"]] + ([["--threads", "2"]] if schedule == "parallel" else [])
            for extra in variants:
                a = lambda: ours(args.ours, [path, "--task", "MAR", "--algorithm", "bp", "--schedule", schedule,
                                             "--tolerance", "1e-9"] + extra)
                props = f"[updates={updates},tol=1e-9,maxiter=10000,logdomain=0,inference=SUMPROD,damping=0.0]"
                b = lambda: theirs(args.libdai, path, "BP", props, marginals=True)
                ta, ra, tb, rb = interleaved(args.repeats, a, b)
                row = {"section": "bp", "grid": name, "schedule": schedule, "threads": int(extra[1]),
                       "ours_s": ta, "libdai_s": tb, "ratio": ta / tb, "ours_iterations": ra["iterations"],
                       "libdai_iterations": rb["iterations"],
                       "largest_marginal_difference": largest_difference(ra["marginals"], rb["marginals"])}
                rows.append(row)
                print(json.dumps(row), flush=True)


def exact(args, rows):
    for name in UAI:
        model = f"{FIXTURES}/uai2014/{name}.uai"
        common = [model, "--evidence", model + ".evid"]
        fg = os.path.join(args.uai_fg, f"{name}.0.fg")
        for task, algorithm in [("PR", "exact"), ("MAR", "exact"), ("MAR", "jtree")]:
            a = lambda: ours(args.ours, common + ["--task", task, "--algorithm", algorithm])
            b = lambda: theirs(args.libdai, fg, "JTREE", "[updates=HUGIN,inference=SUMPROD]", marginals=task == "MAR")
            repeats = max(1, args.repeats // 2) if name in ("DBN_11", "Alchemy_11") else args.repeats
            ta, ra, tb, rb = interleaved(repeats, a, b)
            row = {"section": "exact", "instance": name, "task": task, "ours_algorithm": algorithm, "ours_s": ta,
                   "libdai_s": tb, "ratio": ta / tb}
            if task == "PR":
                row["log10Z_difference"] = abs(ra["log10Z"] - rb["logZ"] / math.log(10))
            else:
                observed = {i for i, m in enumerate(ra["marginals"]) if max(m) == 1.0 and sum(m) == 1.0}
                pairs = [(p, q) for i, (p, q) in enumerate(zip(ra["marginals"], rb["marginals"])) if i not in observed]
                row["largest_marginal_difference"] = max(abs(x - y) for p, q in pairs for x, y in zip(p, q))
            rows.append(row)
            print(json.dumps(row), flush=True)


def map_scores(args, rows):
    models = [("ising10", f"{FIXTURES}/ising/ising10.fg"), ("ising20", f"{FIXTURES}/ising/ising20.fg"),
              ("ising50", f"{FIXTURES}/ising/ising50.fg"), ("alarm", f"{FIXTURES}/libdai/alarm.fg")]
    for name, path in models:
        seconds, r = ours(args.ours, [path, "--task", "MAP", "--algorithm", "mplp"])
        row = {"section": "map", "model": name, "method": "MPLP (ours)", "log10_score": r["logScore"] / math.log(10),
               "log10_bound": r["log10UpperBound"], "certified": r["exact"], "iterations": r["iterations"],
               "seconds": seconds}
        rows.append(row)
        print(json.dumps(row), flush=True)
        for _, updates in SCHEDULES:
            for damping in ["0.0", "0.5"]:
                props = f"[updates={updates},tol=1e-9,maxiter=10000,logdomain=0,inference=MAXPROD,damping={damping}]"
                seconds, r = theirs(args.libdai, path, "BP", props)
                row = {"section": "map", "model": name, "method": f"libDAI BP {updates} damping {damping}",
                       "log10_score": r["logScore"] / math.log(10), "iterations": r["iterations"], "seconds": seconds}
                rows.append(row)
                print(json.dumps(row), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ours", required=True, help="the pgm (or drmm) executable")
    parser.add_argument("--libdai", required=True, help="the libDAI driver (see the module docstring)")
    parser.add_argument("--grid100", help="libDAI createfg's 100×100 grid (seed 42), if made")
    parser.add_argument("--uai-fg", help="the UAI instances converted by libDAI's uai2fg (with evidence)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--sections", default="bp,exact,map")
    parser.add_argument("--json")
    args = parser.parse_args()
    rows = []
    sections = args.sections.split(",")
    if "bp" in sections:
        bp_marginals(args, rows)
    if "exact" in sections and args.uai_fg:
        exact(args, rows)
    if "map" in sections:
        map_scores(args, rows)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"date": time.strftime("%Y-%m-%d"), "cores": os.cpu_count(), "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
