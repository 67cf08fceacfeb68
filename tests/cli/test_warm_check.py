"""The warm check process (grader/warmcheck.py): a check handed to it prints
what a cold `nngrade check` prints, exits the same, and nothing else can
use it.

Every test has its own socket folder (XDG_RUNTIME_DIR in tmp_path) and an
idle limit, and stops the spares it started; waits are generous (a spare
imports the grader and NumPy: seconds on a busy machine), and nothing is
timed.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader import warmcheck

REPO = Path(__file__).resolve().parents[2]
SUBMISSIONS = REPO / "submissions"
WAIT = 240.0

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the warm process is Linux-only")


@pytest.fixture
def warm_env():
    runtime = Path(tempfile.mkdtemp(prefix="nw", dir="/tmp"))   # short: a unix socket's path is
    env = {k: v for k, v in os.environ.items() if not k.startswith("NNGRADE_WARM")}
    env.update(XDG_RUNTIME_DIR=str(runtime), NNGRADE_WARM_CHECK="1", NNGRADE_WARM_CHECK_IDLE="300",
               PYTHONPATH=str(REPO))
    yield env
    for lock in (runtime / "nngrade").glob("c-*.lock"):
        pid = _pid(lock)
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    shutil.rmtree(runtime, ignore_errors=True)


def _pid(lock: Path) -> int | None:
    text = lock.read_text().strip() if lock.exists() else ""
    return int(text) if text.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return Path(f"/proc/{pid}/status").exists() and "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()


def check(env: dict, *args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", "check", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def spare(env: dict, *, other_than: int | None = None) -> tuple[int, Path]:
    """Wait until a spare listens: (its pid, its socket)."""
    folder = Path(env["XDG_RUNTIME_DIR"]) / "nngrade"
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        for sock in folder.glob("c-*.s"):
            pid = _pid(sock.with_name(sock.name[:-2] + ".lock"))
            if pid and pid != other_than and _alive(pid):
                return pid, sock
        time.sleep(0.1)
    raise AssertionError(f"no warm check process listened in {folder}: {sorted(os.listdir(folder))}")


def gone(pid: int) -> bool:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def without_time(text: str) -> str:
    return re.sub(r"in \d+(\.\d+)? s", "in T s", text)


def test_a_check_served_warm_prints_and_exits_as_a_cold_one(warm_env):
    cold = check({**warm_env, "NNGRADE_WARM_CHECK": "1"}, str(SUBMISSIONS / "bug_sum_not_mean.py"))
    first, _ = spare(warm_env)          # the cold check left one behind
    warm = check(warm_env, str(SUBMISSIONS / "bug_sum_not_mean.py"))
    assert gone(first), "the spare did not serve the check (it is still waiting)"
    second, _ = spare(warm_env, other_than=first)   # ... and started its successor
    assert second != first
    assert (warm.returncode, without_time(warm.stdout), warm.stderr) == \
        (cold.returncode, without_time(cold.stdout), cold.stderr)
    assert cold.returncode == 1 and "public checks need work" in cold.stdout


def test_usage_errors_relative_paths_and_full_marks_pass_through(warm_env, tmp_path):
    check(warm_env, str(SUBMISSIONS / "correct_vectorized.py"))
    pid, _ = spare(warm_env)
    missing = check(warm_env, "no_such_file.py")
    assert missing.returncode == 2 and "no_such_file.py does not exist" in missing.stderr
    assert gone(pid)
    pid, _ = spare(warm_env, other_than=pid)
    work = tmp_path / "work"
    work.mkdir()
    (work / "mine.py").write_text((SUBMISSIONS / "correct_vectorized.py").read_text())
    served = check(warm_env, "mine.py", cwd=work)   # relative to the client's folder, not the spare's
    assert gone(pid)
    assert served.returncode == 0 and "all public checks passed" in served.stdout, served.stdout + served.stderr


def test_another_key_is_never_served_by_this_spare(warm_env):
    check(warm_env, str(SUBMISSIONS / "correct_vectorized.py"))
    pid, sock = spare(warm_env)
    other = {**warm_env, "NNGRADE_CRITERION_SECONDS_NOTE": "another setting"}   # any NNGRADE_* is keyed
    assert warmcheck.fingerprint(other) != warmcheck.fingerprint(warm_env)
    done = check(other, str(SUBMISSIONS / "correct_vectorized.py"))
    assert done.returncode == 0
    assert _alive(pid) and sock.exists(), "a check with another setting used the spare"


def test_a_spare_nobody_asks_for_ends_and_leaves_no_socket(warm_env):
    env = {**warm_env, "NNGRADE_WARM_CHECK_IDLE": "1"}
    check(env, str(SUBMISSIONS / "correct_vectorized.py"))
    folder = Path(env["XDG_RUNTIME_DIR"]) / "nngrade"
    deadline = time.monotonic() + WAIT
    lock = None
    while time.monotonic() < deadline and lock is None:
        lock = next((p for p in folder.glob("c-*.lock") if _pid(p)), None)
        time.sleep(0.05)
    assert lock is not None, "no spare started"
    assert gone(_pid(lock))
    assert list(folder.glob("c-*.s")) == []


def test_a_folder_that_is_not_safely_the_users_own_is_not_used(warm_env):
    shared = Path(warm_env["XDG_RUNTIME_DIR"]) / "nngrade"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)   # (umask aside) readable by others: refused
    done = check(warm_env, str(SUBMISSIONS / "correct_vectorized.py"))
    assert done.returncode == 0
    time.sleep(1.0)
    assert list(shared.iterdir()) == []


def test_only_check_is_served_and_a_refused_request_runs_nothing(warm_env, tmp_path):
    check(warm_env, str(SUBMISSIONS / "correct_vectorized.py"))
    pid, sock = spare(warm_env)
    out = tmp_path / "batch-out"
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(str(sock))
    data = json.dumps({"argv": ["batch", str(SUBMISSIONS), "--out", str(out)], "cwd": str(REPO),
                       "env": {}, "umask": 0o022}).encode()
    null = os.open(os.devnull, os.O_RDWR)
    try:
        conn.sendmsg([struct.pack(">I", len(data)) + data],
                     [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("3i", null, null, null))])
        conn.settimeout(WAIT)
        assert conn.recv(64) == b""   # no "accepted": the spare hung up
    finally:
        os.close(null)
        conn.close()
    assert gone(pid)
    assert not out.exists()


def test_the_key_follows_the_grader_files(tmp_path, monkeypatch):
    package = tmp_path / "grader"
    package.mkdir()
    module = package / "engine.py"
    module.write_text("x = 1\n")
    monkeypatch.setattr(warmcheck, "PACKAGE", package)
    env = {"NNGRADE_ISOLATION": "auto", "UNRELATED": "1"}
    before = warmcheck.fingerprint(env)
    assert warmcheck.fingerprint({**env, "UNRELATED": "2"}) == before   # only read at request time
    assert warmcheck.fingerprint({**env, "NNGRADE_ISOLATION": "rlimits"}) != before
    module.write_text("x = 22\n")
    assert warmcheck.fingerprint(env) != before
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.setattr(warmcheck, "_site_folders", lambda: [str(site)])
    before = warmcheck.fingerprint(env)
    (site / "numpy-9.9.dist-info").mkdir()   # pip installs or upgrades a package
    os.utime(site, ns=(1, 10**18))
    assert warmcheck.fingerprint(env) != before


def test_off_means_no_spare_and_no_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    monkeypatch.setenv("NNGRADE_WARM_CHECK", "0")
    assert warmcheck.hand_over(["check", "x.py"]) is None
    warmcheck.leave_spare()
    assert not (tmp_path / "nngrade").exists()


def test_the_check_output_ends_when_the_check_does_not_when_the_spare_does(monkeypatch):
    """A reader of the check's output (`nngrade check | less`, a subprocess
    with pipes) gets end of file when the exit code comes, although the spare
    lives on (here: forever) to start its successor and tear down."""
    monkeypatch.setattr(warmcheck, "_run", lambda argv: (print("checked", argv[1], flush=True), 0)[1])
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:   # the spare
        try:
            ours.close()
            os.close(read_end)
            os.close(write_end)
            warmcheck._serve_one(theirs)
            while True:
                time.sleep(60)
        finally:
            os._exit(0)
    try:
        theirs.close()
        null = os.open(os.devnull, os.O_RDONLY)
        warmcheck._send(ours, {"argv": ["check", "nn.py"], "cwd": "/", "env": {"LANG": "C.UTF-8"}, "umask": 18},
                        fds=(null, write_end, write_end))
        os.close(null)
        os.close(write_end)
        ours.settimeout(WAIT)
        accepted, _ = warmcheck._receive(ours)
        done, _ = warmcheck._receive(ours)
        assert accepted == {"accepted": True, "pid": pid} and done == {"exit": 0}
        chunks = []
        while True:
            ready, _, _ = select.select([read_end], [], [], WAIT)
            assert ready, "the spare still holds the check's output"
            chunk = os.read(read_end, 4096)
            if not chunk:
                break
            chunks.append(chunk)
        assert b"".join(chunks) == b"checked nn.py\n"
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(read_end)
        ours.close()


def test_a_sandboxed_submission_cannot_reach_the_warm_check_process(warm_env, tmp_path, monkeypatch):
    """The spare's socket is a host path in the user's own folder; a worker
    at the allow-list level sees none of the host's /tmp or runtime folder."""
    from grader.engine import grade
    from grader.rubric import load_rubric
    from grader.sandbox.limits import isolation

    if not isolation().root:
        pytest.skip("no allow-list root at this isolation level")
    check(warm_env, str(SUBMISSIONS / "correct_vectorized.py"))
    pid, sock = spare(warm_env)
    source = (SUBMISSIONS / "correct_vectorized.py").read_text()
    probe = ("import socket as _s\n_c = _s.socket(_s.AF_UNIX, _s.SOCK_STREAM)\n_c.settimeout(2)\n"
             f"try:\n    _c.connect({str(sock)!r})\n    print('ALLOWED: reached the warm check process')\n"
             "except Exception as _e:\n    print('refused:', type(_e).__name__)\n_c.close()\n")
    path = tmp_path / "nn.py"
    path.write_text(probe + source)
    monkeypatch.setenv("NNGRADE_WARM_CHECK", "0")
    rubric = load_rubric("penguins-silu")
    doc = grade(path, rubric.model_copy(update={"criteria": rubric.criteria[:2]})).result
    assert "refused: FileNotFoundError" in doc["stdout"] and "ALLOWED" not in doc["stdout"], doc["stdout"]
    assert _alive(pid) and sock.exists(), "the spare was reached (it serves one client, then ends)"


def test_a_ci_job_leaves_no_spare_unless_asked(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    monkeypatch.delenv("NNGRADE_WARM_CHECK", raising=False)
    monkeypatch.setenv("CI", "true")
    assert not warmcheck.enabled()
    warmcheck.leave_spare()
    assert not (tmp_path / "nngrade").exists()
    monkeypatch.setenv("CI", "false")
    assert warmcheck.enabled()
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("NNGRADE_WARM_CHECK", "1")   # asked for: on
    assert warmcheck.enabled()
