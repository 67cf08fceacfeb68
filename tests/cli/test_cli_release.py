"""Two audiences, two trees (issue 14, item 3), end to end through `nngrade batch`.

`OUT/<id>/` is the instructor's tree (every criterion, all output);
`OUT/release.students/` holds only what students may see.  The submission
here prints at import (students may see it) and during the hidden training
criterion (a marker and NumPy's "divide by zero" RuntimeWarning: they may
not), and fails the hidden nag-step criterion (heavy-ball), so hidden
feedback exists to leak.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from grader.release import RELEASE_DIR

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
LOAD_MARK = "LOAD-OUTPUT: module imported"
HIDDEN_MARK = "HIDDEN-RUN-OUTPUT: training starts"
WARNING = "divide by zero encountered in log"


def noisy_source() -> str:
    """bug_heavy_ball.py printing at import and inside train() (the hidden training criterion)."""
    src = (REPO / "submissions" / "bug_heavy_ball.py").read_text(encoding="utf-8")
    train = "    def train(self, x, y, num_iterations):\n        losses = []\n"
    assert train in src
    src = src.replace(train, train + f"        print({HIDDEN_MARK!r}); np.log(np.zeros(1))\n")
    return src.replace("import numpy as np\n", f"import numpy as np\nprint({LOAD_MARK!r})\n", 1)


@pytest.fixture(scope="module")
def noisy(tmp_path_factory: pytest.TempPathFactory, run_cli) -> SimpleNamespace:
    root = tmp_path_factory.mktemp("release")
    subs = root / "subs"
    subs.mkdir()
    (subs / "noisy.py").write_text(noisy_source(), encoding="utf-8")
    shutil.copy(REPO / "submissions" / "correct_vectorized.py", subs)
    out = root / "out"
    run = run_cli(["batch", subs, "--out", out, "--workers", "2"])
    assert run.code == 0, run
    result = json.loads((out / "noisy" / "result.json").read_text(encoding="utf-8"))
    return SimpleNamespace(subs=subs, out=out, run=run, result=result)


def hidden_needles(result: dict) -> list[str]:
    """What must not be in any file of the release tree before release:
    hidden criteria's ids (as the pages would write an id) and every line of
    their feedback, and the output printed while they ran."""
    needles = [HIDDEN_MARK, WARNING]
    for c in result["criteria"]:
        if c["visibility"] != "hidden":
            continue
        cid = c["id"]
        needles += [f">{cid}<", f"crit-{cid}\"", f"\"{cid}\"", f"#crit-{cid}"]
        if "-" in cid:
            needles.append(cid)
        needles += [line.strip() for line in c["feedback"].splitlines() if len(line.strip()) > 12]
    return needles


def test_result_records_which_criterion_printed_what(noisy):
    result = noisy.result
    segments = result["stdout_segments"]
    assert sum(s["chars"] for s in segments) == len(result["stdout"])
    assert segments[0]["criterion"] is None and LOAD_MARK in result["stdout"][:segments[0]["chars"]]
    at, by = 0, {}
    for s in segments:
        by.setdefault(s["criterion"], "")
        by[s["criterion"]] += result["stdout"][at:at + s["chars"]]
        at += s["chars"]
    assert HIDDEN_MARK in by["training"] and WARNING in by["training"]
    assert HIDDEN_MARK not in by[None]


def test_release_tree_holds_only_student_views(noisy):
    tree = noisy.out / RELEASE_DIR
    files = sorted(str(p.relative_to(tree)) for p in tree.rglob("*") if p.is_file())
    assert files == ["correct_vectorized/report.html", "index.html", "noisy/report.html"]
    # the instructor's tree keeps everything
    assert sorted(p.name for p in (noisy.out / "noisy").iterdir()) == \
        ["gradescope.json", "report.html", "result.json", "run.json"]


def test_no_file_of_the_release_tree_holds_hidden_results(noisy):
    needles = hidden_needles(noisy.result)
    assert any("heavy" in n.lower() for n in needles)   # the nag-step feedback is among them
    for path in (noisy.out / RELEASE_DIR).rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            leaked = [n for n in needles if n in text]
            assert leaked == [], (path, leaked)
    student = (noisy.out / RELEASE_DIR / "noisy" / "report.html").read_text(encoding="utf-8")
    assert LOAD_MARK in student and "Output printed while hidden criteria ran is not shown" in student
    assert "hidden until release" in student


def test_instructor_view_shows_everything(noisy):
    html = (noisy.out / "noisy" / "report.html").read_text(encoding="utf-8")
    for needle in (HIDDEN_MARK, WARNING, LOAD_MARK, 'id="crit-nag-step"', "instructor view",
                   "printed while hidden criteria ran (training); the student's view leaves it out"):
        assert needle in html, needle
    score = f'{noisy.result["score"]:g}<span class="of"> / 100</span>'
    assert score in html   # the gradebook's total, hidden criteria included


def test_summary_links_the_instructor_view_and_the_release_index(noisy):
    html = (noisy.out / "summary.html").read_text(encoding="utf-8")
    assert 'href="noisy/report.html"' in html
    assert f'href="{RELEASE_DIR}/index.html"' in html and "not released" in html
    index = (noisy.out / RELEASE_DIR / "index.html").read_text(encoding="utf-8")
    assert 'href="noisy/report.html"' in index and "not released" in index
    public = sum(c["score"] for c in noisy.result["criteria"] if c["visibility"] == "public")
    assert f"{public:g} / 54" in index   # the score the student's own report shows
    gradebook = (noisy.out / "gradebook.csv").read_text(encoding="utf-8")
    assert f'{noisy.result["score"]:g}' in gradebook


def test_release_sticks_for_regrades_and_late_submissions(graded_copy, run_cli):
    tree = graded_copy.out / RELEASE_DIR
    withheld = "Hidden until release: the result of this criterion"
    report = tree / "bug_sum_not_mean" / "report.html"
    assert withheld in report.read_text(encoding="utf-8")

    run = run_cli(["batch", graded_copy.subs, "--out", graded_copy.out, "--workers", "1", "--release"])
    assert run.code == 0, run
    n = len(graded_copy.ids)
    assert f"grades released: re-rendering {n} student reports (no regrading)" in run.text, run
    assert f"re-rendered {n}/{n}" in run.text, run
    assert "released: hidden criteria shown" in run.text, run
    assert withheld not in report.read_text(encoding="utf-8")

    # a late submission and an --only regrade, without --release: still released, silently kept
    shutil.copy(REPO / "submissions" / "bug_heavy_ball.py", graded_copy.subs / "late_heavy_ball.py")
    run = run_cli(["batch", graded_copy.subs, "--out", graded_copy.out, "--workers", "1"])
    assert run.code == 0 and "re-rendering" not in run.text, run
    late = (tree / "late_heavy_ball" / "report.html").read_text(encoding="utf-8")
    assert withheld not in late and "heavy" in late.lower()
    run = run_cli(["batch", graded_copy.subs, "--out", graded_copy.out, "--workers", "1",
                   "--only", "bug_sum_not_mean"])
    assert run.code == 0 and "graded 1," in run.text, run
    assert withheld not in report.read_text(encoding="utf-8")
    assert "released" in (tree / "index.html").read_text(encoding="utf-8")

    # withdrawn: every student report withholds again
    run = run_cli(["batch", graded_copy.subs, "--out", graded_copy.out, "--workers", "1", "--unrelease"])
    assert run.code == 0, run
    assert "grades not released: re-rendering" in run.text, run
    for sid in [*graded_copy.ids, "late_heavy_ball"]:
        page = (tree / sid / "report.html").read_text(encoding="utf-8")
        assert withheld in page or "Not graded" in page, sid


def test_release_and_unrelease_exclude_each_other(run_cli, tmp_path):
    run = run_cli(["batch", tmp_path, "--out", tmp_path / "out", "--release", "--unrelease"])
    assert run.code == 2 and "not allowed with" in run.err, run


def test_a_pre_release_tree_batch_gets_its_release_tree(graded_copy, run_cli):
    """A batch graded before the release tree existed (only OUT/<id>/) gets
    both views on the next run, without regrading."""
    shutil.rmtree(graded_copy.out / RELEASE_DIR)
    run = run_cli(["batch", graded_copy.subs, "--out", graded_copy.out, "--workers", "1"])
    assert run.code == 0 and "graded 0," in run.text, run
    for sid in graded_copy.ids:
        assert (graded_copy.out / RELEASE_DIR / sid / "report.html").is_file(), sid
    assert re.search(r"re-rendering \d+ student reports", run.text), run


def test_an_interrupted_release_is_finished_by_the_next_run(graded_copy, run_cli):
    """Ctrl-C while re-rendering: the release is stored at once, and the next
    run (without --release) re-renders every student report again."""
    from grader.batch import run_batch
    from grader.executors import make_executor
    from grader.rubric import load_rubric
    from grader.secret import load_or_create

    seen: list[str] = []

    def stop_after_two(kind, payload):
        if kind == "rerendered":
            seen.append(payload)
            if len(seen) == 2:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch(graded_copy.subs, load_rubric("penguins-silu"), graded_copy.out,
                  executor=make_executor("local", 1, None), release=True, on_event=stop_after_two,
                  secret=load_or_create()[0])   # the suite's course secret, as the CLI loads it
    withheld = "Hidden until release: the result of this criterion"
    pages = {sid: (graded_copy.out / RELEASE_DIR / sid / "report.html").read_text(encoding="utf-8")
             for sid in graded_copy.ids}
    assert sum(withheld in page for page in pages.values()) >= len(pages) - 2 - 1   # half done
    run = run_cli(["batch", graded_copy.subs, "--out", graded_copy.out, "--workers", "1"])
    assert run.code == 0 and f"grades released: re-rendering {len(pages)} student reports" in run.text, run
    for sid in graded_copy.ids:
        assert withheld not in (graded_copy.out / RELEASE_DIR / sid / "report.html").read_text(encoding="utf-8")
