"""Side-by-side runs of pomegranate and pgmpy on the benchmark Ising grids.

    python Benchmarks/peers/factor_graph_peers.py [--fixtures DIR] [--repeats N]

Needs `pip install pgmpy pomegranate` (pomegranate pulls in torch). Each peer runs in a child
process with a 300 s time limit and an 8 GiB address-space limit, so an out-of-memory or a
hang is reported rather than taking the machine down. Prints a Markdown table.
"""
import argparse, json, multiprocessing as mp, resource, statistics, sys, time

def read_fg(path):
    """libDAI .fg: returns (cardinalities by label, factors as (labels, cards, dense values
    with the first variable least significant))."""
    toks = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0]
            toks.extend(line.split())
    it = iter(toks)
    nf = int(next(it))
    factors, card = [], {}
    for _ in range(nf):
        k = int(next(it))
        labels = [int(next(it)) for _ in range(k)]
        cards = [int(next(it)) for _ in range(k)]
        size = 1
        for c in cards:
            size *= c
        vals = [0.0] * size
        for _ in range(int(next(it))):
            i = int(next(it)); vals[i] = float(next(it))
        for l, c in zip(labels, cards):
            card[l] = c
        factors.append((labels, cards, vals))
    return card, factors

def to_row_major(labels, cards, vals):
    """Reorders a libDAI table (first variable least significant) as a nested row-major list."""
    import numpy as np
    return np.array(vals).reshape(list(reversed(cards))).transpose(list(reversed(range(len(cards)))))

def pomegranate_bp(path, repeats):
    import numpy as np, torch
    torch.set_num_threads(1)
    from pomegranate.factor_graph import FactorGraph
    from pomegranate.distributions import Categorical, JointCategorical
    card, factors = read_fg(path)
    n = len(card)
    times, marg = [], None
    for _ in range(repeats):
        model = FactorGraph(max_iter=10000, tol=1e-9)
        marginals = []
        for v in range(n):
            m = Categorical(torch.ones(1, card[v]) / card[v]); marginals.append(m); model.add_marginal(m)
        for labels, cards, vals in factors:
            t = to_row_major(labels, cards, vals)
            if len(labels) == 1:
                f = Categorical(torch.tensor(t / t.sum(), dtype=torch.float32).reshape(1, -1))
            else:
                f = JointCategorical(torch.tensor(t / t.sum(), dtype=torch.float32))
            model.add_factor(f)
            for l in labels:
                model.add_edge(marginals[l], f)
        X = torch.masked.MaskedTensor(torch.zeros(1, n, dtype=torch.int64), mask=torch.zeros(1, n, dtype=torch.bool))
        start = time.perf_counter()
        out = model.predict_proba(X)
        times.append(time.perf_counter() - start)
        marg = [o[0].tolist() for o in out]
    return {"seconds": statistics.median(times), "marginals": marg}

def pgmpy_junction_tree(path, repeats):
    from pgmpy.models import DiscreteMarkovNetwork as MarkovNetwork
    from pgmpy.factors.discrete import DiscreteFactor
    from pgmpy.inference import BeliefPropagation
    card, factors = read_fg(path)
    times, marg = [], None
    for _ in range(repeats):
        model = MarkovNetwork()
        model.add_nodes_from([f"x{v}" for v in card])
        fs = []
        for labels, cards, vals in factors:
            names = [f"x{l}" for l in labels]
            if len(names) == 2:
                model.add_edge(*names)
            fs.append(DiscreteFactor(names, cards, to_row_major(labels, cards, vals).flatten()))
        model.add_factors(*fs)
        start = time.perf_counter()
        bp = BeliefPropagation(model)
        bp.calibrate()
        q = bp.query([f"x{v}" for v in card], joint=False, show_progress=False)
        times.append(time.perf_counter() - start)
        marg = [q[f"x{v}"].values.tolist() for v in sorted(card)]
    return {"seconds": statistics.median(times), "marginals": marg}

def limited(fn, args, queue):
    resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))
    try:
        queue.put(fn(*args))
    except MemoryError:
        queue.put({"error": "out of memory (8 GiB limit)"})
    except Exception as e:  # report, do not hide
        queue.put({"error": f"{type(e).__name__}: {str(e)[:200]}"})

def run(fn, args, timeout=300):
    q = mp.Queue()
    p = mp.Process(target=limited, args=(fn, args, q))
    p.start(); p.join(timeout)
    if p.is_alive():
        p.kill(); return {"error": f"no answer within {timeout} s"}
    if p.exitcode != 0 and q.empty():
        return {"error": f"child exited with code {p.exitcode} (killed: likely out of memory)"}
    return q.get() if not q.empty() else {"error": "no result"}

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixtures", default="Tests/FactorGraphTests/Fixtures")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json")
    a = ap.parse_args()
    rows = []
    print("| peer | model | method | median s | note |")
    print("|---|---|---|---|---|")
    for name in ["ising10", "ising20"]:
        r = run(pomegranate_bp, (f"{a.fixtures}/ising/{name}.fg", a.repeats))
        rows.append({"peer": "pomegranate", "model": name, **{k: v for k, v in r.items() if k != "marginals"}})
        print(f"| pomegranate | {name} | loopy BP (tol 1e-9) | {r.get('seconds', float('nan')):.3f} | {r.get('error', '')} |")
        if "marginals" in r:
            rows[-1]["marginal_x0"] = r["marginals"][0]
    for name in ["ising10"]:
        r = run(pgmpy_junction_tree, (f"{a.fixtures}/ising/{name}.fg", 1))
        rows.append({"peer": "pgmpy", "model": name, **{k: v for k, v in r.items() if k != "marginals"}})
        print(f"| pgmpy | {name} | junction tree (exact) | {r.get('seconds', float('nan')):.3f} | {r.get('error', '')} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=2)
