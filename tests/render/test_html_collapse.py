"""The HTML report says a shared thing once: a problem with the whole
submission lists the criteria it stopped (one box, not one per criterion),
a diagnosis is explained where it first appears, an identical evidence
table is shown once, and a column with one value on every row becomes a
note.  result.json keeps every criterion's entry (only rendering collapses)."""

from __future__ import annotations

import copy
import re

from grader.diagnoses import get
from grader.render.html import render_report


def _crit(cid: str, status: str, feedback: str, diagnoses=(), evidence=None, score=0.0, top=6.0) -> dict:
    return {"id": cid, "title": f"Title {cid}", "score": score, "max_score": top, "status": status,
            "visibility": "public", "feedback": feedback, "diagnoses": list(diagnoses),
            "evidence": evidence or {}, "plots": {}}


def _doc(criteria: list[dict], error=None) -> dict:
    return {"submission": "s", "rubric": "r", "rubric_title": "R", "criteria": criteria, "error": error,
            "score": sum(c["score"] for c in criteria), "max_score": sum(c["max_score"] for c in criteria),
            "stdout": ""}


def _text(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def test_a_syntax_error_is_one_box_listing_the_stopped_criteria():
    message = "nn.py does not compile: SyntaxError (line 30): expected ':'"
    criteria = [_crit(f"c{i}", "error", f"Not graded: {message}", ["syntax-error"]) for i in range(8)]
    doc = _doc(criteria, {"kind": "syntax-error", "message": message})
    before = copy.deepcopy(doc)
    page = render_report(doc, audience="instructor")
    assert doc == before, "rendering never edits the result"
    assert page.count("expected &#39;:&#39;") == 1, page
    assert page.count(get("syntax-error").fix[:30]) == 1
    assert page.count('<section class="card crit') == 0
    for i in range(8):   # every bar still links to an element of the page
        assert f'href="#crit-c{i}"' in page and f'id="crit-c{i}"' in page
    assert "Not graded because of this problem" in page


def test_other_errors_keep_their_own_cards():
    message = "nn.py does not compile"
    criteria = [_crit("a", "error", f"Not graded: {message}", ["syntax-error"]),
                _crit("b", "passed", "fine", score=6.0)]
    page = render_report(_doc(criteria, {"kind": "syntax-error", "message": message}))
    assert page.count('<section class="card crit') == 1 and 'id="crit-b"' in page


def test_a_diagnosis_is_explained_once_and_named_in_the_others():
    table = {"columns": ["block", "stored as", "relative error vs reference", "exact ratio"],
             "rows": [[b, "ok", 4.0, 5.0] for b in ("W0", "b0", "W1", "b1")]}
    criteria = [_crit(f"grad-{b}", "failed", f"Your gradient is exactly S = 5 times the correct one.\n(block {b})",
                      ["sum-not-mean"], {"blocks": copy.deepcopy(table), "samples S": 5})
                for b in ("W0", "b0", "W1", "b1")]
    page = render_report(_doc(criteria))
    text = _text(page)
    assert text.count(get("sum-not-mean").explanation[:40]) == 1, text
    assert text.count(get("sum-not-mean").title) == 4
    assert text.count("explained in Title grad-W0") == 3
    # the blocks table once; the others point to it
    assert page.count("<caption>blocks</caption>") == 1
    assert text.count("blocks: the same table as in Title grad-W0") == 3
    # "stored as" said "ok" on every row: a note, not a column
    assert "<th>stored as</th>" not in page and text.count("stored as: ok for every row") == 1
    for b in ("W0", "b0", "W1", "b1"):
        assert f"(block {b})" in text


def test_columns_that_differ_or_hold_numbers_stay():
    table = {"columns": ["block", "stored as", "ratio", "verdict"],
             "rows": [["W0", "ok", 5.0, "same"], ["b0", "transposed", 5.0, "same"]]}
    page = render_report(_doc([_crit("g", "failed", "x", [], {"t": table})]))
    assert "<th>stored as</th>" in page and '<th class="num">ratio</th>' in page
    assert "<th>verdict</th>" not in page and "verdict: same for every row" in _text(page)
    one_row = {"columns": ["block", "verdict"], "rows": [["W0", "ok"]]}
    assert "<th>verdict</th>" in render_report(_doc([_crit("g", "failed", "x", [], {"t": one_row})]))
