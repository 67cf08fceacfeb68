"""The plain-subprocess level (what the kit uses on macOS and Windows):
real grades here at ``NNGRADE_ISOLATION=plain-subprocess`` over every
channel (descriptors passed, stdin/stdout with select(), stdin/stdout with
helper threads as on Windows), and the decisions that differ per platform,
forced with `sys.platform` values and with `fcntl`/`resource` made
unimportable.  No test depends on speed: limits are generous, and a hang is
only ever asserted to be stopped, never how fast."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.engine import grade
from grader.sandbox import client as client_mod
from grader.sandbox import cpuclock, limits
from grader.sandbox.client import (FDS, STDIO, STDIO_THREADS, Budget, LoadSpec, WorkerClient, WorkerFailure,
                                   kill_group, plain_popen_options, worker_channel)
from grader.sandbox.limits import LEVELS, PLAIN, WorkerLimits, isolation, isolation_level

from test_sandbox_hostile import CORRECT, small_rubric

ROOT = Path(__file__).resolve().parents[2]
BUGGY = ROOT / "submissions" / "bug_sum_not_mean.py"
CHANNELS = (FDS, STDIO, STDIO_THREADS)
#: generous: a correct criterion takes well under a second of CPU; nothing here hangs
GENEROUS = dict(criterion_seconds=30.0, submission_seconds=300.0, load_seconds=60.0)


def _verdicts(doc: dict) -> list[tuple]:
    """What a grade says about each criterion (not how long it took)."""
    return [(c["id"], c.get("score"), c.get("status"), tuple(c.get("diagnoses") or ()), c.get("feedback"))
            for c in doc["criteria"]]


@pytest.fixture(scope="module")
def sandboxed() -> dict[Path, dict]:
    """The sandboxed grade (this machine's strongest level) of each sample."""
    assert not isolation().plain
    rubric = small_rubric(**GENEROUS)
    return {path: grade(path, rubric).result for path in (CORRECT, BUGGY)}


@pytest.fixture
def plain(monkeypatch):
    monkeypatch.setenv("NNGRADE_ISOLATION", PLAIN.name)

    def use(channel: str) -> None:
        monkeypatch.setenv("NNGRADE_WORKER_CHANNEL", channel)

    return use


# ---------------------------------------------------------------------------
# real grades
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("path", [CORRECT, BUGGY], ids=["correct", "bug_sum_not_mean"])
def test_plain_grades_are_the_sandboxed_grades(sandboxed, plain, channel, path):
    plain(channel)
    outcome = grade(path, small_rubric(**GENEROUS))
    doc = outcome.result
    assert doc["isolation"] == "plain-subprocess+rlimits" and outcome.run["cpu_clock"] == "proc"
    assert _verdicts(doc) == _verdicts(sandboxed[path])
    assert doc["stdout"] == sandboxed[path]["stdout"]   # the student's output is captured the same way
    if path == BUGGY:
        assert any("sum-not-mean" in v[3] for v in _verdicts(doc))
    else:
        assert all(v[2] == "passed" for v in _verdicts(doc))


NOISY = '''

import os as _os, struct as _struct, sys as _sys, json as _json


def _fake_frames():
    """Frames a grader would take for answers, had they reached its channel."""
    out = b""
    for ident in range(1, 200):
        body = _json.dumps({"ok": True, "value": 42, "id": ident}).encode()
        out += _struct.pack(">I", len(body)) + body
    return out


def _noise():
    print("x" * 5000)                       # a lot, through print
    _sys.stdout.write("FAKE" * 1000)
    _sys.stdout.flush()
    _sys.stdout.buffer.write(_fake_frames())
    _sys.stdout.flush()
    _os.write(1, _fake_frames())            # straight to descriptor 1
    _sys.stderr.write("to stderr\\n")
    assert _os.read(0, 4096) == b""         # descriptor 0 holds no request to steal
    assert _sys.stdin.read() == ""


_noise()
_feed = NN.feed_forward


def _noisy_feed(self, x):
    _noise()
    return _feed(self, x)


NN.feed_forward = _noisy_feed
'''


@pytest.mark.parametrize("channel", [STDIO, STDIO_THREADS])
def test_prints_and_fake_frames_never_reach_the_stdio_channel(sandboxed, plain, channel, tmp_path):
    plain(channel)
    noisy = tmp_path / "noisy.py"
    noisy.write_text(CORRECT.read_text() + NOISY)
    doc = grade(noisy, small_rubric(**GENEROUS, output_kb=64)).result
    assert _verdicts(doc) == _verdicts(sandboxed[CORRECT])   # every answer still the program's own
    assert "FAKEFAKE" in doc["stdout"] and "x" * 5000 in doc["stdout"] and "to stderr" in doc["stdout"]


SPIN = '''
import time


class Spin:
    def sleep(self):
        time.sleep(10 ** 6)

    def burn(self):
        while True:
            pass

    def child(self):
        import subprocess, sys
        proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(10 ** 6)"])
        return proc.pid
'''


def _client(tmp_path: Path) -> WorkerClient:
    source = tmp_path / "spin.py"
    source.write_text(SPIN)
    client = WorkerClient(LoadSpec(source, tmp_path, "spin.py"), limits=WorkerLimits(), load_timeout=60.0)
    client.start()
    assert client.load_error is None, client.load_error
    return client


def _call(client: WorkerClient, method: str, budget: Budget) -> object:
    handle = client.request({"op": "new", "class": "Spin"}, 60.0)["handle"]
    return client.request({"op": "call", "handle": handle, "method": method}, budget)


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_spinning_method_is_stopped_by_its_cpu_budget(plain, channel, tmp_path):
    """On Linux the plain worker is measured by /proc's clock like any other."""
    plain(channel)
    client = _client(tmp_path)
    try:
        assert client.cpu_clock == "proc" and client._clock.name == "proc"
        with pytest.raises(WorkerFailure) as info:
            _call(client, "burn", Budget(1.0, 600.0, 1.0, 600.0))
        assert info.value.kind == "timeout" and info.value.cause == "cpu"
        assert client.request({"op": "ping"}, 60.0) == "pong"   # a fresh worker after the time-out
    finally:
        client.close()


@pytest.mark.parametrize("channel", [FDS, STDIO_THREADS])
def test_without_a_cpu_clock_a_hang_is_stopped_by_the_backstop_at_its_limit(plain, channel, tmp_path, monkeypatch):
    """macOS and Windows have no /proc: the limit becomes a wall-clock limit
    (factor 1.0), worded as such."""
    plain(channel)
    monkeypatch.setenv("NNGRADE_CPU_CLOCK", "none")
    client = _client(tmp_path)
    try:
        assert client.limits.wall_factor == 1.0 and client._clock.name == "none"
        budget = Budget.of(2.0, client.limits.wall_factor)
        started = time.monotonic()
        with pytest.raises(WorkerFailure) as info:
            _call(client, "sleep", budget)
        assert time.monotonic() - started >= 2.0     # never earlier than the limit (no clock to say otherwise)
        assert info.value.kind == "timeout" and info.value.cause == "wall"
        assert info.value.message == ("ran past the time limit of 2 s and was stopped (measured in wall-clock "
                                      "time: this system gives the check no CPU clock)")
    finally:
        client.close()


def test_killing_a_plain_worker_takes_the_processes_it_started(plain, tmp_path):
    plain(FDS)
    client = _client(tmp_path)
    try:
        pid = _call(client, "child", Budget.of(30.0, 3.0))["value"]
        os.kill(pid, 0)   # alive
        client.kill()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            _reap(pid)
            time.sleep(0.05)
        else:
            pytest.fail(f"process {pid} survived its worker")
    finally:
        client.close()


def _reap(pid: int) -> None:
    """A killed grandchild becomes a zombie of init (or of this process when
    it is a subreaper): reaping is not ours, but a zombie still answers kill 0."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            if handle.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                raise ProcessLookupError
    except OSError:
        pass


# ---------------------------------------------------------------------------
# decisions per platform (forced)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_the_plain_level_is_chosen_off_linux_whatever_is_asked(platform, monkeypatch):
    monkeypatch.setenv("NNGRADE_ISOLATION", LEVELS[0].name)
    assert isolation(platform) is PLAIN


def test_linux_keeps_its_levels_and_gets_plain_only_by_name(monkeypatch):
    monkeypatch.delenv("NNGRADE_ISOLATION", raising=False)
    assert isolation("linux") in LEVELS and PLAIN not in LEVELS
    monkeypatch.setenv("NNGRADE_ISOLATION", PLAIN.name)
    assert isolation("linux") is PLAIN and isolation_level() == "plain-subprocess+rlimits"


@pytest.mark.parametrize("platform, env, expected", [
    ("linux", "", FDS), ("darwin", "", FDS), ("darwin", "bogus", FDS), ("linux", STDIO, STDIO),
    ("darwin", STDIO_THREADS, STDIO_THREADS), ("win32", "", STDIO_THREADS), ("win32", FDS, STDIO_THREADS)])
def test_the_channel_per_platform(platform, env, expected, monkeypatch):
    monkeypatch.setenv("NNGRADE_WORKER_CHANNEL", env)
    assert worker_channel(platform) == expected


def test_popen_options_windows_has_no_sessions_and_no_descriptors_to_pass(tmp_path):
    win = plain_popen_options("win32", STDIO_THREADS, cwd=tmp_path, env={}, output="OUT")
    assert win["creationflags"] == getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0x200)
    assert "pass_fds" not in win and "start_new_session" not in win
    assert (win["stdin"], win["stdout"], win["stderr"]) == (subprocess.PIPE, subprocess.PIPE, "OUT")
    mac = plain_popen_options("darwin", FDS, cwd=tmp_path, env={}, output="OUT", pass_fds=(5, 6))
    assert mac["start_new_session"] and mac["pass_fds"] == (5, 6) and "creationflags" not in mac
    assert (mac["stdin"], mac["stdout"], mac["stderr"], mac["cwd"]) == (subprocess.DEVNULL, "OUT", "OUT", str(tmp_path))


def test_windows_kills_the_tree_with_taskkill(monkeypatch):
    seen = []
    monkeypatch.setattr(client_mod.subprocess, "run", lambda command, **kw: seen.append(command))
    monkeypatch.setattr(client_mod.os, "killpg", lambda *a: pytest.fail("no process groups on Windows"),
                        raising=False)
    kill_group(4242, "win32")
    assert seen == [["taskkill", "/F", "/T", "/PID", "4242"]]


def test_rlimits_per_platform():
    every = WorkerLimits().rlimits()
    assert set(limits.plain_rlimits(WorkerLimits(), "linux")) == set(every) - {"NPROC"}
    assert set(limits.plain_rlimits(WorkerLimits(), "darwin")) == set(every) - {"NPROC", "AS"}
    argv = limits.plain_command(["python", "w.py", "--stdio"], WorkerLimits(), "darwin")
    assert argv[:3] == ["python", "w.py", "--stdio"] and argv[3] == "--rlimits"
    assert json.loads(argv[4]) == limits.plain_rlimits(WorkerLimits(), "darwin")


def test_without_resource_nothing_is_limited_and_the_level_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "resource", None)   # `import resource` raises ImportError, as on Windows
    monkeypatch.setenv("NNGRADE_ISOLATION", PLAIN.name)
    assert limits.plain_rlimits(WorkerLimits(), "win32") == {}
    assert limits.plain_command(["python", "w.py", "--stdio"], WorkerLimits()) == ["python", "w.py", "--stdio"]
    assert isolation_level() == "plain-subprocess"


def test_the_worker_limits_itself_best_effort(monkeypatch):
    from grader.sandbox import worker

    assert worker.parse_arguments(["3", "4"]) == (3, 4, {})
    assert worker.parse_arguments(["--stdio", "--rlimits", '{"CORE": 0}']) == (None, None, {"CORE": 0})
    monkeypatch.setitem(sys.modules, "resource", None)
    assert worker.apply_rlimits({"CORE": 0}) == []


def test_windows_environment_keeps_the_system_folder():
    assert limits.windows_environment({"SYSTEMROOT": "C:\\Windows", "SECRET": "x"}) == {"SYSTEMROOT": "C:\\Windows"}


def test_no_proc_means_no_cpu_clock_and_a_wall_factor_of_one(monkeypatch, tmp_path):
    assert WorkerClient(LoadSpec(tmp_path / "nn.py", tmp_path, "nn.py")).limits.wall_factor == 3.0   # Linux
    monkeypatch.setattr(cpuclock, "proc_available", lambda: False)
    cpuclock._backend.cache_clear()
    try:
        assert cpuclock.backend() == cpuclock.NONE
        clock = cpuclock.new_clock(WorkerLimits())
        clock.attach(os.getpid())
        assert isinstance(clock, cpuclock.NoCpuClock) and clock.read() == 0.0 and clock.close() == 0.0
        client = WorkerClient(LoadSpec(tmp_path / "nn.py", tmp_path, "nn.py"), limits=WorkerLimits(wall_factor=3.0))
        assert client.limits.wall_factor == 1.0
    finally:
        monkeypatch.undo()
        cpuclock._backend.cache_clear()


BLOCKED_CHECK = r'''
import sys
sys.modules["fcntl"] = None      # as on Windows: `import fcntl` raises ImportError
sys.modules["resource"] = None
from grader import kitcli
code = kitcli.main(["check", sys.argv[1], "--rubric", "penguins-silu"], platform="win32")
assert "fcntl" not in [m for m, v in sys.modules.items() if v is not None]
sys.exit(code)
'''


@pytest.mark.parametrize("channel", [FDS, STDIO_THREADS])
def test_the_kit_check_runs_without_fcntl_and_resource(channel, tmp_path):
    """The whole check path (the kit's command line, the engine, the client)
    in a process where fcntl and resource cannot be imported, as on Windows."""
    env = {**os.environ, "NNGRADE_ISOLATION": PLAIN.name, "NNGRADE_WORKER_CHANNEL": channel,
           "NNGRADE_CPU_CLOCK": "none", "COLUMNS": "160"}
    done = subprocess.run([sys.executable, "-c", BLOCKED_CHECK, str(CORRECT)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stderr.count("plain subprocess, without the Linux sandbox") == 1
