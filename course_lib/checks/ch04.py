"""Checks for chapter 4, "Training stability"."""

from __future__ import annotations

import math
from typing import Any

from .core import Feedback, as_int, as_number, expect_close, expect_int, register, reject_known_mistakes

# The batch size of the dropped-images and warm-up exercises. Not 384: 60000 % 384 == 60000 % 512 == 96,
# so an answer computed for the chapter's batch size of 512 would pass.
EXERCISE_BS = 448


def _reject_near_miss(value: float, expected: float, *, exact_rel: float, near_rel: float = 1e-9,
                      near_abs: float = 0.0, why: str) -> None:
    """Refuse an answer within ``near_rel``/``near_abs`` of ``expected`` but not within ``exact_rel``: a
    rounded, sampled or read-off value, which gets its own hint instead of the generic one."""
    if math.isclose(value, expected, rel_tol=near_rel, abs_tol=near_abs) and not math.isclose(
            value, expected, rel_tol=exact_rel):
        raise Feedback(f"{value:g} is close, but not exact: {why}")


@register("ex-ch4-dropped-images")
def _dropped_images(answer: Any) -> str:
    full = 60000 // EXERCISE_BS
    expected = 60000 - full * EXERCISE_BS
    value = as_int(answer)
    reject_known_mistakes(value, {
        0: "0 would be right for a loader that keeps the last, incomplete batch; look at the "
           "training loader's drop_last attribute.",
        EXERCISE_BS - expected: f"{value} is how many images the last batch would lack to be full; the question "
                                "asks how many images the epoch leaves out.",
        60000 % 512: f"{value} is what batch size 512 leaves out; the question is about batch size {EXERCISE_BS}.",
    })
    if value in (full, math.ceil(60000 / EXERCISE_BS)):
        raise Feedback(f"{value} is a number of batches (steps); the question asks for a number of images.")
    if value == full * EXERCISE_BS:
        raise Feedback(f"{value} is how many images one epoch *uses*; the question asks how many it leaves out.")
    expect_int(answer, expected, "Your number of images",
               "Look at the training loader's drop_last attribute and its len(): what happens to the "
               "images that cannot fill a batch?")
    return (f"60000 // {EXERCISE_BS} = {full} full batches use {full * EXERCISE_BS:,} images; drop_last=True "
            f"drops the last {expected}. The loader shuffles every epoch, so which images are left out changes "
            "from epoch to epoch.")


@register("ex-ch4-warmup-steps")
def _warmup_steps(answer: Any) -> str:
    n = 60000 // EXERCISE_BS  # the training loader drops the last, incomplete batch
    expected = sum(1 for t in range(n) if t / n < 0.3)
    value = as_int(answer)
    fastai_default = sum(1 for t in range(n) if t / n < 0.25)  # pct_start=0.25
    at_bs_512 = sum(1 for t in range(117) if t / 117 < 0.3)
    reject_known_mistakes(value, {
        expected - 1: "Steps count from t = 0: did you count step 0, and is it a warm-up step?",
        expected + 1: "Two mistakes give this count: an epoch with one more step than the loader gives (what "
                      "does it do with an incomplete last batch?), or counting the first step whose position "
                      "t/n is not below 0.3.",
        fastai_default: "That uses fastai's default pct_start=0.25; the question sets pct_start=0.3.",
        at_bs_512: "That counts the 117 steps of batch size 512; the question is about batch size "
                   f"{EXERCISE_BS}.",
    })
    if value is None and isinstance(answer, float) and math.isclose(answer, 0.3 * n, rel_tol=1e-6):
        raise Feedback(f"{answer:g} is 0.3 times the number of steps, not a count of steps: count the whole "
                       "steps t = 0, 1, 2, ... whose position t/n is below 0.3.")
    expect_int(answer, expected, "Your count of warm-up steps",
               "Reread how fit_one_cycle places step t of n in 'The 1cycle schedule', and take n from the "
               f"course's training loader at batch size {EXERCISE_BS}.")
    return (f"the loader gives {n} steps; steps 0 to {expected - 1} have t/{n} < 0.3: {expected} warm-up "
            f"steps (0.3 × {n} = {0.3 * n:.1f}, rounded up).")


# The OneCycleLR exercise: a linear warm-up (anneal_strategy="linear"), which neither
# one_cycle_schedule nor the 1cycle explorer computes, so the student has to place the step.
TORCH_MAX_LR, TORCH_TOTAL_STEPS, TORCH_STEP = 0.01, 100, 15


def _torch_linear_rate(step: int = TORCH_STEP) -> float:
    """The rate a real OneCycleLR (linear, defaults otherwise) gives the optimizer at ``step``."""
    import torch

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=TORCH_MAX_LR, momentum=0.9)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=TORCH_MAX_LR, total_steps=TORCH_TOTAL_STEPS,
                                                anneal_strategy="linear")
    for _ in range(step):
        opt.step()
        sched.step()
    return float(opt.param_groups[0]["lr"])


def _linear_warmup(step: float, end: float, start: float = TORCH_MAX_LR / 25) -> float:
    """A straight line from ``start`` at step 0 to max_lr at step ``end``."""
    return start + (TORCH_MAX_LR - start) * step / end


_FASTAI_PCT_START = ("That uses pct_start=0.25, fit_one_cycle's default; the question leaves OneCycleLR's own "
                     "defaults.")


@register("ex-ch4-torch-linear-lr")
def _torch_linear_warmup(answer: Any) -> str:
    value = as_number(answer, "Your rate")
    expected = _torch_linear_rate()
    t, n = TORCH_STEP, TORCH_TOTAL_STEPS
    end = 0.3 * n - 1  # OneCycleLR ends its warm-up at step pct_start*total_steps - 1
    cosine = TORCH_MAX_LR / 25 + (TORCH_MAX_LR - TORCH_MAX_LR / 25) * (1 - math.cos(math.pi * t / end)) / 2
    reject_known_mistakes(value, {
        _linear_warmup(t, 0.3 * n): f"That ends the warm-up at step {0.3 * n:g} = pct_start·total_steps, i.e. it "
                                     "places the steps as fit_one_cycle does (step t at position t/n). Reread in "
                                     "'The 1cycle schedule' at which step OneCycleLR's warm-up ends.",
        cosine: "That follows a half cosine, OneCycleLR's default anneal_strategy; the question sets "
                "anneal_strategy='linear'.",
        _linear_warmup(t, 0.25 * n - 1): _FASTAI_PCT_START,
        _linear_warmup(t, 0.25 * n): _FASTAI_PCT_START,
        _linear_warmup(t + 1, end): "Check which step you computed: steps count from 0, and the rate the "
                                    "optimizer uses before any sched.step() is step 0's.",
        _linear_warmup(t - 1, end): f"Check which step you computed: after {t} calls of sched.step() the "
                                    f"scheduler is at step {t}.",
        _linear_warmup(t, end, start=TORCH_MAX_LR / 1e4): "That starts the warm-up at max_lr/final_div_factor; "
                                                          "final_div_factor only sets where the annealing ends. "
                                                          "The warm-up starts at max_lr/div_factor.",
        _linear_warmup(t, end, start=0.0): "That starts the warm-up at 0; OneCycleLR starts it at "
                                           "max_lr/div_factor.",
        TORCH_MAX_LR / 25: "That is the starting rate, the rate of step 0.",
        TORCH_MAX_LR: "That is max_lr, which the rate reaches only at the end of the warm-up.",
    }, rel=1e-5)
    _reject_near_miss(value, expected, exact_rel=1e-6, near_rel=0.01,
                      why="it looks rounded. The rate follows exactly from where OneCycleLR puts the end of its "
                          "warm-up; pass the float unrounded.")
    expect_close(answer, expected, "Your rate", rel=1e-6,
                 hint="Reread the last row of the table in 'The 1cycle schedule' (where OneCycleLR's warm-up "
                      "ends) and the table's start rate, then draw a straight line between the two.")
    return (f"{expected:.7g}: OneCycleLR's warm-up ends at step pct_start·total_steps − 1 = {end:g}, not at "
            f"{0.3 * n:g}, so step {t} is {t}/{end:g} of the way from max_lr/25 = {TORCH_MAX_LR / 25:g} to max_lr: "
            f"{TORCH_MAX_LR / 25:g} + {TORCH_MAX_LR - TORCH_MAX_LR / 25:g} × {t}/{end:g}.")


# The warm-up exercise: where fastai's rate has covered a quarter of its climb from lr_max/25 to
# lr_max. (1 - cos(pi*q))/2 = 1/4 gives q = arccos(1/2)/pi = 1/3, and p = 0.25*q = 1/12.
_Q_QUARTER = math.acos(0.5) / math.pi
_P_QUARTER = 0.25 * _Q_QUARTER
# Where the rate is lr_max/4 (a quarter of the peak, not of the climb).
_P_QUARTER_OF_MAX = 0.25 * math.acos(1 - 2 * (0.25 - 1 / 25) / (1 - 1 / 25)) / math.pi


@register("ex-ch4-one-cycle-lr")
def _one_cycle_quarter(answer: Any) -> str:
    value = as_number(answer, "Your position")
    reject_known_mistakes(value, {
        0.25 / 4: "That is where a straight ramp would cover a quarter of its climb; cos_anneal does not move "
                  "along a straight line.",
        _Q_QUARTER: "That is the warm-up's *own* progress q = p/pct_start; the question asks for the position "
                    "p = t/n in the whole run.",
        0.25: "At p = 0.25 the warm-up ends and the rate is lr_max itself, the whole climb.",
        0.125: "That solves for half of the climb (or half of the warm-up); the question asks where the rate "
               "has covered a quarter of its climb.",
        100 * _P_QUARTER: "Give the position as a fraction of the run between 0 and 1, not a percentage.",
        0.3 * _Q_QUARTER: "That uses PyTorch's default pct_start; the question is about fit_one_cycle's defaults.",
        _P_QUARTER_OF_MAX: "At that position the rate is lr_max/4, a quarter of the peak; the question asks for "
                           "a quarter of the climb, which starts at lr_max/25.",
        0.25 * 2 / 3: "That solves (1 + cos(pi q))/2 = 1/4: check which way the rate runs in cos_anneal as q "
                      "goes from 0 to 1.",
    }, rel=1e-3)
    _reject_near_miss(value, _P_QUARTER, exact_rel=1e-6, near_rel=0.02,
                      why="it looks rounded or read off the discrete steps. Solve cos_anneal for the position "
                          "exactly and pass the float unrounded.")
    expect_close(answer, _P_QUARTER, "Your position", rel=1e-6,
                 hint="Reread cos_anneal and how one_cycle_lrs maps a position p into the warm-up's "
                      "phase, in 'The 1cycle schedule'.")
    return ("(1 − cos(pi q))/2 = 1/4 means cos(pi q) = 1/2, so q = 1/3 of the warm-up and p = 0.25/3 = 1/12 "
            "≈ 0.0833, whatever lr_max and div are. The half cosine leaves lr_max/25 slowly: it takes a third "
            "of the warm-up for the first quarter of its climb, where a straight ramp (p = 0.0625) would take a "
            "quarter.")


# P(z <= 0.05) for a standard normal z: every negative pre-activation becomes an exact zero.
_PHI_005 = 0.5 * (1 + math.erf(0.05 / math.sqrt(2)))
# Of the near-zero ReLU outputs (z <= 0.05), the share that are exact zeros (z <= 0).
_ZERO_SHARE = 0.5 / _PHI_005
# One hint for every share of all outputs, so that no hint names a quantity the answer is built from.
_SHARE_OF_ALL = ("That is a share of *all* outputs; the question asks for a share within a subset of them, "
                 "the outputs that count as near zero.")


@register("ex-ch4-near-zero")
def _near_zero_normal(answer: Any) -> str:
    value = as_number(answer, "Your share")
    if math.isclose(value, 100 * _ZERO_SHARE, rel_tol=2e-3):
        raise Feedback("Give a share between 0 and 1, not a percentage.")
    reject_known_mistakes(value, {
        _PHI_005: _SHARE_OF_ALL,
        0.5: _SHARE_OF_ALL,
        (_PHI_005 - 0.5) / _PHI_005: "That is not the share of exact zeros: check which inputs z give "
                                     "relu(z) == 0.",
        _PHI_005 - 0.5: _SHARE_OF_ALL,
        0.5 / (2 * _PHI_005 - 1): "That divides by the share with |z| <= 0.05; after the ReLU every negative "
                                  "input is an exact zero, and zeros count as near zero.",
    }, rel=0.002)
    if value > 1:
        raise Feedback(f"{value:g} is above 1, so it cannot be a share: the exact zeros are among the near-zero "
                       "outputs, so they cannot outnumber them.")
    # +-0.01 is about 4 standard deviations of an estimate from 10,000 samples (about 5,200 of them near
    # zero), so a sampled share gets this hint, not the generic one.
    _reject_near_miss(value, _ZERO_SHARE, exact_rel=1e-5, near_abs=0.01,
                      why="it looks rounded or estimated from samples. This share follows exactly from the normal "
                          "CDF; compute it and pass the float unrounded.")
    expect_close(answer, _ZERO_SHARE, "Your share", rel=1e-5,
                 hint="Reread how the % near zero is counted in 'Why plain training fails', and what "
                      "a ReLU does to a negative input: which inputs z end up near zero, and which exactly 0?")
    return (f"relu(z) <= 0.05 exactly when z <= 0.05 (a share Phi(0.05) = {_PHI_005:.4f} of all outputs), and "
            f"relu(z) == 0 exactly when z <= 0 (a share 0.5), so 0.5/Phi(0.05) = {_ZERO_SHARE:.4f} of the "
            "near-zero outputs are exact zeros. Hooking the convolution before its ReLU gives the same near-zero "
            "share, since the test z <= 0.05 is the same: near_zero cannot tell a dead ReLU from a merely "
            "negative pre-activation.")


@register("ex-ch4-minimum-suggestion")
def _minimum_batches_back(answer: Any) -> str:
    value = as_number(answer, "Your number of batches")
    if math.isclose(value, 10, rel_tol=1e-9):
        raise Feedback("Dividing the rate by 10 is not going back 10 batches: the rate grows by a constant "
                       "*factor* per batch, and that factor is not 10.")
    if math.isclose(value, 10 ** 0.08, rel_tol=1e-3):
        raise Feedback("That is the factor by which the rate grows per batch, not a number of batches.")
    if math.isclose(value, 99 / 8, rel_tol=1e-6):
        raise Feedback("That spreads the sweep over 99 intervals; fastai's batch i sits at position "
                       "i/num_it = i/100.")
    if math.isclose(value, 0.08, rel_tol=1e-6):
        raise Feedback("0.08 is how many decades the rate climbs per batch, not a number of batches.")
    if math.isclose(value, 100 / 7, rel_tol=1e-3):
        raise Feedback("Count again how many factors of 10 lie between the sweep's start, 1e-7, and its "
                       "end, 10.")
    expect_close(answer, 12.5, "Your number of batches", rel=1e-6,
                 hint="Reread the rate formula at the top of 'The learning-rate finder': the answer "
                      "follows from it alone, with no data from the run.")
    return ("eight decades in 100 batches: a factor 10 every 12.5 batches, so the 'minimum' suggestion "
            "is the rate lr_find used 12.5 batches before the lowest loss; on this page's curve that rate lies "
            "back on the descending part (asserted in the chapter), but nothing guarantees it on every curve.")
