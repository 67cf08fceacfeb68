"""The rubric's schema: typed, validated pydantic models and nothing else.

The checks (``grader/checks/``) import these types; this module imports no
check, so the dependency runs one way: ``rubric`` (loading, cross-field
rules) -> ``checks`` -> ``schema``.  A criterion's ``params`` are validated
against its check's declared ``Params`` by ``grader.rubric.parse_rubric``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from .operations import METHOD_ROLES


def _bundled_folder() -> Path:
    """The bundled rubrics: inside the package in an installed wheel
    (pyproject maps rubrics/ to grader/rubrics/), at the checkout's top
    level in a source tree or an editable install."""
    here = Path(__file__).resolve().parent
    return here / "rubrics" if (here / "rubrics").is_dir() else here.parent / "rubrics"


BUNDLED = _bundled_folder()
ACTIVATIONS = ("silu", "softplus", "relu", "leaky_relu", "sigmoid", "tanh")


class Strict(BaseModel):
    """Unknown fields refused, values frozen.  `defer_build`: a model's
    validator is built when it first validates, not when its class is
    defined, so `nngrade check` with a cached rubric (`grader.rubric`)
    builds none: class definitions were ~50 ms of every start."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


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
    biases: Literal["same", "zero"] = Field(default="same", description=(
        "same: biases drawn like the weights, N(mean, std^2); zero: biases exactly zero (template B)"))


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
    regularization: Regularization = Field(default_factory=Regularization)
    init: InitSpec = Field(default_factory=InitSpec)
    optimizer: OptimizerSpec = Field(default_factory=OptimizerSpec)
    data: DataSpec = Field(default_factory=DataSpec)


class Interface(Strict):
    """How this assignment's students spell things; a submission is never
    edited to fit the grader."""

    class_name: str = "NN"
    constructor: dict[Literal["num_input", "num_hidden", "num_output", "gradient_method", "lr", "momentum"], str] = {
        "num_input": "num_input", "num_hidden": "num_hidden", "num_output": "num_output",
        "gradient_method": "gradient_method", "lr": "lr", "momentum": "momentum"}
    constructor_extra: dict[str, Any] = {}
    methods: dict[str, str] = Field(default={role: role for role in METHOD_ROLES}, description=(
        "the student's method for each operation that has one (grader/operations.py): "
        + ", ".join(METHOD_ROLES)))
    parameters_attribute: str = "theta"
    weight_key: str = "W{i}"
    bias_key: str = "b{i}"
    gradient_methods: dict[Literal["gd", "nag"], str] = {"gd": "GD", "nag": "NAG"}
    output_layouts: list[Literal["CS", "SC"]] = Field(default=["CS", "SC"], min_length=1, description=(
        "how feed_forward may lay out its probabilities: CS = (classes, samples), SC = (samples, classes); "
        "any other is refused with a message (a square S == C output is read in the first listed)"))
    bias_layouts: list[Literal["column", "flat"]] = Field(default=["column", "flat"], min_length=1, description=(
        "how biases may be stored: column = (n_out, 1), flat = (n_out,); judged by param_shapes, "
        "then undone by the adapter for the other criteria"))

    first_index: Literal[0, 1] = Field(default=0, description=(
        "the number of the first layer in weight_key and bias_key: 0 for W0, b0, ...; 1 for W1, b1, ..."))
    weight_layouts: list[Literal["out_in", "in_out"]] = Field(default=["out_in"], min_length=1, description=(
        "how weight matrices are stored: out_in = (n_out, n_in) as in z = W x + b; in_out = (n_in, n_out) as "
        "in z = x W + b (template B); judged by param_shapes, then undone by the adapter"))
    transpose_detection: bool = Field(default=True, description=(
        "read a weight stored in the other orientation than weight_layouts declares (it is still the "
        "transposed-weights mistake in param_shapes, judged once there); false: such a weight cannot be read, "
        "and every criterion that reads it fails saying so"))
    outputs: Literal["probabilities", "scores"] = Field(default="probabilities", description=(
        "what the probabilities operation returns: probabilities, or class scores (logits) compared with the "
        "reference's up to a constant per sample"))
    glue: str | None = Field(default=None, description=(
        "an instructor-written glue module (relative to the rubric file) carrying out the canonical operations "
        "on the course's own API (grader/glue.py); without it, the default glue calls the methods above"))
    glue_options: dict[str, Any] = Field(default={}, description=(
        "values handed to the glue's construct() in config['options'] (e.g. weight_scale, reg)"))

    skeleton: str | None = Field(default=None, description=(
        "the course's own skeleton nn.py (relative to the rubric file), copied verbatim into student kits; "
        "without it the kit's skeleton is generated from the canonical operations in this interface's names"))

    @field_validator("methods")
    @classmethod
    def _known_roles(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(METHOD_ROLES))
        if unknown:
            raise ValueError(f"unknown method role(s) {', '.join(unknown)}; the roles are {', '.join(METHOD_ROLES)}")
        return {**{role: role for role in METHOD_ROLES}, **value}

    def method(self, role: str) -> str:
        return self.methods.get(role, role)  # type: ignore[call-overload]

    def kwarg(self, role: str) -> str:
        return self.constructor.get(role, role)  # type: ignore[call-overload]

    def block_key(self, canon: str) -> str:
        """The student's key for canonical block `canon` (W0, b0, W1, ...):
        the rubric's spelling, numbered from `first_index`."""
        kind, layer = canon[0], int(canon[1:])
        return (self.weight_key if kind == "W" else self.bias_key).format(i=layer + self.first_index)


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

    _params: Any = PrivateAttr(default=None)

    def check_params(self) -> Any:
        """The typed parameters of its check, validated when the rubric was
        loaded (`grader.rubric.parse_rubric`): the schema never imports the
        checks, so the checks may import the schema."""
        if self._params is None:
            raise RuntimeError(f"criterion {self.id!r} was not validated: load rubrics with "
                               "grader.rubric.parse_rubric or load_rubric")
        return self._params


class Rubric(Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
    title: str
    description: str = ""
    seed: int = 0
    total_points: float = Field(gt=0)
    assignment: Assignment | None = Field(default=None, description=(
        "the network students implement; a rubric of written questions only (check `answers`) needs none"))
    interface: Interface = Field(default_factory=Interface)
    tolerances: Tolerances = Field(default_factory=Tolerances)
    limits: Limits = Field(default_factory=Limits)
    sandbox: Sandbox = Field(default_factory=Sandbox)
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
