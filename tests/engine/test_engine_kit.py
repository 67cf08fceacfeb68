"""The student kit: the self-check works from it alone, agrees with the
full grader on every public criterion, and carries nothing hidden."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from grader.engine import grade
from grader.kit import build_kit
from grader.rubric import load_rubric
from grader.submission import discover, submission_id

ROOT = Path(__file__).resolve().parents[2]

BLOCK_REFERENCE = """
import sys

class NoSolution:
    # a student kit's reference package holds its configuration (architecture.py) and nothing else
    def find_spec(self, name, path=None, target=None):
        if name.startswith("reference.") and name != "reference.architecture":
            raise ImportError("no reference solution in a student kit")
        return None

sys.meta_path.insert(0, NoSolution())
from grader.cli import main
code = main(sys.argv[1:])
loaded = sorted(m for m in sys.modules if m.startswith("reference"))
assert loaded in ([], ["reference", "reference.architecture"]), loaded
sys.exit(code)
"""

@pytest.fixture(scope="module")
def kit(tmp_path_factory, silu_rubric):
    return build_kit(silu_rubric, tmp_path_factory.mktemp("kit"))


def test_kit_contents_reveal_no_hidden_criterion(kit, silu_rubric):
    assert {p.name for p in kit.iterdir()} == {"rubric.yaml", "answers.json", "nn.py", "README.md", "data",
                                                "pyproject.toml", "checker"}
    text = (kit / "rubric.yaml").read_text()
    data = yaml.safe_load(text)
    hidden = [c for c in silu_rubric.criteria if c.visibility == "hidden"]
    assert [c["id"] for c in data["criteria"]] == [c.id for c in silu_rubric.public_criteria]
    for crit in hidden:
        assert f"id: {crit.id}\n" not in text and f"check: {crit.check}\n" not in text  # no ids, no check kinds
    assert "iterations" not in text and "accuracy" not in text     # no hidden parameters
    assert [h["points"] for h in data["hidden_summary"]] == [c.points for c in hidden]
    assert (kit / "data" / "train.csv").read_text().count("\n") == 281   # header + 280 rows
    compile((kit / "nn.py").read_text(), "nn.py", "exec")


@pytest.mark.slow
@pytest.mark.parametrize("path", discover(ROOT / "submissions"), ids=submission_id)
def test_kit_check_agrees_with_the_full_grader(kit, silu_rubric, path, course_secret):
    full = grade(path, silu_rubric, public_only=True).result
    from_kit = grade(path, load_rubric(kit / "rubric.yaml"), public_only=True).result
    public = lambda r: [(c["id"], c["status"], c["score"], c["diagnoses"], c["feedback"])   # noqa: E731
                        for c in r["criteria"] if c["visibility"] == "public"]
    assert public(from_kit) == public(full)
    assert from_kit["error"] == full["error"]
    # final grading asks other (secret) questions: the same verdicts, other numbers
    final = grade(path, silu_rubric, public_only=True, secret=course_secret).result
    verdicts = lambda r: [(c["id"], c["status"], c["diagnoses"])   # noqa: E731
                          for c in r["criteria"] if c["visibility"] == "public"]
    assert verdicts(from_kit) == verdicts(final)


@pytest.mark.slow
def test_kit_check_runs_without_the_reference_solution(kit, tmp_path):
    student = kit / "nn.py"
    student.write_text((ROOT / "submissions" / "bug_sum_not_mean.py").read_text())
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", BLOCK_REFERENCE, "check", str(student), "--rubric",
                           str(kit / "rubric.yaml")], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "S = 5 times" in proc.stdout
    assert "4 hidden criteria" in proc.stdout
    student.write_text((ROOT / "submissions" / "correct_vectorized.py").read_text())
    proc = subprocess.run([sys.executable, "-c", BLOCK_REFERENCE, "check", str(student), "--rubric",
                           str(kit / "rubric.yaml")], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "all public checks passed" in proc.stdout
