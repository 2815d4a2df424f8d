"""Checks for chapter 5, "Batch normalization and activation statistics"."""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Iterator
from typing import Any

import torch
import torch.nn.functional as F

from .core import (
    Feedback,
    as_int,
    expect_callable,
    expect_int,
    forbidden,
    refuse_operators,
    register,
    reject_known_mistakes,
)


@register("ex-ch5-bn-params")
def _bn_params(answer: Any) -> str:
    from ..models import simple_cnn

    def n_params(model: torch.nn.Module) -> int:
        return sum(p.numel() for p in model.parameters())

    expected = sum(p.numel() for m in simple_cnn(bn=True).modules() if isinstance(m, torch.nn.BatchNorm2d)
                   for p in m.parameters())
    if isinstance(answer, float) and answer.is_integer():
        answer = int(answer)  # as in ex-ch5-noise-factor: a whole number given as a float counts
    value = as_int(answer)
    if value is None:
        raise Feedback(f"Give a whole number (an int), got {answer!r:.40} of type {type(answer).__name__}.")
    reject_known_mistakes(value, {
        expected // 2: "That counts one parameter per channel; each channel has two, a scale (weight) and a "
                       "shift (bias).",
        2 * expected: "That also counts running_mean and running_var: they are buffers, updated by the "
                      "forward pass, not parameters that the optimizer trains.",
        10: "10 is the number of parameter tensors (a weight and a bias in each of the five "
            "BatchNorm layers); count the numbers inside them.",
        n_params(simple_cnn(bn=True)) - n_params(simple_cnn()): "That is the difference between the totals of "
            "simple_cnn(bn=True) and simple_cnn(), but the two models differ in more than their BatchNorm "
            "layers: count the parameters of the BatchNorm layers alone.",
    })
    expect_int(value, expected, "Your count", "Reread 'Batch normalization from scratch' for what a "
               "BatchNorm layer learns per channel, then print simple_cnn(bn=True) to see its layers.")
    return f"2 × (8 + 16 + 32 + 64 + 10) = {expected}: a weight and a bias per channel."


def _steps_above(limit: float, variance: float, momentum: float = 0.1, start: float = 1.0) -> int:
    """Training steps, from a running variance of ``start``, until it first exceeds ``limit``."""
    running, steps = start, 0
    while running <= limit:
        running, steps = (1 - momentum) * running + momentum * variance, steps + 1
    return steps


def running_var_cases() -> list[tuple[torch.Tensor, float, float]]:
    """The (x, limit, momentum) settings that ex-ch5-running-var runs the student's function on.

    The first is the exercise's own; every limit lies above 1 and below the batch's *biased*
    variance, so a function that moves towards the biased one stops too (with another count), and
    no step lands within 1e-3 of its limit, so float32 and float64 arithmetic count alike.
    """
    return [
        (torch.arange(8.0).view(2, 1, 2, 2), 5.0, 0.1),
        (torch.arange(12.0).view(3, 1, 2, 2) * 0.5, 2.5, 0.2),
        (torch.tensor([0.0, 2.0, 4.0, 10.0]).view(4, 1, 1, 1), 12.0, 0.3),
        (torch.linspace(-3, 3, 9).view(1, 1, 3, 3), 3.0, 0.05),
        (torch.tensor([1.0, 5.0, 2.0, 8.0, 3.0, 9.0]).view(2, 1, 1, 3), 7.0, 0.1),
    ]


@register("ex-ch5-running-var")
def _running_var(fn: Any) -> str:
    expect_callable(fn)
    cases = running_var_cases()
    got = []
    with _no_normalization_layers("count the steps from the update formula (a batch norm layer stepped "
                                  "in a loop would count them for you)."), \
            forbidden(("torch.nn.functional.batch_norm", "torch.batch_norm", "torch.native_batch_norm",
                       "course_lib.batchnorm.BatchNorm2dScratch.forward"),
                      "count the steps from the update formula (a batch norm layer stepped in a loop would "
                      "count them for you)."):
        for x, limit, momentum in cases:
            answer = fn(x.clone(), limit, momentum)
            if isinstance(answer, float) and answer.is_integer():
                raise Feedback(f"Your function returned the float {answer!r}; a number of steps is a whole "
                               "number (an int): use int(...) or count with an int.")
            value = as_int(answer)
            if value is None:
                raise Feedback("Return a whole number of steps (an int), got "
                               f"{type(answer).__name__} {answer!r:.40}.")
            got.append(value)

    def counts(which: str = "unbiased", start: float = 1.0, swap: bool = False) -> list[int]:
        return [_steps_above(limit, float(x.var(unbiased=which == "unbiased")),
                             1 - momentum if swap else momentum, start) for x, limit, momentum in cases]

    expected = counts()
    if got == expected:
        return (f"{expected[0]} steps for the question's batch: the estimate after k steps is "
                "v - (v - 1)(1 - momentum)^k, which tends to the unbiased variance v of the batch (6 "
                "there, not the biased 5.25).")

    def setting(i: int) -> str:
        x, limit, momentum = cases[i]
        return f"x of shape {tuple(x.shape)}, limit {limit:g}, momentum {momentum:g}"

    if got == counts("biased"):
        raise Feedback("Your counts are those of a running variance that moves towards the biased variance "
                       "(divided by n). The running estimate stores the unbiased one, divided by n - 1.")
    if got == counts(swap=True):
        raise Feedback("Your running variance moves most of the way in a single step: in PyTorch's update "
                       "the momentum is the weight of the new batch's value, and 1 - momentum that of the "
                       "old estimate.")
    if got == counts(start=0.0):
        raise Feedback("A fresh BatchNorm layer's running variance starts at 1 (and its running mean at 0).")
    if all(g - e == got[0] - expected[0] != 0 for g, e in zip(got, expected, strict=True)):
        raise Feedback("Follow the running variance step by step for one of the settings: after the number "
                       "of steps your function returns, is it above the limit yet, and was it still at or "
                       "below the limit the step before? Look at where your count starts and when it stops "
                       "(or which way you rounded).")
    wrong = next(i for i, (g, e) in enumerate(zip(got, expected, strict=True)) if g != e)
    if wrong > 0:
        raise Feedback(f"Right for the question's batch, but not for {setting(wrong)}: use the arguments "
                       "x, limit and momentum rather than the question's values.")
    raise Feedback(f"Not right for {setting(0)}. Reread how the running estimates move (momentum) and "
                   "which variance they store, then follow the value step by step.")


# A normalization layer's own operator or Python implementation: batch_norm, native_layer_norm,
# _native_batch_norm_legit, native_group_norm, instance_norm, rms_norm, ... Vector norms (torch.norm,
# linalg_vector_norm) are not matched: a square root of a sum of squares is a fair building block.
_NORM_LAYER_OP = re.compile(r"(batch|layer|group|instance|rms)_?norm", re.IGNORECASE)
_TORCH_DIR = os.path.dirname(torch.__file__) + os.sep


@contextlib.contextmanager
def _no_normalization_layers(why: str) -> Iterator[None]:
    """Inside the block, reaching any of PyTorch's normalization layers raises :class:`Feedback`.

    Checked at the ATen level (:func:`core.refuse_operators`), so every way in is refused however it
    is spelled: ``F.layer_norm``, ``torch.ops.aten.group_norm``, ``torch._VF.layer_norm``,
    ``aten.native_batch_norm`` on a reshaped tensor, ``nn.LayerNorm``, ... all arrive as an operator
    named like ``native_layer_norm``. PyTorch's Python reference versions (``torch._refs``,
    ``torch._decomp``) reach the dispatcher only as means and variances, so each operator also looks
    up the Python stack for a function of PyTorch's own source with such a name, and for a module
    that keeps running statistics (a batch norm layer, such as the chapter's ``MyBatchNorm2d``).
    Some operators never reach the dispatcher by name: ``rms_norm`` (``torch.rms_norm``,
    ``torch.ops.aten.rms_norm``, ``torch._fused_rms_norm``) decomposes in C++ into pow, mean and rsqrt
    on the CPU, and RMS norm of a centred image is its layer norm. A ``TorchFunctionMode`` sees every
    ``torch.*`` function, ``torch.ops`` operator and tensor method by name before that, so it refuses
    the same names there too.
    """
    from torch.overrides import TorchFunctionMode

    outer = sys._getframe(2)  # the caller of the ``with``: frames from there on are not the student's

    def judge(func) -> str | None:
        name = func.name()
        if _NORM_LAYER_OP.search(name):
            return f"PyTorch's operator {name}"
        frame = sys._getframe(1)
        while frame is not None and frame is not outer:
            code = frame.f_code
            if code.co_filename.startswith(_TORCH_DIR) and _NORM_LAYER_OP.search(code.co_name):
                return f"PyTorch's {code.co_name} (in {code.co_filename[len(_TORCH_DIR):]})"
            owner = frame.f_locals.get("self") if code.co_name == "forward" else None
            if isinstance(owner, torch.nn.Module) and hasattr(owner, "running_var"):
                return f"{type(owner).__name__}.forward, a batch norm layer"
            frame = frame.f_back
        return None

    class _RefuseByName(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            name = getattr(func, "__name__", "")
            if isinstance(name, str) and _NORM_LAYER_OP.search(name):
                raise Feedback(f"Your function reached PyTorch's {name}, which this exercise rules out: {why}")
            return func(*args, **(kwargs or {}))

    with refuse_operators(judge, why), _RefuseByName():
        yield


@register("ex-ch5-layer-norm")
def _layer_norm(fn: Any) -> str:
    expect_callable(fn)
    g = torch.Generator().manual_seed(5)
    x = torch.randn(6, 3, 4, 5, generator=g) * torch.tensor([1.0, 3.0, 0.5]).view(1, 3, 1, 1) + 2
    x = x * torch.linspace(0.5, 2.0, 6).view(6, 1, 1, 1)  # images of different scales
    refs = {eps: F.layer_norm(x, x.shape[1:], eps=eps) for eps in (1e-5, 0.5)}
    outs = {}
    # The ATen-level guard goes on first (it imports torch._dynamo, which walks torch.ops). forbidden()
    # adds messages that name the Python-level functions; it must not patch torch.ops.aten, where the
    # dispatcher looks up the operator it hands to the guard.
    with _no_normalization_layers("write the normalization yourself, with mean and var (PyTorch's "
                                  "normalization layers are what the check compares with, and one applied "
                                  "to a reshaped tensor is not a layer norm of your own)."), \
            forbidden(("torch.nn.functional.layer_norm", "torch.layer_norm", "torch.native_layer_norm",
                       "torch.nn.functional.rms_norm", "torch.rms_norm", "torch._fused_rms_norm",
                       "torch.nn.functional.group_norm", "torch.group_norm", "torch.native_group_norm",
                       "torch.nn.functional.batch_norm", "torch.batch_norm", "torch.native_batch_norm",
                       "torch.nn.functional.instance_norm", "torch.instance_norm",
                       "course_lib.batchnorm.BatchNorm2dScratch.forward"),
                      "write the normalization yourself, with mean and var (PyTorch's normalization "
                      "functions are what the check compares with, and a batch norm layer fed a transposed "
                      "tensor is not a layer norm of your own)."):
        for eps in refs:
            outs[eps] = fn(x.clone(), eps)
    out = outs[1e-5]
    if not isinstance(out, torch.Tensor) or out.shape != x.shape:
        raise Feedback(f"Return a tensor of the input's shape {tuple(x.shape)}, got "
                       f"{tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__}.")

    def normalized(dims, unbiased=False):
        var = x.var(dims, keepdim=True, unbiased=unbiased)
        return (x - x.mean(dims, keepdim=True)) / (var + 1e-5).sqrt()

    if torch.allclose(out, refs[1e-5], atol=1e-4):
        other = outs[0.5]
        if not (isinstance(other, torch.Tensor) and other.shape == x.shape
                and torch.allclose(other, refs[0.5], atol=1e-4)):
            if isinstance(other, torch.Tensor) and other.shape == x.shape:
                std = x.std((1, 2, 3), keepdim=True, unbiased=False)
                if torch.allclose(other, (x - x.mean((1, 2, 3), keepdim=True)) / (std + 0.5), atol=1e-4):
                    raise Feedback("Close: eps goes inside the square root, added to the variance: "
                                   "divide by sqrt(var + eps), not by std + eps.")
            raise Feedback("Right for eps = 1e-5, but not for eps = 0.5: use the eps argument.")
        return ("each image is normalized on its own over (C, H, W), dims (1, 2, 3), so its output "
                "does not depend on the other images of the batch.")
    if torch.allclose(out, normalized((0, 2, 3)), atol=1e-4):
        raise Feedback("That is batch norm: it pools each channel over the batch. Layer norm pools "
                       "each image over its own channels, height and width.")
    if torch.allclose(out, normalized((2, 3)), atol=1e-4):
        raise Feedback("You normalized each channel of each image separately (that is instance norm). "
                       "Layer norm pools all of an image's channels together.")
    if torch.allclose(out, normalized((1, 2, 3), unbiased=True), atol=1e-4):
        raise Feedback("Close: use the biased variance (unbiased=False), as BatchNorm does too.")
    if not torch.allclose(out.mean((1, 2, 3)), torch.zeros(6), atol=1e-3):
        raise Feedback("Each image of your output should have mean 0 over all of its values.")
    raise Feedback("Each image of your output should have variance 1 over all of its values: divide by "
                   "sqrt(var + eps), with var its biased variance.")


def _fold_case(bias: bool, eps: float, seed: int):
    """A conv and an eval-mode BatchNorm with non-trivial statistics, and an input batch."""
    g = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():  # nn.Conv2d's init uses the global generator: keep the student's
        torch.manual_seed(seed)
        conv = torch.nn.Conv2d(2, 4, 3, padding=1, bias=bias)
    bn = torch.nn.BatchNorm2d(4, eps=eps)
    with torch.no_grad():
        bn.running_mean.copy_(torch.rand(4, generator=g) * 2 - 1)
        bn.running_var.copy_(torch.rand(4, generator=g) * 1.5 + 0.5)
        bn.weight.copy_(torch.rand(4, generator=g) + 0.5)
        bn.bias.copy_(torch.rand(4, generator=g) - 0.5)
    bn.eval()
    return conv, bn, torch.randn(3, 2, 6, 6, generator=g)


@register("ex-ch5-fold-bn")
def _fold_bn(fn: Any) -> str:
    expect_callable(fn)
    for bias, eps, seed in [(True, 1e-5, 7), (False, 1e-3, 8)]:
        conv, bn, x = _fold_case(bias, eps, seed)
        with torch.no_grad():
            expected = bn(conv(x))
            with forbidden(("torch.nn.utils.fusion.fuse_conv_bn_weights",
                            "torch.nn.utils.fusion.fuse_conv_bn_eval",
                            "torch.nn.utils.fusion.fuse_linear_bn_weights",
                            "torch.nn.utils.fusion.fuse_linear_bn_eval"),
                           "compute the fused weight and bias yourself from the layers' tensors "
                           "(PyTorch's fusion helpers do the whole exercise)."):
                res = fn(conv, bn)
            if isinstance(res, list):
                res = tuple(res)
            if not isinstance(res, tuple) or len(res) != 2:
                raise Feedback("Return a pair (weight, bias) for the fused convolution.")
            w, b = res
            if not isinstance(w, torch.Tensor) or not isinstance(b, torch.Tensor):
                raise Feedback("Return the weight and the bias as tensors (the fused convolution needs "
                               "a bias even when the original one has none).")
            if tuple(w.shape) != tuple(conv.weight.shape) or tuple(b.shape) != (4,):
                raise Feedback(f"The fused weight should have shape {tuple(conv.weight.shape)} and the bias "
                               f"(4,), got {tuple(w.shape)} and {tuple(b.shape)}.")
            out = F.conv2d(x, w, b, padding=1)
        if torch.allclose(out, expected, atol=1e-4):
            continue
        setting = (f"a conv {'with' if bias else 'without'} a bias and a BatchNorm with eps = {eps:g}")
        scale = bn.weight / (bn.running_var + bn.eps).sqrt()
        if torch.allclose(w, conv.weight * scale.view(-1, 1, 1, 1), atol=1e-5):
            raise Feedback(f"For {setting}, your weight is right but the bias is not. Write out what eval-mode "
                           "BatchNorm does to one channel of the conv's output: which constant is left?")
        raise Feedback(f"For {setting}, the fused convolution differs from bn(conv(x)). In eval mode BatchNorm "
                       "multiplies each channel by a fixed factor and adds a fixed shift; take both from the "
                       "layer (its running statistics, weight, bias and eps).")
    return ("one convolution now does the work of conv + BatchNorm at inference time, with or without "
            "a conv bias.")


@register("ex-ch5-noise-factor")
def _noise_factor(answer: Any) -> str:
    expected = 32 * 14 * 14 // (2 * 2)  # images of 2x2 that give block 1's m = 32 * 14 * 14 = 6,272 values
    if isinstance(answer, float) and answer.is_integer():
        answer = int(answer)  # as in ex-ch5-bn-params: a whole number given as a float counts
    value = as_int(answer)
    if value is None:
        raise Feedback(f"Give a batch size, a whole number (an int), got {type(answer).__name__} {answer!r:.40}.")
    reject_known_mistakes(value, {
        32: "The same batch gives block 4's BatchNorm far fewer values per channel: each image adds "
            "only its 2×2 positions, against 14×14 in block 1.",
        32 * 7: "That makes the batch sqrt(49) = 7 times larger, which cuts the noise only by sqrt(7): the "
                "noise is sigma/sqrt(m), so equal noise needs equal m, the number of values a channel's mean "
                "is taken over.",
        32 * 14 * 14: "That is m, the number of values block 1's channel mean pools at batch size 32. The "
                      "question asks for a batch size: how many images give block 4 that many values?",
    })
    if value < 32:
        raise Feedback("Block 4 gets fewer values per image than block 1, so it needs a larger batch, not a "
                       "smaller one.")
    expect_int(value, expected, "Your batch size", "Reread 'Batch normalization from scratch' for how many "
               "values m a channel's statistics pool, and 'Batch statistics are noise' for how the noise "
               "depends on m.")
    return ("32 × 14·14 / (2·2) = 1568: equal noise needs the same m = N·H·W, and a 2×2 map gives 49 times "
            "fewer values per image than a 14×14 one.")
