"""What each layer's activations do during training, recorded by fastai's ``ActivationStats``.

Taught in: chapters/04_training_stability
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import torch
from torch import nn

from ._validate import check_bool, check_int, check_number


def near_zero_fraction(x: torch.Tensor, threshold: float = 0.05) -> float:
    """The fraction of the entries of ``x`` that are at most ``threshold``.

    This is the ``near_zero`` statistic of fastai's ``ActivationStats``.
    Measured after a ReLU it is the share of the batch's outputs that pass
    at most ``threshold`` on to the next layer: exact zeros and small
    positive values alike. A value near 1 means the layer passes on almost
    nothing.

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


def activation_stats(layers: Sequence[str] | None = None, *, with_hist: bool = False, every: int = 1):
    """fastai's ``ActivationStats`` callback, hooking the modules a chapter chooses.

    fastai's callback hooks, by default, only layers with parameters (the
    convolutions' outputs *before* the ReLU); ``include_paramless=True``
    hooks every leaf module. This one hooks :func:`block_outputs` of the
    model it trains (``layers=None``) or the submodules named in ``layers``
    (``named_modules`` names such as ``"3.1"``, a ReLU included), resolved
    when training starts. Everything else is fastai's: the statistics it
    records for each training batch (``mean``, ``std``, ``near_zero`` and,
    with ``with_hist=True``, a 40-bin histogram of the values in [0, 10]),
    and its ``layer_stats``, ``hist``, ``color_dim`` and ``plot_layer_stats``
    methods, which index the hooked modules in order. After training the
    callback is ``learner.activation_stats``. ``every=k`` records every k-th
    training batch only.

    Taught in: chapters/04_training_stability
    """
    from ._fastai import ActivationStats as FastaiActivationStats


    check_int("every", every, minimum=1)
    check_bool("with_hist", with_hist)
    if layers is not None:
        if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence) or not layers \
                or not all(isinstance(n, str) and n for n in layers):
            raise ValueError(f"layers must be None or a non-empty list of submodule names such as ['3.1'], "
                             f"got {layers!r}")
        layers = list(layers)

    class ActivationStats(FastaiActivationStats):
        def before_fit(self):
            if layers is None:
                modules = block_outputs(self.model)
            else:
                names = {n for n, _ in self.model.named_modules() if n}
                missing = [n for n in layers if n not in names]
                if missing:
                    raise ValueError(f"layers must name submodules of the model, got {missing}; "
                                     f"names: {sorted(names)}")
                modules = [self.model.get_submodule(n) for n in layers]
            # fastai warns that `modules` and `stats` shadow Learner attributes of the same names
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                self.modules = modules
                super().before_fit()

    return ActivationStats(with_hist=with_hist, every=every)


def plot_layer_stats(stats_cb, labels: list[str] | None = None, *, title: str = "", axes=None):
    """Each hooked layer's activation mean, standard deviation and % near zero against the batch number.

    The three panels are stacked, one per statistic, with one line per
    hooked layer, so that the figure stays readable at a page's column width
    and on a phone (fastai's own ``plot_layer_stats`` shows one layer).
    ``labels`` names the layers in the legend (default ``layer 1``, ...).
    Returns the figure.

    Taught in: chapters/04_training_stability
    """
    import matplotlib.pyplot as plt

    recorded = getattr(stats_cb, "stats", None)
    if recorded is None or len(recorded) == 0:
        raise ValueError("stats_cb must be an ActivationStats callback that has recorded at least one batch, "
                         f"got {type(stats_cb).__name__} with no stats")
    n_layers = len(recorded[0])
    labels = labels if labels is not None else [f"layer {i + 1}" for i in range(n_layers)]
    if len(labels) != n_layers:
        raise ValueError(f"labels must name the {n_layers} hooked layers, got {len(labels)} labels")
    if axes is None:
        fig, axes = plt.subplots(3, 1, figsize=(6, 6.6), dpi=90, sharex=True)
    else:
        fig = axes[0].figure
    names = ("mean", "standard deviation", "% near zero (≤ 0.05)")
    for j in range(n_layers):
        for ax, values, scale in zip(axes, stats_cb.layer_stats(j), (1, 1, 100), strict=True):
            ax.plot([scale * v for v in values], lw=1.2, label=labels[j])
    for ax, name in zip(axes, names, strict=True):
        ax.set_ylabel(name, fontsize=10)
        ax.tick_params(labelsize=9)
        ax.grid(alpha=0.3)
    axes[1].set_yscale("log")
    axes[2].set_ylim(-3, 103)
    axes[-1].set_xlabel("training batch", fontsize=10)
    axes[0].legend(fontsize=8, ncol=min(3, n_layers), loc="lower left", bbox_to_anchor=(0, 1.02),
                   frameon=False)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig
