"""Chapter 2's exercise checks accept the right answers and give specific hints for typical mistakes."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from course_lib import check, conv_matrix


def _passes(label, answer):
    result = check(label, answer)
    assert result.passed, result.message


def _hint(label, answer, words):
    result = check(label, answer)
    assert result.status == "wrong", result
    assert words in result.message, result.message


def test_matrix_by_hand():
    right = conv_matrix(torch.tensor([[1.0, 2.0], [3.0, 4.0]]), 4, stride=2)
    _passes("ex-ch2-matrix-by-hand", right.tolist())
    flipped = conv_matrix(torch.tensor([[4.0, 3.0], [2.0, 1.0]]), 4, stride=2)
    _hint("ex-ch2-matrix-by-hand", flipped, "flipped the kernel")
    _hint("ex-ch2-matrix-by-hand", right.T, "swap rows and columns")
    _hint("ex-ch2-matrix-by-hand", conv_matrix(torch.tensor([[1.0, 2.0], [3.0, 4.0]]), 4), "stride-1 shape")
    shifted = right.clone()
    shifted[3] = torch.roll(shifted[3], 1)
    _hint("ex-ch2-matrix-by-hand", shifted, "Rows [3] differ")
    assert check("ex-ch2-matrix-by-hand", None).status == "not answered yet"


def test_count_zeros_and_tied_weights():
    _passes("ex-ch2-count-zeros", 1000)
    _hint("ex-ch2-count-zeros", 225, "non-zero entries")
    _hint("ex-ch2-count-zeros", 144, "this image is 7×7")
    _passes("ex-ch2-tied-weights", 25)
    _hint("ex-ch2-tied-weights", 36, "lands on padding")
    _hint("ex-ch2-tied-weights", 16, "without padding")


def test_im2col_memory():
    _passes("ex-ch2-im2col-memory", 115_605_504)
    _hint("ex-ch2-im2col-memory", 115_605_504 // 4, "number of floats")
    _hint("ex-ch2-im2col-memory", 32 * 128 * 28 * 28 * 4, "size of the input")


def _patches(x, ks, padding):
    n, c, h, w = x.shape
    padded = x.new_zeros(n, c, h + 2 * padding, w + 2 * padding)
    padded[:, :, padding:padding + h, padding:padding + w] = x
    oh, ow = h + 2 * padding - ks + 1, w + 2 * padding - ks + 1
    rows = [padded[:, :, i:i + ks, j:j + ks].reshape(n, -1) for i in range(oh) for j in range(ow)]
    return torch.stack(rows, 1).reshape(-1, c * ks * ks)


def test_pad_patches():
    _passes("ex-ch2-pad-patches", _patches)
    _hint("ex-ch2-pad-patches", lambda x, ks, p: _patches(x, ks, 0), "without padding")
    _hint("ex-ch2-pad-patches", lambda x, ks, p: _patches(x, ks, p).flip(1), "different order")


def test_input_grad():
    def right(g, w, s, p, size):
        h = (g.shape[2] - 1) * s - 2 * p + w.shape[2]
        return F.conv_transpose2d(g, w, None, s, p, output_padding=size[0] - h)

    _passes("ex-ch2-input-grad", right)
    _hint("ex-ch2-input-grad", lambda g, w, s, p, size: F.conv_transpose2d(g, w, None, s, p), "output_padding")
    _hint("ex-ch2-input-grad", lambda g, w, s, p, size: 2 * right(g, w, s, p, size), "differ from autograd")

    def unanswered(g, w, s, p, size):
        raise NotImplementedError

    assert check("ex-ch2-input-grad", unanswered).status == "not answered yet"
