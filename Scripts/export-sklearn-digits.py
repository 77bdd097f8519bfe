#!/usr/bin/env python3
"""Exports scikit-learn's bundled handwritten digits (1,797 images of 8×8, gray levels 0–16,
shipped inside the package: no download) as a NumPy archive `drmm train --data` reads:
images float32 [N, 1, 8, 8] scaled to [0, 1], labels int64 [N].

    /path/to/venv/bin/python Scripts/export-sklearn-digits.py /tmp/digits.npz
"""
import sys
import numpy as np
from sklearn.datasets import load_digits

digits = load_digits()
images = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
np.savez(sys.argv[1] if len(sys.argv) > 1 else "digits.npz", images=images, labels=digits.target.astype(np.int64))
