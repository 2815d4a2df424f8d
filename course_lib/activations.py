"""Looking inside a trained CNN: activation histograms over training (the "colorful dimension"),
feature maps and first-layer kernels.

Taught in: chapters/05_batch_normalization
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ._validate import check_int, check_number, check_tensor, finite


def _check_range(bins: int, lo: float, hi: float) -> None:
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise ValueError(f"bins must be a positive int, got {bins!r}")
    for name, v in (("lo", lo), ("hi", hi)):
        check_number(name, v, "a finite number", finite)
    if not lo < hi:
        raise ValueError(f"lo must be smaller than hi, got lo={lo!r}, hi={hi!r}")


class HistogramRecorder:
    """Record a histogram of one layer's outputs for every training batch, through a forward hook.

    The hook works on any module, with or without parameters (a ``ReLU``,
    say), and records only while the module is in training mode, so
    validation batches do not mix in. Each batch adds one row of ``bins``
    counts of the values in ``[lo, hi]`` (values outside are not counted,
    as with ``torch.histc`` and fastai's ``ActivationStats(with_hist=True)``).
    Use :meth:`watch` inside a model factory, then read :attr:`hists`.

    Taught in: chapters/05_batch_normalization
    """

    def __init__(self, bins: int = 40, lo: float = 0.0, hi: float = 10.0):
        _check_range(bins, lo, hi)
        self.bins, self.lo, self.hi = bins, float(lo), float(hi)
        self.rows: list[torch.Tensor] = []
        self.handle = None

    def _hook(self, module: nn.Module, inputs, output) -> None:
        if module.training:
            self.rows.append(torch.histc(output.detach().float(), self.bins, self.lo, self.hi))

    def watch(self, model: nn.Module, layer: str) -> nn.Module:
        """Hook the submodule named ``layer`` (e.g. ``"3.1"``) of ``model`` and return ``model`` unchanged."""
        if not isinstance(model, nn.Module):
            raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        names = [n for n, _ in model.named_modules() if n]
        if layer not in names:
            raise ValueError(f"layer must name a submodule of the model, got {layer!r}; names: {names}")
        self.remove()
        self.rows = []
        self.handle = model.get_submodule(layer).register_forward_hook(self._hook)
        return model

    def remove(self) -> None:
        """Detach the hook (the recorded histograms stay)."""
        if self.handle is not None:
            self.handle.remove()
            self.handle = None

    @property
    def hists(self) -> torch.Tensor:
        """The recorded counts, shape (n_batches, bins)."""
        if not self.rows:
            raise ValueError("no histogram recorded yet: train the watched model in training mode first")
        return torch.stack(self.rows)

    def bin_edges(self) -> torch.Tensor:
        """The ``bins + 1`` edges of the histogram's bins."""
        return torch.linspace(self.lo, self.hi, self.bins + 1)


def lowest_bin_share(hists: torch.Tensor) -> torch.Tensor:
    """For each batch (row), the share of the counted values that fall in the lowest bin.

    With ``lo=0`` and a layer after a ReLU this is the share of activations
    that are (nearly) zero: units that pass nothing on for that batch.

    Taught in: chapters/05_batch_normalization
    """
    if not isinstance(hists, torch.Tensor) or hists.dim() != 2 or hists.shape[1] < 2:
        raise ValueError(f"hists must be a 2-d tensor (n_batches, bins >= 2), got "
                         f"{tuple(hists.shape) if isinstance(hists, torch.Tensor) else type(hists).__name__}")
    return hists[:, 0] / hists.sum(1).clamp_min(1)


def plot_colorful_dimension(hists: torch.Tensor, *, lo: float = 0.0, hi: float = 10.0, ax=None,
                            title: str = ""):
    """The "colorful dimension" plot: one column per batch, one row per histogram bin, colour = log(1 + count).

    Time runs left to right and activation size bottom to top, so a healthy
    layer shows a smooth band spread over many bins; a layer whose
    activations collapse to zero shows a bright bottom row, and bursts of
    growth and collapse show as vertical stripes. The log makes rare large
    values visible next to the huge count of zeros.

    Taught in: chapters/05_batch_normalization
    """
    import matplotlib.pyplot as plt

    check_tensor("hists", hists, 2, "(n_batches, bins)")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 2.6), dpi=90)
    ax.imshow(hists.t().float().log1p().numpy(), origin="lower", aspect="auto", cmap="viridis",
              extent=(0, hists.shape[0], lo, hi), interpolation="nearest")
    ax.set(xlabel="training batch", ylabel="activation value", title=title)
    return ax


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
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.2 * ncols, 1.25 * nrows), dpi=80, squeeze=False)
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
        ax.set_title(f"ch {i}", fontsize=7)
    fig.suptitle(title, fontsize=9)
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
        ax.set_title(f"k {i}", fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig
