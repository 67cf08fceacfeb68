"""Due dates and late penalties (grader/intake/late.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from grader.intake.late import LateError, LatePolicy, parse_due, parse_penalty

DUE = datetime(2026, 11, 27, 23, 59, tzinfo=timezone(timedelta(hours=1)))


def test_parse_due_needs_an_offset() -> None:
    assert parse_due("2026-11-27T23:59:00+01:00") == DUE
    assert parse_due("2026-11-27T22:59:00Z") == DUE
    with pytest.raises(LateError, match="no UTC offset"):
        parse_due("2026-11-27T23:59")
    with pytest.raises(LateError, match="ISO 8601"):
        parse_due("friday")


def test_parse_penalty() -> None:
    assert parse_penalty("10") == (10.0, False) and parse_penalty("12.5%/day") == (12.5, True)
    for bad in ("-1", "101", "ten", "10/week"):
        with pytest.raises(LateError):
            parse_penalty(bad)


def test_submission_time_against_due() -> None:
    policy = LatePolicy(DUE, 10.0, True)
    assert policy.judge(DUE, None).late is False
    one = policy.judge(DUE + timedelta(seconds=1), None)
    assert one.late and one.days == 1 and one.penalty_percent == 10.0
    assert policy.judge(DUE + timedelta(days=2, hours=1), None).penalty_percent == 30.0
    assert policy.judge(DUE + timedelta(days=40), None).penalty_percent == 100.0


def test_lms_marker_without_time_counts_one_day() -> None:
    marked = LatePolicy(DUE, 10.0, True).judge(None, True)
    assert marked.late and marked.days is None and marked.penalty_percent == 10.0
    assert LatePolicy(None, 0.0, False).judge(None, True).late   # late without a penalty: still flagged
    assert not LatePolicy(DUE, 10.0, False).judge(None, None).late   # no time, no marker: never late


@given(st.floats(0, 100), st.booleans(), st.integers(0, 10**7), st.integers(0, 10**7))
def test_penalty_grows_with_lateness_and_is_capped(percent: float, per_day: bool, a: int, b: int) -> None:
    policy = LatePolicy(DUE, percent, per_day)
    early, later = sorted((a, b))
    p1 = policy.judge(DUE + timedelta(seconds=early), None).penalty_percent
    p2 = policy.judge(DUE + timedelta(seconds=later), None).penalty_percent
    assert 0.0 <= p1 <= p2 <= 100.0
