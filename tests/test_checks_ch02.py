"""Chapter 2's exercise checks accept the right answers and give specific hints for typical mistakes."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from course_lib import check, conv_matrix, conv_output_size, im2col_bytes
from course_lib.checks import ch02


def _passes(label, answer):
    result = check(label, answer)
    assert result.passed, result.message


def _hint(label, answer, words):
    result = check(label, answer)
    assert result.status == "wrong", result
    assert words in result.message, result.message


def _spread(kernel, d):
    kh, kw = kernel.shape
    spread = torch.zeros(d * (kh - 1) + 1, d * (kw - 1) + 1)
    spread[::d, ::d] = kernel
    return spread


KERNEL = torch.tensor([[1.0, 2.0], [3.0, 4.0]])


def _dilated_matrix(kernel, size, d):  # the loops of the chapter's matrix_by_loops, with the taps d apart
    kh, kw = kernel.shape
    oh, ow = size - d * (kh - 1), size - d * (kw - 1)
    m = torch.zeros(oh * ow, size * size)
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for b in range(kw):
                    m[i * ow + j, (i + d * a) * size + (j + d * b)] = kernel[a, b]
    return m


def test_dilated_matrix_equals_f_conv2d_with_dilation():
    for (kh, kw), size, d in ch02._MATRIX_CASES:
        kernel = torch.randn(kh, kw)
        x = torch.randn(1, 1, size, size)
        m = _dilated_matrix(kernel, size, d)
        torch.testing.assert_close(m @ x.flatten(), F.conv2d(x, kernel[None, None], dilation=d).flatten())
        torch.testing.assert_close(m, conv_matrix(_spread(kernel, d), size))


def test_matrix_by_hand_accepts_a_function_and_a_list_result():
    _passes("ex-ch2-matrix-by-hand", _dilated_matrix)
    _passes("ex-ch2-matrix-by-hand", lambda k, size, d: _dilated_matrix(k, size, d).tolist())
    # the zero-spread kernel through the student's own undilated loops is reasoning, not a library call
    _passes("ex-ch2-matrix-by-hand", lambda k, size, d: _dilated_matrix(_spread(k, d), size, 1))


def test_matrix_by_hand_hints_for_typical_mistakes():
    _hint("ex-ch2-matrix-by-hand", lambda k, size, d: _dilated_matrix(k, size, d).T, "rows look like input pixels")
    _hint("ex-ch2-matrix-by-hand", lambda k, size, d: _dilated_matrix(k, size, 1), "without dilation")
    _hint("ex-ch2-matrix-by-hand", lambda k, size, d: _dilated_matrix(k.flip(0, 1), size, d), "flipped the kernel")
    _hint("ex-ch2-matrix-by-hand", lambda k, size, d: _dilated_matrix(k.T, size, d)
          if k.shape[0] != k.shape[1] else _dilated_matrix(k, size, d), "Height and width are swapped")

    def stride_d(k, size, d):  # dilation used as the stride
        kh, kw = k.shape
        oh, ow = (size - kh) // d + 1, (size - kw) // d + 1
        m = torch.zeros(oh * ow, size * size)
        for i in range(oh):
            for j in range(ow):
                for a in range(kh):
                    for b in range(kw):
                        m[i * ow + j, (d * i + a) * size + (d * j + b)] = k[a, b]
        return m

    _hint("ex-ch2-matrix-by-hand", stride_d, "matrix of stride d")

    def one_entry_off(k, size, d):
        m = _dilated_matrix(k, size, d)
        m[-1] = torch.roll(m[-1], 1)
        return m

    _hint("ex-ch2-matrix-by-hand", one_entry_off, "rows [3] of your matrix differ")
    _hint("ex-ch2-matrix-by-hand", lambda k, size, d: torch.zeros(size, size), "which is not M's")


def test_matrix_by_hand_shape_hint_does_not_give_the_shape_away():
    result = check("ex-ch2-matrix-by-hand", lambda k, size, d: torch.zeros(size, size))
    assert "(4, 16)" not in result.message and "expected" not in result.message, result.message


def test_matrix_by_hand_wrong_types():
    _hint("ex-ch2-matrix-by-hand", _dilated_matrix(KERNEL, 4, 2), "function itself")
    _hint("ex-ch2-matrix-by-hand", lambda k, size, d: None, "returned None")
    _hint("ex-ch2-matrix-by-hand", lambda k, size, d: {"row": 1}, "returned dict")
    _hint("ex-ch2-matrix-by-hand", lambda k, size, d: [[1, 2], [3]], "nested list")

    def unanswered(k, size, d):
        raise NotImplementedError

    assert check("ex-ch2-matrix-by-hand", unanswered).status == "not answered yet"
    assert check("ex-ch2-matrix-by-hand", None).status == "not answered yet"


def test_matrix_by_hand_refuses_the_library_routes():
    def via_basis(k, size, d):  # F.conv2d of the one-hot images: M's columns
        return F.conv2d(torch.eye(size * size).view(-1, 1, size, size), k[None, None], dilation=d).flatten(1).T

    def via_conv_matrix(k, size, d):
        return conv_matrix(_spread(k, d), size)

    def via_jacobian(k, size, d):
        return torch.autograd.functional.jacobian(
            lambda x: F.conv2d(x.view(1, 1, size, size), k[None, None], dilation=d).flatten(), torch.zeros(size**2))

    def via_aten(k, size, d):
        basis = torch.eye(size * size).view(-1, 1, size, size)
        return torch.ops.aten.convolution(basis, k[None, None], None, [1, 1], [0, 0], [d, d], False, [0, 0],
                                          1).flatten(1).T

    def via_unfold(k, size, d):
        basis = torch.eye(size * size).view(-1, 1, size, size)
        return (F.unfold(basis, k.shape, dilation=d).transpose(1, 2) @ k.flatten()).T

    def fold_blocks(k, size, d):  # output pixel l's block holds the kernel, all other blocks zeros
        kh, kw = k.shape
        n_out = (size - d * (kh - 1)) * (size - d * (kw - 1))
        blocks = torch.zeros(n_out, kh * kw, n_out)
        blocks[torch.arange(n_out), :, torch.arange(n_out)] = k.flatten()
        return blocks, n_out

    def via_fold(k, size, d):  # F.fold adds each block back into an image: row l of M
        blocks, n_out = fold_blocks(k, size, d)
        return F.fold(blocks, (size, size), k.shape, dilation=d).reshape(n_out, size * size)

    def via_aten_col2im(k, size, d):  # the operator behind F.fold
        blocks, n_out = fold_blocks(k, size, d)
        return torch.ops.aten.col2im(blocks, [size, size], list(k.shape), [d, d], [0, 0], [1, 1]).reshape(
            n_out, size * size)

    for fn in (via_basis, via_conv_matrix, via_jacobian, via_aten, via_unfold, via_fold, via_aten_col2im):
        torch.testing.assert_close(fn(KERNEL, 4, 2), _dilated_matrix(KERNEL, 4, 2))  # each would pass
    for fn, words in [(via_basis, "called F.conv2d"), (via_conv_matrix, "called course_lib.matmul.conv_matrix"),
                      (via_jacobian, "called F.conv2d"), (via_aten, "aten.convolution"),
                      (via_unfold, "called F.unfold"), (via_fold, "called F.fold"), (via_aten_col2im, "aten.col2im")]:
        _hint("ex-ch2-matrix-by-hand", fn, words)
    torch.testing.assert_close(via_fold(KERNEL, 4, 2), _dilated_matrix(KERNEL, 4, 2))  # restored after the check
    torch.testing.assert_close(via_basis(KERNEL, 4, 2), _dilated_matrix(KERNEL, 4, 2))  # restored after the check


# ---------------------------------------------------------------------------
# The counting exercises, checked against conv_matrix itself where M is small enough to build.

def _zeros_by_building(n, k, s, p):
    return int((conv_matrix(torch.ones(k, k), n, stride=s, padding=p) == 0).sum())


def _count_by_building(n, k, s, p, row, col):
    tap = torch.zeros(k, k)
    tap[row, col] = 1.0
    return int(conv_matrix(tap, n, stride=s, padding=p).sum())


def _real(n, k, s, p, taps):
    out = conv_output_size(n, k, s, p)
    return sum(0 <= i * s - p + t < n for i in range(out) for t in taps)


def structural_zeros(size, k, stride, padding):
    out = conv_output_size(size, k, stride, padding)
    real = _real(size, k, stride, padding, range(k))
    return out * out * size * size - real * real


def weight_count(size, k, stride, padding, row, col):
    return _real(size, k, stride, padding, [row]) * _real(size, k, stride, padding, [col])


def test_the_counts_agree_with_conv_matrix_where_m_can_be_built():
    for case in ch02._ZEROS_CASES:
        if case[0] <= 12:
            assert structural_zeros(*case) == _zeros_by_building(*case) == ch02._zeros(*case), case
    for case in ch02._TIED_CASES:
        if case[0] <= 12:
            assert weight_count(*case) == _count_by_building(*case) == ch02._tied(*case), case
    assert ch02._zeros(999, 3, 2, 1) == 249_498_005_996  # the old single question's answer, still a case
    assert ch02._tied(1000, 5, 2, 2, 0, 2) == 249_500


def test_the_closed_form_tap_count_equals_the_loop():
    for n in range(1, 12):
        for k in range(1, n + 3):
            for s in range(1, 5):
                for p in range(0, 5):
                    if n + 2 * p < k:
                        continue
                    for taps in (range(k), *([t] for t in range(k))):
                        assert ch02._taps(n, k, s, p, taps) == _real(n, k, s, p, taps), (n, k, s, p, taps)
    assert structural_zeros(999_999, 5, 3, 2) == ch02._zeros(999_999, 5, 3, 2)
    assert weight_count(1_000_000, 3, 2, 1, 2, 0) == ch02._tied(1_000_000, 3, 2, 1, 2, 0)


def test_the_counts_run_on_an_image_too_large_for_any_dense_array():
    # about 10**12 pixels: an array of ones the size of the image (NumPy, scipy) cannot be allocated
    assert max(case[0] for case in ch02._ZEROS_CASES) >= 999_999
    assert max(case[0] for case in ch02._TIED_CASES) >= 999_999
    np = pytest.importorskip("numpy")
    from numpy.lib.stride_tricks import sliding_window_view

    def ones_windows(n, k, s, p):
        return sliding_window_view(np.pad(np.ones((n, n)), p), (k, k))[::s, ::s]

    def via_numpy_ones(n, k, s, p):  # a "convolution of ones" outside PyTorch
        return conv_output_size(n, k, s, p) ** 2 * n * n - int(ones_windows(n, k, s, p).sum())

    def via_numpy_tap(n, k, s, p, r, c):
        return int(ones_windows(n, k, s, p)[..., r, c].sum())

    assert all(via_numpy_ones(*case) == ch02._zeros(*case) for case in ch02._ZEROS_CASES if case[0] < 2000)
    assert all(via_numpy_tap(*case) == ch02._tied(*case) for case in ch02._TIED_CASES if case[0] < 2000)
    _hint("ex-ch2-count-zeros", via_numpy_ones, "raised MemoryError")
    _hint("ex-ch2-tied-weights", via_numpy_tap, "raised MemoryError")


def test_count_zeros_accepts_a_counting_function():
    _passes("ex-ch2-count-zeros", structural_zeros)


def test_count_zeros_hints_for_typical_mistakes():
    def out(n, k, s, p):
        return conv_output_size(n, k, s, p)

    _hint("ex-ch2-count-zeros", lambda n, k, s, p: _real(n, k, s, p, range(k)) ** 2, "hold a weight")
    _hint("ex-ch2-count-zeros", lambda n, k, s, p: out(n, k, s, p) ** 2 * (n * n - k * k), "partly covers padding")
    _hint("ex-ch2-count-zeros", lambda n, k, s, p: out(n, k, s, 0) ** 2 * (n * n - k * k), "without padding")
    _hint("ex-ch2-count-zeros", lambda n, k, s, p: out(n, k, s, p) ** 2 * ((n + 2 * p) ** 2 - k * k),
          "column for every pixel of the padded image")
    _hint("ex-ch2-count-zeros", lambda n, k, s, p: out(n, k, s, p) ** 2 * n * n - sum(
        0 <= i * s - p + t for i in range(out(n, k, s, p)) for t in range(k)) ** 2, "Look at the last output")
    _hint("ex-ch2-count-zeros", lambda n, k, s, p: structural_zeros(n, k, 1, p), "count with stride 1")

    def rounded_up(n, k, s, p):  # the solution's loop with the number of outputs rounded up
        out = math.ceil((n + 2 * p - k) / s) + 1
        real = sum(0 <= i * s - p + t < n for i in range(out) for t in range(k))
        return out * out * n * n - real * real

    _hint("ex-ch2-count-zeros", rounded_up, "output pixels (rows of M) along an axis is rounded up")
    wrong = check("ex-ch2-count-zeros", lambda n, k, s, p: structural_zeros(n, k, s, p) + 1)
    assert wrong.status == "wrong" and "that is not the number" in wrong.message, wrong.message
    assert "one row per output pixel" in wrong.message and "work along one axis" in wrong.message


def test_count_zeros_wrong_types_and_refusals():
    _hint("ex-ch2-count-zeros", 249_498_005_996, "function itself")
    _hint("ex-ch2-count-zeros", lambda n, k, s, p: float(structural_zeros(n, k, s, p)), "as an int")
    _hint("ex-ch2-count-zeros", lambda n, k, s, p: structural_zeros(n, k, s, p) / 1.5, "whole number")
    _hint("ex-ch2-count-zeros", lambda n, k, s, p: str(structural_zeros(n, k, s, p)), "whole number")
    _hint("ex-ch2-count-zeros", lambda n, k, s, p: None, "returned NoneType")
    _hint("ex-ch2-count-zeros", lambda n, k, s, p: 1 // 0, "raised ZeroDivisionError")
    _hint("ex-ch2-count-zeros", _zeros_by_building, "aten.")  # conv_matrix: refused at the operator level

    def via_conv_of_ones(n, k, s, p):  # one convolution counts the entries that hold a weight
        held = int(F.conv2d(torch.ones(1, 1, n, n), torch.ones(1, 1, k, k), stride=s, padding=p).sum())
        return conv_output_size(n, k, s, p) ** 2 * n * n - held

    assert via_conv_of_ones(9, 2, 2, 1) == structural_zeros(9, 2, 2, 1)  # it would pass
    _hint("ex-ch2-count-zeros", via_conv_of_ones, "PyTorch's operators are switched off")
    assert int(F.conv2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 2, 2)).sum()) == 16  # restored after the check


def test_tied_weights_accepts_a_counting_function():
    _passes("ex-ch2-tied-weights", weight_count)


def test_tied_weights_hints_for_typical_mistakes():
    def real_start_only(n, k, s, p, taps):
        return sum(0 <= i * s - p + t for i in range(conv_output_size(n, k, s, p)) for t in taps)

    _hint("ex-ch2-tied-weights", lambda n, k, s, p, r, c: conv_output_size(n, k, s, p) ** 2, "lands on padding")
    _hint("ex-ch2-tied-weights", lambda n, k, s, p, r, c: _real(n, k, s, p, [r]) ** 2, "kernel row's count")
    _hint("ex-ch2-tied-weights", lambda n, k, s, p, r, c: _real(n, k, s, p, [c]) ** 2, "kernel column's count")
    _hint("ex-ch2-tied-weights", lambda n, k, s, p, r, c: conv_output_size(n, k, s, 0) ** 2, "without padding")
    _hint("ex-ch2-tied-weights", lambda n, k, s, p, r, c: real_start_only(n, k, s, p, [r]) * real_start_only(
        n, k, s, p, [c]), "Check the last output row")
    _hint("ex-ch2-tied-weights", lambda n, k, s, p, r, c: weight_count(n, k, 1, p, r, c), "count with stride 1")
    _hint("ex-ch2-tied-weights", lambda n, k, s, p, r, c: 12345, "that is not the count")


def test_tied_weights_wrong_types_and_refusals():
    _hint("ex-ch2-tied-weights", 249_500, "function itself")
    _hint("ex-ch2-tied-weights", lambda n, k, s, p, r, c: "249500", "whole number")
    _hint("ex-ch2-tied-weights", lambda n, k, s, p, r, c: float(weight_count(n, k, s, p, r, c)), "as an int")

    def via_one_hot_conv(n, k, s, p, r, c):
        tap = torch.zeros(1, 1, k, k)
        tap[0, 0, r, c] = 1.0
        return int(F.conv2d(torch.ones(1, 1, n, n), tap, stride=s, padding=p).sum())

    assert via_one_hot_conv(9, 4, 3, 2, 3, 1) == weight_count(9, 4, 3, 2, 3, 1)  # it would pass
    _hint("ex-ch2-tied-weights", via_one_hot_conv, "PyTorch's operators are switched off")
    _hint("ex-ch2-tied-weights", _count_by_building, "aten.")


def test_hints_never_name_the_answer():
    for label, fn, cases, right in [("ex-ch2-count-zeros", lambda n, k, s, p: 7, ch02._ZEROS_CASES, ch02._zeros),
                                    ("ex-ch2-tied-weights", lambda *a: 7, ch02._TIED_CASES, ch02._tied),
                                    ("ex-ch2-im2col-memory", lambda *a: 7, ch02._IM2COL_CASES, ch02._im2col)]:
        message = check(label, fn).message
        assert f"{right(*cases[0]):,}" not in message and str(right(*cases[0])) not in message, message


# ---------------------------------------------------------------------------
# ex-ch2-im2col-memory: a function, checked against F.unfold on every setting.

def im2col_bytes_by_hand(batch, channels, height, width, k, stride, padding, dilation):
    span = dilation * (k - 1) + 1
    out_h = (height + 2 * padding - span) // stride + 1
    out_w = (width + 2 * padding - span) // stride + 1
    return batch * out_h * out_w * channels * k * k * 4


@pytest.mark.parametrize("case", ch02._IM2COL_CASES)
def test_im2col_cases_agree_with_f_unfold(case):
    b, c, h, w, k, s, p, d = case
    patches = F.unfold(torch.empty(b, c, h, w, device="meta"), k, dilation=d, padding=p, stride=s)
    assert ch02._im2col(*case) == patches.numel() * 4 == im2col_bytes_by_hand(*case)


def test_im2col_memory_accepts_a_function():
    _passes("ex-ch2-im2col-memory", im2col_bytes_by_hand)
    _passes("ex-ch2-im2col-memory", lambda b, c, h, w, k, s, p, d: b * conv_output_size(h, k, s, p, d)
            * conv_output_size(w, k, s, p, d) * c * k * k * 4)  # chapter 1's helper is allowed


def _wrong(span=None, sides=2, ceil=False, stride=None, both=None):
    def fn(b, c, h, w, k, s, p, d):
        sp = d * (k - 1) + 1 if span is None else span(k, d)
        st = s if stride is None else stride

        def pos(n):
            free = n + sides * p - sp
            return (math.ceil(free / st) if ceil else free // st) + 1

        hh, ww = (h, h) if both == "h" else (w, w) if both == "w" else (h, w)
        return b * pos(hh) * pos(ww) * c * k * k * 4
    return fn


def test_im2col_memory_hints_for_typical_mistakes():
    right = im2col_bytes_by_hand
    _hint("ex-ch2-im2col-memory", lambda *a: right(*a) // 4, "number of floats")
    _hint("ex-ch2-im2col-memory", lambda *a: right(*a) // a[0], "one image")
    _hint("ex-ch2-im2col-memory", lambda b, c, h, w, *rest: b * c * h * w * 4, "size of the input")
    _hint("ex-ch2-im2col-memory", _wrong(span=lambda k, d: k), "ignores the dilation")
    _hint("ex-ch2-im2col-memory", _wrong(span=lambda k, d: d * k), "as d·k pixels")
    _hint("ex-ch2-im2col-memory", lambda b, c, h, w, k, s, p, d: right(b, c, h, w, k, s, p, d) // (k * k)
          * (d * (k - 1) + 1) ** 2, "holes are not copied")
    _hint("ex-ch2-im2col-memory", _wrong(sides=0), "ignores the padding")
    _hint("ex-ch2-im2col-memory", _wrong(sides=1), "one side only")
    _hint("ex-ch2-im2col-memory", _wrong(stride=1), "patch matrix of stride 1")
    _hint("ex-ch2-im2col-memory", _wrong(ceil=True), "rounds up")
    _hint("ex-ch2-im2col-memory", _wrong(both="h"), "height for both axes")
    _hint("ex-ch2-im2col-memory", _wrong(both="w"), "width for both axes")
    _hint("ex-ch2-im2col-memory", lambda *a: right(*a) + 4, "that is not the number of bytes")


def test_im2col_memory_wrong_types():
    _hint("ex-ch2-im2col-memory", 21_233_664, "function itself")
    _hint("ex-ch2-im2col-memory", lambda *a: float(im2col_bytes_by_hand(*a)), "as an int")
    _hint("ex-ch2-im2col-memory", lambda *a: im2col_bytes_by_hand(*a) / 3, "whole number")
    _hint("ex-ch2-im2col-memory", lambda *a: str(im2col_bytes_by_hand(*a)), "whole number")
    _hint("ex-ch2-im2col-memory", lambda *a: None, "returned NoneType")
    _hint("ex-ch2-im2col-memory", lambda b, c, h, w, k, s, p: 0, "raised TypeError")

    def unanswered(*a):
        raise NotImplementedError

    assert check("ex-ch2-im2col-memory", unanswered).status == "not answered yet"


def test_im2col_memory_refuses_the_one_call_routes():
    def via_meta_unfold(b, c, h, w, k, s, p, d):
        return F.unfold(torch.empty(b, c, h, w, device="meta"), k, dilation=d, padding=p, stride=s).numel() * 4

    def via_tensor_unfold(b, c, h, w, k, s, p, d):
        x = torch.zeros(1, 1, h + 2 * p, w + 2 * p, device="meta")
        span = d * (k - 1) + 1
        windows = x.unfold(2, span, s).unfold(3, span, s)
        return b * windows.shape[2] * windows.shape[3] * c * k * k * 4

    def via_conv2d(b, c, h, w, k, s, p, d):
        out = F.conv2d(torch.empty(1, 1, h, w, device="meta"), torch.empty(1, 1, k, k, device="meta"),
                       stride=s, padding=p, dilation=d)
        return b * out.shape[2] * out.shape[3] * c * k * k * 4

    def via_module(b, c, h, w, k, s, p, d):
        conv = torch.nn.Conv2d(c, 1, k, s, p, d, device="meta")
        return b * conv(torch.empty(1, c, h, w, device="meta")).shape[2:].numel() * c * k * k * 4

    def via_im2col_bytes(b, c, h, w, k, s, p, d):  # the dilated kernel as a larger one, then rescaled
        span = d * (k - 1) + 1
        return im2col_bytes((b, c, h, w), span, s, p) // (span * span) * k * k

    for fn in (via_meta_unfold, via_tensor_unfold, via_conv2d, via_module, via_im2col_bytes):
        assert all(fn(*case) == ch02._im2col(*case) for case in ch02._IM2COL_CASES), fn  # each would pass
    for fn in (via_meta_unfold, via_tensor_unfold, via_conv2d, via_module):
        _hint("ex-ch2-im2col-memory", fn, "PyTorch's operators are switched off")
    _hint("ex-ch2-im2col-memory", via_im2col_bytes, "called course_lib.matmul.im2col_bytes")
    assert via_meta_unfold(*ch02._IM2COL_CASES[0]) == ch02._im2col(*ch02._IM2COL_CASES[0])  # restored
    assert im2col_bytes((1, 1, 4, 4), 3) == 4 * 9 * 4


def _patches(x, ks, stride, padding, dilation):
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = ks, stride, padding, dilation
    n, c, h, w = x.shape
    padded = x.new_zeros(n, c, h + 2 * ph, w + 2 * pw)
    padded[:, :, ph:ph + h, pw:pw + w] = x
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    oh, ow = (h + 2 * ph - span_h) // sh + 1, (w + 2 * pw - span_w) // sw + 1
    rows = [padded[:, :, i * sh:i * sh + span_h:dh, j * sw:j * sw + span_w:dw].reshape(n, -1)
            for i in range(oh) for j in range(ow)]
    return torch.stack(rows, 1).reshape(-1, c * kh * kw)


def test_pad_patches_reference_equals_f_unfold_with_dilation():
    x = torch.randn(2, 3, 7, 6)
    for ks, s, p, d in [((3, 2), (2, 1), (1, 0), (2, 3)), ((1, 1), (1, 2), (0, 1), (3, 2)),
                        ((2, 2), (1, 1), (0, 0), (6, 5))]:  # the last kernel spans the whole image
        expected = F.unfold(x, ks, dilation=d, padding=p, stride=s).transpose(1, 2).reshape(-1, 3 * ks[0] * ks[1])
        torch.testing.assert_close(_patches(x, ks, s, p, d), expected)


def test_pad_patches_accepts_a_hand_written_version():
    _passes("ex-ch2-pad-patches", _patches)

    def via_tensor_unfold(x, ks, stride, padding, dilation):  # Tensor.unfold slides a window; allowed
        (kh, kw), (sh, sw), (ph, pw), (dh, dw) = ks, stride, padding, dilation
        n, c, h, w = x.shape
        padded = torch.zeros(n, c, h + 2 * ph, w + 2 * pw)
        padded[:, :, ph:ph + h, pw:pw + w] = x
        win = padded.unfold(2, dh * (kh - 1) + 1, sh).unfold(3, dw * (kw - 1) + 1, sw)[..., ::dh, ::dw]
        return win.permute(0, 2, 3, 1, 4, 5).reshape(-1, c * kh * kw)  # win: (n, c, oh, ow, kh, kw)

    _passes("ex-ch2-pad-patches", via_tensor_unfold)


def test_pad_patches_hints_for_typical_mistakes():
    _hint("ex-ch2-pad-patches", lambda x, ks, s, p, d: _patches(x, ks, s, (0, 0), d), "without padding")
    _hint("ex-ch2-pad-patches", lambda x, ks, s, p, d: _patches(x, ks, (1, 1), p, d), "stride-1 patch matrix")
    _hint("ex-ch2-pad-patches", lambda x, ks, s, p, d: _patches(x, ks, s, p, d).flip(1), "different order")
    _hint("ex-ch2-pad-patches", lambda x, ks, s, p, d: 2 * _patches(x, ks, s, p, d), "values differ")

    _hint("ex-ch2-pad-patches", lambda x, ks, s, p, d: _patches(x, ks[::-1], s[::-1], p[::-1], d[::-1]), "swapped")
    _hint("ex-ch2-pad-patches", lambda x, ks, s, p, d: _patches(x, ks, s, p, d[::-1]), "swapped")
    _hint("ex-ch2-pad-patches", lambda x, ks, s, p, d: _patches(x, ks, s, p, d).tolist(), "Return a tensor")
    _hint("ex-ch2-pad-patches", _patches(torch.zeros(1, 1, 3, 3), (2, 2), (1, 1), (0, 0), (1, 1)), "function itself")


def test_pad_patches_hints_for_an_ignored_dilation_by_shape_or_by_values():
    def ignored(x, ks, s, p, d):
        return _patches(x, ks, s, p, (1, 1))

    result = check("ex-ch2-pad-patches", ignored)  # the second case's output has the undilated size
    assert result.status == "wrong" and "right shape but other values" in result.message, result.message
    assert "without dilation" in result.message and "dilation=(2, 1)" in result.message, result.message

    def ignored_after_it(x, ks, s, p, d):  # right on the cases up to the undilated-size one
        return _patches(x, ks, s, p, d if tuple(x.shape) in {(1, 1, 4, 4), (2, 2, 7, 5)} else (1, 1))

    result = check("ex-ch2-pad-patches", ignored_after_it)
    assert result.status == "wrong" and "your matrix has shape" in result.message, result.message
    assert "without dilation" in result.message, result.message


def test_pad_patches_shape_hint_does_not_give_the_shape_away():
    result = check("ex-ch2-pad-patches", lambda x, ks, s, p, d: _patches(x, ks, s, p, d)[:-1])
    assert result.status == "wrong" and "your matrix has shape (15, 9)" in result.message, result.message
    assert "(16, 9)" not in result.message and "expected" not in result.message, result.message
    assert "N·oH·oW rows" in result.message, result.message


def test_pad_patches_hints_for_dilation_used_as_stride():
    _hint("ex-ch2-pad-patches", lambda x, ks, s, p, d: _patches(x, ks, d, p, (1, 1)), "used as the stride")
    _hint("ex-ch2-pad-patches", lambda x, ks, s, p, d: _patches(x, ks, d, p, s), "used as the stride")


def test_pad_patches_refuses_f_unfold_and_f_pad():
    def one_liner(x, ks, s, p, d):
        out = F.unfold(x, ks, dilation=d, padding=p, stride=s)
        return out.transpose(1, 2).reshape(-1, x.shape[1] * ks[0] * ks[1])

    def with_f_pad(x, ks, s, p, d):
        return _patches(F.pad(x, (p[1], p[1], p[0], p[0])), ks, s, (0, 0), d)

    def with_module(x, ks, s, p, d):
        return _patches(torch.nn.ZeroPad2d((p[1], p[1], p[0], p[0]))(x), ks, s, (0, 0), d)

    def with_nn_unfold(x, ks, s, p, d):
        out = torch.nn.Unfold(ks, dilation=d, padding=p, stride=s)(x)
        return out.transpose(1, 2).reshape(-1, x.shape[1] * ks[0] * ks[1])

    def with_aten_im2col(x, ks, s, p, d):  # the operator behind F.unfold
        out = torch.ops.aten.im2col(x, ks, d, p, s)
        return out.transpose(1, 2).reshape(-1, x.shape[1] * ks[0] * ks[1])

    def with_aten_im2col_default(x, ks, s, p, d):
        out = torch.ops.aten.im2col.default(x, ks, d, p, s)
        return out.transpose(1, 2).reshape(-1, x.shape[1] * ks[0] * ks[1])

    def with_aten_pad(x, ks, s, p, d):
        return _patches(torch.ops.aten.pad(x, [p[1], p[1], p[0], p[0]]), ks, s, (0, 0), d)

    def with_aten_constant_pad_nd(x, ks, s, p, d):
        return _patches(torch.ops.aten.constant_pad_nd(x, [p[1], p[1], p[0], p[0]]), ks, s, (0, 0), d)

    def with_one_hot_conv(x, ks, s, p, d):  # one convolution whose kernels copy out one patch value each
        c, (kh, kw) = x.shape[1], ks
        out = F.conv2d(x, torch.eye(c * kh * kw).view(-1, c, kh, kw), None, s, p, d)
        return out.permute(0, 2, 3, 1).reshape(-1, c * kh * kw)

    def with_aten_convolution(x, ks, s, p, d):
        c, (kh, kw) = x.shape[1], ks
        out = torch.ops.aten.convolution(x, torch.eye(c * kh * kw).view(-1, c, kh, kw), None, list(s), list(p),
                                         list(d), False, [0, 0], 1)
        return out.permute(0, 2, 3, 1).reshape(-1, c * kh * kw)

    case = torch.randn(2, 3, 5, 6), (3, 2), (2, 1), (2, 0), (2, 3)
    for fn in (with_aten_im2col, with_aten_im2col_default, with_aten_pad, with_aten_constant_pad_nd,
               with_one_hot_conv, with_aten_convolution):
        torch.testing.assert_close(fn(*case), _patches(*case))  # each would pass
    for fn, words in [(one_liner, "called F.unfold"), (with_f_pad, "called F.pad"), (with_module, "called F.pad"),
                      (with_nn_unfold, "called F.unfold"), (with_aten_im2col, "aten.im2col operator"),
                      (with_aten_im2col_default, "aten.im2col operator"),
                      (with_aten_pad, "aten.constant_pad_nd operator"),
                      (with_aten_constant_pad_nd, "aten.constant_pad_nd operator"),
                      (with_one_hot_conv, "aten.convolution operator"),
                      (with_aten_convolution, "aten.convolution operator")]:
        _hint("ex-ch2-pad-patches", fn, words)
    assert F.unfold(torch.zeros(1, 1, 3, 3), 2).shape == (1, 4, 4)  # restored after the check
    torch.testing.assert_close(with_aten_constant_pad_nd(*case), _patches(*case))


def _right_input_grad(g, w, s, p, size):
    rebuilt = [(g.shape[2 + a] - 1) * s - 2 * p + w.shape[2 + a] for a in range(2)]
    return F.conv_transpose2d(g, w, None, s, p, output_padding=(size[0] - rebuilt[0], size[1] - rebuilt[1]))


# (grad_out, weight, stride, padding, input size) of a stride-2 layer on an odd 9×7 input
_INPUT_GRAD_CASE = (torch.randn(2, 4, 5, 4, dtype=torch.float64), torch.randn(4, 3, 3, 2, dtype=torch.float64), 2, 1,
                    (9, 7))


def _square_only_input_grad(g, w, s, p, size):
    h = (g.shape[2] - 1) * s - 2 * p + w.shape[2]
    return F.conv_transpose2d(g, w, None, s, p, output_padding=size[0] - h)


def test_input_grad():
    _passes("ex-ch2-input-grad", _right_input_grad)
    _hint("ex-ch2-input-grad", lambda g, w, s, p, size: F.conv_transpose2d(g, w, None, s, p), "output_padding")
    _hint("ex-ch2-input-grad", lambda g, w, s, p, size: 2 * _right_input_grad(g, w, s, p, size),
          "differ from autograd")
    _hint("ex-ch2-input-grad", lambda g, w, s, p, size: _right_input_grad(g, w, s, p, size).tolist(),
          "Return a tensor")
    _hint("ex-ch2-input-grad", 3, "function itself")
    _hint("ex-ch2-input-grad", _square_only_input_grad, "input 9×7, kernel 3×2")
    _hint("ex-ch2-input-grad", _square_only_input_grad, "one value per axis (output_padding=(ph, pw))")
    # a wrong shape on the stride-1 case is not an output_padding problem; on a stride-2 case it is
    no_padding = check("ex-ch2-input-grad", lambda g, w, s, p, size: F.conv_transpose2d(g, w, None, s, 0))
    assert "stride=1" in no_padding.message and "forward weight as it is" in no_padding.message, no_padding
    assert "output_padding" not in no_padding.message, no_padding

    def unanswered(g, w, s, p, size):
        raise NotImplementedError

    assert check("ex-ch2-input-grad", unanswered).status == "not answered yet"


def test_input_grad_refuses_autograd_and_torch_nn_grad():
    def via_nn_grad(g, w, s, p, size):
        return torch.nn.grad.conv2d_input((g.shape[0], w.shape[1], *size), w, g, s, p)

    def via_autograd(g, w, s, p, size):
        x = torch.zeros(g.shape[0], w.shape[1], *size, dtype=g.dtype, requires_grad=True)
        return torch.autograd.grad(F.conv2d(x, w, None, s, p), x, g)[0]

    def via_backward(g, w, s, p, size):
        x = torch.zeros(g.shape[0], w.shape[1], *size, dtype=g.dtype, requires_grad=True)
        F.conv2d(x, w, None, s, p).backward(g)
        return x.grad

    def via_aten(g, w, s, p, size):  # autograd's own operator: no transposed convolution written
        x = torch.zeros(g.shape[0], w.shape[1], *size, dtype=g.dtype)
        return torch.ops.aten.convolution_backward(g, x, w, None, [s, s], [p, p], [1, 1], False, [0, 0], 1,
                                                   [True, False, False])[0]

    def via_aten_default(g, w, s, p, size):
        x = torch.zeros(g.shape[0], w.shape[1], *size, dtype=g.dtype)
        return torch.ops.aten.convolution_backward.default(g, x, w, None, [s, s], [p, p], [1, 1], False,
                                                           [0, 0], 1, [True, False, False])[0]

    torch.testing.assert_close(via_aten(*_INPUT_GRAD_CASE), _right_input_grad(*_INPUT_GRAD_CASE))  # it would pass
    for fn, words in [(via_nn_grad, "called torch.nn.grad.conv2d_input"),
                      (via_autograd, "called torch.autograd.grad"), (via_backward, "called torch.autograd.backward"),
                      (via_aten, "reached PyTorch's aten.convolution_backward operator"),
                      (via_aten_default, "reached PyTorch's aten.convolution_backward operator")]:
        _hint("ex-ch2-input-grad", fn, words)
    x = torch.ones(2, requires_grad=True)
    assert torch.autograd.grad(x.sum(), x)[0].tolist() == [1.0, 1.0]  # restored after the check
    torch.testing.assert_close(via_aten(*_INPUT_GRAD_CASE), _right_input_grad(*_INPUT_GRAD_CASE))
    torch.testing.assert_close(via_aten_default(*_INPUT_GRAD_CASE), _right_input_grad(*_INPUT_GRAD_CASE))


def _input_grad_via_course_lib_matrix(g, w, s, p, size):
    m = conv_matrix(w, size, s, p)  # M.T @ g: the gradient without a transposed convolution
    return (m.T @ g.reshape(g.shape[0], -1).T).T.reshape(g.shape[0], w.shape[1], *size)


def test_input_grad_refuses_course_lib_convolutions_and_torch_func():
    from course_lib import conv2d_matmul
    from course_lib.matmul import conv_matrix as matmul_conv_matrix

    def via_matmul_module(g, w, s, p, size):
        m = matmul_conv_matrix(w, size, s, p)
        return (m.T @ g.reshape(g.shape[0], -1).T).T.reshape(g.shape[0], w.shape[1], *size)

    def via_conv2d_matmul(g, w, s, p, size):
        x = torch.zeros(g.shape[0], w.shape[1], *size, dtype=g.dtype, requires_grad=True)
        return conv2d_matmul(x, w, None, s, p).grad_fn(g)[0]

    def zeros(g, w, size):
        return torch.zeros(g.shape[0], w.shape[1], *size, dtype=g.dtype)

    def via_vjp(g, w, s, p, size):
        return torch.func.vjp(lambda x: F.conv2d(x, w, None, s, p), zeros(g, w, size))[1](g)[0]

    def via_func_grad(g, w, s, p, size):
        return torch.func.grad(lambda x: (F.conv2d(x, w, None, s, p) * g).sum())(zeros(g, w, size))

    def via_jacrev(g, w, s, p, size):
        return torch.func.jacrev(lambda x: (F.conv2d(x, w, None, s, p) * g).sum())(zeros(g, w, size))

    for fn in (_input_grad_via_course_lib_matrix, via_matmul_module, via_vjp, via_func_grad, via_jacrev):
        torch.testing.assert_close(fn(*_INPUT_GRAD_CASE), _right_input_grad(*_INPUT_GRAD_CASE))  # each would pass
    for fn, name in [(_input_grad_via_course_lib_matrix, "course_lib.matmul.conv_matrix"),
                     (via_matmul_module, "course_lib.matmul.conv_matrix"),
                     (via_conv2d_matmul, "course_lib.matmul.conv2d_matmul"), (via_vjp, "torch.func.vjp"),
                     (via_func_grad, "torch.func.grad"), (via_jacrev, "torch.func.jacrev")]:
        _hint("ex-ch2-input-grad", fn, f"called {name}")
    for fn in (_input_grad_via_course_lib_matrix, via_vjp):  # restored after the check
        torch.testing.assert_close(fn(*_INPUT_GRAD_CASE), _right_input_grad(*_INPUT_GRAD_CASE))


def _zeros_requiring_grad(g, w, size):
    return torch.zeros(g.shape[0], w.shape[1], *size, dtype=g.dtype, requires_grad=True)


def _via_grad_fn(g, w, s, p, size):  # calls the backward node by hand: no torch.autograd function involved
    return F.conv2d(_zeros_requiring_grad(g, w, size), w, None, s, p).grad_fn(g)[0]


def _via_engine(g, w, s, p, size):  # the engine that torch.autograd.grad calls
    x = _zeros_requiring_grad(g, w, size)
    out = F.conv2d(x, w, None, s, p)
    return torch.autograd.Variable._execution_engine.run_backward((out,), (g,), False, False, (x,), True)[0]


def test_input_grad_runs_the_function_without_an_autograd_graph():
    def with_enable_grad(fn):
        def wrapped(*args):
            with torch.enable_grad():
                return fn(*args)
        return wrapped

    for fn in (_via_grad_fn, _via_engine):
        torch.testing.assert_close(fn(*_INPUT_GRAD_CASE), _right_input_grad(*_INPUT_GRAD_CASE))  # would pass
        with torch.no_grad():  # torch.no_grad() alone would not stop them: enable_grad() undoes it
            torch.testing.assert_close(with_enable_grad(fn)(*_INPUT_GRAD_CASE), _right_input_grad(*_INPUT_GRAD_CASE))
    for fn in (_via_grad_fn, _via_engine, with_enable_grad(_via_grad_fn), with_enable_grad(_via_engine)):
        _hint("ex-ch2-input-grad", fn, "torch.inference_mode()")

    def outside_inference_mode(fn):  # leaves the check's inference mode to build a graph
        def wrapped(*args):
            with torch.inference_mode(False):
                return fn(*args)
        return wrapped

    torch.testing.assert_close(outside_inference_mode(_via_grad_fn)(*_INPUT_GRAD_CASE),
                               _right_input_grad(*_INPUT_GRAD_CASE))  # would pass
    _hint("ex-ch2-input-grad", outside_inference_mode(_via_grad_fn), "aten.convolution_backward operator")

    x = torch.ones(2, requires_grad=True)
    assert (x * 2).grad_fn is not None  # autograd records again after the check


def test_input_grad_refuses_the_module_that_works_output_padding_out():
    def via_module(g, w, s, p, size):  # output_size: the module computes output_padding itself
        m = torch.nn.ConvTranspose2d(w.shape[0], w.shape[1], w.shape[2:], s, p, bias=False).to(w.dtype)
        with torch.no_grad():
            m.weight.copy_(w)
        return m(g, output_size=list(size))

    torch.testing.assert_close(via_module(*_INPUT_GRAD_CASE), _right_input_grad(*_INPUT_GRAD_CASE))  # would pass
    _hint("ex-ch2-input-grad", via_module, "called torch.nn.modules.conv._ConvTransposeNd._output_padding")
    _hint("ex-ch2-input-grad", via_module, "output_size works output_padding out for you")
    torch.testing.assert_close(via_module(*_INPUT_GRAD_CASE), _right_input_grad(*_INPUT_GRAD_CASE))  # restored


def test_input_grad_an_all_zero_gradient_gets_its_own_diagnosis():
    """Autograd tried in inference mode gives zeros; the hint says why, instead of 'pass the weight unchanged'."""
    _hint("ex-ch2-input-grad", lambda g, w, s, p, size: torch.zeros(g.shape[0], w.shape[1], *size, dtype=g.dtype),
          "inference mode")
