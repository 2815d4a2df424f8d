"""The small CNNs of fastbook chapter 13, built from one block.

Taught in: chapters/03_dense_to_cnn
"""

from __future__ import annotations

from torch import nn

from ._validate import check_int


def conv(ni: int, nf: int, ks: int = 3, act: bool = True, bn: bool = False) -> nn.Sequential:
    """One stride-2 convolution block: Conv2d(stride 2, padding ks//2), then ReLU, then BatchNorm2d.

    ``act=False`` leaves out the ReLU (used for the last layer, whose
    outputs are the class scores) and ``bn=True`` adds a BatchNorm2d after
    the activation, as in fastbook chapter 13. The convolution has no bias
    when BatchNorm follows it directly, since BatchNorm's own shift would
    cancel it.

    Taught in: chapters/03_dense_to_cnn
    """
    check_int("ni", ni, minimum=1)
    check_int("nf", nf, minimum=1)
    check_int("ks", ks, minimum=1)
    if ks % 2 == 0:
        raise ValueError(f"ks must be odd so that padding ks//2 is symmetric, got {ks}")
    layers: list[nn.Module] = [nn.Conv2d(ni, nf, ks, stride=2, padding=ks // 2, bias=not (bn and not act))]
    if act:
        layers.append(nn.ReLU())
    if bn:
        layers.append(nn.BatchNorm2d(nf))
    return nn.Sequential(*layers)


def simple_cnn(bn: bool = False) -> nn.Sequential:
    """fastbook chapter 13's MNIST CNN: 1→8 (5×5)→16→32→64→10, all stride 2, then Flatten.

    A 28×28 digit shrinks to 14, 7, 4, 2 and finally 1×1 with 10 channels,
    which Flatten turns into 10 class scores. ``bn=True`` adds BatchNorm to
    every block, the model that trains at a high learning rate in chapter 5.

    Taught in: chapters/03_dense_to_cnn
    """
    if not isinstance(bn, bool):
        raise ValueError(f"bn must be True or False, got {bn!r}")
    return nn.Sequential(
        conv(1, 8, ks=5, bn=bn),
        conv(8, 16, bn=bn),
        conv(16, 32, bn=bn),
        conv(32, 64, bn=bn),
        conv(64, 10, act=False, bn=bn),
        nn.Flatten(),
    )
