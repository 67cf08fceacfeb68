"""The grader's side of the zygote: a NumPy-preloaded process that
forks sandboxed workers (see the zygote part of ``launcher.py``).

Why: a worker started as a fresh interpreter spends ~100-200 ms importing
NumPy before it answers anything, a large share of a fast submission's
grade.  One zygote per grader process pays that once; every worker start
after it is a fork into fresh namespaces with the same allow-list root,
cgroups, uid and rlimits as the exec path (the zygote receives exactly the
launcher config `launch_command` builds).  The isolation levels with an
allow-list root use it: the strongest (root: a uid per
worker, cgroups) and the user-namespace one (anyone: the zygote's children
enter a new user namespace as `unshare --user --map-root-user` would);
the other levels, and any failure of the zygote, fall back to starting the
launcher as a program, so a broken zygote costs speed, never a grade.

``NNGRADE_ZYGOTE=0`` turns it off (e.g. to measure the exec path).
"""

from __future__ import annotations

import array
import atexit
import marshal
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from .limits import BOOT, INNER_DIR, LEVELS, launcher_input, scrubbed_environment

WORKER = Path(__file__).resolve().with_name("worker.py")
#: the worker's path inside its root (the client stages it there under this name)
WORKER_PATH = str(INNER_DIR / "_nngrade_worker.py")
#: what every worker imports anyway (the load seeds `random` and `numpy.random`; digests use hashlib)
PRELOAD = ("numpy", "numpy.random", "random", "hashlib")
READY_SECONDS = 120.0      # the zygote's own start (importing NumPy) on a saturated machine
REPLY_SECONDS = 60.0       # one fork


class ZygoteUnavailable(RuntimeError):
    """The zygote cannot start a worker now; the caller uses the exec path."""


#: the levels whose workers a zygote forks: the allow-list roots, with a
#: per-worker uid (root) or through a user namespace (anyone)
FORKED_LEVELS = tuple(level.name for level in LEVELS if level.root)


def enabled() -> bool:
    """Whether this process may use a zygote: Linux, pidfd support, not
    turned off, and an allow-list level possible (root: the strongest level,
    or the user-namespace one when named; anyone else: the user-namespace
    level, whose namespaces an unprivileged zygote's children create like
    `unshare --user` does) -- not one capped away by ``NNGRADE_ISOLATION``
    (a lower level, or the plain subprocess: starting a zygote would be
    wasted work).  If the level probe then picks a level without an
    allow-list root, the zygote is simply never asked."""
    wanted = os.environ.get("NNGRADE_ISOLATION", "auto").strip() or "auto"
    return (sys.platform.startswith("linux") and hasattr(os, "pidfd_open")
            and os.environ.get("NNGRADE_ZYGOTE", "1").strip() != "0"
            and (wanted == "auto" or wanted in FORKED_LEVELS))


class ZygoteProcess:
    """A started worker as the client sees it: the subset of
    `subprocess.Popen` the client uses (`pid`, `poll`, `wait`, `kill`),
    through a pidfd, since the zygote, not the grader, is its parent.  Its
    exit status is not the grader's to collect: the launcher reports the
    worker's on the status descriptor; when nothing is known, -9 (killed)."""

    def __init__(self, pid: int, pidfd: int) -> None:
        self.pid = pid
        self._pidfd: int | None = pidfd
        self.returncode: int | None = None

    def _ended(self, timeout: float) -> bool:
        if self._pidfd is None:
            return True
        ready, _, _ = select.select([self._pidfd], [], [], max(0.0, timeout))
        return bool(ready)

    def poll(self) -> int | None:
        if self.returncode is None and self._ended(0):
            self._finish()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            deadline = None if timeout is None else time.monotonic() + timeout
            while not self._ended(1.0 if deadline is None else min(1.0, deadline - time.monotonic())):
                if deadline is not None and time.monotonic() >= deadline:
                    raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout or 0)
            self._finish()
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        if self._pidfd is not None and self.returncode is None:
            try:
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            except (ProcessLookupError, OSError):
                pass

    def _finish(self) -> None:
        self.returncode = -9
        self.close()

    def close(self) -> None:
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None

    def __del__(self) -> None:  # pragma: no cover - the client closes it
        try:
            self.close()
        except OSError:
            pass


class Zygote:
    """One zygote process and the socket to it; thread-safe, one request at
    a time (a fork takes milliseconds)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._sock: socket.socket | None = None
        self._ready = False
        self._templates: str | None = None
        self.broken: str | None = None
        self.pid_owner = os.getpid()

    def start(self) -> None:
        """Start the zygote process (it imports NumPy in the background;
        `spawn` waits for it)."""
        with self._lock:
            self._start_locked()

    def _start_locked(self) -> None:
        if self._proc is not None or self.broken:
            return
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._templates = tempfile.mkdtemp(prefix="nngrade-zygote-")  # 0700, root's: mount points only
        cfg = {"zygote": {"socket": theirs.fileno(), "preload": list(PRELOAD), "templates": self._templates,
                          "worker_source": WORKER.read_bytes(), "worker_path": WORKER_PATH}}
        config = launcher_input(cfg)
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", "-S", "-B", "-c", BOOT], stdin=config, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, cwd="/", env=scrubbed_environment(home=INNER_DIR),
                pass_fds=(theirs.fileno(),), close_fds=True, start_new_session=True)
        except OSError as exc:
            self.broken = f"cannot start: {exc}"
            ours.close()
            return
        finally:
            os.close(config)
            theirs.close()
        self._sock = ours
        atexit.register(self.close)
        if "multiprocessing" in sys.modules:  # a pool process ends with os._exit: atexit never runs there
            from multiprocessing import util

            util.Finalize(self, Zygote.close, args=(self,), exitpriority=10)

    def wait_ready(self) -> None:
        """Start the zygote if needed and wait until it has imported NumPy
        (a warm check process does this before it takes a client)."""
        with self._lock:
            self._ready_locked()

    def _ready_locked(self) -> None:
        """Started and done importing NumPy, or ZygoteUnavailable (the lock held)."""
        self._start_locked()
        if self.broken or self._sock is None:
            raise ZygoteUnavailable(self.broken or "not started")
        if not self._ready:
            self._await_ready()

    def _await_ready(self) -> None:
        assert self._sock is not None
        ready, _, _ = select.select([self._sock], [], [], READY_SECONDS)
        reply = self._sock.recv(64) if ready else b""
        if reply != b"ready":
            self._fail("it did not start" if ready else "it did not start in time")
        self._ready = True

    def spawn(self, cfg: dict[str, Any], out_fd: int, status_fd: int, keep_fds: tuple[int, ...]) -> ZygoteProcess:
        """Start one worker from the launcher config `cfg` (as
        `launch_command` builds it, plus ``unshare``: the level's flags);
        the descriptors are sent, the caller still closes its copies."""
        with self._lock:
            if os.getpid() != self.pid_owner:
                raise ZygoteUnavailable("a forked copy of the grader process")
            self._ready_locked()
            fds = array.array("i", [out_fd, status_fd, *keep_fds])
            try:
                self._sock.sendmsg([marshal.dumps(cfg)], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
                ready, _, _ = select.select([self._sock], [], [], REPLY_SECONDS)
                if not ready:
                    self._fail("no answer")
                data, ancdata, _, _ = self._sock.recvmsg(256, socket.CMSG_SPACE(fds.itemsize))
            except OSError as exc:
                self._fail(f"the socket failed: {exc}")
            pidfd = None
            for level, kind, payload in ancdata:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS and len(payload) >= fds.itemsize:
                    pidfd = array.array("i", payload[:fds.itemsize])[0]
            if pidfd is None or not data.isdigit():
                if pidfd is not None:
                    os.close(pidfd)
                if data.startswith(b"error "):  # one request failed (e.g. fork): the zygote lives on
                    raise ZygoteUnavailable(data.decode("utf-8", "replace"))
                self._fail(f"an unexpected answer {data[:60]!r}")
            return ZygoteProcess(int(data), pidfd)

    def _fail(self, why: str) -> None:
        self.broken = why
        self._close_locked()
        raise ZygoteUnavailable(why)

    def close(self) -> None:
        """Stop the zygote -- only from the process that started it: a
        forked copy of the grader running its exit handlers must not end
        (or remove the templates of) its parent's zygote."""
        if os.getpid() != self.pid_owner:
            return
        with self._lock:
            self._close_locked()

    def _close_locked(self) -> None:
        if self._sock is not None:
            self._sock.close()  # end of file: the zygote exits
            self._sock = None
        if self._proc is not None:
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None
        if self._templates is not None:
            shutil.rmtree(self._templates, ignore_errors=True)
            self._templates = None
        self._ready = False


_ZYGOTE: list[Zygote] = []
_GUARD = threading.Lock()


def zygote() -> Zygote | None:
    """This process's zygote (started on first use), or None when it may
    not have one."""
    if not enabled():
        return None
    with _GUARD:
        if not _ZYGOTE or _ZYGOTE[0].pid_owner != os.getpid():
            _ZYGOTE[:] = [Zygote()]
        return _ZYGOTE[0]


def prestart() -> None:
    """Start the zygote now, so that it imports NumPy while the grader
    imports its own modules (`nngrade check` calls this first thing)."""
    z = zygote()
    if z is not None:
        z.start()


__all__ = ["Zygote", "ZygoteProcess", "ZygoteUnavailable", "enabled", "prestart", "zygote"]
