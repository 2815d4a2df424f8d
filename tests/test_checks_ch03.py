"""Chapter 3's exercise checks: right answers pass, wrong ones get the specific hint."""

import pytest

from course_lib import check


def rf_params(layers):
    r, jump, pad = 1, 1, 0
    for ks, stride, padding, dilation in layers:
        span = dilation * (ks - 1) + 1
        r, jump, pad = r + (span - 1) * jump, jump * stride, pad + padding * jump
    return r, jump, pad


@pytest.mark.parametrize(
    ("label", "answer"),
    [
        ("ex-ch3-two-stride2", 13),
        ("ex-ch3-first-kernel", 7),
        ("ex-ch3-macs", 691_200),
        ("ex-ch3-rf-function", rf_params),
        ("ex-ch3-rf-function", lambda layers: list(rf_params(layers))),
        ("ex-ch3-layers-needed", 6),
        ("ex-ch3-corner-region", slice(0, 8)),
    ],
)
def test_right_answers_pass(label, answer):
    result = check(label, answer)
    assert result.passed, result.message


def rf_ignoring_dilation(layers):
    return rf_params([(k, s, p, 1) for k, s, p, _ in layers])


def rf_ignoring_strides(layers):
    return rf_params([(k, 1, p, d) for k, _, p, d in layers])


def rf_updating_stride_first(layers):
    r, jump, pad = 1, 1, 0
    for ks, stride, padding, dilation in layers:
        jump *= stride
        r, pad = r + dilation * (ks - 1) * jump, pad + padding * jump
    return r, jump, pad


def rf_late_padding(layers):
    r, jump, pad = 1, 1, 0
    for ks, stride, padding, dilation in layers:
        r += dilation * (ks - 1) * jump
        jump *= stride
        pad += padding * jump
    return r, jump, pad


def rf_size_only(layers):
    return rf_params(layers)[0]


def rf_floats(layers):
    return tuple(float(v) for v in rf_params(layers))


def rf_pair(layers):
    return rf_params(layers)[:2]


def rf_off_by_one(layers):
    r, jump, pad = rf_params(layers)
    return r + 1, jump, pad


@pytest.mark.parametrize(
    ("label", "answer", "hint"),
    [
        ("ex-ch3-two-stride2", 7, "leaves out the pool"),
        ("ex-ch3-two-stride2", 11, "also adds (2-1)"),
        ("ex-ch3-two-stride2", 6, "ignores the strides"),
        ("ex-ch3-two-stride2", 17, "S_(l-1)"),
        ("ex-ch3-two-stride2", 18, "receptive fields add up"),
        ("ex-ch3-two-stride2", 9, "Walk the recurrences"),
        ("ex-ch3-two-stride2", "13", "whole number"),
        ("ex-ch3-two-stride2", 13.0, "whole number"),
        ("ex-ch3-first-kernel", 3, "fewer than the 32"),
        ("ex-ch3-first-kernel", 4, "4 is even"),
        ("ex-ch3-first-kernel", 5, "about 2.3 per output"),
        ("ex-ch3-first-kernel", 11, "counts one channel only"),
        ("ex-ch3-first-kernel", 9, "a smaller odd kernel"),
        ("ex-ch3-first-kernel", 1, "count what simple_cnn's first layer reads"),
        ("ex-ch3-first-kernel", "7", "whole number"),
        ("ex-ch3-macs", 940_800, "no padding"),
        ("ex-ch3-macs", 811_200, "rounds down"),
        ("ex-ch3-macs", 580_800, "(27-5)//2 + 1"),
        ("ex-ch3-macs", 3_499_200, "INPUT position"),
        ("ex-ch3-macs", 12 * 12 * 24 * 25, "all 8 input channels"),
        ("ex-ch3-macs", 12 * 12 * 24 * 8 * 9, "3×3 kernel"),
        ("ex-ch3-macs", 700_000, "output grid first"),
        ("ex-ch3-macs", 691_200.5, "whole number"),
        ("ex-ch3-rf-function", rf_ignoring_dilation, "dilated span"),
        ("ex-ch3-rf-function", rf_ignoring_strides, "you ignored the strides"),
        ("ex-ch3-rf-function", rf_updating_stride_first, "you updated S before using it"),
        ("ex-ch3-rf-function", rf_late_padding, "P grew with the effective stride after"),
        ("ex-ch3-rf-function", rf_off_by_one, "expected"),
        ("ex-ch3-rf-function", rf_size_only, "return the tuple (r, S, P)"),
        ("ex-ch3-rf-function", rf_pair, "tuple (r, S, P) of three ints"),
        ("ex-ch3-rf-function", rf_floats, "whole numbers"),
        ("ex-ch3-rf-function", 7, "Pass your function itself"),
        ("ex-ch3-layers-needed", 3, "count for stride-2 layers"),
        ("ex-ch3-layers-needed", 12, "1 pixel apart"),
        ("ex-ch3-layers-needed", 14, "starts from r = 1"),
        ("ex-ch3-layers-needed", 7, "counts the first layer too"),
        ("ex-ch3-layers-needed", 5, "sees 25 pixels"),
        ("ex-ch3-layers-needed", 4, "Walk the recurrences"),
        ("ex-ch3-layers-needed", [6], "whole number"),
        ("ex-ch3-corner-region", slice(-7, 8), "clip them"),
        ("ex-ch3-corner-region", slice(0, 7), "stop is exclusive"),
        ("ex-ch3-corner-region", (0, 8), "Python slice"),
        ("ex-ch3-corner-region", slice(0, 9), "5×5 first layer"),
        ("ex-ch3-corner-region", slice(0, 17), "unit 0 starts at 0*S - P"),
    ],
)
def test_wrong_answers_get_a_specific_hint(label, answer, hint):
    result = check(label, answer)
    assert not result.passed and hint in result.message, result.message


def test_generic_hints_do_not_hand_over_the_computation():
    for label, answer in [("ex-ch3-two-stride2", 9), ("ex-ch3-first-kernel", 1), ("ex-ch3-macs", 1),
                          ("ex-ch3-layers-needed", 4)]:
        message = check(label, answer).message
        assert "*" not in message and ">=" not in message, message


def test_unanswered_function_is_not_answered_yet():
    def rf(layers):
        raise NotImplementedError

    assert check("ex-ch3-rf-function", rf).status == "not answered yet"
    assert check("ex-ch3-two-stride2", None).status == "not answered yet"


def test_rf_function_cannot_wrap_the_library():
    from torch import nn

    from course_lib import layer_summary, receptive_field

    def wraps_receptive_field(layers):
        stack = nn.Sequential(*(nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d) for k, s, p, d in layers))
        row = receptive_field(stack)[-1]
        return row.size, row.stride, row.padding

    def wraps_layer_summary(layers):
        stack = nn.Sequential(*(nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d) for k, s, p, d in layers))
        row = layer_summary(stack, (1, 64, 64))[-1]
        return row.rf_size, row.rf_stride, 0

    for fn in (wraps_receptive_field, wraps_layer_summary):
        result = check("ex-ch3-rf-function", fn)
        assert not result.passed and "recurrences yourself" in result.message, result.message
    assert receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3)))[-1].size == 3  # unpatched again
