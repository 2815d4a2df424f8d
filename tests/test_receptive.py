"""Receptive fields: the Distill recurrences, published numbers, and back-propagation as the referee."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from course_lib import empirical_receptive_field, receptive_field, receptive_region, simple_cnn


def vgg16_features() -> nn.Sequential:
    """VGG-16's convolutional part (Simonyan & Zisserman, configuration D), built from layers alone."""
    layers, c = [], 3
    for v in [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU()]
            c = v
    return nn.Sequential(*layers)


def alexnet_features() -> nn.Sequential:
    """AlexNet's convolutional part as in TF-slim's alexnet_v2 (conv1 unpadded), the net Distill tabulates."""
    return nn.Sequential(
        nn.Conv2d(3, 64, 11, stride=4), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
        nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2),
    )


def test_vgg16_matches_the_published_receptive_field():
    rows = receptive_field(vgg16_features(), 224)
    last = rows[-1]
    # Araujo et al. (2019), table of receptive fields: vgg_16 r=212, effective stride 32, effective padding 90.
    assert (last.size, last.stride, last.padding, last.output_size) == (212, 32, 90, 7)
    conv5_3 = [r for r in rows if r.layer == "Conv2d"][-1]
    assert (conv5_3.size, conv5_3.stride) == (196, 16)
    assert [r.size for r in rows if r.layer == "MaxPool2d"] == [6, 16, 44, 100, 212]


def test_alexnet_matches_the_published_receptive_field():
    rows = receptive_field(alexnet_features(), 224)
    convs = [r.size for r in rows if r.layer == "Conv2d"]
    assert convs == [11, 51, 99, 131, 163]  # conv5: 163
    assert (rows[-1].size, rows[-1].stride, rows[-1].padding) == (195, 32, 64)  # Distill: alexnet_v2


def test_simple_cnn_rows_and_output_sizes_match_pytorch():
    model = simple_cnn()
    rows = receptive_field(model, (1, 28, 28))
    names = [n for n, m in model.named_modules() if not isinstance(m, nn.Sequential)]
    assert [r.name for r in rows] == names
    assert [r.size for r in rows if r.layer == "Conv2d"] == [5, 9, 17, 33, 65]
    assert [r.stride for r in rows if r.layer == "Conv2d"] == [2, 4, 8, 16, 32]
    x = torch.zeros(1, 1, 28, 28)
    for (name, layer), row in zip(((n, m) for n, m in model.named_modules() if n in names), rows, strict=True):
        if not isinstance(layer, nn.Flatten):
            x = layer(x)
            assert row.output_size == x.shape[-1], name


def test_without_input_size_there_are_no_output_sizes():
    assert all(r.output_size is None for r in receptive_field(simple_cnn()))


def test_non_square_layers_give_pairs():
    rows = receptive_field(nn.Sequential(nn.Conv2d(1, 1, (3, 5), stride=(1, 2), padding=(1, 2))), (9, 11))
    assert (rows[0].size, rows[0].stride, rows[0].padding, rows[0].output_size) == ((3, 5), (1, 2), (1, 2), (9, 6))


def test_the_text_and_html_tables_show_every_row():
    rows = receptive_field(simple_cnn(), 28)
    text, html = repr(rows), rows._repr_html_()
    assert text.count("\n") == len(rows) + 1 and "Flatten" in text
    assert html.count("<tr>") == len(rows) + 1


@pytest.mark.parametrize(
    "model, message",
    [
        ("conv", "model must be a torch.nn.Module, got str"),
        (nn.Sequential(nn.Conv2d(1, 1, 3), nn.Linear(3, 3)),
         "layer '1' is a Linear, which receptive_field does not support"),
        (nn.Sequential(nn.Sequential(nn.Conv2d(1, 1, 3), nn.Upsample(scale_factor=2))), "layer '0.1' is a Upsample"),
        (nn.Sequential(nn.Flatten(), nn.Conv2d(1, 1, 3)), "layer '1' (Conv2d) follows Flatten '0'"),
        (nn.Sequential(), "model must contain at least one layer"),
        (nn.Sequential(nn.Conv2d(1, 1, 3, padding="same")), "uses padding='same'"),
    ],
)
def test_bad_models_raise_naming_the_layer(model, message):
    with pytest.raises(ValueError) as err:
        receptive_field(model)
    assert message in str(err.value)


def test_too_small_input_raises_naming_layer_and_sizes():
    model = nn.Sequential(nn.Conv2d(1, 1, 3, stride=2), nn.Conv2d(1, 1, 5))
    with pytest.raises(ValueError, match=r"input_size 9 is too small: layer '1' \(Conv2d\) gets a 4×4 input, "
                                         r"but its kernel spans 5×5 pixels"):
        receptive_field(model, 9)
    with pytest.raises(ValueError, match=r"input_size must be a positive int, got 0"):
        receptive_field(model, 0)
    with pytest.raises(ValueError, match=r"input_size must be an int, \(height, width\) or"):
        receptive_field(model, (1, 2, 3, 4))


def test_empirical_bad_arguments_raise_clear_messages():
    model = simple_cnn()
    with pytest.raises(ValueError, match=r"input_size must be \(channels, height, width\), got 28"):
        empirical_receptive_field(model, 28)
    with pytest.raises(ValueError, match=r"layer must index one of the model's 10 layers \(-10 to 9\), got 10"):
        empirical_receptive_field(model, (1, 28, 28), layer=10)
    with pytest.raises(ValueError, match=r"unit must lie inside layer 0's 14×14 output, got \(14, 0\)"):
        empirical_receptive_field(model, (1, 28, 28), layer=0, unit=(14, 0))
    with pytest.raises(ValueError, match=r"unit\[1\] must be a non-negative int, got -1"):
        receptive_region(model, (1, 28, 28), layer=0, unit=(0, -1))


def test_empirical_field_ignores_dead_relus_and_max_pool_ties():
    # A trained-looking model whose ReLUs are all dead and whose max pools see ties everywhere:
    # a plain gradient would be zero, but connectivity is what we measure.
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(2, 1, 3))
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(-1.0)
    rows, cols = empirical_receptive_field(model, (1, 12, 12), unit=(0, 0))
    r = receptive_field(model)[-1]
    assert (rows, cols) == (slice(0, r.size), slice(0, r.size))
    assert next(model.parameters()).min().item() == -1.0  # the model itself is untouched


def test_a_dilated_kernel_has_holes_but_the_box_is_its_span():
    model = nn.Sequential(nn.Conv2d(1, 1, 3, dilation=3))
    assert receptive_field(model)[0].size == 7
    assert empirical_receptive_field(model, (1, 9, 9), unit=(1, 1)) == (slice(1, 8), slice(1, 8))


# --- hypothesis: random stacks of convolutions and pools -------------------------------------------------

layer_st = st.one_of(
    st.builds(lambda k, s, d, p: ("conv", k, s, d, p), st.integers(1, 4), st.integers(1, 3), st.integers(1, 2),
              st.integers(0, 2)),
    st.builds(lambda k, s, p, c: ("max", k, s, 1, p, c), st.integers(1, 3), st.integers(1, 3), st.integers(0, 1),
              st.booleans()),
    st.builds(lambda k, s, p, c: ("avg", k, s, 1, p, c), st.integers(1, 3), st.integers(1, 3), st.integers(0, 1),
              st.booleans()),
    st.just(("relu",)),
)


def build(spec) -> nn.Sequential:
    layers = []
    for item in spec:
        kind = item[0]
        if kind == "conv":
            _, k, s, d, p = item
            layers.append(nn.Conv2d(2, 2, k, stride=s, dilation=d, padding=p))
        elif kind in ("max", "avg"):
            _, k, s, _, p, ceil = item
            p = min(p, k // 2)  # PyTorch's rule: pool padding at most half the kernel
            pool = nn.MaxPool2d if kind == "max" else nn.AvgPool2d
            layers.append(pool(k, stride=s, padding=p, ceil_mode=ceil))
        else:
            layers.append(nn.ReLU())
    # nest half of the stack to exercise nested Sequentials
    half = len(layers) // 2
    return nn.Sequential(*layers[:half], nn.Sequential(*layers[half:]))


def output_shapes(model: nn.Sequential, x: torch.Tensor) -> list[tuple[int, int]]:
    shapes = []
    for _, layer in ((n, m) for n, m in model.named_modules() if not isinstance(m, nn.Sequential)):
        x = layer(x)
        shapes.append(tuple(x.shape[-2:]))
    return shapes


@settings(max_examples=40, deadline=None)
@given(spec=st.lists(layer_st, min_size=1, max_size=5), size=st.integers(8, 40))
def test_output_sizes_agree_with_pytorch(spec, size):
    model = build(spec)
    try:
        shapes = output_shapes(model, torch.zeros(1, 2, size, size + 3))
    except RuntimeError:  # PyTorch rejects the input as too small: so must we
        with pytest.raises(ValueError, match="too small"):
            receptive_field(model, (size, size + 3))
        return
    rows = receptive_field(model, (2, size, size + 3))
    assert [r.output_size if isinstance(r.output_size, tuple) else (r.output_size,) * 2 for r in rows] == shapes


@settings(max_examples=40, deadline=None)
@given(spec=st.lists(layer_st, min_size=1, max_size=5), extra=st.integers(0, 6), data=st.data())
def test_analytic_and_empirical_fields_agree_at_every_layer(spec, extra, data):
    model = build(spec)
    rows = receptive_field(model)
    size = rows[-1].size + 2 * rows[-1].padding + extra  # large enough that some unit sees no padding
    try:
        output_shapes(model, torch.zeros(1, 2, size, size))
    except RuntimeError:
        return
    rows = receptive_field(model, (2, size, size))
    for index, row in enumerate(rows):
        n = row.output_size
        unit = (data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, n - 1)))
        measured = empirical_receptive_field(model, (2, size, size), layer=index, unit=unit)
        # clipped at every layer's border, the analytic region is exactly what back-propagation finds
        assert receptive_region(model, (2, size, size), layer=index, unit=unit) == measured
        # and where the whole Distill region lies inside the image, its size is r and it starts at u*S - P
        first, last = row.region(unit)
        if min(first) >= 0 and max(last) < size:
            assert measured == (slice(first[0], last[0] + 1), slice(first[1], last[1] + 1))
            assert measured[0].stop - measured[0].start == row.size


@settings(max_examples=25, deadline=None)
@given(ks=st.lists(st.sampled_from([1, 3, 5]), min_size=1, max_size=4), strides=st.data())
def test_plain_conv_stacks_have_the_textbook_size(ks, strides):
    # r = 1 + sum_l (k_l - 1) * prod_{i<l} s_i, computed independently of the module
    ss = [strides.draw(st.integers(1, 2)) for _ in ks]
    model = nn.Sequential(*(nn.Conv2d(1, 1, k, stride=s) for k, s in zip(ks, ss, strict=True)))
    expected, jump = 1, 1
    for k, s in zip(ks, ss, strict=True):
        expected += (k - 1) * jump
        jump *= s
    assert (receptive_field(model)[-1].size, receptive_field(model)[-1].stride) == (expected, jump)
