"""Checks for chapter 3's receptive-field exercises whose answer is a function of the settings.

Each check runs the student's function on many settings (the chapter's own example first), inside
:func:`~course_lib.checks.core.forbidden` so that course_lib's receptive-field helpers refuse to answer, and
compares each result with the recurrences of Araujo et al. worked out here. A wrong result is compared with
the typical mistakes for that setting, to name the one the student made.
"""

from __future__ import annotations

import copy
import random
from typing import Any

from .ch03 import RF_FORBIDDEN, _short
from .core import Feedback, as_int, expect_callable, forbidden, register

_WHY = "work it out from the layers' settings with the recurrences yourself."
# This module's own helpers answer its exercises: they refuse too while a student's function runs.
_OWN = tuple(f"course_lib.checks.ch03_fields.{name}" for name in (
    "_walk", "_smallest_k", "_stride1_rsp", "_covering", "_layer1_rsp", "_layer1_grid", "_inside"))


def _run(answer: Any, cases: list[tuple]) -> list[Any]:
    """The student's function on (a copy of) each case's arguments, every call inside one ``forbidden`` block."""
    expect_callable(answer)
    results = []
    with forbidden(RF_FORBIDDEN + _OWN, _WHY):
        for args in cases:
            try:
                results.append(answer(*copy.deepcopy(args)))
            except (Feedback, NotImplementedError):
                raise
            except Exception as error:  # noqa: BLE001  (a bug in the student's function: say where)
                shown = ", ".join(repr(a) for a in args)
                raise Feedback(f"For ({shown}) your function raised {type(error).__name__}: "
                               f"{_short(error, str, 120)}.") from error
    return results


def _judge(cases, results, expected, convert, mistakes, default, where, shown) -> None:
    """Raise :class:`Feedback` for a case whose result (after ``convert``, which may raise) is wrong.

    That is the first such case other than the chapter's worked example (the first case), if there is one.

    ``mistakes`` are (function of the case's arguments, hint) pairs, one per typical mistake. The hint of a
    mistake that the student's function matches on every case wins; else that of one that gives the student's
    result on every case the student gets wrong, if there are several; else ``default``. ``where(args)`` and
    ``shown(got)`` word the start of the message. The message never shows an expected value: the first case is
    the chapter's worked example, and expected values on the other cases would make a table to look answers up in.
    """
    every, first_error = [], None
    for args, result in zip(cases, results, strict=True):
        try:
            every.append(convert(args, result))
        except Feedback as error:
            every.append(Feedback)  # a wrong type: no mistake reproduces it
            first_error = first_error or error
    problems = [i for i, want in enumerate(expected) if every[i] != want]
    if not problems:
        return
    if every[problems[0]] is Feedback:  # the first problem is a wrong type: say so
        raise first_error
    # Judge the worked example (case 0) only if nothing else is wrong: a diagnosis there would point to its answer.
    index = next((i for i in problems if i > 0 and every[i] is not Feedback), problems[0])
    got = every[index]
    matches = [hint for mistake, hint in mistakes if all(every[i] == mistake(*a) for i, a in enumerate(cases))]
    if len(problems) > 1:  # one wrong case alone says too little about which mistake it was
        matches += [hint for mistake, hint in mistakes if all(every[i] == mistake(*cases[i]) for i in problems)]
    raise Feedback(f"{where(cases[index])} you get {shown(got)}: {(matches or [default])[0]}.")


def _as_count(args, result) -> int:
    value = as_int(result)
    if value is None:
        shown = ", ".join(repr(a) for a in args)
        raise Feedback(f"For ({shown}) your function returned {type(result).__name__} {_short(result)}; return "
                       "a whole number (an int).")
    return value


# ---------------------------------------------------------------------------
# ex-ch3-two-stride2: the smallest kernel k of a last, stride-1 convolution for which a unit sees `target` pixels,
# after layers given as (kernel_size, stride) pairs. The chapter's example: a 3×3 stride-2 convolution and a
# 2×2 max pool (stride 2), target 29: k = 7.
TWO_STRIDE2_EXAMPLE = ([(3, 2), (2, 2)], 29)


def _walk(layers, *, strides=True, late=False) -> tuple[int, int]:
    """(r, S) after ``layers`` by the recurrences, or by one of their typical mistakes."""
    r, jump = 1, 1
    for k, s in layers:
        new_jump = jump * s if strides else 1
        r += (k - 1) * (new_jump if late else jump)
        jump = new_jump
    return r, jump


def _smallest_k(layers, target, *, strict=False, short=False, zero=False, all_taps=False, **walk) -> int:
    r, jump = _walk(layers, **walk)
    if all_taps:  # the field of a k-tap kernel taken as r + k·S
        return max(1, -(-(target - r) // jump))
    need = target - r + (1 if strict else 0)  # what the last kernel's taps past its first must add
    if short:
        return max(1, need // jump + 1) if need > 0 else 1
    if need <= 0:
        return 0 if zero else 1
    return -(-need // jump) + 1


def _two_stride2_cases() -> list[tuple[list[tuple[int, int]], int]]:
    """The example, a few written out, then 24 random stacks (seeded) with targets around what they reach."""
    cases = [TWO_STRIDE2_EXAMPLE, ([], 5), ([(5, 2)], 5), ([(5, 2)], 4), ([(3, 1), (3, 1)], 10),
             ([(2, 2), (2, 2), (2, 2)], 30), ([(7, 3), (3, 2)], 40), ([(3, 2), (3, 2), (3, 2)], 29)]
    rng = random.Random(12)
    for _ in range(24):
        layers = [(rng.randint(1, 7), rng.randint(1, 3)) for _ in range(rng.randint(1, 4))]
        r, jump = _walk(layers)
        cases.append((layers, rng.randint(max(1, r - 3), r + 6 * jump)))
    return cases


_TWO_STRIDE2_MISTAKES = [
    (dict(strides=False), "you ignored the strides: after a stride-s layer, neighbouring units are s times "
                          "further apart in the input, so each later tap reaches further"),
    (dict(late=True), "you multiplied S by a layer's stride before using it: a layer's taps are spaced by the "
                      "effective stride of the layers before it"),
    (dict(zero=True), "the layers before the last one already reach the target there, but a kernel has at "
                      "least one tap: the smallest kernel size is 1"),
    (dict(strict=True), "your field is larger than the target by more than it needs: 'at least' the target "
                        "includes a field of exactly the target"),
    (dict(short=True), "your kernel's field stops short of the target: when the taps past the first must "
                       "add more than a whole number of S, round the count of taps up"),
    (dict(all_taps=True), "your kernel's field counts one tap too many: the first tap of a k×k kernel adds "
                          "nothing to r, only the k - 1 taps past it add S each"),
]


@register("ex-ch3-two-stride2")
def _two_stride2(answer: Any) -> str:
    cases = _two_stride2_cases()
    expected = [_smallest_k(layers, target) for layers, target in cases]
    results = _run(answer, cases)
    mistakes = [(lambda layers, target, kw=kwargs: _smallest_k(layers, target, **kw), hint)
                for kwargs, hint in _TWO_STRIDE2_MISTAKES]
    _judge(cases, results, expected, _as_count, mistakes,
           "walk r and S through the layers, then ask how much each tap of the last kernel past its first adds "
           "to r", lambda args: f"For layers={args[0]!r}, target={args[1]}",
           str)
    return (f"it gives the smallest kernel on all {len(cases)} stacks. For the example, r = 3 (S = 2) after "
            "the first convolution and 3 + 1×2 = 5 (S = 4) after the pool; each tap of the last kernel past "
            "its first adds S = 4, so r = 5 + 4(k - 1) reaches 29 at k = 7. The pool counts twice: its "
            "window widens r, and its stride makes every later tap 4 pixels apart.")


# ---------------------------------------------------------------------------
# ex-ch3-layers-needed: simple_cnn's first layer (5×5, stride 2, padding 2) on a size×size image, then n_layers
# 3×3 convolutions of stride 1 and padding 1: how many rows u of the last grid have a field covering all rows of
# the image. The chapter's example: n_layers = 8, size = 28: 5.
LAYERS_NEEDED_EXAMPLE = (8, 28)


def _stride1_rsp(n_layers: int) -> tuple[int, int, int]:
    """(r, S, P) after the 5×5 stride-2 first layer and ``n_layers`` 3×3 stride-1 layers of padding 1."""
    return 5 + 4 * n_layers, 2, 2 + 2 * n_layers


def _covering(n_layers, size, *, r=None, pad=None, inside=False, all_units=False, starts=False, top=0,
              bottom=0) -> int:
    """How many units of the last grid cover rows 0 to size - 1, or one of the typical mistakes' counts.

    ``top`` and ``bottom`` shift the two tests by a row: the off-by-one mistakes.
    """
    r0, jump, pad0 = _stride1_rsp(n_layers)
    r, pad = r0 if r is None else r, pad0 if pad is None else pad
    out = (size - 1) // 2 + 1  # the first layer's grid; the stride-1 layers keep it
    if all_units:
        return out
    if starts:
        return max(0, r - size + 1)
    if inside:
        return sum(u * jump - pad >= 0 and u * jump - pad + r <= size for u in range(out))
    return sum(u * jump - pad <= top and u * jump - pad + r - 1 >= size - 1 + bottom for u in range(out))


def _layers_needed_cases() -> list[tuple[int, int]]:
    sizes = (28, 27, 16, 33, 40, 9, 64)
    return [LAYERS_NEEDED_EXAMPLE] + [(n, size) for size in sizes for n in range(13)
                                      if (n, size) != LAYERS_NEEDED_EXAMPLE]


_LAYERS_NEEDED_MISTAKES = [  # (settings of _covering for a given n_layers, hint)
    (lambda n: dict(all_units=True), "not every unit: a field can be larger than the image and still miss its "
                                     "first or last rows, depending on where it lies. Unit u's field runs from "
                                     "input row uS - P to uS - P + r - 1; check both ends for each u"),
    (lambda n: dict(starts=True), "that counts input rows, not units: the rows where a field of r pixels can "
                                  "start and still cover the image. Count the units u whose field starts at one "
                                  "of them"),
    (lambda n: dict(pad=0), "your fields start at row uS, as if P were 0. The padding of every layer shifts the "
                            "fields up: unit u's field starts at input row uS - P"),
    (lambda n: dict(pad=2), "your fields sit as if P had stopped growing after the first layer. Each padded "
                            "3×3 layer adds its padding times the effective stride of the layers before it to P"),
    (lambda n: dict(r=5 + 2 * n, pad=2 + n), "your r and P grow as if the stride-1 layers' taps were 1 input "
                                             "pixel apart. After the stride-2 first layer, neighbouring units of "
                                             "every later layer are S = 2 input pixels apart"),
    (lambda n: dict(r=5 + 2 * n), "your r grows as if the stride-1 layers' taps were 1 input pixel apart; "
                                  "after the stride-2 first layer they are S = 2 pixels apart"),
    (lambda n: dict(inside=True), "that counts fields that fit inside the image; the question asks for fields "
                                  "that cover all its rows"),
    (lambda n: dict(bottom=1), "your test of a field's last row is off by one: the image's last row is "
                               "size - 1, and a field whose last row is exactly that one covers it"),
    (lambda n: dict(bottom=-1), "your test of a field's last row is off by one: a field of r rows that starts "
                                "at row uS - P ends at row uS - P + r - 1"),
    (lambda n: dict(top=-1), "your test of a field's first row is off by one: a field that starts exactly at "
                             "row 0 covers the image's first row"),
]


@register("ex-ch3-layers-needed")
def _layers_needed(answer: Any) -> str:
    cases = _layers_needed_cases()
    expected = [_covering(n, size) for n, size in cases]
    results = _run(answer, cases)
    mistakes = [(lambda n, size, kw=kwargs: _covering(n, size, **kw(n)), hint)
                for kwargs, hint in _LAYERS_NEEDED_MISTAKES]
    _judge(cases, results, expected, _as_count, mistakes,
           "walk the recurrences through the first layer and the stride-1 layers to r, S and P; then, for each "
           "unit u of the last grid, check that its field's first row, uS - P, is 0 or less and its last row, "
           "uS - P + r - 1, is the image's last row or more",
           lambda args: f"For n_layers={args[0]}, size={args[1]}", str)
    r, jump, pad = _stride1_rsp(8)
    return (f"it agrees on all {len(cases)} settings. For the example, r = {r}, S = {jump}, P = {pad}: unit u "
            f"sees rows 2u - {pad} to 2u + {r - 1 - pad}, which reach row 0 for u ≤ 9 and row 27 for u ≥ 5: "
            "5 of the 14 rows of units. A field larger than the image does not make every unit see all of "
            "it, and each extra layer adds 4 to r but moves every field's start up by 2.")


# ---------------------------------------------------------------------------
# ex-ch3-corner-region: which rows u of layer 1.0 of simple_cnn(first_ks=first_ks), on a size×size image, see
# their whole receptive field inside the image. The chapter's example: first_ks = 9, size = 28: slice(2, 6).
CORNER_EXAMPLE = (9, 28)
CORNER_BOTH_ENDS = ("check both ends of every unit's field: its first row uS - P must be 0 or more and its last "
                    "row uS - P + r - 1 at most the image's last row. And a slice starts at the first unit you "
                    "mean and stops one past the last")


def _layer1_rsp(first_ks: int, *, late_pad=False, one_jump=False) -> tuple[int, int, int]:
    """(r, S, P) of layer 1.0 of simple_cnn(first_ks=first_ks), or of a typical mistake."""
    r, jump, pad = first_ks, 2, first_ks // 2  # layer 0.0: first_ks × first_ks, stride 2, padding first_ks // 2
    r += 2 * (1 if one_jump else jump)  # layer 1.0: 3×3, stride 2, padding 1
    pad += 1 * (1 if late_pad or one_jump else jump)
    return r, jump * 2, pad


def _layer1_grid(size: int) -> int:
    """The side of layer 1.0's output grid (odd first kernels, padding ks//2, both layers stride 2)."""
    return ((size - 1) // 2) // 2 + 1


def _inside(first_ks, size, *, top=True, bottom=True, no_pad=False, fixed_ks=None, shift_top=0, shift_bottom=0,
            **rsp) -> tuple[int, ...]:
    """The rows u of layer 1.0 whose field lies inside the image, or those of a typical mistake.

    ``shift_top`` and ``shift_bottom`` move the two tests by a row: the off-by-one mistakes.
    """
    r, jump, pad = _layer1_rsp(first_ks if fixed_ks is None else fixed_ks, **rsp)
    pad = 0 if no_pad else pad
    return tuple(u for u in range(_layer1_grid(size))
                 if (not top or u * jump - pad >= shift_top)
                 and (not bottom or u * jump - pad + r - 1 <= size - 1 + shift_bottom))


def _corner_cases() -> list[tuple[int, int]]:
    return [CORNER_EXAMPLE] + [(ks, size) for ks in (3, 5, 7, 9, 11, 13) for size in (28, 20, 27, 33, 48, 13)
                               if (ks, size) != CORNER_EXAMPLE]


def _as_units(args, result) -> tuple[int, ...]:
    first_ks, size = args
    where = f"For first_ks={first_ks}, size={size}"
    if not isinstance(result, slice):
        raise Feedback(f"{where} your function returned {type(result).__name__} {_short(result)}; return a Python "
                       "slice of unit indices such as slice(3, 10).")
    parts = [None if v is None else as_int(v) for v in (result.start, result.stop, result.step)]
    if any(p is None and v is not None for p, v in zip(parts, (result.start, result.stop, result.step),
                                                         strict=True)):
        raise Feedback(f"{where} your slice is {_short(result)}: its start, stop and step should be whole "
                       "numbers (ints) or None.")
    if parts[2] not in (None, 1):
        raise Feedback(f"{where} your slice has step {parts[2]}: the units you want form one run, with no "
                       "gaps, so leave out the step.")
    return tuple(range(_layer1_grid(size))[slice(*parts)])


_CORNER_MISTAKES = [
    (dict(fixed_ks=5), "your r and P are those of simple_cnn's own layer 1.0, after a 5×5 first layer: they "
                       "must follow first_ks"),
    (dict(no_pad=True), "you left out the effective padding P: unit u's field starts at row uS - P, not uS"),
    (dict(late_pad=True), "your P adds layer 1.0's padding as it is, but a layer's padding counts in input "
                          "pixels of the layers before it: p times their effective stride"),
    (dict(one_jump=True), "your r and P grow as if layer 1.0's taps were 1 input pixel apart; after the "
                          "stride-2 first layer they are S = 2 pixels apart"),
    (dict(top=False), CORNER_BOTH_ENDS),
    (dict(bottom=False), CORNER_BOTH_ENDS),
    (dict(shift_bottom=-1), "your test of a field's last row is off by one: a field whose last row is the "
                            "image's last row, size - 1, still lies inside the image"),
    (dict(shift_bottom=1), "your test of a field's last row is off by one: a field of r rows that starts at "
                           "row uS - P ends at row uS - P + r - 1, and the image's last row is size - 1"),
    (dict(shift_top=1), "your test of a field's first row is off by one: a field that starts exactly at row 0 "
                        "lies inside the image"),
]


@register("ex-ch3-corner-region")
def _corner_region(answer: Any) -> str:
    cases = _corner_cases()
    expected = [_inside(ks, size) for ks, size in cases]
    results = _run(answer, cases)
    mistakes = [(lambda ks, size, kw=kwargs: _inside(ks, size, **kw), hint) for kwargs, hint in _CORNER_MISTAKES]
    mistakes += [(lambda ks, size, end=end: _inside(ks, size)[end], CORNER_BOTH_ENDS)
                 for end in (slice(None, -1), slice(1, None))]
    _judge(cases, results, expected, _as_units, mistakes,
           "run the recurrences from r=1, S=1, P=0 through the two convolutions (first_ks×first_ks with padding "
           "first_ks//2, then 3×3 with padding 1, both stride 2), then keep the units whose first row is at "
           "least 0 and whose last row is at most the image's last row",
           lambda args: f"For first_ks={args[0]}, size={args[1]}",
           lambda got: f"units {list(got)}")
    r, jump, pad = _layer1_rsp(9)
    return (f"it agrees on all {len(cases)} settings. For the example, r={r}, S={jump}, P={pad}: unit u sees "
            f"rows {jump}u-{pad} to {jump}u+{r - 1 - pad}, so units 2 to 5 see all {r} rows inside the image: "
            "slice(2, 6). A wider first kernel widens the field and its padding moves every field up, so "
            "fewer units fit.")
