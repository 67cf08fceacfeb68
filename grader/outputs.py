"""Write one graded submission's files: result.json, run.json,
gradescope.json and report.html (instructor's view) under OUT/<id>/, and
the student's view under OUT/release.students/<id>/ (grader/release.py).

Called where the grading happened (a pool or cluster worker), so rendering
runs in parallel and stays off the batch's critical path.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .engine import GradeOutcome, dumps
from .names import is_id
from .release import write_student_report


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and rename: a killed batch never leaves a
    half-written result behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_submission_outputs(outcome: GradeOutcome, out: Path, *, release: bool = False) -> Path:
    """All per-student files; returns the instructor's folder.  Everything
    but run.json is a pure function of the result (and `release`), so
    re-runs write identical bytes."""
    from .render.gradescope import to_gradescope
    from .render.html import render_report

    result = outcome.result
    if not is_id(str(result["submission"])):   # ids come from names.slug: one safe path component
        raise ValueError(f"not a submission id: {result['submission']!r}")
    folder = Path(out) / result["submission"]
    write_atomic(folder / "result.json", dumps(result))
    write_atomic(folder / "run.json", json.dumps(outcome.run, sort_keys=True, indent=1) + "\n")
    gradescope = to_gradescope(result)
    write_atomic(folder / "gradescope.json", json.dumps(gradescope, sort_keys=True, indent=1) + "\n")
    write_atomic(folder / "report.html", render_report(result, audience="instructor"))
    write_student_report(result, Path(out), released=release)
    return folder


def criteria_summary(rubric: Any) -> list[dict[str, Any]]:
    return [{"id": c.id, "title": c.title, "points": c.points, "visibility": c.visibility}
            for c in rubric.criteria]
