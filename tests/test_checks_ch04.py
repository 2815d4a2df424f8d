"""Chapter 4's exercise checks accept the right answers, give specific hints for typical mistakes, and
reject answers of the wrong type without a traceback."""

from __future__ import annotations

import math

import pytest
import torch

from course_lib import check

PHI_005 = 0.5 * (1 + math.erf(0.05 / math.sqrt(2)))  # P(z <= 0.05), z standard normal
ZERO_SHARE = 0.5 / PHI_005  # of the near-zero ReLU outputs, the share that are exact zeros
LINEAR_15 = 0.01 / 25 + (0.01 - 0.01 / 25) * 15 / 29  # OneCycleLR(linear)'s rate at step 15 of 100


def _stepped_linear_rate(step, total_steps=100, max_lr=0.01):
    """What a real OneCycleLR with anneal_strategy="linear" gives the optimizer at ``step``."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=max_lr, momentum=0.9)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=max_lr, total_steps=total_steps,
                                                anneal_strategy="linear")
    for _ in range(step):
        opt.step()
        sched.step()
    return opt.param_groups[0]["lr"]


def test_linear_warmup_answer_is_what_a_real_scheduler_does():
    assert math.isclose(_stepped_linear_rate(15), LINEAR_15, rel_tol=1e-12)
    assert check("ex-ch4-torch-linear-lr", _stepped_linear_rate(15)).passed
    # the warm-up ends exactly at step pct_start*total_steps - 1 = 29, so step 29 has the peak rate
    assert _stepped_linear_rate(29) == 0.01 and _stepped_linear_rate(30) < 0.01


@pytest.mark.parametrize(
    "label, answer",
    [
        ("ex-ch4-dropped-images", 416),
        ("ex-ch4-dropped-images", torch.tensor(416)),
        ("ex-ch4-warmup-steps", 40),
        ("ex-ch4-torch-linear-lr", LINEAR_15),
        ("ex-ch4-torch-linear-lr", 0.0004 + 0.0096 * 15 / 29),
        ("ex-ch4-torch-linear-lr", torch.tensor(LINEAR_15)),  # float32
        ("ex-ch4-one-cycle-lr", 1 / 12),
        ("ex-ch4-one-cycle-lr", 0.25 * math.acos(0.5) / math.pi),
        ("ex-ch4-near-zero", ZERO_SHARE),
        ("ex-ch4-near-zero", torch.tensor(ZERO_SHARE)),  # float32, e.g. from torch's normal CDF
        ("ex-ch4-near-zero", 0.961652),
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
        ("ex-ch4-warmup-steps", 39, "did you count step 0"),
        ("ex-ch4-warmup-steps", 41, "one more step than the loader gives"),
        ("ex-ch4-warmup-steps", 34, "pct_start=0.25"),
        ("ex-ch4-warmup-steps", 36, "117 steps"),
        ("ex-ch4-warmup-steps", 50, "'The 1cycle schedule'"),
        ("ex-ch4-warmup-steps", 0.3 * 133, "not a count of steps"),
        ("ex-ch4-torch-linear-lr", 0.0004 + 0.0096 * 15 / 30, "fit_one_cycle does"),
        ("ex-ch4-torch-linear-lr", 0.0004 + 0.0096 * (1 - math.cos(math.pi * 15 / 29)) / 2, "half cosine"),
        ("ex-ch4-torch-linear-lr", 0.0004 + 0.0096 * 15 / 24, "pct_start=0.25"),
        ("ex-ch4-torch-linear-lr", 0.0004 + 0.0096 * 15 / 25, "pct_start=0.25"),
        ("ex-ch4-torch-linear-lr", 0.0004 + 0.0096 * 16 / 29, "count from 0"),
        ("ex-ch4-torch-linear-lr", 0.0004 + 0.0096 * 14 / 29, "15 calls"),
        ("ex-ch4-torch-linear-lr", 1e-6 + (0.01 - 1e-6) * 15 / 29, "final_div_factor only"),
        ("ex-ch4-torch-linear-lr", 0.01 * 15 / 29, "starts the warm-up at 0"),
        ("ex-ch4-torch-linear-lr", 0.0004, "starting rate"),
        ("ex-ch4-torch-linear-lr", 0.01, "end of the warm-up"),
        ("ex-ch4-torch-linear-lr", 0.00537, "not exact"),  # rounded
        ("ex-ch4-torch-linear-lr", 0.007, "last row of the table"),
        ("ex-ch4-one-cycle-lr", 0.0625, "straight ramp"),
        ("ex-ch4-one-cycle-lr", 1 / 3, "*own* progress"),
        ("ex-ch4-one-cycle-lr", 0.25, "warm-up ends"),
        ("ex-ch4-one-cycle-lr", 0.125, "half of the climb"),
        ("ex-ch4-one-cycle-lr", 100 / 12, "percentage"),
        ("ex-ch4-one-cycle-lr", 0.1, "PyTorch's default pct_start"),
        ("ex-ch4-one-cycle-lr", 0.07746, "lr_max/4"),
        ("ex-ch4-one-cycle-lr", 1 / 6, "which way"),
        ("ex-ch4-one-cycle-lr", 0.0833, "not exact"),  # rounded
        ("ex-ch4-one-cycle-lr", 0.05, "Reread cos_anneal"),
        ("ex-ch4-near-zero", PHI_005, "share of *all* outputs"),
        ("ex-ch4-near-zero", 0.5, "share of *all* outputs"),
        ("ex-ch4-near-zero", (PHI_005 - 0.5) / PHI_005, "relu(z) == 0"),
        ("ex-ch4-near-zero", PHI_005 - 0.5, "share of *all* outputs"),
        ("ex-ch4-near-zero", 0.5 / (2 * PHI_005 - 1), "|z| <= 0.05"),
        ("ex-ch4-near-zero", 100 * ZERO_SHARE, "percentage"),
        ("ex-ch4-near-zero", 3.0, "above 1"),
        ("ex-ch4-near-zero", 0.96, "not exact"),  # rounded
        ("ex-ch4-near-zero", 0.9555, "not exact"),  # a sampled estimate, about 2.5 sd low
        ("ex-ch4-near-zero", 0.8, "Reread how the % near zero"),
        ("ex-ch4-minimum-suggestion", 10, "*factor*"),
        ("ex-ch4-minimum-suggestion", 10 ** 0.08, "grows per batch"),
        ("ex-ch4-minimum-suggestion", 99 / 8, "i/100"),
        ("ex-ch4-minimum-suggestion", 0.08, "decades the rate climbs per batch"),
        ("ex-ch4-minimum-suggestion", 100 / 7, "factors of 10"),
        ("ex-ch4-minimum-suggestion", 12, "rate formula"),
        ("ex-ch4-minimum-suggestion", 13, "rate formula"),
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
        ("ex-ch4-torch-linear-lr", 0.007, "29"),
        ("ex-ch4-one-cycle-lr", 0.05, "1/3"),
        ("ex-ch4-one-cycle-lr", 0.05, "acos"),
        ("ex-ch4-near-zero", 0.8, "Phi(0.05)"),
        ("ex-ch4-minimum-suggestion", 20, "100/8"),
        ("ex-ch4-minimum-suggestion", 12, "12.5"),
        ("ex-ch4-minimum-suggestion", 13, "12.5"),
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


@pytest.mark.parametrize("label, what", [("ex-ch4-torch-linear-lr", "Your rate"),
                                         ("ex-ch4-one-cycle-lr", "Your position"),
                                         ("ex-ch4-near-zero", "Your share"),
                                         ("ex-ch4-minimum-suggestion", "Your number of batches")])
@pytest.mark.parametrize("answer, got", [("0.125", "got str '0.125'"), ([1, 2], "got list"), ((1,), "got tuple"),
                                         (object(), "got object"), (torch.zeros(3), "got Tensor"),
                                         (True, "got bool True")])
def test_number_checks_reject_wrong_types_naming_the_expected_type(label, what, answer, got):
    result = check(label, answer)
    assert not result.passed
    assert result.message.startswith(f"{what} should be a number, {got}"), result.message


@pytest.mark.parametrize("label", ["ex-ch4-torch-linear-lr", "ex-ch4-one-cycle-lr", "ex-ch4-near-zero",
                                   "ex-ch4-minimum-suggestion"])
def test_number_checks_reject_nan_by_name(label):
    result = check(label, math.nan)
    assert not result.passed
    assert result.message.endswith("is NaN."), result.message


@pytest.mark.parametrize("label", ["ex-ch4-dropped-images", "ex-ch4-warmup-steps", "ex-ch4-torch-linear-lr",
                                   "ex-ch4-one-cycle-lr", "ex-ch4-near-zero", "ex-ch4-minimum-suggestion"])
def test_unanswered_is_not_graded_as_wrong(label):
    result = check(label, None)
    assert not result.passed
    assert "Not answered yet" in str(result) or "replace the None" in result.message, result.message


@pytest.mark.parametrize(
    "label, answer, giveaway",
    [
        # the warm-up hints name neither the loader's step count nor the answer
        ("ex-ch4-warmup-steps", 39, "133"),
        ("ex-ch4-warmup-steps", 39, "40"),
        ("ex-ch4-warmup-steps", 41, "133"),
        ("ex-ch4-warmup-steps", 41, "40"),
        # no hint names the inverse of 0.08 or how many batches make a factor of 10
        ("ex-ch4-minimum-suggestion", 0.08, "one decade"),
        ("ex-ch4-minimum-suggestion", 10 ** 0.08, "factor of 10"),
        ("ex-ch4-minimum-suggestion", 10, "make 10"),
        # the answer is 0.5/Phi(0.05): no hint names the other quantity
        ("ex-ch4-near-zero", 0.5, "exact zeros"),
        ("ex-ch4-near-zero", PHI_005, "exact zeros"),
        ("ex-ch4-near-zero", PHI_005 - 0.5, "0.05"),
        ("ex-ch4-near-zero", (PHI_005 - 0.5) / PHI_005, "positive"),
        # no hint gives PyTorch's pct_start (0.1 = 0.3 q) or a direction from 0.0625 or 0.125
        ("ex-ch4-one-cycle-lr", 0.1, "0.3"),
        ("ex-ch4-one-cycle-lr", 0.0625, "less than"),
        ("ex-ch4-one-cycle-lr", 0.125, "cos(pi/2)"),
        ("ex-ch4-one-cycle-lr", 1 / 6, "more than half"),
        # the off-by-one-step hints do not name the neighbouring steps
        ("ex-ch4-torch-linear-lr", 0.0004 + 0.0096 * 16 / 29, "step 16"),
        ("ex-ch4-torch-linear-lr", 0.0004 + 0.0096 * 14 / 29, "step 14"),
        ("ex-ch4-torch-linear-lr", 0.0004 + 0.0096 * (1 - math.cos(math.pi * 15 / 29)) / 2, "same two points"),
    ],
)
def test_specific_hints_do_not_give_away_the_answer(label, answer, giveaway):
    result = check(label, answer)
    assert not result.passed
    assert giveaway not in result.message, result.message
