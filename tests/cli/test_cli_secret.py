"""The course secret from the command line: created once, kept, refused in
the wrong place; the same secret gives the same grades, another one asks
other questions (and the store regrades)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow


def test_secret_is_created_once_and_shown(run_cli, tmp_path):
    path = tmp_path / "config" / "course-secret"
    first = run_cli(["secret", "--secret", path])
    assert first.code == 0 and "created the course secret" in first.text, first
    assert (path.stat().st_mode & 0o777) == 0o600
    again = run_cli(["secret", "--secret", path])
    assert again.code == 0 and "created the course secret" not in again.text
    fingerprint = again.text.split("fingerprint ")[1].split(")")[0]
    assert fingerprint in first.text and path.read_text().strip() not in again.text   # never the key itself


def test_secret_inside_the_submissions_or_output_folder_is_refused(run_cli, copy_subs, tmp_path):
    subs = copy_subs(tmp_path / "subs", ["correct_vectorized.py"])
    for inside in (subs / "secret", tmp_path / "out" / "secret"):
        run = run_cli(["batch", subs, "--out", tmp_path / "out", "--secret", inside])
        assert run.code == 2 and "keep it elsewhere" in run.text, run
        assert not inside.exists()


def test_same_secret_same_bytes_other_secret_other_questions(run_cli, copy_subs, tmp_path):
    subs = copy_subs(tmp_path / "subs", ["bug_sum_not_mean.py"])
    one, two = tmp_path / "one", tmp_path / "two"
    for out in (tmp_path / "a", tmp_path / "b"):
        assert run_cli(["batch", subs, "--out", out, "--workers", 1, "--secret", one]).code == 0
    a = (tmp_path / "a" / "bug_sum_not_mean" / "result.json").read_bytes()
    assert a == (tmp_path / "b" / "bug_sum_not_mean" / "result.json").read_bytes()
    # another secret: a regrade (the resume key holds the secret's fingerprint) with other numbers,
    # the same verdicts (but training's: how a wrong gradient's run diverges depends on its start)
    run = run_cli(["batch", subs, "--out", tmp_path / "a", "--workers", 1, "--secret", two])
    assert run.code == 0 and "graded 1" in run.text, run
    c = (tmp_path / "a" / "bug_sum_not_mean" / "result.json").read_bytes()
    assert c != a
    verdicts = lambda doc: [(x["id"], x["status"], x["diagnoses"])   # noqa: E731
                            for x in json.loads(doc)["criteria"] if x["id"] != "training"]
    assert verdicts(c) == verdicts(a)
    run_json = json.loads((tmp_path / "a" / "bug_sum_not_mean" / "run.json").read_text())
    assert run_json["questions"] != "public" and two.read_text().strip() not in json.dumps(run_json)
