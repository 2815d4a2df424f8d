"""Checks for chapter 5, "Batch normalization and activation statistics"."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from .core import Feedback, as_int, as_number, expect_callable, expect_close, expect_int, register


@register("ex-ch5-bn-params")
def _bn_params(answer: Any) -> str:
    from ..models import simple_cnn

    expected = sum(p.numel() for m in simple_cnn(bn=True).modules() if isinstance(m, torch.nn.BatchNorm2d)
                   for p in m.parameters())
    value = as_int(answer)
    if value is None:
        raise Feedback(f"Give a whole number (an int), got {answer!r:.40} of type {type(answer).__name__}.")
    if value == expected // 2:
        raise Feedback("That counts one parameter per channel; each channel has two, a scale (weight) and a "
                       "shift (bias).")
    if value == 2 * expected:
        raise Feedback("That also counts running_mean and running_var: they are buffers, updated by the "
                       "forward pass, not parameters that the optimizer trains.")
    expect_int(value, expected, "Your count", "Add 2 per channel over the five BatchNorm layers "
               "(8, 16, 32, 64 and 10 channels).")
    return f"2 × (8 + 16 + 32 + 64 + 10) = {expected}: a weight and a bias per channel."


def _running_var_case() -> tuple[torch.Tensor, float]:
    x = torch.arange(8.0).view(2, 1, 2, 2)
    n = x.numel()
    biased = float(x.var(unbiased=False))
    return x, 0.9 * 1.0 + 0.1 * biased * n / (n - 1)


@register("ex-ch5-running-var")
def _running_var(answer: Any) -> str:
    x, expected = _running_var_case()
    biased_answer = 0.9 + 0.1 * float(x.var(unbiased=False))
    value = as_number(answer, "Your answer")
    if abs(value - biased_answer) < 1e-4:
        raise Feedback("You used the biased variance (divided by n = 8). The running estimate stores the "
                       "unbiased one, divided by n - 1 = 7.")
    if abs(value - 6.0) < 1e-4 or abs(value - 5.25) < 1e-4:
        raise Feedback("That is the batch's variance itself. The running estimate only moves 10% of the way "
                       "(momentum 0.1) from its old value 1.")
    expect_close(value, expected, "Your running_var", rel=1e-4,
                 hint="new = (1 - momentum) * old + momentum * unbiased batch variance.")
    return "0.9 × 1 + 0.1 × 6 = 1.5: the unbiased variance of 0..7 is 6 (the biased one is 5.25)."


@register("ex-ch5-layer-norm")
def _layer_norm(fn: Any) -> str:
    expect_callable(fn)
    g = torch.Generator().manual_seed(5)
    x = torch.randn(6, 3, 4, 5, generator=g) * torch.tensor([1.0, 3.0, 0.5]).view(1, 3, 1, 1) + 2
    x = x * torch.linspace(0.5, 2.0, 6).view(6, 1, 1, 1)  # images of different scales
    out = fn(x.clone(), 1e-5)
    if not isinstance(out, torch.Tensor) or out.shape != x.shape:
        raise Feedback(f"Return a tensor of the input's shape {tuple(x.shape)}, got "
                       f"{tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__}.")

    def normalized(dims, unbiased=False):
        var = x.var(dims, keepdim=True, unbiased=unbiased)
        return (x - x.mean(dims, keepdim=True)) / (var + 1e-5).sqrt()

    expected = F.layer_norm(x, x.shape[1:], eps=1e-5)
    if torch.allclose(out, expected, atol=1e-4):
        return ("same as F.layer_norm over (C, H, W): each image is normalized on its own, so its "
                "output does not depend on the other images of the batch.")
    if torch.allclose(out, normalized((0, 2, 3)), atol=1e-4):
        raise Feedback("That is batch norm: it pools each channel over the batch. Layer norm pools "
                       "each image over its own channels, height and width, dims (1, 2, 3).")
    if torch.allclose(out, normalized((2, 3)), atol=1e-4):
        raise Feedback("You normalized each channel of each image separately (that is instance norm). "
                       "Layer norm pools all of an image's channels together: dims (1, 2, 3).")
    if torch.allclose(out, normalized((1, 2, 3), unbiased=True), atol=1e-4):
        raise Feedback("Close: use the biased variance (unbiased=False), as F.layer_norm does.")
    if not torch.allclose(out.mean((1, 2, 3)), torch.zeros(6), atol=1e-3):
        raise Feedback("Each image of your output should have mean 0 over (C, H, W); subtract each "
                       "image's mean taken over dims (1, 2, 3).")
    raise Feedback("Each image should have variance 1 after dividing by sqrt(var + eps), with var the "
                   "image's biased variance over dims (1, 2, 3).")


@register("ex-ch5-fold-bn")
def _fold_bn(fn: Any) -> str:
    expect_callable(fn)
    torch.manual_seed(7)
    conv = torch.nn.Conv2d(2, 4, 3, padding=1)
    bn = torch.nn.BatchNorm2d(4)
    with torch.no_grad():
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.5, 0.5)
    bn.eval()
    x = torch.randn(3, 2, 6, 6)
    with torch.no_grad():
        expected = bn(conv(x))
        res = fn(conv, bn)
        if isinstance(res, list):
            res = tuple(res)
        if not isinstance(res, tuple) or len(res) != 2:
            raise Feedback("Return a pair (weight, bias) for the fused convolution.")
        w, b = res
        if tuple(w.shape) != tuple(conv.weight.shape) or tuple(b.shape) != (4,):
            raise Feedback(f"The fused weight should have shape {tuple(conv.weight.shape)} and the bias (4,), "
                           f"got {tuple(w.shape)} and {tuple(b.shape)}.")
        out = F.conv2d(x, w, b, padding=1)
    if torch.allclose(out, expected, atol=1e-4):
        return "one convolution now does the work of conv + BatchNorm at inference time."
    scale = bn.weight / (bn.running_var + bn.eps).sqrt()
    if torch.allclose(w, conv.weight * scale.view(-1, 1, 1, 1), atol=1e-5):
        raise Feedback("Your weight is right; the bias should be (conv.bias - running_mean) * scale + bn.bias.")
    raise Feedback("Scale each output channel's kernel by weight / sqrt(running_var + eps), the factor "
                   "BatchNorm multiplies that channel by in eval mode.")


@register("ex-ch5-noise-factor")
def _noise_factor(answer: Any) -> str:
    value = as_number(answer, "Your answer")
    if abs(value - 25.0) < 1e-6:
        raise Feedback("25 is the factor for the variance. The standard deviation shrinks by its square root.")
    if abs(value - 0.2) < 1e-6:
        raise Feedback("Give the factor by which it shrinks (old / new), which is larger than 1.")
    expect_close(value, 5.0, "Your factor", rel=1e-3, hint="The standard error of a mean of n values is "
                 "sigma / sqrt(n); compare n = 8 and n = 200.")
    return "sqrt(200 / 8) = 5: twenty-five times the batch, a fifth of the noise."
