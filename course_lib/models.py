"""The small CNNs of fastbook chapter 13, built from one block.

Taught in: chapters/03_dense_to_cnn
"""

from __future__ import annotations

from torch import nn

from ._validate import check_bool, check_int


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


def simple_cnn(bn: bool = False, *, first_ks: int = 5, n_out: int = 10) -> nn.Sequential:
    """fastbook chapter 13's MNIST CNN: 1→8 (5×5)→16→32→64→10, all stride 2, then Flatten.

    A 28×28 digit shrinks to 14, 7, 4, 2 and finally 1×1 with ``n_out``
    channels, which Flatten turns into class scores. ``bn=True`` adds
    BatchNorm to every block, the model that trains at a high learning rate
    in chapter 5. ``first_ks`` is the first layer's (odd) kernel size, 5 in
    fastbook; chapter 3 compares it with 3.

    Taught in: chapters/02_conv_as_matmul
    """
    check_bool("bn", bn)
    check_int("n_out", n_out, minimum=1)
    return nn.Sequential(
        conv(1, 8, ks=first_ks, bn=bn),
        conv(8, 16, bn=bn),
        conv(16, 32, bn=bn),
        conv(32, 64, bn=bn),
        conv(64, n_out, act=False, bn=bn),
        nn.Flatten(),
    )


def simple_net(n_in: int = 28 * 28, n_hidden: int = 30, n_out: int = 10) -> nn.Sequential:
    """fastbook's first neural net: Flatten, Linear(784→30), ReLU, Linear(30→10).

    Every hidden unit sees every pixel through its own weight, so the
    network has no notion of "nearby pixels": the dense baseline that
    chapter 3 compares with :func:`simple_cnn`.

    Taught in: chapters/03_dense_to_cnn
    """
    check_int("n_in", n_in, minimum=1)
    check_int("n_hidden", n_hidden, minimum=1)
    check_int("n_out", n_out, minimum=1)
    return nn.Sequential(nn.Flatten(), nn.Linear(n_in, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_out))
