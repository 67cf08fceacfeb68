"""Shared fixtures: the bundled rubric, contexts for judges, paths."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "submissions"


@pytest.fixture(scope="session")
def silu_rubric():
    from grader.rubric import load_rubric

    return load_rubric("penguins-silu")


@pytest.fixture(scope="session")
def make_ctx(silu_rubric):
    """Context for a criterion of a rubric (default penguins-silu)."""
    from grader.checks.base import Context
    from grader.engine import oracle_for

    def make(criterion_id: str, rubric=None):
        rubric = rubric or silu_rubric
        return Context(rubric, oracle_for(rubric), rubric.criterion(criterion_id))

    return make
