"""Issue 10: the worker sees an allow-list root (nothing of the disk but the
interpreter, the standard library and the allowed packages), no kernel
object outlives it (IPC, processes, cgroups, files), and its limits hold for
all its processes together.  Each attack class has a hostile fixture under
hostile/; outcomes are printed by the fixture ("ALLOWED: ..." = the attack
worked) and checked here end to end through `grader.engine.grade`."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import threading
from pathlib import Path

import pytest

from grader.engine import dumps, grade
from grader.sandbox import client as client_mod
from grader.sandbox.limits import isolation, isolation_level

from test_sandbox_hostile import CORRECT, HOSTILE, ROOT, processes_still_alive, small_rubric

LEVEL = isolation()
ALLOWLIST = "allowlist-root" in isolation_level()
CGROUPS = "cgroup(" in isolation_level()
IPC_NS = "ipc" in isolation_level()
KEY = 0x4E4E4752


def render(name: str, folder: Path, **fill: str) -> Path:
    text = (HOSTILE / f"{name}.py").read_text().replace("@REPO@", str(ROOT))
    for key, value in fill.items():
        text = text.replace(f"@{key}@", value)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    path.write_text(text)
    return path


@pytest.fixture
def seen(monkeypatch):
    """uids, cgroup folders and staging folders of every worker started in the test."""
    found = {"uids": set(), "cgroups": set(), "stages": set()}
    original = client_mod.WorkerClient.start

    def start(self):
        original(self)
        if self._uid is not None:
            found["uids"].add(self._uid.uid)
        if self.workdir is not None:
            found["stages"].add(str(self.workdir))
        clock = self._clock
        for path in getattr(clock, "paths", None) or ([clock.path] if hasattr(clock, "path") else []):
            found["cgroups"].add(path)

    monkeypatch.setattr(client_mod.WorkerClient, "start", start)
    return found


def left_behind(found) -> list[str]:
    out = [f"process {p}" for p in processes_still_alive(found["uids"])]
    out += [f"cgroup {p}" for p in found["cgroups"] if os.path.exists(p)]
    out += [f"folder {p}" for p in found["stages"] if os.path.exists(p)]
    out += [f"ipc {line}" for line in sysv_objects(found["uids"])]
    return out


def sysv_objects(uids: set[int]) -> list[str]:
    """Host SysV objects owned by the given uids or with the fixtures' key."""
    found = []
    for kind in ("shm", "msg", "sem"):
        try:
            lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()
        except OSError:
            continue
        header = lines[0].split()
        for line in lines[1:]:
            row = dict(zip(header, line.split()))
            if int(row.get("key", "0")) == KEY or int(row.get("uid", "-1")) in uids:
                found.append(f"{kind} {line.strip()}")
    return found


def allowed(doc) -> list[str]:
    return [line for line in doc["stdout"].splitlines() if line.startswith("ALLOWED")]


@pytest.fixture
def decoys():
    made = []
    for folder, name, text in (("/opt/nngrade-decoy", "rubric-hidden.yaml", "hidden: criteria\n"),
                               ("/var/tmp/nngrade-decoy", "grades.csv", "student,grade\n"),
                               ("/opt/nngrade-decoy", "reference_solution.py", "ANSWER = 42\n")):
        os.makedirs(folder, exist_ok=True)
        Path(folder, name).write_text(text)
        made.append(folder)
    yield
    for folder in set(made):
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.skipif(not ALLOWLIST, reason=f"no allow-list root here ({isolation_level()})")
def test_nothing_outside_the_allow_list(decoys, tmp_path, seen):
    doc = grade(render("read_outside", tmp_path), small_rubric()).result
    assert doc["score"] == 100.0, doc["criteria"]
    assert not allowed(doc), doc["stdout"]
    for what in ("open /opt decoy", "open /var/tmp decoy", "import other checkout", "list repo",
                 "read /etc/passwd", "other site-packages"):
        assert f"refused: {what}" in doc["stdout"], doc["stdout"]
    assert not left_behind(seen)


@pytest.mark.skipif(not LEVEL.mounts, reason="no mount namespace here")
def test_no_hidden_path_or_configuration_in_proc(tmp_path, seen, monkeypatch):
    secret = tmp_path / "solutions-folder"
    secret.mkdir()
    monkeypatch.setenv("NNGRADE_SANDBOX_HIDE", str(secret))
    forbidden = [str(ROOT / "reference"), str(ROOT / "grader"), str(ROOT / "rubrics"), str(secret),
                 "rlimits", "keep_fds", "726c696d697473", "6b6565705f666473", "nngrade-io-"]
    doc = grade(render("read_proc", tmp_path / "in", FORBIDDEN=json.dumps(forbidden)), small_rubric()).result
    assert "proc scanned" in doc["stdout"]
    assert not allowed(doc), doc["stdout"]
    assert doc["score"] == 100.0
    for stage in seen["stages"]:
        assert stage not in doc["stdout"]
    assert not left_behind(seen)


@pytest.mark.skipif(not ALLOWLIST, reason=f"no allow-list root here ({isolation_level()})")
def test_host_unix_socket_unreachable(tmp_path, seen):
    path = f"/run/nngrade-decoy-{os.getpid()}.sock"   # its own: other suites may run at the same time
    if os.path.exists(path):
        os.unlink(path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    os.chmod(path, 0o777)
    server.listen(4)
    server.settimeout(0.2)
    try:
        doc = grade(render("unix_socket", tmp_path, SOCK=path), small_rubric()).result
        try:
            conn, _ = server.accept()
            conn.close()
            reached = True
        except OSError:
            reached = False
    finally:
        server.close()
        os.unlink(path)
    assert "refused: unix socket" in doc["stdout"], doc["stdout"]
    assert not reached and doc["score"] == 100.0
    assert not left_behind(seen)


@pytest.mark.skipif(not IPC_NS, reason=f"no IPC namespace here ({isolation_level()})")
def test_sysv_ipc_dies_with_the_worker(tmp_path, seen):
    rubric = small_rubric()
    first = grade(render("sysv_ipc_write", tmp_path / "a"), rubric).result
    assert "left shm" in first["stdout"] and first["score"] == 100.0, first["stdout"]
    assert not sysv_objects(seen["uids"]), "SysV objects outlived the worker"
    second = grade(render("sysv_ipc_read", tmp_path / "b"), rubric).result
    assert "refused: shm" in second["stdout"] and "refused: msg" in second["stdout"], second["stdout"]
    assert not allowed(second)
    assert not left_behind(seen)


@pytest.mark.skipif(not CGROUPS, reason=f"no per-submission cgroup here ({isolation_level()})")
def test_memory_limit_holds_for_all_processes_together(tmp_path, seen):
    rubric = small_rubric(memory_mb=2048, load_seconds=20.0)
    doc = grade(render("fork_memory", tmp_path), rubric).result
    assert not allowed(doc), doc["stdout"]
    assert "refused:" in doc["stdout"] or doc["error"] is not None, doc
    assert not left_behind(seen)
    # the grader is fine: the next submission gets its full grade
    assert grade(CORRECT, small_rubric()).result["score"] == 100.0


@pytest.mark.slow
def test_spinners_do_not_change_a_classmates_grade(tmp_path, seen):
    rubric = small_rubric(processes=64)
    alone = dumps(grade(CORRECT, rubric).result)
    results = {}

    def hostile():
        results["hostile"] = grade(render("setsid_spinners", tmp_path), rubric).result

    thread = threading.Thread(target=hostile)
    thread.start()
    try:
        together = dumps(grade(CORRECT, rubric).result)
    finally:
        thread.join()
    assert together == alone
    assert '"score": 100.0' in together
    assert "spinners started: 24" in results["hostile"]["stdout"], results["hostile"]["stdout"]
    assert not left_behind(seen)


# --------------------------------------------------------------------------
# the per-submission cgroups, directly
# --------------------------------------------------------------------------

@pytest.mark.skipif(not CGROUPS, reason=f"no per-submission cgroup here ({isolation_level()})")
def test_v1_groups_carry_the_limits_and_are_removed():
    from grader.sandbox import cpuclock
    from grader.sandbox.limits import WorkerLimits

    clock = cpuclock.new_clock(WorkerLimits(memory_mb=300, processes=7))
    paths = list(clock.paths)
    try:
        by_controller = {Path(p).parents[1].name: Path(p) for p in paths}
        assert set(by_controller) >= {"cpuacct", "memory", "pids", "cpu"}
        assert int((by_controller["memory"] / "memory.limit_in_bytes").read_text()) == 300 * 2**20
        assert (by_controller["pids"] / "pids.max").read_text().strip() == "7"
        assert int((by_controller["cpu"] / "cpu.shares").read_text()) == cpuclock.CPU_SHARES
        assert len(clock.launcher_config()["cgroup_join"]) == len(paths)
    finally:
        clock.close()
    assert not any(os.path.exists(p) for p in paths)


def test_v2_group_in_a_fake_hierarchy(tmp_path):
    """The v2 paths, on a plain folder standing in for /sys/fs/cgroup (the
    kernel's files are written by hand): limits written, usage read, the
    group removed."""
    from grader.sandbox import cpuclock
    from grader.sandbox.limits import WorkerLimits

    root = tmp_path / "cgroup2"
    (root / cpuclock.GROUP_PARENT).mkdir(parents=True)
    (root / cpuclock.GROUP_PARENT / "cgroup.subtree_control").write_text("cpu memory pids\n")
    clock = cpuclock.CgroupV2CpuClock(str(root), limits=WorkerLimits(memory_mb=256, processes=9))
    group = Path(clock.path)
    assert (group / "memory.max").read_text() == str(256 * 2**20)
    assert (group / "pids.max").read_text() == "9" and (group / "cpu.weight").read_text() == "100"
    assert clock.launcher_config() == {"cgroup_join": [str(group / "cgroup.procs")]}
    (group / "cpu.stat").write_text("usage_usec 2500000\nuser_usec 2000000\n")
    assert clock.read() == 2.5
    removed = []
    real_rmdir = os.rmdir

    def rmdir(path):  # a kernel group's files go with it; here they are plain files
        for name in os.listdir(path):
            os.unlink(os.path.join(path, name))
        removed.append(path)
        real_rmdir(path)

    cpuclock.os.rmdir = rmdir
    try:
        assert clock.close() == 2.5
    finally:
        cpuclock.os.rmdir = real_rmdir
    assert removed == [str(group)] and not group.exists()


# --------------------------------------------------------------------------
# check and batch: the same worker
# --------------------------------------------------------------------------

def _view(doc) -> dict:
    line = next(line for line in doc["stdout"].splitlines() if line.startswith("VIEW "))
    return json.loads(line[5:])


@pytest.mark.skipif(not ALLOWLIST, reason=f"no allow-list root here ({isolation_level()})")
def test_check_and_batch_give_the_worker_the_same_view(tmp_path, monkeypatch, seen):
    """`nngrade check` (public questions, 1.5x backstop, the submission's
    folder hidden) and `batch` (hidden input and output folders, a course
    secret, other descriptors open in the grader): the worker sees the same
    files, argv, environment and limits."""
    from grader.engine import CHECK_WALL_FACTOR
    from grader.sandbox import limits as limits_mod

    rubric = small_rubric(output_kb=64)
    monkeypatch.setattr(limits_mod, "_EXTRA_HIDDEN", set())
    path = render("worker_view", tmp_path / "check")
    limits_mod.hide(path.parent)
    check = grade(path, rubric, public_only=True, wall_factor=CHECK_WALL_FACTOR).result
    limits_mod._EXTRA_HIDDEN.clear()
    out = tmp_path / "out"
    out.mkdir()
    path = render("worker_view", tmp_path / "batch")
    limits_mod.hide(path.parent, out)
    spare = [os.open(os.devnull, os.O_RDONLY) for _ in range(7)]  # the grader's descriptors differ
    try:
        batch = grade(path, rubric).result
    finally:
        for fd in spare:
            os.close(fd)
    a, b = _view(check), _view(batch)
    assert a == b
    assert a["argv"][-2:] == ["3", "4"] and a["pid"] == 2 and a["hostname"] == "nngrade"
    assert a["limits"][0][0] == rubric.limits.memory_mb * 2**20
    assert not any(str(ROOT) in p and ".venv" not in p for p in a["sys.path"])
    assert not left_behind(seen)


@pytest.mark.skipif(not ALLOWLIST, reason=f"no allow-list root here ({isolation_level()})")
def test_exec_mode_sees_the_same_root(tmp_path, monkeypatch):
    """NNGRADE_WORKER_EXEC=1 (the launcher execs a fresh interpreter inside
    the root instead of running the worker itself): it starts, grades, and
    sees the same files."""
    rubric = small_rubric(output_kb=64)
    here = _view(grade(render("worker_view", tmp_path / "a"), rubric).result)
    monkeypatch.setattr(client_mod, "RUN_HERE", False)
    doc = grade(render("worker_view", tmp_path / "b"), rubric).result
    assert doc["score"] == 100.0, doc["criteria"]
    execd = _view(doc)
    assert execd["paths"] == here["paths"] and execd["argv"] == here["argv"] and execd["env"] == here["env"]
    assert execd["sys.path"] == here["sys.path"]   # the forked worker's import path is the exec'd interpreter's


@pytest.mark.slow
@pytest.mark.skipif(not ALLOWLIST, reason=f"no allow-list root here ({isolation_level()})")
def test_installed_package_is_invisible(tmp_path):
    """A non-editable install (``pip install --no-deps .`` into a fresh venv
    that borrows this one's dependencies): the worker sees neither the
    installed grader nor the reference solution nor the rubrics, though they
    sit in the same site-packages folder as the numpy it imports."""
    import subprocess
    import sys
    import sysconfig
    import venv

    target = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(target)
    python = target / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(ROOT)],
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        pytest.skip(f"cannot build the package here: {done.stderr[-300:]}")
    assert (site / "grader" / "engine.py").exists() and (site / "reference").is_dir()
    # the dependencies from this environment (a path line, so its editable finder stays out)
    (site / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # numpy next to the installed grader, as in a real install: a copy of its top-level entries
    from grader.sandbox.limits import package_paths

    for entry in package_paths(("numpy",)):
        shutil.copytree(entry, site / Path(entry).name, symlinks=True)
    fixture = render("read_installed", tmp_path / "in", SITE=str(site))
    script = ("import json, sys\nfrom grader.engine import grade\nfrom grader.rubric import load_rubric\n"
              "import grader\nassert grader.__file__.startswith(sys.argv[2]), grader.__file__\n"
              "doc = grade(sys.argv[1], load_rubric(sys.argv[3])).result\n"
              "print(json.dumps({'stdout': doc['stdout'], 'score': doc['score'], 'isolation': doc['isolation']}))\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    run = subprocess.run([str(python), "-c", script, str(fixture), str(site),
                          str(ROOT / "rubrics" / "penguins-silu.yaml")], capture_output=True, text=True,
                         cwd=tmp_path, env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    doc = json.loads(run.stdout.strip().splitlines()[-1])
    assert doc["isolation"] == isolation_level()
    assert not allowed(doc), doc["stdout"]
    assert "refused: import grader" in doc["stdout"] and "refused: grader/rubrics" in doc["stdout"], doc["stdout"]
    assert doc["score"] == 100.0
    holds = re.search(r"site-packages holds: (.*)", doc["stdout"]).group(1)
    assert "numpy" in holds and "grader" not in holds and "reference" not in holds and "borrowed" not in holds


@pytest.mark.skipif(not ALLOWLIST, reason=f"no allow-list root here ({isolation_level()})")
def test_rubric_extends_the_allowed_packages(tmp_path):
    from grader.rubric import Sandbox

    rubric = small_rubric()
    plain = grade(render("import_extra", tmp_path / "a"), rubric).result
    assert "no yaml" in plain["stdout"] and plain["score"] == 100.0
    extended = rubric.model_copy(update={"sandbox": Sandbox(packages=["PyYAML"])})
    doc = grade(render("import_extra", tmp_path / "b"), extended).result
    assert "imported yaml" in doc["stdout"] and doc["score"] == 100.0


def _groups() -> set[str]:
    out = set()
    for controller in ("cpuacct", "memory", "pids", "cpu"):
        parent = Path("/sys/fs/cgroup") / controller / "nngrade"
        if parent.is_dir():
            out.update(str(p) for p in parent.iterdir() if p.is_dir())
    return out


@pytest.mark.slow
@pytest.mark.skipif(not (IPC_NS and LEVEL.uid), reason=f"needs IPC namespaces and worker uids ({isolation_level()})")
def test_nothing_of_a_batch_survives_it(tmp_path):
    """`nngrade batch` (a real subprocess, 2 pool workers) over hostile
    submissions and a correct one: afterwards no process of the batch's
    uids, no SysV object, no cgroup and no scratch folder is left.  The
    batch's scratch folder is its own TMPDIR, its uids are the lock files
    there, its cgroups are the new ones whose grader process has ended."""

    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("sysv_ipc_write", "setsid_spinners", "fork_memory"):
        render(name, subs)
    shutil.copy(CORRECT, subs / "correct.py")
    import tempfile

    scratch = Path(tempfile.mkdtemp(prefix="nngb-", dir="/tmp"))  # short: a forkserver's socket lives there
    try:
        _batch_leaves_nothing(tmp_path, subs, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _batch_leaves_nothing(tmp_path: Path, subs: Path, scratch: Path) -> None:
    import subprocess
    import sys

    before = _groups()
    env = {**os.environ, "TMPDIR": str(scratch), "NNGRADE_SECRET_FILE": str(tmp_path / "secret"),
           "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-m", "grader.cli", "batch", str(subs), "--rubric", "penguins-silu",
                          "--out", str(tmp_path / "out"), "--workers", "2", "--criterion-seconds", "2.5",
                          "--submission-seconds", "60", "--processes", "64"],
                         env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode in (0, 1), run.stderr[-2000:]
    assert (tmp_path / "out" / "correct" / "result.json").exists(), (run.stdout[-3000:], run.stderr[-2000:])
    result = json.loads((tmp_path / "out" / "correct" / "result.json").read_text())
    assert result["score"] == 100.0 and result["isolation"] == isolation_level()
    uids = {int(p.stem) for p in (scratch / "nngrade-uids").glob("*.lock")}
    assert uids, "the batch's workers left no uid locks to scope by"
    assert not processes_still_alive(uids)
    assert not sysv_objects(uids)
    leaked = []
    for path in _groups() - before:
        owner = Path(path).name.split("-", 1)[0]
        if owner.isdigit() and not os.path.exists(f"/proc/{owner}"):
            leaked.append(path)
    assert not leaked
    assert sorted(p.name for p in scratch.iterdir()) == ["nngrade-uids"], sorted(scratch.iterdir())
