"""Checks for the appendix, "Under the hood: making it fast" (chapters/06_under_the_hood)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

from ..shapes import conv_output_size
from .core import (
    Feedback,
    as_int,
    expect_callable,
    forbidden,
    refuse_operators,
    register,
    reject_known_mistakes,
)


def _whole_float_hint(value: Any) -> None:
    """Raise Feedback if ``value`` is a float (or float tensor) holding a whole number, such as 2548.0."""
    if isinstance(value, bool) or as_int(value) is not None:
        return
    is_float_tensor = hasattr(value, "numel") and hasattr(value, "is_floating_point")
    if is_float_tensor and not (value.numel() == 1 and value.is_floating_point()):
        return
    if not (isinstance(value, numbers.Real) or is_float_tensor):
        return
    number = float(value.item() if is_float_tensor else value)
    if math.isfinite(number) and number.is_integer():
        raise Feedback(f"{value!r} is a whole number stored as a float (division with / always gives one): "
                       f"compute it with // (integer division) or wrap it in int().")


def _int_tuple(answer: Any, n: int, what: str) -> tuple[int, ...]:
    """``answer`` as a tuple of ``n`` ints, or Feedback that says what is wrong with it."""
    if isinstance(answer, (str, bytes)) or not hasattr(answer, "__iter__"):
        raise Feedback(f"Give {what} as a tuple of {n} ints, got {type(answer).__name__}.")
    entries = tuple(answer)
    values = tuple(as_int(v) for v in entries)
    if any(v is None for v in values):
        for v in entries:
            _whole_float_hint(v)
        raise Feedback(f"Every entry of {what} must be a whole number (int), got {answer!r}.")
    if len(values) != n:
        raise Feedback(f"{what[0].upper()}{what[1:]} has {n} entries; yours has {len(values)}.")
    return values


# ---------------------------------------------------------------------------------------------------------------
# The first three exercises ask for a function of the settings, checked on layouts the page never shows. A
# tensor of the right shape would hand over its .stride(), and as_strided, unfold or conv2d_matmul the view or
# the patch matrix, so every PyTorch operator is refused while the student's function runs (pure arithmetic
# runs none), and so are NumPy's array constructors (an array's .strides are the same numbers, in bytes) and
# course_lib's im2col_bytes.
_NUMPY_ARRAYS = ("numpy.empty", "numpy.zeros", "numpy.ones", "numpy.full", "numpy.arange", "numpy.array",
                 "numpy.asarray", "numpy.ascontiguousarray", "numpy.empty_like", "numpy.zeros_like",
                 "numpy.ones_like", "numpy.lib.stride_tricks.as_strided",
                 "numpy.lib.stride_tricks.sliding_window_view")


def _run_arithmetic(answer: Callable[..., Any], args: tuple, why: str) -> Any:
    """``answer(*args)`` with every PyTorch operator, NumPy's array constructors and im2col_bytes refused."""
    with (refuse_operators(lambda func: f"PyTorch's {func} operator", why),
          forbidden(_NUMPY_ARRAYS + ("course_lib.matmul.im2col_bytes",), why,
                    namespace=getattr(answer, "__globals__", None))):
        return answer(*args)


def _returned(answer: Callable[..., Any], args: tuple, call: str, n: int, why: str) -> tuple[int, ...]:
    """What ``answer(*args)`` returns, as a tuple of ``n`` ints, or Feedback naming ``call``."""
    try:
        got = _run_arithmetic(answer, args, why)
    except (Feedback, NotImplementedError):
        raise
    except Exception as e:  # noqa: BLE001  (say which call failed)
        raise Feedback(f"{call} raised {type(e).__name__}: {e}.") from e
    try:
        return _int_tuple(got, n, f"what {call} returns")
    except Feedback as fb:
        raise Feedback(f"{fb} Return a tuple of {n} ints.") from None


_STRIDE_SHAPES = ((2, 10, 10, 3), (1, 6, 6, 2), (7,), (3, 1, 5), (2, 3, 4, 5, 6), (64, 32, 28, 28), (5, 9))


def _row_major(shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(math.prod(shape[i + 1:]) for i in range(len(shape)))


@register("ex-ch6-nhwc-strides")
def _nhwc_strides(answer: Any) -> str:
    expect_callable(answer)
    why = ("work the strides out from the shape with integer arithmetic: a tensor or an array of that shape "
           "would report them.")
    seen: dict[tuple[int, ...], str] = {}
    for shape in _STRIDE_SHAPES:
        call = f"contiguous_strides({shape})"
        got = _returned(answer, (shape,), call, len(shape), why)
        expected = _row_major(shape)
        if got == expected:
            seen[got] = call
            continue
        if got in seen:
            raise Feedback(f"{call} returns the same strides as {seen[got]}, another shape: compute them from "
                           "the shape you are given.")
        if got == tuple(reversed(_row_major(tuple(reversed(shape))))):
            hint = "Reversed: the *last* axis moves fastest, so it has stride 1 and the first axis the largest."
        elif got == tuple(4 * s for s in expected):
            hint = ".stride() counts elements, not bytes."
        elif got == tuple(math.prod(shape[i:]) for i in range(len(shape))):
            hint = ("One axis too many in each product: one step along an axis skips the elements of all the "
                    "axes after it, not including its own.")
        else:
            hint = ("Reread the definition of a stride at the start of 'Patches without copying': how many "
                    "elements does one step along each axis skip in a contiguous tensor?")
        raise Feedback(f"For {call} you return {got}. {hint}")
    return ("your strides agree with .stride() on shapes of one to five axes: the last axis has stride 1, and "
            "each axis skips the product of the sizes after it. For (N, H, W, C) = (2, 10, 10, 3) that is "
            "(300, 30, 3, 1).")


# (padded NHWC shape, stride, dilation), the exercise's own first
_VIEW_SETTINGS = (((2, 10, 10, 3), 3, 2), ((1, 6, 6, 2), 1, 1), ((4, 9, 12, 5), 2, 3), ((3, 11, 7, 1), 1, 2),
                  ((1, 8, 8, 16), 3, 1))


def _view_strides(shape: tuple[int, ...], stride: int, dilation: int) -> tuple[int, ...]:
    sN, sH, sW, sC = _row_major(shape)
    return sN, stride * sH, stride * sW, dilation * sH, dilation * sW, sC


@register("ex-ch6-patch-view-strides")
def _patch_view_strides(answer: Any) -> str:
    expect_callable(answer)
    why = ("work the strides out with integer arithmetic: as_strided, unfold or a tensor of that shape would "
           "hand them over.")
    for shape, stride, dilation in _VIEW_SETTINGS:
        call = f"patch_view_strides({shape}, stride={stride}, dilation={dilation})"
        got = _returned(answer, (shape, stride, dilation), call, 6, why)
        if got == _view_strides(shape, stride, dilation):
            continue
        sN, sH, sW, sC = _row_major(shape)
        if stride != dilation and got == _view_strides(shape, dilation, stride):
            hint = ("Swapped: the stride is the step between output pixels, the oH and oW axes; the dilation is "
                    "the step between kernel taps, the kH and kW axes.")
        elif dilation != 1 and got == _view_strides(shape, stride, 1):
            hint = ("That is the view without dilation: neighbouring kernel taps are `dilation` input pixels "
                    "apart, so the kH and kW strides change too.")
        elif stride != 1 and got == _view_strides(shape, 1, dilation):
            hint = "One step between output pixels moves `stride` input pixels, so the oH and oW strides change."
        elif dilation != 1 and got == _view_strides(shape, stride * dilation, dilation):
            hint = ("One step between output pixels moves by the stride alone; the dilation only spreads the "
                    "taps inside a patch.")
        elif got[0] != sN or got[5] != sC:
            hint = ("The N and C axes of the view step exactly like those of the padded tensor: they are its "
                    "strides.")
        else:
            hint = ("For each of the six axes, ask how many input pixels (or images, or channels) one step "
                    "moves, and turn that into elements with the padded tensor's strides, as 'Patches without "
                    "copying' does for stride 1.")
        raise Feedback(f"For {call} you return {got}. {hint}")
    return ("your strides agree on five layouts: output pixels are `stride` input pixels apart, kernel taps "
            "`dilation` apart, and all of them read the padded tensor's memory.")


_PAGE_SETTINGS = ((512, 1, 28, 5, 2, 2), (64, 1, 28, 5, 2, 2), (3, 8, 14, 3, 2, 1), (10, 3, 32, 3, 1, 1),
                  (1, 16, 7, 3, 1, 1), (7, 2, 9, 4, 3, 0))


def _pages(batch: int, channels: int, size: int, ks: int, stride: int, padding: int, *,
           ones: bool = True, value_bytes: int = 4, page: int = 4096, rows_per_pixel: bool = False,
           round_up: bool = True) -> int:
    side = size if rows_per_pixel else conv_output_size(size, ks, stride, padding)
    n_bytes = batch * side * side * (channels * ks * ks + ones) * value_bytes
    return -(-n_bytes // page) if round_up else n_bytes // page


@register("ex-ch6-page-faults")
def _page_faults(answer: Any) -> str:
    expect_callable(answer)
    why = ("work the size out with integer arithmetic (chapter 1's conv_output_size is allowed): building the "
           "patch matrix, or course_lib's im2col_bytes, would hand it over.")
    for settings in _PAGE_SETTINGS:
        call = "patch_matrix_pages({}, {}, {}, {}, {}, {})".format(*settings)
        try:
            got = _run_arithmetic(answer, settings, why)
        except (Feedback, NotImplementedError):
            raise
        except Exception as e:  # noqa: BLE001
            raise Feedback(f"{call} raised {type(e).__name__}: {e}.") from e
        try:
            _whole_float_hint(got)
        except Feedback as fb:
            raise Feedback(f"{call} returns {got!r}: {fb}") from None
        value = as_int(got)
        if value is None:
            raise Feedback(f"{call} should return a whole number of pages (an int), got {type(got).__name__}.")
        if value == _pages(*settings):
            continue
        batch, channels, size, ks, stride, padding = settings
        side = conv_output_size(size, ks, stride, padding)
        n_bytes = batch * side * side * (channels * ks * ks + 1) * 4
        mistakes = [
            (_pages(*settings, ones=False), "That leaves out the column of ones for the bias: each row holds "
                                            "C·k·k patch values and a 1."),
            (n_bytes, "That is the number of bytes; a page holds 4 KiB = 4096 bytes."),
            (n_bytes // 4, "That is the number of float32 values; each takes 4 bytes."),
            (_pages(*settings, page=4000), "A KiB is 1024 bytes, so a page is 4096 bytes, not 4000."),
            (_pages(*settings, value_bytes=8), "That counts 8 bytes a value (float64); the patch matrix is "
                                               "float32, 4 bytes a value."),
            (_pages(*settings, rows_per_pixel=True), "That counts one row per input pixel; a row belongs to each "
                                                     "output pixel, and chapter 1's formula gives the output grid."),
            (_pages(*settings, round_up=False), "Round up: a matrix that fills part of a page still touches that "
                                                "page."),
        ]
        hint = next((why_wrong for wrong, why_wrong in mistakes if value == wrong),
                    "Reread 'Patches without copying' and 'Scratch buffers and page faults': what is one row of "
                    "the patch matrix, and what does it hold?")
        raise Feedback(f"{call} returns {value}; that is not it. {hint}")
    rows = 512 * 14 * 14
    return (f"your function agrees on six layers. For simple_cnn's first layer at batch size 512: {rows:,} rows "
            f"× 26 columns × 4 bytes = {rows * 26 * 4:,} bytes = {rows * 26 * 4 // 4096:,} pages.")


@register("ex-ch6-channel-distance")
def _channel_distance(answer: Any) -> str:
    got = _int_tuple(answer, 2, "the two distances")
    reject_known_mistakes(got, {
        (784, 1): "Those are distances in elements; the question asks for bytes (a float32 is 4 bytes).",
        (784, 4): "Mixed units: 784 is in elements and 4 in bytes; give both in bytes (a float32 is "
                  "4 bytes).",
        (3136, 1): "Mixed units: 3136 is in bytes and 1 in elements; give both in bytes (a float32 is "
                   "4 bytes).",
        (4, 3136): "Swapped: in NCHW a channel is a whole 28×28 plane, so channel 1 starts a plane "
                   "later; in channels-last the channels of a pixel are neighbours.",
    })
    if got[0] != 28 * 28 * 4:
        raise Feedback(f"In NCHW, channel 1 of a pixel sits one whole H×W plane after channel 0: "
                       f"{got[0]} bytes is not that.")
    if got[1] != 4:
        raise Feedback("In channels-last the 32 channels of one pixel are stored next to each other.")
    return "NCHW: one 28×28 plane of float32 = 3,136 bytes apart; channels-last: 4 bytes, neighbours."


@register("ex-ch6-unfold-shape")
def _unfold_shape(answer: Any) -> str:
    got = _int_tuple(answer, 3, "the shape")
    reject_known_mistakes(got, {
        (8, 49, 144): "That is a transposed layout, one row per patch (conv2d_matmul's patch matrix "
                      "also has a row per patch, but stacks the batch, (N·L, kH·kW·C + 1)); F.unfold "
                      "puts the patch values first: (N, C·k·k, L).",
        (8, 144, 196): "196 counts the input pixels. L counts output pixels, and stride 2 shrinks each side.",
    })
    if got == (8, 9, 49) or got == (8, 16, 49):
        raise Feedback("Each patch holds the kernel's 3×3 values in every one of the 16 channels: "
                       "C·k·k = 144.")
    if got != (8, 144, 49):
        raise Feedback("Reread the layout of F.unfold's result in 'Patches without copying': what does each "
                       "axis count? For L, chapter 1's output-size formula gives the output grid.")
    return "(8, 144, 49): 16·3·3 = 144 values per patch, 7·7 = 49 patches per image."
