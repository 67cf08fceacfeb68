"""Rubric files: YAML in, typed and validated objects out.

A rubric says what the assignment is (architecture, loss, optimizer, data),
how the students' class is spelled (the interface), and what earns points
(criteria, each naming a check and its parameters).  Every mistake in a
rubric is refused up front with the file, the line and the field, because a
rubric error found after grading 400 students is a disaster.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

BUNDLED = Path(__file__).resolve().parent.parent / "rubrics"
ACTIVATIONS = ("silu", "softplus", "relu", "leaky_relu", "sigmoid", "tanh")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ArchitectureSpec(Strict):
    inputs: int = Field(gt=0)
    hidden: list[int] = Field(min_length=1)
    outputs: int = Field(gt=1)
    activation: Literal["silu", "softplus", "relu", "leaky_relu", "sigmoid", "tanh"] = "silu"
    alpha: float = Field(default=0.01, ge=0)

    @field_validator("hidden")
    @classmethod
    def _positive(cls, value: list[int]) -> list[int]:
        if any(n <= 0 for n in value):
            raise ValueError("hidden layer sizes must be positive")
        return value

    @property
    def sizes(self) -> tuple[int, ...]:
        return (self.inputs, *self.hidden, self.outputs)


class Regularization(Strict):
    """Elastic net per weight matrix, e.g. {l1: {W0: 0.001}, l2: {W0: 0.01, W1: 0.01}}."""

    l1: dict[str, float] = {}
    l2: dict[str, float] = {}


class InitSpec(Strict):
    mean: float = 0.0
    std: float = Field(default=0.05, gt=0)


class OptimizerSpec(Strict):
    lr: float = Field(default=0.01, gt=0)
    momentum: float = Field(default=0.9, ge=0, lt=1)
    schedule: Literal["constant", "fista"] = "constant"


class DataSpec(Strict):
    name: Literal["penguins", "synthetic"] = "penguins"
    seed: int = 0
    n_train: int | None = Field(default=None, gt=0)
    n_test: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _synthetic_sizes(self) -> "DataSpec":
        if self.name == "synthetic" and (self.n_train is None or self.n_test is None):
            raise ValueError("synthetic data needs n_train and n_test")
        return self


class Assignment(Strict):
    architecture: ArchitectureSpec
    loss: Literal["cross_entropy", "squared_error"] = "cross_entropy"
    regularization: Regularization = Regularization()
    init: InitSpec = InitSpec()
    optimizer: OptimizerSpec = OptimizerSpec()
    data: DataSpec = DataSpec()


class Interface(Strict):
    """How this assignment's students spell things; a submission is never
    edited to fit the grader."""

    class_name: str = "NN"
    constructor: dict[Literal["num_input", "num_hidden", "num_output", "gradient_method", "lr", "momentum"], str] = {
        "num_input": "num_input", "num_hidden": "num_hidden", "num_output": "num_output",
        "gradient_method": "gradient_method", "lr": "lr", "momentum": "momentum"}
    constructor_extra: dict[str, Any] = {}
    methods: dict[Literal["init_params", "feed_forward", "loss", "back_propagate", "step", "train"], str] = {
        "init_params": "init_params", "feed_forward": "feed_forward", "loss": "loss",
        "back_propagate": "back_propagate", "step": "step", "train": "train"}
    parameters_attribute: str = "theta"
    weight_key: str = "W{i}"
    bias_key: str = "b{i}"
    gradient_methods: dict[Literal["gd", "nag"], str] = {"gd": "GD", "nag": "NAG"}
    output_layouts: list[Literal["CS", "SC"]] = ["CS", "SC"]
    bias_layouts: list[Literal["column", "flat"]] = ["column", "flat"]

    def method(self, role: str) -> str:
        return self.methods.get(role, role)  # type: ignore[call-overload]

    def kwarg(self, role: str) -> str:
        return self.constructor.get(role, role)  # type: ignore[call-overload]


class Tolerances(Strict):
    grad_abs: float = Field(default=1e-7, gt=0)
    grad_rel: float = Field(default=1e-5, gt=0)
    kink_factor: float = Field(default=100.0, ge=1, description="looser gradient tolerance for ReLU-like activations")
    value_rel: float = Field(default=1e-6, gt=0)
    value_abs: float = Field(default=1e-9, gt=0)
    float32_rel: float = Field(default=2e-3, gt=0, description="comparisons when the student keeps float32")


class Limits(Strict):
    criterion_seconds: float = Field(default=60.0, gt=0)
    submission_seconds: float = Field(default=600.0, gt=0)
    load_seconds: float = Field(default=30.0, gt=0)
    memory_mb: int = Field(default=2048, ge=256)
    cpu_seconds: int = Field(default=900, gt=0)
    processes: int = Field(default=64, gt=0)
    output_kb: int = Field(default=64, gt=0)
    file_mb: int = Field(default=64, gt=0)


class Sandbox(Strict):
    packages: list[str] = Field(default=[], description=(
        "third-party distributions (pip names) the student's code may import besides the defaults "
        "(numpy, matplotlib), each with its dependencies; bound read-only into the worker's root"))


class Criterion(Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
    title: str
    points: float = Field(gt=0)
    visibility: Literal["public", "hidden"] = "public"
    check: str
    params: dict[str, Any] = {}
    hint: str = ""

    @model_validator(mode="before")
    @classmethod
    def _answers_hidden_by_default(cls, data: Any) -> Any:
        """A written question's expected value is its answer: hidden unless the rubric says public."""
        if isinstance(data, dict) and data.get("check") == "answers" and "visibility" not in data:
            data = {**data, "visibility": "hidden"}
        return data

    def check_params(self) -> Any:
        from .checks import REGISTRY

        return REGISTRY[self.check].Params(**self.params)


class Rubric(Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
    title: str
    description: str = ""
    seed: int = 0
    total_points: float = Field(gt=0)
    assignment: Assignment | None = Field(default=None, description=(
        "the network students implement; a rubric of written questions only (check `answers`) needs none"))
    interface: Interface = Interface()
    tolerances: Tolerances = Tolerances()
    limits: Limits = Limits()
    sandbox: Sandbox = Sandbox()
    criteria: list[Criterion] = Field(min_length=1)
    answers: str | None = Field(default=None, description=(
        "student kits only: a file of recorded reference answers (relative to the rubric), "
        "used instead of the reference solution"))
    hidden_summary: list[dict[str, Any]] = Field(default=[], description=(
        "student kits only: titles and points of the criteria graded after release"))

    # convenience -----------------------------------------------------------
    def criterion(self, criterion_id: str) -> Criterion:
        for crit in self.criteria:
            if crit.id == criterion_id:
                return crit
        raise KeyError(criterion_id)

    @property
    def public_criteria(self) -> list[Criterion]:
        return [c for c in self.criteria if c.visibility == "public"]

    @property
    def answers_only(self) -> bool:
        """Written questions only: no student class, no worker, no reference network."""
        return all(c.check == "answers" for c in self.criteria)


class RubricError(Exception):
    """A rubric that cannot be used, with where and why."""


def consistency_problems(rubric: Rubric) -> list[tuple[tuple, str]]:
    """Rules that span fields, each with the path of the field to blame."""
    from .checks import REGISTRY

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


def load_rubric(name_or_path: str | Path) -> Rubric:
    path = find_rubric(name_or_path)
    rubric = parse_rubric(path.read_text(encoding="utf-8"), str(path))
    if rubric.answers and not Path(rubric.answers).is_absolute():
        answers = (path.parent / rubric.answers).resolve()
        if not answers.is_file():
            raise RubricError(f"{path}: answers file {rubric.answers} not found next to the rubric")
        rubric = rubric.model_copy(update={"answers": str(answers)})
    return rubric


def parse_rubric(text: str, filename: str = "<rubric>") -> Rubric:
    """Parse and validate; every error names file:line and the field path."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
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
    if problems:
        raise RubricError("\n".join(f"{filename}:{_line_of(node, loc)}: {'.'.join(str(p) for p in loc)}: {msg}"
                                    for loc, msg in problems))
    for index, crit in enumerate(rubric.criteria):
        try:
            crit.check_params()
        except ValidationError as exc:
            raise RubricError(_format_errors(exc, filename, node, prefix=("criteria", index, "params"))) from exc
    return rubric


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
