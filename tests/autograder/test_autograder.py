"""The Gradescope autograder bundle: its files, its scripts, a run against a
temporary root (results.json valid and right), and the permissions that keep
the worker's uid away from the grader, the reference and the secret."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest
import yaml

from grader.autograder import (LOCKDOWN, PYTHON_VARIABLE, ROOT_VARIABLE, RUNTIME_DISTRIBUTIONS, BundleError,
                               build_bundle, run_script, setup_script)
from grader.cli import main
from grader.kit import build_kit
from grader.render.gradescope import validate_gradescope
from grader.rubric import find_rubric, load_rubric
from grader.secret import CourseSecret

ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = ROOT / "submissions"
SECRET = CourseSecret(bytes.fromhex("5e" * 32))
WORKER_UID = 60999   # like the sandbox's worker uids (60000+): not root, no group of root's


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "autograder.zip"
    build_bundle("penguins-silu", SECRET, out)
    return out


def test_bundle_holds_what_gradescope_runs_and_what_grading_needs(bundle):
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        contents = {name: archive.read(name) for name in names}
        read = contents.__getitem__
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in archive.infolist()}
    for required in ("setup.sh", "run_autograder", "requirements.txt", "rubric.yaml", "course-secret",
                     "nngrade/grader/cli.py", "nngrade/grader/engine.py", "nngrade/grader/sandbox/worker.py",
                     "nngrade/grader/render/gradescope.py", "nngrade/reference/network.py"):
        assert required in names
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert read("course-secret").decode().strip() == SECRET.hex
    assert read("rubric.yaml") == (ROOT / "rubrics" / "penguins-silu.yaml").read_bytes()   # the full rubric
    pins = read("requirements.txt").decode().split()
    assert [p.split("==")[0] for p in pins] == list(RUNTIME_DISTRIBUTIONS) and all("==" in p for p in pins)
    assert modes["run_autograder"] == 0o755 and modes["setup.sh"] == 0o755
    assert modes["course-secret"] == 0o600 and modes["nngrade/reference/network.py"] == 0o600


def test_bundle_is_byte_for_byte_reproducible(bundle, tmp_path):
    again = tmp_path / "again.zip"
    build_bundle("penguins-silu", SECRET, again)
    assert again.read_bytes() == bundle.read_bytes()
    other = tmp_path / "other.zip"
    build_bundle("penguins-silu", CourseSecret(bytes(32)), other)
    assert other.read_bytes() != bundle.read_bytes()


def test_scripts_are_valid_bash_and_do_what_the_readme_says():
    for script in (setup_script(), run_script()):
        done = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True)
        assert done.returncode == 0, done.stderr
        assert script.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in script
        assert LOCKDOWN in script      # source/ made root-only at image build and again at every run
    setup = setup_script()
    assert "sys.version_info >= (3, 11)" in setup and "ppa:deadsnakes/ppa" in setup and "python3.11-venv" in setup
    assert 'pip install -r "$SOURCE/requirements.txt"' in setup and "chmod -R a+rX /opt/nngrade-venv" in setup
    run = run_script()
    assert f"${{{ROOT_VARIABLE}:-/autograder}}" in run and f"${{{PYTHON_VARIABLE}:-/opt/nngrade-venv/bin/python}}" in run
    assert "gradescope run --root" in run


def test_a_kit_rubric_or_a_folder_is_refused(tmp_path):
    kit = build_kit(load_rubric("penguins-written"), tmp_path / "kit")
    code_kit = build_kit(load_rubric("penguins-silu"), tmp_path / "kit2")
    with pytest.raises(BundleError, match="student kit"):
        build_bundle(str(code_kit / "rubric.yaml"), SECRET, tmp_path / "a.zip")
    with pytest.raises(BundleError, match=r"\.zip"):
        build_bundle("penguins-silu", SECRET, tmp_path / "autograder")
    assert kit.is_dir() and not (tmp_path / "a.zip").exists()


def test_cli_build_prints_no_secret_and_warns(tmp_path, capsys, monkeypatch):
    secret = tmp_path / "secret"
    secret.write_text(SECRET.hex + "\n")
    monkeypatch.chdir(tmp_path)
    assert main(["gradescope", "build", "--rubric", "penguins-silu", "--out", "autograder.zip",
                 "--secret", str(secret)]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "autograder.zip").is_file() and SECRET.hex not in out and SECRET.fingerprint in out
    assert "share it with no one" in " ".join(out.split())
    assert main(["gradescope", "build", "--out", "bundle.tar", "--secret", str(secret)]) == 2


# -- run_autograder against a temporary root ------------------------------------------------------

def make_root(bundle: Path, submission: Path | None) -> Path:
    """A stand-in for Gradescope's /autograder: the bundle unzipped into
    source/, run_autograder beside it, the submission's files in submission/.
    Under a world-traversable folder, so file modes alone decide what a
    non-root uid reads (as in the container)."""
    root = Path(tempfile.mkdtemp(prefix="nngrade-autograder-"))
    os.chmod(root, 0o755)
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    if submission is not None:
        shutil.copy(submission, root / "submission" / "nn.py")
    for folder in (root / "source", root / "submission"):   # what unzip leaves: readable by all
        for path in [folder, *folder.rglob("*")]:
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
    return root


def run_autograder(root: Path, python: str = sys.executable, **env: str) -> dict:
    environment = dict(os.environ, **{ROOT_VARIABLE: str(root), PYTHON_VARIABLE: python}, **env)
    done = subprocess.run(["bash", str(root / "run_autograder")], capture_output=True, text=True, env=environment,
                          timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    doc = json.loads((root / "results" / "results.json").read_text())
    assert validate_gradescope(doc) == []
    return doc


@pytest.mark.slow
def test_run_autograder_grades_the_submission_into_results_json(bundle):
    root = make_root(bundle, SUBMISSIONS / "bug_sum_not_mean.py")
    try:
        doc = run_autograder(root)
        tests = {t["tags"][0]: t for t in doc["tests"]}
        assert set(tests) == {c.id for c in load_rubric("penguins-silu").criteria}
        assert tests["grad-W0"]["score"] == 0 and "sum-not-mean" in tests["grad-W0"]["tags"]
        assert tests["training"]["visibility"] == "after_published" and tests["forward"]["visibility"] == "visible"
        assert doc["score"] == sum(t["score"] for t in doc["tests"]) < 100
        assert "4 of 8 public criteria passed" in doc["output"]
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
def test_run_autograder_full_marks_and_an_empty_submission(bundle):
    root = make_root(bundle, SUBMISSIONS / "correct_vectorized.py")
    empty = make_root(bundle, None)
    try:
        doc = run_autograder(root)
        assert doc["score"] == 100 and all(t["status"] == "passed" for t in doc["tests"])
        doc = run_autograder(empty)
        assert doc["score"] == 0 and doc["tests"] == [] and "Nothing was handed in" in doc["output"]
    finally:
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(empty, ignore_errors=True)


# -- permissions: the worker's uid cannot read the source ---------------------------------------

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="switching to the worker's uid needs root")


@pytest.fixture(scope="module")
def world_python(tmp_path_factory) -> str:
    """An interpreter any uid may run, with this environment's packages, as
    setup.sh makes one in Gradescope's image (a venv of the system Python,
    world-readable): the test's own interpreter may live where the worker's
    uid cannot go (e.g. /root/.pyenv)."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    system = next((p for p in (f"/usr/bin/{version}", f"/usr/local/bin/{version}") if os.access(p, os.X_OK)), None)
    if system is None:
        pytest.skip(f"no system {version} that another uid can run")
    venv = Path(tempfile.mkdtemp(prefix="nngrade-world-python-"))
    os.chmod(venv, 0o755)
    subprocess.run([system, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    ours = next(p for p in sys.path if p.endswith("site-packages") and (Path(p) / "numpy").is_dir())
    purelib = subprocess.run([str(venv / "bin" / "python"), "-c",
                              "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True).stdout.strip()
    Path(purelib, "nngrade-deps.pth").write_text(ours + "\n")
    python = str(venv / "bin" / "python")
    if os.geteuid() == 0 and read_as(python, WORKER_UID, Path(ours) / "numpy" / "__init__.py") != "read":
        shutil.rmtree(venv, ignore_errors=True)
        pytest.skip(f"this environment's packages ({ours}) are not readable by another uid")
    yield python
    shutil.rmtree(venv, ignore_errors=True)


def read_as(python: str, uid: int, path: Path) -> str:
    """What a process of `uid` (no groups) gets when it reads `path`: 'read' or the error's name."""
    code = ("import os, sys\n"
            "p = sys.argv[1]\n"
            "try:\n"
            "    (os.listdir(p) if os.path.isdir(p) else open(p, 'rb').read()); print('read')\n"
            "except OSError as e:\n"
            "    print(type(e).__name__)\n")
    done = subprocess.run([python, "-I", "-c", code, str(path)], capture_output=True, text=True,
                          user=uid, group=uid, extra_groups=[], timeout=60, cwd="/")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@needs_root
@pytest.mark.slow
def test_after_run_autograder_no_other_uid_reads_source_or_secret(bundle, world_python):
    root = make_root(bundle, SUBMISSIONS / "correct_vectorized.py")
    try:
        control = root / "submission" / "nn.py"
        secret = root / "source" / "course-secret"
        assert read_as(world_python, WORKER_UID, secret) == "read"   # unzipped world-readable: the test can fail
        run_autograder(root, world_python)
        assert read_as(world_python, WORKER_UID, control) == "read"  # the uid switch works, modes decide
        for path in (secret, root / "source", root / "source" / "rubric.yaml",
                     root / "source" / "nngrade" / "reference" / "network.py"):
            assert read_as(world_python, WORKER_UID, path) == "PermissionError", path
        assert (root / "source").stat().st_mode & 0o777 == 0o700 and secret.stat().st_mode & 0o777 == 0o600
    finally:
        shutil.rmtree(root, ignore_errors=True)


SNOOP = '''
import pathlib
SNOOPED = pathlib.Path({path!r}).read_text()   # module level: a refusal makes the load fail
'''


@needs_root
@pytest.mark.slow
def test_a_submission_at_the_uid_level_cannot_read_the_secret(bundle, world_python):
    """The sandbox's uid-only level (no namespaces, as in a container that
    allows none): the student's code runs under a worker uid, and reading
    the bundle's secret fails; the same code reading a readable file loads."""
    root = make_root(bundle, None)
    try:
        source = (SUBMISSIONS / "correct_vectorized.py").read_text()
        public = root / "public.txt"
        public.write_text("hello\n")
        os.chmod(public, 0o644)
        (root / "submission" / "nn.py").write_text(SNOOP.format(path=str(public)) + source)
        os.chmod(root / "submission" / "nn.py", 0o644)
        doc = run_autograder(root, world_python, NNGRADE_ISOLATION="uid+rlimits")
        assert doc["score"] == 100, doc["output"]      # control: this level runs code that reads what it may
        (root / "submission" / "nn.py").write_text(SNOOP.format(path=str(root / "source" / "course-secret")) + source)
        doc = run_autograder(root, world_python, NNGRADE_ISOLATION="uid+rlimits")
        assert doc["score"] == 0 and "PermissionError" in doc["output"], doc["output"]
        assert SECRET.hex not in json.dumps(doc)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_a_rubric_with_a_course_skeleton_bundles_and_grades_without_it(tmp_path):
    """The skeleton serves only student kits: the bundle carries the rubric's
    bytes and not the skeleton file, and grading inside it must not need it."""
    course = tmp_path / "course"
    course.mkdir()
    (course / "skeleton.py").write_text("class NN:\n    pass\n")
    text = find_rubric("penguins-silu").read_text()
    assert "  class_name: NN\n" in text
    (course / "hw.yaml").write_text(text.replace("  class_name: NN\n", "  class_name: NN\n  skeleton: skeleton.py\n"))
    out = tmp_path / "autograder.zip"
    build_bundle(str(course / "hw.yaml"), SECRET, out)
    root = make_root(out, SUBMISSIONS / "correct_vectorized.py")
    try:
        doc = run_autograder(root)
        assert "misconfigured" not in doc.get("output", "") and doc["score"] > 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


# -- a glue rubric: the glue module travels with the rubric ---------------------------------------

STATEFUL = ROOT / "examples" / "stateful"
GLUE = ROOT / "rubrics" / "glue" / "stateful_2021.py"


@pytest.fixture(scope="module")
def glue_bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("glue-bundle") / "autograder.zip"
    build_bundle("penguins-stateful-2021", SECRET, out)
    return out


def test_the_bundle_carries_the_glue_and_its_rubric_points_at_it(glue_bundle, tmp_path):
    with zipfile.ZipFile(glue_bundle) as archive:
        archive.extractall(tmp_path / "source")
        names = archive.namelist()
    assert "glue/stateful_2021.py" in names
    assert (tmp_path / "source" / "glue" / "stateful_2021.py").read_bytes() == GLUE.read_bytes()
    doc = yaml.safe_load((tmp_path / "source" / "rubric.yaml").read_text())
    assert doc["interface"]["glue"] == "glue/stateful_2021.py"     # relative: no path of the instructor's
    assert str(ROOT) not in (tmp_path / "source" / "rubric.yaml").read_text()
    rubric = load_rubric(tmp_path / "source" / "rubric.yaml", skeleton=False)   # as `gradescope run` loads it
    assert Path(rubric.interface.glue) == (tmp_path / "source" / "glue" / "stateful_2021.py").resolve()
    assert [c.id for c in rubric.criteria] == [c.id for c in load_rubric("penguins-stateful-2021").criteria]


def test_a_rubric_without_glue_is_bundled_byte_for_byte(tmp_path):
    out = tmp_path / "autograder.zip"
    build_bundle("penguins-silu", SECRET, out)
    with zipfile.ZipFile(out) as archive:
        assert archive.read("rubric.yaml") == (ROOT / "rubrics" / "penguins-silu.yaml").read_bytes()
        assert not any(name.startswith("glue/") for name in archive.namelist())


@pytest.mark.slow
def test_run_autograder_grades_a_template_a_submission_through_the_glue(glue_bundle):
    root = make_root(glue_bundle, STATEFUL / "correct_vectorized.py")
    buggy = make_root(glue_bundle, STATEFUL / "bug_missing_mean.py")
    try:
        doc = run_autograder(root)
        assert doc["score"] == 100 and all(t["status"] == "passed" for t in doc["tests"]), doc["output"]
        doc = run_autograder(buggy)
        failed = {t["tags"][0] for t in doc["tests"] if t["status"] != "passed"}
        assert "misconfigured" not in doc["output"] and doc["score"] < 100 and failed, doc["output"]
    finally:
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(buggy, ignore_errors=True)
