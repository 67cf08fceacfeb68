"""Where a submission's written answers come from.

* An answers file: `answers.yaml`, `answers.yml` or `answers.json`, handed in
  alone or inside the submission's folder or zip.  Parsed as data, in the
  grader's process (never executed).
* A literal `answers = {...}` assignment in a notebook or a .py file, read
  with `ast.literal_eval` of that one assignment, without running any code
  (rubrics made only of written questions).
* For rubrics with a student class, when the submission holds no answers
  file: the module-level variable `answers` of the student's code, read
  through the sandboxed worker like any other value.
"""

from __future__ import annotations

import ast
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..submission import ANSWER_SUFFIXES, IGNORED_PARTS, SubmissionError, _safe_extract, notebook_to_source
from .parse import MAX_FILE_BYTES, AnswerFormatError, answers_mapping, load_answers_bytes, normalize_key, plain

ANSWER_FILE_NAMES = ("answers.yaml", "answers.yml", "answers.json")
VARIABLE = "answers"
MAX_SOURCE_BYTES = 4 * 1024 * 1024


@dataclass
class AnswerSheet:
    """A submission's answers by normalized question key, or why there are none."""

    values: dict[str, Any] = field(default_factory=dict)
    origin: str = ""
    error: str | None = None

    def lookup(self, key: str) -> tuple[bool, Any]:
        norm = normalize_key(key)
        return (norm in self.values, self.values.get(norm))


def sheet_from_file(path: Path, shown: str | None = None) -> AnswerSheet:
    """One file: an answers file, or a notebook / .py holding `answers = {...}`."""
    shown = shown or path.name
    try:
        if path.suffix.lower() in ANSWER_SUFFIXES:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise AnswerFormatError(f"{shown} is {path.stat().st_size:,} bytes; an answers file may have at "
                                        f"most {MAX_FILE_BYTES // 1024} KiB")
            return AnswerSheet(load_answers_bytes(path.read_bytes(), shown), shown)
        if path.suffix.lower() in (".ipynb", ".py"):
            if path.stat().st_size > MAX_SOURCE_BYTES:
                raise AnswerFormatError(f"{shown} is too large to search for answers")
            source = notebook_to_source(path) if path.suffix.lower() == ".ipynb" else \
                path.read_text(encoding="utf-8", errors="replace")
            literal = literal_answers(source, shown)
            if literal is None:
                raise AnswerFormatError(f"{shown} has no `answers = {{...}}` assignment; hand in answers.yaml "
                                        "or add a cell answers = {'param-count': 12345, ...}")
            return AnswerSheet(answers_mapping(literal, f"{shown} (answers = {{...}})"),
                               f"{shown} (answers = {{...}})")
    except AnswerFormatError as exc:
        return AnswerSheet(origin=shown, error=str(exc))
    except SubmissionError as exc:
        return AnswerSheet(origin=shown, error=exc.message)
    return AnswerSheet(origin=shown, error=f"{shown}: expected answers.yaml, answers.json, a notebook or a .py file")


def literal_answers(source: str, shown: str) -> Any | None:
    """The value of the last top-level `answers = {...}`, if it is a literal.
    Notebook cells are parsed one by one when the whole does not parse."""
    chunks = [source]
    try:
        tree_list = [ast.parse(source)]
    except SyntaxError:
        chunks = source.split("\n# ---- cell ")
        tree_list = []
        for chunk in chunks:
            try:
                tree_list.append(ast.parse(chunk if chunk.startswith("#") else "#" + chunk))
            except SyntaxError:
                continue
    found: ast.expr | None = None
    for tree in tree_list:
        for node in tree.body:
            target_value = None
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == VARIABLE for t in node.targets):
                target_value = node.value
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) \
                    and node.target.id == VARIABLE and node.value is not None:
                target_value = node.value
            if target_value is not None:
                found = target_value
    if found is None:
        return None
    try:
        return ast.literal_eval(found)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as exc:
        raise AnswerFormatError(f"{shown}: `answers = {{...}}` (line {found.lineno}) must hold literal values "
                                "only (numbers, strings, lists): it is read without running your code") from exc


def find_answer_file(folder: Path) -> Path | None:
    """The answers file of a folder (shallowest first, preferred names)."""
    files = [p for p in folder.rglob("*") if p.is_file() and not IGNORED_PARTS.intersection(p.relative_to(folder).parts)
             and not p.name.startswith(".")]
    for name in ANSWER_FILE_NAMES:
        named = sorted((p for p in files if p.name.lower() == name), key=lambda p: (len(p.parts), str(p)))
        if named:
            return named[0]
    return None


def find_answer_code(folder: Path) -> Path | None:
    """A notebook or .py in the folder that assigns `answers = ...`."""
    for suffix in (".ipynb", ".py"):
        for path in sorted(folder.rglob(f"*{suffix}"), key=lambda p: (len(p.parts), str(p))):
            if IGNORED_PARTS.intersection(path.relative_to(folder).parts) or not path.is_file():
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            if f"{VARIABLE} =" in text or f"{VARIABLE}=" in text:
                return path
    return None


def read_submission(path: Path) -> AnswerSheet:
    """Answers of a submission for a rubric of written questions only."""
    path = Path(path)
    if not path.exists():
        raise SubmissionError("missing", f"{path} does not exist")
    if path.is_file() and path.suffix.lower() == ".zip":
        with tempfile.TemporaryDirectory(prefix="nngrade-answers-") as scratch:
            _safe_extract(path, Path(scratch))
            return _from_folder(Path(scratch), path.name)
    if path.is_dir():
        return _from_folder(path, path.name)
    return sheet_from_file(path)


def _from_folder(folder: Path, shown: str) -> AnswerSheet:
    for link in folder.rglob("*"):
        if link.is_symlink():   # never follow a link out of the submission
            return AnswerSheet(origin=shown, error=f"{link.relative_to(folder)} is a link; hand in the file itself")
    found = find_answer_file(folder) or find_answer_code(folder)
    if found is None:
        return AnswerSheet(origin=shown, error=f"{shown} holds no answers file (answers.yaml, answers.yml, "
                           "answers.json) and no notebook with `answers = {...}`")
    return sheet_from_file(found, str(found.relative_to(folder)))


def sheet_from_worker(value: Any) -> AnswerSheet:
    """The student's module-level `answers`, as decoded from the worker."""
    origin = "the variable answers in your code"
    try:
        return AnswerSheet(answers_mapping(plain(value), origin), origin)
    except AnswerFormatError as exc:
        return AnswerSheet(origin=origin, error=str(exc))
