"""End to end: `nngrade batch --roster/--due/--late-penalty` on a plain folder
and on LMS downloads; `grade` on a class folder and an empty batch are usage
errors (issue 14, item 4)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Callable

import pytest

REPO = Path(__file__).resolve().parents[2]
SUBMISSIONS = REPO / "submissions"
FIXTURES = REPO / "tests" / "intake" / "fixtures"

pytestmark = pytest.mark.slow


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def roster_batch(tmp_path_factory: pytest.TempPathFactory, run_cli: Callable) -> dict:
    """A folder with one good submission, one PDF only, one ambiguous folder;
    a roster that also lists a student who handed in nothing."""
    root = tmp_path_factory.mktemp("intake")
    subs = root / "subs"
    (subs / "eve").mkdir(parents=True)
    shutil.copy(SUBMISSIONS / "bug_syntax_error.py", subs / "alice.py")
    shutil.copy(SUBMISSIONS / "bug_syntax_error.py", subs / "eve" / "hw3_draft.py")
    shutil.copy(SUBMISSIONS / "bug_import_error.py", subs / "eve" / "hw3_final.py")
    (subs / "carol.pdf").write_bytes(b"%PDF-1.4\n")
    roster = root / "roster.csv"
    roster.write_text("student_id,name,email,login\ns1,Alice Smith,alice@u.edu,alice\ns2,Carol Jones,carol@u.edu,carol\n"
                      "s3,Dave Brown,dave@u.edu,dave\ns4,Eve White,eve@u.edu,eve\n", encoding="utf-8")
    run = run_cli(["batch", subs, "--out", root / "out", "--roster", roster, "--workers", "1"])
    return {"run": run, "out": root / "out", "subs": subs, "roster": roster}


def test_every_roster_student_gets_a_row(roster_batch: dict) -> None:
    run, out = roster_batch["run"], roster_batch["out"]
    assert run.code == 0, run
    rows = {r["student_id"]: r for r in read_csv(out / "gradebook.csv")}
    assert sorted(rows) == ["s1", "s2", "s3", "s4"]
    assert rows["s2"]["status"] == "not gradable" and "carol.pdf" in rows["s2"]["error"] and rows["s2"]["score"] == "0.00"
    assert rows["s3"]["status"] == "missing" and rows["s3"]["score"] == "" and rows["s3"]["name"] == "Dave Brown"
    assert rows["s1"]["status"] == "graded" and rows["s1"]["email"] == "alice@u.edu"
    assert "missing: Dave Brown (s3)" in run.text and "not gradable: Carol Jones (s2)" in run.text


def test_canvas_gradebook_fills_the_id_columns(roster_batch: dict) -> None:
    rows = read_csv(roster_batch["out"] / "gradebook_canvas.csv")
    assert rows[0]["Student"] == "Points Possible"
    by_sis = {r["SIS User ID"]: r for r in rows[1:]}
    assert sorted(by_sis) == ["s1", "s2", "s3", "s4"]
    assert by_sis["s1"]["SIS Login ID"] == "alice" and by_sis["s1"]["Student"] == "Alice Smith"
    assert list(by_sis["s3"].values())[-1] == ""   # missing: Canvas's own policy applies


def test_ambiguous_folder_is_flagged_everywhere(roster_batch: dict) -> None:
    out = roster_batch["out"]
    result = json.loads((out / "s4" / "result.json").read_text(encoding="utf-8"))
    assert result["graded_file"]["file"] == "hw3_final.py" and result["graded_file"]["ambiguous"]
    assert result["graded_file"]["not_graded"] == ["hw3_draft.py"]
    assert result["error"]["kind"] == "import-error"   # hw3_final.py was run, not the draft (a syntax error)
    report = (out / "s4" / "report.html").read_text(encoding="utf-8")
    summary = (out / "summary.html").read_text(encoding="utf-8")
    for page in (report, summary):
        assert "Graded hw3_final.py; not graded: hw3_draft.py" in page
    assert 'id="intake"' in summary and "Dave Brown" in summary and "carol.pdf" in summary


def test_roster_batch_resumes_and_is_deterministic(roster_batch: dict, tmp_path: Path, run_cli: Callable) -> None:
    out = roster_batch["out"]
    before = {p: (out / p).read_bytes() for p in ("gradebook.csv", "gradebook_canvas.csv", "s4/result.json")}
    again = run_cli(["batch", roster_batch["subs"], "--out", out, "--roster", roster_batch["roster"]])
    assert again.code == 0 and "0 to grade, 2 unchanged" in again.text, again
    assert {p: (out / p).read_bytes() for p in before} == before


def test_gradescope_export_late_penalty(tmp_path: Path, run_cli: Callable) -> None:
    """Gradescope's :created_at: against --due; a group submission's members both get the grade."""
    export = tmp_path / "assignment_123_export"
    shutil.copytree(FIXTURES / "gradescope" / "assignment_123_export", export)
    shutil.copy(SUBMISSIONS / "correct_vectorized.py", export / "submission_222" / "nn.py")
    (export / "submission_222" / "nn.ipynb").unlink()
    shutil.copy(SUBMISSIONS / "bug_syntax_error.py", export / "submission_111" / "nn.py")
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name,email\n1001,Jane Doe,jane@u.edu\n1002,John Smith,john@u.edu\n"
                      "1003,Bob Lee,bob@u.edu\n1004,Ann Kim,ann@u.edu\n", encoding="utf-8")
    run = run_cli(["batch", export, "--out", tmp_path / "out", "--roster", roster, "--workers", "1",
                    "--due", "2026-11-21T00:00:00-08:00", "--late-penalty", "10/day"])
    assert run.code == 0, run
    assert "gradescope layout: 2 submissions to grade" in run.text
    rows = {r["student_id"]: r for r in read_csv(tmp_path / "out" / "gradebook.csv")}
    john, ann = rows["1002"], rows["1004"]
    assert john["status"] == "late" and john["late_days"] == "2.00"
    assert float(john["final_score"]) == pytest.approx(float(john["score"]) * 0.8, abs=0.01)
    assert float(john["score"]) > 0 and ann["final_score"] == john["final_score"]
    assert rows["1001"]["status"] == "graded" and rows["1001"]["submitted_at"].startswith("2026-11-20T17:05:11")
    assert rows["1003"]["status"] == "not gradable"
    result = json.loads((tmp_path / "out" / "1002" / "result.json").read_text(encoding="utf-8"))
    assert result["intake"]["members"] == ["John Smith", "Ann Kim"]
    report = (tmp_path / "out" / "1002" / "report.html").read_text(encoding="utf-8")
    assert "Late penalty 20%" in report


def test_canvas_download_with_roster(tmp_path: Path, run_cli: Callable) -> None:
    download = tmp_path / "canvas"
    shutil.copytree(FIXTURES / "canvas", download)
    roster = tmp_path / "roster.csv"   # a Canvas gradebook export as the roster
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section\n    Points Possible,,,,\n"
                      "\"Smith, John\",12345,s1,jsmith,\n\"Doe, Jane\",23456,s2,jdoe,\n\"Lee, Bob\",34567,s3,blee,\n"
                      "\"Kim, Ann\",45678,s4,akim,\n\"Roe, Dan\",56789,s5,droe,\n", encoding="utf-8")
    run = run_cli(["batch", download, "--out", tmp_path / "out", "--roster", roster, "--workers", "1",
                    "--due", "2026-11-21T00:00:00Z", "--late-penalty", "10"])
    assert run.code == 0, run
    rows = {r["SIS User ID"]: r for r in read_csv(tmp_path / "out" / "gradebook_canvas.csv")[1:]}
    assert sorted(rows) == ["s1", "s2", "s3", "s4", "s5"]
    assert rows["s1"]["ID"] == "12345" and rows["s1"]["SIS Login ID"] == "jsmith"
    plain = {r["student_id"]: r for r in read_csv(tmp_path / "out" / "gradebook.csv")}
    assert plain["s2"]["status"] == "late" and plain["s3"]["status"] == "not gradable"
    assert plain["s5"]["status"] == "missing"
    result = json.loads((tmp_path / "out" / "s4" / "result.json").read_text(encoding="utf-8"))
    assert result["intake"]["lms_choice"]["file"] == "hw3_final.py" and result["intake"]["lms_choice"]["ambiguous"]


def test_grade_on_a_class_folder_is_a_usage_error(tmp_path: Path, run_cli: Callable) -> None:
    run = run_cli(["grade", SUBMISSIONS, "--out", tmp_path / "out"])
    assert run.code == 2 and "nngrade batch" in run.text and not (tmp_path / "out").exists(), run
    run = run_cli(["grade", FIXTURES / "canvas", "--out", tmp_path / "out"])
    assert run.code == 2 and "canvas download" in run.text, run


@pytest.mark.parametrize("files, says", [((), "it is empty"), (("essay.pdf", "notes.txt"), "essay.pdf")])
def test_empty_batch_is_a_usage_error(tmp_path: Path, files: tuple[str, ...], says: str, run_cli: Callable) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in files:
        (subs / name).write_text("x")
    run = run_cli(["batch", subs, "--out", tmp_path / "out"])
    assert run.code == 2 and says in run.text and "Every submission ran" not in run.text, run
    assert "A submission is a .py, .ipynb or .zip file" in run.text


@pytest.mark.parametrize("args, says", [
    (["--due", "2026-11-21T00:00"], "no UTC offset"),
    (["--late-penalty", "10"], "needs --due"),
    (["--due", "2026-11-21T00:00Z", "--late-penalty", "lots"], "percent of the score"),
])
def test_bad_intake_options(tmp_path: Path, args: list[str], says: str, run_cli: Callable) -> None:
    run = run_cli(["batch", SUBMISSIONS, "--out", tmp_path / "out", *args])
    assert run.code == 2 and says in run.text, run


def test_grade_on_one_students_folder_flags_the_choice(tmp_path: Path, run_cli: Callable) -> None:
    """A student's folder (two versions and a helper package) is graded, not refused, and says which file."""
    folder = tmp_path / "eve"
    (folder / "helpers").mkdir(parents=True)
    (folder / "helpers" / "util.py").write_text("def f():\n    return 1\n")
    shutil.copy(SUBMISSIONS / "bug_syntax_error.py", folder / "hw3_draft.py")
    shutil.copy(SUBMISSIONS / "bug_import_error.py", folder / "hw3_final.py")
    run = run_cli(["grade", folder, "--out", tmp_path / "out"])
    assert run.code == 0 and "Graded hw3_final.py; not graded: helpers/util.py, hw3_draft.py" in run.text, run
