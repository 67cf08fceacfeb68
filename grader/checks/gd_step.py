"""`gd-step`: one steepest-descent step moves theta to theta - lr * g.

g is the student's *own* gradient at theta (from back_propagate), so a
gradient bug is charged once, in the gradient criteria, and not again here.
When the step is wrong, the judge infers the step size actually used and
spots parameters that never move (the classic key typo).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..probe import ApiError, WorkerFailure
from .base import CheckParams, Context, Verdict, best_scale, fmt, rel_error, sig, table
from .gradient import canonical_gradient


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
    try:
        grads, forms = canonical_gradient(net.gradient_raw(x, y), layout, theta)
        if all(v is not None for v in grads.values()):
            own = grads
    except (WorkerFailure, ApiError):
        own = None
    net.set_parameters(theta)
    snaps = net.steps(x, y, 1)
    after_raw = snaps[-1]
    after = layout.to_canonical(after_raw) if isinstance(after_raw, dict) else {}
    extra = sorted(set(after_raw) - set(snaps[0])) if isinstance(after_raw, dict) and isinstance(snaps[0], dict) else []
    return {"theta": theta, "x": x, "y": y, "lr": lr, "hidden": list(params.hidden), "own_gradient": own,
            "after": after, "new_keys": extra}


def judge(ctx: Context, obs: dict, params: Params) -> Verdict:
    theta, lr = obs["theta"], obs["lr"]
    reference_grad = ctx.oracle.gradient(obs["hidden"], theta, obs["x"], obs["y"])
    grad = obs["own_gradient"] or reference_grad
    source = "your own gradient" if obs["own_gradient"] else "the reference gradient (your back_propagate failed)"
    after = obs["after"]
    if set(after) != set(theta):
        return Verdict(0.0, f"After step(), self.theta lacks {sorted(set(theta) - set(after))}.",
                       diagnoses=["key-typo"] if obs["new_keys"] else ["bad-output"])
    expected = {k: theta[k] - lr * grad[k] for k in theta}
    rows, frozen, lr_seen = [], [], []
    for key in theta:
        moved = theta[key] - after[key]
        err = rel_error(after[key] - theta[key], expected[key] - theta[key])
        c, resid = best_scale(moved, grad[key])
        rows.append([key, err, c if resid < 1e-6 else "-"])
        if np.array_equal(after[key], theta[key]) and np.any(grad[key] != 0):
            frozen.append(key)
        elif resid < 1e-6:
            lr_seen.append(c)
    evidence = {"learning rate": sig(lr), "compared with": source,
                "blocks": table(["block", "relative error of the step", "step size used"], rows)}
    worst = max(r[1] for r in rows)
    evidence["largest relative error"] = sig(worst)
    if worst <= 1e-6:
        return Verdict(1.0, f"One GD step gives theta - lr * g exactly (lr = {fmt(lr)}, g = {source}).",
                       evidence=evidence)
    lines, diagnoses = [], []
    if frozen:
        new = f" and step() created new keys {obs['new_keys']}" if obs["new_keys"] else ""
        lines.append(f"{', '.join(frozen)} did not change at all during the step{new}: the update is written "
                     "under a different key (a typo such as 'w0' for 'W0'?).")
        diagnoses.append("key-typo")
    if lr_seen and all(abs(c - lr_seen[0]) < 1e-6 * abs(lr_seen[0]) for c in lr_seen):
        c = lr_seen[0]
        if abs(c - lr) > 1e-6 * lr:
            lines.append(f"Every parameter moved by exactly {fmt(c)} times the gradient, but the learning rate is "
                         f"{fmt(lr)}: the step ignores self.lr (or scales it).")
            diagnoses.append("wrong-step-size" if c > 0 else "sign-flip")
            evidence["inferred step size"] = sig(c)
    if not lines:
        lines.append(f"The step does not equal theta - lr * g (largest relative error {fmt(worst)} per block).")
    return Verdict(0.0, "\n".join(lines), diagnoses=diagnoses, evidence=evidence)
