"""Real MNIST, shipped inside course_lib: loading it, checked, and normalizing it.

The file ``course_lib/data/mnist.npz`` holds the official 60,000 training and
10,000 test images of LeCun, Cortes and Burges's MNIST as uint8 arrays. Its
provenance and checksum are documented in ``course_lib/data/README.md``;
nothing here ever downloads anything.

Taught in: chapters/01_convolutions_and_shapes
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

DATA_FILE = Path(__file__).parent / "data" / "mnist.npz"
MNIST_SHA256 = "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64"
#: Mean and standard deviation of the 60,000 training images' pixels, scaled to [0, 1].
MNIST_MEAN = 0.1306604762738429
MNIST_STD = 0.3081078038564622

_FIX = (
    "Reinstall course_lib (pip install --force-reinstall ...) or restore the file with "
    "`git checkout -- course_lib/data/mnist.npz`; to rebuild it from its source, see "
    "course_lib/data/README.md."
)


class MNISTFileError(RuntimeError):
    """The shipped MNIST file is missing, truncated or altered.

    Taught in: chapters/01_convolutions_and_shapes
    """


@dataclass(frozen=True)
class MNIST:
    """The four MNIST tensors returned by :func:`load_mnist`.

    Taught in: chapters/01_convolutions_and_shapes
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{k}={tuple(v.shape)} {str(v.dtype).replace('torch.', '')}"
            for k, v in vars(self).items()
        )
        return f"MNIST({parts})"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@lru_cache(maxsize=2)
def _load_arrays(path: Path, expected_sha256: str) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise MNISTFileError(f"MNIST data file not found: {path}. {_FIX}")
    digest = _sha256(path)
    if digest != expected_sha256:
        raise MNISTFileError(
            f"MNIST data file {path} is truncated or altered: its SHA-256 is {digest}, "
            f"expected {expected_sha256}. {_FIX}"
        )
    try:
        with np.load(path) as npz:
            return {k: npz[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as e:  # pragma: no cover
        raise MNISTFileError(f"MNIST data file {path} cannot be read ({e}). {_FIX}") from e


def load_mnist(path: str | Path | None = None, *, expected_sha256: str = MNIST_SHA256) -> MNIST:
    """Load the shipped MNIST as uint8 image tensors and int64 label tensors.

    Returns an :class:`MNIST` with ``x_train`` (60000, 28, 28) uint8,
    ``y_train`` (60000,) int64, ``x_test`` (10000, 28, 28) uint8 and
    ``y_test`` (10000,) int64. The file's SHA-256 is verified first; a
    missing, truncated or altered file raises :class:`MNISTFileError`
    naming the file and what to do. Nothing is downloaded.

    Taught in: chapters/01_convolutions_and_shapes
    """
    p = Path(path) if path is not None else DATA_FILE
    arrays = _load_arrays(p.resolve(), expected_sha256)
    return MNIST(
        x_train=torch.from_numpy(arrays["x_train"].copy()),
        y_train=torch.from_numpy(arrays["y_train"].astype(np.int64)),
        x_test=torch.from_numpy(arrays["x_test"].copy()),
        y_test=torch.from_numpy(arrays["y_test"].astype(np.int64)),
    )


def normalize(x: torch.Tensor) -> torch.Tensor:
    """Turn uint8 images (N, 28, 28) into normalized float images (N, 1, 28, 28).

    Pixels are scaled to [0, 1], then shifted and scaled by the training
    set's mean and standard deviation so that inputs have mean about 0 and
    standard deviation about 1.

    Taught in: chapters/02_conv_as_matmul
    """
    # one new float tensor, then in-place arithmetic: no full-size temporaries
    return x.to(torch.float32, copy=True).div_(255.0).sub_(MNIST_MEAN).div_(MNIST_STD).unsqueeze(1)
