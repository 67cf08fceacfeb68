"""`forward`: the student's probabilities equal the reference's on the same
theta; columns sum to 1; large inputs (x 1000) stay finite.

The student's parameters are replaced by a known theta first, so the check
does not depend on their initialization.  When the values are wrong, the
other activations are tried: if one of them reproduces the output, the
feedback names it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..schema import ACTIVATIONS
from ..probe import FLOAT64_EPS, WorkerFailure, describe_value, float_eps
from .base import CheckParams, Context, Verdict, close, fmt, rel_error, sig

VALUES_WEIGHT = 2.0 / 3.0   # correct values (on ordinary inputs)
STABLE_WEIGHT = 1.0 / 3.0   # finite, normalized probabilities on huge inputs


class Params(CheckParams):
    hidden: list[int] = [6]
    samples: int = 7
    large_scale: float = 1000.0


def probe_inputs(ctx: Context, params: Params) -> tuple[dict, Any]:
    """The parameters and batch this criterion asks about (seeded)."""
    return ctx.oracle.theta(params.hidden, ctx.criterion.id), ctx.oracle.batch(params.samples, ctx.criterion.id)[0]


def prefetch(ctx: Context, params: Params) -> None:
    """Every reference answer `judge` may need (recorded into student kits)."""
    theta, x = probe_inputs(ctx, params)
    ctx.oracle.forward(params.hidden, theta, x)
    for name in ACTIVATIONS:
        ctx.oracle.forward(params.hidden, theta, x, activation=name)


def observe(ctx: Context, probe: Any, params: Params) -> dict:
    net = probe.new(params.hidden, seed=ctx.seed("net"))
    theta, x = probe_inputs(ctx, params)
    net.set_parameters(theta)
    probs, layout, raw = net.forward(x)
    try:
        big_probs, _, big_raw = net.forward(x * params.large_scale)
    except WorkerFailure as failure:  # math.exp raises OverflowError, for one
        big_probs, big_raw = None, f"an error: {failure.describe()}"
    return {"theta": theta, "x": x, "probs": probs, "layout": layout, "raw": None if probs is not None else describe_value(raw),
            "big_probs": big_probs, "big_raw": None if big_probs is not None else
            (big_raw if isinstance(big_raw, str) else describe_value(big_raw)),
            "hidden": params.hidden, "scale": params.large_scale, "float32": net.is_float32 or float_eps(raw) > FLOAT64_EPS}   # stored or computed in float32


def judge(ctx: Context, obs: dict, params: Params) -> Verdict:
    oracle, tol = ctx.oracle, ctx.tol
    hidden, x, theta = obs["hidden"], obs["x"], obs["theta"]
    rel = tol.float32_rel if obs.get("float32") else tol.value_rel
    expected = oracle.forward(hidden, theta, x)
    c, s = expected.shape
    evidence: dict[str, Any] = {}
    diagnoses: list[str] = []
    lines: list[str] = []
    score = 0.0
    explained = False   # the values are right, or a named mistake reproduces them

    probs = obs["probs"]
    if probs is None:
        lines.append(f"feed_forward returned {obs['raw'] or obs['layout']}; expected an array of "
                     f"probabilities of shape ({c}, {s}) (or ({s}, {c})) for {s} samples")
        diagnoses.append("bad-output")
    else:
        err = rel_error(probs, expected)
        evidence["relative error vs reference"] = sig(err)
        evidence["output layout"] = "(C, S)" if obs["layout"] == "CS" else "(S, C)"
        sums = probs.sum(axis=0)
        if close(probs, expected, rel, tol.value_abs * 10):
            score += VALUES_WEIGHT
            explained = True
            lines.append(f"Probabilities match the reference (relative error {fmt(err)}).")
        else:
            lines.append(f"Probabilities differ from the reference's for the same parameters "
                         f"(relative error {fmt(err)}).")
            if not np.allclose(sums, 1.0, atol=1e-6):
                lines.append(f"Columns should sum to 1 but sum to {fmt(float(sums.min()))}..{fmt(float(sums.max()))}: "
                             "is the softmax normalized over the classes (axis 0 for a (C, S) array)?")
            match = _which_activation(oracle, hidden, theta, x, probs, ctx.rubric.assignment.architecture.activation, rel)
            if match:
                lines.append(f"Your output equals a network with the {match} activation; the assignment asks for "
                             f"{ctx.rubric.assignment.architecture.activation}.")
                diagnoses.append("wrong-activation")
                evidence["activation your output matches"] = match
                explained = True
            evidence["first column (yours)"] = sig(probs[:, 0])
            evidence["first column (expected)"] = sig(expected[:, 0])

    big = obs["big_probs"]
    if big is None:
        lines.append(f"With inputs scaled by {fmt(obs['scale'])}, feed_forward returned {obs['big_raw']}.")
        if "Overflow" in str(obs["big_raw"]):
            diagnoses.append("softmax-overflow")
    elif not np.all(np.isfinite(big)):
        bad = int(np.size(big) - np.isfinite(big).sum())
        lines.append(f"With inputs scaled by {fmt(obs['scale'])}, {bad} of {big.size} probabilities are NaN or "
                     "infinite: exp() overflows. Subtract each column's maximum before exponentiating.")
        diagnoses.append("softmax-overflow")
        evidence["non-finite outputs on large inputs"] = bad
    elif not np.allclose(big.sum(axis=0), 1.0, atol=1e-6):
        lines.append(f"With inputs scaled by {fmt(obs['scale'])}, columns no longer sum to 1.")
    elif not explained:
        # evidence before credit: finite normalized columns are also what a constant
        # (e.g. uniform) output gives, so they earn nothing without the right values
        lines.append(f"Large inputs (x {fmt(obs['scale'])}) give finite probabilities that sum to 1, which earns "
                     "nothing on its own: the values on ordinary inputs are not the network's.")
    else:
        score += STABLE_WEIGHT
        lines.append(f"Large inputs (x {fmt(obs['scale'])}) give finite probabilities that sum to 1.")
    return Verdict(score, "\n".join(lines), diagnoses=sorted(set(diagnoses)), evidence=evidence)


def _which_activation(oracle: Any, hidden: list[int], theta: dict, x: np.ndarray, probs: np.ndarray,
                      asked: str, rel: float) -> str | None:
    for name in ACTIVATIONS:
        if name == asked:
            continue
        try:
            alt = oracle.forward(hidden, theta, x, activation=name)
        except ValueError:
            continue
        if close(probs, alt, max(rel, 1e-6), 1e-9):
            return name
    return None
