"""Resource limits and isolation for a worker process.

Applied in the child between fork and exec, so they bind the student's code
from its first instruction.  The strongest isolation this machine allows is
chosen once (`isolation_level`) and reported in every result.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class WorkerLimits:
    """What one worker process may use."""

    memory_mb: int = 2048
    cpu_seconds: int = 600
    processes: int = 64
    output_bytes: int = 65536
    file_mb: int = 64
    open_files: int = 256


def apply_rlimits(limits: WorkerLimits) -> None:
    """Called in the child (preexec): new session, then hard rlimits."""
    os.setsid()
    mem = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
    size = limits.file_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
    except (ValueError, OSError):
        pass


@lru_cache(maxsize=1)
def isolation_level() -> str:
    """'namespaces+rlimits' when unshare can give the worker its own network
    and PID namespaces here, else 'rlimits'."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return "rlimits"
    try:
        probe = subprocess.run([unshare, "--net", "--pid", "--fork", "--kill-child", "true"],
                               capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "rlimits"
    return "namespaces+rlimits" if probe.returncode == 0 else "rlimits"


def wrap_command(command: list[str]) -> list[str]:
    """Prefix the worker command with namespace isolation when available:
    no network, its own PID space (killing it kills every child it made)."""
    if isolation_level().startswith("namespaces"):
        return [shutil.which("unshare") or "unshare", "--net", "--pid", "--fork",
                "--kill-child", "--"] + command
    return command
