"""`loss`: the student's loss equals the mean cross-entropy (or the rubric's
loss) of the reference on the same theta and batch.

A wrong forward pass is charged once, in `forward`: when the loss is the
right function of the student's *own* probabilities it passes, with a note.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..probe import FLOAT64_EPS, ApiError, WorkerFailure, float_eps
from ..schema import ACTIVATIONS, Criterion, Rubric
from .base import CheckParams, Context, Verdict, close, failed, fmt, passed, sig
from .contract import Check
from .forward import output
from .values import depth_problems, describe, loss_value


class Params(CheckParams):
    hidden: list[int] = [6]
    samples: int = 7


def probe_inputs(ctx: Context, params: Params) -> tuple[dict, Any, Any]:
    """The parameters and batch this criterion asks about (seeded)."""
    x, y = ctx.oracle.batch(params.samples, ctx.criterion.id)
    return ctx.oracle.theta(params.hidden, ctx.criterion.id), x, y


def prefetch(ctx: Context, params: Params) -> None:
    """Every reference answer `judge` may need (recorded into student kits)."""
    theta, x, y = probe_inputs(ctx, params)
    prefetch_named_losses(ctx, params.hidden, theta, x, y)


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
        probs = output(forward, ctx.rubric.assignment.architecture.outputs, x.shape[0]).probs
    return Observation(tuple(params.hidden), theta, x, y, loss_value(raw), describe(raw), probs,
                       bool(net.is_float32 or computed32))


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
    the data part summed over the samples."""
    penalty = expected - data
    on_biases = sum(c1 * float(np.abs(theta[f"b{i}"]).sum()) + c2 * float(np.square(theta[f"b{i}"]).sum())
                    for i, (c1, c2) in enumerate(zip(arch.l1_coefficients, arch.l2_coefficients)))
    candidates = [
        ("penalty-missing", data, "it is the data loss alone; the elastic-net penalty "
         "l1 sum|W| + l2 sum W^2 is missing."),
        ("penalty-on-biases", expected + on_biases, "it penalizes the biases too; only the weight "
         "matrices are penalized."),
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
    observe=observe, judge=judge, mistakes=("loss-sum-not-mean", "penalty-missing", "penalty-on-biases"),
    prefetch=prefetch, validate=validate,
)
