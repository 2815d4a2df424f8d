"""Checks for chapter 3, "From dense networks to CNNs: strides, channels and receptive fields"."""

from __future__ import annotations

import random
from typing import Any

from torch import nn

from ..models import simple_cnn
from ..receptive import receptive_field, receptive_region
from ..summary import layer_summary
from .core import Feedback, as_int, expect_callable, expect_int, register


def _stack(layers) -> nn.Sequential:
    return nn.Sequential(*(nn.Conv2d(1, 1, k, stride=s) for k, s in layers))


@register("ex-ch3-two-stride2")
def _two_stride2(answer: Any) -> str:
    expected = receptive_field(_stack([(3, 2), (3, 2)]))[-1].size
    value = as_int(answer)
    if value == 5:
        raise Feedback("5 is right for two stride-1 layers. After a stride-2 layer, neighbouring units are "
                       "2 input pixels apart, so the second kernel's 2 extra taps add 2×2 pixels.")
    if value == 9:
        raise Feedback("9 = 3×3 multiplies the kernel sizes; receptive fields add up instead: "
                       "r grows by (k-1) times the current effective stride.")
    expect_int(answer, expected, "Your receptive field size", "Use r = r + (k-1)*S, then S = S*s, layer by layer.")
    return "3 after the first layer, then 3 + (3-1)×2 = 7 after the second."


@register("ex-ch3-first-kernel")
def _first_kernel(answer: Any) -> str:
    value = as_int(answer)
    if value is not None and value % 2 == 0:
        raise Feedback(f"{value} is even: conv() wants an odd kernel so that padding ks//2 is symmetric.")
    if value == 3:
        raise Feedback("A 3×3 kernel reads 9 pixels, fewer than the 16 numbers it must produce.")
    if value == 5:
        raise Feedback("A 5×5 kernel reads 25 pixels: more than 16, but not twice as many (32).")
    if value is not None and value > 7:
        raise Feedback(f"{value}×{value} works, but is it the smallest odd size with ks*ks >= 2*16?")
    expect_int(answer, 7, "Your kernel size", "Find the smallest odd ks with ks*ks >= 2*16 = 32.")
    return "7×7 = 49 input pixels ≥ 2 × 16 = 32, while 5×5 = 25 would be fewer."


@register("ex-ch3-macs")
def _macs(answer: Any) -> str:
    model = nn.Sequential(nn.Conv2d(8, 24, 5, stride=2, padding=2))
    expected = layer_summary(model, (8, 28, 28))[0].macs
    value = as_int(answer)
    if value == 28 * 28 * 24 * 8 * 25:
        raise Feedback("That counts the kernel at every INPUT position (28×28). With stride 2 it is applied "
                       "only at the 14×14 output positions.")
    if value == 14 * 14 * 24 * 25 or value == 14 * 14 * 8 * 25:
        raise Feedback("Each output value reads all 8 input channels, so multiply by both channel counts.")
    if value == 14 * 14 * 24 * 8 * 9:
        raise Feedback("That is the count for a 3×3 kernel; this layer's kernel is 5×5.")
    expect_int(answer, expected, "Your count",
               "Output positions × output channels × (input channels × kernel height × kernel width).")
    return "14×14 positions × 24 channels × 8×5×5 weights = 940,800 multiply-accumulates."


@register("ex-ch3-rf-function")
def _rf_function(answer: Any) -> str:
    expect_callable(answer)
    rng = random.Random(3)
    cases = [[(5, 2)], [(3, 1), (3, 1)], [(3, 2), (3, 2)], [(5, 2), (3, 2), (3, 2), (3, 2), (3, 2)]]
    cases += [[(rng.choice([1, 2, 3, 5, 7]), rng.choice([1, 2, 3])) for _ in range(rng.randint(1, 6))]
              for _ in range(20)]
    for layers in cases:
        expected = receptive_field(_stack(layers))[-1].size
        got = as_int(answer(list(layers)))
        if got is None:
            raise Feedback(f"For layers {layers} your function returned a {type(answer(list(layers))).__name__}, "
                           "not an int.")
        if got != expected:
            if len(layers) > 1 and got == 1 + sum(k - 1 for k, _ in layers):
                raise Feedback(f"For {layers} you get {got}: you ignored the strides. After a stride-s layer each "
                               "later kernel tap is s times further apart in the input.")
            raise Feedback(f"For layers {layers} you get {got}, expected {expected}.")
    return "it agrees with receptive_field on 24 stacks, including stride-3 and 7×7 layers."


@register("ex-ch3-layers-needed")
def _layers_needed(answer: Any) -> str:
    n, layers = 1, 0
    while n < 28:
        layers += 1
        n = receptive_field(_stack([(3, 2)] * layers))[-1].size
    value = as_int(answer)
    if value == layers - 1:
        r = receptive_field(_stack([(3, 2)] * value))[-1].size if value else 1
        raise Feedback(f"With {value} layers a unit sees only {r} pixels, fewer than 28.")
    expect_int(answer, layers, "Your number of layers", "Compute r after 1, 2, 3, ... stride-2 3×3 layers.")
    return "r = 3, 7, 15, 31: four stride-2 3×3 layers let one unit see all 28 rows."


@register("ex-ch3-corner-region")
def _corner_region(answer: Any) -> str:
    rows, _ = receptive_region(simple_cnn(first_ks=3), (1, 28, 28), layer=4, unit=(0, 0))
    if not isinstance(answer, slice):
        raise Feedback(f"Give a Python slice such as slice(3, 10), got {type(answer).__name__}.")
    if answer.step not in (None, 1):
        raise Feedback("The region has no holes: leave out the step.")
    if answer == slice(-7, 8):
        raise Feedback("The unclipped region starts at u*S - P = -7, but rows before 0 are padding: clip them.")
    if answer == slice(0, 9):
        raise Feedback("slice(0, 9) is the region of simple_cnn with its 5×5 first layer; this network's first "
                       "kernel is 3×3, so r, S and P change from the first layer on.")
    if answer.start in (None, 0) and answer.stop == rows.stop - 1:
        raise Feedback("Almost: a slice's stop is exclusive, so it is one past the last row.")
    if (answer.start or 0) != rows.start or answer.stop != rows.stop:
        raise Feedback(f"slice({answer.start}, {answer.stop}) is not it. Run the recurrences from r=1, S=1, P=0 "
                       "through the three convolutions (kernels 3, 3, 3, all stride 2, padding 1); unit 0 starts "
                       "at 0*S - P.")
    return "r=15, S=8, P=7: unclipped rows -7 to 7, clipped to the image: slice(0, 8)."
