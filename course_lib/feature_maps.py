"""Looking inside a trained CNN: what a layer outputs, its feature maps and its first-layer kernels.

Taught in: chapters/05_batch_normalization
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ._validate import check_int, check_tensor


@torch.no_grad()
def capture_output(model: nn.Module, layer: str, x: torch.Tensor, *, bs: int = 1000) -> torch.Tensor:
    """Run ``model`` on ``x`` in eval mode and return what its submodule named ``layer`` output.

    The images go through in batches of ``bs`` without gradients, so only the
    captured outputs are kept in memory. The model's own mode is restored
    afterwards.

    Taught in: chapters/05_batch_normalization
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    names = [n for n, _ in model.named_modules() if n]
    if layer not in names:
        raise ValueError(f"layer must name a submodule of the model, got {layer!r}; names: {names}")
    check_int("bs", bs, minimum=1)
    store: list[torch.Tensor] = []
    handle = model.get_submodule(layer).register_forward_hook(lambda m, i, o: store.append(o.detach().contiguous()))
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            for i in range(0, len(x), bs):
                model(x[i:i + bs])
    finally:
        handle.remove()
        model.train(was_training)
    return torch.cat(store) if len(store) > 1 else store[0]


def _grid(n: int, ncols: int):
    import matplotlib.pyplot as plt

    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.5 * ncols, 1.6 * nrows), dpi=90, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    return fig, axes.flat


def plot_feature_maps(maps: torch.Tensor, *, ncols: int = 8, title: str = ""):
    """Show each channel of one image's feature maps (C, H, W) as a small grey image, brighter = larger.

    Taught in: chapters/05_batch_normalization
    """
    check_tensor("maps", maps, 3, "(C, H, W)")
    check_int("ncols", ncols, minimum=1)
    fig, axes = _grid(len(maps), ncols)
    for i, (ax, m) in enumerate(zip(axes, maps, strict=False)):
        ax.imshow(m.numpy(), cmap="gray")
        ax.set_title(f"ch {i}", fontsize=9)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def plot_kernels(weight: torch.Tensor, *, ncols: int = 8, title: str = ""):
    """Show the kernels of a convolution's weight (out, in, kH, kW), one per output channel, for input channel 0.

    The colour scale is symmetric around zero (red positive, blue negative),
    so a kernel's sign pattern reads like the hand-made edge detectors of
    chapter 1.

    Taught in: chapters/05_batch_normalization
    """
    check_tensor("weight", weight, 4, "(out, in, kH, kW)")
    check_int("ncols", ncols, minimum=1)
    w = weight.detach()[:, 0]
    fig, axes = _grid(len(w), ncols)
    for i, (ax, k) in enumerate(zip(axes, w, strict=False)):
        v = float(k.abs().max()) or 1.0
        ax.imshow(k.numpy(), cmap="RdBu_r", vmin=-v, vmax=v)
        ax.set_title(f"k {i}", fontsize=9)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig
