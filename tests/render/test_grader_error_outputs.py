"""A criterion the grader failed on (status `grader-error`) is shown as the
grader's failure in every output, never as the student's: the report (both
views), the terminal table, gradescope.json, the gradebooks, the class
summary and the release tree's index.  Its points are left out of every
total; no output shows them as lost.

And the catalogue in the rubric's words: renderers use the result's embedded
catalogue (`diagnoses.lookup`), so a tanh course reads about tanh."""

from __future__ import annotations

import copy
import io
import math
import re
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from grader.diagnoses import catalogue_for
from grader.release import write_release_index
from grader.render.common import GRADER_ERROR_LABEL
from grader.render.gradebook import canvas_frame, gradebook_frame
from grader.render.gradescope import to_gradescope, validate_gradescope
from grader.render.html import render_report
from grader.render.summary import render_summary
from grader.render.terminal import print_result
from grader.rubric import load_rubric, parse_rubric

from .fixtures import CRITERIA, CRITERIA_IDS, RUBRIC_TITLE, make_perfect_result, make_result

ENGINE_FEEDBACK = ("The grader failed while judging this criterion (KeyError). This is the grader's fault, not "
                   "yours: the criterion is left out of your total until the course staff fix it and grade again.")
PUBLIC_BROKEN, HIDDEN_BROKEN = "param-count", "gd-step"   # 5 and 10 points


def broken(result: dict[str, Any], *ids: str) -> dict[str, Any]:
    """`result` as grader/engine.py writes it when the grader failed on
    `ids`: status and diagnosis grader-error, score 0, and the criteria
    left out of score and max_score and listed in grader_errors."""
    res = copy.deepcopy(result)
    for c in res["criteria"]:
        if c["id"] in ids:
            c.update(status="grader-error", score=0.0, diagnoses=["grader-error"], feedback=ENGINE_FEEDBACK,
                     evidence={})
    kept = [c for c in res["criteria"] if c["status"] != "grader-error"]
    res.update(score=float(sum(c["score"] for c in kept)), max_score=float(sum(c["max_score"] for c in kept)),
               grader_errors=[c["id"] for c in res["criteria"] if c["id"] in ids],
               catalogue=catalogue_for(load_rubric("penguins-silu"), ["grader-error"]))
    return res


@pytest.fixture(scope="module")
def bob() -> dict[str, Any]:
    """Everything right, but the grader failed on one public and one hidden criterion: 85 / 85."""
    return broken(make_perfect_result("bob"), PUBLIC_BROKEN, HIDDEN_BROKEN)


def _card(html: str, anchor: str) -> str:
    start = html.index(f'id="{anchor}"')
    return html[start:html.index("</section>", start)]


# -- report.html ---------------------------------------------------------------------------------


def test_report_instructor_view_shows_the_grader_failure_not_counted(bob):
    html = render_report(bob, audience="instructor")
    assert re.search(r'<div class="bigscore"[^>]*>85<span class="of"> / 85</span>', html)
    card = _card(html, "crit-param-count")
    assert f'<span class="badge grader-error">{GRADER_ERROR_LABEL}</span>' in card
    assert "5 points not counted" in card and "0 / 5" not in card
    assert "badge failed" not in card and "badge error" not in card
    notice = _card(html, "grader-failures")
    assert "The grader failed on 2 criteria" in notice and "15 points not counted" in notice
    assert "(param-count)" in notice and "(gd-step)" in notice
    assert "run.json" in notice and "instructor_notes" in notice
    assert html.index('id="grader-failures"') < html.index('id="crit-param-shapes"')   # at the top


def test_report_student_view_says_not_your_fault_and_names_no_hidden_criterion(bob):
    html = render_report(bob, audience="student")
    # public criteria only before release, the broken one left out: 54 - 5
    assert re.search(r'<div class="bigscore"[^>]*>49<span class="of"> / 49</span>', html)
    notice = _card(html, "grader-failures")
    assert "The grader failed on 1 criterion" in notice and "not a mistake in your work" in notice
    assert "5 points not counted, not lost" in notice
    assert "gd-step" not in html and "run.json" not in html
    assert "grader&#39;s fault, not yours" in _card(html, "crit-param-count")


def test_report_without_grader_failures_has_no_notice():
    assert 'id="grader-failures"' not in render_report(make_result(), audience="instructor")


# -- terminal ------------------------------------------------------------------------------------


def _terminal(result: dict[str, Any], reveal: bool) -> str:
    console = Console(width=160, file=io.StringIO(), color_system=None, highlight=False)
    print_result(console, result, reveal=reveal)
    return console.file.getvalue()


def test_terminal_table_marks_the_row_and_leaves_it_out_of_the_total(bob):
    out = _terminal(bob, reveal=True)
    row = next(line for line in out.splitlines() if "Parameter count" in line)
    assert GRADER_ERROR_LABEL in row and "-/5" in row and "0/5" not in row
    total = next(line for line in out.splitlines() if "total" in line)
    assert "85/85" in total and "2 not counted: grader failure" in total
    assert "The grader failed on 2 criteria" in " ".join(out.split())
    assert "not in your code" in " ".join(out.split())


def test_terminal_check_view_names_only_the_shown_failure(bob):
    out = " ".join(_terminal(bob, reveal=False).split())
    assert "The grader failed on 1 criterion (Parameter count)" in out
    assert "Gradient descent step" not in out.split("The grader failed")[1]


# -- gradescope.json -----------------------------------------------------------------------------


def test_gradescope_test_has_no_points_to_lose_and_the_output_says_why(bob):
    doc = to_gradescope(bob)
    assert validate_gradescope(doc) == []
    test = next(t for t in doc["tests"] if t["tags"][0] == PUBLIC_BROKEN)
    assert test["score"] == 0 and test["max_score"] == 0
    assert test["name"] == f"Parameter count ({GRADER_ERROR_LABEL})"
    assert test["output"].startswith("Not counted: 5 points")
    assert doc["score"] == 85.0 and doc["extra_data"] == {"grader_errors": [PUBLIC_BROKEN, HIDDEN_BROKEN]}
    assert "The grader failed on 1 criterion (Parameter count)" in doc["output"]   # the hidden one: when published
    assert sum(t["max_score"] for t in doc["tests"]) == 85.0


# -- gradebooks ----------------------------------------------------------------------------------


def test_gradebook_row_is_marked_and_the_cell_empty(bob):
    frame = gradebook_frame([make_result("alice"), bob], CRITERIA_IDS)
    row = frame[frame["submission"] == "bob"].iloc[0]
    assert row["grader_errors"] == "param-count gd-step"
    assert math.isnan(row["param-count"]) and math.isnan(row["gd-step"])
    assert (row["score"], row["max_score"]) == (85.0, 85.0)
    assert frame[frame["submission"] == "alice"].iloc[0]["grader_errors"] == ""


def test_canvas_leaves_an_incomplete_grade_empty_and_keeps_the_full_points_possible(bob):
    frame = canvas_frame([bob, make_perfect_result("carl")])
    column = frame.columns[-1]
    assert column.endswith("(100 pts)") and frame.iloc[0][column] == 100.0
    assert math.isnan(frame[frame["SIS Login ID"] == "bob"].iloc[0][column])
    assert frame[frame["SIS Login ID"] == "carl"].iloc[0][column] == 100.0


# -- summary.html and the release index ----------------------------------------------------------


def test_summary_lists_grader_failures_at_the_top(bob):
    html = render_summary([make_result("alice"), bob], rubric_title=RUBRIC_TITLE, criteria=CRITERIA)
    section = _card(html, "grader-failures")
    assert html.index('id="grader-failures"') < html.index('id="criteria"')
    assert "Grader failures: 2 criteria in 1 submission" in section
    assert 'href="bob/report.html"' in section and "alice" not in section
    assert '<span class="badge grader-error" title="Parameter count">param-count</span>' in section
    assert 'id="diag-grader-error"' not in html   # not a student's mistake
    bob_row = html[html.index('>bob</a>', html.index('id="submissions"')):]
    assert '<td class="cell grader-error" title="grader failure, not counted">n/c</td>' in bob_row.split("</tr>")[0]


def test_summary_without_grader_failures_has_no_section():
    html = render_summary([make_result("alice")], rubric_title=RUBRIC_TITLE, criteria=CRITERIA)
    assert 'id="grader-failures"' not in html and "grader failure" not in html


def test_release_index_shows_the_students_score_without_the_failed_criteria(bob, tmp_path: Path):
    index = write_release_index([bob], tmp_path, released=True, rubric_title=RUBRIC_TITLE).read_text()
    row = index[index.index(">bob</a>"):].split("</tr>")[0]
    assert "85 / 85" in row and "2 not counted (grader failure)" in row


# -- the catalogue in the rubric's words ---------------------------------------------------------


@pytest.fixture(scope="module")
def tanh_result() -> dict[str, Any]:
    """A result graded with a tanh rubric: its catalogue, embedded as the
    engine embeds it, words the sigmoid-derivative mistake for tanh."""
    text = (Path(__file__).resolve().parents[2] / "rubrics" / "penguins-silu.yaml").read_text(encoding="utf-8")
    rubric = parse_rubric(text.replace("activation: silu", "activation: tanh"), "tanh.yaml")
    assert rubric.assignment.architecture.activation == "tanh"
    res = make_perfect_result("tina")
    res["rubric_title"] = "Penguins MLP"
    grad = next(c for c in res["criteria"] if c["id"] == "grad-W0")
    grad.update(status="failed", score=0.0, diagnoses=["activation-derivative-sigmoid"], feedback="Wrong.")
    res["score"] -= grad["max_score"]
    res["catalogue"] = catalogue_for(rubric, ["activation-derivative-sigmoid"])
    return res


def test_outputs_explain_in_the_rubric_s_words(tanh_result):
    explanation = tanh_result["catalogue"]["activation-derivative-sigmoid"]["explanation"]
    assert "tanh" in explanation and "SiLU" not in explanation
    html = render_report(tanh_result, audience="student")
    assert "(tanh: h(z) = tanh(z))" in html and "SiLU" not in html
    assert "for tanh h&#39;(z) = 1 - tanh(z)^2" in html
    assert "SiLU" not in _terminal(tanh_result, reveal=True)
    assert "tanh" in to_gradescope(tanh_result)["tests"][5]["output"]
    summary = render_summary([tanh_result], rubric_title="Penguins MLP", criteria=CRITERIA)
    assert "for tanh" in summary and "SiLU" not in summary
