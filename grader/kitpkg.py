"""The student kit's installable checker: `pip install ./KIT` gives `nngrade check`.

A kit (`kit.py`) holds the public rubric and the reference's recorded
answers; this module adds the code that checks a submission against them,
as a small package in `KIT/checker/`.  It is made of exactly the grader
modules the public check path imports (loading the submission in the
sandboxed worker, the checks' judges, the replaying oracle) and of
`kitcli.py`, its command line.  It never holds:

* the reference solution: of the `reference` package only
  `architecture.py` ships (`REFERENCE_MODULES`: the network's configuration,
  block names and shapes, standard library only, no formula of the
  solution), under an `__init__.py` of the kit's own that imports nothing;
  `mutants.py`, which imports the solution, is not in the list,
* a rubric with hidden criteria (only the kit's public rubric, as package data),
* the course secret (nothing here reads one: `check` asks public questions),
* the instructor's commands (batch, store, reports, kit and bundle builders).

The top-level modules are listed (`CHECKER_MODULES`) rather than "everything
but": a new instructor module never ships to students by default, and a
module the check path starts to need makes the kit's end-to-end test fail
loudly.  The check kinds, written answers and sandbox ship whole
(`CHECKER_PACKAGES`): all of each is the check path.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import grader

from . import __version__
from .glue import SHIPPED_FOLDER

#: Top-level grader modules the public check path needs (listed: the
#: instructor's modules, e.g. batch, store, render, kit, never ship).
CHECKER_MODULES: tuple[str, ...] = (
    "__init__.py", "adapter.py", "blas.py", "cli.py", "diagnoses.py", "engine.py", "entry.py", "executors.py",
    "glue.py", "kitcli.py", "warmcheck.py",
    "names.py", "notebook.py", "operations.py", "oracle.py", "probe.py", "rubric.py", "rubric_cache.py", "schema.py",
    "secret.py", "submission.py", "textsafe.py",
    # the terminal table (not the HTML renderers) and the graded-file rule (not the rest of intake)
    "render/__init__.py", "render/common.py", "render/terminal.py", "intake/__init__.py", "intake/choose.py",
)
#: Subpackages the check path needs whole: every check kind, the written
#: answers, and the sandbox (which runs the student's code however it is built).
CHECKER_PACKAGES: tuple[str, ...] = ("answers", "checks", "mistakes", "sandbox")
#: Modules of the `reference` package a kit ships: the configuration the
#: checks share with the reference (one source for shapes), never its mathematics.
REFERENCE_MODULES: tuple[str, ...] = ("architecture.py",)
#: The kit's `reference/__init__.py`: the real one imports the solution.
REFERENCE_INIT = '''"""The student kit's part of the reference: the network's configuration
(architecture.py: block names, shapes, counts).  The solution is not here."""
'''


def checker_files(source: Path | None = None) -> list[str]:
    """The grader files (relative to the package) a kit ships, sorted."""
    source = source or Path(grader.__file__).resolve().parent
    files = list(CHECKER_MODULES)
    for package in CHECKER_PACKAGES:
        files += [p.relative_to(source).as_posix() for p in (source / package).glob("*.py")]
    return sorted(files)


def reference_files() -> list[str]:
    """The `reference` files (relative to that package) a kit ships, sorted."""
    return sorted(("__init__.py", *REFERENCE_MODULES))


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
include = ["grader*", "reference"]

[tool.setuptools.package-data]
grader = ["{kit_data}/*", "{kit_data}/{glue_dir}/*"]
"""


def write_checker(kit: Path, rubric_id: str, title: str) -> list[Path]:
    """Write `KIT/pyproject.toml`, `KIT/checker/grader/...` and
    `KIT/checker/reference/` (configuration only; the kit's rubric.yaml and
    answers.json must already be in KIT).  Returns the
    files written, sorted."""
    source = Path(grader.__file__).resolve().parent
    target = kit / "checker" / "grader"
    if target.exists():
        shutil.rmtree(target)
    written = []
    for rel in checker_files(source):
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
    written += _write_glue(kit, data)
    written += _write_reference(kit / "checker" / "reference")
    deps = ", ".join(f'"{r}"' for r in CHECKER_REQUIREMENTS)
    pyproject = kit / "pyproject.toml"
    pyproject.write_text(PYPROJECT.format(name=f"nngrade-kit-{rubric_id}", version=__version__,
                                          title=title.replace('"', "'"), dependencies=deps, kit_data=KIT_DATA,
                                          glue_dir=SHIPPED_FOLDER),
                         encoding="utf-8")
    written.append(pyproject)
    return sorted(written)


def _write_glue(kit: Path, data: Path) -> list[Path]:
    """The kit's glue module (`KIT/glue/*.py`, when its rubric has one) as
    package data beside the installed rubric, at the same relative path, so
    `nngrade check` run from any folder finds it as the kit's rubric says."""
    source = kit / SHIPPED_FOLDER
    if not source.is_dir():
        return []
    written = []
    for path in sorted(source.glob("*.py")):
        dest = data / SHIPPED_FOLDER / path.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(path.read_bytes())
        written.append(dest)
    return written


def _write_reference(target: Path) -> list[Path]:
    """`KIT/checker/reference/`: the configuration modules, and an
    `__init__.py` that imports none of the solution."""
    import reference

    source = Path(reference.__file__).resolve().parent
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    written = [target / "__init__.py"]
    written[0].write_text(REFERENCE_INIT, encoding="utf-8")
    for rel in REFERENCE_MODULES:
        (target / rel).write_bytes((source / rel).read_bytes())
        written.append(target / rel)
    return written
