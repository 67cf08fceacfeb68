"""Intake planning (grader/intake/plan.py): ids, roster rows, lateness, stamping."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from grader.intake.late import LatePolicy
from grader.intake.plan import apply_intake, build, final_score
from grader.intake.roster import read_roster
from grader.submission import SubmissionError

FIXTURES = Path(__file__).parent / "fixtures"
DUE = datetime(2026, 11, 21, 0, 0, tzinfo=timezone(timedelta(hours=-8)))


def roster(tmp_path: Path, rows: str) -> object:
    path = tmp_path / "roster.csv"
    path.write_text("student_id,name,email,login,lms_id\n" + rows, encoding="utf-8")
    return read_roster(path)


def test_plain_folder_without_options_adds_nothing() -> None:
    intake = build(Path("submissions"), class_name="NN")
    assert not intake.active and all(e.intake is None for e in intake.entries)
    assert intake.absent == [] and "EXPECTED.yaml" in intake.ignored


def test_gradescope_with_roster_due_and_group(tmp_path: Path) -> None:
    students = roster(tmp_path, "1001,Jane Doe,jane@u.edu,jdoe,\n1002,John Smith,john@u.edu,jsmith,\n"
                                "1003,Bob Lee,bob@u.edu,blee,\n1004,Ann Kim,ann@u.edu,akim,\n1005,Dan Roe,dan@u.edu,droe,\n")
    intake = build(FIXTURES / "gradescope" / "assignment_123_export", class_name="NN", roster=students,
                   policy=LatePolicy(DUE, 10.0, True))
    entries = {e.sid: e for e in intake.entries}
    assert sorted(entries) == ["1001", "1002"]
    assert entries["1001"].intake["late"] is False and entries["1001"].intake["matched_by"] == "student id"
    john = entries["1002"].intake   # submitted 2026-11-22 09:00 -08:00: 2 started days late
    assert john["late"] and john["late_days"] == 2 and john["penalty_percent"] == 20.0
    assert john["members"] == ["John Smith", "Ann Kim"] and intake.shared == {"1004": "1002"}
    assert [(a.sid, a.status) for a in intake.absent] == [("1003", "not-gradable"), ("1005", "missing")]


def test_canvas_ids_without_roster_and_lms_id_matching(tmp_path: Path) -> None:
    intake = build(FIXTURES / "canvas", class_name="NN")
    assert [e.sid for e in intake.entries] == ["doejane_23456", "kimann_45678", "smithjohn_12345"]
    assert [a.sid for a in intake.absent] == ["leebob_34567"]
    students = roster(tmp_path, "s1,\"Smith, John\",,jsmith,12345\ns2,Jane Doe,,jdoe,\n")
    intake = build(FIXTURES / "canvas", class_name="NN", roster=students)
    entries = {e.sid: e for e in intake.entries}
    assert entries["s1"].intake["matched_by"] == "LMS id" and entries["s2"].intake["matched_by"] == "name"
    assert entries["s2"].intake["late"] is True and entries["s2"].intake["penalty_percent"] == 0.0
    assert sorted(intake.unmatched) == ["kimann", "leebob"]   # not on the roster (one not gradable)


def test_plain_folder_roster_claims_a_pdf(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "alice.py").write_text("class NN: pass\n")
    (subs / "carol.pdf").write_text("pdf")
    (subs / "notes.txt").write_text("instructor's notes")
    (subs / "alice.pdf").write_text("her report, beside her code")
    students = roster(tmp_path, "s1,Alice,,alice,\ns2,Carol,,carol,\ns3,Dave,,dave,\n")
    intake = build(subs, class_name="NN", roster=students)
    assert [e.sid for e in intake.entries] == ["s1"]
    assert [(a.sid, a.status) for a in intake.absent] == [("s2", "not-gradable"), ("s3", "missing")]
    assert intake.ignored == ["notes.txt"]


def test_two_handins_for_one_student_is_an_error(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "alice.py").write_text("class NN: pass\n")
    (subs / "s1.py").write_text("class NN: pass\n")
    with pytest.raises(SubmissionError, match="two hand-ins belong to student s1"):
        build(subs, class_name="NN", roster=roster(tmp_path, "s1,Alice,,alice,\n"))


def test_apply_intake_penalty_and_final_score() -> None:
    result = {"submission": "x", "name": "x", "score": 80.0}
    apply_intake(result, "s1", "Alice", {"late": True, "penalty_percent": 25.0})
    assert result["submission"] == "s1" and result["intake"]["penalty_points"] == 20.0
    assert final_score(result) == 60.0 and result["intake"]["status"] == "late"
    plain = apply_intake({"score": 50.0}, "a", "a", None)
    assert "intake" not in plain and final_score(plain) == 50.0


def test_intake_is_deterministic(tmp_path: Path) -> None:
    copy = tmp_path / "canvas"
    shutil.copytree(FIXTURES / "canvas", copy)
    assert build(copy, class_name="NN").entries == build(copy, class_name="NN").entries
