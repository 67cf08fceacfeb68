"""The grader's handle on one sandboxed worker.

`WorkerClient` stages the submission and the worker script in a scratch
folder, starts the worker through the launcher (namespaces, uid, rlimits:
see `limits`), sends requests with a deadline each, and turns every way a
student process can misbehave (raise, hang, exit, die, flood its output,
scribble on the grader's channel) into a `WorkerFailure` the checks report.
A request's limit is a `Budget` of CPU seconds, counted over all the
worker's processes by a `CpuClock` (so it does not depend on the machine's
load), with a wall-clock backstop (`WorkerLimits.wall_factor` times the CPU
limit) for code that waits instead of computing.
After a hang, a death or a protocol violation the next request starts a
fresh worker and replays the load, so one bad method spoils only the
criteria that call it.
At the ``plain-subprocess`` level (macOS, Windows; `limits.PLAIN`) the
worker is a plain child process (`_start_plain`), its channel two passed
pipes (POSIX) or its own stdin/stdout (Windows; `worker_channel`), waited
on by select() or, where select() cannot wait on pipes, by `ThreadedPipes`:
everything below holds the same for every channel.

No reply can hurt the grader (the student's code can take the worker over
entirely and write anything into the reply pipe):

* every request carries an id that the reply must echo (a stray or stale
  frame is a protocol failure, never the answer to a later request);
* a reply may be only as large as the request can legitimately return
  (`reply_bytes`, computed by the caller from the shapes involved, e.g.
  `reply_allowance`; `DEFAULT_REPLY_BYTES` for small operations), and it is
  decoded under a limit of JSON containers and elements and of nesting depth
  (`guarded_loads`), so no payload inflates in the grader's memory;
* requests are written without blocking, under the same deadline as the
  reply (a worker that stops reading cannot hang the grader in write());
* every string from the worker and the student's output pass
  `grader.textsafe.clean` (capped, lone surrogates replaced, control and
  escape characters removed) before they reach a result.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..textsafe import clean, clean_tree
from . import worker as wire
from .cpuclock import NONE as NO_CPU_CLOCK
from .cpuclock import CpuClock, backend, new_clock
from .limits import (INNER_DIR, UidLease, WorkerLimits, inner_dir, isolation, isolation_level, launch_command,
                     launcher_input, plain_command, scrubbed_environment)
from .zygote import ZygoteUnavailable, zygote

WORKER_SOURCE = Path(wire.__file__)
WORKER_NAME = "_nngrade_worker.py"
SUBMISSION_DIR = "submission"
MAX_REPLY_BYTES = 512 * 1024 * 1024   # never more, whatever a caller allows
DEFAULT_REPLY_BYTES = 1024 * 1024     # a small operation's answer (a handle, names, a scalar, None)
#: wire bytes per scalar of an array in an answer: float64, base64-encoded
WIRE_BYTES_PER_SCALAR = 8 * 4 / 3
#: wire bytes allowed per array, snapshot or entry besides its data (keys, dtype, shape, a repr)
WIRE_BYTES_PER_ITEM = 16 * 1024
#: JSON containers plus elements a reply may hold (arrays travel as one string each), and more
#: for larger allowances; a list of empty lists costs ~64 bytes of grader memory per 3 wire bytes
MIN_REPLY_ELEMENTS = 100_000
WIRE_BYTES_PER_ELEMENT = 256
MAX_REPLY_DEPTH = 48                  # the worker's encoding nests at most ~20 deep
MESSAGE_CHARS = 300                   # an exception message from the worker
TRACEBACK_CHARS = 2000
NAME_CHARS = 100                      # an exception's type name
EFBIG_TEXT = "[Errno 27]"
POLL_SECONDS = 0.05  # how often a running request's CPU time is read
RUN_HERE = os.environ.get("NNGRADE_WORKER_EXEC", "") != "1"  # the launcher runs the worker in its own process
#: How a plain-subprocess worker's channel is obtained (`worker_channel`):
#: descriptors passed to it (POSIX), or its stdin/stdout (Windows), waited
#: on with select() (POSIX) or with a helper thread (Windows, `ThreadedPipes`).
FDS, STDIO, STDIO_THREADS = "fds", "stdio", "stdio-threads"

__all__ = ["Budget", "DEFAULT_REPLY_BYTES", "LoadSpec", "ReplyTooComplex", "WorkerClient", "WorkerFailure",
           "WorkerLimits", "guarded_loads", "isolation_level", "reply_allowance", "scrubbed_environment"]


class WorkerFailure(Exception):
    """The student's code failed to give an observation.

    kind: 'exception' (raised), 'timeout' (hung), 'crash' (the process died or
    exited), 'protocol' (sent something that is not an answer)."""

    def __init__(self, kind: str, message: str, *, error_type: str = "",
                 line: int | None = None, traceback: str = "", cause: str = "",
                 budget: "Budget | None" = None, subject: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.error_type = error_type
        self.line = line
        self.traceback = traceback
        self.cause = cause      # for a timeout: "cpu" (its CPU budget) or "wall" (the backstop)
        self.budget = budget    # for a timeout: the budget it ran out of
        self.subject = subject  # for a timeout: what ran out of time, e.g. "back_propagate()"

    def describe(self) -> str:
        where = f" (line {self.line})" if self.line else ""
        if self.kind == "exception":
            return f"{self.error_type}{where}: {self.message}"
        return self.message


def seconds_text(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class Budget:
    """How long one request may run: `cpu` seconds of CPU time (all the
    worker's processes) and `wall` seconds of wall-clock time (the backstop
    for code that sleeps or waits).  `cpu_limit`, `wall_limit` and `scope`
    only word the time-out message, which must not depend on measured
    times: e.g. `cpu` is what is left of a criterion's budget, `cpu_limit`
    the criterion's configured limit."""

    cpu: float
    wall: float
    cpu_limit: float
    wall_limit: float
    scope: str = "the time limit"

    @classmethod
    def of(cls, seconds: float, wall_factor: float, scope: str = "the time limit") -> "Budget":
        return cls(seconds, seconds * wall_factor, seconds, seconds * wall_factor, scope)

    def wall_only_message(self) -> str:
        """Where there is no CPU clock (`cpuclock.NoCpuClock`): the limit was
        enforced in wall-clock seconds."""
        return (f"ran past {self.scope} of {seconds_text(self.wall_limit)} s and was stopped (measured in "
                "wall-clock time: this system gives the check no CPU clock)")

    def cpu_message(self) -> str:
        return f"ran past {self.scope} of {seconds_text(self.cpu_limit)} s of CPU time and was stopped"

    def wall_message(self) -> str:
        factor = self.wall_limit / self.cpu_limit if self.cpu_limit else 0
        return (f"was still running after {seconds_text(self.wall_limit)} s of wall-clock time "
                f"({seconds_text(round(factor, 3))} times {self.scope} of {seconds_text(self.cpu_limit)} s of "
                "CPU time: the backstop for code that waits, e.g. sleeps or reads input) and was stopped")


@dataclass
class LoadSpec:
    """What the worker executes: a Python source file and its folder."""

    source: Path
    directory: Path
    filename: str
    seed: int = 0
    glue: dict | None = None   # an instructor's glue module, {"name", "source"} (grader/glue.py); None: the default


@dataclass
class WorkerClient:
    """One worker process at a time for one submission."""

    load_spec: LoadSpec
    limits: WorkerLimits = field(default_factory=WorkerLimits)
    load_timeout: float = 30.0
    proc: subprocess.Popen | None = None
    workdir: Path | None = None       # the staged folder on the grader's side
    restarts: int = 0
    timeouts: int = 0                  # requests stopped for time (CPU budget or wall backstop)
    request_cpu: float = 0.0           # CPU seconds the worker used during requests (loads excluded)
    load_cpu: float = 0.0              # CPU seconds used by loads (every start), start-up included
    load_result: Any = None
    load_error: WorkerFailure | None = None
    _req: Any = None
    _resp: Any = None
    _status: Any = None
    _out: Any = None
    _io: Path | None = None            # grader-private: output files
    _inner: Path | None = None         # the staged folder as the worker sees it
    _uid: UidLease | None = None
    _source_rel: Path = Path("nn.py")  # the source file inside the staged submission folder
    _captured: bytes = b""
    _produced: int = 0                 # bytes written by the workers that have ended (full files, not just kept)
    _phase: str | None = None          # what the output being written now belongs to (a criterion id; None: outside)
    _mark: int = 0                     # where the current phase began, in the stream of every start's output
    _segments: list = field(default_factory=list)   # (start, end, phase) in that stream, in order
    _starts: int = 0
    _next_id: int = 0                  # request ids: every reply must echo its request's
    max_request_bytes: int = 0         # the largest request sent (a student may keep copies of what it got)
    _clock: CpuClock | None = None     # CPU time of the current worker's processes
    _cpu_done: float = 0.0             # CPU seconds of the workers that have ended
    _pump: "ThreadedPipes | None" = None  # the channel's waits by thread (Windows), else select()
    _plain: bool = False               # the current worker is a plain subprocess (no launcher)

    def __post_init__(self) -> None:
        # Without a CPU clock (no /proc: macOS, Windows) only the backstop
        # stops a request: it then enforces each limit in wall-clock seconds,
        # not `wall_factor` times them (a hang is stopped after its limit).
        if backend() == NO_CPU_CLOCK and self.limits.wall_factor != 1.0:
            self.limits = replace(self.limits, wall_factor=1.0)

    # -- staging ---------------------------------------------------------------
    def _stage(self) -> None:
        """Copy the worker script and the submission's folder into a fresh
        scratch folder, readable by the worker's uid."""
        self.workdir = Path(tempfile.mkdtemp(prefix="nngrade-"))
        self._io = Path(tempfile.mkdtemp(prefix="nngrade-io-"))  # 0700: the worker never sees it
        shutil.copy(WORKER_SOURCE, self.workdir / WORKER_NAME)
        spec = self.load_spec
        target = self.workdir / SUBMISSION_DIR
        directory = Path(spec.directory)
        if directory.is_dir():
            shutil.copytree(directory, target, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", ".git"))
        else:
            target.mkdir()
        source = Path(spec.source)
        try:
            relative = source.resolve().relative_to(directory.resolve())
        except ValueError:
            relative = Path(source.name)
            shutil.copy(source, target / relative)
        self._source_rel = relative
        for base, dirs, files in os.walk(self.workdir):  # readable by the worker's uid
            for name in dirs + files:
                path = os.path.join(base, name)
                if os.path.islink(path):
                    continue  # never chmod through a student's symlink: it would change the target
                mode = 0o755 if name in dirs else stat.S_IMODE(os.lstat(path).st_mode) | 0o644
                os.chmod(path, mode)
        if b"matplotlib" in (target / relative).read_bytes():
            fonts = matplotlib_cache()
            if fonts is not None:  # a prebuilt font list: importing matplotlib is ~0.3 s faster
                config = self.workdir / ".config"
                shutil.copytree(fonts, config / "matplotlib")
                for folder in (config, config / "matplotlib"):
                    os.chmod(folder, 0o1777)
        os.chmod(self.workdir, 0o1777)  # without a mount namespace the worker writes here
        self._inner = inner_dir(self.workdir)

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> None:
        if self.workdir is None:
            self._stage()
        if self.proc is not None:
            self.kill()
        level = isolation()
        if level.uid and self._uid is None:
            self._uid = UidLease.acquire()
        assert self._io is not None and self._inner is not None
        if self._starts:
            self.restarts += 1  # after a hang, a crash or a protocol failure
        self._starts += 1
        self._out = open(self._io / f"output-{self._starts}.txt", "wb")
        self._plain = level.plain
        self._clock = new_clock(self.limits, launcher=not level.plain)
        try:
            self.proc = self._start_plain() if level.plain else self._start_launched(level)
        except BaseException:
            self._stop_clock()
            raise
        self._clock.attach(self.proc.pid)
        self.load_result = None
        self.load_error = None
        inner = self._inner / SUBMISSION_DIR
        try:
            self.load_result = self._request({"op": "load", "source": str(inner / self._source_rel),
                                              "dir": str(inner),
                                              "filename": self.load_spec.filename,
                                              "seed": self.load_spec.seed, "glue": self.load_spec.glue},
                                             Budget.of(self.load_timeout, self.limits.wall_factor, "the import limit"),
                                             load=True)
        except WorkerFailure as failure:
            self.load_error = failure

    def _start_launched(self, level: Any) -> Any:
        """The worker through the launcher (or forked by the zygote), under
        `level`'s namespaces, uid and rlimits; the channel: two pipes whose
        descriptors are passed to it, and a status pipe the launcher writes."""
        assert self._inner is not None and self._clock is not None
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        status_r, status_w = os.pipe()
        argv = [sys.executable, "-I", "-B", str(self._inner / WORKER_NAME), str(req_r), str(resp_w)]
        command, cfg = launch_command(level, self.limits, argv=argv, stage=self.workdir, inner=self._inner,
                                    uid=self._uid.uid if self._uid else None, keep_fds=(req_r, resp_w),
                                    status_fd=status_w, run_here=RUN_HERE, extra=self._clock.launcher_config())
        try:
            proc = self._forked(level, cfg, status_w, (req_r, resp_w))
            if proc is None:
                config = launcher_input(cfg)  # the launcher's source and config: never on a command line
                try:
                    proc = subprocess.Popen(
                        command, stdin=config, stdout=self._out, stderr=self._out, cwd="/",
                        env=scrubbed_environment(home=self._inner), pass_fds=(req_r, resp_w, status_w),
                        close_fds=True, start_new_session=True)
                finally:
                    os.close(config)
        except BaseException:
            for fd in (req_w, resp_r, status_r):
                os.close(fd)
            raise
        finally:
            for fd in (req_r, resp_w, status_w):
                os.close(fd)
        self._req = req_w
        os.set_blocking(req_w, False)   # writes have deadlines too (`_write`)
        self._resp = resp_r
        self._status = status_r
        os.set_blocking(status_r, False)
        self._pump = None
        return proc

    def _start_plain(self) -> subprocess.Popen:
        """The worker as a plain ``python -I -B`` child (the
        ``plain-subprocess`` level: no launcher, no namespaces), in the
        staged folder, with the scrubbed environment and the rlimits it sets
        on itself; its channel per `worker_channel`."""
        assert self._inner is not None and self.workdir is not None
        channel = worker_channel()
        script = [sys.executable, "-I", "-B", str(self._inner / WORKER_NAME)]
        env = scrubbed_environment(home=self._inner)
        if channel == FDS:
            req_r, req_w = os.pipe()
            resp_r, resp_w = os.pipe()
            options = plain_popen_options(sys.platform, channel, cwd=self.workdir, env=env, output=self._out,
                                          pass_fds=(req_r, resp_w))
            try:
                proc = subprocess.Popen(plain_command([*script, str(req_r), str(resp_w)], self.limits), **options)
            except BaseException:
                os.close(req_w)
                os.close(resp_r)
                raise
            finally:
                os.close(req_r)
                os.close(resp_w)
        else:
            options = plain_popen_options(sys.platform, channel, cwd=self.workdir, env=env, output=self._out)
            proc = subprocess.Popen(plain_command([*script, "--stdio"], self.limits), **options)
            assert proc.stdin is not None and proc.stdout is not None
            req_w, resp_r = os.dup(proc.stdin.fileno()), os.dup(proc.stdout.fileno())  # plain descriptors, as above
            proc.stdin.close()
            proc.stdout.close()
            proc.stdin = proc.stdout = None
        self._req, self._resp, self._status = req_w, resp_r, None
        if channel == STDIO_THREADS:
            self._pump = ThreadedPipes(req_w, resp_r)
        else:
            self._pump = None
            os.set_blocking(req_w, False)   # writes have deadlines too (`_write`)
        return proc

    def _forked(self, level: Any, cfg: dict, status_w: int, keep: tuple[int, int]) -> Any:
        """The worker forked by this process's zygote (same isolation, NumPy
        already imported), or None: not the strongest level, no zygote here,
        or the zygote failed (then the exec path starts it)."""
        if not (level.root and RUN_HERE and self._inner == INNER_DIR):
            return None
        z = zygote()
        if z is None:
            return None
        try:
            return z.spawn({**cfg, "unshare": list(level.unshare)}, self._out.fileno(), status_w, keep)
        except ZygoteUnavailable:
            return None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """Kill the worker: its process group, and with it the init of its
        PID namespace, which takes every process the student started."""
        if self.proc is not None:
            # First the namespace's init alone: unshare reaps it only once
            # the kernel has killed and reaped every process of the
            # namespace, so waiting for unshare means nothing is left.
            init = _child_pid(self.proc.pid) if self.proc.poll() is None and not self._plain else None
            if init is not None:
                try:
                    os.kill(init, signal.SIGKILL)
                    self.proc.wait(timeout=5)
                except (OSError, subprocess.TimeoutExpired):
                    pass
            kill_group(self.proc.pid)
            try:
                self.proc.kill()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        for fd in (self._req, self._resp, self._status):
            if isinstance(fd, int):
                try:
                    os.close(fd)
                except OSError:
                    pass
        if self.proc is not None and hasattr(self.proc, "close"):
            self.proc.close()  # a zygote-forked worker's pidfd
        self.proc, self._req, self._resp, self._status, self._pump = None, None, None, None, None
        self._stop_clock()
        self._harvest()

    def _stop_clock(self) -> None:
        """Add the ended worker's CPU time to the total; release its clock
        (the cgroup backend also kills anything left in the group)."""
        if self._clock is not None:
            self._cpu_done += self._clock.close()
            self._clock = None

    def cpu_seconds(self) -> float:
        """CPU seconds used by all this client's workers so far (every start,
        including the loads), counted over all their processes."""
        return self._cpu_done + (self._clock.read() if self._clock is not None else 0.0)

    @property
    def cpu_clock(self) -> str:
        """The CPU clock's backend: 'cgroup-v1-cpuacct', 'cgroup-v2', 'proc'
        or 'none' (a plain-subprocess worker is never in a cgroup: 'proc'
        or 'none')."""
        if self._clock is not None:
            return self._clock.name
        if backend() != NO_CPU_CLOCK and isolation().plain:
            return "proc"
        return backend()

    def _harvest(self) -> None:
        """Keep the head of a finished worker's output; drop its file."""
        if self._out is None:
            return
        path = Path(self._out.name)
        self._close_segment()
        self._produced = self._mark   # the whole file counts (where later starts' bytes begin), kept or not
        self._out.close()
        self._out = None
        room = self.limits.output_bytes + 1 - len(self._captured)
        if room > 0:
            try:
                with open(path, "rb") as handle:
                    self._captured += handle.read(room)
            except OSError:
                pass
        try:
            path.unlink()
        except OSError:
            pass

    def close(self) -> None:
        self.kill()
        for folder in (self.workdir, self._io):
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
        self.workdir = self._io = None
        if self._uid is not None:
            self._uid.release()
            self._uid = None

    def __del__(self) -> None:  # pragma: no cover - safety net for forgotten clients
        try:
            if self.proc is not None:
                self.kill()
        except Exception:
            pass

    def output(self, limit: int | None = None) -> str:
        """The student's captured stdout/stderr (every start, in order),
        truncated to `limit` bytes (default: the limits' output_bytes)."""
        return "".join(text for _, text in self.output_parts(limit))

    def _raw_output(self, limit: int) -> bytes:
        """The head of every start's output (up to `limit` + 1 bytes)."""
        data = self._captured
        if self._out is not None and len(data) <= limit:
            try:
                self._out.flush()
                with open(self._out.name, "rb") as handle:
                    data += handle.read(limit + 1 - len(data))
            except OSError:
                pass
        return data

    # -- whose output is it: the output split per phase (per criterion) ------------
    def phase(self, name: str | None) -> None:
        """From now on, what the worker prints belongs to `name` (the
        criterion being observed; None: loading, or between criteria).  The
        output file's size is read at every change, so the bytes printed while
        a hidden criterion ran can be left out of what a student sees."""
        self._close_segment()
        self._phase = name

    def _close_segment(self) -> None:
        """Record [mark, now) as printed during the current phase."""
        size = 0
        if self._out is not None:
            try:
                self._out.flush()
                size = os.fstat(self._out.fileno()).st_size
            except (OSError, ValueError):
                size = 0
        end = self._produced + size
        if end > self._mark:
            if self._segments and self._segments[-1][2] == self._phase and self._segments[-1][1] == self._mark:
                self._segments[-1] = (self._segments[-1][0], end, self._phase)
            else:
                self._segments.append((self._mark, end, self._phase))
        self._mark = max(self._mark, end)

    def output_parts(self, limit: int | None = None) -> list[tuple[str | None, str]]:
        """The captured output as (phase, cleaned text) pieces, in order,
        truncated like `output()`: joined, they are `output()`.  Adjacent
        pieces of the same phase are merged; the truncation notice belongs to
        the phase of the last byte kept."""
        limit = limit or self.limits.output_bytes
        data = self._raw_output(limit)
        self._close_segment()
        kept = data[:limit]
        parts: list[tuple[str | None, bytes]] = []
        for start, end, name in self._segments:
            if start >= len(kept):
                break
            chunk = kept[start:min(end, len(kept))]
            if parts and parts[-1][0] == name:
                parts[-1] = (name, parts[-1][1] + chunk)
            else:
                parts.append((name, chunk))
        covered = sum(len(chunk) for _, chunk in parts)
        if covered < len(kept):   # never measured (cannot happen after _close_segment): the current phase
            parts.append((self._phase, kept[covered:]))
        texts = [(name, clean(chunk.decode("utf-8", errors="replace"), None)) for name, chunk in parts]
        texts = [(name, text) for name, text in texts if text]
        if len(data) > limit:
            notice = f"\n[... output truncated at {limit} bytes ...]"
            last = texts[-1][0] if texts else self._phase
            texts.append((last, notice))
        return texts

    def ensure(self) -> None:
        """A live, loaded worker (restarting after a hang or a crash)."""
        if not self.alive():
            self.start()
        if self.load_error is not None:
            raise self.load_error

    # -- requests --------------------------------------------------------------
    def request(self, message: dict, timeout: "float | Budget", *, reply_bytes: int | None = None) -> Any:
        """Send one request; `timeout` is a `Budget`, or CPU seconds (with
        the limits' wall-clock backstop).  `reply_bytes`: the largest answer
        this request can legitimately get (see `reply_allowance`); default
        `DEFAULT_REPLY_BYTES`, for small operations.  A larger answer is a
        protocol failure."""
        self.ensure()
        return self._request(message, timeout, reply_bytes=reply_bytes)

    def _request(self, message: dict, timeout: "float | Budget", load: bool = False,
                 reply_bytes: int | None = None) -> Any:
        assert self._req is not None and self.proc is not None
        budget = timeout if isinstance(timeout, Budget) else Budget.of(float(timeout), self.limits.wall_factor)
        clock = self._clock
        cpu_start = 0.0 if load or clock is None else clock.read()  # a load counts its worker's start-up
        try:
            return self._exchange(message, budget, cpu_start, reply_bytes or DEFAULT_REPLY_BYTES)
        finally:
            used = (clock.read() - cpu_start) if clock is not None else 0.0
            if load:
                self.load_cpu += used
            else:
                self.request_cpu += used

    def _exchange(self, message: dict, budget: Budget, cpu_start: float, reply_bytes: int) -> Any:
        self._next_id += 1
        ident = self._next_id
        data = json.dumps(dict(message, id=ident), separators=(",", ":")).encode("utf-8")
        self.max_request_bytes = max(self.max_request_bytes, len(data))
        limits = (cpu_start + budget.cpu, time.monotonic() + budget.wall, budget)
        self._write(struct.pack(">I", len(data)) + data, limits)
        head = self._read(4, limits)
        (size,) = struct.unpack(">I", head)
        cap = min(MAX_REPLY_BYTES, self.limits.reply_mb * 1024 * 1024, max(int(reply_bytes), 1024))
        if size > cap:
            raise self._protocol(f"the program sent a {size}-byte answer where at most {cap} bytes can be "
                                 "expected (or wrote into the grader's channel)")
        body = self._read(size, limits)
        try:
            reply = guarded_loads(body, max_elements=MIN_REPLY_ELEMENTS + cap // WIRE_BYTES_PER_ELEMENT)
        except ReplyTooComplex as exc:
            raise self._protocol(f"the program sent an answer {exc}")
        except (ValueError, RecursionError):   # UnicodeDecodeError and JSONDecodeError included
            raise self._protocol("the program wrote garbage into the grader's channel")
        del body
        if not isinstance(reply, dict) or "ok" not in reply:
            raise self._protocol("the program answered with something that is not an answer")
        if reply.get("id") != ident or type(reply.get("id")) is not int:
            raise self._protocol("the program's answer is not the answer to the grader's request (a stray or "
                                 "out-of-order frame in the grader's channel)")
        if not reply["ok"]:
            err = reply.get("error") or {}
            if not isinstance(err, dict):
                raise self._protocol("the program answered with something that is not an answer")
            error_type = clean(err.get("type", "Error"), NAME_CHARS)
            text = self._explain(error_type, clean(err.get("message", ""), MESSAGE_CHARS))
            line = err.get("line")
            line = line if type(line) is int and 0 < line < 10**7 else None
            raise WorkerFailure("exception", text, error_type=error_type, line=line,
                                traceback=clean(err.get("traceback", ""), TRACEBACK_CHARS))
        try:
            return clean_tree(wire.decode(reply.get("value"), np))
        except Exception as exc:   # refused dtypes, shapes, base64: whatever a forged answer holds
            raise self._protocol(f"undecodable answer: {clean(exc, MESSAGE_CHARS)}")

    def _explain(self, error_type: str, message: str) -> str:
        """Say which sandbox limit an exception comes from."""
        lim = self.limits
        if EFBIG_TEXT in message:
            if self._output_at_cap():
                self.kill()  # the next request gets a fresh worker and a fresh output file
                return (f"{message} -- your program printed more than the sandbox allows "
                        f"({lim.file_mb} MB of output); print less, e.g. not inside loops")
            return f"{message} -- a file your program wrote exceeds the sandbox's limit of {lim.file_mb} MB"
        if error_type == "MemoryError":
            return f"{message} (the sandbox allows {lim.memory_mb} MB of memory)".lstrip()
        if error_type == "BlockingIOError" and "[Errno 11]" in message:
            return f"{message} (the sandbox allows at most {lim.processes} processes and threads)"
        if error_type == "SystemExit":
            return (f"{message or 'None'} -- your code called sys.exit() (or exit()/quit()); a submission "
                    "must not exit: the grader imports it and calls its methods")
        if "[Errno 101]" in message or "[Errno -3]" in message or "[Errno -2]" in message:
            return f"{message} (the sandbox has no network access)"
        if error_type == "PermissionError":
            return f"{message} (the sandbox forbids this)"
        return message

    def _output_at_cap(self) -> bool:
        try:
            return self._out is not None and os.fstat(self._out.fileno()).st_size >= self.limits.file_mb * 1024 * 1024
        except OSError:
            return False

    def _deadline(self, limits: tuple[float, float, Budget], writing: bool = False) -> float:
        """How long to wait for the pipe now; past the CPU budget or the
        wall-clock backstop the worker is killed: a time-out, or (a request
        still not taken after the backstop: it stopped reading) a protocol
        failure."""
        cpu_end, wall_end, budget = limits
        wall_left = wall_end - time.monotonic()
        cpu_left = cpu_end - (self._clock.read() if self._clock is not None else 0.0)
        if cpu_left <= 0 or wall_left <= 0:
            cause = "cpu" if cpu_left <= 0 else "wall"
            clockless = self._clock is not None and self._clock.name == NO_CPU_CLOCK   # (kill() drops the clock)
            self.kill()
            if writing and cause == "wall":
                raise WorkerFailure("protocol", "the program stopped reading the grader's requests (a request was "
                                    f"still not taken after the wall-clock backstop of "
                                    f"{seconds_text(budget.wall_limit)} s)")
            self.timeouts += 1
            if cause == "cpu":
                text = budget.cpu_message()
            elif clockless:
                text = budget.wall_only_message()
            else:
                text = budget.wall_message()
            raise WorkerFailure("timeout", text, cause=cause, budget=budget)
        # poll often enough that a spinning worker overshoots its CPU budget by little
        return max(0.005, min(POLL_SECONDS, cpu_left / 2, wall_left))

    def _write(self, data: bytes, limits: tuple[float, float, Budget]) -> None:
        """Write a request into the (non-blocking) request pipe under the
        request's deadline: a worker that shrinks its pipe and stops reading
        costs its limit, never a grader stuck in write()."""
        view = memoryview(data)
        while view:
            wait = self._deadline(limits, writing=True)
            try:
                view = view[self._send(view[:1 << 20], wait):]
            except OSError:   # EPIPE: the worker closed its end
                raise self._died("the program ended before it could be asked anything")

    def _send(self, chunk: memoryview, wait: float) -> int:
        """Write what the request pipe takes within `wait` seconds (0: none)."""
        if self._pump is not None:
            return self._pump.write(chunk, wait) or 0
        _, ready, _ = select.select([], [self._req], [], wait)
        if not ready:
            return 0
        try:
            return os.write(self._req, chunk)
        except BlockingIOError:
            return 0

    def _read(self, size: int, limits: tuple[float, float, Budget]) -> bytes:
        """Read `size` bytes of the answer, polling the worker's CPU clock
        meanwhile: past the CPU budget or the wall-clock backstop, the
        worker is killed and the request is a time-out."""
        chunks: list[bytes] = []
        while size:
            wait = self._deadline(limits)
            chunk = self._receive(size, wait)
            if chunk is None:
                continue
            if not chunk:
                raise self._died("the program stopped")
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def _receive(self, size: int, wait: float) -> bytes | None:
        """At most `size` bytes of the answer pipe within `wait` seconds:
        None when nothing came yet, b"" when the worker closed it."""
        if self._pump is not None:
            try:
                return self._pump.read(min(size, 1 << 20), wait)
            except OSError:
                return b""
        ready, _, _ = select.select([self._resp], [], [], wait)
        if not ready:
            return None
        try:
            return os.read(self._resp, min(size, 1 << 20))
        except OSError:
            return b""

    def _protocol(self, message: str) -> WorkerFailure:
        """The channel can no longer be trusted: stop this worker."""
        self.kill()
        return WorkerFailure("protocol", message)

    def _exit_status(self, wait: float) -> tuple[str, int] | None:
        """('exit', code) or ('signal', number) of the worker itself (the
        launcher reports it); None while it is still running."""
        if self.proc is None:
            return None
        try:
            code = self.proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            return None
        text = b""
        if isinstance(self._status, int):
            try:
                text = os.read(self._status, 64)
            except OSError:
                text = b""
        words = text.decode("ascii", errors="replace").split()
        if words[:1] == ["setup"]:
            return "setup", 0
        try:
            kind, number = words
            return kind, int(number)
        except ValueError:
            return ("signal", -code) if code < 0 else ("exit", code)

    def _died(self, what: str) -> WorkerFailure:
        status = self._exit_status(wait=3.0)
        self.kill()
        if status is None:
            return WorkerFailure("protocol", f"{what}: it closed the grader's channel but kept running")
        kind, number = status
        if kind == "signal":
            try:
                name = signal.Signals(number).name
            except ValueError:
                name = str(number)
            detail = f"{what}: killed by {name}"
            if name == "SIGKILL":
                detail += " (often: it used more memory than allowed, or it killed itself)"
            elif name == "SIGSEGV":
                detail += " (a segmentation fault: often memory exhaustion inside a library)"
            elif name == "SIGXCPU":
                detail += f" (it used more than {self.limits.cpu_seconds} s of CPU time)"
            elif name == "SIGXFSZ":
                detail += f" (it wrote more than {self.limits.file_mb} MB to a file)"
        elif kind == "setup":
            detail = f"{what}: the sandbox could not start it (see the output)"
        else:
            detail = f"{what} (exit status {number}; e.g. sys.exit/os._exit in your code)"
        return WorkerFailure("crash", detail)


def worker_channel(platform: str | None = None) -> str:
    """How a plain-subprocess worker talks to the grader: `FDS` (two pipes
    whose descriptors it gets in argv, as under the launcher) on POSIX;
    `STDIO_THREADS` on Windows (no descriptor can be passed, and select()
    takes only sockets there).  ``NNGRADE_WORKER_CHANNEL`` = ``stdio`` or
    ``stdio-threads`` forces those on POSIX (to test them here)."""
    if (platform or sys.platform) == "win32":
        return STDIO_THREADS
    wanted = os.environ.get("NNGRADE_WORKER_CHANNEL", "").strip()
    return wanted if wanted in (STDIO, STDIO_THREADS) else FDS


def plain_popen_options(platform: str, channel: str, *, cwd: Path, env: dict[str, str], output: Any,
                        pass_fds: tuple[int, ...] = ()) -> dict[str, Any]:
    """`subprocess.Popen` keywords for a plain-subprocess worker on
    `platform`: cwd the staged folder; the student's output into `output`;
    on POSIX its own session (so `kill_group` takes everything it started)
    and the channel's descriptors passed; on Windows a new process group
    (no sessions, no descriptors to pass: the channel is stdin/stdout)."""
    stdio = channel != FDS
    options: dict[str, Any] = {"stdin": subprocess.PIPE if stdio else subprocess.DEVNULL,
                               "stdout": subprocess.PIPE if stdio else output, "stderr": output,
                               "cwd": str(cwd), "env": env, "close_fds": True}
    if platform == "win32":
        options["creationflags"] = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0x200)
    else:
        options["start_new_session"] = True
        options["pass_fds"] = tuple(pass_fds)
    return options


def kill_group(pid: int, platform: str | None = None) -> None:
    """Kill the worker's process group (POSIX: its session leader's group,
    every process the student started that did not leave it); on Windows,
    which has no groups to signal, its process tree (``taskkill /T``)."""
    if (platform or sys.platform) == "win32":
        try:
            subprocess.run(["taskkill", "/F", "/T", "/PID", str(pid)], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            pass
        return
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class ThreadedPipes:
    """The channel's waits where select() cannot wait on pipes (Windows):
    one blocking read and one blocking write at a time run in a helper
    thread, and the grader waits for each at most the deadline's `wait`
    seconds, so every deadline holds as with select().  An operation still
    running is waited for again by the next call (the client's loops retry
    with the same size or chunk) or ends when `kill()` ends the worker
    (its end of the pipe closes)."""

    def __init__(self, write_fd: int, read_fd: int) -> None:
        self.write_fd = write_fd
        self.read_fd = read_fd
        self._pending: dict[str, tuple[threading.Event, list]] = {}

    def write(self, chunk: memoryview, wait: float) -> int | None:
        """Bytes written, or None when the write is still blocked."""
        data = bytes(chunk)
        return self._run("write", lambda: os.write(self.write_fd, data), wait)

    def read(self, size: int, wait: float) -> bytes | None:
        """Up to `size` bytes (b"": closed), or None when nothing came yet."""
        return self._run("read", lambda: os.read(self.read_fd, size), wait)

    def _run(self, key: str, call: Any, wait: float) -> Any:
        job = self._pending.get(key)
        if job is None:
            done, box = threading.Event(), []

            def work() -> None:
                try:
                    box.append((True, call()))
                except OSError as exc:
                    box.append((False, exc))
                finally:
                    done.set()

            job = self._pending[key] = (done, box)
            threading.Thread(target=work, name=f"nngrade-pipe-{key}", daemon=True).start()
        if not job[0].wait(wait):
            return None
        del self._pending[key]
        ok, value = job[1][0]
        if not ok:
            raise value
        return value


class ReplyTooComplex(ValueError):
    """A reply with more JSON containers/elements or deeper nesting than allowed."""


_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def guarded_loads(body: bytes, *, max_elements: int = MIN_REPLY_ELEMENTS, max_depth: int = MAX_REPLY_DEPTH) -> Any:
    """`json.loads` of a reply, after checking (on the bytes, before any
    Python object is built) that it holds at most `max_elements` containers
    and elements and nests at most `max_depth` deep: a few megabytes of
    `[[],[],...]` would otherwise become gigabytes of lists.  Raises
    `ReplyTooComplex`, or ValueError for text that is not JSON."""
    opens = body.count(b"[") + body.count(b"{")
    if opens + body.count(b",") > max_elements or opens > max_depth:
        # brackets and commas inside strings do not count: keep only what lies between strings
        structure = _outside_strings(body, max_elements)
        opens = structure.count(b"[") + structure.count(b"{")
        if opens + structure.count(b",") > max_elements:
            raise ReplyTooComplex(f"of more than {max_elements} JSON elements (an answer that would "
                                  "inflate in the grader's memory)")
        if opens > max_depth:
            brackets = np.frombuffer(structure.translate(None, _NOT_BRACKETS), dtype=np.uint8)
            steps = np.where((brackets == ord("[")) | (brackets == ord("{")), 1, -1)
            if steps.size and int(np.cumsum(steps).max()) > max_depth:
                raise ReplyTooComplex(f"nested more than {max_depth} deep")
        del structure
    return json.loads(body.decode("utf-8"))


def _outside_strings(body: bytes, max_strings: int) -> bytes:
    """`body` without the contents of its JSON strings (found with
    bytes.find, so a long base64 string costs a memchr, not a loop);
    more than `max_strings` strings is too complex already."""
    parts, pos, count = [], 0, 0
    while True:
        start = body.find(b'"', pos)
        if start < 0:
            parts.append(body[pos:])
            return b"".join(parts)
        parts.append(body[pos:start])
        end = start + 1
        while True:
            end = body.find(b'"', end)
            if end < 0:
                raise ValueError("unterminated string")
            back = end - 1
            while body[back] == 0x5C:   # a quote escaped by an odd number of backslashes is not the end
                back -= 1
            if (end - 1 - back) % 2 == 0:
                break
            end += 1
        count += 1
        if count > max_strings:
            raise ReplyTooComplex(f"of more than {max_strings} JSON elements (an answer that would "
                                  "inflate in the grader's memory)")
        pos = end + 1


def reply_allowance(scalars: float = 0, items: int = 0) -> int:
    """The largest answer (bytes on the wire) that can legitimately hold
    `scalars` numbers in arrays spread over `items` arrays, snapshots or
    entries, plus room for a small operation's answer."""
    return int(DEFAULT_REPLY_BYTES + scalars * WIRE_BYTES_PER_SCALAR + items * WIRE_BYTES_PER_ITEM)


def _child_pid(pid: int) -> int | None:
    """The first child of `pid` (the launcher under unshare), if any."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as handle:
            children = handle.read().split()
    except OSError:
        return None
    return int(children[0]) if children else None


_MPL_CACHE: list[Path | None] = []


def matplotlib_cache() -> Path | None:
    """A folder holding matplotlib's font list, built once per grader
    process (in a plain subprocess: no student code involved), or None when
    matplotlib is not installed."""
    if not _MPL_CACHE:
        folder = Path(tempfile.mkdtemp(prefix="nngrade-mpl-"))
        os.chmod(folder, 0o755)
        try:
            subprocess.run([sys.executable, "-I", "-c", "import matplotlib.font_manager"], timeout=120,
                           env={**scrubbed_environment(), "MPLCONFIGDIR": str(folder)},
                           stdin=subprocess.DEVNULL, capture_output=True)
        except (OSError, subprocess.SubprocessError):
            pass
        built = [p for p in folder.glob("fontlist-*.json")]
        for path in built:
            os.chmod(path, 0o644)
        _MPL_CACHE.append(folder if built else None)
        atexit.register(shutil.rmtree, folder, True)
    return _MPL_CACHE[0]
