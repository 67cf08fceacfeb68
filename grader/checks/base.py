"""What every check shares: the verdict type, the context, number helpers.

A check is a module with three things (pytest-plugin style, found by name):

* ``Params``: a pydantic model of the rubric's ``params`` for it;
* ``observe(ctx, probe, params) -> dict``: asks the student's code (through
  the sandbox) and the oracle for numbers; nothing is judged here;
* ``judge(ctx, obs, params) -> Verdict``: a pure function of the
  observations, so every diagnosis can be unit-tested with synthetic
  observations and no subprocess.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from typing import TYPE_CHECKING

from ..schema import Criterion, Rubric
from .contract import CheckParams  # noqa: F401  (checks import it from here with the rest)

if TYPE_CHECKING:
    from ..oracle import Oracle


@dataclass
class Context:
    """What a check may know: the rubric, the oracle, its criterion."""

    rubric: Rubric
    oracle: "Oracle | None"  # None for a rubric of written questions only
    criterion: Criterion
    answers: Any = None     # () -> AnswerSheet: the submission's written answers (check `answers`)
    ahead: Any = None       # the engine's judging thread (an Executor), or None: `prepare` does nothing
    _prepared: dict = field(default_factory=dict, repr=False)

    def seed(self, *parts: object) -> int:
        return self.oracle.seed(self.criterion.id, *parts)

    def prepare(self, key: object, compute: Any) -> None:
        """Start now, in the judging thread, a pure computation the judge
        will ask for by `key` (`prepared`), while the student's code is still
        answering the rest of the observation: the two cores work at once.
        Only when the work is done changes, never its result (a judge
        without it computes the same itself)."""
        if self.ahead is not None:
            self._prepared[key] = self.ahead.submit(compute)

    def prepared(self, key: object, compute: Any) -> Any:
        """What `prepare(key, ...)` computed (waiting for it), else `compute()` now."""
        future = self._prepared.pop(key, None)
        return compute() if future is None else future.result()

    @property
    def tol(self):
        return self.rubric.tolerances


#: the status of a criterion the grader failed on (its bug, never the student's): left out of totals
GRADER_ERROR = "grader-error"


@dataclass
class Verdict:
    """A check's judgement: the fraction of the points earned and why."""

    fraction: float
    feedback: str
    diagnoses: list[str] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)
    plots: dict[str, Any] = field(default_factory=dict)
    status: str | None = None  # derived from fraction unless set ("error")
    notes: dict[str, str] = field(default_factory=dict)  # for the instructor only (run.json), never scored

    def __post_init__(self) -> None:
        self.fraction = min(1.0, max(0.0, float(self.fraction)))
        if self.status is None:
            self.status = "passed" if self.fraction >= 1.0 else "failed" if self.fraction <= 0.0 else "partial"


def passed(feedback: str, **kw: Any) -> Verdict:
    return Verdict(1.0, feedback, **kw)


def failed(feedback: str, **kw: Any) -> Verdict:
    return Verdict(0.0, feedback, **kw)


# -- numbers ----------------------------------------------------------------------

def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """Norm-wise relative error of a against b, safe at zero."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return math.inf
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return math.inf
    denom = max(float(np.linalg.norm(b)), 1e-300)
    num = float(np.linalg.norm(a - b))
    return 0.0 if num == 0.0 else num / denom


def close(a: np.ndarray, b: np.ndarray, rel: float, abs_: float) -> bool:
    """Element-wise |a - b| <= abs + rel |b| (the issue's pass rule)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or not np.all(np.isfinite(a)):
        return False
    return bool(np.all(np.abs(a - b) <= abs_ + rel * np.abs(b)))


def best_scale(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """The c minimizing ||a - c b|| and the relative residual left: tells a
    gradient that is a multiple of the right one (x S, x 1/S, x -1)."""
    a, b = np.ravel(np.asarray(a, dtype=np.float64)), np.ravel(np.asarray(b, dtype=np.float64))
    bb = float(b @ b)
    if bb == 0 or a.shape != b.shape or not np.all(np.isfinite(a)):
        return math.nan, math.inf
    c = float(a @ b) / bb
    return c, float(np.linalg.norm(a - c * b)) / max(float(np.linalg.norm(a)), 1e-300)


def scale_is(a: np.ndarray, b: np.ndarray, factor: float) -> bool:
    """a is exactly `factor` times b (e.g. -1: a gradient with its sign flipped)."""
    c, residual = best_scale(a, b)
    return bool(np.isfinite(c) and abs(c - factor) < 1e-6 and residual < 1e-6)


def sig(x: Any, digits: int = 4) -> Any:
    """Round for evidence: deterministic text, readable numbers."""
    if isinstance(x, (list, tuple)):
        return [sig(v, digits) for v in x]
    if isinstance(x, np.ndarray):
        return [sig(v, digits) for v in x.tolist()]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        if not math.isfinite(x):
            return str(x)
        if x == 0:
            return 0.0
        return float(f"{x:.{digits}g}")
    return x


def fmt(x: float, digits: int = 3) -> str:
    """A number in prose."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return str(x)
    return f"{x:.{digits}g}"


def fmt_pair(a: float, b: float, digits: int = 3) -> tuple[str, str] | None:
    """`a` and `b` in prose with just enough digits to tell them apart (from
    `digits` up to 10), or None when they look equal even then: a diagnosis
    "x instead of y" must never print the same number twice."""
    for d in range(digits, 11):
        sa, sb = fmt(a, d), fmt(b, d)
        if sa != sb:
            return sa, sb
    return None


def table(columns: list[str], rows: list[list[Any]]) -> dict[str, Any]:
    return {"columns": columns, "rows": [[sig(v) for v in row] for row in rows]}


def shape_of(value: Any) -> str:
    return str(tuple(np.shape(value))) if isinstance(value, np.ndarray) else type(value).__name__
