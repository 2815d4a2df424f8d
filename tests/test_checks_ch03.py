"""Chapter 3's exercise checks: right answers pass, wrong ones get the specific hint."""

import pytest

from course_lib import check


def rf_size(layers):
    r, jump = 1, 1
    for ks, stride in layers:
        r += (ks - 1) * jump
        jump *= stride
    return r


@pytest.mark.parametrize(
    ("label", "answer"),
    [
        ("ex-ch3-two-stride2", 7),
        ("ex-ch3-first-kernel", 7),
        ("ex-ch3-macs", 940_800),
        ("ex-ch3-rf-function", rf_size),
        ("ex-ch3-layers-needed", 4),
        ("ex-ch3-corner-region", slice(0, 8)),
    ],
)
def test_right_answers_pass(label, answer):
    result = check(label, answer)
    assert result.passed, result.message


def rf_ignoring_strides(layers):
    return 1 + sum(ks - 1 for ks, _ in layers)


def rf_returning_float(layers):
    return float(rf_size(layers))


@pytest.mark.parametrize(
    ("label", "answer", "hint"),
    [
        ("ex-ch3-two-stride2", 5, "neighbouring units are 2 input pixels apart"),
        ("ex-ch3-two-stride2", 9, "receptive fields add up"),
        ("ex-ch3-two-stride2", 8, "r = r + (k-1)*S"),
        ("ex-ch3-first-kernel", 3, "9 pixels, fewer than the 16"),
        ("ex-ch3-first-kernel", 4, "4 is even"),
        ("ex-ch3-first-kernel", 5, "not twice as many"),
        ("ex-ch3-first-kernel", 9, "smallest odd size"),
        ("ex-ch3-macs", 3_763_200, "INPUT position"),
        ("ex-ch3-macs", 14 * 14 * 24 * 25, "all 8 input channels"),
        ("ex-ch3-macs", 338_688, "3×3 kernel"),
        ("ex-ch3-rf-function", rf_ignoring_strides, "you ignored the strides"),
        ("ex-ch3-rf-function", rf_returning_float, "not an int"),
        ("ex-ch3-rf-function", 7, "Pass your function itself"),
        ("ex-ch3-layers-needed", 3, "only 15 pixels"),
        ("ex-ch3-corner-region", slice(-7, 8), "clip them"),
        ("ex-ch3-corner-region", slice(0, 7), "stop is exclusive"),
        ("ex-ch3-corner-region", (0, 8), "Python slice"),
        ("ex-ch3-corner-region", slice(0, 9), "5×5 first layer"),
        ("ex-ch3-corner-region", slice(0, 17), "unit 0 starts at 0*S - P"),
    ],
)
def test_wrong_answers_get_a_specific_hint(label, answer, hint):
    result = check(label, answer)
    assert not result.passed and hint in result.message


def test_unanswered_function_is_not_answered_yet():
    def rf(layers):
        raise NotImplementedError

    assert check("ex-ch3-rf-function", rf).status == "not answered yet"
    assert check("ex-ch3-two-stride2", None).status == "not answered yet"
