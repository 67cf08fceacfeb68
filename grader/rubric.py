"""Rubric files: YAML in, typed and validated objects out.

A rubric says what the assignment is (architecture, loss, optimizer, data),
how the students' class is spelled (the interface), and what earns points
(criteria, each naming a check and its parameters).  Every mistake in a
rubric is refused up front with the file, the line and the field, because a
rubric error found after grading 400 students is a disaster.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .checks import REGISTRY
from .schema import (ACTIVATIONS, BUNDLED, ArchitectureSpec, Assignment, Criterion, DataSpec, InitSpec,  # noqa: F401
                     Interface, Limits, OptimizerSpec, Regularization, Rubric, Sandbox, Strict, Tolerances)

class RubricError(Exception):
    """A rubric that cannot be used, with where and why."""


def consistency_problems(rubric: Rubric) -> list[tuple[tuple, str]]:
    """Rules that span fields, each with the path of the field to blame."""
    problems: list[tuple[tuple, str]] = []
    seen: dict[str, int] = {}
    for index, crit in enumerate(rubric.criteria):
        if crit.id in seen:
            problems.append((("criteria", index, "id"), f"criterion ids must be unique; {crit.id!r} is already "
                             f"used by criteria.{seen[crit.id]}"))
        seen.setdefault(crit.id, index)
        if crit.check not in REGISTRY:
            problems.append((("criteria", index, "check"), f"unknown check {crit.check!r}; known checks: "
                             f"{', '.join(sorted(REGISTRY))}"))
    total = sum(c.points for c in rubric.criteria)
    if abs(total - rubric.total_points) > 1e-9:
        problems.append((("total_points",), f"criteria points add up to {total:g}, but total_points is "
                         f"{rubric.total_points:g}"))
    if rubric.assignment is None:
        for index, crit in enumerate(rubric.criteria):
            if crit.check != "answers":
                problems.append((("criteria", index, "check"), f"this rubric has no assignment, so it can hold "
                                 f"only written questions (check: answers), not {crit.check!r}"))
        return problems
    n_weights = len(rubric.assignment.architecture.hidden) + 1
    valid = {f"W{i}" for i in range(n_weights)}
    for kind in ("l1", "l2"):
        for key in getattr(rubric.assignment.regularization, kind):
            if key not in valid:
                problems.append((("assignment", "regularization", kind, key),
                                 f"regularization names {key}, but the weight matrices are "
                                 f"{', '.join(sorted(valid))}"))
    return problems


def bundled_ids() -> list[str]:
    """The ids of the bundled rubrics (rubrics/<id>.yaml), sorted."""
    return sorted(p.stem for p in BUNDLED.glob("*.yaml"))


def looks_like_path(name_or_path: str | Path) -> bool:
    """A rubric argument is a path when it ends in .yaml/.yml, holds a path
    separator, or names an existing file; anything else is a bundled id, so
    a folder that happens to share an id's name never shadows it."""
    text = str(name_or_path)
    path = Path(text)
    return path.suffix in (".yaml", ".yml") or "/" in text or "\\" in text or path.is_file()


def find_rubric(name_or_path: str | Path) -> Path:
    """A rubric by path, or by id among the bundled ones (rubrics/<id>.yaml);
    which one an argument is: `looks_like_path`."""
    path = Path(name_or_path)
    if looks_like_path(name_or_path):
        if not path.is_file():
            raise RubricError(f"{path}: rubric file not found" + (" (it is a folder)" if path.is_dir() else ""))
        return path
    bundled = BUNDLED / f"{name_or_path}.yaml"
    if bundled.is_file():
        return bundled
    known = ", ".join(bundled_ids()) or "none"
    raise RubricError(f"no rubric {str(name_or_path)!r}: not a file, and not a bundled id ({known})")


def load_rubric(name_or_path: str | Path, *, skeleton: bool = True, cached: bool = False) -> Rubric:
    """`skeleton=False`: do not resolve `interface.skeleton` (only a kit
    uses it; the Gradescope bundle grades without it and does not carry it).
    `cached=True`: the parsed rubric may come from the user's cache
    (`grader.rubric_cache`; what `nngrade check` does, run after run)."""
    path = find_rubric(name_or_path)
    text = path.read_text(encoding="utf-8")
    if cached:
        from .rubric_cache import parse_cached

        rubric = parse_cached(text, str(path), parse_rubric, _is_validated)
    else:
        rubric = parse_rubric(text, str(path))
    if rubric.answers and not Path(rubric.answers).is_absolute():
        answers = (path.parent / rubric.answers).resolve()
        if not answers.is_file():
            raise RubricError(f"{path}: answers file {rubric.answers} not found next to the rubric")
        rubric = rubric.model_copy(update={"answers": str(answers)})
    if rubric.interface.skeleton and skeleton:
        rubric = _resolve_skeleton(rubric, path)
    if rubric.interface.glue:
        rubric = _resolve_glue(rubric, path)
    return rubric


def _resolve_glue(rubric: Rubric, path: Path) -> Rubric:
    """`interface.glue`, resolved against the rubric's folder and read: a
    glue that is missing, not Python, lacks construct/get/set_parameters,
    or lacks an operation a criterion needs is refused here, before any
    grading (`grader.glue`)."""
    from .glue import RUBRIC, GlueError, read_glue, unsupported_criteria

    given = Path(rubric.interface.glue or "")
    resolved = given if given.is_absolute() else (path.parent / given).resolve()
    try:
        glue = read_glue(resolved, RUBRIC)
    except GlueError as exc:
        raise RubricError(f"{path}: interface.glue: {exc}") from None
    missing = unsupported_criteria(rubric, glue)
    if missing:
        raise RubricError("\n".join(
            f"{path}: criterion {cid}: needs operation(s) {', '.join(ops)} that the glue {glue.name} does not "
            "define: define them in the glue, or leave this criterion out" for cid, ops in missing.items()))
    interface = rubric.interface.model_copy(update={"glue": str(resolved)})
    return rubric.model_copy(update={"interface": interface})


def _is_validated(value: object) -> bool:
    """A `Rubric` whose every criterion carries its check's own `Params`:
    what `parse_rubric` returns (a cached one is checked against this)."""
    if not isinstance(value, Rubric):
        return False
    return all(crit.check in REGISTRY and type(crit._params) is REGISTRY[crit.check].Params
               for crit in value.criteria)


def _resolve_skeleton(rubric: Rubric, path: Path) -> Rubric:
    """`interface.skeleton`, resolved against the rubric's folder (like
    `answers`) and refused when it is not a file, so a kit build never
    finds out late.  The criteria's validated parameters survive the copy."""
    skeleton = Path(rubric.interface.skeleton or "")
    resolved = skeleton if skeleton.is_absolute() else (path.parent / skeleton).resolve()
    if not resolved.is_file():
        raise RubricError(f"{path}: interface.skeleton: file {rubric.interface.skeleton} not found "
                          f"(a path relative to the rubric's folder)")
    interface = rubric.interface.model_copy(update={"skeleton": str(resolved)})
    return rubric.model_copy(update={"interface": interface})


def parse_rubric(text: str, filename: str = "<rubric>") -> Rubric:
    """Parse and validate; every error names file:line and the field path.
    (PyYAML is imported here, not at the top: `nngrade check` with a cached
    rubric, grader/rubric_cache.py, never parses one.)"""
    import yaml

    try:
        node, data = _compose_and_construct(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{filename}:{mark.line + 1}" if mark else filename
        raise RubricError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    if not isinstance(data, dict):
        raise RubricError(f"{filename}:1: a rubric is a mapping of fields (id, title, criteria, ...)")
    try:
        rubric = Rubric(**data)
    except ValidationError as exc:
        raise RubricError(_format_errors(exc, filename, node)) from exc
    problems = consistency_problems(rubric)
    _refuse(problems, filename, node)
    for index, crit in enumerate(rubric.criteria):
        try:
            crit._params = REGISTRY[crit.check].params(crit.params)
        except ValidationError as exc:
            raise RubricError(_format_errors(exc, filename, node, prefix=("criteria", index, "params"))) from exc
    problems = check_problems(rubric)
    _refuse(problems, filename, node)
    return rubric


def _refuse(problems: list[tuple[tuple, str]], filename: str, node: Any) -> None:
    if problems:
        raise RubricError("\n".join(f"{filename}:{_line_of(node, loc)}: {'.'.join(str(p) for p in loc)}: {msg}"
                                    for loc, msg in problems))


def check_problems(rubric: Rubric) -> list[tuple[tuple, str]]:
    """What each criterion's check declares it needs from the rubric: a
    public criterion's check must be judgeable from recorded answers, and
    the check's own `validate` hook (blocks exist, probe depth follows the
    architecture, the reference reaches the training bar) must find nothing."""
    problems: list[tuple[tuple, str]] = []
    for index, crit in enumerate(rubric.criteria):
        check = REGISTRY[crit.check]
        if crit.visibility == "public" and (not check.public or check.reference and check.prefetch is None):
            problems.append((("criteria", index, "visibility"), f"check {crit.check!r} cannot be public: "
                             "a student kit could not judge it (its judge asks the reference "
                             "for answers no kit can record): make it hidden"))
        if check.validate is not None:
            for message in check.validate(rubric, crit, crit.check_params()):
                problems.append((("criteria", index, "params"), message))
    return problems


def audit_problems(rubric: Rubric) -> list[str]:
    """The costly rules (each check's `audit` hook, e.g. the reference itself
    reaches the training bar with the criterion's settings), one line per
    problem naming the criterion.  Run by `nngrade rubric validate` and once
    before a batch, never on every load: they may train the reference."""
    problems = []
    for index, crit in enumerate(rubric.criteria):
        check = REGISTRY[crit.check]
        if check.audit is not None:
            problems += [f"criteria.{index} ({crit.id}): {message}"
                         for message in check.audit(rubric, crit, crit.check_params())]
    return problems


def refuse_failed_audits(rubric: Rubric, filename: str | None = None) -> None:
    """RubricError listing every failed audit (`audit_problems`), if any."""
    problems = audit_problems(rubric)
    if problems:
        raise RubricError("\n".join(f"{filename or rubric.id}: {line}" for line in problems))


def _compose_and_construct(text: str) -> tuple[Any, Any]:
    """The node tree (for line numbers) and the data, from one parse: what
    `yaml.compose` then `yaml.safe_load` gave, same errors included, at half
    the cost (parsing is most of what loading a rubric costs on every
    `nngrade check`).  The pure-Python parser on purpose: libyaml's
    (`CSafeLoader`) is faster but accepts and reads some texts differently
    (tabs, bare tags, block-scalar headers), and a rubric must mean the same
    on every machine."""
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def _format_errors(exc: ValidationError, filename: str, root: Any, prefix: tuple = ()) -> str:
    lines = []
    for err in exc.errors():
        loc = tuple(prefix) + tuple(err["loc"])
        line = _line_of(root, loc)
        field = ".".join(str(p) for p in loc) or "(top level)"
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown field (check its spelling)"
        elif err["type"] == "missing":
            message = "required field is missing"
        lines.append(f"{filename}:{line}: {field}: {message}")
    return "\n".join(lines)


def _line_of(node: Any, loc: tuple) -> int:
    """The 1-based line of the deepest YAML node the error path reaches."""
    import yaml

    line = (node.start_mark.line + 1) if node is not None else 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if match is None:
                break
            key, node = match
            line = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line
