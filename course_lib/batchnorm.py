"""Batch normalization written out by hand, to compare with ``nn.BatchNorm2d``.

Taught in: chapters/05_batch_normalization
"""

from __future__ import annotations

import torch
from torch import nn

from ._validate import check_bool, check_int, check_number, check_tensor


def _check_unit_interval(name: str, value: object) -> float:
    return check_number(name, value, ge=0, le=1)


def batch_stats(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The per-channel mean and *biased* variance of a batch of feature maps (N, C, H, W).

    Each channel's statistics pool all ``N*H*W`` values of that channel in
    the batch: every image and every position. The variance divides by
    ``N*H*W`` (not ``N*H*W - 1``), which is what batch normalization uses to
    normalize a training batch.

    Taught in: chapters/05_batch_normalization
    """
    check_tensor("x", x, 4, "(N, C, H, W)")
    if x.shape[0] * x.shape[2] * x.shape[3] == 0:
        raise ValueError(f"x must have at least one value per channel, got shape {tuple(x.shape)}")
    return x.mean(dim=(0, 2, 3)), x.var(dim=(0, 2, 3), unbiased=False)


class BatchNorm2dScratch(nn.Module):
    """Batch normalization over (N, H, W) for each channel, step for step as ``nn.BatchNorm2d`` does it.

    In training mode each channel is normalized with its batch mean and
    biased variance, ``(x - mean) / sqrt(var + eps)``, then scaled by
    ``weight`` and shifted by ``bias`` (the learnable "gamma" and "beta",
    if ``affine``). The running estimates move towards the batch statistics,
    ``running = (1 - momentum) * running + momentum * batch``, where the
    variance stored is the *unbiased* one (divided by ``n - 1``). In eval
    mode the running estimates replace the batch statistics, so one image's
    output no longer depends on the rest of its batch. Parameter and buffer
    names match ``nn.BatchNorm2d``, so state dicts can be swapped between them.

    Taught in: chapters/05_batch_normalization
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, affine: bool = True):
        super().__init__()
        check_int("num_features", num_features, minimum=1)
        check_number("eps", eps, gt=0)
        momentum = _check_unit_interval("momentum", momentum)
        check_bool("affine", affine)
        self.num_features, self.eps, self.momentum, self.affine = num_features, float(eps), momentum, affine
        if affine:
            self.weight = nn.Parameter(torch.ones(num_features))
            self.bias = nn.Parameter(torch.zeros(num_features))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor("x", x, 4, "(N, C, H, W)")
        if x.shape[1] != self.num_features:
            raise ValueError(f"x must have num_features={self.num_features} channels "
                             f"(dim 1), got shape {tuple(x.shape)}")
        if self.training:
            n = x.shape[0] * x.shape[2] * x.shape[3]
            if n < 2:
                raise ValueError("x must hold more than 1 value per channel in training mode (N*H*W > 1: "
                                 "the unbiased variance kept for the running estimate divides by "
                                 f"N*H*W - 1), got shape {tuple(x.shape)}")
            mean, var = batch_stats(x)
            with torch.no_grad():
                self.running_mean.lerp_(mean.detach(), self.momentum)
                self.running_var.lerp_(var.detach() * (n / (n - 1)), self.momentum)
                self.num_batches_tracked += 1
        else:
            mean, var = self.running_mean, self.running_var
        shape = (1, -1, 1, 1)
        out = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + self.eps)
        if self.affine:
            out = out * self.weight.view(shape) + self.bias.view(shape)
        return out


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, bs: int = 2000,
             train_mode: bool = False) -> tuple[float, float]:
    """Mean cross-entropy loss and accuracy of ``model`` on normalized images ``x`` (N, 1, H, W) and labels ``y``.

    By default the model runs in eval mode, as it should for testing.
    ``train_mode=True`` evaluates a *copy* of the model in training mode, so
    that each BatchNorm layer normalizes with the statistics of the current
    batch of ``bs`` images (the original model and its running estimates are
    left untouched): the classic mistake chapter 5 measures.

    Taught in: chapters/05_batch_normalization
    """
    import copy

    import torch.nn.functional as F

    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    check_int("bs", bs, minimum=1)
    check_bool("train_mode", train_mode)
    check_tensor("x", x, 4, "(N, C, H, W)")
    if not isinstance(y, torch.Tensor) or y.shape != (len(x),):
        raise ValueError(f"y must be a 1-d label tensor with one label per image ({len(x)}), got "
                         f"{tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__}")
    was_training = model.training
    net = copy.deepcopy(model).train() if train_mode else model.eval()
    loss, correct = 0.0, 0
    for i in range(0, len(x), bs):
        out = net(x[i:i + bs])
        loss += F.cross_entropy(out, y[i:i + bs], reduction="sum").item()
        correct += (out.argmax(1) == y[i:i + bs]).sum().item()
    model.train(was_training)
    return loss / len(x), correct / len(x)
