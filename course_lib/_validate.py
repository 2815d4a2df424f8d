"""Argument checks shared by course_lib's public functions.

Every public function validates its arguments at the boundary and raises a
``ValueError`` that names the parameter, the value it got and the rule it
broke. Inner helpers trust their inputs.
"""

from __future__ import annotations

import math
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


def check_number(name: str, value: Any, *, gt: float | None = None, ge: float | None = None,
                 lt: float | None = None, le: float | None = None) -> float:
    """Return ``value`` as a float if it is a finite int or float (not a bool) within the given bounds.

    The rule is stated once, as bounds, and the error message is written
    from them: ``check_number("lr", lr, gt=0)`` raises ``lr must be a
    positive finite number, got -1``; ``check_number("pct_start", p, ge=0,
    lt=1)`` raises ``pct_start must be a number in [0, 1), got 1.0``. NaN and
    infinities never pass.
    """
    low = (gt, "(") if gt is not None else (ge, "[") if ge is not None else None
    high = (lt, ")") if lt is not None else (le, "]") if le is not None else None
    if low and high:
        rule = f"a number in {low[1]}{_fmt(low[0])}, {_fmt(high[0])}{high[1]}"
    elif low and low[0] == 0:
        rule = "a positive finite number" if gt is not None else "a non-negative finite number"
    elif low:
        rule = f"a finite number {'>' if gt is not None else '>='} {_fmt(low[0])}"
    elif high:
        rule = f"a finite number {'<' if lt is not None else '<='} {_fmt(high[0])}"
    else:
        rule = "a finite number"
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
    ok = ok and (gt is None or value > gt) and (ge is None or value >= ge)
    ok = ok and (lt is None or value < lt) and (le is None or value <= le)
    if not ok:
        raise ValueError(f"{name} must be {rule}, got {value!r}")
    return float(value)


def _fmt(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else str(bound)


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
