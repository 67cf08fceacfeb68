"""Terminal tables (grader/render/terminal.py): wrapped, never cut; a total;
one message where several criteria share it."""

from __future__ import annotations

import io
import re

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from grader.diagnoses import get
from grader.render.terminal import print_result, result_table

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789=().,", min_size=1, max_size=12)


def _render(result: dict, width: int, reveal: bool = True) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None, highlight=False)
    print_result(console, result, reveal=reveal)
    return console.file.getvalue()


def _crit(cid: str, score: float, top: float, status: str, feedback: str, diagnoses=(), visibility="public") -> dict:
    return {"id": cid, "title": f"Criterion {cid}", "score": score, "max_score": top, "status": status,
            "visibility": visibility, "feedback": feedback, "diagnoses": list(diagnoses), "evidence": {},
            "plots": {}}


def _result(criteria: list[dict], error: dict | None = None) -> dict:
    return {"submission": "alice", "name": "alice", "rubric": "r", "rubric_title": "R", "criteria": criteria,
            "error": error, "score": sum(c["score"] for c in criteria),
            "max_score": sum(c["max_score"] for c in criteria)}


@settings(max_examples=60, deadline=None)
@given(words=st.lists(WORD, min_size=1, max_size=60), width=st.sampled_from([60, 80, 100, 160]),
       status=st.sampled_from(["passed", "failed"]))
def test_feedback_is_wrapped_never_cut(words, width, status):
    feedback = " ".join(words)
    out = _render(_result([_crit("a", 1, 2, status, feedback)]), width)
    # every word of the feedback is printed whole, in order, whatever the width
    tokens = [t for t in re.split(r"[\s│┃|]+", out) if t]
    position = 0
    for word in words:
        assert word in tokens[position:], (word, out)
        position = tokens.index(word, position) + 1


def test_a_long_line_is_not_cut_at_160_columns():
    feedback = ("Your gradient is exactly S = 5 times the correct one: you sum over the samples but do not divide "
                "by S, which the loss, being a mean over the samples, requires in every block of the gradient.")
    out = _render(_result([_crit("a", 0, 6, "failed", feedback)]), 160)
    assert " ".join(feedback.split()) in " ".join(re.sub(r"[│┃]", " ", out).split())


def test_grade_prints_a_total_and_check_a_total_of_the_shown_criteria():
    criteria = [_crit("a", 5, 5, "passed", "fine"), _crit("b", 1.5, 6, "partial", "half"),
                _crit("h", 3, 10, "partial", "secret", visibility="hidden")]
    revealed = _render(_result(criteria), 120, reveal=True)
    assert re.search(r"total\s*│\s*9.5/21", revealed), revealed
    shown = _render(_result(criteria), 120, reveal=False)
    assert re.search(r"total \(shown criteria\)\s*│\s*6.5/11", shown), shown
    assert "secret" not in shown


def test_a_submission_level_problem_is_printed_once_with_its_advice():
    message = "nn.py does not compile: SyntaxError (line 30): expected ':'"
    criteria = [_crit(c, 0, 5, "error", f"Not graded: {message}", ["syntax-error"]) for c in "abcdefgh"]
    out = _render(_result(criteria, {"kind": "syntax-error", "message": message}), 160)
    assert out.count("expected ':'") == 1, out
    assert out.count(get("syntax-error").fix[:40]) == 1, out
    assert out.count("Criterion ") == 8 and "not graded: see the problem below" in out


def test_identical_failures_print_once_and_the_same_advice_once():
    shared = "Your code raised ZeroDivisionError: division by zero\n  File nn.py, line 3"
    criteria = [_crit(c, 0, 6, "error", shared) for c in "abcd"]
    out = _render(_result(criteria), 160)
    assert out.count("division by zero") == 2, out   # the table's headline and the details, once each
    assert out.count("the same failure as Criterion a") == 3, out   # table rows
    assert out.count("The same failure as Criterion a") == 3, out   # details
    # different messages with the same diagnosis: the advice once, the cause named for each
    summed = [_crit(c, 0, 6, "failed", f"Your gradient is exactly S = 5 times the correct one.\n(block {c})",
                    ["sum-not-mean"]) for c in "wxyz"]
    out = _render(_result(summed), 160)
    assert out.count(get("sum-not-mean").fix[:40]) == 1, out
    assert out.count(get("sum-not-mean").title) == 4, out
    assert out.count("Your gradient is exactly S = 5 times") == 4 + 1, out   # table once, each block's details
    for c in "wxyz":
        assert f"(block {c})" in out


def test_the_table_title_is_never_markup():
    result = _result([_crit("a", 1, 1, "passed", "[bold]not markup[/bold]")])
    result["name"] = "[red]alice"
    table = result_table(result, reveal=True)
    out = _render(result, 120)
    assert "[bold]not markup[/bold]" in out and "[red]alice" in out and table.title is not None
