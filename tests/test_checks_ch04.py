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
        ("ex-ch4-dropped-images", 96),
        ("ex-ch4-dropped-images", torch.tensor(96)),
        ("ex-ch4-warmup-steps", 47),
        ("ex-ch4-torch-final-lr", 5e4),
        ("ex-ch4-torch-final-lr", 50_000),
        ("ex-ch4-one-cycle-lr", 0.125),
        ("ex-ch4-one-cycle-lr", 1 / 8),
        ("ex-ch4-near-zero", PHI_005),
        ("ex-ch4-near-zero", 0.52),
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
        ("ex-ch4-dropped-images", 288, "would lack"),
        ("ex-ch4-dropped-images", 156, "number of batches"),
        ("ex-ch4-dropped-images", 157, "number of batches"),
        ("ex-ch4-dropped-images", 59904, "*uses*"),
        ("ex-ch4-dropped-images", 100, "drop_last attribute and its len()"),
        ("ex-ch4-warmup-steps", 46, "left out step 0"),
        ("ex-ch4-warmup-steps", 48, "157 steps"),
        ("ex-ch4-warmup-steps", 39, "pct_start=0.25"),
        ("ex-ch4-warmup-steps", 36, "117 steps"),
        ("ex-ch4-warmup-steps", 50, "'The 1cycle schedule'"),
        ("ex-ch4-torch-final-lr", 2e4, "'final rate' row"),
        ("ex-ch4-torch-final-lr", 1e6, "starting"),
        ("ex-ch4-torch-final-lr", 2e7, "smaller factor"),
        ("ex-ch4-torch-final-lr", 1e4, "PyTorch's default"),
        ("ex-ch4-one-cycle-lr", 0.25, "warm-up ends"),
        ("ex-ch4-one-cycle-lr", 0.5, "whole run"),
        ("ex-ch4-one-cycle-lr", 12.5, "percentage"),
        ("ex-ch4-one-cycle-lr", 0.1, "Reread cos_anneal"),
        ("ex-ch4-near-zero", 0.5, "exact zeros"),
        ("ex-ch4-near-zero", 2 * PHI_005 - 1, "|x| <= 0.05"),
        ("ex-ch4-near-zero", PHI_005 - 0.5, "exact zeros count too"),
        ("ex-ch4-near-zero", 100 * PHI_005, "percentage"),
        ("ex-ch4-near-zero", 0.6, "Reread how the % near zero"),
        ("ex-ch4-minimum-suggestion", 10, "*factor*"),
        ("ex-ch4-minimum-suggestion", 10 ** 0.08, "grows per batch"),
        ("ex-ch4-minimum-suggestion", 99 / 8, "i/100"),
        ("ex-ch4-minimum-suggestion", 12, "rate formula"),
    ],
)
def test_wrong_answers_get_a_specific_hint(label, answer, hint):
    result = check(label, answer)
    assert not result.passed
    assert hint in result.message, result.message


@pytest.mark.parametrize(
    "label, answer, giveaway",
    [
        ("ex-ch4-dropped-images", 100, "96"),
        ("ex-ch4-warmup-steps", 50, "156"),
        ("ex-ch4-torch-final-lr", 2e4, "max_lr/div_factor"),
        ("ex-ch4-one-cycle-lr", 0.1, "p/0.25"),
        ("ex-ch4-near-zero", 0.6, "CDF at 0.05"),
        ("ex-ch4-minimum-suggestion", 12, "100/8"),
    ],
)
def test_fallback_hints_point_to_the_section_not_the_computation(label, answer, giveaway):
    result = check(label, answer)
    assert not result.passed
    assert "Reread" in result.message or "Look at" in result.message, result.message
    assert giveaway not in result.message, result.message


@pytest.mark.parametrize("label", ["ex-ch4-dropped-images", "ex-ch4-warmup-steps", "ex-ch4-torch-final-lr",
                                   "ex-ch4-one-cycle-lr", "ex-ch4-near-zero", "ex-ch4-minimum-suggestion"])
@pytest.mark.parametrize("answer", ["96", "47", [1, 2], math.nan, object(), torch.zeros(3), 96.5])
def test_wrong_types_are_rejected_with_a_message(label, answer):
    result = check(label, answer)
    assert not result.passed and result.message
