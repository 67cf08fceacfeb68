"""gradebook_frame / write_gradebook: columns, order, Canvas layout, byte determinism."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from grader.render.gradebook import gradebook_frame, write_gradebook

from .fixtures import CRITERIA_IDS, make_class, make_result


def test_frame_columns_and_order() -> None:
    frame = gradebook_frame(make_class(), CRITERIA_IDS)
    assert list(frame.columns) == ["submission", "name", "score", "max_score", *CRITERIA_IDS, "grader_errors", "error"]
    assert list(frame["name"]) == list(frame["submission"])   # no "name" in these results: the id
    assert list(frame["submission"]) == ["alice", "bob", "carol", "dave", "erin"]
    assert list(frame["score"]) == [56.0, 100.0, 0.0, 0.0, 60.0]
    alice = frame.iloc[0]
    assert alice["grad-b0"] == 0.0 and alice["forward"] == 10.0 and alice["training"] == 9.0
    assert alice["error"] == ""
    assert frame.iloc[2]["error"].startswith("syntax-error: SyntaxError")
    assert frame.iloc[3]["error"].startswith("timeout: ")


def test_missing_criterion_is_nan() -> None:
    frame = gradebook_frame([make_result()], [*CRITERIA_IDS, "extra"])
    assert math.isnan(frame.iloc[0]["extra"])


def test_write_gradebook_bytes_deterministic(tmp_path: Path) -> None:
    a = write_gradebook(make_class(), CRITERIA_IDS, tmp_path / "a")
    b = write_gradebook(list(reversed(make_class())), CRITERIA_IDS, tmp_path / "b")
    assert [p.name for p in a] == ["gradebook.csv", "gradebook_canvas.csv"]
    for pa, pb in zip(a, b):
        assert pa.read_bytes() == pb.read_bytes()
        data = pa.read_bytes()
        assert b"\r" not in data and data.endswith(b"\n") and not data.startswith(b"\xef\xbb\xbf")


def test_plain_csv_content(tmp_path: Path) -> None:
    plain, _ = write_gradebook(make_class(), CRITERIA_IDS, tmp_path)
    lines = plain.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(["submission", "name", "score", "max_score", *CRITERIA_IDS, "grader_errors", "error"])
    assert lines[1].startswith("alice,alice,56.00,100.00,5.00,5.00,0.00,10.00,")
    rows = list(csv.DictReader(io.StringIO(plain.read_text(encoding="utf-8"))))
    assert rows[2]["error"] == "syntax-error: SyntaxError: expected ':' (nn.py, line 30)"


def test_canvas_layout(tmp_path: Path) -> None:
    _, canvas = write_gradebook(make_class(), CRITERIA_IDS, tmp_path)
    rows = list(csv.reader(io.StringIO(canvas.read_text(encoding="utf-8"))))
    header = rows[0]
    assert header[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert header[5] == "nngrade penguins-silu (100 pts)"
    assert len(header) == 6
    assert rows[1] == ["Points Possible", "", "", "", "", "100.00"]
    assert rows[2] == ["alice", "", "", "alice", "", "56.00"]
    assert [r[0] for r in rows[2:]] == ["alice", "bob", "carol", "dave", "erin"]


def test_formula_cells_are_neutralized_in_both_gradebooks(tmp_path: Path) -> None:
    """A name or a message a spreadsheet would run as a formula is text."""
    results = make_class()
    results[0] = {**results[0], "submission": "1_2~673222ac0c0a", "name": "=1+2"}
    results[1] = {**results[1], "name": "@SUM(A1)", "error": {"kind": "", "message": "-2+3 cmd|' /C calc'!A0"}}
    results[2] = {**results[2], "name": "\t=1", "error": {"kind": "", "message": "+1\r=2+3,forged,row"}}
    plain, canvas = write_gradebook(results, CRITERIA_IDS, tmp_path)
    for path in (plain, canvas):
        for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8"))):
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (path.name, row)
    rows = {r["submission"]: r for r in csv.DictReader(io.StringIO(plain.read_text(encoding="utf-8")))}
    assert len(rows) == len(results)                 # a CR in a message forges no row
    assert rows[results[2]["submission"]]["error"] == "'+1=2+3,forged,row"
    assert rows["1_2~673222ac0c0a"]["name"] == "'=1+2"
    assert rows[results[1]["submission"]]["error"] == "'-2+3 cmd|' /C calc'!A0"
    assert rows[results[1]["submission"]]["score"] == f"{results[1]['score']:.2f}"    # numbers stay numbers
    canvas_rows = list(csv.reader(io.StringIO(canvas.read_text(encoding="utf-8"))))
    assert ["'=1+2", "", "", "1_2~673222ac0c0a", ""] in [r[:5] for r in canvas_rows]
