"""Two audiences, two trees: what an instructor sees and what students may see.

A batch writes, for every submission,

* the **instructor tree** `OUT/<id>/`: result.json (every criterion, hidden
  included), run.json, gradescope.json and report.html in the instructor's
  view (hidden criteria shown, all the output the submission printed);
* the **release tree** `OUT/release.students/<id>/report.html`: the student's
  view and nothing else -- hidden criteria show only their title and points
  until grades are released, and the output printed while a hidden
  criterion ran is never in it (it can show the secret-seeded questions of
  final grading), released or not.  `OUT/release.students/index.html` lists
  the reports in it.

The folder's name ends in `.students`, one of `names.CLASS_OUTPUT_SUFFIXES`,
so no submission id can be `release.students` (ids never end like a class
output): the two trees can never collide.

Whether grades are released is stored in the batch's store (meta key
`released`), so it sticks: a later `--only` regrade or a late submission is
rendered in the same state, and only `--release` / `--unrelease` change it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

__all__ = ["RELEASE_DIR", "release_folder", "student_stdout", "stdout_pieces", "hidden_ids", "write_student_report",
           "write_release_index", "RELEASED_KEY", "stored_release", "set_release", "rendered_release",
           "set_rendered"]

#: the release tree's folder at OUT's top level; its suffix is reserved in grader/names.py
RELEASE_DIR = "release.students"
#: the store's meta key holding the release state ("yes" / "no")
RELEASED_KEY = "released"
#: the state every report of the release tree was rendered in (set once a re-render finished)
RENDERED_KEY = "released_rendered"
INDEX_NAME = "index.html"


def release_folder(out: Path) -> Path:
    return Path(out) / RELEASE_DIR


def hidden_ids(result: dict[str, Any]) -> set[str]:
    """Ids of the result's hidden criteria (visibility hidden, or withheld)."""
    return {str(c.get("id")) for c in result.get("criteria") or [] if isinstance(c, dict)
            and (c.get("visibility") == "hidden" or c.get("status") == "hidden")}


def stdout_pieces(result: dict[str, Any]) -> list[tuple[str | None, str, bool]] | None:
    """`stdout` as (criterion, text, printed while a hidden criterion ran)
    pieces (`stdout_segments`, recorded by the worker client per criterion);
    None when the segments are missing or do not add up to `stdout` (a
    result from an older grader)."""
    stdout = str(result.get("stdout") or "")
    segments = result.get("stdout_segments")
    if not isinstance(segments, list) or not all(isinstance(s, dict) for s in segments) \
            or sum(int(s.get("chars", 0)) for s in segments) != len(stdout):
        return None
    hidden = hidden_ids(result)
    pieces, at = [], 0
    for seg in segments:
        size = int(seg.get("chars", 0))
        name = seg.get("criterion")
        pieces.append((name, stdout[at:at + size], name in hidden))
        at += size
    return pieces


def student_stdout(result: dict[str, Any]) -> str:
    """The output a student may see: `stdout` without what was printed
    while a hidden criterion ran.  Fails closed: without usable segments,
    when hidden criteria ran, nothing is shown."""
    pieces = stdout_pieces(result)
    if pieces is None:
        ran_hidden = any(isinstance(c, dict) and c.get("visibility") == "hidden" and c.get("status") != "hidden"
                         for c in result.get("criteria") or [])
        return "" if ran_hidden else str(result.get("stdout") or "")
    return "".join(text for _, text, hidden in pieces if not hidden)


def stored_release(store: Any) -> bool:
    """The batch's release state (False until `--release`).  A store from
    before this key kept the last batch's flag under "release"."""
    value = store.get_meta(RELEASED_KEY)
    return value == "yes" if value is not None else store.get_meta("release") == "True"


def set_release(store: Any, released: bool) -> None:
    store.set_meta(RELEASED_KEY, "yes" if released else "no")


def rendered_release(store: Any) -> bool:
    """The state the release tree's reports were last all rendered in (it
    lags `stored_release` only when a re-render was interrupted: the next
    run finishes it)."""
    value = store.get_meta(RENDERED_KEY)
    return value == "yes" if value is not None else stored_release(store)


def set_rendered(store: Any, released: bool) -> None:
    store.set_meta(RENDERED_KEY, "yes" if released else "no")


def write_student_report(result: dict[str, Any], out: Path, *, released: bool) -> Path:
    """OUT/release.students/<id>/report.html: the student's view."""
    from .outputs import write_atomic
    from .render.html import render_report

    path = release_folder(out) / str(result["submission"]) / "report.html"
    write_atomic(path, render_report(result, audience="student", reveal_hidden=released))
    return path


def write_release_index(results: Iterable[dict[str, Any]], out: Path, *, released: bool,
                        rubric_title: str) -> Path:
    """OUT/release.students/index.html: every report of the release tree,
    with the score each student's own report shows (public criteria only
    until release; criteria the grader failed on left out, as in the
    report, and counted in the row's "not counted" column)."""
    from .names import href
    from .outputs import write_atomic
    from .render.common import counted, environment, fmt_points, is_grader_error, is_number

    rows = []
    for r in sorted(results, key=lambda r: str(r.get("submission", ""))):
        shown = [c for c in r.get("criteria") or [] if isinstance(c, dict)
                 and (released or c.get("visibility") != "hidden") and c.get("status") != "hidden"]
        score = sum(float(c["score"]) for c in counted(shown) if is_number(c.get("score")))
        top = sum(float(c["max_score"]) for c in counted(shown) if is_number(c.get("max_score")))
        sid = str(r.get("submission", "?"))
        rows.append({"name": str(r.get("name") or sid), "href": href(sid), "score": fmt_points(score),
                     "max": fmt_points(top), "not_counted": sum(1 for c in shown if is_grader_error(c))})
    html = environment().get_template("release_index.html.j2").render(
        rows=rows, released=released, rubric_title=rubric_title)
    path = release_folder(out) / INDEX_NAME
    write_atomic(path, html)
    return path
