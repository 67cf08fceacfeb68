"""`nag-step`: Nesterov's method, gradient at the look-ahead point.

The student's NAG runs a few steps from their own initial parameters (so any
state they set up in the constructor stays valid).  The grader then replays
the candidate methods from the same start with the student's *own* gradient
function -- NAG in its theta form (the velocity form gives the same
iterates), NAG storing the look-ahead point (torch's form), FISTA, heavy
ball, plain GD -- and classifies the trajectory by the closest candidate.
Any correct form passes; each wrong one has its own diagnosis.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from ..probe import FLOAT64_EPS, ApiError, WorkerFailure, float_eps
from .base import CheckParams, Context, Verdict, best_scale, scale_is, fmt, fmt_pair, sig, table
from .gradient import canonical_gradient, gradient_explained

CANDIDATES = ("nag", "nag_stored", "nag_fista", "heavy_ball", "gd")
LABELS = {"nag": "NAG (look-ahead / theta form, or the velocity form)",
          "nag_stored": "NAG storing the look-ahead point (torch's SGD(nesterov=True) form)",
          "nag_fista": "NAG with the FISTA momentum schedule",
          "heavy_ball": "heavy-ball momentum (gradient at the current iterate)",
          "gd": "plain gradient descent (no momentum at all)"}
MATCH = 1e-6


class Params(CheckParams):
    hidden: list[int] = [6]
    samples: int = 5
    steps: int = 4
    lr: float = 0.05   # deliberately not a round value students hard-code (0.1, 0.01)
    momentum: float | None = None  # default: the rubric's


def second_momentum(mu: float) -> float:
    """A momentum far from the rubric's and from the values students hard-code."""
    return 0.55 if abs(mu - 0.55) > 0.1 else 0.8


def observe(ctx: Context, probe: Any, params: Params) -> dict:
    mu = params.momentum if params.momentum is not None else ctx.rubric.assignment.optimizer.momentum
    x, y = ctx.oracle.batch(params.samples, "nag")
    net = probe.new(params.hidden, method="nag", lr=params.lr, momentum=mu, seed=ctx.seed("nag"))
    layout = net.require_layout()
    raw = net.steps(x, y, params.steps)
    snaps = [layout.to_canonical(s) if isinstance(s, dict) else {} for s in raw]
    aliases = net.aliases()
    helper = probe.new(params.hidden, method="gd", lr=params.lr, momentum=mu, seed=ctx.seed("nag"))
    helper.require_layout()
    grad_fn, used_own = _gradient_function(ctx, helper, params.hidden, x, y)
    candidates = {}
    for method in CANDIDATES:
        traj = ctx.oracle.trajectory(method, grad_fn, snaps[0], params.steps, params.lr, mu)
        candidates[method] = traj.stored
    second = None
    if ctx.rubric.assignment.optimizer.schedule == "constant":
        # the same steps at another momentum: a coefficient written into the code shows here
        mu2 = second_momentum(mu)
        other = probe.new(params.hidden, method="nag", lr=params.lr, momentum=mu2, seed=ctx.seed("nag2"))
        other.require_layout()
        snaps2 = [layout.to_canonical(s) if isinstance(s, dict) else {}
                  for s in other.steps(x, y, SECOND_STEPS)]
        reference = _reference_gradient(ctx, {"hidden": params.hidden, "x": x, "y": y})
        second = {"momentum": mu2, "snapshots": snaps2, "candidates": {
            (method, m, source): ctx.oracle.trajectory(method, fn, snaps2[0], SECOND_STEPS, params.lr, m).stored
            for method in ("nag", "nag_stored") for m in (mu2, mu)
            for source, fn in (("own", grad_fn), ("reference", reference))}}
    return {"snapshots": snaps, "candidates": candidates, "aliases": aliases, "lr": params.lr, "momentum": mu,
            "own_gradient": used_own[0], "hidden": list(params.hidden), "x": x, "y": y, "second": second,
            "own_at_start": grad_fn(snaps[0]) if used_own[0] and snaps[0] else None,   # cached: no extra call
            "eps": float_eps(raw)}   # the precision the student stores its iterates in


SECOND_STEPS = 3


def _gradient_function(ctx: Context, helper: Any, hidden: list[int], x: np.ndarray, y: np.ndarray):
    """The student's back_propagate as a function of canonical theta
    (memoized), used only when it is trustworthy: the reference's, or a named
    mistake's, at the first point asked (evidence before credit: a zero
    gradient would make "no step at all" a perfect NAG).  Otherwise, or
    when it fails, the reference gradient."""
    cache: dict[str, dict] = {}
    used_own = [True]

    def grad(theta: dict) -> dict:
        key = hashlib.sha256(b"".join(np.ascontiguousarray(theta[k]).tobytes() for k in sorted(theta))).hexdigest()
        if key not in cache:
            result = None
            if used_own[0]:
                try:
                    helper.set_parameters(theta)
                    grads, _ = canonical_gradient(helper.gradient_raw(x, y), helper.layout, theta)
                    if all(v is not None and np.all(np.isfinite(v)) for v in grads.values()) \
                            and (cache or gradient_explained(ctx, hidden, theta, x, y, grads) is not None):
                        result = grads
                except (WorkerFailure, ApiError):
                    result = None
            if result is None:
                used_own[0] = False
                result = ctx.oracle.gradient(hidden, theta, x, y)
            cache[key] = result
        return cache[key]

    return grad, used_own


def distance(student: list[dict], candidate: list[dict]) -> float:
    """Largest deviation over the steps, relative to how far the candidate moved."""
    worst = 0.0
    start = candidate[0]
    for k in range(1, min(len(student), len(candidate))):
        s, c = student[k], candidate[k]
        if set(s) != set(c):
            return float("inf")
        num = np.sqrt(sum(float(np.sum((s[key] - c[key]) ** 2)) for key in c))
        den = np.sqrt(sum(float(np.sum((c[key] - start[key]) ** 2)) for key in c))
        if not np.isfinite(num) or den == 0.0:   # a candidate that does not move proves nothing
            return float("inf")
        worst = max(worst, num / max(den, 1e-300))
    return worst


def tolerance(ctx: Context, obs: dict, candidate: list[dict]) -> float:
    """How far a correct trajectory may deviate from `candidate` (see
    `distance`): MATCH in float64; in lower precision the rubric's float32
    tolerance plus the rounding of every stored iterate (eps |theta_k|,
    accumulating over the steps) relative to how far the candidate moved."""
    eps = obs.get("eps", FLOAT64_EPS)
    if eps <= FLOAT64_EPS:
        return MATCH
    snaps, start, ratio = obs["snapshots"], candidate[0], 0.0
    for k in range(1, min(len(snaps), len(candidate))):
        if set(snaps[k]) != set(candidate[k]):
            continue
        size = np.sqrt(sum(float(np.sum(snaps[k][key] ** 2)) for key in candidate[k]))
        moved = np.sqrt(sum(float(np.sum((candidate[k][key] - start[key]) ** 2)) for key in candidate[k]))
        ratio = max(ratio, k * size / max(moved, 1e-300))
    return max(MATCH, ctx.tol.float32_rel) + 4.0 * eps * ratio


def judge(ctx: Context, obs: dict, params: Params) -> Verdict:
    snaps, cands = obs["snapshots"], obs["candidates"]
    correct = {"nag_fista"} if ctx.rubric.assignment.optimizer.schedule == "fista" else {"nag", "nag_stored"}
    distances = {m: distance(snaps, c) for m, c in cands.items()}
    limits = {m: tolerance(ctx, obs, c) for m, c in cands.items()}
    best = min(distances, key=lambda m: distances[m] / limits[m])
    match = limits[best]
    rows = [[LABELS[m], distances[m]] for m in CANDIDATES]
    evidence: dict[str, Any] = {"learning rate": sig(obs["lr"]), "momentum": sig(obs["momentum"]),
                                "steps": len(snaps) - 1,
                                "distance to each method": table(["method", "relative deviation"], rows),
                                "gradients used": "yours" if obs["own_gradient"] else "the reference's"}
    if obs.get("eps", FLOAT64_EPS) > FLOAT64_EPS:
        evidence["tolerance (float32 rounding)"] = sig(match)
    if distances[best] <= match:
        evidence["your steps follow"] = LABELS[best]
    if distances[best] <= match and best in correct:
        return _with_second_probe(ctx, obs, evidence, f"Your NAG steps follow {LABELS[best]} exactly over "
                                  f"{len(snaps) - 1} steps.")
    if all(all(np.array_equal(s.get(k), snaps[0][k]) for k in snaps[0]) for s in snaps[1:]):
        return Verdict(0.0, "step() left theta unchanged over every NAG step.", evidence=evidence)
    if obs["own_gradient"]:
        # step() may use a correct internal gradient while back_propagate is wrong (charged there),
        # e.g. back_propagate returns the descent direction -g and step() adds it
        for method in sorted(correct):
            traj = ctx.oracle.trajectory(method, _reference_gradient(ctx, obs), snaps[0], len(snaps) - 1,
                                         obs["lr"], obs["momentum"])
            if distance(snaps, traj.stored) <= tolerance(ctx, obs, traj.stored):
                evidence["your steps follow"] = LABELS[method]
                own, ref = obs.get("own_at_start"), _reference_gradient(ctx, obs)(snaps[0])
                if own and all(scale_is(own[k], ref[k], -1.0) for k in ref if k in own):
                    evidence["gradients used"] = ("yours, which are -1 x the gradient (the descent direction), "
                                                  "added by step()")
                    return _with_second_probe(ctx, obs, evidence, f"Your NAG steps follow {LABELS[method]} "
                                              f"exactly over {len(snaps) - 1} steps: your back_propagate returns -1 x "
                                              "the gradient (the descent direction) and step() adds it, so the steps "
                                              "are right; the gradient's sign is charged in the gradient criteria.")
                evidence["gradients used"] = "the reference's (your step() does not use back_propagate's result)"
                return _with_second_probe(ctx, obs, evidence, f"Your NAG steps follow {LABELS[method]} exactly over "
                                          f"{len(snaps) - 1} steps (with the correct gradient; back_propagate is "
                                          "judged separately).")
    frozen = [k for k in snaps[0] if all(np.array_equal(s.get(k), snaps[0][k]) for s in snaps[1:])]
    if frozen and len(frozen) < len(snaps[0]):
        return Verdict(0.0, f"{', '.join(frozen)} never changed during NAG steps: the update writes them under "
                       "another key (a typo such as 'w0' for 'W0'?).", diagnoses=["key-typo"], evidence=evidence)
    if distances[best] <= match:
        if best == "heavy_ball":
            return Verdict(0.0, "Your steps are heavy-ball momentum: the gradient is taken at the current "
                           "iterate theta_k, not at the look-ahead point y_k = theta_k + mu (theta_k - theta_{k-1}). "
                           "Nesterov evaluates the gradient at y_k.", diagnoses=["heavy-ball"], evidence=evidence)
        if best == "gd":
            if obs["aliases"]:
                names = ", ".join(f"self.{a}" for a in obs["aliases"])
                return Verdict(0.0, f"Your NAG steps are exactly GD steps: the momentum term is always zero. "
                               f"{names} shares memory with the current parameters, so the 'previous iterate' "
                               "is updated together with theta. Store a copy (e.g. {k: v.copy() for ...}).",
                               diagnoses=["zero-momentum"], evidence=evidence)
            return Verdict(0.0, "Your NAG steps are exactly GD steps: no momentum is applied. Is the NAG branch "
                           "of step() ever reached (gradient_method == 'NAG')?", diagnoses=["nag-missing"],
                           evidence=evidence)
        if best == "nag_fista":
            return Verdict(0.0, "Your steps use the FISTA momentum schedule, but this assignment asks for constant "
                           f"momentum mu = {fmt(obs['momentum'])}.", diagnoses=["wrong-momentum"], evidence=evidence)
        if best in ("nag", "nag_stored"):
            return Verdict(0.0, "Your steps use constant momentum, but this assignment asks for the FISTA schedule.",
                           diagnoses=["wrong-momentum"], evidence=evidence)
    # an inferred value that prints like the expected one is no diagnosis ("0.9 instead of 0.9")
    lr = _infer_step_size(ctx, obs)
    shown = fmt_pair(lr, obs["lr"]) if lr is not None else None
    if shown is not None:
        evidence["inferred learning rate"] = sig(lr)
        return Verdict(0.0, f"Your steps follow Nesterov's method, but with learning rate {shown[0]} instead of "
                       f"{shown[1]}: step() ignores self.lr (or scales it).",
                       diagnoses=["wrong-step-size"], evidence=evidence)
    mu = _infer_momentum(ctx, obs)
    shown = fmt_pair(mu, obs["momentum"]) if mu is not None else None
    if shown is not None:
        evidence["inferred momentum"] = sig(mu)
        return Verdict(0.0, f"Your steps follow Nesterov's method with momentum {shown[0]} instead of "
                       f"{shown[1]}.", diagnoses=["wrong-momentum"], evidence=evidence)
    if distances[best] <= 1e-4 or (mu is not None or lr is not None):
        return Verdict(0.0, f"Your NAG steps are close to {LABELS[best]} but not within the tolerance (relative "
                       f"deviation {fmt(distances[best])}, allowed {fmt(match)}): a small difference in the update, "
                       "e.g. a value rounded or a term computed at a slightly different point.", evidence=evidence)
    return Verdict(0.0, f"Your NAG steps match none of the known methods; the closest is {LABELS[best]} "
                   f"(relative deviation {fmt(distances[best])}).", evidence=evidence)


def _with_second_probe(ctx: Context, obs: dict, evidence: dict, feedback: str) -> Verdict:
    """Full credit needs the same steps right at a second momentum too; a
    run that still follows the rubric's momentum there has it hard-coded."""
    second = obs.get("second")
    if second is None:
        return Verdict(1.0, feedback, evidence=evidence)
    mu, mu2, snaps2 = obs["momentum"], second["momentum"], second["snapshots"]
    # the steps may follow the student's own (trusted) gradient or the reference's (charged once)
    follows = {m: min(distance(snaps2, cand) / tolerance(ctx, dict(obs, snapshots=snaps2), cand) * MATCH
                      for (_, momentum, _), cand in second["candidates"].items() if momentum == m)
               for m in (mu2, mu)}
    evidence["second probe momentum"] = sig(mu2)
    evidence["second probe deviation"] = sig(follows[mu2])
    if follows[mu2] <= MATCH:
        return Verdict(1.0, feedback + f" With momentum {fmt(mu2)} they follow it too.", evidence=evidence)
    if follows[mu] <= MATCH:
        return Verdict(0.5, feedback + f" But constructed with momentum {fmt(mu2)}, your steps still use "
                       f"{fmt(mu)}: the momentum is written into the code instead of taken from the constructor.",
                       diagnoses=["momentum-hard-coded"], evidence=evidence)
    return Verdict(0.5, feedback + f" But constructed with momentum {fmt(mu2)}, your steps follow neither that "
                   f"momentum nor {fmt(mu)} (relative deviation {fmt(follows[mu2])}).",
                   diagnoses=["wrong-momentum"], evidence=evidence)


def _reference_gradient(ctx: Context, obs: dict):
    def grad(theta: dict) -> dict:
        return ctx.oracle.gradient(obs["hidden"], theta, obs["x"], obs["y"])

    return grad




def _infer_step_size(ctx: Context, obs: dict) -> float | None:
    """The learning rate the student really used: the first NAG step (with
    theta_{-1} = theta_0) is a plain gradient step, so it reveals lr; the
    remaining steps must then follow NAG with that lr."""
    snaps = obs["snapshots"]
    if len(snaps) < 3:
        return None
    g0 = _reference_gradient(ctx, obs)(snaps[0])
    keys = sorted(g0)
    moved = np.concatenate([np.ravel(snaps[0][k] - snaps[1][k]) for k in keys])
    lr, residual = best_scale(moved, np.concatenate([np.ravel(g0[k]) for k in keys]))
    if not np.isfinite(lr) or residual > 1e-6 or abs(lr - obs["lr"]) <= 1e-6 * obs["lr"]:
        return None
    grad = _reference_gradient(ctx, obs)
    for method in ("nag", "nag_stored"):
        traj = ctx.oracle.trajectory(method, grad, snaps[0], len(snaps) - 1, lr, obs["momentum"])
        if distance(snaps, traj.stored) <= 1e-4:
            return lr
    return None


def _infer_momentum(ctx: Context, obs: dict) -> float | None:
    """Search the momentum that reproduces the steps (reference gradient)."""
    snaps = obs["snapshots"]
    grad = _reference_gradient(ctx, obs)
    for mu in np.round(np.linspace(0.01, 0.99, 99), 2):
        for method in ("nag", "nag_stored"):
            traj = ctx.oracle.trajectory(method, grad, snaps[0], len(snaps) - 1, obs["lr"], float(mu))
            if distance(snaps, traj.stored) <= 1e-4:
                return float(mu)
    return None
