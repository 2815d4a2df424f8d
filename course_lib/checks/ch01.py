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


@register("ex-ch1-same-padding")
def _same_padding(answer: Any) -> str:
    what = "a tuple of four ints (left, right, top, bottom), as F.pad takes it"
    if isinstance(answer, float) or as_int(answer) is not None:
        raise Feedback("You gave a single number, but the two axes need different padding, and the height "
                       f"cannot be padded equally on both sides. Give {what}.")
    pad = _int_tuple(answer, what)
    if len(pad) != 4:
        raise Feedback(f"F.pad on an image takes four numbers, (left, right, top, bottom); you gave {len(pad)}.")
    if min(pad) < 0:
        raise Feedback("Negative padding crops the image; every entry should be 0 or more.")
    (kh, kw), (dh, dw), n = (4, 5), (3, 2), 28
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1  # 10 rows, 9 columns
    if pad == (4, 4, 4, 5):
        return ("across, the 5-wide kernel with dilation 2 spans 2*(5-1)+1 = 9 columns, so the width needs "
                "8 extra pixels, 4 on each side; down, the 4-high kernel with dilation 3 spans "
                "3*(4-1)+1 = 10 rows, so the height needs 9, which cannot be split evenly: 4 above and "
                "5 below, as padding='same' does.")
    undilated = ("The dilation spreads the same weights apart: how many rows and columns does the kernel "
                 "span now?")
    reject_known_mistakes(pad, {
        (4, 4, 5, 4): "That keeps the size, but it puts the height's extra pixel before (at the top); "
                      "padding='same' puts it after, at the bottom.",
        (4, 5, 4, 4): "F.pad's order is (left, right, top, bottom): the first two numbers pad the width "
                      "(the 5-wide kernel with dilation 2), the last two the height (4 high, dilation 3).",
        (4, 5, 4, 5): "That is the height's padding on both axes. The width has its own kernel size and "
                      "dilation (5 wide, dilation 2): how many columns does the kernel span?",
        (6, 6, 3, 3): "You swapped the dilations. Like kernel_size=(4, 5), dilation=(3, 2) lists the "
                      "height first: rows 3 pixels apart, columns 2 pixels apart.",
        (1, 2, 1, 2): f"(1, 2, 1, 2) is right for an undilated 4×4 kernel. {undilated}",
        (2, 2, 1, 2): f"(2, 2, 1, 2) is right for an undilated kernel 4 high and 5 wide. {undilated}",
    })
    if pad[0] + pad[1] == span_w - 1 and pad[2] + pad[3] == span_h - 1:
        raise Feedback("The totals are right, but split each axis as padding='same' does: equally when "
                       "the total is even, and otherwise with the extra pixel after (right, bottom).")
    if (pad[0] + pad[1], pad[2] + pad[3]) == (dw * kw, dh * kh):
        raise Feedback(f"Your padding adds dilation*ks pixels per axis ({dw * kw} across, {dh * kh} down). "
                       "A dilated kernel spans dilation*(ks-1)+1 pixels, since the gaps are only between "
                       "its weights.")
    lost = [axis for axis, (total, span) in {"height": (pad[2] + pad[3], span_h),
                                              "width": (pad[0] + pad[1], span_w)}.items() if total != span - 1]
    spans = {"height": "rows", "width": "columns"}
    raise Feedback(f"With this padding a {n}×{n} input does not keep its {' or its '.join(lost)}: count the "
                   f"{' and the '.join(spans[axis] for axis in lost)} the dilated kernel spans, then how many "
                   "extra pixels keep that size.")


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
# SciPy's 2-D correlations, refused by name when the student has imported scipy.signal (importing it for
# every check would cost seconds).
_CONV_BY_HAND_SCIPY = ("scipy.signal.correlate2d", "scipy.signal.convolve2d", "scipy.signal.correlate",
                       "scipy.signal.convolve", "scipy.signal.fftconvolve", "scipy.signal.oaconvolve")
# The net under those names: every PyTorch operator that computes a convolution or hands over the patches
# (F.conv3d, F.conv_transpose2d with a flipped kernel, torch.ops.aten.conv2d, torch._convolution, torch.
# mkldnn_convolution, a conv2d kept in a default argument, Tensor.unfold, torch.as_strided), refused while
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
                      "_conv_depthwise2d", "conv_depthwise3d", "im2col", "unfold", "as_strided")


@register("ex-ch1-conv-by-hand")
def _conv_by_hand(answer: Any) -> str:
    expect_callable(answer)
    why = ("compute the convolution yourself (nn.Conv2d calls F.conv2d too, PyTorch's and SciPy's other "
           "convolutions and course_lib's conv2d_loops, conv2d_matmul and conv_matrix are finished ones as "
           "well, and F.unfold, Tensor.unfold and torch.as_strided would hand you the patches): loop over the "
           "output positions and take the weighted sums.")
    gen = torch.Generator().manual_seed(0)
    for h, w, kh, kw in [(5, 5, 3, 3), (6, 4, 2, 2), (7, 9, 3, 3), (6, 7, 2, 3)]:
        img, kernel = torch.randn(h, w, generator=gen), torch.randn(kh, kw, generator=gen)
        expected = F.conv2d(img[None, None], kernel[None, None])[0, 0]
        flipped = F.conv2d(img[None, None], kernel.flip(0, 1)[None, None])[0, 0]
        targets = _CONV_BY_HAND_FORBIDDEN + (_CONV_BY_HAND_SCIPY if "scipy.signal" in sys.modules else ())
        with (forbidden(targets, why, namespace=getattr(answer, "__globals__", None)),
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
# against nn.Conv2d on layers the page shows and on layers it does not; building a layer is refused.
_WEIGHT_SETTINGS = ((4, 10, (5, 3), True), (5, 12, 3, False), (3, 16, 5, None), (1, 2, (3, 5), False),
                    (8, 1, 1, False), (6, 7, (2, 7), True), (2, 9, (4, 1), True))
# Building a layer would hand over the shape: nn.Conv2d and nn.LazyConv2d by name (a clear message), and the
# constructor every PyTorch convolution layer shares (nn.Conv1d/3d, course_lib's MatmulConv2d, fastai's
# ConvLayer and torch.nn.modules.conv.Conv2d all reach it); running a convolution is refused as well.
_WEIGHT_FORBIDDEN = ("torch.nn.Conv2d", "torch.nn.LazyConv2d", "torch.nn.modules.conv._ConvNd.__init__",
                     "torch.nn.functional.conv2d", "torch.conv2d", "course_lib.summary.layer_summary")
_WEIGHT_ATEN = tuple(op for op in _CONV_BY_HAND_ATEN if op not in ("im2col", "unfold", "as_strided"))


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
    why = ("work the shape and the count out from the settings: building a layer (nn.Conv2d, nn.LazyConv2d or "
           "any layer made from them) or running a convolution would hand them over.")
    seen: dict[tuple, str] = {}  # what the function returned, and for which call
    for i, o, ks, bias in _WEIGHT_SETTINGS:
        call = _call_text(i, o, ks, bias)
        expected_shape, expected_count = _conv_layer_key(i, o, ks, bias)
        with (refuse_aten_ops(_WEIGHT_ATEN, why),
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
    # that it would be right for another number of layers: that would bracket the answer.
    mistakes = [
        (no_floor, f"what working backwards gives if each layer is undone as if it had no floor, "
                   f"m → {s}(m - 1) + {k} - {2 * p}",
         "The floor throws away leftover rows, so a layer can take a larger input and still give the same "
         "output."),
        (max(_ending_at_one(lambda m: -(-(m + 2 * p - k) // s) + 1)),
         "what rounding each layer's output up gives",
         "PyTorch rounds down: a kernel position only counts if the kernel fits inside the padded input."),
        (max(_ending_at_one(_chain_layer, _CHAIN_LAYERS - 1)), "",
         "Count the layers you undid: there are four."),
        (max(_ending_at_one(_chain_layer, _CHAIN_LAYERS + 1)), "",
         "Count the layers you undid: there are four."),
        (max(_ending_at_one(lambda m: (m + p - k) // s + 1)), "the largest n if the padding were added once",
         f"padding={p} adds {p} row of zeros above AND {p} below, so a layer sees m + {2 * p} rows."),
        (_chain_field(), "the receptive field of one output unit of these four layers (the size "
                         "receptive_field reports)",
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
