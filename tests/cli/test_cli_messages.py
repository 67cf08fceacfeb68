"""Rough edges of the command line (issue 14, item 6): rubric list / full
rubric show, --only with a file name or a typo, --workers 0, a folder named
like a rubric id, and `grade` of a syntax error printing its message once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from grader.batch import resolve_only
from grader.rubric import RubricError, bundled_ids, find_rubric, load_rubric, looks_like_path
from grader.submission import SubmissionError

SUBMISSIONS = Path(__file__).resolve().parents[2] / "submissions"


def test_rubric_list_names_every_bundled_rubric_with_title_and_points(run_cli):
    run = run_cli(["rubric", "list"])
    assert run.code == 0, run
    assert len(bundled_ids()) >= 7
    for rid in bundled_ids():
        rubric = load_rubric(rid)
        assert rid in run.out, run
        assert rubric.title.split()[0] in run.out
        assert re.search(rf"{re.escape(rid)}\s*│.*│\s*{len(rubric.criteria)}\s*│\s*{rubric.total_points:g}\s*│",
                         run.out), run
    assert run_cli(["rubric", "list", "penguins-silu"]).code == 2
    missing = run_cli(["rubric", "show"])
    assert missing.code == 2 and "rubric list" in missing.err


def test_rubric_show_gives_every_setting(run_cli):
    run = run_cli(["rubric", "show", "leakyrelu-elasticnet"])
    assert run.code == 0, run
    rubric = load_rubric("leakyrelu-elasticnet")
    opt, init = rubric.assignment.optimizer, rubric.assignment.init
    for expected in (f"lr {opt.lr:g}", f"momentum {opt.momentum:g}", f"schedule {opt.schedule}",
                     f"std {init.std:g}", "alpha 0.01", "l1 {W0 0.001", f"criterion_seconds {rubric.limits.criterion_seconds:g}",
                     f"memory_mb {rubric.limits.memory_mb}", "bias_layouts [column, flat]", "iterations 300",
                     "grad_rel 1e-05"):
        assert expected in run.text, (expected, run)
    assert re.search(rf"seed\s*│\s*{rubric.seed}\b", run.out), run
    assert "total 100 points" in run.out


def test_workers_zero_is_a_usage_error_with_advice(run_cli, tmp_path):
    (tmp_path / "subs").mkdir()
    run = run_cli(["batch", tmp_path / "subs", "--out", tmp_path / "out", "--workers", "0"])
    assert run.code == 2 and "--workers 0" in run.err and "at least 1" in run.err, run
    assert not (tmp_path / "out").exists()


def test_only_accepts_the_file_name_and_suggests_close_ids(tmp_path):
    paths = [tmp_path / "bug_loss_sum.py", tmp_path / "bug_sum_not_mean.py", tmp_path / "alice"]
    ids = ["bug_loss_sum", "bug_sum_not_mean", "alice"]
    assert resolve_only(["bug_loss_sum.py", "alice", "bug_sum_not_mean"], paths, ids, tmp_path) == \
        ["bug_loss_sum", "alice", "bug_sum_not_mean"]
    with pytest.raises(SubmissionError) as err:
        resolve_only(["bug_los_sum"], paths, ids, tmp_path)
    assert "did you mean bug_loss_sum?" in err.value.message
    with pytest.raises(SubmissionError) as err:
        resolve_only(["bug_loss_summ.py"], paths, ids, tmp_path)
    assert "did you mean bug_loss_sum" in err.value.message
    with pytest.raises(SubmissionError) as err:
        resolve_only(["zzzz"], paths, ids, tmp_path)
    assert "did you mean" not in err.value.message and "file name" in err.value.message


def test_only_with_a_typo_fails_before_grading(run_cli, copy_subs, tmp_path):
    subs = copy_subs(tmp_path / "subs", ["bug_loss_sum.py"])
    run = run_cli(["batch", subs, "--out", tmp_path / "out", "--only", "bug_los_sum"])
    assert run.code == 2 and "did you mean bug_loss_sum?" in run.text, run
    assert not list((tmp_path / "out").glob("bug_*"))


def test_a_folder_named_like_a_rubric_id_does_not_shadow_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "penguins-silu").mkdir()
    assert find_rubric("penguins-silu").name == "penguins-silu.yaml"
    assert not looks_like_path("penguins-silu")
    assert looks_like_path("./penguins-silu") and looks_like_path("my.yaml") and looks_like_path("a/b")
    with pytest.raises(RubricError, match="it is a folder"):
        find_rubric("./penguins-silu")
    (tmp_path / "myrubric").write_text(find_rubric("penguins-silu").read_text(encoding="utf-8"), encoding="utf-8")
    assert looks_like_path("myrubric") and find_rubric("myrubric") == Path("myrubric")


def test_grade_of_a_syntax_error_prints_the_message_once_and_a_total(run_cli, tmp_path):
    run = run_cli(["grade", SUBMISSIONS / "bug_syntax_error.py", "--out", tmp_path / "out"])
    assert run.code == 0, run
    assert run.out.count("expected ':'") == 1, run
    assert re.search(r"total\s*│\s*0/100", run.out), run
    assert "Syntax error (syntax-error)" in run.out and "py_compile" in run.out
