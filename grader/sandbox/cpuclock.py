"""CPU time of all of one worker's processes, whatever the machine's load.

Time limits count CPU seconds (user + system) of every process the
submission runs, so a grade does not depend on how busy the machine is.
One `CpuClock` per started worker; `read()` gives its CPU seconds so far
(monotone).  Two backends, chosen once per grader process (`backend()`):

* ``cgroup-v1-cpuacct`` (root, a writable cgroup v1 ``cpuacct`` hierarchy):
  a group ``/sys/fs/cgroup/cpuacct/nngrade/<grader pid>-<n>`` per worker.
  The launcher joins it as its very first step (`launcher_config`), before
  any student code exists, and every process it starts inherits the group,
  so ``cpuacct.usage`` (ns) counts them all, including the ones that have
  ended.  `close()` kills whatever is still in the group and removes it.
  With the worker's `WorkerLimits`, groups of the same name in the v1
  ``memory``, ``pids`` and ``cpu`` hierarchies limit all the submission's
  processes together (``memory.limit_in_bytes``, ``pids.max``,
  ``cpu.shares``; `limit_controllers`), removed with it.
* ``cgroup-v2`` (root, a unified hierarchy with the cpu controller, when v1
  cpuacct is absent): one group ``/sys/fs/cgroup/nngrade/<...>`` with
  ``cpu.stat`` (the clock), ``memory.max``, ``pids.max`` and ``cpu.weight``.
* ``proc`` (anywhere else): the sum of utime + stime + cutime + cstime
  (clock ticks) in ``/proc/<pid>/stat`` over the process tree below the
  worker's top process (walking ``/proc/<pid>/task/*/children``); cutime and
  cstime cover the children that ended and were reaped.  Sampled, so it can
  miss the last moments of a process that ends between two samples.
* ``none`` (no ``/proc``: macOS, Windows; or ``NNGRADE_CPU_CLOCK=none``):
  no CPU clock at all; `read()` is always 0.0, so no CPU budget ever runs
  out and every time limit is enforced by the wall-clock backstop alone.
  `WorkerClient` then uses a wall factor of 1.0: the CPU limits become
  wall-clock limits of the same number of seconds (a check that hangs is
  stopped after its limit, not three times its limit).
"""

from __future__ import annotations

import errno
import itertools
import os
import signal
import time
from functools import lru_cache

CGROUP_ROOT = "/sys/fs/cgroup/cpuacct"
GROUP_PARENT = "nngrade"
CGROUP = "cgroup-v1-cpuacct"
PROC = "proc"
NONE = "none"
STALE_SECONDS = 600  # a dead grader's empty group older than this is removed
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_counter = itertools.count()

__all__ = ["CpuClock", "CgroupCpuClock", "NoCpuClock", "ProcCpuClock", "backend", "new_clock", "tree_cpu_seconds"]


class CpuClock:
    """CPU seconds used by one worker's processes since it started."""

    name = "none"

    def launcher_config(self) -> dict:
        """What the launcher must do to be measured (merged into its config)."""
        return {}

    def attach(self, pid: int) -> None:
        """The worker's top process (unshare, or the launcher) has started."""

    def read(self) -> float:
        raise NotImplementedError

    def close(self) -> float:
        """Stop measuring (the processes are gone or about to be killed);
        returns the final reading."""
        return self.read()


class CgroupCpuClock(CpuClock):
    """The worker's cgroup: cpuacct (the clock) and, with `limits`, the
    submission's limits for all its processes together: memory
    (``memory.limit_in_bytes`` = memory_mb), processes (``pids.max``) and
    CPU weight (``cpu.shares``), one group per controller hierarchy (v1),
    all removed by `close()`."""

    name = CGROUP

    def __init__(self, root: str = CGROUP_ROOT, limits: object = None) -> None:
        parent = os.path.join(root, GROUP_PARENT)
        os.makedirs(parent, exist_ok=True)
        _remove_stale(parent)
        leaf = f"{os.getpid()}-{next(_counter)}-{time.monotonic_ns() % 10**6}"
        self.path = os.path.join(parent, leaf)
        os.mkdir(self.path)
        self.paths = [self.path]
        self._last = 0.0
        self._closed = False
        self._usage = StatFile(os.path.join(self.path, "cpuacct.usage"))
        if limits is not None and root == CGROUP_ROOT:
            try:
                for controller, settings in limit_settings(limits).items():
                    group = os.path.join(V1_ROOT, controller, GROUP_PARENT)
                    os.makedirs(group, exist_ok=True)
                    group = os.path.join(group, leaf)
                    os.mkdir(group)
                    self.paths.append(group)
                    for key, value in settings.items():
                        with open(os.path.join(group, key), "w") as handle:
                            handle.write(str(value))
            except OSError:
                self.close()
                raise

    def launcher_config(self) -> dict:
        # `tasks`: the launcher joins by thread, without the thread-group lock (launcher.join_cgroup)
        return {"cgroup_join": [os.path.join(p, "tasks") for p in self.paths]}

    def read(self) -> float:
        if not self._closed:
            try:
                self._last = max(self._last, int(self._usage.read()) / 1e9)
            except (OSError, ValueError):
                pass
        return self._last

    def pids(self) -> list[int]:
        out: set[int] = set()
        for path in self.paths:
            try:
                with open(os.path.join(path, "cgroup.procs"), "rb") as handle:
                    out.update(int(p) for p in handle.read().split())
            except (OSError, ValueError):
                pass
        return sorted(out)

    def close(self) -> float:
        """Read the final usage, kill what is left in the groups (only the
        worker's own processes are ever in them), remove the groups."""
        if self._closed:
            return self._last
        final = self.read()
        self._usage.close()
        for path in reversed(self.paths):
            _kill_and_remove(path, self)
        final = max(final, self.read())
        self._closed = True
        return final


class StatFile:
    """A cgroup statistics file read again and again (every request reads
    the CPU clock several times): kept open and re-read with `pread`,
    ~1 microsecond instead of ~25 for open + read + close."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None

    def read(self) -> bytes:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        return os.pread(self._fd, 4096, 0)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        try:
            self.close()
        except OSError:
            pass


def _kill_and_remove(path: str, clock: "CgroupCpuClock") -> None:
    for attempt in range(200):
        for pid in clock.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            if exc.errno != errno.EBUSY:
                return
            time.sleep(0.01 * min(attempt + 1, 10))  # killed processes take a moment to leave


V1_ROOT = "/sys/fs/cgroup"
CPU_SHARES = 1024  # every submission the same CPU weight


def limit_settings(limits: object) -> dict[str, dict[str, int]]:
    """Per controller (v1), the files to write for `limits` (a WorkerLimits)."""
    out = {}
    usable = set(limit_controllers())
    if "memory" in usable:
        out["memory"] = {"memory.limit_in_bytes": int(getattr(limits, "memory_mb")) * 1024 * 1024}
    if "pids" in usable:
        out["pids"] = {"pids.max": int(getattr(limits, "processes"))}
    if "cpu" in usable:
        out["cpu"] = {"cpu.shares": CPU_SHARES}
    return out


@lru_cache(maxsize=1)
def _v1_limit_controllers() -> tuple[str, ...]:
    if os.geteuid() != 0:
        return ()
    found = []
    for controller, probe in (("memory", "memory.limit_in_bytes"), ("pids", "pids.max"), ("cpu", "cpu.shares")):
        base = os.path.join(V1_ROOT, controller)
        if os.path.isfile(os.path.join(base, probe)) or os.path.isfile(os.path.join(base, GROUP_PARENT, probe)) \
                or _v1_group_has(base, probe):
            found.append(controller)
    return tuple(found)


def _v1_group_has(base: str, probe: str) -> bool:
    """Root hierarchies do not show every file (pids.max): try a group."""
    try:
        parent = os.path.join(base, GROUP_PARENT)
        os.makedirs(parent, exist_ok=True)
        test = os.path.join(parent, f"probe-{os.getpid()}-{next(_counter)}")
        os.mkdir(test)
        try:
            return os.path.isfile(os.path.join(test, probe))
        finally:
            os.rmdir(test)
    except OSError:
        return False


def limit_controllers() -> tuple[str, ...]:
    """The controllers that limit a submission's processes together
    (memory, pids, cpu), when a cgroup backend is in use; () otherwise."""
    if backend() == CGROUP2:
        return _v2_controllers(V2_ROOT)
    if backend() != CGROUP:
        return ()
    return _v1_limit_controllers()


# --------------------------------------------------------------------------
# cgroup v2 (unified hierarchy): one group holds every controller
# --------------------------------------------------------------------------

CGROUP2 = "cgroup-v2"
V2_ROOT = "/sys/fs/cgroup"
V2_WANTED = ("memory", "pids", "cpu")


def _v2_enable(root: str) -> None:
    """Delegate memory, pids and cpu to the groups below root/nngrade (best effort)."""
    parent = os.path.join(root, GROUP_PARENT)
    os.makedirs(parent, exist_ok=True)
    for folder in (root, parent):
        for controller in V2_WANTED:
            try:
                with open(os.path.join(folder, "cgroup.subtree_control"), "w") as handle:
                    handle.write(f"+{controller}")
            except OSError:
                pass


def _v2_controllers(root: str) -> tuple[str, ...]:
    try:
        with open(os.path.join(root, GROUP_PARENT, "cgroup.subtree_control")) as handle:
            enabled = handle.read().split()
    except OSError:
        return ()
    return tuple(c for c in V2_WANTED if c in enabled)


def v2_settings(limits: object, controllers: tuple[str, ...]) -> dict[str, int]:
    out = {}
    if "memory" in controllers:
        out["memory.max"] = int(getattr(limits, "memory_mb")) * 1024 * 1024
        out["memory.swap.max"] = 0
    if "pids" in controllers:
        out["pids.max"] = int(getattr(limits, "processes"))
    if "cpu" in controllers:
        out["cpu.weight"] = 100  # every submission the same weight
    return out


class CgroupV2CpuClock(CgroupCpuClock):
    """cgroup v2: one group ``<root>/nngrade/<grader pid>-<n>``; CPU time
    from ``cpu.stat`` (``usage_usec``), limits in ``memory.max``,
    ``pids.max``, ``cpu.weight``."""

    name = CGROUP2

    def __init__(self, root: str = V2_ROOT, limits: object = None) -> None:
        parent = os.path.join(root, GROUP_PARENT)
        os.makedirs(parent, exist_ok=True)
        _remove_stale(parent)
        self.path = os.path.join(parent, f"{os.getpid()}-{next(_counter)}-{time.monotonic_ns() % 10**6}")
        os.mkdir(self.path)
        self.paths = [self.path]
        self._last = 0.0
        self._closed = False
        self._stat = StatFile(os.path.join(self.path, "cpu.stat"))
        if limits is not None:
            try:
                for key, value in v2_settings(limits, _v2_controllers(root)).items():
                    try:
                        with open(os.path.join(self.path, key), "w") as handle:
                            handle.write(str(value))
                    except FileNotFoundError:
                        if key != "memory.swap.max":  # no swap accounting: nothing to limit
                            raise
            except OSError:
                self.close()
                raise

    def launcher_config(self) -> dict:
        # v2 has no `tasks` file (and moves processes whole): cgroup.procs
        return {"cgroup_join": [os.path.join(self.path, "cgroup.procs")]}

    def read(self) -> float:
        if not self._closed:
            try:
                for line in self._stat.read().splitlines():
                    if line.startswith(b"usage_usec "):
                        self._last = max(self._last, int(line.split()[1]) / 1e6)
            except (OSError, ValueError, IndexError):
                pass
        return self._last

    def close(self) -> float:
        if self._closed:
            return self._last
        final = self.read()
        self._stat.close()
        try:  # cgroup.kill (Linux 5.14+) kills the whole group at once
            with open(os.path.join(self.path, "cgroup.kill"), "w") as handle:
                handle.write("1")
        except OSError:
            pass
        _kill_and_remove(self.path, self)
        final = max(final, self.read())
        self._closed = True
        return final


def _cgroup2_works(root: str) -> bool:
    if os.geteuid() != 0 or not os.path.isfile(os.path.join(root, "cgroup.controllers")):
        return False
    try:
        _v2_enable(root)
        clock = CgroupV2CpuClock(root)
    except OSError:
        return False
    try:
        return os.path.isfile(os.path.join(clock.path, "cpu.stat"))
    finally:
        clock.close()


class NoCpuClock(CpuClock):
    """No CPU clock on this platform (no /proc): always 0.0 CPU seconds, so
    only the wall-clock backstop stops a request."""

    name = NONE

    def read(self) -> float:
        return 0.0


class ProcCpuClock(CpuClock):
    name = PROC

    def __init__(self) -> None:
        self.pid: int | None = None
        self._last = 0.0

    def attach(self, pid: int) -> None:
        self.pid = pid

    def read(self) -> float:
        if self.pid is not None:
            total = tree_cpu_seconds(self.pid)
            if total is not None:
                self._last = max(self._last, total)  # a reaped child can vanish from the sum for a moment
        return self._last

    def close(self) -> float:
        final = self.read()
        self.pid = None
        return final


def _stat_ticks(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            raw = handle.read()
    except OSError:
        return None
    fields = raw[raw.rfind(b")") + 2:].split()
    try:  # fields[0] is field 3 (state); utime..cstime are fields 14-17
        return int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
    except (IndexError, ValueError):
        return None


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as handle:
                out.extend(int(p) for p in handle.read().split())
        except (OSError, ValueError):
            pass
    return out


def tree_cpu_seconds(pid: int) -> float | None:
    """CPU seconds (own and reaped children's) of `pid` and every live
    descendant; None when `pid` itself is gone."""
    top = _stat_ticks(pid)
    if top is None:
        return None
    ticks, seen, todo = top, {pid}, _children(pid)
    while todo:
        child = todo.pop()
        if child in seen:
            continue
        seen.add(child)
        value = _stat_ticks(child)
        if value is not None:
            ticks += value
            todo.extend(_children(child))
    return ticks / _TICK


def _remove_stale(parent: str) -> None:
    """Groups left by grader processes that no longer exist (e.g. killed
    with -9): empty ones are removed; a group of a live grader is never
    touched, nor a recent one (a grader in another PID namespace may own it)."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        owner = name.split("-", 1)[0]
        if not owner.isdigit() or int(owner) == os.getpid() or os.path.exists(f"/proc/{owner}"):
            continue
        path = os.path.join(parent, name)
        try:
            if time.time() - os.stat(path).st_mtime < STALE_SECONDS:
                continue
            os.rmdir(path)
        except OSError:
            pass


def _cgroup_works(root: str) -> bool:
    if os.geteuid() != 0 or not os.path.isfile(os.path.join(root, "cpuacct.usage")):
        return False
    try:
        clock = CgroupCpuClock(root)
    except OSError:
        return False
    try:
        return clock.read() == 0.0 and all(os.path.exists(p) for p in clock.launcher_config()["cgroup_join"])
    finally:
        clock.close()


def proc_available() -> bool:
    """Whether this system has Linux's /proc (per-process CPU ticks)."""
    return os.path.isfile("/proc/self/stat")


@lru_cache(maxsize=4)
def _backend(wanted: str) -> str:
    if wanted == NONE or not proc_available():
        return NONE
    if wanted == PROC:
        return PROC
    if _cgroup_works(CGROUP_ROOT):
        return CGROUP
    return CGROUP2 if _cgroup2_works(V2_ROOT) else PROC


def backend() -> str:
    """The backend used in this process: ``NNGRADE_CPU_CLOCK`` = ``proc``
    forces the /proc fallback, ``none`` no clock (what a system without
    /proc gets); otherwise the cgroup when it works here."""
    return _backend(os.environ.get("NNGRADE_CPU_CLOCK", "auto").strip() or "auto")


def new_clock(limits: object = None, *, launcher: bool = True) -> CpuClock:
    """A fresh clock for one worker start; with `limits` (WorkerLimits), its
    cgroups also limit the submission's memory, processes and CPU weight.
    `launcher` False (a plain-subprocess worker): no launcher joins a
    cgroup, so the clock is /proc's, or none."""
    if backend() == NONE:
        return NoCpuClock()
    if not launcher:
        return ProcCpuClock()
    if backend() == CGROUP2:
        try:
            return CgroupV2CpuClock(limits=limits)
        except OSError:
            pass
    if backend() == CGROUP:
        try:
            return CgroupCpuClock(limits=limits)
        except OSError:
            pass
    return ProcCpuClock()
