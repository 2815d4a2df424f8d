"""The layers of a plain stack, in forward order, and the spatial settings of each.

The receptive-field arithmetic (:mod:`course_lib.receptive`) and the layer
summary (:mod:`course_lib.summary`) both walk a model this way: one home
for what counts as a layer, which layers keep the spatial shape, and
PyTorch's output-size rule.

Taught in: chapters/03_dense_to_cnn
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from ._validate import check_pair

Pair = tuple[int, int]

#: Layers that keep the spatial shape: they do not change the receptive field.
SHAPE_KEEPING = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU, nn.Mish,
    nn.Sigmoid, nn.Tanh, nn.Hardtanh, nn.Hardswish, nn.Hardsigmoid, nn.Softplus,
    nn.BatchNorm2d, nn.Dropout, nn.Dropout2d, nn.Identity,
)


@dataclass(frozen=True)
class LayerSpec:
    """A layer's spatial settings: kernel, stride, padding and dilation per axis (height, width).

    Taught in: chapters/03_dense_to_cnn
    """

    kernel: Pair
    stride: Pair
    padding: Pair
    dilation: Pair
    ceil_mode: bool = False


#: The settings of a layer that keeps the spatial shape (an activation, BatchNorm, ...).
KEEP = LayerSpec((1, 1), (1, 1), (0, 0), (1, 1))


def sequential_layers(model: nn.Module, prefix: str = "") -> list[tuple[str, nn.Module]]:
    """The layers of a (possibly nested) ``nn.Sequential`` in forward order, as (name, layer) pairs.

    Names are those ``model.named_modules()`` gives, e.g. ``"0.0"`` for the
    first layer of the first block; a model that is not an ``nn.Sequential``
    is a single layer.

    Taught in: chapters/03_dense_to_cnn
    """
    if not isinstance(model, nn.Sequential):
        return [(prefix, model)]
    out = []
    for child_name, child in model.named_children():
        out += sequential_layers(child, f"{prefix}.{child_name}" if prefix else child_name)
    return out


def layer_spec(name: str, layer: nn.Module) -> LayerSpec | None:
    """The spatial settings of one layer: None for ``Flatten``, a ``ValueError`` naming any unsupported layer.

    Taught in: chapters/03_dense_to_cnn
    """
    if isinstance(layer, nn.Conv2d):
        if isinstance(layer.padding, str):
            raise ValueError(f"layer {name!r} (Conv2d) uses padding={layer.padding!r}; "
                             "only integer padding is supported")
        return LayerSpec(layer.kernel_size, layer.stride, layer.padding, layer.dilation)
    if isinstance(layer, nn.MaxPool2d):
        return LayerSpec(check_pair("kernel_size", layer.kernel_size), check_pair("stride", layer.stride),
                         check_pair("padding", layer.padding), check_pair("dilation", layer.dilation),
                         layer.ceil_mode)
    if isinstance(layer, nn.AvgPool2d):
        return LayerSpec(check_pair("kernel_size", layer.kernel_size), check_pair("stride", layer.stride),
                         check_pair("padding", layer.padding), (1, 1), layer.ceil_mode)
    if isinstance(layer, SHAPE_KEEPING):
        return KEEP
    if isinstance(layer, nn.Flatten):
        return None
    where = f"layer {name!r}" if name else "the model itself"
    raise ValueError(
        f"{where} is a {type(layer).__name__}, which receptive_field does not support; supported: "
        "nn.Sequential (nested too) of Conv2d, MaxPool2d, AvgPool2d, shape-keeping layers "
        "(activations, BatchNorm2d, Dropout, Identity) and a final Flatten"
    )


def output_size_along(n: int, spec: LayerSpec, axis: int) -> int:
    """PyTorch's output size along one axis for an input of ``n``: Conv2d and the pools, ``ceil_mode`` included.

    Taught in: chapters/03_dense_to_cnn
    """
    k, s, p, d = spec.kernel[axis], spec.stride[axis], spec.padding[axis], spec.dilation[axis]
    span = d * (k - 1) + 1
    if spec.ceil_mode:
        out = -(-(n + 2 * p - span) // s) + 1
        if (out - 1) * s >= n + p:
            out -= 1
        return out
    return (n + 2 * p - span) // s + 1


def receptive_step(r: Pair, jump: Pair, pad: Pair, spec: LayerSpec) -> tuple[Pair, Pair, Pair]:
    """One step of the receptive-field recurrence of Araujo et al. (2019), per axis (height, width).

    With ``k' = d*(k-1)+1`` the span of the layer's kernel, the size grows as
    ``r + (k'-1)*S``, the effective stride (jump) multiplies, ``S*s``, and
    the effective padding adds up, ``P + p*S``, where ``S`` is the jump
    before the layer. Returns the new ``(r, S, P)``.

    Taught in: chapters/03_dense_to_cnn
    """
    new_r, new_jump, new_pad = [], [], []
    for a in range(2):
        span = spec.dilation[a] * (spec.kernel[a] - 1) + 1
        new_r.append(r[a] + (span - 1) * jump[a])
        new_pad.append(pad[a] + spec.padding[a] * jump[a])
        new_jump.append(jump[a] * spec.stride[a])
    return tuple(new_r), tuple(new_jump), tuple(new_pad)


def squeeze_pair(pair: Pair) -> int | Pair:
    """One int when height and width agree, else the (height, width) pair.

    Taught in: chapters/03_dense_to_cnn
    """
    return pair[0] if pair[0] == pair[1] else tuple(pair)


