"""Result document -> one self-contained HTML report page (student or instructor view).

The page has inline CSS, plots as inline SVG, no JavaScript and no external
URLs, and is readable on a phone. Hidden criteria show only their title
and points until release (``reveal_hidden=True`` or the instructor view);
the student's view never shows the output printed while they ran.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from markupsafe import Markup

from grader import diagnoses
from grader.render.common import (
    GRADER_ERROR, HINT_MARK, STATUS_LABELS, counted, criterion_status, environment, fmt_number, fmt_points,
    glue_hash, glue_record, is_hidden, is_number, is_table, message_of, repeats,
)
from grader.glue import PER_SUBMISSION, RUBRIC
from grader.render.plots import is_reference, plot_svg
from grader.release import stdout_pieces, student_stdout

__all__ = ["render_report", "AUDIENCES"]

AUDIENCES: tuple[str, ...] = ("student", "instructor")
_INLINE_LIST_MAX = 8  # lists up to this length are shown inline, longer ones collapsed
_LIST_MAX = 200  # at most this many list entries are printed


def _version() -> str:
    try:
        from grader import __version__
        return str(__version__)
    except ImportError:  # pragma: no cover - package always has it
        return "?"


def _anchor(cid: str, seen: set[str]) -> str:
    base = "crit-" + (re.sub(r"[^A-Za-z0-9_-]+", "-", cid).strip("-") or "x")
    anchor, n = base, 2
    while anchor in seen:
        anchor, n = f"{base}-{n}", n + 1
    seen.add(anchor)
    return anchor


def _fmt_list(values: list[Any]) -> str:
    shown = ", ".join(fmt_number(v) for v in values[:_LIST_MAX])
    more = f", … ({len(values) - _LIST_MAX} more)" if len(values) > _LIST_MAX else ""
    return f"[{shown}{more}]"


def _evidence(evidence: Any) -> tuple[list[tuple[str, str]], list[dict[str, Any]], list[tuple[str, str]]]:
    """Split evidence into scalars (name, text), tables and long lists (name, text)."""
    scalars: list[tuple[str, str]] = []
    tables: list[dict[str, Any]] = []
    lists: list[tuple[str, str]] = []
    if not isinstance(evidence, dict):
        return scalars, tables, lists
    for name, value in evidence.items():
        name = str(name)
        if name == "answer_key":   # a written answer's grouping key, for the class summary only
            continue
        if is_table(value):
            columns = [str(c) for c in value["columns"]]
            rows = [list(r) if isinstance(r, (list, tuple)) else [r] for r in value["rows"]]
            width = max([len(columns)] + [len(r) for r in rows])
            columns += [""] * (width - len(columns))
            numeric = [
                all(is_number(r[i]) or r[i] is None for r in rows if i < len(r))
                and any(i < len(r) and is_number(r[i]) for r in rows)
                for i in range(width)
            ]
            text_rows = [[fmt_number(r[i]) if i < len(r) else "" for i in range(width)] for r in rows]
            tables.append(_drop_constant_columns({"name": name, "columns": columns, "rows": text_rows,
                                                  "numeric": numeric, "notes": [], "same_as": None}))
        elif isinstance(value, (list, tuple)):
            if len(value) <= _INLINE_LIST_MAX:
                scalars.append((name, _fmt_list(list(value))))
            else:
                lists.append((f"{name} ({len(value)} values)", _fmt_list(list(value))))
        elif isinstance(value, dict):
            scalars.append((name, json.dumps(value, sort_keys=True, default=str)))
        else:
            scalars.append((name, fmt_number(value)))
    return scalars, tables, lists


def _drop_constant_columns(table: dict[str, Any]) -> dict[str, Any]:
    """A text column that says the same thing on every row (a "stored as"
    column of "ok"s) carries no information in a table: it becomes one note
    under the table ("stored as: ok for every row"), so nothing is lost.
    The first column (what each row is about) and numbers always stay."""
    rows = table["rows"]
    if len(rows) < 2:
        return table
    keep = [i for i, column in enumerate(table["columns"])
            if i == 0 or table["numeric"][i] or len({r[i] for r in rows}) > 1]
    table["notes"] = [f"{table['columns'][i]}: {rows[0][i]} for every row" for i in range(len(table["columns"]))
                      if i not in keep and rows[0][i] not in ("", "–")]
    table["columns"] = [table["columns"][i] for i in keep]
    table["numeric"] = [table["numeric"][i] for i in keep]
    table["rows"] = [[r[i] for i in keep] for r in rows]
    return table


def _scalar_views(scalars: list[tuple[str, str]], raw: Any) -> list[dict[str, Any]]:
    """Scalars for the template; numbers (and lists/objects) get a monospace class."""
    out = []
    for name, text in scalars:
        value = raw.get(name) if isinstance(raw, dict) else None
        out.append({"name": name, "text": text, "mono": not isinstance(value, str)})
    return out


def _plot(spec: dict[str, Any], id_prefix: str) -> str:
    """`plot_svg`, remembered: both views of a result draw the same plots
    (matplotlib takes ~0.2 s of CPU per plot, most of a report's rendering)."""
    try:
        key = json.dumps(spec, allow_nan=True)
    except (TypeError, ValueError):
        return plot_svg(spec, id_prefix=id_prefix)
    return _plot_cached(key, id_prefix)


@functools.lru_cache(maxsize=64)
def _plot_cached(spec_json: str, id_prefix: str) -> str:
    return plot_svg(json.loads(spec_json), id_prefix=id_prefix)


def _criterion(c: dict[str, Any], reveal: bool, seen: set[str], student: bool = True,
               result: dict[str, Any] | None = None) -> dict[str, Any]:
    """One criterion's card.  `result`: the document it belongs to, whose
    embedded catalogue words the diagnoses in the rubric's terms."""
    cid = str(c.get("id", ""))
    status = criterion_status(c)
    hidden = is_hidden(c)
    withheld = (hidden and not reveal) or status == "hidden"
    # a withheld criterion's id names what final grading checks: not in a student's page, not even an anchor
    masked = withheld and student
    anchor = _anchor(f"hidden-{len(seen) + 1}" if masked else cid, seen)
    view: dict[str, Any] = {
        "id": "" if masked else cid,
        "masked": masked,
        "anchor": anchor,
        "title": str(c.get("title") or cid),
        "visibility": "hidden" if hidden else "public",
        "max_text": fmt_points(c.get("max_score")),
        "max_score": c.get("max_score"),
        "withheld": withheld,
    }
    if withheld:
        view.update(status="hidden", status_label="hidden until release",
                    withheld_text=("Hidden until release: the result of this criterion is shown "
                                   "when grades are released." if status != "hidden" or not reveal
                                   else "The grader withheld the outcome of this criterion."))
        return view
    score, max_score = c.get("score"), c.get("max_score")
    pct = 0.0
    if is_number(score) and is_number(max_score) and max_score > 0:
        pct = max(0.0, min(100.0, 100.0 * float(score) / float(max_score)))
    scalars, tables, lists = _evidence(c.get("evidence"))
    plots = []
    for i, (name, spec) in enumerate((c.get("plots") or {}).items()):
        if not isinstance(spec, dict):
            continue
        plots.append({
            "name": str(name),
            "svg": Markup(_plot(spec, f"{anchor}-plot{i}")),
            "has_reference": any(is_reference(str(s), spec) for s in (spec.get("series") or {})),
        })
    not_counted = status == GRADER_ERROR   # the grader's failure: no score of the student's to show
    view.update(
        status=status,
        status_label=STATUS_LABELS[status],
        not_counted=not_counted,
        score_text="–" if not_counted else fmt_points(score),
        pct="0.0" if not_counted else f"{pct:.1f}",
        feedback=str(c.get("feedback") or ""),
        diagnoses=[diagnoses.lookup(result, str(d)) for d in (c.get("diagnoses") or [])],
        scalars=_scalar_views(scalars, c.get("evidence")), tables=tables, lists=lists, plots=plots,
    )
    return view


def _share_failures(views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Criteria that failed with the very same message (e.g. one method that
    timed out, and was not run again for the later criteria) show it once:
    the later ones refer to the first (their own hint, if any, stays)."""
    for view in views:
        view.setdefault("same_as", None)
        view.setdefault("hint", "")
    for later, earlier in repeats(views, shown=lambda v: not v.get("withheld")).items():
        view, first = views[later], views[earlier]
        view["same_as"] = {"anchor": first["anchor"], "title": first["title"]}
        _, mark, hint = view["feedback"].partition(HINT_MARK)
        view["hint"] = (mark + hint).strip() if mark else ""
    return views


def _share_explanations(views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A mistake that shows in several criteria (sum-not-mean in all four
    gradient blocks) is explained once, where it first appears; later
    criteria name it and link there.  An evidence table identical to an
    earlier criterion's is likewise shown once."""
    explained: dict[str, dict[str, Any]] = {}
    tables: dict[str, dict[str, Any]] = {}
    for view in views:
        view.setdefault("diagnoses_seen", [])
        if view.get("withheld"):
            continue
        own = []
        for diag in view.get("diagnoses") or []:
            if diag.id in explained:
                view["diagnoses_seen"].append({"diagnosis": diag, **explained[diag.id]})
            else:
                explained[diag.id] = {"anchor": view["anchor"], "title": view["title"]}
                own.append(diag)
        view["diagnoses"] = own
        for table in view.get("tables") or []:
            key = json.dumps([table["name"], table["columns"], table["rows"], table["notes"]])
            if key in tables:
                table["same_as"] = tables[key]
            else:
                tables[key] = {"anchor": view["anchor"], "title": view["title"]}
    return views


def _not_graded(views: list[dict[str, Any]], raw: list[dict[str, Any]], error: dict[str, Any] | None) -> None:
    """Criteria stopped by a problem with the whole submission (a syntax
    error stops all of them) are listed once under that problem instead
    of one card each repeating it."""
    for view, crit in zip(views, raw):
        view["not_graded"] = bool(error) and not view.get("withheld") and view.get("status") == "error" and \
            message_of(str(crit.get("feedback") or "")) == f"Not graded: {error.get('message', '')}"


def _sum(values: list[Any]) -> float:
    return float(sum(float(v) for v in values if is_number(v)))


def _grader_failures(views: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The page's notice of criteria the grader failed on (shown ones only:
    a withheld criterion is not named to a student): they are the grader's
    fault and left out of the total, and the page says so at the top."""
    failed = [v for v in views if not v.get("withheld") and v.get("status") == GRADER_ERROR]
    if not failed:
        return None
    points = _sum([v["max_score"] for v in failed])
    return {"criteria": failed, "points": fmt_points(points), "n": len(failed)}


def _total(result: dict[str, Any], raw_criteria: list[dict[str, Any]], reveal: bool) -> dict[str, Any]:
    """The score line: the document's total (grader failures already left
    out by the engine), or before release the public criteria's, likewise
    without the grader's failures."""
    hidden_raw = [c for c in raw_criteria if is_hidden(c)]
    public_raw = counted([c for c in raw_criteria if not is_hidden(c)])
    public_only = bool(hidden_raw) and not reveal
    if public_only:
        score = _sum([c.get("score") for c in public_raw])
        max_score = _sum([c.get("max_score") for c in public_raw])
    else:
        score = result.get("score") if is_number(result.get("score")) else _sum(
            [c.get("score") for c in counted(raw_criteria)])
        max_score = result.get("max_score") if is_number(result.get("max_score")) else _sum(
            [c.get("max_score") for c in counted(raw_criteria)])
    pct = 100.0 * float(score) / float(max_score) if max_score else 0.0
    return {
        "score": fmt_points(score),
        "max": fmt_points(max_score),
        "pct": f"{max(0.0, min(100.0, pct)):.1f}",
        "public_only": public_only,
        "hidden_points": fmt_points(_sum([c.get("max_score") for c in hidden_raw])),
        "hidden_points_revealed": (fmt_points(_sum([c.get("max_score") for c in counted(hidden_raw)]))
                                   if counted(hidden_raw) and reveal else ""),
    }


def _intake_notes(result: dict[str, Any]) -> list[str]:
    from grader.intake.notes import notes

    return notes(result)


def _glue_view(result: dict[str, Any], audience: str) -> dict[str, str] | None:
    """Which glue graded the submission (never its text).  The instructor
    sees every glue, with its content hash and origin; the student sees
    only a glue written for them alone (the course's own glue is everyone's
    and says nothing about their work), so they know their code was read
    through an adapter."""
    record = glue_record(result)
    if record is None or (audience == "student" and record["origin"] != PER_SUBMISSION):
        return None
    origin = {PER_SUBMISSION: "per-submission", RUBRIC: "the rubric's"}.get(record["origin"], record["origin"])
    return {"name": record["name"], "short": glue_hash(record), "origin": origin,
            "special": "yes" if record["origin"] == PER_SUBMISSION else ""}


def render_report(result: dict[str, Any], *, audience: str = "student",
                  reveal_hidden: bool = False) -> str:
    """Render one result document as a self-contained HTML page.

    ``audience="student"`` hides the outcome of hidden criteria unless
    ``reveal_hidden`` is True; their points are then not counted in the shown
    score (the page says "score on public criteria" and how many points are
    released later). ``audience="instructor"`` always reveals everything and
    also shows the isolation level the submission ran under.
    """
    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {AUDIENCES}, not {audience!r}")
    reveal = reveal_hidden or audience == "instructor"
    raw_criteria = [c for c in (result.get("criteria") or []) if isinstance(c, dict)]
    seen: set[str] = set()
    criteria = _share_explanations(_share_failures([_criterion(c, reveal, seen, audience == "student", result)
                                                    for c in raw_criteria]))
    _not_graded(criteria, raw_criteria, result.get("error") if isinstance(result.get("error"), dict) else None)

    total = _total(result, raw_criteria, reveal)

    error = result.get("error")
    error_view = None
    if isinstance(error, dict) and (error.get("kind") or error.get("message")):
        kind = str(error.get("kind") or "crash")
        error_view = {"kind": kind, "message": str(error.get("message") or ""),
                      "diagnosis": diagnoses.lookup(result, kind), "stopped": [c for c in criteria if c.get("not_graded")]}

    # the student's view never shows what was printed while a hidden criterion ran (grader/release.py)
    stdout = str(result.get("stdout") or "") if audience == "instructor" else student_stdout(result)
    submission = str(result.get("name") or result.get("submission") or "?")   # as handed in (autoescaped)
    context = {
        "audience": audience,
        "submission": submission,
        "rubric": str(result.get("rubric") or ""),
        "rubric_title": str(result.get("rubric_title") or result.get("rubric") or "Assignment"),
        "isolation": str(result.get("isolation") or "unknown") if audience == "instructor" else "",
        "total": total,
        "criteria": criteria,
        "error": error_view,
        "grader_failures": _grader_failures(criteria),
        "intake_notes": _intake_notes(result),
        "glue": _glue_view(result, audience),
        "stdout": stdout,
        "stdout_withheld": audience == "student" and stdout != str(result.get("stdout") or ""),
        # the instructor sees which output the students' view leaves out
        "stdout_pieces": ([{"text": text, "hidden": hidden, "criterion": str(name)}
                           for name, text, hidden in stdout_pieces(result) or [(None, stdout, False)]]
                          if audience == "instructor" else [{"text": stdout, "hidden": False, "criterion": ""}]),
        "stdout_lines": stdout.count("\n") + (0 if stdout.endswith("\n") else 1) if stdout else 0,
        "stdout_owner": "your code" if audience == "student" else "the submission",
        "version": _version(),
    }
    return environment().get_template("report.html.j2").render(**context)
