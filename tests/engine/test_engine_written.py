"""Every sample of written answers gets its expected result (examples/written/EXPECTED.yaml).

Rubrics of written questions only run no worker: the answers are data, read
in the grader's process, so these tests are fast.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from grader.engine import ANSWERS_ISOLATION, grade
from grader.rubric import load_rubric
from grader.submission import discover

ROOT = Path(__file__).resolve().parents[2]
WRITTEN = ROOT / "examples" / "written"
EXPECTED: dict = yaml.safe_load((WRITTEN / "EXPECTED.yaml").read_text(encoding="utf-8"))
ALLOWED = {"rubric", "score", "failed", "diagnoses", "feedback", "error", "note"}


def test_every_sample_has_an_expectation_and_vice_versa():
    found = sorted(str(p.relative_to(WRITTEN)) for folder in sorted(WRITTEN.iterdir()) if folder.is_dir()
                   for p in discover(folder, answers=True))
    assert found == sorted(EXPECTED)


def test_every_written_rubric_has_right_and_wrong_samples():
    by_rubric: dict[str, list[dict]] = {}
    for spec in EXPECTED.values():
        by_rubric.setdefault(spec["rubric"], []).append(spec)
    assert set(by_rubric) == {"penguins-written", "cifar-written", "backprop-worked-example"}
    for rubric_id, specs in by_rubric.items():
        rubric = load_rubric(rubric_id)
        assert any(s["score"] == rubric.total_points for s in specs), rubric_id
        wrong = {cid for s in specs for cid in s["failed"]}
        assert wrong == {c.id for c in rubric.criteria}, f"{rubric_id}: every question has a wrong sample"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_expected_outcome(name):
    spec = EXPECTED[name]
    assert set(spec) <= ALLOWED
    rubric = load_rubric(spec["rubric"])
    result = grade(WRITTEN / name, rubric).result
    by_id = {c["id"]: c for c in result["criteria"]}
    report = {c["id"]: (c["status"], c["diagnoses"], c["feedback"][:300]) for c in result["criteria"]}
    assert result["isolation"] == ANSWERS_ISOLATION
    if "error" in spec:
        assert result["error"] and result["error"]["kind"] == spec["error"], report
    else:
        assert result["error"] is None, result["error"]
    assert result["score"] == spec["score"], report
    failed = set(spec["failed"])
    for cid, crit in by_id.items():
        assert (crit["status"] != "passed") == (cid in failed), (cid, report[cid])
    for cid, diagnoses in (spec.get("diagnoses") or {}).items():
        assert sorted(by_id[cid]["diagnoses"]) == sorted(diagnoses), (cid, report[cid])
    for cid, phrases in (spec.get("feedback") or {}).items():
        for phrase in phrases:
            assert phrase in by_id[cid]["feedback"], (cid, phrase, by_id[cid]["feedback"])


def test_results_are_deterministic():
    from grader.engine import dumps

    rubric = load_rubric("cifar-written")
    first = dumps(grade(WRITTEN / "cifar" / "report_seed.yaml", rubric).result)
    assert first == dumps(grade(WRITTEN / "cifar" / "report_seed.yaml", rubric).result)


def test_expected_values_shown_with_the_answer():
    result = grade(WRITTEN / "cifar" / "report_seed.yaml", load_rubric("cifar-written")).result
    count = next(c for c in result["criteria"] if c["id"] == "param-count")
    assert count["evidence"]["answer"]["rows"] == [["your answer", "1,707,264"], ["expected", "1,707,274"]]
    assert count["visibility"] == "hidden"
