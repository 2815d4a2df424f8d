"""Chapter 4's exercise checks accept the right answers, give specific hints for typical mistakes, and
reject answers of the wrong type without a traceback."""

from __future__ import annotations

import math
import sys

import pytest
import torch
import torch.nn.functional as F

from course_lib import check

PHI_005 = 0.5 * (1 + math.erf(0.05 / math.sqrt(2)))  # P(z <= 0.05), z standard normal
ZERO_SHARE = 0.5 / PHI_005  # of the near-zero ReLU outputs, the share that are exact zeros
TENTH = 0.25 * math.acos(0.8) / math.pi  # where fastai's warm-up has covered a tenth of its climb


def warmup_steps(bs, pct_start):
    n = 60000 // bs
    return sum(1 for t in range(n) if t / n < pct_start)


def warmup_steps_ceil(bs, pct_start):
    return math.ceil(pct_start * (60000 // bs))


def torch_linear_lr(t, total_steps, max_lr, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
    start = max_lr / div_factor
    final = start / final_div_factor
    end = pct_start * total_steps - 1
    if t <= end:
        return start + (max_lr - start) * t / end
    return max_lr + (final - max_lr) * (t - end) / (total_steps - 1 - end)


def torch_linear_lr_tensor(t, total_steps, max_lr, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
    """The same in float64 tensors, returning a 0-d tensor."""
    return torch.tensor(torch_linear_lr(t, total_steps, max_lr, pct_start, div_factor, final_div_factor),
                        dtype=torch.float64)


def minimum_range(start_lr, end_lr, num_it):
    def rate(i):
        return start_lr * (end_lr / start_lr) ** (i / num_it)

    return rate(num_it // 10) / 10, rate(num_it - 6) / 10


def minimum_range_log(start_lr, end_lr, num_it):
    decades = math.log10(end_lr / start_lr)
    low = math.log10(start_lr) + decades * (num_it // 10) / num_it - 1
    return [10 ** low, 10 ** (low + decades * (num_it - 6 - num_it // 10) / num_it)]


def _linear(kind):
    """A typical wrong OneCycleLR(linear) function, as the check knows it."""
    from course_lib.checks.ch04 import _linear_variant

    def fn(t, total_steps, max_lr, **kwargs):
        return _linear_variant(kind, t, total_steps, max_lr, **kwargs)

    return fn


def _minimum_variant(change):
    def fn(start_lr, end_lr, num_it):
        first, last, steps, div = num_it // 10, num_it - 6, num_it, 10
        first, last, steps, div = change(first, last, steps, div, num_it)
        return tuple(start_lr * (end_lr / start_lr) ** (i / steps) / div for i in (first, last))

    return fn


def test_lr_find_records_num_it_points_at_the_rates_the_check_assumes():
    """A real lr_find that runs to the end (stop_div=False) records num_it rates, batch i at
    start_lr*(end_lr/start_lr)**(i/num_it): what ex-ch4-minimum-suggestion builds its reference on."""
    import fastai.callback.progress  # noqa: F401  (Learner.no_bar)
    import fastai.callback.schedule  # noqa: F401  (Learner.lr_find)
    from fastai.data.core import DataLoaders
    from fastai.data.load import DataLoader
    from fastai.learner import Learner

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(64, 3, generator=gen)
    data = list(zip(x, x @ torch.tensor([1.0, -2.0, 0.5]), strict=True))
    dls = DataLoaders(DataLoader(data, bs=8, drop_last=True), DataLoader(data, bs=8))
    learn = Learner(dls, torch.nn.Linear(3, 1), loss_func=lambda p, t: F.mse_loss(p.squeeze(-1), t))
    for start_lr, end_lr, num_it in [(1e-5, 10.0, 55), (1e-6, 1.0, 37)]:
        with learn.no_bar(), learn.no_logging():
            learn.lr_find(start_lr=start_lr, end_lr=end_lr, num_it=num_it, stop_div=False, show_plot=False)
        lrs = learn.recorder.lrs
        assert len(lrs) == num_it
        for i, lr in enumerate(lrs):
            assert math.isclose(lr, start_lr * (end_lr / start_lr) ** (i / num_it), rel_tol=1e-12)


def test_torch_linear_reference_is_what_a_real_scheduler_does():
    from course_lib.checks.ch04 import _TORCH_CASES, _torch_linear_rates

    for total_steps, max_lr, kwargs in _TORCH_CASES:
        rates = _torch_linear_rates(total_steps, max_lr, **kwargs)
        for t, rate in enumerate(rates):
            assert math.isclose(rate, torch_linear_lr(t, total_steps, max_lr, **kwargs), rel_tol=1e-12)
    assert _torch_linear_rates(100, 0.01)[29] == 0.01  # the warm-up ends exactly at step 0.3*100 - 1


@pytest.mark.parametrize(
    "label, answer",
    [
        ("ex-ch4-dropped-images", 416),
        ("ex-ch4-dropped-images", torch.tensor(416)),
        ("ex-ch4-warmup-steps", warmup_steps),
        ("ex-ch4-warmup-steps", warmup_steps_ceil),
        ("ex-ch4-warmup-steps", lambda bs, p: torch.tensor(warmup_steps(bs, p))),
        ("ex-ch4-torch-linear-lr", torch_linear_lr),
        ("ex-ch4-torch-linear-lr", torch_linear_lr_tensor),
        ("ex-ch4-one-cycle-lr", TENTH),
        ("ex-ch4-one-cycle-lr", 0.25 * float(torch.acos(torch.tensor(0.8))) / math.pi),  # float32 arccos
        ("ex-ch4-one-cycle-lr", torch.tensor(TENTH)),  # float32
        ("ex-ch4-near-zero", ZERO_SHARE),
        ("ex-ch4-near-zero", torch.tensor(ZERO_SHARE)),  # float32, e.g. from torch's normal CDF
        ("ex-ch4-near-zero", 0.961652),
        ("ex-ch4-minimum-suggestion", minimum_range),
        ("ex-ch4-minimum-suggestion", minimum_range_log),
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
        ("ex-ch4-warmup-steps", lambda bs, p: warmup_steps(bs, p) - 1, "one short"),
        ("ex-ch4-warmup-steps", lambda bs, p: warmup_steps(bs, p) + 1, "one too many"),
        ("ex-ch4-warmup-steps", lambda bs, p: sum(t / math.ceil(60000 / bs) < p
                                                  for t in range(math.ceil(60000 / bs))), "one step more"),
        ("ex-ch4-warmup-steps", lambda bs, p: p * (60000 // bs), "not a count of steps"),
        ("ex-ch4-warmup-steps", lambda bs, p: 40, "For bs=512, pct_start=0.25 your function gives 40"),
        ("ex-ch4-warmup-steps", lambda bs, p: "40", "return an int"),
        ("ex-ch4-warmup-steps", lambda bs: 40, "takes the batch size and pct_start"),
        ("ex-ch4-torch-linear-lr", _linear("fastai"), "as fit_one_cycle does"),
        ("ex-ch4-torch-linear-lr", _linear("cos"), "half cosines"),
        ("ex-ch4-torch-linear-lr", _linear("final"), "*starting* rate"),
        ("ex-ch4-torch-linear-lr", _linear("zero"), "starts at 0"),
        ("ex-ch4-torch-linear-lr", _linear("last"), "one step after the last step"),
        ("ex-ch4-torch-linear-lr", _linear("shift"), "one step ahead"),
        ("ex-ch4-torch-linear-lr", lambda t, n, m, **kw: 0.005, "your rate at step 0 is 0.005"),
        ("ex-ch4-torch-linear-lr", lambda t, n, m: torch_linear_lr(t, n, m), "raised TypeError"),
        ("ex-ch4-torch-linear-lr", lambda t, n, m, **kw: [0.1, 0.2], "return one rate"),
        ("ex-ch4-torch-linear-lr", lambda t, n, m, **kw: None, "return the rate"),
        ("ex-ch4-torch-linear-lr", lambda t, n, m, **kw: math.nan, "NaN"),
        ("ex-ch4-one-cycle-lr", 0.025, "straight ramp"),
        ("ex-ch4-one-cycle-lr", math.acos(0.8) / math.pi, "*own* progress"),
        ("ex-ch4-one-cycle-lr", 0.25, "warm-up ends"),
        ("ex-ch4-one-cycle-lr", 100 * TENTH, "percentage"),
        ("ex-ch4-one-cycle-lr", 0.3 * math.acos(0.8) / math.pi, "PyTorch's default pct_start"),
        ("ex-ch4-one-cycle-lr", 0.04022, "lr_max/10"),
        ("ex-ch4-one-cycle-lr", 0.25 * math.acos(-0.8) / math.pi, "which way"),
        ("ex-ch4-one-cycle-lr", 0.25 * math.acos(0.8), "divides by π"),
        ("ex-ch4-one-cycle-lr", 0.0512, "not exact"),  # rounded
        ("ex-ch4-one-cycle-lr", 6 / 117, "not exact"),  # the step of a 117-step run closest to it
        ("ex-ch4-one-cycle-lr", 231 / 4511, "not exact"),  # the closest step the explorer can show
        ("ex-ch4-one-cycle-lr", 1.5, "not a position"),
        ("ex-ch4-one-cycle-lr", 0.07, "Reread cos_anneal"),
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
        ("ex-ch4-minimum-suggestion", _minimum_variant(lambda f, la, s, d, n: (f, la, n - 1, d)), "which position"),
        ("ex-ch4-minimum-suggestion", _minimum_variant(lambda f, la, s, d, n: (f, la, s, 1)), "what 'minimum' does"),
        ("ex-ch4-minimum-suggestion", _minimum_variant(lambda f, la, s, d, n: (0, n - 1, s, d)), "leaves out"),
        ("ex-ch4-minimum-suggestion", _minimum_variant(lambda f, la, s, d, n: (f, n - 1, s, d)), "leaves out"),
        ("ex-ch4-minimum-suggestion", _minimum_variant(lambda f, la, s, d, n: (0, la, s, d)), "leaves out"),
        ("ex-ch4-minimum-suggestion", _minimum_variant(lambda f, la, s, d, n: (f, la + 1, s, d)), "leaves out"),
        ("ex-ch4-minimum-suggestion", _minimum_variant(lambda f, la, s, d, n: (la, f, s, d)), "(lowest, highest)"),
        ("ex-ch4-minimum-suggestion", lambda s, e, n: (minimum_range(s, e, n)[0], 1.0), "lowest suggestion is right"),
        ("ex-ch4-minimum-suggestion", lambda s, e, n: (1.0, 2.0), "neither end is right"),
        ("ex-ch4-minimum-suggestion", lambda s, e, n: 0.01, "return a pair"),
        ("ex-ch4-minimum-suggestion", lambda s, e, n: (1, 2, 3), "returns 3 values"),
        ("ex-ch4-minimum-suggestion", lambda s, e, n: ("a", 1), "should be a number"),
        ("ex-ch4-minimum-suggestion", lambda s, e: (1, 2), "raised TypeError"),
    ],
)
def test_wrong_answers_get_a_specific_hint(label, answer, hint):
    result = check(label, answer)
    assert not result.passed
    assert hint in result.message, result.message


def _one_cycle_schedule_route(t, total_steps, max_lr, **kwargs):
    from course_lib import one_cycle_schedule

    return float(one_cycle_schedule(total_steps, max_lr, style="torch")[0][t])


def _one_cycle_lr_route(t, total_steps, max_lr, **kwargs):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=max_lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=max_lr, total_steps=total_steps,
                                                anneal_strategy="linear", **kwargs)
    for _ in range(t):
        opt.step()
        sched.step()
    return opt.param_groups[0]["lr"]


def _combined_cos_route(t, total_steps, max_lr, **kwargs):
    from fastai.callback.schedule import combined_cos

    return float(combined_cos(0.3, max_lr / 25, max_lr, max_lr / 25e4)(t / total_steps))


def _lr_find_route(start_lr, end_lr, num_it):
    from fastai.callback.schedule import minimum

    return minimum(torch.tensor([start_lr, end_lr]), torch.tensor([1.0, 0.0]), num_it)


def _sched_exp_route(start_lr, end_lr, num_it):
    from fastai.callback.schedule import SchedExp

    sched = SchedExp(start_lr, end_lr)
    return sched(0.1) / 10, sched(0.94) / 10


@pytest.mark.parametrize(
    "label, answer, refused",
    [
        ("ex-ch4-warmup-steps", lambda bs, p: len(__import__("course_lib").mnist_dls(bs=bs).train),
         "course_lib.loaders.mnist_dls"),
        ("ex-ch4-torch-linear-lr", _one_cycle_lr_route, "torch.optim.optimizer.Optimizer.__init__"),
        ("ex-ch4-torch-linear-lr", _one_cycle_schedule_route, "one_cycle_schedule"),
        ("ex-ch4-torch-linear-lr", _combined_cos_route, "combined_cos"),
        ("ex-ch4-minimum-suggestion", _lr_find_route, "fastai.callback.schedule.minimum"),
        ("ex-ch4-minimum-suggestion", _sched_exp_route, "SchedExp"),
    ],
)
def test_one_call_routes_are_refused(label, answer, refused):
    result = check(label, answer)
    assert not result.passed
    assert "which this exercise rules out" in result.message and refused in result.message, result.message


@pytest.mark.parametrize(
    "label, answer, giveaway",
    [
        ("ex-ch4-dropped-images", 100, "416"),
        ("ex-ch4-one-cycle-lr", 0.07, "0.8"),
        ("ex-ch4-one-cycle-lr", 0.07, "acos"),
        ("ex-ch4-near-zero", 0.8, "Phi(0.05)"),
    ],
)
def test_fallback_hints_point_to_the_section_not_the_computation(label, answer, giveaway):
    result = check(label, answer)
    assert not result.passed
    assert "Reread" in result.message or "Look at" in result.message, result.message
    assert giveaway not in result.message, result.message


@pytest.mark.parametrize("label, what", [("ex-ch4-dropped-images", "Your number of images")])
@pytest.mark.parametrize("answer", ["416", "40", [1, 2], (416,), math.nan, object(), torch.zeros(3), True, 416.0,
                                    416.5, torch.tensor(416.0)])
def test_int_checks_reject_wrong_types_naming_the_expected_type(label, what, answer):
    result = check(label, answer)
    assert not result.passed
    assert result.message.startswith(f"{what} should be a whole number (an int), got "), result.message


@pytest.mark.parametrize("label, what", [("ex-ch4-one-cycle-lr", "Your position"),
                                         ("ex-ch4-near-zero", "Your share")])
@pytest.mark.parametrize("answer, got", [("0.125", "got str '0.125'"), ([1, 2], "got list"), ((1,), "got tuple"),
                                         (object(), "got object"), (torch.zeros(3), "got Tensor"),
                                         (True, "got bool True")])
def test_number_checks_reject_wrong_types_naming_the_expected_type(label, what, answer, got):
    result = check(label, answer)
    assert not result.passed
    assert result.message.startswith(f"{what} should be a number, {got}"), result.message


@pytest.mark.parametrize("label", ["ex-ch4-warmup-steps", "ex-ch4-torch-linear-lr", "ex-ch4-minimum-suggestion"])
@pytest.mark.parametrize("answer", [40, 0.0054, "def f(): ...", [1, 2], (0.1, 0.2)])
def test_function_checks_ask_for_the_function_itself(label, answer):
    result = check(label, answer)
    assert not result.passed
    assert result.message.startswith("Pass your function itself"), result.message


@pytest.mark.parametrize("label", ["ex-ch4-one-cycle-lr", "ex-ch4-near-zero"])
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
        ("ex-ch4-warmup-steps", lambda bs, p: warmup_steps(bs, p) - 1, "133"),
        ("ex-ch4-warmup-steps", lambda bs, p: warmup_steps(bs, p) - 1, "40"),
        ("ex-ch4-warmup-steps", lambda bs, p: warmup_steps(bs, p) + 1, "133"),
        ("ex-ch4-warmup-steps", lambda bs, p: warmup_steps(bs, p) + 1, "60000 //"),
        # the answer is 0.5/Phi(0.05): no hint names the other quantity
        ("ex-ch4-near-zero", 0.5, "exact zeros"),
        ("ex-ch4-near-zero", PHI_005, "exact zeros"),
        ("ex-ch4-near-zero", PHI_005 - 0.5, "0.05"),
        ("ex-ch4-near-zero", (PHI_005 - 0.5) / PHI_005, "positive"),
        # no hint gives the cosine's value, PyTorch's pct_start or a direction from a wrong position
        ("ex-ch4-one-cycle-lr", 0.025, "0.8"),
        ("ex-ch4-one-cycle-lr", 0.025, "later"),
        ("ex-ch4-one-cycle-lr", 0.3 * math.acos(0.8) / math.pi, "0.3"),
        ("ex-ch4-one-cycle-lr", 0.0512, "larger"),
        ("ex-ch4-one-cycle-lr", 0.0512, "smaller"),
        # the OneCycleLR hints name neither the warm-up's last step nor its formula
        ("ex-ch4-torch-linear-lr", _linear("fastai"), "− 1"),
        ("ex-ch4-torch-linear-lr", _linear("fastai"), "- 1"),
        ("ex-ch4-torch-linear-lr", _linear("cos"), "29"),
        # the lr_find hints name neither the window's ends nor the position i/num_it
        ("ex-ch4-minimum-suggestion", _minimum_variant(lambda f, la, s, d, n: (0, n - 1, s, d)), "num_it − 6"),
        ("ex-ch4-minimum-suggestion", _minimum_variant(lambda f, la, s, d, n: (0, n - 1, s, d)), "num_it // 10"),
        ("ex-ch4-minimum-suggestion", _minimum_variant(lambda f, la, s, d, n: (f, la, n - 1, d)), "i/num_it"),
    ],
)
def test_specific_hints_do_not_give_away_the_answer(label, answer, giveaway):
    result = check(label, answer)
    assert not result.passed
    assert giveaway not in result.message, result.message


# Routes that get a fresh copy of a refused function, by reloading or re-importing its module or by running its
# source again, which the refusal of the original function objects does not reach. The checks refuse what such a
# copy still needs from outside its module: PyTorch's optimizer and scheduler base classes, course_lib's argument
# validation, fastcore's store_attr (fastai's schedule objects) and fastai's Learner.
_COPIED_MODULES = ("torch.optim.lr_scheduler", "course_lib.schedules", "fastai.callback.schedule")


@pytest.fixture
def restore_modules():
    """Undo what a reload or a fresh import does to the modules and classes the other tests use."""
    import importlib

    from fastai.learner import Learner, Recorder

    modules = {name: importlib.import_module(name) for name in _COPIED_MODULES}
    saved = {name: dict(vars(module)) for name, module in modules.items()}
    classes = {cls: dict(vars(cls)) for cls in (Learner, Recorder)}  # fastai's schedule module patches both
    yield
    for name, module in modules.items():
        sys.modules[name] = module
        module.__dict__.update(saved[name])
        parent, _, child = name.rpartition(".")
        setattr(sys.modules[parent], child, module)
    for cls, attributes in classes.items():
        for key, value in attributes.items():
            if vars(cls).get(key) is not value:
                setattr(cls, key, value)


def _step_scheduler(scheduler_class, t, total_steps, max_lr, **kwargs):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=max_lr)
    sched = scheduler_class(opt, max_lr=max_lr, total_steps=total_steps, anneal_strategy="linear", **kwargs)
    for _ in range(t):
        opt.step()
        sched.step()
    return opt.param_groups[0]["lr"]


def _reloaded_one_cycle_lr(t, total_steps, max_lr, **kwargs):
    import importlib

    return _step_scheduler(importlib.reload(torch.optim.lr_scheduler).OneCycleLR, t, total_steps, max_lr, **kwargs)


def _reimported_one_cycle_lr(t, total_steps, max_lr, **kwargs):
    import importlib

    sys.modules.pop("torch.optim.lr_scheduler")
    fresh = importlib.import_module("torch.optim.lr_scheduler")
    return _step_scheduler(fresh.OneCycleLR, t, total_steps, max_lr, **kwargs)


def _exec_one_cycle_lr(t, total_steps, max_lr, **kwargs):
    import inspect

    namespace = dict(vars(torch.optim.lr_scheduler))
    exec(inspect.getsource(torch.optim.lr_scheduler.OneCycleLR), namespace)  # noqa: S102
    return _step_scheduler(namespace["OneCycleLR"], t, total_steps, max_lr, **kwargs)


def _reloaded_warmup_schedule(bs, pct_start):
    import importlib

    import course_lib.schedules

    schedules = importlib.reload(course_lib.schedules)
    # a final rate equal to the peak: the annealing stays at 1, the warm-up is below it
    rates = schedules.one_cycle_schedule(60000 // bs, 1.0, pct_start=pct_start, div=2.0, div_final=1.0).lr
    return int((rates < 1).sum())


def _reloaded_combined_cos(bs, pct_start):
    import importlib

    import fastai.callback.schedule

    schedule = importlib.reload(fastai.callback.schedule)
    n = 60000 // bs
    return sum(float(schedule.combined_cos(pct_start, 0.5, 1.0, 1.0)(t / n)) < 1 for t in range(n))


def _reloaded_sched_exp(start_lr, end_lr, num_it):
    import importlib

    import fastai.callback.schedule

    sched = importlib.reload(fastai.callback.schedule).SchedExp(start_lr, end_lr)
    return sched((num_it // 10) / num_it) / 10, sched((num_it - 6) / num_it) / 10


def _reloaded_lr_find(start_lr, end_lr, num_it):
    """lr_find as the reloaded module patches it onto the Learner, on a learner built before the check."""
    import importlib

    import fastai.callback.schedule

    importlib.reload(fastai.callback.schedule)
    with _TINY_LEARNER.no_bar(), _TINY_LEARNER.no_logging():
        _TINY_LEARNER.lr_find(start_lr=start_lr, end_lr=end_lr, num_it=num_it, stop_div=False, show_plot=False,
                              suggest_funcs=())
    lrs = _TINY_LEARNER.recorder.lrs
    return lrs[num_it // 10] / 10, lrs[num_it - 6] / 10


def _tiny_learner():
    import fastai.callback.progress  # noqa: F401  (Learner.no_bar)
    from fastai.data.core import DataLoaders
    from fastai.data.load import DataLoader
    from fastai.learner import Learner

    x = torch.randn(64, 3, generator=torch.Generator().manual_seed(0))
    data = list(zip(x, x.sum(1), strict=True))
    dls = DataLoaders(DataLoader(data, bs=8, drop_last=True), DataLoader(data, bs=8))
    return Learner(dls, torch.nn.Linear(3, 1), loss_func=lambda p, t: F.mse_loss(p.squeeze(-1), t))


_TINY_LEARNER = _tiny_learner()


@pytest.mark.parametrize(
    "label, answer, refused",
    [
        ("ex-ch4-torch-linear-lr", _reloaded_one_cycle_lr, "torch.optim.optimizer.Optimizer.__init__"),
        ("ex-ch4-torch-linear-lr", _reimported_one_cycle_lr, "torch.optim.optimizer.Optimizer.__init__"),
        ("ex-ch4-torch-linear-lr", _exec_one_cycle_lr, "torch.optim.optimizer.Optimizer.__init__"),
        ("ex-ch4-warmup-steps", _reloaded_warmup_schedule, "course_lib._validate.check_int"),
        ("ex-ch4-warmup-steps", _reloaded_combined_cos, "fastcore.basics.store_attr"),
        ("ex-ch4-minimum-suggestion", _reloaded_sched_exp, "fastcore.basics.store_attr"),
        ("ex-ch4-minimum-suggestion", _reloaded_lr_find, "fastcore.basics.store_attr"),  # LRFinder's
        ("ex-ch4-minimum-suggestion", lambda start_lr, end_lr, num_it: _TINY_LEARNER.fit(1),
         "fastai.learner.Learner.fit"),
    ],
)
def test_fresh_copies_of_refused_functions_are_refused(restore_modules, label, answer, refused):
    result = check(label, answer)
    assert not result.passed
    # core.forbidden() may refuse the reload or the fresh import itself, before the exercise's own list
    caught = (refused, "importlib.reload", "afresh")
    assert "which this exercise rules out" in result.message, result.message
    assert any(what in result.message for what in caught), result.message


def test_scheduler_base_classes_are_refused_for_a_copied_scheduler():
    """A copy of OneCycleLR run on an optimizer built before the check still needs LRScheduler's methods."""
    import inspect

    namespace = dict(vars(torch.optim.lr_scheduler))
    exec(inspect.getsource(torch.optim.lr_scheduler.OneCycleLR), namespace)  # noqa: S102
    copied = namespace["OneCycleLR"]
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)

    def answer(t, total_steps, max_lr, **kwargs):
        sched = copied(opt, max_lr=max_lr, total_steps=total_steps, anneal_strategy="linear", **kwargs)
        for _ in range(t):
            opt.step()
            sched.step()
        return opt.param_groups[0]["lr"]

    result = check("ex-ch4-torch-linear-lr", answer)
    assert not result.passed
    assert "torch.optim.lr_scheduler.LRScheduler" in result.message, result.message
