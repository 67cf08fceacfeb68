"""Instructor glue: the grader's canonical operations on a course's own API.

The checks ask for canonical operations (`grader.operations`).  Under the
default glue the worker carries them out by calling the handout's methods
by the rubric's names (`interface.methods`).  A course whose template does
not fit that (labels from `feed_forward`, a `back_propagate(y)` that fills
`self.gradient`, optimizers as module-level functions) names a *glue
module* instead: instructor-written Python, standard library and NumPy,
with one module-level function per operation::

    construct(student, config) -> net      # student: the submission's module; config: see below
    get_parameters(net) -> Mapping         # the student's own blocks, as the rubric declares them
    set_parameters(net, params)            # the same keys and layout
    reset_optimizer(net)                   # optional: forget optimizer state after an injection
    probabilities(net, x) -> array         # (or scores, when interface.outputs says so)
    loss(net, x, y) -> float
    gradient(net, x, y) -> Mapping         # same keys and layout as get_parameters
    step(net, x, y)                        # one optimizer iteration
    train(net, x, y, n) -> list            # n iterations, the loss of each

`config` holds num_input, num_hidden (an int, or a list for several hidden
layers), hidden (always a list), num_output, gradient_method ("gd" or
"nag"), lr, momentum, and options: the rubric's `interface.glue_options`.

The glue runs in the worker, next to the student's code and under the same
limits (`grader/sandbox/worker.py` wraps each net in a view exposing the
operations); it never runs in the grader's process.  Everything it answers
is an observation the checks validate and judge against the reference, so
a glue adds no trusted number.  This module is the grader's side: reading a
glue file, what it defines, and which criteria a rubric can grade with it.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .operations import OPERATIONS

if TYPE_CHECKING:
    from .schema import Rubric

__all__ = ["Glue", "GlueError", "RUBRIC", "PER_SUBMISSION", "SHIPPED_FOLDER", "SHORT_HASH", "shipped_glue_path",
           "read_instructor_text", "GLUE_FUNCTIONS", "REQUIRED", "OPTIONAL", "read_glue", "unsupported_criteria",
           "wire_methods"]

#: the module-level functions a glue may define: one per canonical operation
GLUE_FUNCTIONS: tuple[str, ...] = tuple(OPERATIONS)
#: every glue defines these: without them no criterion can even build a net
REQUIRED: tuple[str, ...] = ("construct", "get_parameters", "set_parameters")
#: a glue may leave these out: nothing to do when absent
OPTIONAL: tuple[str, ...] = ("reset_optimizer",)
#: the glued net's method for each method role (what the probe sends under glue)
wire_methods: dict[str, str] = {op.role: op.name for op in OPERATIONS.values() if op.role is not None and op.called}

#: largest glue file accepted: a few dozen lines is the norm
MAX_BYTES = 256 * 1024

#: where a glue comes from (`Glue.origin`, result.json's glue record): the
#: rubric's `interface.glue`, or an instructor's map naming it for one student
RUBRIC, PER_SUBMISSION = "rubric", "per-submission"
#: the folder a kit or a Gradescope bundle ships the rubric's glue in, beside its rubric.yaml
SHIPPED_FOLDER = "glue"
#: how many hex digits of a glue's content hash its outputs show
SHORT_HASH = 12


def shipped_glue_path(rubric: "Rubric") -> str | None:
    """Where a shipped copy of the rubric (a kit's, a Gradescope bundle's)
    finds its glue, relative to its rubric.yaml: `glue/<file>`; None for
    the default glue."""
    glue = rubric.interface.glue
    return f"{SHIPPED_FOLDER}/{Path(glue).name}" if glue else None


class GlueError(Exception):
    """A glue file that cannot be used, with the file and why."""


@dataclass(frozen=True)
class Glue:
    """One glue module: its name (the file's), its text, where it comes
    from (`RUBRIC`, or `PER_SUBMISSION` for one student's), and the
    operations it defines (found in its syntax tree, never by running it
    in the grader)."""

    name: str
    source: str
    origin: str
    operations: tuple[str, ...]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.source.encode("utf-8")).hexdigest()

    def wire(self) -> dict[str, str]:
        """What the load request carries."""
        return {"name": self.name, "source": self.source}

    def record(self) -> dict[str, str]:
        """What result.json says about it (name and content hash, never the text)."""
        return {"name": self.name, "sha256": self.sha256, "origin": self.origin}


def read_glue(path: str | Path, origin: str = RUBRIC) -> Glue:
    """Read and check a glue file: UTF-8 Python that compiles, defining
    `REQUIRED` as module-level functions.  GlueError names what is wrong."""
    path = Path(path)
    source = read_instructor_text(path, "glue file", MAX_BYTES, "a glue module is a few dozen lines", GlueError)
    return parse_glue(source, path.name, origin, where=str(path))


def read_instructor_text(path: Path, what: str, limit: int, norm: str, error: type[Exception]) -> str:
    """The UTF-8 text of a small instructor file (a glue, a glue map), or
    `error` saying it is missing, a folder, over `limit` bytes (`norm`: what
    such a file usually is) or not UTF-8: one wording for each refusal."""
    if not path.is_file():
        raise error(f"{what} {path} not found" + (" (it is a folder)" if path.is_dir() else ""))
    raw = path.read_bytes()
    if len(raw) > limit:
        raise error(f"{what} {path} is {len(raw)} bytes; {norm} (limit {limit} bytes)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{what} {path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def parse_glue(source: str, name: str, origin: str = RUBRIC, where: str | None = None) -> Glue:
    """A `Glue` from its text (see `read_glue`)."""
    where = where or name
    try:
        tree = ast.parse(source, filename=where)
    except SyntaxError as exc:
        raise GlueError(f"{where}:{exc.lineno}: the glue module is not valid Python: {exc.msg}") from None
    defined = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    missing = [op for op in REQUIRED if op not in defined]
    if missing:
        raise GlueError(f"{where}: a glue module defines {', '.join(REQUIRED)} as module-level functions; "
                        f"missing: {', '.join(missing)}")
    return Glue(name, source, origin, tuple(op for op in GLUE_FUNCTIONS if op in defined))


def unsupported_criteria(rubric: "Rubric", glue: Glue) -> dict[str, list[str]]:
    """Criterion id -> the operations its check needs that `glue` does not
    define (criteria it supports are left out; `OPTIONAL` ones never count)."""
    from .checks import REGISTRY

    out: dict[str, list[str]] = {}
    for crit in rubric.criteria:
        if crit.check == "answers":
            continue
        needed = [op for op in REGISTRY[crit.check].operations if op not in OPTIONAL]
        missing = [op for op in needed if op not in glue.operations]
        if missing:
            out[crit.id] = missing
    return out


def rubric_glue(rubric: "Rubric") -> Glue | None:
    """The rubric's glue (`interface.glue`, resolved against the rubric's
    folder when it was loaded), read afresh, or None for the default glue."""
    path = rubric.interface.glue
    return read_glue(path, RUBRIC) if path else None
