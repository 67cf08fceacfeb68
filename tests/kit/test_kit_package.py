"""The student kit as an artefact: its file list holds no reference code, no
hidden criterion and no secret; it installs on its own into a fresh
environment (offline) and its `nngrade check` names a mistake."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from grader.answers import compute
from grader.cli import main
from grader.kit import SKELETON_ASIDE, build_kit
from grader.kitpkg import KIT_DATA, checker_files, reference_files
from grader.rubric import BUNDLED, load_rubric

ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = ROOT / "submissions"
RUBRICS = sorted(p.stem for p in BUNDLED.glob("*.yaml"))
TEST_SECRET = "5e" * 32   # tests/conftest.py's course secret


def kit_files(kit: Path) -> dict[str, str]:
    return {p.relative_to(kit).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(kit.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("rubric_id", RUBRICS)
def test_kit_file_list_holds_no_reference_no_hidden_criterion_no_secret(rubric_id, tmp_path):
    rubric = load_rubric(rubric_id)
    kit = build_kit(rubric, tmp_path / "kit")
    files = kit_files(kit)
    checker = {name.removeprefix("checker/grader/") for name in files if name.startswith("checker/grader/")}
    assert checker == set(checker_files()) | {f"{KIT_DATA}/rubric.yaml"} | (
        set() if rubric.answers_only else {f"{KIT_DATA}/answers.json"}) | (
        {f"{KIT_DATA}/glue/{Path(rubric.interface.glue).name}"} if rubric.interface.glue else set())
    # of the reference, only its configuration (one source for shapes) under an __init__ of the kit's own
    shipped_reference = {name.removeprefix("checker/reference/") for name in files
                         if name.startswith("checker/reference/")}
    assert shipped_reference == set(reference_files()) == {"__init__.py", "architecture.py"}
    assert not any(part == "rubrics" for name in files for part in name.split("/"))
    assert not any(part == "reference" for name in files for part in name.split("/")
                   if not name.startswith("checker/reference/"))
    assert "mutants.py" not in checker and "batch.py" not in checker
    for name, body in files.items():
        # no module imports the solution when loaded (oracle.py's lazy imports run only when computing,
        # never when replaying a kit's answers; the install test shows the solution is not there to import);
        # reference.architecture is configuration and ships (test_the_kits_reference_is_configuration_only)
        assert not re.search(r"^(from|import)\s+reference\b(?!\.architecture\b)", body, re.M), name
        assert TEST_SECRET not in body and "course-secret" not in name, name          # no secret
    hidden = [c for c in rubric.criteria if c.visibility != "public" and c.check != "answers"]
    for name, body in files.items():
        if not name.endswith((".yaml", ".yml")):
            continue
        doc = yaml.safe_load(body) or {}
        for crit in doc.get("criteria") or []:
            assert crit["visibility"] == "public", (name, crit["id"])
            assert crit["id"] not in {c.id for c in hidden}, (name, crit["id"])
        assert "visibility: hidden" not in body
        for crit in hidden:   # a hidden criterion's parameters (e.g. training iterations) appear nowhere
            for key, value in crit.params.items():
                assert f"{key}: {value}" not in body, (name, crit.id, key)
    for crit in rubric.criteria:   # nor does a written answer's value (the count questions: exact integers)
        quantity = crit.params.get("quantity") if crit.check == "answers" else None
        if quantity and quantity.get("kind") == "param_count" and all(isinstance(n, int) for n in quantity["sizes"]):
            value = compute.count(quantity["sizes"])
            for body in files.values():
                assert str(value) not in body and f"{value:,}" not in body, (crit.id, value)


def test_kit_keeps_an_existing_nn_py_and_prints_no_absolute_path(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "kit").mkdir()
    (tmp_path / "kit" / "nn.py").write_text("# my work in progress\n")
    assert main(["kit", "--rubric", "penguins-silu", "--out", "kit"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert (tmp_path / "kit" / "nn.py").read_text() == "# my work in progress\n"
    assert (tmp_path / "kit" / SKELETON_ASIDE).read_text().startswith('"""Penguins MLP')
    assert f"kit/nn.py already existed and was kept; the skeleton is in kit/{SKELETON_ASIDE}" in out
    assert "pip install ./kit" in out and "nngrade check nn.py" in out
    assert str(tmp_path) not in out and str(ROOT) not in out
    (tmp_path / "kit" / "nn.py").unlink()
    assert main(["kit", "--rubric", "penguins-silu", "--out", "kit"]) == 0   # no nn.py: the skeleton is nn.py
    assert "already existed" not in capsys.readouterr().out
    assert (tmp_path / "kit" / "nn.py").read_text() == (tmp_path / "kit" / SKELETON_ASIDE).read_text()


#: what reference/architecture.py may import at its top: the standard library, nothing of the solution
CONFIGURATION_IMPORTS = {"__future__", "math", "operator", "re", "dataclasses", "typing"}
#: names of the solution's mathematics (reference/network.py, activations.py, optimizers.py)
SOLUTION_NAMES = {"np", "numpy", "exp", "log", "log1p", "tanh", "sigmoid", "softmax", "log_softmax", "forward",
                  "forward_cache", "gradient", "derivative", "value", "trajectory", "matmul", "einsum", "sign"}


def test_the_kits_reference_is_configuration_only(tmp_path):
    """The kit ships reference/architecture.py (shapes have one source, the
    reference's) and nothing of the solution: its top-level imports are the
    standard library's, its one lazy import (activation_fn's formulas) names
    a module the kit does not have, and no formula or solution name is in it."""
    import ast

    kit = build_kit(load_rubric("penguins-silu"), tmp_path / "kit")
    folder = kit / "checker" / "reference"
    assert sorted(p.name for p in folder.iterdir()) == ["__init__.py", "architecture.py"]
    assert not re.search(r"^\s*(from|import)\b", (folder / "__init__.py").read_text(), re.M)
    source = (folder / "architecture.py").read_text()
    assert source == (ROOT / "reference" / "architecture.py").read_text()   # the very file: one source
    tree = ast.parse(source)
    top = {(node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
           for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))
           for alias in node.names}
    assert top <= CONFIGURATION_IMPORTS, top
    lazy = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level]
    assert {node.module for node in lazy} == {"activations"}      # activation_fn's and a TYPE_CHECKING one
    assert not (folder / "activations.py").exists()
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | \
        {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)} | \
        {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    assert not used & SOLUTION_NAMES, used & SOLUTION_NAMES
    assert "@" not in ast.unparse(tree).replace("@dataclass", "").replace("@property", "")   # no matrix product


# -- installed on its own ------------------------------------------------------------------------

def fresh_environment(folder: Path) -> Path:
    """A new virtual environment with no nngrade in it; the kit's
    dependencies come from this test environment's site-packages (a .pth
    line, so no network and no download: what `pip install` would fetch).
    The editable nngrade of this environment is not visible there (its
    finder is installed by a .pth file this path does not process)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120)
    python = folder / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    ours = next(p for p in sys.path if p.endswith("site-packages") and (Path(p) / "numpy").is_dir())
    Path(purelib, "kit-deps.pth").write_text(ours + "\n")
    return python


@pytest.mark.slow
def test_kit_installs_alone_and_checks_without_the_solution(tmp_path):
    kit = build_kit(load_rubric("penguins-silu"), tmp_path / "kit")
    python = fresh_environment(tmp_path / "venv")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-index",
                           "--no-build-isolation", str(kit)], capture_output=True, text=True, timeout=600)
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    print(f"kit installed in {seconds:.1f} s")
    probe = ("import grader, importlib.util as u; print(grader.__file__); "
             "print(*(u.find_spec(f'reference.{m}') for m in ('network', 'activations', 'optimizers', 'data')))")
    where, *solution = subprocess.run([str(python), "-c", probe], capture_output=True, text=True,
                                      check=True, cwd=tmp_path).stdout.split()
    assert where.startswith(str(tmp_path / "venv")) and solution == ["None"] * 4   # the kit's copy; no solution
    nngrade = tmp_path / "venv" / "bin" / "nngrade"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NNGRADE_SECRET_FILE")}

    def check(sample: str) -> subprocess.CompletedProcess:
        (kit / "nn.py").write_text((SUBMISSIONS / sample).read_text())
        return subprocess.run([str(nngrade), "check", "nn.py"], capture_output=True, text=True, cwd=kit,
                              env=env, timeout=600)

    done = check("correct_vectorized.py")
    assert done.returncode == 0 and "all public checks passed" in done.stdout, done.stdout + done.stderr
    done = check("bug_sum_not_mean.py")
    out = " ".join(done.stdout.split())
    assert done.returncode == 1 and "S = 5 times" in out and "sum over the samples" in out, out
    assert "4 hidden criteria" in out
    other = subprocess.run([str(nngrade), "batch", "."], capture_output=True, text=True, cwd=kit, env=env)
    assert other.returncode == 2 and "invalid choice" in other.stderr   # the kit has no instructor commands


@pytest.mark.slow
def test_the_full_wheel_carries_the_bundled_rubrics(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-index", "--no-build-isolation",
                           "-w", str(tmp_path / "dist"), str(ROOT)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = (tmp_path / "dist").glob("nngrade-*.whl")
    import zipfile

    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "installed")   # a pure-Python wheel installed = unpacked
    assert {f"grader/rubrics/{r}.yaml" for r in RUBRICS} <= names
    # what a bundled rubric names beside it (interface.glue, interface.skeleton) ships too
    assert {"grader/rubrics/glue/stateful_2021.py", "grader/rubrics/skeletons/stateful_2021_nn.py"} <= names
    assert "grader/render/templates/report.html.j2" in names and "reference/network.py" in names
    python = fresh_environment(tmp_path / "venv")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(tmp_path / "installed")
    elsewhere = tmp_path / "work"     # no rubrics/ folder around: the ids must come from the wheel
    elsewhere.mkdir()
    (elsewhere / "nn.py").write_text((SUBMISSIONS / "correct_vectorized.py").read_text())
    done = subprocess.run([str(python), "-m", "grader.cli", "check", "nn.py"], capture_output=True, text=True,
                          cwd=elsewhere, env=env, timeout=600)
    assert done.returncode == 0 and "all public checks passed" in done.stdout, done.stdout + done.stderr
    glued = subprocess.run([str(python), "-c", "import grader.rubric as r; "
                            "print(r.load_rubric('penguins-stateful-2021').interface.glue)"],
                           capture_output=True, text=True, env=env, cwd=elsewhere)
    assert glued.stdout.strip() == str(tmp_path / "installed" / "grader" / "rubrics" / "glue" / "stateful_2021.py"), \
        glued.stdout + glued.stderr
    shown = subprocess.run([str(python), "-c", "import grader.rubric as r; print(r.BUNDLED)"], capture_output=True,
                           text=True, env=env, check=True, cwd=elsewhere).stdout.strip()
    assert shown == str(tmp_path / "installed" / "grader" / "rubrics")


def test_the_wheel_lists_every_grader_package():
    """pyproject.toml lists its packages explicitly (rubrics/ is mapped into
    grader/): a new subpackage missing there is missing from every install."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "grader").rglob("__init__.py")
             if "__pycache__" not in p.parts}
    assert found <= listed, sorted(found - listed)
