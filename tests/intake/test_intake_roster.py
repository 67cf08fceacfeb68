"""The roster (grader/intake/roster.py): columns, Canvas's export, matching, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from grader.intake.roster import name_keys, read_roster
from grader.submission import SubmissionError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_plain_roster_and_matching(tmp_path: Path) -> None:
    roster = read_roster(write(tmp_path, "student_id,name,email,login\ns1,Alice Smith,alice@u.edu,asmith\n"
                                         "s2,Bob Lee,bob@u.edu,blee\n"))
    assert [s.student_id for s in roster.students] == ["s1", "s2"]
    assert roster.match(handed_in_as="asmith")[0].student_id == "s1"          # login
    assert roster.match(handed_in_as="s2")[1] == "student id"
    assert roster.match(email="BOB@u.edu")[0].student_id == "s2"
    assert roster.match(name="smithalice")[0].student_id == "s1"             # Canvas's sortable name
    assert roster.match(name="Alice Smith")[1] == "name"                      # Moodle's full name
    assert roster.match(name="Carol")[0] is None


def test_canvas_gradebook_export_is_a_roster(tmp_path: Path) -> None:
    roster = read_roster(write(tmp_path, "Student,ID,SIS User ID,SIS Login ID,Section,HW3 (1234)\n"
                                         "    Points Possible,,,,,100\n"
                                         "\"Smith, Alice\",555,s1,asmith,A,\n"))
    (alice,) = roster.students
    assert (alice.name, alice.lms_id, alice.student_id, alice.login) == ("Smith, Alice", "555", "s1", "asmith")
    assert roster.match(lms_id="555")[0] is alice and roster.match(name="smithalice")[0] is alice


def test_ambiguous_names_do_not_match(tmp_path: Path) -> None:
    roster = read_roster(write(tmp_path, "student_id,name\ns1,Ann Kim\ns2,Ann Kim\n"))
    assert roster.match(name="Ann Kim") == (None, "")


@pytest.mark.parametrize("text, message", [
    ("", "is empty"),
    ("name,email\nAlice,a@u\n", "no student id column"),
    ("student_id,name\n,Alice\n", ":2: no student id"),
    ("student_id,name\ns1,A\ns1,B\n", "also on line 2"),
    ("student_id,name\n", "lists no student"),
])
def test_bad_rosters_say_what_to_do(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SubmissionError, match=message):
        read_roster(write(tmp_path, text))


def test_missing_and_non_utf8_roster(tmp_path: Path) -> None:
    with pytest.raises(SubmissionError, match="does not exist"):
        read_roster(tmp_path / "nope.csv")
    (tmp_path / "roster.csv").write_bytes(b"student_id,name\ns1,Jos\xe9\n")
    with pytest.raises(SubmissionError, match="not UTF-8"):
        read_roster(tmp_path / "roster.csv")


@given(st.lists(st.from_regex(r"[A-Z][a-z]{1,8}", fullmatch=True), min_size=2, max_size=3))
def test_name_keys_cover_canvas_and_moodle_forms(words: list[str]) -> None:
    full = " ".join(words)
    sortable = f"{words[-1]}, {' '.join(words[:-1])}"
    canvas = "".join([words[-1]] + words[:-1]).lower()
    assert canvas in name_keys(full) and canvas in name_keys(sortable)
    assert name_keys(full) == name_keys(sortable)
