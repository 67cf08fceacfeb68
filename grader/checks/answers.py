"""`answers`: a written question from the report, graded by its number.

The rubric states what the question asks as a computation (a parameter
count, as a number or as a formula in N_H; a shape; the integer whose count
is closest to a budget; a value of a stated tiny network's forward pass,
gradients or gradient step), the tolerance, and the key under which the
student writes the answer.  A wrong answer is compared with what each named
mistake (grader/answers/mistakes.py) gives on the same question, so the
feedback says which mistake it is, or that the numbers cannot tell two apart.

In a student kit the question carries only its `form`: the self-check reads
the answer and reports whether its format is accepted, nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Annotated, Any, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..answers import compute
from ..answers.mistakes import RECORDS as ANSWER_MISTAKES, feedback as mistake_feedback
from ..answers.parse import (
    AnswerFormatError, array_text, fmt_int, parse_array, parse_formula, parse_integer, parse_number, parse_shape,
)
from .base import CheckParams, Context, Verdict, failed, passed, table
from .contract import Check

Form = Literal["integer", "number", "formula", "shape", "array"]
POINTS = [1, 2, 3, 5, 7, 16, 64, 100]   # where formulas in a variable are compared


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParamCount(_Strict):
    """Learnable scalars of a fully connected network; a size may name a
    variable ("N_H"), which makes the answer a formula."""
    kind: Literal["param_count"]
    sizes: list[int | str] = Field(min_length=2)
    first_index: int = 0


class Shape(_Strict):
    """The shape of one parameter block, e.g. W0 of a 4-N_H-3 network."""
    kind: Literal["shape"]
    sizes: list[int | str] = Field(min_length=2)
    block: str = Field(pattern=r"^[Wb]\d+$")
    layout: Literal["out_in", "in_out"] = "out_in"   # out_in: z = W x + b; in_out: z = W^T x + b
    first_index: int = 0


class ClosestDepth(_Strict):
    """The x >= 0 whose network sizes_before + [repeat] * x + sizes_after has
    the parameter count closest to that of `budget` (a list of sizes)."""
    kind: Literal["closest_depth"]
    sizes_before: list[int] = Field(min_length=1)
    repeat: int = Field(gt=0)
    sizes_after: list[int] = Field(min_length=1)
    budget: list[int] = Field(min_length=2)
    max_depth: int = Field(default=1000, gt=0, le=100000)


class WorkedNetwork(_Strict):
    """A tiny network with stated numbers, as the handout writes it."""
    x: list[float]
    weights: list[list[list[float]]] = Field(min_length=1)
    biases: list[list[float]] = Field(min_length=1)
    weight_layout: Literal["in_out", "out_in"] = "in_out"
    activation: Literal["sigmoid", "tanh", "relu", "identity"] = "sigmoid"
    output: Literal["softmax", "sigmoid", "identity"] = "softmax"
    loss: Literal["half_squared_error", "cross_entropy"] = "half_squared_error"
    target: list[float]
    lr: float = Field(gt=0)
    first_index: int = 1

    @model_validator(mode="after")
    def _consistent(self) -> "WorkedNetwork":
        if len(self.weights) != len(self.biases):
            raise ValueError("one bias vector per weight matrix")
        width = len(self.x)
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            arr = np.asarray(w, dtype=float)
            if arr.ndim != 2:
                raise ValueError(f"weights[{i}] is not a matrix")
            n_in, n_out = arr.shape if self.weight_layout == "in_out" else arr.shape[::-1]
            if n_in != width or len(b) != n_out:
                raise ValueError(f"layer {i}: weights {arr.shape} do not fit {width} inputs and {len(b)} biases")
            width = n_out
        if len(self.target) != width:
            raise ValueError(f"target has {len(self.target)} values, the output {width}")
        return self


class WorkedExample(_Strict):
    kind: Literal["worked_example"]
    network: WorkedNetwork
    value: str = Field(description="hidden, hidden1.., output, loss, grad:W2, grad:b2, step:W2, ...")

    @model_validator(mode="after")
    def _known_value(self) -> "WorkedExample":
        names = compute.worked_example(self.network)
        if self.value not in names:
            raise ValueError(f"unknown value {self.value!r}; this network has {', '.join(sorted(names))}")
        return self


Quantity = Annotated[Union[ParamCount, Shape, ClosestDepth, WorkedExample], Field(discriminator="kind")]


class Tolerance(_Strict):
    rel: float = Field(default=2e-3, ge=0)
    abs: float = Field(default=1e-3, ge=0)


class Params(CheckParams):
    question: str = ""
    answer: str | None = Field(default=None, description="key in the answers file (default: the criterion id)")
    quantity: Quantity | None = None
    form: Form | None = Field(default=None, description="student kits: the form checked instead of the value")
    variables: dict[str, list[str]] = {"N_H": ["NH", "N_{H}", "n_h", "nh", "n_H", "N_h"]}
    tolerance: Tolerance = Tolerance()

    @model_validator(mode="after")
    def _something_to_check(self) -> "Params":
        if self.quantity is None and self.form is None:
            raise ValueError("a written question needs a quantity (or, in a student kit, a form)")
        return self

    def key(self, criterion_id: str) -> str:
        return self.answer or criterion_id

    def form_of(self) -> Form:
        q = self.quantity
        if q is None:
            return self.form or "number"
        if isinstance(q, ParamCount):
            return "formula" if any(isinstance(s, str) for s in q.sizes) else "integer"
        if isinstance(q, Shape):
            return "shape"
        if isinstance(q, ClosestDepth):
            return "integer"
        return "number" if q.value == "loss" else "array"

    def variable_table(self) -> dict[str, tuple[str, ...]]:
        return {name: tuple(aliases) for name, aliases in self.variables.items()}


# -- observe ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Observation:
    """The student's answer to one question as written (not yet parsed: reading
    it is the judge's first step, and a text that cannot be read is the
    student's `answer-format`), or why there is none."""

    key: str
    origin: str                   # where the answers came from (a file, the notebook, the worker)
    error: str | None             # the answers could not be read at all
    found: bool
    raw: Any                      # as the sheet holds it: str, number, list, ... (parsed by the judge)
    keys: tuple[str, ...] = ()    # the sheet's keys (to point at a misspelt one)


def observe(ctx: Context, probe: Any, params: Params) -> Observation:
    """The student's raw answer (no judging); the sheet comes from the
    engine (an answers file, a literal notebook cell, or the worker)."""
    sheet = ctx.answers() if ctx.answers is not None else None
    key = params.key(ctx.criterion.id)
    if sheet is None:
        return Observation(key, "", "this grading run has no answers", False, None)
    found, raw = sheet.lookup(key)
    return Observation(key, sheet.origin, sheet.error, found, raw, tuple(sorted(str(k) for k in sheet.values)))


# -- judge ------------------------------------------------------------------------------

def judge(ctx: Context, obs: Observation, params: Params) -> Verdict:
    missing = _missing(obs)
    if missing is not None:
        return missing
    try:
        return _JUDGES[params.form_of()](ctx, obs.raw, params)
    except AnswerFormatError as exc:
        return _unreadable(obs.raw, str(exc))


def _missing(obs: Observation) -> Verdict | None:
    """No answers at all, no answer to this question, or an empty one."""
    if obs.error:
        return failed(f"Your written answers could not be read: {obs.error}", diagnoses=["answers-unreadable"])
    if not obs.found:
        known = f" (found: {', '.join(obs.keys[:12])})" if obs.keys else ""
        return failed(f"No answer to this question: {mistake_feedback('answer-missing', key=obs.key, origin=obs.origin)}"
                      f"{known}.", diagnoses=["answer-missing"])
    if obs.raw is None or (isinstance(obs.raw, str) and not obs.raw.strip()):
        return failed(f"No answer to this question: the entry {obs.key!r} in {obs.origin} is empty.",
                      diagnoses=["answer-missing"])
    return None


def _unreadable(raw: Any, problem: str) -> Verdict:
    return failed(f"Your answer {_quote(raw)} could not be read: {mistake_feedback('answer-format', problem=problem)}",
                  diagnoses=["answer-format"], evidence={"answer": _answer_table(_quote(raw), None)})


def _quote(raw: Any) -> str:
    text = raw if isinstance(raw, str) else repr(raw)
    return text if len(text) <= 120 else text[:117] + "..."


def _answer_table(yours: str, expected: str | None) -> dict:
    rows = [["your answer", yours]]
    if expected is not None:
        rows.append(["expected", expected])
    return table(["", "value"], rows)


def _verdict(ok: bool, yours: str, expected: str, params: Params, matches: list[compute.Candidate],
             *, right: str, wrong: str, key_text: str | None = None) -> Verdict:
    evidence = {"answer": _answer_table(yours, expected), "answer_key": key_text or yours}
    if params.question:
        evidence["question"] = params.question
    if ok:
        return passed(f"Right: {right}", evidence=evidence)
    text = f"Not right: {wrong}"
    diagnoses = list(dict.fromkeys(c.mistake for c in matches))
    if len(matches) == 1:
        text += f"\nYour answer matches a known mistake: {mistake_feedback(matches[0].mistake, **matches[0].fields)}."
    elif matches:
        text += ("\nThe numbers cannot tell these mistakes apart; each gives exactly your answer:\n- "
                 + "\n- ".join(mistake_feedback(c.mistake, **c.fields) for c in matches))
    return Verdict(0.0, text, diagnoses=diagnoses, evidence=evidence)


def _format_only(kind: str, yours: str) -> Verdict:
    return passed(f"Your answer reads as {kind} {yours}. Only its format is checked here; its value is graded "
                  "after the deadline.", evidence={"answer": _answer_table(yours, None)})


# integer counts and depths ------------------------------------------------------------

def _judge_integer(ctx: Context, raw: Any, params: Params) -> Verdict:
    value = parse_number(raw, "a whole number")
    if params.quantity is None:
        parse_integer(raw)
        return _format_only("the number", fmt_int(value))
    if value.denominator != 1:
        raise AnswerFormatError(f"{_quote(raw)} is not a whole number: this question asks for an integer")
    answer = int(value)
    q = params.quantity
    if isinstance(q, ParamCount):
        sizes = [int(s) for s in q.sizes]
        expected = compute.count(sizes)
        labels = [fmt_int(s) for s in sizes]
        candidates = [c for c in compute.count_candidates(sizes, labels, q.first_index) if c.value == answer]
        slip = compute.slip(answer, expected)
        if slip is not None and answer != expected:
            candidates.append(slip)
        diff = answer - expected
        wrong = (f"{fmt_int(answer)} learnable parameters is {fmt_int(abs(diff))} "
                 f"{'short of' if diff < 0 else 'more than'} the right count {fmt_int(expected)} "
                 f"({_count_terms(sizes)}).")
        return _verdict(answer == expected, fmt_int(answer), fmt_int(expected), params, candidates,
                        right=f"{fmt_int(expected)} learnable parameters.", wrong=wrong)
    assert isinstance(q, ClosestDepth)
    ref = compute.closest_depth(q.sizes_before, q.repeat, q.sizes_after, compute.count(q.budget), q.max_depth)
    candidates = [c for c in compute.depth_candidates(q.sizes_before, q.repeat, q.sizes_after,
                                                      compute.count(q.budget), q.max_depth) if c.value == answer]
    budget = compute.count(q.budget)
    counts = ", ".join(f"count({x}) = {fmt_int(v)} (off by {fmt_int(abs(v - budget))})" for x, v in ref.counts.items())
    wrong = (f"x = {answer}; the budget is {fmt_int(budget)} parameters and x = {ref.best} comes closest: "
             f"{counts}.")
    return _verdict(answer == ref.best, str(answer), str(ref.best), params, candidates,
                    right=f"x = {ref.best} gives the count closest to {fmt_int(budget)} ({counts}).", wrong=wrong)


def _count_terms(sizes: list[int]) -> str:
    return " + ".join(f"{a:,} x {b:,} + {b:,}" for a, b in zip(sizes[:-1], sizes[1:]))


# formulas in N_H -------------------------------------------------------------------------

def _judge_formula(ctx: Context, raw: Any, params: Params) -> Verdict:
    variables = params.variable_table()
    f = parse_formula(raw, variables)
    names = list(variables)
    envs = [{name: Fraction(p) for name in names} for p in POINTS]
    values = [f(env) for env in envs]
    yours = _formula_text(raw, values, names)
    if params.quantity is None:
        return _format_only("the formula", yours)
    q = params.quantity
    assert isinstance(q, ParamCount)
    expected_values, by_key = [], {}
    for env in envs:
        sizes = [_size(s, env, variables) for s in q.sizes]
        expected_values.append(compute.count(sizes))
        labels = [str(s) for s in q.sizes]
        for cand in compute.count_candidates(sizes, labels, q.first_index, input_fixed=isinstance(q.sizes[0], int)):
            by_key.setdefault(cand.key, []).append(cand)
    expected = _formula_text(None, [Fraction(v) for v in expected_values], names)
    matches = [cands[0] for cands in by_key.values()
               if len(cands) == len(envs) and all(c.value == v for c, v in zip(cands, values))]
    ok = all(v == e for v, e in zip(values, expected_values))
    where = ", ".join(f"{names[0]}={p}: {fmt_int(v)}" for p, v in list(zip(POINTS, values))[:4])
    wrong = f"your formula {yours} gives {where}; the count is {expected}"
    if all(v == values[0] for v in values) and len(names) == 1:
        at = [p for p, e in zip(POINTS, expected_values) if e == values[0]]
        wrong += f" (your answer does not depend on {names[0]}" + \
            (f"; it is the count for {names[0]} = {at[0]} only)" if at else ")")
    return _verdict(ok, yours, expected, params, matches,
                    right=f"{expected} learnable parameters for {names[0]} hidden units.", wrong=wrong + ".",
                    key_text=yours)


def _size(size: int | str, env: dict[str, Fraction], variables: dict[str, tuple[str, ...]]) -> int:
    if isinstance(size, int):
        return size
    return int(parse_formula(size, variables)(env))


def _formula_text(raw: Any, values: list[Fraction], names: list[str]) -> str:
    """A canonical 'a N_H + b' when the values are affine in the variable."""
    if len(names) == 1:
        slope = (values[1] - values[0]) / (POINTS[1] - POINTS[0])
        intercept = values[0] - slope * POINTS[0]
        if all(v == slope * p + intercept for v, p in zip(values, POINTS)):
            return _affine(slope, intercept, names[0])
    return str(raw).strip()


def _affine(slope: Fraction, intercept: Fraction, name: str) -> str:
    def num(x: Fraction) -> str:
        return fmt_int(x) if x.denominator == 1 else f"{float(x):g}"
    if slope == 0:
        return num(intercept)
    head = name if slope == 1 else f"-{name}" if slope == -1 else f"{num(slope)} {name}"
    if intercept == 0:
        return head
    return f"{head} {'+' if intercept > 0 else '-'} {num(abs(intercept))}"


# shapes ---------------------------------------------------------------------------------

def _judge_shape(ctx: Context, raw: Any, params: Params) -> Verdict:
    variables = params.variable_table()
    dims = parse_shape(raw, variables)
    names = list(variables)
    envs = [{name: Fraction(p) for name in names} for p in POINTS] or [{}]
    yours_vals = [tuple(d(env) for d in dims) for env in envs]
    yours = "(" + ", ".join(_formula_text(None, [v[i] for v in yours_vals], names) if names else fmt_int(yours_vals[0][i])
                            for i in range(len(dims))) + ")"
    if params.quantity is None:
        return _format_only("the shape", yours)
    q = params.quantity
    assert isinstance(q, Shape)
    index = int(q.block[1:]) - q.first_index
    if not 0 <= index < len(q.sizes) - 1:
        raise AnswerFormatError(f"the rubric's block {q.block} is not a layer of {q.sizes}")
    expected_vals = []
    for env in envs:
        n_in, n_out = _size(q.sizes[index], env, variables), _size(q.sizes[index + 1], env, variables)
        if q.block.startswith("W"):
            expected_vals.append((n_out, n_in) if q.layout == "out_in" else (n_in, n_out))
        else:
            expected_vals.append((n_out,))
    ndim = len(expected_vals[0])
    expected = "(" + ", ".join(_formula_text(None, [Fraction(v[i]) for v in expected_vals], names)
                               for i in range(ndim)) + ")"
    if q.block.startswith("b"):
        # a bias is a vector: (n,), (n, 1) and (1, n) all say the same
        ok = all(_vector_like(y, e[0]) for y, e in zip(yours_vals, expected_vals))
        expected_text = f"{expected[:-1]},) (or {expected[:-1]}, 1))"
        return _verdict(ok, yours, expected_text, params, [],
                        right=f"{q.block} holds {expected[1:-1]} values, one per unit of its layer.",
                        wrong=f"{q.block} has one bias per unit of its layer, {expected[1:-1]} values: {expected_text}.")
    ok = all(tuple(y) == e for y, e in zip(yours_vals, expected_vals))
    matches = []
    transposed = [e[::-1] for e in expected_vals]
    if not ok and transposed != expected_vals and all(tuple(y) == t for y, t in zip(yours_vals, transposed)):
        matches.append(compute.Candidate("answer-transposed", "transposed", None, {"what": "shape"}))
    convention = "z = W x + b" if q.layout == "out_in" else "z = W^T x + b"
    note = ""
    if names and not ok and all(tuple(y) == tuple(yours_vals[0]) for y in yours_vals):
        at = [p for p, e in zip(POINTS, expected_vals) if tuple(e) == tuple(yours_vals[0])]
        if at:
            note = f" Your shape is right for {names[0]} = {at[0]} only; give it for any {names[0]}."
    return _verdict(ok, yours, expected, params, matches,
                    right=f"{q.block} has shape {expected}.",
                    wrong=f"{q.block} has shape {expected} with the handout's convention {convention}.{note}")


def _vector_like(dims: tuple, n: int) -> bool:
    return dims == (n,) or dims == (n, 1) or dims == (1, n)


# values of a worked example ----------------------------------------------------------------

def _judge_array(ctx: Context, raw: Any, params: Params) -> Verdict:
    value = np.asarray(parse_array(raw), dtype=float)
    yours = array_text(value.tolist())
    if params.quantity is None:
        return _format_only("the number" if value.ndim == 0 else f"an array of shape {value.shape}", yours)
    q = params.quantity
    assert isinstance(q, WorkedExample)
    expected = compute.worked_example(q.network)[q.value]
    expected_text = array_text(np.round(expected, 6).tolist())
    tol = params.tolerance

    def same(a: np.ndarray, b: np.ndarray) -> bool:
        a = _as_shape(a, b.shape)
        return a is not None and bool(np.all(np.abs(a - b) <= tol.abs + tol.rel * np.abs(b)))

    def error(a: np.ndarray, b: np.ndarray) -> float:   # in units of the tolerance: <= 1 is "the same"
        a = _as_shape(a, b.shape)
        return float(np.max(np.abs(a - b) / (tol.abs + tol.rel * np.abs(b)))) if a is not None else np.inf

    ok = same(value, expected)
    matches = [c for c in compute.worked_candidates(q.network, q.value)
               if not same(c.value, expected) and same(value, c.value)]
    if len(matches) > 1:   # keep the ones the numbers cannot tell apart: about as close as the closest
        best = min(error(value, c.value) for c in matches)
        matches = [c for c in matches if error(value, c.value) <= max(3 * best, 0.1)]
    if not ok and expected.ndim == 2 and expected.shape[0] == expected.shape[1] and not same(expected.T, expected) \
            and value.shape == expected.shape and same(value.T, expected):
        matches.append(compute.Candidate("answer-transposed", "transposed", None, {"what": "matrix"}))
    shape_note = ""
    if _as_shape(value, expected.shape) is None:
        shape_note = f" Your answer has {value.size} value(s), the expected {expected.size}."
    name = q.value.replace("grad:", "the gradient of the loss with respect to ").replace(
        "step:", "the updated ")
    return _verdict(ok, yours, expected_text, params, matches,
                    right=f"{name} is {expected_text} (within {tol.abs:g} + {tol.rel:g} x |value|).",
                    wrong=f"{name} is {expected_text}; yours is {yours}.{shape_note}",
                    key_text=yours)


def _as_shape(value: np.ndarray, shape: tuple) -> np.ndarray | None:
    value = np.asarray(value, dtype=float)
    if value.shape == shape:
        return value
    if value.size == int(np.prod(shape)) and (value.ndim <= 1 or 1 in value.shape) and len(shape) <= 1:
        return value.reshape(shape)
    return None


def _judge_number(ctx: Context, raw: Any, params: Params) -> Verdict:
    if params.quantity is None:
        return _format_only("the number", f"{float(parse_number(raw)):.6g}")
    return _judge_array(ctx, raw, params)


_JUDGES = {"integer": _judge_integer, "formula": _judge_formula, "shape": _judge_shape,
           "array": _judge_array, "number": _judge_number}


CHECK = Check(
    name="answers",
    summary="a written answer (a count, formula, shape or worked value) equals the one the rubric computes",
    Params=Params, Observation=Observation, operations=(),
    observe=observe, judge=judge,
    mistakes=tuple(ANSWER_MISTAKES),   # any of them: a wrong answer is compared with every one
    reference=False,
)
