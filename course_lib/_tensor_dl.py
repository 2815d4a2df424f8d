"""A fastai DataLoader that slices batches out of in-memory tensors."""

from __future__ import annotations

import random

import torch

from ._fastai import DataLoader
from .mnist import normalize


class TensorDL(DataLoader):
    """Yields normalized (x, y) batches by indexing whole tensors at once.

    fastai's generic loader builds each batch from single items and collates
    them; for a dataset that already sits in memory that overhead dominates
    a small CNN's training time on a CPU. This loader keeps fastai's
    callbacks, shuffling and device handling and replaces only the batching.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, bs: int, shuffle: bool,
                 drop_last: bool, seed: int, device=None):
        super().__init__(dataset=range(len(x)), bs=bs, shuffle=shuffle, drop_last=drop_last,
                         num_workers=0, device=device)
        self.x, self.y, self.seed = x, y, seed
        self.rng = random.Random(seed)

    def create_batches(self, samps):
        idxs = torch.as_tensor(list(samps), dtype=torch.long)
        n = len(idxs) // self.bs * self.bs if self.drop_last else len(idxs)
        for i in range(0, n, self.bs):
            j = idxs[i:i + self.bs]
            yield normalize(self.x[j]), self.y[j]

    def new(self, dataset=None, cls=None, **kwargs):
        """A copy with some settings changed, as fastai's ``get_preds`` asks for."""
        if dataset is not None or cls is not None:
            raise ValueError("TensorDL.new cannot change the dataset or the class")
        return TensorDL(self.x, self.y, bs=kwargs.get("bs", self.bs),
                        shuffle=kwargs.get("shuffle", self.shuffle),
                        drop_last=kwargs.get("drop_last", self.drop_last),
                        seed=self.rng.randint(0, 2**31 - 1), device=kwargs.get("device", self.device))

    def one_batch(self):
        xb, yb = next(iter(self))
        return xb, yb
