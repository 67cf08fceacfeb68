"""Per-submission glue: the instructor's map from a student to a glue file.

Some students drift from the course's API (`forwardPass`, one-based keys,
layers as objects, a velocity passed in and out).  Rather than editing
their file, the instructor writes a few lines of glue (grader/glue.py) for
that one student and names it in a map, a YAML file of plain entries::

    # glue-map.yaml: submission -> glue file, relative to this file
    forward_backward_one_based: forward_backward_one_based.py
    velocity_as_argument.py: glue/velocity.py

A key names a submission as `batch` does: its id (`OUT/<id>/`), its name as
handed in, or its file or folder name.  Every scalar is read as text (no
YAML typing: a student id `0123` stays `0123`).

Glue is trusted instructor code: it runs next to the student's, but the
grader believes what its file says it is.  So neither the map nor a glue
file may lie inside the submissions tree (a file in a student's folder or
zip is student input), and every refusal happens before anything is
graded: a map entry naming no submission, two entries naming one, a glue
`read_glue` refuses, a glue lacking an operation a criterion needs.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import yaml

from .glue import PER_SUBMISSION, Glue, GlueError, read_glue, read_instructor_text, unsupported_criteria
from .names import display
from .submission import submission_name

if TYPE_CHECKING:
    from .intake.plan import Entry
    from .schema import Rubric

__all__ = ["GlueMapError", "MapEntry", "read_map", "check_outside", "load_glues", "resolve", "single"]

#: a map is a short list of students: anything larger is not one
MAX_MAP_BYTES = 256 * 1024


class GlueMapError(Exception):
    """A glue map (or a glue it names) that cannot be used: the batch is
    refused before anything is graded (a usage error, exit 2)."""


@dataclass(frozen=True)
class MapEntry:
    """One line of the map: the submission as written, the glue's path
    (resolved against the map's folder) and the line, for messages."""

    key: str
    glue_path: Path
    line: int


def read_map(path: Path) -> list[MapEntry]:
    """The entries of a glue map, each glue path resolved against the map's
    folder.  Refused (GlueMapError, with file:line): not a file, not UTF-8,
    not a mapping of text to text, an empty key or path, a key twice."""
    path = Path(path)
    text = read_instructor_text(path, "glue map", MAX_MAP_BYTES, "a map names a few students", GlueMapError)
    try:
        node = yaml.compose(text, Loader=yaml.BaseLoader)   # every scalar stays text
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise GlueMapError(f"{where}: the glue map is not valid YAML: {getattr(exc, 'problem', None) or exc}") \
            from None
    if node is None:
        raise GlueMapError(f"glue map {path} is empty: write one line per student, "
                           "'submission: glue.py' (the glue's path relative to the map)")
    if not isinstance(node, yaml.MappingNode):
        raise GlueMapError(f"{path}:{node.start_mark.line + 1}: a glue map is a mapping of lines "
                           "'submission: glue.py' (the glue's path relative to the map)")
    entries: list[MapEntry] = []
    seen: dict[str, int] = {}
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode) or not isinstance(value_node, yaml.ScalarNode):
            raise GlueMapError(f"{path}:{line}: each entry is 'submission: glue.py' (text on both sides)")
        key, value = key_node.value.strip(), value_node.value.strip()
        if not key or not value:
            raise GlueMapError(f"{path}:{line}: an entry needs a submission and a glue file "
                               f"(got {key or '(nothing)'!r}: {value or '(nothing)'!r})")
        if key in seen:
            raise GlueMapError(f"{path}:{line}: {key} is already mapped on line {seen[key]}")
        seen[key] = line
        given = Path(value)
        entries.append(MapEntry(key, given if given.is_absolute() else path.parent / given, line))
    return entries


def _inside(path: Path, tree: Path) -> bool:
    """Whether `path` lies in `tree` (or is it), by its name as given and by
    where its links lead: a link out of the tree into it counts as inside."""
    tree = tree.resolve()
    lexical = Path(os.path.normpath(Path(path).absolute()))   # 'subs/../staff/g.py' is not in subs
    return any(p == tree or p.is_relative_to(tree) for p in (lexical, Path(path).resolve()))


def check_outside(what: str, path: Path, submissions: Path, tree: str = "the submissions folder") -> None:
    """Refuse instructor input that lies inside the submissions tree: a
    student put it there, so it is student input, never trusted as glue."""
    if _inside(path, submissions):
        raise GlueMapError(f"{what} {display(str(path))} is inside {tree} {display(str(submissions))}: a file "
                           "among the submissions is student input and is never trusted as glue; keep glue and "
                           "its map outside it")


def load_glues(paths: Iterable[Path], rubric: "Rubric", submissions: Path,
               tree: str = "the submissions folder") -> dict[Path, Glue]:
    """Each distinct glue file read once (as a per-submission glue) and
    checked: outside the submissions tree, accepted by `read_glue`, and
    defining every operation the rubric's criteria need."""
    if rubric.answers_only:
        raise GlueMapError(f"rubric {rubric.id} asks written questions only: there is no class for a glue to "
                           "adapt")
    glues: dict[Path, Glue] = {}
    for path in paths:
        if path in glues:
            continue
        check_outside("glue file", path, submissions, tree)
        try:
            glue = read_glue(path, PER_SUBMISSION)
        except GlueError as exc:
            raise GlueMapError(str(exc)) from None
        missing = unsupported_criteria(rubric, glue)
        if missing:
            needed_by: dict[str, list[str]] = {}
            for cid, ops in missing.items():
                for op in ops:
                    needed_by.setdefault(op, []).append(cid)
            lacks = " and ".join(f"no {op} (needed by {', '.join(cids)})" for op, cids in needed_by.items())
            raise GlueMapError(f"glue {display(str(path))} cannot grade rubric {rubric.id}: it defines {lacks}. "
                               "Define those functions in the glue (grader/glue.py lists the operations)")
        glues[path] = glue
    return glues


def resolve(map_path: Path, entries: "list[Entry]", rubric: "Rubric", submissions: Path) -> dict[str, Glue]:
    """Submission id -> its glue, for every line of the map at `map_path`.
    `entries` are what the batch grades (grader/intake/plan.py); a key
    matches an entry's id, its name as handed in, or its file name.  Any
    problem is a GlueMapError naming the line (and close ids for a typo)."""
    check_outside("glue map", map_path, submissions)
    lines = read_map(map_path)
    names: dict[str, str] = {}
    for entry in entries:
        names.update({display(entry.path.name): entry.sid, submission_name(entry.path): entry.sid,
                      entry.name: entry.sid, entry.sid: entry.sid})
    glues = load_glues([line.glue_path for line in lines], rubric, submissions)
    out: dict[str, Glue] = {}
    first: dict[str, MapEntry] = {}
    for line in lines:
        sid = names.get(line.key)
        if sid is None:
            close = difflib.get_close_matches(line.key, sorted(names), n=3, cutoff=0.6)
            hint = f" (did you mean {' or '.join(close)}?)" if close else ""
            raise GlueMapError(f"{display(str(map_path))}:{line.line}: no submission named {line.key}{hint} in "
                               f"{display(str(submissions))}; a key is an id as in OUT/<id>/, the name as handed "
                               "in, or its file name")
        if sid in first:
            raise GlueMapError(f"{display(str(map_path))}:{line.line}: {line.key} and {first[sid].key} "
                               f"(line {first[sid].line}) both name submission {sid}: keep one")
        first[sid] = line
        out[sid] = glues[line.glue_path]
    return out


def single(glue_path: Path, rubric: "Rubric", submission: Path) -> Glue:
    """`nngrade grade FILE --glue GLUE`: one student's glue, checked like a
    map's (it is neither the submission nor a file of its folder)."""
    return load_glues([Path(glue_path)], rubric, submission, tree="the submission")[Path(glue_path)]
