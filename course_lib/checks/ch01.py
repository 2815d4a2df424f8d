"""Checks for chapter 1, "Convolutions and their shapes"."""

from __future__ import annotations

import functools
import math
import numbers
import sys
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from ..shapes import conv_output_size
from .core import (
    Feedback,
    as_int,
    expect_callable,
    expect_int,
    forbidden,
    refuse_all_operators,
    refuse_aten_ops,
    register,
    reject_known_mistakes,
)


def _reject_str(answer: Any, what: str) -> None:
    if isinstance(answer, (str, bytes)):
        raise Feedback(f"You gave the string {answer!r}; give {what} as Python numbers, without quotes.")


def _int_tuple(answer: Any, what: str) -> tuple[int, ...]:
    """``answer`` (a tuple, list, torch.Size or 1-d tensor) as a tuple of ints, or a Feedback saying why not."""
    _reject_str(answer, what)
    if as_int(answer) is not None or isinstance(answer, float):
        raise Feedback(f"You gave a single number; give {what}.")
    try:
        items = list(answer)
    except TypeError as e:
        raise Feedback(f"Give {what}, got {type(answer).__name__}.") from e
    values = tuple(as_int(v) for v in items)
    if any(v is None for v in values):
        raise Feedback(f"Every entry must be a whole number (an int), got {items!r}; "
                       "use // rather than / in your arithmetic.")
    return values  # type: ignore[return-value]


def _largest_input(out: int, ks: int, stride: int, padding: int) -> int:
    """The largest input size whose output is ``out``, found by trying every size up to one that is too big."""
    return max(n for n in range(1, (out + 1) * stride + ks) if conv_output_size(n, ks, stride, padding) == out)


@register("ex-ch1-output-size")
def _output_size(answer: Any) -> str:
    # nn.Conv2d(1, 16, 5, stride=4, padding=3): the output is (n + 1)//4 + 1, which is 8 for n = 27 to 30.
    # No hint says whether a height gives 8 (that would bracket the answer): 28 and 29 get the generic one.
    if isinstance(answer, float):
        raise Feedback(f"You gave the float {answer!r}: a height is a whole number of rows. "
                       "Use floor division // in your arithmetic, as the output-size formula does.")
    value = as_int(answer)
    if value is not None and value < 1:
        raise Feedback(f"You gave {value}: a height is a positive number of rows.")
    go_on = ("The floor throws away leftover rows, so several heights give the same output: add rows to "
             "the input until a 9th kernel position fits, and stop just before that.")
    reject_known_mistakes(value, {
        8: "8 is the output height; the question asks for an input height: the largest one whose "
           "output is still 8 high.",
        27: "27 is what solving the formula for n gives if you leave out the floor. " + go_on,
        33: "33 would be the largest if the padding were added once. padding=3 adds 3 rows above AND 3 "
            "below, so the padded input has n + 2*3 rows.",
        34: "34 would be the largest if the output were (n + 2*3 - 5)//4, without the +1. That count is "
            "the number of strides between positions; the first position needs no stride, so the "
            "number of positions is one more.",
        36: "36 ignores the padding: padding=3 first adds 3 rows of zeros above and 3 below, and the "
            "kernel slides over the padded input.",
    })
    expect_int(answer, _largest_input(8, 5, stride=4, padding=3), "Your input height",
               "Put it back into the formula: its output should be 8 high, and one more row should "
               "make it 9. " + go_on)
    return ("with padding 3 a height n is padded to n + 6 rows, and the output is (n + 6 - 5)//4 + 1 = "
            "(n + 1)//4 + 1. That is 8 while 28 <= n + 1 <= 31, so for n = 27 to 30: the floor drops up "
            "to stride - 1 = 3 leftover rows. At n = 31 the padded input has 37 rows and a 9th position "
            "fits (padded rows 32 to 36).")


# ex-ch1-same-padding: a function pad_like_same(kernel_size, dilation) -> F.pad's (left, right, top, bottom) that
# keeps the size under a stride-1 convolution, each axis split as padding="same" splits it. Checked on odd and even
# spans, with and without dilation, ints and (height, width) pairs. The chapter's own kernel, (4, 5) with dilation
# (3, 2), comes last, so that no message about another setting can confirm an answer for it, and no message ever
# prints its padding.
_SAME_SETTINGS = ((3, 1), (4, 1), (3, 2), (2, 3), ((3, 6), 1), (5, (1, 3)), ((2, 7), (5, 1)), ((1, 4), (2, 3)),
                  ((4, 5), (3, 2)))
# A layer built with padding="same" holds the split (nn.Conv2d keeps it in _reversed_padding_repeated_twice), so
# every PyTorch operator is refused while the function runs, the convolution layers by name first for a message
# that names them (every PyTorch convolution layer reaches _ConvNd.__init__), and so is course_lib's
# same_padding, whose error names the total.
_SAME_FORBIDDEN = ("torch.nn.Conv1d", "torch.nn.Conv2d", "torch.nn.Conv3d", "torch.nn.LazyConv2d",
                   "torch.nn.modules.conv._ConvNd.__init__", "course_lib.shapes.same_padding")


def _pair(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)  # type: ignore[return-value]


def _same_pad(kernel_size: Any, dilation: Any) -> tuple[int, ...]:
    """(left, right, top, bottom) as padding="same" splits it: dilation*(ks-1) per axis, the odd pixel after."""
    (kh, kw), (dh, dw) = _pair(kernel_size), _pair(dilation)
    pad: list[int] = []
    for ks, d in ((kw, dw), (kh, dh)):  # F.pad lists the last axis, the width, first
        total = d * (ks - 1)
        pad += [total // 2, total - total // 2]
    return tuple(pad)


def _same_hint(got: tuple[int, ...], kernel_size: Any, dilation: Any) -> str | None:
    """What a wrong padding ``got`` for (kernel_size, dilation) says about the mistake (None: nothing specific).

    No hint names the right padding or a number of pixels."""
    (kh, kw), (dh, dw) = _pair(kernel_size), _pair(dilation)
    expected = _same_pad(kernel_size, dilation)
    totals = (got[0] + got[1], got[2] + got[3])
    if totals == (expected[0] + expected[1], expected[2] + expected[3]):
        if got == (expected[1], expected[0], expected[3], expected[2]):
            return ("That keeps the size, but it puts an odd axis's extra pixel before (left or top); "
                    "padding='same' puts it after (right or bottom).")
        return ("The totals are right, but split each axis as padding='same' does: equally when the total is "
                "even, and otherwise with the extra pixel after (right or bottom).")
    if got == expected[2:] + expected[:2]:
        return ("The height's padding and the width's are the other way round. F.pad's order is (left, right, top, "
                "bottom): the first two numbers pad the width (the last axis); kernel_size and dilation pairs "
                "list the height first.")
    if (dh, dw) != (1, 1) and got == _same_pad(kernel_size, 1):
        return ("That is the padding without dilation. The dilation spreads the same weights apart: how many "
                "rows and columns does the kernel span now?")
    if got == _same_pad(kernel_size, (dw, dh)):
        return "You swapped the dilations: like kernel_size, a dilation pair lists the height first."
    if got == _same_pad((kw, kh), dilation):
        return "You swapped the kernel's height and width: kernel_size is (height, width)."
    if totals == (dw * kw, dh * kh):
        return ("Your padding adds dilation*ks pixels per axis. A dilated kernel spans dilation*(ks-1)+1 pixels, "
                "since the gaps are only between its weights.")
    return None


def _same_fallback(totals: tuple[int, int], kernel_size: Any, dilation: Any) -> str:
    (kh, kw), (dh, dw) = _pair(kernel_size), _pair(dilation)
    lost = [axis for axis, (total, ks, d) in {"height": (totals[1], kh, dh), "width": (totals[0], kw, dw)}.items()
            if total != d * (ks - 1)]
    spans = {"height": "rows", "width": "columns"}
    return (f"With this padding a stride-1 convolution does not keep the input's {' or its '.join(lost)}: count the "
            f"{' and the '.join(spans[axis] for axis in lost)} the dilated kernel spans, then how many extra pixels "
            "keep that size.")


@register("ex-ch1-same-padding")
def _same_padding(answer: Any) -> str:
    expect_callable(answer)
    why = ("work the padding out from the kernel size and the dilation with plain arithmetic: a layer built with "
           "padding='same', any PyTorch operator, or course_lib's same_padding would hand it over.")
    what = "a tuple of four ints (left, right, top, bottom), as F.pad takes it"
    for kernel_size, dilation in _SAME_SETTINGS:
        call = f"pad_like_same({kernel_size!r}, {dilation!r})"
        with (refuse_all_operators(why),
              forbidden(_SAME_FORBIDDEN, why, namespace=getattr(answer, "__globals__", None))):
            try:
                got = answer(kernel_size, dilation)
            except (Feedback, NotImplementedError):
                raise
            except Exception as e:  # noqa: BLE001  (say which call failed, and why it may have)
                raise Feedback(f"{call} raised {type(e).__name__}: {e}. kernel_size and dilation may each be an "
                               "int (the same for both axes) or a (height, width) pair.") from e
        try:
            pad = _int_tuple(got, what)
        except Feedback as fb:
            raise Feedback(f"{call} returned {type(got).__name__} {got!r}. {fb}") from None
        if len(pad) != 4:
            raise Feedback(f"{call} returned {len(pad)} numbers; F.pad on an image takes four, "
                           "(left, right, top, bottom).")
        if min(pad) < 0:
            raise Feedback(f"{call} returned {pad}: negative padding crops the image; every entry should be 0 "
                           "or more.")
        expected = _same_pad(kernel_size, dilation)
        if pad == expected:
            continue
        hint = (_same_hint(pad, kernel_size, dilation)
                or _same_fallback((pad[0] + pad[1], pad[2] + pad[3]), kernel_size, dilation))
        raise Feedback(f"For {call} you return {pad}. {hint}")
    return (f"your function agrees with padding='same' on {len(_SAME_SETTINGS)} settings: odd and even spans, "
            "with and without dilation, ints and (height, width) pairs. Each axis needs dilation*(ks-1) extra "
            "pixels, the span minus one, and an odd total puts its extra pixel after. For kernel_size=(4, 5) and "
            "dilation=(3, 2): across, the kernel spans 2*(5-1)+1 = 9 columns, so 8 extra pixels, 4 on each side; "
            "down, it spans 3*(4-1)+1 = 10 rows, so 9 extra pixels, 4 above and 5 below: (4, 4, 4, 5).")


def _kernel_probes() -> dict[str, torch.Tensor]:
    flat = torch.full((1, 1, 10, 10), 0.7)
    rows = torch.arange(10).view(10, 1).expand(10, 10)
    cols = torch.arange(10).view(1, 10).expand(10, 10)
    down = (rows >= 5).float()[None, None]  # paper above, ink below: a horizontal edge
    right = (cols >= 5).float()[None, None]  # paper on the left, ink on the right: a vertical edge
    diagonal = (rows + cols >= 9).float()[None, None]  # paper above-left, ink below-right
    return {"flat": flat, "horizontal": down, "vertical": right, "diagonal": diagonal}


@register("ex-ch1-diagonal-kernel")
def _diagonal_kernel(answer: Any) -> str:
    _reject_str(answer, "a 3×3 kernel (a tensor or a nested list of numbers)")
    try:
        k = torch.as_tensor(answer)
    except (TypeError, ValueError, RuntimeError) as e:
        raise Feedback(f"Give a 3×3 kernel as a tensor or a nested list of numbers, three rows of three; "
                       f"torch.as_tensor cannot read your {type(answer).__name__}: {e}") from e
    if k.is_complex():
        raise Feedback("Your kernel has complex entries; a kernel's weights are real numbers.")
    k = k.to(torch.float32)
    if k.shape != (3, 3):
        raise Feedback(f"Your kernel has shape {tuple(k.shape)}; make it a 3×3 tensor.")
    if not torch.isfinite(k).all():
        raise Feedback("Your kernel contains NaN or infinite values.")
    out = {name: F.conv2d(img, k.view(1, 1, 3, 3)) for name, img in _kernel_probes().items()}
    tol = 1e-4 * k.abs().sum()  # relative, so a correct kernel scaled by any factor passes
    if out["flat"].abs().max() > tol:
        raise Feedback("On a flat (constant) image your kernel does not give 0: make its weights sum to 0.")
    if out["horizontal"].abs().max() > tol:
        raise Feedback("Your kernel responds to a horizontal edge (values changing from top to bottom only). "
                       "On such an image every pixel of a kernel row sees the same value, so the response "
                       "is a combination of the row sums: make every row of the kernel sum to 0.")
    if out["vertical"].abs().max() > tol:
        raise Feedback("Your kernel responds to a vertical edge (values changing from left to right only). "
                       "There every pixel of a kernel column sees the same value: make every column of "
                       "the kernel sum to 0.")
    if k.abs().sum() == 0 or out["diagonal"].max() <= tol:
        raise Feedback("Your kernel is blind to the diagonal edge as well (an all-zero kernel is blind to "
                       "everything). Draw a 3×3 window on the diagonal edge: which corner is ink? Rows and "
                       "columns that sum to 0 can still weigh one corner against its neighbours.")
    return ("it is zero on flat regions, horizontal edges and vertical edges, and it responds to a "
            "diagonal edge.")


# The ready-made convolutions conv_by_hand must not call, refused by name (forbidden) for a message that
# names them. course_lib's are Python functions, so forbidden() swaps their code: the names the package
# re-exports (course_lib.conv2d_loops) refuse as well.
_CONV_BY_HAND_FORBIDDEN = ("torch.nn.functional.conv2d", "torch.conv2d", "torch.convolution",
                           "torch.nn.functional.unfold", "torch._C._nn.im2col",
                           "course_lib.matmul.conv2d_loops", "course_lib.matmul.conv2d_matmul",
                           "course_lib.matmul.conv_matrix")
# SciPy's and NumPy's finished tools, refused by name for each module the student has imported (importing
# SciPy for every check would cost seconds), looked up again on each case: SciPy's convolutions and
# correlations, NumPy's window views (sliding_window_view and as_strided hand over the patches, and
# sliding_window_view goes through as_strided, whose code forbidden() swaps), its 1-D convolutions and its
# FFTs (an FFT product is a convolution); _raw_fft is the private function every numpy.fft transform reaches.
_CONV_BY_HAND_ELSEWHERE = {
    "scipy.signal": ("scipy.signal.correlate2d", "scipy.signal.convolve2d", "scipy.signal.correlate",
                     "scipy.signal.convolve", "scipy.signal.fftconvolve", "scipy.signal.oaconvolve"),
    "scipy.ndimage": ("scipy.ndimage.correlate", "scipy.ndimage.convolve", "scipy.ndimage.correlate1d",
                      "scipy.ndimage.convolve1d"),
    "scipy.fft": tuple(f"scipy.fft.{name}" for name in ("fft", "ifft", "rfft", "irfft", "fft2", "ifft2", "rfft2",
                                                         "irfft2", "fftn", "ifftn", "rfftn", "irfftn")),
    "numpy": ("numpy.lib.stride_tricks.sliding_window_view", "numpy.lib.stride_tricks.as_strided",
              "numpy.convolve", "numpy.correlate", "numpy.fft._pocketfft._raw_fft")
             + tuple(f"numpy.fft.{name}" for name in ("fft", "ifft", "rfft", "irfft", "fft2", "ifft2", "rfft2",
                                                       "irfft2", "fftn", "ifftn", "rfftn", "irfftn")),
}


def _conv_by_hand_targets() -> tuple[str, ...]:
    """The names conv_by_hand must not call: PyTorch's and course_lib's, then those of each module imported now."""
    import pkgutil

    def exists(target: str) -> bool:  # mock.patch cannot patch a name this version lacks
        try:
            pkgutil.resolve_name(target)
        except (ImportError, AttributeError, ValueError):
            return False
        return True

    elsewhere = tuple(target for module, targets in _CONV_BY_HAND_ELSEWHERE.items() if module in sys.modules
                      for target in targets if exists(target))
    return _CONV_BY_HAND_FORBIDDEN + elsewhere


# The net under those names: every PyTorch operator that computes a convolution or hands over the patches
# (F.conv3d, F.conv_transpose2d with a flipped kernel, torch.ops.aten.conv2d, torch._convolution, torch.
# mkldnn_convolution, a conv2d kept in a default argument, Tensor.unfold, torch.as_strided, torch.fft's
# transforms), refused while
# the answer runs. The loops of the chapter's solution only slice, multiply and sum (and loops that index,
# stack, use dot, einsum or numpy reach none of these operators either).
_CONV_BY_HAND_ATEN = ("convolution", "_convolution", "convolution_overrideable", "_convolution_mode",
                      "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
                      "conv_tbc", "mkldnn_convolution", "cudnn_convolution", "cudnn_convolution_transpose",
                      "cudnn_convolution_relu", "cudnn_convolution_add_relu", "miopen_convolution",
                      "miopen_convolution_transpose", "miopen_depthwise_convolution", "_mps_convolution",
                      "_mps_convolution_transpose", "thnn_conv2d", "_slow_conv2d_forward", "slow_conv3d",
                      "slow_conv3d_forward", "slow_conv_dilated2d", "slow_conv_dilated3d",
                      "slow_conv_transpose2d", "slow_conv_transpose3d", "_nnpack_spatial_convolution",
                      "_conv_depthwise2d", "conv_depthwise3d", "im2col", "unfold", "as_strided",
                      "_fft_r2c", "_fft_c2r", "_fft_c2c")


@register("ex-ch1-conv-by-hand")
def _conv_by_hand(answer: Any) -> str:
    expect_callable(answer)
    why = ("compute the convolution yourself. PyTorch's convolutions (nn.Conv2d calls F.conv2d), SciPy's, NumPy's "
           "convolve and FFTs, and course_lib's conv2d_loops, conv2d_matmul and conv_matrix are finished ones, and "
           "F.unfold, Tensor.unfold, as_strided and NumPy's sliding_window_view hand you the patches: loop over "
           "the output positions and take the weighted sums.")
    gen = torch.Generator().manual_seed(0)
    for h, w, kh, kw in [(5, 5, 3, 3), (6, 4, 2, 2), (7, 9, 3, 3), (6, 7, 2, 3)]:
        img, kernel = torch.randn(h, w, generator=gen), torch.randn(kh, kw, generator=gen)
        expected = F.conv2d(img[None, None], kernel[None, None])[0, 0]
        flipped = F.conv2d(img[None, None], kernel.flip(0, 1)[None, None])[0, 0]
        with (forbidden(_conv_by_hand_targets(), why, namespace=getattr(answer, "__globals__", None)),
              refuse_aten_ops(_CONV_BY_HAND_ATEN, why)):
            got = answer(img.clone(), kernel.clone())
        got = torch.as_tensor(got, dtype=torch.float32)
        if got.shape != expected.shape:
            raise Feedback(f"For a {h}×{w} image and a {kh}×{kw} kernel your output has shape "
                           f"{tuple(got.shape)}; expected {tuple(expected.shape)} (no padding, stride 1).")
        if not torch.allclose(got, expected, atol=1e-4, rtol=1e-4):
            if torch.allclose(got, flipped, atol=1e-4):
                raise Feedback("You flipped the kernel (a textbook convolution). Deep learning libraries "
                               "compute cross-correlation: multiply without flipping.")
            raise Feedback(f"Your values differ from F.conv2d for a {h}×{w} image and a {kh}×{kw} kernel.")
    return "your loops agree with F.conv2d on four random cases, including non-square images and kernels."


# ex-ch1-weight-shape: a function (in_channels, out_channels, kernel_size, bias=True) -> (shape, count), checked
# against nn.Conv2d on layers the page shows and on layers it does not. The answer is arithmetic on the settings,
# so every PyTorch operator is refused while the function runs (building any layer, such as
# torch.ao.nn.quantized.Conv2d, makes its weight with one), and the usual layers are refused by name first, for a
# message that names them: nn.Conv2d, nn.LazyConv2d, the constructor every PyTorch convolution layer shares
# (nn.Conv1d/3d, course_lib's MatmulConv2d, fastai's ConvLayer and torch.nn.modules.conv.Conv2d reach it),
# F.conv2d and course_lib's layer_summary.
_WEIGHT_SETTINGS = ((4, 10, (5, 3), True), (5, 12, 3, False), (3, 16, 5, None), (1, 2, (3, 5), False),
                    (8, 1, 1, False), (6, 7, (2, 7), True), (2, 9, (4, 1), True))
_WEIGHT_FORBIDDEN = ("torch.nn.Conv2d", "torch.nn.LazyConv2d", "torch.nn.modules.conv._ConvNd.__init__",
                     "torch.nn.functional.conv2d", "torch.conv2d", "course_lib.summary.layer_summary")


def _call_text(in_channels: int, out_channels: int, kernel_size: Any, bias: bool | None) -> str:
    more = "" if bias is None else f", bias={bias}"
    return f"weight_shape_and_count({in_channels}, {out_channels}, {kernel_size!r}{more})"


@functools.cache
def _conv_layer_key(in_channels: int, out_channels: int, kernel_size: Any, bias: bool | None
                    ) -> tuple[tuple[int, ...], int]:
    """The weight shape and parameter count of the real nn.Conv2d (on the meta device: no memory)."""
    layer = torch.nn.Conv2d(in_channels, out_channels, kernel_size, device="meta",
                            **({} if bias is None else {"bias": bias}))
    return tuple(layer.weight.shape), sum(p.numel() for p in layer.parameters())


def _weight_hint(shape: tuple[int, ...], i: int, o: int, ks: Any) -> str | None:
    """What a wrong weight ``shape`` for nn.Conv2d(i, o, ks) says about the mistake (None: nothing specific)."""
    kh, kw = (ks, ks) if isinstance(ks, int) else ks
    pair = "an int kernel_size means a square kernel, and a pair means (height, width)"
    if len(shape) != 4:
        return (f"A Conv2d weight has 4 dimensions, one kernel per output channel; yours has {len(shape)}. "
                f"Remember that {pair}.")
    if i != o and shape == (i, o, kh, kw):
        return "You have the two channel numbers the other way round: PyTorch puts the output channels first."
    if kh != kw and shape == (o, i, kw, kh):
        return "You have the kernel's height and width the other way round: kernel_size is (height, width), " \
               "and the weight lists kH before kW."
    if shape[:2] == (o, i):
        return f"The channels are right; the kernel's two dimensions are not: {pair}."
    if shape[2:] == (kh, kw):
        return ("The kernel's two dimensions are right; the channels are not: each output channel has one "
                "kernel, and every kernel spans all the input channels.")
    return None


def _count_hint(count: int, shape: tuple[int, ...], i: int, o: int, bias: bool) -> str:
    weights = math.prod(shape)
    if bias and count == weights:
        return "bias=True (the default) gives the layer a bias as well as its weights."
    if not bias and count == weights + o:
        return "With bias=False the layer has no bias: only its weights count."
    if bias and count == weights + i:
        return "The bias has one number per output channel, not per input channel."
    if bias and count == weights + 1:
        return "The bias has one number per output channel, not one for the whole layer."
    return "Count the entries of the weight tensor, then add the bias when there is one."


@register("ex-ch1-weight-shape")
def _weight_shape(answer: Any) -> str:
    expect_callable(answer)
    why = ("work the shape and the count out from the settings with plain arithmetic: building a layer "
           "(nn.Conv2d, nn.LazyConv2d or any other) or running any PyTorch operator would hand them over.")
    seen: dict[tuple, str] = {}  # what the function returned, and for which call
    for i, o, ks, bias in _WEIGHT_SETTINGS:
        call = _call_text(i, o, ks, bias)
        expected_shape, expected_count = _conv_layer_key(i, o, ks, bias)
        with (refuse_all_operators(why),
              forbidden(_WEIGHT_FORBIDDEN, why, namespace=getattr(answer, "__globals__", None))):
            try:
                got = answer(i, o, ks) if bias is None else answer(i, o, ks, bias=bias)
            except (Feedback, NotImplementedError):
                raise
            except Exception as e:  # noqa: BLE001  (say which call failed, and why it may have)
                note = (" bias should default to True, as in nn.Conv2d." if bias is None and "argument" in str(e)
                        else " kernel_size may be an int (a square kernel) or a (height, width) pair.")
                raise Feedback(f"{call} raised {type(e).__name__}: {e}.{note}") from e
        _reject_str(got, "a pair (shape, count)")
        try:
            items = list(got)
        except TypeError as e:
            raise Feedback(f"{call} returned the {type(got).__name__} {got!r}; return a pair (shape, count).") from e
        if len(items) != 2:
            raise Feedback(f"{call} returned {len(items)} values; return a pair (shape, count), the shape as "
                           "a tuple of ints and the count as an int.")
        shape = _int_tuple(items[0], "the shape as a tuple of ints")
        returned = (shape, as_int(items[1]))
        if (shape != expected_shape or returned[1] != expected_count) and returned in seen:
            raise Feedback(f"{call} returns the same as {seen[returned]}, a different layer: compute the shape "
                           "and the count from the function's arguments.")
        seen[returned] = call
        if shape != expected_shape:
            hint = _weight_hint(shape, i, o, ks) or ("Read the weight layout again in the section on NCHW: one "
                                                     "kernel per output channel, spanning every input channel.")
            raise Feedback(f"For {call} your shape is {shape}. {hint}")
        if isinstance(items[1], (str, bytes)) or as_int(items[1]) is None:
            raise Feedback(f"For {call} the count should be a whole number (an int), got "
                           f"{type(items[1]).__name__} {items[1]!r}.")
        count = as_int(items[1])
        if count != expected_count:
            raise Feedback(f"For {call} the shape is right and your count, {count}, is not. "
                           + _count_hint(count, shape, i, o, bias is not False))
    return (f"your function agrees with nn.Conv2d on {len(_WEIGHT_SETTINGS)} layers: square and non-square "
            "kernels, with and without a bias. The weight is (out_channels, in_channels, kH, kW), and the bias "
            "adds one number per output channel.")


# ex-ch1-stride-chain: four layers, each 5×5 with padding 1 and stride 2, on an n×n input.
_CHAIN_KS, _CHAIN_STRIDE, _CHAIN_PADDING, _CHAIN_LAYERS = 5, 2, 1, 4


def _chain_layer(m: int) -> int:
    return conv_output_size(m, _CHAIN_KS, stride=_CHAIN_STRIDE, padding=_CHAIN_PADDING)


def _through(n: int, layer: Callable[[int], int], layers: int) -> int | None:
    """The size after ``layers`` applications of ``layer`` to ``n``, or None once a layer has no output."""
    for _ in range(layers):
        try:
            n = layer(n)
        except ValueError:  # conv_output_size: the kernel does not fit
            return None
        if n < 1:
            return None
    return n


def _ending_at_one(layer: Callable[[int], int], layers: int = _CHAIN_LAYERS) -> list[int]:
    """Every input size (tried up to one far too big) that ``layers`` applications of ``layer`` take to 1."""
    return [n for n in range(1, 1000) if _through(n, layer, layers) == 1]


def _chain_field() -> int:
    """The receptive field of one output unit of the chain: each layer adds (k - 1) input strides."""
    field, jump = 1, 1
    for _ in range(_CHAIN_LAYERS):
        field, jump = field + (_CHAIN_KS - 1) * jump, jump * _CHAIN_STRIDE
    return field


@functools.cache
def _stride_chain_key() -> tuple[int, dict[int, str]]:
    """The answer, found by trying every n, and the hint for each typical wrong answer, each made by its mistake."""
    k, s, p = _CHAIN_KS, _CHAIN_STRIDE, _CHAIN_PADDING
    inputs = _ending_at_one(_chain_layer)
    no_floor = 1
    for _ in range(_CHAIN_LAYERS):  # undo each layer as if o = (m + 2p - k)/s + 1 had no floor
        no_floor = (no_floor - 1) * s + k - 2 * p
    # (value, what the value is, why that is not the answer). No hint says whether a value ends at 1×1, or
    # hints that it would be right for another number of layers (the largest n for three or five layers, 22
    # and 94, get the generic hint): either would confirm the rule per layer and bracket the answer.
    mistakes = [
        (no_floor, f"what working backwards gives if each layer is undone as if it had no floor, "
                   f"m → {s}(m - 1) + {k} - {2 * p}",
         "The floor throws away leftover rows, so a layer can take a larger input and still give the same "
         "output."),
        (max(_ending_at_one(lambda m: -(-(m + 2 * p - k) // s) + 1)),
         "what rounding each layer's output up gives",
         "PyTorch rounds down: a kernel position only counts if the kernel fits inside the padded input."),
        (max(_ending_at_one(lambda m: (m + p - k) // s + 1)), "the largest n if the padding were added once",
         f"padding={p} adds {p} row of zeros above AND {p} below, so a layer sees m + {2 * p} rows."),
        (_chain_field(), "the number of input rows one output unit of these four layers sees "
                         "(chapter 3 calls it the unit's receptive field)",
         "The field is the rows that unit sees, and they include rows of the zero padding the layers add "
         "around the input, so it is not an input size: put it through the four layers and see where it "
         "ends."),
        (max(_ending_at_one(lambda m: conv_output_size(m, k, stride=s))), "the largest n if the padding is ignored",
         f"padding={p} first adds a frame of zeros around the input, and the kernel slides over the padded "
         "input."),
        (max(_ending_at_one(lambda m: (m + 2 * p - k) // s)),
         f"the largest n if each layer gave (m + {2 * p} - {k})//{s}, without the +1",
         "That counts the strides between kernel positions; the first position needs no stride, so there is "
         "one position more."),
        (1, "the size of the last output",
         "The question asks for the input size n: the largest one whose last output is still 1×1."),
    ]
    answer = max(inputs)
    merged: dict[int, tuple[list[str], list[str]]] = {}
    for value, what, why in mistakes:
        if value != answer:
            whats, whys = merged.setdefault(value, ([], []))
            if what:
                whats.append(what)
            if why and why not in whys:
                whys.append(why)
    hints = {value: (f"{value} is " + "; it is also ".join(whats) if whats else f"{value} is not it") + ". "
             + " ".join(whys) for value, (whats, whys) in merged.items()}
    return answer, {value: hint.strip() for value, hint in hints.items()}


@register("ex-ch1-stride-chain")
def _stride_chain(answer: Any) -> str:
    what = "one whole number, the input size n"
    if isinstance(answer, (str, bytes)):
        raise Feedback(f"You gave the string {answer!r}; give {what}, as a Python int without quotes.")
    is_tensor = hasattr(answer, "numel") and hasattr(answer, "is_floating_point")
    is_float = isinstance(answer, numbers.Real) and not isinstance(answer, (numbers.Integral, bool))
    if is_float or (is_tensor and answer.numel() == 1 and answer.is_floating_point()):
        raise Feedback("You gave a float: an input size is a whole number of pixels. Use floor division // "
                       "in your arithmetic, as the output-size formula does.")
    if as_int(answer) is None and (isinstance(answer, (list, tuple)) or getattr(answer, "ndim", 0) > 0):
        raise Feedback(f"You gave a {type(answer).__name__}; give {what} (not a list of sizes), the "
                       "largest one whose last output is 1×1.")
    value = as_int(answer)
    if value is None:
        raise Feedback(f"Give {what}, as an int; got {type(answer).__name__}.")
    if value < 1:
        raise Feedback(f"You gave {value}: an input size is a positive number of pixels.")
    expected, hints = _stride_chain_key()
    reject_known_mistakes(value, hints)
    if value != expected:
        raise Feedback(f"{value} is not it. Put your n through the four layers: it should end at 1×1, and "
                       "n + 1 should not.")
    forward, after = [expected], [expected + 1]
    for _ in range(_CHAIN_LAYERS):
        forward.append(_chain_layer(forward[-1]))
        after.append(_chain_layer(after[-1]))
    return (f"{' → '.join(map(str, forward))}, while {' → '.join(map(str, after))}. Each layer gives "
            "(m + 2 - 5)//2 + 1 = (m - 3)//2 + 1, and the floor lets it take one leftover row: working "
            "backwards, the largest input that gives m is 2m + 2.")
