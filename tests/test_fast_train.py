"""The fastai-free training path reproduces fit_one_cycle: schedule, batch order, weights."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.testing import assert_close

from course_lib import (
    BatchNorm2dScratch,
    evaluate,
    fastai_batch_order,
    fastai_one_cycle,
    fit_one_cycle_fast,
    gradient_error_vs_float64,
    load_mnist,
    mnist_dls,
    normalize,
    simple_cnn,
    train,
)


@settings(max_examples=60)
@given(pos=st.floats(0, 0.999), lr_max=st.floats(1e-4, 1.0), pct_start=st.floats(0.05, 0.95))
def test_schedule_equals_fastai_combined_cos(pos, lr_max, pct_start):
    from fastai.callback.schedule import combined_cos

    lr_sched = combined_cos(pct_start, lr_max / 25, lr_max, lr_max / 1e5)
    mom_sched = combined_cos(pct_start, 0.95, 0.85, 0.95)
    lr, mom = fastai_one_cycle(pos, lr_max, pct_start=pct_start)
    # fastai locates pos in float32, so the two agree to float32 rounding of the position
    assert lr == pytest.approx(float(lr_sched(pos)), rel=1e-4, abs=1e-9)
    assert mom == pytest.approx(float(mom_sched(pos)), rel=1e-6)


def test_batch_order_equals_the_course_loader():
    dls = mnist_dls(bs=10000, seed=5)
    y = load_mnist().y_train
    for order in fastai_batch_order(60000, 2, 5):
        assert torch.equal(torch.cat([yb for _, yb in dls.train]), y[torch.tensor(order)])


def test_same_weights_and_accuracy_as_fastai_train_for_a_few_steps():
    # bs=15000: 4 steps of 1cycle, cheap enough to compare both paths weight by weight. With the
    # ordinary NCHW layout both paths run the same kernels, so only float rounding may differ.
    kwargs = dict(epochs=1, lr=0.05, bs=15000, seed=3)
    ref = train(lambda: simple_cnn(bn=True), quiet=True, **kwargs)
    mine = fit_one_cycle_fast(lambda: simple_cnn(bn=True), **kwargs)
    for (name, a), (_, b) in zip(ref.learner.model.state_dict().items(), mine.model.state_dict().items(),
                                 strict=True):
        assert_close(b, a, atol=1e-4, rtol=1e-3, msg=name)  # float rounding only
    assert mine.accuracy == pytest.approx(ref.accuracy, abs=2e-4)
    assert mine.valid_loss == pytest.approx(ref.valid_loss, rel=1e-3)


def test_channels_last_training_returns_a_channels_last_model_that_learns():
    r = fit_one_cycle_fast(lambda: simple_cnn(bn=True), epochs=1, lr=0.05, bs=15000, seed=3, channels_last=True)
    assert r.model[1][0].weight.is_contiguous(memory_format=torch.channels_last)
    assert r.accuracy > 0.5  # 4 steps from chance (10%): it learns; exact numbers differ from NCHW by rounding


def test_scratch_batchnorm_gets_no_weight_decay():
    from course_lib.fast_train import _param_groups

    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), BatchNorm2dScratch(2), torch.nn.BatchNorm2d(2))
    decay, no_decay = _param_groups(model, 0.01)
    assert [p.shape for p in decay["params"]] == [(2, 1, 3, 3)]
    assert len(no_decay["params"]) == 5 and no_decay["weight_decay"] == 0.0


def test_evaluating_in_train_mode_leaves_the_model_alone():
    torch.manual_seed(0)
    model = simple_cnn(bn=True).eval()
    data = load_mnist()
    x, y = normalize(data.x_test[:64]), data.y_test[:64]
    before = {k: v.clone() for k, v in model.state_dict().items()}
    evaluate(model, x, y, bs=8, train_mode=True)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert not model.training


@pytest.mark.parametrize("kwargs, message", [
    ({"epochs": 0}, "epochs must be a positive int, got 0"),
    ({"bs": 0}, "bs must be a positive int, got 0"),
    ({"lr": -0.1}, "lr must be a positive number, got -0.1"),
    ({"wd": -1}, "wd must be a non-negative number, got -1"),
    ({"threads": 0}, "threads must be a positive int, got 0"),
    ({"bs": 70000}, "bs must be at most the 60000 training images, got 70000"),
    ({"channels_last": "yes"}, "channels_last must be True or False, got 'yes'"),
])
def test_bad_training_arguments_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match="^" + message.replace(".", r"\.") + "$"):
        fit_one_cycle_fast(lambda: simple_cnn(bn=True), **kwargs)


def test_bad_schedule_and_order_arguments_are_rejected():
    with pytest.raises(ValueError, match=r"^pos must be a number in \[0, 1\], got 1\.5$"):
        fastai_one_cycle(1.5, 0.1)
    with pytest.raises(ValueError, match=r"^lr_max must be a positive number, got 0$"):
        fastai_one_cycle(0.5, 0)
    with pytest.raises(ValueError, match=r"^pct_start must be a number in \(0, 1\), got 1$"):
        fastai_one_cycle(0.5, 0.1, pct_start=1)
    with pytest.raises(ValueError, match=r"^seed must be a non-negative int, got -1$"):
        fastai_batch_order(10, 1, -1)
    with pytest.raises(ValueError, match=r"^bs must be a positive int, got 0$"):
        evaluate(simple_cnn(), torch.zeros(2, 1, 28, 28), torch.zeros(2, dtype=torch.long), bs=0)


def test_default_layout_gradients_match_a_float64_reference():
    # The reason fit_one_cycle_fast trains NCHW by default: its gradients through five BatchNorm layers
    # agree with float64 to float32 rounding (benchmarks/bench_bn_1cycle.py stores the channels-last numbers).
    torch.manual_seed(0)
    model = simple_cnn(bn=True)
    data = load_mnist()
    errors = gradient_error_vs_float64(model, normalize(data.x_train[:256]), data.y_train[:256])
    assert len(errors) >= 18 and "0.0.weight" in errors  # every parameter but a dead channel's bias
    assert max(errors.values()) < 1e-4, errors
    assert model[0][0].weight.grad is None  # the model itself is left untouched


def test_gradient_error_rejects_bad_input():
    with pytest.raises(ValueError, match=r"^model must be a torch.nn.Module, got str$"):
        gradient_error_vs_float64("net", torch.zeros(2, 1, 28, 28), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match=r"^x must be a 4-d image tensor"):
        gradient_error_vs_float64(simple_cnn(), torch.zeros(2, 28, 28), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match=r"^channels_last must be True or False, got 1$"):
        gradient_error_vs_float64(simple_cnn(), torch.zeros(2, 1, 28, 28), torch.zeros(2, dtype=torch.long),
                                  channels_last=1)
