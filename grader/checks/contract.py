"""The declared contract of a check kind, validated when it is registered.

A check module ends with one declaration:

    CHECK = Check(
        name="param_count",
        summary="theta holds as many learnable scalars as the architecture implies",
        Params=Params,                 # pydantic model of the criterion's `params`
        Observation=Observation,       # a dataclass: what observe() returns, already validated
        operations=("construct", "get_parameters"),   # grader.operations it asks of the class
        observe=observe,               # (ctx, probe, params) -> Observation   (talks to the worker)
        judge=judge,                   # (ctx, observation, params) -> Verdict (pure)
        mistakes=("key-typo",),        # grader.mistakes ids its verdicts may name
        reference=False,               # judge never asks the reference (the oracle) anything
        public=True,                   # criteria of this kind may be public (False: hidden only)
        prefetch=None,                 # (ctx, params) -> None: asks the reference every answer judge
                                       # may need (recorded into student kits); required when reference
        validate=None,                 # (rubric, criterion, params) -> [problem, ...]: cheap cross-field
                                       # rules, run whenever a rubric is loaded
        audit=None,                    # same signature: costly rules (e.g. the reference reaches the
                                       # rubric's training bar), run by `rubric validate` and before a batch
    )

`Check.__post_init__` refuses a declaration that does not hold together:
an unknown operation or mistake, a Params that is not a `CheckParams`, an
Observation that is not a dataclass, a hook with the wrong arity.  So a
broken check fails when it is first looked up (and in the registry's test),
never while a student is being graded.

Who is to blame is part of the contract.  `observe` validates the student's
values into the typed `Observation`: a value that cannot be (not an array,
wrong shape, not a number) raises `StudentValueError` naming it, and the
criterion is the student's `bad-output`.  Any other exception in `observe`
or `judge`, and any diagnosis a verdict names without declaring it, is the
grader's failure: the criterion's status is `grader-error` and it is left
out of the student's total (`grader.engine`).
"""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict

from ..mistakes import MISTAKES
from ..operations import OPERATIONS

__all__ = ["Check", "CheckParams", "ContractError", "StudentValueError", "RUNTIME_MISTAKES"]

#: diagnoses any check's verdict may carry without declaring them: what went
#: wrong running the student's code, not a mathematical mistake
RUNTIME_MISTAKES: frozenset[str] = frozenset(m.id for m in MISTAKES.values() if m.family == "runtime")


class CheckParams(BaseModel):
    """The base of every check's `Params`: unknown fields are refused, values
    frozen; validators built on first use (see `grader.schema.Strict`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class ContractError(TypeError):
    """A check's declaration does not hold together (a grader bug)."""


class StudentValueError(ValueError):
    """A value the student's code returned cannot be read as the observation
    needs it: the student's `bad-output`, with the value that broke it."""

    def __init__(self, what: str, value: Any = None) -> None:
        super().__init__(what)
        self.what = what
        self.value = value


def _arity(fn: Callable, n: int, role: str, name: str) -> None:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError) as exc:
        raise ContractError(f"check {name!r}: {role} is not a plain function ({exc})") from None
    params = list(params)
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is p.empty]
    variadic = any(p.kind == p.VAR_POSITIONAL for p in params)   # a wrapper's (ctx, *args): a timing probe
    if not (len(required) <= n and (variadic or n <= len(positional))):
        raise ContractError(f"check {name!r}: {role} takes {len(required)} positional arguments, "
                            f"the contract gives it {n}")


@dataclass(frozen=True)
class Check:
    """One kind of check, declared (see the module docstring)."""

    name: str
    summary: str
    Params: type
    Observation: type
    operations: tuple[str, ...]
    observe: Callable[..., Any]
    judge: Callable[..., Any]
    mistakes: tuple[str, ...] = ()
    prefetch: Callable[..., None] | None = None
    validate: Callable[..., list[str]] | None = None
    reference: bool = True   # does judge ask the reference (the oracle)? then a public one needs prefetch
    public: bool = True      # may a criterion of this kind be public (in a student kit)?
    audit: Callable[..., list[str]] | None = None
    instructor_notes: Callable[[Any], dict[str, str]] | None = None

    def __post_init__(self) -> None:
        name = self.name
        if not (isinstance(self.Params, type) and issubclass(self.Params, CheckParams)):
            raise ContractError(f"check {name!r}: Params must be a subclass of CheckParams")
        if not (isinstance(self.Observation, type) and dataclasses.is_dataclass(self.Observation)):
            raise ContractError(f"check {name!r}: Observation must be a dataclass")
        unknown = [op for op in self.operations if op not in OPERATIONS]
        if unknown:
            raise ContractError(f"check {name!r}: unknown operations {unknown}; known: {', '.join(OPERATIONS)}")
        unknown = [m for m in self.mistakes if m not in MISTAKES]
        if unknown:
            raise ContractError(f"check {name!r}: mistakes {unknown} have no record in grader.mistakes")
        _arity(self.observe, 3, "observe", name)
        _arity(self.judge, 3, "judge", name)
        if self.prefetch is not None:
            _arity(self.prefetch, 2, "prefetch", name)
        elif self.reference and self.public:
            raise ContractError(f"check {name!r}: its judge asks the reference, so it must declare prefetch "
                                "(a student kit judges public criteria from recorded answers only), or "
                                "public=False")
        for role in ("validate", "audit"):
            if getattr(self, role) is not None:
                _arity(getattr(self, role), 3, role, name)
        if self.instructor_notes is not None:
            _arity(self.instructor_notes, 1, "instructor_notes", name)

    def params(self, raw: dict[str, Any]) -> Any:
        """The criterion's `params`, validated (pydantic ValidationError if not)."""
        return self.Params(**raw)

    def declares(self, diagnosis: str) -> bool:
        """May a verdict of this check name `diagnosis`?"""
        return diagnosis in self.mistakes or diagnosis in RUNTIME_MISTAKES

