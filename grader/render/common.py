"""Helpers shared by the renderers: number formatting, status names, Jinja2 environment."""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.glue import PER_SUBMISSION, SHORT_HASH

if TYPE_CHECKING:   # jinja2 is imported by environment(): `nngrade check` prints through
    import jinja2   # render.terminal, which uses the helpers here but no template

__all__ = [
    "STATUSES", "STATUS_LABELS", "fmt_points", "fmt_number", "is_number", "is_table",
    "is_hidden", "criterion_status", "environment", "HINT_MARK", "message_of", "repeats",
    "GRADER_ERROR", "GRADER_ERROR_LABEL", "is_grader_error", "counted", "grader_error_ids",
    "glue_record", "special_glue", "glue_label", "glue_hash",
]

#: a criterion whose check failed (a grader bug, grader/engine.py `grader_error`): never the student's failure
GRADER_ERROR = "grader-error"
#: what every output calls such a criterion, so the words are the same on every page and sheet
GRADER_ERROR_LABEL = "grader failure, not counted"
STATUSES: tuple[str, ...] = ("passed", "partial", "failed", "error", GRADER_ERROR, "hidden")
STATUS_LABELS: dict[str, str] = {
    "passed": "passed",
    "partial": "partial credit",
    "failed": "failed",
    "error": "error",
    GRADER_ERROR: GRADER_ERROR_LABEL,
    "hidden": "hidden",
}
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def is_number(v: Any) -> bool:
    """True for int/float values (not bool)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def fmt_points(v: Any) -> str:
    """Points for display: at most 2 decimals, no trailing zeros (71.0 -> "71", 5.5 -> "5.5")."""
    if not is_number(v) or not math.isfinite(float(v)):
        return "–"
    text = f"{float(v):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def fmt_number(v: Any) -> str:
    """Evidence values: floats to 4 significant digits, ints exact, NaN/inf spelled out."""
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return f"{v:.4g}"
    return str(v)


def is_table(v: Any) -> bool:
    """True for a table value: {"columns": [...], "rows": [[...], ...]}."""
    return (isinstance(v, dict) and isinstance(v.get("columns"), list)
            and isinstance(v.get("rows"), list))


def is_hidden(criterion: dict[str, Any]) -> bool:
    """True if the criterion's outcome is hidden from students until release."""
    return criterion.get("visibility") == "hidden" or criterion.get("status") == "hidden"


def is_grader_error(criterion: dict[str, Any]) -> bool:
    """True when the grader failed on this criterion: its points are not the
    student's to lose, so renderers leave them out of every total they show."""
    return criterion.get("status") == GRADER_ERROR


def counted(criteria: list[Any]) -> list[dict[str, Any]]:
    """The criteria whose points count in a total (grader failures left out,
    as grader/engine.py `_document` leaves them out of score and max_score)."""
    return [c for c in criteria if isinstance(c, dict) and not is_grader_error(c)]


def grader_error_ids(result: dict[str, Any]) -> list[str]:
    """Ids of the criteria the grader failed on: the result's own list, or
    (a result written before that field) the criteria with that status."""
    listed = result.get("grader_errors")
    if isinstance(listed, list):
        return [str(i) for i in listed]
    return [str(c.get("id")) for c in result.get("criteria") or [] if isinstance(c, dict) and is_grader_error(c)]




def glue_record(result: dict[str, Any]) -> dict[str, str] | None:
    """The result's glue record ({name, sha256, origin}, grader/engine.py),
    or None when the default glue graded it (or the record is malformed)."""
    record = result.get("glue")
    if not isinstance(record, dict) or not isinstance(record.get("name"), str) \
            or not isinstance(record.get("sha256"), str):
        return None
    return {"name": record["name"], "sha256": record["sha256"], "origin": str(record.get("origin") or "")}


def special_glue(result: dict[str, Any]) -> dict[str, str] | None:
    """The glue record when the student was graded through a glue of their
    own (per-submission), not the rubric's nor the default: what the class
    summary, the gradebook and the terminal list."""
    record = glue_record(result)
    return record if record is not None and record["origin"] == PER_SUBMISSION else None


def glue_label(record: dict[str, str]) -> str:
    """A glue as every output names it: its file name and the first 12
    digits of its content hash (which version graded; never its text)."""
    return f"{record['name']} ({glue_hash(record)})"


def glue_hash(record: dict[str, str]) -> str:
    """The short form of a glue's content hash that outputs show (which version graded)."""
    return record["sha256"][:SHORT_HASH]


def criterion_status(criterion: dict[str, Any]) -> str:
    """The criterion's status, normalised to one of :data:`STATUSES`."""
    status = str(criterion.get("status") or "error")
    return status if status in STATUSES else "error"


HINT_MARK = "\nHint: "   # the engine appends a criterion's hint to its feedback after this mark


def message_of(feedback: str) -> str:
    """The part of a feedback that says what went wrong (the rubric's hint
    for the criterion, appended by the engine, left out)."""
    return feedback.partition(HINT_MARK)[0]


def repeats(criteria: list[dict[str, Any]], shown: Any = None) -> dict[int, int]:
    """Criteria that failed with the very message of an earlier one (a
    syntax error stops all of them; one method that timed out is not run
    again): index -> index of the first criterion with that message.
    result.json keeps every criterion's own entry; renderers show the
    message once and point back to it.  `shown(criterion)` says whether a
    criterion's outcome is shown at all (withheld ones never count)."""
    first: dict[str, int] = {}
    same: dict[int, int] = {}
    for i, crit in enumerate(criteria):
        if (shown is not None and not shown(crit)) or criterion_status(crit) not in ("failed", "error") \
                or not crit.get("feedback"):
            continue
        message = message_of(str(crit["feedback"]))
        if message in first:
            same[i] = first[message]
        else:
            first[message] = i
    return same


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The Jinja2 environment for ``templates/`` (autoescape on, strict undefined)."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
