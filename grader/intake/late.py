"""Due date and late penalty.

`--due 2026-11-27T23:59:00+01:00` (ISO 8601 with its UTC offset: a due date
without one is refused, since the grading machine's time zone is not the
course's).  `--late-penalty P` deducts P percent of the submission's score
once if it is late; `--late-penalty P/day` deducts P percent per started day
(24 h) after the due date, at most 100 percent.

When is a submission late?  From the layout's own metadata only, never from
file times: Gradescope's `:created_at:` compared with `--due`; Canvas's own
`LATE` marker (Canvas compared with its due date; the download carries no
time, so a per-day penalty counts one day); Moodle's download and a plain
folder carry neither, so nothing there is late.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime

__all__ = ["LatePolicy", "parse_due", "parse_penalty", "Lateness"]


class LateError(ValueError):
    """A bad --due or --late-penalty (the CLI's usage error)."""


def parse_due(text: str) -> datetime:
    try:
        due = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise LateError(f"--due {text!r} is not an ISO 8601 date and time, e.g. 2026-11-27T23:59:00+01:00") from exc
    if due.tzinfo is None:
        raise LateError(f"--due {text!r} has no UTC offset; add the course's, e.g. {text}+01:00 (or Z for UTC)")
    return due


_PENALTY = re.compile(r"^\s*(?P<p>\d+(?:\.\d+)?)\s*%?\s*(?P<per>/\s*day)?\s*$", re.IGNORECASE)


def parse_penalty(text: str) -> tuple[float, bool]:
    """`"10"` -> (10.0, False): once; `"10/day"` -> (10.0, True): per started day."""
    match = _PENALTY.match(text)
    if not match or not 0 <= float(match["p"]) <= 100:
        raise LateError(f"--late-penalty {text!r}: give a percent of the score from 0 to 100, "
                        "once (10) or per started day (10/day)")
    return float(match["p"]), bool(match["per"])


@dataclass(frozen=True)
class Lateness:
    late: bool
    days: int | None        # started days after the due date (None: the LMS said late, without a time)
    penalty_percent: float  # of the score


@dataclass(frozen=True)
class LatePolicy:
    due: datetime | None = None
    percent: float = 0.0
    per_day: bool = False

    def describe(self) -> str:
        due = f"due {self.due.isoformat()}" if self.due else "no due date"
        if not self.percent:
            return f"{due}, no late penalty"
        return f"{due}, late penalty {self.percent:g}%" + (" per started day" if self.per_day else "")

    def judge(self, submitted_at: datetime | None, marker: bool | None) -> Lateness:
        """Lateness from a submission time (compared with `due`) or the LMS's marker."""
        if submitted_at is not None and self.due is not None:
            when = submitted_at if submitted_at.tzinfo else submitted_at.replace(tzinfo=self.due.tzinfo)
            seconds = (when - self.due).total_seconds()
            if seconds <= 0:
                return Lateness(False, 0, 0.0)
            days = math.ceil(seconds / 86400)
            return Lateness(True, days, self._percent(days))
        if marker:
            return Lateness(True, None, self._percent(1))
        return Lateness(False, 0 if submitted_at is not None and self.due is not None else None, 0.0)

    def _percent(self, days: int) -> float:
        return min(100.0, self.percent * (days if self.per_day else 1))
