"""Output shapes of convolutions: the arithmetic of chapter 1.

The formula follows PyTorch's ``nn.Conv2d`` documentation and Dumoulin &
Visin's "A guide to convolution arithmetic for deep learning".

Taught in: chapters/01_convolutions_and_shapes
"""

from __future__ import annotations

from ._validate import check_int


def conv_output_size(n: int, ks: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Size of a convolution's output along one spatial axis.

    A kernel of size ``ks`` with ``dilation`` d covers ``d*(ks-1)+1`` input
    pixels. Sliding it over an input of size ``n`` padded by ``padding`` on
    each side, in steps of ``stride``, gives
    ``(n + 2*padding - dilation*(ks-1) - 1) // stride + 1`` positions, the
    formula in PyTorch's ``nn.Conv2d`` docs. Raises ``ValueError`` for
    negative or non-integer sizes, a stride or dilation below 1, or a
    kernel larger than the padded input.

    Taught in: chapters/01_convolutions_and_shapes
    """
    check_int("n", n, minimum=1)
    check_int("ks", ks, minimum=1)
    check_int("stride", stride, minimum=1)
    check_int("padding", padding, minimum=0)
    check_int("dilation", dilation, minimum=1)
    span = dilation * (ks - 1) + 1
    padded = n + 2 * padding
    if span > padded:
        raise ValueError(
            f"the kernel is larger than the padded input: ks={ks} with dilation={dilation} "
            f"spans {span} pixels, but n + 2*padding = {n} + 2*{padding} = {padded}"
        )
    return (padded - span) // stride + 1


def same_padding(ks: int, dilation: int = 1) -> int:
    """Padding that keeps the spatial size of a stride-1 convolution.

    The answer is ``dilation*(ks-1)//2`` on each side, which is ``ks//2``
    for an odd kernel without dilation. When ``dilation*(ks-1)`` is odd (an
    even kernel with an odd dilation) one side would need one pixel more
    than the other, which ``nn.Conv2d``'s symmetric ``padding`` cannot
    express, so it raises a ``ValueError`` saying so.

    Taught in: chapters/01_convolutions_and_shapes
    """
    check_int("ks", ks, minimum=1)
    check_int("dilation", dilation, minimum=1)
    total = dilation * (ks - 1)
    if total % 2:
        raise ValueError(
            f"ks={ks} with dilation={dilation} needs {total} pixels of padding in all, an odd number "
            f"that cannot be split evenly between the two sides (dilation*(ks-1) is odd); use an odd ks, "
            f"or pad asymmetrically with F.pad"
        )
    return total // 2
