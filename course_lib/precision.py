"""How exact the float32 gradients are: a check against a float64 copy of the model.

Taught in: chapters/06_under_the_hood
"""

from __future__ import annotations

import copy
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ._validate import check_bool


def _check_images_and_labels(x: Any, y: Any) -> None:
    if not isinstance(x, torch.Tensor) or x.dim() != 4 or not isinstance(y, torch.Tensor) or len(x) != len(y):
        raise ValueError(f"x must be a 4-d image tensor and y a label tensor of the same length, got "
                         f"{getattr(x, 'shape', type(x).__name__)} and {getattr(y, 'shape', type(y).__name__)}")



def gradient_error_vs_float64(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *,
                              channels_last: bool = False) -> dict[str, float]:
    """How far ``model``'s float32 gradients on one batch are from those of a float64 copy, per parameter.

    Both copies of ``model`` (which is left untouched) run in training mode
    on images ``x`` (N, C, H, W) and labels ``y``, and backpropagate the
    cross-entropy. For each parameter the result is
    ``max |grad - grad64| / max |grad64|``; parameters whose float64
    gradient is about zero (below 1e-6, e.g. a dead channel's BatchNorm
    bias) are left out, since a relative error means nothing there.
    ``channels_last=True`` runs the float32 copy in channels-last memory
    format.

    Taught in: chapters/06_under_the_hood
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    _check_images_and_labels(x, y)
    check_bool("channels_last", channels_last)
    work, ref = copy.deepcopy(model).float().train(), copy.deepcopy(model).double().train()
    x32 = x.float()
    if channels_last:
        work, x32 = work.to(memory_format=torch.channels_last), x32.contiguous(memory_format=torch.channels_last)
    F.cross_entropy(work(x32), y).backward()
    F.cross_entropy(ref(x.double()), y).backward()
    errors = {}
    for (name, a), (_, b) in zip(work.named_parameters(), ref.named_parameters(), strict=True):
        if a.grad is not None and b.grad is not None and float(b.grad.abs().max()) > 1e-6:
            errors[name] = float((a.grad.double() - b.grad).abs().max() / b.grad.abs().max())
    return errors
