"""`forward`: the student's probabilities equal the reference's on the same
theta; columns sum to 1; large inputs (x 1000) stay finite.

A rubric whose `interface.outputs` is `scores` (template B: the forward
pass returns logits) compares the scores with the reference's logits up to
a constant per sample, the only freedom softmax leaves them: both are
centred per sample (minus their mean over the classes) and compared
element-wise, the reference's logits being log p (its log-probabilities,
themselves the logits minus a per-sample constant).  Comparing in log space
rather than softmaxing the student's scores grader-side keeps every class
visible: softmax squeezes an error in a class of tiny probability to
nothing.  Large inputs then only need finite scores: the softmax, and so its
overflow, lives in the student's loss, probed there (`loss`).

The student's parameters are replaced by a known theta first, so the check
does not depend on their initialization.  When the values are wrong, the
other activations are tried: if one of them reproduces the output, the
feedback names it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..adapter import OUTPUT_LAYOUTS, RefusedLayout, layout_shape, probabilities_to_canonical
from ..probe import FLOAT64_EPS, WorkerFailure, float_eps
from ..schema import ACTIVATIONS, Criterion, Rubric
from .base import CheckParams, Context, Verdict, close, fmt, rel_error, sig
from .contract import Check
from .values import depth_problems, describe, number_array

VALUES_WEIGHT = 2.0 / 3.0   # correct values (on ordinary inputs)
STABLE_WEIGHT = 1.0 / 3.0   # finite, normalized probabilities on huge inputs


class Params(CheckParams):
    hidden: list[int] = [6]
    samples: int = 7
    large_scale: float = 1000.0


@dataclass(frozen=True)
class Output:
    """One answer of feed_forward, validated: canonical (C, S) float64
    probabilities and the layout they came in, or None and what came instead."""

    probs: np.ndarray | None      # (C, S): probabilities, or scores under `interface.outputs: scores`
    layout: str | None = None     # "CS" or "SC" when usable
    problem: str | None = None    # what feed_forward gave instead (feedback), when not usable


@dataclass(frozen=True)
class Observation:
    """feed_forward at a known theta on a probe batch, and on the batch scaled up."""

    hidden: tuple[int, ...]
    theta: dict[str, np.ndarray]
    x: np.ndarray
    scale: float
    float32: bool                 # stored or computed in float32: compare more loosely
    ordinary: Output
    large: Output


def probe_inputs(ctx: Context, params: Params) -> tuple[dict, Any]:
    """The parameters and batch this criterion asks about (seeded)."""
    return ctx.oracle.theta(params.hidden, ctx.criterion.id), ctx.oracle.batch(params.samples, ctx.criterion.id)[0]


def prefetch(ctx: Context, params: Params) -> None:
    """Every reference answer `judge` may need (recorded into student kits)."""
    theta, x = probe_inputs(ctx, params)
    ctx.oracle.forward(params.hidden, theta, x)
    for name in ACTIVATIONS:
        ctx.oracle.forward(params.hidden, theta, x, activation=name)


def validate(rubric: Rubric, crit: Criterion, params: Params) -> list[str]:
    return depth_problems(rubric, params.hidden)


def output(raw: Any, classes: int, samples: int, allowed: tuple[str, ...] | list[str] = OUTPUT_LAYOUTS) -> Output:
    """feed_forward's value as probabilities, whatever the student returned,
    read only in the layouts the rubric's `interface.output_layouts` lists."""
    arr = number_array(raw)
    try:
        probs, seen = probabilities_to_canonical(arr, classes, samples, allowed) if arr is not None else (None, "")
    except RefusedLayout as refused:
        return Output(None, problem=str(refused))
    if probs is None:
        return Output(None, problem=describe(raw))
    return Output(probs, layout=seen)


def observe(ctx: Context, probe: Any, params: Params) -> Observation:
    net = probe.new(params.hidden, seed=ctx.seed("net"))
    theta, x = probe_inputs(ctx, params)
    net.set_parameters(theta)
    classes = ctx.rubric.assignment.architecture.outputs
    layouts = ctx.rubric.interface.output_layouts
    raw = net.call("feed_forward", x)["value"]
    try:
        big = output(net.call("feed_forward", x * params.large_scale)["value"], classes, x.shape[0], layouts)
    except WorkerFailure as failure:  # math.exp raises OverflowError, for one
        big = Output(None, problem=f"an error: {failure.describe()}")
    return Observation(tuple(params.hidden), theta, x, params.large_scale,
                       bool(net.is_float32 or float_eps(raw) > FLOAT64_EPS), output(raw, classes, x.shape[0], layouts), big)


# -- judge ------------------------------------------------------------------------------

@dataclass
class Part:
    """What one step of the judgement found."""

    score: float = 0.0
    lines: list[str] = field(default_factory=list)
    diagnoses: list[str] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)
    explained: bool = False   # the values are right, or a named mistake reproduces them


def scores_output(ctx: Context) -> bool:
    """Does the rubric's forward pass return class scores (logits), not probabilities?"""
    return ctx.rubric.interface.outputs == "scores"


def centred(values: np.ndarray) -> np.ndarray:
    """Scores with each sample's mean over the classes (axis 0) taken out:
    equal for two score arrays exactly when they differ by a constant per sample."""
    return values - values.mean(axis=0, keepdims=True)


def reference_scores(probs: np.ndarray) -> np.ndarray:
    """The reference's logits up to a constant per sample: log p, centred."""
    with np.errstate(divide="ignore"):
        return centred(np.log(probs))


def scores_close(scores: np.ndarray, probs: np.ndarray, rel: float, abs_: float) -> bool:
    """Student scores (C, S) equal to the logits of probabilities `probs` up
    to a constant per sample, within rel of the logits' largest magnitude
    (a centred entry near zero has no scale of its own)."""
    expected = reference_scores(probs)
    if scores.shape != expected.shape or not np.all(np.isfinite(expected)):
        return False
    with np.errstate(invalid="ignore"):
        mine = centred(np.asarray(scores, dtype=np.float64))
    return close(mine, expected, 0.0, abs_ + rel * float(np.abs(expected).max(initial=0.0)))


def softmax(scores: np.ndarray) -> np.ndarray:
    """Probabilities (C, S) of scores (C, S), computed stably grader-side
    (for the criteria that read probabilities, e.g. the loss's diagnosis)."""
    with np.errstate(all="ignore"):
        z = scores - scores.max(axis=0, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=0, keepdims=True)


def judge(ctx: Context, obs: Observation, params: Params) -> Verdict:
    if scores_output(ctx):
        values = _judge_scores(ctx, obs)
        stability = _judge_large_scores(obs, values.explained)
    else:
        values = _judge_values(ctx, obs)
        stability = _judge_large_inputs(obs, values.explained)
    return Verdict(values.score + stability.score, "\n".join(values.lines + stability.lines),
                   diagnoses=sorted(set(values.diagnoses + stability.diagnoses)), evidence=values.evidence)


def _unreadable(ctx: Context, obs: Observation, who: str, what: str, classes: int, samples: int) -> Part:
    """The student's bad-output: the ordinary output is no array of `what`
    in a layout the rubric's `output_layouts` lists."""
    shapes = " or ".join(str(layout_shape(a, classes, samples)) for a in ctx.rubric.interface.output_layouts)
    return Part(lines=[f"{who} returned {obs.ordinary.problem}; expected an array of {what} "
                       f"of shape {shapes} for {samples} samples"], diagnoses=["bad-output"])


def _layout_label(obs: Observation) -> str:
    """How the evidence names the layout the student's output came in."""
    return "(C, S)" if obs.ordinary.layout == "CS" else "(S, C)"


def _judge_values(ctx: Context, obs: Observation) -> Part:
    """VALUES_WEIGHT for the reference's probabilities; a wrong output
    reproduced by another activation is named."""
    tol = ctx.tol
    rel = tol.float32_rel if obs.float32 else tol.value_rel
    hidden = list(obs.hidden)
    expected = ctx.oracle.forward(hidden, obs.theta, obs.x)
    c, s = expected.shape
    probs = obs.ordinary.probs
    if probs is None:
        return _unreadable(ctx, obs, "feed_forward", "probabilities", c, s)
    err = rel_error(probs, expected)
    part = Part(evidence={"relative error vs reference": sig(err),
                          "output layout": _layout_label(obs)})
    if close(probs, expected, rel, tol.value_abs * 10):
        part.score, part.explained = VALUES_WEIGHT, True
        part.lines.append(f"Probabilities match the reference (relative error {fmt(err)}).")
        return part
    part.lines.append(f"Probabilities differ from the reference's for the same parameters "
                      f"(relative error {fmt(err)}).")
    sums = probs.sum(axis=0)
    if not np.allclose(sums, 1.0, atol=1e-6):
        part.lines.append(f"Columns should sum to 1 but sum to {fmt(float(np.nanmin(sums)))}.."
                          f"{fmt(float(np.nanmax(sums)))}: is the softmax normalized over the classes "
                          "(axis 0 for a (C, S) array)?" if np.any(np.isfinite(sums)) else
                          "Columns should sum to 1 but are not finite.")
    asked = ctx.rubric.assignment.architecture.activation
    match = which_activation(ctx.oracle, hidden, obs.theta, obs.x, probs, asked, rel)
    if match:
        part.lines.append(f"Your output equals a network with the {match} activation; the assignment asks for "
                          f"{asked}.")
        part.diagnoses.append("wrong-activation")
        part.evidence["activation your output matches"] = match
        part.explained = True
    part.evidence["first column (yours)"] = sig(probs[:, 0])
    part.evidence["first column (expected)"] = sig(expected[:, 0])
    return part


def _judge_scores(ctx: Context, obs: Observation) -> Part:
    """VALUES_WEIGHT for the reference's logits up to a constant per sample;
    probabilities where scores are asked, or another activation's scores, named."""
    rel = ctx.tol.float32_rel if obs.float32 else ctx.tol.value_rel
    abs_ = ctx.tol.value_abs * 10
    hidden = list(obs.hidden)
    expected = ctx.oracle.forward(hidden, obs.theta, obs.x)
    c, s = expected.shape
    scores = obs.ordinary.probs
    if scores is None:
        return _unreadable(ctx, obs, "The forward pass", "class scores", c, s)
    err = rel_error(centred(scores), reference_scores(expected))
    part = Part(evidence={"relative error vs reference (scores centred per sample)": sig(err),
                          "output layout": _layout_label(obs)})
    if scores_close(scores, expected, rel, abs_):
        part.score, part.explained = VALUES_WEIGHT, True
        part.lines.append(f"Scores match the reference's logits up to a constant per sample (relative error "
                          f"{fmt(err)}).")
        return part
    part.lines.append(f"Scores differ from the reference's logits for the same parameters, beyond a constant per "
                      f"sample (relative error {fmt(err)}).")
    if close(scores, expected, max(rel, 1e-6), abs_):
        part.lines.append("They are the softmax probabilities: the forward pass should return the class scores "
                          "(the logits before the softmax); the softmax belongs in the loss.")
    asked = ctx.rubric.assignment.architecture.activation
    match = which_activation(ctx.oracle, hidden, obs.theta, obs.x, scores, asked, rel, scores=True)
    if match:
        part.lines.append(f"Your scores equal a network's with the {match} activation; the assignment asks for "
                          f"{asked}.")
        part.diagnoses.append("wrong-activation")
        part.evidence["activation your output matches"] = match
        part.explained = True
    part.evidence["first sample's scores, centred (yours)"] = sig(centred(scores)[:, 0])
    part.evidence["first sample's scores, centred (expected)"] = sig(reference_scores(expected)[:, 0])
    return part


def _judge_large_scores(obs: Observation, explained: bool) -> Part:
    """STABLE_WEIGHT for finite scores on inputs scaled up (explained values
    first).  No softmax runs here, so nothing overflows in a right forward
    pass; the softmax's overflow is the loss criterion's."""
    scale, big = fmt(obs.scale), obs.large.probs
    if big is None:
        return Part(lines=[f"With inputs scaled by {scale}, the forward pass returned {obs.large.problem}."])
    if not np.all(np.isfinite(big)):
        bad = int(np.size(big) - np.isfinite(big).sum())
        return Part(lines=[f"With inputs scaled by {scale}, {bad} of {big.size} scores are NaN or infinite: "
                           "the scores are affine in the hidden activations and should stay finite."])
    if not explained:
        return Part(lines=[f"Large inputs (x {scale}) give finite scores, which earns nothing on its own: the "
                           "values on ordinary inputs are not the network's."])
    return Part(STABLE_WEIGHT, [f"Large inputs (x {scale}) give finite scores."])


def _judge_large_inputs(obs: Observation, explained: bool) -> Part:
    """STABLE_WEIGHT for finite, normalized probabilities on inputs scaled
    up, earned only with values that are explained (evidence before credit:
    a constant output is finite and normalized too)."""
    scale, big = fmt(obs.scale), obs.large.probs
    if big is None:
        line = f"With inputs scaled by {scale}, feed_forward returned {obs.large.problem}."
        return Part(lines=[line], diagnoses=["softmax-overflow"] if "Overflow" in str(obs.large.problem) else [])
    if not np.all(np.isfinite(big)):
        bad = int(np.size(big) - np.isfinite(big).sum())
        return Part(lines=[f"With inputs scaled by {scale}, {bad} of {big.size} probabilities are NaN or "
                           "infinite: exp() overflows. Subtract each column's maximum before exponentiating."],
                    diagnoses=["softmax-overflow"])
    if not np.allclose(big.sum(axis=0), 1.0, atol=1e-6):
        return Part(lines=[f"With inputs scaled by {scale}, columns no longer sum to 1."])
    if not explained:
        return Part(lines=[f"Large inputs (x {scale}) give finite probabilities that sum to 1, which earns "
                           "nothing on its own: the values on ordinary inputs are not the network's."])
    return Part(STABLE_WEIGHT, [f"Large inputs (x {scale}) give finite probabilities that sum to 1."])


def which_activation(oracle: Any, hidden: list[int], theta: dict, x: np.ndarray, probs: np.ndarray,
                     asked: str, rel: float, *, scores: bool = False) -> str | None:
    """Another activation whose network gives exactly `probs` (its scores,
    up to a constant per sample, when `scores`), if any."""
    for name in ACTIVATIONS:
        if name == asked:
            continue
        try:
            alt = oracle.forward(hidden, theta, x, activation=name)
        except ValueError:
            continue
        same = scores_close(probs, alt, max(rel, 1e-6), 1e-9) if scores else close(probs, alt, max(rel, 1e-6), 1e-9)
        if same:
            return name
    return None


CHECK = Check(
    name="forward",
    summary="feed_forward gives the reference's probabilities (or its scores, up to a constant per sample) at a "
            "known theta, and stays finite on huge inputs",
    Params=Params, Observation=Observation, operations=("construct", "set_parameters", "probabilities"),
    observe=observe, judge=judge, mistakes=("wrong-activation", "softmax-overflow"),
    prefetch=prefetch, validate=validate,
)
