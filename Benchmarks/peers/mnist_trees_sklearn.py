"""scikit-learn's DecisionTreeClassifier / RandomForestClassifier on the project's MNIST, with
the same depth, minimum split size, criterion (entropy), number of trees and features per
split as `drmm tree` / `drmm forest`. Prints test error and fit/predict times.

    python Benchmarks/peers/mnist_trees_sklearn.py [--max-depth 20] [--trees 0|100] [--jobs 2]
"""
import argparse, gzip, struct, time
import numpy as np
from mnist_idx import idx
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier


ap = argparse.ArgumentParser()
ap.add_argument("--data", default="Data/mnist")
ap.add_argument("--max-depth", type=int, default=20)
ap.add_argument("--min-node-size", type=int, default=2)
ap.add_argument("--trees", type=int, default=0)
ap.add_argument("--features-per-split", type=int, default=28)
ap.add_argument("--jobs", type=int, default=2)
ap.add_argument("--seed", type=int, default=1)
a = ap.parse_args()
Xtr = idx(f"{a.data}/train-images-idx3-ubyte.gz").reshape(60000, -1); ytr = idx(f"{a.data}/train-labels-idx1-ubyte.gz")
Xte = idx(f"{a.data}/t10k-images-idx3-ubyte.gz").reshape(10000, -1); yte = idx(f"{a.data}/t10k-labels-idx1-ubyte.gz")
if a.trees == 0:
    model = DecisionTreeClassifier(criterion="entropy", max_depth=a.max_depth, min_samples_split=a.min_node_size, random_state=a.seed)
    kind = "tree"
else:
    model = RandomForestClassifier(n_estimators=a.trees, criterion="entropy", max_depth=a.max_depth, min_samples_split=a.min_node_size,
                                   max_features=a.features_per_split, n_jobs=a.jobs, random_state=a.seed)
    kind = f"forest of {a.trees}"
t0 = time.perf_counter(); model.fit(Xtr, ytr); fit = time.perf_counter() - t0
t0 = time.perf_counter(); err = float((model.predict(Xte) != yte).mean()); pred = time.perf_counter() - t0
print(f"scikit-learn {kind}: test error {100 * err:.2f} % (10000 images), fit {fit:.2f} s, predict {pred:.2f} s")
