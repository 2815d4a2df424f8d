"""Chapter 4's exercise checks accept the right answers, give specific hints for typical mistakes, and
reject answers of the wrong type without a traceback."""

from __future__ import annotations

import math

import pytest
import torch

from course_lib import check, near_zero_fraction, one_cycle_schedule


def _one_cycle(n_steps, lr_max):
    return one_cycle_schedule(n_steps, lr_max).lr


def _minimum(lrs, losses):
    return lrs[losses.argmin()].item() / 10


@pytest.mark.parametrize(
    "label, answer",
    [
        ("ex-ch4-steps-per-epoch", 156),
        ("ex-ch4-warmup-steps", 47),
        ("ex-ch4-torch-final-lr", 1e-5),
        ("ex-ch4-one-cycle-lr", _one_cycle),
        ("ex-ch4-near-zero", near_zero_fraction),
        ("ex-ch4-minimum-suggestion", _minimum),
    ],
)
def test_right_answers_pass(label, answer):
    result = check(label, answer)
    assert result.passed, result.message


@pytest.mark.parametrize(
    "label, answer, hint",
    [
        ("ex-ch4-steps-per-epoch", 157, "partial batch"),
        ("ex-ch4-steps-per-epoch", 117, "batches of 512"),
        ("ex-ch4-warmup-steps", 46, "left out step 0"),
        ("ex-ch4-warmup-steps", 48, "one step too many"),
        ("ex-ch4-warmup-steps", 39, "pct_start=0.25"),
        ("ex-ch4-torch-final-lr", 1e-4, "starting"),
        ("ex-ch4-torch-final-lr", 1e-3, "starting rate"),
        ("ex-ch4-one-cycle-lr", lambda n, lr: torch.full((n,), lr), "1cycle starts at lr_max/div"),
        ("ex-ch4-one-cycle-lr", lambda n, lr: _one_cycle(n, lr)[:-1], "one per step"),
        ("ex-ch4-near-zero", lambda x: (x < 0.05).float().mean().item(), ""),
        ("ex-ch4-minimum-suggestion", lambda lrs, losses: lrs[losses.argmin()].item(), "ten times smaller"),
    ],
)
def test_wrong_answers_get_a_specific_hint(label, answer, hint):
    result = check(label, answer)
    assert not result.passed
    assert hint in result.message, result.message


@pytest.mark.parametrize("label", ["ex-ch4-steps-per-epoch", "ex-ch4-warmup-steps", "ex-ch4-torch-final-lr",
                                   "ex-ch4-one-cycle-lr", "ex-ch4-near-zero", "ex-ch4-minimum-suggestion"])
@pytest.mark.parametrize("answer", ["156", [1, 2], math.nan, object()])
def test_wrong_types_are_rejected_with_a_message(label, answer):
    result = check(label, answer)
    assert not result.passed and result.message
