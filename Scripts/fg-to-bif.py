#!/usr/bin/env python3
"""Writes a libDAI factor graph whose factors are conditional tables (a Bayesian network, such
as libDAI's copy of ALARM) as BIF: each factor's child is the scope variable over which every
row sums to 1; variables are named x<label> with states s0, s1, ….

    python3 Scripts/fg-to-bif.py Tests/FactorGraphTests/Fixtures/libdai/alarm.fg > alarm.bif
"""
import itertools, os, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Benchmarks", "peers"))
from factor_graph_peers import read_fg  # noqa: E402  (the one libDAI .fg reader of the scripts)

def value(labels, cards, vals, states):
    """libDAI order: the first variable least significant."""
    index, stride = 0, 1
    for c, s in zip(cards, states):
        index += s * stride
        stride *= c
    return vals[index]

cards, factors = read_fg(sys.argv[1])
out = ["network unknown {", "}"]
for v in sorted(cards):
    out += [f"variable x{v} {{", f"  type discrete [ {cards[v]} ] {{ " + ", ".join(f"s{s}" for s in range(cards[v])) + " };", "}"]
def deviation(labels, cs, vals, c):
    """The largest |row sum - 1| over the rows of `c` given the other variables."""
    others = [l for l in labels if l != c]
    worst = 0.0
    for rest in itertools.product(*[range(cards[o]) for o in others]):
        assign = dict(zip(others, rest))
        total = sum(value(labels, cs, vals, [assign.get(l, s) if l != c else s for l in labels])
                    for s in range(cards[c]))
        worst = max(worst, abs(total - 1))
    return worst

# Each variable is the child of exactly one factor: candidates are the scope variables whose
# rows sum to 1 within 2e-3 (the source rounds some rows); unique candidates are assigned first.
candidates = [{c for c in labels if deviation(labels, cs, vals, c) <= 2e-3} for labels, cs, vals in factors]
children = [None] * len(factors)
while None in children:
    progress = False
    for f, cand in enumerate(candidates):
        if children[f] is None and len(cand) == 1:
            children[f] = next(iter(cand))
            for g in range(len(factors)):
                if g != f:
                    candidates[g].discard(children[f])
            progress = True
    assert progress, "the factors are not the conditional tables of one network"

for (labels, cs, vals), child in zip(factors, children):
    parents = [l for l in labels if l != child]
    head = f"probability ( x{child} )" if not parents else f"probability ( x{child} | " + ", ".join(f"x{p}" for p in parents) + " )"
    out.append(head + " {")
    for rest in itertools.product(*[range(cards[p]) for p in parents]):
        assign = dict(zip(parents, rest))
        row = [value(labels, cs, vals, [assign.get(l, s) if l != child else s for l in labels]) for s in range(cards[child])]
        total = sum(row)
        row = [x / total for x in row]  # rows the source rounds (off by up to 2e-3) renormalised
        text = ", ".join(repr(x) for x in row)
        out.append(f"  table {text};" if not parents else "  (" + ", ".join(f"s{r}" for r in rest) + f") {text};")
    out.append("}")
print("\n".join(out))
