"""Seeded training runs through fastai, their seed tables and plots."""

from __future__ import annotations

import matplotlib
import pytest
import torch

from course_lib.models import simple_cnn
from course_lib.training import TrainResult, plot_seed_spread, progress_enabled, seed_table, train, train_seeds

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def runs():
    """Two seeds of a short 1cycle run on the 3s and 7s."""
    return train_seeds(simple_cnn, seeds=(0, 1), bs=256, sample=True, lr=0.01, quiet=True)


def test_train_seeds_returns_one_result_per_seed_that_learned_the_task(runs):
    assert [r.seed for r in runs] == [0, 1]
    assert all(isinstance(r, TrainResult) for r in runs)
    assert all(r.accuracy > 0.9 for r in runs)  # 3 versus 7 after one epoch


def test_reported_accuracy_is_the_learners_own_validation(runs):
    learn = runs[0].learner
    with learn.no_bar(), learn.no_logging():
        valid_loss, acc = learn.validate()[:2]
    assert runs[0].accuracy == pytest.approx(float(acc), abs=1e-6)
    assert runs[0].valid_loss == pytest.approx(float(valid_loss), rel=1e-5)


def test_seed_table_summarises_accuracy_over_seeds(runs):
    table = seed_table({"1cycle": runs})
    row = table.loc["1cycle"]
    accs = [r.accuracy for r in runs]
    assert row["seeds"] == "0,1"
    assert row["acc_min"] == min(accs) and row["acc_max"] == max(accs)
    assert row["acc_mean"] == pytest.approx(sum(accs) / 2)
    assert row["n_failed"] == 0


def test_plot_seed_spread_draws_one_dot_per_seed(runs):
    fig = plot_seed_spread({"a": runs, "b": runs[:1]})
    ax = fig.axes[0]
    assert sum(len(c.get_offsets()) for c in ax.collections if hasattr(c, "get_offsets")) >= 3
    with pytest.raises(ValueError, match="runs must be a non-empty dict"):
        plot_seed_spread({})


def test_same_seed_gives_the_same_run():
    a = train(simple_cnn, bs=1024, sample=True, seed=3, quiet=True)
    b = train(simple_cnn, bs=1024, sample=True, seed=3, quiet=True)
    assert a.accuracy == b.accuracy
    first = [p for p in a.learner.model.parameters()][0]
    torch.testing.assert_close(first, [p for p in b.learner.model.parameters()][0])


def test_progress_bars_follow_course_lib_quiet(monkeypatch):
    monkeypatch.setenv("COURSE_LIB_QUIET", "1")
    assert not progress_enabled()
    monkeypatch.setenv("COURSE_LIB_QUIET", "0")
    assert progress_enabled()
    monkeypatch.delenv("COURSE_LIB_QUIET")
    assert progress_enabled()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: train(simple_cnn, epochs=0), "epochs must be a positive int, got 0"),
        (lambda: train(simple_cnn, lr=-1), "lr must be a positive finite number, got -1"),
        (lambda: train(simple_cnn, bs=0), "bs must be a positive int, got 0"),
        (lambda: train(simple_cnn, lr=float("nan")), "lr must be a positive finite number, got nan"),
        (lambda: train_seeds(simple_cnn, seeds=()), "seeds must be a non-empty sequence of ints, got ()"),
        (lambda: train_seeds(simple_cnn, seeds=(1, 1)), "seeds must be distinct, got [1, 1]"),
        (lambda: train_seeds(simple_cnn, seeds=(0, -1)), "seeds[1] must be a non-negative int, got -1"),
        (lambda: train_seeds(simple_cnn, seed=3), "pass the seeds as seeds=..."),
        (lambda: train_seeds(simple_cnn, cbs_factory=3), "cbs_factory must be callable"),
        (lambda: seed_table({"a": []}), "runs['a'] must be a non-empty list of TrainResult"),
    ],
)
def test_bad_arguments_raise_a_value_error_naming_them(call, message):
    with pytest.raises(ValueError) as err:
        call()
    assert message in str(err.value)
