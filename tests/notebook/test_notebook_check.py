"""The check inside Jupyter (issue 14, item 2): grader/notebook.py.

IPython is not a dependency (and not installed here), so no real kernel
runs: the magic's registration and the function it calls are tested with a
stub shell that has the attributes IPython's InteractiveShell offers
(`user_ns`, `history_manager.input_hist_raw`, `events.register`,
`register_magic_function`).  The notebook holding the magics goes through
the real `nngrade check` and `nngrade batch`.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.notebook import (
    MAGIC, ExecutionLog, NotebookCheck, check, find_notebook, load_ipython_extension, unsaved_cells,
)

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "submissions" / "correct_notebook.ipynb"
CHECK_CELL = f"%load_ext grader.notebook\n%{MAGIC}"


class StubShell:
    """What load_ipython_extension and the magic use of IPython's shell."""

    def __init__(self, history: list[str] | None = None, user_ns: dict | None = None) -> None:
        self.user_ns = dict(user_ns or {})
        self.history_manager = SimpleNamespace(input_hist_raw=list(history or [""]))
        self.magics: dict[tuple[str, str], Callable] = {}
        self.handlers: dict[str, list[Callable]] = {}
        self.events = SimpleNamespace(register=lambda name, fn: self.handlers.setdefault(name, []).append(fn))

    def register_magic_function(self, func: Callable, magic_kind: str = "line", magic_name: str | None = None):
        self.magics[(magic_kind, magic_name or func.__name__)] = func

    def run_cell(self, source: str) -> None:
        """What IPython does before running a cell: store it, fire pre_run_cell."""
        self.history_manager.input_hist_raw.append(source)
        for fn in self.handlers.get("pre_run_cell", []):
            fn(SimpleNamespace(raw_cell=source))


def with_check_cell(dest: Path) -> Path:
    """correct_notebook.ipynb plus a last code cell holding the check magics."""
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    nb["cells"].append({"cell_type": "code", "execution_count": None, "id": "nngrade-check", "metadata": {},
                        "outputs": [], "source": CHECK_CELL})
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return dest


def code_cells(path: Path) -> list[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in nb["cells"] if c["cell_type"] == "code"]


# -- the unsaved-changes rule -------------------------------------------------------

def test_unsaved_rule_by_execution_counts():
    saved = [("a = 1", 1), ("b = 2", 2)]
    assert unsaved_cells(saved, ["", "a = 1", "b = 2", f"%{MAGIC}"], saved_at=0) == []
    # In[3] ran after the save (the file's highest count is 2) and is not in the file
    assert unsaved_cells(saved, ["", "a = 1", "b = 2", "b = 3", f"%{MAGIC}"], saved_at=0) == ["b = 3"]
    # an old version, run before the save and since edited and saved, is not a change
    assert unsaved_cells([("a = 1", 2), ("b = 2", 3)], ["", "a = 0", "a = 1", "b = 2"], saved_at=0) == []
    # re-running an unchanged cell after the save is not a change; trailing blanks do not count
    assert unsaved_cells(saved, ["", "a = 1", "b = 2", "a = 1  \n\n"], saved_at=0) == []


def test_unsaved_rule_by_logged_times():
    saved = [("a = 1", 7)]
    runs = [(100.0, "c = 1"), (300.0, "d = 1"), (301.0, f"%{MAGIC}")]
    # the kernel restarted (counts below the file's): only the logged times tell
    assert unsaved_cells(saved, ["", "a = 1"], saved_at=200.0, runs=runs) == ["d = 1"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="abc =1\n", max_size=12), max_size=6), st.integers(0, 10))
def test_a_kernel_that_ran_only_saved_cells_has_no_unsaved_changes(sources, extra):
    saved = [(s, i + 1) for i, s in enumerate(sources)]
    history = [""] + [s for s in sources] + [sources[i % len(sources)] for i in range(extra)] if sources else [""]
    history.append(CHECK_CELL)
    assert unsaved_cells(saved, history, saved_at=0.0, runs=[(1.0, h) for h in history]) == []


def test_find_notebook(tmp_path):
    one = tmp_path / "hw.ipynb"
    one.write_text("{}")
    assert find_notebook(StubShell(user_ns={"__session__": str(one)})) == one
    assert find_notebook(StubShell(), cwd=tmp_path) == one
    (tmp_path / "other.ipynb").write_text("{}")
    with pytest.raises(Exception) as caught:
        find_notebook(StubShell(), cwd=tmp_path)
    assert "hw.ipynb, other.ipynb" in str(caught.value) and f"%{MAGIC} your_notebook.ipynb" in str(caught.value)


# -- registration with a stub IPython shell -----------------------------------------

def test_load_ext_registers_the_line_magic_and_logs_runs(tmp_path):
    shell = StubShell()
    load_ipython_extension(shell)
    assert list(shell.magics) == [("line", MAGIC)]
    assert len(shell.handlers["pre_run_cell"]) == 1
    magic = shell.magics[("line", MAGIC)]
    assert "unknown argument '--bogus'" in repr(magic("--bogus"))
    missing = magic(str(tmp_path / "nope.ipynb"))
    assert "does not exist" in repr(missing) and "<strong>" in missing._repr_html_()
    bad = magic(f"{tmp_path / 'nope.ipynb'} --rubric no-such-rubric")
    assert "does not exist" in repr(bad)


@pytest.mark.slow
def test_magic_checks_the_saved_notebook_and_warns_about_unsaved_cells(tmp_path):
    nb = with_check_cell(tmp_path / "hw3.ipynb")
    cells = code_cells(nb)
    shell = StubShell(user_ns={"__session__": str(nb)})
    load_ipython_extension(shell)
    os.utime(nb, (1_000_000, 1_000_000))          # saved long ago
    for source in cells:                          # the student ran the saved cells, then the check
        shell.run_cell(source)
    report = shell.magics[("line", MAGIC)]("")
    assert isinstance(report, NotebookCheck) and report.passed and report.unsaved == []
    text, page = str(report), report._repr_html_()
    assert "public score 54/54: all public checks passed" in text and "WARNING" not in text
    assert "<table" in page and "Warning" not in page and "graded after the deadline" in page
    assert report.result["scope"] == "public"

    # an edited cell run after the save, not saved: the check says so (and still grades the file)
    shell.run_cell("def relu(z):\n    return z  # edited, not saved")
    shell.run_cell(cells[-1])
    report = shell.magics[("line", MAGIC)]("")
    assert report.unsaved == ["def relu(z):\n    return z  # edited, not saved"]
    assert "hw3.ipynb has unsaved changes" in str(report) and "<strong>Warning:</strong>" in report._repr_html_()
    assert report.passed


@pytest.mark.slow
def test_function_call_outside_jupyter_checks_the_file(tmp_path):
    nb = with_check_cell(tmp_path / "hw3.ipynb")
    report = check(nb)
    assert report.passed and report.unsaved == [] and str(report).endswith("(checked the saved file hw3.ipynb)")


# -- the same notebook through nngrade check and nngrade batch ----------------------

@pytest.mark.slow
def test_notebook_with_the_check_passes_nngrade_check(tmp_path, run_cli):
    nb = with_check_cell(tmp_path / "hw3.ipynb")
    run = run_cli(["check", nb])
    assert run.code == 0, run
    assert "public score 54/54" in run.out and "all public checks passed" in run.out, run


@pytest.mark.slow
def test_batch_ignores_the_check_cell(tmp_path, run_cli):
    """Batch grades the notebook with the magics exactly like the one without them."""
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(NOTEBOOK, subs / "plain.ipynb")
    with_check_cell(subs / "with_check.ipynb")
    out = tmp_path / "out"
    run = run_cli(["batch", subs, "--out", out, "--workers", "2"])
    assert run.code == 0, run
    plain, checked = (json.loads((out / sid / "result.json").read_text(encoding="utf-8"))
                      for sid in ("plain", "with_check"))
    assert checked["error"] is None and checked["score"] == plain["score"] == 100.0
    strip = lambda r: {k: v for k, v in r.items() if k not in ("submission", "name")}   # noqa: E731
    assert strip(checked) == strip(plain)


@pytest.fixture(scope="module")
def run_cli() -> Callable[..., Any]:
    """`nngrade ARGS` in this process, wide and colourless: (code, out)."""
    import io
    from contextlib import redirect_stderr, redirect_stdout
    from unittest import mock

    from grader.cli import main

    def run(argv: list[Any]) -> SimpleNamespace:
        out, err = io.StringIO(), io.StringIO()
        with mock.patch.dict(os.environ, {"COLUMNS": "200", "NO_COLOR": "1"}), \
                redirect_stdout(out), redirect_stderr(err):
            code = main([str(a) for a in argv])
        return SimpleNamespace(code=code, out=out.getvalue(), err=err.getvalue())

    return run
