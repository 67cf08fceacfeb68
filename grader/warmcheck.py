"""The warm check process: `nngrade check` handed to a process that has
already imported the grader.

Why: a student runs `nngrade check` again and again, and most of what a
cold run costs is the same every time -- the interpreter, NumPy, pydantic,
rich and the grader's own modules (~0.35 s), and the sandbox's zygote
importing NumPy.  After a check, one *spare* process is left behind that
has done all of that and waits, on a unix socket only its user can reach,
for the next check.  The next `nngrade check` (the `grader.entry` client,
which imports nothing heavy) hands it its arguments, working folder,
environment and its own stdin/stdout/stderr (as file descriptors): the spare
runs the very same `grader.cli.main`, writes straight to the student's
terminal, reports the exit code, starts its successor and ends.  Each spare
serves exactly one check, so nothing of one run leaks into the next; a
spare nobody asks for ends after `IDLE_SECONDS`.

What a spare may differ in is pinned by its *key*: the interpreter, the
user, the grader's source files (names, sizes, modification times), the
site-packages folders' modification times (an installed or upgraded
package adds and removes entries there), and
every environment variable read before a request arrives (``NNGRADE_*``,
``PATH``, locale and Python I/O settings).  A client only talks to the spare
of its own key, so an upgraded grader or another setting never meets a stale
process.  Everything goes wrong quietly: no spare, a stale one, an unsafe
folder, a spare that dies before accepting -- the client runs the check
itself, exactly as before.

Linux only (peer credentials, descriptor passing as used here); off with
``NNGRADE_WARM_CHECK=0``, and by default in CI jobs (``CI`` set).  The socket folder is ``$XDG_RUNTIME_DIR/nngrade``
(or ``/tmp/nngrade-<uid>``), used only when it is the user's own, mode 0700,
not a link.
"""

from __future__ import annotations

import array
import hashlib
import json
import os
import socket
import stat
import struct
import sys
from pathlib import Path
from typing import Any, Sequence

ENABLE_ENV = "NNGRADE_WARM_CHECK"
IDLE_ENV = "NNGRADE_WARM_CHECK_IDLE"
IDLE_SECONDS = 900.0
#: environment variables a spare reads before any request (at start-up and import time)
KEYED_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "PYTHONIOENCODING", "PYTHONUTF8", "PYTHONHASHSEED",
             "PYTHONPATH", "XDG_RUNTIME_DIR", "TMPDIR", "HOME")
PACKAGE = Path(__file__).resolve().parent
MAX_MESSAGE = 1 << 20
SOCKET_DIR_BYTES = 60   # sun_path holds 107 bytes: the folder, "/", and the staging name ".c-<key>.s.<pid>"
ACCEPT_SECONDS = 5.0     # a spare that does not take a client in this time is not used


def enabled() -> bool:
    """On Linux, unless ``NNGRADE_WARM_CHECK=0``; left unset, off in a CI job
    (``CI`` set, as CI services do): a pipeline's check should leave no
    process behind."""
    if not sys.platform.startswith("linux"):
        return False
    setting = os.environ.get(ENABLE_ENV, "").strip()
    if setting:
        return setting != "0"
    return os.environ.get("CI", "").strip().lower() in ("", "0", "false")


def fingerprint(environ: "dict[str, str] | os._Environ[str]" = os.environ) -> str:
    """The key a spare and its client must share (see the module docstring)."""
    digest = hashlib.sha256()
    digest.update(f"{sys.executable}\0{sys.version}\0{os.getuid()}\0".encode())
    for name in sorted(environ):
        if (name.startswith("NNGRADE_") and not name.startswith(ENABLE_ENV)) or name in KEYED_ENV:
            digest.update(f"{name}={environ[name]}\0".encode("utf-8", "surrogateescape"))
    for folder in _site_folders():   # an install or upgrade there (NumPy, say) changes the folder's entries
        try:
            digest.update(f"{folder}\0{os.stat(folder).st_mtime_ns}\0".encode("utf-8", "surrogateescape"))
        except OSError:
            pass
    for base, dirs, files in os.walk(PACKAGE):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith((".py", ".yaml")):
                info = os.stat(os.path.join(base, name))
                digest.update(f"{base}/{name}\0{info.st_size}\0{info.st_mtime_ns}\0".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:24]


def _site_folders() -> list[str]:
    """The interpreter's site-packages folders (a spare has imported NumPy
    and worked out the sandbox's allow-list from them)."""
    import site

    folders = list(getattr(site, "getsitepackages", lambda: [])())
    if site.ENABLE_USER_SITE:
        folders.append(site.getusersitepackages())
    return sorted(set(folders))


def folder() -> Path | None:
    """The user's private socket folder (created 0700), or None when it is
    not safely the user's own."""
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    path = Path(runtime) / "nngrade"
    if not runtime.startswith("/") or len(os.fsencode(path)) > SOCKET_DIR_BYTES:   # a unix socket's path is short
        path = Path("/tmp") / f"nngrade-{os.getuid()}"
    try:
        path.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) != 0o700:
        return None
    return path


def _paths(key: str) -> tuple[Path, Path] | None:
    base = folder()
    return None if base is None else (base / f"c-{key}.s", base / f"c-{key}.lock")


# -- the client (grader.entry: stdlib only) -------------------------------------------

def _send(conn: socket.socket, payload: dict, fds: Sequence[int] = ()) -> None:
    data = json.dumps(payload).encode("utf-8", "surrogateescape")
    message = struct.pack(">I", len(data)) + data
    if fds:
        conn.sendmsg([message], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
    else:
        conn.sendall(message)


def _receive(conn: socket.socket, fds: int = 0) -> tuple[dict | None, list[int]]:
    """One message (None at end of file) and the descriptors that came with it."""
    size = struct.calcsize(">I")
    got = array.array("i")
    buffer = b""
    while len(buffer) < size:
        data, ancdata, _, _ = conn.recvmsg(size - len(buffer), socket.CMSG_SPACE(max(fds, 1) * got.itemsize))
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                got.frombytes(payload[:len(payload) - len(payload) % got.itemsize])
        if not data:
            return None, list(got)
        buffer += data
    (length,) = struct.unpack(">I", buffer)
    if length > MAX_MESSAGE:
        return None, list(got)
    body = b""
    while len(body) < length:
        chunk = conn.recv(length - len(body))
        if not chunk:
            return None, list(got)
        body += chunk
    try:
        message = json.loads(body.decode("utf-8", "surrogateescape"))
    except ValueError:
        return None, list(got)
    return (message if isinstance(message, dict) else None), list(got)


def _peer_uid(conn: socket.socket) -> int:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]


def hand_over(argv: Sequence[str]) -> int | None:
    """Run `nngrade <argv>` in this user's spare: its exit code, or None when
    there is no usable spare (then the caller runs the check itself)."""
    if not enabled():
        return None
    paths = _paths(fingerprint())
    if paths is None or not paths[0].exists():
        return None
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.settimeout(ACCEPT_SECONDS)
        conn.connect(str(paths[0]))
        if _peer_uid(conn) != os.getuid():
            return None
        _send(conn, {"argv": list(argv), "cwd": os.getcwd(), "env": dict(os.environ),
                     "umask": _umask()}, fds=(0, 1, 2))
        accepted, _ = _receive(conn)
        if not accepted or accepted.get("accepted") is not True:
            return None
        conn.settimeout(None)
        return _await_exit(conn, int(accepted.get("pid", 0)))
    except OSError:
        return None
    finally:
        conn.close()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _await_exit(conn: socket.socket, pid: int) -> int:
    """Wait for the spare's exit code; Ctrl-C here interrupts the check there."""
    import signal

    def forward(signum: int, _frame: Any) -> None:
        if pid > 0:
            try:
                os.kill(pid, signum)
            except OSError:
                pass

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        while True:
            try:
                done, _ = _receive(conn)
                break
            except InterruptedError:
                continue
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if done is None or not isinstance(done.get("exit"), int):
        print("error: the warm check process ended before the check did; run the check again "
              f"(or turn the warm process off with {ENABLE_ENV}=0)", file=sys.stderr)
        return 1
    return int(done["exit"])


def leave_spare() -> None:
    """Start a spare for this user and key, in the background, unless one
    is there or starting (it holds the lock)."""
    if not enabled():
        return
    key = fingerprint()
    paths = _paths(key)
    if paths is None or _locked(paths[1]):
        return
    import subprocess

    try:
        subprocess.Popen([sys.executable, "-m", "grader.warmcheck", key], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/", start_new_session=True,
                         close_fds=True, env=dict(os.environ))
    except OSError:
        pass


def _locked(lock: Path) -> bool:
    """Whether a spare holds `lock` now (tried and released at once)."""
    fd = _take(lock)
    if fd is None:
        return True
    os.close(fd)
    return False


def _take(lock: Path) -> int | None:
    """`lock` held (its descriptor: held until closed), or None when a spare
    holds it already or it cannot be opened (then nothing is started)."""
    import fcntl

    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


# -- the spare ----------------------------------------------------------------------------

def serve(key: str) -> int:
    """The spare's life: take the lock, import and warm everything, listen;
    serve one check (or none, after the idle time), start the successor."""
    if not enabled() or key != fingerprint():
        return 0   # started for another key (the files changed meanwhile): a new client starts the right one
    paths = _paths(key)
    if paths is None:
        return 0
    sock_path, lock_path = paths
    lock = _take(lock_path)
    if lock is None:
        return 0   # another spare of this key is alive or starting
    os.ftruncate(lock, 0)
    os.write(lock, f"{os.getpid()}\n".encode())   # who holds it (to stop it by hand, or in tests)
    warm_up()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    staging = sock_path.with_name(f".{sock_path.name}{os.getpid()}")
    try:
        staging.unlink(missing_ok=True)
        listener.bind(str(staging))
        listener.listen(4)
        os.replace(staging, sock_path)   # clients see the socket only once everything is warm
    except OSError:
        return 0
    conn = _accept(listener, float(os.environ.get(IDLE_ENV, IDLE_SECONDS)))
    sock_path.unlink(missing_ok=True)   # one check per spare: later clients find no socket (or the successor's)
    listener.close()
    os.close(lock)   # the successor may take it now
    if conn is None:
        return 0
    code = _serve_one(conn)
    leave_spare()
    return code


def warm_up() -> None:
    """Everything a check imports, the bundled rubrics' checks, the zygote,
    and what the first worker start of a process works out once: the
    isolation level (its probe starts a worker) and the default allow-list
    plan (package metadata).  All of it is what a cold check would compute
    the same way (the key pins what they read)."""
    from . import cli, engine  # noqa: F401 -- imported for the next check
    from .checks import REGISTRY
    from .sandbox.limits import allowlist_plan, isolation
    from .sandbox.zygote import prestart, zygote

    for name in list(REGISTRY):
        REGISTRY[name]   # imports every registered check module
    prestart()
    z = zygote()
    if z is not None:
        try:
            z.wait_ready()
        except Exception:   # noqa: BLE001 -- a broken zygote only costs speed (the exec path)
            pass
    if isolation().root:
        allowlist_plan()


def _accept(listener: socket.socket, idle: float) -> socket.socket | None:
    """The first client of this user (others are turned away), or None after `idle` seconds."""
    import time

    deadline = time.monotonic() + idle
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        listener.settimeout(left)
        try:
            conn, _ = listener.accept()
        except (socket.timeout, InterruptedError):
            continue
        except OSError:
            return None
        if _peer_uid(conn) == os.getuid():
            return conn
        conn.close()


def _serve_one(conn: socket.socket) -> int:
    """Become the client's `nngrade` process for one command, then report its exit code."""
    conn.settimeout(ACCEPT_SECONDS)
    try:
        request, fds = _receive(conn, fds=3)
    except OSError:
        return 0
    argv = request.get("argv") if request else None
    if (request is None or len(fds) != 3 or not isinstance(argv, list) or argv[:1] != ["check"]
            or not all(isinstance(a, str) for a in argv) or not isinstance(request.get("env"), dict)):
        for fd in fds:
            os.close(fd)
        return 0
    conn.settimeout(None)
    try:
        os.chdir(str(request.get("cwd", "/")))
    except OSError:
        _send(conn, {"accepted": False})
        return 0
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in request["env"].items()})
    os.umask(int(request.get("umask", 0o022)) & 0o777)
    _adopt_stdio(fds)
    _send(conn, {"accepted": True, "pid": os.getpid()})
    code = _run(argv)
    _release_stdio()   # before the exit code: a pipe reading the check ends when the check does
    try:
        _send(conn, {"exit": code})
    except OSError:
        pass
    conn.close()
    return code


def _adopt_stdio(fds: list[int]) -> None:
    """The client's stdin, stdout and stderr become this process's, with
    the buffering a fresh interpreter would give them."""
    import io

    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    unbuffered = bool(os.environ.get("PYTHONUNBUFFERED"))
    for name, fd, errors in (("stdout", 1, None), ("stderr", 2, "backslashreplace")):
        old = getattr(sys, name)
        stream = io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), encoding=old.encoding,
                                  errors=errors or old.errors, line_buffering=os.isatty(fd) or name == "stderr",
                                  write_through=unbuffered)
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)
    sys.stdin = sys.__stdin__ = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding=sys.stdin.encoding,
                                                 errors=sys.stdin.errors)


def _release_stdio() -> None:
    """Point stdin, stdout and stderr at /dev/null: this process's copies of
    the client's descriptors would otherwise keep a reader of its output
    waiting until this process (and its teardown) ends."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


def _run(argv: list[str]) -> int:
    """`grader.cli.main(argv)` as the `nngrade` program runs it."""
    from .cli import main

    try:
        code = main(argv)
    except SystemExit as exc:   # argparse: --help, bad arguments
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except KeyboardInterrupt:
        code = 130
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:
            pass
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(serve(sys.argv[1] if len(sys.argv) > 1 else ""))
