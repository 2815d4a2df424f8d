"""Checks for the appendix, "Under the hood: making it fast" (chapters/06_under_the_hood)."""

from __future__ import annotations

import math
import numbers
from typing import Any

from .core import Feedback, as_int, expect_int, register, reject_known_mistakes


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


@register("ex-ch6-nhwc-strides")
def _nhwc_strides(answer: Any) -> str:
    got = _int_tuple(answer, 4, "the strides")
    reject_known_mistakes(got, {
        (300, 100, 10, 1): "Those are the strides of a contiguous (2, 3, 10, 10) NCHW tensor. In (N, H, W, C) "
                           "the channels are the innermost axis: stride 1 belongs to C.",
        (300, 10, 1, 100): "Those are the strides of an NCHW tensor permuted to (N, H, W, C) order, as "
                           "permute(0, 2, 3, 1) gives them before .contiguous(): the values have not moved, so "
                           "each channel is still a whole plane. In a contiguous NHWC tensor C is innermost.",
        (1, 3, 30, 300): "Reversed: the *last* axis (C) moves fastest, so it has the smallest stride.",
        (1200, 120, 12, 4): "Those are bytes (4 per float32); .stride() counts elements.",
    })
    if got != (300, 30, 3, 1):
        raise Feedback("Reread the definition of a stride at the start of 'Patches without copying': how "
                       "many elements does one step along each axis skip in a contiguous tensor?")
    return "(300, 30, 3, 1): C innermost, then W (3 values a pixel), H (30 a row), N (300 an image)."


@register("ex-ch6-patch-view-strides")
def _patch_view_strides(answer: Any) -> str:
    got = _int_tuple(answer, 6, "the strides of the view")
    reject_known_mistakes(got, {
        (300, 90, 9, 30, 3, 1): "That is the view without dilation: with dilation 2 neighbouring kernel taps are 2 "
                                "input pixels apart, so the kH and kW strides change too.",
        (300, 60, 6, 90, 9, 1): "Swapped: the stride (3) is the step between output pixels, the oH and oW axes; the "
                                "dilation (2) is the step between kernel taps, the kH and kW axes.",
        (300, 30, 3, 60, 6, 1): "That is stride 1: with stride 3, one step between output pixels moves three input "
                                "pixels.",
        (300, 180, 18, 60, 6, 1): "One step between output pixels moves by the stride alone; the dilation only spreads "
                                  "the taps inside a patch.",
    })
    if got in ((300, 60, 6, 30, 3, 1), (300, 30, 3, 30, 3, 1)):
        raise Feedback("That ignores both the stride 3 and the dilation 2 of this exercise.")
    if got[0] != 300 or got[5] != 1:
        raise Feedback("The N and C axes of the view step exactly like those of the padded tensor: its "
                       "strides are the answer of the previous exercise.")
    if got != (300, 90, 9, 60, 6, 1):
        raise Feedback("For each of the six axes, ask how many input pixels (or images, or channels) one "
                       "step moves, and turn that into elements with the padded tensor's strides, as "
                       "'Patches without copying' does for stride 1.")
    return ("(300, 90, 9, 60, 6, 1): output pixels are 3 input pixels apart (the stride), kernel taps 2 apart "
            "(the dilation), and all of them read the same memory.")


@register("ex-ch6-page-faults")
def _page_faults(answer: Any) -> str:
    rows = 512 * 14 * 14
    _whole_float_hint(answer)
    if as_int(answer) == rows * 25 * 4 // 4096:
        raise Feedback("That leaves out the column of ones for the bias: each row holds 25 patch values "
                       "and a 1.")
    if as_int(answer) == rows * 26 * 4:
        raise Feedback("That is the number of bytes; a page holds 4 KiB = 4096 bytes.")
    if as_int(answer) == rows * 26:
        raise Feedback("That is the number of float32 values; each takes 4 bytes.")
    if as_int(answer) in (rows * 26 * 4 // 4000, rows * 26 * 4 // 4000 + 1):
        raise Feedback("A KiB is 1024 bytes, so a page is 4096 bytes, not 4000.")
    if as_int(answer) == rows * 26 * 8 // 4096:
        raise Feedback("That counts 8 bytes a value (float64); the patch matrix is float32, 4 bytes a value.")
    if as_int(answer) == 512 * 28 * 28 * 26 * 4 // 4096:
        raise Feedback("That counts one row per input pixel; with stride 2 a 28×28 digit has 14×14 output "
                       "pixels, and a row belongs to each output pixel.")
    expect_int(answer, rows * 26 * 4 // 4096, "Your number of pages",
               "Reread 'Patches without copying' and 'Scratch buffers and page faults': what is one row "
               "of the patch matrix, and what does it hold?")
    return f"{rows:,} rows × 26 columns × 4 bytes = {rows * 26 * 4:,} bytes = {rows * 26 * 4 // 4096:,} pages."


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
