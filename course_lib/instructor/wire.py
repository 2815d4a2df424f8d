"""How answers cross the sandbox's wall: plain data as JSON, anything else as a handle to call back.

The grader runs a submission in a sandbox (:mod:`course_lib.instructor.sandbox`) and its checks in its own
process. Values that a check can read (numbers, strings, tuples, lists, dicts, slices, tensors, numpy
arrays) come out of the sandbox as JSON and are rebuilt as plain Python, torch or numpy objects, never
as the student's own classes, so an answer cannot bring code into the grader: :func:`decode` refuses
pickles and unknown types. A function or any other object stays in the sandbox's kernel and is
represented by a handle, which the grader calls through the sandbox. Data going *into* the sandbox
(the arguments a check passes to a student's function) may be pickled, since the grader trusts itself.

Taught in: instructors
"""

from __future__ import annotations

import base64
import hashlib
import math
import pickle
import types
from typing import Any

MIME = "application/x-course-lib-grading+json"
MAX_DEPTH = 40
MAX_ITEMS = 5_000_000
MAX_BYTES = 256 * 2**20
_TORCH_DTYPES = ("float16", "bfloat16", "float32", "float64", "complex64", "complex128", "uint8", "int8",
                 "int16", "int32", "int64", "bool")


class WireError(ValueError):
    """Data from the sandbox that :func:`decode` does not accept."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def encode(obj: Any, handles: dict[int, Any] | None = None, allow_pickle: bool = False, _depth: int = 0) -> Any:
    """``obj`` as JSON-able data; objects that are not plain data become handles (or pickles, or an error).

    ``handles`` (the kernel's side) stores each object it cannot send and gives its number;
    ``allow_pickle`` (the grader's side) sends such objects as pickles instead.

    Taught in: instructors
    """
    if _depth > MAX_DEPTH:
        raise WireError("the answer is nested too deeply")
    rec = lambda o: encode(o, handles, allow_pickle, _depth + 1)  # noqa: E731
    if obj is None or isinstance(obj, bool):
        return obj if obj is None else bool(obj)
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        value = float(obj)
        return value if math.isfinite(value) else {"$": "float", "repr": repr(value)}
    if isinstance(obj, str):
        return {"$": "str", "value": str.__str__(obj)}
    if type(obj) is type(Ellipsis):
        return {"$": "ellipsis"}
    if isinstance(obj, complex):
        return {"$": "complex", "real": rec(obj.real), "imag": rec(obj.imag)}
    if isinstance(obj, (bytes, bytearray)):
        return {"$": "bytes", "data": _b64(bytes(obj))}
    if isinstance(obj, slice):
        return {"$": "slice", "items": [rec(obj.start), rec(obj.stop), rec(obj.step)]}
    if isinstance(obj, range):
        return {"$": "range", "items": [obj.start, obj.stop, obj.step]}
    torch = _module("torch")
    if torch is not None:
        if isinstance(obj, torch.Size):
            return {"$": "size", "items": [int(v) for v in obj]}
        if isinstance(obj, torch.dtype):
            return {"$": "dtype", "name": str(obj).removeprefix("torch.")}
        if isinstance(obj, torch.Tensor) and obj.layout == torch.strided and not obj.is_quantized \
                and str(obj.dtype).removeprefix("torch.") in _TORCH_DTYPES and obj.device.type != "meta":
            t = obj.detach().cpu().contiguous()
            data = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
            return {"$": "tensor", "dtype": str(t.dtype).removeprefix("torch."), "shape": list(t.shape),
                    "data": _b64(data), "requires_grad": bool(obj.requires_grad)}
    np = _module("numpy")
    if np is not None:
        if isinstance(obj, np.ndarray) and obj.dtype.kind in "biufc" and not obj.dtype.hasobject:
            a = np.ascontiguousarray(obj)
            return {"$": "ndarray", "dtype": a.dtype.str, "shape": list(a.shape), "data": _b64(a.tobytes())}
        if isinstance(obj, np.generic) and obj.dtype.kind in "biufc":
            return {"$": "npscalar", "dtype": obj.dtype.str, "data": _b64(obj.tobytes())}
    if isinstance(obj, (tuple, list, set, frozenset)) and not hasattr(obj, "_fields"):
        items = [rec(v) for v in (tuple.__iter__(obj) if isinstance(obj, tuple) else list.__iter__(obj)
                                  if isinstance(obj, list) else iter(obj))]
        kind = "tuple" if isinstance(obj, tuple) else "list" if isinstance(obj, list) else \
            "set" if isinstance(obj, set) else "frozenset"
        return {"$": kind, "items": items}
    if isinstance(obj, tuple):  # a namedtuple travels as a plain tuple
        return {"$": "tuple", "items": [rec(v) for v in tuple.__iter__(obj)]}
    if isinstance(obj, dict):
        return {"$": "dict", "items": [[rec(k), rec(v)] for k, v in dict.items(obj)]}
    if handles is not None:
        key = len(handles) + 1
        handles[key] = obj
        return {"$": "handle", "id": key, "type": type(obj).__name__, "callable": callable(obj),
                "repr": _short_repr(obj)}
    if isinstance(obj, RemoteRef):
        return {"$": "ref", "id": obj.handle_id}
    if allow_pickle:
        return {"$": "pickle", "data": _b64(pickle.dumps(obj))}
    raise WireError(f"cannot send a {type(obj).__name__}")


class RemoteRef:
    """Base of the grader's stand-ins for objects that live in the sandbox (:mod:`course_lib.instructor.sandbox`)."""

    handle_id: int = 0


def decode(data: Any, handles: dict[int, Any] | None = None, make_remote=None, allow_pickle: bool = False) -> Any:
    """Rebuild what :func:`encode` sent. On the grader's side (``make_remote`` given) only plain data is accepted.

    ``make_remote(meta)`` builds the stand-in for a handle; ``handles`` resolves references sent back
    into the sandbox. Raises :class:`WireError` for anything malformed, oversized or not allowed.

    Taught in: instructors
    """
    budget = [MAX_ITEMS, MAX_BYTES]
    return _decode(data, handles, make_remote, allow_pickle, budget, 0)


def _take(budget: list[int], items: int = 1, nbytes: int = 0) -> None:
    budget[0] -= items
    budget[1] -= nbytes
    if budget[0] < 0 or budget[1] < 0:
        raise WireError("the answer is too large")


def _decode(data, handles, make_remote, allow_pickle, budget, depth):
    if depth > MAX_DEPTH:
        raise WireError("the answer is nested too deeply")
    _take(budget)
    if data is None or type(data) in (bool, int, float):
        return data
    if type(data) is not dict or type(data.get("$")) is not str:
        raise WireError(f"unexpected data of type {type(data).__name__}")
    kind = data["$"]
    rec = lambda d: _decode(d, handles, make_remote, allow_pickle, budget, depth + 1)  # noqa: E731

    def items() -> list:
        value = data.get("items")
        if type(value) is not list:
            raise WireError(f"a {kind} without items")
        return [rec(v) for v in value]

    if kind == "str":
        value = data.get("value")
        if type(value) is not str:
            raise WireError("a malformed string")
        _take(budget, 0, len(value))
        return value
    if kind == "float":
        text = data.get("repr")
        if text not in ("nan", "inf", "-inf"):
            raise WireError("a malformed float")
        return float(text)
    if kind == "ellipsis":
        return ...
    if kind == "complex":
        return complex(float(rec(data.get("real"))), float(rec(data.get("imag"))))
    if kind == "bytes":
        return _bytes(data, budget)
    if kind in ("tuple", "list", "set", "frozenset"):
        values = items()
        return {"tuple": tuple, "list": list, "set": set, "frozenset": frozenset}[kind](values)
    if kind == "dict":
        pairs = data.get("items")
        if type(pairs) is not list or not all(type(p) is list and len(p) == 2 for p in pairs):
            raise WireError("a malformed dict")
        try:
            return {rec(k): rec(v) for k, v in pairs}
        except TypeError as e:  # an unhashable key
            raise WireError("a dict with a key that is not hashable") from e
    if kind in ("slice", "range"):
        values = items()
        if len(values) != 3:
            raise WireError(f"a malformed {kind}")
        if kind == "range" and not all(type(v) is int for v in values):
            raise WireError("a malformed range")
        return slice(*values) if kind == "slice" else range(*values)
    if kind == "size":
        import torch

        values = items()
        if not all(type(v) is int and v >= 0 for v in values):
            raise WireError("a malformed torch.Size")
        return torch.Size(values)
    if kind == "dtype":
        import torch

        if data.get("name") not in _TORCH_DTYPES:
            raise WireError("an unknown dtype")
        return getattr(torch, data["name"])
    if kind == "tensor":
        return _tensor(data, budget)
    if kind in ("ndarray", "npscalar"):
        return _ndarray(data, budget, kind)
    if kind == "handle" and make_remote is not None:
        if type(data.get("id")) is not int:
            raise WireError("a malformed handle")
        return make_remote(data)
    if kind == "ref" and handles is not None:
        return handles[data["id"]]
    if kind == "pickle" and allow_pickle:
        return pickle.loads(_bytes(data, budget))  # noqa: S301  (only ever from the grader into the sandbox)
    raise WireError(f"data of kind {kind!r} is not accepted here")


def _bytes(data, budget) -> bytes:
    text = data.get("data")
    if type(text) is not str:
        raise WireError("malformed bytes")
    _take(budget, 0, len(text))
    try:
        return base64.b64decode(text, validate=True)
    except ValueError as e:
        raise WireError("malformed base64") from e


def _shape(data, budget) -> tuple[int, ...]:
    shape = data.get("shape")
    if type(shape) is not list or len(shape) > 32 or not all(type(v) is int and v >= 0 for v in shape):
        raise WireError("a malformed shape")
    _take(budget, math.prod(shape))
    return tuple(shape)


def _tensor(data, budget):
    import torch

    if data.get("dtype") not in _TORCH_DTYPES:
        raise WireError("a tensor of an unknown dtype")
    dtype = getattr(torch, data["dtype"])
    shape = _shape(data, budget)
    raw = _bytes(data, budget)
    itemsize = torch.empty(0, dtype=dtype).element_size()
    if len(raw) != math.prod(shape) * itemsize:
        raise WireError("a tensor whose data does not match its shape")
    if not raw:
        t = torch.empty(shape, dtype=dtype)
    else:
        t = torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(dtype).reshape(shape).clone()
    if data.get("requires_grad") is True and (t.is_floating_point() or t.is_complex()):
        t.requires_grad_(True)
    return t


def _ndarray(data, budget, kind):
    import numpy as np

    try:
        dtype = np.dtype(data.get("dtype"))
    except TypeError as e:
        raise WireError("an array of an unknown dtype") from e
    if dtype.kind not in "biufc" or dtype.hasobject:
        raise WireError("an array of objects is not accepted")
    raw = _bytes(data, budget)
    if kind == "npscalar":
        if len(raw) != dtype.itemsize:
            raise WireError("a malformed numpy scalar")
        return np.frombuffer(raw, dtype=dtype)[0]
    shape = _shape(data, budget)
    if len(raw) != math.prod(shape) * dtype.itemsize:
        raise WireError("an array whose data does not match its shape")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def _short_repr(obj: Any) -> str:
    try:
        return repr(obj)[:200]
    except Exception:  # noqa: BLE001
        return f"<a {type(obj).__name__}>"


def _module(name: str):
    import sys

    return sys.modules.get(name)


def fingerprint(fn: Any) -> str:
    """A short hash of a function's bytecode and constants (not its file or line numbers).

    The grader compares the fingerprint of each check in the submission's kernel with its own, to flag a
    replaced check.

    Taught in: instructors
    """
    code = getattr(fn, "__code__", None)
    if not isinstance(code, types.CodeType):
        return f"not a function: {type(fn).__name__}"
    digest = hashlib.sha256()

    def feed(c: types.CodeType) -> None:
        digest.update(c.co_code)
        digest.update(repr(c.co_names).encode())
        for const in c.co_consts:
            if isinstance(const, types.CodeType):
                feed(const)
            elif isinstance(const, frozenset):
                digest.update(repr(sorted(map(repr, const))).encode())
            else:
                digest.update(repr(const).encode())

    feed(code)
    return digest.hexdigest()[:16]
