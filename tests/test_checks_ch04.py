"""Chapter 4's exercise checks accept the right answers, give specific hints for typical mistakes, and
reject answers of the wrong type without a traceback."""

from __future__ import annotations

import math

import pytest
import torch

from course_lib import check

PHI_005 = 0.5 * (1 + math.erf(0.05 / math.sqrt(2)))  # P(z <= 0.05), z standard normal


@pytest.mark.parametrize(
    "label, answer",
    [
        ("ex-ch4-dropped-images", 416),
        ("ex-ch4-dropped-images", torch.tensor(416)),
        ("ex-ch4-warmup-steps", 40),
        ("ex-ch4-torch-final-lr", 5e4),
        ("ex-ch4-torch-final-lr", 50_000),
        ("ex-ch4-one-cycle-lr", 0.125),
        ("ex-ch4-one-cycle-lr", 1 / 8),
        ("ex-ch4-near-zero", PHI_005),
        ("ex-ch4-near-zero", torch.tensor(PHI_005)),  # float32, e.g. from torch's normal CDF
        ("ex-ch4-near-zero", 0.519939),
        ("ex-ch4-minimum-suggestion", 12.5),
        ("ex-ch4-minimum-suggestion", 100 / 8),
    ],
)
def test_right_answers_pass(label, answer):
    result = check(label, answer)
    assert result.passed, result.message


@pytest.mark.parametrize(
    "label, answer, hint",
    [
        ("ex-ch4-dropped-images", 0, "drop_last"),
        ("ex-ch4-dropped-images", 32, "would lack"),
        ("ex-ch4-dropped-images", 96, "batch size 512 leaves out"),
        ("ex-ch4-dropped-images", 133, "number of batches"),
        ("ex-ch4-dropped-images", 134, "number of batches"),
        ("ex-ch4-dropped-images", 59584, "*uses*"),
        ("ex-ch4-dropped-images", 100, "drop_last attribute and its len()"),
        ("ex-ch4-warmup-steps", 39, "left out step 0"),
        ("ex-ch4-warmup-steps", 41, "134 steps"),
        ("ex-ch4-warmup-steps", 34, "pct_start=0.25"),
        ("ex-ch4-warmup-steps", 36, "117 steps"),
        ("ex-ch4-warmup-steps", 50, "'The 1cycle schedule'"),
        ("ex-ch4-warmup-steps", 0.3 * 133, "not a count of steps"),
        ("ex-ch4-torch-final-lr", 2e4, "'final rate' row"),
        ("ex-ch4-torch-final-lr", 1e6, "starting"),
        ("ex-ch4-torch-final-lr", 2e7, "smaller factor"),
        ("ex-ch4-torch-final-lr", 1e4, "PyTorch's default"),
        ("ex-ch4-torch-final-lr", 1e-8, "final rate itself"),
        ("ex-ch4-one-cycle-lr", 0.25, "warm-up ends"),
        ("ex-ch4-one-cycle-lr", 0.5, "whole run"),
        ("ex-ch4-one-cycle-lr", 12.5, "percentage"),
        ("ex-ch4-one-cycle-lr", 0.15, "PyTorch's default pct_start"),
        ("ex-ch4-one-cycle-lr", 0.1217, "lr_max/2"),
        ("ex-ch4-one-cycle-lr", 0.1, "Reread cos_anneal"),
        ("ex-ch4-near-zero", 0.5, "exact zeros"),
        ("ex-ch4-near-zero", 2 * PHI_005 - 1, "|x| <= 0.05"),
        ("ex-ch4-near-zero", PHI_005 - 0.5, "exact zeros count too"),
        ("ex-ch4-near-zero", 100 * PHI_005, "percentage"),
        ("ex-ch4-near-zero", 1 - PHI_005, "*above* 0.05"),
        ("ex-ch4-near-zero", 0.52, "not exact"),  # rounded
        ("ex-ch4-near-zero", 0.5205, "not exact"),  # a sampled estimate
        ("ex-ch4-near-zero", 0.5306, "not exact"),  # the chapter's own 10,000 samples (seed 0)
        ("ex-ch4-near-zero", 0.5051, "not exact"),  # 10,000 samples, seed 7: 3 sd low
        ("ex-ch4-near-zero", 0.6, "Reread how the % near zero"),
        ("ex-ch4-minimum-suggestion", 10, "*factor*"),
        ("ex-ch4-minimum-suggestion", 10 ** 0.08, "grows per batch"),
        ("ex-ch4-minimum-suggestion", 99 / 8, "i/100"),
        ("ex-ch4-minimum-suggestion", 0.08, "one decade"),
        ("ex-ch4-minimum-suggestion", 100 / 7, "factors of 10"),
        ("ex-ch4-minimum-suggestion", 12, "need not be a whole number"),
        ("ex-ch4-minimum-suggestion", 13, "need not be a whole number"),
        ("ex-ch4-minimum-suggestion", 20, "rate formula"),
    ],
)
def test_wrong_answers_get_a_specific_hint(label, answer, hint):
    result = check(label, answer)
    assert not result.passed
    assert hint in result.message, result.message


@pytest.mark.parametrize(
    "label, answer, giveaway",
    [
        ("ex-ch4-dropped-images", 100, "416"),
        ("ex-ch4-warmup-steps", 50, "133"),
        ("ex-ch4-torch-final-lr", 2e4, "max_lr/div_factor"),
        ("ex-ch4-one-cycle-lr", 0.1, "p/0.25"),
        ("ex-ch4-near-zero", 0.6, "CDF at 0.05"),
        ("ex-ch4-minimum-suggestion", 20, "100/8"),
    ],
)
def test_fallback_hints_point_to_the_section_not_the_computation(label, answer, giveaway):
    result = check(label, answer)
    assert not result.passed
    assert "Reread" in result.message or "Look at" in result.message, result.message
    assert giveaway not in result.message, result.message


@pytest.mark.parametrize("label, what", [("ex-ch4-dropped-images", "Your number of images"),
                                         ("ex-ch4-warmup-steps", "Your count of warm-up steps")])
@pytest.mark.parametrize("answer", ["416", "40", [1, 2], (416,), math.nan, object(), torch.zeros(3), True, 416.0,
                                    416.5, torch.tensor(416.0)])
def test_int_checks_reject_wrong_types_naming_the_expected_type(label, what, answer):
    result = check(label, answer)
    assert not result.passed
    assert result.message.startswith(f"{what} should be a whole number (an int), got "), result.message


@pytest.mark.parametrize("label, what", [("ex-ch4-torch-final-lr", "Your final_div_factor"),
                                         ("ex-ch4-one-cycle-lr", "Your position"),
                                         ("ex-ch4-near-zero", "Your fraction"),
                                         ("ex-ch4-minimum-suggestion", "Your number of batches")])
@pytest.mark.parametrize("answer, got", [("0.125", "got str '0.125'"), ([1, 2], "got list"), ((1,), "got tuple"),
                                         (object(), "got object"), (torch.zeros(3), "got Tensor"),
                                         (True, "got bool True")])
def test_number_checks_reject_wrong_types_naming_the_expected_type(label, what, answer, got):
    result = check(label, answer)
    assert not result.passed
    assert result.message.startswith(f"{what} should be a number, {got}"), result.message


@pytest.mark.parametrize("label", ["ex-ch4-torch-final-lr", "ex-ch4-one-cycle-lr", "ex-ch4-near-zero",
                                   "ex-ch4-minimum-suggestion"])
def test_number_checks_reject_nan_by_name(label):
    result = check(label, math.nan)
    assert not result.passed
    assert result.message.endswith("is NaN."), result.message


@pytest.mark.parametrize("label", ["ex-ch4-dropped-images", "ex-ch4-warmup-steps", "ex-ch4-torch-final-lr",
                                   "ex-ch4-one-cycle-lr", "ex-ch4-near-zero", "ex-ch4-minimum-suggestion"])
def test_unanswered_is_not_graded_as_wrong(label):
    result = check(label, None)
    assert not result.passed
    assert "Not answered yet" in str(result) or "replace the None" in result.message, result.message
