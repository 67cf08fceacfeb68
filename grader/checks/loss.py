"""`loss`: the student's loss equals the mean cross-entropy (or the rubric's
loss) of the reference on the same theta and batch.

A wrong forward pass is charged once, in `forward`: when the loss is the
right function of the student's *own* probabilities it passes, with a note.

When the forward pass returns class scores (`interface.outputs: scores`,
template B) the softmax lives in the student's loss, and so does its
overflow: the loss is also asked at the probe batch scaled up (x 1000),
where exp() of unshifted scores overflows, and must equal the reference's
loss there (finite: the reference's log-softmax is shifted).  That part is
worth STABLE_WEIGHT, as the large-input part of `forward` is for
probabilities, and earns only with a right loss on ordinary inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field

from ..probe import FLOAT64_EPS, ApiError, WorkerFailure, float_eps
from ..schema import ACTIVATIONS, Criterion, Rubric
from .base import CheckParams, Context, Verdict, close, failed, fmt, passed, sig
from .contract import Check
from .forward import STABLE_WEIGHT, VALUES_WEIGHT, output, scores_output, softmax
from .values import depth_problems, describe, loss_value


class Params(CheckParams):
    hidden: list[int] = [6]
    samples: int = 7
    large_scale: float = Field(default=1000.0, gt=0, description=(
        "scores rubrics only: the probe batch is scaled by this to probe the softmax's overflow in the loss"))


def probe_inputs(ctx: Context, params: Params) -> tuple[dict, Any, Any]:
    """The parameters and batch this criterion asks about (seeded)."""
    x, y = ctx.oracle.batch(params.samples, ctx.criterion.id)
    return ctx.oracle.theta(params.hidden, ctx.criterion.id), x, y


def prefetch(ctx: Context, params: Params) -> None:
    """Every reference answer `judge` may need (recorded into student kits)."""
    theta, x, y = probe_inputs(ctx, params)
    prefetch_named_losses(ctx, params.hidden, theta, x, y)
    if scores_output(ctx):
        ctx.oracle.loss(params.hidden, theta, x * params.large_scale, y)


def prefetch_named_losses(ctx: Context, hidden: list[int], theta: dict, x: np.ndarray, y: np.ndarray) -> None:
    """The reference answers `named_loss` needs at one probe point."""
    ctx.oracle.loss(hidden, theta, x, y)
    ctx.oracle.data_loss(hidden, theta, x, y)
    ctx.oracle.forward(hidden, theta, x)
    for name in ACTIVATIONS:
        ctx.oracle.forward(hidden, theta, x, activation=name)


@dataclass(frozen=True)
class NamedLoss:
    """A loss value identified: the assignment's (diagnosis None) or a named
    mistake's, with the gradient of *that* loss function at the probe point,
    computed here in the grader (None where it is not needed)."""

    diagnosis: str | None
    text: str
    gradient: dict | None = None


def named_loss(ctx: Context, hidden: list[int], theta: dict, x: np.ndarray, y: np.ndarray, value: float,
               rel: float, *, with_gradient: bool = False) -> NamedLoss | None:
    """What a loss value is, if anything known; None otherwise.

    The evidence rule's door for losses: credit that rests on "your own
    loss" (a gradient consistent with it) needs the loss to be a named
    mistake *and* the gradient to be that mistake's gradient as the grader
    computes it, so a constant loss, sum(theta**2), or finite differences
    forged inside the student's process earn nothing."""
    oracle, tol = ctx.oracle, ctx.tol
    if not np.isfinite(value):
        return None
    expected = oracle.loss(hidden, theta, x, y)

    def grad(compute: Any) -> dict | None:
        return compute() if with_gradient else None

    if abs(value - expected) <= tol.value_abs + rel * abs(expected):
        return NamedLoss(None, "the assignment's loss", grad(lambda: oracle.gradient(hidden, theta, x, y)))
    data = oracle.data_loss(hidden, theta, x, y)
    s = y.shape[0]
    arch = oracle.architecture(hidden)

    def data_grad() -> dict:
        return oracle.data_gradient(hidden, theta, x, y)

    def full_grad() -> dict:
        return oracle.gradient(hidden, theta, x, y)

    def summed_data_grad() -> dict:   # S x the data part, plus the penalty's gradient
        data_g, full_g = data_grad(), full_grad()
        return {k: s * data_g[k] + full_g[k] - data_g[k] for k in theta}

    if arch.penalized:
        found = _penalty_mistake(arch, theta, value, data, expected, s, rel, tol.value_abs)
        if found:
            diagnosis, text = found
            if diagnosis == "penalty-missing":
                return NamedLoss(diagnosis, text, grad(data_grad))
            if diagnosis == "loss-sum-not-mean":
                return NamedLoss(diagnosis, text, grad(summed_data_grad))
            if diagnosis == "penalty-l2-doubled":
                return NamedLoss(diagnosis, text, grad(lambda: _l2_doubled(arch, theta, full_grad())))
            return NamedLoss(diagnosis, text, grad(lambda: _biases_penalized(arch, theta, full_grad())))
    elif abs(value - s * expected) <= tol.value_abs + rel * abs(s * expected):
        return NamedLoss("loss-sum-not-mean", f"exactly S = {s} times the expected {fmt(expected, 6)}: you sum "
                         "over the samples but do not divide by S.",
                         grad(lambda: {k: s * v for k, v in full_grad().items()}))
    asked = ctx.rubric.assignment.architecture.activation
    for name in ACTIVATIONS:
        if name == asked:
            continue
        probs = oracle.forward(hidden, theta, x, activation=name)
        if not np.all(np.isfinite(probs)):
            continue   # not recorded in a kit, or overflowing
        other = loss_from_probabilities(ctx.rubric.assignment.loss, probs, y) + (expected - data)
        if abs(value - other) <= tol.value_abs + max(rel, 1e-6) * abs(other):
            return NamedLoss("wrong-activation", f"the loss of a network with the {name} activation",
                             grad(lambda: oracle.activation_gradients(hidden, theta, x, y).get(name)))
    return None


def _biases_penalized(arch: Any, theta: dict, gradient: dict) -> dict:
    """The gradient of the loss with the elastic net on the biases too."""
    out = dict(gradient)
    for i, (c1, c2) in enumerate(zip(arch.l1_coefficients, arch.l2_coefficients)):
        b = theta[f"b{i}"]
        out[f"b{i}"] = gradient[f"b{i}"] + c1 * np.sign(b) + 2.0 * c2 * b
    return out


def _l2_doubled(arch: Any, theta: dict, gradient: dict) -> dict:
    """The gradient of the loss with its L2 term twice the assignment's
    (2 l2 sum W^2: the course's 0.5 left out): 4 l2 W on each weight matrix."""
    out = dict(gradient)
    for i, c2 in enumerate(arch.l2_coefficients):
        out[f"W{i}"] = gradient[f"W{i}"] + 2.0 * c2 * theta[f"W{i}"]
    return out


def probabilities_explained(ctx: Context, hidden: list[int], theta: dict, x: np.ndarray, probs: np.ndarray,
                            rel: float) -> bool:
    """The student's probabilities are the reference's or a named mistake's
    (another activation): only then may a loss of them earn credit."""
    expected = ctx.oracle.forward(hidden, theta, x)
    if probs.shape != expected.shape:
        return False
    if close(probs, expected, max(rel, 1e-6), ctx.tol.value_abs * 10):
        return True
    asked = ctx.rubric.assignment.architecture.activation
    for name in ACTIVATIONS:
        if name != asked:
            alt = ctx.oracle.forward(hidden, theta, x, activation=name)
            if np.all(np.isfinite(alt)) and close(probs, alt, max(rel, 1e-6), 1e-9):
                return True
    return False


@dataclass(frozen=True)
class Observation:
    """loss(x, y) at a known theta on a probe batch, validated, and feed_forward
    there (to tell a wrong loss from a right loss of wrong probabilities)."""

    hidden: tuple[int, ...]
    theta: dict[str, np.ndarray]
    x: np.ndarray
    y: np.ndarray
    value: float | None           # None: not a number (then `shown` says what it was)
    shown: str
    probs: np.ndarray | None      # canonical (C, S), None when feed_forward failed or gave no probabilities
    float32: bool
    large: "LargeLoss | None" = None   # scores rubrics only: the loss at the batch scaled up


@dataclass(frozen=True)
class LargeLoss:
    """loss(x * scale, y): the value (None: not a number, or an error) and what it was."""

    scale: float
    value: float | None
    shown: str


def observe_large(net: Any, x: np.ndarray, y: np.ndarray, scale: float) -> LargeLoss:
    """The loss on the batch scaled up; an error (math.exp's OverflowError,
    for one) is an observation, not a failure of the criterion."""
    try:
        raw = net.loss(x * scale, y)
    except WorkerFailure as failure:
        return LargeLoss(scale, None, f"an error: {failure.describe()}")
    return LargeLoss(scale, loss_value(raw), describe(raw))


def observe(ctx: Context, probe: Any, params: Params) -> Observation:
    net = probe.new(params.hidden, seed=ctx.seed("net"))
    theta, x, y = probe_inputs(ctx, params)
    net.set_parameters(theta)
    raw = net.loss(x, y)
    probs, computed32 = None, False   # the loss is a bare number: its precision shows in the probabilities' dtype
    try:
        forward = net.call("feed_forward", x)["value"]
    except (WorkerFailure, ApiError):  # the forward criterion reports this; here it only helps the diagnosis
        pass
    else:
        computed32 = float_eps(forward) > FLOAT64_EPS
        probs = output(forward, ctx.rubric.assignment.architecture.outputs, x.shape[0],
                       ctx.rubric.interface.output_layouts).probs
        if probs is not None and scores_output(ctx):   # scores: their softmax, grader-side
            probs = softmax(probs)
    large = observe_large(net, x, y, params.large_scale) if scores_output(ctx) else None
    return Observation(tuple(params.hidden), theta, x, y, loss_value(raw), describe(raw), probs,
                       bool(net.is_float32 or computed32), large)


def validate(rubric: Rubric, crit: Criterion, params: Params) -> list[str]:
    return depth_problems(rubric, params.hidden)


def loss_from_probabilities(kind: str, probs: np.ndarray, y: np.ndarray) -> float:
    """The rubric's data loss computed from given probabilities (C, S)."""
    s = y.shape[0]
    with np.errstate(all="ignore"):
        if kind == "cross_entropy":
            return float(-np.mean(np.log(probs[y, np.arange(s)])))
        onehot = np.zeros_like(probs)
        onehot[y, np.arange(s)] = 1.0
        return float(np.mean(0.5 * np.sum((onehot - probs) ** 2, axis=0)))


def loss_name(ctx: Context, penalized: bool) -> str:
    """The rubric's loss in words."""
    name = "mean cross-entropy" if ctx.rubric.assignment.loss == "cross_entropy" else "mean squared error"
    return name + (" plus the elastic-net penalty" if penalized else "")


def judge(ctx: Context, obs: Observation, params: Params) -> Verdict:
    verdict = judge_values(ctx, obs)
    if obs.large is None or not scores_output(ctx):
        return verdict
    return with_large_inputs(ctx, obs, verdict)


def with_large_inputs(ctx: Context, obs: Observation, verdict: Verdict) -> Verdict:
    """A right loss keeps VALUES_WEIGHT and earns STABLE_WEIGHT when it is
    also right on huge inputs (scores rubrics: the softmax is the loss's);
    a wrong loss is judged on ordinary inputs alone."""
    if verdict.status != "passed":
        return verdict
    large = obs.large
    hidden = list(obs.hidden)
    expected = ctx.oracle.loss(hidden, obs.theta, obs.x * large.scale, obs.y)
    evidence = dict(verdict.evidence, **{f"your loss at inputs x {fmt(large.scale)}":
                                         sig(large.value) if large.value is not None else large.shown,
                                         f"expected loss at inputs x {fmt(large.scale)}": sig(expected)})
    scale = fmt(large.scale)
    rel = ctx.tol.float32_rel if obs.float32 else ctx.tol.value_rel
    value = large.value
    if value is not None and np.isfinite(value) and abs(value - expected) <= ctx.tol.value_abs + rel * abs(expected):
        return Verdict(VALUES_WEIGHT + STABLE_WEIGHT, verdict.feedback + f" With inputs scaled by {scale} it is "
                       f"right too ({fmt(value, 6)}): the softmax does not overflow.", evidence=evidence)
    if value is None or not np.isfinite(value):
        shown = large.shown if value is None else repr(value)
        overflow = value is not None or "Overflow" in shown
        text = (f" With inputs scaled by {scale} it is {shown}, expected {fmt(expected, 6)}"
                + (": exp() of the scores overflows. Subtract each sample's largest score before "
                   "exponentiating (log-softmax: z - max z - log sum exp(z - max z))." if overflow else "."))
        return Verdict(VALUES_WEIGHT, verdict.feedback + text, diagnoses=["softmax-overflow"] if overflow else [],
                       evidence=evidence)
    return Verdict(VALUES_WEIGHT, verdict.feedback + f" With inputs scaled by {scale} it is {fmt(value, 6)}, "
                   f"expected {fmt(expected, 6)}.", evidence=evidence)


def judge_values(ctx: Context, obs: Observation) -> Verdict:
    """The loss on the ordinary probe batch: the reference's, or a named mistake's."""
    hidden = list(obs.hidden)
    expected = ctx.oracle.loss(hidden, obs.theta, obs.x, obs.y)
    evidence = {"your loss": sig(obs.value) if obs.value is not None else obs.shown, "expected loss": sig(expected),
                "samples S": int(obs.y.shape[0])}
    if obs.value is None or not np.isfinite(obs.value):
        shown = obs.shown if obs.value is None else repr(obs.value)
        return failed(f"loss returned {shown}, not a finite number (expected {fmt(expected, 6)}).",
                      diagnoses=["bad-output"], evidence=evidence)
    rel = ctx.tol.float32_rel if obs.float32 else ctx.tol.value_rel
    name = loss_name(ctx, ctx.oracle.architecture(hidden).penalized)
    found = named_loss(ctx, hidden, obs.theta, obs.x, obs.y, obs.value, rel)
    if found is not None and found.diagnosis is None:
        return passed(f"Your loss equals the {name}: {fmt(obs.value, 6)}.", evidence=evidence)
    ratio = obs.value / expected if expected else float("nan")
    evidence["ratio yours / expected"] = sig(ratio)
    if found is not None and found.diagnosis != "wrong-activation":   # that one is forward's, judged below
        return _named_mistake(ctx, obs, found, name, expected, evidence)
    if _loss_of_own_probabilities(ctx, obs, expected, rel):
        return passed(f"Your loss is the {name} of your own network's probabilities ({fmt(obs.value, 6)}); "
                      f"it differs from the expected {fmt(expected, 6)} only because feed_forward does "
                      "(charged under 'forward').", evidence=evidence)
    return failed(f"Your loss is {fmt(obs.value, 6)}, expected the {name} {fmt(expected, 6)} "
                  f"(ratio {fmt(ratio)}).", evidence=evidence)


def _named_mistake(ctx: Context, obs: Observation, found: NamedLoss, name: str, expected: float,
                   evidence: dict[str, Any]) -> Verdict:
    """A loss that is a named mistake's (not the activation's: forward's)."""
    hidden = list(obs.hidden)
    if ctx.oracle.architecture(hidden).penalized:
        evidence["data loss (no penalty)"] = sig(ctx.oracle.data_loss(hidden, obs.theta, obs.x, obs.y))
    return failed(f"Your loss is {fmt(obs.value, 6)}, expected the {name} {fmt(expected, 6)}: {found.text}",
                  diagnoses=[found.diagnosis], evidence=evidence)


def _loss_of_own_probabilities(ctx: Context, obs: Observation, expected: float, rel: float) -> bool:
    """A wrong forward pass is charged once, under forward: the loss passes
    when it is the right function of the student's own probabilities, and
    those are explained (the reference's or a named mistake's)."""
    probs, hidden = obs.probs, list(obs.hidden)
    if probs is None or not probabilities_explained(ctx, hidden, obs.theta, obs.x, probs, rel):
        return False
    data = ctx.oracle.data_loss(hidden, obs.theta, obs.x, obs.y)
    own = loss_from_probabilities(ctx.rubric.assignment.loss, probs, obs.y)
    return bool(abs(obs.value - (own + expected - data)) <= 1e-6 * max(1.0, abs(own)))


def _penalty_mistake(arch: Any, theta: dict, value: float, data: float, expected: float, s: int,
                     rel: float, abs_: float) -> tuple[str, str] | None:
    """Elastic-net mistakes in the loss: no penalty, the biases penalized too,
    the L2 term doubled (a course's 0.5 reg sum W^2 written reg sum W^2),
    the data part summed over the samples."""
    penalty = expected - data
    l2_part = sum(c2 * float(np.square(theta[f"W{i}"]).sum()) for i, c2 in enumerate(arch.l2_coefficients))
    on_biases = sum(c1 * float(np.abs(theta[f"b{i}"]).sum()) + c2 * float(np.square(theta[f"b{i}"]).sum())
                    for i, (c1, c2) in enumerate(zip(arch.l1_coefficients, arch.l2_coefficients)))
    candidates = [
        ("penalty-missing", data, "it is the data loss alone; the elastic-net penalty "
         "l1 sum|W| + l2 sum W^2 is missing."),
        ("penalty-on-biases", expected + on_biases, "it penalizes the biases too; only the weight "
         "matrices are penalized."),
        ("penalty-l2-doubled", expected + l2_part, "its L2 term is twice the assignment's (2 l2 sum W^2 "
         "instead of l2 sum W^2): with a penalty written 0.5 * reg * sum W^2, the 0.5 is left out."),
        ("loss-sum-not-mean", s * data + penalty, f"its data part is S = {s} times too large: you sum over the "
         "samples but do not divide by S."),
    ]
    for diagnosis, candidate, text in candidates:
        if abs(value - candidate) <= abs_ + rel * abs(candidate):
            return diagnosis, text
    return None



CHECK = Check(
    name="loss",
    summary="loss(x, y) is the rubric's loss of the reference network at a known theta",
    Params=Params, Observation=Observation, operations=("construct", "set_parameters", "loss", "probabilities"),
    observe=observe, judge=judge,
    mistakes=("loss-sum-not-mean", "penalty-missing", "penalty-on-biases", "penalty-l2-doubled", "softmax-overflow"),
    prefetch=prefetch, validate=validate,
)
