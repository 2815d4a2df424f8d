"""Checks for the appendix, "Under the hood: making it fast" (chapters/06_under_the_hood)."""

from __future__ import annotations

import contextlib
import math
import numbers
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..shapes import conv_output_size
from .core import (
    Feedback,
    as_int,
    expect_callable,
    forbidden,
    refuse_all_operators,
    register,
)


def _whole_float_hint(value: Any) -> None:
    """Raise Feedback if ``value`` is a float (or float tensor) holding a whole number, such as 2548.0."""
    if isinstance(value, bool) or as_int(value) is not None:
        return
    is_float_tensor = hasattr(value, "numel") and hasattr(value, "is_floating_point")
    if is_float_tensor and not (value.numel() == 1 and value.is_floating_point()):
        return
    if not (isinstance(value, numbers.Real) or is_float_tensor):
        return
    number = float(value.item() if is_float_tensor else value)
    if math.isfinite(number) and number.is_integer():
        raise Feedback(f"{value!r} is a whole number stored as a float (division with / always gives one): "
                       f"compute it with // (integer division) or wrap it in int().")


def _int_tuple(answer: Any, n: int, what: str) -> tuple[int, ...]:
    """``answer`` as a tuple of ``n`` ints, or Feedback that says what is wrong with it."""
    if isinstance(answer, (str, bytes)) or not hasattr(answer, "__iter__"):
        raise Feedback(f"Give {what} as a tuple of {n} ints, got {type(answer).__name__}.")
    entries = tuple(answer)
    values = tuple(as_int(v) for v in entries)
    if any(v is None for v in values):
        for v in entries:
            _whole_float_hint(v)
        raise Feedback(f"Every entry of {what} must be a whole number (int), got {answer!r}.")
    if len(values) != n:
        raise Feedback(f"{what[0].upper()}{what[1:]} has {n} entries; yours has {len(values)}.")
    return values


# ---------------------------------------------------------------------------------------------------------------
# Every exercise asks for a function of the settings, checked on layouts the page never shows. A tensor of the right
# shape would hand over its .stride() or its shape, and as_strided, unfold or conv2d_matmul the view or the patch
# matrix, so every PyTorch operator is refused while the student's function runs (pure arithmetic runs none). A
# NumPy array's .strides are the same numbers in bytes, and so are a memoryview's (memoryview(...).cast("B",
# shape), or a memoryview of a nested ctypes array), so NumPy and memoryviews are refused too: NumPy's array
# constructors by name (forbidden), the ndarray type under each name NumPy binds it to and builtins.memoryview by a
# stand-in type that refuses to be called (and still answers isinstance, which the grader's own code asks), and
# underneath a profile hook refuses every call of a built-in function or method of NumPy or of a memoryview
# (numpy._core.multiarray.empty, np.indices, np.ones, np.random, ndarray.__new__, memoryview.cast, whatever name
# reaches them). Plain Python arithmetic (and math.prod) calls none of these. course_lib's im2col_bytes is refused
# by name.
_NUMPY_ARRAYS = ("numpy.empty", "numpy.zeros", "numpy.ones", "numpy.full", "numpy.arange", "numpy.array",
                 "numpy.asarray", "numpy.ascontiguousarray", "numpy.empty_like", "numpy.zeros_like",
                 "numpy.ones_like", "numpy.lib.stride_tricks.as_strided",
                 "numpy.lib.stride_tricks.sliding_window_view", "numpy._core.multiarray.empty",
                 "numpy._core.multiarray.zeros", "numpy._core.multiarray.array", "numpy._core.multiarray.asarray",
                 "numpy._core.multiarray.empty_like", "numpy._core.multiarray.frombuffer",
                 "numpy._core.multiarray.fromiter", "numpy._core.multiarray.arange")
_MEMORYVIEW = memoryview  # the type itself: the name is replaced in builtins while a student's function runs


def _exists(target: str) -> bool:
    """Whether the dotted name ``target`` exists in this NumPy (mock.patch cannot patch a missing name)."""
    import pkgutil

    try:
        pkgutil.resolve_name(target)
    except (ImportError, AttributeError, ValueError):
        return False
    return True


def _ndarray_names() -> tuple[str, ...]:
    """Every module attribute NumPy binds its ndarray type to (numpy.ndarray, numpy._core.multiarray.ndarray, ...)."""
    numpy = sys.modules.get("numpy")
    if numpy is None:
        return ()
    return tuple(f"{name}.ndarray" for name, module in list(sys.modules.items())
                 if (name == "numpy" or name.startswith("numpy.")) and isinstance(module, types.ModuleType)
                 and vars(module).get("ndarray") is numpy.ndarray)


class _RefusedType(type):
    """The metaclass of a stand-in for a refused type: calling it raises Feedback (except from the import
    machinery); isinstance, issubclass and attribute reads answer as the real type does."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        # Python's import machinery reads a module's bytecode through a memoryview: an import inside the
        # student's function still works.
        if sys._getframe(1).f_globals.get("__name__", "").startswith(("importlib", "_frozen_importlib")):
            return cls._real(*args, **kwargs)
        raise Feedback(cls._refusal)

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, cls._real)

    def __subclasscheck__(cls, sub: type) -> bool:
        return issubclass(sub, cls._real)

    def __getattr__(cls, name: str) -> Any:
        return getattr(cls._real, name)


@contextmanager
def _refused_types(why: str, namespace: dict[str, Any] | None) -> Iterator[None]:
    """Inside the block, calling ndarray (under any of NumPy's names) or memoryview raises Feedback."""
    from unittest import mock

    numpy = sys.modules.get("numpy")
    real: dict[str, type] = {"builtins.memoryview": _MEMORYVIEW}
    if numpy is not None:
        real.update({target: numpy.ndarray for target in _ndarray_names()})
    shown = {_MEMORYVIEW: "memoryview", **({numpy.ndarray: "numpy.ndarray"} if numpy is not None else {})}
    stand_ins = {cls: _RefusedType(cls.__name__, (), {
        "_real": cls, "_refusal": f"Your function called {name}, which this exercise rules out: {why}"})
        for cls, name in shown.items()}
    rebound: dict[str, Any] = {}
    try:
        with contextlib.ExitStack() as stack:
            for target, cls in real.items():
                stack.enter_context(mock.patch(target, stand_ins[cls]))
            if namespace is not None:  # a name the student bound earlier (from numpy import ndarray)
                for key, value in list(namespace.items()):
                    if isinstance(value, type) and value in stand_ins:
                        rebound[key] = value
                        namespace[key] = stand_ins[value]
            yield
    finally:
        if namespace is not None:
            namespace.update(rebound)


def _numpy_or_memoryview(func: Any) -> str | None:
    """What a built-in function or method ``func`` is, if it belongs to NumPy or to a memoryview, else None."""
    owner = getattr(func, "__self__", None)
    if isinstance(owner, type):
        owner_module = owner.__module__ or ""
    elif owner is None or isinstance(owner, types.ModuleType):
        owner_module = ""
    else:
        owner_module = type(owner).__module__ or ""
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or "a function"
    if isinstance(owner, _MEMORYVIEW):
        return f"memoryview.{getattr(func, '__name__', 'a method')}"
    if (getattr(func, "__module__", None) or "").startswith("numpy") or owner_module.startswith("numpy"):
        return f"NumPy's {name}"
    return None


@contextmanager
def _refuse_numpy_calls(why: str) -> Iterator[None]:
    """Inside the block, calling a built-in function or method of NumPy or of a memoryview raises Feedback."""

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "c_call":
            what = _numpy_or_memoryview(arg)
            if what is not None:
                raise Feedback(f"Your function called {what}, which this exercise rules out: {why}")

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield
    finally:
        sys.setprofile(previous)


def _run_arithmetic(answer: Callable[..., Any], args: tuple, why: str) -> Any:
    """``answer(*args)`` with every PyTorch operator, NumPy, memoryviews and im2col_bytes refused."""
    namespace = getattr(answer, "__globals__", None)
    targets = tuple(name for name in _NUMPY_ARRAYS if _exists(name)) + ("course_lib.matmul.im2col_bytes",)
    with (refuse_all_operators(why),
          forbidden(targets, why, namespace=namespace),
          _refused_types(why, namespace if isinstance(namespace, dict) else None),
          _refuse_numpy_calls(why)):
        return answer(*args)


def _returned(answer: Callable[..., Any], args: tuple, call: str, n: int, why: str) -> tuple[int, ...]:
    """What ``answer(*args)`` returns, as a tuple of ``n`` ints, or Feedback naming ``call``."""
    try:
        got = _run_arithmetic(answer, args, why)
    except (Feedback, NotImplementedError):
        raise
    except Exception as e:  # noqa: BLE001  (say which call failed)
        raise Feedback(f"{call} raised {type(e).__name__}: {e}.") from e
    try:
        return _int_tuple(got, n, f"what {call} returns")
    except Feedback as fb:
        raise Feedback(f"{fb} Return a tuple of {n} ints.") from None


_STRIDE_SHAPES = ((2, 10, 10, 3), (1, 6, 6, 2), (7,), (3, 1, 5), (2, 3, 4, 5, 6), (64, 32, 28, 28), (5, 9))


def _row_major(shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(math.prod(shape[i + 1:]) for i in range(len(shape)))


@register("ex-ch6-nhwc-strides")
def _nhwc_strides(answer: Any) -> str:
    expect_callable(answer)
    why = ("work the strides out from the shape with integer arithmetic: a tensor, a NumPy array or a memoryview "
           "of that shape would report them.")
    seen: dict[tuple[int, ...], str] = {}
    for shape in _STRIDE_SHAPES:
        call = f"contiguous_strides({shape})"
        got = _returned(answer, (shape,), call, len(shape), why)
        expected = _row_major(shape)
        if got == expected:
            seen[got] = call
            continue
        if got in seen:
            raise Feedback(f"{call} returns the same strides as {seen[got]}, another shape: compute them from "
                           "the shape you are given.")
        if got == tuple(reversed(_row_major(tuple(reversed(shape))))):
            hint = "Reversed: the *last* axis moves fastest, so it has stride 1 and the first axis the largest."
        elif got == tuple(4 * s for s in expected):
            hint = ".stride() counts elements, not bytes."
        elif got == tuple(math.prod(shape[i:]) for i in range(len(shape))):
            hint = ("One axis too many in each product: one step along an axis skips the elements of all the "
                    "axes after it, not including its own.")
        else:
            hint = ("Reread the definition of a stride at the start of 'Patches without copying': how many "
                    "elements does one step along each axis skip in a contiguous tensor?")
        raise Feedback(f"For {call} you return {got}. {hint}")
    return ("your strides agree with .stride() on shapes of one to five axes: the last axis has stride 1, and "
            "each axis skips the product of the sizes after it. For (N, H, W, C) = (2, 10, 10, 3) that is "
            "(300, 30, 3, 1).")


# (padded NHWC shape, stride, dilation), the exercise's own first
_VIEW_SETTINGS = (((2, 10, 10, 3), 3, 2), ((1, 6, 6, 2), 1, 1), ((4, 9, 12, 5), 2, 3), ((3, 11, 7, 1), 1, 2),
                  ((1, 8, 8, 16), 3, 1))


def _view_strides(shape: tuple[int, ...], stride: int, dilation: int) -> tuple[int, ...]:
    sN, sH, sW, sC = _row_major(shape)
    return sN, stride * sH, stride * sW, dilation * sH, dilation * sW, sC


@register("ex-ch6-patch-view-strides")
def _patch_view_strides(answer: Any) -> str:
    expect_callable(answer)
    why = ("work the strides out with integer arithmetic: as_strided, unfold, or a tensor, a NumPy array or a "
           "memoryview of that shape would hand them over.")
    for shape, stride, dilation in _VIEW_SETTINGS:
        call = f"patch_view_strides({shape}, stride={stride}, dilation={dilation})"
        got = _returned(answer, (shape, stride, dilation), call, 6, why)
        if got == _view_strides(shape, stride, dilation):
            continue
        sN, sH, sW, sC = _row_major(shape)
        if stride != dilation and got == _view_strides(shape, dilation, stride):
            hint = ("Swapped: the stride is the step between output pixels, the oH and oW axes; the dilation is "
                    "the step between kernel taps, the kH and kW axes.")
        elif dilation != 1 and got == _view_strides(shape, stride, 1):
            hint = ("That is the view without dilation: neighbouring kernel taps are `dilation` input pixels "
                    "apart, so the kH and kW strides change too.")
        elif stride != 1 and got == _view_strides(shape, 1, dilation):
            hint = "One step between output pixels moves `stride` input pixels, so the oH and oW strides change."
        elif dilation != 1 and got == _view_strides(shape, stride * dilation, dilation):
            hint = ("One step between output pixels moves by the stride alone; the dilation only spreads the "
                    "taps inside a patch.")
        elif got[0] != sN or got[5] != sC:
            hint = ("The N and C axes of the view step exactly like those of the padded tensor: they are its "
                    "strides.")
        else:
            hint = ("For each of the six axes, ask how many input pixels (or images, or channels) one step "
                    "moves, and turn that into elements with the padded tensor's strides, as 'Patches without "
                    "copying' does for stride 1.")
        raise Feedback(f"For {call} you return {got}. {hint}")
    return ("your strides agree on five layouts: output pixels are `stride` input pixels apart, kernel taps "
            "`dilation` apart, and all of them read the padded tensor's memory.")


_PAGE_SETTINGS = ((512, 1, 28, 5, 2, 2), (64, 1, 28, 5, 2, 2), (3, 8, 14, 3, 2, 1), (10, 3, 32, 3, 1, 1),
                  (1, 16, 7, 3, 1, 1), (7, 2, 9, 4, 3, 0))


def _pages(batch: int, channels: int, size: int, ks: int, stride: int, padding: int, *,
           ones: bool = True, value_bytes: int = 4, page: int = 4096, rows_per_pixel: bool = False,
           round_up: bool = True) -> int:
    side = size if rows_per_pixel else conv_output_size(size, ks, stride, padding)
    n_bytes = batch * side * side * (channels * ks * ks + ones) * value_bytes
    return -(-n_bytes // page) if round_up else n_bytes // page


@register("ex-ch6-page-faults")
def _page_faults(answer: Any) -> str:
    expect_callable(answer)
    why = ("work the size out with integer arithmetic (chapter 1's conv_output_size is allowed): building the "
           "patch matrix, or course_lib's im2col_bytes, would hand it over.")
    for settings in _PAGE_SETTINGS:
        call = "patch_matrix_pages({}, {}, {}, {}, {}, {})".format(*settings)
        try:
            got = _run_arithmetic(answer, settings, why)
        except (Feedback, NotImplementedError):
            raise
        except Exception as e:  # noqa: BLE001
            raise Feedback(f"{call} raised {type(e).__name__}: {e}.") from e
        try:
            _whole_float_hint(got)
        except Feedback as fb:
            raise Feedback(f"{call} returns {got!r}: {fb}") from None
        value = as_int(got)
        if value is None:
            raise Feedback(f"{call} should return a whole number of pages (an int), got {type(got).__name__}.")
        if value == _pages(*settings):
            continue
        batch, channels, size, ks, stride, padding = settings
        side = conv_output_size(size, ks, stride, padding)
        n_bytes = batch * side * side * (channels * ks * ks + 1) * 4
        mistakes = [
            (_pages(*settings, ones=False), "That leaves out the column of ones for the bias: each row holds "
                                            "C·k·k patch values and a 1."),
            (n_bytes, "That is the number of bytes; a page holds 4 KiB = 4096 bytes."),
            (n_bytes // 4, "That is the number of float32 values; each takes 4 bytes."),
            (_pages(*settings, page=4000), "A KiB is 1024 bytes, so a page is 4096 bytes, not 4000."),
            (_pages(*settings, value_bytes=8), "That counts 8 bytes a value (float64); the patch matrix is "
                                               "float32, 4 bytes a value."),
            (_pages(*settings, rows_per_pixel=True), "That counts one row per input pixel; a row belongs to each "
                                                     "output pixel, and chapter 1's formula gives the output grid."),
            (_pages(*settings, round_up=False), "Round up: a matrix that fills part of a page still touches that "
                                                "page."),
        ]
        hint = next((why_wrong for wrong, why_wrong in mistakes if value == wrong),
                    "Reread 'Patches without copying' and 'Scratch buffers and page faults': what is one row of "
                    "the patch matrix, and what does it hold?")
        raise Feedback(f"{call} returns {value}; that is not it. {hint}")
    rows = 512 * 14 * 14
    return (f"your function agrees on six layers. For simple_cnn's first layer at batch size 512: {rows:,} rows "
            f"× 26 columns × 4 bytes = {rows * 26 * 4:,} bytes = {rows * 26 * 4 // 4096:,} pages.")


# (shape (N, C, H, W), bytes per value): the exercise's own tensor last, so that no message about another setting
# confirms an answer for it, and no message prints its distances.
_DISTANCE_SETTINGS = (((2, 3, 10, 10), 4), ((1, 16, 7, 5), 8), ((8, 3, 32, 32), 2), ((3, 6, 4, 9), 1),
                      ((64, 32, 28, 28), 4))


@register("ex-ch6-channel-distance")
def _channel_distance(answer: Any) -> str:
    expect_callable(answer)
    why = ("work the distances out from the shape and the value size with integer arithmetic: a tensor in either "
           "layout would report its strides.")
    for shape, itemsize in _DISTANCE_SETTINGS:
        call = f"channel_distances({shape}, {itemsize})"
        got = _returned(answer, (shape, itemsize), call, 2, why)
        n, c, h, w = shape
        if got == (h * w * itemsize, itemsize):
            continue
        plane = h * w
        if itemsize != 1 and got == (plane, 1):
            hint = "Those are distances in elements; the question asks for bytes (each value takes `itemsize`)."
        elif itemsize != 1 and got in ((plane, itemsize), (plane * itemsize, 1)):
            hint = "Mixed units: one distance is in elements and the other in bytes; give both in bytes."
        elif got == (itemsize, plane * itemsize):
            hint = ("Swapped: in NCHW a channel is a whole H×W plane, so channel 1 starts a plane later; in "
                    "channels-last the channels of a pixel are neighbours.")
        elif got[0] != plane * itemsize:
            hint = ("In NCHW, channel 1 of a pixel sits one whole H×W plane after channel 0 (the batch axis and "
                    "the number of channels do not come into it).")
        else:
            hint = ("In channels-last the C channels of one pixel are stored next to each other; the distance "
                    "between two pixels is the one that counts all C.")
        raise Feedback(f"For {call} you return {got}. {hint}")
    return ("your distances agree on five tensors: in NCHW one H×W plane of values lies between two channels of a "
            "pixel (for (64, 32, 28, 28) in float32, 28·28·4 = 3,136 bytes), in channels-last they are neighbours, "
            "one value (4 bytes) apart.")


# (x shape (N, C, H, W), ks, stride, padding): the exercise's own input last, as above.
_UNFOLD_SETTINGS = (((2, 3, 10, 10), 3, 1, 1), ((1, 1, 28, 28), 5, 2, 2), ((4, 2, 9, 7), 2, 3, 0),
                    ((3, 5, 6, 6), 4, 2, 1), ((1, 6, 5, 8), 1, 1, 0), ((8, 16, 14, 14), 3, 2, 1))


@register("ex-ch6-unfold-shape")
def _unfold_shape(answer: Any) -> str:
    expect_callable(answer)
    why = ("work the shape out with integer arithmetic (chapter 1's conv_output_size is allowed): running F.unfold, "
           "or making a tensor of that shape, would hand it over.")
    for x_shape, ks, stride, padding in _UNFOLD_SETTINGS:
        call = f"unfold_shape({x_shape}, {ks}, {stride}, {padding})"
        got = _returned(answer, (x_shape, ks, stride, padding), call, 3, why)
        n, c, h, w = x_shape
        o_h, o_w = (conv_output_size(size, ks, stride, padding) for size in (h, w))
        values, patches = c * ks * ks, o_h * o_w
        if got == (n, values, patches):
            continue
        if got == (n, patches, values):
            hint = ("That is a transposed layout, one row per patch (conv2d_matmul's patch matrix also has a row "
                    "per patch, but stacks the batch, (N·L, kH·kW·C + 1)); F.unfold puts the patch values first: "
                    "(N, C·k·k, L).")
        elif got[0] != n:
            hint = "F.unfold keeps the batch axis first: one (C·k·k, L) matrix per image."
        elif got[1] != values:
            hint = "Each patch holds the kernel's k×k values in every one of the C channels: C·k·k values."
        elif got[2] == h * w != patches:
            hint = "H·W counts the input pixels. L counts output pixels: chapter 1's output-size formula gives them."
        else:
            hint = ("L counts the patches, one per output pixel: chapter 1's output-size formula gives the output "
                    "grid, with this stride and padding, along each axis.")
        raise Feedback(f"For {call} you return {got}. {hint}")
    return ("your shapes agree with F.unfold on six inputs: (N, C·k·k, L), with L the number of output pixels. For "
            "x of shape (8, 16, 14, 14), ks 3, stride 2, padding 1: 16·3·3 = 144 values per patch, 7·7 = 49 "
            "patches per image, (8, 144, 49).")
