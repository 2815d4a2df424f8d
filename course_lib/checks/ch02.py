"""Checks for chapter 2, "Convolution as matrix multiplication"."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from ..matmul import conv_matrix, im2col_bytes
from .core import Feedback, as_int, expect_callable, expect_int, register

_KERNEL = torch.tensor([[1.0, 2.0], [3.0, 4.0]])


@register("ex-ch2-matrix-by-hand")
def _matrix_by_hand(answer: Any) -> str:
    m = torch.as_tensor(answer, dtype=torch.float32)
    expected = conv_matrix(_KERNEL, 4, stride=2)
    if m.shape != expected.shape:
        hints = {(16, 4): " Did you swap rows and columns? A row is one output pixel.",
                 (9, 16): " That is the stride-1 shape: with stride 2 the kernel fits at only 2×2 positions."}
        hint = hints.get(tuple(m.shape), " One row per output pixel (2×2 = 4), one column per input pixel (4×4 = 16).")
        raise Feedback(f"Your matrix has shape {tuple(m.shape)}; expected (4, 16).{hint}")
    if torch.equal(m, expected):
        return ("each row holds the four weights at the positions of one 2×2 patch; with stride 2 the patches "
                "no longer overlap, so every input pixel is used exactly once.")
    if torch.equal(m, conv_matrix(_KERNEL.flip(0, 1), 4, stride=2)):
        raise Feedback("You flipped the kernel. F.conv2d does not flip: weight w[0, 0] = 1 meets the "
                       "top-left pixel of each patch.")
    wrong_rows = [i for i in range(4) if not torch.equal(m[i], expected[i])]
    if int((m != 0).sum()) != 16:
        raise Feedback(f"Your matrix has {int((m != 0).sum())} non-zero entries; each of the 4 rows should "
                       f"have exactly 4 (the weights), so 16. Rows that differ: {wrong_rows}.")
    raise Feedback(f"Rows {wrong_rows} differ. Row r is output pixel (r // 2, r % 2); with stride 2 its patch "
                   "starts at input pixel (2·(r // 2), 2·(r % 2)), which is column 8·(r // 2) + 2·(r % 2) of the "
                   "flattened 4×4 image.")


@register("ex-ch2-count-zeros")
def _count_zeros(answer: Any) -> str:
    m = conv_matrix(torch.ones(3, 3), 7)
    expected = int((m == 0).sum())
    value = as_int(answer)
    if value == int((m != 0).sum()):
        raise Feedback(f"{value} is the number of non-zero entries; the question asks for the zeros.")
    if value == 144:
        raise Feedback("144 is the count for the 5×5 image in the chapter; this image is 7×7.")
    expect_int(answer, expected, "Your count of structural zeros",
               "M has one row per output pixel (5×5 = 25) and one column per input pixel (49); "
               "each row holds the 9 kernel weights.")
    return f"25 × 49 = 1,225 entries, of which 25 × 9 = 225 hold a weight: {expected:,} are structural zeros."


@register("ex-ch2-tied-weights")
def _tied_weights(answer: Any) -> str:
    w = torch.zeros(3, 3)
    w[0, 0] = 1.0
    expected = int(conv_matrix(w, 6, padding=1).sum())
    value = as_int(answer)
    if value == 36:
        raise Feedback("36 would be right if the corner weight met a real pixel at every one of the 36 "
                       "output positions. Along the top row and left column of outputs it lands on padding, "
                       "and padding has no column in M.")
    if value == 16:
        raise Feedback("16 is the count without padding (a 4×4 output). With padding 1 there are 6×6 "
                       "outputs; at how many does the top-left weight meet a real pixel?")
    expect_int(answer, expected, "Your count", "Count the output positions whose top-left kernel weight "
               "lands inside the 6×6 image.")
    return "the corner weight meets a real pixel at 5×5 = 25 of the 36 output positions."


@register("ex-ch2-im2col-memory")
def _im2col_memory(answer: Any) -> str:
    expected = im2col_bytes((32, 128, 28, 28), 3, 1, 1)
    value = as_int(answer)
    if value is not None and value * 4 == expected:
        raise Feedback("That is the number of floats; the question asks for bytes (float32: 4 bytes each).")
    if value is not None and value == 32 * 128 * 28 * 28 * 4:
        raise Feedback("That is the size of the input itself. Each output pixel's row holds a whole "
                       "128×3×3 patch: how many times larger is that?")
    expect_int(answer, expected, "Your number of bytes",
               "Rows: N·oH·oW (stride 1, padding 1 keeps 28×28); columns: C·kH·kW; 4 bytes per float32.")
    return f"{expected:,} bytes (about {expected / 2**20:.0f} MiB): nine times the input."


def _cases():
    gen = torch.Generator().manual_seed(2)
    for n, c, h, w, ks, pad in [(1, 1, 4, 4, 3, 1), (2, 3, 5, 6, 3, 2), (3, 2, 7, 4, 2, 0), (1, 4, 3, 3, 5, 2)]:
        yield torch.randn(n, c, h, w, generator=gen), ks, pad


@register("ex-ch2-pad-patches")
def _pad_patches(answer: Any) -> str:
    expect_callable(answer)
    for x, ks, pad in _cases():
        n, c = x.shape[:2]
        expected = F.unfold(x, ks, padding=pad).transpose(1, 2).reshape(-1, c * ks * ks)
        got = answer(x.clone(), ks, pad)
        if not isinstance(got, torch.Tensor):
            raise Feedback(f"Return a tensor, got {type(got).__name__}.")
        if got.shape != expected.shape:
            no_pad = F.unfold(x, ks).transpose(1, 2).reshape(-1, c * ks * ks) if ks <= min(x.shape[2:]) else None
            hint = (" That is the patch matrix without padding: add `padding` zeros on every side first."
                    if no_pad is not None and got.shape == no_pad.shape else
                    " Expected N·oH·oW rows and C·ks·ks columns.")
            raise Feedback(f"For x of shape {tuple(x.shape)}, ks={ks}, padding={pad}: your matrix has shape "
                           f"{tuple(got.shape)}; expected {tuple(expected.shape)}.{hint}")
        if not torch.allclose(got.float(), expected, atol=1e-5):
            if torch.allclose(got.float().sort(dim=1).values, expected.sort(dim=1).values, atol=1e-5):
                raise Feedback(f"For x of shape {tuple(x.shape)} your rows hold the right numbers in a different "
                               "order: order the columns (channel, kernel row, kernel column), as F.unfold does.")
            raise Feedback(f"For x of shape {tuple(x.shape)}, ks={ks}, padding={pad} your values differ from "
                           "F.unfold's. Rows go over (image, output row, output column) in that order.")
    return "your padded patch matrix equals F.unfold's (transposed) on four inputs, including padding 2."


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
        got = answer(g.clone(), w.clone(), stride, pad, (size, size))
        got = torch.as_tensor(got, dtype=torch.float64)
        where = f"input {size}×{size}, ks={ks}, stride={stride}, padding={pad}"
        if got.shape != expected.shape:
            raise Feedback(f"For {where} your gradient has shape {tuple(got.shape)}; expected "
                           f"{tuple(expected.shape)}. With stride > 1 several input sizes give the same "
                           "output size: use output_padding (or input_size) to get the exact size back.")
        if not torch.allclose(got, expected, atol=1e-8):
            raise Feedback(f"For {where} your values differ from autograd's. The weight of "
                           "F.conv_transpose2d has the same (out, in, kH, kW) layout as the forward weight: "
                           "pass it unchanged, with the same stride and padding.")
    return "your gradient equals autograd's for five layers, including stride 2 with odd and even sizes."
