"""Checks for chapter 4, "Training stability"."""

from __future__ import annotations

import math
from typing import Any

import torch

from ..activation_stats import near_zero_fraction
from ..schedules import one_cycle_schedule
from .core import Feedback, as_int, as_number, expect_callable, expect_close, expect_int, register


@register("ex-ch4-steps-per-epoch")
def _steps_per_epoch(answer: Any) -> str:
    value = as_int(answer)
    if value == math.ceil(60000 / 384):
        raise Feedback("157 counts the last, partial batch of 96 images; the course's training loader "
                       "drops it (drop_last=True). How many *full* batches of 384 fit in 60,000?")
    if value == 60000 // 512:
        raise Feedback("117 is the count for batches of 512; this question is about batches of 384.")
    expect_int(answer, 60000 // 384, "Your number of steps",
               "Each step uses one batch; divide the 60,000 training images by the batch size.")
    return "60000 // 384 = 156 full batches, so 156 optimizer steps (the last 96 images are dropped)."


@register("ex-ch4-warmup-steps")
def _warmup_steps(answer: Any) -> str:
    expected = sum(1 for t in range(156) if t / 156 < 0.3)
    value = as_int(answer)
    if value == expected - 1:
        raise Feedback(f"{value} is floor(0.3*156): you left out step 0, which also warms up "
                       "(its position 0/156 is below 0.3).")
    if value == expected + 1:
        raise Feedback("That counts one step too many: the step whose position t/156 reaches 0.3 "
                       "already belongs to the annealing phase.")
    if value == sum(1 for t in range(156) if t / 156 < 0.25):
        raise Feedback("That uses fastai's default pct_start=0.25; the question sets pct_start=0.3.")
    expect_int(answer, expected, "Your count of warm-up steps",
               "Count the steps t = 0, 1, ..., 155 whose position t/156 is below pct_start = 0.3.")
    return f"steps 0 to {expected - 1} have t/156 < 0.3: {expected} warm-up steps (0.3 × 156 = 46.8, rounded up)."


@register("ex-ch4-torch-final-lr")
def _torch_final_lr(answer: Any) -> str:
    value = as_number(answer, "Your learning rate")
    if math.isclose(value, 0.01 / 100, rel_tol=1e-3):
        raise Feedback("0.01/100 divides max_lr by final_div_factor, but OneCycleLR divides the *starting* "
                       "rate (max_lr/div_factor) by it.")
    if math.isclose(value, 0.01 / 10, rel_tol=1e-3):
        raise Feedback("0.01/10 is the starting rate, max_lr/div_factor; the last step divides it once more, "
                       "by final_div_factor.")
    expect_close(answer, 0.01 / (10 * 100), "Your final learning rate",
                 hint="Start from initial_lr = max_lr/div_factor, then min_lr = initial_lr/final_div_factor.")
    return "0.01/10/100 = 1e-05: OneCycleLR divides the starting rate, not max_lr, by final_div_factor."


@register("ex-ch4-one-cycle-lr")
def _one_cycle_lr(fn: Any) -> str:
    expect_callable(fn)
    for n_steps, lr_max in [(100, 0.06), (117, 0.01), (37, 1.0)]:
        got = torch.as_tensor(fn(n_steps, lr_max), dtype=torch.float64).flatten()
        want = one_cycle_schedule(n_steps, lr_max).lr
        if got.shape != want.shape:
            raise Feedback(f"For n_steps={n_steps} your function returns {got.numel()} rates; "
                           f"it should return one per step, {n_steps}.")
        if not torch.isfinite(got).all():
            raise Feedback(f"For n_steps={n_steps} some of your rates are NaN or infinite.")
        if not math.isclose(got[0].item(), lr_max / 25, rel_tol=1e-4):
            raise Feedback(f"Your first rate is {got[0].item():.4g}; 1cycle starts at lr_max/div = {lr_max / 25:.4g}.")
        peak = int(want.argmax())
        if abs(got.max().item() - want.max().item()) > 1e-3 * lr_max:
            raise Feedback(f"Your highest rate is {got.max().item():.4g}; it should reach about lr_max = {lr_max}.")
        bad = (got - want).abs() > 1e-5 * lr_max + 1e-12
        if bad.any():
            t = int(bad.nonzero()[0])
            phase = "warm-up" if t < peak else "annealing"
            raise Feedback(f"For n_steps={n_steps}, lr_max={lr_max}, step {t} ({phase} phase) gives "
                           f"{got[t].item():.6g} instead of {want[t].item():.6g}. Use position t/n_steps, "
                           "and a half cosine from the start to the end of each phase.")
    return "your rates match fit_one_cycle's for three different runs."


@register("ex-ch4-near-zero")
def _near_zero(fn: Any) -> str:
    expect_callable(fn)
    cases = {
        "a tensor containing exactly 0.05": torch.tensor([0.0, 0.05, 0.2, -1.0]),
        "a tensor with negative values": torch.tensor([-2.0, -0.5, 0.01, 3.0, 4.0]),
        "a ReLU output of shape (2, 3, 4, 4)": torch.relu(torch.linspace(-1, 1, 96)).reshape(2, 3, 4, 4),
    }
    for what, x in cases.items():
        got = fn(x)
        try:
            got = float(got)
        except Exception as e:  # noqa: BLE001
            raise Feedback(f"For {what} your function returned {type(got).__name__}; return a number.") from e
        want = near_zero_fraction(x)
        if math.isclose(got, 100 * want, rel_tol=1e-6):
            raise Feedback("Return a fraction between 0 and 1, not a percentage.")
        if not math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-9):
            lt = (x < 0.05).float().mean().item()
            small = (x.abs() <= 0.05).float().mean().item()
            if math.isclose(got, lt, rel_tol=1e-6):
                hint = "Values equal to 0.05 count as near zero too: use <=, not <."
            elif math.isclose(got, small, rel_tol=1e-6):
                hint = "fastai counts every value <= 0.05, negative ones included, not |x| <= 0.05."
            else:
                hint = "Count the entries <= 0.05 and divide by the number of entries (x.numel())."
            raise Feedback(f"For {what} you return {got:.4g}, expected {want:.4g}. {hint}")
    return "your function agrees with fastai's near_zero statistic."


@register("ex-ch4-minimum-suggestion")
def _minimum_suggestion(fn: Any) -> str:
    expect_callable(fn)
    lrs = torch.logspace(-6, 1, 50)
    for dip in (10, 30, 42):
        losses = (torch.log10(lrs) - math.log10(lrs[dip].item())) ** 2 + 1.0
        got = float(fn(lrs, losses))
        want = lrs[dip].item() / 10
        if math.isclose(got, lrs[dip].item(), rel_tol=1e-5):
            raise Feedback("That is the rate at the lowest loss itself; the 'minimum' suggestion is ten times "
                           "smaller, to stay clear of the point where the loss starts to blow up.")
        if not math.isclose(got, want, rel_tol=1e-5):
            raise Feedback(f"For a loss curve whose lowest point is at lr={lrs[dip].item():.3g} you return "
                           f"{got:.3g}, expected {want:.3g}. Find the index of the smallest loss (argmin).")
    return "you reproduce fastai's 'minimum' rule: the rate of the lowest loss, divided by 10."
