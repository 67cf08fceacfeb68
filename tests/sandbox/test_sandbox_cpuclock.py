"""The CPU clock behind the time limits: both backends count the CPU time of
every process of a worker (children included, ended ones too), requests stop
on their CPU budget or, for code that waits, on the wall-clock backstop, and
the time-out messages name limits, never measured times.

No assertion here depends on how fast the machine is: work is measured in
CPU seconds the toy process counts itself (time.process_time)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from grader.sandbox import cpuclock
from grader.sandbox.client import Budget, LoadSpec, WorkerClient, WorkerFailure
from grader.sandbox.limits import WorkerLimits

TOY = '''
import os, time

def burn(seconds):
    """Spin until this process has used `seconds` of CPU time."""
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass

class Toy:
    def ok(self):
        return 1

    def burn(self, seconds):
        burn(seconds)
        return seconds

    def burn_children(self, n, seconds):
        """n children burn `seconds` each; they end and are reaped before the answer."""
        pids = []
        for _ in range(n):
            pid = os.fork()
            if pid == 0:
                burn(seconds)
                os._exit(0)
            pids.append(pid)
        for pid in pids:
            os.waitpid(pid, 0)
        return n

    def spin(self):
        while True:
            pass

    def sleep(self, seconds):
        time.sleep(seconds)
        return seconds
'''

BACKENDS = ["auto", cpuclock.PROC]


@pytest.fixture(params=BACKENDS)
def backend(request, monkeypatch):
    monkeypatch.setenv("NNGRADE_CPU_CLOCK", request.param)
    return cpuclock.backend()


@pytest.fixture
def client(tmp_path, backend):
    folder = tmp_path / "toy"
    folder.mkdir()
    (folder / "nn.py").write_text(textwrap.dedent(TOY))
    made = []

    def make(**overrides) -> WorkerClient:
        c = WorkerClient(LoadSpec(folder / "nn.py", folder, "nn.py"), limits=WorkerLimits(memory_mb=1024, **overrides),
                         load_timeout=20)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def call(c: WorkerClient, method: str, *args, timeout: float | Budget = 20):
    handle = int(c.request({"op": "new", "class": "Toy", "kwargs": {}}, 20)["handle"])
    return c.request({"op": "call", "handle": handle, "method": method, "args": list(args)}, timeout)["value"]


def groups() -> set[str]:
    parent = Path(cpuclock.CGROUP_ROOT) / cpuclock.GROUP_PARENT
    if not parent.is_dir():
        return set()
    return {p.name for p in parent.iterdir() if p.is_dir() and p.name.startswith(f"{os.getpid()}-")}


def test_backend_is_the_cgroup_where_root_has_one(monkeypatch):
    monkeypatch.setenv("NNGRADE_CPU_CLOCK", "auto")
    usable = os.geteuid() == 0 and os.path.isfile(os.path.join(cpuclock.CGROUP_ROOT, "cpuacct.usage"))
    assert cpuclock.backend() == (cpuclock.CGROUP if usable else cpuclock.PROC)
    monkeypatch.setenv("NNGRADE_CPU_CLOCK", "proc")
    assert cpuclock.backend() == cpuclock.PROC


def test_counts_the_work_of_the_worker(client, backend):
    c = client()
    c.start()
    assert c.cpu_clock == backend
    before = c.request_cpu
    call(c, "burn", 0.6)
    used = c.request_cpu - before
    assert 0.6 - 0.03 <= used < 0.6 + 0.5, used    # the work (within /proc's clock ticks), plus a little overhead
    assert c.cpu_seconds() >= c.load_cpu + used - 0.05


def test_counts_children_that_ended(client, backend):
    c = client()
    c.start()
    before = c.request_cpu
    call(c, "burn_children", 2, 0.4)
    assert c.request_cpu - before >= 0.8 - 0.05      # both children's CPU, although they are gone


def test_cpu_budget_stops_a_spinner_with_a_fixed_message(client, backend):
    c = client()
    c.start()
    with pytest.raises(WorkerFailure) as info:
        call(c, "spin", timeout=Budget(0.5, 60, 0.5, 180, "this criterion's limit"))
    failure = info.value
    assert failure.kind == "timeout" and failure.cause == "cpu"
    assert failure.message == "ran past this criterion's limit of 0.5 s of CPU time and was stopped"
    assert c.timeouts == 1 and not c.alive()
    assert c.request_cpu >= 0.5 - 1e-9                # it was stopped after its budget, not before
    assert call(c, "ok") == 1 and c.restarts == 1    # a fresh worker answers the next request


def test_wall_backstop_stops_a_sleeper(client, backend):
    c = client()
    c.start()
    with pytest.raises(WorkerFailure) as info:
        call(c, "sleep", 60, timeout=Budget(5, 0.5, 5, 15, "this criterion's limit"))
    failure = info.value
    assert failure.kind == "timeout" and failure.cause == "wall"
    assert failure.message == ("was still running after 15 s of wall-clock time (3 times this criterion's limit "
                               "of 5 s of CPU time: the backstop for code that waits, e.g. sleeps or reads input) "
                               "and was stopped")
    assert c.request_cpu < 5


def test_float_timeout_is_cpu_seconds_with_the_limits_backstop(client, backend):
    c = client(wall_factor=2.0)
    c.start()
    with pytest.raises(WorkerFailure) as info:
        call(c, "sleep", 60, timeout=0.2)          # backstop: 0.4 s of wall-clock time
    assert info.value.cause == "wall" and "after 0.4 s of wall-clock time (2 times" in info.value.message


def test_group_is_removed_after_close_and_after_kill(client, backend):
    c = client()
    c.start()
    if backend == cpuclock.CGROUP:
        assert len(groups()) >= 1
    with pytest.raises(WorkerFailure):
        call(c, "spin", timeout=0.3)                  # killed
    c.close()
    assert groups() == set()


def test_proc_tree_includes_reaped_children():
    code = ("import os, time\n"
            "def burn(s):\n    e = time.process_time() + s\n    while time.process_time() < e: pass\n"
            "pid = os.fork()\n"
            "if pid == 0:\n    burn(0.4)\n    os._exit(0)\n"
            "os.waitpid(pid, 0)\n"
            "print('reaped', flush=True)\n"
            "time.sleep(30)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "reaped"
        seconds = cpuclock.tree_cpu_seconds(proc.pid)
        assert seconds is not None and seconds >= 0.4 - 0.02
    finally:
        proc.kill()
        proc.wait()
    assert cpuclock.tree_cpu_seconds(proc.pid) is None


def test_budget_messages_name_limits_only():
    budget = Budget(0.123456, 0.5, 60, 180, "this criterion's limit")
    assert budget.cpu_message() == "ran past this criterion's limit of 60 s of CPU time and was stopped"
    assert "180 s of wall-clock time (3 times this criterion's limit of 60 s" in budget.wall_message()
    assert Budget.of(1.5, 3.0) == Budget(1.5, 4.5, 1.5, 4.5, "the time limit")


def test_stale_groups_of_dead_graders_are_removed():
    if not (os.geteuid() == 0 and os.path.isfile(os.path.join(cpuclock.CGROUP_ROOT, "cpuacct.usage"))):
        pytest.skip("no writable cpuacct hierarchy here")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    parent = Path(cpuclock.CGROUP_ROOT) / cpuclock.GROUP_PARENT
    parent.mkdir(exist_ok=True)
    stale = parent / f"{dead.pid}-0-0"
    stale.mkdir()
    old = time.time() - cpuclock.STALE_SECONDS - 60
    os.utime(stale, (old, old))
    try:
        cpuclock.CgroupCpuClock().close()
        assert not stale.exists()
    finally:
        if stale.exists():
            stale.rmdir()
