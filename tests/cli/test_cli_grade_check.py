"""`nngrade grade` (one submission, instructor) and `nngrade check` (student self-check)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from grader.render.gradescope import validate_gradescope

SUBMISSIONS = Path(__file__).resolve().parents[2] / "submissions"
FILES = ("result.json", "report.html", "gradescope.json", "run.json")


# -- grade -----------------------------------------------------------------------

def test_cli_grade_writes_the_files_and_prints_the_table(run_cli, small_batch, silu_rubric, tmp_path):
    out = tmp_path / "out"
    run = run_cli(["grade", small_batch.subs / "bug_sum_not_mean.py", "--out", out])
    assert run.code == 0, run
    folder = out / "bug_sum_not_mean"
    for name in FILES:
        assert (folder / name).is_file(), name
    # the student's folder, and the student's view in the release tree (grader/release.py)
    assert sorted(p.name for p in out.iterdir()) == ["bug_sum_not_mean", "release.students"], "one student only"
    assert sorted(str(p.relative_to(out / "release.students")) for p in (out / "release.students").rglob("*")
                  if p.is_file()) == ["bug_sum_not_mean/report.html"]
    assert "release.students/<id>/report.html (not released" in run.text, run
    assert validate_gradescope(json.loads((folder / "gradescope.json").read_text(encoding="utf-8"))) == []
    # the table: a title line and a row per criterion (hidden ones revealed for the instructor)
    assert "bug_sum_not_mean - Penguins MLP (SiLU)" in run.out, run
    for crit in silu_rubric.criteria:
        assert crit.title in run.out, f"no table row for {crit.id}\n{run}"
    assert re.search(r"Gradient of W0\s*│\s*0/6\s*│\s*failed", run.out), run
    assert "graded after release" not in run.out, run
    assert f"report: {folder.resolve() / 'report.html'}" in run.text, run


def test_cli_grade_result_equals_the_batch_result(run_cli, small_batch, tmp_path):
    out = tmp_path / "out"
    run = run_cli(["grade", small_batch.subs / "bug_syntax_error.py", "--out", out])
    assert run.code == 0, run
    for name in ("result.json", "gradescope.json", "report.html"):
        assert (out / "bug_syntax_error" / name).read_bytes() == \
               (small_batch.out / "bug_syntax_error" / name).read_bytes(), name


def test_cli_grade_missing_file_exits_2(run_cli, tmp_path):
    run = run_cli(["grade", tmp_path / "ghost.py", "--out", tmp_path / "out"])
    assert run.code == 2, run
    assert "ghost.py" in run.err, run
    assert not (tmp_path / "out").exists()


# -- check -----------------------------------------------------------------------

def _hidden(rubric):
    return [c for c in rubric.criteria if c.visibility != "public"]


def assert_no_hidden_leak(run, rubric):
    lowered = run.text.lower()
    assert "hidden until release" not in lowered, run
    assert "all passed" not in lowered, run   # only ever "all public checks passed"
    for crit in _hidden(rubric):
        assert crit.title in run.out, f"hidden criterion {crit.id} not listed\n{run}"
        row = next(line for line in run.out.splitlines() if crit.title in line and "│" in line)
        assert "hidden" in row and "-/" in row, f"{crit.id} not shown as hidden: {row!r}"


def test_cli_check_correct_submission_passes(run_cli, silu_rubric):
    run = run_cli(["check", SUBMISSIONS / "correct_vectorized.py"])
    assert run.code == 0, run
    assert "all public checks passed" in run.text, run
    assert "public score 54/54" in run.text, run
    assert_no_hidden_leak(run, silu_rubric)


def test_cli_check_names_the_mistake(run_cli, silu_rubric):
    run = run_cli(["check", SUBMISSIONS / "bug_sum_not_mean.py"])
    assert run.code == 1, run
    assert "S = 5 times" in run.text or "sum over the samples" in run.text, run
    assert "all public checks passed" not in run.text, run
    assert "4 of 8 public checks need work" in run.text, run
    assert_no_hidden_leak(run, silu_rubric)


def test_cli_check_hidden_failure_does_not_leak(run_cli, silu_rubric, tmp_path):
    """bug_heavy_ball fails only the hidden nag-step criterion: the self-check
    passes and says nothing about heavy-ball momentum or the look-ahead point.
    (Copied to a neutral name: the id itself must not trip the word search.)"""
    nn = tmp_path / "nn.py"
    nn.write_bytes((SUBMISSIONS / "bug_heavy_ball.py").read_bytes())
    run = run_cli(["check", nn])
    assert run.code == 0, run
    assert "all public checks passed" in run.text, run
    lowered = run.text.lower()
    for word in ("heavy", "look-ahead", "lookahead", "momentum"):
        assert word not in lowered, f"hidden feedback leaked ({word!r})\n{run}"
    assert_no_hidden_leak(run, silu_rubric)


def test_cli_check_broken_submission_exits_1_with_the_error(run_cli):
    run = run_cli(["check", SUBMISSIONS / "bug_syntax_error.py"])
    assert run.code == 1, run
    assert "does not compile" in run.text and "line 30" in run.text, run
    assert "all public checks passed" not in run.text, run


def test_cli_check_missing_file_exits_2(run_cli, tmp_path):
    run = run_cli(["check", tmp_path / "nn.py"])
    assert run.code == 2, run
    assert "nn.py" in run.err and "does not exist" in run.err, run


def test_cli_check_latency_as_a_subprocess(run_proc, record_property):
    """Students run this in a loop: it should answer in a few seconds."""
    run = run_proc(["check", SUBMISSIONS / "correct_vectorized.py"], timeout=120)
    assert run.code == 0, run
    record_property("check_seconds", round(run.seconds, 2))
    print(f"\nnngrade check correct_vectorized.py: {run.seconds:.2f} s wall (subprocess)")
    assert run.seconds < 15, f"self-check took {run.seconds:.1f} s"
