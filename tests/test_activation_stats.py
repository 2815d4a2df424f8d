"""Activation statistics recorded by fastai's ActivationStats on the layers a chapter chooses."""

from __future__ import annotations

import matplotlib
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from course_lib import activation_stats, block_outputs, near_zero_fraction, plot_layer_stats, simple_cnn, train

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def run():
    """One short 1cycle run on the 3s and 7s that records the block outputs' statistics."""
    return train(simple_cnn, bs=256, sample=True, lr=0.01, seed=0, quiet=True, cbs=[activation_stats()])


def test_block_stats_record_every_training_batch_for_each_block(run):
    cb = run.learner.activation_stats
    n_batches = len(run.learner.dls.train)
    assert len(cb.stats) == n_batches and all(len(batch) == 5 for batch in cb.stats)
    means, stds, near_zero = (torch.tensor(v) for v in zip(*(cb.layer_stats(j) for j in range(5)), strict=True))
    assert means.shape == (5, n_batches)
    # the first four blocks end in a ReLU, whose outputs, and so their mean, are never negative
    assert (means[:4] >= 0).all() and (stds > 0).all()
    assert ((near_zero >= 0) & (near_zero <= 1)).all()
    fig = plot_layer_stats(cb, title="test")
    assert len(fig.axes) == 3 and all(len(ax.lines) == 5 for ax in fig.axes)
    matplotlib.pyplot.close("all")


def test_named_layers_with_hist_give_fastais_colorful_dimension():
    torch.manual_seed(0)
    model = simple_cnn()
    cb = activation_stats(["3.1"], with_hist=True)
    r = train(lambda: model, bs=1024, sample=True, lr=0.01, seed=1, quiet=True, cbs=[cb])
    stats = r.learner.activation_stats
    assert stats.modules == [model[3][1]]  # the ReLU of block 4, a layer without parameters
    hist = stats.hist(0)  # fastai's: log(1 + count), 40 bins of [0, 10] by training batch
    assert hist.shape == (40, len(r.learner.dls.train))
    # replay the last batch's ReLU output and compare it with the last recorded histogram
    xb, _ = r.learner.dls.train.one_batch()
    assert torch.all(hist >= 0)
    out = []
    handle = model[3][1].register_forward_hook(lambda m, i, o: out.append(o.detach()))
    model.eval()
    with torch.no_grad():
        model(xb)
    handle.remove()
    assert torch.equal(torch.histc(out[0].float(), 40, 0, 10).sum(), ((out[0] >= 0) & (out[0] <= 10)).sum().float())


@given(st.lists(st.floats(-3, 3), min_size=1, max_size=50), st.floats(-1, 1))
def test_near_zero_fraction_matches_fastais_activation_stats(values, threshold):
    from fastai.callback.hook import ActivationStats

    x = torch.tensor(values)
    ours = near_zero_fraction(x)
    assert ours == pytest.approx(ActivationStats().hook(None, None, x)["near_zero"])
    assert near_zero_fraction(x, threshold) == pytest.approx(float((x <= threshold).float().mean()))


def test_block_outputs_are_the_relus_then_the_last_conv():
    outs = block_outputs(simple_cnn())
    assert [type(m).__name__ for m in outs] == ["ReLU"] * 4 + ["Conv2d"]
    assert [type(m).__name__ for m in block_outputs(simple_cnn(bn=True))] == ["BatchNorm2d"] * 5


def test_an_unknown_layer_name_is_reported_when_training_starts():
    # fastai prefixes the message with the callback and event it came from
    with pytest.raises(ValueError, match=r"(?s)before_fit.*layers must name submodules of the model, got \['9\.9'\]"):
        train(simple_cnn, bs=4096, sample=True, seed=0, quiet=True, cbs=[activation_stats(["9.9"])])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: near_zero_fraction(torch.zeros(0)), "x must be a non-empty tensor, got Tensor with shape (0,)"),
        (lambda: near_zero_fraction(torch.zeros(3), threshold="a"), "threshold must be a finite number, got 'a'"),
        (lambda: near_zero_fraction(torch.zeros(3), threshold=float("nan")),
         "threshold must be a finite number, got nan"),
        (lambda: block_outputs(torch.nn.Linear(2, 2)), "model must be an nn.Sequential of blocks, got Linear"),
        (lambda: block_outputs(torch.nn.Sequential(torch.nn.ReLU())), "at least one non-empty nn.Sequential"),
        (lambda: activation_stats(every=0), "every must be a positive int, got 0"),
        (lambda: activation_stats(with_hist=1), "with_hist must be True or False, got 1"),
        (lambda: activation_stats("3.1"), "layers must be None or a non-empty list of submodule names"),
        (lambda: activation_stats([]), "layers must be None or a non-empty list of submodule names"),
        (lambda: plot_layer_stats(object()), "stats_cb must be an ActivationStats callback"),
    ],
)
def test_bad_arguments_raise_a_value_error_naming_them(call, message):
    with pytest.raises(ValueError) as err:
        call()
    assert message in str(err.value)
