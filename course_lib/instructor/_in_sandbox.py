"""The grader's helper inside the sandbox: it runs the submission's notebook and answers the grader.

``python course_lib/instructor/_in_sandbox.py`` is started by :mod:`course_lib.instructor.sandbox` inside bubblewrap. It
reads one job (the notebook and its time limits) from stdin, executes the notebook with nbclient in a
fresh kernel, and writes the executed notebook to stdout. Then it serves the grader's requests, one
JSON line each: the answer given to an exercise, the value of a name, a call of a student's function
with the grader's inputs. Each request runs in the kernel as :func:`serve`, and its reply is a display
output of type :data:`course_lib.instructor.wire.MIME`.

Everything here runs next to the student's code and can be tampered with; the grader trusts none of
it: it only ever receives data (:func:`course_lib.instructor.wire.decode`) and computes every score itself.

A cell that runs longer than its limit is interrupted and the run goes on. A cell that kills the
kernel (or that cannot be interrupted) is skipped: the kernel is restarted and the notebook runs again
from the top without it, at most twice, within the notebook's time limit.

Taught in: instructors
"""

from __future__ import annotations

import copy
import json
import os
import sys
import time
import traceback
from typing import Any

if __package__:
    from . import wire
else:  # run by path in the sandbox: load wire.py alone, without course_lib's package (and torch) in the runner
    import importlib.util

    _path = os.path.join(os.path.dirname(__file__), "wire.py")
    _spec = importlib.util.spec_from_file_location("course_lib_wire", _path)
    wire = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(wire)

WORK = "/submission"
RESULTS = "/tmp/course_lib_results.jsonl"
_HANDLES: dict[int, Any] = {}
_TIMEOUT_ERROR = {"ename": "CellTimeoutError", "evalue": "the cell ran out of time and was interrupted",
                  "traceback": []}


# ---------------------------------------------------------------- in the kernel


def _error(e: BaseException) -> dict[str, Any]:
    frames = traceback.extract_tb(e.__traceback__)
    where = frames[-1] if frames else None
    try:
        message = str(e)[:2000]
    except Exception:  # noqa: BLE001
        message = f"<a {type(e).__name__} that cannot be printed>"
    return {"type": type(e).__name__, "message": message, "line": where.lineno if where else 1,
            "function": where.name if where else "<module>", "file": where.filename if where else "<submission>"}


def _user_namespace() -> dict[str, Any]:
    from IPython import get_ipython

    return get_ipython().user_ns


def _registry_report() -> dict[str, Any]:
    core = sys.modules.get("course_lib.checks.core")
    if core is None:
        return {"registry": {}, "check": "", "calls": {}}
    registry = {label: [wire.fingerprint(getattr(ex, "fn", None)), getattr(ex, "points", None)]
                for label, ex in dict(getattr(core, "_REGISTRY", {})).items()}
    calls = {label: int(v[1]) for label, v in dict(getattr(core, "_ANSWERS", {})).items()}
    return {"registry": registry, "check": wire.fingerprint(getattr(core, "check", None)),
            "run_check": wire.fingerprint(getattr(core, "run_check", None)),
            "record": wire.fingerprint(getattr(core, "record_result", None)), "calls": calls}


def _handle(request: dict[str, Any]) -> dict[str, Any]:
    op = request.get("op")
    send = lambda obj: {"ok": True, "value": wire.encode(obj, _HANDLES)}  # noqa: E731
    if op == "answer":
        core = sys.modules.get("course_lib.checks.core")
        answers = getattr(core, "_ANSWERS", {}) if core is not None else {}
        if request["label"] in answers:
            return {**send(answers[request["label"]][0]), "via": "check"}
        if request.get("expr"):
            try:
                return {**send(eval(request["expr"], _user_namespace())), "via": "name"}  # noqa: S307
            except NameError:
                pass
        return {"ok": True, "missing": True}
    if op == "names":
        values, missing = {}, []
        for name in request["names"]:
            if name in _user_namespace():
                values[name] = wire.encode(_user_namespace()[name], _HANDLES)
            else:
                missing.append(name)
        return {"ok": True, "values": values, "missing": missing}
    if op == "report":
        return {"ok": True, **_registry_report()}
    target = _HANDLES[int(request["id"])]
    args = wire.decode(request.get("args", {"$": "list", "items": []}), _HANDLES, allow_pickle=True)
    kwargs = wire.decode(request.get("kwargs", {"$": "dict", "items": []}), _HANDLES, allow_pickle=True)
    if op == "call":
        return send(target(*args, **kwargs))
    if op == "getattr":
        return send(getattr(target, request["name"]))
    if op == "getitem":
        return send(target[args[0]])
    if op == "len":
        return send(len(target))
    if op == "iter":
        return send(list(target))
    raise ValueError(f"unknown request {op!r}")


def serve(request_text: str) -> None:
    """Answer one grader request in the kernel, as a display output of type :data:`course_lib.instructor.wire.MIME`.

    Taught in: instructors
    """
    from IPython.display import display

    try:
        reply = _handle(json.loads(request_text))
    except BaseException as e:  # noqa: BLE001  (a student's function may raise anything, even SystemExit)
        reply = {"ok": False, "error": _error(e)}
    display({wire.MIME: reply}, raw=True)


# ---------------------------------------------------------------- the runner


class Runner:
    """Execute one notebook in a kernel, restarting it without a cell that kills it, then serve requests."""

    def __init__(self, job: dict[str, Any]) -> None:
        import nbformat

        self.job = job
        self.source = nbformat.reads(job["notebook"], as_version=4)
        self.deadline = time.monotonic() + float(job["notebook_timeout"])
        self.events: list[dict[str, Any]] = []
        self.skip: set[int] = set()
        self.client = None
        self.nb = None
        self.timed_out = False
        self.mode = "cell"

    def _timeout(self, cell) -> int:
        limit = {"cell": self.job["cell_timeout"], "call": self.job["call_timeout"], "probe": 10}[self.mode]
        if self.mode == "cell":
            limit = min(limit, self.deadline - time.monotonic())
        return max(1, int(limit + 0.999))

    def _executed(self, cell=None, cell_index=None, execute_reply=None, **_) -> None:
        content = (execute_reply or {}).get("content", {})
        self.timed_out = content.get("ename") == "CellTimeoutError" and content.get("traceback") == []

    def _start(self) -> None:
        from nbclient import NotebookClient

        try:  # rows of an earlier attempt would not match this kernel's count of check() calls
            os.remove(RESULTS)
        except OSError:
            pass
        self.nb = copy.deepcopy(self.source)
        for cell in self.nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        self.client = NotebookClient(
            self.nb, timeout_func=self._timeout, interrupt_on_timeout=True, error_on_timeout=_TIMEOUT_ERROR,
            allow_errors=True, kernel_name=self.job.get("kernel", "python3"), record_timing=False,
            shutdown_kernel="immediate", iopub_timeout=2, on_cell_executed=self._executed,
            resources={"metadata": {"path": WORK}})
        self.client.km = self.client.create_kernel_manager()
        self.client.start_new_kernel(cwd=WORK)
        self.client.start_new_kernel_client()

    def _stop(self) -> None:
        if self.client is not None and self.client.km is not None:
            try:
                self.client._cleanup_kernel()
            except Exception:  # noqa: BLE001
                pass
        self.client = None

    def _run(self, cell, index: int) -> str:
        """Execute one cell: "ok", "timeout" (interrupted, the kernel answers again), "dead" or "stuck"."""
        from nbclient.exceptions import DeadKernelError

        self.timed_out = False
        try:
            self.client.execute_cell(cell, index)
        except DeadKernelError:
            return "dead"
        if not self.timed_out:
            return "ok"
        from nbformat.v4 import new_code_cell

        mode, self.mode = self.mode, "probe"
        probe = new_code_cell("pass")
        self.nb.cells.append(probe)
        try:
            state = self._run_probe(probe, len(self.nb.cells) - 1)
        finally:
            self.nb.cells.pop()
            self.mode = mode
        return "timeout" if state == "ok" else "stuck"

    def _run_probe(self, probe, index: int) -> str:
        from nbclient.exceptions import DeadKernelError

        self.timed_out = False
        try:
            self.client.execute_cell(probe, index, store_history=False)
        except DeadKernelError:
            return "dead"
        return "stuck" if self.timed_out else "ok"

    def execute(self) -> bool:
        """Run every code cell; return whether a kernel is alive afterwards to answer requests."""
        from nbformat.v4 import new_output
        for _attempt in range(3):
            self._start()
            broken = None
            for index, cell in enumerate(self.nb.cells):
                if cell.cell_type != "code" or index in self.skip:
                    continue
                if time.monotonic() >= self.deadline:
                    self.events.append({"kind": "notebook-timeout", "cell": index})
                    return True
                state = self._run(cell, index)
                if state == "timeout":
                    self.events.append({"kind": "cell-timeout", "cell": index})
                    cell.outputs.append(new_output("error", **_TIMEOUT_ERROR))
                elif state in ("dead", "stuck"):
                    broken = index
                    self.events.append({"kind": "dead-kernel" if state == "dead" else "stuck-kernel", "cell": index})
                    break
            if broken is None:
                return True
            self._stop()
            self.skip.add(broken)
            if time.monotonic() >= self.deadline:
                break
        return False

    def request(self, request: dict[str, Any]) -> dict[str, Any]:
        if self.client is None:
            return {"ok": False, "error": {"type": "DeadKernelError", "message": "the kernel is not running"}}
        from nbformat.v4 import new_code_cell

        code = f"__import__('course_lib.instructor._in_sandbox', fromlist=['serve']).serve({json.dumps(request)!r})"
        cell = new_code_cell(code)
        self.nb.cells.append(cell)
        self.mode = "call"
        try:
            state = self._run(cell, len(self.nb.cells) - 1)
        finally:
            self.nb.cells.pop()
            self.mode = "cell"
        if state != "ok":
            if state != "timeout":
                self._stop()
            why = "ran out of time" if state in ("timeout", "stuck") else "killed the kernel"
            name = "TimeoutError" if state in ("timeout", "stuck") else "DeadKernelError"
            return {"ok": False, "error": {"type": name, "message": f"your code {why} while the grader ran it"}}
        for output in cell.outputs:
            if output.get("output_type") == "display_data" and isinstance(output.get("data", {}).get(wire.MIME), dict):
                return output["data"][wire.MIME]
        errors = [o for o in cell.outputs if o.get("output_type") == "error"]
        if errors:
            first = errors[0]
            return {"ok": False, "error": {"type": str(first.get("ename")), "message": str(first.get("evalue"))}}
        return {"ok": False, "error": {"type": "RuntimeError", "message": "the kernel gave no reply"}}


def main() -> None:
    import nbformat

    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # whatever else prints (the kernel included) goes to stderr, not to the grader

    def send(message: dict[str, Any]) -> None:
        protocol.write(json.dumps(message) + "\n")
        protocol.flush()

    job = json.loads(sys.stdin.readline())
    runner = Runner(job)
    alive = runner.execute()
    results = ""
    try:
        with open(RESULTS, encoding="utf-8", errors="replace") as f:
            results = f.read(2_000_000)
    except OSError:
        pass
    send({"type": "executed", "notebook": nbformat.writes(runner.nb), "events": runner.events,
          "skipped": sorted(runner.skip), "alive": alive, "results": results})
    if not alive:
        runner._stop()
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("op") == "exit":
            break
        send({"type": "reply", **runner.request(request)})
    runner._stop()


if __name__ == "__main__":
    main()
