"""conv_output_size and same_padding against PyTorch's own Conv2d."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from course_lib import conv_output_size, same_padding


@st.composite
def conv_settings(draw):
    ks = draw(st.integers(1, 7))
    dilation = draw(st.integers(1, 3))
    padding = draw(st.integers(0, 4))
    stride = draw(st.integers(1, 4))
    span = dilation * (ks - 1) + 1
    n = draw(st.integers(max(1, span - 2 * padding), 40))
    return n, ks, stride, padding, dilation


@settings(max_examples=1000)
@given(conv_settings())
def test_conv_output_size_matches_nn_conv2d(params):
    n, ks, stride, padding, dilation = params
    conv = nn.Conv2d(1, 1, ks, stride=stride, padding=padding, dilation=dilation, bias=False)
    with torch.no_grad():
        out = conv(torch.zeros(1, 1, n, n))
    assert out.shape[-1] == conv_output_size(n, ks, stride, padding, dilation)


@settings(max_examples=300)
@given(st.integers(1, 60))
def test_ks3_pad1_stride2_rounds_half_up(h):
    assert conv_output_size(h, 3, stride=2, padding=1) == (h + 1) // 2


@settings(max_examples=200)
@given(ks=st.integers(0, 6).map(lambda k: 2 * k + 1), dilation=st.integers(1, 3), n=st.integers(1, 30))
def test_same_padding_keeps_shape_for_odd_kernels(ks, dilation, n):
    pad = same_padding(ks, dilation)
    conv = nn.Conv2d(1, 1, ks, padding=pad, dilation=dilation, bias=False)
    with torch.no_grad():
        assert conv(torch.zeros(1, 1, n, n)).shape[-1] == n
    assert conv_output_size(n, ks, 1, pad, dilation) == n


@pytest.mark.parametrize("ks", [1, 3, 5, 7])
def test_same_padding_is_ks_floordiv_2_without_dilation(ks):
    assert same_padding(ks) == ks // 2


@pytest.mark.parametrize("ks", [2, 4, 6])
def test_same_padding_rejects_even_kernels_with_explanation(ks):
    with pytest.raises(ValueError, match=rf"ks={ks} with dilation=1 needs {ks - 1} pixels of padding.*cannot "
                                         r"be split evenly between the two sides"):
        same_padding(ks)


def test_same_padding_error_does_not_split_the_padding_for_the_student():
    # ex-ch1-same-padding asks for that split (F.pad's 4-tuple): the error names only the total
    with pytest.raises(ValueError) as err:
        same_padding(4, dilation=3)
    assert "9 pixels" in str(err.value) and "4 " not in str(err.value).split("needs")[1]


def test_even_kernel_with_even_dilation_is_fine():
    # dilation 2 makes the span of a 4-tap kernel 7 pixels, an odd span
    assert same_padding(4, dilation=2) == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(n=-1, ks=3), r"n must be a positive int, got -1"),
        (dict(n=0, ks=3), r"n must be a positive int, got 0"),
        (dict(n=5, ks=0), r"ks must be a positive int, got 0"),
        (dict(n=5, ks=3, stride=0), r"stride must be a positive int, got 0"),
        (dict(n=5, ks=3, stride=-2), r"stride must be a positive int, got -2"),
        (dict(n=5, ks=3, dilation=0), r"dilation must be a positive int, got 0"),
        (dict(n=5, ks=3, padding=-1), r"padding must be a non-negative int, got -1"),
        (dict(n=5, ks=3, stride=1.5), r"stride must be an int, got 1.5 of type float"),
        (dict(n=5.0, ks=3), r"n must be an int, got 5.0 of type float"),
        (dict(n=5, ks=True), r"ks must be an int, got True of type bool"),
        (dict(n=5, ks="3"), r"ks must be an int, got '3' of type str"),
        (dict(n=4, ks=7), r"kernel is larger than the padded input: ks=7 with dilation=1 spans 7 pixels, "
                          r"but n \+ 2\*padding = 4 \+ 2\*0 = 4"),
        (dict(n=4, ks=3, dilation=3), r"ks=3 with dilation=3 spans 7 pixels, but n \+ 2\*padding = 4"),
    ],
)
def test_conv_output_size_rejects_bad_input_with_named_parameter(kwargs, message):
    with pytest.raises(ValueError, match=message):
        conv_output_size(**kwargs)


def test_kernel_exactly_as_large_as_padded_input_gives_one_output():
    assert conv_output_size(3, 5, padding=1) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(ks=0), r"ks must be a positive int, got 0"),
        (dict(ks=3, dilation=0), r"dilation must be a positive int, got 0"),
        (dict(ks=False), r"ks must be an int, got False of type bool"),
    ],
)
def test_same_padding_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        same_padding(**kwargs)
