"""LMS download layouts: the name parsers (round trips through the LMS's own
naming rule, hypothesis) and one pinned fixture per LMS (tests/intake/fixtures).

The naming rules are the LMS's source:
* Canvas, lib/content_zipper.rb: `[users_name, "LATE" if late, user_id].join("_")`
  sanitized to word characters, then `_{attachment.id}_{display_name}`;
  `anon_{anonymous_id}` for anonymous grading; `_text.html` / `_link.html`;
* Moodle, mod/assign/classes/downloader.php: `clean_filename(fullname ("_" ->
  " ") . "_" . uniqueid)` then `_assignsubmission_file` (a folder per plugin),
  older versions with a trailing "_";
* Gradescope: submission_metadata.yml, `submission_<id>:` -> `:submitters:`
  (`:name:`, `:sid:`, `:email:`), `:created_at:`.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from grader.intake.layouts import parse_canvas, parse_moodle, scan
from grader.submission import SubmissionError

FIXTURES = Path(__file__).parent / "fixtures"

canvas_names = st.from_regex(r"[a-z][a-z0-9]{0,20}", fullmatch=True).filter(lambda n: not n.endswith("late"))
ids = st.integers(min_value=1, max_value=10**9).map(str)
uploaded = st.text(st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)),
                   min_size=1, max_size=40)


def canvas_filename(name: str, late: bool, user: str, attachment: str, file: str) -> str:
    """What Canvas's ContentZipper writes (get_filename + add_upload_submission)."""
    prefix = re.sub(r"[^\w]", "", "_".join([name] + (["LATE"] if late else []) + [user]))
    return f"{prefix}_{attachment}_{file}"


@given(canvas_names, st.booleans(), ids, ids, uploaded)
@settings(max_examples=200, deadline=None)
def test_canvas_names_round_trip(name: str, late: bool, user: str, attachment: str, file: str) -> None:
    fields = parse_canvas(canvas_filename(name, late, user, attachment, file))
    assert fields is not None
    assert (fields["name"], fields["late"], fields["user"], fields["attachment"], fields["file"]) == \
        (name, late, user, attachment, file)


@given(st.booleans(), st.from_regex(r"[A-Za-z0-9]{5}", fullmatch=True), ids, uploaded)
@settings(max_examples=100, deadline=None)
def test_canvas_anonymous_names_round_trip(late: bool, anon: str, attachment: str, file: str) -> None:
    fields = parse_canvas(("LATE_" if late else "") + f"anon_{anon}_{attachment}_{file}")
    assert fields is not None and fields["user"] == f"anon_{anon}" and fields["late"] is late
    assert fields["file"] == file and fields["name"] == ""


def test_canvas_old_lowercase_marker_and_text_entries() -> None:
    assert parse_canvas("smithjohn_late_12_34_nn.py")["late"] is True
    text = parse_canvas("smithjohn_12_text.html")
    assert text is not None and text["text"] and text["user"] == "12"
    assert parse_canvas("bug_sum_not_mean.py") is None and parse_canvas("alice.py") is None


moodle_names = st.from_regex(r"[A-Z][a-z]{0,10}( [A-Z][a-z]{0,10}){0,2}", fullmatch=True)


@given(moodle_names, ids, st.booleans())
@settings(max_examples=100, deadline=None)
def test_moodle_folders_round_trip(name: str, user: str, trailing: bool) -> None:
    fields = parse_moodle(f"{name}_{user}_assignsubmission_file" + ("_" if trailing else ""), folder=True)
    assert fields == {"name": name, "user": user, "plugin": "file"}


@given(moodle_names, ids, uploaded)
@settings(max_examples=100, deadline=None)
def test_moodle_flat_files_round_trip(name: str, user: str, file: str) -> None:
    fields = parse_moodle(f"{name}_{user}_assignsubmission_file_{file}", folder=False)
    assert fields is not None and (fields["name"], fields["user"], fields["file"]) == (name, user, file)


def test_canvas_fixture() -> None:
    found = scan(FIXTURES / "canvas", class_name="NN")
    assert found.layout == "canvas" and found.ignored == []
    by_key = {h.key: h for h in found.handins}
    assert sorted(by_key) == ["doejane_23456", "kimann_45678", "leebob_34567", "smithjohn_12345"]
    assert by_key["smithjohn_12345"].path.name == "smithjohn_12345_67890_nn.py"
    assert by_key["smithjohn_12345"].late is False and by_key["smithjohn_12345"].members[0].lms_id == "12345"
    jane = by_key["doejane_23456"]   # LATE marker; a resubmitted nn.py is nn-1.py; utils.py not graded
    assert jane.late is True and jane.path.name.endswith("_nn-1.py")
    assert jane.choice is not None and jane.choice.graded == "nn-1.py" and not jane.choice.ambiguous
    assert by_key["leebob_34567"].path is None and "report.pdf" in by_key["leebob_34567"].reason
    ann = by_key["kimann_45678"]     # draft and final both define NN: final graded, flagged
    assert ann.path.name.endswith("hw3_final.py") and ann.choice.ambiguous
    assert all(h.submitted_at is None for h in found.handins)   # Canvas's download has no time


def test_moodle_fixture() -> None:
    found = scan(FIXTURES / "moodle", class_name="NN")
    assert found.layout == "moodle"
    by_key = {h.key: h for h in found.handins}
    assert sorted(by_key) == ["Ann Kim_1004", "Bob Lee_1003", "Jane Doe_1001", "John Smith_1002"]
    assert by_key["Jane Doe_1001"].path.name == "Jane Doe_1001_assignsubmission_file"
    assert by_key["John Smith_1002"].path.name == "John Smith_1002_assignsubmission_file_"
    assert by_key["Bob Lee_1003"].path is None and "answers.pdf" in by_key["Bob Lee_1003"].reason
    assert by_key["Ann Kim_1004"].path is None and "online text" in by_key["Ann Kim_1004"].reason
    assert by_key["Jane Doe_1001"].members[0].name == "Jane Doe" and by_key["Jane Doe_1001"].members[0].lms_id == "1001"


def test_gradescope_fixture() -> None:
    found = scan(FIXTURES / "gradescope" / "assignment_123_export", class_name="NN")
    assert found.layout == "gradescope" and found.ignored == []
    by_key = {h.key: h for h in found.handins}
    jane = by_key["submission_111"]
    assert jane.submitted_at == datetime(2026, 11, 20, 17, 5, 11, 123456, tzinfo=timezone(timedelta(hours=-8)))
    assert [(m.name, m.sid, m.email) for m in jane.members] == [("Jane Doe", "1001", "jane@u.edu")]
    assert [m.sid for m in by_key["submission_222"].members] == ["1002", "1004"]   # a group
    assert by_key["submission_333"].path is None and "answers.txt" in by_key["submission_333"].reason


def test_gradescope_bad_metadata_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "submission_metadata.yml").write_text("- just\n- a list\n")
    with pytest.raises(SubmissionError, match="does not map submission folders"):
        scan(tmp_path)
    (tmp_path / "submission_metadata.yml").write_text("a: [unclosed\n")
    with pytest.raises(SubmissionError, match="not readable YAML"):
        scan(tmp_path)


def test_plain_folder_stays_a_folder(tmp_path: Path) -> None:
    (tmp_path / "alice.py").write_text("class NN: pass\n")
    (tmp_path / "bob.pdf").write_text("pdf")
    found = scan(tmp_path)
    assert found.layout == "folder" and [h.key for h in found.handins] == ["alice"] and found.ignored == ["bob.pdf"]


def test_a_stray_code_file_keeps_a_download_a_plain_folder(tmp_path: Path) -> None:
    """A folder mixing Canvas names with other code is not read as Canvas (no
    submission silently dropped): every entry is a submission."""
    (tmp_path / "smithjohn_12_34_nn.py").write_text("class NN: pass\n")
    (tmp_path / "alice.py").write_text("class NN: pass\n")
    assert scan(tmp_path).layout == "folder"


def test_gradescope_metadata_with_ruby_tags_is_read(tmp_path: Path) -> None:
    (tmp_path / "submission_1").mkdir()
    (tmp_path / "submission_1" / "nn.py").write_text("class NN: pass\n")
    (tmp_path / "submission_metadata.yml").write_text(
        "submission_1:\n  :submitters:\n  - :name: A B\n    :sid: '7'\n    :email: a@u\n"
        "  :created_at: 2026-11-20 17:05:11.000000000 -08:00\n  :status: !ruby/symbol processed\n")
    (handin,) = scan(tmp_path).handins
    assert handin.members[0].sid == "7" and handin.submitted_at is not None
