"""The trustworthy-grades cases, each a submission written as a student
would, graded end to end in final grading (with the suite's course secret),
with the outcome pinned.  Most start from the correct sample
submissions/correct_vectorized.py and change one thing: tests/trust/cases/
holds that change, appended to the sample here."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.engine import dumps, grade
from grader.secret import CourseSecret

pytestmark = pytest.mark.slow

CASES = Path(__file__).resolve().parent / "cases"
SECRET = CourseSecret.from_hex("5e" * 32)


ROOT = CASES.parents[2]
STANDALONE = {"do_nothing.py"}


@pytest.fixture
def graded(tmp_path):
    def run(name: str, rubric):
        path = CASES / name
        if name not in STANDALONE:
            path = tmp_path / name
            path.write_text((ROOT / "submissions" / "correct_vectorized.py").read_text().rstrip() + "\n\n"
                            + (CASES / name).read_text())
        outcome = grade(path, rubric, secret=SECRET)
        return outcome, {c["id"]: c for c in outcome.result["criteria"]}
    return run


def test_do_nothing(graded, silu_rubric):
    outcome, by_id = graded("do_nothing.py", silu_rubric)
    assert outcome.result["score"] <= 10
    assert {k for k, c in by_id.items() if c["score"] > 0} <= {"param-shapes", "param-count"}


def test_forged_finite_differences_earn_nothing(graded, silu_rubric):
    """The loss recognises the grader's finite-difference requests on the stack
    and answers what would make its 30 % wrong gradient look consistent."""
    outcome, by_id = graded("fd_forged.py", silu_rubric)
    for block in ("W0", "b0", "W1", "b1"):
        assert by_id[f"grad-{block}"]["score"] == 0, by_id[f"grad-{block}"]["feedback"]
        assert "forged-finite-differences" in outcome.run["instructor_notes"][f"grad-{block}"]
    assert by_id["loss"]["status"] == "passed"
    # its step uses the unverified gradient: no credit, and no second (wrong) diagnosis
    assert by_id["gd-step"]["score"] == 0 and by_id["gd-step"]["diagnoses"] == []


def test_jump_to_trained_weights_earns_no_training(graded, silu_rubric):
    _, by_id = graded("jump_to_trained.py", silu_rubric)
    assert by_id["training"]["score"] == 0
    assert "trajectory-mismatch" in by_id["training"]["diagnoses"]


def test_hard_coded_momentum_is_named(graded, silu_rubric):
    _, by_id = graded("momentum_hard_coded.py", silu_rubric)
    assert by_id["nag-step"]["diagnoses"] == ["momentum-hard-coded"]
    assert by_id["nag-step"]["score"] == 8.0


def test_numerical_gradient_full_marks_and_a_note_for_the_instructor(graded, silu_rubric):
    outcome, by_id = graded("numerical_gradient.py", silu_rubric)
    assert outcome.result["score"] == 100
    notes = outcome.run["instructor_notes"]
    assert {"grad-W0", "grad-b0", "grad-W1", "grad-b1"} <= set(notes)
    assert "finite differences" in notes["grad-W0"]["numerical-gradient"]
    text = dumps(outcome.result)   # result.json unchanged: the note is the instructor's
    assert "numerical-gradient" not in text and "not backpropagation" not in text


@pytest.mark.parametrize("name, phrase", [
    ("train_crashes.py", "ZeroDivisionError"),
    ("train_stale.py", "for iteration"),
    ("train_hangs.py", "failed"),
])
def test_broken_train_costs_its_share(graded, silu_rubric, name, phrase):
    rubric = silu_rubric.model_copy(update={"limits": silu_rubric.limits.model_copy(
        update={"criterion_seconds": 8.0})})
    _, by_id = graded(name, rubric)
    training = by_id["training"]
    assert training["score"] == pytest.approx(15 * 0.8), training["feedback"]
    assert "train-broken" in training["diagnoses"] and phrase in training["feedback"], training["feedback"]


@pytest.mark.parametrize("op, value", [
    ("new", "{'handle': 'x', 'methods': 3}"), ("call", "7"), ("steps", "{'snapshots': 3}"),
    ("describe", "'x'"), ("set", "5"), ("aliases", "{'a': 1}"),
])
def test_a_forged_reply_is_the_student_s_never_a_grader_failure(tmp_path, silu_rubric, op, value):
    """A malformed reply from a tampered worker is a protocol failure charged
    to the submission: no criterion becomes a grader error, so nothing leaves
    the total (before the check of every reply's structure in the probe, a
    forged 'call' reply scored 15/15 and a forged 'steps' reply 59/59)."""
    path = tmp_path / "forged.py"
    forged = (CASES / "forged_reply.py").read_text().replace('"__OP__"', repr(op)).replace("__VALUE__", value)
    path.write_text((ROOT / "submissions" / "correct_vectorized.py").read_text().rstrip() + "\n\n" + forged)
    result = grade(path, silu_rubric, secret=SECRET).result
    assert result["grader_errors"] == [] and result["max_score"] == 100.0
    assert result["score"] < 100.0
    assert any("interfered with the grader" in c["feedback"] for c in result["criteria"])


def test_forged_gradients_at_the_nag_replay_points_earn_no_nag_credit(graded, silu_rubric):
    """Every gradient the NAG replays take from the student must be explained
    (the reference's, or a named mistake's, at that point), not only the
    first: answers crafted to make the replay land on plain GD steps fall
    back to the reference gradient, and the steps are seen as GD."""
    _, by_id = graded("nag_replay_forged.py", silu_rubric)
    assert by_id["nag-step"]["score"] == 0, by_id["nag-step"]["feedback"]
    assert "no-momentum" in by_id["nag-step"]["diagnoses"] or "GD" in by_id["nag-step"]["feedback"]
