"""The appendix's exercise checks accept the right answers, give specific hints for typical mistakes,
and reject answers of the wrong type without a traceback."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from course_lib import check

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
        ("ex-ch6-nhwc-strides", (300, 30, 3, 1)),
        ("ex-ch6-nhwc-strides", [300, 30, 3, 1]),
        ("ex-ch6-patch-view-strides", (300, 90, 9, 60, 6, 1)),
        ("ex-ch6-patch-view-strides", torch.Size([300, 90, 9, 60, 6, 1])),
        ("ex-ch6-page-faults", torch.tensor(2548)),
        ("ex-ch6-page-faults", 2548),
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
        ("ex-ch6-nhwc-strides", (300, 100, 10, 1), "NCHW"),
        ("ex-ch6-nhwc-strides", (1, 3, 30, 300), "Reversed"),
        ("ex-ch6-nhwc-strides", (300, 30, 3), "has 4 entries"),
        ("ex-ch6-nhwc-strides", (300, 10, 1, 100), "permute(0, 2, 3, 1)"),
        ("ex-ch6-nhwc-strides", (1200, 120, 12, 4), "bytes"),
        ("ex-ch6-nhwc-strides", (300, 20, 3, 1), "definition of a stride"),
        ("ex-ch6-nhwc-strides", (300.0, 30.0, 3.0, 1.0), "//"),
        ("ex-ch6-patch-view-strides", (300, 90, 9, 30, 3, 1), "without dilation"),
        ("ex-ch6-patch-view-strides", (300, 60, 6, 90, 9, 1), "Swapped"),
        ("ex-ch6-patch-view-strides", (300, 30, 3, 60, 6, 1), "stride 1"),
        ("ex-ch6-patch-view-strides", (300, 180, 18, 60, 6, 1), "stride alone"),
        ("ex-ch6-patch-view-strides", (300, 60, 6, 30, 3, 1), "ignores both"),
        ("ex-ch6-patch-view-strides", (300, 30, 3, 30, 3, 1), "ignores both"),
        ("ex-ch6-patch-view-strides", (300, 90, 9, 60, 6, 3), "previous exercise"),
        ("ex-ch6-patch-view-strides", (300, 90, 9, 60, 3, 1), "'Patches without copying'"),
        ("ex-ch6-patch-view-strides", (300, 90, 9, 60, 6), "has 6 entries"),
        ("ex-ch6-page-faults", 2450, "column of ones"),
        ("ex-ch6-page-faults", 10_436_608, "number of bytes"),
        ("ex-ch6-page-faults", 2609, "4096 bytes, not 4000"),
        ("ex-ch6-page-faults", 2610, "4096 bytes, not 4000"),
        ("ex-ch6-page-faults", 2_609_152, "float32 values"),
        ("ex-ch6-page-faults", 5096, "float64"),
        ("ex-ch6-page-faults", 10192, "input pixel"),
        ("ex-ch6-page-faults", 100, "Scratch buffers and page faults"),
        ("ex-ch6-page-faults", 2548.0, "//"),
        ("ex-ch6-page-faults", torch.tensor(2548.0), "//"),
        ("ex-ch6-page-faults", 2548.5, "whole number"),
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
