"""What the exported otter-grader test files call: the course's checks and hidden tests, run by otter.

:mod:`course_lib.instructor.otter_export` writes one otter test file per exercise; each test case
calls :func:`visible` or :func:`hidden` with otter's ``env`` (the submission's global names). otter
runs them **in the student's kernel**, after the notebook, so nothing here is isolated from the
submission the way :mod:`course_lib.instructor.grade` is. What this module does keep from the
course's grader, so that both give the same scores on honest and on the usual hostile notebooks:

* the checks are a private copy of ``course_lib.checks``, loaded afresh from course_lib's files,
  not the kernel's copy, which the submission may have replaced;
* a student's function is called through a stand-in with copies of the arguments, and what it
  returns is copied as plain data (the wire format of :mod:`course_lib.instructor.wire`), so it
  cannot see the check's frame or hand back an object of its own class;
* a hidden test sees ``torch``, ``np``, ``nn``, ``F`` and ``math`` and copies of the submission's
  names, as in the course's grader.

A submission that sets out to fool otter can still do it (it runs in the same process); see
"Grading with otter-grader" in instructors.md.

Taught in: instructors
"""

from __future__ import annotations

import builtins
import copy
import importlib.util
import math
import sys
from pathlib import Path
from typing import Any

from . import answer_key, wire

_PRIVATE = "course_lib_otter_private"
_CHECKS: dict[str, Any] = {}


def course_checks() -> dict[str, Any]:
    """Every course check, from a private copy of ``course_lib`` loaded from its files (once per kernel).

    Taught in: instructors
    """
    if not _CHECKS:
        root = Path(__file__).resolve().parents[1]
        spec = importlib.util.spec_from_file_location(_PRIVATE, root / "__init__.py",
                                                      submodule_search_locations=[str(root)])
        module = importlib.util.module_from_spec(spec)
        sys.modules[_PRIVATE] = module
        spec.loader.exec_module(module)
        core = importlib.import_module(f"{_PRIVATE}.checks").core
        _CHECKS.update(core.registered_exercises())
        _CHECKS["__run_check__"] = core.run_check
    return _CHECKS


def _run(label: str, answer: Any):
    checks = course_checks()
    return checks["__run_check__"](checks[label], answer)


def _copied(value: Any) -> Any:
    """``value`` as the course's grader receives it: plain data copied, a function behind a stand-in."""
    if callable(value) and not isinstance(value, type):
        return _stand_in(value)
    try:
        return wire.decode(wire.encode(value), make_remote=lambda meta: None)
    except wire.WireError:
        return value


def _stand_in(fn: Any):
    def student_function(*args: Any, **kwargs: Any) -> Any:
        return _copied(fn(*copy.deepcopy(args), **copy.deepcopy(kwargs)))

    return student_function


def visible(env: dict[str, Any], label: str, answer_expr: str | None) -> None:
    """Check the answer that the student cell of ``label`` passes (``answer_expr``, read in ``env``).

    Raises ``AssertionError`` with the check's hint unless the check passes.

    Taught in: instructors
    """
    try:
        answer = eval(answer_expr, dict(env)) if answer_expr else None  # noqa: S307  (the source's expression)
    except NameError as e:
        raise AssertionError(f"no answer: the exercise's cell did not run ({e})") from None
    result = _run(label, _copied(answer))
    assert result.passed, f"{result.status}: {result.message}"


def hidden(env: dict[str, Any], label: str, code: str, owner: bool = True) -> None:
    """Run one hidden test of the source against the submission's names in ``env``.

    It fails if it raises (when ``label`` is one of the exercises it guards, ``owner``) or if a
    ``check(label, ...)`` inside it does not pass.

    Taught in: instructors
    """
    import numpy as np
    import torch
    from torch import nn
    from torch.nn import functional as F  # noqa: N812

    namespace: dict[str, Any] = {"__builtins__": builtins, "__name__": "hidden_test", "torch": torch, "np": np,
                                 "nn": nn, "F": F, "math": math}
    for name in answer_key.free_names(code):
        if name not in namespace and name in env:
            namespace[name] = _copied(env[name])
    results = []

    def check(checked: str, answer: Any = None):
        result = _run(checked, answer)
        if checked == label:
            results.append(result)
        return result

    namespace["check"] = check
    try:
        exec(compile(answer_key.python_source(code), "hidden test", "exec"), namespace)  # noqa: S102
    except (Exception, SystemExit) as e:  # noqa: BLE001
        if owner:
            raise AssertionError(f"a hidden test failed: {type(e).__name__}: {str(e)[:200]}") from None
    bad = [r for r in results if not r.passed]
    assert not bad, f"a hidden test's check failed: {bad[0].message}" if bad else ""
