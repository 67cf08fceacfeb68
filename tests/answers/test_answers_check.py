"""The `answers` judge on synthetic observations (no files, no worker)."""

from __future__ import annotations

import pytest

from grader.answers.mistakes import RECORDS
from grader.answers.source import AnswerSheet
from grader.checks import answers
from grader.checks.base import Context
from grader.diagnoses import CATALOGUE
from grader.rubric import RubricError, load_rubric, parse_rubric


def judge(rubric_id: str, cid: str, raw, *, present: bool = True):
    rubric = load_rubric(rubric_id)
    crit = rubric.criterion(cid)
    sheet = AnswerSheet({cid.lower(): raw} if present else {"other": 1}, "answers.yaml")
    ctx = Context(rubric, None, crit, answers=lambda: sheet)
    params = crit.check_params()
    return answers.judge(ctx, answers.observe(ctx, None, params), params)


def test_every_mistake_record_is_in_the_catalogue():
    for rec in RECORDS.values():
        entry = CATALOGUE[rec.id]
        assert (entry.title, entry.explanation, entry.fix) == (rec.title, rec.explanation, rec.fix)
        assert rec.recognized and rec.feedback


@pytest.mark.parametrize("raw", ["1,707,264", 1707264, "1 707 264"])
def test_seed_report_count_is_named_and_ambiguity_said(raw):
    v = judge("cifar-written", "param-count", raw)
    assert v.status == "failed"
    assert v.diagnoses == ["answer-missing-layer-biases", "answer-arithmetic-slip"]
    assert "cannot tell" in v.feedback and "10 short" in v.feedback and "output layer" in v.feedback


def test_rounded_down():
    v = judge("cifar-written", "n-hidden", 4)
    assert v.diagnoses == ["answer-rounded-down"] and "4.90" in v.feedback
    assert judge("cifar-written", "n-hidden", "5").status == "passed"
    assert judge("cifar-written", "n-hidden", 6).diagnoses == []


def test_formula_mistakes():
    assert judge("penguins-written", "param-count", "8N_H+3").status == "passed"
    assert judge("penguins-written", "param-count", "8 N_H").diagnoses == ["answer-missing-layer-biases"]
    assert judge("penguins-written", "param-count", "7 N_H").diagnoses == ["answer-missing-all-biases"]
    assert judge("penguins-written", "param-count", "9 N_H + 6").diagnoses == ["answer-biases-twice"]
    assert judge("penguins-written", "param-count", "11 N_H + 6").diagnoses == ["answer-layer-twice"]
    assert judge("penguins-written", "param-count", "4 N_H + 3 + N_H").diagnoses == ["answer-missing-layer-weights"]


def test_shapes():
    assert judge("penguins-written", "W0-shape", "N_H x 4").status == "passed"
    assert judge("penguins-written", "W0-shape", [4, "N_H"]).diagnoses == ["answer-transposed"]
    for ok in ("N_H", "(N_H, 1)", "1 x N_H", ["N_H"]):
        assert judge("penguins-written", "b0-shape", ok).status == "passed", ok


def test_missing_empty_and_unreadable():
    v = judge("cifar-written", "param-count", None, present=False)
    assert v.diagnoses == ["answer-missing"] and "found: other" in v.feedback
    assert judge("cifar-written", "param-count", "").diagnoses == ["answer-missing"]
    v = judge("cifar-written", "param-count", "about 1.7 million")
    assert v.diagnoses == ["answer-format"] and "12,345" in v.feedback
    assert "1,707,274" not in v.feedback and "1707274" not in v.feedback   # the example is never the answer


def test_format_only_params_reveal_nothing():
    params = answers.Params(form="integer", answer="param-count")
    rubric = load_rubric("cifar-written")
    ctx = Context(rubric, None, rubric.criterion("param-count"),
                  answers=lambda: AnswerSheet({"param-count": "1,707,264"}, "answers.yaml"))
    v = answers.judge(ctx, answers.observe(ctx, None, params), params)
    assert v.status == "passed" and "1,707,274" not in v.feedback and "format" in v.feedback


BASE = """id: w
title: W
total_points: 1
criteria:
  - id: q
    title: Q
    points: 1
    check: {check}
    params: {params}
"""


def test_schema_accepts_a_rubric_of_written_questions_only():
    rubric = parse_rubric(BASE.format(check="answers", params="{quantity: {kind: param_count, sizes: [2, 3, 1]}}"))
    assert rubric.assignment is None and rubric.answers_only
    assert rubric.criteria[0].visibility == "hidden"          # answers are hidden by default
    public = parse_rubric(BASE.format(check="answers", params="{quantity: {kind: param_count, sizes: [2, 3, 1]}}")
                          .replace("    check: answers", "    visibility: public\n    check: answers"))
    assert public.criteria[0].visibility == "public"


def test_schema_refuses_code_checks_without_an_assignment():
    with pytest.raises(RubricError, match="no assignment"):
        parse_rubric(BASE.format(check="forward", params="{}"))


@pytest.mark.parametrize("params, message", [
    ("{}", "quantity"),
    ("{quantity: {kind: worked_example, value: 'grad:W9', network: {x: [1], weights: [[[1]]], biases: [[0]], "
     "target: [1], lr: 0.1, output: identity}}}", "unknown value"),
    ("{quantity: {kind: worked_example, value: output, network: {x: [1, 2], weights: [[[1]]], biases: [[0]], "
     "target: [1], lr: 0.1}}}", "do not fit"),
    ("{quantity: {kind: shape, sizes: [2, 3], block: X0}}", "block"),
])
def test_schema_refuses_bad_questions(params, message):
    with pytest.raises(RubricError, match=message):
        parse_rubric(BASE.format(check="answers", params=params))
