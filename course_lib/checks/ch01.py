"""Checks for chapter 1, "Convolutions and their shapes"."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from ..shapes import conv_output_size, same_padding
from .core import Feedback, as_int, expect_callable, expect_int, register


@register("ex-ch1-output-size")
def _output_size(answer: Any) -> str:
    if isinstance(answer, float):
        raise Feedback(f"You gave the float {answer!r}: the output size is a whole number of positions. "
                       "Use floor division // in the formula, which also rounds down as PyTorch does.")
    value = as_int(answer)
    if value == 10:
        raise Feedback("10 rounds 25/3 up. A kernel position must fit inside the padded input, so "
                       "PyTorch rounds down: use floor division //.")
    if value == 8:
        raise Feedback("8 is 25//3, the number of strides; the first position needs no stride, so add 1.")
    expect_int(answer, conv_output_size(28, 5, stride=3, padding=1), "Your output size",
               "Use (n + 2*padding - ks)//stride + 1 with n=28, ks=5, stride=3, padding=1.")
    return ("(28 + 2 - 5)//3 + 1 = 25//3 + 1 = 9: a 10th position would start at padded row 27 and "
            "run past the 30 padded rows, so the floor drops it.")


@register("ex-ch1-same-padding")
def _same_padding(answer: Any) -> str:
    expected = same_padding(7, dilation=2)
    value = as_int(answer)
    if value == 12:
        raise Feedback("12 is the total padding the dilated kernel needs; padding= is applied on each side, "
                       "so split it between the two sides.")
    if value is not None and value == 3:
        raise Feedback("3 is ks//2, which is right without dilation. A dilation of 2 stretches the "
                       "kernel to span 2*(7-1)+1 = 13 pixels: how much padding keeps the size now?")
    expect_int(answer, expected, "Your padding", "A stride-1 output keeps the size when 2*padding equals "
               "span - 1, where the dilated kernel's span is dilation*(ks-1)+1.")
    return "the dilated 7×7 kernel spans 13 pixels, so it needs 12 extra pixels: 6 on each side."


@register("ex-ch1-weight-shape")
def _weight_shape(answer: Any) -> str:
    try:
        shape = tuple(as_int(v) for v in answer)
    except TypeError as e:
        raise Feedback(f"Give the shape as a tuple of four ints, got {type(answer).__name__}.") from e
    if any(v is None for v in shape):
        raise Feedback(f"Every entry of the shape must be a whole number (int), got {answer!r}.")
    expected = (32, 3, 3, 5)
    if len(shape) != 4:
        raise Feedback("A Conv2d weight has 4 dimensions (out_channels, in_channels, kH, kW); "
                       f"yours has {len(shape)}.")
    if shape == (3, 32, 3, 5):
        raise Feedback("Close: PyTorch puts the output channels first: (out_channels, in_channels, kH, kW).")
    if shape[:2] == (32, 1):
        raise Feedback("An RGB image has 3 input channels, and every kernel spans all of them.")
    if shape == (32, 3, 5, 3):
        raise Feedback("Height comes before width: the kernels are 3 high and 5 wide, so (kH, kW) = (3, 5).")
    if shape[:2] == (32, 3) and shape[2:] != (3, 5):
        raise Feedback(f"The channels are right, (32, 3, ...); the kernel size is not: the kernels are 3 high "
                       f"and 5 wide, so the last two numbers are (3, 5), not {shape[2:]}.")
    if shape[1:] in ((3, 5, 3), (5, 3, 3)) or shape[-1] == 3 and shape[0] == 32:
        raise Feedback("PyTorch's weights are channels-first: (out_channels, in_channels, kH, kW).")
    if shape != expected:
        raise Feedback(f"Your shape {shape} is not it: the layer maps 3 colour channels "
                       "to 32 feature maps with kernels 3 high and 5 wide.")
    return "(32, 3, 3, 5): one 3×3×5 kernel (in_channels × kH × kW) for each of the 32 output channels."


def _edge_images() -> dict[str, torch.Tensor]:
    flat = torch.full((1, 1, 8, 8), 0.7)
    down = torch.zeros(1, 1, 8, 8)
    down[..., 4:, :] = 1.0  # low values above, high values below
    right = torch.zeros(1, 1, 8, 8)
    right[..., :, 4:] = 1.0  # low values on the left, high on the right
    return {"flat": flat, "down": down, "up": 1.0 - down, "right": right}


@register("ex-ch1-top-edge-kernel")
def _top_edge(answer: Any) -> str:
    k = torch.as_tensor(answer, dtype=torch.float32)
    if k.shape != (3, 3):
        raise Feedback(f"Your kernel has shape {tuple(k.shape)}; make it a 3×3 tensor.")
    if not torch.isfinite(k).all():
        raise Feedback("Your kernel contains NaN or infinite values.")
    out = {name: F.conv2d(img, k.view(1, 1, 3, 3)) for name, img in _edge_images().items()}
    if out["flat"].abs().max() > 1e-4:
        raise Feedback("On a flat (constant) image your kernel does not give 0: make its weights sum to 0.")
    if out["right"].abs().max() > 1e-4:
        raise Feedback("Your kernel also responds to a vertical edge (values changing from left to right). "
                       "Make every column of the kernel sum to zero, e.g. by making each row constant.")
    if out["down"].max() <= 1e-4:
        raise Feedback("Your kernel does not give a positive response where the values go from low (above) to "
                       "high (below). Put negative weights in the top row and positive ones in the bottom row.")
    if out["up"].max() > 1e-4:
        raise Feedback("Your kernel is also positive where the values go from high (above) to low (below): it "
                       "detects lines or both edges, not just top edges. Make the weights grow from top to bottom.")
    return "it is zero on flat regions and vertical edges, positive on top edges and never positive on bottom edges."


@register("ex-ch1-conv-by-hand")
def _conv_by_hand(answer: Any) -> str:
    expect_callable(answer)
    gen = torch.Generator().manual_seed(0)
    for h, w, kh, kw in [(5, 5, 3, 3), (6, 4, 2, 2), (7, 9, 3, 3), (6, 7, 2, 3)]:
        img, kernel = torch.randn(h, w, generator=gen), torch.randn(kh, kw, generator=gen)
        expected = F.conv2d(img[None, None], kernel[None, None])[0, 0]
        got = answer(img.clone(), kernel.clone())
        got = torch.as_tensor(got, dtype=torch.float32)
        if got.shape != expected.shape:
            raise Feedback(f"For a {h}×{w} image and a {kh}×{kw} kernel your output has shape "
                           f"{tuple(got.shape)}; expected {tuple(expected.shape)} (no padding, stride 1).")
        if not torch.allclose(got, expected, atol=1e-4, rtol=1e-4):
            if torch.allclose(got, F.conv2d(img[None, None], kernel.flip(0, 1)[None, None])[0, 0], atol=1e-4):
                raise Feedback("You flipped the kernel (a textbook convolution). Deep learning libraries "
                               "compute cross-correlation: multiply without flipping.")
            raise Feedback(f"Your values differ from F.conv2d for a {h}×{w} image and a {kh}×{kw} kernel.")
    return "your loops agree with F.conv2d on four random cases, including non-square images and kernels."


@register("ex-ch1-stride-chain")
def _stride_chain(answer: Any) -> str:
    expected, n = [], 37
    for _ in range(4):
        n = conv_output_size(n, 3, stride=2, padding=1)
        expected.append(n)
    try:
        got = [as_int(v) for v in answer]
    except TypeError as e:
        raise Feedback(f"Give a list of four sizes, got {type(answer).__name__}.") from e
    if len(got) != 4:
        raise Feedback(f"There are four layers, so give four sizes; you gave {len(got)}.")
    if any(g is None for g in got):
        raise Feedback("Each size must be a whole number (int); use // rather than / in your arithmetic.")
    for i, (g, e) in enumerate(zip(got, expected, strict=True)):
        if g != e:
            raise Feedback(f"Layer {i + 1} is not right (you have {g}). With ks=3, padding=1 and stride=2 "
                           "apply the formula to the previous layer's size; check how odd sizes round.")
    return "37 → 19 → 10 → 5 → 3: each stride-2 layer gives (n+1)//2, rounding odd sizes up."
