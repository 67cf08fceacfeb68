"""`nngrade rubric validate|show`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from grader.rubric import load_rubric
from grader.validate import glue_support, solution_failures


def test_cli_rubric_validate_bundled(run_cli, silu_rubric):
    run = run_cli(["rubric", "validate", "penguins-silu"])
    assert run.code == 0, run
    assert "valid" in run.out and "12 criteria" in run.out, run
    assert len(silu_rubric.criteria) == 12


def test_cli_rubric_show_lists_every_criterion(run_cli, silu_rubric):
    run = run_cli(["rubric", "show", "penguins-silu"])
    assert run.code == 0, run
    for crit in silu_rubric.criteria:
        assert re.search(rf"(?<![\w-]){re.escape(crit.id)}(?![\w-])", run.out), f"{crit.id} missing\n{run}"
    assert "Penguins MLP (SiLU)" in run.out and "total 100 points" in run.out, run


def test_cli_rubric_validate_broken_yaml_exits_2(run_cli, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("id: broken\ntitle: [unclosed\ncriteria: []\n", encoding="utf-8")
    run = run_cli(["rubric", "validate", path])
    assert run.code == 2, run
    assert re.search(rf"{re.escape(str(path))}:\d+", run.text), run
    assert "valid (" not in run.out, run


def test_cli_rubric_validate_a_copy_of_the_bundled_file_by_path(run_cli, tmp_path):
    from grader.rubric import find_rubric

    copy = tmp_path / "mine.yaml"
    copy.write_text(find_rubric("penguins-silu").read_text(encoding="utf-8"), encoding="utf-8")
    run = run_cli(["rubric", "validate", copy])
    assert run.code == 0, run
    assert "12 criteria" in run.out, run


# -- rubric validate --solution: the rubric must give the instructor's own solution full marks --------

REPO = Path(__file__).resolve().parents[2]
STATEFUL = REPO / "examples" / "stateful"


@pytest.mark.slow
def test_validate_solution_through_the_glue_passes(run_cli):
    run = run_cli(["rubric", "validate", REPO / "rubrics" / "penguins-stateful-2021.yaml",
                   "--solution", STATEFUL / "correct_vectorized.py"])
    assert run.code == 0, run
    assert "glue: stateful_2021.py" in run.text and "leaves out the optional reset_optimizer" in run.text, run
    assert "training: construct, get_parameters, set_parameters, step, train -> supported by the glue" in run.text
    assert "100/100, every criterion passed (hidden ones too)" in run.text, run
    assert "valid (12 criteria, 100 points)" in run.text, run


@pytest.mark.slow
def test_validate_solution_refuses_a_rubric_that_fails_its_solution_naming_each_criterion(run_cli):
    run = run_cli(["rubric", "validate", REPO / "rubrics" / "penguins-stateful-2021.yaml",
                   "--solution", STATEFUL / "bug_missing_mean.py"])
    assert run.code == 2, run
    assert "valid (" not in run.out, run
    assert "scored 61/100, not full marks: the rubric (or its glue) does not grade your own solution" in run.text
    for cid in ("grad-W0", "grad-b0", "grad-W1", "grad-b1"):
        assert f"criterion {cid} (Gradient of {cid[5:]}, public): failed, 0/6: Your gradient of {cid[5:]} is " \
               "exactly S = 5 times the reference" in run.text, run
    assert "criterion training (Training on the penguins, hidden): failed, 0/15" in run.text, run   # hidden too
    assert "criterion forward" not in run.text and "criterion nag-step" not in run.text, run


@pytest.mark.slow
def test_validate_solution_under_the_default_glue(run_cli):
    run = run_cli(["rubric", "validate", "penguins-silu", "--solution", REPO / "submissions" / "correct_vectorized.py"])
    assert run.code == 0, run
    assert "glue: the default glue (the interface's method names: class NN, self.theta)" in run.text, run
    assert "grad-W0: construct, get_parameters, set_parameters, gradient, loss -> class NN with back_propagate(), " \
           "loss() and self.theta" in run.text, run
    assert "100/100, every criterion passed" in run.text and "penguins-silu: valid" in run.text, run


def test_solution_is_for_validate_only_and_must_exist(run_cli, tmp_path):
    run = run_cli(["rubric", "show", "penguins-silu", "--solution", REPO / "submissions" / "correct_vectorized.py"])
    assert run.code == 2 and "--solution goes with rubric validate, not rubric show" in run.text, run
    run = run_cli(["rubric", "validate", "penguins-silu", "--solution", tmp_path / "nope.py"])
    assert run.code == 2 and f"--solution {tmp_path / 'nope.py'} does not exist" in run.text, run


def test_glue_support_names_the_glue_and_what_each_criterion_needs():
    glued = glue_support(load_rubric("penguins-stateful-2021"))
    assert glued[0].startswith("glue: stateful_2021.py (interface.glue; defines construct, get_parameters, "
                               "set_parameters, probabilities, loss, gradient, step, train;")
    assert "  forward: construct, set_parameters, probabilities -> supported by the glue" in glued
    assert len(glued) == 1 + 12
    default = glue_support(load_rubric("penguins-silu"))
    assert default[0] == "glue: the default glue (the interface's method names: class NN, self.theta)"
    assert "  gd-step: construct, get_parameters, set_parameters, gradient, step -> class NN with back_propagate(), " \
           "step() and self.theta" in default
    assert glue_support(load_rubric("penguins-written")) == [
        "written answers only: no glue (nothing of a class is called)"]


def test_solution_failures_name_load_errors_partial_scores_and_grader_failures():
    result = {"error": {"kind": "import-error", "message": "No module named torch"}, "criteria": [
        {"id": "a", "title": "A", "visibility": "public", "status": "passed", "score": 5.0, "max_score": 5.0,
         "feedback": "fine"},
        {"id": "b", "title": "B", "visibility": "hidden", "status": "passed", "score": 2.5, "max_score": 5.0,
         "feedback": "half\n  marks"},
        {"id": "c", "title": "C", "visibility": "hidden", "status": "grader-error", "score": 0.0, "max_score": 5.0,
         "feedback": "the grader failed"}]}
    assert solution_failures(result) == [
        "the solution could not be graded (import-error): No module named torch",
        "criterion b (B, hidden): passed, 2.5/5: half marks",
        "criterion c (C, hidden): grader-error, 0/5: the grader failed"]
    assert solution_failures({"error": None, "criteria": result["criteria"][:1]}) == []
