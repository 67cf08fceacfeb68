"""Result documents -> gradebook CSVs: a plain one, and one in Canvas's import layout.

Canvas's gradebook import reads the columns ``Student, ID, SIS User ID,
SIS Login ID, Section`` followed by one column per assignment, and an optional
``Points Possible`` row. It matches a row to a student by ``ID`` (the Canvas
user id), then ``SIS User ID``, then ``SIS Login ID``, then by name. nngrade
only knows the submission: its name as handed in goes into ``Student`` and its
id into ``SIS Login ID`` (the same for a plain name such as a login; use login
names as submission names for a direct match); ``ID``, ``SIS User ID``
and ``Section`` stay blank.

The assignment header is ``nngrade <rubric> (<max> pts)``: a header ending in a
bare ``(<digits>)`` would be read by Canvas as an assignment *id*.

With an intake (a roster, an LMS download, a due date: grader/intake/), the
plain gradebook gets the columns ``student_id, email, status, submitted_at,
late_days, penalty, final_score`` (status: graded, late, missing, not
gradable) and a row for every roster student, and the Canvas file fills
``Student`` (the roster's name), ``ID`` (the roster's ``lms_id``, the Canvas
user id), ``SIS User ID`` (``student_id``) and ``SIS Login ID`` (``login``)
and takes the final score, after the late penalty; a missing student's cell
is left empty (Canvas then applies its own missing-submission policy).
Without one, both files are as before.

When any student was graded through a glue of their own (``--glue-map``,
grader/gluemap.py), the plain gradebook gets a last column ``glue``: that
glue's file name and the first 12 digits of its content hash, empty for
everyone graded through the rubric's (or the default) glue.

Names are data: every text cell (submission id, name, error) that a
spreadsheet would read as a formula (a leading ``= + - @``, tab or CR) gets a
leading apostrophe, in both files (``grader/names.py``).  ``name`` is the
submission's name as handed in; ``submission`` its id (the folder name).

A criterion the grader failed on (status ``grader-error``: a bug in a check or
the rubric) is never a student's zero: its cell is empty, ``score`` and
``max_score`` leave it out (as result.json does), and the row's
``grader_errors`` column lists the criterion ids (space-separated; empty
when none), so filtering the sheet on that column finds every grade to
redo.  In the Canvas file such a row's score cell is left empty: Canvas
would read the lower score out of the full points possible, costing the
student the points the grader could not check; the batch exits non-zero
until it is fixed and graded again.

Output is deterministic: rows sorted by submission, fixed float format, ``\\n``
line endings, UTF-8 without BOM.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import pandas as pd

from grader.intake.plan import STATUS, final_score
from grader.names import csv_cell
from grader.render.common import fmt_points, glue_label, grader_error_ids, is_grader_error, is_number, special_glue

__all__ = ["gradebook_frame", "canvas_frame", "write_gradebook", "FLOAT_FORMAT", "CANVAS_ID_COLUMNS"]

FLOAT_FORMAT = "%.2f"
CANVAS_ID_COLUMNS: tuple[str, ...] = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


def _float(v: Any) -> float:
    return float(v) if is_number(v) else math.nan


def _error_text(result: dict[str, Any]) -> str:
    err = result.get("error")
    if not isinstance(err, dict) or not (err.get("kind") or err.get("message")):
        return ""
    kind, message = str(err.get("kind") or ""), str(err.get("message") or "")
    return f"{kind}: {message}" if kind and message else (kind or message)


def gradebook_frame(results: list[dict[str, Any]], criteria_ids: list[str]) -> pd.DataFrame:
    """One row per submission: ``submission, name, score, max_score, <criterion ids...>, grader_errors, error``.

    Criterion columns hold the points earned (NaN when the criterion is missing
    from a result, or the grader failed on it: nothing was earned or lost);
    rows are sorted by submission id.
    """
    rows = []
    for r in results:
        points = {str(c.get("id")): math.nan if is_grader_error(c) else _float(c.get("score"))
                  for c in (r.get("criteria") or []) if isinstance(c, dict)}
        sid = str(r.get("submission", ""))
        row: dict[str, Any] = {"submission": sid, "name": str(r.get("name") or sid),
                               "score": _float(r.get("score")), "max_score": _float(r.get("max_score"))}
        for cid in criteria_ids:
            row[cid] = points.get(cid, math.nan)
        row["grader_errors"] = " ".join(grader_error_ids(r))
        row["error"] = _error_text(r)
        rows.append(row)
    columns = ["submission", "name", "score", "max_score", *criteria_ids, "grader_errors", "error"]
    numeric = ["score", "max_score", *criteria_ids]
    text = ["submission", "name", "grader_errors", "error"]
    if any(isinstance(r.get("intake"), dict) for r in results):
        for r, row in zip(results, rows):
            record = r.get("intake") if isinstance(r.get("intake"), dict) else {}
            student = record.get("student") if isinstance(record.get("student"), dict) else {}
            row.update({"student_id": str(student.get("student_id") or ""), "email": str(student.get("email") or ""),
                        "status": STATUS.get(str(record.get("status") or "graded"), "graded"),
                        "submitted_at": str(record.get("submitted_at") or ""),
                        "late_days": _float(record.get("late_days")),
                        "penalty": _float(record.get("penalty_points")),
                        "final_score": _float(final_score(r))})
            if record.get("message") and not row["error"]:
                row["error"] = str(record["message"])
        columns += ["student_id", "email", "status", "submitted_at", "late_days", "penalty", "final_score"]
        numeric += ["late_days", "penalty", "final_score"]
        text += ["student_id", "email", "status", "submitted_at"]
    if any(special_glue(r) is not None for r in results):
        for r, row in zip(results, rows):
            record = special_glue(r)
            row["glue"] = glue_label(record) if record is not None else ""
        columns.append("glue")
        text.append("glue")
    frame = pd.DataFrame(rows, columns=columns)
    for col in numeric:
        frame[col] = frame[col].astype("float64")
    for col in text:
        frame[col] = frame[col].astype(str)
    return frame.sort_values("submission", kind="mergesort").reset_index(drop=True)


def canvas_frame(results: list[dict[str, Any]]) -> pd.DataFrame:
    """The Canvas import table: identity columns, one assignment column with the
    total score, and a leading ``Points Possible`` row."""
    ordered = sorted(results, key=lambda r: str(r.get("submission", "")))
    rubric = next((str(r["rubric"]) for r in ordered if r.get("rubric")), "assignment")
    # points possible: a complete grade's (a result with grader failures has a smaller max_score)
    complete = [r for r in ordered if not grader_error_ids(r)] or ordered
    max_score = next((float(r["max_score"]) for r in complete if is_number(r.get("max_score"))), math.nan)
    column = f"nngrade {rubric} ({fmt_points(max_score)} pts)" if math.isfinite(max_score) else f"nngrade {rubric}"
    rows: list[dict[str, Any]] = [
        {"Student": "Points Possible", "ID": "", "SIS User ID": "", "SIS Login ID": "", "Section": "",
         column: max_score}
    ]
    for r in ordered:
        sid = str(r.get("submission", ""))
        record = r.get("intake") if isinstance(r.get("intake"), dict) else {}
        student = record.get("student") if isinstance(record.get("student"), dict) else None
        if student:   # a roster student: the columns Canvas matches on
            rows.append({"Student": str(student.get("name") or r.get("name") or sid), "ID": str(student.get("lms_id") or ""),
                         "SIS User ID": str(student.get("student_id") or ""),
                         "SIS Login ID": str(student.get("login") or ""), "Section": "",
                         column: _canvas_score(r)})
            continue
        rows.append({"Student": str(r.get("name") or sid), "ID": "", "SIS User ID": "", "SIS Login ID": sid,
                     "Section": "",
                     column: _canvas_score(r)})
    frame = pd.DataFrame(rows, columns=[*CANVAS_ID_COLUMNS, column])
    frame[column] = frame[column].astype("float64")
    return frame


def _canvas_score(result: dict[str, Any]) -> float:
    """The Canvas cell: the final score, or empty (NaN) while the grader's
    own failures leave part of the grade uncounted -- Canvas has one points
    possible for everyone, so a partial total would read as points lost."""
    return math.nan if grader_error_ids(result) else _float(final_score(result))


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    frame = frame.copy()
    for col in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[col]):   # text: never a formula
            frame[col] = frame[col].map(csv_cell)
    buf = io.StringIO()
    frame.to_csv(buf, index=False, lineterminator="\n", float_format=FLOAT_FORMAT, na_rep="",
                 quoting=csv.QUOTE_MINIMAL)
    return buf.getvalue().encode("utf-8")


def write_gradebook(results: list[dict[str, Any]], criteria_ids: list[str], out_dir: str | Path) -> list[Path]:
    """Write ``gradebook.csv`` and ``gradebook_canvas.csv`` into ``out_dir``
    (created if needed); return their paths. Same input -> same bytes."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plain, canvas = out / "gradebook.csv", out / "gradebook_canvas.csv"
    plain.write_bytes(_csv_bytes(gradebook_frame(results, criteria_ids)))
    canvas.write_bytes(_csv_bytes(canvas_frame(results)))
    return [plain, canvas]
