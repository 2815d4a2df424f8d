"""The machinery behind every exercise check: registration, safety, results."""

from __future__ import annotations

import contextlib
import copy
import json
import math
import numbers
import os
import traceback
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

NOT_ANSWERED = "not answered yet"
# When this environment variable names a file, every result is also appended to it as a JSON line,
# so a grader can read the results of a notebook that it ran in another process (course_lib.grade).
RESULTS_FILE_ENV = "COURSE_LIB_RESULTS_FILE"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: what a student reads and what a grader records.

    ``status`` is ``"correct"``, ``"wrong"`` or ``"not answered yet"``.

    Taught in: chapters/01_convolutions_and_shapes
    """

    label: str
    status: str
    message: str
    points: float
    max_points: float

    @property
    def passed(self) -> bool:
        return self.status == "correct"

    def __repr__(self) -> str:
        mark = {"correct": "✅ Correct", "wrong": "❌ Not yet", NOT_ANSWERED: "✏️ Not answered yet"}
        score = f"{self.points:g}/{self.max_points:g}"
        return f"{mark.get(self.status, self.status)} [{self.label}, {score}]: {self.message}"

    def __bool__(self) -> bool:
        return self.passed


class Feedback(Exception):
    """Raised inside a checker to reject an answer with a hint for the student."""


@dataclass
class Exercise:
    """One registered exercise: its label, its checker and its points, as :func:`register` stores it.

    Taught in: instructors
    """

    label: str
    fn: Callable[[Any], str]
    points: float
    accepts_none: bool = False


_REGISTRY: dict[str, Exercise] = {}
# While a grader runs the notebook (RESULTS_FILE_ENV is set), the last answer given to each label and
# how many times it was checked. The grader reads the answers out of the kernel and checks them itself.
_ANSWERS: dict[str, tuple[Any, int]] = {}


def register(label: str, points: float = 1.0, accepts_none: bool = False):
    """Register ``fn(answer) -> str`` as the checker of exercise ``label``.

    The checker returns a success message, or raises :class:`Feedback` with
    a hint. Any other exception it raises is caught by :func:`check` and
    reported as a wrong answer, never as a traceback.

    Taught in: chapters/01_convolutions_and_shapes
    """

    def deco(fn: Callable[[Any], str]) -> Callable[[Any], str]:
        if label in _REGISTRY:
            raise ValueError(f"exercise label {label!r} is already registered")
        _REGISTRY[label] = Exercise(label, fn, float(points), accepts_none)
        return fn

    return deco


def exercise_labels() -> list[str]:
    """The labels of every registered exercise, in registration order.

    Taught in: chapters/01_convolutions_and_shapes
    """
    return list(_REGISTRY)


def max_points(label: str) -> float:
    """The points exercise ``label`` is worth; a ``ValueError`` names an unknown label.

    Taught in: instructors
    """
    if label not in _REGISTRY:
        raise ValueError(f"label must name a registered exercise, got {label!r}")
    return _REGISTRY[label].points


def _is_unanswered(answer: Any) -> bool:
    return answer is None or answer is Ellipsis


def check(label: str, answer: Any = None) -> CheckResult:
    """Check a student's ``answer`` to exercise ``label`` and return friendly feedback.

    ``None`` or ``...`` means "not answered yet". A wrong answer, or an
    answer that makes the checker fail in any way, gives a ``"wrong"``
    result with a hint; it never raises. Only an unknown ``label`` raises a
    ``ValueError``, since that is a typo in the notebook, not in the answer.

    Taught in: chapters/01_convolutions_and_shapes
    """
    if isinstance(label, str) and os.environ.get(RESULTS_FILE_ENV):
        _ANSWERS[label] = (answer, _ANSWERS.get(label, (None, 0))[1] + 1)
    if not isinstance(label, str) or label not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise ValueError(f"label must name a registered exercise, got {label!r}; known labels: {known}")
    result = run_check(_REGISTRY[label], answer)
    record_result(result)
    return result


def run_check(ex: Exercise, answer: Any) -> CheckResult:
    """The result of exercise ``ex``'s checker on ``answer``, as :func:`check` reports it (never raises).

    The grader calls it with its own copy of the checks.

    Taught in: instructors
    """
    label = ex.label
    if _is_unanswered(answer) and not ex.accepts_none:
        hint = "replace the None (or ...) with your answer and run the cell again."
        result = CheckResult(label, NOT_ANSWERED, hint, 0.0, ex.points)
    else:
        try:
            msg = ex.fn(answer)
            result = CheckResult(label, "correct", msg or "well done.", ex.points, ex.points)
        except Feedback as fb:
            result = CheckResult(label, "wrong", str(fb), 0.0, ex.points)
        except NotImplementedError:
            hint = "your function still raises NotImplementedError: fill in its body."
            result = CheckResult(label, NOT_ANSWERED, hint, 0.0, ex.points)
        except (Exception, SystemExit) as e:  # noqa: BLE001  (a check must never crash on a student's answer)
            where = traceback.extract_tb(e.__traceback__)[-1]
            result = CheckResult(
                label, "wrong",
                f"checking your answer raised {type(e).__name__}: {_safe_str(e)} "
                f"(line {where.lineno} of {where.name}). Look at the types and shapes your answer produces.",
                0.0, ex.points,
            )
        if not isinstance(result.message, str):
            result = CheckResult(label, result.status, _safe_str(result.message), result.points, result.max_points)
    return result


def _safe_str(value: Any) -> str:
    """``str(value)``, or a placeholder if the student's object cannot even be printed."""
    try:
        return str(value)
    except Exception:  # noqa: BLE001
        return f"<a {type(value).__name__} that cannot be printed>"


def record_result(result: CheckResult) -> None:
    """Append ``result`` as a JSON line to the file that ``COURSE_LIB_RESULTS_FILE`` names, if any.

    Taught in: instructors
    """
    path = os.environ.get(RESULTS_FILE_ENV)
    if not path:
        return
    row = {"label": result.label, "status": result.status, "points": result.points,
           "max_points": result.max_points, "message": result.message}
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
    except OSError:  # grading must not break a student's notebook
        pass


def registered_exercises() -> dict[str, Exercise]:
    """A copy of every registered exercise, by label: a grader's own copy of the checks and their points.

    Taught in: instructors
    """
    return {label: copy.copy(ex) for label, ex in _REGISTRY.items()}


@contextmanager
def separate_registry() -> Iterator[dict[str, Exercise]]:
    """Inside the ``with`` block, :func:`register` fills a new, empty registry (yielded), then the course's returns.

    A grader uses it to run the ``register`` cells of an instructor notebook without touching the course's checks.

    Taught in: instructors
    """
    global _REGISTRY
    saved, _REGISTRY = _REGISTRY, {}
    try:
        yield _REGISTRY
    finally:
        _REGISTRY = saved


# ---------------------------------------------------------------------------
# Small helpers that chapter checkers share.


def as_int(answer: Any) -> int | None:
    """``answer`` as an int if it is a whole number (int, numpy or 0-d torch integer), else None."""
    if isinstance(answer, bool):
        return None
    if isinstance(answer, numbers.Integral):
        return int(answer)
    is_int_tensor = hasattr(answer, "numel") and hasattr(answer, "is_floating_point")
    if is_int_tensor and answer.numel() == 1 and not answer.is_floating_point() and not answer.is_complex():
        return int(answer.item())
    return None


def as_number(answer: Any, what: str = "Your answer") -> float:
    """``answer`` as a float; raise :class:`Feedback` naming ``what`` if it is not a number.

    Strings are refused although ``float("0.125")`` would work: an answer is a value the
    student computed, not text, and a quoted number usually means a copied printout.
    """
    if isinstance(answer, (str, bytes, bool)):
        raise Feedback(f"{what} should be a number, got {type(answer).__name__} {answer!r}.")
    try:
        return float(answer)
    except Exception as e:  # noqa: BLE001
        raise Feedback(f"{what} should be a number, got {type(answer).__name__}.") from e


def reject_known_mistakes(value: Any, hints: dict, rel: float | None = None) -> None:
    """Raise :class:`Feedback` with the hint for ``value`` if it is a typical wrong answer in ``hints``.

    ``hints`` maps each wrong answer an exercise expects (an int, a tuple, a float) to the hint it
    deserves, in the order they are tried. Keys match exactly, or, with ``rel``, any number within a
    relative tolerance ``rel`` of them. ``None`` (an answer of the wrong type) matches nothing.
    """
    if value is None:
        return
    for wrong, hint in hints.items():
        if (value == wrong) if rel is None else math.isclose(value, wrong, rel_tol=rel):
            raise Feedback(hint)


def expect_int(answer: Any, expected: int, what: str, hint: str = "") -> None:
    """Raise :class:`Feedback` unless ``answer`` is the whole number ``expected``."""
    value = as_int(answer)
    if value is None:
        raise Feedback(f"{what} should be a whole number (an int), got {type(answer).__name__} {answer!r}.")
    if value != expected:
        raise Feedback(f"{what} is {value}; that is not it. {hint}".strip())


def expect_close(answer: Any, expected: float, what: str, rel: float = 1e-3, hint: str = "") -> None:
    """Raise :class:`Feedback` unless ``answer`` is a number within ``rel`` of ``expected``."""
    value = as_number(answer, what)
    if math.isnan(value):
        raise Feedback(f"{what} is NaN.")
    if not math.isclose(value, expected, rel_tol=rel, abs_tol=1e-12):
        raise Feedback(f"{what} is {value:g}; that is not it. {hint}".strip())


def expect_callable(answer: Any) -> Any:
    """Raise :class:`Feedback` unless ``answer`` is a function (the student passed its result by mistake)."""
    if not callable(answer):
        raise Feedback(f"Pass your function itself (without calling it), got {type(answer).__name__}.")
    return answer


@contextmanager
def forbidden(targets: tuple[str, ...], why: str, namespace: dict[str, Any] | None = None) -> Iterator[None]:
    """Inside the block, calling any function named in ``targets`` raises :class:`Feedback`.

    ``targets`` are dotted names such as ``"torch.nn.functional.unfold"``. For exercises that
    ask the student to write something PyTorch already has: the check computes its reference
    first, then runs the student's function inside this block, so a call to the library
    function gets a clear message (naming it, and saying ``why``) instead of full marks.

    The dotted name is patched, and a target written in Python also has its code swapped for
    the refusal, so a name the student imported earlier (``from torch.nn.functional import
    unfold``) refuses too. A ``torch.ops`` operator (``"torch.ops.aten.layer_norm"``) refuses
    through its overloads as well (``torch.ops.aten.layer_norm.default``). A builtin such as
    ``F.conv2d`` has no code to swap; pass the student's ``namespace`` (their function's
    ``__globals__``) and any name there bound to a target (``from torch.nn.functional import
    conv2d``) refuses too, until the block ends.

    Whatever the targets, the block also refuses what would get round the patches: reloading a
    module (``importlib.reload``) or importing afresh a module that holds a target (after deleting
    it from ``sys.modules``), which would make unpatched copies of its functions; starting
    processes (``subprocess``, ``os.system``, ``os.fork``...) or threads, which run code that no patch
    or dispatch mode reaches; and switching off PyTorch's dispatch (``torch._C._DisableTorchDispatch``).
    It is a net for the routes a student is likely to try, not a security boundary: graded scores
    come from the grader's sandbox and hidden tests (instructors.md).
    """
    import sys
    from unittest import mock

    def refusal(name: str, reason: str = why):
        def refuse(*args: Any, **kwargs: Any) -> None:
            raise Feedback(f"Your function called {name}, which this exercise rules out: {reason}")
        return refuse

    # (dotted name, name shown to the student, the object it names), resolved before anything is patched
    resolved = [(target, target.replace("torch.nn.functional.", "F."), _resolve(target)) for target in targets]
    guarded = [(name, _resolve(name)) for name in _GUARDED]
    swapped: list[tuple[types.FunctionType, types.CodeType]] = []
    rebound: dict[str, Any] = {}
    # the modules that hold a target, which the function must not import afresh
    homes = {module: sys.modules[module] for target in targets for module in _parents(target)
             if module in sys.modules}
    try:
        with contextlib.ExitStack() as stack:
            finder = _RefuseFreshImport(set(homes))
            sys.meta_path.insert(0, finder)
            stack.callback(lambda: sys.meta_path.remove(finder) if finder in sys.meta_path else None)
            stack.callback(sys.modules.update, homes)  # put back any that the function deleted
            for name, function in guarded:
                if function is None:
                    continue
                if isinstance(function, types.FunctionType) and not function.__code__.co_freevars:
                    _REFUSALS[name] = _GUARDED_WHY
                    swapped.append((function, function.__code__))
                    function.__code__ = _refusal_code(name)
                stack.enter_context(mock.patch(name, refusal(name, _GUARDED_WHY)))
            if namespace is not None:
                for key, value in list(namespace.items()):
                    shown = next((name for _, name, obj in resolved if obj is not None and value is obj), None)
                    if shown is not None:
                        rebound[key] = value
                        namespace[key] = refusal(shown)
            for target, shown, function in resolved:
                if isinstance(function, types.FunctionType) and not function.__code__.co_freevars:
                    _REFUSALS[shown] = why
                    swapped.append((function, function.__code__))
                    function.__code__ = _refusal_code(shown)
                refuse = refusal(shown)
                overloads = getattr(function, "overloads", None)  # a torch.ops operator packet
                if callable(overloads) and not isinstance(function, types.FunctionType):
                    for overload in overloads():
                        setattr(refuse, overload, refuse)
                stack.enter_context(mock.patch(target, refuse))
            yield
    finally:
        for function, code in reversed(swapped):
            function.__code__ = code
        if namespace is not None:
            namespace.update(rebound)


# What each function whose code forbidden() swapped says when called: name -> why.
_REFUSALS: dict[str, str] = {}

# What forbidden() refuses whatever the exercise: the ways round its patches.
# Threads escape refuse_operators (a dispatch mode watches only its own thread), and the last three switch
# PyTorch's dispatch or function modes off.
_GUARDED = ("importlib.reload", "subprocess.Popen", "os.system", "os.popen", "os.fork", "os.forkpty",
            "os.posix_spawn", "os.posix_spawnp", "threading.Thread.start",
            "concurrent.futures.ThreadPoolExecutor.submit", "torch._C._DisableTorchDispatch",
            "torch.utils._mode_utils.no_dispatch", "torch._C.DisableTorchFunction")
_GUARDED_WHY = ("a check runs your function in this notebook as it is, so while it runs it may not reload or "
                "re-import modules, start other threads or processes, or switch off PyTorch's dispatch.")


def _parents(target: str) -> list[str]:
    """The dotted prefixes of ``target``: ``"a.b.c"`` gives ``["a", "a.b"]``."""
    parts = target.split(".")
    return [".".join(parts[:n]) for n in range(1, len(parts))]


class _RefuseFreshImport:
    """A meta path finder that refuses to import again a module that was imported before (see forbidden)."""

    def __init__(self, names: set[str]):
        self.names = names

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name in self.names:
            raise Feedback(f"Your function imported {name} afresh, which this exercise rules out: {_GUARDED_WHY}")
        return None


def _resolve(target: str) -> Any:
    import pkgutil

    try:  # resolves attributes of non-module objects too, such as torch.ops.aten.layer_norm
        return pkgutil.resolve_name(target)
    except (ImportError, AttributeError, ValueError):
        return None


def _refuse_call(name: str) -> Feedback:
    return Feedback(f"Your function called {name}, which this exercise rules out: {_REFUSALS.get(name, '')}")


def _refusal_template(*args: Any, **kwargs: Any) -> None:
    # Runs with the forbidden function's globals, so it reaches this module through __import__.
    raise __import__("course_lib.checks.core", fromlist=["_refuse_call"])._refuse_call("NAME")


def _refusal_code(name: str) -> types.CodeType:
    code = _refusal_template.__code__
    return code.replace(co_consts=tuple(name if c == "NAME" else c for c in code.co_consts))


@contextmanager
def refuse_operators(judge: Callable[[Any], str | None], why: str) -> Iterator[None]:
    """Inside the block, each PyTorch operator that runs is shown to ``judge`` first; when it returns a
    description, :class:`Feedback` says the student's function reached it, and ``why``.

    The net under :func:`forbidden`: it watches the operators PyTorch actually runs (a
    ``TorchDispatchMode``), so it also catches the paths a patched name misses: a function kept
    in a default argument, ``torch.ops.aten`` and private entry points, or another public
    function that reaches the same operator. Enter it before :func:`forbidden`, which must not
    patch ``torch.ops.aten`` while it runs (the dispatcher looks operators up there).
    """
    # A dispatch mode imports torch._dynamo on its first operator, and that import walks torch.ops.aten:
    # do it now, before forbidden() puts refusals in place of any operator.
    import torch._dynamo  # noqa: F401
    from torch.utils._python_dispatch import TorchDispatchMode

    class _Refuse(TorchDispatchMode):
        def __torch_dispatch__(self, func, _types, args=(), kwargs=None):
            what = judge(func)
            if what is not None:
                raise Feedback(f"Your function reached {what}, which this exercise rules out: {why}")
            return func(*args, **(kwargs or {}))

    with _Refuse():
        yield


def refuse_all_operators(why: str):
    """Inside the block, running any PyTorch operator raises :class:`Feedback`, saying ``why``.

    For answers that need only arithmetic on Python numbers: no tensor, layer or PyTorch function can
    compute them. See :func:`refuse_operators`.
    """
    return refuse_operators(lambda func: f"PyTorch's {func} operator", why)


def refuse_aten_ops(ops: tuple[str, ...], why: str):
    """Inside the block, running a PyTorch operator named in ``ops`` raises :class:`Feedback`, saying ``why``.

    ``ops`` are ATen operator names, with or without the prefix: ``"convolution"``, ``"aten.unfold"``;
    names missing from this PyTorch are skipped. See :func:`refuse_operators`.
    """
    import torch

    names = [op.removeprefix("aten.") for op in ops]
    packets = {getattr(torch.ops.aten, name): name for name in names if hasattr(torch.ops.aten, name)}

    def judge(func) -> str | None:
        name = packets.get(func.overloadpacket)
        return None if name is None else f"PyTorch's aten.{name} operator"

    return refuse_operators(judge, why)
