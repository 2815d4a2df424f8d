"""Checks for chapter 4, "Training stability"."""

from __future__ import annotations

import math
from typing import Any

from .core import (
    Feedback,
    as_int,
    as_number,
    expect_callable,
    expect_close,
    expect_int,
    forbidden,
    register,
    reject_known_mistakes,
)

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


# The warm-up exercise asks for a function of the batch size and pct_start. The first case is the one the
# exercise names; the others are not shown. None has pct_start*n whole, where the count would hinge on how
# the float t/n rounds.
_WARMUP_CASES = ((EXERCISE_BS, 0.3), (512, 0.25), (384, 0.3), (700, 0.35), (96, 0.25), (333, 0.22), (1000, 0.42))
# A reloaded or re-imported module, or a refused function's source run again, makes fresh copies that the
# refusal of the original function objects does not reach. So each exercise also refuses what such copies still
# need from outside their module: course_lib's argument checks (mnist_dls, one_cycle_schedule), fastcore's
# store_attr (every fastai schedule object is an _Annealer built with it), PyTorch's optimizer and scheduler
# base classes (OneCycleLR) and fastai's Learner (lr_find).
_COPY_NEEDS = ("course_lib._validate.check_int", "fastcore.basics.store_attr")
_WARMUP_REFUSED = ("course_lib.loaders.mnist_dls", "course_lib.schedules.one_cycle_schedule",
                   "fastai.callback.schedule.combined_cos", "fastai.callback.schedule.combine_scheds", *_COPY_NEEDS)


def _warmup_count(n: int, pct_start: float) -> int:
    """How many of the steps t = 0..n-1 have position t/n below pct_start: fit_one_cycle's warm-up."""
    return sum(1 for t in range(n) if t / n < pct_start)


@register("ex-ch4-warmup-steps")
def _warmup_steps(answer: Any) -> str:
    expect_callable(answer)
    counts = []
    for bs, pct_start in _WARMUP_CASES:
        n = 60000 // bs  # the training loader drops the last, incomplete batch
        where = f"For bs={bs}, pct_start={pct_start}"
        with forbidden(_WARMUP_REFUSED, "work the number of steps out from the batch size, and count the warm-up "
                                        "steps yourself.", getattr(answer, "__globals__", None)):
            try:
                got = answer(bs, pct_start)
            except TypeError as e:
                raise Feedback(f"Calling warmup_steps({bs}, {pct_start}) raised TypeError: {e}. Your function "
                               "takes the batch size and pct_start, in that order.") from None
        value = as_int(got)
        if value is None:
            if isinstance(got, float) and math.isclose(got, pct_start * n, rel_tol=1e-6):
                raise Feedback(f"{where} your function returns {got:g}, pct_start times the number of steps, not "
                               "a count of steps: count the whole steps t = 0, 1, 2, ... whose position t/n is "
                               "below pct_start.")
            raise Feedback(f"{where} your function returns {type(got).__name__} {got!r}; return an int, a count "
                           "of steps.")
        counts.append(value)
    expected = [_warmup_count(60000 // bs, pct_start) for bs, pct_start in _WARMUP_CASES]
    if counts == expected:
        return (f"your count is right for {len(_WARMUP_CASES)} batch sizes and warm-up shares: n = 60000 // bs "
                "full batches (the loader drops the incomplete last one), and the steps with t/n < pct_start are "
                f"the first ⌈pct_start·n⌉, e.g. {expected[0]} of {60000 // EXERCISE_BS} at bs {EXERCISE_BS}.")
    # A typical mistake is recognised by the counts it gives on every case, since on one case two mistakes
    # can give the same count.
    if counts == [_warmup_count(math.ceil(60000 / bs), pct_start) for bs, pct_start in _WARMUP_CASES]:
        raise Feedback("Your counts fit epochs with one step more than the course's training loader gives: what "
                       "does the loader do with the images that cannot fill a last batch?")
    if counts == [c - 1 for c in expected]:
        raise Feedback("Your counts are one short: steps count from t = 0; is step 0 a warm-up step?")
    if counts == [c + 1 for c in expected]:
        raise Feedback("Your counts are one too many: did you count the first step whose position t/n is not "
                       "below pct_start?")
    (bs, pct_start), value = next((case, c) for case, c, e in zip(_WARMUP_CASES, counts, expected, strict=True)
                                  if c != e)
    raise Feedback(f"For bs={bs}, pct_start={pct_start} your function gives {value}; that is not it. Reread how "
                   "fit_one_cycle places step t of n in 'The 1cycle schedule', and work out how many steps the "
                   "course's training loader gives at that batch size.")


# The OneCycleLR exercise: a function that reproduces OneCycleLR with anneal_strategy="linear", which neither
# one_cycle_schedule nor the 1cycle explorer computes. Each case is (total_steps, max_lr, keyword arguments);
# the first two use OneCycleLR's defaults, and the warm-up's end pct_start*total_steps - 1 is whole in some
# cases and not in others.
_TORCH_CASES = ((100, 0.01, {}), (117, 0.06, {}),
                (20, 1.0, {"pct_start": 0.5, "div_factor": 4.0, "final_div_factor": 1e3}),
                (133, 0.02, {"pct_start": 0.25}), (7, 0.1, {"pct_start": 0.5}),
                (50, 0.5, {"pct_start": 0.4, "div_factor": 10.0, "final_div_factor": 100.0}))
_TORCH_REFUSED = ("torch.optim.lr_scheduler.OneCycleLR.__init__", "torch.optim.lr_scheduler.OneCycleLR.get_lr",
                  "fastai.callback.schedule.combined_cos", "fastai.callback.schedule.combine_scheds",
                  "fastai.callback.schedule.sched_lin", "fastai.callback.schedule.sched_cos",
                  "fastai.callback.schedule.SchedLin", "fastai.callback.schedule.SchedCos",
                  "course_lib.schedules.one_cycle_schedule", "course_lib.schedules.cosine_anneal",
                  "torch.optim.optimizer.Optimizer.__init__", "torch.optim.lr_scheduler.LRScheduler.__init__",
                  "torch.optim.lr_scheduler.LRScheduler.step", *_COPY_NEEDS)


def _torch_linear_rates(total_steps: int, max_lr: float, **kwargs: float) -> list[float]:
    """The rate a real OneCycleLR(anneal_strategy="linear") gives the optimizer at each step."""
    import torch

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=max_lr, momentum=0.9)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=max_lr, total_steps=total_steps,
                                                anneal_strategy="linear", **kwargs)
    rates = []
    for _ in range(total_steps):
        rates.append(float(opt.param_groups[0]["lr"]))
        opt.step()
        sched.step()
    return rates


def _linear_variant(kind: str, t: int, total_steps: int, max_lr: float, pct_start: float = 0.3,
                    div_factor: float = 25.0, final_div_factor: float = 1e4) -> float:
    """A typical wrong version of OneCycleLR's linear rate at step t, named by ``kind``."""
    start = 0.0 if kind == "zero" else max_lr / div_factor
    final = max_lr / final_div_factor if kind == "final" else max_lr / div_factor / final_div_factor
    end, last = pct_start * total_steps - 1, total_steps - 1
    if kind == "fastai":  # step t at position t/n: warm-up ends at pct_start*n, the annealing at n
        end, last = pct_start * total_steps, total_steps
    elif kind == "last":
        last = total_steps
    elif kind == "shift":
        t += 1

    def anneal(a: float, b: float, pct: float) -> float:
        if kind == "cos":
            return b + (a - b) * (1 + math.cos(math.pi * pct)) / 2
        return a + (b - a) * pct

    if t <= end:
        return anneal(start, max_lr, t / end)
    return anneal(max_lr, final, (t - end) / (last - end))


_TORCH_HINTS = {
    "fastai": "Your rates place step t at position t/total_steps, as fit_one_cycle does. Reread in the last row "
              "of the table in 'The 1cycle schedule' where OneCycleLR ends its warm-up and where it reaches its "
              "final rate.",
    "cos": "Your rates follow half cosines, OneCycleLR's default anneal_strategy; the exercise asks for "
           "anneal_strategy='linear', straight lines between the same points.",
    "final": "Your annealing ends at max_lr/final_div_factor; in OneCycleLR, final_div_factor divides the "
             "*starting* rate (see the table in 'The 1cycle schedule').",
    "zero": "Your warm-up starts at 0; OneCycleLR starts it at max_lr/div_factor.",
    "last": "Your annealing reaches the final rate one step after the last step the scheduler gives, "
            "total_steps − 1.",
    "shift": "Your rates are one step ahead: step t is the rate the optimizer uses after t calls of "
             "sched.step(), so step 0 has the starting rate.",
}


def _close_lists(a: list[float], b: list[float], rel: float = 1e-6) -> bool:
    return len(a) == len(b) and all(math.isclose(x, y, rel_tol=rel, abs_tol=1e-15) for x, y in zip(a, b, strict=True))


def _rate_of(got: Any, where: str) -> float:
    if isinstance(got, (str, bytes, bool)) or got is None:
        raise Feedback(f"{where} your function returns {type(got).__name__} {got!r}; return the rate, a number.")
    try:
        value = float(got)
    except Exception:  # noqa: BLE001  (a list, a tensor of several values, ...)
        raise Feedback(f"{where} your function returns {type(got).__name__}; return one rate, a number.") from None
    if math.isnan(value):
        raise Feedback(f"{where} your function returns NaN.")
    return value


@register("ex-ch4-torch-linear-lr")
def _torch_linear_warmup(answer: Any) -> str:
    expect_callable(answer)
    for total_steps, max_lr, kwargs in _TORCH_CASES:
        expected = _torch_linear_rates(total_steps, max_lr, **kwargs)  # before anything is refused
        settings = ", ".join([f"total_steps={total_steps}", f"max_lr={max_lr}"]
                             + [f"{k}={v:g}" for k, v in kwargs.items()])
        where = f"With {settings}"
        got = []
        with forbidden(_TORCH_REFUSED, "write the schedule from its phases yourself; your function may not "
                                       "build or step a PyTorch optimizer or scheduler (outside it you may).",
                       getattr(answer, "__globals__", None)):
            for t in range(total_steps):
                try:
                    rate = answer(t, total_steps, max_lr, **kwargs)
                except TypeError as e:
                    raise Feedback(f"Calling your function with ({t}, {total_steps}, {max_lr}"
                                   + "".join(f", {k}={v:g}" for k, v in kwargs.items())
                                   + f") raised TypeError: {e}. Give it the signature (t, total_steps, max_lr, "
                                     "pct_start=0.3, div_factor=25.0, final_div_factor=1e4).") from None
                got.append(_rate_of(rate, f"{where}, at step {t}"))
        if _close_lists(got, expected):
            continue
        for kind, hint in _TORCH_HINTS.items():
            variant = [_linear_variant(kind, t, total_steps, max_lr, **kwargs) for t in range(total_steps)]
            if _close_lists(got, variant, rel=1e-9) and not _close_lists(variant, expected):
                raise Feedback(f"{where}: {hint}")
        t = next(t for t in range(total_steps)
                 if not math.isclose(got[t], expected[t], rel_tol=1e-6, abs_tol=1e-15))
        raise Feedback(f"{where}, your rate at step {t} is {got[t]:.7g} and OneCycleLR's is {expected[t]:.7g}. "
                       "Reread where OneCycleLR starts and ends each phase (the table and the paragraph after "
                       "it in 'The 1cycle schedule'), and draw straight lines between those points.")
    return ("your rates equal a real OneCycleLR(anneal_strategy='linear') at every step of "
            f"{len(_TORCH_CASES)} schedules: the warm-up runs on a straight line from max_lr/div_factor at step 0 "
            "to max_lr at step e = pct_start·total_steps − 1, whole or not, and the annealing from there to "
            "max_lr/(div_factor·final_div_factor) at the last step, total_steps − 1.")


# The 1cycle exercise: where fastai's rate has covered a tenth of its climb from lr_max/25 to lr_max.
# (1 - cos(pi*q))/2 = 1/10 gives q = arccos(0.8)/pi, and p = 0.25*q. arccos(0.8)/pi is irrational (Niven's
# theorem), so no step t/n lands on it; the closest for n <= 5000, the explorer's limit, is 231/4511,
# 6.5e-7 away in relative terms, which the tolerance of 2e-7 refuses (float32 arithmetic stays within 2e-8).
_Q_TENTH = math.acos(0.8) / math.pi
_P_TENTH = 0.25 * _Q_TENTH
# Where the rate is lr_max/10 (a tenth of the peak, not of the climb).
_P_TENTH_OF_MAX = 0.25 * math.acos(1 - 2 * (0.1 - 1 / 25) / (1 - 1 / 25)) / math.pi


@register("ex-ch4-one-cycle-lr")
def _one_cycle_tenth(answer: Any) -> str:
    value = as_number(answer, "Your position")
    if math.isnan(value):
        raise Feedback("Your position is NaN.")
    reject_known_mistakes(value, {
        0.25 / 10: "That is where a straight ramp would cover a tenth of its climb; cos_anneal does not move "
                   "along a straight line.",
        _Q_TENTH: "That is the warm-up's *own* progress q = p/pct_start; the question asks for the position "
                  "p = t/n in the whole run.",
        0.25: "At p = 0.25 the warm-up ends and the rate is lr_max itself, the whole climb.",
        100 * _P_TENTH: "Give the position as a fraction of the run between 0 and 1, not a percentage.",
        0.3 * _Q_TENTH: "That uses PyTorch's default pct_start; the question is about fit_one_cycle's defaults.",
        _P_TENTH_OF_MAX: "At that position the rate is lr_max/10, a tenth of the peak; the question asks for "
                         "a tenth of the climb, which starts at lr_max/25.",
        0.25 * math.acos(-0.8) / math.pi: "Check which way the rate runs in cos_anneal as its progress goes "
                                          "from 0 to 1: that position solves the equation for the other "
                                          "direction.",
        0.25 * math.acos(0.8): "cos_anneal takes the cosine of π times the progress: solving for the progress "
                               "divides by π.",
    }, rel=1e-3)
    if not 0 <= value <= 1:
        raise Feedback(f"{value:g} is not a position in the run: give p = t/n, between 0 and 1.")
    _reject_near_miss(value, _P_TENTH, exact_rel=2e-7, near_rel=0.02,
                      why="it looks rounded or read off the discrete steps of a run. Solve cos_anneal for the "
                          "position exactly and pass the float unrounded.")
    expect_close(answer, _P_TENTH, "Your position", rel=2e-7,
                 hint="Reread cos_anneal and how one_cycle_lrs maps a position p into the warm-up's "
                      "phase, in 'The 1cycle schedule'.")
    return (f"(1 − cos(π q))/2 = 1/10 means cos(π q) = 0.8, so q = arccos(0.8)/π ≈ {_Q_TENTH:.4f} of the warm-up "
            f"and p = 0.25·q ≈ {_P_TENTH:.5f}, whatever lr_max and div are: about twice as late as a straight ramp "
            "(p = 0.025). The half cosine leaves lr_max/25 slowly. arccos(0.8)/π is irrational, so no step t/n of "
            "any run lands exactly there: a step slider can only bracket it.")


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


# The lr_find exercise: the lowest and highest 'minimum' suggestion a full sweep can give, for any start_lr,
# end_lr and num_it. Each case is (start_lr, end_lr, num_it); the first uses lr_find's defaults, and num_it
# is not always a multiple of 10.
_LR_FIND_CASES = ((1e-7, 10.0, 100), (1e-6, 1.0, 200), (1e-5, 10.0, 55), (1e-4, 3.0, 37), (1e-8, 100.0, 300),
                  (3e-6, 0.5, 64))
_LR_FIND_REFUSED = ("fastai.callback.schedule.minimum", "fastai.callback.schedule.LRFinder.__init__",
                    "fastai.learner.Learner.lr_find", "fastai.callback.schedule.SchedExp",
                    "fastai.callback.schedule.sched_exp", "fastai.learner.Learner.__init__",
                    "fastai.learner.Learner.fit", *_COPY_NEEDS)


def _minimum_range_reference(start_lr: float, end_lr: float, num_it: int) -> tuple[float, float]:
    """fastai's own 'minimum' on a full sweep whose lowest loss sits at the first, then the last point it reads.

    LRFinder sets batch i's rate to SchedExp(start_lr, end_lr)(i/num_it) and stops after num_it batches;
    lr_find hands the suggestion functions the recorded points [num_it//10:-5], as float32 tensors.
    """
    import torch
    from fastai.callback.schedule import SchedExp, minimum

    sched = SchedExp(start_lr, end_lr)
    lrs = torch.tensor([sched(i / num_it) for i in range(num_it)])
    window = slice(num_it // 10, -5)
    out = []
    for index in (range(num_it)[window][0], range(num_it)[window][-1]):
        losses = torch.ones(num_it)
        losses[index] = 0.0
        out.append(float(minimum(lrs[window], losses[window], num_it)[0]))
    return out[0], out[1]


def _sweep_rate(start_lr: float, end_lr: float, position: float) -> float:
    return start_lr * (end_lr / start_lr) ** position


def _minimum_range_variants(start_lr: float, end_lr: float, num_it: int) -> list[tuple[tuple[float, float], str]]:
    """Typical wrong (lowest, highest) pairs, each with its hint."""
    first, last = num_it // 10, num_it - 6

    def rate(i: float, steps: int = num_it) -> float:
        return _sweep_rate(start_lr, end_lr, i / steps)

    window = ("Not every recorded point reaches fastai's suggestion functions: reread which points lr_find "
              "leaves out (top of 'The learning-rate finder'), and think about how many points a sweep that runs "
              "to the end records.")
    return [
        ((rate(first, num_it - 1) / 10, rate(last, num_it - 1) / 10),
         "Your rates put end_lr at the sweep's last batch. Reread the rate of batch i at the top of 'The "
         "learning-rate finder': which position does batch i sit at?"),
        ((rate(first), rate(last)), "Those are rates at the lowest loss; reread what 'minimum' does with it."),
        ((rate(0) / 10, rate(num_it - 1) / 10), window),
        ((rate(first) / 10, rate(num_it - 1) / 10), window),
        ((rate(0) / 10, rate(last) / 10), window),
        ((rate(first) / 10, rate(last + 1) / 10), window),
        ((rate(first + 1) / 10, rate(last) / 10), window),
        ((rate(last) / 10, rate(first) / 10), "Return the pair in the order (lowest, highest)."),
    ]


def _pair_of_rates(got: Any, where: str) -> tuple[float, float]:
    if isinstance(got, (str, bytes)) or not hasattr(got, "__len__") or not hasattr(got, "__getitem__"):
        raise Feedback(f"{where} your function returns {type(got).__name__}; return a pair of rates (lowest, "
                       "highest).")
    if len(got) != 2:
        raise Feedback(f"{where} your function returns {len(got)} values; return a pair of rates (lowest, "
                       "highest).")
    return (as_number(got[0], f"{where} your lowest suggestion"), as_number(got[1], f"{where} your highest "
                                                                                      "suggestion"))


@register("ex-ch4-minimum-suggestion")
def _minimum_range(answer: Any) -> str:
    expect_callable(answer)
    for start_lr, end_lr, num_it in _LR_FIND_CASES:
        expected = _minimum_range_reference(start_lr, end_lr, num_it)  # before anything is refused
        where = f"For start_lr={start_lr:g}, end_lr={end_lr:g}, num_it={num_it},"
        with forbidden(_LR_FIND_REFUSED, "work the rates out from how lr_find sets them.",
                       getattr(answer, "__globals__", None)):
            try:
                got = answer(start_lr, end_lr, num_it)
            except TypeError as e:
                raise Feedback(f"Calling your function with ({start_lr:g}, {end_lr:g}, {num_it}) raised "
                               f"TypeError: {e}. It takes start_lr, end_lr and num_it, in that order.") from None
        low, high = _pair_of_rates(got, where)
        if any(math.isnan(v) for v in (low, high)):
            raise Feedback(f"{where} your function returns NaN.")

        def close(a: float, b: float) -> bool:
            return math.isclose(a, b, rel_tol=1e-6)

        if close(low, expected[0]) and close(high, expected[1]):
            continue
        for (wrong_low, wrong_high), hint in _minimum_range_variants(start_lr, end_lr, num_it):
            if close(low, wrong_low) and close(high, wrong_high):
                raise Feedback(f"{where} {hint}")
        right = [name for name, ok in (("lowest", close(low, expected[0])), ("highest", close(high, expected[1])))
                 if ok]
        which = f"your {right[0]} suggestion is right, the other is not" if right else "neither end is right"
        raise Feedback(f"{where} {which}. Reread 'The learning-rate finder': the rate of batch i, which recorded "
                       "points the suggestions read, and what 'minimum' does with the lowest loss.")
    low, high = _minimum_range_reference(1e-7, 10.0, 100)
    return (f"your range matches fastai's own 'minimum' on {len(_LR_FIND_CASES)} sweeps. A full sweep records "
            "num_it points, batch i at rate start_lr·(end_lr/start_lr)^(i/num_it); the suggestions read points "
            "num_it//10 to num_it − 6, so 'minimum' lies between a tenth of the rates of those two batches. With "
            f"the defaults that is {low:.2g} to {high:.2g}: the low end lies below start_lr, a rate the sweep "
            "never tried, and the high end is a tenth of a rate from near the sweep's end.")
