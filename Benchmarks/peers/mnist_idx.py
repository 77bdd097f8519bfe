"""MNIST's IDX files (gzip) as NumPy arrays, for the peer scripts."""
import gzip, struct
import numpy as np


def idx(path):
    """The array in a gzipped IDX file: unsigned bytes of the shape its header gives."""
    with gzip.open(path) as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)
