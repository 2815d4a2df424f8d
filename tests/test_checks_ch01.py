"""Chapter 1's exercise checks: right answers pass, wrong ones get the specific hint."""

import math
import warnings

import numpy as np
import pytest
import torch

import course_lib
import course_lib.matmul
from course_lib import check, conv2d_loops, conv2d_matmul, conv_matrix, conv_output_size


def loop_conv(img, k):
    kh, kw = k.shape
    return torch.stack([torch.stack([(img[i:i + kh, j:j + kw] * k).sum()
                                     for j in range(img.shape[1] - kw + 1)])
                        for i in range(img.shape[0] - kh + 1)])


def unfold_conv(img, k):
    patches = torch.nn.functional.unfold(img[None, None], tuple(k.shape))[0]  # (kH*kW, L)
    return (k.reshape(1, -1) @ patches).reshape(img.shape[0] - k.shape[0] + 1, img.shape[1] - k.shape[1] + 1)


def im2col_conv(img, k):
    patches = torch._C._nn.im2col(img[None, None], tuple(k.shape), (1, 1), (0, 0), (1, 1))[0]
    return (k.reshape(1, -1) @ patches).reshape(img.shape[0] - k.shape[0] + 1, img.shape[1] - k.shape[1] + 1)


@pytest.mark.parametrize(
    ("label", "answer"),
    [
        ("ex-ch1-output-size", 30),
        ("ex-ch1-output-size", torch.tensor(30)),
        ("ex-ch1-output-size", np.int64(30)),
        ("ex-ch1-diagonal-kernel", [[1, 0, -1], [0, 0, 0], [-1, 0, 1]]),
        ("ex-ch1-diagonal-kernel", [[-1, 0, 1], [0, 0, 0], [1, 0, -1]]),
        ("ex-ch1-diagonal-kernel", torch.tensor([[0.0, 0.0, 0.0], [0.0, 1.0, -1.0], [0.0, -1.0, 1.0]])),
        ("ex-ch1-diagonal-kernel", np.array([[1, -1, 0], [-1, 1, 0], [0, 0, 0]])),
        ("ex-ch1-diagonal-kernel", 1e-5 * torch.tensor([[1.0, 0.0, -1.0], [0.0, 0.0, 0.0], [-1.0, 0.0, 1.0]])),
        ("ex-ch1-diagonal-kernel", 1e4 * torch.tensor([[1.0, 0.0, -1.0], [0.0, 0.0, 0.0], [-1.0, 0.0, 1.0]])),
        ("ex-ch1-stride-chain", 46),
        ("ex-ch1-stride-chain", np.int64(46)),
        ("ex-ch1-stride-chain", torch.tensor(46)),
    ],
)
def test_right_answers_pass(label, answer):
    result = check(label, answer)
    assert result.passed and result.points == result.max_points == 1, result
    assert repr(result).startswith("✅ Correct")


def test_loop_convolution_passes():
    assert check("ex-ch1-conv-by-hand", loop_conv).passed


@pytest.mark.parametrize(
    ("label", "answer", "hint"),
    [
        ("ex-ch1-output-size", 27, "if you leave out the floor"),
        ("ex-ch1-output-size", 28, "Put it back into the formula"),
        ("ex-ch1-output-size", 29, "Put it back into the formula"),
        ("ex-ch1-output-size", 33, "if the padding were added once"),
        ("ex-ch1-output-size", 34, "without the +1"),
        ("ex-ch1-output-size", 36, "ignores the padding"),
        ("ex-ch1-output-size", 8, "asks for an input height"),
        ("ex-ch1-output-size", 31, "Put it back into the formula"),
        ("ex-ch1-output-size", 12, "Put it back into the formula"),
        ("ex-ch1-output-size", -30, "a height is a positive number of rows"),
        ("ex-ch1-output-size", 0, "a height is a positive number of rows"),
        ("ex-ch1-output-size", 30.0, "float 30.0: a height is a whole number"),
        ("ex-ch1-output-size", 27.75, "floor division"),
        ("ex-ch1-output-size", "30", "whole number (an int), got str '30'"),
        ("ex-ch1-output-size", True, "whole number (an int), got bool True"),
        ("ex-ch1-output-size", torch.tensor(30.0), "whole number (an int), got Tensor"),
        ("ex-ch1-diagonal-kernel", [[1, 1, 1], [1, 1, 1], [1, 1, 1]], "flat (constant) image"),
        ("ex-ch1-diagonal-kernel", [[-1, -1, -1], [0, 0, 0], [1, 1, 1]], "every row of the kernel sum to 0"),
        ("ex-ch1-diagonal-kernel", [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]], "every column of"),
        ("ex-ch1-diagonal-kernel", [[-2, -1, 0], [-1, 0, 1], [0, 1, 2]], "horizontal edge"),
        ("ex-ch1-diagonal-kernel", [[0, 0, 0], [0, 0, 0], [0, 0, 0]], "blind to the diagonal edge"),
        ("ex-ch1-diagonal-kernel", [[1, 2], [3, 4]], "shape (2, 2)"),
        ("ex-ch1-diagonal-kernel", [[math.nan] * 3] * 3, "NaN"),
        ("ex-ch1-diagonal-kernel", torch.ones(3, 3, dtype=torch.complex64), "complex"),
        ("ex-ch1-diagonal-kernel", "[[1, 0, -1], [0, 0, 0], [-1, 0, 1]]", "string"),
        ("ex-ch1-diagonal-kernel", [[1, 0, -1], [0, 0, 0], [-1, 0]], "three rows of three"),
        ("ex-ch1-diagonal-kernel", [[1, 0, -1], [0, 0, 0], [-1, 0, "1"]], "cannot read your list"),
        ("ex-ch1-diagonal-kernel", lambda: 0, "cannot read your function"),
        ("ex-ch1-stride-chain", 31, "as if it had no floor"),
        ("ex-ch1-stride-chain", 31, "rounding each layer's output up"),
        ("ex-ch1-stride-chain", 22, "22 is not it. Put your n through the four layers"),
        ("ex-ch1-stride-chain", 94, "94 is not it. Put your n through the four layers"),
        ("ex-ch1-stride-chain", 61, "if the padding were added once"),
        ("ex-ch1-stride-chain", 61, "input rows one output unit of these four layers sees"),
        ("ex-ch1-stride-chain", 76, "if the padding is ignored"),
        ("ex-ch1-stride-chain", 76, "without the +1"),
        ("ex-ch1-stride-chain", 1, "the size of the last output"),
        ("ex-ch1-stride-chain", 47, "Put your n through the four layers"),
        ("ex-ch1-stride-chain", 45, "Put your n through the four layers"),
        ("ex-ch1-stride-chain", 0, "a positive number of pixels"),
        ("ex-ch1-stride-chain", -46, "a positive number of pixels"),
        ("ex-ch1-stride-chain", [18, 8, 3, 1], "give one whole number, the input size n"),
        ("ex-ch1-stride-chain", (46,), "give one whole number, the input size n"),
        ("ex-ch1-stride-chain", np.array([46, 22]), "give one whole number, the input size n"),
        ("ex-ch1-stride-chain", 46.0, "whole number of pixels"),
        ("ex-ch1-stride-chain", 45.5, "whole number of pixels"),
        ("ex-ch1-stride-chain", np.float32(46), "whole number of pixels"),
        ("ex-ch1-stride-chain", torch.tensor(46.0), "whole number of pixels"),
        ("ex-ch1-stride-chain", "46", "string"),
        ("ex-ch1-stride-chain", True, "as an int; got bool"),
        ("ex-ch1-stride-chain", {46}, "as an int; got set"),
        ("ex-ch1-conv-by-hand", 42, "Pass your function itself"),
        ("ex-ch1-conv-by-hand", lambda img, k: torch.zeros(2, 2), "has shape (2, 2); expected (3, 3)"),
        ("ex-ch1-conv-by-hand", lambda img, k: loop_conv(img, k[:, : k.shape[0]]), "2×3 kernel"),
        ("ex-ch1-conv-by-hand", lambda img, k: loop_conv(img, k.flip(0, 1)), "flipped the kernel"),
        ("ex-ch1-conv-by-hand", lambda img, k: 1 / 0, "raised ZeroDivisionError"),
        ("ex-ch1-conv-by-hand",
         lambda img, k: torch.nn.functional.conv2d(img[None, None], k[None, None])[0, 0],
         "this exercise rules out"),
        ("ex-ch1-conv-by-hand", lambda img, k: torch.conv2d(img[None, None], k[None, None])[0, 0],
         "this exercise rules out"),
        ("ex-ch1-conv-by-hand", unfold_conv, "called F.unfold, which this exercise rules out"),
        ("ex-ch1-conv-by-hand", im2col_conv, "this exercise rules out"),
        ("ex-ch1-conv-by-hand",
         lambda img, k: torch.nn.Conv2d(1, 1, tuple(k.shape), bias=False)(img[None, None])[0, 0],
         "this exercise rules out"),
        ("ex-ch1-conv-by-hand", lambda im, k: conv2d_loops(im[None, None], k[None, None])[0, 0],
         "called course_lib.matmul.conv2d_loops, which this exercise rules out"),
        ("ex-ch1-conv-by-hand", lambda im, k: conv2d_matmul(im[None, None], k[None, None])[0, 0],
         "called course_lib.matmul.conv2d_matmul, which this exercise rules out"),
        ("ex-ch1-conv-by-hand", lambda im, k: course_lib.conv2d_loops(im[None, None], k[None, None])[0, 0],
         "called course_lib.matmul.conv2d_loops"),
        ("ex-ch1-conv-by-hand", lambda im, k: course_lib.matmul.conv2d_matmul(im[None, None], k[None, None])[0, 0],
         "called course_lib.matmul.conv2d_matmul"),
        ("ex-ch1-conv-by-hand",
         lambda im, k: course_lib.MatmulConv2d(1, 1, tuple(k.shape), bias=False)(im[None, None])[0, 0],
         "called course_lib.matmul.conv2d_matmul"),
        ("ex-ch1-conv-by-hand",
         lambda im, k: (conv_matrix(k, tuple(im.shape)) @ im.flatten()).view(im.shape[0] - k.shape[0] + 1, -1),
         "called course_lib.matmul.conv_matrix"),
    ],
)
def test_wrong_answers_get_a_specific_hint(label, answer, hint):
    result = check(label, answer)
    assert result.status == "wrong" and result.points == 0
    assert hint in result.message, result.message


def weights(in_channels, out_channels, kernel_size, bias=True):
    """The solution of ex-ch1-weight-shape."""
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return (out_channels, in_channels, kh, kw), out_channels * in_channels * kh * kw + (out_channels if bias else 0)


@pytest.mark.parametrize(
    "answer",
    [
        weights,
        lambda i, o, k, bias=True: (list(weights(i, o, k, bias)[0]), np.int64(weights(i, o, k, bias)[1])),
        lambda i, o, k, bias=True: (torch.Size(weights(i, o, k, bias)[0]), weights(i, o, k, bias)[1]),
        lambda in_channels, out_channels, kernel_size, bias=True: weights(in_channels, out_channels,
                                                                           kernel_size, bias),
    ],
)
def test_weight_shape_functions_that_agree_with_conv2d_pass(answer):
    result = check("ex-ch1-weight-shape", answer)
    assert result.passed and result.points == 1, result


def _swap_channels(i, o, k, bias=True):
    shape, count = weights(i, o, k, bias)
    return (shape[1], shape[0], *shape[2:]), count


def _swap_kernel(i, o, k, bias=True):
    shape, count = weights(i, o, k, bias)
    return (*shape[:2], shape[3], shape[2]), count


def _conv_layer(i, o, k, bias=True):
    layer = torch.nn.Conv2d(i, o, k, bias=bias)
    return tuple(layer.weight.shape), sum(p.numel() for p in layer.parameters())


def _lazy_layer(i, o, k, bias=True):
    layer = torch.nn.LazyConv2d(o, k, bias=bias)
    layer(torch.zeros(1, i, 9, 9))
    return tuple(layer.weight.shape), sum(p.numel() for p in layer.parameters())


def _module_path_layer(i, o, k, bias=True):
    layer = torch.nn.modules.conv.Conv2d(i, o, k, bias=bias)
    return tuple(layer.weight.shape), sum(p.numel() for p in layer.parameters())


def _matmul_layer(i, o, k, bias=True):
    layer = course_lib.MatmulConv2d(i, o, k, bias=bias)
    return tuple(layer.weight.shape), sum(p.numel() for p in layer.parameters())


def _quantized_layer(i, o, k, bias=True):  # a convolution layer of its own, not built on nn.Conv2d
    layer = torch.ao.nn.quantized.Conv2d(i, o, k, bias=bias)
    return tuple(layer.weight().shape), layer.weight().numel() + (o if bias else 0)


def _by_trying_orders(i, o, k, bias=True):  # finds the layout by running F.conv2d on candidate weights
    kh, kw = (k, k) if isinstance(k, int) else k
    for shape in [(i, o, kh, kw), (o, i, kh, kw)]:
        try:
            torch.nn.functional.conv2d(torch.zeros(1, i, 9, 9), torch.zeros(shape))
            return shape, math.prod(shape) + o * bias
        except RuntimeError:
            pass


def _no_bias_ever(i, o, k, bias=True):
    shape, count = weights(i, o, k, bias)
    return shape, math.prod(shape)


def _bias_always(i, o, k, bias=True):
    shape, count = weights(i, o, k, bias)
    return shape, math.prod(shape) + o


def _bias_per_input(i, o, k, bias=True):
    shape, count = weights(i, o, k, bias)
    return shape, math.prod(shape) + (i if bias else 0)


def _unpacks_kernel(i, o, k, bias=True):
    kh, kw = k
    return (o, i, kh, kw), o * i * kh * kw + o * bias


def _square_only(i, o, k, bias=True):
    k = k[0] if isinstance(k, tuple) else k
    return (o, i, k, k), o * i * k * k + o * bias


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (_swap_channels, "two channel numbers the other way round"),
        (_swap_kernel, "height and width the other way round"),
        (_square_only, "the kernel's two dimensions are not"),
        (lambda i, o, k, bias=True: ((o, 3, *weights(i, o, k)[0][2:]), 0), "the channels are not"),
        (lambda i, o, k, bias=True: (weights(i, o, k)[0][:3], 0), "4 dimensions"),
        (_no_bias_ever, "bias=True (the default) gives the layer a bias"),
        (_bias_always, "With bias=False the layer has no bias"),
        (_bias_per_input, "one number per output channel, not per input channel"),
        (lambda i, o, k, bias=True: (weights(i, o, k)[0], math.prod(weights(i, o, k)[0]) + 1),
         "not one for the whole layer"),
        (lambda i, o, k, bias=True: (weights(i, o, k)[0], 7), "Count the entries of the weight tensor"),
        (lambda i, o, k, bias=True: ((10, 4, 5, 3), 610), "returns the same as weight_shape_and_count(4, 10"),
        (_unpacks_kernel, "raised TypeError: cannot unpack non-iterable int object. kernel_size may be an int"),
        (lambda i, o, k, bias: weights(i, o, k, bias), "bias should default to True"),
        (_conv_layer, "called torch.nn.Conv2d, which this exercise rules out"),
        (_lazy_layer, "called torch.nn.LazyConv2d, which this exercise rules out"),
        (_module_path_layer, "which this exercise rules out"),
        (_matmul_layer, "which this exercise rules out"),
        (_by_trying_orders, "which this exercise rules out"),
        (_quantized_layer, "Your function reached PyTorch's aten._empty_affine_quantized"),
        (lambda i, o, k, bias=True: (weights(i, o, k, bias)[0], torch.tensor(weights(i, o, k, bias)[1])),
         "which this exercise rules out: work the shape and the count out from the settings with plain arithmetic"),
        (lambda i, o, k, bias=True: (tuple(torch.empty(weights(i, o, k)[0], device="meta").shape),
                                     weights(i, o, k, bias)[1]), "which this exercise rules out"),
        (lambda i, o, k, bias=True: weights(i, o, k, bias)[0], "returned 4 values; return a pair"),
        (lambda i, o, k, bias=True: 610, "returned the int 610; return a pair"),
        (lambda i, o, k, bias=True: str(weights(i, o, k, bias)), "string"),
        (lambda i, o, k, bias=True: (weights(i, o, k, bias)[0], float(weights(i, o, k, bias)[1])),
         "count should be a whole number (an int), got float"),
        (lambda i, o, k, bias=True: (weights(i, o, k, bias)[0], str(weights(i, o, k, bias)[1])),
         "count should be a whole number (an int), got str"),
        (lambda i, o, k, bias=True: ([float(v) for v in weights(i, o, k, bias)[0]], 0), "whole number"),
        (((10, 4, 5, 3), 610), "Pass your function itself"),
        (610, "Pass your function itself"),
    ],
)
def test_wrong_weight_shape_functions_get_a_specific_hint(answer, hint):
    result = check("ex-ch1-weight-shape", answer)
    assert result.status == "wrong" and result.points == 0
    assert hint in result.message, result.message


def test_weight_shape_hints_give_no_expected_value_away():
    for answer in (_swap_channels, _swap_kernel, _square_only, _no_bias_ever, _bias_always, _bias_per_input):
        message = check("ex-ch1-weight-shape", answer).message
        assert "610" not in message and "(10, 4, 5, 3)" not in message, message


def test_the_weight_shape_check_gives_conv2d_back():
    check("ex-ch1-weight-shape", _conv_layer)
    assert tuple(torch.nn.Conv2d(4, 10, (5, 3)).weight.shape) == (10, 4, 5, 3)
    assert tuple(torch.nn.LazyConv2d(2, 3)(torch.zeros(1, 5, 6, 6)).shape) == (1, 2, 4, 4)


def test_an_unanswered_weight_shape_function_is_not_answered_yet():
    def weight_shape_and_count(in_channels, out_channels, kernel_size, bias=True):
        raise NotImplementedError

    assert check("ex-ch1-weight-shape", weight_shape_and_count).status == "not answered yet"


def test_the_output_size_answer_and_each_hinted_height_come_from_the_mistake_they_name():
    conv = torch.nn.Conv2d(1, 16, 5, stride=4, padding=3)
    heights = [n for n in range(1, 60) if conv(torch.zeros(1, 1, n, n)).shape[-1] == 8]
    assert heights == [27, 28, 29, 30]  # the answer is 30; 27 to 29 give 8 but are not the largest

    def largest(out):  # the largest height an output rule maps to 8
        return max(n for n in range(1, 60) if out(n) == 8)

    assert largest(lambda n: (n + 3 - 5) // 4 + 1) == 33  # padding added once
    assert largest(lambda n: (n + 2 * 3 - 5) // 4) == 34  # the +1 forgotten
    assert largest(lambda n: (n - 5) // 4 + 1) == 36  # padding ignored
    assert (8 - 1) * 4 + 5 - 2 * 3 == 27  # the formula solved for n without the floor
    for wrong in (8, 27, 28, 29, 31, 33, 34, 36, 12, 30.0):
        assert "30" not in check("ex-ch1-output-size", wrong).message.replace("30.0", ""), wrong


def _after_four_layers(n, out=lambda m: conv_output_size(m, 5, stride=2, padding=1), layers=4):
    """n after ``layers`` layers that map a size m to out(m), or None once the kernel no longer fits."""
    for _ in range(layers):
        try:
            n = out(n)
        except ValueError:  # conv_output_size: the kernel is larger than the padded input
            return None
        if n < 1:
            return None
    return n


def test_the_stride_chain_answer_and_each_hinted_size_come_from_the_mistake_they_name():
    ends_at_one = [n for n in range(1, 200) if _after_four_layers(n) == 1]
    assert ends_at_one == list(range(31, 47))  # the answer is 46; 31 is the smallest
    assert _after_four_layers(47) == 2
    n = 1
    for _ in range(4):  # working backwards: the largest input that gives m is 2m + 2
        n = 2 * n + 2
    assert n == 46
    n = 1
    for _ in range(4):  # working backwards without the floor: 2(m - 1) + 5 - 2
        n = 2 * (n - 1) + 5 - 2
    assert n == 31

    def largest(out, layers=4):
        return max(n for n in range(1, 300) if _after_four_layers(n, out, layers) == 1)

    assert largest(lambda m: -(-(m - 3) // 2) + 1) == 31  # rounding up
    assert largest(lambda m: conv_output_size(m, 5, stride=2, padding=1), 3) == 22
    assert largest(lambda m: conv_output_size(m, 5, stride=2, padding=1), 5) == 94
    assert largest(lambda m: (m + 1 - 5) // 2 + 1) == 61  # padding added once
    assert largest(lambda m: (m - 5) // 2 + 1) == 76  # padding ignored
    assert largest(lambda m: (m + 2 - 5) // 2) == 76  # the +1 dropped
    four = torch.nn.Sequential(*[torch.nn.Conv2d(1, 1, 5, stride=2, padding=1) for _ in range(4)])
    assert course_lib.receptive_field(four)[-1].size == 61  # 61 is also one output unit's field


def test_no_stride_chain_hint_gives_the_answer_away():
    wrong = [31, 22, 94, 61, 76, 1, 0, -3, 45, 47, 30, 100, 10**6, [18, 8, 3, 1], [19, 10, 5, 3], (46,),
             46.0, 45.5, np.float32(46), torch.tensor(46.0), True]
    for answer in wrong:
        result = check("ex-ch1-stride-chain", answer)
        assert result.status == "wrong", answer
        assert "46" not in result.message, (answer, result.message)


def test_course_lib_convolutions_are_given_back_after_the_conv_check():
    check("ex-ch1-conv-by-hand", lambda im, k: conv2d_loops(im[None, None], k[None, None])[0, 0])
    x, w = torch.randn(1, 1, 5, 6), torch.randn(1, 1, 2, 3)
    expected = torch.nn.functional.conv2d(x, w)
    torch.testing.assert_close(course_lib.conv2d_loops(x, w), expected)
    torch.testing.assert_close(course_lib.matmul.conv2d_matmul(x, w), expected)
    assert course_lib.conv2d_loops is course_lib.matmul.conv2d_loops


def test_the_padding_check_agrees_with_padding_same_on_every_setting():
    from course_lib.checks import ch01

    assert ch01._SAME_SETTINGS[-1] == ((4, 5), (3, 2))  # the chapter's example comes last
    for kernel_size, dilation in ch01._SAME_SETTINGS:
        pad = ch01._same_pad(kernel_size, dilation)
        layer = torch.nn.Conv2d(1, 1, kernel_size, dilation=dilation, padding="same", bias=False)
        assert tuple(layer._reversed_padding_repeated_twice) == pad
        x = torch.randn(1, 1, 23, 28)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            same = layer(x)
        padded = torch.nn.functional.conv2d(torch.nn.functional.pad(x, pad), layer.weight, dilation=dilation)
        assert padded.shape[-2:] == (23, 28)
        torch.testing.assert_close(padded, same)
    assert ch01._same_pad((4, 5), (3, 2)) == (4, 4, 4, 5)


def test_the_diagonal_hint_is_right_that_straight_edge_kernels_fail():
    top = torch.tensor([[-1.0, -1, -1], [0, 0, 0], [1, 1, 1]])
    for turns in range(4):
        result = check("ex-ch1-diagonal-kernel", torch.rot90(top, turns, dims=(0, 1)))
        assert result.status == "wrong" and "edge" in result.message


def test_an_unfold_imported_before_the_check_is_refused_too():
    from torch.nn.functional import unfold

    def answer(img, k):
        patches = unfold(img[None, None], tuple(k.shape))[0]
        return (k.reshape(1, -1) @ patches).reshape(img.shape[0] - k.shape[0] + 1, -1)

    assert unfold_conv(torch.ones(4, 4), torch.ones(2, 2)).shape == (3, 3)  # the answer itself works
    result = check("ex-ch1-conv-by-hand", answer)
    assert result.status == "wrong" and "F.unfold" in result.message, result.message
    assert torch.nn.functional.unfold(torch.ones(1, 1, 3, 3), 2).shape == (1, 4, 4)  # restored afterwards


def test_a_conv2d_imported_before_the_check_is_refused_and_restored():
    namespace = {}
    exec("from torch.nn.functional import conv2d\n"
         "def answer(img, k):\n"
         "    return conv2d(img[None, None], k[None, None])[0, 0]\n", namespace)
    result = check("ex-ch1-conv-by-hand", namespace["answer"])
    assert result.status == "wrong" and "called F.conv2d" in result.message, result.message
    assert namespace["conv2d"] is torch.nn.functional.conv2d  # the student's name is given back


def test_forbidden_leaves_other_names_in_the_namespace_alone():
    from course_lib.checks.core import Feedback, forbidden

    namespace = {"conv": torch.conv2d, "other": torch.relu, "n": 3}
    with forbidden(("torch.conv2d",), "no", namespace=namespace):
        assert namespace["other"] is torch.relu and namespace["n"] == 3
        with pytest.raises(Feedback, match="called torch.conv2d"):
            namespace["conv"](torch.ones(1, 1, 2, 2), torch.ones(1, 1, 1, 1))
    assert namespace == {"conv": torch.conv2d, "other": torch.relu, "n": 3}


def test_the_conv_check_restores_pytorchs_convolution():
    check("ex-ch1-conv-by-hand", lambda img, k: torch.conv2d(img[None, None], k[None, None])[0, 0])
    out = torch.nn.functional.conv2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 2, 2))
    assert out.shape == (1, 1, 2, 2) and torch.conv2d is torch.nn.functional.conv2d


def test_no_output_size_hint_says_whether_a_height_gives_8():
    # 27 to 30 all give 8: a hint that confirmed it for 27, 28 or 29 would bracket the answer.
    for wrong in (27, 28, 29, 31, 12):
        message = check("ex-ch1-output-size", wrong).message
        assert "not the largest" not in message and "gives an output of height 8" not in message, message
        assert "smallest" not in message, message


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def pad_like_same(kernel_size, dilation):
    """The solution of ex-ch1-same-padding."""
    (kh, kw), (dh, dw) = _pair(kernel_size), _pair(dilation)
    pad = []
    for ks, d in [(kw, dw), (kh, dh)]:
        total = d * (ks - 1)
        pad += [total // 2, total - total // 2]
    return tuple(pad)


def _wrong_only_for_the_example(wrong):
    """Right everywhere except the chapter's example, where it returns ``wrong``."""
    return lambda k, d: wrong if (k, d) == ((4, 5), (3, 2)) else pad_like_same(k, d)


def _before(k, d):
    left, right, top, bottom = pad_like_same(k, d)
    return right, left, bottom, top


def _axes_swapped(k, d):
    pad = pad_like_same(k, d)
    return pad[2:] + pad[:2]


def _dilation_times_ks(k, d):
    (kh, kw), (dh, dw) = _pair(k), _pair(d)
    return dw * kw // 2, dw * kw - dw * kw // 2, dh * kh // 2, dh * kh - dh * kh // 2


def _symmetric_floor(k, d):
    (kh, kw), (dh, dw) = _pair(k), _pair(d)
    return (dw * (kw - 1) // 2,) * 2 + (dh * (kh - 1) // 2,) * 2


def _same_layer(k, d):
    return tuple(torch.nn.Conv2d(1, 1, k, dilation=d, padding="same")._reversed_padding_repeated_twice)


def _module_path_same_layer(k, d):
    return tuple(torch.nn.modules.conv.Conv2d(1, 1, k, dilation=d, padding="same")._reversed_padding_repeated_twice)


def _course_lib_same_padding(k, d):
    (kh, kw), (dh, dw) = _pair(k), _pair(d)
    return (course_lib.same_padding(kw, dw),) * 2 + (course_lib.same_padding(kh, dh),) * 2


@pytest.mark.parametrize(
    "answer",
    [
        pad_like_same,
        lambda k, d: list(pad_like_same(k, d)),
        lambda k, d: torch.Size(pad_like_same(k, d)),
        lambda k, d: tuple(np.int64(v) for v in pad_like_same(k, d)),
    ],
)
def test_same_padding_functions_that_agree_with_padding_same_pass(answer):
    result = check("ex-ch1-same-padding", answer)
    assert result.passed and result.points == 1, result


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (_before, "For pad_like_same(4, 1) you return (2, 1, 2, 1). That keeps the size, but it puts an odd axis's "
                  "extra pixel before"),
        (_axes_swapped, "For pad_like_same((3, 6), 1) you return (1, 1, 2, 3). The height's padding and the "
                        "width's are the other way round. F.pad's order is (left, right, top, bottom)"),
        (lambda k, d: pad_like_same(k, 1), "For pad_like_same(3, 2) you return (1, 1, 1, 1). That is the padding "
                                           "without dilation"),
        (lambda k, d: pad_like_same(k, _pair(d)[::-1]), "pad_like_same(5, (1, 3))"),
        (lambda k, d: pad_like_same(_pair(k)[::-1], d) if _pair(d)[0] != _pair(d)[1] else pad_like_same(k, d),
         "For pad_like_same((2, 7), (5, 1)) you return (0, 1, 15, 15). You swapped the kernel's height and width"),
        (lambda k, d: pad_like_same(k, _pair(d)[::-1]) if _pair(k)[0] != _pair(k)[1] else pad_like_same(k, d),
         "For pad_like_same((2, 7), (5, 1)) you return (15, 15, 0, 1). You swapped the dilations"),
        (_dilation_times_ks, "For pad_like_same(3, 1) you return (1, 2, 1, 2). Your padding adds dilation*ks pixels"),
        (_symmetric_floor, "For pad_like_same(4, 1) you return (1, 1, 1, 1). With this padding a stride-1 "
                           "convolution does not keep the input's height or its width: count the rows and the "
                           "columns"),
        (lambda k, d: (3, 5, 4, 5) if (k, d) == ((4, 5), (3, 2)) else pad_like_same(k, d), "The totals are right"),
        (_wrong_only_for_the_example((4, 4, 4, 4)), "does not keep the input's height: count the rows the"),
        (_wrong_only_for_the_example((0, 0, 4, 5)), "does not keep the input's width: count the columns the"),
        (lambda k, d: (-1, 0, 0, 0), "negative padding crops the image"),
        (lambda k, d: 4.5, "single number"),
        (lambda k, d: 9, "single number"),
        (lambda k, d: (4.5, 4.5, 4.5, 4.5), "use // rather than /"),
        (lambda k, d: (4, 5), "returned 2 numbers; F.pad on an image takes four"),
        (lambda k, d: "4, 4, 4, 5", "string"),
        (lambda k, d: {"left": 4}, "whole number"),
        (lambda k, d: 1 / 0, "raised ZeroDivisionError"),
        (lambda kernel_size: (0, 0, 0, 0), "raised TypeError"),
        (_same_layer, "Your function called torch.nn.Conv2d, which this exercise rules out"),
        (_module_path_same_layer, "which this exercise rules out"),
        (_course_lib_same_padding, "Your function called course_lib.shapes.same_padding, which this exercise"),
        (lambda k, d: tuple(torch.tensor(pad_like_same(k, d)).tolist()), "which this exercise rules out"),
        ((4, 4, 4, 5), "Pass your function itself"),
    ],
)
def test_wrong_same_padding_functions_get_a_specific_hint(answer, hint):
    result = check("ex-ch1-same-padding", answer)
    assert result.status == "wrong" and result.points == 0, result
    assert hint in result.message, result.message


def test_no_same_padding_message_prints_the_examples_padding():
    wrong = [(4, 4, 5, 4), (4, 5, 4, 4), (4, 5, 4, 5), (6, 6, 3, 3), (1, 2, 1, 2), (2, 2, 1, 2), (3, 5, 4, 5),
             (5, 5, 6, 6), (4, 4, 4, 4), (5, 5, 5, 5), (0, 0, 4, 5), (4, 4, 0, 0), (9, 9, 9, 9), (0, 0, 0, 0)]
    answers = [_wrong_only_for_the_example(pad) for pad in wrong] + [
        _before, _axes_swapped, _dilation_times_ks, _symmetric_floor, lambda k, d: pad_like_same(k, 1),
        lambda k, d: pad_like_same(k, _pair(d)[::-1]), _same_layer, _course_lib_same_padding]
    for answer in answers:
        message = check("ex-ch1-same-padding", answer).message
        assert "4, 4, 4, 5" not in message and "4, 4, 4 and 5" not in message, message
        assert " 8 " not in message and " 9 " not in message, message  # nor the totals


def test_the_same_padding_check_gives_the_layers_back():
    check("ex-ch1-same-padding", _same_layer)
    check("ex-ch1-same-padding", _course_lib_same_padding)
    assert tuple(torch.nn.Conv2d(1, 1, (4, 5), dilation=(3, 2), padding="same")._reversed_padding_repeated_twice) \
        == (4, 4, 4, 5)
    assert course_lib.same_padding(3, 2) == 2


def test_no_stride_chain_hint_says_a_value_is_right_for_another_layer_count():
    for wrong in (22, 94, 31, 61, 76):
        message = check("ex-ch1-stride-chain", wrong).message
        assert "for 3 layers" not in message and "for 5 layers" not in message, message
        assert "smallest" not in message, message


def _conv_in_a_default_argument(im, k, conv=torch.nn.functional.conv2d):
    return conv(im[None, None], k[None, None])[0, 0]


def _same_as_conv2d(answer):
    """The bypass really computes the convolution (so only the refusal stops it), checked outside the check."""
    im, k = torch.randn(6, 7), torch.randn(2, 3)
    torch.testing.assert_close(torch.as_tensor(answer(im, k), dtype=torch.float32),
                               torch.nn.functional.conv2d(im[None, None], k[None, None])[0, 0],
                               atol=1e-4, rtol=1e-4)


_BYPASSES = {
    "F.conv3d": (lambda im, k: torch.nn.functional.conv3d(im[None, None, None], k[None, None, None])[0, 0, 0],
                 "aten.convolution"),
    "aten.conv2d": (lambda im, k: torch.ops.aten.conv2d(im[None, None], k[None, None])[0, 0], "aten.convolution"),
    "torch._convolution": (lambda im, k: torch._convolution(im[None, None], k[None, None], None, [1, 1], [0, 0],
                                                            [1, 1], False, [0, 0], 1, False, False, True,
                                                            True)[0, 0], "aten._convolution"),
    "torch.mkldnn_convolution": (lambda im, k: torch.mkldnn_convolution(im[None, None], k[None, None], None,
                                                                        [0, 0], [1, 1], [1, 1], 1)[0, 0],
                                 "aten.mkldnn_convolution"),
    "F.conv_transpose2d": (lambda im, k: torch.nn.functional.conv_transpose2d(
        im[None, None], k.flip(0, 1)[None, None], padding=(k.shape[0] - 1, k.shape[1] - 1))[0, 0],
        "aten.convolution"),
    "default argument": (_conv_in_a_default_argument, "aten.convolution"),
    "Tensor.unfold + einsum": (lambda im, k: torch.einsum("ijkl,kl->ij", im.unfold(0, k.shape[0], 1)
                                                          .unfold(1, k.shape[1], 1), k), "aten.unfold"),
    "as_strided + einsum": (lambda im, k: torch.einsum("ijkl,kl->ij", im.as_strided(
        (im.shape[0] - k.shape[0] + 1, im.shape[1] - k.shape[1] + 1, *k.shape), (*im.stride(), *im.stride())), k),
        "aten.as_strided"),
    "thnn_conv2d": (lambda im, k: torch._C._nn.thnn_conv2d(im[None, None], k[None, None], tuple(k.shape))[0, 0],
                    "aten._slow_conv2d_forward"),
    "slow_conv_dilated2d": (lambda im, k: torch._C._nn.slow_conv_dilated2d(im[None, None], k[None, None],
                                                                           tuple(k.shape))[0, 0],
                            "aten.slow_conv_dilated2d"),
}


@pytest.mark.parametrize("name", list(_BYPASSES))
def test_every_other_way_to_a_finished_convolution_is_refused(name):
    answer, op = _BYPASSES[name]
    _same_as_conv2d(answer)
    result = check("ex-ch1-conv-by-hand", answer)
    assert result.status == "wrong", (name, result)
    assert f"Your function reached PyTorch's {op} operator, which this exercise rules out" in result.message, result
    x, w = torch.randn(1, 1, 4, 5), torch.randn(1, 1, 2, 2)  # and PyTorch works as before afterwards
    torch.testing.assert_close(torch.nn.functional.conv2d(x, w), conv2d_loops(x, w))


def test_scipy_correlate2d_is_refused_when_scipy_is_there():
    signal = pytest.importorskip("scipy.signal")
    from scipy.signal import correlate2d

    for answer in (lambda im, k: torch.as_tensor(correlate2d(im.numpy(), k.numpy(), "valid")),
                   lambda im, k: torch.as_tensor(signal.convolve2d(im.numpy(), k.flip(0, 1).numpy(), "valid"))):
        _same_as_conv2d(answer)
        result = check("ex-ch1-conv-by-hand", answer)
        assert result.status == "wrong" and "Your function called scipy.signal." in result.message, result
    assert correlate2d([[1, 2], [3, 4]], [[1]], "valid").tolist() == [[1, 2], [3, 4]]  # given back


def test_loops_that_index_stack_or_use_numpy_still_pass():
    def stacked(im, k):
        kh, kw = k.shape
        return torch.stack([torch.stack([(im[i:i + kh, j:j + kw] * k).sum() for j in range(im.shape[1] - kw + 1)])
                            for i in range(im.shape[0] - kh + 1)])

    def with_numpy(im, k):
        a, b = im.numpy(), k.numpy()
        out = np.zeros((a.shape[0] - b.shape[0] + 1, a.shape[1] - b.shape[1] + 1))
        for i, j in np.ndindex(*out.shape):
            out[i, j] = (a[i:i + b.shape[0], j:j + b.shape[1]] * b).sum()
        return torch.from_numpy(out)

    def with_dot(im, k):
        kh, kw = k.shape
        out = torch.empty(im.shape[0] - kh + 1, im.shape[1] - kw + 1)
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                out[i][j] = torch.dot(im[i:i + kh, j:j + kw].reshape(-1), k.flatten())
        return out

    for answer in (stacked, with_numpy, with_dot):
        assert check("ex-ch1-conv-by-hand", answer).passed, answer.__name__


def test_the_chapters_solution_gets_the_stored_success_message():
    def conv_by_hand(image, kernel):  # the solution cell of ex-ch1-conv-by-hand
        kh, kw = kernel.shape
        out = torch.zeros(image.shape[0] - kh + 1, image.shape[1] - kw + 1)
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                out[i, j] = (image[i : i + kh, j : j + kw] * kernel).sum()
        return out

    assert repr(check("ex-ch1-conv-by-hand", conv_by_hand)) == (
        "✅ Correct [ex-ch1-conv-by-hand, 1/1]: your loops agree with F.conv2d on four random cases, including "
        "non-square images and kernels.")


def test_none_and_ellipsis_mean_not_answered():
    for answer in (None, ...):
        result = check("ex-ch1-output-size", answer)
        assert result.status == "not answered yet" and not result.passed


def test_not_implemented_function_means_not_answered():
    def stub(img, k):
        raise NotImplementedError
    assert check("ex-ch1-conv-by-hand", stub).status == "not answered yet"


def test_unknown_label_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match=r"label must name a registered exercise, got 'ex-ch1-nope'"):
        check("ex-ch1-nope", 1)


def _sliding_window_einsum(im, k):
    windows = np.lib.stride_tricks.sliding_window_view(im.numpy(), tuple(k.shape))
    return torch.as_tensor(np.einsum("ijkl,kl->ij", windows, k.numpy()))


def _numpy_as_strided_einsum(im, k):
    a = im.numpy()
    shape = (a.shape[0] - k.shape[0] + 1, a.shape[1] - k.shape[1] + 1, *k.shape)
    windows = np.lib.stride_tricks.as_strided(a, shape, a.strides + a.strides)
    return torch.as_tensor(np.einsum("ijkl,kl->ij", windows, k.numpy()))


def _numpy_fft(im, k):
    (h, w), (kh, kw) = im.shape, k.shape
    product = np.fft.rfft2(im.numpy()) * np.conj(np.fft.rfft2(k.numpy(), s=(h, w)))
    return torch.as_tensor(np.fft.irfft2(product, s=(h, w))[: h - kh + 1, : w - kw + 1].copy())


def _torch_fft(im, k):
    (h, w), (kh, kw) = im.shape, k.shape
    product = torch.fft.rfft2(im) * torch.conj(torch.fft.rfft2(k, s=(h, w)))
    return torch.fft.irfft2(product, s=(h, w))[: h - kh + 1, : w - kw + 1]


@pytest.mark.parametrize(
    ("answer", "refused"),
    [
        (_sliding_window_einsum, "Your function called numpy.lib.stride_tricks.sliding_window_view"),
        (_numpy_as_strided_einsum, "Your function called numpy.lib.stride_tricks.as_strided"),
        (_numpy_fft, "Your function called numpy.fft.rfft2"),
        (_torch_fft, "Your function reached PyTorch's aten._fft_r2c"),
    ],
)
def test_numpys_window_views_and_ffts_are_refused(answer, refused):
    _same_as_conv2d(answer)
    result = check("ex-ch1-conv-by-hand", answer)
    assert result.status == "wrong" and refused in result.message, result
    assert np.lib.stride_tricks.sliding_window_view(np.arange(4), 2).shape == (3, 2)  # given back
    assert np.fft.rfft2(np.ones((2, 2)))[0, 0] == 4


def test_a_sliding_window_view_imported_before_the_check_is_refused_too():
    namespace = {}
    exec("import numpy as np, torch\n"
         "from numpy.lib.stride_tricks import sliding_window_view\n"
         "def answer(im, k):\n"
         "    windows = sliding_window_view(im.numpy(), tuple(k.shape))\n"
         "    return torch.as_tensor(np.einsum('ijkl,kl->ij', windows, k.numpy()))\n", namespace)
    _same_as_conv2d(namespace["answer"])
    result = check("ex-ch1-conv-by-hand", namespace["answer"])
    assert result.status == "wrong" and "sliding_window_view" in result.message, result
    assert namespace["sliding_window_view"] is np.lib.stride_tricks.sliding_window_view


def _valid(full, k, h, w, first):
    """The rows and columns of a same-size result that a valid correlation keeps, starting at ``first``."""
    (kh, kw), (r, c) = k.shape, first
    return torch.as_tensor(full[r: r + h - kh + 1, c: c + w - kw + 1])


def test_scipy_ndimage_is_refused_when_scipy_is_there():
    ndimage = pytest.importorskip("scipy.ndimage")

    for answer, name in [
        (lambda im, k: _valid(ndimage.correlate(im.numpy(), k.numpy(), mode="constant"), k, *im.shape,
                              (k.shape[0] // 2, k.shape[1] // 2)), "scipy.ndimage.correlate"),
        (lambda im, k: _valid(ndimage.convolve(im.numpy(), k.flip(0, 1).numpy(), mode="constant"), k, *im.shape,
                              ((k.shape[0] - 1) // 2, (k.shape[1] - 1) // 2)), "scipy.ndimage.convolve"),
    ]:
        _same_as_conv2d(answer)
        result = check("ex-ch1-conv-by-hand", answer)
        assert result.status == "wrong" and f"Your function called {name}," in result.message, result
    assert ndimage.correlate(np.ones((3, 3)), np.ones((1, 1))).sum() == 9  # given back
