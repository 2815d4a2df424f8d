"""A seeded, deterministic wrapper around fastai's Learner, and nothing more.

Taught in: chapters/04_training_stability
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch.nn.functional as F
from torch import nn

from ._validate import check_int, check_number
from .seeding import set_seed


def progress_enabled() -> bool:
    """Whether training shows fastai's progress bars.

    Bars are on when a student runs a notebook. The course's build and test
    commands set ``COURSE_LIB_QUIET=1`` so that stored notebooks hold no
    progress output, which would differ from run to run.

    Taught in: chapters/04_training_stability
    """
    return os.environ.get("COURSE_LIB_QUIET", "") in ("", "0")


def make_learner(model: nn.Module, dls, *, loss_func: Callable = F.cross_entropy, cbs=None, metrics=None):
    """A plain fastai ``Learner`` with cross-entropy loss and the accuracy metric.

    Taught in: chapters/04_training_stability
    """
    from ._fastai import Learner, accuracy


    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return Learner(dls, model, loss_func=loss_func, metrics=metrics if metrics is not None else accuracy,
                   cbs=cbs)


@dataclass
class TrainResult:
    """What one seeded training run produced.

    Taught in: chapters/04_training_stability
    """

    seed: int
    accuracy: float
    valid_loss: float
    seconds: float
    learner: object

    def __repr__(self) -> str:
        return (f"TrainResult(seed={self.seed}, accuracy={self.accuracy:.4f}, "
                f"valid_loss={self.valid_loss:.4f}, seconds={self.seconds:.1f})")


def train(model_fn: Callable[[], nn.Module], *, epochs: int = 1, lr: float = 0.06, bs: int = 512,
          seed: int = 42, one_cycle: bool = True, sample: bool = False, cbs=None,
          quiet: bool | None = None, keep_data: bool = True) -> TrainResult:
    """Train a fresh ``model_fn()`` on MNIST with everything seeded, and report test accuracy.

    The seed fixes the initial weights (``set_seed`` before ``model_fn``)
    and the order of the training batches. ``one_cycle=True`` uses
    ``fit_one_cycle``, otherwise plain ``fit`` at a constant rate. Progress
    bars show unless ``quiet`` (default: see :func:`progress_enabled`).
    ``keep_data=False`` detaches the DataLoaders (about 56 MB of images)
    from the returned learner, which keeps its model, recorder and
    callbacks; use it when a notebook keeps many runs in memory.

    Taught in: chapters/02_conv_as_matmul
    """
    from contextlib import nullcontext

    from .loaders import mnist_dls

    check_int("epochs", epochs, minimum=1)
    check_int("bs", bs, minimum=1)
    check_int("seed", seed, minimum=0)
    check_number("lr", lr, gt=0)
    if quiet is None:
        quiet = not progress_enabled()
    set_seed(seed)
    model = model_fn()
    dls = mnist_dls(bs=bs, sample=sample, seed=seed)
    learn = make_learner(model, dls, cbs=cbs)
    ctx = learn.no_bar() if quiet else nullcontext()
    start = time.perf_counter()
    with ctx, learn.no_logging() if quiet else nullcontext():
        if one_cycle:
            learn.fit_one_cycle(epochs, lr)
        else:
            learn.fit(epochs, lr)
    seconds = time.perf_counter() - start
    # The loss and accuracy of the validation pass that ends the last epoch. (Calling
    # learn.validate() again would cost a pass and re-run callbacks' before_fit, which
    # resets what callbacks such as ActivationStats recorded.)
    # The row is (train loss, valid loss, accuracy); fastai leaves the train loss out when a
    # callback such as ShortEpochCallback cancels the training part of the epoch.
    valid_loss, acc = learn.recorder.values[-1][-2:]
    if not keep_data:
        learn.dls = None
    return TrainResult(seed, float(acc), float(valid_loss), seconds, learn)


def train_seeds(model_fn: Callable[[], nn.Module], seeds: Sequence[int] = (0, 1, 2), *,
                cbs_factory: Callable[[], list] | None = None, **train_kwargs) -> list[TrainResult]:
    """Run :func:`train` once per seed with otherwise identical settings and return every result.

    A result that depends on the seed is a distribution, not a number:
    reporting a single lucky (or unlucky) seed can turn "fails half of the
    time" into "works". ``cbs_factory``, if given, is called for each run
    to make fresh callbacks (a callback object belongs to one Learner);
    ``train_kwargs`` go to :func:`train` unchanged.

    Taught in: chapters/04_training_stability
    """
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence) or len(seeds) == 0:
        raise ValueError(f"seeds must be a non-empty sequence of ints, got {seeds!r}")
    for i, s in enumerate(seeds):
        check_int(f"seeds[{i}]", s, minimum=0)
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {list(seeds)}")
    if "seed" in train_kwargs or "cbs" in train_kwargs:
        raise ValueError("pass the seeds as seeds=... and callbacks as cbs_factory=..., not seed= or cbs=")
    if cbs_factory is not None and not callable(cbs_factory):
        raise ValueError(f"cbs_factory must be callable (returning a list of callbacks), got {cbs_factory!r}")
    return [train(model_fn, seed=s, cbs=cbs_factory() if cbs_factory else None, **train_kwargs)
            for s in seeds]


def seed_table(runs: dict[str, list[TrainResult]]):
    """One row per named experiment: the accuracy's mean, min and max over seeds, and seconds per run.

    ``runs`` maps an experiment's name to the results of :func:`train_seeds`.
    Returns a pandas ``DataFrame`` (pandas comes with fastai) with columns
    ``seeds``, ``acc_mean``, ``acc_min``, ``acc_max``, ``n_failed`` (runs
    at chance level, accuracy below 0.2) and ``seconds_mean``.

    Taught in: chapters/04_training_stability
    """
    import pandas as pd

    _check_runs(runs)
    rows = []
    for name, results in runs.items():
        accs = [r.accuracy for r in results]
        rows.append({"experiment": name, "seeds": ",".join(str(r.seed) for r in results),
                     "acc_mean": sum(accs) / len(accs), "acc_min": min(accs), "acc_max": max(accs),
                     "n_failed": sum(a < 0.2 for a in accs),
                     "seconds_mean": sum(r.seconds for r in results) / len(results)})
    return pd.DataFrame(rows).set_index("experiment")


def plot_seed_spread(runs: dict[str, list[TrainResult]], ax=None):
    """A strip plot: one dot per seed's accuracy for each named experiment, with its mean as a bar.

    Taught in: chapters/04_training_stability
    """
    import matplotlib.pyplot as plt

    _check_runs(runs)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.2), dpi=90)
    for i, results in enumerate(runs.values()):
        accs = [100 * r.accuracy for r in results]
        xs = [i + 0.08 * (j - (len(accs) - 1) / 2) for j in range(len(accs))]
        ax.scatter(xs, accs, zorder=3, label=None)
        for x, r, a in zip(xs, results, accs, strict=True):
            ax.annotate(str(r.seed), (x, a), textcoords="offset points", xytext=(5, -3), fontsize=7)
        ax.hlines(sum(accs) / len(accs), i - 0.25, i + 0.25, colors="k", lw=1)
    ax.axhline(11.35, color="grey", ls=":", lw=1, label="always predicting '1' (11.35%)")
    ax.set_xticks(range(len(runs)), list(runs))
    ax.set(ylabel="test accuracy (%)", ylim=(0, 100), title="One dot per seed; bar = mean")
    ax.legend(fontsize=8, loc="lower right")
    ax.figure.tight_layout()
    return ax.figure


def _check_runs(runs) -> None:
    if not isinstance(runs, dict) or not runs:
        raise ValueError(f"runs must be a non-empty dict of name -> list of TrainResult, got {runs!r}")
    for name, results in runs.items():
        if not results or not all(isinstance(r, TrainResult) for r in results):
            raise ValueError(f"runs[{name!r}] must be a non-empty list of TrainResult, got {results!r}")
