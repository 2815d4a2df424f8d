"""Argument checks shared by course_lib's public functions.

Every public function validates its arguments at the boundary and raises a
``ValueError`` that names the parameter, the value it got and the rule it
broke. Inner helpers trust their inputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch


def check_int(name: str, value: Any, *, minimum: int | None = None) -> int:
    """Return ``value`` if it is an int (not a bool) that is at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an int, got {value!r} of type {type(value).__name__}")
    if minimum is not None and value < minimum:
        if minimum == 0:
            rule = "a non-negative int"
        elif minimum == 1:
            rule = "a positive int"
        else:
            rule = f"an int >= {minimum}"
        raise ValueError(f"{name} must be {rule}, got {value}")
    return value


def check_number(name: str, value: Any, rule: str = "a number",
                 ok: Callable[[float], bool] = lambda v: True) -> float:
    """Return ``value`` as a float if it is an int or float (not a bool) for which ``ok`` holds.

    ``rule`` says in words what ``ok`` checks, for the error message, e.g.
    ``check_number("lr", lr, "a positive number", lambda v: v > 0)``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not ok(value):
        raise ValueError(f"{name} must be {rule}, got {value!r}")
    return float(value)


def finite(v: float) -> bool:
    """True for a finite number: a building block for :func:`check_number`'s ``ok``."""
    return math.isfinite(v)


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is exactly True or False."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return value


def check_pair(name: str, value: Any, *, minimum: int | None = None) -> tuple[int, int]:
    """Accept an int or a pair of ints (height, width), as ``nn.Conv2d`` does."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
        return (
            check_int(f"{name}[0]", value[0], minimum=minimum),
            check_int(f"{name}[1]", value[1], minimum=minimum),
        )
    v = check_int(name, value, minimum=minimum)
    return v, v


def check_tensor(name: str, value: Any, dims: int, layout: str) -> Any:
    """Return ``value`` if it is a torch tensor with ``dims`` dimensions; ``layout`` names them, e.g. "(N, C, H, W)"."""
    if not isinstance(value, torch.Tensor) or value.dim() != dims:
        got = f"shape {tuple(value.shape)}" if isinstance(value, torch.Tensor) else type(value).__name__
        raise ValueError(f"{name} must be a {dims}-d tensor {layout}, got {got}")
    return value
