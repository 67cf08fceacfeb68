"""The variant rubrics grade their example submissions as examples/EXPECTED.yaml says.

Each example is graded end to end (sandboxed worker and all) with its rubric:
correct ones must get full marks; a buggy one must fail exactly the criteria
listed under `failed` (status failed, partial or error), carry the listed
diagnoses there, and pass every other criterion not listed under `unpinned`.
An example with `glue` is graded through that per-submission glue (as an
instructor's --glue-map would), and its result must name it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from grader.rubric import load_rubric

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
EXPECTED: dict = yaml.safe_load((EXAMPLES / "EXPECTED.yaml").read_text(encoding="utf-8"))
ALLOWED_KEYS = {"rubric", "score", "failed", "diagnoses", "unpinned", "glue"}


# -- fast: the expectations themselves are consistent ------------------------------


# Instructor glue, not submissions: the per-submission glues `glue` names.
GLUE_FOLDERS = ("drift-glue",)


def submissions() -> list[str]:
    """Every example submission, relative to examples/: a .py file directly in
    a topic folder, or a folder one level below it (a folder submission, e.g.
    twolayer/correct_folder holding net.py and optim.py), named once."""
    names = set()
    for path in EXAMPLES.rglob("*.py"):
        parts = path.relative_to(EXAMPLES).parts
        if parts[0] not in GLUE_FOLDERS:
            names.add("/".join(parts[:2]))
    return sorted(names)


def test_every_example_has_an_expectation_and_vice_versa():
    assert submissions() == sorted(EXPECTED)


def test_a_folder_submission_is_one_example():
    assert "twolayer/correct_folder" in submissions()
    assert not any(name.startswith("twolayer/correct_folder/") for name in submissions())


def test_every_glue_file_is_named_by_an_expectation():
    glues = sorted(str(p.relative_to(EXAMPLES)) for folder in GLUE_FOLDERS for p in (EXAMPLES / folder).rglob("*.py"))
    assert glues == sorted(spec["glue"] for spec in EXPECTED.values() if "glue" in spec)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_expectation_is_well_formed(name):
    spec = EXPECTED[name]
    assert set(spec) <= ALLOWED_KEYS, set(spec) - ALLOWED_KEYS
    rubric = load_rubric(spec["rubric"])
    ids = {c.id for c in rubric.criteria}
    failed = set(spec.get("failed", []))
    unpinned = set(spec.get("unpinned", []))
    assert failed <= ids and unpinned <= ids and set(spec.get("diagnoses") or {}) <= failed
    assert not failed & unpinned
    if "glue" in spec:   # outside the submissions' folders, readable, and able to grade every criterion
        from grader.glue import read_glue, unsupported_criteria

        assert Path(spec["glue"]).parts[0] in GLUE_FOLDERS
        assert unsupported_criteria(rubric, read_glue(EXAMPLES / spec["glue"], "per-submission")) == {}
    if "score" in spec:
        assert not unpinned, "a pinned score leaves nothing unpinned"
        # failed criteria may still earn partial credit, but never all of it
        assert (spec["score"] < rubric.total_points) if failed else (spec["score"] == rubric.total_points)


def test_every_variant_rubric_has_a_correct_example_and_a_buggy_one():
    by_rubric: dict[str, list[str]] = {}
    for name, spec in EXPECTED.items():
        if "glue" in spec:   # a drifted student of the default course, not a variant rubric's example
            continue
        by_rubric.setdefault(spec["rubric"], []).append(name)
    assert {"penguins-softplus", "leakyrelu-elasticnet", "cifar-mlp", "twolayer-relu"} <= set(by_rubric)
    for rubric_id, names in by_rubric.items():
        rubric = load_rubric(rubric_id)
        full = [n for n in names if EXPECTED[n].get("score") == rubric.total_points and not EXPECTED[n]["failed"]]
        buggy = [n for n in names if EXPECTED[n]["failed"]]
        assert full, f"{rubric_id}: no correct example"
        assert buggy, f"{rubric_id}: no buggy example"
        assert all(EXPECTED[n]["diagnoses"] for n in buggy), f"{rubric_id}: a buggy example without a diagnosis"


# -- slow: grade every example ----------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_is_graded_as_expected(name):
    from grader.engine import grade

    from grader.glue import read_glue

    spec = EXPECTED[name]
    glue = read_glue(EXAMPLES / spec["glue"], "per-submission") if "glue" in spec else None
    result = grade(EXAMPLES / name, load_rubric(spec["rubric"]), glue=glue).result
    report = {c["id"]: (c["status"], c["diagnoses"], c["feedback"][:200]) for c in result["criteria"]}
    assert result["error"] is None, result["error"]
    assert result["rubric"] == spec["rubric"]
    if glue is not None:
        assert result["glue"] == {"name": glue.name, "sha256": glue.sha256, "origin": "per-submission"}
    if "score" in spec:
        assert result["score"] == spec["score"], report
    failed = set(spec.get("failed", []))
    unpinned = set(spec.get("unpinned", []))
    for crit in result["criteria"]:
        if crit["id"] in failed:
            assert crit["status"] != "passed", (crit["id"], report[crit["id"]])
        elif crit["id"] not in unpinned:
            assert crit["status"] == "passed", (crit["id"], report[crit["id"]])
    for cid, diagnoses in (spec.get("diagnoses") or {}).items():
        for diagnosis in diagnoses:
            assert diagnosis in report[cid][1], (cid, report[cid])
