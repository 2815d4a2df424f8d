"""Every registered exercise check survives any answer: it returns feedback, never a traceback.

Hypothesis feeds each check (all labels of course_lib.checks.exercise_labels()) arbitrary objects:
values of builtin types, nested containers, tensors and arrays of random shapes and dtypes (NaN and
inf included), objects whose every method raises, and callables that raise, exit or return junk.
COURSE_FUZZ_EXAMPLES sets the number of answers per check (default 40).
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from course_lib.checks import CheckResult, check, exercise_labels
from course_lib.checks.core import NOT_ANSWERED

LABELS = exercise_labels()
EXAMPLES = int(os.environ.get("COURSE_FUZZ_EXAMPLES", "40"))
STATUSES = {"correct", "wrong", NOT_ANSWERED}
DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.int32, torch.uint8,
          torch.bool, torch.complex64]


@st.composite
def tensors(draw, fills=("randn", "nan", "inf", "zeros", "ints", "huge")):
    shape = draw(st.lists(st.integers(0, 6), max_size=4))
    dtype = draw(st.sampled_from(DTYPES))
    fill = draw(st.sampled_from(fills))
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    values = {
        "randn": lambda: torch.randn(shape, generator=gen, dtype=torch.float64),
        "nan": lambda: torch.full(shape, math.nan, dtype=torch.float64),
        "inf": lambda: torch.full(shape, -math.inf, dtype=torch.float64),
        "zeros": lambda: torch.zeros(shape, dtype=torch.float64),
        "ints": lambda: torch.randint(-5, 30, shape, generator=gen).double(),
        "huge": lambda: torch.full(shape, 1e30, dtype=torch.float64),
    }[fill]()
    if fill == "nan" and not (dtype.is_floating_point or dtype.is_complex):
        dtype = torch.float32  # NaN has no integer form
    return values.to(dtype)


class Hostile:
    """An answer whose every operation raises, even printing it."""

    def __getattr__(self, name):
        raise RuntimeError(f"hostile attribute {name}")

    def _raise(self, *args, **kwargs):
        raise RuntimeError("hostile operation")

    __eq__ = __ne__ = __lt__ = __gt__ = __len__ = __iter__ = __getitem__ = __float__ = __int__ = _raise
    __index__ = __bool__ = __str__ = __format__ = __call__ = __array__ = __add__ = __mul__ = _raise
    __hash__ = None

    def __repr__(self):
        raise RuntimeError("hostile repr")


def _student_function(kind: str, junk):
    def fn(*args, **kwargs):
        if kind == "raise":
            raise ValueError("a bug in the student's function")
        if kind == "zero-division":
            return 1 / 0
        if kind == "not-implemented":
            raise NotImplementedError
        if kind == "exit":
            raise SystemExit(3)
        if kind == "recursion":
            return fn(*args, **kwargs)
        if kind == "nan":
            return torch.full((3, 3), math.nan)
        return junk

    fn.__name__ = f"student_{kind.replace('-', '_')}"
    return fn


scalars = st.one_of(
    st.none(), st.just(Ellipsis), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
    st.complex_numbers(max_magnitude=1e6), st.text(max_size=8), st.binary(max_size=8),
)
arrays = hnp.arrays(st.sampled_from([np.float64, np.float32, np.int64, np.bool_]),
                    hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5))
from_types = st.sampled_from([int, float, complex, str, bytes, bytearray, list, dict, tuple, set, frozenset,
                              range, slice, type]).flatmap(st.from_type)
leaves = st.one_of(scalars, tensors(), arrays, from_types, st.builds(Hostile))
junk = st.recursive(
    leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner, inner),
                            st.dictionaries(st.text(max_size=3), inner, max_size=3)),
    max_leaves=8,
)
KINDS = ["raise", "zero-division", "not-implemented", "exit", "recursion", "nan", "junk"]
functions = st.builds(_student_function, st.sampled_from(KINDS), leaves)
modules = st.sampled_from([torch.nn.Identity(), torch.nn.Conv2d(1, 1, 3), torch.nn.Sequential(), torch.nn.Flatten()])
answers = st.one_of(junk, functions, modules)

# Answers that cannot be right for any exercise: they raise, hold only NaN, or are not answers at all.
never_right = st.one_of(
    st.builds(Hostile),
    st.builds(_student_function, st.sampled_from(["raise", "zero-division", "not-implemented", "exit", "recursion"]),
              st.none()),
    st.just(math.nan),
    tensors(fills=("nan",)).filter(lambda t: t.numel() > 0),
    st.lists(st.just(math.nan), min_size=1, max_size=5),
)


def _assert_is_feedback(result, label):
    assert isinstance(result, CheckResult), f"{label} returned {type(result).__name__}"
    assert result.label == label and result.status in STATUSES
    assert isinstance(result.message, str) and result.message.strip()
    assert 0 <= result.points <= result.max_points
    assert result.passed == (result.status == "correct")
    if result.max_points > 0:
        assert (result.points == result.max_points) == result.passed
    assert isinstance(repr(result), str)


def test_there_are_checks_to_fuzz():
    assert len(LABELS) >= 5


@pytest.mark.parametrize("label", LABELS)
@settings(max_examples=EXAMPLES)
@given(answer=answers)
def test_check_returns_feedback_for_any_answer(label, answer):
    _assert_is_feedback(check(label, answer), label)


@pytest.mark.parametrize("label", LABELS)
@settings(max_examples=max(10, EXAMPLES // 2))
@given(answer=never_right)
def test_check_never_passes_an_answer_that_raises_or_is_nan(label, answer):
    result = check(label, answer)
    _assert_is_feedback(result, label)
    assert not result.passed and result.points == 0


@pytest.mark.parametrize("label", LABELS)
@pytest.mark.parametrize("answer", [None, Ellipsis])
def test_an_empty_answer_is_not_answered_yet(label, answer):
    result = check(label, answer)
    _assert_is_feedback(result, label)
    assert result.status == NOT_ANSWERED and "Not answered yet" in repr(result)


def test_an_unknown_label_is_the_only_error_and_names_the_label():
    with pytest.raises(ValueError, match=r"label must name a registered exercise, got 'ex-nope'; known labels: ex-"):
        check("ex-nope", 1)
