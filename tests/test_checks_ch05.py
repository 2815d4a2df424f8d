"""Chapter 5's exercise checks accept the right answers and give specific hints for common wrong ones."""

import torch
import torch.nn.functional as F

from course_lib import check


def _fold(conv, bn):
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return conv.weight * scale.view(-1, 1, 1, 1), (conv.bias - bn.running_mean) * scale + bn.bias


def test_right_answers_pass():
    assert check("ex-ch5-bn-params", 260).passed
    assert check("ex-ch5-running-var", 1.5).passed
    assert check("ex-ch5-noise-factor", 5.0).passed
    assert check("ex-ch5-layer-norm", lambda x, eps: F.layer_norm(x, x.shape[1:], eps=eps)).passed
    assert check("ex-ch5-fold-bn", _fold).passed


def test_common_mistakes_get_specific_hints():
    assert "buffers" in check("ex-ch5-bn-params", 520).message
    assert "whole number" in check("ex-ch5-bn-params", 260.9).message
    assert "whole number" in check("ex-ch5-bn-params", "260").message
    assert check("ex-ch5-fold-bn", lambda conv, bn: list(_fold(conv, bn))).passed
    assert "scale (weight) and a shift (bias)" in check("ex-ch5-bn-params", 130).message
    assert "biased variance" in check("ex-ch5-running-var", 1.425).message
    assert "momentum 0.1" in check("ex-ch5-running-var", 6.0).message
    assert "square root" in check("ex-ch5-noise-factor", 25).message
    assert "larger than 1" in check("ex-ch5-noise-factor", 0.2).message

    def norm_over(dims, unbiased=False):
        def fn(x, eps):
            var = x.var(dims, keepdim=True, unbiased=unbiased)
            return (x - x.mean(dims, keepdim=True)) / (var + eps).sqrt()
        return fn
    assert "unbiased=False" in check("ex-ch5-layer-norm", norm_over((1, 2, 3), unbiased=True)).message
    assert "That is batch norm" in check("ex-ch5-layer-norm", norm_over((0, 2, 3))).message
    assert "instance norm" in check("ex-ch5-layer-norm", norm_over((2, 3))).message
    assert "mean 0" in check("ex-ch5-layer-norm", lambda x, eps: x / x.std()).message
    assert "variance 1" in check("ex-ch5-layer-norm", lambda x, eps: x - x.mean((1, 2, 3), keepdim=True)).message
    assert "input's shape" in check("ex-ch5-layer-norm", lambda x, eps: x.mean()).message

    def weight_only(conv, bn):
        return _fold(conv, bn)[0], conv.bias
    assert "the bias should be" in check("ex-ch5-fold-bn", weight_only).message


def test_unanswered_and_broken_answers_never_raise():
    assert check("ex-ch5-bn-params", None).status == "not answered yet"

    def todo(x, eps):
        raise NotImplementedError
    assert check("ex-ch5-layer-norm", todo).status == "not answered yet"
    assert check("ex-ch5-fold-bn", lambda conv, bn: 3).status == "wrong"
    assert check("ex-ch5-layer-norm", "f").status == "wrong"


def test_a_number_given_as_text_is_refused_with_a_clear_message():
    assert check("ex-ch5-noise-factor", 5.0).passed
    for text in ["5.0", "5", b"5"]:
        result = check("ex-ch5-noise-factor", text)
        assert result.status == "wrong" and "should be a number" in result.message
    assert "should be a number" in check("ex-ch5-noise-factor", True).message
