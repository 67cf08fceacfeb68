"""to_gradescope / validate_gradescope: the results.json contract."""

from __future__ import annotations

import copy
import json
import math

import pytest

from grader.render.gradescope import to_gradescope, validate_gradescope

from .fixtures import CRITERIA, HIDDEN_IDS, make_error_result, make_perfect_result, make_result


@pytest.mark.parametrize("make", [make_result, make_error_result, make_perfect_result])
def test_converted_documents_validate(make) -> None:
    doc = to_gradescope(make(), execution_time=3.25)
    assert validate_gradescope(doc) == []
    json.dumps(doc, allow_nan=False)


def test_fields_and_values() -> None:
    res = make_result()
    doc = to_gradescope(res, execution_time=12.0)
    assert doc["score"] == 56.0 and doc["execution_time"] == 12.0
    assert doc["output_format"] == "text" and doc["visibility"] == "visible"
    assert doc["stdout_visibility"] == "hidden"
    assert [t["name"] for t in doc["tests"]] == [c["title"] for c in CRITERIA]
    assert sum(t["max_score"] for t in doc["tests"]) == 100.0
    by_name = {t["name"]: t for t in doc["tests"]}
    b0 = by_name["Gradient of b0"]
    assert b0["status"] == "failed" and b0["score"] == 0.0 and b0["max_score"] == 6.0
    assert "280.0 times" in b0["output"]
    assert "Gradient summed over samples, not averaged" in b0["output"]
    assert "How to fix: Divide the summed gradient by S = x.shape[0]" in b0["output"]
    assert b0["output_format"] == "text" and b0["visibility"] == "visible"
    assert "sum-not-mean" in b0["tags"]
    assert by_name["Forward pass"]["status"] == "failed"  # partial credit is not a pass
    assert by_name["Parameter shapes"]["status"] == "passed"
    hidden_titles = {c["title"] for c in CRITERIA if c["id"] in HIDDEN_IDS}
    for t in doc["tests"]:
        assert t["visibility"] == ("after_published" if t["name"] in hidden_titles else "visible")


def test_no_execution_time_when_not_given() -> None:
    assert "execution_time" not in to_gradescope(make_result())


def test_error_in_top_level_output() -> None:
    doc = to_gradescope(make_error_result())
    assert "could not be run: Syntax error" in doc["output"]
    assert "SyntaxError: expected ':' (nn.py, line 30)" in doc["output"]
    assert doc["score"] == 0.0


def test_nan_scores_become_zero() -> None:
    res = make_result()
    res["criteria"][0]["score"] = float("nan")
    res["score"] = None
    doc = to_gradescope(res)
    assert validate_gradescope(doc) == []
    assert math.isfinite(doc["score"])


def _broken(mutate) -> list[str]:
    doc = copy.deepcopy(to_gradescope(make_result()))
    mutate(doc)
    return validate_gradescope(doc)


@pytest.mark.parametrize("mutate, needle", [
    (lambda d: d["tests"][0].update(status="partial"), "'status'"),
    (lambda d: d["tests"][1].update(visibility="after_release"), "'visibility'"),
    (lambda d: d.update(visibility="public"), "'visibility'"),
    (lambda d: d.update(stdout_visibility="shown"), "'stdout_visibility'"),
    (lambda d: d.update(score="56"), "'score'"),
    (lambda d: d.update(score=float("nan")), "'score'"),
    (lambda d: d["tests"][2].update(max_score=None), "'max_score'"),
    (lambda d: d["tests"][2].update(score=True), "'score'"),
    (lambda d: d.update(output_format="latex"), "'output_format'"),
    (lambda d: d["tests"][3].update(output_format="rtf"), "'output_format'"),
    (lambda d: d["tests"][3].update(tags="x"), "'tags'"),
    (lambda d: d["tests"][3].update(output=["a"]), "'output'"),
    (lambda d: d["tests"][3].update(visiblity="visible"), "unknown field 'visiblity'"),
    (lambda d: d.update(stdout_visiblity="hidden"), "unknown top-level field"),
    (lambda d: d.update(execution_time=-1), "'execution_time'"),
    (lambda d: d.update(tests={}), "'tests' must be a list"),
    (lambda d: d.update(leaderboard=[{"name": "acc"}]), "leaderboard[0]"),
])
def test_validator_catches_broken_documents(mutate, needle) -> None:
    problems = _broken(mutate)
    assert problems, needle
    assert any(needle in p for p in problems), problems


def test_validator_requires_scores_somewhere() -> None:
    doc = to_gradescope(make_result())
    del doc["score"]
    assert validate_gradescope(doc) == []  # every test has a score
    del doc["tests"][0]["score"]
    assert any("tests[0]" in p for p in validate_gradescope(doc))
    assert validate_gradescope({}) != []
    assert validate_gradescope([]) != []  # type: ignore[arg-type]
