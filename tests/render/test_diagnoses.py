"""The catalogue of known mistakes: built from the records, complete texts in
every rubric's words, safe lookup."""

from __future__ import annotations

import dataclasses
import re

import pytest

from grader import diagnoses
from grader.diagnoses import CATALOGUE, Diagnosis, catalogue_for, get, lookup
from grader.mistakes import MISTAKES
from grader.rubric import bundled_ids, find_rubric, load_rubric, parse_rubric


def test_the_catalogue_is_the_records() -> None:
    assert set(CATALOGUE) == set(MISTAKES) and len(CATALOGUE) > 50


def test_every_record_is_named_by_a_declared_check_or_by_the_engine() -> None:
    """No orphan record: a mathematical mistake is declared by the check that
    names it (registration refuses an unknown one, and the engine turns a
    verdict naming an undeclared id into a grader error); runtime, intake and
    written-answer records are named by the engine, the intake and the answers check."""
    from grader.checks import REGISTRY

    declared = {m for check in REGISTRY.values() for m in check.mistakes}
    orphans = [r.id for r in MISTAKES.values() if r.family not in ("runtime", "intake", "answers")
               and r.id not in declared]
    assert orphans == []


def test_every_record_says_how_it_is_recognized() -> None:
    assert [r.id for r in MISTAKES.values() if not r.recognized.strip()] == []


def test_every_mutant_a_record_names_exists() -> None:
    from grader import mutants

    for record in MISTAKES.values():
        if record.mutant is not None:
            assert callable(getattr(mutants, record.mutant, None)), record.id


@pytest.mark.parametrize("rubric_id", bundled_ids())
def test_every_record_renders_in_every_bundled_rubric_s_words(rubric_id: str) -> None:
    entries = catalogue_for(load_rubric(rubric_id), MISTAKES)
    assert set(entries) == set(MISTAKES)
    for entry in entries.values():
        assert all(entry[k] for k in ("title", "explanation", "fix"))


def test_the_texts_use_the_rubric_s_words_not_the_handout_s() -> None:
    silu = catalogue_for(load_rubric("penguins-silu"), ["activation-derivative-at-activation"])
    assert "SiLU" in silu["activation-derivative-at-activation"]["explanation"]
    source = find_rubric("penguins-silu").read_text()
    assert "activation: silu" in source and "std: 0.05" in source
    tanh = parse_rubric(source.replace("activation: silu", "activation: tanh").replace("std: 0.05", "std: 0.1"))
    words = catalogue_for(tanh, ["activation-derivative-at-activation", "activation-derivative-sigmoid",
                                 "init-wrong-scale"])
    assert "tanh" in words["activation-derivative-at-activation"]["explanation"]
    assert "SiLU" not in str(words)
    assert "1 - tanh(z)^2" in words["activation-derivative-sigmoid"]["fix"]
    assert "0.1" in words["init-wrong-scale"]["explanation"] and "0.05" not in str(words["init-wrong-scale"])


def test_a_result_s_embedded_catalogue_wins_over_the_default_words() -> None:
    result = {"catalogue": {"sum-not-mean": {"title": "T", "explanation": "E", "fix": "F"}}}
    assert lookup(result, "sum-not-mean").title == "T"
    assert lookup({}, "sum-not-mean") == get("sum-not-mean")
    assert lookup(result, "no-such").title == "no-such"


@pytest.mark.parametrize("did", sorted(MISTAKES))
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


def test_docs_mistakes_md_is_generated_from_the_records() -> None:
    from pathlib import Path

    from grader.mistakes.doc import markdown

    page = Path(__file__).resolve().parents[2] / "docs" / "MISTAKES.md"
    assert page.read_text(encoding="utf-8") == markdown(), \
        "docs/MISTAKES.md is stale: python -m grader.mistakes > docs/MISTAKES.md"
    assert all(f"`{i}`" in markdown() for i in MISTAKES)
