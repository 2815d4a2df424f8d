"""core.forbidden: the one way a check refuses library calls while a student's function runs."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.nn.functional import unfold as unfold_imported_before

from course_lib.checks.core import Feedback, forbidden, refuse_aten_ops

_X = torch.arange(16.0).reshape(1, 1, 4, 4)


def test_forbidden_refuses_the_dotted_name_and_a_name_imported_before_the_block():
    with forbidden(("torch.nn.functional.unfold",), "gather the patches yourself."):
        for call in (lambda: F.unfold(_X, 2), lambda: unfold_imported_before(_X, 2)):
            with pytest.raises(Feedback, match=r"called F\.unfold, which this exercise rules out: gather"):
                call()


def test_forbidden_refuses_builtins_through_their_dotted_name():
    with forbidden(("torch._C._nn.im2col",), "no im2col."):
        with pytest.raises(Feedback, match="torch._C._nn.im2col"):
            torch._C._nn.im2col(_X, (2, 2), (1, 1), (0, 0), (1, 1))


def test_forbidden_restores_every_function_afterwards_even_after_an_error():
    expected = F.unfold(_X, 2)
    with pytest.raises(RuntimeError, match="inside"):
        with forbidden(("torch.nn.functional.unfold", "torch.nn.functional.pad"), "x"):
            raise RuntimeError("inside the block")
    assert torch.equal(unfold_imported_before(_X, 2), expected)
    assert torch.equal(F.pad(_X, (1, 1)).sum(), _X.sum())


def test_forbidden_leaves_other_functions_alone():
    with forbidden(("torch.nn.functional.unfold",), "x"):
        assert F.pad(_X, (1, 1, 1, 1)).shape == (1, 1, 6, 6)


def test_forbidden_refuses_a_torch_ops_operator_and_its_overloads_and_restores_them():
    expected = F.layer_norm(_X, _X.shape[1:])
    with forbidden(("torch.ops.aten.layer_norm",), "no layer norm."):
        for call in (lambda: torch.ops.aten.layer_norm(_X, [1, 4, 4]),
                     lambda: torch.ops.aten.layer_norm.default(_X, [1, 4, 4])):
            with pytest.raises(Feedback, match=r"torch\.ops\.aten\.layer_norm, which this exercise rules out"):
                call()
    torch.testing.assert_close(torch.ops.aten.layer_norm(_X, [1, 4, 4]), expected)
    torch.testing.assert_close(torch.ops.aten.layer_norm.default(_X, [1, 4, 4]), expected)


def test_refuse_aten_ops_refuses_the_operator_on_every_path_to_it_and_only_inside_the_block():
    from course_lib.checks.core import refuse_aten_ops

    w = torch.ones(1, 1, 2, 2)
    expected = F.conv2d(_X, w)
    keep = F.conv2d  # a reference that no patched name would catch
    with refuse_aten_ops(("convolution", "aten.unfold", "no_such_operator"), "do it by hand."):
        for call in (lambda: F.conv2d(_X, w), lambda: keep(_X, w), lambda: torch.ops.aten.conv2d(_X, w),
                     lambda: F.conv3d(_X[None], w[None])):
            with pytest.raises(Feedback, match=r"reached PyTorch's aten\.convolution operator, which this exercise "
                                               r"rules out: do it by hand\."):
                call()
        with pytest.raises(Feedback, match=r"aten\.unfold operator"):
            _X.unfold(2, 2, 1)
        assert torch.equal(F.pad(_X, (1, 1)).sum(), _X.sum())  # other operators run as usual
    torch.testing.assert_close(F.conv2d(_X, w), expected)  # and the refused ones after the block
    assert _X.unfold(2, 2, 1).shape == (1, 1, 3, 4, 2)


def test_forbidden_refuses_the_ways_round_its_patches_and_restores_them():
    """Reloading or re-importing a module would make unpatched copies of its functions; processes escape too."""
    import importlib
    import os
    import subprocess
    import sys
    from importlib import reload as reload_imported_before

    import course_lib.receptive

    receptive = sys.modules["course_lib.receptive"]
    with forbidden(("course_lib.receptive.receptive_field",), "apply the recurrences yourself."):
        for call, name in [(lambda: importlib.reload(course_lib.receptive), "importlib.reload"),
                           (lambda: reload_imported_before(course_lib.receptive), "importlib.reload"),
                           (lambda: subprocess.run(["true"]), "subprocess.Popen"),
                           (lambda: subprocess.check_output(["echo"]), "subprocess.Popen"),
                           (lambda: os.system("true"), "os.system"),
                           (lambda: os.popen("true"), "os.popen")]:
            with pytest.raises(Feedback, match=rf"called {name}, .*may not reload or re-import modules, start other"):
                call()
        del sys.modules["course_lib.receptive"]
        with pytest.raises(Feedback, match=r"imported course_lib\.receptive afresh"):
            importlib.import_module("course_lib.receptive")
        import json  # a module imported before is imported as usual
        assert json.dumps(1) == "1"
    assert sys.modules["course_lib.receptive"] is receptive  # put back
    assert course_lib.receptive.receptive_field is receptive.receptive_field
    assert importlib.reload(json) is json  # and everything works again after the block
    assert subprocess.run(["true"]).returncode == 0 and os.system("true") == 0


def test_forbidden_refuses_threads_and_switching_dispatch_off():
    """refuse_operators watches one thread, and PyTorch can switch its dispatch modes off: both are refused."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import torch
    import torch.utils._mode_utils as mode_utils

    pool = ThreadPoolExecutor(1)
    pool.submit(lambda: None).result()  # a worker thread started before the check
    with refuse_aten_ops(("relu",), "write it yourself."), forbidden((), "write it yourself."):
        with pytest.raises(Feedback, match="reached PyTorch's aten.relu"):
            torch.relu(torch.ones(2))
        for call, name in [(lambda: threading.Thread(target=print).start(), "threading.Thread.start"),
                           (lambda: pool.submit(torch.relu, torch.ones(2)),
                            "concurrent.futures.ThreadPoolExecutor.submit"),
                           (lambda: torch._C._DisableTorchDispatch(), "torch._C._DisableTorchDispatch"),
                           (lambda: mode_utils.no_dispatch(), "torch.utils._mode_utils.no_dispatch"),
                           (lambda: torch._C.DisableTorchFunction(), "torch._C.DisableTorchFunction")]:
            with pytest.raises(Feedback, match=rf"called {name}, .*start other threads or processes"):
                call()
    assert pool.submit(torch.relu, -torch.ones(2)).result().sum() == 0  # everything works again
    thread = threading.Thread(target=print)
    thread.start()
    thread.join()
    with mode_utils.no_dispatch():
        assert torch.relu(torch.ones(1)).item() == 1
    pool.shutdown()
