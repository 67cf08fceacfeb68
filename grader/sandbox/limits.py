"""Resource limits and isolation for a worker process.

Every worker is started by `launcher.py` (standalone), configured by
`launch_command`.  The strongest isolation level this machine allows is
chosen once per grader process (`isolation`), by actually starting a probe
through each level in turn, and reported in every result document
(`isolation_level`, which inserts ``+cgroup(memory,pids,cpu)`` when the
submission's processes are also limited together by cgroups, see
``cpuclock.py``):

``namespaces(net,pid,mount,ipc,uts,cgroup)+allowlist-root+uid+rlimits``
    root and util-linux ``unshare``: all of the next level, plus IPC, UTS
    and cgroup namespaces, and instead of hiding a deny-list, a root built
    from an allow-list (`allowlist_plan`): the interpreter, the standard
    library, the C library's folder and the allowed packages, read-only;
    nothing else of the disk exists for the worker.  Its configuration
    reaches the launcher on stdin (`launcher_input`), never in argv.
``namespaces(net,pid,mount)+uid+rlimits``
    (the fallback when the allow-list root cannot be built) root and
    util-linux ``unshare``: no network (an empty network namespace,
    so connecting anywhere fails at once), its own PID namespace (killing
    its init kills every process the student started), its own mount
    namespace (a private size-limited ``/tmp``, ``/dev/shm`` and
    ``/var/tmp``; the grader's source tree, the reference solution, rubrics,
    submissions and the grader's working folder covered by empty tmpfs, only
    the interpreter's folders bound back read-only), and a distinct
    unprivileged uid per worker (60000+), so ``RLIMIT_NPROC`` binds and
    nothing of the grader's is writable.
``namespaces(user,net,pid,mount,ipc,uts,cgroup)+allowlist-root+rlimits``
    without root, through an unprivileged user namespace: the same
    allow-list root, namespaces and rlimits as the first level (the
    student's process keeps the grader's uid outside the namespace, with no
    capability there; no per-worker uid and no cgroups, which need root).
``namespaces(user,net,pid,mount)+rlimits``
    the deny-list fallback of that level, where the allow-list root cannot
    be built (e.g. no pivot_root in a user namespace).
``namespaces(net,pid)+uid+rlimits``, ``uid+rlimits``, ``rlimits``
    fallbacks when mounts, or ``unshare`` itself, are not available.

``plain-subprocess`` (``plain-subprocess+rlimits`` where the ``resource``
module exists)
    not a sandbox: the worker is a plain ``python -I -B`` child process
    (`plain_command`, no launcher, no namespaces, no zygote, the grader's
    own uid), with the scrubbed environment, the staged folder as its
    working directory, its own session (POSIX) and the rlimits the worker
    sets on itself before any student code runs (`plain_rlimits`; none on
    Windows).  The level of every platform but Linux, where the kit's
    student runs their own code on their own machine; never probed.  On
    Linux only when asked for (``NNGRADE_ISOLATION=plain-subprocess``, e.g.
    to test it).

``NNGRADE_ISOLATION`` (one of the level names above, or ``auto``) caps the
level, e.g. to test a fallback.  ``NNGRADE_SANDBOX_HIDE`` adds
``os.pathsep``-separated folders to hide from workers (e.g. a folder of
solutions outside the grader's tree); so does `hide` (for a batch's input
and output folders).  Without a mount namespace nothing can be hidden: the
worker then reads whatever its uid may read.
"""

from __future__ import annotations

import errno
import importlib.util
import json
import marshal
import os
import random
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

LAUNCHER = Path(__file__).resolve().with_name("launcher.py")
UID_BASE = 60000
UID_COUNT = 5000  # 60000 .. 64999 (65534 is nobody)
SYSTEM_DIRS = ("/", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt", "/var",
               "/dev", "/proc", "/sys", "/run", "/home", "/srv", "/mnt", "/media", "/snap", "/nix", "/gnu",
               "/boot", "/tmp")


@dataclass(frozen=True)
class WorkerLimits:
    """What one worker process (and one submission) may use.

    Covers every field of the rubric's ``limits`` (`from_rubric`); the
    time limits are enforced by the client and the engine, the rest by
    rlimits on the worker process.  The time limits (criterion, submission,
    load) count CPU seconds of all the submission's processes (`cpuclock`),
    with a wall-clock backstop of `wall_factor` times each (for code that
    waits instead of computing)."""

    memory_mb: int = 2048          # RLIMIT_AS: a bigger allocation raises MemoryError
    cpu_seconds: int = 600         # RLIMIT_CPU (per worker process): SIGXCPU, then SIGKILL
    processes: int = 64            # RLIMIT_NPROC for the worker's own uid
    output_bytes: int = 65536      # student stdout/stderr kept in the result
    file_mb: int = 64              # RLIMIT_FSIZE: largest file, and the output file's cap
    open_files: int = 256          # RLIMIT_NOFILE
    criterion_seconds: float = 60.0   # CPU seconds
    submission_seconds: float = 600.0  # CPU seconds
    load_seconds: float = 30.0        # CPU seconds
    wall_factor: float = 3.0          # wall-clock backstop: this many times the CPU limit
    reply_mb: int = 512            # largest answer the grader accepts from a worker
    packages: tuple[str, ...] = ()  # third-party distributions besides DEFAULT_PACKAGES (rubric `sandbox`)

    @property
    def output_kb(self) -> int:
        return max(1, self.output_bytes // 1024)

    @classmethod
    def from_rubric(cls, limits: Any, **overrides: Any) -> "WorkerLimits":
        """From a rubric's `Limits` (pydantic model or mapping), every field.
        `dict()` of the flat model, not `model_dump()`: that would build its
        serializer (models are built lazily; grader.schema.Strict)."""
        data = dict(limits)
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        if "output_kb" in data:
            values["output_bytes"] = int(data["output_kb"]) * 1024
        values.update(overrides)
        return cls(**values)

    def rlimits(self) -> dict[str, Any]:
        mem = self.memory_mb * 1024 * 1024
        size = self.file_mb * 1024 * 1024
        return {"AS": mem, "CPU": [self.cpu_seconds, self.cpu_seconds + 5], "FSIZE": size,
                "NOFILE": self.open_files, "CORE": 0, "NPROC": self.processes}


# --------------------------------------------------------------------------
# isolation levels
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Isolation:
    name: str
    unshare: tuple[str, ...] = ()   # flags for util-linux unshare; () = no namespaces
    mounts: bool = False
    uid: bool = False
    pid: bool = False
    root: bool = False              # an allow-list root (`allowlist_plan`) instead of hiding a deny-list
    plain: bool = False             # a plain child process: no launcher at all (`plain_command`)


FULL_NS = ("--net", "--pid", "--mount", "--ipc", "--uts", "--fork", "--kill-child")
LEVELS = (
    Isolation("namespaces(net,pid,mount,ipc,uts,cgroup)+allowlist-root+uid+rlimits", FULL_NS,
              mounts=True, uid=True, pid=True, root=True),
    Isolation("namespaces(net,pid,mount)+uid+rlimits",
              ("--net", "--pid", "--mount", "--fork", "--kill-child"), mounts=True, uid=True, pid=True),
    Isolation("namespaces(user,net,pid,mount,ipc,uts,cgroup)+allowlist-root+rlimits",
              ("--user", "--map-root-user", *FULL_NS), mounts=True, pid=True, root=True),
    Isolation("namespaces(user,net,pid,mount)+rlimits",
              ("--user", "--map-root-user", "--net", "--pid", "--mount", "--fork", "--kill-child"),
              mounts=True, pid=True),
    Isolation("namespaces(net,pid)+uid+rlimits", ("--net", "--pid", "--fork", "--kill-child"), uid=True, pid=True),
    Isolation("uid+rlimits", (), uid=True),
    Isolation("rlimits", ()),
)


#: Not in LEVELS (never probed, never a Linux fallback): the level of the
#: platforms without Linux's namespaces, or asked for by name.
PLAIN = Isolation("plain-subprocess", plain=True)


def is_linux(platform: str | None = None) -> bool:
    """Linux (`sys.platform`, overridable for tests): the only platform
    with the launcher's namespaces, prctl and /proc."""
    return (platform or sys.platform).startswith("linux")


def _candidates() -> list[Isolation]:
    wanted = os.environ.get("NNGRADE_ISOLATION", "auto").strip() or "auto"
    names = [level.name for level in LEVELS]
    start = names.index(wanted) if wanted in names else 0
    root = os.geteuid() == 0
    out = []
    for level in LEVELS[start:]:
        if level.uid and not root:
            continue
        if level.unshare and shutil.which("unshare") is None:
            continue
        if "--user" in level.unshare and root and level.name != wanted:
            continue  # root gets the stronger uid-dropping levels (unless it names this one: tests)
        out.append(level)
    return out


@lru_cache(maxsize=8)
def _chosen(wanted: str) -> Isolation:
    for level in _candidates():
        if _probe(level):
            return level
    return LEVELS[-1]


def isolation(platform: str | None = None) -> Isolation:
    """The strongest level that works here (probed once per process); the
    plain subprocess off Linux (`platform`: `sys.platform`, overridable for
    tests) or when ``NNGRADE_ISOLATION`` names it."""
    wanted = os.environ.get("NNGRADE_ISOLATION", "auto")
    if wanted.strip() == PLAIN.name or not is_linux(platform):
        return PLAIN
    return _chosen(wanted)


def isolation_level() -> str:
    """The chosen level's name with the per-submission cgroup's controllers
    when there is one, e.g.
    'namespaces(net,pid,mount,ipc,uts,cgroup)+allowlist-root+cgroup(memory,pids,cpu)+uid+rlimits'."""
    from .cpuclock import limit_controllers

    level = isolation()
    if level.plain:   # no launcher joins a cgroup: the controllers never apply
        return PLAIN.name + ("+rlimits" if rlimits_available() else "")
    name = level.name
    controllers = limit_controllers()
    if not controllers:
        return name
    part = f"+cgroup({','.join(controllers)})"
    for anchor in ("+uid", "+rlimits"):
        if anchor in name:
            return name.replace(anchor, part + anchor, 1)
    return name + part


def rlimits_available() -> bool:
    """Whether this platform has the `resource` module (every POSIX system;
    not Windows), i.e. whether a plain worker can limit itself."""
    try:
        import resource  # noqa: F401
    except ImportError:
        return False
    return True


#: rlimits a plain worker does not set, besides NPROC (never: it counts every
#: process of the student's own account, their browser too, not just the
#: submission's): on macOS, AS, which is not a working memory limit there
#: (`ulimit -v` is known to have no effect; not verified here: no Mac), and
#: a low limit on reserved address space only risks the interpreter's start.
PLAIN_SKIPPED = {"darwin": ("AS",)}


def plain_rlimits(limits: WorkerLimits, platform: str | None = None) -> dict[str, Any]:
    """The rlimits a plain-subprocess worker sets on itself (before any
    student code runs; `worker.py --rlimits`): the launcher's, without
    NPROC everywhere and without AS on macOS; {} without `resource`."""
    if not rlimits_available():
        return {}
    platform = platform or sys.platform
    skipped = {"NPROC", *PLAIN_SKIPPED.get(platform, ())}
    return {name: value for name, value in limits.rlimits().items() if name not in skipped}


def plain_command(argv: list[str], limits: WorkerLimits, platform: str | None = None) -> list[str]:
    """The plain-subprocess level's command: the worker's own `argv`
    (``python -I -B worker.py ...``) plus the rlimits it sets on itself.
    Why the worker sets them, not a `preexec_fn`: the grader has threads
    (the judge), and a preexec_fn may deadlock a forking multi-threaded
    process; nor a ``-c`` wrapper: it would cost a second interpreter start."""
    wanted = plain_rlimits(limits, platform)
    if not wanted:
        return list(argv)
    return [*argv, "--rlimits", json.dumps(wanted, separators=(",", ":"))]


def _probe(level: Isolation) -> bool:
    """Start the interpreter through `level` exactly as a worker would be,
    and import NumPy there: the level works only if that succeeds."""
    stage = Path(tempfile.mkdtemp(prefix="nngrade-probe-"))
    lease = UidLease.acquire() if level.uid else None
    try:
        os.chmod(stage, 0o1777)
        code = ("import numpy, socket, sys\n"
                "s = socket.socket()\n"
                "s.settimeout(2)\n"
                "try:\n    s.connect(('127.0.0.1', 9))\nexcept OSError:\n    pass\n")
        if level.root:
            forked = _probe_forked(level, stage, code, lease.uid if lease else None)
            if forked is not None:
                return forked
        argv = [sys.executable, "-I", "-B", "-c", code]
        command, cfg = launch_command(level, WorkerLimits(), argv=argv, stage=stage,
                                      inner=_inner_dir(level, stage), uid=lease.uid if lease else None,
                                      keep_fds=(), status_fd=None)
        config = launcher_input(cfg)
        try:
            done = subprocess.run(command, stdin=config, capture_output=True, timeout=30,
                                  env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
        finally:
            os.close(config)
        return done.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        if lease:
            lease.release()
        shutil.rmtree(stage, ignore_errors=True)


def _probe_forked(level: Isolation, stage: Path, code: str, uid: int | None) -> bool | None:
    """The probe through this process's zygote (milliseconds instead of an
    interpreter start): True when a worker forked there runs `code`; None
    when there is no zygote, or it failed -- then it is marked broken, so
    that workers are never forked by a zygote the probe did not see work,
    and the caller probes the exec path."""
    from .zygote import ZygoteUnavailable, zygote

    z = zygote()
    if z is None:
        return None
    script = stage / "probe.py"
    script.write_text(code, encoding="utf-8")
    os.chmod(script, 0o644)
    argv = [sys.executable, "-I", "-B", str(INNER_DIR / "probe.py")]
    _, cfg = launch_command(level, WorkerLimits(), argv=argv, stage=stage, inner=INNER_DIR, uid=uid,
                            keep_fds=(), status_fd=None, run_here=True)
    status_r, status_w = os.pipe()
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        proc = z.spawn({**cfg, "unshare": list(level.unshare)}, null, status_w, ())
    except ZygoteUnavailable:
        return None
    finally:
        os.close(null)
        os.close(status_w)
    try:
        proc.wait(timeout=60)
        status = os.read(status_r, 64)
    except (OSError, subprocess.TimeoutExpired):
        proc.kill()
        status = b""
    finally:
        proc.close()
        os.close(status_r)
    if status == b"exit 0":
        return True
    z.broken = f"the probe failed ({status.decode('ascii', 'replace') or 'no status'})"
    return None


INNER_DIR = Path("/tmp/nngrade-work")


def scrubbed_environment(home: str | os.PathLike | None = None) -> dict[str, str]:
    """A minimal environment: no credentials, no grader paths, one BLAS
    thread (determinism, and no oversubscription in a parallel batch).
    `home`: the worker's own writable folder, made its HOME and the home of
    matplotlib's and other caches (else matplotlib warns, naming a random
    temporary folder, in the student's output)."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home) if home else "/nonexistent",
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if home:
        env["MPLCONFIGDIR"] = os.path.join(str(home), ".config", "matplotlib")
        env["XDG_CACHE_HOME"] = os.path.join(str(home), ".cache")
        env["XDG_CONFIG_HOME"] = os.path.join(str(home), ".config")
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if key in os.environ:  # machine-specific BLAS fixes must reach the worker
            env[key] = os.environ[key]
    if sys.platform == "win32":
        env.update(windows_environment(os.environ))
    return env


def windows_environment(environ: Any) -> dict[str, str]:
    """What a Windows interpreter cannot start without (its system folder:
    DLLs, the random seed for sockets), taken from the grader's own."""
    return {key: environ[key] for key in ("SYSTEMROOT", "WINDIR") if key in environ}


def _inner_dir(level: Isolation, stage: Path) -> Path:
    """Where the staged folder appears for the worker: a fixed path in its
    private /tmp (so paths in tracebacks and prints are the same on every
    run), or the staged folder itself without a mount namespace."""
    return INNER_DIR if level.mounts else stage


def inner_dir(stage: Path) -> Path:
    return _inner_dir(isolation(), stage)


# --------------------------------------------------------------------------
# what the worker may and may not see
# --------------------------------------------------------------------------

def _real(path: str | os.PathLike) -> str:
    return os.path.realpath(os.fspath(path))


def keep_paths() -> list[str]:
    """Folders the worker needs: the interpreter(s), the standard library,
    site-packages with NumPy."""
    out = {_real(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix,
                              getattr(sys, "base_exec_prefix", sys.exec_prefix))}
    out.add(os.path.dirname(_real(sys.executable)))
    out.add(os.path.dirname(os.path.abspath(sys.executable)))
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        try:
            out.add(_real(sysconfig.get_paths()[key]))
        except KeyError:
            pass
    spec = importlib.util.find_spec("numpy")
    if spec is not None and spec.origin:
        out.add(os.path.dirname(os.path.dirname(_real(spec.origin))))
    return sorted(p for p in out if p and p != "/" and os.path.exists(p))


_EXTRA_HIDDEN: set[str] = set()


def hide(*paths: str | os.PathLike) -> None:
    """Hide more folders from every worker started from now on in this
    process, e.g. a batch's input folder (the other students' files) and
    its output folder."""
    for path in paths:
        if os.path.isdir(path):
            _EXTRA_HIDDEN.add(_real(path))


def _is_system(path: str) -> bool:
    return path in SYSTEM_DIRS or any(s != "/" and s.startswith(path.rstrip("/") + "/") for s in SYSTEM_DIRS)


def hidden_paths(keep: list[str] | None = None) -> list[str]:
    """Folders covered by an empty tmpfs inside the worker's mount namespace."""
    keep = keep if keep is not None else keep_paths()
    package = Path(__file__).resolve().parents[1]          # .../grader
    root = package.parent
    hide: set[str] = set()
    if (root / "pyproject.toml").exists() or (root / "reference").is_dir() and (root / "rubrics").is_dir():
        hide.add(str(root))                                   # a source checkout: all of it
    hide.add(str(package))
    for name in ("reference",):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            hide.update(_real(p) for p in spec.submodule_search_locations)
    if (root / "rubrics").is_dir():
        hide.add(str(root / "rubrics"))
    hide.update(_EXTRA_HIDDEN)
    for extra in os.environ.get("NNGRADE_SANDBOX_HIDE", "").split(os.pathsep):
        if extra.strip() and os.path.isdir(extra.strip()):
            hide.add(_real(extra.strip()))
    try:
        cwd = _real(os.getcwd())
    except OSError:  # the grader's folder was removed under it
        cwd = "/"
    inside_keep = any(cwd == k or cwd.startswith(k.rstrip("/") + "/") for k in keep)
    if not inside_keep and not _is_system(cwd) and _real(tempfile.gettempdir()) != cwd:
        hide.add(cwd)                                          # the grader's working folder (course files)
    return sorted(p for p in hide if not _is_system(p) and os.path.isdir(p))


def blocked_ancestors(keep: list[str], uid: int) -> list[str]:
    """Ancestors of the kept folders that the worker's uid cannot traverse
    (e.g. /root holding ~/.pyenv): covered too, with the kept folders bound
    back, so the interpreter stays reachable without exposing the rest."""
    out = set()
    for path in keep:
        parts = Path(path).parts
        for i in range(2, len(parts)):
            folder = str(Path(*parts[:i]))
            try:
                st = os.stat(folder)
            except OSError:
                break
            if st.st_uid != uid and not st.st_mode & 0o001:
                out.add(folder)
                break
    return sorted(out)


def private_paths(limits: WorkerLimits, stage_mb: int) -> list[list[Any]]:
    tmp = {_real("/tmp"), _real(tempfile.gettempdir())}
    out: list[list[Any]] = [[p, "1777", limits.file_mb + stage_mb + 16] for p in sorted(tmp)]
    out += [["/dev/shm", "1777", limits.file_mb], ["/var/tmp", "1777", limits.file_mb],
            ["/run/lock", "755", 1], ["/run/user", "755", 1]]
    return out


@lru_cache(maxsize=1)
def _keep_cached() -> tuple[str, ...]:
    return tuple(keep_paths())


@lru_cache(maxsize=16)
def _hidden_cached(cwd: str, extra: str) -> tuple[str, ...]:
    return tuple(hidden_paths(list(_keep_cached())))


def _mount_plan_base() -> tuple[list[str], list[str]]:
    """(kept, hidden) folders; recomputed when the grader's folder changes."""
    try:
        cwd = os.getcwd()
    except OSError:
        cwd = "/"
    extra = os.environ.get("NNGRADE_SANDBOX_HIDE", "") + "\0" + "\0".join(sorted(_EXTRA_HIDDEN))
    return list(_keep_cached()), list(_hidden_cached(cwd, extra))


def launch_command(level: Isolation, limits: WorkerLimits, *, argv: list[str], stage: Path, inner: Path,
                   uid: int | None, keep_fds: tuple[int, ...], status_fd: int | None,
                   run_here: bool = False, extra: dict | None = None) -> tuple[list[str], dict]:
    """The command that starts `argv` (the worker) under `level`, and the
    launcher's configuration (returned for tests and diagnostics).  With
    `run_here`, argv must be ``[python, -I, -B, script, args...]`` and the
    launcher runs the script itself instead of exec'ing a new interpreter
    (saves a start-up).  `extra`: more launcher settings, e.g. the CPU
    clock's cgroup to join."""
    cfg: dict[str, Any] = {
        "argv": argv,
        "cwd": str(inner),
        "uid": uid if level.uid else None,
        "gid": uid if level.uid else None,
        "rlimits": limits.rlimits(),
        "keep_fds": list(keep_fds),
        "status_fd": status_fd,
        "setsid": level.pid,
        "run_here": run_here,
        **(extra or {}),
    }
    if level.mounts and not level.root:   # (an allow-list root needs no deny-list)
        keep, hide = _mount_plan_base()
        if level.uid and uid is not None:
            hide = sorted(set(hide) | set(blocked_ancestors(keep, uid)))
        stage_mb = _size_mb(stage)
        cfg["mounts"] = {"stage": str(stage), "inner": str(inner), "keep": keep, "hide": hide,
                         "private": private_paths(limits, stage_mb), "proc": level.pid}
    if level.root:
        cfg["root"] = allowlist_config(limits, stage, inner)
        cfg["mounts"] = None
        cfg["hostname"] = "nngrade"
        cfg["cgroupns"] = True
        cfg["renumber"] = True  # the worker's descriptors are 3, 4, ...: the same argv everywhere
    launcher = [sys.executable, "-I", "-S", "-B", "-c", BOOT]
    if level.unshare:
        return [shutil.which("unshare") or "unshare", *level.unshare, "--", *launcher], cfg
    return launcher, cfg


# The launcher's command line names no file and holds no setting: its source
# and its configuration come on its standard input (`launcher_input`), so no
# /proc/*/cmdline or environ a worker can read shows a hidden path, the
# staging folder or the limits.
BOOT = ("import marshal,os\n"
        "d=b''\n"
        "while 1:\n b=os.read(0,1<<16)\n if not b:break\n d+=b\n"
        "s,c=marshal.loads(d)\n"
        "exec(compile(s,'nngrade-launcher','exec'),{'__name__':'__main__','CONFIG':c})")
F_SETPIPE_SZ = 1031


@lru_cache(maxsize=1)
def _launcher_source() -> str:
    return LAUNCHER.read_text(encoding="utf-8")


def launcher_input(cfg: dict) -> int:
    """A pipe's read end holding the launcher's source and `cfg` (for the
    launcher's stdin; the caller closes it after starting the process)."""
    import fcntl   # (Linux only, as the launcher is: not imported at module level, for other platforms)

    data = marshal.dumps((_launcher_source(), cfg))
    read, write = os.pipe()
    try:
        if len(data) > 60000:
            try:
                fcntl.fcntl(write, F_SETPIPE_SZ, len(data) + 4096)
            except OSError:
                pass
        view = memoryview(data)
        while view:
            view = view[os.write(write, view):]
    except BaseException:
        os.close(read)
        raise
    finally:
        os.close(write)
    return read


# --------------------------------------------------------------------------
# the allow-list root
# --------------------------------------------------------------------------

# Third-party packages a worker sees (with their dependencies, as their
# metadata declares them).  matplotlib is in the default list because
# notebooks plot at import (submissions/correct_notebook.ipynb); a rubric's
# `sandbox: {packages: [...]}` extends it (`WorkerLimits.packages`), and so
# does `NNGRADE_SANDBOX_PACKAGES` (comma-separated distribution names).
DEFAULT_PACKAGES = ("numpy", "matplotlib")
DEVICES = ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random")


def _walk_links(path: str, links: dict[str, str]) -> str:
    """The real path of `path`; every symlink met on the way is recorded
    (link path -> target), so the same chain can be rebuilt in the root."""
    todo = [p for p in path.split("/") if p]
    cur = "/"
    hops = 0
    while todo:
        part = todo.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            cur = os.path.dirname(cur)
            continue
        nxt = os.path.join(cur, part)
        if os.path.islink(nxt):
            hops += 1
            if hops > 40:
                raise OSError(errno.ELOOP, "too many links", path)
            target = os.readlink(nxt)
            links[nxt] = target
            todo = [p for p in target.split("/") if p] + todo
            if target.startswith("/"):
                cur = "/"
            continue
        cur = nxt
    return cur


def _declared_requirements(dist: Any) -> list[str]:
    """The distribution's `Requires-Dist` values, what `dist.requires` gives
    for an installed wheel, read from METADATA's header lines directly:
    `dist.requires` parses the whole file with the email package (~2 ms a
    distribution, 11 for NumPy and matplotlib's, on every `check`).  Headers
    end at the first empty line; an indented line continues the one before.
    Without METADATA (an egg-info install): `dist.requires`."""
    text = dist.read_text("METADATA")
    if text is None:
        return list(dist.requires or [])
    headers: list[tuple[str, str]] = []
    for line in text.splitlines():
        if not line:
            break
        if line[0] in " \t":
            if headers:
                headers[-1] = (headers[-1][0], headers[-1][1] + "\n" + line)
            continue
        name, _, value = line.partition(":")
        headers.append((name.strip().lower(), value.lstrip(" \t")))
    return [value for name, value in headers if name == "requires-dist"]


def _requirements(dist: Any) -> list[str]:
    out = []
    for req in _declared_requirements(dist):
        name, _, marker = req.partition(";")
        if "extra" in marker:
            continue
        if marker.strip():
            try:
                from packaging.markers import Marker

                if not Marker(marker.strip()).evaluate():
                    continue
            except Exception:  # noqa: BLE001 -- no packaging: take it
                pass
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", name)
        if match:
            out.append(match.group(1))
    return out


def package_paths(names: tuple[str, ...]) -> list[str]:
    """The installed files of the distributions `names` and their
    dependencies, as top-level entries of their site-packages folders
    (package folders such as numpy and numpy.libs, modules, .dist-info):
    never a whole site-packages folder."""
    from importlib import metadata

    out: set[str] = set()
    todo, seen = list(names), set()
    while todo:
        name = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        base = _real(dist.locate_file(""))
        for first in _top_entries(dist):
            if first in ("", "..", "__pycache__") or first.endswith(".pth"):
                continue
            top = os.path.join(base, first)
            if os.path.exists(top):
                out.add(top)
        todo.extend(_requirements(dist))
    return sorted(out)


def _top_entries(dist: Any) -> set[str]:
    """First path components of a distribution's installed files.  Read
    from RECORD's text directly (`dist.files` builds an object per file:
    ~90 ms for matplotlib and its dependencies, paid by every `check`),
    else from `dist.files` (an install without RECORD)."""
    text = dist.read_text("RECORD")
    if text is None:
        return {Path(entry).parts[0] for entry in dist.files or [] if Path(entry).parts}
    import csv

    return {row[0].replace("\\", "/").split("/", 1)[0] for row in csv.reader(text.splitlines()) if row}


def _mapped_libraries() -> list[str]:
    """Shared libraries of this (grader) process outside any Python folder:
    the C library's folder and the dynamic loader are bound; the rest of
    the system is not."""
    found = set()
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                path = line.split(None, 5)[-1].strip() if line.count(" ") >= 5 else ""
                if path.startswith("/") and ".so" in os.path.basename(path):
                    found.add(path)
    except OSError:
        pass
    return sorted(found)


@lru_cache(maxsize=4)
def allowlist_plan(packages: tuple[str, ...] = DEFAULT_PACKAGES) -> dict:
    """What the worker's root holds: ``binds`` (read-only, same path inside),
    ``links`` (symlinks rebuilt), ``empty`` (folders inside binds covered by
    an empty read-only tmpfs, e.g. the base interpreter's own site-packages)
    and ``devices``."""
    links: dict[str, str] = {}
    binds: set[str] = set()
    binds.add(_walk_links(os.path.abspath(sys.executable), links))
    venv_cfg = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(sys.executable))), "pyvenv.cfg")
    if os.path.isfile(venv_cfg):
        binds.add(_walk_links(venv_cfg, links))
    python_dirs = set()
    base_paths = sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_exec_prefix,
                                           "installed_base": sys.base_prefix,
                                           "installed_platbase": sys.base_exec_prefix})
    for key in ("stdlib", "platstdlib"):
        if key in base_paths and os.path.isdir(base_paths[key]):
            binds.add(_walk_links(base_paths[key], links))
            python_dirs.add(_real(base_paths[key]))
    empty = set()
    for folder in python_dirs:
        site = os.path.join(folder, "site-packages")
        if os.path.isdir(site):
            empty.add(site)
    prefixes = {_real(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    for lib in _mapped_libraries():
        real = _real(lib)
        if "site-packages" in real or "dist-packages" in real:
            continue
        # the C library's folder first: a system interpreter's prefix is /usr, which holds it
        # (Debian's /usr/bin/python3.11 found no libm.so.6 when this came after the prefix rule)
        if os.path.basename(real).startswith(("libc.so", "ld-linux", "ld64", "ld-musl")):
            binds.add(os.path.dirname(real))
            continue
        if any(real.startswith(p.rstrip("/") + "/") for p in prefixes):
            if os.path.basename(real).startswith("libpython"):
                binds.add(_walk_links(lib, links))
    for loader in ("/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1", "/lib/ld-linux-x86-64.so.2"):
        if os.path.lexists(loader):
            binds.add(_walk_links(loader, links))
    if os.path.isfile("/etc/ld.so.cache"):
        binds.add("/etc/ld.so.cache")
    extra = tuple(p.strip() for p in os.environ.get("NNGRADE_SANDBOX_PACKAGES", "").split(",") if p.strip())
    for path in package_paths(tuple(packages) + extra):
        binds.add(_walk_links(path, links))
    # a bind inside another bind is redundant (and a link's folder may be one)
    def inside(path: str, folder: str) -> bool:
        return path.startswith(folder.rstrip("/") + "/")

    kept = [b for b in binds if any(inside(b, e) for e in empty)
            or not any(b != o and inside(b, o) for o in binds)]
    return {"binds": sorted(set(kept)), "links": sorted(links.items()), "empty": sorted(empty),
            "devices": [d for d in DEVICES if os.path.exists(d)]}


def allowlist_config(limits: WorkerLimits, stage: Path, inner: Path) -> dict:
    plan = allowlist_plan(DEFAULT_PACKAGES + tuple(p for p in limits.packages if p not in DEFAULT_PACKAGES))
    return {**plan, "stage": str(stage), "inner": str(inner),
            "tmp_mb": limits.file_mb + _size_mb(stage) + 16, "shm_mb": limits.file_mb}


def _size_mb(folder: Path) -> int:
    total = 0
    for base, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(base, name)).st_size
            except OSError:
                pass
    return total // (1024 * 1024) + 1


# --------------------------------------------------------------------------
# worker uids
# --------------------------------------------------------------------------

class UidLease:
    """A uid no other live worker on this machine uses (a lock file per uid
    held while the worker lives), so that one worker's RLIMIT_NPROC count
    and files are its own."""

    _lock = threading.Lock()
    _counter = random.Random(os.getpid()).randrange(UID_COUNT)

    def __init__(self, uid: int, fd: int) -> None:
        self.uid = uid
        self._fd: int | None = fd

    @classmethod
    def acquire(cls) -> "UidLease":
        import fcntl   # (Linux only, as the uid levels are)

        folder = Path(tempfile.gettempdir()) / "nngrade-uids"
        folder.mkdir(mode=0o700, exist_ok=True)
        with cls._lock:
            for _ in range(UID_COUNT):
                cls._counter = (cls._counter + 1) % UID_COUNT
                uid = UID_BASE + cls._counter
                fd = os.open(folder / f"{uid}.lock", os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError as exc:
                    os.close(fd)
                    if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                        continue
                    raise
                return cls(uid, fd)
        raise RuntimeError("no free worker uid")

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:  # pragma: no cover - safety net
        self.release()


def apply_rlimits(limits: WorkerLimits) -> None:
    """Kept for callers that start their own processes: new session, then
    the same rlimits the launcher sets (call in the child, before exec)."""
    import resource

    from .launcher import RLIMITS

    os.setsid()
    for name, value in limits.rlimits().items():
        soft, hard = (value, value) if isinstance(value, int) else value
        try:
            resource.setrlimit(RLIMITS[name], (soft, hard))
        except (ValueError, OSError):
            if name != "NPROC":
                raise
