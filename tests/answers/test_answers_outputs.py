"""Written answers through the rest of the grader: kit, reports, class
summary, batch, and the notebook variable read through the worker."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from grader.engine import grade
from grader.kit import build_kit
from grader.render.html import render_report
from grader.render.summary import render_summary, wrong_answers
from grader.rubric import load_rubric, parse_rubric

ROOT = Path(__file__).resolve().parents[2]
WRITTEN = ROOT / "examples" / "written"


def _criteria(rubric):
    return [{"id": c.id, "title": c.title, "points": c.points, "visibility": c.visibility} for c in rubric.criteria]


# -- kit ----------------------------------------------------------------------------

def test_kit_of_written_questions_checks_the_format_only(tmp_path):
    rubric = load_rubric("cifar-written")
    kit = build_kit(rubric, tmp_path / "kit")
    assert {p.name for p in kit.iterdir()} == {"rubric.yaml", "answers.yaml", "README.md", "pyproject.toml", "checker"}
    text = (kit / "rubric.yaml").read_text()
    assert "1707274" not in text and "budget" not in text and "sizes" not in text
    for path in kit.rglob("*"):   # nor in a template's or a message's example (the checker's code included)
        if path.is_file():
            body = path.read_text(encoding="utf-8")
            assert "1707274" not in body and "1,707,274" not in body and "1 707 274" not in body, path
    template = yaml.safe_load((kit / "answers.yaml").read_text())
    assert template == {"param-count": None, "n-hidden": None}
    kit_rubric = load_rubric(kit / "rubric.yaml")
    assert kit_rubric.answers_only and all(c.visibility == "public" for c in kit_rubric.criteria)
    blank = grade(kit / "answers.yaml", kit_rubric, public_only=True).result
    assert [c["diagnoses"] for c in blank["criteria"]] == [["answer-missing"], ["answer-missing"]]
    wrong = grade(WRITTEN / "cifar" / "report_seed.yaml", kit_rubric, public_only=True).result
    assert [c["status"] for c in wrong["criteria"]] == ["passed", "passed"]      # format right, value unseen
    assert all("1,707,274" not in c["feedback"] for c in wrong["criteria"])
    bad = grade(WRITTEN / "cifar" / "biases_twice.yaml", kit_rubric, public_only=True).result
    assert bad["criteria"][1]["diagnoses"] == ["answer-format"]


def test_kit_of_a_code_rubric_is_unchanged(tmp_path):
    kit = build_kit(load_rubric("penguins-silu"), tmp_path / "kit")
    assert not (kit / "answers.yaml").exists()


# -- reports ------------------------------------------------------------------------

def test_report_shows_the_expected_value_only_once_released():
    result = grade(WRITTEN / "cifar" / "report_seed.yaml", load_rubric("cifar-written")).result
    student = render_report(result, audience="student")
    assert "1,707,264" not in student and "1,707,274" not in student and "Hidden until release" in student
    for page in (render_report(result, audience="student", reveal_hidden=True),
                 render_report(result, audience="instructor")):
        assert "1,707,264" in page and "1,707,274" in page
        assert "Rounded down instead of to the closest integer" in page
        assert "answer_key" not in page


# -- class summary --------------------------------------------------------------------

def test_summary_lists_the_most_frequent_wrong_answers():
    rubric = load_rubric("cifar-written")
    results = [grade(WRITTEN / "cifar" / name, rubric).result
               for name in ("report_seed.yaml", "correct.yaml", "input_3075.yaml", "weights_only.yaml")]
    twin = dict(results[0], submission="report_seed_twin")
    results.append(twin)
    listed = wrong_answers(results, _criteria(rubric))
    count = listed[0]
    assert count["id"] == "param-count" and count["answered"] == 5 and count["right"] == 1
    assert count["expected"] == "1,707,274"
    assert [a["answer"] for a in count["answers"]][0] == "1,707,264"
    assert count["answers"][0]["count"] == 2
    assert {d["id"] for d in count["answers"][0]["diagnoses"]} == {"answer-missing-layer-biases",
                                                                   "answer-arithmetic-slip"}
    depth = listed[1]
    assert depth["answers"][0]["answer"] == "4" and depth["answers"][0]["count"] == 2
    page = render_summary(results, rubric_title=rubric.title, criteria=_criteria(rubric))
    assert 'id="wrong-answers"' in page and "1,707,264" in page and "report_seed_twin/report.html" in page


def test_summary_of_a_code_rubric_has_no_wrong_answers_section():
    from tests.render.fixtures import CRITERIA, RUBRIC_TITLE, make_class

    page = render_summary(make_class(), rubric_title=RUBRIC_TITLE, criteria=CRITERIA)
    assert 'id="wrong-answers"' not in page


# -- batch --------------------------------------------------------------------------

def test_batch_of_answers_files(tmp_path):
    from grader.cli import main

    subs = tmp_path / "subs"
    shutil.copytree(WRITTEN / "cifar", subs)
    assert main(["batch", str(subs), "--rubric", "cifar-written", "--out", str(tmp_path / "out"),
                 "--workers", "1"]) == 0
    out = tmp_path / "out"
    assert json.loads((out / "report_seed" / "result.json").read_text())["score"] == 0
    assert json.loads((out / "correct_other_forms" / "result.json").read_text())["score"] == 10
    assert "Most frequent wrong answers" in (out / "summary.html").read_text()


def test_zip_and_python_file_submissions(tmp_path):
    import zipfile

    rubric = load_rubric("cifar-written")
    archive = tmp_path / "bob.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("bob/report.md", "my report")
        zf.writestr("bob/answers.json", '{"param-count": "1,707,274", "n-hidden": 4}')
    result = grade(archive, rubric).result
    assert result["submission"] == "bob" and result["score"] == 5
    script = tmp_path / "carol.py"
    script.write_text('import os\nos.system("touch pwned")\nanswers = {"param-count": 1707274, "n-hidden": 5}\n')
    result = grade(script, rubric).result
    assert result["score"] == 10 and not (tmp_path / "pwned").exists() and not Path("pwned").exists()
    evil = tmp_path / "dave.yaml"
    evil.write_text("a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n")
    result = grade(evil, rubric).result
    assert result["error"]["kind"] == "answers-unreadable" and "aliases" in result["error"]["message"]


# -- a rubric with a class: answers through the worker ------------------------------------

CLASS_RUBRIC = """
id: penguins-with-answers
title: Penguins MLP and one written question
seed: 2026
total_points: 10
assignment:
  architecture: {inputs: 4, hidden: [16], outputs: 3, activation: silu}
criteria:
  - {id: param-shapes, title: Parameter shapes, points: 5, check: param_shapes}
  - id: param-count-formula
    title: Number of learnable parameters f(N_H)
    points: 5
    visibility: hidden
    check: answers
    params: {quantity: {kind: param_count, sizes: [4, N_H, 3]}}
"""


@pytest.mark.slow
@pytest.mark.parametrize("answers_cell, status", [
    ('answers = {"param_count_formula": f"{4 + 1 + 3}*N_H + 3"}', "passed"),   # computed: the worker runs it
    ('answers = {"param-count-formula": "7 N_H + 3"}', "failed"),
    ("", "failed"),
])
def test_notebook_variable_read_through_the_worker(tmp_path, answers_cell, status):
    import nbformat

    rubric = parse_rubric(CLASS_RUBRIC)
    nb = nbformat.read(str(ROOT / "submissions" / "correct_notebook.ipynb"), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(answers_cell))
    path = tmp_path / "student.ipynb"
    nbformat.write(nb, str(path))
    result = grade(path, rubric).result
    by_id = {c["id"]: c for c in result["criteria"]}
    assert by_id["param-shapes"]["status"] == "passed"
    assert by_id["param-count-formula"]["status"] == status, by_id["param-count-formula"]["feedback"]
    if not answers_cell:
        assert by_id["param-count-formula"]["diagnoses"] == ["answers-unreadable"]
    elif status == "failed":
        assert "answer-missing-layer-biases" in by_id["param-count-formula"]["diagnoses"]


@pytest.mark.slow
def test_answers_file_in_a_code_folder_wins_over_the_worker(tmp_path):
    rubric = parse_rubric(CLASS_RUBRIC)
    folder = tmp_path / "alice"
    shutil.copytree(ROOT / "submissions" / "correct_folder", folder)
    (folder / "answers.yaml").write_text("param-count-formula: 8 N_H + 3\n")
    result = grade(folder, rubric).result
    assert result["score"] == 10, [(c["id"], c["feedback"]) for c in result["criteria"]]
