"""render_report: content, escaping, self-containment, hidden criteria, determinism."""

from __future__ import annotations

import copy
import re
from html.parser import HTMLParser

import pytest

from grader.render.html import render_report

from .fixtures import (
    CRITERIA, HIDDEN_IDS, HIDDEN_SECRETS, make_error_result, make_perfect_result, make_result,
    with_feedback,
)

PUBLIC = [c for c in CRITERIA if c["visibility"] == "public"]


class _Collector(HTMLParser):
    """Collects every URL-bearing attribute and checks the document parses."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "action", "poster", "data", "srcset") and value is not None:
                self.urls.append((tag, name, value))


def _parse(html: str) -> _Collector:
    p = _Collector()
    p.feed(html)
    p.close()
    return p


def _text_only(html: str) -> str:
    return re.sub(r"<svg.*?</svg>", "", html, flags=re.S)


@pytest.fixture(scope="module")
def student_html() -> str:
    return render_report(make_result())


@pytest.fixture(scope="module")
def instructor_html() -> str:
    return render_report(make_result(), audience="instructor")


def test_page_basics(student_html: str) -> None:
    assert student_html.startswith("<!DOCTYPE html>")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in student_html
    assert "<style>" in student_html and "max-width" in student_html
    assert "alice" in student_html and "Penguins MLP (SiLU)" in student_html
    assert "<script" not in student_html.lower().replace("&lt;script", "")


def test_public_score_and_every_public_criterion(student_html: str) -> None:
    # public: 5+5+10+5+6+0+6+0 = 37 of 54; hidden: 5+10+16+15 = 46 points
    assert "37<span class=\"of\"> / 54</span>" in student_html
    assert "score on public criteria: 37 / 54" in student_html
    assert "hidden criteria: 46 points, released later" in student_html
    # the total including hidden criteria (56) must not be shown
    assert ">56<" not in student_html and "56 / 100" not in student_html
    for c in PUBLIC:
        assert c["title"] in student_html
        assert f'id="crit-{c["id"]}"' in student_html


def test_statuses_diagnoses_evidence(student_html: str) -> None:
    for badge in ("badge passed", "badge partial", "badge failed", "badge error", "badge hidden"):
        assert badge in student_html
    assert "Gradient summed over samples, not averaged" in student_html
    assert "How to fix:" in student_html and "x.shape[0]" in student_html
    assert "Softmax overflows for large inputs" in student_html
    # evidence: scalars to 4 significant digits, table rendered
    assert "<dt>relative error vs finite differences</dt>" in student_html
    assert "1.099" in student_html and "1.0986122886681098" not in student_html
    assert "<caption>blocks</caption>" in student_html
    assert "<th class=\"num\">ratio</th>" in student_html
    assert "3.3e-10" in student_html


def test_feedback_keeps_newlines(student_html: str) -> None:
    assert "(S = 280 samples).\nObserved: db0[0] = 0.8414" in student_html
    assert 'class="feedback"' in student_html


def test_svg_plot_present(student_html: str) -> None:
    assert "<svg " in student_html
    assert "loss along a random direction" in student_html


def test_no_external_references(student_html: str, instructor_html: str) -> None:
    for html in (student_html, instructor_html, render_report(make_error_result())):
        assert "http://" not in html and "https://" not in html
        assert "//" not in "".join(v for _, _, v in _parse(html).urls)
        for tag, attr, value in _parse(html).urls:
            assert value.startswith("#") or value.startswith("data:") or not re.match(r"^[a-z]+:", value), \
                (tag, attr, value)
        assert "@import" not in html and "url(http" not in html


def test_escapes_script_in_feedback_and_stdout() -> None:
    evil = "</p><script>alert('feedback')</script><img src=x onerror=alert(1)>"
    res = with_feedback(make_result(), "grad-b0", evil)
    res["stdout"] = "</pre><script>alert('stdout')</script>"
    res["stdout_segments"] = [{"criterion": None, "chars": len(res["stdout"])}]
    res["submission"] = "<script>alert('id')</script>"
    res["criteria"][6]["evidence"]["<b>name</b>"] = "<i>value</i>"
    html = render_report(res)
    assert "<script" not in html.lower()
    assert "<img" not in html and "<b>name</b>" not in html and "<i>value</i>" not in html
    assert "&lt;script&gt;alert(&#39;feedback&#39;)&lt;/script&gt;" in html
    assert "&lt;script&gt;alert(&#39;stdout&#39;)&lt;/script&gt;" in html
    assert "<details>" in html and '<pre class="stdout">' in html


def test_hidden_criteria_reveal_nothing_before_release(student_html: str) -> None:
    for secret in HIDDEN_SECRETS.values():
        assert secret not in student_html
    text = _text_only(student_html)
    # hidden criteria appear with title and max points only: their ids (what final grading checks)
    # are neither shown nor used as anchors
    sections = re.findall(r'<section class="card crit hidden" id="(crit-hidden-\d+)">(.*?)</section>',
                          student_html, flags=re.S)
    assert len(sections) == len(HIDDEN_IDS)
    for anchor, body in sections:
        assert "hidden until release" in body
        assert "<svg" not in body and "diag" not in body and "Evidence" not in body
        assert re.search(r"\d+ points", body)
        assert f'href="#{anchor}"' in student_html   # the bar still links to it
    for cid in HIDDEN_IDS:
        assert f"crit-{cid}" not in student_html and f">{cid}<" not in student_html, cid
    # no hidden diagnoses, evidence or plots anywhere on the page
    assert "heavy-ball" not in text and "Training diverged" not in text
    assert "rel. distance to Nesterov" not in text and "training loss" not in text
    assert "max |theta_1 - expected|" not in text


def test_reveal_hidden_and_instructor_show_everything(instructor_html: str) -> None:
    released = render_report(make_result(), reveal_hidden=True)
    for html in (released, instructor_html):
        for secret in HIDDEN_SECRETS.values():
            assert secret in html
        assert "NAG takes the gradient at the current iterate" in html
        assert "56<span class=\"of\"> / 100</span>" in html
        assert "score on public criteria" not in html
        assert html.count("<svg ") == 2  # loss plot + training plot
    assert "namespaces+rlimits" in instructor_html
    assert "namespaces+rlimits" not in released
    assert "instructor view" in instructor_html


def test_withheld_status_shows_no_score(instructor_html: str) -> None:
    section = re.search(r'id="crit-init">(.*?)</section>', instructor_html, flags=re.S)
    assert section and "withheld" in section.group(1)


def test_submission_error_shown_prominently() -> None:
    html = render_report(make_error_result())
    assert 'id="submission-error"' in html
    top = html.index('id="submission-error"')
    assert top < html.index('id="crit-param-shapes"')
    assert "SyntaxError: expected &#39;:&#39; (nn.py, line 30)" in html
    assert "Syntax error" in html and "py_compile" in html
    assert "0<span class=\"of\"> / 54</span>" in html


def test_no_hidden_criteria_shows_plain_total() -> None:
    res = make_perfect_result()
    for c in res["criteria"]:
        c["visibility"] = "public"
    html = render_report(res)
    assert "100<span class=\"of\"> / 100</span>" in html
    assert "score on public criteria" not in html


def test_deterministic() -> None:
    assert render_report(make_result()) == render_report(make_result())
    assert render_report(make_result(), audience="instructor") == render_report(make_result(), audience="instructor")


def test_input_not_mutated() -> None:
    res = make_result()
    before = copy.deepcopy(res)
    render_report(res, audience="instructor")
    assert repr(res) == repr(before)  # repr: NaN != NaN would break ==


def test_bad_audience() -> None:
    with pytest.raises(ValueError):
        render_report(make_result(), audience="ta")


def test_tolerates_sparse_documents() -> None:
    html = render_report({"submission": "x", "criteria": [{"id": "a"}, {"id": "a", "status": "weird",
                                                                        "evidence": {"l": list(range(500))}}]})
    assert 'id="crit-a"' in html and 'id="crit-a-2"' in html
    assert "(300 more)" in html


def test_student_output_keeps_only_what_public_phases_printed() -> None:
    """stdout_segments decide what a student sees; without usable segments
    and with hidden criteria run, nothing is shown (fail closed)."""
    from grader.release import student_stdout

    res = make_result()
    res["stdout"] = "load\nHIDDEN-A\npublic\nHIDDEN-B"
    res["stdout_segments"] = [{"criterion": None, "chars": 5}, {"criterion": "training", "chars": 9},
                              {"criterion": "grad-b0", "chars": 7}, {"criterion": "nag-step", "chars": 8}]
    assert student_stdout(res) == "load\npublic\n"
    student, instructor = render_report(res), render_report(res, audience="instructor")
    assert "HIDDEN" not in student and "public" in student and "is not shown" in student
    assert instructor.count('class="hidden-out" title=') == 2 and "(training, nag-step)" in instructor
    res["stdout_segments"] = [{"criterion": None, "chars": 3}]   # does not add up
    assert student_stdout(res) == ""
    del res["stdout_segments"]
    assert student_stdout(res) == ""
    public_only = {**res, "criteria": [c for c in res["criteria"] if c["visibility"] == "public"]}
    assert student_stdout(public_only) == res["stdout"]   # no hidden criterion ran: nothing to hide
