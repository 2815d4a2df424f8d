"""How far float32 gradients are from a float64 copy of the model."""

import pytest
import torch

from course_lib import gradient_error_vs_float64, load_mnist, normalize, simple_cnn


def test_default_layout_gradients_match_a_float64_reference():
    # Through five BatchNorm layers, NCHW float32 gradients agree with float64 to float32 rounding.
    torch.manual_seed(0)
    model = simple_cnn(bn=True)
    data = load_mnist()
    errors = gradient_error_vs_float64(model, normalize(data.x_train[:256]), data.y_train[:256])
    assert len(errors) >= 18 and "0.0.weight" in errors  # every parameter but a dead channel's bias
    assert max(errors.values()) < 1e-4, errors
    assert model[0][0].weight.grad is None  # the model itself is left untouched


def test_channels_last_is_measured_on_a_channels_last_copy():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                                torch.nn.Linear(4 * 26 * 26, 10))
    x, y = torch.randn(8, 1, 28, 28), torch.randint(0, 10, (8,))
    errors = gradient_error_vs_float64(model, x, y, channels_last=True)
    assert set(errors) == {"0.weight", "0.bias", "3.weight", "3.bias"}
    assert max(errors.values()) < 1e-4  # no BatchNorm: both layouts are exact to float32 rounding


def test_gradient_error_rejects_bad_input():
    with pytest.raises(ValueError, match=r"^model must be a torch.nn.Module, got str$"):
        gradient_error_vs_float64("net", torch.zeros(2, 1, 28, 28), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match=r"^x must be a 4-d image tensor"):
        gradient_error_vs_float64(simple_cnn(), torch.zeros(2, 28, 28), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match=r"^channels_last must be True or False, got 1$"):
        gradient_error_vs_float64(simple_cnn(), torch.zeros(2, 1, 28, 28), torch.zeros(2, dtype=torch.long),
                                  channels_last=1)
