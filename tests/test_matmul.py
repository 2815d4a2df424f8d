"""Convolution as matrix multiplication: course_lib.matmul against F.conv2d, autograd and nn.Conv2d."""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from course_lib import (
    MatmulConv2d,
    conv2d_loops,
    conv2d_matmul,
    conv_matrix,
    im2col_bytes,
    simple_cnn,
    use_matmul_convs,
)
from course_lib.matmul import release_workspace


@st.composite
def conv_cases(draw, max_batch=4, max_channels=5, max_size=9):
    """A random convolution whose kernel fits the padded input: (x, weight, bias, stride, padding)."""
    n = draw(st.integers(1, max_batch))
    c, o = draw(st.integers(1, max_channels)), draw(st.integers(1, max_channels))
    h, w = draw(st.integers(1, max_size)), draw(st.integers(1, max_size))
    stride = draw(st.integers(1, 3) | st.tuples(st.integers(1, 3), st.integers(1, 3)))
    padding = draw(st.integers(0, 2) | st.tuples(st.integers(0, 2), st.integers(0, 2)))
    ph, pw = padding if isinstance(padding, tuple) else (padding, padding)
    kh, kw = draw(st.integers(1, h + 2 * ph)), draw(st.integers(1, w + 2 * pw))
    kh, kw = min(kh, 5), min(kw, 5)
    seed = draw(st.integers(0, 2**16))
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c, h, w, generator=gen, dtype=torch.float64)
    weight = torch.randn(o, c, kh, kw, generator=gen, dtype=torch.float64)
    bias = torch.randn(o, generator=gen, dtype=torch.float64) if draw(st.booleans()) else None
    return x, weight, bias, stride, padding


@settings(max_examples=300)
@given(case=conv_cases())
def test_conv2d_matmul_equals_f_conv2d(case):
    x, weight, bias, stride, padding = case
    expected = F.conv2d(x, weight, bias, stride, padding)
    torch.testing.assert_close(conv2d_matmul(x, weight, bias, stride, padding), expected)
    torch.testing.assert_close(conv2d_matmul(x.float(), weight.float(), None if bias is None else bias.float(),
                                             stride, padding), expected.float(), rtol=1e-4, atol=1e-4)


@settings(max_examples=300)
@given(case=conv_cases(max_batch=3, max_size=7))
def test_conv2d_loops_equals_f_conv2d(case):
    x, weight, bias, stride, padding = case
    torch.testing.assert_close(conv2d_loops(x, weight, bias, stride, padding),
                               F.conv2d(x, weight, bias, stride, padding))


@settings(max_examples=150)
@given(case=conv_cases())
def test_conv2d_matmul_gradients_equal_autograd_of_f_conv2d(case):
    x, weight, bias, stride, padding = case
    leaves = [t.clone().requires_grad_() for t in (x, weight) + (() if bias is None else (bias,))]
    out = conv2d_matmul(leaves[0], leaves[1], leaves[2] if bias is not None else None, stride, padding)
    ref_leaves = [t.detach().clone().requires_grad_() for t in leaves]
    ref = F.conv2d(ref_leaves[0], ref_leaves[1], ref_leaves[2] if bias is not None else None, stride, padding)
    grad = torch.randn_like(ref)
    out.backward(grad)
    ref.backward(grad)
    for ours, theirs in zip(leaves, ref_leaves, strict=True):
        torch.testing.assert_close(ours.grad, theirs.grad)


def test_conv2d_matmul_passes_gradcheck():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 6, 5, dtype=torch.float64, generator=gen, requires_grad=True)
    w = torch.randn(4, 3, 3, 2, dtype=torch.float64, generator=gen, requires_grad=True)
    b = torch.randn(4, dtype=torch.float64, generator=gen, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, w, b: conv2d_matmul(x, w, b, (2, 1), (1, 0)), (x, w, b))


@settings(max_examples=150)
@given(case=conv_cases(max_batch=1))
def test_conv_matrix_times_flat_input_is_the_flat_output(case):
    x, weight, _, stride, padding = case
    M = conv_matrix(weight, tuple(x.shape[2:]), stride, padding)
    out = F.conv2d(x, weight, None, stride, padding)
    assert M.shape == (out[0].numel(), x[0].numel())
    torch.testing.assert_close(M @ x.flatten(), out.flatten())


def test_conv_matrix_of_3x3_image_and_2x2_kernel_has_the_expected_pattern():
    M = conv_matrix(torch.tensor([[1.0, 2.0], [3.0, 4.0]]), 3)
    expected = torch.tensor([[1, 2, 0, 3, 4, 0, 0, 0, 0],
                             [0, 1, 2, 0, 3, 4, 0, 0, 0],
                             [0, 0, 0, 1, 2, 0, 3, 4, 0],
                             [0, 0, 0, 0, 1, 2, 0, 3, 4]], dtype=torch.float32)
    torch.testing.assert_close(M, expected)


@settings(max_examples=100)
@given(case=conv_cases(max_batch=1))
def test_transposed_conv_matrix_gives_the_input_gradient_and_conv_transpose2d(case):
    x, weight, _, stride, padding = case
    x = x.clone().requires_grad_()
    out = F.conv2d(x, weight, None, stride, padding)
    grad = torch.randn_like(out)
    out.backward(grad)
    M = conv_matrix(weight, tuple(x.shape[2:]), stride, padding)
    torch.testing.assert_close((M.T @ grad.flatten()).view_as(x), x.grad)
    sh, sw = stride if isinstance(stride, tuple) else (stride, stride)
    ph, pw = padding if isinstance(padding, tuple) else (padding, padding)
    kh, kw = weight.shape[2:]
    extra = (x.shape[2] - ((out.shape[2] - 1) * sh - 2 * ph + kh), x.shape[3] - ((out.shape[3] - 1) * sw - 2 * pw + kw))
    if max(extra) < max(sh, sw) and min(extra) >= 0 and extra[0] < sh and extra[1] < sw:
        torch.testing.assert_close(F.conv_transpose2d(grad, weight, None, stride, padding, extra), x.grad)


def test_conv_matrix_carries_gradients_back_to_the_weight():
    w = torch.randn(2, 1, 2, 2, requires_grad=True)
    conv_matrix(w, 4).sum().backward()
    # each weight appears once per output position: 3 x 3 = 9 times
    torch.testing.assert_close(w.grad, torch.full_like(w, 9.0))


@settings(max_examples=60)
@given(n=st.integers(1, 8), c=st.integers(1, 16), size=st.integers(3, 30), ks=st.integers(1, 3),
       stride=st.integers(1, 3), padding=st.integers(0, 2))
def test_im2col_bytes_is_the_size_of_unfold(n, c, size, ks, stride, padding):
    cols = F.unfold(torch.zeros(n, c, size, size), ks, padding=padding, stride=stride)
    assert im2col_bytes((n, c, size, size), ks, stride, padding) == cols.numel() * 4


def test_same_padding_patch_matrix_is_ks_squared_times_the_input():
    assert im2col_bytes((64, 64, 56, 56), 3, 1, 1) == 9 * 64 * 64 * 56 * 56 * 4


def test_matmul_conv2d_is_a_drop_in_for_nn_conv2d():
    torch.manual_seed(0)
    ref = nn.Conv2d(3, 5, (3, 2), stride=(2, 1), padding=1)
    torch.manual_seed(0)
    ours = MatmulConv2d(3, 5, (3, 2), stride=(2, 1), padding=1)
    assert [p.shape for p in ours.parameters()] == [p.shape for p in ref.parameters()]
    torch.testing.assert_close(ours.weight, ref.weight)
    x = torch.randn(4, 3, 9, 7)
    torch.testing.assert_close(ours(x), ref(x), rtol=1e-4, atol=1e-5)
    copied = MatmulConv2d.from_conv2d(ref)
    torch.testing.assert_close(copied(x), ref(x), rtol=1e-4, atol=1e-5)


def test_use_matmul_convs_swaps_every_conv_and_keeps_outputs():
    torch.manual_seed(0)
    model = simple_cnn()
    x = torch.randn(8, 1, 28, 28)
    expected = model(x)
    swapped = use_matmul_convs(model)
    convs = [m for m in swapped.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 5 and all(isinstance(m, MatmulConv2d) for m in convs)
    torch.testing.assert_close(swapped(x), expected, rtol=1e-4, atol=1e-4)


def test_a_training_step_matches_nn_conv2d():
    torch.manual_seed(0)
    ref = simple_cnn()
    ours = use_matmul_convs(simple_cnn())
    ours.load_state_dict(ref.state_dict())
    x, y = torch.randn(16, 1, 28, 28), torch.randint(0, 10, (16,))
    for model in (ref, ours):
        F.cross_entropy(model(x), y).backward()
    for (name, p), q in zip(ref.named_parameters(), ours.parameters(), strict=True):
        torch.testing.assert_close(q.grad, p.grad, rtol=1e-4, atol=1e-5, msg=name)


def test_scratch_buffers_are_safe_across_layers_and_two_forwards_before_backward():
    torch.manual_seed(0)
    release_workspace()
    w1, w2 = torch.randn(4, 3, 3, 3, requires_grad=True), torch.randn(6, 4, 3, 3, requires_grad=True)
    x1, x2 = torch.randn(2, 3, 8, 8), torch.randn(3, 3, 10, 10)
    outs = [conv2d_matmul(conv2d_matmul(x, w1, None, 1, 1), w2, None, 2, 1) for x in (x1, x2)]
    (outs[0].sum() + outs[1].square().sum()).backward()
    g_ours = (w1.grad.clone(), w2.grad.clone())
    w1.grad = w2.grad = None
    refs = [F.conv2d(F.conv2d(x, w1, None, 1, 1), w2, None, 2, 1) for x in (x1, x2)]
    (refs[0].sum() + refs[1].square().sum()).backward()
    for a, b in zip(outs, refs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(g_ours[0], w1.grad, rtol=1e-4, atol=1e-3)
    torch.testing.assert_close(g_ours[1], w2.grad, rtol=1e-4, atol=1e-3)
    release_workspace()


# ---------------------------------------------------------------------------
# Bad input: each error names the shapes involved.

FNS = [conv2d_matmul, conv2d_loops]


@pytest.mark.parametrize("fn", FNS)
def test_mismatched_channels_name_both_shapes(fn):
    msg = ("x has 3 channels (x.shape=(2, 3, 8, 8)) but weight expects 4 input channels "
           "(weight.shape=(5, 4, 3, 3)): x.shape[1] must equal weight.shape[1]")
    with pytest.raises(ValueError, match=re.escape(msg)):
        fn(torch.zeros(2, 3, 8, 8), torch.zeros(5, 4, 3, 3))


@pytest.mark.parametrize("fn", FNS)
def test_kernel_larger_than_padded_input_names_both_shapes(fn):
    msg = ("the kernel is larger than the padded input: weight.shape=(1, 1, 7, 7) has a 7×7 kernel, "
           "but x.shape=(1, 1, 4, 4) with padding=(1, 1) gives a 6×6 padded input")
    with pytest.raises(ValueError, match=re.escape(msg)):
        fn(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 7, 7), padding=1)


@pytest.mark.parametrize("fn", FNS)
def test_input_that_is_not_4d_is_rejected(fn):
    with pytest.raises(ValueError, match=re.escape("x must be a 4-D tensor (N, C, H, W), got shape (3, 8, 8)")):
        fn(torch.zeros(3, 8, 8), torch.zeros(2, 3, 3, 3))


@pytest.mark.parametrize("fn", FNS)
def test_weight_that_is_not_4d_is_rejected(fn):
    msg = "weight must be a 4-D tensor (out_channels, in_channels, kH, kW), got shape (3, 3)"
    with pytest.raises(ValueError, match=re.escape(msg)):
        fn(torch.zeros(1, 1, 8, 8), torch.zeros(3, 3))


@pytest.mark.parametrize("fn", FNS)
@pytest.mark.parametrize("stride", [0, -1, (1, 0)])
def test_non_positive_stride_is_rejected(fn, stride):
    name = "stride[1]" if isinstance(stride, tuple) else "stride"
    value = stride[1] if isinstance(stride, tuple) else stride
    with pytest.raises(ValueError, match=re.escape(f"{name} must be a positive int, got {value}")):
        fn(torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 3, 3), stride=stride)


def test_negative_padding_and_wrong_bias_are_rejected():
    with pytest.raises(ValueError, match=re.escape("padding must be a non-negative int, got -1")):
        conv2d_matmul(torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 3, 3), padding=-1)
    msg = "bias must be None or a tensor of shape (2,) for weight.shape=(2, 1, 3, 3), got (3,)"
    with pytest.raises(ValueError, match=re.escape(msg)):
        conv2d_matmul(torch.zeros(1, 1, 8, 8), torch.zeros(2, 1, 3, 3), torch.zeros(3))


def test_conv_matrix_rejects_bad_input_size_and_too_large_kernel():
    with pytest.raises(ValueError, match=re.escape("input_size must be a positive int, got 0")):
        conv_matrix(torch.zeros(2, 2), 0)
    with pytest.raises(ValueError, match="the kernel is larger than the padded input"):
        conv_matrix(torch.zeros(4, 4), 3)


@pytest.mark.parametrize(("kwargs", "msg"), [
    ({"dilation": 2}, "dilation must be 1 for MatmulConv2d, got 2"),
    ({"groups": 2}, "groups must be 1 for MatmulConv2d, got 2"),
    ({"padding_mode": "reflect"}, "padding_mode must be 'zeros' for MatmulConv2d, got 'reflect'"),
    ({"padding": "same"}, "padding must be an int or a pair of ints, got 'same'"),
    ({"stride": 0}, "stride must be a positive int, got 0"),
])
def test_matmul_conv2d_rejects_what_it_does_not_support(kwargs, msg):
    with pytest.raises(ValueError, match=re.escape(msg)):
        MatmulConv2d(2, 2, 3, **kwargs)


def test_im2col_bytes_rejects_a_shape_that_is_not_4d():
    with pytest.raises(ValueError, match=re.escape("input_shape must be (N, C, H, W), got (1, 28, 28)")):
        im2col_bytes((1, 28, 28), 3)
