"""fastai DataLoaders over the MNIST tensors in memory.

Taught in: chapters/03_dense_to_cnn
"""

from __future__ import annotations

import torch

from ._validate import check_bool, check_int
from .mnist import load_mnist


def mnist_dls(bs: int = 64, sample: bool = False, seed: int = 42, device: str | torch.device = "cpu"):
    """fastai ``DataLoaders`` over the in-memory MNIST tensors.

    The training set is the 60,000 training images (shuffled with ``seed``,
    last partial batch dropped) and the validation set is the 10,000 test
    images, the split of fastbook chapter 13. Batches are normalized float
    tensors of shape (bs, 1, 28, 28) with int64 labels. ``sample=True``
    keeps only the 3s and 7s, relabelled 0 (a 3) and 1 (a 7). Batches are
    sliced from tensors already in memory, so no image is decoded one by one.

    Taught in: chapters/03_dense_to_cnn
    """
    from ._fastai import DataLoaders
    from ._tensor_dl import TensorDL

    check_int("bs", bs, minimum=1)
    check_int("seed", seed)
    check_bool("sample", sample)
    data = load_mnist()
    xs, ys = [data.x_train, data.x_test], [data.y_train, data.y_test]
    vocab = [str(i) for i in range(10)]
    if sample:
        vocab = ["3", "7"]
        for i in range(2):
            keep = (ys[i] == 3) | (ys[i] == 7)
            xs[i], ys[i] = xs[i][keep], (ys[i][keep] == 7).long()
    train = TensorDL(xs[0], ys[0], bs=bs, shuffle=True, drop_last=True, seed=seed, device=device)
    valid = TensorDL(xs[1], ys[1], bs=bs, shuffle=False, drop_last=False, seed=seed, device=device)
    dls = DataLoaders(train, valid, device=device)
    dls.vocab = vocab
    dls.c = len(vocab)
    return dls
