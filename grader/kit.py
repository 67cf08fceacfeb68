"""The student kit: everything `nngrade check` needs, and nothing it must not.

A kit holds the *public* part of a rubric, the data, a skeleton `nn.py`,
instructions, and `answers.json`: the reference's answers to exactly the
questions the public checks ask (their probe inputs are seeded, so they are
known in advance).  With it, the self-check runs without the reference
solution and without any hidden criterion's parameters: hidden criteria
appear only as titles and points.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from .adapter import asked_shape, interface_keys
from .checks import REGISTRY
from .checks.base import Context
from .glue import shipped_glue_path
from .kitpkg import write_checker
from .operations import OPERATIONS, Operation
from .oracle import Oracle, architecture_of
from .probe import constructor_kwargs
from .rubric import Rubric

SKELETON_NAME = "nn.py"
SKELETON_ASIDE = "nn.skeleton.py"   # where the skeleton goes when KIT/nn.py holds other work

INSTALL = """Install the checker once (Python 3.11 or newer; it brings NumPy and the
check's few dependencies, and no solution), from this folder:

    python3 -m venv .venv
    . .venv/bin/activate            # Windows: use WSL (the self-check's sandbox is Linux's)
    pip install .

Then, in that environment:"""

SKELETON_HEADER = '''"""{title}: your implementation.

Run the public self-check at any time (install it first: see README.md):

    nngrade check nn.py
"""
import numpy as np


class {class_name}:
'''
#: how the skeleton's loss docstring names each loss
LOSS_TEXT = {"cross_entropy": "Mean cross-entropy", "squared_error": "Mean of 1/2 ||y - y~||^2"}
INDENT = "    "


FORMAT_POINTS = 1.0   # a written question's format check in a kit (its value is graded after the deadline)


def public_rubric(rubric: Rubric) -> dict[str, Any]:
    """The rubric as students may see it: public criteria with their
    parameters, hidden ones reduced to title and points.  Written questions
    (check `answers`), public or hidden, become format checks: their form
    and key only, never the computation that gives the expected value."""
    data = rubric.model_dump(mode="json", exclude_defaults=False)
    public = [c for c in data["criteria"] if c["visibility"] == "public" and c["check"] != "answers"]
    public += [_format_criterion(c) for c in rubric.criteria if c.check == "answers"]
    data["criteria"] = public
    data["total_points"] = sum(c["points"] for c in public)
    data["hidden_summary"] = [{"title": c.title, "points": c.points} for c in rubric.criteria
                              if c.visibility != "public" or c.check == "answers"]
    data["answers"] = None if rubric.answers_only else "answers.json"
    data["interface"]["skeleton"] = None   # the instructor's path; the kit's nn.py is that file
    data["interface"]["glue"] = shipped_glue_path(rubric)   # the kit's copy, never the instructor's path
    data["description"] = (rubric.description + " " if rubric.description else "") + \
        "(Student kit: public criteria only.)"
    return data


def _format_criterion(crit: Any) -> dict[str, Any]:
    params = crit.check_params()
    return {"id": crit.id, "title": f"Answer format: {crit.title}", "points": FORMAT_POINTS,
            "visibility": "public", "check": "answers", "hint": "",
            "params": {"question": params.question, "answer": params.key(crit.id), "form": params.form_of(),
                       "variables": params.variables}}


FORM_TEXT = {"integer": "a whole number, e.g. 12345 or 12,345",
             "number": "a number, e.g. 0.125",
             "formula": "a formula, e.g. 6*N_H + 2",
             "shape": "a shape, e.g. [10, 3], 10x3 or N_H x 10",
             "array": "a vector or matrix, e.g. [0.25, -0.5] or [[1, 2], [3, 4]]"}


def answers_template(rubric: Rubric) -> str:
    """answers.yaml for students to fill in: one key per written question."""
    lines = [f"# Written answers: {rubric.title}",
             "# One line per question: write your answer after the colon.",
             "# Numbers: 12345, 12,345 or 12 345.  Shapes: [10, 3], 10x3, (10, 3) or N_H x 10.",
             "# Formulas in N_H: 6*N_H + 2 or 6 N_H + 2.  Vectors and matrices: [0.25, -0.5], [[1, 2], [3, 4]].",
             "# Check the format (not the values) with:  nngrade check answers.yaml --rubric rubric.yaml", ""]
    for crit in rubric.criteria:
        if crit.check != "answers":
            continue
        params = crit.check_params()
        lines.append(f"# {crit.title} ({crit.points:g} points): {FORM_TEXT[params.form_of()]}")
        if params.question:
            lines.append(f"#   {' '.join(params.question.split())}")
        lines.append(f"{params.key(crit.id)}:")
        lines.append("")
    return "\n".join(lines)


def write_glue(rubric: Rubric, out: Path) -> Path | None:
    """Copy the rubric's glue module into the kit (`shipped_glue_path`): the
    self-check carries out the operations through it, as final grading does.
    It is the instructor's mapping onto the course's API, no solution."""
    rel = shipped_glue_path(rubric)
    if rel is None:
        return None
    target = out / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    for old in target.parent.glob("*.py"):   # a rebuilt kit ships its rubric's glue alone (kitpkg copies them all)
        old.unlink()
    target.write_bytes(Path(rubric.interface.glue or "").read_bytes())
    return target


def record_answers(rubric: Rubric) -> dict[str, Any]:
    """Ask the reference every question the public checks can ask."""
    oracle = Oracle(rubric, record={})
    for crit in rubric.public_criteria:
        check = REGISTRY[crit.check]
        prefetch = getattr(check, "prefetch", None)
        if prefetch is not None:
            prefetch(Context(rubric, oracle, crit), crit.check_params())
    return oracle.recorded()


def skeleton_target(out: Path, skeleton: bytes) -> Path:
    """Where the skeleton is written: `nn.py`, unless that file already
    holds something else (a student's or an instructor's work, never
    overwritten), then `nn.skeleton.py` beside it."""
    target = Path(out) / SKELETON_NAME
    if target.exists() and target.read_bytes() != skeleton:
        return Path(out) / SKELETON_ASIDE
    return target


def build_kit(rubric: Rubric, out: Path) -> Path:
    """Write the kit into `out` (created if needed): the files students
    read and hand in, and the installable checker (`kitpkg.py`)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "rubric.yaml").write_text(
        f"# Student kit for {rubric.title}: public criteria only.\n"
        + yaml.safe_dump(public_rubric(rubric), sort_keys=False, allow_unicode=True), encoding="utf-8")
    written = any(c.check == "answers" for c in rubric.criteria)
    if written:
        (out / "answers.yaml").write_text(answers_template(rubric), encoding="utf-8")
    if rubric.answers_only:
        (out / "README.md").write_text(_written_instructions(rubric), encoding="utf-8")
        write_checker(out, rubric.id, rubric.title)
        return out
    (out / "answers.json").write_text(json.dumps(record_answers(rubric), sort_keys=True) + "\n", encoding="utf-8")
    write_glue(rubric, out)
    _write_data(rubric, out / "data")
    skeleton = skeleton_source(rubric)
    skeleton_target(out, skeleton).write_bytes(skeleton)
    (out / "README.md").write_text(_instructions(rubric), encoding="utf-8")
    write_checker(out, rubric.id, rubric.title)
    return out


def _written_instructions(rubric: Rubric) -> str:
    rows = "\n".join(f"| `{c.check_params().key(c.id)}` | {c.title} | {c.points:g} |"
                      for c in rubric.criteria if c.check == "answers")
    return f"""# {rubric.title}: student kit

{rubric.description}

Files:
* `answers.yaml`: one line per question; write your answers there and hand it in
  (alone, in a folder or a .zip; a notebook cell `answers = {{...}}` with the same
  keys and literal values works too).
* `rubric.yaml`: what the self-check uses.
* `pyproject.toml`, `checker/`: the self-check itself (no solution inside).

{INSTALL}

    nngrade check answers.yaml

The self-check reads your answers and reports the format only; the values
are graded after the deadline.

| key | question | points |
| --- | --- | --- |
{rows}
"""


def _write_data(rubric: Rubric, folder: Path) -> None:
    data = Oracle(rubric).dataset
    folder.mkdir(exist_ok=True)
    header = ",".join([*data.feature_names, "label"])
    for split, x, y in (("train", data.x_train, data.y_train), ("test", data.x_test, data.y_test)):
        rows = np.column_stack([x, y])
        np.savetxt(folder / f"{split}.csv", rows, delimiter=",", header=header, comments="",
                   fmt=["%.10g"] * x.shape[1] + ["%d"])
    (folder / "classes.txt").write_text("\n".join(data.class_names) + "\n", encoding="utf-8")


def shapes_text(rubric: Rubric) -> str:
    """"W0 (16, 4), b0 (16, 1), ...": the rubric's network's blocks (the
    reference's shapes) under the rubric's key names, biases flat (16,)
    when the rubric's `bias_layouts` accepts only flat ones."""
    arch, iface = architecture_of(rubric), rubric.interface
    shapes = arch.shapes()
    return ", ".join(f"{student} {asked_shape(canon, shapes[canon], iface.bias_layouts, iface.weight_layouts)}"
                     for canon, student in interface_keys(arch.num_layers, iface))


def skeleton_source(rubric: Rubric) -> bytes:
    """The kit's nn.py: the course's own skeleton file (`interface.skeleton`)
    byte for byte, else one generated from the canonical operations."""
    if rubric.interface.skeleton:
        return Path(rubric.interface.skeleton).read_bytes()
    return generated_skeleton(rubric).encode("utf-8")


def generated_skeleton(rubric: Rubric) -> str:
    """A skeleton in the rubric's spelling: the class, a constructor taking
    the rubric's keyword names, then one stub per canonical operation that
    has a method of its own (`grader.operations`: its role, signature and
    doc), so the list of methods a student writes is the grader's own."""
    iface = rubric.interface
    values = skeleton_values(rubric)
    methods = [_constructor(rubric)]
    methods += [_stub(op, iface.method(op.role), values) for op in OPERATIONS.values() if op.role is not None]
    return SKELETON_HEADER.format(title=rubric.title, class_name=iface.class_name) + "\n".join(methods)


def skeleton_values(rubric: Rubric) -> dict[str, Any]:
    """What the operations' docs name, in the rubric's words and numbers."""
    iface, init = rubric.interface, rubric.assignment.init
    out = iface.kwarg("num_output")
    return {"mean": init.mean, "std": init.std, "theta": iface.parameters_attribute, "shapes": shapes_text(rubric),
            "loss_text": LOSS_TEXT[rubric.assignment.loss], "num_input": iface.kwarg("num_input"),
            "probabilities_shape": f"({out}, S)" if iface.output_layouts[0] == "CS" else f"(S, {out})",
            "gradient_method": iface.kwarg("gradient_method"), "gd": iface.gradient_methods["gd"],
            "nag": iface.gradient_methods["nag"]}


def _constructor(rubric: Rubric) -> str:
    """`__init__` with the rubric's keyword names and the assignment's values
    as defaults (the grader passes every one, `constructor_extra` too),
    storing each, then drawing the parameters."""
    iface = rubric.interface
    params = list(constructor_kwargs(rubric, list(rubric.assignment.architecture.hidden)).items())
    signature = [f"{name}={_literal(value)}" for name, value in params]
    lines = [", ".join(signature[i:i + 3]) for i in range(0, len(signature), 3)]
    head = f"{INDENT}def __init__(self, " + (",\n" + INDENT + " " * len("def __init__(")).join(lines) + "):"
    body = [f"{INDENT * 2}self.{name} = {name}" for name, _ in params]
    body.append(f"{INDENT * 2}self.{iface.method('init_params')}()")
    return "\n".join([head, *body]) + "\n"


def _stub(op: Operation, method: str, values: dict[str, Any]) -> str:
    """One method to implement: its signature under the rubric's name, its
    docstring, and `raise NotImplementedError`."""
    arguments = op.signature[op.signature.index("("):]
    doc = op.doc.format(**values).replace("\n", "\n" + INDENT * 2)
    return f'{INDENT}def {method}{arguments}:\n{INDENT * 2}"""{doc}"""\n{INDENT * 2}raise NotImplementedError\n'


def _literal(value: Any) -> str:
    """A Python literal for a default value (strings in double quotes, as the handout writes them)."""
    return json.dumps(value) if isinstance(value, str) else repr(value)


def _instructions(rubric: Rubric) -> str:
    public = "\n".join(f"| {c.id} | {c.title} | {c.points:g} |" for c in rubric.public_criteria)
    hidden = "\n".join(f"| {c.title} | {c.points:g} |" for c in rubric.criteria if c.visibility != "public")
    glue = shipped_glue_path(rubric)
    glue = (f"\n* `{glue}`: how the grader calls your class (the course's own glue; do not\n"
            "  change it: final grading uses the instructor's copy).") if glue else ""
    return f"""# {rubric.title}: student kit

{rubric.description}

Files:
* `nn.py`: the skeleton to complete (keep the class and method names).
* `data/train.csv`, `data/test.csv`: the features (already standardized with the
  training statistics) and the integer label; `data/classes.txt`: class names.
* `rubric.yaml` and `answers.json`: what the self-check uses (the reference's
  answers to the public checks' questions only).{glue}
* `pyproject.toml`, `checker/`: the self-check itself (no solution inside).

{INSTALL}

    nngrade check nn.py

It runs the public criteria below in a few seconds and explains every failure.
Exit code 0 means all public checks passed.

| id | public criterion | points |
| --- | --- | --- |
{public}

Graded after the deadline (not run by the self-check):

| hidden criterion | points |
| --- | --- |
{hidden}
"""
