"""`nngrade rubric validate R --solution S`: the rubric must give its own solution full marks.

A rubric is checked against itself when it loads (fields, criteria, glue)
and against the reference by its audits (`grader.rubric.audit_problems`).
Neither says whether the rubric grades *the course's* correct code
correctly: a glue that reads the wrong attribute, an interface spelling
that differs from the handout, a tolerance too tight for the course's own
formulation.  The instructor's solution, graded through the rubric and
its glue on every criterion (hidden ones too), says that before 400
students are graded: anything short of full marks refuses the rubric,
naming each criterion that fell short and its feedback.

It also lists what each criterion asks of the class and through what
(the glue's functions, or the handout's method names under the default
glue), so an instructor sees which criteria a glue carries.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .glue import OPTIONAL as OPTIONAL_OPERATIONS
from .operations import describe_needs
from .schema import Rubric

__all__ = ["glue_support", "solution_failures", "grade_solution"]


def glue_support(rubric: Rubric) -> list[str]:
    """Lines saying which glue the rubric grades through and, per code
    criterion, the operations its check needs and what carries them out."""
    from .checks import REGISTRY
    from .glue import rubric_glue, unsupported_criteria

    if rubric.answers_only:
        return ["written answers only: no glue (nothing of a class is called)"]
    glue = rubric_glue(rubric)
    if glue is None:
        lines = ["glue: the default glue (the interface's method names: "
                 f"class {rubric.interface.class_name}, self.{rubric.interface.parameters_attribute})"]
    else:
        absent = [op for op in OPTIONAL_OPERATIONS if op not in glue.operations]
        lines = [f"glue: {glue.name} (interface.glue; defines {', '.join(glue.operations)}"
                 + (f"; leaves out the optional {', '.join(absent)}" if absent else "") + ")"]
    missing = unsupported_criteria(rubric, glue) if glue is not None else {}
    for crit in rubric.criteria:
        if crit.check == "answers":
            lines.append(f"  {crit.id}: a written answer (no operation)")
            continue
        operations = REGISTRY[crit.check].operations
        lines.append(f"  {crit.id}: {', '.join(operations)} -> " + _carried_by(rubric, operations, glue is not None,
                                                                              missing.get(crit.id)))
    return lines


def _carried_by(rubric: Rubric, operations: tuple[str, ...], glued: bool, missing: list[str] | None) -> str:
    """What carries out a criterion's operations: the glue (or what it
    lacks), or, under the default glue, the class, methods and attribute
    the handout names (the words a student's missing-method message uses)."""
    if glued:
        return f"NOT supported: the glue lacks {', '.join(missing)}" if missing else "supported by the glue"
    return describe_needs(operations, rubric.interface)


def grade_solution(path: Path, rubric: Rubric) -> dict[str, Any]:
    """The solution's result on every criterion, hidden ones included.
    No course secret: the probes are the rubric's own seeded ones (the
    questions a kit records), so the answer is the same run after run."""
    from .engine import grade

    return grade(Path(path), rubric).result


def solution_failures(result: dict[str, Any]) -> list[str]:
    """One line per reason the solution is short of full marks: a
    submission-level error (it did not load), and each criterion not
    passed with full points, with its status and feedback."""
    lines = []
    error = result.get("error")
    if error:
        lines.append(f"the solution could not be graded ({error.get('kind', 'error')}): {error.get('message', '')}")
    for crit in result.get("criteria", []):
        if crit["status"] == "passed" and crit["score"] >= crit["max_score"]:
            continue
        feedback = " ".join(str(crit.get("feedback") or "").split())
        lines.append(f"criterion {crit['id']} ({crit['title']}, {crit['visibility']}): {crit['status']}, "
                     f"{crit['score']:g}/{crit['max_score']:g}: {feedback}")
    return lines
