"""The appendix's exercise checks accept the right answers, give specific hints for typical mistakes,
and reject answers of the wrong type without a traceback."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import course_lib
from course_lib import check, conv_output_size

LABELS = ["ex-ch6-nhwc-strides", "ex-ch6-patch-view-strides", "ex-ch6-page-faults",
          "ex-ch6-channel-distance", "ex-ch6-unfold-shape"]


def test_the_expected_answers_are_what_pytorch_says():
    x = torch.zeros(2, 10, 10, 3)
    assert x.stride() == (300, 30, 3, 1)
    sN, sH, sW, sC = x.stride()
    # stride 3, dilation 2: the view equals F.unfold's dilated patches
    view = torch.arange(600.0).view(2, 10, 10, 3).as_strided((2, 2, 2, 3, 3, 3), (300, 90, 9, 60, 6, 1))
    cols = F.unfold(torch.arange(600.0).view(2, 10, 10, 3).permute(0, 3, 1, 2), 3, dilation=2, stride=3)
    assert torch.equal(view.permute(0, 5, 3, 4, 1, 2).reshape(2, 27, 4), cols)
    # the wrong answer (300, 10, 1, 100) is what permuting an NCHW tensor gives before .contiguous()
    assert torch.zeros(2, 3, 10, 10).permute(0, 2, 3, 1).stride() == (300, 10, 1, 100)
    assert 512 * 14 * 14 * 26 * 4 / 4096 == 2548
    y = torch.zeros(64, 32, 28, 28)
    assert 4 * y.stride(1) == 3136 and 4 * y.contiguous(memory_format=torch.channels_last).stride(1) == 4
    assert F.unfold(torch.zeros(8, 16, 14, 14), 3, padding=1, stride=2).shape == (8, 144, 49)


@pytest.mark.parametrize(
    "label, answer",
    [
        ("ex-ch6-channel-distance", (3136, 4)),
        ("ex-ch6-unfold-shape", (8, 144, 49)),
        ("ex-ch6-unfold-shape", torch.Size([8, 144, 49])),
    ],
)
def test_right_answers_pass(label, answer):
    result = check(label, answer)
    assert result.passed, result.message


@pytest.mark.parametrize(
    "label, answer, hint",
    [
        ("ex-ch6-channel-distance", (784, 1), "bytes"),
        ("ex-ch6-channel-distance", (784, 4), "Mixed units"),
        ("ex-ch6-channel-distance", (3136, 1), "Mixed units"),
        ("ex-ch6-channel-distance", (3136.0, 4), "//"),
        ("ex-ch6-channel-distance", (4, 3136), "Swapped"),
        ("ex-ch6-channel-distance", (3136, 128), "next to each other"),
        ("ex-ch6-unfold-shape", (8, 49, 144), "stacks the batch, (N·L, kH·kW·C + 1))"),
        ("ex-ch6-unfold-shape", (8, 144, 196), "196 counts the input pixels"),
        ("ex-ch6-unfold-shape", (8, 9, 49), "C·k·k = 144"),
    ],
)
def test_wrong_answers_get_a_specific_hint(label, answer, hint):
    result = check(label, answer)
    assert not result.passed
    assert hint in result.message, result.message


@pytest.mark.parametrize("label", LABELS)
@pytest.mark.parametrize("answer", ["156", 3.5, math.nan, math.inf, True, object(), [1, "a"], [1.5, 2],
                                    (True, 4), torch.zeros(2, 2)])
def test_wrong_types_are_rejected_with_a_message(label, answer):
    result = check(label, answer)
    assert not result.passed and result.message


def contiguous_strides(shape):
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= size
    return tuple(reversed(strides))


def patch_view_strides(shape, stride, dilation):
    sN, sH, sW, sC = contiguous_strides(shape)
    return (sN, stride * sH, stride * sW, dilation * sH, dilation * sW, sC)


def patch_matrix_pages(batch, channels, size, ks, stride, padding):
    side = conv_output_size(size, ks, stride, padding)
    return (batch * side * side * (channels * ks * ks + 1) * 4 + 4095) // 4096


def _pages(batch, channels, size, ks, stride, padding, *, ones=1, value_bytes=4, page=4096, up=True, pixels=False):
    side = size if pixels else conv_output_size(size, ks, stride, padding)
    n = batch * side * side * (channels * ks * ks + ones) * value_bytes
    return -(-n // page) if up else n // page


@pytest.mark.parametrize(
    "label, answer",
    [
        ("ex-ch6-nhwc-strides", contiguous_strides),
        ("ex-ch6-nhwc-strides", lambda shape: [math.prod(shape[i + 1:]) for i in range(len(shape))]),
        ("ex-ch6-patch-view-strides", patch_view_strides),
        ("ex-ch6-patch-view-strides", lambda shape, s, d: torch.Size(patch_view_strides(shape, s, d))),
        ("ex-ch6-page-faults", patch_matrix_pages),
        ("ex-ch6-page-faults", lambda *settings: np.int64(patch_matrix_pages(*settings))),
    ],
)
def test_right_functions_pass(label, answer):
    result = check(label, answer)
    assert result.passed, result.message


def _strides_of_a_tensor(shape):
    return torch.empty(shape).stride()


def _strides_of_an_array(shape):
    return tuple(s // 1 for s in np.zeros(shape, dtype=np.int8).strides)


def _strides_of_a_view(shape, stride, dilation):
    x = torch.zeros(shape)
    sN, sH, sW, sC = x.stride()
    return x.as_strided((1, 1, 1, 1, 1, 1), (sN, stride * sH, stride * sW, dilation * sH, dilation * sW, sC)).stride()


def _pages_of_unfold(batch, channels, size, ks, stride, padding):
    cols = torch.nn.functional.unfold(torch.zeros(batch, channels, size, size), ks, padding=padding, stride=stride)
    return -(-(cols.shape[0] * cols.shape[2] * (cols.shape[1] + 1) * 4) // 4096)


def _pages_of_im2col_bytes(batch, channels, size, ks, stride, padding):
    n = course_lib.im2col_bytes((batch, channels, size, size), ks, stride, padding)
    return -(-(n // (channels * ks * ks) * (channels * ks * ks + 1)) // 4096)


@pytest.mark.parametrize(
    "label, answer, hint",
    [
        ("ex-ch6-nhwc-strides", lambda shape: tuple(reversed(contiguous_strides(tuple(reversed(shape))))),
         "Reversed"),
        ("ex-ch6-nhwc-strides", lambda shape: tuple(4 * s for s in contiguous_strides(shape)), "not bytes"),
        ("ex-ch6-nhwc-strides", lambda shape: tuple(math.prod(shape[i:]) for i in range(len(shape))),
         "One axis too many"),
        ("ex-ch6-nhwc-strides", lambda shape: (300, 30, 3, 1), "returns the same strides as contiguous_strides((2, 10"),
        ("ex-ch6-nhwc-strides", lambda shape: contiguous_strides(shape)[:-1], "has 4 entries; yours has 3"),
        ("ex-ch6-nhwc-strides", lambda shape: (300, 20, 3, 1), "definition of a stride"),
        ("ex-ch6-nhwc-strides", lambda shape: tuple(float(s) for s in contiguous_strides(shape)), "//"),
        ("ex-ch6-nhwc-strides", _strides_of_a_tensor, "rules out"),
        ("ex-ch6-nhwc-strides", _strides_of_an_array, "rules out"),
        ("ex-ch6-nhwc-strides", lambda shape: torch.tensor(contiguous_strides(shape)), "rules out"),
        ("ex-ch6-nhwc-strides", lambda shape: 1 / 0, "raised ZeroDivisionError"),
        ("ex-ch6-patch-view-strides", lambda shape, s, d: patch_view_strides(shape, d, s), "Swapped"),
        ("ex-ch6-patch-view-strides", lambda shape, s, d: patch_view_strides(shape, s, 1), "without dilation"),
        ("ex-ch6-patch-view-strides", lambda shape, s, d: patch_view_strides(shape, 1, d), "moves `stride`"),
        ("ex-ch6-patch-view-strides", lambda shape, s, d: patch_view_strides(shape, s * d, d), "stride alone"),
        ("ex-ch6-patch-view-strides", lambda shape, s, d: (1, *patch_view_strides(shape, s, d)[1:]),
         "N and C axes"),
        ("ex-ch6-patch-view-strides", lambda shape, s, d: (*patch_view_strides(shape, s, d)[:4], 1, 1),
         "'Patches without copying'"),
        ("ex-ch6-patch-view-strides", lambda shape, s, d: patch_view_strides(shape, s, d)[:5], "has 6 entries"),
        ("ex-ch6-patch-view-strides", _strides_of_a_view, "rules out"),
        ("ex-ch6-page-faults", lambda *a: _pages(*a, ones=0), "column of ones"),
        ("ex-ch6-page-faults", lambda *a: _pages(*a, page=1), "number of bytes"),
        ("ex-ch6-page-faults", lambda *a: _pages(*a, page=4), "float32 values"),
        ("ex-ch6-page-faults", lambda *a: _pages(*a, page=4000), "4096 bytes, not 4000"),
        ("ex-ch6-page-faults", lambda *a: _pages(*a, value_bytes=8), "float64"),
        ("ex-ch6-page-faults", lambda *a: _pages(*a, pixels=True), "input pixel"),
        ("ex-ch6-page-faults", lambda *a: _pages(*a, up=False), "Round up"),
        ("ex-ch6-page-faults", lambda *a: 100, "Scratch buffers and page faults"),
        ("ex-ch6-page-faults", lambda *a: float(patch_matrix_pages(*a)), "//"),
        ("ex-ch6-page-faults", lambda *a: patch_matrix_pages(*a) + 0.5, "whole number of pages"),
        ("ex-ch6-page-faults", _pages_of_unfold, "rules out"),
        ("ex-ch6-page-faults", _pages_of_im2col_bytes, "called course_lib.matmul.im2col_bytes"),
    ],
)
def test_wrong_functions_get_a_specific_hint(label, answer, hint):
    result = check(label, answer)
    assert result.status == "wrong", result
    assert hint in result.message, result.message


@pytest.mark.parametrize("label", LABELS[:3])
def test_a_function_exercise_is_not_answered_until_the_stub_is_filled(label):
    def stub(*args):
        raise NotImplementedError

    assert check(label, stub).status == "not answered yet"
    assert "Pass your function itself" in check(label, (300, 30, 3, 1)).message


def test_the_checks_references_agree_with_pytorch_on_every_setting():
    from course_lib.checks import ch06

    for shape in ch06._STRIDE_SHAPES:
        assert ch06._row_major(shape) == torch.empty(shape).stride()
    for shape, stride, dilation in ch06._VIEW_SETTINGS:
        x = torch.arange(float(math.prod(shape))).view(shape)
        o_h = conv_output_size(shape[1], 3, stride, dilation=dilation)
        o_w = conv_output_size(shape[2], 3, stride, dilation=dilation)
        view = x.as_strided((shape[0], o_h, o_w, 3, 3, shape[3]), ch06._view_strides(shape, stride, dilation))
        cols = F.unfold(x.permute(0, 3, 1, 2), 3, dilation=dilation, stride=stride)
        assert torch.equal(view.permute(0, 5, 3, 4, 1, 2).reshape(cols.shape), cols)
    for batch, channels, size, ks, stride, padding in ch06._PAGE_SETTINGS:
        cols = F.unfold(torch.zeros(batch, channels, size, size), ks, padding=padding, stride=stride)
        n_bytes = cols.shape[0] * cols.shape[2] * (cols.shape[1] + 1) * 4
        assert ch06._pages(batch, channels, size, ks, stride, padding) == -(-n_bytes // 4096)
