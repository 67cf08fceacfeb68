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
* ``proc`` (anywhere else): the sum of utime + stime + cutime + cstime
  (clock ticks) in ``/proc/<pid>/stat`` over the process tree below the
  worker's top process (walking ``/proc/<pid>/task/*/children``); cutime and
  cstime cover the children that ended and were reaped.  Sampled, so it can
  miss the last moments of a process that ends between two samples.
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
STALE_SECONDS = 600  # a dead grader's empty group older than this is removed
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_counter = itertools.count()

__all__ = ["CpuClock", "CgroupCpuClock", "ProcCpuClock", "backend", "new_clock", "tree_cpu_seconds"]


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
    name = CGROUP

    def __init__(self, root: str = CGROUP_ROOT) -> None:
        parent = os.path.join(root, GROUP_PARENT)
        os.makedirs(parent, exist_ok=True)
        _remove_stale(parent)
        self.path = os.path.join(parent, f"{os.getpid()}-{next(_counter)}-{time.monotonic_ns() % 10**6}")
        os.mkdir(self.path)
        self._last = 0.0
        self._closed = False

    def launcher_config(self) -> dict:
        return {"cgroup_procs": os.path.join(self.path, "cgroup.procs")}

    def read(self) -> float:
        if not self._closed:
            try:
                with open(os.path.join(self.path, "cpuacct.usage"), "rb") as handle:
                    self._last = max(self._last, int(handle.read()) / 1e9)
            except (OSError, ValueError):
                pass
        return self._last

    def pids(self) -> list[int]:
        try:
            with open(os.path.join(self.path, "cgroup.procs"), "rb") as handle:
                return [int(p) for p in handle.read().split()]
        except (OSError, ValueError):
            return []

    def close(self) -> float:
        """Read the final usage, kill what is left in the group (only the
        worker's own processes are ever in it), remove the group."""
        if self._closed:
            return self._last
        final = self.read()
        for attempt in range(50):
            pids = self.pids()
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            try:
                os.rmdir(self.path)
                break
            except FileNotFoundError:
                break
            except OSError as exc:
                if exc.errno != errno.EBUSY:
                    break
                time.sleep(0.01 * min(attempt + 1, 10))  # killed processes take a moment to leave
        final = max(final, self.read())
        self._closed = True
        return final


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
        return clock.read() == 0.0 and os.path.exists(clock.launcher_config()["cgroup_procs"])
    finally:
        clock.close()


@lru_cache(maxsize=4)
def _backend(wanted: str) -> str:
    if wanted == PROC:
        return PROC
    return CGROUP if _cgroup_works(CGROUP_ROOT) else PROC


def backend() -> str:
    """The backend used in this process: ``NNGRADE_CPU_CLOCK`` = ``proc``
    forces the /proc fallback; otherwise the cgroup when it works here."""
    return _backend(os.environ.get("NNGRADE_CPU_CLOCK", "auto").strip() or "auto")


def new_clock() -> CpuClock:
    """A fresh clock for one worker start."""
    if backend() == CGROUP:
        try:
            return CgroupCpuClock()
        except OSError:
            pass
    return ProcCpuClock()
