"""Checks for chapter 3, "From dense networks to CNNs: strides, channels and receptive fields".

The receptive-field exercises whose answer is a function of the settings are in :mod:`.ch03_fields`.
"""

from __future__ import annotations

import random
from typing import Any

from torch import nn

from ..layers import layer_spec
from ..receptive import receptive_field
from .core import Feedback, as_int, expect_callable, expect_int, forbidden, register, reject_known_mistakes


@register("ex-ch3-first-kernel")
def _first_kernel(answer: Any) -> str:
    value = as_int(answer)
    if value is not None and value % 2 == 0:
        raise Feedback(f"{value} is even: conv() wants an odd kernel so that padding ks//2 is symmetric.")
    reject_known_mistakes(value, {
        11: "11 leaves the channels out of the count. At one position the kernel reads every input "
            "channel of the colour image and writes every output channel: recount both sides of the "
            "ratio for this layer, then compare it with simple_cnn's first layer.",
        3: "A 3×3 kernel reads 3·9 = 27 numbers on a colour image: fewer than the 32 it writes.",
        5: "Reading more numbers than it writes is not enough: the rule compares ratios. The layer must "
           "read at least as many numbers per number written as simple_cnn's first layer, which reads 25 "
           "for every 8 it writes.",
    })
    expect_int(answer, 7, "Your kernel size",
               "Go back to the section \"Why the first layer uses a 5×5 kernel\": count what simple_cnn's first "
               "layer reads and writes at one position, then what a k×k kernel reads on a colour image.")
    return ("simple_cnn reads 25 numbers per 8 written (3.1 each); 7×7 on 3 channels reads 147 for 32 "
            "(4.6 each), while 5×5 reads only 75 (2.3 each).")


# ex-ch3-macs: the largest square input that nn.Conv2d(8, 24, 5, stride=2, padding=2) handles within a budget.
MACS_BUDGET = 500_000
MACS_PER_POSITION = 24 * 8 * 5 * 5  # out channels × in channels × kernel taps


def _macs_at(side: int) -> int:
    """The multiply-accumulates of nn.Conv2d(8, 24, 5, stride=2, padding=2) on one 8×side×side input."""
    out = (side + 2 * 2 - 5) // 2 + 1
    return out * out * MACS_PER_POSITION


@register("ex-ch3-macs")
def _macs(answer: Any) -> str:
    expected = max(side for side in range(1, 200) if _macs_at(side) <= MACS_BUDGET)
    value = as_int(answer)
    reject_known_mistakes(value, {
        10: "If you counted MACs at all H×H input positions: the kernel is applied once per output position, "
            "so count them on the output grid only. And make sure that the number you give is H, the side of "
            "the input.",
        19: "19 looks like the output-size formula (H + 2p - k)//s + 1 solved for H as if // were an exact "
            "division. With stride 2 the floor drops a remainder, so the formula cannot be run backwards to "
            "one H: run it forwards on candidate inputs and check each against the budget.",
        22: "22: either the output-size formula lost its +1 (a 5-tap window fits once on a 5-pixel "
            "input), or the padding went on one side only: it is added on both sides, 2p.",
        23: "23 leaves out the padding: with padding 2 on each side, an H-pixel row is H + 4 wide once "
            "padded, and the output-size formula counts windows on the padded row.",
        24: "24 leaves out the padding: with padding 2 on each side, an H-pixel row is H + 4 wide once "
            "padded, and the output-size formula counts windows on the padded row.",
        56: "56 counts 24×25 MACs per output position: each output value also reads all 8 input channels.",
        100: "100 counts 8×25 MACs per output position: every one of the 24 output channels needs its own.",
        _macs_at(expected): f"{_macs_at(expected):,} is a number of MACs; the question asks for the input "
                           "side H.",
    })
    if value is not None and value > 1000:
        raise Feedback(f"{value:,} is far too large for an image side: the question asks for H, the input's "
                       "height (and width) in pixels, not for a count of MACs.")
    expect_int(answer, expected, "Your input side",
               "Find the largest output grid the budget allows, then the largest input that chapter 1's "
               "output-size formula maps onto it.")
    return ("4,800 MACs per output position leave room for 104 positions, a 10×10 grid at most. "
            "(H + 4 - 5)//2 + 1 = 10 for H = 19 and H = 20, and 20×20 costs 480,000 MACs; "
            "21 would give 11×11, 580,800 MACs.")


# ex-ch3-rf-function: r, S and P of an nn.Sequential, read from its layers' settings.
def _random_layer(rng: random.Random) -> nn.Module:
    kind = rng.choices(["conv", "max", "avg", "keep"], weights=[4, 2, 1, 2])[0]
    square = rng.random() < 0.75

    def pick(values):  # an int, a square pair or a (height, width) pair
        height = rng.choice(values)
        if square:
            return height if rng.random() < 0.5 else (height, height)
        return height, rng.choice(values)

    if kind == "keep":
        return rng.choice([nn.ReLU, nn.Identity, nn.Dropout2d, nn.GELU, lambda: nn.BatchNorm2d(1)])()
    if kind == "conv":
        return nn.Conv2d(1, 1, pick([1, 2, 3, 5, 7]), stride=pick([1, 2, 3]), padding=pick([0, 1, 2, 3]),
                         dilation=pick([1, 1, 2, 3]))
    kernel, stride, padding = pick([2, 3, 4]), rng.choice([None, pick([1, 2, 3])]), pick([0, 1])
    if kind == "max":
        return nn.MaxPool2d(kernel, stride=stride, padding=padding, dilation=pick([1, 1, 2]),
                            ceil_mode=rng.random() < 0.3)
    return nn.AvgPool2d(kernel, stride=stride, padding=padding, ceil_mode=rng.random() < 0.3)


def rf_stacks() -> list[nn.Sequential]:
    """The stacks the check of ex-ch3-rf-function tries: six written out, then 24 random ones (seeded)."""
    stacks = [
        nn.Sequential(nn.Conv2d(1, 8, 5, stride=2, padding=2), nn.ReLU()),
        nn.Sequential(nn.Conv2d(1, 8, 3, stride=2), nn.MaxPool2d(3, 2), nn.Conv2d(8, 16, 3)),
        nn.Sequential(nn.Conv2d(1, 4, 3, padding=2, dilation=2), nn.BatchNorm2d(4), nn.ReLU(),
                      nn.AvgPool2d(3, padding=1)),
        nn.Sequential(nn.Conv2d(1, 1, 3, stride=2, padding=1), nn.MaxPool2d(3, stride=2, padding=1, dilation=2)),
        nn.Sequential(nn.Conv2d(1, 1, (3, 5), stride=(2, 1), padding=(1, 2)), nn.MaxPool2d((2, 3), padding=(1, 0)),
                      nn.Conv2d(1, 1, (5, 1), dilation=(2, 1))),
        nn.Sequential(nn.AvgPool2d((3, 2), stride=(1, 2)), nn.Conv2d(1, 1, 3, stride=3, padding=3), nn.Identity()),
    ]
    rng = random.Random(3)
    stacks += [nn.Sequential(*(_random_layer(rng) for _ in range(rng.randint(1, 7)))) for _ in range(24)]
    return stacks


def _settings_along(model: nn.Sequential, axis: int) -> list[tuple[str, int, int, int, int]]:
    """(kind, kernel, stride, padding, dilation) of each layer of ``model`` along one axis (0 is the height)."""
    out = []
    for layer in model:
        spec = layer_spec("", layer)
        kind = ("conv" if isinstance(layer, nn.Conv2d) else
                "pool" if isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)) else "keep")
        out.append((kind, spec.kernel[axis], spec.stride[axis], spec.padding[axis], spec.dilation[axis]))
    return out


def _rf_along(settings, *, dilation=True, pools=True, pool_padding=True, strides=True, late_r=False,
             late_p=False) -> tuple[int, int, int]:
    """(r, S, P) of :func:`_settings_along`'s list by the recurrences, or by one of their typical mistakes."""
    r, jump, pad = 1, 1, 0
    for kind, k, s, p, d in settings:
        if kind == "keep" or (kind == "pool" and not pools):
            continue
        span = d * (k - 1) + 1 if dilation else k
        p = p if (pool_padding or kind != "pool") else 0
        new_jump = jump * s if strides else 1
        r += (span - 1) * (new_jump if late_r else jump)
        pad += p * (new_jump if late_p else jump)
        jump = new_jump
    return r, jump, pad


def _describe(model: nn.Sequential) -> str:
    parts = []
    for layer in model:
        name = type(layer).__name__
        if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            keys = ("kernel_size", "stride", "padding") + (() if isinstance(layer, nn.AvgPool2d) else ("dilation",))
            shown = ", ".join(f"{key}={getattr(layer, key)}" for key in keys)
            parts.append(f"{name}({shown})")
        else:
            parts.append(f"{name}()")
    return "nn.Sequential(" + ", ".join(parts) + ")"


RF_FORBIDDEN = (
    "course_lib.receptive.receptive_field", "course_lib.receptive_field",
    "course_lib.receptive.receptive_region", "course_lib.receptive_region",
    "course_lib.receptive.empirical_receptive_field", "course_lib.empirical_receptive_field",
    "course_lib.summary.layer_summary", "course_lib.layer_summary",
    "course_lib.receptive._walk", "course_lib.layers.receptive_step", "course_lib.layers.layer_spec",
    "course_lib.checks.ch03._rf_along", "course_lib.checks.ch03._settings_along",
)
_RF_MISTAKES = [
    (dict(dilation=False), "you used the kernel size where the dilated span d·(k-1)+1 belongs: the taps of a "
                           "dilated kernel (a MaxPool2d's too) are d units apart"),
    (dict(pools=False), "you left out the pools: a pool slides a window with a stride as a convolution does, "
                        "so the same recurrences apply to it"),
    (dict(pool_padding=False), "you left out a pool's padding: it shifts the pool's windows as a convolution's "
                               "padding does"),
    (dict(strides=False), "you ignored the strides: after a stride-s layer, each later tap is s times "
                          "further apart in the input"),
    (dict(late_r=True, late_p=True), "you updated S before using it: a layer's taps and padding are "
                                     "spaced by the effective stride of the layers before it"),
    (dict(late_r=True), "r grew with the effective stride after the layer; use the one before it"),
    (dict(late_p=True), "P grew with the effective stride after the layer; use the one before it"),
]


def _raised(model: nn.Sequential, error: Exception) -> Feedback:
    advice = ""
    if isinstance(error, AttributeError) and "dilation" in str(error):
        advice = " An AvgPool2d has no dilation attribute: its taps are next to each other, as with d = 1."
    elif isinstance(error, AttributeError):
        advice = (" Layers without a window (activations, BatchNorm2d, Dropout, Identity) keep every position "
                  "where it is: they change nothing.")
    elif isinstance(error, TypeError):
        advice = (" nn.Conv2d stores its settings as (height, width) pairs, but a pool keeps what it was given: "
                  "an int or a pair.")
    return Feedback(f"For {_describe(model)} your function raised {type(error).__name__}: "
                    f"{_short(error, str, 120)}.{advice}")


@register("ex-ch3-rf-function")
def _rf_function(answer: Any) -> str:
    expect_callable(answer)
    stacks = rf_stacks()
    cases = []
    for stack in stacks:  # the answers, worked out before the library is ruled out
        row = receptive_field(stack)[-1]
        expected = tuple(v[0] if isinstance(v, tuple) else v for v in (row.size, row.stride, row.padding))
        cases.append((stack, expected, _settings_along(stack, 0), _settings_along(stack, 1)))
    for stack, expected, height, width in cases:
        with forbidden(RF_FORBIDDEN, "work r, S and P out from the layers' settings with the recurrences "
                                     "yourself."):
            try:
                result = answer(stack)
            except (Feedback, NotImplementedError):
                raise
            except Exception as error:  # noqa: BLE001  (a bug in the student's function: say where)
                raise _raised(stack, error) from error
        where = f"For {_describe(stack)}"
        if as_int(result) is not None:
            raise Feedback(f"{where} your function returned the single number {result}; return the tuple "
                           "(r, S, P).")
        if not isinstance(result, (tuple, list)) or len(result) != 3:
            raise Feedback(f"{where} your function returned {type(result).__name__} {_short(result)}; return "
                           "a tuple (r, S, P) of three ints.")
        got = tuple(as_int(v) for v in result)
        if None in got:
            raise Feedback(f"{where} your function returned {_short(result)}: r, S and P should be whole "
                           "numbers (ints).")
        if got == expected:
            continue
        # No expected value in the messages: over the seeded stacks they would make a table to look answers up in.
        for kwargs, hint in _RF_MISTAKES:
            if got == _rf_along(height, **kwargs):
                raise Feedback(f"{where} you get {got}: {hint}.")
        if got == _rf_along(width):
            raise Feedback(f"{where} you get {got}: that is the width axis. Read the height entry, the first of "
                           "each (height, width) pair.")
        off = [name for name, g, e in zip("rSP", got, expected, strict=True) if g != e]
        wrong = " and ".join(off) if len(off) < 3 else "r, S and P"
        raise Feedback(f"{where} you get {got}: your {wrong} {'is' if len(off) == 1 else 'are'} not right there. "
                       "Walk the recurrences through its windowed layers one at a time, with each layer's "
                       "dilated span and the effective stride of the layers before it.")
    return (f"it agrees with receptive_field on {len(stacks)} stacks of convolutions, max and average pools and "
            "shape-keeping layers, with int and pair settings, dilation, padding and strides up to 3.")


def _short(value: Any, show=repr, limit: int = 60) -> str:
    """``show(value)`` cut to ``limit`` characters, for a student's value in a hint."""
    try:
        text = show(value)
    except Exception:  # noqa: BLE001
        return "(unprintable)"
    return text if len(text) <= limit else text[: limit - 3] + "..."
