"""A per-layer summary of a small network: shapes, parameters, work and receptive field.

Taught in: chapters/03_dense_to_cnn
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from ._table import Table
from ._validate import check_int
from .layers import KEEP, layer_spec, output_size_along, receptive_step, sequential_layers, squeeze_pair

_SPATIAL_ONLY = (nn.BatchNorm2d, nn.Dropout2d)


@dataclass(frozen=True)
class SummaryRow:
    """One layer of :func:`layer_summary`.

    ``output_shape`` leaves out the batch dimension. ``macs`` counts the
    multiply-accumulates of one image. ``rf_size`` and ``rf_stride`` are the
    receptive field size and effective stride, or None once the layer's
    units see the whole input through a ``Linear`` layer.

    Taught in: chapters/03_dense_to_cnn
    """

    name: str
    layer: str
    output_shape: tuple[int, ...]
    params: int
    macs: int
    rf_size: int | tuple[int, int] | None
    rf_stride: int | tuple[int, int] | None


class LayerSummary(Table):
    """The rows of :func:`layer_summary`, shown as a table with totals underneath.

    Taught in: chapters/03_dense_to_cnn
    """

    @property
    def total_params(self) -> int:
        return sum(r.params for r in self)

    @property
    def total_macs(self) -> int:
        return sum(r.macs for r in self)

    def footer(self) -> str:
        return f"total: {self.total_params:,} parameters, {self.total_macs:,} multiply-accumulates per image"


def _own_params(layer: nn.Module) -> int:
    return sum(p.numel() for p in layer.parameters(recurse=False))


def layer_summary(model: nn.Module, input_shape: tuple[int, ...]) -> LayerSummary:
    """One row per layer of ``model``: output shape, parameters, MACs and receptive field.

    ``model`` is an ``nn.Sequential`` (nested ones too) of the layers
    :func:`receptive_field` accepts, plus ``Linear`` layers after a
    ``Flatten``. ``input_shape`` is (channels, height, width) for one image,
    or (features,) for a model that starts with ``Flatten``/``Linear``. A
    convolution's multiply-accumulates are counted on its OUTPUT grid:
    ``out_h*out_w*out_channels*(in_channels/groups)*kH*kW``; a ``Linear``
    does ``in*out``; other layers count 0. Shapes and counts are worked out
    from the layers' settings, without running the model. Raises
    ``ValueError`` for a non-module, an unsupported layer (naming it), an
    input shape of the wrong form or too small an input.

    Taught in: chapters/03_dense_to_cnn
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) not in (1, 3):
        raise ValueError(f"input_shape must be (channels, height, width) or (features,), got {input_shape!r}")
    for i, v in enumerate(input_shape):
        check_int(f"input_shape[{i}]", v, minimum=1)
    shape = tuple(input_shape)
    rf: tuple[int, int] | None = (1, 1) if len(shape) == 3 else None
    jump, pad = (1, 1), (0, 0)
    rows = LayerSummary()
    for name, layer in sequential_layers(model):
        macs = 0
        if isinstance(layer, nn.Linear):
            if len(shape) != 1 or shape[0] != layer.in_features:
                raise ValueError(f"layer {name!r} (Linear) expects {layer.in_features} input features, "
                                 f"but gets shape {shape}")
            shape, macs, rf = (layer.out_features,), layer.in_features * layer.out_features, None
        elif isinstance(layer, nn.Flatten):
            shape = (_prod(shape),)
        elif len(shape) == 1 and layer_spec(name, layer) is KEEP and not isinstance(layer, _SPATIAL_ONLY):
            pass  # an activation or Dropout after Flatten keeps the features
        else:
            spec = layer_spec(name, layer)
            if len(shape) != 3:
                raise ValueError(f"layer {name!r} ({type(layer).__name__}) needs a (channels, height, width) "
                                 f"input, but gets shape {shape}")
            hw = tuple(output_size_along(shape[1 + a], spec, a) for a in range(2))
            if min(hw) < 1:
                raise ValueError(f"input_shape {tuple(input_shape)} is too small: layer {name!r} "
                                 f"({type(layer).__name__}) gets a {shape[1]}×{shape[2]} input")
            channels = shape[0]
            if isinstance(layer, nn.Conv2d):
                if layer.in_channels != shape[0]:
                    raise ValueError(f"layer {name!r} (Conv2d) expects {layer.in_channels} input channels, "
                                     f"but gets shape {shape}")
                channels = layer.out_channels
                kh, kw = layer.kernel_size
                macs = hw[0] * hw[1] * channels * (layer.in_channels // layer.groups) * kh * kw
            shape = (channels, *hw)
            if rf is not None:
                rf, jump, pad = receptive_step(rf, jump, pad, spec)
        rows.append(SummaryRow(name, type(layer).__name__, shape, _own_params(layer), macs,
                               None if rf is None else squeeze_pair(rf),
                               None if rf is None else squeeze_pair(jump)))
    return rows


def _prod(shape: tuple[int, ...]) -> int:
    out = 1
    for v in shape:
        out *= v
    return out
