"""One call to make a run repeatable.

Taught in: chapters/01_convolutions_and_shapes
"""

from __future__ import annotations

import random

import numpy as np
import torch

from ._validate import check_int


def set_seed(seed: int = 42) -> int:
    """Seed Python's, NumPy's and PyTorch's random generators with ``seed``.

    Call it before building a model so that its initial weights, and any
    random choice made afterwards, repeat from run to run. Results on a CPU
    repeat exactly for the same thread count; across machines, sums may
    differ in the last bits, which is why the chapters report rounded
    numbers and run several seeds where the seed matters. Python's string
    hashing is fixed by ``PYTHONHASHSEED`` when an interpreter starts, which
    no call inside a running process can change; the course's test
    configuration sets it for the notebooks' kernels.

    Taught in: chapters/01_convolutions_and_shapes
    """
    check_int("seed", seed, minimum=0)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return seed
