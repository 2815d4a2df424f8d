"""Chapter 5's exercise checks accept the right answers and give specific hints for common wrong ones."""

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from course_lib import BatchNorm2dScratch, check
from course_lib.checks.core import Feedback, as_number


def _fold(conv, bn):
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    return conv.weight * scale.view(-1, 1, 1, 1), (bias - bn.running_mean) * scale + bn.bias


def _layer_norm(x, eps):
    dims = (1, 2, 3)
    return (x - x.mean(dims, keepdim=True)) / (x.var(dims, keepdim=True, unbiased=False) + eps).sqrt()


def _steps_to_exceed_with(unbiased=True, swap=False, start=1.0, offset=0):
    def fn(x, limit, momentum):
        target, m = float(x.var(unbiased=unbiased)), (1 - momentum if swap else momentum)
        running, steps = start, 0
        while running <= limit:
            running, steps = (1 - m) * running + m * target, steps + 1
        return steps + offset
    return fn


_steps_to_exceed = _steps_to_exceed_with()


def _steps_with_a_real_layer(make):
    def fn(x, limit, momentum):
        bn, steps = make(1, momentum=momentum), 0
        while float(bn.running_var) <= limit:
            bn(x)
            steps += 1
        return steps
    return fn


def _steps_with_f_batch_norm(x, limit, momentum):
    mean, var, steps = torch.zeros(1), torch.ones(1), 0
    while float(var) <= limit:
        F.batch_norm(x, mean, var, training=True, momentum=momentum)
        steps += 1
    return steps


def _norm_over(dims, unbiased=False):
    def fn(x, eps):
        var = x.var(dims, keepdim=True, unbiased=unbiased)
        return (x - x.mean(dims, keepdim=True)) / (var + eps).sqrt()
    return fn


@pytest.mark.parametrize(("label", "answer"), [
    ("ex-ch5-bn-params", 260),
    ("ex-ch5-bn-params", torch.tensor(260)),
    ("ex-ch5-bn-params", 260.0),  # a whole number given as a float counts, as in ex-ch5-noise-factor
    ("ex-ch5-running-var", _steps_to_exceed),
    ("ex-ch5-running-var", lambda x, limit, momentum: torch.tensor(_steps_to_exceed(x, limit, momentum))),
    ("ex-ch5-noise-factor", 1568),
    ("ex-ch5-noise-factor", 1568.0),
    ("ex-ch5-layer-norm", _layer_norm),
    ("ex-ch5-fold-bn", _fold),
    ("ex-ch5-fold-bn", lambda conv, bn: list(_fold(conv, bn))),
])
def test_right_answers_pass(label, answer):
    result = check(label, answer)
    assert result.passed, result.message


@pytest.mark.parametrize(("label", "answer", "hint"), [
    ("ex-ch5-bn-params", 520, "buffers"),
    ("ex-ch5-bn-params", 130, "scale (weight) and a shift (bias)"),
    ("ex-ch5-bn-params", 10, "parameter tensors"),
    ("ex-ch5-bn-params", 261, "Reread 'Batch normalization from scratch'"),
    ("ex-ch5-bn-params", 260.9, "whole number"),
    ("ex-ch5-bn-params", "260", "whole number"),
    ("ex-ch5-bn-params", 250, "differ in more than their BatchNorm layers"),
    ("ex-ch5-running-var", _steps_to_exceed_with(unbiased=False), "moves towards the biased variance"),
    ("ex-ch5-running-var", _steps_to_exceed_with(swap=True), "weight of the new batch's value"),
    ("ex-ch5-running-var", _steps_to_exceed_with(start=0.0), "starts at 1"),
    ("ex-ch5-running-var", _steps_to_exceed_with(offset=-1), "Look at where your count starts"),
    ("ex-ch5-running-var", _steps_to_exceed_with(offset=1), "Look at where your count starts"),
    ("ex-ch5-running-var", lambda x, limit, momentum: _steps_to_exceed(x, limit, 0.1), "use the arguments"),
    ("ex-ch5-running-var", lambda x, limit, momentum: 16, "use the arguments"),  # the question's count only
    ("ex-ch5-running-var", lambda x, limit, momentum: 7, "Reread how the running estimates move"),
    ("ex-ch5-running-var", lambda x, limit, momentum: float(_steps_to_exceed(x, limit, momentum)),
     "use int(...)"),
    ("ex-ch5-running-var", lambda x, limit, momentum: 16.5, "whole number of steps"),
    ("ex-ch5-running-var", lambda x, limit, momentum: "16", "whole number of steps"),
    ("ex-ch5-running-var", 16, "Pass your function itself"),
    ("ex-ch5-running-var", _steps_with_a_real_layer(torch.nn.BatchNorm2d), "BatchNorm2d.forward"),
    ("ex-ch5-running-var", _steps_with_a_real_layer(lambda c, momentum: BatchNorm2dScratch(c, momentum=momentum)),
     "count the steps from the update formula"),
    ("ex-ch5-running-var", _steps_with_f_batch_norm, "count the steps from the update formula"),
    ("ex-ch5-noise-factor", 32, "2×2 positions"),
    ("ex-ch5-noise-factor", 224, "sqrt(49) = 7 times larger"),
    ("ex-ch5-noise-factor", 6272, "asks for a batch size"),
    ("ex-ch5-noise-factor", 8, "larger batch"),
    ("ex-ch5-noise-factor", 1500, "Reread 'Batch normalization from scratch'"),
    ("ex-ch5-noise-factor", "1568", "whole number"),
    ("ex-ch5-noise-factor", 5.5, "whole number"),
    ("ex-ch5-layer-norm", _norm_over((1, 2, 3), unbiased=True), "unbiased=False"),
    ("ex-ch5-layer-norm", _norm_over((0, 2, 3)), "That is batch norm"),
    ("ex-ch5-layer-norm", _norm_over((2, 3)), "instance norm"),
    ("ex-ch5-layer-norm", lambda x, eps: x / x.std(), "mean 0"),
    ("ex-ch5-layer-norm", lambda x, eps: x - x.mean((1, 2, 3), keepdim=True), "variance 1"),
    ("ex-ch5-layer-norm", lambda x, eps: x.mean(), "input's shape"),
    ("ex-ch5-layer-norm", lambda x, eps: _layer_norm(x, 1e-5), "use the eps argument"),
    ("ex-ch5-layer-norm", lambda x, eps: (x - x.mean((1, 2, 3), keepdim=True))
     / (x.std((1, 2, 3), keepdim=True, unbiased=False) + eps), "eps goes inside the square root"),
    ("ex-ch5-layer-norm", lambda x, eps: torch.native_layer_norm(x, x.shape[1:], None, None, eps)[0],
     "write the normalization yourself"),
    ("ex-ch5-layer-norm", lambda x, eps: torch.ops.aten.layer_norm(x, list(x.shape[1:]), None, None, eps),
     "write the normalization yourself"),
    ("ex-ch5-layer-norm", lambda x, eps: torch.ops.aten.layer_norm.default(x, list(x.shape[1:]), None, None, eps),
     "write the normalization yourself"),
    ("ex-ch5-layer-norm", lambda x, eps: torch.ops.aten.native_layer_norm(x, list(x.shape[1:]), None, None, eps)[0],
     "write the normalization yourself"),
    ("ex-ch5-layer-norm", lambda x, eps: F.layer_norm(x, x.shape[1:], eps=eps), "write the normalization yourself"),
    ("ex-ch5-layer-norm", lambda x, eps: F.group_norm(x, 1, eps=eps), "write the normalization yourself"),
    ("ex-ch5-layer-norm", lambda x, eps: F.batch_norm(x.reshape(1, x.shape[0], -1), None, None, training=True,
                                                      eps=eps).reshape(x.shape), "write the normalization yourself"),
    ("ex-ch5-layer-norm", lambda x, eps: torch.nn.LayerNorm(x.shape[1:], eps=eps, elementwise_affine=False)(x),
     "write the normalization yourself"),
    ("ex-ch5-fold-bn", lambda conv, bn: (_fold(conv, bn)[0], conv.bias), "your weight is right but the bias"),
    ("ex-ch5-fold-bn", lambda conv, bn: (conv.weight, conv.bias), "multiplies each channel by a fixed factor"),
    ("ex-ch5-fold-bn", lambda conv, bn: 3, "Return a pair"),
    ("ex-ch5-fold-bn", (torch.ones(4, 2, 3, 3), torch.zeros(4)), "Pass your function itself"),
    ("ex-ch5-fold-bn", lambda conv, bn: (conv.weight, None), "as tensors"),
])
def test_common_mistakes_get_specific_hints(label, answer, hint):
    result = check(label, answer)
    assert not result.passed and hint in result.message, result.message


def test_running_var_hints_for_off_by_one_do_not_give_the_count_away():
    for offset in (-1, 1):
        message = check("ex-ch5-running-var", _steps_to_exceed_with(offset=offset)).message
        assert "one more" not in message and "one fewer" not in message and "16" not in message, message


def test_running_var_check_does_not_change_the_callers_batch():
    seen = []

    def keeps(x, limit, momentum):
        seen.append(x)
        x.mul_(0)  # a function that spoils its argument gets the next setting fresh all the same
        return 1
    check("ex-ch5-running-var", keeps)
    from course_lib.checks.ch05 import running_var_cases
    assert float(running_var_cases()[0][0].sum()) == 28.0 and len(seen) == len(running_var_cases())


def test_layer_norm_check_restores_the_functions_it_refuses():
    x = torch.randn(2, 3, 4, 4)
    expected = F.layer_norm(x, x.shape[1:])
    check("ex-ch5-layer-norm", _layer_norm)
    torch.testing.assert_close(torch.native_layer_norm(x, x.shape[1:], None, None, 1e-5)[0], expected)
    torch.testing.assert_close(torch.ops.aten.layer_norm(x, list(x.shape[1:])), expected)
    torch.testing.assert_close(torch.ops.aten.layer_norm.default(x, list(x.shape[1:])), expected)
    torch.testing.assert_close(F.layer_norm(x, x.shape[1:]), expected)


def _fuse_weights(conv, bn):
    return torch.nn.utils.fusion.fuse_conv_bn_weights(conv.weight, conv.bias, bn.running_mean,
                                                      bn.running_var, bn.eps, bn.weight, bn.bias)


def _fuse_eval(conv, bn):
    fused = torch.nn.utils.fusion.fuse_conv_bn_eval(conv.eval(), bn)
    return fused.weight, fused.bias


def _fuse_modules(conv, bn):
    from torch.ao.quantization import fuse_modules
    fused = fuse_modules(torch.nn.Sequential(conv, bn).eval(), [["0", "1"]])
    return fused[0].weight, fused[0].bias


@pytest.mark.parametrize(("answer", "name"), [
    (_fuse_weights, "fuse_conv_bn_weights"),
    (_fuse_eval, "fuse_conv_bn_eval"),
    (_fuse_modules, "fuse_conv_bn_eval"),  # quantization's fuse_modules goes through it
])
def test_fold_bn_refuses_pytorchs_fusion_helpers(answer, name):
    result = check("ex-ch5-fold-bn", answer)
    assert not result.passed and name in result.message, result.message
    assert "yourself" in result.message, result.message


def test_fold_bn_check_restores_the_fusion_helpers():
    from torch.nn.utils.fusion import fuse_conv_bn_eval
    check("ex-ch5-fold-bn", _fuse_eval)
    conv, bn = torch.nn.Conv2d(2, 4, 3).eval(), torch.nn.BatchNorm2d(4).eval()
    assert fuse_conv_bn_eval(conv, bn).weight.shape == conv.weight.shape
    assert _fuse_weights(conv, bn)[0].shape == conv.weight.shape


def test_layer_norm_refuses_course_libs_batch_norm_on_a_transposed_tensor():
    from course_lib import BatchNorm2dScratch

    def transposed(x, eps):
        bn = BatchNorm2dScratch(x.shape[0], eps=eps, affine=False)
        return bn(x.transpose(0, 1)).transpose(0, 1)
    result = check("ex-ch5-layer-norm", transposed)
    assert not result.passed and "BatchNorm2dScratch.forward" in result.message, result.message
    x = torch.randn(4, 3, 2, 2)  # and the layer works again afterwards
    torch.testing.assert_close(BatchNorm2dScratch(3, affine=False)(x), F.batch_norm(x, None, None, training=True))


def test_fold_bn_is_checked_without_a_conv_bias_and_with_another_eps():
    def assumes_bias_and_default_eps(conv, bn):
        scale = bn.weight / torch.sqrt(bn.running_var + 1e-5)
        return conv.weight * scale.view(-1, 1, 1, 1), (conv.bias - bn.running_mean) * scale + bn.bias
    result = check("ex-ch5-fold-bn", assumes_bias_and_default_eps)
    assert not result.passed


def test_fold_bn_check_leaves_the_global_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    check("ex-ch5-fold-bn", _fold)
    assert torch.equal(torch.rand(3), expected)


def test_unanswered_and_broken_answers_never_raise():
    assert check("ex-ch5-bn-params", None).status == "not answered yet"

    def todo(x, eps):
        raise NotImplementedError
    assert check("ex-ch5-layer-norm", todo).status == "not answered yet"
    assert check("ex-ch5-fold-bn", lambda conv, bn: 3).status == "wrong"
    assert check("ex-ch5-layer-norm", "f").status == "wrong"


@pytest.mark.parametrize("text", ["5.0", "5", b"5", True])
def test_a_number_given_as_text_is_refused_with_a_clear_message(text):
    with pytest.raises(Feedback, match="should be a number"):
        as_number(text, "Your answer")
    assert as_number(5, "x") == 5.0


def _flat(x):
    return x.reshape(1, x.shape[0], -1)  # each image becomes a channel of one batch norm "image"


def _notebook_batch_norm_class():
    """The chapter's own MyBatchNorm2d, taken from the notebook cell that defines it."""
    notebook = Path(__file__).parent.parent / "chapters" / "05_batch_normalization.ipynb"
    for cell in json.loads(notebook.read_text())["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and source.startswith("class MyBatchNorm2d("):
            lines = source.splitlines()
            end = next(i for i, line in enumerate(lines[1:], 1) if line and not line[0].isspace())
            namespace = {"nn": torch.nn, "torch": torch}
            exec("\n".join(lines[:end]), namespace)
            return namespace["MyBatchNorm2d"]
    raise AssertionError("no cell defines MyBatchNorm2d")


def _with_my_batch_norm(x, eps):
    layer = _notebook_batch_norm_class()(x.shape[0], eps=eps)
    return layer(x.reshape(1, x.shape[0], -1, 1)).reshape(x.shape)


@pytest.mark.parametrize(("answer", "reached"), [
    # a torch function or torch.ops operator is refused by its name, before it reaches the dispatcher
    (lambda x, eps: torch.ops.aten.group_norm(x, 1, None, None, eps), "PyTorch's group_norm"),
    (lambda x, eps: torch._VF.layer_norm(x, x.shape[1:], None, None, eps, False), "PyTorch's layer_norm"),
    (lambda x, eps: torch._C._VariableFunctions.layer_norm(x, list(x.shape[1:]), None, None, eps, False),
     "PyTorch's layer_norm"),
    (lambda x, eps: torch.ops.aten.native_batch_norm(_flat(x), None, None, None, None, True, 0.1,
                                                     eps)[0].reshape(x.shape), "native_batch_norm"),
    (lambda x, eps: torch.ops.aten.instance_norm(_flat(x), None, None, None, None, True, 0.1, eps,
                                                 False).reshape(x.shape), "PyTorch's instance_norm"),
    (lambda x, eps: torch.ops.aten._native_batch_norm_legit(_flat(x), None, None, True, 0.1,
                                                            eps)[0].reshape(x.shape), "_native_batch_norm_legit"),
    (lambda x, eps: torch._refs.native_layer_norm(x, list(x.shape[1:]), None, None, eps)[0], "native_layer_norm"),
    (lambda x, eps: torch._refs.native_group_norm(x, None, None, x.shape[0], x.shape[1], x[0, 0].numel(), 1,
                                                  eps)[0], "native_group_norm"),
    (lambda x, eps: torch._decomp.decompositions.native_batch_norm(_flat(x), None, None, None, None, True, 0.1,
                                                                   eps)[0].reshape(x.shape), "native_batch_norm"),
    (lambda x, eps: torch.nn.BatchNorm1d(x.shape[0], eps=eps, affine=False)(_flat(x)).reshape(x.shape),
     "BatchNorm1d.forward"),
    (_with_my_batch_norm, "MyBatchNorm2d.forward"),
])
def test_layer_norm_refuses_pytorchs_normalization_layers_however_they_are_reached(answer, reached):
    import torch._decomp.decompositions  # noqa: F401
    import torch._refs  # noqa: F401

    result = check("ex-ch5-layer-norm", answer)
    assert not result.passed and reached in result.message, result.message
    assert "write the normalization yourself" in result.message, result.message


def test_the_routes_refused_above_do_compute_a_layer_norm():
    x = torch.randn(3, 2, 4, 4) * 2 + 1
    expected = F.layer_norm(x, x.shape[1:], eps=1e-5)
    torch.testing.assert_close(_with_my_batch_norm(x, 1e-5), expected, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(torch.ops.aten.native_batch_norm(_flat(x), None, None, None, None, True, 0.1,
                                                                1e-5)[0].reshape(x.shape), expected)


def _var_mean_rsqrt(x, eps):
    var, mean = torch.var_mean(x.flatten(1), dim=1, correction=0)
    return (x - mean.view(-1, 1, 1, 1)) * torch.rsqrt(var.view(-1, 1, 1, 1) + eps)


def _with_a_vector_norm(x, eps):
    centred = x - x.mean((1, 2, 3), keepdim=True)
    return centred / (torch.linalg.vector_norm(centred, dim=(1, 2, 3), keepdim=True) ** 2 / x[0].numel()
                      + eps).sqrt()


@pytest.mark.parametrize("answer", [_layer_norm, _var_mean_rsqrt, _with_a_vector_norm])
def test_hand_written_layer_norms_pass_with_the_stored_message(answer):
    result = check("ex-ch5-layer-norm", answer)
    assert result.passed, result.message
    assert result.message.endswith("each image is normalized on its own over (C, H, W), dims (1, 2, 3), so its "
                                   "output does not depend on the other images of the batch."), result.message


def test_layer_norm_check_leaves_no_dispatch_mode_behind():
    from torch.utils._python_dispatch import _get_current_dispatch_mode

    check("ex-ch5-layer-norm", lambda x, eps: torch.ops.aten.group_norm(x, 1, None, None, eps))
    check("ex-ch5-layer-norm", _layer_norm)
    assert _get_current_dispatch_mode() is None
    x = torch.randn(2, 3, 4, 4)
    torch.testing.assert_close(torch.ops.aten.group_norm(x, 1), F.layer_norm(x, x.shape[1:]))


def _fuse_linear_weights(conv, bn):
    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    weight, bias = torch.nn.utils.fusion.fuse_linear_bn_weights(conv.weight.flatten(1), bias, bn.running_mean,
                                                                bn.running_var, bn.eps, bn.weight, bn.bias)
    return weight.reshape(conv.weight.shape), bias


def _fuse_linear_eval(conv, bn):
    linear = torch.nn.Linear(conv.weight[0].numel(), conv.out_channels)
    with torch.no_grad():
        linear.weight.copy_(conv.weight.flatten(1))
        linear.bias.copy_(conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean))
    fused = torch.nn.utils.fusion.fuse_linear_bn_eval(linear.eval(), bn)
    return fused.weight.reshape(conv.weight.shape), fused.bias


@pytest.mark.parametrize(("answer", "name"), [
    (_fuse_linear_weights, "fuse_linear_bn_weights"),
    (_fuse_linear_eval, "fuse_linear_bn_eval"),
])
def test_fold_bn_refuses_the_linear_fusion_helpers_on_a_flattened_weight(answer, name):
    result = check("ex-ch5-fold-bn", answer)
    assert not result.passed and name in result.message, result.message
    assert "yourself" in result.message, result.message
    conv, bn = torch.nn.Conv2d(2, 4, 3), torch.nn.BatchNorm2d(4).eval()  # outside the check they fold right
    with torch.no_grad():
        bn.running_var.fill_(2.0)
        torch.testing.assert_close(answer(conv, bn)[0], _fold(conv, bn)[0])


def _centred(x):
    return x - x.mean((1, 2, 3), keepdim=True)


_RMS_NORM = torch.rms_norm  # bound before the check runs, as a student's own import would be


@pytest.mark.parametrize(("answer", "reached"), [
    (lambda x, eps: torch.rms_norm(_centred(x), list(x.shape[1:]), None, eps), "torch.rms_norm"),
    (lambda x, eps: F.rms_norm(_centred(x), list(x.shape[1:]), None, eps), "F.rms_norm"),
    (lambda x, eps: torch.nn.RMSNorm(list(x.shape[1:]), eps=eps, elementwise_affine=False)(_centred(x)),
     "F.rms_norm"),
    (lambda x, eps: torch._fused_rms_norm(_centred(x), list(x.shape[1:]), None, eps)[0], "torch._fused_rms_norm"),
    (lambda x, eps: _RMS_NORM(_centred(x), list(x.shape[1:]), None, eps), "PyTorch's rms_norm"),
    (lambda x, eps: torch.ops.aten.rms_norm(_centred(x), list(x.shape[1:]), None, eps), "PyTorch's rms_norm"),
    (lambda x, eps: torch.ops.aten.rms_norm.default(_centred(x), list(x.shape[1:]), None, eps),
     "PyTorch's rms_norm.default"),
    (lambda x, eps: torch.ops.aten._fused_rms_norm.default(_centred(x), list(x.shape[1:]), None, eps)[0],
     "PyTorch's _fused_rms_norm.default"),
])
def test_layer_norm_refuses_rms_norm_of_a_centred_image(answer, reached):
    # On the CPU rms_norm decomposes in C++ into pow, mean and rsqrt, so the operator-level guard never
    # sees its name: the check refuses it by name as a function (torch.*, F.*, torch.ops.aten.*).
    result = check("ex-ch5-layer-norm", answer)
    assert not result.passed and reached in result.message, result.message
    assert "write the normalization yourself" in result.message, result.message
    x = torch.randn(3, 2, 4, 4) * 2 + 1  # outside the check the route does compute a layer norm
    torch.testing.assert_close(answer(x, 1e-5), F.layer_norm(x, x.shape[1:], eps=1e-5), atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(torch.rms_norm(x, [2, 4, 4]), F.rms_norm(x, [2, 4, 4]))  # and is restored


def test_integral_floats_count_in_both_value_exercises_and_other_floats_do_not():
    for label, value in (("ex-ch5-bn-params", 260), ("ex-ch5-noise-factor", 1568)):
        assert check(label, float(value)).passed
        result = check(label, value + 0.5)
        assert not result.passed and "whole number" in result.message, result.message
