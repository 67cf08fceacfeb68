"""Result documents of a whole class -> one self-contained HTML summary page.

Instructor-facing: hidden criteria are included. Shows class statistics, a
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
    STATUS_LABELS, criterion_status, environment, fmt_points, is_number,
)
from grader.names import href
from grader.release import RELEASE_DIR
from grader.render.plots import bar_svg

__all__ = ["render_summary", "class_statistics", "histogram"]

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
    for cid in sorted(seen, key=lambda k: (order.get(k, len(order)), k)):
        q = seen[cid]
        ranked = sorted(q["answers"].values(), key=lambda e: (-e["count"], e["answer"]))
        q["answers"] = [{**e, "diagnoses": [{"id": d, "title": diagnoses.get(d).title} for d in e["diagnoses"]]}
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
    """
    results = sorted((r for r in results if isinstance(r, dict)),
                     key=lambda r: str(r.get("submission", "")))
    crit_ids = [str(c["id"]) for c in criteria]
    max_total = float(sum(float(c.get("points", 0) or 0) for c in criteria))
    if not max_total:
        max_total = max((float(r["max_score"]) for r in results if is_number(r.get("max_score"))), default=0.0)

    stats = class_statistics(results)
    scores = [_score(r) for r in results]
    labels, counts = histogram(scores, max_total)
    hist_svg = Markup(bar_svg(labels, counts, xlabel="total score", ylabel="submissions",
                              id_prefix="hist", rotate=30)) if results else None

    # Per-criterion status counts and mean points.
    by_crit: dict[str, dict[str, Any]] = {}
    for c in criteria:
        cid = str(c["id"])
        by_crit[cid] = {"id": cid, "title": str(c.get("title") or cid),
                        "points": fmt_points(c.get("points")), "visibility": str(c.get("visibility") or "public"),
                        "counts": Counter(), "points_sum": 0.0}
    names = {str(r.get("submission", "?")): _name(r, str(r.get("submission", "?"))) for r in results}
    diag_students: dict[str, set[str]] = defaultdict(set)
    diag_counts: Counter[str] = Counter()
    rows = []
    errored = []
    for r in results:
        sid = str(r.get("submission", "?"))
        cells = {}
        for c in r.get("criteria") or []:
            if not isinstance(c, dict):
                continue
            cid = str(c.get("id"))
            status = criterion_status(c)
            cells[cid] = {"status": status, "text": fmt_points(c.get("score"))}
            if cid in by_crit:
                by_crit[cid]["counts"][status] += 1
                if is_number(c.get("score")):
                    by_crit[cid]["points_sum"] += float(c["score"])
            for d in c.get("diagnoses") or []:
                diag_counts[str(d)] += 1
                diag_students[str(d)].add(sid)
        err = r.get("error")
        if isinstance(err, dict) and (err.get("kind") or err.get("message")):
            kind = str(err.get("kind") or "crash")
            diag_students[kind].add(sid)
            errored.append({"id": _name(r, sid), "href": report_href(sid), "kind": kind,
                            "title": diagnoses.get(kind).title, "message": str(err.get("message") or "")})
        rows.append({
            "id": _name(r, sid), "href": report_href(sid), "score": fmt_points(r.get("score")),
            "pct": f"{(100.0 * _score(r) / max_total) if max_total else 0.0:.1f}",
            "error": bool(isinstance(err, dict) and err),
            "cells": [cells.get(cid, {"status": "missing", "text": "–"}) for cid in crit_ids],
        })

    n = len(results)
    crit_rows = []
    for cid in crit_ids:
        b = by_crit[cid]
        cnt = b["counts"]
        share = {s: (100.0 * cnt[s] / n if n else 0.0) for s in ("passed", "partial", "failed", "error", "hidden")}
        crit_rows.append({
            **{k: b[k] for k in ("id", "title", "points", "visibility")},
            "passed": cnt["passed"], "partial": cnt["partial"], "failed": cnt["failed"],
            "error": cnt["error"], "hidden": cnt["hidden"],
            "pass_rate": f"{share['passed']:.0f}%",
            "shares": [(s, f"{share[s]:.1f}") for s in ("passed", "partial", "failed", "error", "hidden") if cnt[s]],
            "mean_points": fmt_points(b["points_sum"] / n) if n else "–",
        })

    top_diag = []
    # Rank by how many submissions are affected, then by how many criteria.
    ranked = sorted(diag_students, key=lambda d: (-len(diag_students[d]), -diag_counts[d], d))
    for did in ranked:
        count = diag_counts[did]
        d = diagnoses.get(did)
        students = sorted(diag_students[did])
        top_diag.append({"id": did, "title": d.title, "fix": d.fix, "count": count,
                         "n_students": len(students),
                         "students": [{"id": names.get(s, s), "href": report_href(s)} for s in students]})

    context = {
        "intake": intake_view(results, list(absent or []), ignored, report_href),
        "wrong_answers": wrong_answers(results, criteria, report_href),
        "rubric_title": rubric_title,
        "released": released,
        "release_index": f"{RELEASE_DIR}/index.html",
        "n": n,
        "stats": {"n": str(stats["n"]), "mean": fmt_points(stats["mean"]),
                  "median": fmt_points(stats["median"]), "min": fmt_points(stats["min"]),
                  "max": fmt_points(stats["max"])},
        "max_total": fmt_points(max_total),
        "hist_svg": hist_svg,
        "criteria": crit_rows,
        "diagnoses": top_diag,
        "errored": errored,
        "rows": rows,
        "status_labels": STATUS_LABELS,
    }
    return environment().get_template("summary.html.j2").render(**context)
