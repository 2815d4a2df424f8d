"""Histogram recording on parameter-free layers, feature-map capture and the plots."""

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch import nn  # noqa: E402
from torch.testing import assert_close  # noqa: E402

from course_lib import (  # noqa: E402
    HistogramRecorder,
    capture_output,
    lowest_bin_share,
    plot_colorful_dimension,
    plot_feature_maps,
    plot_kernels,
    simple_cnn,
)


def test_recorder_hooks_a_relu_and_records_only_training_batches():
    torch.manual_seed(0)
    rec = HistogramRecorder(bins=10, lo=0, hi=5)
    model = rec.watch(simple_cnn(), "1.1")  # the second block's ReLU: a layer without parameters
    assert list(model.get_submodule("1.1").parameters()) == []
    xs = [torch.randn(4, 1, 28, 28) for _ in range(3)]
    for x in xs:
        model(x)
    model.eval()
    model(torch.randn(4, 1, 28, 28))
    assert rec.hists.shape == (3, 10)
    for row, x in zip(rec.hists, xs, strict=True):
        out = model[1](model[0](x))  # eval and train agree without BatchNorm
        assert_close(row, torch.histc(out, 10, 0, 5))
        assert int(row.sum()) == int(((out >= 0) & (out <= 5)).sum())
    rec.remove()
    model.train()
    model(xs[0])
    assert rec.hists.shape == (3, 10)


@settings(max_examples=25)
@given(bins=st.integers(2, 30), lo=st.floats(-5, 0), width=st.floats(0.5, 10), seed=st.integers(0, 1000))
def test_recorded_rows_equal_torch_histc(bins, lo, width, seed):
    rec = HistogramRecorder(bins=bins, lo=lo, hi=lo + width)
    layer = nn.Sequential(nn.Identity())
    rec.watch(layer, "0")
    x = torch.randn(3, 2, 4, 4, generator=torch.Generator().manual_seed(seed)) * 3
    layer(x)
    assert_close(rec.hists[0], torch.histc(x, bins, lo, lo + width))
    assert_close(rec.bin_edges(), torch.linspace(lo, lo + width, bins + 1))


def test_lowest_bin_share_is_the_share_of_zeros_after_relu():
    x = torch.tensor([[-1.0, 0.0, 0.0, 2.0, 3.0]]).relu()
    hist = torch.histc(x, 10, 0, 10).unsqueeze(0)
    assert_close(lowest_bin_share(hist), torch.tensor([0.6]))
    assert_close(lowest_bin_share(torch.zeros(2, 4)), torch.zeros(2))


def test_capture_output_equals_running_the_first_blocks_and_restores_mode():
    torch.manual_seed(1)
    model = simple_cnn(bn=True)
    model.train()
    x = torch.randn(2, 1, 28, 28)
    out = capture_output(model, "1.2", x)
    model.eval()
    with torch.no_grad():
        assert_close(out, model[1](model[0](x)))
    model.train()
    capture_output(model, "0", x)
    assert model.training


def test_plots_draw_without_error():
    torch.manual_seed(2)
    ax = plot_colorful_dimension(torch.rand(7, 40) * 100, title="t")
    assert ax.get_title() == "t" and len(ax.images) == 1
    fig = plot_feature_maps(torch.rand(8, 14, 14), ncols=4, title="maps")
    assert len(fig.axes) == 8
    fig = plot_kernels(torch.randn(8, 1, 5, 5), ncols=8)
    assert len(fig.axes) == 8
    import matplotlib.pyplot as plt
    plt.close("all")


@pytest.mark.parametrize("kwargs, message", [
    ({"bins": 0}, "bins must be a positive int, got 0"),
    ({"bins": 2.5}, "bins must be a positive int, got 2.5"),
    ({"lo": 3, "hi": 1}, "lo must be smaller than hi, got lo=3, hi=1"),
    ({"hi": float("inf")}, "hi must be a finite number, got inf"),
])
def test_bad_histogram_settings_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match="^" + message.replace(".", r"\.") + "$"):
        HistogramRecorder(**kwargs)


def test_bad_layer_names_and_inputs_are_rejected():
    rec = HistogramRecorder()
    with pytest.raises(ValueError, match=r"^layer must name a submodule of the model, got '9\.9'"):
        rec.watch(simple_cnn(), "9.9")
    with pytest.raises(ValueError, match=r"^model must be a torch\.nn\.Module, got str$"):
        rec.watch("model", "0")
    with pytest.raises(ValueError, match=r"^no histogram recorded yet"):
        rec.hists  # noqa: B018
    with pytest.raises(ValueError, match=r"^layer must name a submodule"):
        capture_output(simple_cnn(), "7", torch.zeros(1, 1, 28, 28))
    with pytest.raises(ValueError, match=r"^hists must be a 2-d tensor \(n_batches, bins >= 2\), got \(5,\)$"):
        lowest_bin_share(torch.zeros(5))
    with pytest.raises(ValueError, match=r"^maps must be a 3-d tensor \(C, H, W\), got shape \(1, 2, 3, 4\)$"):
        plot_feature_maps(torch.zeros(1, 2, 3, 4))
    with pytest.raises(ValueError, match=r"^weight must be a 4-d tensor \(out, in, kH, kW\), got shape \(3, 3\)$"):
        plot_kernels(torch.zeros(3, 3))
    with pytest.raises(ValueError, match=r"^ncols must be a positive int, got 0$"):
        plot_kernels(torch.zeros(2, 1, 3, 3), ncols=0)
