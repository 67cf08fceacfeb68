"""Hostile submissions, graded end to end with `grader.engine.grade`.

Each fixture under hostile/ is the handout's network, correct, plus one
hostile behaviour.  Every case must: spoil only the criteria that run the
hostile code (each with its own clear diagnosis), leave the others passing,
leave the grader's process and files and the machine intact, and never
change what another submission gets.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from grader.engine import dumps, grade
from grader.rubric import load_rubric
from grader.sandbox import client as client_mod
from grader.sandbox.limits import isolation, isolation_level

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = Path(__file__).resolve().parent / "hostile"
CORRECT = ROOT / "submissions" / "correct_vectorized.py"
# small limits keep the suite short; a correct criterion takes ~0.01-0.3 s of CPU, a load ~0.2 s.
# The time limits count CPU seconds (a wall-clock backstop of 3x catches sleepers), so the
# outcomes do not depend on how busy the machine is.
SMALL = dict(criterion_seconds=2.5, submission_seconds=40.0, load_seconds=3.0, memory_mb=1024,
             file_mb=8, output_kb=4, processes=16)

LEVEL = isolation()
HAS_UID = LEVEL.uid
HAS_NET = "net" in LEVEL.name
HAS_MOUNTS = LEVEL.mounts
HAS_PID = LEVEL.pid
ALL = ["param-shapes", "param-count", "init", "forward", "loss", "grad-W0", "grad-b0", "grad-W1", "grad-b1",
       "gd-step", "nag-step", "training"]
GRADS = ["grad-W0", "grad-b0", "grad-W1", "grad-b1"]


def small_rubric(**overrides):
    rubric = load_rubric("penguins-silu")
    return rubric.model_copy(update={"limits": rubric.limits.model_copy(update={**SMALL, **overrides})})


@pytest.fixture(scope="module")
def rubric():
    return small_rubric()


def render(name: str, folder: Path, *, strip_patches: bool = False) -> Path:
    """A fixture as a submission file (with @REPO@ filled in)."""
    text = (HOSTILE / f"{name}.py").read_text().replace("@REPO@", str(ROOT))
    if strip_patches:
        text = re.sub(r"# >>> patches.*?# <<< patches\n", "", text, flags=re.S)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    path.write_text(text)
    return path


def meminfo(key: str = "MemAvailable") -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return 0


def processes_still_alive(uids: set[int], grace: float = 15.0) -> list[int]:
    """Processes of `uids` still alive after `grace` seconds: a SIGKILLed
    worker on a saturated machine may take a moment to be torn down by the
    kernel; one that survives the grace period really outlived its grading."""
    deadline = time.monotonic() + grace
    while True:
        found = processes_of(uids)
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def processes_of(uids: set[int]) -> list[int]:
    """Live (non-zombie) processes running as any of `uids`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        uid = int(re.search(r"^Uid:\s+(\d+)", status, re.M).group(1))
        state = re.search(r"^State:\s+(\S)", status, re.M).group(1)
        if uid in uids and state != "Z":
            found.append(int(entry.name))
    return found


@pytest.fixture
def worker_uids(monkeypatch):
    """The uids of every worker started during a test."""
    seen: set[int] = set()
    original = client_mod.WorkerClient.start

    def start(self):
        original(self)
        if self._uid is not None:
            seen.add(self._uid.uid)

    monkeypatch.setattr(client_mod.WorkerClient, "start", start)
    return seen


@pytest.fixture(scope="module", autouse=True)
def machine_is_fine_afterwards():
    """After the whole module: the machine still has its memory."""
    before = meminfo()
    yield
    after = meminfo()
    assert after > min(before * 0.5, before - 2 * 2**30), (before, after)


# --------------------------------------------------------------------------
# the cases
# --------------------------------------------------------------------------

@dataclass
class Case:
    name: str
    spoiled: dict[str, str] = field(default_factory=dict)   # criterion -> diagnosis ("" = any / none)
    load: str = ""             # the whole submission fails to load with this diagnosis
    load_alternatives: tuple[str, ...] = ()
    feedback: str = ""         # words the spoiled criteria's feedback (or the load error) must contain
    unchecked: tuple[str, ...] = ()   # criteria whose outcome depends on the checks' design
    stdout: tuple[str, ...] = ()
    needs: str = ""            # "uid", "net", "mounts", "pid": skip at weaker isolation
    slow: bool = False
    status: str = "error"      # status of the spoiled criteria
    limits: dict = field(default_factory=dict)
    max_cpu_seconds: float = 60.0   # CPU seconds of all the submission's processes
    timeouts: int | None = None     # requests stopped for time (each one costs a wait)

    def __str__(self) -> str:
        return self.name


def spoil(criteria, diagnosis=""):
    return {c: diagnosis for c in criteria}


CASES = [
    Case("syntax_error", load="syntax-error", feedback="does not compile: SyntaxError (line 61)"),
    Case("import_exception", load="import-error", feedback="RuntimeError (line 88): my plotting code failed"),
    Case("import_infinite_loop", load="timeout", feedback="did not finish importing", slow=True,
         limits=dict(load_seconds=2.0)),
    # back_propagate hangs: it is waited for once (grad-W0); the other gradient criteria get the
    # same time-out at once; gd-step and nag-step fall back to the reference gradient, as they
    # do when back_propagate raises, and judge the (correct) step
    # (the feedback words are in the CPU message and in the wall-clock backstop's, which can
    # stop a spinning method first only when it gets less than a third of a core)
    Case("loop_back_propagate", spoiled=spoil(GRADS, "timeout"), unchecked=("nag-step",),
         feedback="this criterion's limit of 1.5 s of CPU time", slow=True, limits=dict(criterion_seconds=1.5),
         timeouts=1),
    # step hangs for GD and NAG: three different operations (GD and NAG on the probe net, GD on the
    # training net), three waits
    Case("loop_step", spoiled=spoil(["gd-step", "nag-step", "training"], "timeout"),
         feedback="this criterion's limit of 1.5 s of CPU time", slow=True, limits=dict(criterion_seconds=1.5),
         timeouts=3),
    Case("sys_exit_import", load="import-error", feedback="called sys.exit()"),
    Case("sys_exit_method", spoiled={"forward": ""}, feedback="SystemExit (line 59): 3 -- your code called sys.exit()"),
    Case("os_exit_method", spoiled={"forward": "crash"}, feedback="exit status 0"),
    Case("kill_parent_import", load="import-error", load_alternatives=("crash",), feedback="", needs="uid"),
    Case("kill_parent_method", spoiled={"forward": ""}, feedback="", needs="uid"),
    Case("killpg_method", spoiled={"forward": "crash"}, feedback="killed by SIGKILL"),
    Case("memory_hog", spoiled={"forward": ""}, feedback="MemoryError (line 58)"),
    Case("fork_bomb_import", load="timeout", load_alternatives=("import-error",), needs="uid+pid", slow=True,
         limits=dict(load_seconds=2.0)),
    Case("huge_output_method", spoiled={"forward": ""}, feedback="printed more than the sandbox allows (8 MB"),
    Case("huge_output_import", load="import-error", load_alternatives=("timeout",),
         feedback="printed more than the sandbox allows"),
    Case("write_outside", stdout=("refused: write repo", "refused: write ../../x", "refused: rmtree submissions",
                                  "refused: remove grader"), needs="uid"),
    Case("delete_repo_import", load="import-error", feedback="submissions", needs="uid"),
    Case("network", spoiled={"forward": ""}, feedback="Network is unreachable",
         stdout=("refused: 127.0.0.1", "refused: 1.1.1.1"), needs="net", max_cpu_seconds=20),
    Case("read_reference", stdout=("refused: import reference", "refused: import grader", "refused: open reference",
                                   "refused: open rubric", "refused: list repo"), needs="mounts"),
    Case("bad_nan", spoiled={"forward": ""}, status="failed"),
    Case("bad_string", spoiled={"forward": "bad-output"}, status="failed", feedback="returned str"),
    Case("bad_shape", spoiled={"forward": "bad-output"}, status="failed", feedback="shape (7, 5)"),
    Case("bad_generator", spoiled=spoil(GRADS, "bad-output"), status="failed"),
    Case("bad_object", spoiled={"forward": "bad-output"}, status="failed", feedback="returned a Liar"),
    Case("slow_correct", slow=True, limits=dict(criterion_seconds=30.0, submission_seconds=120.0)),
    # the reply channel (the student's code takes the worker over): see test_reply_channel_attack below
    Case("reply_inflation_method", spoiled={"forward": "crash"}, feedback="-byte answer where at most"),
    Case("huge_error_method", spoiled={"forward": "crash"}, feedback="-byte answer where at most"),
    Case("surrogate_error_method", spoiled={"forward": ""},
         feedback="ValueError (line 94): bad \ufffd value red evil"),
    Case("stall_request_pipe", spoiled={"training": "crash"}, limits=dict(criterion_seconds=1.5),
         feedback="stopped reading the grader's requests (a request was still not taken after the wall-clock "
                  "backstop of 4.5 s)"),
    Case("desync_method", spoiled={"forward": "crash"}, feedback="is not the answer to the grader's request"),
]
CHANNEL_ATTACKS = ["reply_inflation_method", "huge_error_method", "surrogate_error_method", "stall_request_pipe",
                   "desync_method"]


def _missing(needs: str) -> str:
    have = {"uid": HAS_UID, "net": HAS_NET, "mounts": HAS_MOUNTS, "pid": HAS_PID}
    lacking = [n for n in needs.split("+") if n and not have[n]]
    return ", ".join(lacking)


def _params():
    for case in CASES:
        marks = [pytest.mark.slow] if case.slow else []
        lacking = _missing(case.needs)
        if lacking:
            marks.append(pytest.mark.skip(reason=f"unsafe or meaningless without {lacking} isolation "
                                                 f"(this machine: {isolation_level()})"))
        yield pytest.param(case, id=case.name, marks=marks)


@pytest.mark.parametrize("case", list(_params()))
def test_hostile_submission(case: Case, rubric, tmp_path, worker_uids):
    repo_files = sorted(p.name for p in (ROOT / "submissions").iterdir())
    rub = small_rubric(**case.limits) if case.limits else rubric
    path = render(case.name, tmp_path / "in")
    outcome = grade(path, rub)
    doc = outcome.result
    by_id = {c["id"]: c for c in doc["criteria"]}
    assert list(by_id) == ALL

    if case.load:
        kinds = (case.load,) + case.load_alternatives
        assert doc["error"] is not None and doc["error"]["kind"] in kinds, doc["error"]
        assert case.feedback in doc["error"]["message"]
        assert doc["score"] == 0
        for crit in doc["criteria"]:
            assert crit["status"] == "error" and crit["diagnoses"] == [doc["error"]["kind"]], crit
    else:
        assert doc["error"] is None
        for cid, crit in by_id.items():
            if cid in case.unchecked:
                continue
            if cid in case.spoiled:
                assert crit["status"] == case.status, (cid, crit["feedback"])
                assert crit["score"] == 0, cid
                if case.spoiled[cid]:
                    assert case.spoiled[cid] in crit["diagnoses"], (cid, crit["diagnoses"])
                if case.feedback and case.status == "error":
                    assert case.feedback in crit["feedback"], (cid, crit["feedback"])
            else:
                assert crit["status"] == "passed", (cid, crit["feedback"])
        if case.feedback and case.status != "error":
            assert any(case.feedback in by_id[c]["feedback"] for c in case.spoiled)

    for text in case.stdout:
        assert text in doc["stdout"], doc["stdout"]
    assert "ALLOWED" not in doc["stdout"], doc["stdout"]
    assert len(doc["stdout"]) <= rub.limits.output_kb * 1024 + 100
    assert outcome.run.get("cpu_seconds", 0.0) < case.max_cpu_seconds, outcome.run
    if case.timeouts is not None:
        assert outcome.run["timeouts"] == case.timeouts, outcome.run

    # nothing outside the sandbox changed, and nothing of it is left running
    assert sorted(p.name for p in (ROOT / "submissions").iterdir()) == repo_files
    assert (ROOT / "grader" / "engine.py").exists() and (ROOT / "reference" / "network.py").exists()
    assert not (ROOT / "pwned.txt").exists()
    assert not Path("/tmp/pwned-by-student").exists()
    assert not processes_still_alive(worker_uids), "sandbox processes outlived the grading"


def test_huge_output_is_truncated(rubric, tmp_path):
    doc = grade(render("huge_output_method", tmp_path), rubric).result
    assert doc["stdout"].startswith("all work and no play")
    assert "output truncated at 4096 bytes" in doc["stdout"]


@pytest.mark.skipif(not HAS_NET, reason="no network namespace here")
def test_network_fails_fast(rubric, tmp_path):
    doc = grade(render("network", tmp_path), rubric).result
    times = [float(t) for t in re.findall(r"in (\d+\.\d) s", doc["stdout"])]
    assert len(times) == 2 and max(times) < 1.0, doc["stdout"]


def test_monkeypatching_its_own_process_changes_no_verdict(rubric, tmp_path):
    """np.allclose, np.linalg.norm, builtins and sys.modules['grader'] patched
    in the worker: the judge runs in the grader, so the verdicts are those of
    the same code without the patches."""
    patched = grade(render("monkeypatch", tmp_path / "a"), rubric).result
    control = grade(render("monkeypatch", tmp_path / "b", strip_patches=True), rubric).result
    assert patched["criteria"] == control["criteria"]
    by_id = {c["id"]: c for c in patched["criteria"]}
    assert by_id["grad-W0"]["status"] == "failed"
    for cid in ["param-shapes", "param-count", "init", "forward", "loss", "grad-b0", "grad-W1", "grad-b1"]:
        assert by_id[cid]["status"] == "passed", cid


@pytest.mark.slow
def test_batch_like_sequence_leaves_correct_submission_untouched(rubric, tmp_path):
    """correct, several hostile ones, correct again: the correct submission's
    result document is byte for byte the same as when graded alone."""
    alone = dumps(grade(CORRECT, rubric).result)
    hostile = ["killpg_method", "memory_hog", "huge_output_method", "os_exit_method", "monkeypatch",
               "sys_exit_import", "import_infinite_loop", *CHANNEL_ATTACKS]
    if HAS_UID:
        hostile += ["write_outside", "kill_parent_method"]
    if HAS_UID and HAS_PID:
        hostile += ["fork_bomb_import"]
    docs = [dumps(grade(CORRECT, rubric).result)]
    for name in hostile:
        grade(render(name, tmp_path / name), rubric)
    docs.append(dumps(grade(CORRECT, rubric).result))
    assert all(doc == alone for doc in docs)
    assert '"score": 100.0' in alone


def test_grader_and_machine_are_fine(rubric):
    """The grader's own process is alive and well (reaching this line means it
    survived every kill attempt), and grades as before."""
    doc = grade(CORRECT, rubric).result
    assert doc["score"] == 100.0 and doc["isolation"] == isolation_level()
    assert meminfo() > 512 * 2**20
    zombies = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields_ = stat.rsplit(")", 1)[1].split()
            if int(fields_[1]) == os.getpid() and fields_[0] == "Z":
                zombies.append(entry.name)
    assert not zombies, "the grader left zombie children"


@pytest.mark.slow
def test_check_waits_once_for_a_hung_method(tmp_path):
    """`nngrade check` (public criteria, tighter wall-clock backstop) on an
    endless loop in back_propagate: one timed-out request in all, the
    other three gradient criteria get the same message without running it,
    and the HTML report prints that message once."""
    from grader.engine import CHECK_WALL_FACTOR
    from grader.render.html import render_report

    outcome = grade(render("loop_back_propagate", tmp_path), small_rubric(criterion_seconds=1.5),
                    public_only=True, wall_factor=CHECK_WALL_FACTOR)
    assert outcome.run["timeouts"] == 1 and outcome.run["timeouts_not_rerun"] == 3, outcome.run
    assert outcome.run["worker_restarts"] <= 1
    by_id = {c["id"]: c for c in outcome.result["criteria"]}
    messages = {by_id[c]["feedback"] for c in GRADS}
    assert len(messages) == 1 and all(by_id[c]["diagnoses"] == ["timeout"] for c in GRADS)
    message = messages.pop()
    # stopped by its CPU budget, or (with less than 2/3 of a core) by check's 1.5x wall-clock backstop
    assert message.startswith("Your back_propagate() ") and "this criterion's limit of 1.5 s of CPU time" in message
    page = render_report(outcome.result)
    assert page.count("criterion&#39;s limit of 1.5 s") + page.count("criterion's limit of 1.5 s") == 1
    assert page.count("The same failure as in") == 3


# --------------------------------------------------------------------------
# the reply channel: a grader that no reply can hurt
# --------------------------------------------------------------------------

def _vm(key: str) -> int:
    """VmRSS / VmHWM of this process, in bytes."""
    match = re.search(rf"^{key}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    return int(match.group(1)) * 1024


UNSAFE = re.compile("[\ud800-\udfff\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]")


def _strings(value):
    """Every str in a JSON document, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")   # VmHWM := VmRSS (Linux >= 4.0)
        return True
    except OSError:
        return False


@pytest.mark.parametrize("name", CHANNEL_ATTACKS)
def test_reply_channel_attack(name, tmp_path):
    """The student's code owns the worker and attacks the grader through the
    reply pipe (40 MB of nested empty lists, a 40 MB error message, a lone
    surrogate and terminal escapes, a request pipe shrunk and never read, a
    stray answer frame).  The grader's memory stays bounded, result.json,
    report.html and gradescope.json are written, valid UTF-8 without
    surrogates or escapes, every text is capped, the stalled write ends
    within its limit, and only the attacked criterion is lost."""
    from grader.outputs import write_submission_outputs

    rub = small_rubric(criterion_seconds=1.5)
    reset = _reset_peak_rss()
    baseline = _vm("VmRSS")
    started = time.monotonic()
    outcome = grade(render(name, tmp_path / "in"), rub)
    elapsed = time.monotonic() - started
    grown = _vm("VmHWM") - baseline
    if reset:   # before: 40 MB of "[[]]," took the grader to 2.8 GB
        assert grown < 400 * 2**20, f"the grader's peak RSS grew by {grown / 2**20:.0f} MB"
    # before: the stalled write() hung the grader forever (generous bound: the backstop is 4.5 s)
    assert elapsed < 120, elapsed
    folder = write_submission_outputs(outcome, tmp_path / "out")
    for filename in ("result.json", "report.html", "gradescope.json"):
        data = (folder / filename).read_bytes()
        text = data.decode("utf-8")            # valid UTF-8: no lone surrogate made it
        assert len(data) < 2**20, (filename, len(data))   # before: 40 MB each
        assert not UNSAFE.search(text), (filename, UNSAFE.search(text))
        if filename.endswith(".json"):
            assert not any(UNSAFE.search(t) for t in _strings(json.loads(text))), filename
    doc = json.loads((folder / "result.json").read_bytes().decode("utf-8"))
    assert all(len(c["feedback"]) < 4000 for c in doc["criteria"])
    assert "\x1b" not in doc["stdout"] and "\x1b" not in json.dumps(outcome.run)
    assert doc["score"] == 85.0 and sum(c["status"] != "passed" for c in doc["criteria"]) == 1, doc["criteria"]


def test_escapes_in_the_students_output_are_removed(rubric, tmp_path):
    doc = grade(render("surrogate_error_method", tmp_path), rubric).result
    assert doc["stdout"].startswith("student output\nsecond line\tcol"), repr(doc["stdout"])


def test_desync_costs_one_criterion_and_no_other_submission(rubric, tmp_path):
    """A stray answer frame costs the criterion it was sent in; the later
    criteria get their own answers (ids), and the next submission graded
    by the same process scores 100."""
    doc = grade(render("desync_method", tmp_path), rubric).result
    by_id = {c["id"]: c for c in doc["criteria"]}
    assert by_id["forward"]["status"] == "error"
    assert all(c["status"] == "passed" for cid, c in by_id.items() if cid != "forward")
    assert grade(CORRECT, rubric).result["score"] == 100.0


@pytest.mark.slow
def test_channel_attacks_in_a_pooled_batch(tmp_path):
    """The five channel attacks and a correct submission in one batch on a
    process pool: the batch finishes (the pool's shutdown no longer waits for
    a write() that never returns), every result.json is written as clean
    UTF-8, the attacks lose one criterion each and the correct submission
    scores 100."""
    import shutil

    from grader.batch import run_batch
    from grader.executors import LocalExecutor

    subs = tmp_path / "subs"
    for name in CHANNEL_ATTACKS:
        render(name, subs)
    shutil.copy(CORRECT, subs / "correct_vectorized.py")
    report = run_batch(subs, small_rubric(criterion_seconds=1.5), tmp_path / "out", executor=LocalExecutor(2))
    assert not report.failed, report.failed
    assert sorted(report.graded) == sorted([*CHANNEL_ATTACKS, "correct_vectorized"])
    for sid in report.graded:
        doc = json.loads((tmp_path / "out" / sid / "result.json").read_bytes().decode("utf-8"))
        assert not any(UNSAFE.search(t) for t in _strings(doc)), sid
        assert doc["score"] == (100.0 if sid == "correct_vectorized" else 85.0), (sid, doc["score"])
