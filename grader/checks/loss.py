"""`loss`: the student's loss equals the mean cross-entropy (or the rubric's
loss) of the reference on the same theta and batch.

A wrong forward pass is charged once, in `forward`: when the loss is the
right function of the student's *own* probabilities it passes, with a note.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..probe import FLOAT64_EPS, float_eps, scalar
from .base import CheckParams, Context, Verdict, failed, fmt, passed, sig


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
    ctx.oracle.loss(params.hidden, theta, x, y)
    ctx.oracle.data_loss(params.hidden, theta, x, y)


def observe(ctx: Context, probe: Any, params: Params) -> dict:
    net = probe.new(params.hidden, seed=ctx.seed("net"))
    theta, x, y = probe_inputs(ctx, params)
    net.set_parameters(theta)
    value = scalar(net.loss(x, y))
    computed32 = False   # the loss is a bare number: its precision shows in the probabilities' dtype
    try:
        probs, _, raw = net.forward(x)
        computed32 = float_eps(raw) > FLOAT64_EPS
    except Exception:  # the forward criterion reports this; here it only helps the diagnosis
        probs = None
    return {"theta": theta, "x": x, "y": y, "loss": value, "probs": probs, "hidden": params.hidden,
            "float32": net.is_float32 or computed32}


def loss_from_probabilities(kind: str, probs: np.ndarray, y: np.ndarray) -> float:
    """The rubric's data loss computed from given probabilities (C, S)."""
    s = y.shape[0]
    with np.errstate(all="ignore"):
        if kind == "cross_entropy":
            return float(-np.mean(np.log(probs[y, np.arange(s)])))
        onehot = np.zeros_like(probs)
        onehot[y, np.arange(s)] = 1.0
        return float(np.mean(0.5 * np.sum((onehot - probs) ** 2, axis=0)))


def judge(ctx: Context, obs: dict, params: Params) -> Verdict:
    oracle, tol = ctx.oracle, ctx.tol
    x, y, theta, hidden = obs["x"], obs["y"], obs["theta"], obs["hidden"]
    expected = oracle.loss(hidden, theta, x, y)
    value = obs["loss"]
    s = y.shape[0]
    evidence = {"your loss": sig(value), "expected loss": sig(expected), "samples S": s}
    name = "mean cross-entropy" if ctx.rubric.assignment.loss == "cross_entropy" else "mean squared error"
    arch = oracle.architecture(hidden)
    penalized = arch.penalized
    if penalized:
        name += " plus the elastic-net penalty"
    if not np.isfinite(value):
        return failed(f"loss returned {value!r}, not a finite number (expected {fmt(expected, 6)}).",
                      diagnoses=["bad-output"], evidence=evidence)
    rel = tol.float32_rel if obs["float32"] else tol.value_rel
    if abs(value - expected) <= tol.value_abs + rel * abs(expected):
        return passed(f"Your loss equals the {name}: {fmt(value, 6)}.", evidence=evidence)
    ratio = value / expected if expected else float("nan")
    evidence["ratio yours / expected"] = sig(ratio)
    if abs(ratio - s) < 1e-6 * s:
        return failed(f"Your loss is {fmt(value, 6)}, exactly S = {s} times the expected {fmt(expected, 6)}: "
                      "you sum over the samples but do not divide by S.", diagnoses=["loss-sum-not-mean"],
                      evidence=evidence)
    data = oracle.data_loss(hidden, theta, x, y)
    if penalized:
        found = _penalty_mistake(arch, theta, value, data, expected, s, rel, tol.value_abs)
        if found:
            evidence["data loss (no penalty)"] = sig(data)
            return failed(f"Your loss is {fmt(value, 6)}, expected the {name} {fmt(expected, 6)}: {found[1]}",
                          diagnoses=[found[0]], evidence=evidence)
    probs = obs.get("probs")
    if probs is not None and probs.shape == (ctx.rubric.assignment.architecture.outputs, s):
        own = loss_from_probabilities(ctx.rubric.assignment.loss, probs, y)
        if abs(value - (own + expected - data)) <= 1e-6 * max(1.0, abs(own)):
            return passed(f"Your loss is the {name} of your own network's probabilities ({fmt(value, 6)}); "
                          f"it differs from the expected {fmt(expected, 6)} only because feed_forward does "
                          "(charged under 'forward').", evidence=evidence)
    return failed(f"Your loss is {fmt(value, 6)}, expected the {name} {fmt(expected, 6)} "
                  f"(ratio {fmt(ratio)}).", evidence=evidence)


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

