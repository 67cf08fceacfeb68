"""The zygote (grader/sandbox/zygote.py, the zygote part of launcher.py):
workers forked from a NumPy-preloaded process must be indistinguishable
from workers started as a program -- same view, same limits, same grades --
and a zygote that breaks must cost speed, never a grade."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from grader.engine import grade
from grader.sandbox import client as client_mod
from grader.sandbox import launcher
from grader.sandbox import zygote as zygote_mod
from grader.sandbox.limits import isolation, isolation_level

from test_sandbox_hostile import CORRECT, small_rubric
from test_sandbox_isolation import render

FORKED = zygote_mod.enabled() and isolation().root
needs_zygote = pytest.mark.skipif(not FORKED, reason=f"no zygote at this level ({isolation_level()}, root needed)")
SUBMISSIONS = Path(__file__).resolve().parents[2] / "submissions"


def _view(doc: dict) -> dict:
    line = next(line for line in doc["stdout"].splitlines() if line.startswith("VIEW "))
    return json.loads(line[5:])


def _started_by(monkeypatch) -> list[str]:
    """The class of every worker process started from now on."""
    kinds: list[str] = []
    original = client_mod.WorkerClient.start

    def start(self):
        original(self)
        kinds.append(type(self.proc).__name__)

    monkeypatch.setattr(client_mod.WorkerClient, "start", start)
    return kinds


def _comparable(doc: dict) -> dict:
    """A result document without what may differ between two runs of the
    same grade (time spent)."""
    doc = json.loads(json.dumps(doc))
    doc.pop("timings", None)
    for crit in doc.get("criteria", []):
        crit.pop("seconds", None)
    return doc


@needs_zygote
def test_workers_are_forked_and_see_what_exec_workers_see(tmp_path, monkeypatch):
    """Files (a digest of every path), argv, environment, rlimits, cwd, pid,
    hostname and sys.path: the same whether the worker was forked by the
    zygote or started as a fresh interpreter."""
    kinds = _started_by(monkeypatch)
    rubric = small_rubric(output_kb=64)
    forked = grade(render("worker_view", tmp_path / "a"), rubric).result
    assert kinds and set(kinds) == {"ZygoteProcess"}
    monkeypatch.setenv("NNGRADE_ZYGOTE", "0")
    started = grade(render("worker_view", tmp_path / "b"), rubric).result
    assert kinds[-1] == "Popen"
    assert forked["score"] == started["score"] == 100.0
    a, b = _view(forked), _view(started)
    assert a == b
    assert not any(not os.path.isabs(p) for p in a["sys.path"])


@needs_zygote
@pytest.mark.parametrize("sample", ["correct_vectorized.py", "bug_heavy_ball.py", "bug_sum_not_mean.py"])
def test_the_same_grade_byte_for_byte(sample, monkeypatch):
    path = SUBMISSIONS / sample
    if not path.exists():
        pytest.skip(f"{sample} not among the samples")
    forked = grade(path, small_rubric()).result
    monkeypatch.setenv("NNGRADE_ZYGOTE", "0")
    started = grade(path, small_rubric()).result
    assert json.dumps(_comparable(forked), sort_keys=True) == json.dumps(_comparable(started), sort_keys=True)


@needs_zygote
def test_one_worker_cannot_taint_the_next(tmp_path, monkeypatch):
    """Every worker is a fresh fork of the clean zygote: a submission that
    monkeypatches NumPy and the interpreter changes nothing for the next."""
    kinds = _started_by(monkeypatch)
    rubric = small_rubric()
    hostile = grade(render("monkeypatch", tmp_path / "h"), rubric).result
    correct = grade(CORRECT, rubric).result
    assert "ZygoteProcess" in kinds
    assert correct["score"] == 100.0, [(c["id"], c.get("feedback")) for c in correct["criteria"]]
    assert hostile["score"] < 100.0


@needs_zygote
def test_a_dead_zygote_costs_speed_not_a_grade(monkeypatch):
    kinds = _started_by(monkeypatch)
    z = zygote_mod.zygote()
    assert z is not None
    z.start()
    z._proc.kill()  # the zygote dies between two submissions
    z._proc.wait()
    doc = grade(CORRECT, small_rubric()).result
    assert doc["score"] == 100.0
    assert kinds and kinds[0] == "Popen"  # the exec path took over
    assert z.broken
    zygote_mod._ZYGOTE.clear()  # the next test gets a fresh one


@needs_zygote
def test_exit_status_as_an_interpreter_gives_it(tmp_path):
    """A forked worker that ends (here `os._exit(0)` in feed_forward) is
    reported with its own status, never the zygote's setup code 71."""
    doc = grade(render("os_exit_method", tmp_path), small_rubric()).result
    forward = next(c for c in doc["criteria"] if c["id"] == "forward")
    assert "exit status 0" in forward["feedback"]
    assert "71" not in forward["feedback"] and "could not start" not in forward["feedback"]


def test_no_template_below_a_per_worker_mount(tmp_path):
    """A venv under /tmp (a CI checkout, say) cannot be in a shared
    template: the per-worker /tmp would hide it.  `build_template` refuses
    before mounting anything."""
    plan = {"binds": ["/tmp/venv/lib/python3.11/site-packages/numpy"], "links": [], "empty": [],
            "devices": []}
    assert launcher.build_template(plan, str(tmp_path / "t")) is False
    assert not (tmp_path / "t").exists()
    plan = {"binds": ["/usr/lib"], "links": [["/dev/shm/x", "/usr"]], "empty": [], "devices": []}
    assert launcher.build_template(plan, str(tmp_path / "t")) is False


def test_descriptors_are_renumbered_for_the_zygote():
    cfg = {"keep_fds": [7, 9], "status_fd": 11, "argv": ["python", "-I", "-B", "w.py", "7", "9"]}
    out = launcher.adopt_fds(cfg, [3, 4, 5, 6])
    assert out["keep_fds"] == [5, 6] and out["status_fd"] == 4
    assert out["argv"] == ["python", "-I", "-B", "w.py", "5", "6"]
    assert cfg["keep_fds"] == [7, 9]  # the grader's copy is untouched


def test_exit_like_interpreter_statuses():
    """The exit status a forked worker reports, checked in a child process."""
    cases = [(SystemExit(None), 0), (SystemExit(3), 3), (SystemExit("bye"), 1), (ValueError("x"), 1),
             (SystemExit(256 + 5), 5)]
    for exc, expected in cases:
        pid = os.fork()
        if pid == 0:
            import atexit

            atexit._clear()  # this is a copy of the test process: its exit handlers are not ours to run
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            launcher.exit_like_interpreter(exc)
            os._exit(99)  # pragma: no cover - never reached
        _, raw = os.waitpid(pid, 0)
        assert os.WIFEXITED(raw) and os.WEXITSTATUS(raw) == expected, (exc, raw)


def test_only_for_allow_list_levels_and_not_when_turned_off(monkeypatch):
    """Root or not (an unprivileged zygote's children enter a user namespace),
    a zygote serves only the allow-list levels: one capped to another level
    or to the plain subprocess never starts."""
    monkeypatch.setenv("NNGRADE_ZYGOTE", "0")
    assert zygote_mod.zygote() is None
    monkeypatch.setenv("NNGRADE_ZYGOTE", "1")
    from grader.sandbox.limits import LEVELS, PLAIN

    for uid in (0, 1000):
        monkeypatch.setattr(os, "geteuid", lambda uid=uid: uid)
        monkeypatch.delenv("NNGRADE_ISOLATION", raising=False)
        assert zygote_mod.enabled()
        for level in LEVELS:
            monkeypatch.setenv("NNGRADE_ISOLATION", level.name)
            assert zygote_mod.enabled() == level.root, level.name
        monkeypatch.setenv("NNGRADE_ISOLATION", PLAIN.name)
        assert not zygote_mod.enabled()


def _markers(course_secret) -> list[list[str]]:
    """What the grader's process holds and no worker may: each split in two
    halves (the scanning fixture never joins them)."""
    import reference.network

    whole = [course_secret.key.hex(), course_secret.key.decode("latin-1"),
             reference.network.__doc__.splitlines()[0], os.environ["NNGRADE_SECRET_FILE"]]
    return [[w[:len(w) // 2], w[len(w) // 2:]] for w in whole]


def _found(text: str) -> tuple[set[int], int]:
    found = {int(line.split()[1]) for line in text.splitlines() if line.startswith("FOUND ")}
    scanned = next(int(line.split()[1]) for line in text.splitlines() if line.startswith("SCANNED "))
    return found, scanned


def test_the_memory_scan_finds_what_a_process_holds(course_secret):
    """Positive control: the same scan, run in a fork of this (grader)
    process, finds every marker -- so a worker forked from the grader itself
    would fail the next test."""
    scan = (Path(__file__).parent / "hostile" / "memory_scan.py").read_text()
    scan = scan[:scan.index("import numpy as np")].replace("@MARKERS@", json.dumps(_markers(course_secret)))
    secret_bytes = course_secret.key  # noqa: F841 -- held in this process, as the grader holds it
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        os.close(read)
        try:
            import sys

            sys.stdout = os.fdopen(write, "w")  # not pytest's capture
            exec(compile(scan, "memory_scan", "exec"), {"__name__": "scan"})
            sys.stdout.flush()
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as handle:
        text = handle.read()
    os.waitpid(pid, 0)
    found, scanned = _found(text)
    assert found == {0, 1, 2, 3}, text
    assert scanned > 10_000_000


@needs_zygote
def test_a_forked_worker_inherits_nothing_of_the_grader(tmp_path, course_secret, monkeypatch):
    """The attack the zygote invites: scan the worker's own memory for what
    the grader holds (the course secret, the reference solution, the
    secret's path).  The zygote is a fresh interpreter that never held any
    of it, so a worker forked from it finds nothing."""
    kinds = _started_by(monkeypatch)
    path = render("memory_scan", tmp_path, MARKERS=json.dumps(_markers(course_secret)))
    doc = grade(path, small_rubric(output_kb=64), secret=course_secret).result
    assert kinds and kinds[0] == "ZygoteProcess"
    found, scanned = _found(doc["stdout"])
    assert scanned > 10_000_000  # NumPy and the interpreter were scanned
    assert found == set(), doc["stdout"]
    assert doc["score"] == 100.0


@needs_zygote
def test_a_forked_copy_of_the_grader_leaves_the_zygote_alone(tmp_path):
    """A fork of the grader process that runs its exit handlers (as a
    careless library might) must not stop its parent's zygote or remove
    its templates; and a template removed from outside is rebuilt."""
    rubric = small_rubric()
    assert grade(CORRECT, rubric).result["score"] == 100.0
    z = zygote_mod.zygote()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child only runs the exit handlers
        import atexit

        atexit._run_exitfuncs()
        os._exit(0)
    os.waitpid(pid, 0)
    assert z._proc is not None and z._proc.poll() is None
    import shutil

    shutil.rmtree(z._templates, ignore_errors=True)  # the template's mount point, from outside
    os.makedirs(z._templates, exist_ok=True)
    assert grade(CORRECT, rubric).result["score"] == 100.0



def _children(pid: int) -> set[int]:
    out = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.add(int(entry))
    return out


@needs_zygote
def test_the_forked_ahead_child_is_the_next_worker_and_leaves_with_the_zygote(monkeypatch):
    """The zygote forks each worker's first process ahead of its request:
    the next start uses that very child, and when the zygote ends the unused
    one ends too (nothing of the grader's survives it)."""
    import time

    z = zygote_mod.Zygote()
    try:
        z.wait_ready()
        deadline = time.monotonic() + 120
        while not _children(z._proc.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        waiting = _children(z._proc.pid)
        assert len(waiting) == 1, waiting   # forked ahead, before any request
        client = client_mod.WorkerClient(client_mod.LoadSpec(source=CORRECT, directory=CORRECT.parent,
                                                             filename=CORRECT.name))
        monkeypatch.setattr(client_mod, "zygote", lambda: z)   # this test's own zygote
        try:
            client.start()
            assert type(client.proc).__name__ == "ZygoteProcess" and client.load_error is None
            assert client.proc.pid in waiting   # the child forked ahead became this worker
        finally:
            client.close()
        while len(_children(z._proc.pid) - waiting) < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        after = _children(z._proc.pid) - waiting
        assert len(after) == 1   # and the next one is already forked
    finally:
        zygote_pid = z._proc.pid
        z.close()
    deadline = time.monotonic() + 120
    while any(Path(f"/proc/{p}").exists() for p in after) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not any(Path(f"/proc/{p}").exists() for p in after), "the unused child outlived its zygote"
    assert not Path(f"/proc/{zygote_pid}").exists()
