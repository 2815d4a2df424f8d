"""The 1cycle schedule of course_lib against fastai's recorded rates and PyTorch's OneCycleLR."""

from __future__ import annotations

import math

import matplotlib
import pytest
import torch
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from course_lib.schedules import OneCycle, cosine_anneal, one_cycle_schedule, plot_one_cycle

matplotlib.use("Agg")


def _torch_one_cycle(n_steps, lr_max, pct_start=0.3, div_factor=25.0, final_div_factor=1e4,
                     base_momentum=0.85, max_momentum=0.95):
    """Rates and momenta that OneCycleLR sets on an SGD optimizer before each of n_steps steps."""
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=lr_max, momentum=0.9)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=lr_max, total_steps=n_steps, pct_start=pct_start, div_factor=div_factor,
        final_div_factor=final_div_factor, base_momentum=base_momentum, max_momentum=max_momentum)
    lrs, moms = [], []
    for _ in range(n_steps):
        lrs.append(opt.param_groups[0]["lr"])
        moms.append(opt.param_groups[0]["momentum"])
        opt.step()
        sched.step()
    return torch.tensor(lrs, dtype=torch.float64), torch.tensor(moms, dtype=torch.float64)


def test_cosine_anneal_hits_both_ends_and_the_midpoint():
    assert cosine_anneal(2.0, 4.0, 0.0) == 2.0
    assert math.isclose(cosine_anneal(2.0, 4.0, 1.0), 4.0)
    assert math.isclose(cosine_anneal(2.0, 4.0, 0.5), 3.0)


def test_torch_style_matches_onecyclelr_with_its_defaults():
    n, lr_max = 117, 0.06
    lrs, moms = _torch_one_cycle(n, lr_max)
    ours = one_cycle_schedule(n, lr_max, pct_start=0.3, div=25.0, div_final=25.0 * 1e4, style="torch")
    torch.testing.assert_close(ours.lr, lrs)
    torch.testing.assert_close(ours.mom, moms)


@settings(max_examples=40, deadline=None)
@given(n_steps=st.integers(3, 400), lr_max=st.floats(1e-4, 10.0), pct_start=st.floats(0.0, 0.95),
       div=st.floats(1.5, 100.0), final_div=st.floats(1.0, 1e5))
def test_torch_style_matches_onecyclelr_for_any_settings(n_steps, lr_max, pct_start, div, final_div):
    assume(float(pct_start * n_steps) - 1 != 0)
    lrs, moms = _torch_one_cycle(n_steps, lr_max, pct_start, div, final_div)
    ours = one_cycle_schedule(n_steps, lr_max, pct_start=pct_start, div=div, div_final=div * final_div,
                              style="torch")
    torch.testing.assert_close(ours.lr, lrs)
    torch.testing.assert_close(ours.mom, moms)


@pytest.fixture(scope="module")
def fastai_recorded():
    """Train a tiny model for 2 epochs with fit_one_cycle on the 3s and 7s and keep what it recorded."""
    from course_lib import mnist_dls
    from course_lib.seeding import set_seed
    from course_lib.training import make_learner

    set_seed(0)
    dls = mnist_dls(bs=1024, sample=True, seed=0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(28 * 28, 2))
    learn = make_learner(model, dls)
    with learn.no_bar(), learn.no_logging():
        learn.fit_one_cycle(2, 0.01)
    hps = learn.recorder.hps
    as64 = lambda xs: torch.tensor(xs, dtype=torch.float64)  # noqa: E731
    return len(dls.train), as64(hps["lr"]), as64(hps["mom"])


def test_fastai_style_matches_the_rates_fit_one_cycle_recorded(fastai_recorded):
    n_iter, lrs, moms = fastai_recorded
    assert len(lrs) == 2 * n_iter
    ours = one_cycle_schedule(2 * n_iter, 0.01)
    torch.testing.assert_close(ours.lr, lrs, rtol=1e-5, atol=1e-9)
    torch.testing.assert_close(ours.mom, moms, rtol=1e-5, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(n_steps=st.integers(2, 500), lr_max=st.floats(1e-4, 10.0), pct_start=st.floats(0.0, 0.99),
       div=st.floats(1.5, 100.0), div_final=st.floats(1.5, 1e6), style=st.sampled_from(["fastai", "torch"]))
@example(n_steps=15, lr_max=1.0, pct_start=0.5, div=2.0, div_final=3.0, style="torch")  # rate peaks at 6, momentum at 7
def test_schedule_stays_between_its_extremes_and_peaks_at_lr_max(n_steps, lr_max, pct_start, div, div_final,
                                                                 style):
    assume(style == "fastai" or float(pct_start * n_steps) - 1 != 0)
    sched = one_cycle_schedule(n_steps, lr_max, pct_start=pct_start, div=div, div_final=div_final,
                               style=style)
    assert isinstance(sched, OneCycle)
    assert sched.lr.shape == sched.mom.shape == (n_steps,)
    low = min(lr_max / div, lr_max / div_final)
    assert (sched.lr <= lr_max * (1 + 1e-12)).all()
    assert (sched.lr >= low * (1 - 1e-12)).all()
    assert (sched.mom >= 0.85 - 1e-12).all() and (sched.mom <= 0.95 + 1e-12).all()
    # the rate climbs (never falls) until its peak, then never climbs again
    peak = int(sched.lr.argmax())
    diffs = sched.lr.diff()
    assert (diffs[:peak] >= -1e-12 * lr_max).all()
    assert (diffs[peak:] <= 1e-12 * lr_max).all()
    # momentum mirrors the rate: lowest where the rate is highest. When no step lands on the peak, the steps
    # either side of it can be nearly tied: the rate then favours one and the momentum, whose two phases
    # span the same range (0.85 to 0.95) while the rate's do not, the other; so allow the neighbour.
    assert abs(int(sched.mom.argmin()) - peak) <= 1


@given(n_steps=st.integers(10, 1000), pct_start=st.floats(0.05, 0.9))
def test_fastai_style_starts_at_lr_max_over_div(n_steps, pct_start):
    sched = one_cycle_schedule(n_steps, 0.06, pct_start=pct_start)
    assert sched.lr[0].item() == pytest.approx(0.06 / 25)
    assert sched.mom[0].item() == pytest.approx(0.95)


def test_torch_style_ends_exactly_at_the_final_rate():
    sched = one_cycle_schedule(100, 0.06, pct_start=0.3, div=25.0, div_final=2.5e5, style="torch")
    assert sched.lr[-1].item() == pytest.approx(0.06 / 2.5e5)
    assert sched.lr[29].item() == pytest.approx(0.06)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_steps": 1}, "n_steps must be an int >= 2, got 1"),
        ({"n_steps": 10.0}, "n_steps must be an int, got 10.0 of type float"),
        ({"lr_max": 0}, "lr_max must be a positive finite number, got 0"),
        ({"lr_max": float("nan")}, "lr_max must be a positive finite number, got nan"),
        ({"div": -25}, "div must be a positive finite number, got -25"),
        ({"div_final": True}, "div_final must be a positive finite number, got True"),
        ({"pct_start": 1.0}, "pct_start must be a number in [0, 1), got 1.0"),
        ({"pct_start": -0.1}, "pct_start must be a number in [0, 1), got -0.1"),
        ({"moms": (0.95, 0.85)}, "moms must be a sequence of three numbers (start, middle, end), "
                                 "got (0.95, 0.85)"),
        ({"moms": (0.95, 1.2, 0.95)}, "moms[1] must be a number in [0, 1), got 1.2"),
        ({"style": "keras"}, "style must be one of ('fastai', 'torch'), got 'keras'"),
        ({"n_steps": 10, "pct_start": 0.1, "style": "torch"},
         "pct_start*n_steps must not be 1 for style 'torch'"),
    ],
)
def test_bad_arguments_raise_a_value_error_naming_them(kwargs, message):
    args = {"n_steps": 100, "lr_max": 0.06} | kwargs
    with pytest.raises(ValueError) as err:
        one_cycle_schedule(**args)
    assert message in str(err.value)


def test_plot_one_cycle_draws_one_line_per_schedule_on_each_axis():
    fig = plot_one_cycle({"a": one_cycle_schedule(50, 0.1), "b": one_cycle_schedule(50, 0.1, style="torch",
                                                                                     pct_start=0.3)})
    ax_lr, ax_mom = fig.axes
    assert len(ax_lr.lines) == 2 and len(ax_mom.lines) == 2
    with pytest.raises(ValueError, match="schedules must be a non-empty dict"):
        plot_one_cycle({})
