"""Checks for chapter 3, "From dense networks to CNNs: strides, channels and receptive fields"."""

from __future__ import annotations

import random
from typing import Any

from torch import nn

from ..models import simple_cnn
from ..receptive import receptive_field, receptive_region
from ..summary import layer_summary
from .core import Feedback, as_int, expect_callable, expect_int, forbidden, register, reject_known_mistakes


def _stack(layers) -> nn.Sequential:
    return nn.Sequential(*(nn.Conv2d(1, 1, k, stride=s) for k, s in layers))


def _rf_triple(layers, *, dilation=True, late_r=False, late_p=False, strides=True) -> tuple[int, int, int]:
    """(r, S, P) of a stack of (kernel_size, stride, padding, dilation), or of a typical mistake."""
    r, jump, pad = 1, 1, 0
    for k, s, p, d in layers:
        span = d * (k - 1) + 1 if dilation else k
        new_jump = jump * s if strides else 1
        r += (span - 1) * (new_jump if late_r else jump)
        pad += p * (new_jump if late_p else jump)
        jump = new_jump
    return r, jump, pad


@register("ex-ch3-two-stride2")
def _two_stride2(answer: Any) -> str:
    model = nn.Sequential(nn.Conv2d(1, 1, 3, stride=2), nn.MaxPool2d(2, 2), nn.Conv2d(1, 1, 3, stride=1))
    expected = receptive_field(model)[-1].size
    value = as_int(answer)
    reject_known_mistakes(value, {
        7: "7 leaves out the pool. A 2×2 pool is a layer with a 2-tap window: it widens the field "
           "as well as multiplying the effective stride.",
        11: "The pool does more than multiply the effective stride: its window has 2 taps, so it "
            "also adds (2-1) times the current effective stride to r.",
        6: "6 ignores the strides. After a stride-2 layer, neighbouring units are 2 input pixels "
           "apart, so every later tap reaches further in the input.",
        17: "17 grows each layer's field with the effective stride after that layer. A layer's "
            "taps are spaced by the stride of the layers before it, S_(l-1).",
        18: "18 = 3×2×3 multiplies the kernel sizes; receptive fields add up instead.",
    })
    expect_int(answer, expected, "Your receptive field size",
               "Walk the recurrences of the section on receptive fields through the three layers, one at a "
               "time, the pool included.")
    return ("r = 3 (S = 2) after the convolution, 3 + 1×2 = 5 (S = 4) after the pool, "
            "5 + 2×4 = 13 after the last convolution, whose own stride no longer matters.")


@register("ex-ch3-first-kernel")
def _first_kernel(answer: Any) -> str:
    value = as_int(answer)
    if value is not None and value % 2 == 0:
        raise Feedback(f"{value} is even: conv() wants an odd kernel so that padding ks//2 is symmetric.")
    reject_known_mistakes(value, {
        11: "11 counts one channel only. On a colour image the kernel reads all 3 channels at "
            "each position, so a k×k kernel reads 3·k·k numbers.",
        3: "A 3×3 kernel reads 3·9 = 27 numbers on a colour image: fewer than the 32 it writes.",
        5: "A 5×5 kernel reads 3·25 = 75 numbers for 32 outputs, about 2.3 per output; "
           "simple_cnn's first layer reads 25 for 8, about 3.1 per output.",
    })
    if value is not None and value > 7:
        raise Feedback(f"{value}×{value} compresses enough, but a smaller odd kernel does too.")
    expect_int(answer, 7, "Your kernel size",
               "Go back to the section on the first layer's kernel: count what simple_cnn's first layer reads "
               "and writes at one position, then what a k×k kernel reads on a colour image.")
    return ("simple_cnn reads 25 numbers per 8 written (3.1 each); 7×7 on 3 channels reads 147 for 32 "
            "(4.6 each), while 5×5 reads only 75 (2.3 each).")


@register("ex-ch3-macs")
def _macs(answer: Any) -> str:
    model = nn.Sequential(nn.Conv2d(8, 24, 5, stride=2, padding=0))
    expected = layer_summary(model, (8, 27, 27))[0].macs
    per_position = 24 * 8 * 25
    value = as_int(answer)
    grid_hints = {
        14: "14×14 would be the output grid with padding 2 on a 28×28 input; this input is 27×27 and has "
            "no padding, so the kernel must fit inside it.",
        13: "13×13 halves 27 and rounds down, but without padding the kernel must fit inside the input: "
            "count the positions where a 5×5 window starts.",
        11: "11×11 leaves out the first position: the count of window positions is (27-5)//2 + 1.",
        27: "That counts the kernel at every INPUT position (27×27). With stride 2 it is applied only at the "
            "output positions.",
    }
    for n, hint in grid_hints.items():
        if value == n * n * per_position:
            raise Feedback(hint)
    if value in (12 * 12 * 24 * 25, 12 * 12 * 8 * 25):
        raise Feedback("Each output value reads all 8 input channels, so multiply by both channel counts.")
    if value == 12 * 12 * 24 * 8 * 9:
        raise Feedback("That is the count for a 3×3 kernel; this layer's kernel is 5×5.")
    expect_int(answer, expected, "Your count",
               "Find the output grid first (chapter 1's output-size formula), then count as the section on "
               "multiply-accumulates does.")
    return "(27-5)//2 + 1 = 12, so 12×12 positions × 24 channels × 8×5×5 weights = 691,200."


def _rf_cases() -> list[list[tuple[int, int, int, int]]]:
    rng = random.Random(3)
    cases = [[(5, 2, 2, 1)], [(3, 1, 1, 2)], [(3, 2, 1, 1), (3, 1, 0, 2)],
             [(5, 2, 2, 1), (3, 2, 1, 1), (3, 2, 1, 1), (3, 2, 1, 1), (3, 2, 1, 1)],
             [(3, 1, 1, 1), (3, 1, 2, 2), (3, 1, 4, 4)]]
    cases += [[(rng.choice([1, 2, 3, 5, 7]), rng.choice([1, 2, 3]), rng.choice([0, 1, 2, 3]),
                rng.choice([1, 1, 2, 3])) for _ in range(rng.randint(1, 6))] for _ in range(20)]
    return cases


@register("ex-ch3-rf-function")
def _rf_function(answer: Any) -> str:
    expect_callable(answer)
    cases = _rf_cases()
    wanted = []
    for layers in cases:
        stack = nn.Sequential(*(nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d) for k, s, p, d in layers))
        row = receptive_field(stack)[-1]
        wanted.append((row.size, row.stride, row.padding))
    with forbidden(("course_lib.receptive._walk", "course_lib.summary.receptive_step"),
                   "work r, S and P out with the recurrences yourself."):
        results = [answer(list(layers)) for layers in cases]
    for layers, expected, result in zip(cases, wanted, results, strict=True):
        if as_int(result) is not None:
            raise Feedback(f"For layers {layers} your function returned the single number {result}; return "
                           "the tuple (r, S, P).")
        if not isinstance(result, (tuple, list)) or len(result) != 3:
            raise Feedback(f"For layers {layers} your function returned {type(result).__name__} "
                           f"{_short(result)}; return a tuple (r, S, P) of three ints.")
        got = tuple(as_int(v) for v in result)
        if None in got:
            raise Feedback(f"For layers {layers} your function returned {_short(result)}: r, S and P should "
                           "be whole numbers (ints).")
        if got == expected:
            continue
        mistakes = [
            (dict(dilation=False), "you used the kernel size where the dilated span d·(k-1)+1 belongs: a "
                                   "dilated kernel's taps are d units apart"),
            (dict(strides=False), "you ignored the strides: after a stride-s layer, each later tap is s times "
                                  "further apart in the input"),
            (dict(late_r=True, late_p=True), "you updated S before using it: a layer's taps and padding are "
                                             "spaced by the effective stride of the layers before it"),
            (dict(late_r=True), "r grew with the effective stride after the layer; use the one before it"),
            (dict(late_p=True), "P grew with the effective stride after the layer; use the one before it"),
        ]
        for kwargs, hint in mistakes:
            if got == _rf_triple(layers, **kwargs):
                raise Feedback(f"For {layers} you get {got}, expected {expected}: {hint}.")
        raise Feedback(f"For layers {layers} you get {got}, expected {expected}.")
    return f"it agrees with receptive_field on {len(cases)} stacks, with dilation, padding and strides up to 3."


def _short(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001
        return "(unprintable)"
    return text if len(text) <= 60 else text[:57] + "..."


@register("ex-ch3-layers-needed")
def _layers_needed(answer: Any) -> str:
    def size(n: int) -> int:
        layers = [nn.Conv2d(1, 1, 5, stride=2, padding=2)] + [nn.Conv2d(1, 1, 3, padding=1) for _ in range(n)]
        return receptive_field(nn.Sequential(*layers))[-1].size

    needed = next(n for n in range(1, 50) if size(n) >= 28)
    value = as_int(answer)
    reject_known_mistakes(value, {
        3: "3 is the count for stride-2 layers (r = 9, 17, 33). With stride 1 the effective "
           "stride stays at the first layer's 2, so the field grows by the same amount each layer.",
        12: "12 grows r by 2 per layer, as if the 3×3 taps were 1 pixel apart. After the stride-2 "
            "first layer, neighbouring units are 2 input pixels apart.",
        14: "That starts from r = 1; the 3×3 layers start from the first layer's field.",
        needed + 1: f"{needed + 1} counts the first layer too; the question asks how many stride-1 layers "
                    "follow it.",
    })
    if value == needed - 1:
        raise Feedback(f"With {value} stride-1 layers a unit sees {size(value)} pixels, fewer than 28.")
    expect_int(answer, needed, "Your number of layers",
               "Walk the recurrences from simple_cnn's first layer; its effective stride tells how much "
               "each 3×3 layer adds.")
    return ("r = 5, then 9, 13, 17, 21, 25, 29: six stride-1 layers, where stride-2 layers needed three "
            "(9, 17, 33). Even at 29 not every unit sees all 28 rows: on the 14×14 grid only the units of "
            "row 7 do (rows 0 to 28 before clipping); the others lose rows to the border.")


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
