#!/usr/bin/env python3
"""Test error of a `drmm train` checkpoint, computed independently of the library.

A NumPy forward pass (convolution as cross-correlation with "full" or "valid" padding,
batch normalisation with the checkpoint's running statistics, bias, ReLU, 2x2 max-pool, then
a global mean-pool or a dense class template) on the MNIST test set. With --recalibrate N
it also classifies with the normalisation statistics recomputed from N batches of 100
training images as they are (the mean of the batches' own channel means and variances), and
prints how far the running statistics are from those, level by level.

    python3 Scripts/check-checkpoint.py runs/train/checkpoint.json [--data Data/mnist] [--recalibrate 50]

Needs NumPy only. The library's own figure is `drmm evaluate --checkpoint ...`.
"""
import argparse
import base64
import gzip
import json

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def idx(path):
    raw = gzip.open(path).read() if path.endswith(".gz") else open(path, "rb").read()
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(raw[3])]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * len(dims)).reshape(dims)


def load(checkpoint):
    ck = json.load(open(checkpoint))
    arch = ck["architecture"]
    p = np.frombuffer(base64.b64decode(ck["parameters"]), dtype="<f4").astype(np.float64)
    normalised = arch.get("normalization", arch.get("normalisation", "none")) != "none"   # version 2, version 1
    at, levels, cin = 0, [], arch["inputShape"][0]

    def take(n):
        nonlocal at
        at += n
        return p[at - n:at]

    for spec in arch["layers"]:
        k, co = spec["kernel"], spec["channels"]
        level = {"W": take(co * cin * k * k).reshape(co, cin, k, k), "b": take(co), "k": k,
                 "padding": spec["padding"], "pool": spec["pool"]}
        if normalised:
            level["gamma"] = take(co)
            stats = take(2 * co)
            level["mean"], level["var"] = stats[:co], stats[co:]
        levels.append(level)
        cin = co
    classes = arch["classes"]
    d = (len(p) - at - classes) // classes
    templates, bias = take(classes * d).reshape(classes, d), take(classes)
    assert at == len(p), f"layout covers {at} of {len(p)} parameters"
    return arch, levels, templates, bias, normalised


def forward(x, levels, templates, bias, top, normalised, statistics="running", record=None):
    for l, lv in enumerate(levels):
        k = lv["k"]
        if lv["padding"] == "full":
            x = np.pad(x, ((0, 0), (0, 0), (k - 1, k - 1), (k - 1, k - 1)))
        s = np.einsum("nchwij,ocij->nohw", sliding_window_view(x, (k, k), axis=(2, 3)), lv["W"], optimize=True)
        if normalised:
            if statistics == "batch":
                m, v = s.mean(axis=(0, 2, 3)), s.var(axis=(0, 2, 3))
                record[l].append((m, v))
            elif statistics == "running":
                m, v = lv["mean"], lv["var"]
            else:
                m, v = statistics[l]
            s = lv["gamma"][None, :, None, None] * (s - m[None, :, None, None]) / np.sqrt(v[None, :, None, None] + 1e-5)
        s = np.maximum(s + lv["b"][None, :, None, None], 0)
        if lv["pool"] > 1:
            n, c, h, w = s.shape
            q = lv["pool"]
            s = s[:, :, :h // q * q, :w // q * q].reshape(n, c, h // q, q, w // q, q).max(axis=(3, 5))
        x = s
    f = x.mean(axis=(2, 3)) if top == "meanPool" else x.reshape(len(x), -1)
    return f @ templates.T + bias


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--data", default="Data/mnist")
    ap.add_argument("--recalibrate", type=int, default=0, help="batches of 100 training images (0: none)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    arch, levels, templates, bias, normalised = load(a.checkpoint)
    images = idx(f"{a.data}/t10k-images-idx3-ubyte.gz").astype(np.float64)[:, None] / 255
    labels = idx(f"{a.data}/t10k-labels-idx1-ubyte.gz")

    def error(statistics):
        wrong = 0
        for i in range(0, len(images), 500):
            scores = forward(images[i:i + 500], levels, templates, bias, arch["top"], normalised, statistics)
            wrong += int((scores.argmax(1) != labels[i:i + 500]).sum())
        return 100 * wrong / len(images)

    print(f"{arch['name']}: test error {error('running'):.2f} %" + (" with the checkpoint's running statistics" if normalised else ""))
    if a.recalibrate > 0 and normalised:
        train = idx(f"{a.data}/train-images-idx3-ubyte.gz").astype(np.float64)[:, None] / 255
        rng = np.random.default_rng(a.seed)
        record = [[] for _ in levels]
        for _ in range(a.recalibrate):
            forward(train[rng.choice(len(train), 100, replace=False)], levels, templates, bias, arch["top"], normalised, "batch", record)
        fresh = [(np.mean([m for m, _ in r], 0), np.mean([v for _, v in r], 0)) for r in record]
        print(f"{arch['name']}: test error {error(fresh):.2f} % with statistics from {a.recalibrate} batches of training images")
        for l, (lv, (m, v)) in enumerate(zip(levels, fresh)):
            ratio = lv["var"] / v
            print(f"  level {l + 1}: running means off by {np.abs(lv['mean'] - m).mean() / np.abs(m).mean():.1%} (mean relative), "
                  f"variances {ratio.min():.2f}-{ratio.max():.2f} times (median {np.median(ratio):.2f})")


if __name__ == "__main__":
    main()
