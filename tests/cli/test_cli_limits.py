"""Limits from the command line override the rubric's, and are validated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_bad_limit_is_a_usage_error(capsys):
    code = main(["check", str(ROOT / "submissions" / "correct_vectorized.py"), "--memory-mb", "10"])
    assert code == 2
    assert "--memory-mb" in capsys.readouterr().err


@pytest.mark.slow
def test_limits_reach_the_sandbox(tmp_path):
    noisy = tmp_path / "noisy.py"
    noisy.write_text((ROOT / "submissions" / "correct_vectorized.py").read_text()
                     + "\nfor i in range(5000):\n    print('chatty line', i)\n")
    slow = tmp_path / "slow.py"
    slow.write_text((ROOT / "submissions" / "correct_vectorized.py").read_text().replace(
        "    def back_propagate(self, x, y):\n", "    def back_propagate(self, x, y):\n        while True: pass\n"))
    out = tmp_path / "out"
    assert main(["grade", str(noisy), "--out", str(out), "--output-kb", "1"]) == 0
    result = json.loads((out / "noisy" / "result.json").read_text())
    assert result["score"] == 100.0
    assert len(result["stdout"].encode()) < 1024 + 200 and "truncated" in result["stdout"]
    assert main(["grade", str(slow), "--out", str(out), "--criterion-seconds", "1"]) == 0
    result = json.loads((out / "slow" / "result.json").read_text())
    by_id = {c["id"]: c for c in result["criteria"]}
    assert by_id["grad-W0"]["status"] == "error" and by_id["grad-W0"]["diagnoses"] == ["timeout"]
    assert by_id["forward"]["status"] == "passed"
