"""`nngrade` usage errors: --version, --help, no command, bad rubric, missing inputs (exit 2)."""

from __future__ import annotations

import re
from pathlib import Path

import grader

SUBMISSIONS = Path(__file__).resolve().parents[2] / "submissions"


def test_cli_version_in_process(run_cli):
    run = run_cli(["--version"])
    assert run.code == 0, run
    assert run.out.strip() == f"nngrade {grader.__version__}"


def test_cli_version_subprocess(run_proc):
    run = run_proc(["--version"], timeout=60)
    assert run.code == 0, run
    assert run.out.strip() == f"nngrade {grader.__version__}"


def test_cli_help_lists_every_command(run_cli):
    run = run_cli(["--help"])
    assert run.code == 0, run
    for command in ("batch", "grade", "check", "kit", "rubric"):
        assert re.search(rf"\b{command}\b", run.out), f"--help does not mention {command}\n{run}"


def test_cli_subcommand_help(run_cli):
    run = run_cli(["batch", "--help"])
    assert run.code == 0, run
    for option in ("--rubric", "--out", "--workers", "--only", "--force", "--release"):
        assert option in run.out, run


def test_cli_no_command_exits_2_with_help(run_proc):
    run = run_proc([], timeout=60)
    assert run.code == 2, run
    assert "usage: nngrade" in run.out + run.err


def test_cli_unknown_command_exits_2(run_cli):
    run = run_cli(["frobnicate"])
    assert run.code == 2, run


def test_cli_unknown_rubric_exits_2_and_names_it(run_cli, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    for argv in (["batch", subs, "--rubric", "no-such-rubric", "--out", tmp_path / "out"],
                 ["check", SUBMISSIONS / "correct_vectorized.py", "--rubric", "no-such-rubric"],
                 ["rubric", "validate", "no-such-rubric"]):
        run = run_cli(argv)
        assert run.code == 2, run
        assert "no-such-rubric" in run.err, run
        assert "Traceback" not in run.out + run.err, run


def test_cli_missing_submissions_folder_exits_2(run_cli, tmp_path):
    missing = tmp_path / "not-there"
    run = run_cli(["batch", missing, "--out", tmp_path / "out"])
    assert run.code == 2, run
    assert "not-there" in run.err, run
    assert not (tmp_path / "out").exists(), "a refused batch should not create its output folder"


def _broken_rubric(tmp_path: Path) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text("id: broken\ntitle: Broken\ncriteria:\n  - {id: a, points: [\n", encoding="utf-8")
    return path


def test_cli_broken_rubric_file_exits_2_with_file_and_line(run_cli, tmp_path):
    rubric = _broken_rubric(tmp_path)
    subs = tmp_path / "subs"
    subs.mkdir()
    run = run_cli(["batch", subs, "--rubric", rubric, "--out", tmp_path / "out"])
    assert run.code == 2, run
    assert re.search(rf"{re.escape(str(rubric))}:\d+", run.text), f"no file:line in the message\n{run}"
    assert "Traceback" not in run.out + run.err, run


def test_cli_rubric_with_schema_errors_names_file_and_line(run_cli, tmp_path):
    rubric = tmp_path / "schema.yaml"
    rubric.write_text("id: x\ntitle: y\nseed: 1\ntotal_points: 100\ncriteria:\n"
                      "  - {id: a, title: A, points: -3, visibility: public, check: gradient}\n", encoding="utf-8")
    run = run_cli(["rubric", "validate", rubric])
    assert run.code == 2, run
    # the bad `points` is on line 6
    assert f"{rubric}:6" in run.text, run
    assert "points" in run.text, run


def test_cli_missing_rubric_file_by_path_exits_2(run_cli, tmp_path):
    run = run_cli(["rubric", "validate", tmp_path / "nope.yaml"])
    assert run.code == 2, run
    assert "nope.yaml" in run.err, run
