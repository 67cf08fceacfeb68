"""The lazy-import boundary that keeps `nngrade check` quick to start.

A student runs `nngrade check` many times; every library it imports and does
not use is start-up time spent on each run.  These tests start fresh
interpreters (imports are per process) and look at `sys.modules`: no timing,
so they hold on a busy machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SUBMISSIONS = REPO / "submissions"

#: what only `batch`, `grade` or `kit` use: process pools and Dask, SQLite,
#: HTML rendering and plots, the written-answers machinery
#: (the terminal renderer, grader.render.terminal, is check's own)
BATCH_ONLY = ("grader.batch", "grader.executors", "grader.store", "grader.outputs", "grader.kit",
              "grader.render.html", "grader.render.plots", "grader.render.summary", "grader.render.gradebook",
              "grader.render.gradescope", "multiprocessing", "concurrent.futures.process", "dask", "distributed",
              "sqlite3", "jinja2", "matplotlib", "rich.progress")
#: the written-answers machinery (parsers, formula evaluation); its catalogue of mistakes,
#: grader.answers.mistakes, is plain data that grader.diagnoses reads
ANSWERS = ("grader.checks.answers", "grader.answers.parse", "grader.answers.compute", "grader.answers.source")
#: what the engine and its checks bring (NumPy, the sandbox client): not needed
#: to parse arguments or print a rubric
ENGINE = ("grader.engine", "grader.probe", "grader.oracle", "grader.sandbox.client", "numpy", "reference")
#: what only parsing and validating a rubric needs: `check` with a cached rubric
#: (grader/rubric_cache.py) builds no pydantic validator, so pydantic's plugin loader
#: (importlib.metadata's entry-point scan) never runs, and parses no YAML
PARSING = ("yaml", "pydantic.plugin._loader")


def modules_after(code: str, env: dict[str, str]) -> dict:
    """Run `code` in a fresh interpreter; it leaves its results in `out`.
    Returns `out` plus `modules`: every module imported by then."""
    script = ("import json, sys\nout = {}\n" + code +
              "\nout['modules'] = sorted(sys.modules)\nprint(json.dumps(out))\n")
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def loaded(modules: list[str], names: tuple[str, ...]) -> list[str]:
    """The modules among `modules` that are one of `names` or inside one."""
    return [m for m in modules if any(m == n or m.startswith(n + ".") for n in names)]


def test_importing_the_cli_loads_no_engine_and_nothing_batch_only(cli_environ):
    out = modules_after("import grader.cli", cli_environ)
    assert "grader.cli" in out["modules"] and "grader.rubric" in out["modules"]
    assert loaded(out["modules"], BATCH_ONLY + ANSWERS + ENGINE + PARSING) == []


def test_check_loads_the_engine_but_nothing_batch_only(cli_environ):
    code = ("import contextlib, io\nfrom grader.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()) as printed:\n"
            f"    out['code'] = main(['check', {str(SUBMISSIONS / 'correct_vectorized.py')!r}])\n"
            "out['printed'] = printed.getvalue()\n")
    out = modules_after(code, cli_environ)
    assert out["code"] == 0, out["printed"]
    assert "all public checks passed" in out["printed"]
    # it did grade: the engine, the sandbox client and the network checks are there ...
    for name in ("grader.engine", "grader.sandbox.client", "grader.checks.gradient", "numpy"):
        assert name in out["modules"], name
    # ... and nothing that only batch, grade or kit use, nor the written answers (no such criterion)
    assert loaded(out["modules"], BATCH_ONLY + ANSWERS) == []


def test_a_rubric_imports_only_the_checks_it_names(cli_environ):
    code = ("from grader.rubric import load_rubric\n"
            "out['network'] = sorted({c.check for c in load_rubric('penguins-silu').criteria})\n"
            "out['before_written'] = sorted(m for m in sys.modules if m.startswith('grader.checks.'))\n"
            "out['written'] = sorted({c.check for c in load_rubric('penguins-written').criteria})\n")
    out = modules_after(code, cli_environ)
    assert "answers" not in out["network"] and out["written"] == ["answers"]
    for check in out["network"]:   # validating a rubric reads each named check's parameters
        assert f"grader.checks.{check}" in out["before_written"], check
    assert "grader.checks.answers" not in out["before_written"]
    assert "grader.checks.answers" in out["modules"] and "grader.answers.parse" in out["modules"]


def test_check_with_a_cached_rubric_parses_and_validates_nothing(cli_environ, tmp_path):
    env = {**cli_environ, "NNGRADE_CACHE_DIR": str(tmp_path / "cache")}
    modules_after("from grader.rubric import load_rubric\nload_rubric('penguins-silu', cached=True)\n", env)
    code = ("import contextlib, io\nfrom grader.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()) as printed:\n"
            f"    out['code'] = main(['check', {str(SUBMISSIONS / 'correct_vectorized.py')!r}])\n"
            "from pydantic import BaseModel\n"
            "def subclasses(c):\n    for s in c.__subclasses__():\n        yield s\n        yield from subclasses(s)\n"
            "out['built'] = sorted(c.__name__ for c in subclasses(BaseModel) if c.__pydantic_complete__)\n")
    out = modules_after(code, env)
    assert out["code"] == 0
    assert loaded(out["modules"], PARSING) == [] and out["built"] == []


def test_the_program_entry_and_the_warm_client_import_no_library_and_no_grader_module(cli_environ):
    """`nngrade check` hands itself to the warm check process (or starts the
    zygote) before any of the grader's ~0.35 s of imports."""
    out = modules_after("import grader.entry, grader.warmcheck\n"
                        "from grader.warmcheck import hand_over, fingerprint\nfingerprint()\n", cli_environ)
    heavy = ("numpy", "pydantic", "rich", "yaml", "grader.cli", "grader.rubric", "grader.schema", "grader.engine")
    assert loaded(out["modules"], heavy) == []
