"""The appendix's exercise checks accept the right answers, give specific hints for typical mistakes,
and reject answers of the wrong type without a traceback."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import course_lib
from course_lib import check, conv_output_size

LABELS = ["ex-ch6-nhwc-strides", "ex-ch6-patch-view-strides", "ex-ch6-page-faults",
          "ex-ch6-channel-distance", "ex-ch6-unfold-shape"]


def test_the_expected_answers_are_what_pytorch_says():
    x = torch.zeros(2, 10, 10, 3)
    assert x.stride() == (300, 30, 3, 1)
    sN, sH, sW, sC = x.stride()
    # stride 3, dilation 2: the view equals F.unfold's dilated patches
    view = torch.arange(600.0).view(2, 10, 10, 3).as_strided((2, 2, 2, 3, 3, 3), (300, 90, 9, 60, 6, 1))
    cols = F.unfold(torch.arange(600.0).view(2, 10, 10, 3).permute(0, 3, 1, 2), 3, dilation=2, stride=3)
    assert torch.equal(view.permute(0, 5, 3, 4, 1, 2).reshape(2, 27, 4), cols)
    # the wrong answer (300, 10, 1, 100) is what permuting an NCHW tensor gives before .contiguous()
    assert torch.zeros(2, 3, 10, 10).permute(0, 2, 3, 1).stride() == (300, 10, 1, 100)
    assert 512 * 14 * 14 * 26 * 4 / 4096 == 2548
    y = torch.zeros(64, 32, 28, 28)
    assert 4 * y.stride(1) == 3136 and 4 * y.contiguous(memory_format=torch.channels_last).stride(1) == 4
    assert F.unfold(torch.zeros(8, 16, 14, 14), 3, padding=1, stride=2).shape == (8, 144, 49)


@pytest.mark.parametrize("label", LABELS)
@pytest.mark.parametrize("answer", ["156", 3.5, math.nan, math.inf, True, object(), [1, "a"], [1.5, 2],
                                    (True, 4), torch.zeros(2, 2)])
def test_wrong_types_are_rejected_with_a_message(label, answer):
    result = check(label, answer)
    assert not result.passed and result.message


def contiguous_strides(shape):
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= size
    return tuple(reversed(strides))


def patch_view_strides(shape, stride, dilation):
    sN, sH, sW, sC = contiguous_strides(shape)
    return (sN, stride * sH, stride * sW, dilation * sH, dilation * sW, sC)


def patch_matrix_pages(batch, channels, size, ks, stride, padding):
    side = conv_output_size(size, ks, stride, padding)
    return (batch * side * side * (channels * ks * ks + 1) * 4 + 4095) // 4096


def channel_distances(shape, itemsize):
    n, c, h, w = shape
    return (h * w * itemsize, itemsize)


def unfold_shape(x_shape, ks, stride, padding):
    n, c, h, w = x_shape
    return (n, c * ks * ks, conv_output_size(h, ks, stride, padding) * conv_output_size(w, ks, stride, padding))


def _pages(batch, channels, size, ks, stride, padding, *, ones=1, value_bytes=4, page=4096, up=True, pixels=False):
    side = size if pixels else conv_output_size(size, ks, stride, padding)
    n = batch * side * side * (channels * ks * ks + ones) * value_bytes
    return -(-n // page) if up else n // page


@pytest.mark.parametrize(
    "label, answer",
    [
        ("ex-ch6-nhwc-strides", contiguous_strides),
        ("ex-ch6-nhwc-strides", lambda shape: [math.prod(shape[i + 1:]) for i in range(len(shape))]),
        ("ex-ch6-patch-view-strides", patch_view_strides),
        ("ex-ch6-patch-view-strides", lambda shape, s, d: torch.Size(patch_view_strides(shape, s, d))),
        ("ex-ch6-page-faults", patch_matrix_pages),
        ("ex-ch6-page-faults", lambda *settings: np.int64(patch_matrix_pages(*settings))),
        ("ex-ch6-channel-distance", channel_distances),
        ("ex-ch6-channel-distance", lambda shape, itemsize: [shape[2] * shape[3] * itemsize, itemsize]),
        ("ex-ch6-unfold-shape", unfold_shape),
        ("ex-ch6-unfold-shape", lambda x_shape, ks, s, p: torch.Size(unfold_shape(x_shape, ks, s, p))),
        ("ex-ch6-nhwc-strides", lambda shape: tuple(math.prod(shape[i + 1:]) for i in range(len(shape)))),
    ],
)
def test_right_functions_pass(label, answer):
    result = check(label, answer)
    assert result.passed, result.message


def _strides_of_a_tensor(shape):
    return torch.empty(shape).stride()


def _strides_of_an_array(shape):
    return tuple(s // 1 for s in np.zeros(shape, dtype=np.int8).strides)


def _strides_of_a_view(shape, stride, dilation):
    x = torch.zeros(shape)
    sN, sH, sW, sC = x.stride()
    return x.as_strided((1, 1, 1, 1, 1, 1), (sN, stride * sH, stride * sW, dilation * sH, dilation * sW, sC)).stride()


def _strides_of_a_memoryview(shape):
    return memoryview(bytearray(math.prod(shape))).cast("B", shape).strides


def _strides_of_a_ctypes_memoryview(shape):
    import ctypes

    array_type = ctypes.c_int8
    for size in reversed(shape):
        array_type = array_type * size
    return memoryview(array_type()).strides


def _strides_of_an_ndarray(shape):
    return np.ndarray(shape, np.int8).strides


def _strides_of_a_multiarray_empty(shape):
    return np._core.multiarray.empty(shape, np.int8).strides


def _strides_of_indices(shape):
    return tuple(s // 8 for s in np.indices(shape, dtype=np.int64)[0].strides)


def _strides_of_a_pickle_buffer(shape):
    return pickle.PickleBuffer(bytearray(math.prod(shape))).raw().cast("B", shape).strides


def _strides_of_ndarray_new(shape, ndarray=np.ndarray):  # the type kept before the check renames it
    return ndarray.__new__(ndarray, shape, np.int8).strides


def _pages_of_unfold(batch, channels, size, ks, stride, padding):
    cols = torch.nn.functional.unfold(torch.zeros(batch, channels, size, size), ks, padding=padding, stride=stride)
    return -(-(cols.shape[0] * cols.shape[2] * (cols.shape[1] + 1) * 4) // 4096)


def _pages_of_im2col_bytes(batch, channels, size, ks, stride, padding):
    n = course_lib.im2col_bytes((batch, channels, size, size), ks, stride, padding)
    return -(-(n // (channels * ks * ks) * (channels * ks * ks + 1)) // 4096)


@pytest.mark.parametrize(
    "label, answer, hint",
    [
        ("ex-ch6-nhwc-strides", lambda shape: tuple(reversed(contiguous_strides(tuple(reversed(shape))))),
         "Reversed"),
        ("ex-ch6-nhwc-strides", lambda shape: tuple(4 * s for s in contiguous_strides(shape)), "not bytes"),
        ("ex-ch6-nhwc-strides", lambda shape: tuple(math.prod(shape[i:]) for i in range(len(shape))),
         "One axis too many"),
        ("ex-ch6-nhwc-strides", lambda shape: (300, 30, 3, 1), "returns the same strides as contiguous_strides((2, 10"),
        ("ex-ch6-nhwc-strides", lambda shape: contiguous_strides(shape)[:-1], "has 4 entries; yours has 3"),
        ("ex-ch6-nhwc-strides", lambda shape: (300, 20, 3, 1), "definition of a stride"),
        ("ex-ch6-nhwc-strides", lambda shape: tuple(float(s) for s in contiguous_strides(shape)), "//"),
        ("ex-ch6-nhwc-strides", _strides_of_a_tensor, "rules out"),
        ("ex-ch6-nhwc-strides", _strides_of_an_array, "rules out"),
        ("ex-ch6-nhwc-strides", lambda shape: torch.tensor(contiguous_strides(shape)), "rules out"),
        ("ex-ch6-nhwc-strides", _strides_of_a_memoryview, "Your function called memoryview,"),
        ("ex-ch6-nhwc-strides", _strides_of_a_ctypes_memoryview, "Your function called memoryview,"),
        ("ex-ch6-nhwc-strides", lambda shape: np._core.numeric.ndarray(shape, np.int8).strides,
         "Your function called numpy.ndarray"),
        ("ex-ch6-nhwc-strides", _strides_of_an_ndarray, "Your function called numpy.ndarray"),
        ("ex-ch6-nhwc-strides", _strides_of_a_multiarray_empty, "Your function called numpy._core.multiarray.empty"),
        ("ex-ch6-nhwc-strides", _strides_of_indices, "Your function called NumPy's empty"),
        ("ex-ch6-nhwc-strides", _strides_of_a_pickle_buffer, "Your function called memoryview.cast"),
        ("ex-ch6-nhwc-strides", _strides_of_ndarray_new, "Your function called NumPy's ndarray.__new__"),
        ("ex-ch6-nhwc-strides", lambda shape: tuple(int(np.prod(shape[i + 1:])) for i in range(len(shape))),
         "Your function called NumPy's"),
        ("ex-ch6-nhwc-strides", lambda shape: 1 / 0, "raised ZeroDivisionError"),
        ("ex-ch6-patch-view-strides", lambda shape, s, d: patch_view_strides(shape, d, s), "Swapped"),
        ("ex-ch6-patch-view-strides", lambda shape, s, d: patch_view_strides(shape, s, 1), "without dilation"),
        ("ex-ch6-patch-view-strides", lambda shape, s, d: patch_view_strides(shape, 1, d), "moves `stride`"),
        ("ex-ch6-patch-view-strides", lambda shape, s, d: patch_view_strides(shape, s * d, d), "stride alone"),
        ("ex-ch6-patch-view-strides", lambda shape, s, d: (1, *patch_view_strides(shape, s, d)[1:]),
         "N and C axes"),
        ("ex-ch6-patch-view-strides", lambda shape, s, d: (*patch_view_strides(shape, s, d)[:4], 1, 1),
         "'Patches without copying'"),
        ("ex-ch6-patch-view-strides", lambda shape, s, d: patch_view_strides(shape, s, d)[:5], "has 6 entries"),
        ("ex-ch6-patch-view-strides", _strides_of_a_view, "rules out"),
        ("ex-ch6-patch-view-strides", lambda shape, s, d: (*_strides_of_a_memoryview(shape)[:1], 0, 0, 0, 0, 0),
         "Your function called memoryview,"),
        ("ex-ch6-patch-view-strides", lambda shape, s, d: (*_strides_of_an_ndarray(shape)[:1], 0, 0, 0, 0, 0),
         "Your function called numpy.ndarray"),
        ("ex-ch6-page-faults", lambda *a: _pages(*a, ones=0), "column of ones"),
        ("ex-ch6-page-faults", lambda *a: _pages(*a, page=1), "number of bytes"),
        ("ex-ch6-page-faults", lambda *a: _pages(*a, page=4), "float32 values"),
        ("ex-ch6-page-faults", lambda *a: _pages(*a, page=4000), "4096 bytes, not 4000"),
        ("ex-ch6-page-faults", lambda *a: _pages(*a, value_bytes=8), "float64"),
        ("ex-ch6-page-faults", lambda *a: _pages(*a, pixels=True), "input pixel"),
        ("ex-ch6-page-faults", lambda *a: _pages(*a, up=False), "Round up"),
        ("ex-ch6-page-faults", lambda *a: 100, "Scratch buffers and page faults"),
        ("ex-ch6-page-faults", lambda *a: float(patch_matrix_pages(*a)), "//"),
        ("ex-ch6-page-faults", lambda *a: patch_matrix_pages(*a) + 0.5, "whole number of pages"),
        ("ex-ch6-page-faults", _pages_of_unfold, "rules out"),
        ("ex-ch6-page-faults", _pages_of_im2col_bytes, "called course_lib.matmul.im2col_bytes"),
        ("ex-ch6-channel-distance", lambda shape, itemsize: (shape[2] * shape[3], 1),
         "you return (100, 1). Those are distances in elements"),
        ("ex-ch6-channel-distance", lambda shape, itemsize: (shape[2] * shape[3], itemsize), "Mixed units"),
        ("ex-ch6-channel-distance", lambda shape, itemsize: (shape[2] * shape[3] * itemsize, 1), "Mixed units"),
        ("ex-ch6-channel-distance", lambda shape, itemsize: (itemsize, shape[2] * shape[3] * itemsize), "Swapped"),
        ("ex-ch6-channel-distance", lambda shape, itemsize: (shape[2] * shape[3] * itemsize, shape[1] * itemsize),
         "next to each other"),
        ("ex-ch6-channel-distance", lambda shape, itemsize: (math.prod(shape[1:]) * itemsize, itemsize),
         "one whole H×W plane after channel 0"),
        ("ex-ch6-channel-distance", lambda shape, itemsize: (shape[2] * shape[3] * itemsize / 1, itemsize), "//"),
        ("ex-ch6-channel-distance", lambda shape, itemsize: (3136, 4), "channel_distances((2, 3, 10, 10), 4)"),
        ("ex-ch6-channel-distance", lambda shape, itemsize: 4 * torch.empty(shape).stride(1), "rules out"),
        ("ex-ch6-channel-distance",
         lambda shape, itemsize: (itemsize * torch.empty(shape, device="meta").stride(1), itemsize), "rules out"),
        ("ex-ch6-unfold-shape", lambda x, k, s, p: (x[0], unfold_shape(x, k, s, p)[2], unfold_shape(x, k, s, p)[1]),
         "stacks the batch, (N·L, kH·kW·C + 1))"),
        ("ex-ch6-unfold-shape", lambda x, k, s, p: (*unfold_shape(x, k, s, p)[:2], x[2] * x[3]),
         "H·W counts the input pixels"),
        ("ex-ch6-unfold-shape", lambda x, k, s, p: (x[0], k * k, unfold_shape(x, k, s, p)[2]), "C·k·k values"),
        ("ex-ch6-unfold-shape", lambda x, k, s, p: (1, *unfold_shape(x, k, s, p)[1:]), "batch axis first"),
        ("ex-ch6-unfold-shape", lambda x, k, s, p: unfold_shape(x, k, s, 0), "output-size formula"),
        ("ex-ch6-unfold-shape", lambda x, k, s, p: (8, 144, 49), "unfold_shape((2, 3, 10, 10), 3, 1, 1)"),
        ("ex-ch6-unfold-shape",
         lambda x, k, s, p: tuple(F.unfold(torch.zeros(x), k, padding=p, stride=s).shape), "rules out"),
        ("ex-ch6-unfold-shape", lambda x, k, s, p: unfold_shape(x, k, s, p)[:2], "has 3 entries; yours has 2"),
    ],
)
def test_wrong_functions_get_a_specific_hint(label, answer, hint):
    result = check(label, answer)
    assert result.status == "wrong", result
    assert hint in result.message, result.message


@pytest.mark.parametrize("label", LABELS)
def test_a_function_exercise_is_not_answered_until_the_stub_is_filled(label):
    def stub(*args):
        raise NotImplementedError

    assert check(label, stub).status == "not answered yet"
    assert "Pass your function itself" in check(label, (300, 30, 3, 1)).message


def test_the_checks_references_agree_with_pytorch_on_every_setting():
    from course_lib.checks import ch06

    for shape in ch06._STRIDE_SHAPES:
        assert ch06._row_major(shape) == torch.empty(shape).stride()
    for shape, stride, dilation in ch06._VIEW_SETTINGS:
        x = torch.arange(float(math.prod(shape))).view(shape)
        o_h = conv_output_size(shape[1], 3, stride, dilation=dilation)
        o_w = conv_output_size(shape[2], 3, stride, dilation=dilation)
        view = x.as_strided((shape[0], o_h, o_w, 3, 3, shape[3]), ch06._view_strides(shape, stride, dilation))
        cols = F.unfold(x.permute(0, 3, 1, 2), 3, dilation=dilation, stride=stride)
        assert torch.equal(view.permute(0, 5, 3, 4, 1, 2).reshape(cols.shape), cols)
    for x_shape, ks, stride, padding in ch06._UNFOLD_SETTINGS:
        cols = F.unfold(torch.zeros(x_shape), ks, padding=padding, stride=stride)
        assert unfold_shape(x_shape, ks, stride, padding) == tuple(cols.shape)
    for shape, itemsize in ch06._DISTANCE_SETTINGS:
        dtype = {1: torch.uint8, 2: torch.float16, 4: torch.float32, 8: torch.float64}[itemsize]
        y = torch.zeros(shape, dtype=dtype)
        last = y.contiguous(memory_format=torch.channels_last)
        assert channel_distances(shape, itemsize) == (y.element_size() * y.stride(1),
                                                      last.element_size() * last.stride(1))
    for batch, channels, size, ks, stride, padding in ch06._PAGE_SETTINGS:
        cols = F.unfold(torch.zeros(batch, channels, size, size), ks, padding=padding, stride=stride)
        n_bytes = cols.shape[0] * cols.shape[2] * (cols.shape[1] + 1) * 4
        assert ch06._pages(batch, channels, size, ks, stride, padding) == -(-n_bytes // 4096)


def test_no_message_about_the_examples_prints_their_answer():
    # The exercises' own tensors come last: a message about another setting cannot confirm an answer for them.
    from course_lib.checks import ch06

    assert ch06._DISTANCE_SETTINGS[-1] == ((64, 32, 28, 28), 4)
    assert ch06._UNFOLD_SETTINGS[-1] == ((8, 16, 14, 14), 3, 2, 1)
    wrong_distances = [lambda s, i: (3136, 4) if s == (64, 32, 28, 28) else (1, 1), lambda s, i: (784, 1),
                       lambda s, i: (s[2] * s[3] * i, i) if s != (64, 32, 28, 28) else (784, 4)]
    for answer in wrong_distances:
        message = check("ex-ch6-channel-distance", answer).message
        assert "3136" not in message and "3,136" not in message, message
    wrong_shapes = [lambda x, k, s, p: (8, 144, 49) if x == (8, 16, 14, 14) else (1, 1, 1),
                    lambda x, k, s, p: unfold_shape(x, k, s, p) if x != (8, 16, 14, 14) else (8, 49, 144)]
    for answer in wrong_shapes:
        message = check("ex-ch6-unfold-shape", answer).message
        assert "(8, 144, 49)" not in message and "144" not in message.replace("(8, 49, 144)", ""), message


def test_numpy_and_memoryview_work_again_after_a_check():
    check("ex-ch6-nhwc-strides", _strides_of_a_memoryview)
    check("ex-ch6-nhwc-strides", _strides_of_an_ndarray)
    assert memoryview(bytearray(6)).cast("B", (2, 3)).strides == (3, 1)
    assert np.ndarray((2, 3), np.int8).strides == (3, 1) and np.zeros((2, 3), np.int8).strides == (3, 1)
    import sys

    assert sys.getprofile() is None


def test_an_ndarray_imported_before_the_check_is_refused_and_given_back():
    namespace = {}
    exec("import numpy as np\nfrom numpy import ndarray\n"
         "def answer(shape):\n    return ndarray(shape, np.int8).strides\n", namespace)
    result = check("ex-ch6-nhwc-strides", namespace["answer"])
    assert result.status == "wrong" and "Your function called numpy.ndarray" in result.message, result
    assert namespace["ndarray"] is np.ndarray


def test_isinstance_still_works_while_the_types_are_refused():
    # The grader's own code (course_lib.instructor.wire) asks isinstance(obj, np.ndarray) while a student's
    # function runs through it: the stand-ins must answer as the real types do.
    def answer(shape):
        assert isinstance(np.int8(0).dtype, np.dtype)  # a NumPy scalar type call, not refused
        assert not isinstance(shape, np.ndarray) and not isinstance(shape, memoryview)
        assert issubclass(np.memmap, np.ndarray) and np.ndarray.__name__ == "ndarray"
        return contiguous_strides(shape)

    assert check("ex-ch6-nhwc-strides", answer).passed


def test_an_import_inside_the_function_still_works():
    import sys

    sys.modules.pop("colorsys", None)  # imported afresh, its bytecode read through a memoryview

    def answer(shape):
        import colorsys

        assert colorsys.rgb_to_hsv(0, 0, 0) == (0, 0, 0)
        return contiguous_strides(shape)

    result = check("ex-ch6-nhwc-strides", answer)
    assert result.passed, result
