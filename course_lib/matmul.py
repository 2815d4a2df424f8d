"""Convolution as matrix multiplication: the explicit matrix, loops, and a fast im2col convolution.

A convolution is a linear map, so it is a matrix (:func:`conv_matrix`). The
matrix is mostly zeros, so libraries instead copy every input patch into one
row of a **patch matrix** (im2col) and do a single matrix multiply
(:func:`conv2d_matmul`). :func:`conv2d_loops` is the readable reference and
:class:`MatmulConv2d` the trainable layer.

Taught in: chapters/02_conv_as_matmul
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ._validate import check_int, check_pair
from .shapes import conv_output_size

_LOCAL = threading.local()


def _check_conv_args(x: Any, weight: Any, bias: Any, stride: Any, padding: Any):
    """Validate a convolution's arguments; return (stride pair, padding pair, output size pair)."""
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"x must be a 4-D tensor (N, C, H, W), got shape {got}")
    if not isinstance(weight, torch.Tensor) or weight.dim() != 4:
        got = tuple(weight.shape) if isinstance(weight, torch.Tensor) else type(weight).__name__
        raise ValueError(f"weight must be a 4-D tensor (out_channels, in_channels, kH, kW), got shape {got}")
    if x.shape[1] != weight.shape[1]:
        raise ValueError(
            f"x has {x.shape[1]} channels (x.shape={tuple(x.shape)}) but weight expects "
            f"{weight.shape[1]} input channels (weight.shape={tuple(weight.shape)}): "
            "x.shape[1] must equal weight.shape[1]")
    if bias is not None and (not isinstance(bias, torch.Tensor) or tuple(bias.shape) != (weight.shape[0],)):
        got = tuple(bias.shape) if isinstance(bias, torch.Tensor) else type(bias).__name__
        raise ValueError(f"bias must be None or a tensor of shape ({weight.shape[0]},) for "
                         f"weight.shape={tuple(weight.shape)}, got {got}")
    sh, sw = check_pair("stride", stride, minimum=1)
    ph, pw = check_pair("padding", padding, minimum=0)
    kh, kw = weight.shape[2:]
    if kh > x.shape[2] + 2 * ph or kw > x.shape[3] + 2 * pw:
        raise ValueError(
            f"the kernel is larger than the padded input: weight.shape={tuple(weight.shape)} has a "
            f"{kh}×{kw} kernel, but x.shape={tuple(x.shape)} with padding=({ph}, {pw}) gives a "
            f"{x.shape[2] + 2 * ph}×{x.shape[3] + 2 * pw} padded input")
    out_hw = (conv_output_size(x.shape[2], kh, sh, ph), conv_output_size(x.shape[3], kw, sw, pw))
    return (sh, sw), (ph, pw), out_hw


def conv_matrix(weight: torch.Tensor, input_size: int | tuple[int, int], stride: int = 1,
                padding: int = 0) -> torch.Tensor:
    """The dense matrix M of a convolution, so that ``M @ x.flatten()`` equals ``conv(x).flatten()``.

    ``weight`` is (out_channels, in_channels, kH, kW), or (kH, kW) for one
    channel in and out; ``input_size`` is H or (H, W). M has
    out_channels·oH·oW rows (one per output pixel) and in_channels·H·W
    columns (one per input pixel); an entry is the kernel weight that links
    the two pixels, or a structural zero where the kernel does not reach.
    Padding pixels are zeros, so their columns are simply left out. M is
    built by indexing into ``weight``, so gradients flow back to it.

    Taught in: chapters/02_conv_as_matmul
    """
    if isinstance(weight, torch.Tensor) and weight.dim() == 2:
        weight = weight[None, None]
    H, W = check_pair("input_size", input_size, minimum=1)
    if not isinstance(weight, torch.Tensor) or weight.dim() != 4:
        raise ValueError(f"weight must be a 2-D (kH, kW) or 4-D tensor, got {getattr(weight, 'shape', weight)}")
    x_meta = torch.empty(1, weight.shape[1], H, W, device="meta")
    (sh, sw), (ph, pw), (oH, oW) = _check_conv_args(x_meta, weight, None, stride, padding)
    Co, C, kh, kw = weight.shape
    o, c, i, j, oh, ow = torch.meshgrid(*(torch.arange(n) for n in (Co, C, kh, kw, oH, oW)), indexing="ij")
    h, w = oh * sh + i - ph, ow * sw + j - pw  # the input pixel each weight meets
    inside = (h >= 0) & (h < H) & (w >= 0) & (w < W)
    rows = ((o * oH + oh) * oW + ow)[inside]
    cols = ((c * H + h) * W + w)[inside]
    which = (((o * C + c) * kh + i) * kw + j)[inside]
    M = weight.new_zeros(Co * oH * oW, C * H * W)
    M[rows, cols] = weight.reshape(-1)[which]
    return M


def conv2d_loops(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0) -> torch.Tensor:
    """A convolution written as explicit loops over the output pixels: the readable reference.

    The input is padded with zeros by hand; then, for every output position,
    the patch under the kernel is multiplied by every output channel's
    kernel and summed. Agrees with ``F.conv2d`` (same arguments, no dilation
    or groups) and works with autograd, but is slow: one small product per
    output pixel.

    Taught in: chapters/02_conv_as_matmul
    """
    (sh, sw), (ph, pw), (oH, oW) = _check_conv_args(x, weight, bias, stride, padding)
    N, C, H, W = x.shape
    Co, _, kh, kw = weight.shape
    padded = x.new_zeros(N, C, H + 2 * ph, W + 2 * pw)
    padded[:, :, ph:ph + H, pw:pw + W] = x
    kernels = weight.reshape(Co, C * kh * kw)
    rows = []
    for r in range(oH):
        row = []
        for s in range(oW):
            patch = padded[:, :, r * sh:r * sh + kh, s * sw:s * sw + kw]  # (N, C, kh, kw)
            row.append(patch.reshape(N, C * kh * kw) @ kernels.T)  # (N, Co)
        rows.append(torch.stack(row, dim=-1))
    out = torch.stack(rows, dim=-2)  # (N, Co, oH, oW)
    return out if bias is None else out + bias.view(1, Co, 1, 1)


_MAX_SCRATCH_ENTRIES = 8


def _scratch(key: tuple, shape: tuple[int, ...], like: torch.Tensor, init: str) -> tuple[torch.Tensor, bool]:
    """A reusable scratch tensor for one layer geometry (one cache per thread); also: was it just made?

    A fresh multi-megabyte tensor can cost a page fault per 4 KiB page on
    its first write, unless the allocator hands back pages the process has
    already touched; a buffer kept here pays that once. Each geometry gets its
    own buffer, so parts that never change (a padding border of zeros, a
    column of ones) are written only once. Only scratch data lives here,
    never a tensor that is returned or saved for backward.
    """
    cache = _LOCAL.__dict__.setdefault("cache", OrderedDict())
    full_key = (key, shape, like.dtype, like.device)
    buf = cache.get(full_key)
    if buf is not None:
        cache.move_to_end(full_key)
        return buf, False
    while len(cache) >= _MAX_SCRATCH_ENTRIES:
        cache.popitem(last=False)
    buf = cache[full_key] = like.new_zeros(shape) if init == "zeros" else like.new_empty(shape)
    return buf, True


def release_workspace() -> None:
    """Free the scratch buffers (padded inputs, patch matrices) that :func:`conv2d_matmul` keeps per thread.

    Taught in: chapters/06_under_the_hood
    """
    _LOCAL.__dict__.pop("cache", None)


def _pad_channels_last(x: torch.Tensor, ph: int, pw: int) -> torch.Tensor:
    """x (N, C, H, W) as a zero-padded (N, H+2ph, W+2pw, C) scratch tensor: one copy.

    The border is zeroed once when the buffer is made; later calls only
    overwrite the interior, so the border stays zero.
    """
    N, C, H, W = x.shape
    out, _ = _scratch(("padded", ph, pw), (N, H + 2 * ph, W + 2 * pw, C), x, "zeros")
    out[:, ph:ph + H, pw:pw + W] = x.permute(0, 2, 3, 1)
    return out


def _patch_matrix(x: torch.Tensor, kh: int, kw: int, stride, padding, out_hw) -> torch.Tensor:
    """The patch matrix (N·oH·oW, kh·kw·C + 1): every patch in a row, then a constant 1 for the bias.

    Pad once into channels-last layout, view the patches with
    ``as_strided`` (no copy: neighbouring patches share memory), and copy
    that view into the matrix: the only copy of the patches.
    """
    (sh, sw), (ph, pw), (oH, oW) = stride, padding, out_hw
    N, C = x.shape[:2]
    K = kh * kw * C
    xp = _pad_channels_last(x, ph, pw)
    sN, sH, sW, sC = xp.stride()
    patches = xp.as_strided((N, oH, oW, kh, kw, C), (sN, sH * sh, sW * sw, sH, sW, sC))
    cols, new = _scratch(("patches", kh, kw, stride, padding), (N * oH * oW, K + 1), x, "empty")
    if new:
        cols[:, K] = 1.0
    cols[:, :K].view(N, oH, oW, kh, kw, C).copy_(patches)
    return cols


class _Im2colConv(torch.autograd.Function):
    """Forward: one mm of the patch matrix; backward: two mm's and a col2im (the transposed convolution)."""

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, out_hw):
        N, C, H, W = x.shape
        Co, _, kh, kw = weight.shape
        K = kh * kw * C
        cols = _patch_matrix(x, kh, kw, stride, padding, out_hw)
        kernels = weight.permute(0, 2, 3, 1).reshape(Co, K)  # the same (kh, kw, C) order as a patch
        if bias is None:
            out = cols[:, :K] @ kernels.T
        else:  # the bias is the weight on the constant-1 column
            out = cols @ torch.cat([kernels, bias[:, None]], dim=1).T
        ctx.save_for_backward(x, weight)  # the patch matrix is scratch: rebuilt in backward
        ctx.geometry = (stride, padding, out_hw, bias is not None)
        return out.view(N, *out_hw, Co).permute(0, 3, 1, 2)  # NCHW shape, channels-last memory

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        stride, padding, (oH, oW), has_bias = ctx.geometry
        N, C, H, W = x.shape
        Co, _, kh, kw = weight.shape
        K = kh * kw * C
        g = grad_out.permute(0, 2, 3, 1).reshape(N * oH * oW, Co)  # free if grad_out is channels-last
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[1] or (has_bias and ctx.needs_input_grad[2]):
            cols = _patch_matrix(x, kh, kw, stride, padding, (oH, oW))
            gwb = g.T @ (cols if has_bias else cols[:, :K])  # (Co, K [+ 1]): weights, then the bias
            grad_w = gwb[:, :K].reshape(Co, kh, kw, C).permute(0, 3, 1, 2).contiguous()
            grad_b = gwb[:, K].contiguous() if has_bias else None
        if ctx.needs_input_grad[0]:  # multiply by M^T: gradient of each patch, then add patches back
            grad_patches = torch.matmul(weight.reshape(Co, C * kh * kw).T, g.view(N, oH * oW, Co).transpose(1, 2))
            grad_x = F.fold(grad_patches, (H, W), (kh, kw), padding=padding, stride=stride)  # col2im
        return grad_x, grad_w, grad_b, None, None, None


def conv2d_matmul(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
                  stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0) -> torch.Tensor:
    """A convolution as ONE matrix multiply of the patch matrix (im2col) by the flattened kernels.

    The input is padded once into channels-last layout (N, H, W, C); an
    ``as_strided`` view then sees every kernel-sized patch without copying,
    and one copy turns it into the patch matrix of shape (N·oH·oW, kH·kW·C).
    Multiplying it by the (kH·kW·C, out_channels) kernel matrix gives the
    output as (N·oH·oW, out_channels), returned as an (N, out_channels, oH,
    oW) tensor in channels-last memory, with no further copy. Equals
    ``F.conv2d`` with the same arguments; gradients come from a hand-written
    backward (two more matrix multiplies and a col2im).

    Taught in: chapters/02_conv_as_matmul
    """
    stride_hw, padding_hw, out_hw = _check_conv_args(x, weight, bias, stride, padding)
    return _Im2colConv.apply(x, weight, bias, stride_hw, padding_hw, out_hw)


def im2col_bytes(input_shape: tuple[int, int, int, int], kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                 bytes_per_element: int = 4) -> int:
    """Bytes of the patch matrix (N·oH·oW rows, C·kH·kW columns) that im2col builds for an input.

    With stride 1 and "same" padding there are as many rows as input pixels,
    so the patch matrix is about kH·kW times as large as the input.

    Taught in: chapters/02_conv_as_matmul
    """
    if len(input_shape) != 4:
        raise ValueError(f"input_shape must be (N, C, H, W), got {input_shape!r}")
    N, C, H, W = (check_int(f"input_shape[{k}]", v, minimum=1) for k, v in enumerate(input_shape))
    kh, kw = check_pair("kernel_size", kernel_size, minimum=1)
    sh, sw = check_pair("stride", stride, minimum=1)
    ph, pw = check_pair("padding", padding, minimum=0)
    check_int("bytes_per_element", bytes_per_element, minimum=1)
    oH, oW = conv_output_size(H, kh, sh, ph), conv_output_size(W, kw, sw, pw)
    return N * oH * oW * C * kh * kw * bytes_per_element


class MatmulConv2d(nn.Conv2d):
    """A drop-in ``nn.Conv2d`` whose forward pass is :func:`conv2d_matmul`.

    Same constructor arguments, parameters, initialisation and ``repr`` as
    ``nn.Conv2d`` (it is a subclass); only ``dilation=1``, ``groups=1``,
    numeric padding and ``padding_mode="zeros"`` are supported, and anything
    else raises a ``ValueError``. :meth:`from_conv2d` copies an existing
    layer's weights.

    Taught in: chapters/02_conv_as_matmul
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None):
        if isinstance(padding, str):
            raise ValueError(f"padding must be an int or a pair of ints, got {padding!r}")
        if check_pair("dilation", dilation, minimum=1) != (1, 1):
            raise ValueError(f"dilation must be 1 for MatmulConv2d, got {dilation!r}")
        if check_int("groups", groups, minimum=1) != 1:
            raise ValueError(f"groups must be 1 for MatmulConv2d, got {groups}")
        if padding_mode != "zeros":
            raise ValueError(f"padding_mode must be 'zeros' for MatmulConv2d, got {padding_mode!r}")
        check_pair("stride", stride, minimum=1)
        check_pair("padding", padding, minimum=0)
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return conv2d_matmul(x, self.weight, self.bias, self.stride, self.padding)

    @classmethod
    def from_conv2d(cls, conv: nn.Conv2d) -> MatmulConv2d:
        """A MatmulConv2d with the same settings as ``conv`` and a copy of its weights."""
        if not isinstance(conv, nn.Conv2d):
            raise ValueError(f"conv must be an nn.Conv2d, got {type(conv).__name__}")
        new = cls(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                  conv.dilation, conv.groups, conv.bias is not None, conv.padding_mode,
                  device=conv.weight.device, dtype=conv.weight.dtype)
        with torch.no_grad():
            new.weight.copy_(conv.weight)
            if conv.bias is not None:
                new.bias.copy_(conv.bias)
        return new


def use_matmul_convs(model: nn.Module) -> nn.Module:
    """Replace, in place, every ``nn.Conv2d`` inside ``model`` by a :class:`MatmulConv2d` with the same weights.

    Returns ``model`` for chaining, e.g. ``use_matmul_convs(simple_cnn())``.

    Taught in: chapters/02_conv_as_matmul
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be an nn.Module, got {type(model).__name__}")
    for name, child in model.named_children():
        if isinstance(child, nn.Conv2d) and not isinstance(child, MatmulConv2d):
            setattr(model, name, MatmulConv2d.from_conv2d(child))
        else:
            use_matmul_convs(child)
    return model


__all__ = ["MatmulConv2d", "conv2d_loops", "conv2d_matmul", "conv_matrix", "im2col_bytes",
           "release_workspace", "use_matmul_convs"]
