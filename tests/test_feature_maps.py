"""Capturing a layer's output, and the feature-map and kernel plots."""

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402
from torch.testing import assert_close  # noqa: E402

from course_lib import (  # noqa: E402
    capture_output,
    plot_feature_maps,
    plot_kernels,
    simple_cnn,
)


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
    fig = plot_feature_maps(torch.rand(8, 14, 14), ncols=4, title="maps")
    assert len(fig.axes) == 8
    fig = plot_kernels(torch.randn(8, 1, 5, 5), ncols=8)
    assert len(fig.axes) == 8
    import matplotlib.pyplot as plt
    plt.close("all")


def test_bad_layer_names_and_inputs_are_rejected():
    with pytest.raises(ValueError, match=r"^layer must name a submodule"):
        capture_output(simple_cnn(), "7", torch.zeros(1, 1, 28, 28))
    with pytest.raises(ValueError, match=r"^maps must be a 3-d tensor \(C, H, W\), got shape \(1, 2, 3, 4\)$"):
        plot_feature_maps(torch.zeros(1, 2, 3, 4))
    with pytest.raises(ValueError, match=r"^weight must be a 4-d tensor \(out, in, kH, kW\), got shape \(3, 3\)$"):
        plot_kernels(torch.zeros(3, 3))
    with pytest.raises(ValueError, match=r"^ncols must be a positive int, got 0$"):
        plot_kernels(torch.zeros(2, 1, 3, 3), ncols=0)
