"""What crosses the sandbox's wall: plain data comes back as plain data, nothing else gets into the grader."""

from __future__ import annotations

import base64
import pickle
import traceback

import numpy as np
import pytest
import torch

from course_lib.checks import core
from course_lib.instructor import wire
from course_lib.instructor.sandbox import Limits, raise_remote


class Sneaky(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


@pytest.mark.parametrize("value", [
    None, True, 3, -2**70, 1.5, float("inf"), "text", ..., 1 + 2j, b"\x00\xff", slice(0, 9), range(1, 7, 2),
    (1, (2, [3.0])), {"a": 1, 2: (3,)}, {1, 2}, frozenset({"x"}), torch.Size([2, 3]), torch.float64,
    torch.arange(6.0).reshape(2, 3), torch.tensor(True), torch.zeros(0, 4, dtype=torch.int16),
    np.arange(4, dtype=np.int32).reshape(2, 2), np.float32(2.5),
])
def test_plain_data_comes_back_equal_and_of_the_same_type(value):
    got = wire.decode(wire.encode(value, handles={}), make_remote=lambda meta: pytest.fail("no handle expected"))
    assert type(got) is type(value)
    if isinstance(value, torch.Tensor):
        torch.testing.assert_close(got, value)
    elif isinstance(value, np.ndarray):
        np.testing.assert_array_equal(got, value)
    else:
        assert got == value


def test_a_subclass_of_a_plain_type_comes_back_as_the_plain_type():
    got = wire.decode(wire.encode(Sneaky(5), handles={}), make_remote=None)
    assert type(got) is int and got == 5 and got != 6


def test_a_function_stays_in_the_kernel_as_a_handle():
    handles: dict = {}
    data = wire.encode(lambda x: x, handles)
    assert data["$"] == "handle" and data["callable"] is True and callable(handles[data["id"]])
    assert wire.decode(data, make_remote=lambda meta: ("remote", meta["id"])) == ("remote", data["id"])


@pytest.mark.parametrize(("data", "message"), [
    ({"$": "pickle", "data": base64.b64encode(pickle.dumps(print)).decode()}, "not accepted here"),
    ({"$": "handle", "id": 1}, "not accepted here"),
    ({"$": "tensor", "dtype": "object", "shape": [1], "data": ""}, "unknown dtype"),
    ({"$": "tensor", "dtype": "float32", "shape": [10**6], "data": ""}, "does not match its shape"),
    ({"$": "ndarray", "dtype": "|O", "shape": [1], "data": ""}, "array of objects"),
    ({"$": "str", "value": 3}, "malformed string"),
    ([1, 2], "unexpected data of type list"),
    ({"$": "list", "items": [{"$": "list", "items": []}] * 3}, None),
])
def test_the_grader_refuses_anything_but_plain_data(data, message):
    if message is None:
        assert wire.decode(data) == [[], [], []]
        return
    with pytest.raises(wire.WireError, match=message):
        wire.decode(data)


def test_deep_or_huge_data_is_refused():
    deep: dict = {"$": "list", "items": []}
    for _ in range(wire.MAX_DEPTH + 5):
        deep = {"$": "list", "items": [deep]}
    with pytest.raises(wire.WireError, match="nested too deeply"):
        wire.decode(deep)
    with pytest.raises(wire.WireError, match="too large"):
        wire.decode({"$": "tensor", "dtype": "uint8", "shape": [wire.MAX_ITEMS + 1], "data": ""})


def test_a_remote_exception_reads_as_the_student_saw_it():
    def boom(answer):
        raise_remote({"type": "ValueError", "message": "bad shape", "line": 7, "function": "conv_by_hand"})

    ex = core.Exercise("ex-test-remote", boom, 1.0)
    result = core.run_check(ex, 1)
    assert result.status == "wrong"
    assert result.message.startswith("checking your answer raised ValueError: bad shape (line 7 of conv_by_hand).")
    with pytest.raises(NotImplementedError):
        raise_remote({"type": "NotImplementedError", "message": ""})
    with pytest.raises(Exception) as info:
        raise_remote({"type": "KeyboardInterrupt", "message": "", "function": "f"})
    assert type(info.value).__name__ == "KeyboardInterrupt" and isinstance(info.value, Exception)
    assert traceback.extract_tb(info.value.__traceback__)[-1].name == "f"


def test_fingerprints_tell_a_replaced_check_from_the_course_one():
    ours = core.registered_exercises()["ex-ch1-output-size"].fn
    assert wire.fingerprint(ours) == wire.fingerprint(ours)
    assert wire.fingerprint(ours) != wire.fingerprint(lambda answer: "anything goes")


@pytest.mark.parametrize(("field", "value"), [("cell_timeout", 0), ("memory_mb", -1), ("notebook_timeout", "9")])
def test_limits_are_validated(field, value):
    with pytest.raises(ValueError, match=f"{field} must be a positive number, got {value!r}"):
        Limits(**{field: value})
