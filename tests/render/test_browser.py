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

from .fixtures import CRITERIA, RUBRIC_TITLE, make_class, make_result

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
    needles = ["37", "/ 54", "hidden until release"] + [c["id"] for c in result["criteria"]]
    _render_and_check(html, tmp_path, "student", needles, sizes=("400,1600",))


def test_summary_in_chromium(tmp_path: Path) -> None:
    html = render_summary(make_class(), rubric_title=RUBRIC_TITLE, criteria=CRITERIA)
    needles = ["43.2", "alice", "erin"] + [c["id"] for c in CRITERIA]
    _render_and_check(html, tmp_path, "summary", needles, sizes=("1200,2000",))
