"""Bayesian networks side by side with pgmpy, in one run: reading a BIF file with all exact
marginals, forward sampling, and maximum-likelihood parameter learning, on bnlearn's asia and
child and on ALARM (libDAI's copy, as BIF by Scripts/fg-to-bif.py).

    python Benchmarks/peers/bayesian_network_peers.py DRMM_BINARY [--repeats N] [--json FILE]

Ours is timed as the whole `pgm` (or `drmm`) process (start-up, reading, work, writing); pgmpy inside one
Python process after its import (reading and work only), so the comparison leans toward pgmpy.
Both report medians of N repeats. Prints a Markdown table; the answers are compared.
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time

import numpy as np
from pgmpy.inference import VariableElimination
from pgmpy.parameter_estimator import DiscreteMLE
from pgmpy.readwrite import BIFReader
from pgmpy.sampling import BayesianModelSampling

here = os.path.dirname(os.path.abspath(__file__))
fixtures = os.path.join(here, "..", "..", "Tests", "FactorGraphTests", "Fixtures", "bif")


def median_time(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("drmm")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--samples", type=int, default=100_000)
    ap.add_argument("--json")
    a = ap.parse_args()
    rows, report = [], {"samples": a.samples, "repeats": a.repeats, "networks": {}}
    work = tempfile.mkdtemp()
    for name in ["asia", "alarm", "child"]:
        path = os.path.join(fixtures, f"{name}.bif")
        net = {}
        # Reading and every exact marginal.
        def ours_mar():
            out = run([a.drmm, "infer", path, "--task", "MAR", "--json", f"{work}/m.json"])
            return json.load(open(f"{work}/m.json"))["marginals"]
        t_ours, ours = median_time(ours_mar, a.repeats)
        def pgmpy_mar():
            model = BIFReader(path).get_model()
            ve = VariableElimination(model)
            return model, [ve.query([v], show_progress=False).values for v in model.nodes()]
        t_pg, (model, theirs) = median_time(pgmpy_mar, a.repeats)
        order = list(model.nodes())
        names = [l.split()[1] for l in open(path) if l.startswith("variable ")]
        diff = max(np.max(np.abs(np.array(ours[names.index(v)]) - theirs[i])) for i, v in enumerate(order))
        net["read + all marginals"] = {"ours": t_ours, "pgmpy": t_pg, "largestDifference": float(diff)}
        # Forward sampling.
        csv = f"{work}/{name}.csv"
        t_ours, _ = median_time(lambda: run([a.drmm, "sample", path, "--count", str(a.samples), "--seed", "1",
                                              "--output", csv]), a.repeats)
        sampler = BayesianModelSampling(model)
        t_pg, frame = median_time(lambda: sampler.forward_sample(size=a.samples, seed=1, show_progress=False),
                                  a.repeats)
        net[f"forward sampling ({a.samples:,})"] = {"ours": t_ours, "pgmpy": t_pg}
        # Maximum-likelihood learning from those samples.
        t_ours, _ = median_time(lambda: run([a.drmm, "learn", path, "--data", csv, "--out", f"{work}/l.bif"]),
                                a.repeats)
        def pgmpy_fit():
            m = model.copy()
            m.fit(frame, estimator=DiscreteMLE())
            return m
        t_pg, _ = median_time(pgmpy_fit, a.repeats)
        net[f"maximum likelihood ({a.samples:,} cases)"] = {"ours": t_ours, "pgmpy": t_pg}
        report["networks"][name] = net
        for task, r in net.items():
            rows.append(f"| {name} | {task} | {r['ours']:.3f} | {r['pgmpy']:.3f} | {r['pgmpy'] / r['ours']:.1f}× |")
    print("| network | task | ours s (whole process) | pgmpy s (in process) | pgmpy / ours |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    for name, net in report["networks"].items():
        print(f"{name}: largest marginal difference {net['read + all marginals']['largestDifference']:.2e}")
    import pgmpy
    report["pgmpy"] = pgmpy.__version__
    if a.json:
        json.dump(report, open(a.json, "w"), indent=2, sort_keys=True)


if __name__ == "__main__":
    main()
