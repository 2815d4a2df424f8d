"""Chapter 1's exercise checks: right answers pass, wrong ones get the specific hint."""

import math

import pytest
import torch

from course_lib import check


@pytest.mark.parametrize(
    ("label", "answer"),
    [
        ("ex-ch1-output-size", 9),
        ("ex-ch1-output-size", torch.tensor(9)),
        ("ex-ch1-same-padding", 6),
        ("ex-ch1-weight-shape", (32, 3, 3, 5)),
        ("ex-ch1-weight-shape", torch.Size([32, 3, 3, 5])),
        ("ex-ch1-top-edge-kernel", [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
        ("ex-ch1-stride-chain", [19, 10, 5, 3]),
    ],
)
def test_right_answers_pass(label, answer):
    result = check(label, answer)
    assert result.passed and result.points == result.max_points == 1
    assert repr(result).startswith("✅ Correct")


def test_loop_convolution_passes():
    def conv(img, k):
        kh, kw = k.shape
        return torch.stack([torch.stack([(img[i:i + kh, j:j + kw] * k).sum()
                                         for j in range(img.shape[1] - kw + 1)])
                            for i in range(img.shape[0] - kh + 1)])
    assert check("ex-ch1-conv-by-hand", conv).passed


@pytest.mark.parametrize(
    ("label", "answer", "hint"),
    [
        ("ex-ch1-output-size", 14, "Use (n + 2*padding - ks)//stride + 1"),
        ("ex-ch1-output-size", 10, "rounds 25/3 up"),
        ("ex-ch1-output-size", 8, "add 1"),
        ("ex-ch1-output-size", 9.0, "floor division"),
        ("ex-ch1-output-size", "9", "whole number"),
        ("ex-ch1-same-padding", 12, "split it between the two sides"),
        ("ex-ch1-same-padding", 3, "dilation of 2 stretches the kernel"),
        ("ex-ch1-weight-shape", (3, 32, 3, 5), "output channels first"),
        ("ex-ch1-weight-shape", (32, 3, 3, 3), "the kernel size is not"),
        ("ex-ch1-weight-shape", (32, 1, 3, 5), "3 input channels"),
        ("ex-ch1-weight-shape", (32, 3, 5, 3), "Height comes before width"),
        ("ex-ch1-weight-shape", (32.7, 3.2, 3, 5), "whole number"),
        ("ex-ch1-weight-shape", (32, 5, 5), "4 dimensions"),
        ("ex-ch1-weight-shape", 7, "tuple of four ints"),
        ("ex-ch1-top-edge-kernel", [[1, 1, 1], [1, 1, 1], [1, 1, 1]], "flat (constant) image"),
        ("ex-ch1-top-edge-kernel", [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]], "vertical edge"),
        ("ex-ch1-top-edge-kernel", [[1, 1, 1], [0, 0, 0], [-1, -1, -1]], "negative weights in the top row"),
        ("ex-ch1-top-edge-kernel", [[1, 2], [3, 4]], "shape (2, 2)"),
        ("ex-ch1-top-edge-kernel", [[-1, -1, -1], [2, 2, 2], [-1, -1, -1]], "lines or both edges"),
        ("ex-ch1-top-edge-kernel", [[math.nan] * 3] * 3, "NaN"),
        ("ex-ch1-stride-chain", [19, 10, 4, 2], "Layer 3 is not right (you have 4)"),
        ("ex-ch1-stride-chain", [19.0, 10, 5, 3], "whole number"),
        ("ex-ch1-stride-chain", [14, 7], "four sizes"),
        ("ex-ch1-conv-by-hand", 42, "Pass your function itself"),
        ("ex-ch1-conv-by-hand", lambda img, k: torch.zeros(2, 2), "has shape (2, 2); expected (3, 3)"),
        ("ex-ch1-conv-by-hand", lambda img, k: torch.nn.functional.conv2d(
            img[None, None], k[:, : k.shape[0]][None, None])[0, 0], "2×3 kernel"),
        ("ex-ch1-conv-by-hand",
         lambda img, k: torch.nn.functional.conv2d(img[None, None], k.flip(0, 1)[None, None])[0, 0],
         "flipped the kernel"),
        ("ex-ch1-conv-by-hand", lambda img, k: 1 / 0, "raised ZeroDivisionError"),
    ],
)
def test_wrong_answers_get_a_specific_hint(label, answer, hint):
    result = check(label, answer)
    assert result.status == "wrong" and result.points == 0
    assert hint in result.message


def test_none_and_ellipsis_mean_not_answered():
    for answer in (None, ...):
        result = check("ex-ch1-output-size", answer)
        assert result.status == "not answered yet" and not result.passed


def test_not_implemented_function_means_not_answered():
    def stub(img, k):
        raise NotImplementedError
    assert check("ex-ch1-conv-by-hand", stub).status == "not answered yet"


def test_unknown_label_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match=r"label must name a registered exercise, got 'ex-ch1-nope'"):
        check("ex-ch1-nope", 1)
