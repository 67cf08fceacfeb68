"""Every sample submission gets its expected result (submissions/EXPECTED.yaml).

Correct variants must score 100; each buggy one must lose points exactly on
the criteria its mistake spoils, with the diagnosis that names it, and pass
every other criterion that is not marked `unpinned` (with a reason) there.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from grader.engine import grade
from grader.submission import discover, submission_id

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = yaml.safe_load((ROOT / "submissions" / "EXPECTED.yaml").read_text())
PATHS = {submission_id(p): p for p in discover(ROOT / "submissions")}

pytestmark = pytest.mark.slow


def test_every_submission_has_an_expectation():
    assert sorted(PATHS) == sorted(EXPECTED)
    assert len(PATHS) >= 15


@pytest.mark.parametrize("sid", sorted(EXPECTED))
def test_expected_outcome(sid, silu_rubric):
    spec = EXPECTED[sid]
    result = grade(PATHS[sid], silu_rubric).result
    by_id = {c["id"]: c for c in result["criteria"]}
    report = {c["id"]: (c["status"], c["diagnoses"], c["feedback"][:160]) for c in result["criteria"]}
    if "error" in spec:
        assert result["error"] is not None and result["error"]["kind"] == spec["error"], report
    else:
        assert result["error"] is None, result["error"]
    if "score" in spec:
        assert result["score"] == spec["score"], report
    failed = set(spec.get("failed", []))
    unpinned = set(spec.get("unpinned", []))
    for cid, crit in by_id.items():
        if cid in failed:
            assert crit["status"] != "passed", (cid, report[cid])
        elif cid not in unpinned and "error" not in spec:
            assert crit["status"] == "passed", (cid, report[cid])
    for cid, diagnoses in (spec.get("diagnoses") or {}).items():
        for diagnosis in diagnoses:
            assert diagnosis in by_id[cid]["diagnoses"], (cid, report[cid])
