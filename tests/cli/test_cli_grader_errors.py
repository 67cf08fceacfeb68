"""A broken check cannot silently cost a student points, end to end.

`nngrade batch` with a check that raises (the grader's bug, simulated with
`patch_check`: `--workers 1` grades in this process, so the patched
registry is the one the engine uses): every output is still written, the
criterion is left out of each student's total and marked, the terminal
says how many criteria failed and where the tracebacks are, and the batch
exits non-zero.  Run again once the grader is fixed, the batch regrades
exactly those submissions (a stored grade with grader errors is never
current) and exits 0."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from grader.store import GradeStore

NAMES = ("correct_vectorized.py", "bug_sum_not_mean.py")
BROKEN = "param-count"   # check param_count, 5 points


def _rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {row.get("submission") or row["SIS Login ID"]: row for row in csv.DictReader(handle)}


@pytest.fixture
def broken_batch(tmp_path, copy_subs, run_cli, patch_check):
    """The two submissions graded with param_count's judge raising KeyError."""
    def judge(ctx, observation, params):
        raise KeyError("W9")   # the grader's own bug, after the student's values were validated

    patch_check("param_count", judge=judge)
    subs = copy_subs(tmp_path / "submissions", NAMES)
    out = tmp_path / "out"
    run = run_cli(["batch", subs, "--rubric", "penguins-silu", "--out", out, "--workers", "1"])
    return subs, out, run


def test_a_broken_check_is_reported_left_out_and_fails_the_batch(broken_batch):
    subs, out, run = broken_batch
    assert run.code == 1, run
    assert "graded 2, unchanged 0, grader failures 2" in run.text, run
    assert "the grader failed on 2 criteria in 2 submissions" in run.text, run
    assert f"grader failure bug_sum_not_mean: {BROKEN}" in run.text and "run.json" in run.text, run
    assert f"(grader failure, not counted: {BROKEN})" in run.text, run   # the per-submission progress line

    # every output is written; the student's total leaves the criterion out
    plain = _rows(out / "gradebook.csv")
    correct = plain["correct_vectorized"]
    assert (correct["score"], correct["max_score"], correct[BROKEN]) == ("95.00", "95.00", ""), correct
    assert correct["grader_errors"] == BROKEN and plain["bug_sum_not_mean"]["grader_errors"] == BROKEN
    assert float(plain["bug_sum_not_mean"]["max_score"]) == 95.0
    canvas = _rows(out / "gradebook_canvas.csv")
    column = next(k for k in canvas["correct_vectorized"] if k.startswith("nngrade"))
    assert canvas["correct_vectorized"][column] == "", canvas   # no partial total read as points lost

    result = json.loads((out / "correct_vectorized" / "result.json").read_text())
    assert result["grader_errors"] == [BROKEN] and result["score"] == result["max_score"] == 95.0
    notes = json.loads((out / "correct_vectorized" / "run.json").read_text())["instructor_notes"]
    assert "KeyError" in notes[BROKEN]["grader-error"]
    gradescope = json.loads((out / "correct_vectorized" / "gradescope.json").read_text())
    assert gradescope["score"] == 95.0 and gradescope["extra_data"] == {"grader_errors": [BROKEN]}
    report = (out / "correct_vectorized" / "report.html").read_text()
    student = (out / "release.students" / "correct_vectorized" / "report.html").read_text()
    for page in (report, student):
        assert 'id="grader-failures"' in page and '<span class="badge grader-error">' in page
    assert "KeyError: &#39;W9&#39;" not in student and "Traceback" not in student
    summary = (out / "summary.html").read_text()
    assert "Grader failures: 2 criteria in 2 submissions" in summary


def test_a_resumed_batch_regrades_grades_with_grader_errors(broken_batch, run_cli, monkeypatch):
    subs, out, _ = broken_batch
    monkeypatch.undo()   # the grader is fixed
    run = run_cli(["batch", subs, "--rubric", "penguins-silu", "--out", out, "--workers", "1"])
    assert run.code == 0, run
    assert "2 to grade, 0 unchanged" in run.text and "grader failures 0" in run.text, run
    plain = _rows(out / "gradebook.csv")
    assert plain["correct_vectorized"][BROKEN] == "5.00" and plain["correct_vectorized"]["grader_errors"] == ""
    assert plain["correct_vectorized"]["score"] == "100.00"
    assert 'id="grader-failures"' not in (out / "summary.html").read_text()
    again = run_cli(["batch", subs, "--rubric", "penguins-silu", "--out", out, "--workers", "1"])
    assert again.code == 0 and "0 to grade, 2 unchanged" in again.text, again   # complete grades are kept


def test_store_a_grade_with_grader_errors_is_never_current(tmp_path):
    with GradeStore(tmp_path / "s.sqlite") as store:
        store.record("a", "d", "r", {"submission": "a", "grader_errors": [BROKEN]}, {})
        store.record("b", "d", "r", {"submission": "b", "grader_errors": []}, {})
        store.record("c", "d", "r", {"submission": "c"}, {})   # written before the field existed
        assert not store.is_current("a", "d", "r") and store.grader_errors("a") == [BROKEN]
        assert store.is_current("b", "d", "r") and store.is_current("c", "d", "r")
        assert not store.is_current("b", "other", "r")


def test_check_says_the_grader_failed_and_does_not_count_it(run_cli, patch_check):
    """`nngrade check` on a correct submission with a broken check: the
    public score leaves the criterion out, the table marks it, and the
    student is told it is not their code (exit 1: not everything was checked)."""
    def judge(ctx, observation, params):
        raise KeyError("W9")

    patch_check("param_count", judge=judge)
    run = run_cli(["check", Path(__file__).resolve().parents[2] / "submissions" / "correct_vectorized.py",
                   "--rubric", "penguins-silu"])
    assert run.code == 1, run
    assert "grader failure, not counted" in run.text and "public checks need work" not in run.text, run
    assert "public score 49/49" in run.text, run
    assert "The grader failed on 1 criterion (Number of learnable parameters): a bug in the grader, not in your " \
        "code" in run.text, run
    assert "the other 7 public checks passed; tell the course staff" in run.text, run
    assert "have been told" not in run.text, run   # on a student's machine nobody has been told yet


def test_grade_exits_non_zero_and_says_where_when_the_grader_failed(run_cli, patch_check, tmp_path):
    """`nngrade grade` (one submission) writes its outputs like a batch and,
    like a batch, exits 1 naming the criterion and where the traceback is."""
    def judge(ctx, observation, params):
        raise KeyError("W9")

    patch_check("param_count", judge=judge)
    out = tmp_path / "out"
    run = run_cli(["grade", Path(__file__).resolve().parents[2] / "submissions" / "correct_vectorized.py",
                   "--rubric", "penguins-silu", "--out", out])
    assert run.code == 1, run
    assert "correct_vectorized: param-count" in run.text and "run.json" in run.text, run
    assert (out / "correct_vectorized" / "result.json").is_file()
