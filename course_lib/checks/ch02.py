"""Checks for chapter 2, "Convolution as matrix multiplication"."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from ..matmul import conv_matrix, im2col_bytes
from .core import Feedback, as_int, expect_callable, expect_int, forbidden, register, reject_known_mistakes

_KERNEL = torch.tensor([[1.0, 2.0], [3.0, 4.0]])


@register("ex-ch2-matrix-by-hand")
def _matrix_by_hand(answer: Any) -> str:
    m = torch.as_tensor(answer, dtype=torch.float32)
    expected = conv_matrix(_dilated(_KERNEL), 4)  # dilation 2 = a 3×3 kernel with zeros between the weights
    if m.shape != expected.shape:
        hints = {(16, 4): " Did you swap rows and columns? A row is one output pixel.",
                 (9, 16): " That is the shape without dilation: spread 2 apart, the four weights span 3×3 "
                          "pixels, so the kernel fits at only 2×2 positions."}
        hint = hints.get(tuple(m.shape), " One row per output pixel, one column per input pixel (4×4 = 16).")
        raise Feedback(f"Your matrix has shape {tuple(m.shape)}; expected (4, 16).{hint}")
    if torch.equal(m, expected):
        return ("each row holds the four weights two columns apart within an image row, and two image rows "
                "(8 columns) apart between the kernel's rows; neighbouring rows still shift by one column.")
    if torch.equal(m, conv_matrix(_KERNEL, 4, stride=2)):
        raise Feedback("That is the matrix of stride 2, which moves the whole patch 2 pixels between output "
                       "positions. Dilation 2 keeps stride 1 and spreads the weights inside the patch 2 "
                       "pixels apart.")
    if torch.equal(m, conv_matrix(_dilated(_KERNEL.flip(0, 1)), 4)):
        raise Feedback("You flipped the kernel. F.conv2d does not flip: weight w[0, 0] = 1 meets the "
                       "top-left pixel of each patch.")
    wrong_rows = [i for i in range(4) if not torch.equal(m[i], expected[i])]
    if int((m != 0).sum()) != 16:
        raise Feedback(f"Your matrix has {int((m != 0).sum())} non-zero entries; each of the 4 rows should "
                       f"have exactly 4 (the weights), so 16. Rows that differ: {wrong_rows}.")
    raise Feedback(f"Rows {wrong_rows} differ. Row r is output pixel (r // 2, r % 2); which input pixels do "
                   "the four weights meet there, once they are spread 2 pixels apart?")


def _dilated(kernel: torch.Tensor) -> torch.Tensor:
    """A 2×2 kernel with dilation 2, written as the 3×3 kernel it amounts to."""
    spread = kernel.new_zeros(3, 3)
    spread[::2, ::2] = kernel
    return spread


@register("ex-ch2-count-zeros")
def _count_zeros(answer: Any) -> str:
    m = conv_matrix(torch.ones(3, 3), 7, stride=2, padding=1)
    expected = int((m == 0).sum())
    value = as_int(answer)
    unpadded = int((conv_matrix(torch.ones(3, 3), 7, stride=2) == 0).sum())
    stride_1 = int((conv_matrix(torch.ones(3, 3), 7, padding=1) == 0).sum())
    reject_known_mistakes(value, {
        int((m != 0).sum()): f"{value} is the number of non-zero entries; the question asks for the zeros.",
        16 * 49 - 16 * 9: "That counts 9 weights in every row. With padding, the kernel of a border output "
                          "pixel partly covers padding, and padding pixels have no column in M.",
        unpadded: "That is the count without padding. Padding 1 changes the number of output pixels, "
                  "and some weights of the border outputs meet padding.",
        stride_1: "That is the count with stride 1. With stride 2 there are fewer output pixels.",
    })
    expect_int(answer, expected, "Your count of structural zeros",
               "Start from the shape of M, then ask which weights of a border output pixel land on padding.")
    return (f"M is 16 × 49 = 784 entries. Per direction the four outputs see 2, 3, 3 and 2 real pixels, "
            f"so 10 × 10 = 100 entries hold a weight and {expected:,} are structural zeros.")


@register("ex-ch2-tied-weights")
def _tied_weights(answer: Any) -> str:
    w = torch.zeros(3, 3)
    w[0, 0] = 1.0
    expected = int(conv_matrix(w, 6, padding=1).sum())
    value = as_int(answer)
    reject_known_mistakes(value, {
        36: "36 would be right if the corner weight met a real pixel at every one of the 36 "
            "output positions. Along the top row and left column of outputs it lands on padding, "
            "and padding has no column in M.",
        16: "16 is the count without padding (a 4×4 output). With padding 1 there are 6×6 "
            "outputs; at how many does the top-left weight meet a real pixel?",
    })
    expect_int(answer, expected, "Your count", "Count the output positions whose top-left kernel weight "
               "lands inside the 6×6 image.")
    return "the corner weight meets a real pixel at 5×5 = 25 of the 36 output positions."


@register("ex-ch2-im2col-memory")
def _im2col_memory(answer: Any) -> str:
    shape = (32, 128, 27, 27)
    expected = im2col_bytes(shape, 3, 2, 1)
    input_bytes = 32 * 128 * 27 * 27 * 4
    value = as_int(answer)
    if value is not None and value * 4 == expected:
        raise Feedback("That is the number of floats; the question asks for bytes (float32: 4 bytes each).")
    if value is not None and value == input_bytes:
        raise Feedback("That is the size of the input itself. How many rows and columns does the patch "
                       "matrix have?")
    if value is not None and value == im2col_bytes(shape, 3, 1, 1):
        raise Feedback("That is the stride-1 patch matrix. With stride 2, how many output pixels are there?")
    if value is not None and value == input_bytes * 9 // 4:
        raise Feedback("That is the k²/4 rule of thumb. It is exact only when stride 2 halves the size "
                       "exactly; 27 is odd, so count the output positions.")
    expect_int(answer, expected, "Your number of bytes",
               "Bytes = rows × columns × 4: one row per output pixel of every image, one column per value "
               "under the kernel.")
    return (f"the output is 14×14 (not 13.5×13.5), so {expected:,} bytes (about {expected / 2**20:.1f} MiB), "
            f"{expected / input_bytes:.2f} times the input rather than 9/4 = 2.25.")


# The visible check's inputs: (x shape, kernel_size, stride, padding), each a (height, width) pair.
_PATCH_CASES = [((1, 1, 4, 4), (3, 3), (1, 1), (1, 1)), ((2, 3, 5, 6), (3, 2), (2, 1), (2, 0)),
                ((3, 2, 7, 4), (2, 2), (1, 2), (0, 1)), ((1, 4, 3, 5), (5, 3), (2, 3), (2, 1))]

# What the two function-writing exercises forbid, patched to refuse while the student's function runs.
_NO_UNFOLD_OR_PAD = ("torch.nn.functional.unfold", "torch.nn.functional.pad", "torch._C._nn.im2col",
                     "torch._C._nn.pad", "torch.constant_pad_nd")
_NO_AUTOGRAD = ("torch.nn.grad.conv2d_input", "torch.autograd.grad", "torch.autograd.backward")


def _unfolded(x: torch.Tensor, ks, stride, pad) -> torch.Tensor:
    return F.unfold(x, ks, padding=pad, stride=stride).transpose(1, 2).reshape(-1, x.shape[1] * ks[0] * ks[1])


def _fits(x: torch.Tensor, ks, pad) -> bool:
    return ks[0] <= x.shape[2] + 2 * pad[0] and ks[1] <= x.shape[3] + 2 * pad[1]


@register("ex-ch2-pad-patches")
def _pad_patches(answer: Any) -> str:
    expect_callable(answer)
    gen = torch.Generator().manual_seed(2)
    for shape, ks, stride, pad in _PATCH_CASES:
        x = torch.randn(shape, generator=gen)
        expected = _unfolded(x, ks, stride, pad)
        with forbidden(_NO_UNFOLD_OR_PAD, "do the padding and the patch gathering yourself."):
            got = answer(x.clone(), ks, stride, pad)
        if not isinstance(got, torch.Tensor):
            raise Feedback(f"Return a tensor, got {type(got).__name__}.")
        where = f"For x of shape {shape}, kernel_size={ks}, stride={stride}, padding={pad}"
        if got.shape != expected.shape:
            if _fits(x, ks, (0, 0)) and got.shape == _unfolded(x, ks, stride, (0, 0)).shape:
                hint = " That is the patch matrix without padding: add the padding zeros around the image first."
            elif got.shape == _unfolded(x, ks, (1, 1), pad).shape:
                hint = " That is the stride-1 patch matrix: step `stride` pixels between output positions."
            elif _fits(x, ks[::-1], pad[::-1]) and got.shape == _unfolded(x, ks[::-1], stride[::-1], pad[::-1]).shape:
                hint = " Height and width are swapped: the first number of each pair goes with H, the second with W."
            else:
                hint = " Expected N·oH·oW rows and C·kH·kW columns."
            raise Feedback(f"{where}: your matrix has shape {tuple(got.shape)}; expected "
                           f"{tuple(expected.shape)}.{hint}")
        if not torch.allclose(got.float(), expected, atol=1e-5):
            if torch.allclose(got.float().sort(dim=1).values, expected.sort(dim=1).values, atol=1e-5):
                raise Feedback(f"{where} your rows hold the right numbers in a different order: order the "
                               "columns (channel, kernel row, kernel column).")
            raise Feedback(f"{where} your values differ from the expected patches. Rows go over (image, "
                           "output row, output column) in that order; padding pixels are zeros.")
    return "your patch matrix equals F.unfold's (transposed) on four inputs with unequal sizes, strides and paddings."


@register("ex-ch2-input-grad")
def _input_grad(answer: Any) -> str:
    expect_callable(answer)
    gen = torch.Generator().manual_seed(3)
    for size, ks, stride, pad in [(6, 3, 1, 1), (9, 3, 2, 1), (8, 3, 2, 1), (7, 2, 2, 0), (10, 5, 3, 2)]:
        x = torch.randn(2, 3, size, size, generator=gen, dtype=torch.float64, requires_grad=True)
        w = torch.randn(4, 3, ks, ks, generator=gen, dtype=torch.float64)
        out = F.conv2d(x, w, None, stride, pad)
        g = torch.randn(out.shape, generator=gen, dtype=torch.float64)
        (expected,) = torch.autograd.grad(out, x, g)
        with forbidden(_NO_AUTOGRAD, "compute the gradient with F.conv_transpose2d, not with autograd."):
            got = answer(g.clone(), w.clone(), stride, pad, (size, size))
        if not isinstance(got, torch.Tensor):
            raise Feedback(f"Return a tensor, got {type(got).__name__}.")
        got = got.detach().to(torch.float64)
        where = f"input {size}×{size}, ks={ks}, stride={stride}, padding={pad}"
        if got.shape != expected.shape:
            raise Feedback(f"For {where} your gradient has shape {tuple(got.shape)}; expected "
                           f"{tuple(expected.shape)}. With stride > 1 several input sizes give the same "
                           "output size: use output_padding to get the exact size back.")
        if not torch.allclose(got, expected, atol=1e-8):
            raise Feedback(f"For {where} your values differ from autograd's. The weight of "
                           "F.conv_transpose2d has the same (out, in, kH, kW) layout as the forward weight: "
                           "pass it unchanged, with the same stride and padding.")
    return "your gradient equals autograd's for five layers, including stride 2 with odd and even sizes."
