"""`nngrade rubric validate|show`."""

from __future__ import annotations

import re


def test_cli_rubric_validate_bundled(run_cli, silu_rubric):
    run = run_cli(["rubric", "validate", "penguins-silu"])
    assert run.code == 0, run
    assert "valid" in run.out and "12 criteria" in run.out, run
    assert len(silu_rubric.criteria) == 12


def test_cli_rubric_show_lists_every_criterion(run_cli, silu_rubric):
    run = run_cli(["rubric", "show", "penguins-silu"])
    assert run.code == 0, run
    for crit in silu_rubric.criteria:
        assert re.search(rf"(?<![\w-]){re.escape(crit.id)}(?![\w-])", run.out), f"{crit.id} missing\n{run}"
    assert "Penguins MLP (SiLU)" in run.out and "total 100 points" in run.out, run


def test_cli_rubric_validate_broken_yaml_exits_2(run_cli, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("id: broken\ntitle: [unclosed\ncriteria: []\n", encoding="utf-8")
    run = run_cli(["rubric", "validate", path])
    assert run.code == 2, run
    assert re.search(rf"{re.escape(str(path))}:\d+", run.text), run
    assert "valid (" not in run.out, run


def test_cli_rubric_validate_a_copy_of_the_bundled_file_by_path(run_cli, tmp_path):
    from grader.rubric import find_rubric

    copy = tmp_path / "mine.yaml"
    copy.write_text(find_rubric("penguins-silu").read_text(encoding="utf-8"), encoding="utf-8")
    run = run_cli(["rubric", "validate", copy])
    assert run.code == 0, run
    assert "12 criteria" in run.out, run
