"""layer_summary: shapes, parameters and multiply-accumulates, checked with forward hooks."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from course_lib import layer_summary, receptive_field, simple_cnn, simple_net


def measured(model: nn.Module, input_shape: tuple[int, ...]) -> list[tuple[str, tuple[int, ...], int, int]]:
    """(name, output shape, params, MACs) per leaf layer, measured by running the model with forward hooks."""
    out, handles = [], []

    def hook(module, inputs, output):
        macs = 0
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            macs = output[0].numel() * (module.in_channels // module.groups) * kh * kw  # on the OUTPUT grid
        elif isinstance(module, nn.Linear):
            macs = output[0].numel() * module.in_features
        params = sum(p.numel() for p in module.parameters(recurse=False))
        out.append((names[module], tuple(output.shape[1:]), params, macs))

    names = {m: n for n, m in model.named_modules() if not isinstance(m, nn.Sequential)}
    for m in names:
        handles.append(m.register_forward_hook(hook))
    with torch.no_grad():
        model.eval()(torch.zeros(1, *input_shape))
    for h in handles:
        h.remove()
    return out


def table(model, input_shape):
    return [(r.name, r.output_shape, r.params, r.macs) for r in layer_summary(model, input_shape)]


def test_simple_cnn_summary_matches_hooks_and_parameter_count():
    model = simple_cnn()
    rows = layer_summary(model, (1, 28, 28))
    assert table(model, (1, 28, 28)) == measured(model, (1, 28, 28))
    assert rows.total_params == sum(p.numel() for p in model.parameters()) == 30_282
    # the first layer: 14×14 output positions × 8 channels × 25 weights each, NOT 28×28 input positions
    assert rows[0].macs == 14 * 14 * 8 * 25 == 39_200
    assert [r.rf_size for r in rows if r.layer == "Conv2d"] == [r.size for r in receptive_field(model)
                                                                 if r.layer == "Conv2d"]


def test_simple_net_summary_matches_hooks():
    model = simple_net()
    rows = layer_summary(model, (1, 28, 28))
    assert table(model, (1, 28, 28)) == measured(model, (1, 28, 28))
    assert rows.total_params == 784 * 30 + 30 + 30 * 10 + 10
    assert rows[1].rf_size is None  # a dense unit sees the whole image


def test_batchnorm_model_counts_its_parameters():
    model = simple_cnn(bn=True)
    assert table(model, (1, 28, 28)) == measured(model, (1, 28, 28))


def test_summary_shows_as_text_and_html_tables():
    rows = layer_summary(simple_cnn(), (1, 28, 28))
    text, html = repr(rows), rows._repr_html_()
    assert "8×14×14" in text and "total: 30,282 parameters, 248,864 multiply-accumulates" in text
    assert html.count("<tr>") == len(rows) + 1 and "30,282" in html


@pytest.mark.parametrize(
    "model, shape, message",
    [
        ("net", (1, 28, 28), "model must be a torch.nn.Module, got str"),
        (simple_cnn(), (28, 28), r"input_shape must be \(channels, height, width\) or \(features,\), got \(28, 28\)"),
        (simple_cnn(), (1, 0, 28), r"input_shape\[1\] must be a positive int, got 0"),
        (simple_cnn(), (3, 28, 28), r"layer '0.0' \(Conv2d\) expects 1 input channels, but gets shape \(3, 28, 28\)"),
        (nn.Sequential(nn.Conv2d(1, 1, 5)), (1, 3, 3),
         r"input_shape \(1, 3, 3\) is too small: layer '0' \(Conv2d\) gets a 3×3"),
        (simple_net(), (1, 28, 27), r"layer '1' \(Linear\) expects 784 input features, but gets shape \(756,\)"),
        (nn.Sequential(nn.Conv2d(1, 1, 3), nn.LSTM(3, 3)), (1, 8, 8), "layer '1' is a LSTM"),
        (nn.Sequential(nn.Flatten(), nn.Conv2d(1, 1, 3)), (1, 8, 8), r"layer '1' \(Conv2d\) needs a \(channels"),
    ],
)
def test_bad_input_raises_with_the_rule(model, shape, message):
    with pytest.raises(ValueError, match=message):
        layer_summary(model, shape)


conv_st = st.tuples(st.sampled_from([1, 2, 4]), st.integers(1, 4), st.integers(1, 3), st.integers(0, 2),
                    st.integers(1, 2), st.booleans())


@settings(max_examples=40, deadline=None)
@given(convs=st.lists(conv_st, min_size=1, max_size=4), size=st.integers(10, 24), pool=st.booleans(),
       head=st.booleans())
def test_random_stacks_match_forward_hooks(convs, size, pool, head):
    layers, c = [], 2
    for groups, k, s, p, d, bias in convs:
        out_c = 4 * groups
        layers += [nn.Conv2d(c, out_c, k, stride=s, padding=p, dilation=d, groups=groups if c % groups == 0 else 1,
                             bias=bias), nn.ReLU()]
        c = out_c
    if pool:
        layers.append(nn.MaxPool2d(2, ceil_mode=True))
    model = nn.Sequential(*layers)
    try:
        with torch.no_grad():
            n = model(torch.zeros(1, 2, size, size + 1))[0].numel()
    except RuntimeError:
        with pytest.raises(ValueError, match="too small"):
            layer_summary(model, (2, size, size + 1))
        return
    if head:
        model = nn.Sequential(model, nn.Flatten(), nn.Linear(n, 3), nn.Dropout())
    assert table(model, (2, size, size + 1)) == measured(model, (2, size, size + 1))
