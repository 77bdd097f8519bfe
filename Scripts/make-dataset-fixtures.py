#!/usr/bin/env python3
"""Writes the small data-set fixtures the Datasets tests read (Tests/DatasetsTests/Fixtures/),
with NumPy and Python's zlib only, so that each loader is tested on files written by another
implementation:

- colour-folder/<class>/<n>.png: 3 classes × 2 RGB images of 4×5 pixels (8-bit, and one
  16-bit and one palette image, which libpng converts);
- gray-folder/<class>/<n>.png: 2 classes × 2 gray 4×5 images;
- tiny-cifar.bin: 3 CIFAR-10 records;
- tiny.npz: images uint8 [4, 3, 5], labels int64 [4]; keras.npz: x_train, y_train, x_test, y_test;
- npy-folder/images.npy (float32 [3, 2, 4, 5]) and labels.npy (int64 [3]);
- expected.json: every fixture's pixel values (0–255) and labels, as the tests expect them.
"""
import io, json, os, struct, zlib
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "DatasetsTests", "Fixtures")

def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

def png(pixels, color_type, bit_depth=8, palette=None):
    """pixels: [H][W][samples] integers."""
    h, w = len(pixels), len(pixels[0])
    raw = b""
    for row in pixels:
        raw += b"\x00"
        for px in row:
            for s in px:
                raw += struct.pack(">H", s) if bit_depth == 16 else bytes([s])
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 0))
    if palette is not None:
        out += chunk(b"PLTE", bytes(sum(palette, [])))
    return out + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")

def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)

rng = np.random.default_rng(7)
expected = {}

# Colour folder: class names sorted as the loader sorts them.
colour = []
for label, name in enumerate(["cat", "dog", "eel"]):
    for n in range(2):
        img = rng.integers(0, 256, size=(4, 5, 3))
        if name == "dog" and n == 1:
            # 16-bit RGB: libpng reduces 16 to 8 bits by v // 257 rounded; keep values exact multiples.
            data = png([[[int(v) * 257 for v in px] for px in row] for row in img], 2, bit_depth=16)
        elif name == "eel" and n == 1:
            pal = [[int(v) for v in rng.integers(0, 256, size=3)] for _ in range(4)]
            idx = rng.integers(0, 4, size=(4, 5))
            img = np.array([[pal[i] for i in row] for row in idx])
            data = png([[[int(i)] for i in row] for row in idx], 3, palette=pal)
        else:
            data = png([[[int(v) for v in px] for px in row] for row in img], 2)
        write(f"{OUT}/colour-folder/{name}/{n}.png", data)
        colour.append({"label": label, "planes": img.transpose(2, 0, 1).reshape(-1).tolist()})
expected["colour-folder"] = {"shape": [3, 4, 5], "classNames": ["cat", "dog", "eel"], "images": colour}

gray = []
for label, name in enumerate(["a", "b"]):
    for n in range(2):
        img = rng.integers(0, 256, size=(4, 5))
        write(f"{OUT}/gray-folder/{name}/{n}.png", png([[[int(v)] for v in row] for row in img], 0))
        gray.append({"label": label, "planes": img.reshape(-1).tolist()})
expected["gray-folder"] = {"shape": [1, 4, 5], "classNames": ["a", "b"], "images": gray}

records, cifar = b"", []
for label in [3, 0, 9]:
    img = rng.integers(0, 256, size=(3, 32, 32))
    records += bytes([label]) + bytes(img.astype(np.uint8).reshape(-1).tolist())
    cifar.append({"label": label, "planes": img.reshape(-1).tolist()})
write(f"{OUT}/tiny-cifar.bin", records)
expected["tiny-cifar.bin"] = {"shape": [3, 32, 32], "images": cifar}

images = rng.integers(0, 256, size=(4, 3, 5)).astype(np.uint8)
labels = np.array([1, 0, 2, 1], dtype=np.int64)
buf = io.BytesIO(); np.savez_compressed(buf, images=images, labels=labels); write(f"{OUT}/tiny.npz", buf.getvalue())
expected["tiny.npz"] = {"shape": [1, 3, 5], "images": [{"label": int(l), "planes": i.reshape(-1).tolist()} for i, l in zip(images, labels)]}

xtr = rng.integers(0, 256, size=(3, 1, 2, 2)).astype(np.uint8); ytr = np.array([0, 1, 1], dtype=np.int32)
xte = rng.integers(0, 256, size=(2, 1, 2, 2)).astype(np.uint8); yte = np.array([1, 0], dtype=np.int32)
buf = io.BytesIO(); np.savez(buf, x_train=xtr, y_train=ytr, x_test=xte, y_test=yte); write(f"{OUT}/keras.npz", buf.getvalue())
expected["keras.npz"] = {"train": [int(v) for v in ytr], "test": [int(v) for v in yte]}

fimages = (rng.integers(0, 256, size=(3, 2, 4, 5)) / 255).astype(np.float32)
flabels = np.array([2, 0, 1], dtype=np.int64)
os.makedirs(f"{OUT}/npy-folder", exist_ok=True)
np.save(f"{OUT}/npy-folder/images.npy", fimages); np.save(f"{OUT}/npy-folder/labels.npy", flabels)
expected["npy-folder"] = {"shape": [2, 4, 5], "labels": flabels.tolist(), "sum": float(fimages.astype(np.float64).sum())}

with open(f"{OUT}/expected.json", "w") as f:
    json.dump(expected, f)
