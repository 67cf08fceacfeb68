"""The student kit's installable checker: `pip install ./KIT` gives `nngrade check`.

A kit (`kit.py`) holds the public rubric and the reference's recorded
answers; this module adds the code that checks a submission against them,
as a small package in `KIT/checker/`.  It is made of exactly the grader
modules the public check path imports (loading the submission in the
sandboxed worker, the checks' judges, the replaying oracle) and of
`kitcli.py`, its command line.  It never holds:

* the reference solution (`reference/` is a separate package and is never
  copied; `mutants.py`, which imports it, is not in the list),
* a rubric with hidden criteria (only the kit's public rubric, as package data),
* the course secret (nothing here reads one: `check` asks public questions),
* the instructor's commands (batch, store, reports, kit and bundle builders).

The list is explicit (`CHECKER_FILES`) rather than "everything but": a new
instructor module never ships to students by default, and a module the
check path starts to need makes the kit's end-to-end test fail loudly.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import grader

from . import __version__

#: Grader files (relative to the package) the public check path needs.
CHECKER_FILES: tuple[str, ...] = (
    "__init__.py", "adapter.py", "cli.py", "diagnoses.py", "engine.py", "executors.py", "kitcli.py",
    "names.py", "oracle.py", "probe.py", "rubric.py", "secret.py", "submission.py", "textsafe.py",
    "answers/__init__.py", "answers/compute.py", "answers/mistakes.py", "answers/parse.py", "answers/source.py",
    "checks/__init__.py", "checks/answers.py", "checks/base.py", "checks/forward.py", "checks/gd_step.py",
    "checks/gradient.py", "checks/init.py", "checks/loss.py", "checks/nag_step.py", "checks/param_count.py",
    "checks/param_shapes.py", "checks/training.py",
    "sandbox/__init__.py", "sandbox/client.py", "sandbox/cpuclock.py", "sandbox/launcher.py",
    "sandbox/limits.py", "sandbox/worker.py",
)

#: Where the kit's rubric and answers live inside the installed package
#: (`kitcli` uses them when no --rubric is given).
KIT_DATA = "kitdata"

#: What `pip install ./KIT` installs besides Python itself: NumPy for the
#: student's code and the worker, and the check's own needs (rubric schema
#: and YAML, the terminal table, notebooks).  No pandas, jinja2, matplotlib.
CHECKER_REQUIREMENTS: tuple[str, ...] = ("numpy>=1.26", "PyYAML>=6.0", "pydantic>=2.5", "rich>=13.0",
                                         "nbformat>=5.9")

PYPROJECT = """[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "{version}"
description = "Self-check for {title} (public criteria only; no solution inside)"
requires-python = ">=3.11"
dependencies = [{dependencies}]

[project.scripts]
nngrade = "grader.kitcli:main"

[tool.setuptools]
package-dir = {{"" = "checker"}}

[tool.setuptools.packages.find]
where = ["checker"]
include = ["grader*"]

[tool.setuptools.package-data]
grader = ["{kit_data}/*"]
"""


def write_checker(kit: Path, rubric_id: str, title: str) -> list[Path]:
    """Write `KIT/pyproject.toml` and `KIT/checker/grader/...` (the kit's
    rubric.yaml and answers.json must already be in KIT).  Returns the
    files written, sorted."""
    source = Path(grader.__file__).resolve().parent
    target = kit / "checker" / "grader"
    if target.exists():
        shutil.rmtree(target)
    written = []
    for rel in CHECKER_FILES:
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes((source / rel).read_bytes())
        written.append(dest)
    data = target / KIT_DATA
    data.mkdir()
    for name in ("rubric.yaml", "answers.json"):   # a kit of written questions has no answers.json
        if not (kit / name).is_file():
            continue
        dest = data / name
        dest.write_bytes((kit / name).read_bytes())
        written.append(dest)
    deps = ", ".join(f'"{r}"' for r in CHECKER_REQUIREMENTS)
    pyproject = kit / "pyproject.toml"
    pyproject.write_text(PYPROJECT.format(name=f"nngrade-kit-{rubric_id}", version=__version__,
                                          title=title.replace('"', "'"), dependencies=deps, kit_data=KIT_DATA),
                         encoding="utf-8")
    written.append(pyproject)
    return sorted(written)
