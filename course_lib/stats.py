"""Activation statistics per layer over the training batches, as fastai's ActivationStats records them.

Taught in: chapters/04_training_stability
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from torch import nn

from ._validate import check_int, check_number

STAT_NAMES = ("mean", "std", "near_zero")


def near_zero_fraction(x: torch.Tensor, threshold: float = 0.05) -> float:
    """The fraction of the entries of ``x`` that are at most ``threshold``.

    This is the ``near_zero`` statistic of fastai's ``ActivationStats``.
    Measured after a ReLU it is the share of units that pass nothing on to
    the next layer for this batch; a value near 1 means the layer has all but
    died.

    Taught in: chapters/04_training_stability
    """
    if not isinstance(x, torch.Tensor) or x.numel() == 0:
        raise ValueError(f"x must be a non-empty tensor, got {type(x).__name__}"
                         + (f" with shape {tuple(x.shape)}" if isinstance(x, torch.Tensor) else ""))
    check_number("threshold", threshold)
    return (x.float() <= threshold).sum().item() / x.numel()


def block_outputs(model: nn.Module) -> list[nn.Module]:
    """The last module of each block of a ``simple_cnn``-style ``nn.Sequential`` of blocks.

    Hooking these modules records what each block hands to the next: the
    ReLU's output for the hidden blocks (or BatchNorm's, when the block has
    one) and the final convolution's class scores. Modules that are not
    ``nn.Sequential`` blocks (such as ``Flatten``) are skipped.

    Taught in: chapters/04_training_stability
    """
    if not isinstance(model, nn.Sequential):
        raise ValueError(f"model must be an nn.Sequential of blocks, got {type(model).__name__}")
    outs = [block[-1] for block in model if isinstance(block, nn.Sequential) and len(block) > 0]
    if not outs:
        raise ValueError("model must contain at least one non-empty nn.Sequential block, got none")
    return outs


def block_activation_stats(every: int = 1):
    """A fastai ``ActivationStats`` callback that hooks :func:`block_outputs` of the model it trains.

    fastai's callback hooks, by default, only layers with parameters, i.e.
    the convolutions' outputs *before* the ReLU, and ``include_paramless=True``
    hooks every leaf module (each ReLU and the Flatten as well). This one
    hooks exactly one module per block, the block's output, which the model
    resolves when training starts. ``every=1`` registers the hooks for each
    training batch only, so validation batches cost nothing extra.

    Taught in: chapters/04_training_stability
    """
    from fastai.callback.hook import ActivationStats

    check_int("every", every, minimum=1)

    class BlockActivationStats(ActivationStats):
        def before_fit(self):
            with warnings.catch_warnings():  # fastai warns that `stats` shadows Learner.stats
                warnings.simplefilter("ignore", UserWarning)
                self.modules = block_outputs(self.model)
                super().before_fit()

    return BlockActivationStats(every=every)


def layer_stats(stats_cb) -> dict[str, np.ndarray]:
    """The recorded statistics as arrays of shape (n_batches, n_layers), keyed by statistic.

    ``stats_cb`` is a fastai ``ActivationStats`` callback after training;
    keys are ``"mean"``, ``"std"`` and ``"near_zero"``.

    Taught in: chapters/04_training_stability
    """
    recorded = getattr(stats_cb, "stats", None)
    if recorded is None or len(recorded) == 0:
        raise ValueError("stats_cb must be an ActivationStats callback that has recorded at least one batch, "
                         f"got {type(stats_cb).__name__} with no stats")
    return {k: np.array([[layer[k] for layer in batch] for batch in recorded]) for k in STAT_NAMES}


def plot_layer_stats(stats_cb, labels: list[str] | None = None, *, title: str = "", axes=None):
    """Plot each layer's activation mean, standard deviation and % near zero against the batch number.

    One line per hooked layer in each of three panels; ``labels`` names the
    layers in the legend (default ``layer 1``, ``layer 2``, ...). Returns the
    figure.

    Taught in: chapters/04_training_stability
    """
    import matplotlib.pyplot as plt

    stats = layer_stats(stats_cb)
    n_layers = stats["mean"].shape[1]
    labels = labels if labels is not None else [f"layer {i + 1}" for i in range(n_layers)]
    if len(labels) != n_layers:
        raise ValueError(f"labels must name the {n_layers} hooked layers, got {len(labels)} labels")
    if axes is None:
        fig, axes = plt.subplots(1, 3, figsize=(11, 3), dpi=85)
    else:
        fig = axes[0].figure
    for ax, key, name in zip(axes, STAT_NAMES, ("mean", "standard deviation", "% near zero (<= 0.05)"),
                             strict=True):
        values = stats[key] * (100 if key == "near_zero" else 1)
        for j in range(n_layers):
            ax.plot(values[:, j], lw=1, label=labels[j])
        ax.set(xlabel="batch", title=f"{title}: {name}" if title else name)
    axes[1].set_yscale("log")
    axes[2].set_ylim(-2, 102)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig
