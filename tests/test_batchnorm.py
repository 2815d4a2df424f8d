"""BatchNorm2dScratch against nn.BatchNorm2d: outputs, running statistics, gradients and errors."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.testing import assert_close

from course_lib import BatchNorm2dScratch, batch_stats


def _pair(c, **kw):
    torch.manual_seed(0)
    ref = nn.BatchNorm2d(c, **kw)
    mine = BatchNorm2dScratch(c, **kw)
    if kw.get("affine", True):
        with torch.no_grad():
            ref.weight.uniform_(0.5, 1.5)
            ref.bias.uniform_(-0.5, 0.5)
            mine.weight.copy_(ref.weight)
            mine.bias.copy_(ref.bias)
    return ref, mine


def test_matches_batchnorm2d_over_several_training_steps_then_eval():
    ref, mine = _pair(6, eps=1e-3, momentum=0.2)
    g = torch.Generator().manual_seed(1)
    for step in range(5):
        x = torch.randn(8, 6, 5, 4, generator=g) * (step + 1) + step
        assert_close(mine(x), ref(x))
        assert_close(mine.running_mean, ref.running_mean)
        assert_close(mine.running_var, ref.running_var)
        assert int(mine.num_batches_tracked) == int(ref.num_batches_tracked) == step + 1
    ref.eval()
    mine.eval()
    x = torch.randn(3, 6, 5, 4, generator=g)
    assert_close(mine(x), ref(x))
    assert_close(mine.running_mean, ref.running_mean)  # eval mode leaves the running stats alone


def test_normalizes_with_biased_variance_but_stores_unbiased_variance():
    bn = BatchNorm2dScratch(2, momentum=1.0, affine=False)
    x = torch.randn(4, 2, 3, 3, generator=torch.Generator().manual_seed(2))
    out = bn(x)
    n = 4 * 3 * 3
    biased = x.var(dim=(0, 2, 3), unbiased=False)
    assert_close(bn.running_var, biased * n / (n - 1))
    assert_close(bn.running_var, x.var(dim=(0, 2, 3), unbiased=True))
    expected = (x - x.mean(dim=(0, 2, 3)).view(1, -1, 1, 1)) / torch.sqrt(biased.view(1, -1, 1, 1) + 1e-5)
    assert_close(out, expected)
    # in training mode each channel comes out with mean 0 and (biased) variance about 1
    assert_close(out.mean(dim=(0, 2, 3)), torch.zeros(2), atol=1e-6, rtol=0)
    assert_close(out.var(dim=(0, 2, 3), unbiased=False), torch.ones(2), atol=1e-3, rtol=0)


def test_batch_stats_match_torch_var_mean():
    x = torch.randn(5, 3, 4, 2, generator=torch.Generator().manual_seed(3))
    var, mean = torch.var_mean(x, dim=(0, 2, 3), unbiased=False)
    m, v = batch_stats(x)
    assert_close(m, mean)
    assert_close(v, var)


def test_gradients_match_batchnorm2d():
    ref, mine = _pair(4, momentum=0.3)
    x = torch.randn(6, 4, 3, 5, generator=torch.Generator().manual_seed(4))
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    w = torch.randn(6, 4, 3, 5, generator=torch.Generator().manual_seed(5))
    (ref(x1) * w).sum().backward()
    (mine(x2) * w).sum().backward()
    assert_close(x2.grad, x1.grad, atol=1e-5, rtol=1e-4)
    assert_close(mine.weight.grad, ref.weight.grad, atol=1e-5, rtol=1e-4)
    assert_close(mine.bias.grad, ref.bias.grad)


def test_state_dicts_are_interchangeable_with_batchnorm2d():
    ref, mine = _pair(3)
    ref(torch.randn(4, 3, 2, 2))
    mine.load_state_dict(ref.state_dict())
    assert set(mine.state_dict()) == set(ref.state_dict())
    ref.eval()
    mine.eval()
    x = torch.randn(2, 3, 2, 2)
    assert_close(mine(x), ref(x))


@settings(max_examples=40)
@given(n=st.integers(1, 5), c=st.integers(1, 6), h=st.integers(1, 5), w=st.integers(1, 5),
       momentum=st.floats(0.0, 1.0), eps=st.floats(1e-6, 1.0), affine=st.booleans(), steps=st.integers(1, 3),
       seed=st.integers(0, 2**16))
def test_matches_batchnorm2d_for_any_shape_momentum_and_eps(n, c, h, w, momentum, eps, affine, steps, seed):
    if n * h * w < 2:
        n = 2
    ref, mine = _pair(c, eps=eps, momentum=momentum, affine=affine)
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x = torch.randn(n, c, h, w, generator=g) * 3 + 1
        assert_close(mine(x), ref(x), atol=1e-4, rtol=1e-4)
    assert_close(mine.running_mean, ref.running_mean, atol=1e-5, rtol=1e-4)
    assert_close(mine.running_var, ref.running_var, atol=1e-4, rtol=1e-4)
    ref.eval()
    mine.eval()
    x = torch.randn(n, c, h, w, generator=g)
    assert_close(mine(x), ref(x), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("value, message", [
    (0, "num_features must be a positive int, got 0"),
    (-3, "num_features must be a positive int, got -3"),
    (2.0, "num_features must be an int, got 2.0 of type float"),
    (True, "num_features must be an int, got True of type bool"),
])
def test_bad_num_features_is_rejected_with_its_rule(value, message):
    with pytest.raises(ValueError, match="^" + message.replace(".", r"\.")):
        BatchNorm2dScratch(value)


@pytest.mark.parametrize("eps", [0, -1e-5, math.inf, math.nan, "1e-5", None])
def test_bad_eps_is_rejected_with_its_rule(eps):
    with pytest.raises(ValueError, match=r"^eps must be a positive finite number, got "):
        BatchNorm2dScratch(4, eps=eps)


@pytest.mark.parametrize("momentum", [-0.1, 1.5, math.nan, None, "0.1", True])
def test_bad_momentum_is_rejected_with_its_rule(momentum):
    with pytest.raises(ValueError, match=r"^momentum must be a number in \[0, 1\], got " + repr(momentum)):
        BatchNorm2dScratch(4, momentum=momentum)


def test_bad_affine_is_rejected():
    with pytest.raises(ValueError, match="^affine must be True or False, got 1$"):
        BatchNorm2dScratch(4, affine=1)


def test_wrong_number_of_dimensions_is_rejected():
    bn = BatchNorm2dScratch(3)
    with pytest.raises(ValueError, match=r"^x must be a 4-d tensor \(N, C, H, W\), got shape \(3, 4, 4\)$"):
        bn(torch.randn(3, 4, 4))
    with pytest.raises(ValueError, match=r"^x must be a 4-d tensor \(N, C, H, W\), got list$"):
        bn([1.0, 2.0])
    with pytest.raises(ValueError, match=r"^x must be a 4-d tensor"):
        batch_stats(torch.randn(2, 3))


def test_wrong_number_of_channels_is_rejected():
    bn = BatchNorm2dScratch(3)
    with pytest.raises(ValueError, match=r"^x must have num_features=3 channels \(dim 1\), got shape \(2, 4, 5, 5\)$"):
        bn(torch.randn(2, 4, 5, 5))


def test_one_value_per_channel_is_rejected_in_training_but_fine_in_eval():
    bn = BatchNorm2dScratch(3)
    with pytest.raises(ValueError, match=r"more than 1 value per channel in training mode \(N\*H\*W > 1: the "
                                         r"unbiased variance kept for the running estimate divides by N\*H\*W - 1\), "
                                         r"got shape \(1, 3, 1, 1\)$"):
        bn(torch.randn(1, 3, 1, 1))
    bn.eval()
    assert bn(torch.randn(1, 3, 1, 1)).shape == (1, 3, 1, 1)


def test_evaluate_matches_a_hand_computed_loss_and_accuracy():
    from course_lib import evaluate, load_mnist, normalize, simple_cnn

    torch.manual_seed(0)
    model = simple_cnn(bn=True).eval()
    data = load_mnist()
    x, y = normalize(data.x_test[:300]), data.y_test[:300]
    loss, acc = evaluate(model, x, y, bs=128)
    with torch.no_grad():
        out = model(x)
    assert loss == pytest.approx(float(torch.nn.functional.cross_entropy(out, y)), rel=1e-5)
    assert acc == int((out.argmax(1) == y).sum()) / 300


def test_evaluating_in_train_mode_leaves_the_model_alone():
    from course_lib import evaluate, load_mnist, normalize, simple_cnn

    torch.manual_seed(0)
    model = simple_cnn(bn=True).eval()
    data = load_mnist()
    x, y = normalize(data.x_test[:64]), data.y_test[:64]
    before = {k: v.clone() for k, v in model.state_dict().items()}
    evaluate(model, x, y, bs=8, train_mode=True)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert not model.training


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"bs": 0}, "bs must be a positive int, got 0"),
    ({"train_mode": "yes"}, "train_mode must be True or False, got 'yes'"),
    ({"y": torch.zeros(3, dtype=torch.long)}, "y must be a 1-d label tensor with one label per image (2), got (3,)"),
    ({"x": torch.zeros(2, 28, 28)}, "x must be a 4-d tensor (N, C, H, W), got shape (2, 28, 28)"),
])
def test_evaluate_rejects_bad_arguments(kwargs, message):
    from course_lib import evaluate, simple_cnn

    args = {"x": torch.zeros(2, 1, 28, 28), "y": torch.zeros(2, dtype=torch.long), **kwargs}
    with pytest.raises(ValueError) as err:
        evaluate(simple_cnn(), args.pop("x"), args.pop("y"), **args)
    assert str(err.value) == message
