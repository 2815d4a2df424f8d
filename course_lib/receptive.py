"""Receptive fields of plain stacks of convolutions and pools, computed and measured.

The arithmetic follows Araujo, Norris & Sim, "Computing Receptive Fields of
Convolutional Neural Networks" (Distill, 2019), going from the input to the
output one layer at a time. A layer with kernel size ``k``, stride ``s``,
padding ``p`` and dilation ``d`` spans ``k' = d*(k-1)+1`` input units and

* the receptive field size grows as ``r_l = r_{l-1} + (k'-1) * S_{l-1}``,
* the effective stride (the jump) multiplies: ``S_l = S_{l-1} * s``,
* the effective padding adds up: ``P_l = P_{l-1} + p * S_{l-1}``,

starting from ``r_0 = S_0 = 1`` and ``P_0 = 0``. Unit ``u`` of layer ``l``
then sees input pixels ``u*S_l - P_l`` to ``u*S_l - P_l + r_l - 1``.

Taught in: chapters/03_dense_to_cnn
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ._table import Table
from ._validate import check_int, check_pair
from .layers import (
    KEEP,
    LayerSpec,
    Pair,
    layer_spec,
    output_size_along,
    receptive_step,
    sequential_layers,
    squeeze_pair,
)


def _input_hw(input_size, name: str = "input_size") -> Pair:
    if isinstance(input_size, (tuple, list)) and len(input_size) == 3:
        check_int(f"{name}[0]", input_size[0], minimum=1)
        return check_pair(name, tuple(input_size[1:]), minimum=1)
    if isinstance(input_size, (tuple, list)) and len(input_size) != 2:
        raise ValueError(f"{name} must be an int, (height, width) or (channels, height, width), "
                         f"got {input_size!r}")
    return check_pair(name, input_size, minimum=1)


@dataclass(frozen=True)
class RFRow:
    """One layer's receptive field: size ``r``, effective stride ``S`` and effective padding ``P``.

    Each value is an int when height and width agree, else a (height, width)
    pair. ``output_size`` is the layer's output height and width, or None
    when no input size was given.

    Taught in: chapters/03_dense_to_cnn
    """

    name: str
    layer: str
    size: int | Pair
    stride: int | Pair
    padding: int | Pair
    output_size: int | Pair | None = None

    def region(self, unit: Pair) -> tuple[Pair, Pair]:
        """First and last input pixel (row, col) that unit ``(i, j)`` sees, before clipping to the image."""
        size, stride, pad = (v if isinstance(v, tuple) else (v, v) for v in (self.size, self.stride, self.padding))
        first = tuple(u * s - p for u, s, p in zip(unit, stride, pad, strict=True))
        return first, tuple(f + r - 1 for f, r in zip(first, size, strict=True))


class RFTable(Table):
    """The rows returned by :func:`receptive_field`, shown as a table.

    Taught in: chapters/03_dense_to_cnn
    """

    title = "receptive field: size r, effective stride S, effective padding P (Araujo et al. 2019)"


def _walk(model: nn.Module, input_size=None):
    """Validate ``model`` and yield (name, layer, spec, r, S, P, size_in, size_out) per layer."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    hw = _input_hw(input_size) if input_size is not None else None
    r, jump, pad = (1, 1), (1, 1), (0, 0)
    flattened = None
    steps = []
    for name, layer in sequential_layers(model):
        spec = layer_spec(name, layer)
        if flattened is not None and spec is not KEEP:
            raise ValueError(f"layer {name!r} ({type(layer).__name__}) follows Flatten {flattened!r}; "
                             "Flatten must be the last spatial step, so only shape-keeping layers may follow it")
        if spec is None:
            flattened, spec = name, KEEP
        size_in = hw
        r, jump, pad = receptive_step(r, jump, pad, spec)
        if hw is not None:
            out = tuple(output_size_along(hw[a], spec, a) for a in range(2))
            if min(out) < 1:
                raise ValueError(
                    f"input_size {input_size!r} is too small: layer {name!r} ({type(layer).__name__}) gets a "
                    f"{hw[0]}×{hw[1]} input, but its kernel spans {spec.dilation[0] * (spec.kernel[0] - 1) + 1}×"
                    f"{spec.dilation[1] * (spec.kernel[1] - 1) + 1} pixels with padding {spec.padding}"
                )
            hw = out
        steps.append((name, layer, spec, tuple(r), tuple(jump), tuple(pad), size_in, hw))
    if not steps:
        raise ValueError("model must contain at least one layer, got an empty nn.Sequential")
    return steps


def receptive_field(model: nn.Module, input_size: int | tuple[int, ...] | None = None) -> RFTable:
    """Receptive field size, effective stride and effective padding after every layer of ``model``.

    ``model`` is an ``nn.Sequential`` (nested ones too) of ``Conv2d``,
    ``MaxPool2d`` and ``AvgPool2d`` layers (dilation included), shape-keeping
    layers (activations, ``BatchNorm2d``, ``Dropout``, ``Identity``) and an
    optional final ``Flatten``. It returns one :class:`RFRow` per layer, named
    as ``model.named_modules()`` names it, using the recurrences of Araujo et
    al. (2019). With ``input_size`` (an int, ``(height, width)`` or
    ``(channels, height, width)``) the rows also give each layer's output
    size. Raises ``ValueError`` for a model that is not a module, a layer of
    another type (naming it), or an input too small for some layer.

    Taught in: chapters/03_dense_to_cnn
    """
    rows = RFTable()
    for name, layer, _, r, jump, pad, _, out in _walk(model, input_size):
        rows.append(RFRow(name, type(layer).__name__, squeeze_pair(r), squeeze_pair(jump), squeeze_pair(pad),
                          None if out is None else squeeze_pair(out)))
    return rows


def _layer_and_unit(steps, layer, unit) -> tuple[int, Pair]:
    check_int("layer", layer)
    if not -len(steps) <= layer < len(steps):
        raise ValueError(f"layer must index one of the model's {len(steps)} layers "
                         f"(-{len(steps)} to {len(steps) - 1}), got {layer}")
    index = layer % len(steps)
    out = steps[index][7]
    if unit is None:
        return index, ((out[0] - 1) // 2, (out[1] - 1) // 2)
    unit = check_pair("unit", unit, minimum=0)
    if unit[0] >= out[0] or unit[1] >= out[1]:
        raise ValueError(f"unit must lie inside layer {index}'s {out[0]}×{out[1]} output, got {unit}")
    return index, unit


def _as_slice(values) -> slice:
    return slice(min(values), max(values) + 1) if values else slice(0, 0)


def receptive_region(model: nn.Module, input_size: tuple[int, int, int], layer: int = -1,
                     unit: Pair | None = None) -> tuple[slice, slice]:
    """The input rows and columns one unit is connected to, clipped at every layer's borders.

    The analytic counterpart of :func:`empirical_receptive_field`, with the
    same arguments. Walking back from the unit, each layer maps its units to
    the kernel taps ``u*s - p + t*d`` they read, and taps that fall on
    padding are dropped before going further back. Returns the bounding box
    as two slices (both empty for a unit that reads only padding). Away from
    the borders it is exactly the region ``u*S - P`` to ``u*S - P + r - 1``
    of Araujo et al.'s recurrences (their Distill article).

    Taught in: chapters/03_dense_to_cnn
    """
    steps = _walk(model, input_size)
    index, unit = _layer_and_unit(steps, layer, unit)
    result = []
    for a in range(2):
        reached = {unit[a]}
        for step in reversed(steps[: index + 1]):
            spec, n_in = step[2], step[6][a]
            k, s, p, d = spec.kernel[a], spec.stride[a], spec.padding[a], spec.dilation[a]
            reached = {v * s - p + t * d for v in reached for t in range(k)}
            reached = {v for v in reached if 0 <= v < n_in}
        result.append(_as_slice(reached))
    if result[0].stop == 0 or result[1].stop == 0:  # a unit that reads only padding sees nothing at all
        return slice(0, 0), slice(0, 0)
    return result[0], result[1]


class _SumPool(nn.Module):
    """Adds up each pooling window (padding and ceil_mode as the pool had) so every input in it gets gradient."""

    def __init__(self, spec: LayerSpec):
        super().__init__()
        self.spec = spec

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.spec
        n_out = [output_size_along(x.shape[2 + a], s, a) for a in range(2)]
        need = [(n_out[a] - 1) * s.stride[a] + s.dilation[a] * (s.kernel[a] - 1) + 1 for a in range(2)]
        extra = [need[a] - x.shape[2 + a] - s.padding[a] for a in range(2)]  # may be negative: crop
        x = F.pad(x, (s.padding[1], extra[1], s.padding[0], extra[0]))
        ones = torch.ones(x.shape[1], 1, *s.kernel, dtype=x.dtype)
        return F.conv2d(x, ones, stride=s.stride, dilation=s.dilation, groups=x.shape[1])


class _Stop(Exception):
    pass


def empirical_receptive_field(model: nn.Module, input_size: tuple[int, int, int], layer: int = -1,
                              unit: Pair | None = None) -> tuple[slice, slice]:
    """The input region one unit depends on, found by back-propagation.

    ``input_size`` is (channels, height, width); ``layer`` indexes the rows
    of :func:`receptive_field` (-1 is the last layer) and ``unit`` is the
    (row, col) of a unit in that layer's output, by default the centre one.
    To make "non-zero gradient" mean "connected", the gradient is taken
    through a copy of ``model`` whose convolutions have all weights 1 and no
    bias, whose pools add up their window (no max-pool ties) and whose
    shape-keeping layers are identities (no dead ReLUs), in float64 on an
    all-ones input. Returns (rows, cols) slices of the input pixels with a
    non-zero gradient (empty slices if none). Raises ``ValueError`` like
    :func:`receptive_field` and for a layer or unit out of range.

    Taught in: chapters/03_dense_to_cnn
    """
    if not (isinstance(input_size, (tuple, list)) and len(input_size) == 3):
        raise ValueError(f"input_size must be (channels, height, width), got {input_size!r}")
    steps = _walk(model, input_size)
    index, unit = _layer_and_unit(steps, layer, unit)
    probe = copy.deepcopy(model).double().requires_grad_(False)
    for name, layer_, spec, *_ in steps:
        if isinstance(layer_, nn.Conv2d):
            conv = probe.get_submodule(name)
            conv.weight.fill_(1.0)
            if conv.bias is not None:
                conv.bias.zero_()
            continue
        new = _SumPool(spec) if isinstance(layer_, (nn.MaxPool2d, nn.AvgPool2d)) else None
        if new is None and spec is KEEP and not isinstance(layer_, nn.Flatten):
            new = nn.Identity()
        if new is not None:
            if not name:
                probe = new
            else:
                parent, _, attr = name.rpartition(".")
                setattr(probe.get_submodule(parent), attr, new)
    captured = {}
    target_name, target = steps[index][0], steps[index][1]

    def hook(module, inputs, output):
        captured["out"] = inputs[0] if isinstance(target, nn.Flatten) else output
        raise _Stop

    handle = probe.get_submodule(target_name).register_forward_hook(hook)
    x = torch.ones(1, *input_size, dtype=torch.float64, requires_grad=True)
    try:
        probe(x)
    except _Stop:
        pass
    finally:
        handle.remove()
    captured["out"][0, :, unit[0], unit[1]].sum().backward()
    grad = x.grad[0].abs().sum(0)
    rows = torch.nonzero(grad.sum(1)).flatten().tolist()
    cols = torch.nonzero(grad.sum(0)).flatten().tolist()
    return _as_slice(rows), _as_slice(cols)
