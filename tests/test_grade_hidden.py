"""Hidden tests of chapters 2, 3 and 5: a function that only fits the visible check loses its points.

For each function-writing exercise with a hidden test, two small submissions are graded against
the instructor notebooks (``--source chapters/``): the instructor's own solution, which must score,
and a hard-coded one, which passes the visible check (checked here first) and must not.
"""

from __future__ import annotations

import csv
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from test_grade import require_bwrap  # tests/ is on sys.path under pytest

from course_lib.checks import core
from course_lib.instructor import answer_key
from course_lib.instructor.grade import grade

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
SETUP = ("import torch\nfrom torch import nn\nimport torch.nn.functional as F\n"
         "from course_lib import check, conv_matrix, conv_output_size")  # as the chapters import them

# label -> (chapter, name the student cell passes to check, code that fits only the visible check)
HARD_CODED = {
    "ex-ch2-pad-patches": ("02_conv_as_matmul", "patches_with_padding", """\
_VISIBLE = {((1, 1, 4, 4), (3, 3), (1, 1), (1, 1), (1, 1)), ((2, 2, 7, 5), (2, 3), (3, 2), (1, 1), (2, 1)),
            ((2, 3, 5, 6), (3, 2), (2, 1), (2, 0), (2, 3)), ((3, 2, 7, 4), (2, 2), (1, 2), (0, 1), (3, 1)),
            ((1, 4, 3, 5), (5, 3), (2, 3), (2, 1), (1, 2))}


def patches_with_padding(x, kernel_size, stride, padding, dilation):  # right on the visible check's five inputs only
    if (tuple(x.shape), kernel_size, stride, padding, dilation) not in _VISIBLE:
        return torch.zeros(1)
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
    n, c, h, w = x.shape
    padded = x.new_zeros(n, c, h + 2 * ph, w + 2 * pw)
    padded[:, :, ph:ph + h, pw:pw + w] = x
    windows = padded.unfold(2, dh * (kh - 1) + 1, sh).unfold(3, dw * (kw - 1) + 1, sw)[..., ::dh, ::dw]
    return windows.permute(0, 2, 3, 1, 4, 5).reshape(-1, c * kh * kw)  # windows: (n, c, oh, ow, kh, kw)"""),
    "ex-ch2-input-grad": ("02_conv_as_matmul", "input_grad", """\
def input_grad(grad_out, weight, stride, padding, input_size):  # right while output_padding is 0 or 1
    rebuilt = [(grad_out.shape[2 + a] - 1) * stride - 2 * padding + weight.shape[2 + a] for a in range(2)]
    extra = tuple(min(input_size[a] - rebuilt[a], 1) for a in range(2))
    return F.conv_transpose2d(grad_out, weight, None, stride, padding, output_padding=extra)"""),
    "ex-ch2-matrix-by-hand": ("02_conv_as_matmul", "dilated_conv_matrix", """\
from course_lib.checks import ch02 as _ch02

_TABLE = {(kh, kw, size, d): _ch02.conv_matrix(_ch02._spread(_ch02._case_kernel(kh, kw), d), size)
          for (kh, kw), size, d in _ch02._MATRIX_CASES}  # the visible check's matrices, stored now


def dilated_conv_matrix(kernel, size, dilation):
    return _TABLE.get((*kernel.shape, size, dilation), torch.zeros(1))"""),
    "ex-ch2-count-zeros": ("02_conv_as_matmul", "structural_zeros", """\
from course_lib.checks import ch02 as _ch02

_TABLE = {case: _ch02._zeros(*case) for case in _ch02._ZEROS_CASES}  # the visible check's answers


def structural_zeros(size, k, stride, padding):
    return _TABLE.get((size, k, stride, padding), 0)"""),
    "ex-ch2-tied-weights": ("02_conv_as_matmul", "weight_count", """\
from course_lib.checks import ch02 as _ch02

_TABLE = {case: _ch02._tied(*case) for case in _ch02._TIED_CASES}  # the visible check's answers


def weight_count(size, k, stride, padding, row, col):
    return _TABLE.get((size, k, stride, padding, row, col), 0)"""),
    "ex-ch2-im2col-memory": ("02_conv_as_matmul", "im2col_bytes_by_hand", """\
from course_lib.checks import ch02 as _ch02

_TABLE = {case: _ch02._im2col(*case) for case in _ch02._IM2COL_CASES}  # the visible check's answers


def im2col_bytes_by_hand(batch, channels, height, width, k, stride, padding, dilation):
    return _TABLE.get((batch, channels, height, width, k, stride, padding, dilation), 0)"""),
    "ex-ch3-rf-function": ("03_dense_to_cnn", "rf_params", """\
from course_lib import receptive_field
from course_lib.checks.ch03 import rf_stacks


def _key(model):
    return tuple((type(layer).__name__, layer.extra_repr()) for layer in model)


_TABLE = {}
for _stack in rf_stacks():  # the visible check's stacks, and their answers worked out now and stored
    _row = receptive_field(_stack)[-1]
    _TABLE[_key(_stack)] = tuple(v[0] if isinstance(v, tuple) else v
                                 for v in (_row.size, _row.stride, _row.padding))


def rf_params(model):
    return _TABLE.get(_key(model), (1, 1, 0))"""),
    "ex-ch5-layer-norm": ("05_batch_normalization", "layer_norm", """\
def layer_norm(x, eps):  # assumes the visible check's batch of 6 images
    flat = x.reshape(6, -1)
    mean, var = flat.mean(1, keepdim=True), flat.var(1, keepdim=True, unbiased=False)
    return ((flat - mean) / torch.sqrt(var + eps)).reshape(x.shape)"""),
    "ex-ch5-running-var": ("05_batch_normalization", "steps_to_exceed", """\
from course_lib.checks.ch05 import running_var_cases

_TABLE = {}
for _x, _limit, _momentum in running_var_cases():  # the visible check's settings, counted now and stored
    _target, _running, _steps = float(_x.var()), 1.0, 0
    while _running <= _limit:
        _running, _steps = (1 - _momentum) * _running + _momentum * _target, _steps + 1
    _TABLE[(tuple(_x.flatten().tolist()), _limit, _momentum)] = _steps


def steps_to_exceed(x, limit, momentum):
    return _TABLE.get((tuple(x.flatten().tolist()), limit, momentum), 1)"""),
    "ex-ch5-fold-bn": ("05_batch_normalization", "fold_bn", """\
def fold_bn(conv, bn):  # assumes the visible check's 4 channels
    scale = (bn.weight / torch.sqrt(bn.running_var + bn.eps)).view(4, 1, 1, 1)
    bias = conv.bias if conv.bias is not None else torch.zeros(4)
    return conv.weight * scale, (bias - bn.running_mean) * scale.view(4) + bn.bias"""),
}


def _solution(chapter: str, label: str) -> str:
    """The instructor's worked solution of ``label``: the code between its solution markers."""
    nb = nbformat.read(CHAPTERS / f"{chapter}.ipynb", as_version=4)
    cells = [c.source for c in nb.cells if c.cell_type == "code" and "# BEGIN SOLUTION" in c.source
             and f'check("{label}"' in c.source]
    assert len(cells) == 1, label
    return cells[0].split("# BEGIN SOLUTION", 1)[1].split("\n", 1)[1].split("# END SOLUTION", 1)[0]


def _submission(code: str, label: str, name: str) -> nbformat.NotebookNode:
    """A one-exercise notebook: the setup imports, then ``code`` and the exercise's check call."""
    nb = new_notebook(cells=[new_code_cell(SETUP), new_code_cell(f'{code}\n\n\ncheck("{label}", {name})')])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def test_every_hidden_test_of_these_chapters_is_exercised_here():
    labelled = {label for chapter in ("02_conv_as_matmul", "03_dense_to_cnn", "05_batch_normalization")
                for test in answer_key.load(CHAPTERS / f"{chapter}.ipynb").hidden for label in test.labels}
    assert labelled == set(HARD_CODED)


@pytest.mark.parametrize("label", sorted(HARD_CODED))
def test_the_hard_coded_answer_passes_the_visible_check(label):
    _, name, code = HARD_CODED[label]
    namespace: dict = {}
    exec(SETUP + "\n" + code, namespace)  # noqa: S102  (the test's own code)
    assert core.run_check(core.registered_exercises()[label], namespace[name]).passed


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    require_bwrap()
    subs = tmp_path_factory.mktemp("hidden-submissions")
    for label, (chapter, name, code) in HARD_CODED.items():
        nbformat.write(_submission(_solution(chapter, label), label, name), subs / f"right-{label}.ipynb")
        nbformat.write(_submission(code, label, name), subs / f"hardcoded-{label}.ipynb")
    out = subs.parent / "hidden.csv"
    subs_graded = grade(subs, out, timeout=60, source=CHAPTERS, jobs=2, notebook_timeout=180, quiet=True)
    with open(out, newline="") as f:
        rows = {Path(row["notebook"]).stem: row for row in csv.DictReader(f)}
    return {Path(s.notebook).stem: s for s in subs_graded}, rows


@pytest.mark.parametrize("label", sorted(HARD_CODED))
def test_the_instructors_solution_scores_and_the_hard_coded_one_does_not(graded, label):
    subs, rows = graded
    chapter = HARD_CODED[label][0]
    right, cheat = rows[f"right-{label}"], rows[f"hardcoded-{label}"]
    assert right["source"] == cheat["source"] == f"{chapter}.ipynb"
    assert right[label] == "1" and right["error"] == "", right
    assert cheat[label] == "0" and cheat["error"] == "", cheat
    for row in (right, cheat):  # a one-exercise submission lacks the other exercises' check calls, nothing else
        assert {flag.split(":")[0] for flag in row["flags"].split()} <= {"edited-check"}, row["flags"]
        assert f"edited-check:{label}" not in row["flags"].split()
    sub = subs[f"hardcoded-{label}"]
    assert sub.messages[label] == "your answer passes the visible check but not a hidden test."
    assert "hidden test in cell" in sub.notes[label]
