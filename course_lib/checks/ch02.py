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
    try:
        m = torch.as_tensor(answer, dtype=torch.float32)
    except (TypeError, ValueError, RuntimeError):
        raise Feedback(f"Give the matrix as a tensor or a nested list of numbers (one inner list per row, all "
                       f"of the same length), got {type(answer).__name__}.") from None
    expected = conv_matrix(_dilated(_KERNEL), 4)  # dilation 2 = a 3×3 kernel with zeros between the weights
    if m.shape != expected.shape:
        hints = {(16, 4): " Your rows look like input pixels: a row of M is one output pixel, a column one "
                          "input pixel.",
                 (9, 16): " That is the shape without dilation: spread 2 apart, the four weights span more "
                          "pixels, so the kernel fits at fewer positions."}
        hint = hints.get(tuple(m.shape), " M has one row per output pixel and one column per input pixel.")
        raise Feedback(f"Your matrix has shape {tuple(m.shape)}, which is not M's.{hint}")
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


def _real_taps(n: int, ks: int, stride: int, padding: int, taps=None) -> int:
    """Along one axis: the (output position, kernel tap) pairs whose tap lands on a real pixel, not padding."""
    out = (n + 2 * padding - ks) // stride + 1
    taps = range(ks) if taps is None else taps
    return sum(0 <= i * stride - padding + t < n for i in range(out) for t in taps)


# Counting exercises ask about images whose M cannot be built: for 999×999, M has 250,000 rows and
# 998,001 columns (a terabyte of float32), so conv_matrix refuses and the student has to count.
_ZEROS_SIZE, _TIED_SIZE = 999, 1000


@register("ex-ch2-count-zeros")
def _count_zeros(answer: Any) -> str:
    n = _ZEROS_SIZE
    out = (n + 2 - 3) // 2 + 1
    real = _real_taps(n, 3, 2, 1)
    expected = out * out * n * n - real * real
    value = as_int(answer)
    no_pad_out = (n - 3) // 2 + 1
    reject_known_mistakes(value, {
        real * real: f"{real * real:,} is the number of entries that hold a weight; the question asks for the zeros.",
        out * out * n * n - 9 * out * out: "That counts 9 weights in every row. With padding, the kernel of a "
                                           "border output pixel partly covers padding, and padding pixels "
                                           "have no column in M.",
        no_pad_out**2 * n * n - (3 * no_pad_out) ** 2: "That is the count without padding. Padding 1 changes "
                                                       "the number of output pixels, and some weights of the "
                                                       "border outputs meet padding.",
        out * out * (n + 2) ** 2 - 9 * out * out: "That gives M a column for every pixel of the padded "
                                                  "image. Padding pixels are zeros, so they have no column "
                                                  "in M: a weight that meets padding is simply left out.",
        out * out * n * n - (real + 1) ** 2: "Only the first output along each axis loses a tap to padding "
                                             "in your count. Look at the last one too: which input index "
                                             "does its third tap reach, with 999 pixels?",
    })
    expect_int(answer, expected, "Your count of structural zeros",
               "Work along one axis: which input positions do the three taps of output i reach, and how many "
               "are real pixels? A weight is in M where both its row and its column tap are real.")
    return (f"M is {out * out:,} × {n * n:,} entries. Along one axis the {out} outputs have {real:,} taps on "
            f"real pixels (the first and the last lose one each to padding), so {real:,}² = {real * real:,} "
            f"entries hold a weight and {expected:,} are structural zeros.")


@register("ex-ch2-tied-weights")
def _tied_weights(answer: Any) -> str:
    n = _TIED_SIZE
    out = (n + 4 - 5) // 2 + 1
    rows, cols = _real_taps(n, 5, 2, 2, taps=[0]), _real_taps(n, 5, 2, 2, taps=[2])
    expected = rows * cols
    value = as_int(answer)
    no_pad = (n - 5) // 2 + 1
    reject_known_mistakes(value, {
        out * out: f"{out}×{out} = {out * out:,} counts every output position. For some of them the weight "
                   "w[0, 2] lands on padding, and padding has no column in M.",
        rows * rows: "That treats the weight as a corner weight on both axes. w[0, 2] sits in the kernel's "
                     "top row but its middle column: check the two axes separately.",
        no_pad * no_pad: "That is the count without padding. With "
                         "padding 2 and stride 2, which output rows put the kernel's top row on padding?",
        (n - 2) * n: "That is the count with stride 1. With stride 2 there are fewer output positions.",
        (rows - 1) * cols: "You dropped an output row at both ends. Padding 2 sits on both sides, but check the "
                           "last output row: which input row does the kernel's top row reach there?",
    })
    expect_int(answer, expected, "Your count",
               "Count the output rows whose kernel's top row lands inside the image, and the output columns "
               "whose kernel's middle column does, then multiply.")
    return (f"the output is {out}×{out}. The kernel's top row lands on padding in output row 0 only, so "
            f"{rows} rows; its middle column is real in all {cols} columns: {rows} × {cols} = {expected:,}.")


@register("ex-ch2-im2col-memory")
def _im2col_memory(answer: Any) -> str:
    shape = (32, 128, 27, 27)
    out = (27 + 2 - 3 * (3 - 1) - 1) // 2 + 1  # dilation 3: the 3×3 kernel spans 7×7 pixels
    expected = 32 * out * out * 128 * 3 * 3 * 4
    input_bytes = 32 * 128 * 27 * 27 * 4
    value = as_int(answer)
    reject_known_mistakes(value, {
        expected // 4: "That is the number of floats; the question asks for bytes (float32: 4 bytes each).",
        expected // 32: "That is the patch matrix of one image; the batch has 32, each with its own rows.",
        input_bytes: "That is the size of the input itself. How many rows and columns does the patch matrix have?",
        im2col_bytes(shape, 3, 2, 1): "That ignores the dilation: with its taps spread 3 pixels apart, the 3×3 "
                                      "kernel spans more pixels, so it fits at fewer positions.",
        im2col_bytes(shape, 3, 2, 0): "Your output size ignores both the dilation and the padding, or it "
                                      "miscounts how many pixels the dilated kernel spans. Check both with "
                                      "chapter 1's output-size rule.",
        32 * 11 * 11 * 128 * 9 * 4: "Your output size ignores the padding (it adds a pixel on both sides), or it "
                                    "takes the dilated kernel's span as d·k pixels.",
        im2col_bytes(shape, 7, 2, 1): "That gives the patch matrix 49 values per channel, as if the holes were "
                                      "part of a 7×7 kernel. The dilated kernel reads only its 9 taps: the holes "
                                      "are not copied.",
        im2col_bytes(shape, 3, 1, 1): "That is the stride-1 patch matrix without dilation.",
        input_bytes * 9 // 4: "That is the k²/4 rule of thumb for stride 2. Count the output positions "
                              "instead: with dilation the kernel's reach changes them.",
    })
    expect_int(answer, expected, "Your number of bytes",
               "Bytes = rows × columns × 4: one row per output pixel of every image (chapter 1's output-size "
               "rule with dilation), one column per value the kernel reads.")
    return (f"the dilated kernel spans 7×7 pixels, so the output is {out}×{out}; each row holds 128 × 9 "
            f"values: {expected:,} bytes (about {expected / 2**20:.1f} MiB), {expected / input_bytes:.2f} "
            "times the input rather than 9/4 = 2.25.")


# The visible check's inputs: (x shape, kernel_size, stride, padding, dilation), each a (height, width)
# pair. The second case's output has the undilated size, so only the values tell dilation apart there.
_PATCH_CASES = [((1, 1, 4, 4), (3, 3), (1, 1), (1, 1), (1, 1)), ((2, 2, 7, 5), (2, 3), (3, 2), (1, 1), (2, 1)),
                ((2, 3, 5, 6), (3, 2), (2, 1), (2, 0), (2, 3)), ((3, 2, 7, 4), (2, 2), (1, 2), (0, 1), (3, 1)),
                ((1, 4, 3, 5), (5, 3), (2, 3), (2, 1), (1, 2))]

# What the two function-writing exercises forbid, patched to refuse while the student's function runs.
# forbidden() refuses a torch.ops operator's overloads (.default, .out) too, and swaps the code of course_lib's
# Python functions, so the names the package re-exports (course_lib.conv_matrix) refuse as well.
_NO_UNFOLD_OR_PAD = ("torch.nn.functional.unfold", "torch.nn.functional.pad", "torch._C._nn.im2col",
                     "torch._C._nn.pad", "torch._C._nn._pad_enum", "torch.constant_pad_nd", "torch.ops.aten.im2col",
                     "torch.ops.aten.constant_pad_nd", "torch.ops.aten.pad", "torch.ops.aten._pad_enum")
_NO_AUTOGRAD = ("torch.nn.grad.conv2d_input", "torch.autograd.grad", "torch.autograd.backward",
                "torch.ops.aten.convolution_backward",
                *(f"torch.func.{name}" for name in ("vjp", "grad", "grad_and_value", "jacrev", "jacfwd", "jvp",
                                                    "hessian", "linearize")),
                "course_lib.matmul.conv_matrix", "course_lib.matmul.conv2d_matmul")


def _unfolded(x: torch.Tensor, ks, stride, pad, dilation) -> torch.Tensor:
    patches = F.unfold(x, ks, dilation=dilation, padding=pad, stride=stride)
    return patches.transpose(1, 2).reshape(-1, x.shape[1] * ks[0] * ks[1])


def _fits(x: torch.Tensor, ks, pad, dilation) -> bool:
    return all(dilation[a] * (ks[a] - 1) + 1 <= x.shape[2 + a] + 2 * pad[a] for a in range(2))


_UNDILATED = (" Those are the patches without dilation: the kernel's taps lie `dilation` pixels apart, so a "
              "patch spans d·(k−1)+1 pixels of the padded image and keeps every d-th of them.")
_DILATION_AS_STRIDE = (" That is what you get with `dilation` used as the stride: the stride moves the whole patch "
                       "between output positions, the dilation spreads the taps inside one patch.")
_SWAPPED = " Height and width are swapped: the first number of each pair goes with H, the second with W."


def _patch_mistakes(x: torch.Tensor, ks, stride, pad, dil) -> list:
    """The typical wrong patch matrices for one case, each with its hint, in the order they are tried."""
    wrong = [((ks, stride, pad, (1, 1)), _UNDILATED),
             ((ks, dil, pad, (1, 1)), _DILATION_AS_STRIDE),
             ((ks, dil, pad, stride), _DILATION_AS_STRIDE),
             ((ks, stride, (0, 0), dil), " That is the patch matrix without padding: add the padding zeros around "
                                          "the image first."),
             ((ks, (1, 1), pad, dil), " That is the stride-1 patch matrix: step `stride` pixels between output "
                                      "positions."),
             ((ks[::-1], stride[::-1], pad[::-1], dil[::-1]), _SWAPPED),
             ((ks, stride, pad, dil[::-1]), _SWAPPED)]
    return [(_unfolded(x, *args), hint) for args, hint in wrong
            if args != (ks, stride, pad, dil) and _fits(x, args[0], args[2], args[3])]


@register("ex-ch2-pad-patches")
def _pad_patches(answer: Any) -> str:
    expect_callable(answer)
    gen = torch.Generator().manual_seed(2)
    for shape, ks, stride, pad, dil in _PATCH_CASES:
        x = torch.randn(shape, generator=gen)
        expected = _unfolded(x, ks, stride, pad, dil)
        with forbidden(_NO_UNFOLD_OR_PAD, "do the padding and the patch gathering yourself."):
            got = answer(x.clone(), ks, stride, pad, dil)
        if not isinstance(got, torch.Tensor):
            raise Feedback(f"Return a tensor, got {type(got).__name__}.")
        where = f"For x of shape {shape}, kernel_size={ks}, stride={stride}, padding={pad}, dilation={dil}"
        if got.shape != expected.shape:
            hints = [hint for wrong, hint in _patch_mistakes(x, ks, stride, pad, dil) if got.shape == wrong.shape]
            hint = hints[0] if hints else " Expected N·oH·oW rows and C·kH·kW columns."
            raise Feedback(f"{where}: your matrix has shape {tuple(got.shape)}; expected "
                           f"{tuple(expected.shape)}.{hint}")
        if not torch.allclose(got.float(), expected, atol=1e-5):
            for wrong, hint in _patch_mistakes(x, ks, stride, pad, dil):
                if wrong.shape == got.shape and torch.allclose(got.float(), wrong, atol=1e-5):
                    raise Feedback(f"{where}: your matrix has the right shape but other values.{hint}")
            if torch.allclose(got.float().sort(dim=1).values, expected.sort(dim=1).values, atol=1e-5):
                raise Feedback(f"{where}: your rows hold the right numbers in a different order: order the "
                               "columns (channel, kernel row, kernel column).")
            raise Feedback(f"{where}: your values differ from the expected patches. Rows go over (image, "
                           "output row, output column) in that order; padding pixels are zeros.")
    return ("your patch matrix equals F.unfold's (transposed) on five inputs with unequal sizes, strides, paddings "
            "and dilations, dilation 1 included.")


@register("ex-ch2-input-grad")
def _input_grad(answer: Any) -> str:
    expect_callable(answer)
    gen = torch.Generator().manual_seed(3)
    # (H, W), (kH, kW), stride, padding: square and rectangular, odd and even sizes under stride 2
    for size, ks, stride, pad in [((6, 6), (3, 3), 1, 1), ((9, 9), (3, 3), 2, 1), ((8, 8), (3, 3), 2, 1),
                                  ((7, 7), (2, 2), 2, 0), ((10, 10), (5, 5), 3, 2), ((9, 7), (3, 2), 2, 1)]:
        x = torch.randn(2, 3, *size, generator=gen, dtype=torch.float64, requires_grad=True)
        w = torch.randn(4, 3, *ks, generator=gen, dtype=torch.float64)
        out = F.conv2d(x, w, None, stride, pad)
        g = torch.randn(out.shape, generator=gen, dtype=torch.float64)
        (expected,) = torch.autograd.grad(out, x, g)
        got = _run_without_autograd(answer, g.clone(), w.clone(), stride, pad, size)
        if not isinstance(got, torch.Tensor):
            raise Feedback(f"Return a tensor, got {type(got).__name__}.")
        got = got.detach().to(torch.float64)
        where = f"input {size[0]}×{size[1]}, kernel {ks[0]}×{ks[1]}, stride={stride}, padding={pad}"
        if got.shape != expected.shape:
            short = got.shape[:2] == expected.shape[:2] and all(
                0 <= e - o < stride for e, o in zip(expected.shape[2:], got.shape[2:], strict=False))
            hint = (" With stride > 1 several input sizes give the same output size: use output_padding to "
                    "get the exact size back." if stride > 1 and short else
                    " Pass F.conv_transpose2d the forward weight as it is, with the layer's stride and padding.")
            raise Feedback(f"For {where} your gradient has shape {tuple(got.shape)}; expected "
                           f"{tuple(expected.shape)}.{hint}")
        if not torch.allclose(got, expected, atol=1e-8):
            raise Feedback(f"For {where} your values differ from autograd's. The weight of "
                           "F.conv_transpose2d has the same (out, in, kH, kW) layout as the forward weight: "
                           "pass it unchanged, with the same stride and padding.")
    return ("your gradient equals autograd's for six layers, including stride 2 with odd and even sizes and a "
            "rectangular input and kernel.")


def _run_without_autograd(answer, *args):
    """The student's input_grad(*args), with autograd's routes to the gradient switched off.

    Under torch.inference_mode() autograd records no graph, even inside torch.enable_grad(), so a
    grad_fn called by hand or the engine's run_backward has nothing to work on; forbidden() refuses the
    named functions that compute a gradient (and course_lib's ready-made convolutions) outright.
    """
    try:
        with forbidden(_NO_AUTOGRAD, "compute the gradient with F.conv_transpose2d, not with autograd, torch.func "
                                     "or course_lib's ready-made convolutions."), torch.inference_mode():
            return answer(*args)
    except (RuntimeError, TypeError) as e:
        text = _safe_text(e)
        if "does not require grad" in text or "'NoneType' object is not callable" in text:
            raise Feedback(f"Your function raised {type(e).__name__}: {text}. If it builds a graph to "
                           "backpropagate through (grad_fn, backward): the check runs it under "
                           "torch.inference_mode(), so autograd records nothing and a tensor's grad_fn is "
                           "None. Compute the gradient with F.conv_transpose2d.") from None
        raise


def _safe_text(e: BaseException) -> str:
    try:
        return str(e)
    except Exception:  # noqa: BLE001  (a student's exception may not even print)
        return type(e).__name__
