"""Result documents of a whole class -> one self-contained HTML summary page.

Instructor-facing: hidden criteria are included. Shows, first, the criteria
the grader itself failed on (if any), then class statistics, a
score histogram, per-criterion pass rates, the most frequent diagnoses (with
links to the affected students' reports), submissions that errored or timed
out, and a table of all submissions. Ordering is deterministic (by id).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from typing import Any, Callable

from markupsafe import Markup

from grader import diagnoses
from grader.render.common import (
    GRADER_ERROR, STATUS_LABELS, counted, criterion_status, environment, fmt_points, grader_error_ids, is_number,
    glue_hash, special_glue,
)
from grader.names import href
from grader.release import RELEASE_DIR
from grader.render.plots import bar_svg

__all__ = ["render_summary", "class_statistics", "histogram", "grader_failures", "criterion_rows",
           "frequent_diagnoses", "errored", "submission_rows", "glued"]

HISTOGRAM_BINS = 10


def _default_href(sid: str) -> str:
    return href(sid)


def _name(result: dict[str, Any], sid: str) -> str:
    """What the summary shows for a submission: the name as handed in
    (autoescaped text), else its id."""
    return str(result.get("name") or sid)


def _score(result: dict[str, Any]) -> float:
    s = result.get("score")
    return float(s) if is_number(s) else 0.0


def class_statistics(results: list[dict[str, Any]]) -> dict[str, float | int]:
    """Number of submissions and mean/median/min/max of the total scores
    (a submission without a numeric score counts as 0)."""
    scores = [_score(r) for r in results]
    if not scores:
        return {"n": 0, "mean": 0.0, "median": 0.0, "min": 0.0, "max": 0.0}
    return {"n": len(scores), "mean": statistics.fmean(scores), "median": statistics.median(scores),
            "min": min(scores), "max": max(scores)}


def histogram(scores: list[float], max_score: float, bins: int = HISTOGRAM_BINS) -> tuple[list[str], list[int]]:
    """Counts of scores in ``bins`` equal-width bins over [0, max_score]; the last
    bin includes max_score. Returns (bin labels, counts)."""
    max_score = max_score if max_score > 0 else max(scores + [1.0])
    width = max_score / bins
    counts = [0] * bins
    for s in scores:
        i = int(min(max(s, 0.0), max_score) / width) if width else 0
        counts[min(i, bins - 1)] += 1
    labels = []
    for i in range(bins):
        lo, hi = fmt_points(i * width), fmt_points((i + 1) * width)
        labels.append(f"{lo}–{hi}")
    return labels, counts


WRONG_ANSWERS_SHOWN = 5   # per question


def wrong_answers(results: list[dict[str, Any]], criteria: list[dict[str, Any]],
                  report_href: Callable[[str], str] = _default_href) -> list[dict[str, Any]]:
    """Written questions: the most frequent wrong answers, per question, with
    the mistakes named on them and who gave them.  A criterion is a written
    question when its evidence carries `answer_key` (check `answers`)."""
    titles = {str(c["id"]): str(c.get("title") or c["id"]) for c in criteria}
    order = {str(c["id"]): i for i, c in enumerate(criteria)}
    seen: dict[str, dict[str, Any]] = {}
    for r in sorted((r for r in results if isinstance(r, dict)), key=lambda r: str(r.get("submission", ""))):
        sid = str(r.get("submission", "?"))
        for c in r.get("criteria") or []:
            if not isinstance(c, dict) or not isinstance(c.get("evidence"), dict):
                continue
            key = c["evidence"].get("answer_key")
            if not isinstance(key, str):
                continue
            cid = str(c.get("id"))
            q = seen.setdefault(cid, {"id": cid, "title": titles.get(cid, cid), "answered": 0, "right": 0,
                                      "expected": "", "answers": {}})
            q["answered"] += 1
            rows = (c["evidence"].get("answer") or {}).get("rows") or []
            expected = next((str(row[1]) for row in rows if row and row[0] == "expected"), "")
            q["expected"] = q["expected"] or expected
            if criterion_status(c) == "passed":
                q["right"] += 1
                continue
            entry = q["answers"].setdefault(key, {"answer": key, "count": 0, "students": [], "diagnoses": []})
            entry["count"] += 1
            entry["students"].append({"id": _name(r, sid), "href": report_href(sid)})
            for d in c.get("diagnoses") or []:
                if str(d) not in entry["diagnoses"]:
                    entry["diagnoses"].append(str(d))
    out = []
    wording = _wording(results)
    for cid in sorted(seen, key=lambda k: (order.get(k, len(order)), k)):
        q = seen[cid]
        ranked = sorted(q["answers"].values(), key=lambda e: (-e["count"], e["answer"]))
        q["answers"] = [{**e, "diagnoses": [{"id": d, "title": diagnoses.lookup(wording, d).title}
                                              for d in e["diagnoses"]]}
                        for e in ranked[:WRONG_ANSWERS_SHOWN]]
        q["more"] = max(0, len(ranked) - WRONG_ANSWERS_SHOWN)
        out.append(q)
    return out


def intake_view(results: list[dict[str, Any]], absent: list[dict[str, Any]], ignored: Any,
                report_href: Callable[[str], str] = _default_href) -> dict[str, Any]:
    """The summary's intake section: students with nothing graded (missing,
    not gradable), graded submissions to check (ambiguous graded file, late),
    and files that belong to no submission."""
    from grader.intake.notes import notes
    from grader.intake.plan import STATUS

    flagged = [{"id": _name(r, str(r.get("submission", "?"))), "href": report_href(str(r.get("submission", "?"))),
                "notes": notes(r)} for r in results]
    view = {"absent": [{"id": _name(a, str(a.get("submission", "?"))),
                        "status": str(a["intake"]["status"]), "label": STATUS.get(str(a["intake"]["status"]), ""),
                        "message": str(a["intake"].get("message") or "")} for a in absent],
            "flagged": [f for f in flagged if f["notes"]], "ignored": [str(i) for i in ignored or ()]}
    view["any"] = bool(view["absent"] or view["flagged"] or view["ignored"])
    return view


def glued(results: list[dict[str, Any]], report_href: Callable[[str], str] = _default_href) -> list[dict[str, Any]]:
    """The students graded through a glue of their own (an instructor's
    per-submission map), with the glue's name and content hash: their
    grade depends on that glue, so the instructor sees who they are."""
    out = []
    for r in results:
        record = special_glue(r)
        if record is not None:
            out.append({"id": _name(r, _sid(r)), "href": report_href(_sid(r)), "glue": record["name"],
                        "short": glue_hash(record)})
    return out


def render_summary(results: list[dict[str, Any]], *, rubric_title: str, criteria: list[dict[str, Any]],
                   report_href: Callable[[str], str] = _default_href, released: bool | None = None,
                   absent: list[dict[str, Any]] | None = None, ignored: Any = ()) -> str:
    """Render the class summary page.

    Links go to the instructor's view of each report (OUT/<id>/report.html:
    hidden criteria and all output shown, the gradebook's score).
    ``released``: the batch's release state, shown with a link to the
    release tree's index (None: no release tree, e.g. a page rendered alone).

    ``criteria`` is the rubric's list ``[{"id", "title", "points", "visibility"}]``;
    ``report_href(submission_id)`` gives the (relative) link to a student's report.
    Criteria the grader failed on are listed first ("Grader failures"),
    never counted as a student's failure or among the diagnosed mistakes.
    """
    results = sorted((r for r in results if isinstance(r, dict)),
                     key=lambda r: str(r.get("submission", "")))
    max_total = _max_total(results, criteria)
    stats = class_statistics(results)
    context = {
        "intake": intake_view(results, list(absent or []), ignored, report_href),
        "wrong_answers": wrong_answers(results, criteria, report_href),
        "grader_failures": grader_failures(results, criteria, report_href),
        "glued": glued(results, report_href),
        "rubric_title": rubric_title,
        "released": released,
        "release_index": f"{RELEASE_DIR}/index.html",
        "n": len(results),
        "stats": {k: str(stats["n"]) if k == "n" else fmt_points(stats[k]) for k in stats},
        "max_total": fmt_points(max_total),
        "hist_svg": _histogram_svg(results, max_total),
        "criteria": criterion_rows(results, criteria),
        "diagnoses": frequent_diagnoses(results, report_href),
        "errored": errored(results, report_href),
        "rows": submission_rows(results, criteria, max_total, report_href),
        "status_labels": STATUS_LABELS,
    }
    return environment().get_template("summary.html.j2").render(**context)


def _max_total(results: list[dict[str, Any]], criteria: list[dict[str, Any]]) -> float:
    """The rubric's total points (a result's max_score if the criteria carry none)."""
    total = float(sum(float(c.get("points", 0) or 0) for c in criteria))
    return total or max((float(r["max_score"]) for r in results if is_number(r.get("max_score"))), default=0.0)


def _histogram_svg(results: list[dict[str, Any]], max_total: float) -> Markup | None:
    if not results:
        return None
    labels, counts = histogram([_score(r) for r in results], max_total)
    return Markup(bar_svg(labels, counts, xlabel="total score", ylabel="submissions", id_prefix="hist", rotate=30))


def _sid(result: dict[str, Any]) -> str:
    return str(result.get("submission", "?"))


def _wording(results: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The result whose embedded catalogue words the diagnoses: the class
    shares one rubric, so the first result's words are everyone's."""
    return next((r for r in results if isinstance(r, dict) and isinstance(r.get("catalogue"), dict)), None)


def grader_failures(results: list[dict[str, Any]], criteria: list[dict[str, Any]],
                    report_href: Callable[[str], str] = _default_href) -> dict[str, Any]:
    """Every criterion the grader failed on, per submission: what the staff
    must fix and regrade (the tracebacks are in each OUT/<id>/run.json)."""
    titles = {str(c["id"]): str(c.get("title") or c["id"]) for c in criteria}
    students = []
    for r in results:
        failed = grader_error_ids(r)
        if failed:
            students.append({"id": _name(r, _sid(r)), "href": report_href(_sid(r)),
                             "criteria": [{"id": cid, "title": titles.get(cid, cid)} for cid in failed]})
    return {"students": students, "n_criteria": sum(len(s["criteria"]) for s in students)}


def criterion_rows(results: list[dict[str, Any]], criteria: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per criterion: how many submissions got each status, the pass rate
    and the mean points (over the submissions the grader did not fail on)."""
    statuses = ("passed", "partial", "failed", "error", GRADER_ERROR, "hidden")
    n = len(results)
    rows = []
    for c in criteria:
        cid = str(c["id"])
        outcomes = [x for r in results for x in r.get("criteria") or [] if isinstance(x, dict) and str(x.get("id")) == cid]
        cnt: Counter[str] = Counter(criterion_status(x) for x in outcomes)
        graded = counted(outcomes)
        share = {s: (100.0 * cnt[s] / n if n else 0.0) for s in statuses}
        rows.append({
            "id": cid, "title": str(c.get("title") or cid), "points": fmt_points(c.get("points")),
            "visibility": str(c.get("visibility") or "public"),
            **{s: cnt[s] for s in ("passed", "partial", "failed", "error", "hidden")},
            "grader_error": cnt[GRADER_ERROR],
            "pass_rate": f"{share['passed']:.0f}%",
            "shares": [(s, f"{share[s]:.1f}") for s in statuses if cnt[s]],
            "mean_points": fmt_points(sum(float(x["score"]) for x in graded if is_number(x.get("score")))
                                      / (n - cnt[GRADER_ERROR])) if n - cnt[GRADER_ERROR] > 0 else "–",
        })
    return rows


def frequent_diagnoses(results: list[dict[str, Any]],
                       report_href: Callable[[str], str] = _default_href) -> list[dict[str, Any]]:
    """The diagnosed mistakes, ranked by how many submissions show them,
    then by how many criteria; a whole-submission error counts for its
    submission.  The grader's own failures are not a mistake: they have
    their own section."""
    students: dict[str, set[str]] = defaultdict(set)
    counts: Counter[str] = Counter()
    for r in results:
        for c in r.get("criteria") or []:
            for d in (c.get("diagnoses") or []) if isinstance(c, dict) else []:
                counts[str(d)] += 1
                students[str(d)].add(_sid(r))
        err = r.get("error")
        if isinstance(err, dict) and (err.get("kind") or err.get("message")):
            students[str(err.get("kind") or "crash")].add(_sid(r))
    students.pop(GRADER_ERROR, None)
    names = {_sid(r): _name(r, _sid(r)) for r in results}
    wording = _wording(results)
    out = []
    for did in sorted(students, key=lambda d: (-len(students[d]), -counts[d], d)):
        d = diagnoses.lookup(wording, did)
        who = sorted(students[did])
        out.append({"id": did, "title": d.title, "fix": d.fix, "count": counts[did], "n_students": len(who),
                    "students": [{"id": names.get(s, s), "href": report_href(s)} for s in who]})
    return out


def errored(results: list[dict[str, Any]], report_href: Callable[[str], str] = _default_href) -> list[dict[str, Any]]:
    """Submissions that could not be run at all (syntax error, timeout...)."""
    wording = _wording(results)
    out = []
    for r in results:
        err = r.get("error")
        if isinstance(err, dict) and (err.get("kind") or err.get("message")):
            kind = str(err.get("kind") or "crash")
            out.append({"id": _name(r, _sid(r)), "href": report_href(_sid(r)), "kind": kind,
                        "title": diagnoses.lookup(wording, kind).title, "message": str(err.get("message") or "")})
    return out


def submission_rows(results: list[dict[str, Any]], criteria: list[dict[str, Any]], max_total: float,
                    report_href: Callable[[str], str] = _default_href) -> list[dict[str, Any]]:
    """The table of all submissions: score and one status cell per criterion
    (a grader failure's cell says "n/c", not counted, never a 0)."""
    rows = []
    for r in results:
        cells = {}
        for c in r.get("criteria") or []:
            if isinstance(c, dict):
                status = criterion_status(c)
                cells[str(c.get("id"))] = {"status": status,
                                           "text": "n/c" if status == GRADER_ERROR else fmt_points(c.get("score"))}
        err = r.get("error")
        rows.append({
            "id": _name(r, _sid(r)), "href": report_href(_sid(r)), "score": fmt_points(r.get("score")),
            "pct": f"{(100.0 * _score(r) / max_total) if max_total else 0.0:.1f}",
            "error": bool(isinstance(err, dict) and err), "grader_errors": len(grader_error_ids(r)),
            "glue": special_glue(r) is not None,
            "cells": [cells.get(str(c["id"]), {"status": "missing", "text": "–"}) for c in criteria],
        })
    return rows
