"""Check a notebook from inside Jupyter: the public criteria, inline.

In a notebook cell::

    %load_ext grader.notebook
    %nngrade_check                      # or: %nngrade_check nn.ipynb --rubric rubric.yaml

Both lines are IPython magics, and batch grading turns every magic line into
a comment before running a notebook (grader/submission.py,
`notebook_to_source`), so a graded notebook never runs the check and never
fails on it.  (A plain `from grader.notebook import check; check()` would
run in the sandbox and fail to import: use the magics.)

What is checked is the **saved** notebook file, read by the very rule batch
uses (code cells in order, magics not run): `check` grades the file with
`engine.grade(..., public_only=True)`, as `nngrade check` does.  The kernel's
own state is never graded, so unsaved edits are invisible to the check;
`unsaved_cells` warns about them by this rule:

* a cell the kernel ran *after the file was last saved* whose code is not a
  code cell of the saved file is unsaved.  "After the save" is known two
  ways: cells run since `%load_ext` are logged with their time (compared with
  the file's modification time), and every cell is numbered by the kernel
  (`In[n]`) while the saved file records the number each cell last ran as
  (`execution_count`): a cell numbered above the file's highest number ran
  after the save.
* the check's own cell (it holds `nngrade_check`) is never counted; edits
  that were never run are invisible to the kernel: save before checking.

The result shows as an HTML table in Jupyter (`_repr_html_`) and as text
elsewhere (`str`).
"""

from __future__ import annotations

import html
import os
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

__all__ = ["check", "NotebookCheck", "NotebookCheckError", "unsaved_cells", "find_notebook",
           "load_ipython_extension", "MAGIC", "ExecutionLog"]

MAGIC = "nngrade_check"
DEFAULT_RUBRIC = "penguins-silu"
#: user_ns variables Jupyter front ends set to the notebook's path (JupyterLab 4 / Notebook 7; VS Code)
PATH_VARIABLES = ("__session__", "__vsc_ipynb_file__")


class NotebookCheckError(Exception):
    """Why the check could not run, with what to do (shown without a traceback)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass
class ExecutionLog:
    """The cells the kernel ran since the extension was loaded, with the
    wall-clock time each started (IPython's `pre_run_cell` event)."""

    runs: list[tuple[float, str]] = field(default_factory=list)
    clock: Callable[[], float] = time.time

    def pre_run_cell(self, info: Any = None) -> None:
        source = getattr(info, "raw_cell", None)
        if isinstance(source, str):
            self.runs.append((self.clock(), source))


def _normal(source: str) -> str:
    """A cell's code for comparison: trailing blanks of lines and the cell ignored."""
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def saved_cells(path: Path) -> list[tuple[str, int | None]]:
    """(source, execution_count) of the saved notebook's code cells, in order."""
    import nbformat

    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:   # nbformat raises many kinds
        raise NotebookCheckError("notebook-unreadable", f"{path} is not a readable notebook ({exc}); "
                                 "save it from Jupyter (File > Save) and check again") from exc
    cells = []
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            count = cell.get("execution_count")
            cells.append((str(cell.get("source", "")), count if isinstance(count, int) else None))
    return cells


def unsaved_cells(saved: list[tuple[str, int | None]], history: list[str], saved_at: float,
                  runs: list[tuple[float, str]] = ()) -> list[str]:
    """The code of cells the kernel ran after the save that the saved file
    does not hold (the rule in the module docstring).  `history`: the
    kernel's inputs, `history[n]` = `In[n]` (`history[0]` empty); `runs`:
    (start time, code) logged since the extension was loaded."""
    on_disk = {_normal(source) for source, _ in saved}
    last_saved_count = max((count for _, count in saved if count is not None), default=0)
    after_save = [code for n, code in enumerate(history) if n > last_saved_count]
    after_save += [code for started, code in runs if started > saved_at]
    found: list[str] = []
    for code in after_save:
        text = _normal(code)
        if text and MAGIC not in text and text not in on_disk and text not in found:
            found.append(text)
    return found


def find_notebook(shell: Any = None, cwd: Path | None = None) -> Path:
    """The notebook this kernel runs: the path Jupyter gives the kernel, else
    the only notebook in the working folder."""
    namespace = getattr(shell, "user_ns", None) or {}
    for name in PATH_VARIABLES:
        value = namespace.get(name)
        if isinstance(value, str) and value.endswith(".ipynb") and Path(value).is_file():
            return Path(value)
    env = os.environ.get("JPY_SESSION_NAME", "")
    if env.endswith(".ipynb") and Path(env).is_file():
        return Path(env)
    folder = cwd or Path.cwd()
    found = sorted(folder.glob("*.ipynb"))
    if len(found) == 1:
        return found[0]
    listed = ", ".join(p.name for p in found) if found else "none"
    raise NotebookCheckError("notebook-not-found", f"cannot tell which notebook to check (notebooks in "
                             f"{folder}: {listed}); name it: %{MAGIC} your_notebook.ipynb")


@dataclass
class NotebookCheck:
    """The public criteria's results for a saved notebook, shown inline."""

    notebook: Path
    result: dict[str, Any]
    unsaved: list[str] = field(default_factory=list)
    hidden: list[dict[str, Any]] = field(default_factory=list)

    @property
    def public(self) -> list[dict[str, Any]]:
        return [c for c in self.result["criteria"] if c["visibility"] == "public"]

    @property
    def passed(self) -> bool:
        return not self.result.get("error") and all(c["status"] == "passed" for c in self.public)

    def warnings(self) -> list[str]:
        notes = []
        if self.unsaved:
            first = [code.splitlines()[0][:60] for code in self.unsaved[:3]]
            notes.append(f"{self.notebook.name} has unsaved changes: {len(self.unsaved)} cell(s) you ran are not "
                         f"in the saved file (e.g. {'; '.join(repr(f) for f in first)}). The check graded the "
                         "saved file: save (File > Save, Ctrl-S) and check again.")
        if self.result.get("error"):
            notes.append(f"error: {self.result['error']['message']}")
        return notes

    def rows(self) -> list[tuple[str, str, str, str]]:
        """(criterion, points, verdict, feedback) for every criterion."""
        rows = []
        for c in self.result["criteria"]:
            if c["visibility"] != "public":
                rows.append((c["title"], f"-/{c['max_score']:g}", "hidden", "graded after the deadline"))
            else:
                rows.append((c["title"], f"{c['score']:g}/{c['max_score']:g}", c["status"], c["feedback"]))
        rows += [(str(h.get("title", "?")), f"-/{float(h.get('points', 0)):g}", "hidden",
                  "graded after the deadline") for h in self.hidden]
        return rows

    def score_line(self) -> str:
        score = sum(c["score"] for c in self.public)
        top = sum(c["max_score"] for c in self.public)
        verdict = "all public checks passed" if self.passed else \
            f"{sum(c['status'] != 'passed' for c in self.public)} of {len(self.public)} public checks need work"
        return f"public score {score:g}/{top:g}: {verdict} (checked the saved file {self.notebook.name})"

    def __str__(self) -> str:
        lines = [f"WARNING: {w}" for w in self.warnings()]
        widths = [max(len(r[i]) for r in self.rows()) for i in range(3)] if self.rows() else [0, 0, 0]
        for title, points, verdict, feedback in self.rows():
            text = feedback.replace("\n", " ")
            lines.append(f"{title:<{widths[0]}}  {points:>{widths[1]}}  {verdict:<{widths[2]}}  {text}")
        lines.append(self.score_line())
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        esc = html.escape
        colours = {"passed": "#1a7f37", "partial": "#9a6700", "failed": "#cf222e", "error": "#a40e26",
                   "hidden": "#57606a"}
        parts = ['<div class="nngrade-check" style="font-family: sans-serif; max-width: 60em">']
        for w in self.warnings():
            parts.append('<div style="background:#fff8c5; border:1px solid #d4a72c; border-radius:6px; '
                         f'padding:6px 10px; margin:4px 0"><strong>Warning:</strong> {esc(w)}</div>')
        parts.append('<table style="border-collapse: collapse"><thead><tr><th style="text-align:left">criterion'
                     '</th><th>points</th><th>verdict</th><th style="text-align:left">feedback</th></tr></thead>'
                     "<tbody>")
        for title, points, verdict, feedback in self.rows():
            parts.append(f'<tr style="border-top:1px solid #d0d7de"><td>{esc(title)}</td>'
                         f'<td style="text-align:right; white-space:nowrap">{esc(points)}</td>'
                         f'<td style="color:{colours.get(verdict, "inherit")}; font-weight:600">{esc(verdict)}</td>'
                         f'<td style="white-space:pre-wrap; text-align:left">{esc(feedback)}</td></tr>')
        parts.append(f"</tbody></table><p><strong>{esc(self.score_line())}</strong></p></div>")
        return "".join(parts)


def check(notebook: str | os.PathLike | None = None, rubric: str = DEFAULT_RUBRIC, *,
          shell: Any = None, log: ExecutionLog | None = None) -> NotebookCheck:
    """Check the saved notebook (the running one when `notebook` is None)
    on the rubric's public criteria, as `nngrade check` does."""
    from .engine import CHECK_WALL_FACTOR, grade
    from .rubric import load_rubric

    path = Path(notebook) if notebook is not None else find_notebook(shell)
    if not path.is_file():
        raise NotebookCheckError("notebook-not-found", f"{path} does not exist; name the saved notebook: "
                                 f"%{MAGIC} your_notebook.ipynb")
    saved = saved_cells(path)
    history = _history(shell)
    unsaved = unsaved_cells(saved, history, path.stat().st_mtime, log.runs if log is not None else ())
    loaded = load_rubric(rubric)
    result = grade(path, loaded, public_only=True, wall_factor=CHECK_WALL_FACTOR).result
    hidden = [{"title": h.get("title", "?"), "points": h.get("points", 0)} for h in loaded.hidden_summary]
    return NotebookCheck(path, result, unsaved, hidden)


def _history(shell: Any) -> list[str]:
    """The kernel's inputs, In[0] .. In[current] (empty without a shell)."""
    manager = getattr(shell, "history_manager", None)
    raw = getattr(manager, "input_hist_raw", None)
    if raw is None:
        raw = (getattr(shell, "user_ns", None) or {}).get("In")
    return [str(x) for x in raw] if isinstance(raw, list) else []


@dataclass
class _Message:
    """What the magic shows when the check cannot run: the reason and the advice, no traceback."""

    text: str

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return f'<div style="color:#a40e26"><strong>nngrade check:</strong> {html.escape(self.text)}</div>'


def _magic(shell: Any, log: ExecutionLog) -> Callable[[str], Any]:
    def nngrade_check(line: str = "") -> Any:
        """%nngrade_check [NOTEBOOK] [--rubric R]: check the saved notebook's public criteria."""
        try:
            words = shlex.split(line)
        except ValueError as exc:
            return _Message(f"cannot read the arguments ({exc}): %{MAGIC} [NOTEBOOK] [--rubric R]")
        rubric, notebook = DEFAULT_RUBRIC, None
        while words:
            word = words.pop(0)
            if word == "--rubric" and words:
                rubric = words.pop(0)
            elif word.startswith("--rubric="):
                rubric = word.split("=", 1)[1]
            elif notebook is None and not word.startswith("-"):
                notebook = word
            else:
                return _Message(f"unknown argument {word!r}: %{MAGIC} [NOTEBOOK] [--rubric R]")
        try:
            return check(notebook, rubric, shell=shell, log=log)
        except NotebookCheckError as exc:
            return _Message(exc.message)
        except Exception as exc:   # a bad rubric path, a missing file: the message, not a traceback
            message = getattr(exc, "message", None) or str(exc)
            return _Message(f"{type(exc).__name__}: {message}")
    return nngrade_check


def load_ipython_extension(shell: Any) -> None:
    """`%load_ext grader.notebook`: registers the line magic `%nngrade_check`
    and starts logging the cells the kernel runs (for the unsaved-changes rule)."""
    log = ExecutionLog()
    shell.events.register("pre_run_cell", log.pre_run_cell)
    shell.register_magic_function(_magic(shell, log), magic_kind="line", magic_name=MAGIC)
