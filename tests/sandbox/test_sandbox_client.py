"""Unit tests of the sandbox plumbing: limits, the launcher, the client's
failure handling (timeouts, deaths, garbage on the channel) and the
isolation the worker actually gets."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from dataclasses import fields
from pathlib import Path

import re

import pytest

from grader.sandbox import limits as limits_mod
from grader.sandbox.client import LoadSpec, WorkerClient, WorkerFailure
from grader.sandbox.limits import LEVELS, WorkerLimits, isolation, isolation_level

ROOT = Path(__file__).resolve().parents[2]
FULL = "namespaces(net,pid,mount,ipc,uts,cgroup)+allowlist-root+uid+rlimits"
CGROUP_PART = re.compile(r"\+cgroup\([a-z,]*\)")

TOY = '''
import os, sys, time, struct, resource, signal, socket, json

class Toy:
    def ok(self, value=1):
        return value

    def loop(self):
        while True:
            pass

    def sleep(self, seconds):
        time.sleep(seconds)
        return seconds

    def exit_hard(self, code):
        os._exit(code)

    def kill_self(self):
        os.kill(os.getpid(), signal.SIGKILL)

    def garbage(self):
        os.write(int(sys.argv[2]), b"this is not a frame at all")
        return 1

    def bad_json(self):
        os.write(int(sys.argv[2]), struct.pack(">I", 5) + b"{{{{{")
        return 1

    def not_an_answer(self):
        body = b"[1, 2, 3]"
        os.write(int(sys.argv[2]), struct.pack(">I", len(body)) + body)
        return 1

    def close_channel(self):
        os.close(int(sys.argv[2]))
        time.sleep(30)

    def shout(self, n):
        sys.stdout.write("x" * n)
        return n

    def fork(self):
        return os.fork()

    def forks(self, n):
        for _ in range(n):
            if os.fork() == 0:
                time.sleep(60)
                os._exit(0)
        return n

    def big_file(self, megabytes):
        with open("big.bin", "wb") as handle:
            handle.write(b"x" * (megabytes * 2**20))
        return megabytes

    def tmp_files(self, tag):
        open("/tmp/" + tag, "w").close()
        return " ".join(sorted(os.listdir("/tmp")))

    def spin(self):
        x = 0
        while True:
            x += 1

    def facts(self, try_write=False):
        out = {"uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups(), "pid": os.getpid(),
               "cwd": os.getcwd(), "tmp": " ".join(sorted(os.listdir("/tmp"))),
               # the interpreter's own prefix (a .venv inside the checkout) is bound back on purpose
               "root_on_path": any(p == REPO or p.startswith(REPO + "/") and not
                                   os.path.realpath(p).startswith(os.path.realpath(sys.prefix) + "/")
                                   for p in sys.path),
               "limits": {name: resource.getrlimit(getattr(resource, "RLIMIT_" + name))[0]
                          for name in ("AS", "CPU", "FSIZE", "NOFILE", "NPROC", "CORE")}}
        try:
            socket.create_connection(("127.0.0.1", 9), timeout=5)
            out["net"] = "connected"
        except OSError as exc:
            out["net"] = type(exc).__name__ + str(exc.errno)
        for what, action in (("import_grader", lambda: __import__("grader")),
                             ("import_reference", lambda: __import__("reference")),
                             ("read_reference", lambda: open(REPO + "/reference/network.py").read()),
                             ("write_repo", lambda: open(REPO + "/pwned-by-toy.txt", "w").write("x"))):
            if what == "write_repo" and not try_write:  # only where a uid protects the repository
                continue
            try:
                action()
                out[what] = "allowed"
            except Exception as exc:
                out[what] = type(exc).__name__
        return out
'''


def toy_source(tmp_path: Path) -> Path:
    folder = tmp_path / "toy"
    folder.mkdir()
    src = folder / "nn.py"
    src.write_text(f"REPO = {str(ROOT)!r}\n" + textwrap.dedent(TOY))
    return src


@pytest.fixture
def client(tmp_path):
    src = toy_source(tmp_path)
    made = []

    def make(**limit_overrides) -> WorkerClient:
        lim = WorkerLimits(memory_mb=1024, **limit_overrides)
        c = WorkerClient(LoadSpec(src, src.parent, "nn.py"), limits=lim, load_timeout=20)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def new_toy(c: WorkerClient) -> int:
    return int(c.request({"op": "new", "class": "Toy", "kwargs": {}}, 20)["handle"])


def call(c: WorkerClient, handle: int, method: str, *args, timeout: float = 20):
    return c.request({"op": "call", "handle": handle, "method": method, "args": list(args)}, timeout)["value"]


def unshare_works() -> bool:
    unshare = shutil.which("unshare")
    if os.geteuid() != 0 or unshare is None:
        return False
    try:
        done = subprocess.run([unshare, "--net", "--pid", "--mount", "--fork", "--kill-child", "true"],
                              capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


# -- limits ---------------------------------------------------------------------

def test_worker_limits_cover_every_rubric_limit():
    from grader.rubric import Limits

    names = {f.name for f in fields(WorkerLimits)}
    for name in Limits.model_fields:
        assert name in names or name == "output_kb", name
    rubric_limits = Limits(criterion_seconds=7, submission_seconds=70, load_seconds=9, memory_mb=512,
                           cpu_seconds=33, processes=12, output_kb=3, file_mb=5)
    lim = WorkerLimits.from_rubric(rubric_limits)
    assert (lim.criterion_seconds, lim.submission_seconds, lim.load_seconds) == (7, 70, 9)
    assert (lim.memory_mb, lim.cpu_seconds, lim.processes, lim.file_mb) == (512, 33, 12, 5)
    assert lim.output_bytes == 3 * 1024 and lim.output_kb == 3
    assert WorkerLimits.from_rubric(rubric_limits, memory_mb=300).memory_mb == 300


def test_rlimits_table():
    table = WorkerLimits(memory_mb=300, cpu_seconds=10, processes=7, file_mb=2).rlimits()
    assert table["AS"] == 300 * 2**20
    assert table["CPU"] == [10, 15]
    assert table["NPROC"] == 7 and table["FSIZE"] == 2 * 2**20 and table["CORE"] == 0


def test_isolation_level_string():
    level = CGROUP_PART.sub("", isolation_level())  # the per-submission cgroup's part depends on the machine
    assert level in {lvl.name for lvl in LEVELS}
    assert level.endswith("rlimits")
    if unshare_works() and os.environ.get("NNGRADE_ISOLATION", "auto") == "auto":
        assert level == FULL


def test_isolation_level_can_be_capped(monkeypatch):
    monkeypatch.setenv("NNGRADE_ISOLATION", "rlimits")
    assert CGROUP_PART.sub("", isolation_level()) == "rlimits"
    monkeypatch.setenv("NNGRADE_ISOLATION", "auto")
    assert CGROUP_PART.sub("", isolation_level()) == limits_mod._chosen("auto").name


def test_hidden_and_kept_paths():
    keep, hide = limits_mod._mount_plan_base()
    assert str(ROOT) in hide  # a source checkout is hidden whole
    assert any(Path(sys.executable).resolve().is_relative_to(k) for k in keep)
    assert "/" not in hide and "/usr" not in hide


def test_uid_leases_are_distinct():
    leases = [limits_mod.UidLease.acquire() for _ in range(5)]
    try:
        uids = [lease.uid for lease in leases]
        assert len(set(uids)) == 5
        assert all(limits_mod.UID_BASE <= u < limits_mod.UID_BASE + limits_mod.UID_COUNT for u in uids)
    finally:
        for lease in leases:
            lease.release()


# -- requests and failures ---------------------------------------------------------

def test_round_trip_and_restart_counter(client):
    c = client()
    c.start()
    assert c.load_error is None and c.load_result == {"classes": ["Toy"]}
    handle = new_toy(c)
    assert call(c, handle, "ok", 41) == 41
    assert c.restarts == 0


def test_timeout_kills_and_restarts(client):
    c = client()
    c.start()
    handle = new_toy(c)
    old = c.proc
    started = time.monotonic()
    with pytest.raises(WorkerFailure) as info:
        call(c, handle, "loop", timeout=1.0)
    assert info.value.kind == "timeout"
    assert time.monotonic() - started < 60  # generous (the backstop is 3 s): stopped, not waited for forever
    assert not c.alive() and old.poll() is not None  # the whole worker is gone
    handle = new_toy(c)                               # the next request gets a fresh worker
    assert call(c, handle, "ok", 3) == 3
    assert c.restarts == 1


@pytest.mark.parametrize("code", [0, 7])
def test_exit_is_a_crash_with_its_status(client, code):
    c = client()
    c.start()
    handle = new_toy(c)
    with pytest.raises(WorkerFailure) as info:
        call(c, handle, "exit_hard", code)
    assert info.value.kind == "crash"
    assert f"exit status {code}" in info.value.message
    assert call(c, new_toy(c), "ok") == 1


def test_death_by_signal_is_named(client):
    c = client()
    c.start()
    with pytest.raises(WorkerFailure) as info:
        call(c, new_toy(c), "kill_self")
    assert info.value.kind == "crash" and "SIGKILL" in info.value.message


@pytest.mark.parametrize("method", ["garbage", "bad_json", "not_an_answer"])
def test_garbage_on_the_channel_is_a_protocol_failure(client, method):
    c = client()
    c.start()
    handle = new_toy(c)
    with pytest.raises(WorkerFailure) as info:
        call(c, handle, method, timeout=5)
    assert info.value.kind == "protocol"
    assert not c.alive()                  # an untrustworthy channel is never reused
    assert call(c, new_toy(c), "ok", 5) == 5


def test_closed_channel_is_detected(client):
    c = client()
    c.start()
    handle = new_toy(c)
    started = time.monotonic()
    with pytest.raises(WorkerFailure) as info:
        call(c, handle, "close_channel", timeout=2)  # a sleeper: stopped by the 3x wall-clock backstop
    # the unshare process keeps a copy of the channel, so this is seen as a hang
    assert info.value.kind in ("crash", "protocol", "timeout")
    assert time.monotonic() - started < 60  # generous (the backstop is 6 s)
    assert call(c, new_toy(c), "ok") == 1


def test_forked_child_never_answers(client):
    c = client()
    c.start()
    handle = new_toy(c)
    pid = call(c, handle, "fork")
    assert isinstance(pid, int) and pid > 0
    for value in range(3):               # no stray answers from the child
        assert call(c, handle, "ok", value) == value


def test_output_is_captured_and_truncated(client):
    c = client(output_bytes=1000)
    c.start()
    handle = new_toy(c)
    call(c, handle, "shout", 600)
    assert c.output() == "x" * 600
    call(c, handle, "shout", 600)
    text = c.output()
    assert text.startswith("x" * 1000) and "truncated at 1000 bytes" in text
    with pytest.raises(WorkerFailure):
        call(c, handle, "exit_hard", 1)   # output of finished workers is kept
    assert "truncated at 1000 bytes" in c.output()


def test_output_file_is_capped(client):
    c = client(file_mb=1)
    c.start()
    handle = new_toy(c)
    with pytest.raises(WorkerFailure) as info:
        call(c, handle, "shout", 3 * 2**20)
    assert info.value.kind == "exception"
    assert "printed more than" in info.value.message
    assert call(c, new_toy(c), "ok") == 1    # a fresh worker with a fresh output file


def test_load_failure_is_kept_until_restart(client, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "nn.py").write_text("def f(:\n")
    c = WorkerClient(LoadSpec(broken / "nn.py", broken, "nn.py"), limits=WorkerLimits(memory_mb=1024))
    try:
        c.start()
        assert c.load_error is not None and c.load_error.error_type == "SyntaxError"
        with pytest.raises(WorkerFailure):
            c.request({"op": "ping"}, 5)
    finally:
        c.close()


def test_close_cleans_up(client):
    c = client()
    c.start()
    proc, workdir, io = c.proc, c.workdir, c._io
    c.close()
    assert proc.poll() is not None
    assert not workdir.exists() and not io.exists()


# -- what the worker gets --------------------------------------------------------------

def test_worker_facts(client):
    marker = Path("/tmp") / f"nngrade-host-marker-{os.getpid()}"
    marker.touch()
    c = client(processes=32, cpu_seconds=50, file_mb=3)
    try:
        c.start()
    finally:
        marker.unlink()
    level = isolation()
    facts = call(c, new_toy(c), "facts", bool(level.uid))
    lim = facts["limits"]
    assert lim["AS"] == 1024 * 2**20
    assert lim["CPU"] == 50 and lim["FSIZE"] == 3 * 2**20 and lim["CORE"] == 0
    assert not facts["root_on_path"]
    if level.uid:
        assert facts["uid"] >= limits_mod.UID_BASE and facts["gid"] == facts["uid"] and len(facts["groups"]) == 0
        assert lim["NPROC"] == 32
        # PermissionError (deny-list levels), or FileNotFoundError / a read-only root (allow-list)
        assert facts["write_repo"] in ("PermissionError", "FileNotFoundError", "OSError")
    if "net" in level.name:
        assert facts["net"].startswith("OSError")
    if level.pid:
        assert facts["pid"] == 2      # the launcher is PID 1 of the worker's namespace
    if level.mounts:
        assert facts["import_grader"] == "ModuleNotFoundError"
        assert facts["import_reference"] == "ModuleNotFoundError"
        assert facts["read_reference"] in ("FileNotFoundError", "PermissionError")
        assert Path(facts["cwd"]).name in facts["tmp"].split()
        assert marker.name not in facts["tmp"].split()   # a private /tmp
    assert not (ROOT / "pwned-by-toy.txt").exists()


def test_two_workers_do_not_share_uid_or_tmp(client):
    a, b = client(), client()
    a.start()
    b.start()
    fa = call(a, new_toy(a), "facts")
    fb = call(b, new_toy(b), "facts")
    if isolation().uid:
        assert fa["uid"] != fb["uid"]
    if isolation().mounts:
        seen_a = call(a, new_toy(a), "tmp_files", "from-a").split()
        seen_b = call(b, new_toy(b), "tmp_files", "from-b").split()
        assert "from-a" in seen_a and "from-a" not in seen_b
        assert "from-b" in seen_b and "from-b" not in seen_a


def test_worker_start_is_cheap(client):
    """Counted in CPU seconds of the worker's processes (a busy machine
    stretches the wall clock, not this): a zygote fork costs ~0.01 s, a
    fresh interpreter importing NumPy ~0.2 s; either is far below 1 s."""
    c = client()
    costs = []
    for _ in range(3):
        before = c.cpu_seconds()
        c.start()
        assert c.load_error is None
        costs.append(c.cpu_seconds() - before)
    assert min(costs) < 1.0, costs


def test_cpu_limit_kills(client):
    c = client(cpu_seconds=1)
    c.start()
    started = time.monotonic()
    with pytest.raises(WorkerFailure) as info:
        call(c, new_toy(c), "spin", timeout=30)
    assert info.value.kind == "crash" and "CPU" in info.value.message, info.value.message
    assert time.monotonic() - started < 60  # generous: 1 s of CPU


def test_file_size_limit(client):
    c = client(file_mb=2)
    c.start()
    with pytest.raises(WorkerFailure) as info:
        call(c, new_toy(c), "big_file", 5)
    assert info.value.kind == "exception" and "exceeds the sandbox's limit of 2 MB" in info.value.message


@pytest.mark.skipif(not isolation().uid, reason="root ignores RLIMIT_NPROC; needs the uid level")
def test_process_limit(client):
    c = client(processes=6)
    c.start()
    with pytest.raises(WorkerFailure) as info:
        call(c, new_toy(c), "forks", 50)
    assert info.value.error_type == "BlockingIOError"
    assert "at most 6 processes" in info.value.message


@pytest.mark.skipif(not isolation().mounts, reason="hiding needs a mount namespace")
def test_hide_registers_more_folders(client, tmp_path, monkeypatch):
    import tempfile

    # outside /tmp and /var/tmp, which every worker sees privately anyway
    base = next((d for d in ("/run", "/srv", "/opt", "/mnt") if os.access(d, os.W_OK)), None)
    if base is None:
        pytest.skip("no writable folder outside /tmp")
    secret = Path(tempfile.mkdtemp(prefix="nngrade-classmates-", dir=base))
    (secret / "other_student.py").write_text("secret = 1\n")
    os.chmod(secret, 0o755)
    os.chmod(secret / "other_student.py", 0o644)
    monkeypatch.setattr(limits_mod, "_EXTRA_HIDDEN", set())
    limits_mod.hide(secret)
    assert str(secret.resolve()) in limits_mod._mount_plan_base()[1]
    src = tmp_path / "peek"
    src.mkdir()
    (src / "nn.py").write_text(
        "import os\n"
        f"try:\n    print(sorted(os.listdir({str(secret)!r})))\nexcept OSError as exc:\n    print('hidden', exc.errno)\n"
        "class NN:\n    pass\n")
    c = WorkerClient(LoadSpec(src / "nn.py", src, "nn.py"), limits=WorkerLimits(memory_mb=1024))
    try:
        c.start()
        assert c.load_error is None
        assert "other_student" not in c.output()  # an empty folder, or none
        limits_mod._EXTRA_HIDDEN.clear()
        c.close()
        c.start()
        if isolation().root:                    # an allow-list root: never there, hidden or not
            assert "other_student" not in c.output()
        else:                                   # a deny-list: without hide(), visible (world-readable)
            assert "other_student" in c.output()
    finally:
        c.close()
        shutil.rmtree(secret, ignore_errors=True)


def test_staging_never_follows_symlinks(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir(mode=0o700)
    secret = outside / "secret.txt"
    secret.write_text("not for students\n")
    os.chmod(outside, 0o700)
    os.chmod(secret, 0o600)
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "nn.py").write_text("class NN:\n    pass\n")
    (folder / "dir_link").symlink_to(outside)
    (folder / "file_link").symlink_to(secret)
    c = WorkerClient(LoadSpec(folder / "nn.py", folder, "nn.py"), limits=WorkerLimits(memory_mb=1024))
    try:
        c.start()
        assert c.load_error is None
        assert (outside.stat().st_mode & 0o777, secret.stat().st_mode & 0o777) == (0o700, 0o600)
        assert (c.workdir / "submission" / "file_link").is_symlink()
    finally:
        c.close()
