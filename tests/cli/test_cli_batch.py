"""`nngrade batch`: every output file, their agreement, determinism, grader-side failures."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest

from grader.render.gradescope import validate_gradescope
from grader.release import RELEASE_DIR

REPO = Path(__file__).resolve().parents[2]
SUBMISSIONS = REPO / "submissions"
PER_SUBMISSION_FILES = ("result.json", "report.html", "gradescope.json", "run.json")
CLASS_FILES = ("gradebook.csv", "gradebook_canvas.csv", "summary.html", "nngrade.sqlite")


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def results(out: Path, ids: list[str]) -> dict[str, dict]:
    return {sid: json.loads((out / sid / "result.json").read_text(encoding="utf-8")) for sid in ids}


def expected_ids(folder: Path) -> list[str]:
    """Submission ids as the README defines them (file or folder name)."""
    ids = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith((".", "_")):
            continue
        if entry.is_dir():
            ids.append(entry.name)
        elif entry.suffix in (".py", ".ipynb", ".zip"):
            ids.append(entry.stem)
    return sorted(ids)


# -- one batch of five, graded once (fixture small_batch) --------------------------

def test_cli_batch_exit_code_and_summary_lines(small_batch):
    run = small_batch.run
    assert run.code == 0, run
    n = len(small_batch.ids)
    assert f"{n} to grade, 0 unchanged" in run.out, run
    assert f"graded {n}, unchanged 0, grader failures 0" in run.out, run
    out = small_batch.out.resolve()
    assert f"{out}/<id>/report.html" in run.out, run
    assert str(out / "summary.html") in run.out, run
    assert str(out / "gradebook.csv") in run.out, run
    for sid in small_batch.ids:
        assert f"{sid}: " in run.out, f"no progress line for {sid}\n{run}"
    assert "Traceback" not in run.out + run.err, run


def test_cli_batch_writes_every_file(small_batch):
    out = small_batch.out
    for sid in small_batch.ids:
        for name in PER_SUBMISSION_FILES:
            path = out / sid / name
            assert path.is_file() and path.stat().st_size > 0, f"missing {path}"
    for name in CLASS_FILES:
        assert (out / name).is_file(), f"missing {out / name}"
    # one folder per student, plus the release tree (grader/release.py) holding their reports' student view
    assert sorted(p.name for p in out.iterdir() if p.is_dir() and p.name != RELEASE_DIR) == small_batch.ids
    assert sorted(p.name for p in (out / RELEASE_DIR).iterdir() if p.is_dir()) == small_batch.ids


def test_cli_batch_result_documents(small_batch, silu_rubric):
    docs = results(small_batch.out, small_batch.ids)
    ids = [c.id for c in silu_rubric.criteria]
    for sid, doc in docs.items():
        assert doc["submission"] == sid
        assert doc["rubric"] == "penguins-silu" and doc["scope"] == "all"
        assert [c["id"] for c in doc["criteria"]] == ids
        assert doc["score"] == pytest.approx(sum(c["score"] for c in doc["criteria"]))
        assert doc["max_score"] == 100
        assert all(c["status"] != "hidden" for c in doc["criteria"]), "a batch grades hidden criteria too"
    for sid in ("correct_vectorized", "correct_notebook", "correct_folder"):
        assert docs[sid]["score"] == 100, (sid, [c for c in docs[sid]["criteria"] if c["status"] != "passed"])
    assert docs["bug_sum_not_mean"]["score"] < 100
    assert {"sum-not-mean"} <= {d for c in docs["bug_sum_not_mean"]["criteria"] for d in c["diagnoses"]}
    assert docs["bug_syntax_error"]["score"] == 0
    assert docs["bug_syntax_error"]["error"]["kind"] == "syntax-error"


def test_cli_batch_gradescope_files_are_valid(small_batch):
    for sid in small_batch.ids:
        doc = json.loads((small_batch.out / sid / "gradescope.json").read_text(encoding="utf-8"))
        assert validate_gradescope(doc) == [], (sid, validate_gradescope(doc))
        result = json.loads((small_batch.out / sid / "result.json").read_text(encoding="utf-8"))
        assert doc["score"] == pytest.approx(result["score"])
        assert len(doc["tests"]) == len(result["criteria"])


def test_cli_batch_gradebook_matches_results(small_batch, silu_rubric):
    rows = read_csv(small_batch.out / "gradebook.csv")
    assert [r["submission"] for r in rows] == small_batch.ids, "one row per submission, sorted"
    criterion_ids = [c.id for c in silu_rubric.criteria]
    header = list(rows[0].keys())
    for cid in criterion_ids:
        assert cid in header, f"no gradebook column for criterion {cid}: {header}"
    docs = results(small_batch.out, small_batch.ids)
    for row in rows:
        doc = docs[row["submission"]]
        assert float(row["score"]) == pytest.approx(doc["score"], abs=0.005), row
        assert float(row["max_score"]) == pytest.approx(doc["max_score"], abs=0.005), row
        for crit in doc["criteria"]:
            assert float(row[crit["id"]]) == pytest.approx(crit["score"], abs=0.005), (row["submission"], crit["id"])
    assert "syntax-error" in next(r for r in rows if r["submission"] == "bug_syntax_error")["error"]


def test_cli_batch_canvas_gradebook(small_batch):
    rows = read_csv(small_batch.out / "gradebook_canvas.csv")
    assert rows[0]["Student"] == "Points Possible"
    students = {r["Student"]: r for r in rows[1:]}
    assert sorted(students) == small_batch.ids
    docs = results(small_batch.out, small_batch.ids)
    score_column = [k for k in rows[0] if k.startswith("nngrade ")]
    assert len(score_column) == 1, rows[0].keys()
    for sid, row in students.items():
        assert row["SIS Login ID"] == sid
        assert float(row[score_column[0]]) == pytest.approx(docs[sid]["score"], abs=0.005)


def test_cli_batch_summary_mentions_every_submission(small_batch):
    html = (small_batch.out / "summary.html").read_text(encoding="utf-8")
    for sid in small_batch.ids:
        assert sid in html, f"summary.html does not mention {sid}"


def test_cli_batch_store_has_one_row_per_submission(small_batch):
    db = sqlite3.connect(f"file:{small_batch.out / 'nngrade.sqlite'}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT submission, result FROM grades ORDER BY submission").fetchall()
    finally:
        db.close()
    assert [r[0] for r in rows] == small_batch.ids
    docs = results(small_batch.out, small_batch.ids)
    for sid, text in rows:
        assert json.loads(text)["score"] == docs[sid]["score"]


# -- determinism ---------------------------------------------------------------

def test_cli_batch_is_deterministic(small_batch, run_proc, tmp_path):
    """Same folder, another OUT, another executor path (1 worker, in a real
    subprocess): identical bytes everywhere but run.json and the store."""
    other = tmp_path / "again"
    run = run_proc(["batch", small_batch.subs, "--out", other, "--workers", "1"])
    assert run.code == 0, run
    for sid in small_batch.ids:
        for name in ("result.json", "gradescope.json", "report.html"):
            a, b = small_batch.out / sid / name, other / sid / name
            assert a.read_bytes() == b.read_bytes(), f"{sid}/{name} differs between two batches"
    for name in ("gradebook.csv", "gradebook_canvas.csv", "summary.html"):
        assert (small_batch.out / name).read_bytes() == (other / name).read_bytes(), f"{name} differs"


# -- a grader-side failure -------------------------------------------------------

def test_cli_batch_grader_failure_does_not_stop_the_batch(run_cli, copy_subs, tmp_path, monkeypatch):
    import grader.batch

    names = ("bug_sum_not_mean.py", "bug_syntax_error.py", "correct_vectorized.py")
    subs = copy_subs(tmp_path / "subs", names)
    out = tmp_path / "out"
    real_grade = grader.batch.grade

    def flaky_grade(path, rubric, **kwargs):
        if Path(path).stem == "bug_sum_not_mean":
            raise RuntimeError("simulated grader crash")
        return real_grade(path, rubric, **kwargs)

    monkeypatch.setattr(grader.batch, "grade", flaky_grade)
    # --workers 1 runs the tasks in this process, so the patch applies; the
    # failing submission sorts first, so the batch must go on past it
    run = run_cli(["batch", subs, "--out", out, "--workers", "1"])
    assert run.code == 1, run
    assert "graded 2, unchanged 0, grader failures 1" in run.out, run
    assert "grader failure bug_sum_not_mean: RuntimeError: simulated grader crash" in run.text, run
    for sid in ("bug_syntax_error", "correct_vectorized"):
        assert (out / sid / "result.json").is_file(), sid
    assert not (out / "bug_sum_not_mean" / "result.json").exists()
    rows = read_csv(out / "gradebook.csv")
    assert [r["submission"] for r in rows] == ["bug_syntax_error", "correct_vectorized"]
    assert (out / "summary.html").is_file()

    # fixed grader: the re-run grades only the one that failed
    monkeypatch.setattr(grader.batch, "grade", real_grade)
    again = run_cli(["batch", subs, "--out", out, "--workers", "1"])
    assert again.code == 0, again
    assert "graded 1, unchanged 2, grader failures 0" in again.out, again
    assert (out / "bug_sum_not_mean" / "result.json").is_file()
    assert len(read_csv(out / "gradebook.csv")) == 3


# -- the whole sample folder, once ---------------------------------------------

@pytest.fixture(scope="module")
def whole_batch(run_proc, tmp_path_factory):
    """`nngrade batch submissions` in a real subprocess (default workers), once."""
    out = tmp_path_factory.mktemp("cli-whole-batch") / "out"
    run = run_proc(["batch", SUBMISSIONS, "--out", out], timeout=600)
    return run, out, expected_ids(SUBMISSIONS)


@pytest.mark.slow
def test_cli_batch_whole_submissions_folder(whole_batch):
    run, out, ids = whole_batch
    assert len(ids) >= 25, ids
    assert run.code == 0, run
    assert f"graded {len(ids)}, unchanged 0, grader failures 0" in run.out, run
    for sid in ids:
        for name in PER_SUBMISSION_FILES:
            assert (out / sid / name).is_file(), f"missing {sid}/{name}"
        gradescope = json.loads((out / sid / "gradescope.json").read_text(encoding="utf-8"))
        assert validate_gradescope(gradescope) == [], sid
    for name in CLASS_FILES:
        assert (out / name).is_file(), name
    assert sorted(p.name for p in out.iterdir() if p.is_dir() and p.name != RELEASE_DIR) == ids
    assert all((out / RELEASE_DIR / sid / "report.html").is_file() for sid in ids)
    rows = read_csv(out / "gradebook.csv")
    assert [r["submission"] for r in rows] == ids
    docs = results(out, ids)
    for row in rows:
        assert float(row["score"]) == pytest.approx(docs[row["submission"]]["score"], abs=0.005)
    canvas = read_csv(out / "gradebook_canvas.csv")
    assert sorted(r["Student"] for r in canvas[1:]) == ids
    summary = (out / "summary.html").read_text(encoding="utf-8")
    assert all(sid in summary for sid in ids)


@pytest.mark.slow
def test_cli_batch_whole_folder_matches_expected_yaml(whole_batch):
    """The outcomes predicted in submissions/EXPECTED.yaml, seen through the CLI's files."""
    expected_file = SUBMISSIONS / "EXPECTED.yaml"
    if not expected_file.is_file():
        pytest.skip("submissions/EXPECTED.yaml not written yet")
    import yaml

    run, out, ids = whole_batch
    assert run.code == 0, run
    expected = yaml.safe_load(expected_file.read_text(encoding="utf-8"))
    assert sorted(expected) == ids, "EXPECTED.yaml and the submissions folder disagree on the ids"
    docs = results(out, ids)
    problems = []
    for sid, exp in sorted(expected.items()):
        doc = docs[sid]
        if "score" in exp and doc["score"] != pytest.approx(exp["score"], abs=0.005):
            problems.append(f"{sid}: score {doc['score']:g}, expected {exp['score']:g}")
        kind = (doc.get("error") or {}).get("kind")
        if kind != exp.get("error"):
            problems.append(f"{sid}: error {kind!r}, expected {exp.get('error')!r}")
        failed, unpinned = set(exp.get("failed") or []), set(exp.get("unpinned") or [])
        crits = {c["id"]: c for c in doc["criteria"]}
        for cid, crit in crits.items():
            if cid in failed and crit["status"] == "passed":
                problems.append(f"{sid}/{cid}: passed, expected not to")
            if cid not in failed and cid not in unpinned and crit["status"] != "passed":
                problems.append(f"{sid}/{cid}: {crit['status']}, expected passed ({crit['feedback'][:100]})")
        for cid, wanted in (exp.get("diagnoses") or {}).items():
            missing = set(wanted) - set(crits[cid]["diagnoses"])
            if missing:
                problems.append(f"{sid}/{cid}: diagnoses {crits[cid]['diagnoses']}, missing {sorted(missing)}")
    assert problems == [], "\n".join(problems)
