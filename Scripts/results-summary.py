#!/usr/bin/env python3
"""Writes Documentation/Results.md from the runs kept as data in Benchmarks/results/.

    python3 Scripts/results-summary.py           # rewrite Documentation/Results.md
    python3 Scripts/results-summary.py --check   # fail if it is out of date

Inputs:
- Benchmarks/results/runs.jsonl: one record per run (id, setting, command, test error, ...);
- Benchmarks/results/paper-rows.json: the paper's rows (spec §6) and the ids of the runs that
  answer each, with the paper's objective and with anything added;
- Benchmarks/results/<run>/results.json and certificate.json: runs kept whole (`drmm train`
  and `drmm verify` write these).

A row counts as reached when our test error is at most the paper's plus 0.2 points.
"""
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
RESULTS = ROOT / "Benchmarks" / "results"
OUTPUT = ROOT / "Documentation" / "Results.md"
TOLERANCE = 0.2


def load_runs():
    runs = {}
    for number, line in enumerate((RESULTS / "runs.jsonl").read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        run = json.loads(line)
        if run["id"] in runs:
            sys.exit(f"runs.jsonl:{number}: duplicate id {run['id']}")
        runs[run["id"]] = run
    return runs


def figure(run, metric):
    if metric == "epochsTo1.5":
        return run["epochsTo1.5"], f"{run['epochsTo1.5']} epochs"
    value = run["testError"]
    return value, f"{value:.2f} %"


def cell(runs, row, key, metric):
    run_id = row.get(key)
    if run_id is None:
        return "–", None
    if run_id not in runs:
        sys.exit(f"paper-rows.json: row '{row['row']}' names unknown run {run_id}")
    value, text = figure(runs[run_id], metric)
    paper = float(row["paper"].split()[0])
    reached = value <= paper + (0 if metric else TOLERANCE)
    note = row.get(key + "Note")
    text = f"**{text}**" if reached else text
    return f"{text} [{run_id}]: {note}" if note else f"{text} [{run_id}]", reached


def certificate_rows():
    lines = []
    for directory in sorted(p for p in RESULTS.iterdir() if (p / "certificate.json").exists()):
        result = json.loads((directory / "results.json").read_text())
        cert = json.loads((directory / "certificate.json").read_text())
        constrained = result["configuration"].get("nonnegativeUpperWeights", False)
        violations = cert["negativeUpperFilterEntries"] + cert["negativeTemplateEntries"]
        gap = "–" if cert.get("largestGapFound") is None else f"{cert['largestGapFound']:.2f}"
        certified = violations == 0 and cert["predictionsAgreeing"] == cert["imagesChecked"]
        lines.append(
            f"| `{directory.name}` ({'E2 kept' if constrained else 'unconstrained'}) "
            f"| {100 * result['testError']:.2f} % "
            f"| {cert['largestRelativeScoreDifference']:.1e} "
            f"| {cert['predictionsAgreeing']:,} of {cert['imagesChecked']:,} "
            f"| {cert['negativeUpperFilterEntries']:,} of {cert['upperFilterEntries']:,}; "
            f"{cert['negativeTemplateEntries']:,} of {cert['templateEntries']:,} "
            f"| {gap} | {'yes' if certified else 'no'} |")
    return lines


def other_data_rows():
    lines = []
    for directory in sorted(p for p in RESULTS.iterdir() if (p / "command.txt").exists()):
        result = json.loads((directory / "results.json").read_text())
        command = (directory / "command.txt").read_text().strip()
        lines.append(
            f"| `{directory.name}` | {result['model']} | {result['trainImages']:,} / {result['testImages']:,} "
            f"| {100 * result['testError']:.2f} % | {result['trainingSeconds']:.1f} | `{command}` |")
    return lines


def render():
    runs = load_runs()
    rows = json.loads((RESULTS / "paper-rows.json").read_text(encoding="utf-8"))["rows"]
    out = [
        "# Results",
        "",
        "<!-- Written by `python3 Scripts/results-summary.py` from `Benchmarks/results/`; edit the data, "
        "not this page. -->",
        "",
        "The paper's MNIST rows (spec §6) against ours: test error on the 10,000 test images after",
        "training on the 60,000 training images, N_L of them labelled. *The paper's objective* is our",
        "best run with the terms the paper uses for that row; *another recipe* is our best run that",
        "changes something, and what it changes (batch normalisation, the NN + KL terms, data",
        "augmentation, pseudo-labels: the DRMMLearning article `LearningADRMM`). Bold: reached, at",
        f"most the paper's figure plus {TOLERANCE} points.",
        "The run ids name records in `Benchmarks/results/runs.jsonl`; the commands are below.",
        "Every run, with its per-epoch errors, times and the analysis, is in `RunsInDetail.md`.",
        "",
        "| paper row | paper | ours, the paper's objective | ours, another recipe |",
        "|---|---|---|---|",
    ]
    reached_objective = reached_best = 0
    cited = []
    for row in rows:
        metric = row.get("metric")
        paper = row["paper"] if metric else f"{row['paper']} %"
        objective, ok_objective = cell(runs, row, "objective", metric)
        best, ok_best = cell(runs, row, "best", metric)
        reached_objective += bool(ok_objective)
        reached_best += bool(ok_objective or ok_best)
        cited += [row[k] for k in ("objective", "best") if k in row]
        out.append(f"| {row['table']}: {row['row']} | {paper} | {objective} | {best} |")
    out += [
        "",
        f"Reached: {reached_objective} of {len(rows)} rows with the paper's objective, "
        f"{reached_best} of {len(rows)} with another recipe.",
        "",
        "## Commands",
        "",
        "Seed 1 unless the command says otherwise; `OPENBLAS_NUM_THREADS=1`; 2 workers unless",
        "`--workers 1`. `PRETRAINED` is the run directory of the pre-training command.",
        "",
        "| run | command | epochs |",
        "|---|---|---|",
    ]
    for run_id in dict.fromkeys(cited):
        run = runs[run_id]
        command = ", then ".join(f"`{part}`" for part in run["command"].split(", then "))
        out.append(f"| {run_id} | {command} | {run.get('epochs', '')} |")
    certificates = certificate_rows()
    if certificates:
        out += [
            "",
            "## Trained networks certified as exact max-sum inference",
            "",
            "`drmm verify` on the runs kept whole under `Benchmarks/results/` (`MaxSumIsAConvNet`, §8):",
            "",
            "| run | test error | largest relative score difference | DRMM class = network's "
            "| E2 violations (upper filters; templates) | largest gap found by search | certified |",
            "|---|---|---|---|---|---|---|",
            *certificates,
        ]
    others = other_data_rows()
    if others:
        out += [
            "",
            "## Other data sets",
            "",
            "Runs kept whole under `Benchmarks/results/` with their `command.txt`: a custom architecture on a",
            "data set other than MNIST.",
            "",
            "| run | model | training / test images | test error | training s | command |",
            "|---|---|---|---|---|---|",
            *others,
        ]
    out += [
        "",
        "## Elsewhere",
        "",
        "- `RunsInDetail.md`: every run above and the runs beyond the paper (class balance,",
        "  augmentation, pseudo-labels, mean teacher, recalibration), pre-training studies, convergence",
        "  against PyTorch, the related generative models (spec §8) and the E-DRMM trees and forests",
        "  against scikit-learn.",
        "- `Benchmarks.md`: throughput and memory against libDAI, pgmpy and PyTorch.",
        "",
    ]
    return "\n".join(out)


def main():
    text = render()
    if "--check" in sys.argv[1:]:
        if OUTPUT.read_text(encoding="utf-8") != text:
            sys.exit("Documentation/Results.md is out of date: run python3 Scripts/results-summary.py")
        return
    OUTPUT.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
