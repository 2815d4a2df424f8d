"""Chapter 2's exercise checks accept the right answers and give specific hints for typical mistakes."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from course_lib import check, conv_matrix, im2col_bytes


def _passes(label, answer):
    result = check(label, answer)
    assert result.passed, result.message


def _hint(label, answer, words):
    result = check(label, answer)
    assert result.status == "wrong", result
    assert words in result.message, result.message


def _dilated(kernel):
    spread = torch.zeros(3, 3)
    spread[::2, ::2] = kernel
    return spread


KERNEL = torch.tensor([[1.0, 2.0], [3.0, 4.0]])


def test_matrix_by_hand_is_the_dilation_2_matrix():
    right = conv_matrix(_dilated(KERNEL), 4)
    x = torch.randn(1, 1, 4, 4)
    torch.testing.assert_close(right @ x.flatten(), F.conv2d(x, KERNEL.view(1, 1, 2, 2), dilation=2).flatten())
    _passes("ex-ch2-matrix-by-hand", right.tolist())
    _hint("ex-ch2-matrix-by-hand", conv_matrix(_dilated(KERNEL.flip(0, 1)), 4), "flipped the kernel")
    _hint("ex-ch2-matrix-by-hand", right.T, "rows look like input pixels")
    _hint("ex-ch2-matrix-by-hand", conv_matrix(KERNEL, 4), "without dilation")
    _hint("ex-ch2-matrix-by-hand", conv_matrix(KERNEL, 4, stride=2), "matrix of stride 2")
    shifted = right.clone()
    shifted[3] = torch.roll(shifted[3], 1)
    _hint("ex-ch2-matrix-by-hand", shifted, "Rows [3] differ")
    _hint("ex-ch2-matrix-by-hand", torch.ones(4, 16), "non-zero entries")
    assert check("ex-ch2-matrix-by-hand", None).status == "not answered yet"
    for not_a_matrix in ("M", [[1, 2], [3]], {"row": 1}):
        _hint("ex-ch2-matrix-by-hand", not_a_matrix, "nested list of numbers")


def test_matrix_by_hand_shape_hints_do_not_give_the_shape_away():
    for wrong in (conv_matrix(_dilated(KERNEL), 4).T, conv_matrix(KERNEL, 4), torch.zeros(4, 4), torch.zeros(16, 16)):
        result = check("ex-ch2-matrix-by-hand", wrong)
        assert result.status == "wrong", result
        assert "output pixel" in result.message or "fewer positions" in result.message, result.message
        for giveaway in ("(4, 16)", "4×4", "2×2", "16", "expected"):
            assert giveaway not in result.message.replace(f"{tuple(wrong.shape)}", ""), (giveaway, result.message)


def _real_taps(n, ks, stride, padding, taps):
    """Per axis, the (output, tap) pairs that land on real pixels, counted from conv_matrix itself."""
    weight = torch.zeros(1, ks)
    weight[0, list(taps)] = 1.0
    return int(conv_matrix(weight, (1, n), stride=(1, stride), padding=(0, padding)).sum())


def test_the_counts_factor_over_the_axes_as_the_solutions_assume():
    # On sizes small enough to build M, a weight's count is the product of the two axes' counts.
    for n in (6, 7, 8, 9):
        ones = conv_matrix(torch.ones(3, 3), n, stride=2, padding=1)
        assert int((ones != 0).sum()) == _real_taps(n, 3, 2, 1, range(3)) ** 2
        tap = torch.zeros(5, 5)
        tap[0, 2] = 1.0
        assert int(conv_matrix(tap, n, stride=2, padding=2).sum()) == (
            _real_taps(n, 5, 2, 2, [0]) * _real_taps(n, 5, 2, 2, [2]))


def test_count_zeros_on_an_image_too_large_to_build_m():
    out, real = 500, _real_taps(999, 3, 2, 1, range(3))
    assert real == 1498
    right = out * out * 999 * 999 - real * real
    assert right == 249_498_005_996
    _passes("ex-ch2-count-zeros", right)
    _passes("ex-ch2-count-zeros", torch.tensor(right))
    _hint("ex-ch2-count-zeros", real * real, "hold a weight")
    _hint("ex-ch2-count-zeros", out * out * 999 * 999 - 9 * out * out, "partly covers padding")
    _hint("ex-ch2-count-zeros", 499 * 499 * 999 * 999 - 1497**2, "without padding")
    _hint("ex-ch2-count-zeros", out * out * 999 * 999 - 1499**2, "Look at the last one too")
    _hint("ex-ch2-count-zeros", out * out * 1001 * 1001 - 9 * out * out, "no column in M")
    wrong = check("ex-ch2-count-zeros", right + 1)
    assert wrong.status == "wrong" and "that is not it" in wrong.message
    assert f"{right:,}" not in wrong.message and str(right) not in wrong.message
    _hint("ex-ch2-count-zeros", str(right), "whole number")
    _hint("ex-ch2-count-zeros", float(right), "whole number")


def test_tied_weights_on_an_image_too_large_to_build_m():
    rows, cols = _real_taps(1000, 5, 2, 2, [0]), _real_taps(1000, 5, 2, 2, [2])
    assert (rows, cols) == (499, 500)
    _passes("ex-ch2-tied-weights", 249_500)
    _hint("ex-ch2-tied-weights", 250_000, "lands on padding")
    _hint("ex-ch2-tied-weights", 499 * 499, "corner weight on both axes")
    _hint("ex-ch2-tied-weights", 498 * 498, "without padding")
    _hint("ex-ch2-tied-weights", 998 * 1000, "stride 1")
    _hint("ex-ch2-tied-weights", 498 * 500, "both ends")
    _hint("ex-ch2-tied-weights", 12345, "that is not it")
    _hint("ex-ch2-tied-weights", "249500", "whole number")


def test_im2col_memory_with_stride_2_and_dilation_3():
    x = torch.zeros(32, 128, 27, 27)
    patches = F.unfold(x[:1], 3, dilation=3, padding=1, stride=2)  # one image: (C·9, oH·oW)
    right = 32 * patches.shape[1] * patches.shape[2] * 4
    assert right == 32 * 12 * 12 * 128 * 9 * 4 == 21_233_664
    _passes("ex-ch2-im2col-memory", right)
    _hint("ex-ch2-im2col-memory", right // 4, "number of floats")
    _hint("ex-ch2-im2col-memory", 32 * 128 * 27 * 27 * 4, "size of the input")
    _hint("ex-ch2-im2col-memory", right // 32, "one image")
    _hint("ex-ch2-im2col-memory", 32 * 14 * 14 * 128 * 9 * 4, "ignores the dilation")
    _hint("ex-ch2-im2col-memory", 32 * 13 * 13 * 128 * 9 * 4, "both the dilation and the padding")  # or span 5
    _hint("ex-ch2-im2col-memory", 32 * 11 * 11 * 128 * 9 * 4, "ignores the padding")  # or the span taken as d·k
    _hint("ex-ch2-im2col-memory", 32 * 11 * 11 * 128 * 9 * 4, "span as d·k")
    _hint("ex-ch2-im2col-memory", 32 * 12 * 12 * 128 * 49 * 4, "holes are not copied")
    _hint("ex-ch2-im2col-memory", 32 * 128 * 27 * 27 * 4 * 9, "stride-1 patch matrix")
    _hint("ex-ch2-im2col-memory", 32 * 128 * 27 * 27 * 9, "k²/4 rule of thumb")
    _hint("ex-ch2-im2col-memory", 12345, "that is not it")
    _hint("ex-ch2-im2col-memory", "21233664", "whole number")
    wrong = check("ex-ch2-im2col-memory", right + 4)
    assert f"{right:,}" not in wrong.message and str(right) not in wrong.message
    for side in (14, 13, 11):  # no hint counts positions or spells out the dilated span: they would bracket 12
        message = check("ex-ch2-im2col-memory", 32 * side * side * 128 * 9 * 4).message
        for giveaway in ("12", "13", "11", "positions per side", "d·(k−1)+1", "7×7"):
            assert giveaway not in message, (side, giveaway, message)


def test_im2col_memory_answer_is_not_one_undilated_im2col_bytes_call():
    # im2col_bytes has no dilation: no 3×3 call with the exercise's input, stride 1-3 and padding 0-4 gives
    # the answer, so the student has to work out the dilated output size.
    right = 21_233_664
    for stride in (1, 2, 3):
        for padding in range(5):
            assert im2col_bytes((32, 128, 27, 27), 3, stride, padding) != right, (stride, padding)


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

    case = torch.randn(2, 3, 5, 6), (3, 2), (2, 1), (2, 0), (2, 3)
    for fn in (with_aten_im2col, with_aten_im2col_default, with_aten_pad, with_aten_constant_pad_nd):
        torch.testing.assert_close(fn(*case), _patches(*case))  # each would pass
    for fn, name in [(one_liner, "F.unfold"), (with_f_pad, "F.pad"), (with_module, "F.pad"),
                     (with_nn_unfold, "F.unfold"), (with_aten_im2col, "torch.ops.aten.im2col"),
                     (with_aten_im2col_default, "torch.ops.aten.im2col"), (with_aten_pad, "torch.ops.aten.pad"),
                     (with_aten_constant_pad_nd, "torch.ops.aten.constant_pad_nd")]:
        _hint("ex-ch2-pad-patches", fn, f"called {name}")
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
    for fn, name in [(via_nn_grad, "torch.nn.grad.conv2d_input"), (via_autograd, "torch.autograd.grad"),
                     (via_backward, "torch.autograd.backward"), (via_aten, "torch.ops.aten.convolution_backward"),
                     (via_aten_default, "torch.ops.aten.convolution_backward")]:
        _hint("ex-ch2-input-grad", fn, f"called {name}")
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

    def via_module(g, w, s, p, size):  # nn.ConvTranspose2d builds parameters inside the check: still fine
        m = torch.nn.ConvTranspose2d(w.shape[0], w.shape[1], w.shape[2:], s, p, bias=False).to(w.dtype)
        with torch.no_grad():
            m.weight.copy_(w)
        return m(g, output_size=list(size))

    _passes("ex-ch2-input-grad", via_module)
    x = torch.ones(2, requires_grad=True)
    assert (x * 2).grad_fn is not None  # autograd records again after the check
