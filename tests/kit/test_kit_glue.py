"""A student kit for a glue rubric (penguins-stateful-2021, TEMPLATES.md's
template A): it ships the rubric's glue module and the course's own
skeleton, no reference, and `nngrade check` inside it grades through the
glue: a correct template A nn.py gets full public marks, the skeleton 0
with the student's NotImplementedError, never a grader failure."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from grader.cli import main
from grader.kit import build_kit
from grader.kitpkg import KIT_DATA
from grader.rubric import load_rubric

from test_kit_package import fresh_environment

ROOT = Path(__file__).resolve().parents[2]
STATEFUL = ROOT / "examples" / "stateful"
GLUE = ROOT / "rubrics" / "glue" / "stateful_2021.py"
SKELETON = ROOT / "rubrics" / "skeletons" / "stateful_2021_nn.py"
RUBRIC = "penguins-stateful-2021"


@pytest.fixture(scope="module")
def kit(tmp_path_factory) -> Path:
    return build_kit(load_rubric(RUBRIC), tmp_path_factory.mktemp("glue-kit") / "kit")


def test_the_kit_ships_the_glue_and_the_courses_skeleton_and_its_rubric_points_at_the_glue(kit):
    assert (kit / "glue" / "stateful_2021.py").read_bytes() == GLUE.read_bytes()
    assert (kit / "checker" / "grader" / KIT_DATA / "glue" / "stateful_2021.py").read_bytes() == GLUE.read_bytes()
    assert (kit / "checker" / "grader" / "glue.py").is_file()            # the check path reads glue files
    assert (kit / "nn.py").read_bytes() == SKELETON.read_bytes()         # the course's own, not a generated one
    text = (kit / "rubric.yaml").read_text()
    doc = yaml.safe_load(text)
    assert doc["interface"]["glue"] == "glue/stateful_2021.py" and doc["interface"]["skeleton"] is None
    assert str(ROOT) not in text                                         # no instructor path
    rubric = load_rubric(kit / "rubric.yaml")
    assert Path(rubric.interface.glue) == (kit / "glue" / "stateful_2021.py").resolve()
    installed = load_rubric(kit / "checker" / "grader" / KIT_DATA / "rubric.yaml")
    assert Path(installed.interface.glue).parent == (kit / "checker" / "grader" / KIT_DATA / "glue").resolve()
    assert f'"{KIT_DATA}/glue/*"' in (kit / "pyproject.toml").read_text()   # installed with the package
    assert "`glue/stateful_2021.py`" in (kit / "README.md").read_text()


def test_the_kit_holds_no_reference_and_no_solution(kit):
    names = [p.relative_to(kit).as_posix() for p in kit.rglob("*") if p.is_file()]
    assert not [n for n in names if "reference" in n.split("/") and not n.startswith("checker/reference/")]
    assert sorted(p.name for p in (kit / "checker" / "reference").iterdir()) == ["__init__.py", "architecture.py"]
    for name in names:   # nothing of the correct example is in the kit (the skeleton's bodies are TODOs)
        if name.endswith(".py"):
            assert "np.logaddexp" not in (kit / name).read_text(), name


def test_a_rebuilt_kit_ships_only_its_rubrics_glue(kit, tmp_path):
    copy = tmp_path / "kit"
    shutil.copytree(kit, copy)
    (copy / "glue" / "old_glue.py").write_text("def construct(student, config): pass\n")
    build_kit(load_rubric(RUBRIC), copy)
    assert sorted(p.name for p in (copy / "glue").iterdir()) == ["stateful_2021.py"]
    assert sorted(p.name for p in (copy / "checker" / "grader" / KIT_DATA / "glue").iterdir()) == \
        ["stateful_2021.py"]


def check_in_kit(kit: Path, folder: Path, source: Path, capsys) -> tuple[int, str]:
    """`nngrade check nn.py` against the kit's rubric, on a copy of `source` as nn.py."""
    shutil.copytree(kit, folder)
    shutil.copy(source, folder / "nn.py")
    code = main(["check", str(folder / "nn.py"), "--rubric", str(folder / "rubric.yaml")])
    return code, " ".join(capsys.readouterr().out.split())


def test_check_in_the_kit_gives_a_correct_template_a_solution_full_public_marks(kit, tmp_path, capsys):
    code, out = check_in_kit(kit, tmp_path / "kit", STATEFUL / "correct_vectorized.py", capsys)
    assert code == 0, out
    assert "public score 54/54" in out and "all public checks passed" in out, out


def test_check_of_the_skeleton_itself_is_zero_with_the_students_error_and_no_grader_failure(kit, tmp_path, capsys):
    code, out = check_in_kit(kit, tmp_path / "kit", SKELETON, capsys)
    assert code == 1, out
    assert "public score 0/54" in out and "8 of 8 public checks need work" in out, out
    assert "NotImplementedError" in out and "in init_params" in out, out
    assert "grader failed" not in out and "grader-error" not in out and "grader failure" not in out, out


@pytest.mark.slow
def test_the_installed_glue_kit_checks_from_any_folder(kit, tmp_path):
    """Installed on its own, `nngrade check` with no --rubric uses the
    kit's rubric from the package data, which finds the glue beside it."""
    copy = tmp_path / "kit"
    shutil.copytree(kit, copy)
    python = fresh_environment(tmp_path / "venv")
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-index",
                           "--no-build-isolation", str(copy)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(STATEFUL / "correct_vectorized.py", elsewhere / "nn.py")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NNGRADE_SECRET_FILE")}
    done = subprocess.run([str(tmp_path / "venv" / "bin" / "nngrade"), "check", "nn.py"], capture_output=True,
                          text=True, cwd=elsewhere, env=env, timeout=600)
    out = " ".join(done.stdout.split())
    assert done.returncode == 0 and re.search(r"public score 54/54", out), out + done.stderr
