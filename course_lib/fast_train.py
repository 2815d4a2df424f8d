"""A lean, fastai-free training loop that reproduces ``fit_one_cycle`` step for step.

Taught in: chapters/05_batch_normalization
"""

from __future__ import annotations

import copy
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ._validate import check_bool, check_int, check_number
from .data import load_mnist, normalize
from .precision import _check_images_and_labels, gradient_error_vs_float64  # noqa: F401
from .seeding import set_seed

#: Layers whose parameters get no weight decay (fastai's ``norm_types``, plus the course's own BatchNorm).
_NORM_TYPES: tuple[type, ...] = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm)


def fastai_one_cycle(pos: float, lr_max: float, *, div: float = 25.0, div_final: float = 1e5,
                     pct_start: float = 0.25, moms: Sequence[float] = (0.95, 0.85, 0.95)) -> tuple[float, float]:
    """The learning rate and Adam's beta1 that ``fit_one_cycle`` sets at training progress ``pos`` in [0, 1).

    fastai sets the schedule before each batch at ``pos = step / total_steps``:
    the rate climbs from ``lr_max/div`` to ``lr_max`` along half a cosine in
    the first ``pct_start`` of training, then descends to ``lr_max/div_final``;
    momentum goes the opposite way, ``moms[0]`` to ``moms[1]`` and back to
    ``moms[2]`` {cite}`smith2018disciplined`.

    Taught in: chapters/05_batch_normalization
    """
    check_number("pos", pos, "a number in [0, 1]", lambda v: 0 <= v <= 1)
    check_number("lr_max", lr_max, "a positive number", lambda v: v > 0)
    check_number("pct_start", pct_start, "a number in (0, 1)", lambda v: 0 < v < 1)

    def cos(start: float, end: float, p: float) -> float:
        return start + (1 + math.cos(math.pi * (1 - p))) * (end - start) / 2

    if pos < pct_start:
        p = pos / pct_start
        return cos(lr_max / div, lr_max, p), cos(moms[0], moms[1], p)
    p = (pos - pct_start) / (1 - pct_start)
    return cos(lr_max, lr_max / div_final, p), cos(moms[1], moms[2], p)


def fastai_batch_order(n: int, epochs: int, seed: int) -> list[list[int]]:
    """The shuffled order of the ``n`` training items in each epoch, exactly as ``mnist_dls(seed=seed)`` yields them.

    fastai's loader draws a fresh ``random.Random`` from its previous one at
    the start of every epoch and shuffles with ``rng.sample``; the course's
    loader starts that chain from ``random.Random(seed)``.

    Taught in: chapters/05_batch_normalization
    """
    check_int("n", n, minimum=1)
    check_int("epochs", epochs, minimum=1)
    check_int("seed", seed, minimum=0)
    rng = random.Random(seed)
    orders = []
    for _ in range(epochs):
        rng = random.Random(rng.randint(0, 2**32 - 1))
        orders.append(rng.sample(range(n), n))
    return orders


@dataclass
class FastResult:
    """What one run of :func:`fit_one_cycle_fast` produced: final numbers, per-epoch history and the model.

    Taught in: chapters/05_batch_normalization
    """

    seed: int
    accuracy: float
    valid_loss: float
    train_loss: float
    seconds: float
    model: nn.Module
    history: list[dict] = field(default_factory=list)

    def __repr__(self) -> str:
        return (f"FastResult(seed={self.seed}, accuracy={self.accuracy:.4f}, valid_loss={self.valid_loss:.4f}, "
                f"train_loss={self.train_loss:.4f}, seconds={self.seconds:.1f})")


def _param_groups(model: nn.Module, wd: float) -> list[dict]:
    no_decay: list[nn.Parameter] = []
    for m in model.modules():
        if isinstance(m, _NORM_TYPES) or type(m).__name__ == "BatchNorm2dScratch":
            no_decay += list(m.parameters(recurse=False))
        elif getattr(m, "bias", None) is not None and isinstance(m.bias, nn.Parameter):
            no_decay.append(m.bias)
    ids = {id(p) for p in no_decay}
    decay = [p for p in model.parameters() if id(p) not in ids and p.requires_grad]
    return [{"params": decay, "weight_decay": wd}, {"params": [p for p in no_decay if p.requires_grad],
                                                     "weight_decay": 0.0}]


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, bs: int = 2000,
             train_mode: bool = False) -> tuple[float, float]:
    """Mean cross-entropy loss and accuracy of ``model`` on normalized images ``x`` (N, 1, 28, 28) and labels ``y``.

    By default the model runs in eval mode, as it should for testing.
    ``train_mode=True`` evaluates a *copy* of the model in training mode, so
    that each BatchNorm layer normalizes with the statistics of the current
    batch of ``bs`` test images (the original model and its running
    estimates are left untouched): the classic mistake chapter 5 measures.

    Taught in: chapters/05_batch_normalization
    """
    check_int("bs", bs, minimum=1)
    _check_images_and_labels(x, y)
    was_training = model.training
    net = copy.deepcopy(model).train() if train_mode else model.eval()
    loss, correct = 0.0, 0
    for i in range(0, len(x), bs):
        out = net(x[i:i + bs])
        loss += F.cross_entropy(out, y[i:i + bs], reduction="sum").item()
        correct += (out.argmax(1) == y[i:i + bs]).sum().item()
    model.train(was_training)
    return loss / len(x), correct / len(x)


def fit_one_cycle_fast(model_fn: Callable[[], nn.Module], *, epochs: int = 5, lr: float = 0.1, bs: int = 512,
                       seed: int = 0, wd: float = 0.01, threads: int | None = None,
                       eval_every_epoch: bool = True, channels_last: bool = False) -> FastResult:
    """Train ``model_fn()`` on MNIST as ``course_lib.train(..., one_cycle=True)`` does, without fastai's overhead.

    Everything that decides the numbers is the same as in fastai's
    ``fit_one_cycle``: the seed fixes the initial weights (``set_seed`` then
    ``model_fn``) and the batch order (:func:`fastai_batch_order`); the
    optimizer is Adam with decoupled weight decay ``wd`` (none on biases and
    normalization layers), ``eps=1e-5`` and ``beta2=0.99``; the learning rate
    and ``beta1`` follow :func:`fastai_one_cycle`, set before each batch.
    What is gone is the per-batch machinery: callbacks, per-parameter Python
    optimizer loops, per-batch normalization of uint8 images (done once here)
    and small validation batches. ``threads`` sets ``torch.set_num_threads``
    for the run. Validation uses the 10,000 test images, as ``mnist_dls`` does.
    ``channels_last=True`` stores the weights and images in PyTorch's
    channels-last memory format (NHWC): about 15% faster on the course's
    2-core machine, but PyTorch's CPU BatchNorm kernels for that layout are
    less exact (input gradients about 20 times further from a float64
    reference than with NCHW), and BatchNorm's backward pass amplifies that
    to about 1% in block 1's gradients and up to 6% elsewhere (see
    :func:`gradient_error_vs_float64` and ``benchmarks/bench_bn_1cycle.py``).
    The chapter therefore trains in the default NCHW layout.

    Taught in: chapters/05_batch_normalization
    """
    check_int("epochs", epochs, minimum=1)
    check_int("bs", bs, minimum=1)
    check_int("seed", seed, minimum=0)
    check_number("lr", lr, "a positive number", lambda v: v > 0)
    check_number("wd", wd, "a non-negative number", lambda v: not v < 0)
    if threads is not None:
        check_int("threads", threads, minimum=1)
    check_bool("channels_last", channels_last)
    old_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        set_seed(seed)
        model = model_fn()
        if not isinstance(model, nn.Module):
            raise ValueError(f"model_fn must return a torch.nn.Module, got {type(model).__name__}")
        data = load_mnist()
        x_train, y_train = normalize(data.x_train), data.y_train
        x_valid, y_valid = normalize(data.x_test), data.y_test
        del data
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
            x_train = x_train.contiguous(memory_format=torch.channels_last)
            x_valid = x_valid.contiguous(memory_format=torch.channels_last)
        n_batches = len(x_train) // bs
        if n_batches == 0:
            raise ValueError(f"bs must be at most the {len(x_train)} training images, got {bs}")
        total = epochs * n_batches
        opt = torch.optim.AdamW(_param_groups(model, float(wd)), lr=lr, betas=(0.95, 0.99), eps=1e-5,
                                foreach=True)
        history, step = [], 0
        start = time.perf_counter()
        for epoch, order in enumerate(fastai_batch_order(len(x_train), epochs, seed)):
            idx = torch.tensor(order, dtype=torch.long)
            model.train()
            loss_sum = torch.zeros(())
            for b in range(n_batches):
                lr_t, mom_t = fastai_one_cycle(step / total, lr)
                for g in opt.param_groups:
                    g["lr"], g["betas"] = lr_t, (mom_t, 0.99)
                j = idx[b * bs:(b + 1) * bs]
                loss = F.cross_entropy(model(x_train[j]), y_train[j])
                loss.backward()
                opt.step()
                opt.zero_grad(set_to_none=True)
                loss_sum += loss.detach()
                step += 1
            row = {"epoch": epoch, "train_loss": loss_sum.item() / n_batches}
            if eval_every_epoch or epoch == epochs - 1:
                row["valid_loss"], row["accuracy"] = evaluate(model, x_valid, y_valid)
            row["seconds"] = time.perf_counter() - start
            history.append(row)
        seconds = time.perf_counter() - start
    finally:
        torch.set_num_threads(old_threads)
    last = history[-1]
    return FastResult(seed, last["accuracy"], last["valid_loss"], last["train_loss"], seconds, model, history)
