"""What intake says about one result, in words: the graded file when the
choice was ambiguous, lateness and its penalty.  One place for the texts the
report, the class summary and the terminal show."""

from __future__ import annotations

from typing import Any

from ..render.common import fmt_points

__all__ = ["notes", "is_ambiguous"]


def _choice_note(choice: Any) -> str | None:
    if not isinstance(choice, dict) or not choice.get("ambiguous"):
        return None
    others = ", ".join(str(o) for o in choice.get("not_graded") or []) or "none"
    return (f"Graded {choice.get('file')}; not graded: {others} ({choice.get('rule')}). "
            "Hand in one code file, or name the one to grade nn.py.")


def is_ambiguous(result: dict[str, Any]) -> bool:
    record = result.get("intake") if isinstance(result.get("intake"), dict) else {}
    return any(_choice_note(c) for c in (result.get("graded_file"), record.get("lms_choice")))


def notes(result: dict[str, Any]) -> list[str]:
    """Sentences for this result (empty when there is nothing to say)."""
    out = [n for n in (_choice_note(result.get("graded_file")),) if n]
    record = result.get("intake")
    if not isinstance(record, dict):
        return out
    lms = _choice_note(record.get("lms_choice"))
    if lms:
        out.append(lms)
    if record.get("status") in ("missing", "not-gradable"):
        out.append(str(record.get("message") or record.get("status")))
    if record.get("late"):
        when = f"submitted {record['submitted_at']}" if record.get("submitted_at") else "marked late by the LMS"
        days = record.get("late_days")
        after = f", {days} started day{'s' if days != 1 else ''} after the due date {record.get('due')}" \
            if isinstance(days, int) and record.get("due") else ""
        pct = float(record.get("penalty_percent") or 0.0)
        if pct:
            out.append(f"Late: {when}{after}. Late penalty {pct:g}% "
                       f"(-{fmt_points(record.get('penalty_points'))} points): final score "
                       f"{fmt_points(record.get('final_score'))}.")
        else:
            out.append(f"Late: {when}{after}. No late penalty.")
    if record.get("shared_with"):
        out.append(f"Group submission, graded as {record['shared_with']}.")
    return out
