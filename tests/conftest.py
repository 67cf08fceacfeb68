"""Shared fixtures: the bundled rubric, contexts for judges, paths."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Final grading seeds its questions with the course secret (grader/secret.py).
# The suite uses a fixed test secret in a private temporary folder, so it never
# creates or reads the machine's real ~/.config/nngrade/course-secret and every
# xdist worker and CLI subprocess asks the same questions.
TEST_SECRET = "5e" * 32
if not os.environ.get("NNGRADE_SECRET_FILE"):
    _folder = Path(tempfile.mkdtemp(prefix="nngrade-test-secret-"))
    (_folder / "course-secret").write_text(TEST_SECRET + "\n")
    os.environ["NNGRADE_SECRET_FILE"] = str(_folder / "course-secret")

# `nngrade check` keeps validated rubrics in a per-user cache (grader/rubric_cache.py):
# the suite's goes to a private temporary folder, never the machine's ~/.cache.
if "NNGRADE_CACHE_DIR" not in os.environ:
    os.environ["NNGRADE_CACHE_DIR"] = tempfile.mkdtemp(prefix="nngrade-test-cache-")

# `nngrade check` leaves a warm process behind for the next check (grader/warmcheck.py):
# none from the suite (it would outlive it); tests/cli/test_warm_check.py turns it on for itself.
os.environ["NNGRADE_WARM_CHECK"] = "0"

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "submissions"


@pytest.fixture(scope="session")
def course_secret():
    """The suite's course secret, as `batch` and `grade` load it (NNGRADE_SECRET_FILE)."""
    from grader.secret import load_or_create

    return load_or_create()[0]


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


@pytest.fixture
def patch_check(monkeypatch):
    """Replace fields of a registered check's declaration for one test
    (declarations are frozen: the registry's entry is swapped through
    monkeypatch, so `monkeypatch.undo()` or the test's end restores it)."""
    import dataclasses

    from grader.checks import REGISTRY

    def patch(name: str, **changes):
        changed = dataclasses.replace(REGISTRY[name], **changes)
        monkeypatch.setitem(REGISTRY._names, name, changed)
        return changed

    return patch
