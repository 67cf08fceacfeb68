"""`gd-step`: one steepest-descent step moves theta to theta - lr * g.

g is the student's *own* gradient at theta (from back_propagate), so a
gradient bug is charged once, in the gradient criteria, and not again here.
When the step is wrong, the judge infers the step size actually used and
spots parameters that never move (the classic key typo).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..probe import FLOAT64_EPS, ApiError, WorkerFailure, float_eps
from .base import CheckParams, Context, Verdict, best_scale, scale_is, fmt, fmt_pair, rel_error, sig, table
from .gradient import canonical_gradient, gradient_explained

MATCH = 1e-6


class Params(CheckParams):
    hidden: list[int] = [6]
    samples: int = 5
    lr: float | None = None   # default: the rubric's optimizer lr


def observe(ctx: Context, probe: Any, params: Params) -> dict:
    lr = params.lr or ctx.rubric.assignment.optimizer.lr
    net = probe.new(params.hidden, method="gd", lr=lr, seed=ctx.seed("net"))
    layout = net.require_layout()
    theta = ctx.oracle.theta(params.hidden, "step")
    x, y = ctx.oracle.batch(params.samples, "step")
    net.set_parameters(theta)
    own: dict | None = None
    raw = None
    try:
        raw = net.gradient_raw(x, y)
        grads, forms = canonical_gradient(raw, layout, theta)
        if all(v is not None for v in grads.values()):
            own = grads
    except (WorkerFailure, ApiError):
        own = None
    net.set_parameters(theta)
    snaps = net.steps(x, y, 1)
    after_raw = snaps[-1]
    after = layout.to_canonical(after_raw) if isinstance(after_raw, dict) else {}
    extra = sorted(set(after_raw) - set(snaps[0])) if isinstance(after_raw, dict) and isinstance(snaps[0], dict) else []
    # the precision the student computes and stores in (float32 rounds every stored value)
    eps = float_eps(raw, after_raw)
    return {"theta": theta, "x": x, "y": y, "lr": lr, "hidden": list(params.hidden), "own_gradient": own,
            "after": after, "new_keys": extra, "eps": eps}


def tolerances(ctx: Context, obs: dict, steps: dict[str, np.ndarray]) -> dict[str, float]:
    """Per block, the relative error a correct step may show: 1e-6 in float64;
    in lower precision the rubric's float32 tolerance plus the rounding of the
    stored parameters (eps |theta|) relative to the step's length."""
    eps = obs.get("eps", FLOAT64_EPS)
    if eps <= FLOAT64_EPS:
        return {key: MATCH for key in steps}
    base = max(MATCH, ctx.tol.float32_rel)
    return {key: base + 4.0 * eps * float(np.linalg.norm(obs["after"][key]))
            / max(float(np.linalg.norm(step)), 1e-300) for key, step in steps.items()}


def judge(ctx: Context, obs: dict, params: Params) -> Verdict:
    theta, lr, after = obs["theta"], obs["lr"], obs["after"]
    if set(after) != set(theta):
        return Verdict(0.0, f"After step(), self.theta lacks {sorted(set(theta) - set(after))}.",
                       diagnoses=["key-typo"] if obs["new_keys"] else ["bad-output"])
    reference_grad = ctx.oracle.gradient(obs["hidden"], theta, obs["x"], obs["y"])
    # evidence before credit: the student's own gradient counts only when it is the
    # reference's or a named mistake's (a zero gradient would make a no-op step "right")
    trust = gradient_explained(ctx, obs["hidden"], theta, obs["x"], obs["y"], obs["own_gradient"])
    candidates = [("the reference gradient", reference_grad)]
    if trust == "named":
        candidates.insert(0, ("your own gradient (its mistake is charged in the gradient criteria)",
                              obs["own_gradient"]))
    if all(np.array_equal(after[k], theta[k]) for k in theta):
        return Verdict(0.0, "step() left theta unchanged: one GD step must move it to theta - lr * g.",
                       evidence={"learning rate": sig(lr)})
    for source, grad in candidates:
        rows, errors, limits = _step_rows(ctx, obs, grad)
        if all(errors[k] <= limits[k] for k in theta):
            evidence = _evidence(obs, source, rows, limits)
            if grad is reference_grad and trust == "named":
                flipped = all(scale_is(obs["own_gradient"][k], reference_grad[k], -1.0) for k in theta)
                why = ("your back_propagate returns -1 x the gradient (the descent direction) and step() adds it, "
                       "so the step itself is right; the gradient's sign is charged in the gradient criteria"
                       if flipped else "your back_propagate differs from the gradient (charged in the gradient "
                       "criteria), but step() moves by exactly lr times the correct gradient")
                return Verdict(1.0, f"One GD step gives theta - lr * grad L exactly (lr = {fmt(lr)}): {why}.",
                               evidence=evidence)
            return Verdict(1.0, f"One GD step gives theta - lr * g exactly (lr = {fmt(lr)}, g = {source}).",
                           evidence=evidence)
    source, grad = candidates[0]
    rows, errors, limits = _step_rows(ctx, obs, grad)
    evidence = _evidence(obs, source, rows, limits)
    worst = max(errors.values())
    lines, diagnoses = [], []
    if obs["own_gradient"] is not None and trust is None:
        _, own_errors, own_limits = _step_rows(ctx, obs, obs["own_gradient"])
        if all(own_errors[k] <= own_limits[k] for k in theta):
            # the rule may be right, but the quantity it uses is unverified: no credit, no second charge
            return Verdict(0.0, "step() moves theta by exactly lr times your own back_propagate's gradient, but "
                           "that gradient is neither the reference's nor a known mistake's (see the gradient "
                           "criteria), so the step cannot be credited: against the true gradient it is off by "
                           f"{fmt(worst)} (largest relative error per block).", evidence=evidence)
        lines.append("Your back_propagate's gradient is neither the reference's nor a known mistake's, so the step "
                     "is compared with the reference gradient.")
    frozen = [k for k in theta if np.array_equal(after[k], theta[k]) and np.any(grad[k] != 0)]
    if frozen:
        new = f" and step() created new keys {obs['new_keys']}" if obs["new_keys"] else ""
        lines.append(f"{', '.join(frozen)} did not change at all during the step{new}: the update is written "
                     "under a different key (a typo such as 'w0' for 'W0'?).")
        diagnoses.append("key-typo")
    lr_seen = [r[2] for r in rows if r[2] != "-" and r[0] not in frozen]
    if lr_seen and all(abs(c - lr_seen[0]) < 1e-6 * abs(lr_seen[0]) for c in lr_seen):
        c = lr_seen[0]
        shown = fmt_pair(c, lr)
        if abs(c - lr) > 1e-6 * lr and shown is not None:
            lines.append(f"Every parameter moved by exactly {shown[0]} times the gradient, but the learning rate is "
                         f"{shown[1]}: the step ignores self.lr (or scales it).")
            diagnoses.append("wrong-step-size" if c > 0 else "sign-flip")
            evidence["inferred step size"] = sig(c)
    if not diagnoses:
        lines.append(f"The step does not equal theta - lr * g (largest relative error {fmt(worst)} per block).")
    return Verdict(0.0, "\n".join(lines), diagnoses=diagnoses, evidence=evidence)


def _step_rows(ctx: Context, obs: dict, grad: dict) -> tuple[list[list[Any]], dict, dict]:
    """Per block: the step's relative error against theta - lr * grad, the
    step size that explains it exactly ('-' when none does), and the error a
    correct step may show in the student's precision."""
    theta, after, lr = obs["theta"], obs["after"], obs["lr"]
    limits = tolerances(ctx, obs, {k: -lr * grad[k] for k in theta})
    rows, errors = [], {}
    for key in theta:
        errors[key] = rel_error(after[key] - theta[key], -lr * grad[key])
        c, resid = best_scale(theta[key] - after[key], grad[key])
        rows.append([key, errors[key], c if resid < limits[key] else "-"])
    return rows, errors, limits


def _evidence(obs: dict, source: str, rows: list[list[Any]], limits: dict) -> dict[str, Any]:
    evidence = {"learning rate": sig(obs["lr"]), "compared with": source,
                "blocks": table(["block", "relative error of the step", "step size used"], rows),
                "largest relative error": sig(max(r[1] for r in rows))}
    if obs.get("eps", FLOAT64_EPS) > FLOAT64_EPS:
        evidence["tolerance (float32 rounding)"] = sig(max(limits.values()))
    return evidence
