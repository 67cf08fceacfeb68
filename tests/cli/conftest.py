"""Fixtures for the end-to-end command-line tests.

`run_cli` calls `grader.cli.main` in this process (fast; output captured);
`run_proc` starts `python -m grader.cli` as a real subprocess (exit codes,
signals).  `small_batch` grades a copied subset of the sample submissions
once per session; tests that change a batch work on `graded_copy`, a fresh
copy of it (submissions, reports and store), so nothing is graded twice
without need.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Sequence
from unittest import mock

import pytest

REPO = Path(__file__).resolve().parents[2]
SUBMISSIONS = REPO / "submissions"
SUBSET = ("correct_vectorized.py", "correct_notebook.ipynb", "correct_folder",
          "bug_sum_not_mean.py", "bug_syntax_error.py")


def submission_ids(names: Sequence[str]) -> list[str]:
    return sorted(Path(n).stem if Path(n).suffix else n for n in names)


def copy_submissions(dest: Path, names: Sequence[str] = SUBSET) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in names:
        src = SUBMISSIONS / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / name)
    return dest


def cli_env() -> dict[str, str]:
    """The environment for the CLI: wide, colourless, plain output."""
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")}
    env["COLUMNS"] = "200"
    env["NO_COLOR"] = "1"
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


@dataclass
class CliRun:
    code: int
    out: str
    err: str
    seconds: float

    @property
    def text(self) -> str:
        """stdout and stderr with all whitespace runs folded to one space."""
        return " ".join((self.out + "\n" + self.err).split())

    def __str__(self) -> str:  # shown in assertion messages
        return f"exit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


def _run_cli(argv: Sequence[object]) -> CliRun:
    from grader.cli import main

    out, err = io.StringIO(), io.StringIO()
    started = time.monotonic()
    with mock.patch.dict(os.environ, cli_env(), clear=True), redirect_stdout(out), redirect_stderr(err):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse: --help, --version, bad arguments
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    return CliRun(code, out.getvalue(), err.getvalue(), time.monotonic() - started)


def _run_proc(argv: Sequence[object], timeout: float = 300) -> CliRun:
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "grader.cli", *map(str, argv)], cwd=REPO, env=cli_env(),
                          capture_output=True, text=True, timeout=timeout)
    return CliRun(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)


@pytest.fixture(scope="session")
def copy_subs() -> Callable[..., Path]:
    """copy_subs(dest, names=SUBSET): copies of sample submissions in `dest`."""
    return copy_submissions


@pytest.fixture(scope="session")
def cli_environ() -> dict[str, str]:
    """The environment `run_proc` uses, for tests that start the CLI themselves."""
    return cli_env()


@pytest.fixture(scope="session")
def run_cli() -> Callable[[Sequence[object]], CliRun]:
    return _run_cli


@pytest.fixture(scope="session")
def run_proc() -> Callable[..., CliRun]:
    return _run_proc


@pytest.fixture(scope="session")
def small_batch(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """`nngrade batch` (in-process, 2 workers) over the 5-submission subset."""
    root = tmp_path_factory.mktemp("cli-small-batch")
    subs = copy_submissions(root / "submissions")
    out = root / "out"
    run = _run_cli(["batch", subs, "--rubric", "penguins-silu", "--out", out, "--workers", "2"])
    return SimpleNamespace(subs=subs, out=out, run=run, ids=submission_ids(SUBSET))


@pytest.fixture
def graded_copy(small_batch: SimpleNamespace, tmp_path: Path) -> SimpleNamespace:
    """A private copy of the graded small batch (submissions, OUT, store),
    with every OUT file's mtime set far in the past so rewrites show."""
    assert small_batch.run.code == 0, small_batch.run
    subs = tmp_path / "submissions"
    shutil.copytree(small_batch.subs, subs)
    out = tmp_path / "out"
    shutil.copytree(small_batch.out, out)
    for path in out.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(1_000_000_000 * 10**9, 1_000_000_000 * 10**9))
    return SimpleNamespace(subs=subs, out=out, ids=list(small_batch.ids))
