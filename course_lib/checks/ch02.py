"""Checks for chapter 2, "Convolution as matrix multiplication"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from ..matmul import conv_matrix
from .ch01 import _CONV_BY_HAND_ATEN
from .core import (
    Feedback,
    as_int,
    expect_callable,
    forbidden,
    refuse_all_operators,
    refuse_aten_ops,
    register,
)

# ---------------------------------------------------------------------------
# ex-ch2-matrix-by-hand: dilated_conv_matrix(kernel, size, dilation), the matrix M of a one-channel
# convolution with stride 1 and no padding. The check runs it on six kernels and images; the first is
# the 2×2 kernel [[1, 2], [3, 4]] on a 4×4 image with dilation 2, the case the exercise asks to try by hand.
_MATRIX_CASES = [((2, 2), 4, 2), ((3, 3), 8, 2), ((2, 3), 6, 2), ((3, 2), 5, 1), ((2, 2), 5, 4), ((1, 1), 3, 3)]
# What dilated_conv_matrix must not call: PyTorch's convolutions (F.conv2d on the basis images would hand
# over M's columns), the patch extractors, and course_lib's matrix and convolutions.
_MATRIX_FORBIDDEN = ("torch.nn.functional.conv2d", "torch.conv2d", "torch.convolution", "torch.nn.functional.unfold",
                     "torch._C._nn.im2col", "torch.nn.functional.fold", "torch._C._nn.col2im",
                     "course_lib.matmul.conv_matrix", "course_lib.matmul.conv2d_loops",
                     "course_lib.matmul.conv2d_matmul")
# The operators refused underneath: chapter 1's convolutions and patch extractors, and col2im, the operator
# behind F.fold, which adds kernel-sized blocks back into an image and so writes all of M's rows in one call.
_MATRIX_ATEN = (*_CONV_BY_HAND_ATEN, "col2im")


def _case_kernel(kh: int, kw: int) -> torch.Tensor:
    return torch.arange(1.0, kh * kw + 1).view(kh, kw)  # distinct weights, so a misplaced one shows


def _spread(kernel: torch.Tensor, dilation: int) -> torch.Tensor:
    """A kernel with dilation d, written as the larger kernel it amounts to: zeros between the weights."""
    kh, kw = kernel.shape
    spread = kernel.new_zeros(dilation * (kh - 1) + 1, dilation * (kw - 1) + 1)
    spread[::dilation, ::dilation] = kernel
    return spread


def _matrix_mistakes(kernel: torch.Tensor, size: int, d: int) -> list[tuple[torch.Tensor, str]]:
    """Typical wrong matrices for one case, each with its hint, in the order they are tried."""
    wrong = [(lambda: conv_matrix(_spread(kernel, d), size).T,
              " Your rows look like input pixels: a row of M is one output pixel, a column one input pixel."),
             (lambda: conv_matrix(kernel, size), " That is the matrix without dilation: spread d pixels apart, "
                                                 "the weights span more pixels, so the kernel fits at fewer "
                                                 "positions, and neighbouring weights of a row lie d columns apart."),
             (lambda: conv_matrix(kernel, size, stride=d),
              " That is the matrix of stride d, which moves the whole patch d pixels between output positions. "
              "Dilation keeps stride 1 and spreads the weights inside the patch d pixels apart."),
             (lambda: conv_matrix(_spread(kernel.flip(0, 1), d), size),
              " You flipped the kernel. F.conv2d does not flip: weight w[0, 0] meets the top-left pixel of "
              "each patch."),
             (lambda: conv_matrix(_spread(kernel, d).T.contiguous(), size),
              " Height and width are swapped: kernel[a, b] sits a·d rows below and b·d columns right of the "
              "patch's top-left pixel.")]
    out = []
    for build, hint in wrong:
        try:
            out.append((build(), hint))
        except ValueError:  # the mistaken kernel does not fit this image
            continue
    return out


def _as_matrix(got: Any, where: str) -> torch.Tensor:
    if got is None:
        raise Feedback(f"{where} your function returned None: return the matrix.")
    try:
        return torch.as_tensor(got, dtype=torch.float32)
    except (TypeError, ValueError, RuntimeError):
        raise Feedback(f"{where} your function returned {type(got).__name__}: return the matrix as a tensor (or a "
                       "nested list of numbers, one inner list per row, all of the same length).") from None


@register("ex-ch2-matrix-by-hand")
def _matrix_by_hand(answer: Any) -> str:
    expect_callable(answer)
    why = ("build M yourself, entry by entry: F.conv2d on the basis images, the patch extractors, F.fold and "
           "course_lib's conv_matrix and convolutions would hand it over.")
    for (kh, kw), size, d in _MATRIX_CASES:
        kernel = _case_kernel(kh, kw)
        expected = conv_matrix(_spread(kernel, d), size)
        where = f"For a {kh}×{kw} kernel on a {size}×{size} image with dilation {d}"
        with (refuse_aten_ops(_MATRIX_ATEN, why),
              forbidden(_MATRIX_FORBIDDEN, why, namespace=getattr(answer, "__globals__", None))):
            got = answer(kernel.clone(), size, d)
        m = _as_matrix(got, where)
        if m.shape == expected.shape and torch.equal(m, expected):
            continue
        for wrong, hint in _matrix_mistakes(kernel, size, d):
            if m.shape == wrong.shape and torch.equal(m, wrong):
                raise Feedback(f"{where}: your matrix is not M.{hint}")
        if m.shape != expected.shape:
            raise Feedback(f"{where} your matrix has shape {tuple(m.shape)}, which is not M's. M has one row per "
                           "output pixel and one column per input pixel: how many positions does a kernel whose "
                           "weights lie d pixels apart fit at?")
        rows = [i for i in range(m.shape[0]) if not torch.equal(m[i], expected[i])]
        raise Feedback(f"{where}, rows {rows[:6]}{' …' if len(rows) > 6 else ''} of your matrix differ. Row r is "
                       "output pixel (r // oW, r % oW), with oW output pixels per row; weight kernel[a, b] meets "
                       "the input pixel a·d rows below and b·d columns right of that output's top-left pixel.")
    return ("your matrices equal M for six kernels and images, dilations 1 to 4 and rectangular kernels "
            "included: inside a row the weights lie d columns (and d image rows) apart, and from one row to "
            "the next the pattern still shifts by one column, as with stride 1 and no dilation.")


# ---------------------------------------------------------------------------
# Three exercises ask for a function of whole numbers: a count of M's entries or a patch matrix's bytes.
# Their checks run it with every PyTorch operator switched off (a convolution of ones, F.unfold on a meta
# tensor or nn.Conv2d would count for the student) and compare it with the counts below on several
# settings, up to images whose M is far too large to build.

def _taps(n: int, k: int, stride: int, padding: int, taps, *, end: bool = True, ceil: bool = False) -> int:
    """Along one axis: the (output position, kernel tap) pairs whose tap lands on a real pixel, not padding.

    Output i puts tap t on input position i·stride − padding + t, so for each tap the outputs that count
    form one run of i, counted without a loop (the check's settings go up to 10**6 pixels a side).
    With ``end=False`` only the padding before the image is left out, with ``ceil=True`` the number of
    outputs is rounded up (two typical mistakes)."""
    out = _outputs(n, k, stride, padding, ceil=ceil)
    total = 0
    for t in taps:
        first = max(0, -((t - padding) // stride))  # the smallest i with i·stride − padding + t ≥ 0
        last = min(out - 1, (n - 1 + padding - t) // stride) if end else out - 1  # ... and ≤ n − 1
        total += max(0, last - first + 1)
    return total


def _outputs(n: int, k: int, stride: int, padding: int, *, ceil: bool = False) -> int:
    free = n + 2 * padding - k
    return (-(-free // stride) if ceil else free // stride) + 1


def _describe(names: tuple[str, ...], case: tuple) -> str:
    return ", ".join(f"{name}={value}" for name, value in zip(names, case, strict=True))


def _int_results(answer: Callable, cases: list[tuple], names: tuple[str, ...], what: str, why: str,
                 forbidden_names: tuple[str, ...] = ()) -> list[int]:
    """The student's answer(*case) for every case, run with PyTorch's operators and ``forbidden_names`` refused."""
    expect_callable(answer)
    values = []
    for case in cases:
        where = f"For {_describe(names, case)}"
        with refuse_all_operators(why), forbidden(forbidden_names, why):
            try:
                got = answer(*case)
            except (Feedback, NotImplementedError):
                raise
            except Exception as error:  # noqa: BLE001  (a bug in the student's function: say where)
                raise Feedback(f"{where} your function raised {type(error).__name__}: {_short(error)}.") from None
        value = as_int(got)
        if value is None:
            if isinstance(got, float) and got.is_integer():
                raise Feedback(f"{where} your function returned the float {got!r}: return {what} as an int "
                               "(a // b divides whole numbers and rounds down; a / b makes a float).")
            raise Feedback(f"{where} your function returned {type(got).__name__} {_short(got)}: return {what} as "
                           "a whole number (an int).")
        values.append(value)
    return values


def _short(value: Any, limit: int = 80) -> str:
    try:
        text = repr(value) if not isinstance(value, BaseException) else str(value)
    except Exception:  # noqa: BLE001
        text = f"<a {type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _judge(values: list[int], cases: list[tuple], names: tuple[str, ...], right: Callable,
           mistakes: list[tuple[Callable, str]], what: str, hint: str) -> None:
    """Raise Feedback unless ``values`` are ``right(*case)`` on every case.

    A wrong answer gets the hint of the first mistake that gives the student's values on every case (so a
    coincidence on one setting does not decide the diagnosis), or else ``hint``; neither names the answer."""
    if all(v == right(*case) for v, case in zip(values, cases, strict=True)):
        return
    first = next(i for i, case in enumerate(cases) if values[i] != right(*case))
    where = f"For {_describe(names, cases[first])} your function returns {values[first]:,}"
    for mistake, mistake_hint in mistakes:
        if all(v == mistake(*case) for v, case in zip(values, cases, strict=True)):
            raise Feedback(f"{where}. {mistake_hint}")
    raise Feedback(f"{where}; that is not {what}. {hint}")


_ZEROS_NAMES = ("size", "k", "stride", "padding")
# The 999×999 setting's M has 250,000 rows and 998,001 columns (a terabyte of float32): it has to be counted.
# The last image has 10**12 pixels, so not even an array of ones the size of the image (a NumPy "convolution
# of ones", scipy's correlate2d) fits in memory; counting along one axis takes a fraction of a second.
_ZEROS_CASES = [(7, 3, 2, 1), (10, 4, 3, 2), (6, 5, 1, 0), (9, 2, 2, 1), (8, 3, 1, 1), (12, 5, 3, 4),
                (1000, 5, 2, 2), (999, 3, 2, 1), (999_999, 5, 3, 2)]


def _zeros(n: int, k: int, s: int, p: int) -> int:
    out, real = _outputs(n, k, s, p), _taps(n, k, s, p, range(k))
    return out * out * n * n - real * real


_ZEROS_MISTAKES = [
    (lambda n, k, s, p: _taps(n, k, s, p, range(k)) ** 2,
     "That counts the entries that hold a weight; the question asks for the structural zeros."),
    (lambda n, k, s, p: _outputs(n, k, s, p) ** 2 * (n * n - k * k),
     "That counts k² weights in every row. With padding, the kernel of a border output pixel partly covers "
     "padding, and padding pixels have no column in M."),
    (lambda n, k, s, p: _outputs(n, k, s, 0) ** 2 * (n * n - k * k),
     "That is the count without padding. Padding changes the number of output pixels (rows of M), and some "
     "taps of the border outputs meet padding."),
    (lambda n, k, s, p: _outputs(n, k, s, p) ** 2 * ((n + 2 * p) ** 2 - k * k),
     "That gives M a column for every pixel of the padded image. Padding pixels are zeros, so they have no "
     "column in M: a weight that meets padding is simply left out."),
    (lambda n, k, s, p: _outputs(n, k, s, p) ** 2 * n * n - _taps(n, k, s, p, range(k), end=False) ** 2,
     "Your count leaves out the taps that fall on the padding before the image, but not those after it. Look "
     "at the last output along an axis too: which input index does its last tap reach?"),
    (lambda n, k, s, p: _zeros(n, k, 1, p),
     "That is the count with stride 1. The stride sets how many output pixels (rows of M) there are and "
     "where their taps land."),
    (lambda n, k, s, p: _outputs(n, k, s, p, ceil=True) ** 2 * n * n - _taps(n, k, s, p, range(k), ceil=True) ** 2,
     "Your number of output pixels (rows of M) along an axis is rounded up. An output position counts only "
     "where the whole kernel fits inside the padded image: chapter 1's rule rounds down."),
]


@register("ex-ch2-count-zeros")
def _count_zeros(answer: Any) -> str:
    why = ("count with whole numbers. PyTorch's operators are switched off while your function runs, so no "
           "tensor (a convolution of ones, conv_matrix) can count for you, and neither M nor, on the last setting, "
           "an array of the image's pixels would fit in memory anyway.")
    values = _int_results(answer, _ZEROS_CASES, _ZEROS_NAMES, "the number of structural zeros", why)
    _judge(values, _ZEROS_CASES, _ZEROS_NAMES, _zeros, _ZEROS_MISTAKES, "the number of structural zeros",
           "M has one row per output pixel (chapter 1's output-size rule, along each axis) and one column per "
           "input pixel. Then work along one axis: which input positions do the k taps of output i reach, and how "
           "many of them are real pixels? A weight is in M where both its row tap and its column tap are real.")
    return ("your function counts the structural zeros right on nine settings, among them a 999×999 image whose "
            "M (250,000 × 998,001 entries, a terabyte of float32) is far too large to build, and a 999,999×999,999 "
            "image too large for any array of its pixels: the entries holding a weight are the square of the taps "
            "that land on real pixels along one axis.")


_TIED_NAMES = ("size", "k", "stride", "padding", "row", "col")
# As for the zeros, the last image (10**12 pixels) is too large for any array the size of the image.
_TIED_CASES = [(7, 3, 1, 1, 0, 0), (9, 4, 3, 2, 3, 1), (6, 3, 2, 0, 1, 2), (11, 3, 2, 1, 2, 0), (10, 5, 2, 2, 4, 4),
               (1000, 5, 2, 2, 0, 2), (999, 3, 2, 1, 1, 2), (1_000_000, 3, 2, 1, 2, 0)]


def _tied(n: int, k: int, s: int, p: int, row: int, col: int) -> int:
    return _taps(n, k, s, p, [row]) * _taps(n, k, s, p, [col])


_TIED_MISTAKES = [
    (lambda n, k, s, p, row, col: _outputs(n, k, s, p) ** 2,
     "That counts every output position. For some of them the weight lands on padding, and padding has no "
     "column in M."),
    (lambda n, k, s, p, row, col: _taps(n, k, s, p, [row]) ** 2,
     "That uses the kernel row's count on both axes. The weight's row decides which output rows count, its "
     "column which output columns count: work the two axes out separately."),
    (lambda n, k, s, p, row, col: _taps(n, k, s, p, [col]) ** 2,
     "That uses the kernel column's count on both axes. The weight's row decides which output rows count, its "
     "column which output columns count: work the two axes out separately."),
    (lambda n, k, s, p, row, col: _outputs(n, k, s, 0) ** 2,
     "That is the count without padding. With padding there are more output positions, and at some of them "
     "the weight lands on padding."),
    (lambda n, k, s, p, row, col: _taps(n, k, s, p, [row], end=False) * _taps(n, k, s, p, [col], end=False),
     "Your count drops the output positions where the weight lands on the padding before the image, but not "
     "those after it. Check the last output row and column too: which input index does the weight reach there?"),
    (lambda n, k, s, p, row, col: _tied(n, k, 1, p, row, col),
     "That is the count with stride 1. The stride sets how many output positions there are and where the "
     "weight lands at each."),
]


@register("ex-ch2-tied-weights")
def _tied_weights(answer: Any) -> str:
    why = ("count with whole numbers. PyTorch's operators are switched off while your function runs, so no "
           "tensor (a convolution of a one-hot kernel over ones, conv_matrix) can count for you, and on the last "
           "setting not even an array of the image's pixels would fit in memory.")
    values = _int_results(answer, _TIED_CASES, _TIED_NAMES, "the count", why)
    _judge(values, _TIED_CASES, _TIED_NAMES, _tied, _TIED_MISTAKES, "the count",
           "Count the output rows at which kernel row `row` lands inside the image, and the output columns at "
           "which kernel column `col` does, then multiply.")
    return ("your function counts the weight right on eight settings, up to a 1,000,000×1,000,000 image, too "
            "large for any array of its pixels, let alone M: the two axes are independent, so the count is "
            "(output rows where the weight's row is real) × (output columns where its column is real).")


_IM2COL_NAMES = ("batch", "channels", "height", "width", "k", "stride", "padding", "dilation")
_IM2COL_CASES = [(2, 3, 9, 7, 3, 2, 1, 2), (1, 4, 28, 28, 5, 1, 2, 1), (4, 2, 11, 16, 3, 3, 0, 4),
                 (3, 5, 12, 10, 2, 1, 3, 5), (32, 128, 28, 28, 3, 2, 1, 3), (2, 1, 6, 8, 7, 2, 3, 1)]
# course_lib's finished helpers; PyTorch's operators (F.unfold, Tensor.unfold, nn.Conv2d, even on meta
# tensors) are refused at the operator level while the function runs.
_IM2COL_FORBIDDEN = ("course_lib.matmul.im2col_bytes", "course_lib.matmul.conv_matrix",
                     "course_lib.matmul.conv2d_matmul", "course_lib.matmul.conv2d_loops", "torch.nn.functional.unfold")


def _positions(n: int, k: int, s: int, p: int, d: int, *, span: int | None = None, sides: int = 2,
               ceil: bool = False) -> int:
    """Output positions along one axis (chapter 1's rule), or what a typical mistake makes of it."""
    free = n + sides * p - (d * (k - 1) + 1 if span is None else span)
    return (-(-free // s) if ceil else free // s) + 1


def _im2col(b: int, c: int, h: int, w: int, k: int, s: int, p: int, d: int, **mistake) -> int:
    return b * _positions(h, k, s, p, d, **mistake) * _positions(w, k, s, p, d, **mistake) * c * k * k * 4


_IM2COL_MISTAKES = [
    (lambda b, c, h, w, k, s, p, d: _im2col(b, c, h, w, k, s, p, d) // 4,
     "That is the number of floats; the question asks for bytes (float32: 4 bytes each)."),
    (lambda b, c, h, w, k, s, p, d: _im2col(b, c, h, w, k, s, p, d) // b,
     "That is the patch matrix of one image; every image of the batch has its own rows."),
    (lambda b, c, h, w, k, s, p, d: b * c * h * w * 4,
     "That is the size of the input itself. How many rows and columns does the patch matrix have?"),
    (lambda b, c, h, w, k, s, p, d: _im2col(b, c, h, w, k, s, p, d, span=k),
     "That ignores the dilation: with its taps spread d pixels apart, the kernel spans more pixels, so it fits "
     "at fewer positions."),
    (lambda b, c, h, w, k, s, p, d: _im2col(b, c, h, w, k, s, p, d, span=d * k),
     "Your output size takes the dilated kernel's span as d·k pixels. Count the pixels from its first tap to "
     "its last: k taps, d pixels apart."),
    (lambda b, c, h, w, k, s, p, d: _im2col(b, c, h, w, k, s, p, d) // (k * k) * (d * (k - 1) + 1) ** 2,
     "That gives each row every pixel of the window the dilated kernel spans, holes included. The dilated kernel "
     "reads only its k×k taps: the holes are not copied."),
    (lambda b, c, h, w, k, s, p, d: _im2col(b, c, h, w, k, s, p, d, sides=0),
     "Your output size ignores the padding, which adds pixels around the image before the kernel slides."),
    (lambda b, c, h, w, k, s, p, d: _im2col(b, c, h, w, k, s, p, d, sides=1),
     "Your output size adds the padding on one side only; it goes on both sides of each axis."),
    (lambda b, c, h, w, k, s, p, d: _im2col(b, c, h, w, k, 1, p, d),
     "That is the patch matrix of stride 1: the stride divides the number of positions along each axis."),
    (lambda b, c, h, w, k, s, p, d: _im2col(b, c, h, w, k, s, p, d, ceil=True),
     "Your output size rounds up. A position counts only where the whole dilated kernel fits inside the padded "
     "input: round down."),
    (lambda b, c, h, w, k, s, p, d: _im2col(b, c, h, h, k, s, p, d),
     "Your function uses the height for both axes: the output width comes from the input's width."),
    (lambda b, c, h, w, k, s, p, d: _im2col(b, c, w, w, k, s, p, d),
     "Your function uses the width for both axes: the output height comes from the input's height."),
]


@register("ex-ch2-im2col-memory")
def _im2col_memory(answer: Any) -> str:
    why = ("work the size out from the settings. PyTorch's operators are switched off while your function runs, "
           "so neither F.unfold nor Tensor.unfold nor a convolution (not even on a meta tensor) can build the patch "
           "matrix for you, and course_lib's im2col_bytes is switched off too.")
    values = _int_results(answer, _IM2COL_CASES, _IM2COL_NAMES, "the number of bytes", why, _IM2COL_FORBIDDEN)
    _judge(values, _IM2COL_CASES, _IM2COL_NAMES, _im2col, _IM2COL_MISTAKES, "the number of bytes",
           "Bytes = rows × columns × 4: one row per output pixel of every image (chapter 1's output-size rule, "
           "with the span of the dilated kernel), one column per value the kernel reads.")
    return ("your function gives the patch matrix's bytes on six settings, dilations 1 to 5 and rectangular inputs "
            "included: N·oH·oW rows, where the dilated kernel spans d(k−1)+1 pixels, and C·k² columns, since the "
            "holes between the taps are not copied.")


# The visible check's inputs: (x shape, kernel_size, stride, padding, dilation), each a (height, width)
# pair. The second case's output has the undilated size, so only the values tell dilation apart there.
_PATCH_CASES = [((1, 1, 4, 4), (3, 3), (1, 1), (1, 1), (1, 1)), ((2, 2, 7, 5), (2, 3), (3, 2), (1, 1), (2, 1)),
                ((2, 3, 5, 6), (3, 2), (2, 1), (2, 0), (2, 3)), ((3, 2, 7, 4), (2, 2), (1, 2), (0, 1), (3, 1)),
                ((1, 4, 3, 5), (5, 3), (2, 3), (2, 1), (1, 2))]

# What the two function-writing exercises forbid, patched to refuse while the student's function runs.
# forbidden() swaps the code of course_lib's Python functions, so the names the package re-exports
# (course_lib.conv_matrix) refuse as well. No torch.ops.aten operator is patched: the dispatcher looks
# operators up there while refuse_aten_ops watches them, and that watch refuses them however they are
# called (torch.ops.aten.im2col.default, a grad_fn called by hand).
_NO_UNFOLD_OR_PAD = ("torch.nn.functional.unfold", "torch.nn.functional.pad", "torch._C._nn.im2col",
                     "torch._C._nn.pad", "torch._C._nn._pad_enum", "torch.constant_pad_nd")
# Autograd's convolution operators, refused underneath: a grad_fn called by hand on a graph built under
# torch.inference_mode(False) reaches them without any of the names below.
_NO_AUTOGRAD_ATEN = ("convolution_backward", "convolution_backward_overrideable", "_slow_conv2d_backward")
_NO_AUTOGRAD = ("torch.nn.grad.conv2d_input", "torch.autograd.grad", "torch.autograd.backward",
                *(f"torch.func.{name}" for name in ("vjp", "grad", "grad_and_value", "jacrev", "jacfwd", "jvp",
                                                    "hessian", "linearize")),
                "course_lib.matmul.conv_matrix", "course_lib.matmul.conv2d_matmul",
                # nn.ConvTranspose2d(..)(g, output_size=..) works output_padding out for the student: every
                # forward of a transposed-convolution module goes through this method
                "torch.nn.modules.conv._ConvTransposeNd._output_padding")


# ...and the operators underneath, watched while the function runs: a convolution with one-hot kernels
# (F.conv2d with torch.eye(C·kH·kW) as its weight) copies every patch out in one call, F.fold's col2im
# and F.unfold's im2col handle patches whole, and constant_pad_nd is the padding behind F.pad.
_NO_PATCH_ATEN = (*(op for op in _CONV_BY_HAND_ATEN if op not in ("unfold", "as_strided")), "col2im",
                  "constant_pad_nd")


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
        why = ("do the padding and the patch gathering yourself: F.pad would pad for you, and F.unfold, F.fold or a "
               "convolution with one-hot kernels would gather the patches.")
        with refuse_aten_ops(_NO_PATCH_ATEN, why), forbidden(_NO_UNFOLD_OR_PAD, why):
            got = answer(x.clone(), ks, stride, pad, dil)
        if not isinstance(got, torch.Tensor):
            raise Feedback(f"Return a tensor, got {type(got).__name__}.")
        where = f"For x of shape {shape}, kernel_size={ks}, stride={stride}, padding={pad}, dilation={dil}"
        if got.shape != expected.shape:
            hints = [hint for wrong, hint in _patch_mistakes(x, ks, stride, pad, dil) if got.shape == wrong.shape]
            hint = hints[0] if hints else (" The patch matrix has N·oH·oW rows, one per output pixel of every "
                                           "image, and C·kH·kW columns.")
            raise Feedback(f"{where}: your matrix has shape {tuple(got.shape)}, which is not the patch "
                           f"matrix's.{hint}")
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
                    "get the exact size back, one value per axis (output_padding=(ph, pw)), since height and "
                    "width can need different ones." if stride > 1 and short else
                    " Pass F.conv_transpose2d the forward weight as it is, with the layer's stride and padding.")
            raise Feedback(f"For {where} your gradient has shape {tuple(got.shape)}; expected "
                           f"{tuple(expected.shape)}.{hint}")
        if not torch.allclose(got, expected, atol=1e-8):
            if not got.any() and expected.any():
                raise Feedback(f"For {where} your gradient is all zeros. Your function runs in inference mode, "
                               "where autograd records nothing: compute the gradient with "
                               "F.conv_transpose2d instead.")
            raise Feedback(f"For {where} your values differ from autograd's. The weight of "
                           "F.conv_transpose2d has the same (out, in, kH, kW) layout as the forward weight: "
                           "pass it unchanged, with the same stride and padding.")
    return ("your gradient equals autograd's for six layers, including stride 2 with odd and even sizes and a "
            "rectangular input and kernel.")


def _run_without_autograd(answer, *args):
    """The student's input_grad(*args), with autograd's routes to the gradient switched off.

    Under torch.inference_mode() autograd records no graph, even inside torch.enable_grad(), so a tensor's
    grad_fn is None and the engine's run_backward has nothing to work on. A function can still leave it
    (torch.inference_mode(False)) and build a graph whose grad_fn it calls by hand, so autograd's
    convolution operator is refused underneath as well; forbidden() refuses the named functions that
    compute a gradient (and course_lib's ready-made convolutions) outright.
    """
    why = ("compute the gradient with F.conv_transpose2d and the output_padding you worked out, not with "
           "autograd, torch.func, nn.ConvTranspose2d (its output_size works output_padding out for you) or "
           "course_lib's ready-made convolutions.")
    try:
        with refuse_aten_ops(_NO_AUTOGRAD_ATEN, why), forbidden(_NO_AUTOGRAD, why), torch.inference_mode():
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
