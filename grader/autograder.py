"""The Gradescope autograder bundle: build it (instructor) and run it (in Gradescope's container).

`build_bundle` writes `autograder.zip`, Gradescope's upload format: the zip's
top level becomes `/autograder/source` in the image, and

* `setup.sh` (run once, as root, when Gradescope builds the image; it needs
  the network): a Python >= 3.11 (the system's if new enough, else the
  deadsnakes PPA on Gradescope's Ubuntu base image), a virtual environment
  at `/opt/nngrade-venv` with the pinned dependencies (`requirements.txt`:
  the versions installed where the bundle was built), and the lock-down of
  `/autograder/source`;
* `run_autograder` (run for every submission): locks the source down
  again, then `python -m grader.cli gradescope run`, which grades
  `/autograder/submission` with every criterion into
  `/autograder/results/results.json` (`render/gradescope.py`: hidden criteria
  are `after_published` tests);
* `rubric.yaml`, `course-secret` (final grading's questions, as in `batch`),
  and `nngrade/` (the grader and its reference solution, as source);
* `glue/<file>.py` when the rubric names an instructor's glue
  (`interface.glue`): the bundle's rubric.yaml points there, relatively.

The root `/autograder` is overridable (`NNGRADE_AUTOGRADER_ROOT`, and the
interpreter by `NNGRADE_AUTOGRADER_PYTHON`) so a test runs `run_autograder`
against a temporary folder.

Where the container allows no namespaces the worker runs only under its own
uid (the sandbox's `uid+rlimits` level, `sandbox/limits.py`): it can read what
"others" may read.  So `source/` (grader, reference, rubric, secret) is made
root-only (`LOCKDOWN`: folders 0700, files 0600) by setup.sh and again by
run_autograder (Gradescope's unzip may keep the zip's modes or not), while the
interpreter and its packages stay world-readable outside `/autograder/source`.
"""

from __future__ import annotations

import json
import stat
import time
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any

import grader

from .glue import shipped_glue_path
from .rubric import Rubric, RubricError, find_rubric, load_rubric
from .secret import CourseSecret, SecretError

ROOT_VARIABLE = "NNGRADE_AUTOGRADER_ROOT"
PYTHON_VARIABLE = "NNGRADE_AUTOGRADER_PYTHON"
DEFAULT_ROOT = Path("/autograder")
VENV = "/opt/nngrade-venv"
RUBRIC_FILE = "rubric.yaml"
SECRET_FILE = "course-secret"
SOURCE_DIR = "nngrade"           # the grader and the reference, as source, inside source/
#: nngrade's runtime dependencies, pinned in requirements.txt at the versions installed here
RUNTIME_DISTRIBUTIONS = ("numpy", "pandas", "jinja2", "nbformat", "PyYAML", "pydantic", "matplotlib",
                         "palmerpenguins", "rich")
#: fixed zip timestamps: the same rubric, secret and grader give the same bytes
ZIP_TIME = (2020, 1, 1, 0, 0, 0)

#: Makes source/ readable by root alone (the worker's uid is not root).
LOCKDOWN = 'chown -R root:root "$SOURCE" && chmod -R u+rwX,go-rwx "$SOURCE"'

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image
# (Ubuntu base image; it needs the network for apt and pip).
set -euo pipefail
SOURCE=/autograder/source
export DEBIAN_FRONTEND=noninteractive

# A Python >= 3.11: the system's when new enough, else the deadsnakes PPA.
PY=""
for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && \\
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
        PY="$(command -v "$candidate")"
        break
    fi
done
apt-get update
if [ -z "$PY" ]; then
    apt-get install -y software-properties-common
    add-apt-repository -y ppa:deadsnakes/ppa
    apt-get update
    apt-get install -y python3.11 python3.11-venv python3.11-dev
    PY="$(command -v python3.11)"
else
    apt-get install -y "$(basename "$PY")-venv" || true
fi
# util-linux's unshare: the sandbox's namespaces where the container allows them
apt-get install -y util-linux

# The pinned dependencies in a virtual environment outside /autograder/source,
# readable by the worker's uid (it runs the same interpreter and NumPy).
"$PY" -m venv {venv}
{venv}/bin/pip install --upgrade pip
{venv}/bin/pip install -r "$SOURCE/requirements.txt"
chmod -R a+rX {venv}

# The grader, its reference solution, the rubric and the course secret: root only.
{lockdown}
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission: grade /autograder/submission
# into /autograder/results/results.json.  NNGRADE_AUTOGRADER_ROOT (default
# /autograder) and NNGRADE_AUTOGRADER_PYTHON (default {venv}/bin/python)
# are for testing the bundle outside Gradescope.
set -euo pipefail
ROOT="${{{root_var}:-/autograder}}"
PYTHON="${{{python_var}:-{venv}/bin/python}}"
SOURCE="$ROOT/source"
{lockdown}
mkdir -p "$ROOT/results"
cd "$ROOT"
export NNGRADE_SECRET_FILE="$SOURCE/{secret}"
export PYTHONPATH="$SOURCE/{source_dir}"
exec "$PYTHON" -m grader.cli gradescope run --root "$ROOT"
"""


class BundleError(Exception):
    """The bundle cannot be built or run as asked (printed as a usage error)."""


def requirements() -> str:
    """requirements.txt: nngrade's runtime dependencies at the versions installed here."""
    lines = []
    for name in RUNTIME_DISTRIBUTIONS:
        try:
            lines.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError as exc:
            raise BundleError(f"{name} is not installed here, so its version cannot be pinned; "
                              "install nngrade with its dependencies first") from exc
    return "\n".join(lines) + "\n"


def setup_script() -> str:
    return SETUP_SH.format(venv=VENV, lockdown=LOCKDOWN)


def run_script() -> str:
    return RUN_AUTOGRADER.format(root_var=ROOT_VARIABLE, python_var=PYTHON_VARIABLE, venv=VENV,
                                 lockdown=LOCKDOWN, secret=SECRET_FILE, source_dir=SOURCE_DIR)


def _source_files() -> list[tuple[str, Path]]:
    """(name in the bundle, file) for the grader and reference packages:
    Python files and the report templates, no caches."""
    grader_dir = Path(grader.__file__).resolve().parent
    import reference

    out = []
    for package in (grader_dir, Path(reference.__file__).resolve().parent):
        for path in sorted(package.rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            if path.suffix not in (".py", ".j2"):
                continue
            out.append((f"{SOURCE_DIR}/{package.name}/{path.relative_to(package).as_posix()}", path))
    return out


def _add(archive: zipfile.ZipFile, name: str, data: bytes, mode: int) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def bundled_rubric(path: Path, rubric: Rubric) -> bytes:
    """The bundle's rubric.yaml: the file as written, except that a glue
    rubric's `interface.glue` names the bundle's copy (its own path is the
    instructor's, relative to a folder the bundle does not have).  The
    field is replaced in the parsed YAML (comments are not kept: the
    bundle's copy is read by the grader alone)."""
    raw = path.read_bytes()
    rel = shipped_glue_path(rubric)
    if rel is None:
        return raw
    import yaml

    data = yaml.safe_load(raw.decode("utf-8"))
    data["interface"]["glue"] = rel
    return (f"# {path.name}, bundled for Gradescope (interface.glue: the bundle's copy)\n"
            + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)).encode("utf-8")


def _glue_entries(rubric: Rubric) -> list[tuple[str, bytes, int]]:
    """The glue module a glue rubric grades through (root-only, like the rest of source/)."""
    rel = shipped_glue_path(rubric)
    if rel is None:
        return []
    return [(rel, Path(rubric.interface.glue or "").read_bytes(), 0o600)]


def build_bundle(rubric_name: str, secret: CourseSecret, out: Path) -> list[str]:
    """Write the bundle to `out` (a .zip); returns its entry names.  Byte for
    byte the same for the same rubric, secret and grader."""
    rubric_path = find_rubric(rubric_name)
    rubric = load_rubric(rubric_path)
    if rubric.answers:
        raise BundleError(f"{rubric_path} is a student kit's rubric (public criteria only); "
                          "build the autograder from the full rubric")
    out = Path(out)
    if out.suffix != ".zip":
        raise BundleError(f"{out}: the bundle is a .zip file (Gradescope's autograder upload), e.g. autograder.zip")
    if out.is_dir():
        raise BundleError(f"{out} is a folder; give the .zip file to write, e.g. {out / 'autograder.zip'}")
    out.parent.mkdir(parents=True, exist_ok=True)
    entries: list[tuple[str, bytes, int]] = [
        ("setup.sh", setup_script().encode(), 0o755),
        ("run_autograder", run_script().encode(), 0o755),
        ("requirements.txt", requirements().encode(), 0o600),
        (RUBRIC_FILE, bundled_rubric(rubric_path, rubric), 0o600),
        (SECRET_FILE, (secret.hex + "\n").encode(), 0o600),
    ]
    entries += _glue_entries(rubric)
    entries += [(name, path.read_bytes(), 0o600) for name, path in _source_files()]
    tmp = out.with_name(f".{out.name}.tmp")
    with zipfile.ZipFile(tmp, "w") as archive:
        for name, data, mode in entries:
            _add(archive, name, data, mode)
    tmp.replace(out)
    return [name for name, _, _ in entries]


# -- inside Gradescope's container ------------------------------------------------------

def failure_results(message: str) -> dict[str, Any]:
    """results.json when nothing could be graded (visible to the student, 0 points)."""
    return {"score": 0.0, "output": message, "output_format": "text", "visibility": "visible",
            "stdout_visibility": "hidden", "tests": []}


def run(root: Path) -> Path:
    """Grade `root/submission` with every criterion into
    `root/results/results.json`; returns that path.  A submission that
    cannot be graded still gets a results.json saying why."""
    from .engine import grade
    from .render.gradescope import to_gradescope, validate_gradescope
    from .sandbox.limits import hide

    root = Path(root)
    source, submission, results = root / "source", root / "submission", root / "results"
    results.mkdir(parents=True, exist_ok=True)
    target = results / "results.json"
    started = time.monotonic()
    try:
        rubric: Rubric = load_rubric(source / RUBRIC_FILE, skeleton=False)   # the kit's skeleton is not bundled
        secret = _load_secret(source / SECRET_FILE)
    except (RubricError, SecretError, OSError) as exc:
        doc = failure_results(f"The autograder is misconfigured ({exc}). Please tell your instructor.")
    else:
        if not submission.is_dir() or not any(submission.iterdir()):
            doc = failure_results("Nothing was handed in: upload your nn.py (or your notebook) and resubmit.")
        else:
            hide(source, results)
            outcome = grade(submission, rubric, secret=secret)
            doc = to_gradescope(outcome.result, execution_time=round(time.monotonic() - started, 1))
    problems = validate_gradescope(doc)
    if problems:  # a bug of ours: say so in the file Gradescope shows, never a half-valid document
        doc = failure_results("The autograder produced an invalid result (" + "; ".join(problems) +
                              "). Please tell your instructor.")
    tmp = target.with_name(".results.json.tmp")
    tmp.write_text(json.dumps(doc, indent=1, sort_keys=True, allow_nan=False) + "\n", encoding="utf-8")
    tmp.replace(target)
    return target


def _load_secret(path: Path) -> CourseSecret:
    try:
        return CourseSecret.from_hex(path.read_text(encoding="utf-8").strip())
    except ValueError as exc:
        raise SecretError(f"{path.name} is not a course secret") from exc
