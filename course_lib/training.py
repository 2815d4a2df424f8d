"""A seeded, deterministic wrapper around fastai's Learner, and nothing more.

Taught in: chapters/04_training_stability
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch.nn.functional as F
from torch import nn

from ._validate import check_int
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
    import fastai.callback.progress  # noqa: F401  (adds Learner.no_bar)
    import fastai.callback.schedule  # noqa: F401  (adds fit_one_cycle, lr_find)
    from fastai.learner import Learner
    from fastai.metrics import accuracy

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
        return f"TrainResult(seed={self.seed}, accuracy={self.accuracy:.4f}, valid_loss={self.valid_loss:.4f}, seconds={self.seconds:.1f})"


def train(model_fn: Callable[[], nn.Module], *, epochs: int = 1, lr: float = 0.06, bs: int = 512,
          seed: int = 42, one_cycle: bool = True, sample: bool = False, cbs=None,
          quiet: bool | None = None) -> TrainResult:
    """Train a fresh ``model_fn()`` on MNIST with everything seeded, and report test accuracy.

    The seed fixes the initial weights (``set_seed`` before ``model_fn``)
    and the order of the training batches. ``one_cycle=True`` uses
    ``fit_one_cycle``, otherwise plain ``fit`` at a constant rate. Progress
    bars show unless ``quiet`` (default: see :func:`progress_enabled`).

    Taught in: chapters/04_training_stability
    """
    from contextlib import nullcontext

    from .data import mnist_dls

    check_int("epochs", epochs, minimum=1)
    check_int("bs", bs, minimum=1)
    check_int("seed", seed, minimum=0)
    if not (isinstance(lr, (int, float)) and not isinstance(lr, bool) and lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
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
    valid_loss, acc = learn.validate()[:2] if quiet else _validate_quietly(learn)
    return TrainResult(seed, float(acc), float(valid_loss), seconds, learn)


def _validate_quietly(learn):
    with learn.no_bar(), learn.no_logging():
        return learn.validate()[:2]
