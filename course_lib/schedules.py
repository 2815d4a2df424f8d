"""The 1cycle learning-rate and momentum schedule, step by step, and its plot.

Taught in: chapters/04_training_stability
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import torch

from ._validate import check_int, check_number

STYLES = ("fastai", "torch")


class OneCycle(NamedTuple):
    """The learning rate and the momentum of every training step of a 1cycle schedule.

    Taught in: chapters/04_training_stability
    """

    lr: torch.Tensor
    mom: torch.Tensor


def cosine_anneal(start: float, end: float, pct: float) -> float:
    """Go from ``start`` (at ``pct=0``) to ``end`` (at ``pct=1``) along half a cosine wave.

    The value is ``end + (start - end) * (1 + cos(pi * pct)) / 2``: it leaves
    ``start`` slowly, moves fastest half-way and settles gently on ``end``.
    fastai (``SchedCos``) and PyTorch (``OneCycleLR``) both build 1cycle
    from two such half-waves.

    Taught in: chapters/04_training_stability
    """
    return end + (start - end) * (1.0 + math.cos(math.pi * pct)) / 2.0


def _check_positive(name: str, value: object) -> float:
    return check_number(name, value, gt=0)


def _check_moms(moms: object) -> tuple[float, float, float]:
    if not isinstance(moms, Sequence) or len(moms) != 3:
        raise ValueError(f"moms must be a sequence of three numbers (start, middle, end), got {moms!r}")
    for i, m in enumerate(moms):
        check_number(f"moms[{i}]", m, ge=0, lt=1)
    return float(moms[0]), float(moms[1]), float(moms[2])


def one_cycle_schedule(n_steps: int, lr_max: float, *, pct_start: float = 0.25, div: float = 25.0,
                       div_final: float = 1e5, moms: Sequence[float] = (0.95, 0.85, 0.95),
                       style: str = "fastai") -> OneCycle:
    """The learning rate and momentum at each of ``n_steps`` training steps under 1cycle.

    The rate rises from ``lr_max/div`` to ``lr_max`` along a half cosine
    during the first ``pct_start`` of training (the warm-up), then falls
    along another half cosine to ``lr_max/div_final``; momentum does the
    opposite, ``moms[0]`` down to ``moms[1]`` and back up to ``moms[2]``.
    ``style="fastai"`` evaluates step ``t`` at position ``t/n_steps`` as
    ``fit_one_cycle`` does (so the last step is just above the final rate);
    ``style="torch"`` ends the warm-up at step ``e = pct_start*n_steps - 1``,
    which need not be whole (step ``t <= e`` warms up with progress ``t/e``, a
    later step anneals with progress ``(t - e)/(n_steps - 1 - e)``, so the rate is
    exactly ``lr_max`` at a step only when ``e`` is whole), and puts the final
    rate exactly at the last step, as ``torch.optim.lr_scheduler.OneCycleLR``
    does. OneCycleLR's ``final_div_factor`` divides the *starting* rate, so
    its final rate is ``lr_max/(div_factor*final_div_factor)``: pass
    ``div_final=div_factor*final_div_factor`` to reproduce it.

    Taught in: chapters/04_training_stability
    """
    check_int("n_steps", n_steps, minimum=2)
    lr_max = _check_positive("lr_max", lr_max)
    div = _check_positive("div", div)
    div_final = _check_positive("div_final", div_final)
    check_number("pct_start", pct_start, ge=0, lt=1)
    mom_start, mom_mid, mom_end = _check_moms(moms)
    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}, got {style!r}")
    lr_start, lr_end = lr_max / div, lr_max / div_final
    lrs, mms = [], []
    if style == "fastai":
        for t in range(n_steps):
            pos = t / n_steps
            if pos < pct_start:
                pct, warm = pos / pct_start, True
            else:
                pct, warm = (pos - pct_start) / (1 - pct_start), False
            if warm:
                lrs.append(cosine_anneal(lr_start, lr_max, pct))
                mms.append(cosine_anneal(mom_start, mom_mid, pct))
            else:
                lrs.append(cosine_anneal(lr_max, lr_end, pct))
                mms.append(cosine_anneal(mom_mid, mom_end, pct))
    else:
        peak = float(pct_start * n_steps) - 1
        if peak == 0:
            raise ValueError(f"pct_start*n_steps must not be 1 for style 'torch' (the warm-up would last "
                             f"zero steps and OneCycleLR divides by zero), got {pct_start}*{n_steps}")
        for t in range(n_steps):
            if t <= peak:
                pct = t / peak
                lrs.append(cosine_anneal(lr_start, lr_max, pct))
                mms.append(cosine_anneal(mom_start, mom_mid, pct))
            else:
                pct = (t - peak) / (n_steps - 1 - peak)
                lrs.append(cosine_anneal(lr_max, lr_end, pct))
                mms.append(cosine_anneal(mom_mid, mom_end, pct))
    return OneCycle(torch.tensor(lrs, dtype=torch.float64), torch.tensor(mms, dtype=torch.float64))


def plot_one_cycle(schedules: dict[str, OneCycle], *, ax_lr=None, ax_mom=None, log_lr: bool = False):
    """Plot the learning rate and momentum of named 1cycle schedules on two side-by-side axes.

    ``schedules`` maps a legend label to a :class:`OneCycle`. The x axis is
    the training step; ``log_lr=True`` puts the rate on a log scale, which
    shows the very small final rates. Returns the figure.

    Taught in: chapters/04_training_stability
    """
    import matplotlib.pyplot as plt

    if not isinstance(schedules, dict) or not schedules:
        raise ValueError(f"schedules must be a non-empty dict of label -> OneCycle, got {schedules!r}")
    if ax_lr is None or ax_mom is None:
        fig, (ax_lr, ax_mom) = plt.subplots(1, 2, figsize=(10, 3.2), dpi=90)
    else:
        fig = ax_lr.figure
    for label, sched in schedules.items():
        ax_lr.plot(sched.lr.numpy(), label=label)
        ax_mom.plot(sched.mom.numpy(), label=label)
    ax_lr.set(xlabel="training step", ylabel="learning rate", title="Learning rate")
    ax_mom.set(xlabel="training step", ylabel="momentum (Adam's beta1)", title="Momentum")
    if log_lr:
        ax_lr.set_yscale("log")
    ax_lr.legend(fontsize=8)
    ax_mom.legend(fontsize=8)
    fig.tight_layout()
    return fig
