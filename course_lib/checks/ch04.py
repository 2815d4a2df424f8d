"""Checks for chapter 4, "Training stability"."""

from __future__ import annotations

import math
from typing import Any

from .core import Feedback, as_int, as_number, expect_close, expect_int, register, reject_known_mistakes

# The batch size of the dropped-images and warm-up exercises. Not 384: 60000 % 384 == 60000 % 512 == 96,
# so an answer computed for the chapter's batch size of 512 would pass.
EXERCISE_BS = 448


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
        expected - 1: f"{value} is floor(0.3*{n}): you left out step 0, which also warms up "
                      f"(its position 0/{n} is below 0.3).",
        expected + 1: f"{value} would be right for {n + 1} steps, but the loader drops the last, incomplete "
                      f"batch, so the epoch has {n} (the previous exercise). Or you counted step {expected}, "
                      f"whose position {expected}/{n} is already above 0.3.",
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


@register("ex-ch4-torch-final-lr")
def _torch_final_lr(answer: Any) -> str:
    value = as_number(answer, "Your final_div_factor")
    reject_known_mistakes(value, {
        1e6: "1e6 would be right if OneCycleLR divided max_lr by final_div_factor, but it divides "
             "the *starting* rate, max_lr/div_factor.",
        2e7: "The starting rate is already div_factor times smaller than max_lr, so the last "
             "division needs a smaller factor, not a larger one.",
        1e4: "1e4 is PyTorch's default final_div_factor; with div_factor=20 it ends at max_lr/2e5, "
             "not at max_lr/1e6.",
        0.01 / 1e6: "That is the final rate itself; the question asks for the final_div_factor that "
                    "produces it.",
    }, rel=0.001)
    expect_close(answer, 1e6 / 20, "Your final_div_factor",
                 hint="Reread the 'final rate' row of the table in 'The 1cycle schedule': which rate does "
                      "final_div_factor divide?")
    return "5e4: the last rate is max_lr/div_factor/final_div_factor = 0.01/20/5e4 = 1e-8 = max_lr/1e6."


# Where fastai's warm-up reaches lr_max/2 (not the asked midpoint of lr_max/25 and lr_max):
# (1 - cos(pi*q))/2 = (1/2 - 1/25)/(1 - 1/25), and p = 0.25*q.
_P_HALF_OF_MAX = 0.25 * math.acos(1 - 2 * (0.5 - 1 / 25) / (1 - 1 / 25)) / math.pi


@register("ex-ch4-one-cycle-lr")
def _one_cycle_midpoint(answer: Any) -> str:
    value = as_number(answer, "Your position")
    reject_known_mistakes(value, {
        0.25: "At p = 0.25 the warm-up ends and the rate is lr_max itself, not halfway there. "
              "Where in its phase does a half cosine pass its midpoint?",
        0.5: "0.5 is halfway through the warm-up's *own* progress p/pct_start; the question asks "
             "for the position p = t/n in the whole run.",
        12.5: "Give the position as a fraction of the run between 0 and 1, not a percentage.",
        0.5 * 0.3: "0.3 is PyTorch's default pct_start; the question is about fit_one_cycle's defaults.",
        _P_HALF_OF_MAX: "At that position the rate is lr_max/2, half of the peak; the question asks for "
                        "the rate halfway between the start, lr_max/25, and lr_max.",
    }, rel=1e-03)
    expect_close(answer, 0.125, "Your position", rel=1e-6,
                 hint="Reread cos_anneal and how one_cycle_lrs maps a position p into the warm-up's "
                      "phase, in 'The 1cycle schedule'.")
    return ("cos(pi/2) = 0, so the half cosine is exactly halfway at q = 1/2 of its phase: "
            "p = 0.5 × 0.25 = 0.125, whatever lr_max and div are.")


# P(z <= 0.05) for a standard normal z: every negative pre-activation becomes an exact zero.
_PHI_005 = 0.5 * (1 + math.erf(0.05 / math.sqrt(2)))


@register("ex-ch4-near-zero")
def _near_zero_normal(answer: Any) -> str:
    value = as_number(answer, "Your fraction")
    if math.isclose(value, 100 * _PHI_005, rel_tol=2e-3):
        raise Feedback("Give a fraction between 0 and 1, not a percentage.")
    if math.isclose(value, 0.5, abs_tol=1e-3):
        raise Feedback("0.5 counts the exact zeros (the negative pre-activations) only; the positive outputs "
                       "up to 0.05 are near zero too.")
    reject_known_mistakes(value, {
        2 * _PHI_005 - 1: "That is the share with |x| <= 0.05; after the ReLU every negative input is an exact "
                          "zero, and zeros count as near zero.",
        _PHI_005 - 0.5: "That counts the outputs in (0, 0.05] only; the exact zeros count too.",
        1 - _PHI_005: "That is the share of outputs *above* 0.05; the question asks for the share at most 0.05.",
    }, rel=0.02)
    # +-0.016 is 3 standard deviations of an estimate from 10,000 samples (the size of the chapter's own
    # sample in 'Why plain training fails'), so a sampled share gets this hint, not the generic one.
    if math.isclose(value, _PHI_005, abs_tol=0.016) and not math.isclose(value, _PHI_005, rel_tol=1e-5):
        raise Feedback(f"{value:g} is close, but not exact: it looks rounded or estimated from samples. This "
                       "share follows exactly from the normal CDF; compute it and pass the float unrounded.")
    expect_close(answer, _PHI_005, "Your fraction", rel=1e-5,
                 hint="Reread how the % near zero is counted in 'Why plain training fails', and what "
                      "a ReLU does to a negative input.")
    return (f"relu(z) <= 0.05 exactly when z <= 0.05, so the share is Phi(0.05) = {_PHI_005:.4f}. "
            "Hooking the convolution before its ReLU gives the same number: near_zero cannot tell "
            "a dead ReLU from a merely negative pre-activation.")


@register("ex-ch4-minimum-suggestion")
def _minimum_batches_back(answer: Any) -> str:
    value = as_number(answer, "Your number of batches")
    if math.isclose(value, 10, rel_tol=1e-9):
        raise Feedback("Dividing the rate by 10 is not going back 10 batches: the rate grows by a constant "
                       "*factor* per batch. What is that factor, and how many of them make 10?")
    if math.isclose(value, 10 ** 0.08, rel_tol=1e-3):
        raise Feedback("That is the factor by which the rate grows per batch; how many batches does it "
                       "take to grow by a factor of 10?")
    if math.isclose(value, 99 / 8, rel_tol=1e-6):
        raise Feedback("That spreads the sweep over 99 intervals; fastai's batch i sits at position "
                       "i/num_it = i/100.")
    if math.isclose(value, 0.08, rel_tol=1e-6):
        raise Feedback("0.08 is how many decades the rate climbs per batch; the question asks how many "
                       "batches it takes to climb one decade, a factor of 10.")
    if math.isclose(value, 100 / 7, rel_tol=1e-3):
        raise Feedback("Count again how many factors of 10 lie between the sweep's start, 1e-7, and its "
                       "end, 10.")
    if value in (12, 13):
        raise Feedback(f"{value:g} is rounded; the rate grows smoothly with i, so the answer need not be a "
                       "whole number of batches.")
    expect_close(answer, 12.5, "Your number of batches", rel=1e-6,
                 hint="Reread the rate formula at the top of 'The learning-rate finder': the answer "
                      "follows from it alone, with no data from the run.")
    return ("eight decades in 100 batches: a factor 10 every 12.5 batches, so the 'minimum' suggestion "
            "is the rate lr_find used 12.5 batches before the lowest loss, back on the descending part of "
            "the curve.")
