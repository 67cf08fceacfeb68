"""Resumable batches: unchanged submissions are kept, changed ones regraded,
`--only` and `--force`; `--release` on an already graded batch."""

from __future__ import annotations

import sqlite3
from pathlib import Path

FILES = ("result.json", "report.html", "gradescope.json", "run.json")
OLD_NS = 1_000_000_000 * 10**9   # the mtime graded_copy gives every OUT file


def rewritten(out: Path, ids: list[str]) -> list[str]:
    """Submissions whose result.json was written since graded_copy was made."""
    return sorted(sid for sid in ids if (out / sid / "result.json").stat().st_mtime_ns != OLD_NS)


def snapshot(out: Path, ids: list[str]) -> dict[str, bytes]:
    return {f"{sid}/{name}": (out / sid / name).read_bytes() for sid in ids for name in FILES if name != "run.json"}


def test_cli_resume_second_run_keeps_everything(graded_copy, run_cli):
    before = snapshot(graded_copy.out, graded_copy.ids)
    run = run_cli(["batch", graded_copy.subs, "--out", graded_copy.out, "--workers", "1"])
    n = len(graded_copy.ids)
    assert run.code == 0, run
    assert f"0 to grade, {n} unchanged (kept)" in run.out, run
    assert f"graded 0, unchanged {n}, grader failures 0" in run.out, run
    assert rewritten(graded_copy.out, graded_copy.ids) == []
    assert snapshot(graded_copy.out, graded_copy.ids) == before
    # the class outputs are rebuilt from the store and still list everyone
    assert all(sid in (graded_copy.out / "gradebook.csv").read_text() for sid in graded_copy.ids)


def test_cli_resume_regrades_only_a_changed_submission(graded_copy, run_cli):
    changed = graded_copy.subs / "bug_sum_not_mean.py"
    changed.write_text(changed.read_text(encoding="utf-8") + "\n# resubmitted\n", encoding="utf-8")
    run = run_cli(["batch", graded_copy.subs, "--out", graded_copy.out, "--workers", "1"])
    n = len(graded_copy.ids)
    assert run.code == 0, run
    assert f"graded 1, unchanged {n - 1}" in run.out, run
    assert rewritten(graded_copy.out, graded_copy.ids) == ["bug_sum_not_mean"]


def test_cli_resume_a_changed_folder_submission_is_regraded(graded_copy, run_cli):
    (graded_copy.subs / "correct_folder" / "NOTES.txt").write_text("extra file\n", encoding="utf-8")
    run = run_cli(["batch", graded_copy.subs, "--out", graded_copy.out, "--workers", "1"])
    assert run.code == 0, run
    assert rewritten(graded_copy.out, graded_copy.ids) == ["correct_folder"]


def test_cli_resume_only_regrades_just_that_id(graded_copy, run_cli):
    run = run_cli(["batch", graded_copy.subs, "--out", graded_copy.out, "--workers", "1",
                   "--only", "correct_vectorized"])
    assert run.code == 0, run
    assert "graded 1," in run.out, run
    assert rewritten(graded_copy.out, graded_copy.ids) == ["correct_vectorized"]
    for sid in graded_copy.ids:   # every other file untouched too
        if sid != "correct_vectorized":
            assert all((graded_copy.out / sid / f).stat().st_mtime_ns == OLD_NS for f in FILES), sid
    # class outputs still describe the whole class
    assert all(sid in (graded_copy.out / "summary.html").read_text() for sid in graded_copy.ids)


def test_cli_resume_only_is_repeatable(graded_copy, run_cli):
    run = run_cli(["batch", graded_copy.subs, "--out", graded_copy.out, "--workers", "1",
                   "--only", "correct_vectorized", "--only", "bug_syntax_error"])
    assert run.code == 0, run
    assert rewritten(graded_copy.out, graded_copy.ids) == ["bug_syntax_error", "correct_vectorized"]


def test_cli_resume_force_regrades_all(graded_copy, run_cli):
    run = run_cli(["batch", graded_copy.subs, "--out", graded_copy.out, "--workers", "2", "--force"])
    n = len(graded_copy.ids)
    assert run.code == 0, run
    assert f"graded {n}, unchanged 0" in run.out, run
    assert rewritten(graded_copy.out, graded_copy.ids) == graded_copy.ids
    # (that the regraded bytes are identical is test_cli_batch_is_deterministic's job)


def test_cli_resume_only_unknown_id_exits_2(graded_copy, run_cli):
    run = run_cli(["batch", graded_copy.subs, "--out", graded_copy.out, "--only", "nobody_here"])
    assert run.code == 2, run
    assert "nobody_here" in run.err, run
    assert rewritten(graded_copy.out, graded_copy.ids) == []


def test_cli_resume_release_rerun_reveals_hidden_criteria(graded_copy, run_cli):
    """Grades are usually batched before the deadline and released after it:
    `batch --release` on an already graded folder must give reports that show
    the hidden criteria (here, without --release before, they were withheld)."""
    report = graded_copy.out / "release.students" / "bug_sum_not_mean" / "report.html"   # the student's view
    withheld = "Hidden until release: the result of this criterion"
    assert withheld in report.read_text(encoding="utf-8")
    run = run_cli(["batch", graded_copy.subs, "--out", graded_copy.out, "--workers", "1", "--release"])
    assert run.code == 0, run
    assert withheld not in report.read_text(encoding="utf-8"), (
        f"--release kept the withheld report (batch said: {run.out.splitlines()[0]!r})")


def test_cli_resume_rerun_leaves_no_temp_files_of_a_killed_writer(graded_copy, run_cli):
    """What `kill -9` during write_atomic leaves behind: a `.result.json.XXXX`
    temp file next to an uncommitted grade (no store row).  The re-run regrades
    that submission; it should not leave the debris in OUT."""
    sid = "bug_sum_not_mean"
    db = sqlite3.connect(graded_copy.out / "nngrade.sqlite")
    with db:
        db.execute("DELETE FROM grades WHERE submission = ?", (sid,))
    db.close()
    (graded_copy.out / sid / ".result.json.k1ll3d99").write_text('{"partial', encoding="utf-8")
    (graded_copy.out / ".summary.html.k1ll3d99").write_text("<html", encoding="utf-8")
    run = run_cli(["batch", graded_copy.subs, "--out", graded_copy.out, "--workers", "1"])
    assert run.code == 0, run
    assert "graded 1," in run.out, run
    leftovers = sorted(str(p.relative_to(graded_copy.out)) for p in graded_copy.out.rglob(".*"))
    assert leftovers == [], f"temp files left in OUT: {leftovers}"
