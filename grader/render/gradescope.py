"""Result document -> Gradescope autograder ``results.json``, and a validator for it.

Field names and allowed values follow the Gradescope autograder specification
(https://gradescope-autograders.readthedocs.io/en/latest/specs/): top-level
``score``, ``execution_time``, ``output``, ``output_format``, ``visibility``,
``stdout_visibility``, ``extra_data``, ``tests``, ``leaderboard``; per test
``score``, ``max_score``, ``status`` ("passed"/"failed"), ``name``,
``name_format``, ``number``, ``output``, ``output_format``, ``tags``,
``visibility``, ``extra_data``.

Hidden criteria become tests with visibility ``after_published``, so students
see them only once the instructor publishes grades.

A criterion the grader failed on (status ``grader-error``: a bug in a check
or the rubric, never the student's) is a test named "... (grader failure,
not counted)" with score 0 and max_score 0, so no points show as lost on
it; the top-level score is the result's, which leaves it out, and the
top-level output says how many points were not counted and why.
Gradescope's assignment total is set in Gradescope, not here: until the
staff fix the grader and regrade, the score shown is out of that total, so
the output says the points are pending, and ``extra_data.grader_errors``
lists the criteria for the staff.
"""

from __future__ import annotations

import json
import math
from typing import Any

from grader import diagnoses
from grader.render.common import GRADER_ERROR_LABEL, fmt_points, grader_error_ids, is_grader_error, is_hidden, is_number

__all__ = ["to_gradescope", "validate_gradescope", "VISIBILITIES", "OUTPUT_FORMATS", "TEST_STATUSES"]

VISIBILITIES: frozenset[str] = frozenset({"hidden", "after_due_date", "after_published", "visible"})
OUTPUT_FORMATS: frozenset[str] = frozenset({"text", "html", "simple_format", "md", "ansi"})
TEST_STATUSES: frozenset[str] = frozenset({"passed", "failed"})

_TOP_FIELDS = {"score", "execution_time", "output", "output_format", "test_output_format",
               "test_name_format", "visibility", "stdout_visibility", "extra_data", "tests",
               "leaderboard"}
_TEST_FIELDS = {"score", "max_score", "status", "name", "name_format", "number", "output",
                "output_format", "tags", "visibility", "extra_data"}


def _num(v: Any) -> float:
    return float(v) if is_number(v) and math.isfinite(float(v)) else 0.0


def _test_output(c: dict[str, Any], result: dict[str, Any] | None = None) -> str:
    """The test's text: feedback, then each diagnosis in the words of the
    rubric the result was graded with (its embedded catalogue)."""
    parts = []
    if is_grader_error(c):
        parts.append(f"Not counted: {_num(c.get('max_score')):g} points left out of your score because the "
                     "grader failed on this criterion (not your mistake).")
    feedback = str(c.get("feedback") or "").strip()
    if feedback:
        parts.append(feedback)
    for did in c.get("diagnoses") or []:
        d = diagnoses.lookup(result, str(did))
        parts.append(f"Diagnosis: {d.title}\n{d.explanation}\nHow to fix: {d.fix}")
    return "\n\n".join(parts)


def to_gradescope(result: dict[str, Any], *, execution_time: float | None = None) -> dict[str, Any]:
    """Convert one result document to a Gradescope ``results.json`` dict."""
    criteria = [c for c in (result.get("criteria") or []) if isinstance(c, dict)]
    tests = []
    for i, c in enumerate(criteria, start=1):
        grader_failed = is_grader_error(c)   # out of the total: no points to lose on it
        score, max_score = (0.0, 0.0) if grader_failed else (_num(c.get("score")), _num(c.get("max_score")))
        passed = c.get("status") == "passed" and score >= max_score
        name = str(c.get("title") or c.get("id") or f"criterion {i}")
        test: dict[str, Any] = {
            "name": f"{name} ({GRADER_ERROR_LABEL})" if grader_failed else name,
            "number": str(i),
            "score": score,
            "max_score": max_score,
            "status": "passed" if passed else "failed",
            "visibility": "after_published" if is_hidden(c) else "visible",
            "output": _test_output(c, result),
            "output_format": "text",
        }
        tags = [str(c["id"])] if c.get("id") else []
        tags += [str(d) for d in (c.get("diagnoses") or [])]
        if tags:
            test["tags"] = tags
        tests.append(test)

    total = _num(result.get("score")) if is_number(result.get("score")) else sum(t["score"] for t in tests)
    max_total = _num(result.get("max_score")) if is_number(result.get("max_score")) else sum(
        t["max_score"] for t in tests)
    title = str(result.get("rubric_title") or result.get("rubric") or "nngrade")
    n_public = sum(1 for c in criteria if not is_hidden(c))
    n_public_passed = sum(1 for c, t in zip(criteria, tests) if not is_hidden(c) and t["status"] == "passed")
    hidden_points = sum(t["max_score"] for c, t in zip(criteria, tests) if is_hidden(c))
    lines = [f"{title}: {n_public_passed} of {n_public} public criteria passed."]
    if hidden_points:
        lines.append(f"Hidden criteria worth {fmt_points(hidden_points)} of {fmt_points(max_total)} "
                     "points are shown when grades are published.")
    lines += _grader_failure_lines(result, criteria)
    error = result.get("error")
    if isinstance(error, dict) and (error.get("kind") or error.get("message")):
        d = diagnoses.lookup(result, str(error.get("kind") or "crash"))
        lines.append("")
        lines.append(f"Your submission could not be run: {d.title}.")
        if error.get("message"):
            lines.append(str(error["message"]))
        lines.append(f"How to fix: {d.fix}")
    doc: dict[str, Any] = {
        "score": total,
        "output": "\n".join(lines),
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    if execution_time is not None:
        doc["execution_time"] = float(execution_time)
    failed = grader_error_ids(result)
    if failed:   # for the staff (Gradescope's API and exports carry it): which criteria to regrade
        doc["extra_data"] = {"grader_errors": failed}
    return doc


def _grader_failure_lines(result: dict[str, Any], criteria: list[dict[str, Any]]) -> list[str]:
    """The top-level output's words on criteria the grader failed on (those
    a student may see now; a hidden one is named once grades are published
    through its own test)."""
    failed = [c for c in criteria if is_grader_error(c) and not is_hidden(c)]
    if not failed:
        return []
    points = sum(_num(c.get("max_score")) for c in failed)
    names = ", ".join(str(c.get("title") or c.get("id")) for c in failed)
    return ["", f"The grader failed on {len(failed)} criteri{'on' if len(failed) == 1 else 'a'} ({names}): a bug in "
            f"the grader, not a mistake in your work. {fmt_points(points)} point{'' if points == 1 else 's'} "
            "are not counted in your score until the course staff fix the grader and grade again."]


def _is_finite_number(v: Any) -> bool:
    return is_number(v) and math.isfinite(float(v))


def validate_gradescope(doc: Any) -> list[str]:
    """Problems that would make Gradescope reject or misread ``doc`` (empty = valid).

    Checks types, allowed enum values, that scores are finite numbers, that a
    score is given at the top level or on every test, unknown (misspelt) keys,
    and that the document is JSON-serialisable.
    """
    problems: list[str] = []
    if not isinstance(doc, dict):
        return [f"results must be a JSON object, not {type(doc).__name__}"]
    try:
        json.dumps(doc, allow_nan=False)
    except (TypeError, ValueError) as exc:
        problems.append(f"not JSON-serialisable (NaN/inf or non-JSON type): {exc}")

    for key in sorted(set(doc) - _TOP_FIELDS):
        problems.append(f"unknown top-level field {key!r}")
    if "score" in doc and not _is_finite_number(doc["score"]):
        problems.append("'score' must be a finite number")
    if "execution_time" in doc and not (_is_finite_number(doc["execution_time"]) and doc["execution_time"] >= 0):
        problems.append("'execution_time' must be a non-negative number of seconds")
    if "output" in doc and not isinstance(doc["output"], str):
        problems.append("'output' must be a string")
    for key in ("output_format", "test_output_format", "test_name_format"):
        if key in doc and doc[key] not in OUTPUT_FORMATS:
            problems.append(f"{key!r} must be one of {sorted(OUTPUT_FORMATS)}, not {doc[key]!r}")
    for key in ("visibility", "stdout_visibility"):
        if key in doc and doc[key] not in VISIBILITIES:
            problems.append(f"{key!r} must be one of {sorted(VISIBILITIES)}, not {doc[key]!r}")
    if "extra_data" in doc and not isinstance(doc["extra_data"], dict):
        problems.append("'extra_data' must be an object")

    tests = doc.get("tests")
    if tests is None:
        if "score" not in doc:
            problems.append("either a top-level 'score' or 'tests' with scores is required")
    elif not isinstance(tests, list):
        problems.append("'tests' must be a list")
    else:
        for i, t in enumerate(tests):
            where = f"tests[{i}]"
            if not isinstance(t, dict):
                problems.append(f"{where} must be an object")
                continue
            for key in sorted(set(t) - _TEST_FIELDS):
                problems.append(f"{where}: unknown field {key!r}")
            if "score" in t:
                if not _is_finite_number(t["score"]):
                    problems.append(f"{where}: 'score' must be a finite number")
            elif "score" not in doc:
                problems.append(f"{where}: 'score' is required when there is no top-level score")
            if "max_score" in t and not _is_finite_number(t["max_score"]):
                problems.append(f"{where}: 'max_score' must be a finite number")
            if "status" in t and t["status"] not in TEST_STATUSES:
                problems.append(f"{where}: 'status' must be one of {sorted(TEST_STATUSES)}, not {t['status']!r}")
            for key in ("name", "output"):
                if key in t and not isinstance(t[key], str):
                    problems.append(f"{where}: {key!r} must be a string")
            if "number" in t and not (isinstance(t["number"], str) or is_number(t["number"])):
                problems.append(f"{where}: 'number' must be a string like \"1.2\"")
            for key in ("name_format", "output_format"):
                if key in t and t[key] not in OUTPUT_FORMATS:
                    problems.append(f"{where}: {key!r} must be one of {sorted(OUTPUT_FORMATS)}, not {t[key]!r}")
            if "visibility" in t and t["visibility"] not in VISIBILITIES:
                problems.append(f"{where}: 'visibility' must be one of {sorted(VISIBILITIES)}, "
                                f"not {t['visibility']!r}")
            if "tags" in t and not (isinstance(t["tags"], list) and all(isinstance(x, str) for x in t["tags"])):
                problems.append(f"{where}: 'tags' must be a list of strings")
            if "extra_data" in t and not isinstance(t["extra_data"], dict):
                problems.append(f"{where}: 'extra_data' must be an object")

    board = doc.get("leaderboard")
    if board is not None:
        if not isinstance(board, list):
            problems.append("'leaderboard' must be a list")
        else:
            for i, entry in enumerate(board):
                if not isinstance(entry, dict) or "name" not in entry or "value" not in entry:
                    problems.append(f"leaderboard[{i}] needs 'name' and 'value'")
                elif "order" in entry and entry["order"] not in ("asc", "desc"):
                    problems.append(f"leaderboard[{i}]: 'order' must be 'asc' or 'desc'")
    return problems
