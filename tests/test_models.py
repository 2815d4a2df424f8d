"""The chapter-3 models: shapes and parameter counts against PyTorch itself."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from course_lib import conv, simple_cnn, simple_net


def test_simple_net_is_784_30_10():
    model = simple_net()
    assert [m.weight.shape for m in model if isinstance(m, nn.Linear)] == [torch.Size([30, 784]),
                                                                             torch.Size([10, 30])]
    assert model(torch.zeros(5, 1, 28, 28)).shape == (5, 10)


@pytest.mark.parametrize("bn", [False, True])
@pytest.mark.parametrize("first_ks", [3, 5, 7])
def test_simple_cnn_shrinks_a_digit_to_class_scores(bn, first_ks):
    model = simple_cnn(bn, first_ks=first_ks, n_out=2)
    x = torch.zeros(3, 1, 28, 28)
    sizes = []
    for block in model:
        x = block(x)
        sizes.append(tuple(x.shape[1:]))
    assert sizes == [(8, 14, 14), (16, 7, 7), (32, 4, 4), (64, 2, 2), (2, 1, 1), (2,)]
    assert model[0][0].kernel_size == (first_ks, first_ks)


def test_simple_cnn_default_matches_fastbook_parameter_count():
    # fastbook chapter 13's simple_cnn: 208 + 1,168 + 4,640 + 18,496 + 5,770 parameters
    assert sum(p.numel() for p in simple_cnn().parameters()) == 30_282


@settings(max_examples=30, deadline=None)
@given(ni=st.integers(1, 8), nf=st.integers(1, 8), ks=st.sampled_from([1, 3, 5]), size=st.integers(1, 20),
       act=st.booleans(), bn=st.booleans())
def test_conv_halves_the_size_like_a_stride_2_conv2d(ni, nf, ks, size, act, bn):
    torch.manual_seed(0)
    block = conv(ni, nf, ks, act=act, bn=bn).eval()
    x = torch.randn(2, ni, size, size)
    reference = torch.nn.functional.conv2d(x, block[0].weight, block[0].bias, stride=2, padding=ks // 2)
    if act:
        reference = reference.relu()
    if bn:
        reference = block[-1](reference)
    torch.testing.assert_close(block(x), reference)
    assert block(x).shape[-1] == (size + 1) // 2


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: simple_net(n_hidden=0), "n_hidden must be a positive int, got 0"),
        (lambda: simple_cnn(n_out=1.5), "n_out must be an int, got 1.5"),
        (lambda: simple_cnn(first_ks=4), "ks must be odd so that padding ks//2 is symmetric, got 4"),
        (lambda: simple_cnn(bn=1), "bn must be True or False, got 1"),
    ],
)
def test_bad_arguments_raise_with_the_rule(call, message):
    with pytest.raises(ValueError, match=message):
        call()
