"""Checks for the appendix, "Under the hood: making it fast" (chapters/06_under_the_hood)."""

from __future__ import annotations

from typing import Any

from .core import Feedback, as_int, expect_int, register


def _int_tuple(answer: Any, n: int, what: str) -> tuple[int, ...]:
    """``answer`` as a tuple of ``n`` ints, or Feedback that says what is wrong with it."""
    if isinstance(answer, (str, bytes)) or not hasattr(answer, "__iter__"):
        raise Feedback(f"Give {what} as a tuple of {n} ints, got {type(answer).__name__}.")
    values = tuple(as_int(v) for v in answer)
    if any(v is None for v in values):
        raise Feedback(f"Every entry of {what} must be a whole number (int), got {answer!r}.")
    if len(values) != n:
        raise Feedback(f"{what[0].upper()}{what[1:]} has {n} entries; yours has {len(values)}.")
    return values


@register("ex-ch6-nhwc-strides")
def _nhwc_strides(answer: Any) -> str:
    got = _int_tuple(answer, 4, "the strides")
    if got == (300, 100, 10, 1):
        raise Feedback("Those are the strides of a contiguous (2, 3, 10, 10) NCHW tensor. In (N, H, W, C) "
                       "the channels are the innermost axis: stride 1 belongs to C.")
    if got == (300, 1, 10, 100):
        raise Feedback("Those are the NCHW strides written in (N, H, W, C) order; a contiguous NHWC tensor "
                       "has C innermost, then W, then H.")
    if got == (1, 3, 30, 300):
        raise Feedback("Reversed: the *last* axis (C) moves fastest, so it has the smallest stride.")
    if got != (300, 30, 3, 1):
        raise Feedback("Start from the last axis: C has stride 1; one step in W skips the C = 3 values of a "
                       "pixel; one step in H skips a whole row of W·C values; one step in N a whole image.")
    return "(300, 30, 3, 1): C innermost, then W (3 values a pixel), H (30 a row), N (300 an image)."


@register("ex-ch6-patch-view-strides")
def _patch_view_strides(answer: Any) -> str:
    got = _int_tuple(answer, 6, "the strides of the view")
    if got == (300, 30, 3, 30, 3, 1):
        raise Feedback("That is the view for stride 1. With stride 2, one step between output pixels "
                       "moves two input pixels: multiply the oH and oW strides by the stride.")
    if got == (300, 60, 6, 60, 6, 1):
        raise Feedback("The kernel taps are neighbouring input pixels whatever the stride: only the oH and "
                       "oW strides are multiplied by 2.")
    if got != (300, 60, 6, 30, 3, 1):
        raise Feedback("Use (sN, sH·stride, sW·stride, sH, sW, sC) with the padded tensor's strides "
                       "(sN, sH, sW, sC) of the previous exercise.")
    return ("(300, 60, 6, 30, 3, 1): output pixels are 2 input pixels apart, kernel taps 1 apart, "
            "and all of them read the same memory.")


@register("ex-ch6-page-faults")
def _page_faults(answer: Any) -> str:
    rows = 512 * 14 * 14
    if as_int(answer) == rows * 25 * 4 // 4096:
        raise Feedback("That leaves out the column of ones for the bias: each row holds 25 patch values "
                       "and a 1.")
    if as_int(answer) == rows * 26 * 4:
        raise Feedback("That is the number of bytes; a page holds 4 KiB = 4096 bytes.")
    if as_int(answer) == rows * 26 * 4 // 4000:
        raise Feedback("A KiB is 1024 bytes, so a page is 4096 bytes, not 4000.")
    expect_int(answer, rows * 26 * 4 // 4096, "Your number of pages",
               "Rows: one per output pixel of every image (512·14·14); columns: 25 patch values and a 1; "
               "4 bytes each; then divide by 4096.")
    return f"{rows:,} rows × 26 columns × 4 bytes = {rows * 26 * 4:,} bytes = {rows * 26 * 4 // 4096:,} pages."


@register("ex-ch6-channel-distance")
def _channel_distance(answer: Any) -> str:
    got = _int_tuple(answer, 2, "the two distances")
    if got == (784, 1):
        raise Feedback("Those are distances in elements; the question asks for bytes (a float32 is 4 bytes).")
    if got == (4, 3136):
        raise Feedback("Swapped: in NCHW a channel is a whole 28×28 plane, so channel 1 starts a plane "
                       "later; in channels-last the channels of a pixel are neighbours.")
    if got[0] != 28 * 28 * 4:
        raise Feedback(f"In NCHW, channel 1 of a pixel sits one whole H×W plane after channel 0: "
                       f"{got[0]} bytes is not that.")
    if got[1] != 4:
        raise Feedback("In channels-last the 32 channels of one pixel are stored next to each other.")
    return "NCHW: one 28×28 plane of float32 = 3,136 bytes apart; channels-last: 4 bytes, neighbours."


@register("ex-ch6-unfold-shape")
def _unfold_shape(answer: Any) -> str:
    got = _int_tuple(answer, 3, "the shape")
    if got == (8, 49, 144):
        raise Feedback("That is the transposed layout, (N, L, C·k·k), which conv2d_matmul uses; F.unfold "
                       "puts the patch values first: (N, C·k·k, L).")
    if got == (8, 144, 196):
        raise Feedback("With stride 2 the 14×14 input gives a 7×7 output: L counts output pixels, 49.")
    if got == (8, 9, 49) or got == (8, 16, 49):
        raise Feedback("Each patch holds the kernel's 3×3 values in every one of the 16 channels: "
                       "C·k·k = 144.")
    if got != (8, 144, 49):
        raise Feedback("F.unfold returns (N, C·k·k, L): L is the number of output pixels, "
                       "(14 + 2 - 3)//2 + 1 = 7 per axis.")
    return "(8, 144, 49): 16·3·3 = 144 values per patch, 7·7 = 49 patches per image."
