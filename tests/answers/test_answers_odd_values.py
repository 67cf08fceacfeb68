"""Whatever a student writes as an answer, the answers check judges it: an
odd value is the student's `answer-format` (or a wrong answer), never the
grader's failure (`grader-error`, left out of the total)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from grader.answers.source import AnswerSheet
from grader.checks import REGISTRY
from grader.checks.base import GRADER_ERROR
from grader.engine import run_criterion
from grader.rubric import load_rubric

ODD = {
    "None": None, "str": "abc", "nested-lists": [[1, 2], [3]], "object": {"__obj__": "Foo", "repr": "Foo()"},
    "nan": float("nan"), "inf": math.inf, "huge-int": 10**400, "huge-text": "1e999", "array": np.zeros((2, 3)),
    "float32": np.float32([1.5]), "mapping": {"a": 1}, "bool": True, "empty-list": [], "strings": ["x"],
    "division": "1/0", "power": "N_H**1000000", "tuple": (1, 2), "ragged-text": "[[1,2],[3]]", "nan-text": "NaN",
}


@pytest.mark.parametrize("rubric_id", ["penguins-written", "cifar-written", "backprop-worked-example"])
@pytest.mark.parametrize("name", list(ODD))
def test_odd_answer_is_judged_never_a_grader_error(rubric_id, name):
    rubric = load_rubric(rubric_id)
    for crit in rubric.criteria:
        key = REGISTRY[crit.check].params(crit.params).key(crit.id).lower()
        sheet = AnswerSheet({key: ODD[name]}, "answers.yaml")
        v = run_criterion(rubric, None, crit, None, answers=lambda sheet=sheet: sheet)
        assert v.status != GRADER_ERROR, (crit.id, v.notes)


def test_a_number_beyond_any_float_is_answer_format():
    rubric = load_rubric("backprop-worked-example")
    crit = rubric.criteria[0]
    key = crit.check_params().key(crit.id).lower()
    v = run_criterion(rubric, None, crit, None, answers=lambda: AnswerSheet({key: "1e999"}, "answers.yaml"))
    assert v.diagnoses == ["answer-format"] and "too large" in v.feedback
