"""The order in which `drmm train` presents the training images, reproduced in Python.

`drmm train` shuffles every epoch's images with Fisher-Yates over GSL's Mersenne Twister
(`gsl_rng_mt19937`, `gsl_rng_uniform_int`), seeded by `seed ^ ((epoch + 1) * 0x9E3779B97F4A7C15)`
(64-bit, epoch counted from 0; `EGTrainer.batches(ofEpoch:mode:)`). A supervised run on all
images takes its batches as consecutive slices of that permutation. A peer given the same
permutations sees the same batches in the same order.

Python's own `random.Random` is a Mersenne Twister; it is put into the state that
`gsl_rng_set` gives GSL's (Knuth's initialisation of the 624 words), after which its 32-bit
outputs are GSL's.

    python3 drmm_order.py 60000 --seed 1 --epoch 0    # prints the first indices
"""
import argparse
import random

MASK32 = 0xFFFFFFFF
MASK64 = 0xFFFFFFFFFFFFFFFF


def gsl_mt19937(seed):
    """A generator whose 32-bit outputs are those of `gsl_rng_mt19937` after `gsl_rng_set(seed)`."""
    s = seed & MASK64
    if s == 0:
        s = 4357  # GSL's default seed replaces 0
    words = [s & MASK32]
    for i in range(1, 624):
        words.append((1812433253 * (words[-1] ^ (words[-1] >> 30)) + i) & MASK32)
    r = random.Random()
    r.setstate((3, tuple(words + [624]), None))
    return r


def uniform_int(r, n):
    """`gsl_rng_uniform_int(r, n)` for the Mersenne Twister (range 0 ... 2^32 - 1)."""
    scale = MASK32 // n
    while True:
        k = r.getrandbits(32) // scale
        if k < n:
            return k


def epoch_seed(seed, epoch):
    return (seed ^ ((epoch + 1) * 0x9E3779B97F4A7C15)) & MASK64


def permutation(n, seed, epoch):
    """The order of images `0 ..< n` in epoch `epoch` (from 0) of a supervised run with `seed`."""
    r = gsl_mt19937(epoch_seed(seed, epoch))
    a = list(range(n))
    for i in range(n - 1, 0, -1):
        k = uniform_int(r, i + 1)
        a[i], a[k] = a[k], a[i]
    return a


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--epoch", type=int, default=0)
    ap.add_argument("--count", type=int, default=12)
    a = ap.parse_args()
    print(permutation(a.n, a.seed, a.epoch)[:a.count])
