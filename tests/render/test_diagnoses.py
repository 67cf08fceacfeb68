"""The catalogue of known mistakes: exact id set, complete texts, safe lookup."""

from __future__ import annotations

import dataclasses
import re

import pytest

from grader import diagnoses
from grader.diagnoses import CATALOGUE, Diagnosis, get

EXPECTED_IDS = {
    "sum-not-mean", "mean-twice", "sign-flip", "activation-derivative-sigmoid",
    "activation-derivative-at-activation", "bias-one-sample", "softmax-overflow",
    "transposed-weights", "heavy-ball", "zero-momentum", "wrong-momentum", "key-typo",
    "wrong-activation", "wrong-step-size", "gradient-transposed", "gradient-shape",
    "loss-sum-not-mean", "init-constant", "init-symmetric", "init-wrong-scale",
    "init-not-normal", "nag-missing", "no-progress", "diverged", "timeout", "crash",
    "syntax-error", "import-error", "api-missing", "bad-output",
    "penalty-missing", "penalty-on-biases", "penalty-l2-factor", "missing", "bad-archive", "symlink",
    "notebook-unreadable", "not-utf8", "no-code-file", "empty-file",
    "momentum-hard-coded", "train-broken", "trajectory-mismatch",
    # written answers (records in grader/answers/mistakes.py)
    "answer-missing-layer-biases", "answer-missing-all-biases", "answer-missing-layer-weights",
    "answer-layer-twice", "answer-biases-twice", "answer-input-dimension", "answer-arithmetic-slip",
    "answer-transposed", "answer-rounded-down", "answer-rounded-up", "answer-derivative-at-activation",
    "answer-no-softmax-jacobian", "answer-loss-without-half", "answer-step-sign", "answer-weight-layout",
    "answer-missing", "answer-format", "answers-unreadable",
}


def _emitted_ids() -> set[str]:
    """Every diagnosis id the grader's code can attach to a verdict."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "grader"
    found: set[str] = set()
    for path in [*root.glob("checks/*.py"), root / "engine.py", root / "submission.py"]:
        text = path.read_text()
        found |= set(re.findall(r'diagnoses\.append\("([a-z0-9-]+)"\)', text))
        found |= set(re.findall(r'diagnoses=\["([a-z0-9-]+)"\]', text))
        found |= set(re.findall(r'return \(\s*"([a-z0-9-]+)",', text))
        found |= set(re.findall(r'SubmissionError\("([a-z0-9-]+)"', text))
    return found


def test_every_diagnosis_the_grader_emits_is_in_the_catalogue() -> None:
    emitted = _emitted_ids()
    assert len(emitted) > 15
    assert emitted - set(CATALOGUE) <= {"duplicate"}, emitted - set(CATALOGUE)   # a batch usage error


def test_catalogue_has_exactly_the_agreed_ids() -> None:
    assert set(CATALOGUE) == EXPECTED_IDS


@pytest.mark.parametrize("did", sorted(EXPECTED_IDS))
def test_entry_is_complete_plain_text(did: str) -> None:
    d = CATALOGUE[did]
    assert d.id == did
    for text in (d.title, d.explanation, d.fix):
        assert text.strip() == text and text
        assert not re.search(r"<[A-Za-z/!]|&[a-z]+;", text)  # plain text, no HTML tags/entities
    assert len(d.explanation) < 400 and len(d.fix) < 400


def test_sum_not_mean_fix_names_the_formula() -> None:
    fix = CATALOGUE["sum-not-mean"].fix
    assert "x.shape[0]" in fix and "(1/S)" in fix


def test_get_unknown_id_never_raises() -> None:
    d = get("no-such-mistake")
    assert isinstance(d, Diagnosis)
    assert d.title == "no-such-mistake" and d.id == "no-such-mistake"
    assert d.explanation and d.fix
    assert get(None).title == "None"  # type: ignore[arg-type]


def test_diagnosis_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        diagnoses.get("crash").title = "x"  # type: ignore[misc]
