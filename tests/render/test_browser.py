"""Render the report and the class summary in headless Chromium: DOM and screenshot.

Needs ``chromium`` (or ``chromium-browser``) on PATH; skipped otherwise. Run with
``python3 -m pytest -m browser tests/render``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from grader.render.html import render_report
from grader.render.summary import render_summary

from .fixtures import CRITERIA, HIDDEN_SECRETS, RUBRIC_TITLE, make_class, make_result

pytestmark = pytest.mark.browser

TIMEOUT = 120  # seconds per chromium run


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("headless browser test: neither 'chromium' nor 'chromium-browser' is on PATH "
                "(install it, e.g. apt-get install chromium)")


def _run(page: Path, tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--hide-scrollbars", f"--user-data-dir={tmp / 'profile'}", *extra, page.resolve().as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, check=False)


def _render_and_check(html: str, tmp_path: Path, name: str, must_contain: list[str],
                      sizes: tuple[str, ...] = ("1200,2000", "400,1600")) -> None:
    page = tmp_path / f"{name}.html"
    page.write_text(html, encoding="utf-8")
    dom = _run(page, tmp_path, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    for needle in must_contain:
        assert needle in dom.stdout, needle
    assert "<svg" in dom.stdout
    for size in sizes:
        png = tmp_path / f"{name}-{size.replace(',', 'x')}.png"
        shot = _run(page, tmp_path, f"--screenshot={png}", f"--window-size={size}")
        assert shot.returncode == 0, shot.stderr[-2000:]
        assert png.exists(), shot.stderr[-2000:]
        assert png.stat().st_size > 10_000, png.stat().st_size


def test_report_in_chromium(tmp_path: Path) -> None:
    result = make_result()
    html = render_report(result, audience="instructor")
    needles = ["56", "/ 100"] + [c["id"] for c in result["criteria"]]
    _render_and_check(html, tmp_path, "report", needles)


def test_student_report_in_chromium(tmp_path: Path) -> None:
    result = make_result()
    html = render_report(result)
    needles = ["37", "/ 54", "hidden until release"] + [c["id"] for c in result["criteria"]
                                                         if c["visibility"] == "public"]
    _render_and_check(html, tmp_path, "student", needles, sizes=("400,1600",))


def _dom(html: str, tmp_path: Path, name: str) -> str:
    page = tmp_path / f"{name}.html"
    page.write_text(html, encoding="utf-8")
    dom = _run(page, tmp_path, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "</main>" in dom.stdout   # the whole page was loaded
    return dom.stdout


def test_instructor_and_student_view_of_one_submission(tmp_path: Path) -> None:
    """The same result in both views, as the browser has them: what hidden
    criteria found, their ids and the output printed while they ran are in
    the instructor's view and absent from the student's."""
    from grader.outputs import write_atomic
    from grader.release import write_student_report

    result = make_result()
    loading, hidden_run = "loaded the network\n", "HIDDEN-RUN: RuntimeWarning: divide by zero encountered in log\n"
    result["stdout"] = loading + hidden_run
    result["stdout_segments"] = [{"criterion": None, "chars": len(loading)},
                                 {"criterion": "training", "chars": len(hidden_run)}]
    out = tmp_path / "out"
    write_atomic(out / "s1" / "report.html", render_report(result, audience="instructor"))
    student_page = write_student_report(result, out, released=False)
    instructor = _dom((out / "s1" / "report.html").read_text(encoding="utf-8"), tmp_path, "instructor")
    student = _dom(student_page.read_text(encoding="utf-8"), tmp_path, "student")
    hidden = [*HIDDEN_SECRETS.values(), "HIDDEN-RUN", 'id="crit-gd-step"', 'id="crit-nag-step"',
              'id="crit-training"', ">nag-step", ">gd-step"]
    for needle in hidden:
        assert needle in instructor, needle
        assert needle not in student, needle
    for needle in ("loaded the network", "grad-b0", "Gradient of b0"):   # public content: in both
        assert needle in instructor and needle in student, needle
    assert "56<span class=\"of\"> / 100</span>" in instructor and "37<span class=\"of\"> / 54</span>" in student


def test_summary_in_chromium(tmp_path: Path) -> None:
    html = render_summary(make_class(), rubric_title=RUBRIC_TITLE, criteria=CRITERIA)
    needles = ["43.2", "alice", "erin"] + [c["id"] for c in CRITERIA]
    _render_and_check(html, tmp_path, "summary", needles, sizes=("1200,2000",))
