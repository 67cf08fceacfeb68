"""The kit's command line: the code paths that differ from the instructor's
`nngrade` (the kit's own rubric by default, only `check`, and the platform
note, forced here for macOS and Windows)."""

from __future__ import annotations

import pytest

import grader.cli
from grader import kitcli


@pytest.fixture
def calls(monkeypatch):
    """What the kit passes to the one implementation of `check`."""
    seen: list[list[str]] = []

    def fake_main(argv):
        seen.append(list(argv))
        return 0

    monkeypatch.setattr(grader.cli, "main", fake_main)
    return seen


def test_linux_runs_check_with_the_kits_own_rubric_by_default(calls):
    assert kitcli.main(["check", "nn.py"], platform="linux") == 0
    assert calls == [["check", "nn.py", "--rubric", str(kitcli.KIT_RUBRIC)]]
    assert kitcli.KIT_RUBRIC.parts[-2:] == ("kitdata", "rubric.yaml")


def test_an_explicit_rubric_and_limits_pass_through(calls):
    assert kitcli.main(["check", "nb.ipynb", "--rubric", "rubric.yaml", "--criterion-seconds", "5"],
                       platform="linux") == 0
    assert calls == [["check", "nb.ipynb", "--rubric", "rubric.yaml", "--criterion-seconds", "5"]]


@pytest.mark.parametrize("platform", ["darwin", "win32", "cygwin"])
def test_other_platforms_say_there_is_no_sandbox_and_go_on(calls, platform, capsys):
    assert not kitcli.sandboxed(platform)
    assert kitcli.main(["check", "nn.py"], platform=platform) == 0
    err = capsys.readouterr().err
    assert calls == [["check", "nn.py", "--rubric", str(kitcli.KIT_RUBRIC)]]   # the check runs
    assert err.count("\n") == 1 and f"on {platform} the check runs your code in a plain subprocess" in err


def test_linux_says_nothing_about_the_sandbox(calls, capsys):
    assert kitcli.main(["check", "nn.py"], platform="linux") == 0
    assert capsys.readouterr().err == ""


def test_no_command_prints_help_and_instructor_commands_do_not_exist(calls, capsys):
    assert kitcli.main([], platform="linux") == kitcli.EXIT_USAGE
    assert "check" in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        kitcli.main(["batch", "submissions"], platform="linux")
    assert info.value.code == 2 and calls == []


def test_linux_is_sandboxed():
    assert kitcli.sandboxed("linux") and kitcli.sandboxed()  # this machine
