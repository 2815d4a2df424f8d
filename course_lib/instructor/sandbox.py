"""Run one submitted notebook in a bubblewrap sandbox and talk to it: the grader's side.

The sandbox (``bwrap``) sees a read-only system (``/usr``, the Python installation, the virtual
environment and the ``course_lib`` package, nothing else of the course's folder), a private ``/tmp``
and a private working folder ``/submission`` (both small memory-backed file systems, gone when it
ends), no network, and only its own processes. It runs as an unprivileged user without capabilities,
with limits on memory per process, file size and number of processes, and the grader ends it after
the notebook's time limit. Inside, :mod:`course_lib.instructor._in_sandbox` executes the notebook; the grader
then asks it for answers through :class:`Sandbox.request` and gets data back, or :class:`Remote`
stand-ins for functions, which it calls through the sandbox.

Taught in: instructors
"""

from __future__ import annotations

import builtins
import json
import keyword
import os
import queue
import resource
import shutil
import subprocess
import sys
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import wire

MAX_MESSAGE = 128 * 2**20
BWRAP_HELP = ("bubblewrap (bwrap) is not installed, and the grader never runs a submission outside a sandbox. "
              "Install it (Debian/Ubuntu: apt-get install bubblewrap) and try again.")


BWRAP_PATHS = ("/usr/bin/bwrap", "/bin/bwrap")


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or does not work on this machine."""


class SandboxError(RuntimeError):
    """The sandbox stopped answering, broke the protocol or ran out of time."""


@dataclass(frozen=True)
class Limits:
    """The limits of one submission's sandbox: seconds, mebibytes and processes.

    Taught in: instructors
    """

    cell_timeout: float = 120.0
    notebook_timeout: float = 900.0
    call_timeout: float = 60.0
    memory_mb: int = 4096
    disk_mb: int = 512
    processes: int = 256

    def __post_init__(self) -> None:
        for name in ("cell_timeout", "notebook_timeout", "call_timeout", "memory_mb", "disk_mb", "processes"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name} must be a positive number, got {value!r}")


def find_bwrap() -> str:
    """The path of ``bwrap``; raises :class:`SandboxUnavailable` with what to install if it is missing.

    Taught in: instructors
    """
    path = shutil.which("bwrap") or next((p for p in BWRAP_PATHS if os.access(p, os.X_OK)), None)
    if path is None:
        raise SandboxUnavailable(BWRAP_HELP)
    return path


def _read_only_paths() -> list[str]:
    import course_lib

    paths = [sys.prefix, sys.base_prefix, os.path.realpath(sys.base_prefix), str(Path(course_lib.__file__).parent),
             os.path.dirname(os.path.realpath(sys.executable))]
    paths += ["/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/alternatives",
              "/etc/fonts", "/sys/devices/system/cpu"]
    kept: list[str] = []
    for p in sorted(set(paths), key=len):
        if os.path.exists(p) and not p.startswith("/usr/") and not any(p.startswith(k + "/") for k in kept):
            kept.append(p)
    return kept


def sandbox_argv(limits: Limits, uid: int, etc_dir: Path, command: list[str] | None = None,
                 read_only: list[tuple[str, str]] = ()) -> list[str]:
    """The ``bwrap`` command line that runs :mod:`course_lib.instructor._in_sandbox` (or ``command``) as user ``uid``.

    ``etc_dir`` holds the ``passwd`` and ``group`` files the sandbox sees; ``read_only`` adds
    ``(path outside, path inside)`` pairs to bind read-only (the otter export binds otter's environment,
    the autograder and the one submission).

    Taught in: instructors
    """
    argv = [find_bwrap(), "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session", "--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        if os.path.islink(f"/{name}"):
            argv += ["--symlink", os.readlink(f"/{name}"), f"/{name}"]
        elif os.path.isdir(f"/{name}"):
            argv += ["--ro-bind", f"/{name}", f"/{name}"]
    # The private /tmp and working folder come first, so that the read-only binds below can sit on top of
    # them: the course's virtual environment may itself live under /tmp (a clone in a temporary folder).
    argv += ["--proc", "/proc", "--dev", "/dev",
             "--perms", "1777", "--size", str(limits.disk_mb * 2**20 // 2), "--tmpfs", "/tmp",
             "--perms", "1777", "--size", str(limits.disk_mb * 2**20), "--tmpfs", "/submission"]
    made = {"/", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/dev", "/tmp",
            "/submission"}

    def parents(path: str) -> list[str]:
        out = []
        for parent in reversed(Path(path).parents):
            if str(parent) not in made:
                made.add(str(parent))
                out += ["--perms", "0755", "--dir", str(parent)]
        return out

    binds = [(p, p) for p in _read_only_paths()]
    binds += [(str(etc_dir / name), f"/etc/{name}") for name in ("passwd", "group")]
    for source, path in binds + list(read_only):
        argv += parents(path)
        argv += ["--ro-bind", source, path]
        made.add(path)
    argv += ["--chdir", "/submission", "--clearenv"]
    import course_lib

    # The kernel imports the grader's own course_lib (the only folder bound in its parent), not whatever an
    # editable install elsewhere points to: a grader run from a clone or worktree grades with that clone's checks.
    env = {"PYTHONPATH": str(Path(course_lib.__file__).resolve().parent.parent), "HOME": "/submission",
           "PATH": f"{os.path.dirname(sys.executable)}:/usr/bin:/bin", "LANG": "C.UTF-8",
           "TMPDIR": "/tmp", "USER": "student", "LOGNAME": "student", "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/.matplotlib",
           "IPYTHONDIR": "/tmp/.ipython", "JUPYTER_RUNTIME_DIR": "/tmp/.jupyter", "COURSE_LIB_QUIET": "1",
           "COURSE_LIB_RESULTS_FILE": "/tmp/course_lib_results.jsonl"}
    for key, value in env.items():
        argv += ["--setenv", key, value]
    # bwrap starts as root only to build the mounts; setpriv then becomes `uid` and drops every capability.
    command = command or [sys.executable, "-B", "-P", str(Path(__file__).with_name("_in_sandbox.py"))]
    argv += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--", shutil.which("setpriv") or "/usr/bin/setpriv",
             "--reuid", str(uid), "--regid", str(uid), "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
             *command]
    return argv


def process_limits(limits: Limits):
    """The function that sets ``limits``' memory, file size and process limits in a child before it starts.

    Pass it as ``preexec_fn`` to :mod:`subprocess`; the limits hold for every process of the sandbox.

    Taught in: instructors
    """

    def limit() -> None:
        memory = limits.memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
        disk = limits.disk_mb * 2**20
        resource.setrlimit(resource.RLIMIT_FSIZE, (disk, disk))
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return limit


def _etc_files(folder: Path, uid: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "passwd").write_text(f"student:x:{uid}:{uid}:student:/submission:/bin/sh\n")
    (folder / "group").write_text(f"student:x:{uid}:\n")
    for f in folder.iterdir():
        f.chmod(0o644)
    folder.chmod(0o755)
    return folder


class Sandbox:
    """One running sandbox: start it with a notebook, read the executed notebook, then make requests.

    Taught in: instructors
    """

    def __init__(self, limits: Limits, workspace: Path, slot: int = 0) -> None:
        self.limits = limits
        uid = 61000 + slot % 1000
        argv = sandbox_argv(limits, uid, _etc_files(workspace / f"etc-{slot}", uid))

        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     preexec_fn=process_limits(limits), start_new_session=True, close_fds=True)
        self.messages: queue.Queue = queue.Queue()
        self.stderr: deque[bytes] = deque(maxlen=200)
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain, daemon=True).start()
        self.handles_made = 0

    def _read(self) -> None:
        while True:
            line = self.proc.stdout.readline(MAX_MESSAGE)
            if not line:
                self.messages.put(None)
                return
            if not line.endswith(b"\n"):
                self.messages.put(SandboxError("the sandbox sent a message that is too long"))
                return
            self.messages.put(line)

    def _drain(self) -> None:
        for line in iter(lambda: self.proc.stderr.readline(65536), b""):
            self.stderr.append(line)

    def send(self, message: dict[str, Any]) -> None:
        try:
            self.proc.stdin.write(json.dumps(message).encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError) as e:
            raise SandboxError("the sandbox is no longer running") from e

    def receive(self, timeout: float) -> dict[str, Any]:
        try:
            item = self.messages.get(timeout=max(0.1, timeout))
        except queue.Empty:
            raise SandboxError(f"the sandbox did not answer within {timeout:.0f} s") from None
        if item is None:
            self.messages.put(None)
            tail = b"".join(list(self.stderr)[-5:]).decode(errors="replace").strip().splitlines()
            raise SandboxError("the sandbox ended" + (f" ({tail[-1][:200]})" if tail else ""))
        if isinstance(item, Exception):
            raise item
        try:
            message = json.loads(item)
        except ValueError as e:
            raise SandboxError("the sandbox sent something that is not JSON") from e
        if not isinstance(message, dict):
            raise SandboxError("the sandbox sent something that is not a message")
        return message

    def start(self, notebook_text: str, kernel: str = "python3") -> dict[str, Any]:
        """Send the notebook; return the runner's report once it has executed (within the notebook's limit)."""
        lim = self.limits
        self.send({"notebook": notebook_text, "kernel": kernel, "cell_timeout": lim.cell_timeout,
                   "notebook_timeout": lim.notebook_timeout, "call_timeout": lim.call_timeout})
        # Kernel restarts after a crash cost a few seconds each on top of the notebook's own limit.
        return self.receive(lim.notebook_timeout + 90)

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        self.send(message)
        reply = self.receive(self.limits.call_timeout + 30)
        if reply.get("type") != "reply":
            raise SandboxError("the sandbox answered out of turn")
        return reply

    def close(self) -> None:
        try:
            self.send({"op": "exit"})
        except SandboxError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for kill in (lambda: os.killpg(self.proc.pid, 9), self.proc.kill):
            try:
                kill()
            except (ProcessLookupError, PermissionError, OSError):
                pass
        self.proc.wait()

    # ------------------------------------------------------------ answers as grader-side objects

    def value(self, reply: dict[str, Any], key: str = "value") -> Any:
        """Rebuild a reply's data; raise the error the student's code raised if there was one."""
        if not reply.get("ok"):
            raise_remote(reply.get("error") or {})
        return wire.decode(reply.get(key), make_remote=self.make_remote)

    def make_remote(self, meta: dict[str, Any]) -> Remote:
        """The grader's stand-in for the kernel object that the handle ``meta`` describes."""
        cls = RemoteFunction if meta.get("callable") is True else Remote
        return cls(self, int(meta["id"]), str(meta.get("type", "object"))[:100], str(meta.get("repr", ""))[:200])

    def operate(self, op: str, handle: int, args: tuple = (), kwargs: dict | None = None, **extra: Any) -> Any:
        message = {"op": op, "id": handle, "args": wire.encode(list(args), allow_pickle=True),
                   "kwargs": wire.encode(dict(kwargs or {}), allow_pickle=True), **extra}
        try:
            reply = self.request(message)
        except SandboxError as e:
            raise_remote({"type": "SandboxError", "message": str(e)})
        return self.value(reply)


class Remote(wire.RemoteRef):
    """The grader's stand-in for an object of the student's kernel: attribute reads go to the sandbox.

    Taught in: instructors
    """

    def __init__(self, sandbox: Sandbox, handle: int, type_name: str, text: str) -> None:
        object.__setattr__(self, "_sandbox", sandbox)
        object.__setattr__(self, "handle_id", handle)
        object.__setattr__(self, "_type_name", type_name)
        object.__setattr__(self, "_text", text)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._sandbox.operate("getattr", self.handle_id, name=name)

    def __len__(self) -> int:
        value = self._sandbox.operate("len", self.handle_id)
        if type(value) is not int or value < 0:
            raise TypeError("len() of the answer is not a whole number")
        return value

    def __iter__(self):
        return iter(self._sandbox.operate("iter", self.handle_id))

    def __getitem__(self, key: Any) -> Any:
        return self._sandbox.operate("getitem", self.handle_id, (key,))

    def __repr__(self) -> str:
        return self._text or f"<{self._type_name}>"


class RemoteFunction(Remote):
    """A student's function (or other callable), called with the grader's arguments inside the sandbox.

    Taught in: instructors
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._sandbox.operate("call", self.handle_id, args, kwargs)

    @property
    def __name__(self) -> str:  # noqa: PLW3201
        return self._type_name


class RemoteError(Exception):
    """An exception that the student's code raised inside the sandbox, re-raised in the grader."""


_REMOTE_CLASSES: dict[str, type] = {}


def raise_remote(error: dict[str, Any]) -> None:
    """Raise, in the grader, the exception described by ``error``, from a frame named like the student's.

    A builtin exception keeps its class (a ``NotImplementedError`` still means "not answered yet");
    any other becomes a :class:`RemoteError` subclass of the same name. The check's hint then names the
    same exception, line and function as the student saw.

    Taught in: instructors
    """
    name = str(error.get("type") or "RemoteError")
    if not name.isidentifier() or keyword.iskeyword(name):
        name = "RemoteError"
    cls = getattr(builtins, name, None)
    if not (isinstance(cls, type) and issubclass(cls, Exception)):
        cls = _REMOTE_CLASSES.setdefault(name, type(name, (RemoteError,), {}))
    try:
        exc = cls(str(error.get("message", "")))
    except Exception:  # noqa: BLE001
        exc = RemoteError(str(error.get("message", "")))
    line = error.get("line")
    line = line if type(line) is int and 0 < line < 1_000_000 else 1
    function = str(error.get("function") or "<module>")
    code = compile("\n" * (line - 1) + "raise _exc", str(error.get("file") or "<submission>")[:300], "exec")
    if function.isidentifier() or function.startswith("<"):
        code = code.replace(co_name=function[:100])
    exec(code, {"_exc": exc})  # noqa: S102  (the code is the two words above)

