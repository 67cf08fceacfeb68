"""render_summary: class statistics, histogram, pass rates, diagnoses, errors, table."""

from __future__ import annotations

import re

import pytest

from grader.render.summary import class_statistics, histogram, render_summary

from .fixtures import CRITERIA, RUBRIC_TITLE, make_class


@pytest.fixture(scope="module")
def html() -> str:
    return render_summary(make_class(), rubric_title=RUBRIC_TITLE, criteria=CRITERIA)


def _stat(html: str, name: str) -> str:
    m = re.search(rf'id="stat-{name}">([^<]*)<', html)
    assert m, name
    return m.group(1)


def test_statistics_numbers(html: str) -> None:
    # scores: alice 56, bob 100, carol 0, dave 0, erin 60
    assert _stat(html, "n") == "5"
    assert _stat(html, "mean") == "43.2"
    assert _stat(html, "median") == "56"
    assert _stat(html, "min") == "0"
    assert _stat(html, "max") == "100"
    assert class_statistics(make_class()) == {"n": 5, "mean": 43.2, "median": 56.0, "min": 0.0, "max": 100.0}
    assert class_statistics([])["n"] == 0


def test_histogram_bins() -> None:
    labels, counts = histogram([0, 0, 56, 60, 100], 100.0)
    assert len(labels) == 10 and labels[0] == "0–10" and labels[-1] == "90–100"
    assert counts == [2, 0, 0, 0, 0, 1, 1, 0, 0, 1]  # 100 lands in the last bin
    assert sum(histogram([5.5, 99.99, -1, 120], 100.0)[1]) == 4


def test_histogram_svg_and_self_contained(html: str) -> None:
    assert "<svg " in html and "Score distribution" in html
    assert "http://" not in html and "https://" not in html
    assert "<script" not in html.lower()


def test_per_criterion_pass_rates(html: str) -> None:
    rows = re.findall(r"<tr>\s*<td>([^<]+)<br><span class=\"crit-id mono\">([^<]+)</span></td>(.*?)</tr>",
                      html, flags=re.S)
    by_id = {cid.split(" ")[0]: body for _, cid, body in rows}
    assert set(by_id) == {c["id"] for c in CRITERIA}
    # grad-b0: passed only by bob -> 20 %; param-shapes: alice, bob, erin -> 60 %
    assert "20% passed" in by_id["grad-b0"]
    assert "60% passed" in by_id["param-shapes"]
    nums = re.findall(r'<td class="num">([^<]*)</td>', by_id["forward"])
    assert nums == ["15", "8", "2", "1", "0", "2"]  # points, mean, passed, partial, failed, error


def test_frequent_diagnoses_with_links(html: str) -> None:
    section = html[html.index('id="diagnoses"'):html.index('id="errors"')]
    order = re.findall(r'<li id="diag-([^"]+)">', section)
    assert order[:2] == ["sum-not-mean", "heavy-ball"]  # 2 submissions each, then by criteria count
    item = re.search(r'<li id="diag-sum-not-mean">(.*?)</li>', section, flags=re.S).group(1)
    assert '<a href="alice/report.html">alice</a>' in item and '<a href="erin/report.html">erin</a>' in item
    assert "2 submissions · 5 criteria" in item


def test_errored_and_timed_out_listed(html: str) -> None:
    section = html[html.index('id="errors"'):html.index('id="submissions"')]
    assert "carol" in section and "dave" in section and "alice" not in section
    assert "SyntaxError: expected &#39;:&#39; (nn.py, line 30)" in section
    assert "Time limit of 60 s exceeded" in section
    assert "Time limit exceeded" in section


def test_submission_table_sorted_with_status_cells(html: str) -> None:
    section = html[html.index('id="submissions"'):]
    ids = re.findall(r'<td><a class="mono" href="[^"]+">([^<]+)</a>', section)
    assert ids == ["alice", "bob", "carol", "dave", "erin"]
    alice_row = section[section.index(">alice<"):section.index(">bob<")]
    cells = re.findall(r'<td class="cell ([a-z]+)"', alice_row)
    assert cells == ["passed", "passed", "hidden", "partial", "passed", "passed", "failed", "passed",
                     "error", "passed", "failed", "partial"]


def test_custom_href_and_determinism() -> None:
    results = make_class()
    a = render_summary(results, rubric_title=RUBRIC_TITLE, criteria=CRITERIA,
                       report_href=lambda sid: f"reports/{sid}.html")
    b = render_summary(list(reversed(make_class())), rubric_title=RUBRIC_TITLE, criteria=CRITERIA,
                       report_href=lambda sid: f"reports/{sid}.html")
    assert a == b
    assert 'href="reports/alice.html"' in a and "/report.html" not in a


def test_empty_class() -> None:
    html = render_summary([], rubric_title="Empty", criteria=CRITERIA)
    assert 'id="stat-n">0<' in html and "Every submission ran." in html


def test_links_are_relative_and_names_are_text() -> None:
    """Names are data: an id that looks like a URL (a store written before
    ids were sanitized) still gives a relative, percent-encoded link, and the
    name as handed in is shown as escaped text."""
    from .fixtures import make_error_result

    odd = make_class()
    odd[0] = {**odd[0], "submission": "javascript:alert(document.domain)"}
    odd[1] = {**odd[1], "submission": "x~0123456789ab", "name": '<img src=x onerror="alert(1)">'}
    odd.append(make_error_result("evil/../../etc", "syntax-error", "boom"))
    html = render_summary(odd, rubric_title=RUBRIC_TITLE, criteria=CRITERIA)
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs
    for h in hrefs:
        assert not re.match(r"^\s*[A-Za-z][A-Za-z0-9+.-]*:", h), h   # never a scheme
        assert not h.startswith(("/", "\\")) and ".." not in h.split("/"), h
    assert 'href="javascript%3Aalert%28document.domain%29/report.html"' in html
    assert 'href="evil%2F..%2F..%2Fetc/report.html"' in html
    assert 'href="x~0123456789ab/report.html"' in html
    assert "<img" not in html and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
