"""The grader's handle on one sandboxed worker.

`WorkerClient` starts the worker in a scratch folder, sends requests with a
deadline each, and turns every way a student process can misbehave (raise,
hang, exit, die, flood its output) into a `WorkerFailure` the checks report.
After a hang or a death the next request starts a fresh worker and replays
the load, so one bad method spoils only the criteria that call it.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import worker as wire
from .limits import WorkerLimits, apply_rlimits, isolation_level, wrap_command

WORKER_SOURCE = Path(wire.__file__)
MAX_REPLY_BYTES = 512 * 1024 * 1024


class WorkerFailure(Exception):
    """The student's code failed to give an observation.

    kind: 'exception' (raised), 'timeout' (hung), 'crash' (the process died or
    exited), 'protocol' (sent something that is not an answer)."""

    def __init__(self, kind: str, message: str, *, error_type: str = "",
                 line: int | None = None, traceback: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.error_type = error_type
        self.line = line
        self.traceback = traceback

    def describe(self) -> str:
        where = f" (line {self.line})" if self.line else ""
        if self.kind == "exception":
            return f"{self.error_type}{where}: {self.message}"
        return self.message


def scrubbed_environment() -> dict[str, str]:
    """A minimal environment: no credentials, no grader paths, one BLAS
    thread (determinism, and no oversubscription in a parallel batch)."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/nonexistent",
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if key in os.environ:  # machine-specific BLAS fixes must reach the worker
            env[key] = os.environ[key]
    return env


@dataclass
class LoadSpec:
    """What the worker executes: a Python source file and its folder."""

    source: Path
    directory: Path
    filename: str
    seed: int = 0


@dataclass
class WorkerClient:
    """One worker process at a time for one submission."""

    load_spec: LoadSpec
    limits: WorkerLimits = field(default_factory=WorkerLimits)
    load_timeout: float = 30.0
    proc: subprocess.Popen | None = None
    workdir: Path | None = None
    restarts: int = 0
    load_result: Any = None
    load_error: WorkerFailure | None = None
    _req: Any = None
    _resp: Any = None
    _out: Any = None

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> None:
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="nngrade-"))
            os.chmod(self.workdir, 0o777)
        shutil.copy(WORKER_SOURCE, self.workdir / "_nngrade_worker.py")
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        if self._out is None:
            self._out = open(self.workdir / "_output.txt", "ab")
        command = wrap_command([sys.executable, "-I", "-B", str(self.workdir / "_nngrade_worker.py"),
                                str(req_r), str(resp_w)])
        self.proc = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=self._out, stderr=self._out,
            cwd=self.workdir, env=scrubbed_environment(), pass_fds=(req_r, resp_w),
            preexec_fn=lambda: apply_rlimits(self.limits), close_fds=True)
        os.close(req_r)
        os.close(resp_w)
        self._req = os.fdopen(req_w, "wb", buffering=0)
        self._resp = resp_r
        self.load_result = None
        self.load_error = None
        try:
            self.load_result = self._request({"op": "load", "source": str(self.load_spec.source),
                                              "dir": str(self.load_spec.directory),
                                              "filename": self.load_spec.filename,
                                              "seed": self.load_spec.seed}, self.load_timeout)
        except WorkerFailure as failure:
            self.load_error = failure

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """Kill the worker's whole process group (and PID namespace)."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        for stream in (self._req,):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass
        if isinstance(self._resp, int):
            try:
                os.close(self._resp)
            except OSError:
                pass
        self.proc, self._req, self._resp = None, None, None

    def close(self) -> None:
        self.kill()
        if self._out is not None:
            self._out.close()
            self._out = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def output(self, limit: int | None = None) -> str:
        """The student's captured stdout/stderr, truncated."""
        limit = limit or self.limits.output_bytes
        if self.workdir is None:
            return ""
        path = self.workdir / "_output.txt"
        if not path.exists():
            return ""
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
        text = data[:limit].decode("utf-8", errors="replace")
        if len(data) > limit:
            text += f"\n[... output truncated at {limit} bytes ...]"
        return text

    def ensure(self) -> None:
        """A live, loaded worker (restarting after a hang or a crash)."""
        if not self.alive():
            if self.proc is not None:
                self.restarts += 1
                self.kill()
            self.start()
        if self.load_error is not None:
            raise self.load_error

    # -- requests --------------------------------------------------------------
    def request(self, message: dict, timeout: float) -> Any:
        self.ensure()
        return self._request(message, timeout)

    def _request(self, message: dict, timeout: float) -> Any:
        assert self._req is not None and self.proc is not None
        try:
            wire.write_frame(self._req, message)
        except (BrokenPipeError, OSError):
            raise self._died("the program ended before it could be asked anything")
        deadline = time.monotonic() + timeout
        head = self._read(4, deadline)
        (size,) = struct.unpack(">I", head)
        if size > MAX_REPLY_BYTES:
            self.kill()
            raise WorkerFailure("protocol", f"the program sent a {size}-byte answer")
        body = self._read(size, deadline)
        try:
            reply = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            self.kill()
            raise WorkerFailure("protocol", "the program wrote garbage into the grader's channel")
        if not isinstance(reply, dict) or "ok" not in reply:
            raise WorkerFailure("protocol", "the program answered with something that is not an answer")
        if not reply["ok"]:
            err = reply.get("error") or {}
            raise WorkerFailure("exception", str(err.get("message", "")), error_type=str(err.get("type", "Error")),
                                line=err.get("line"), traceback=str(err.get("traceback", "")))
        try:
            return wire.decode(reply.get("value"), np)
        except (ValueError, TypeError, KeyError) as exc:
            raise WorkerFailure("protocol", f"undecodable answer: {exc}")

    def _read(self, size: int, deadline: float) -> bytes:
        chunks: list[bytes] = []
        while size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise WorkerFailure("timeout", "did not finish within the time limit "
                                    f"and was stopped")
            ready, _, _ = select.select([self._resp], [], [], min(remaining, 1.0))
            if not ready:
                continue
            chunk = os.read(self._resp, min(size, 1 << 20))
            if not chunk:
                raise self._died("the program stopped")
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def _died(self, what: str) -> WorkerFailure:
        code = self.proc.wait(timeout=10) if self.proc is not None else None
        self.kill()
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = str(-code)
            detail = f"{what}: killed by {name}"
            if name in ("SIGKILL", "SIGSEGV") :
                detail += " (often: it used more memory than allowed, or it killed itself)"
            if name == "SIGXCPU":
                detail += " (it used more CPU time than allowed)"
        else:
            detail = f"{what} (exit status {code}; e.g. sys.exit/os._exit in your code)"
        return WorkerFailure("crash", detail)
