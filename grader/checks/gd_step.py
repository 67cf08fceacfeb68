"""`gd-step`: one steepest-descent step moves theta to theta - lr * g.

g is the student's *own* gradient at theta (from back_propagate) when the
evidence rule trusts it, so a gradient bug is charged once, in the gradient
criteria, and not again here.

A wrong step is named by fitting it to the family theta - c lr g: the
fitted factor c says what the step did (c = 1 right, 0 never applied, -1
added instead of subtracted, 2, 1/2, S, 1/S a scaled learning rate).  A
fit is confirmed on a second probe (another start and another learning
rate, seeded from the course secret when grading for real) before it is
named: the same c there names a scaled learning rate, the same step length
c lr there names a learning rate written into the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..probe import FLOAT64_EPS, ApiError, WorkerFailure, float_eps
from ..schema import Criterion, Rubric
from .base import CheckParams, Context, Verdict, best_scale, fmt, fmt_pair, rel_error, scale_is, sig, table
from .contract import Check, StudentValueError
from .values import depth_problems, numbers
from .gradient import canonical_gradient, gradient_explained

MATCH = 1e-6

Theta = dict[str, np.ndarray]


class Params(CheckParams):
    hidden: list[int] = [6]
    samples: int = 5
    lr: float | None = None   # default: the rubric's optimizer lr


# -- observation -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Snapshot:
    """The student's parameters after some steps, in canonical layout and
    validated: `values` holds every canonical block present (each the
    canonical shape, float64); `missing` the canonical blocks absent,
    `new_keys` the student keys the steps created, `nonfinite` the blocks
    holding NaN or infinity."""

    values: Theta
    missing: tuple[str, ...] = ()
    new_keys: tuple[str, ...] = ()
    nonfinite: tuple[str, ...] = ()

    @property
    def usable(self) -> bool:
        return not self.missing and not self.nonfinite


def canonical_snapshot(raw: Any, before: Any, layout: Any, reference: Theta, when: str) -> Snapshot:
    """A raw snapshot of the student's parameters, validated against the
    canonical `reference` (its keys and shapes).  A container that is not a
    dict, or a block that is not an array of numbers of the right size, is
    the student's `bad-output` (StudentValueError); a missing block or a
    non-finite value is kept for the judge to explain."""
    if not isinstance(raw, dict) or "__obj__" in raw:
        raise StudentValueError(f"{when}, the parameters are not a dict", type(raw).__name__)
    values: Theta = {}
    for key, block in layout.blocks.items():
        if block.student_key not in raw:
            continue
        value = numbers(raw[block.student_key], f"{when}, {block.student_key}", booleans=False)
        canonical = block.to_canonical(value)
        if canonical.shape != reference[key].shape:
            raise StudentValueError(f"{when}, {block.student_key} has shape {value.shape}", value)
        values[key] = canonical
    new_keys = sorted(set(raw) - set(before)) if isinstance(before, dict) else []
    return Snapshot(values, tuple(k for k in reference if k not in values),
                    tuple(str(k) for k in new_keys),
                    tuple(k for k, v in values.items() if not np.all(np.isfinite(v))))


@dataclass(frozen=True)
class Run:
    """One probe: one GD step of the student's from `theta` at learning rate `lr`.

    `own_gradient` is the student's back_propagate at theta (None when it
    failed), `trust` what the evidence rule makes of it ("reference",
    "named" or None: `gradient_explained`), `eps` the precision the student
    computes and stores in."""

    lr: float
    theta: Theta
    x: np.ndarray
    y: np.ndarray
    after: Snapshot
    own_gradient: Theta | None
    trust: str | None
    eps: float


@dataclass(frozen=True)
class Observation:
    hidden: tuple[int, ...]
    runs: tuple[Run, ...]   # the rubric's learning rate first, then the second probe


def second_lr(lr: float, seed: int) -> float:
    """The second probe's learning rate: lr times a factor drawn from `seed`
    (the course secret's when grading for real) in [0.3, 0.45], away from
    the named factors (1/2, 1/S, ...) so a hard-coded lr is never mistaken
    for one, rounded to print plainly."""
    factor = float(np.random.default_rng(seed).uniform(0.3, 0.45))
    return float(f"{lr * factor:.3g}")


def observe(ctx: Context, probe: Any, params: Params) -> Observation:
    lr = params.lr or ctx.rubric.assignment.optimizer.lr
    runs = (_run(ctx, probe, params, lr, ("net",), ("step",)),
            _run(ctx, probe, params, second_lr(lr, ctx.seed("lr")), ("net", 2), ("step", 2)))
    return Observation(tuple(params.hidden), runs)


def _run(ctx: Context, probe: Any, params: Params, lr: float, net_seed: tuple, part: tuple) -> Run:
    net = probe.new(params.hidden, method="gd", lr=lr, seed=ctx.seed(*net_seed))
    layout = net.require_layout()
    theta = ctx.oracle.theta(params.hidden, *part)
    x, y = ctx.oracle.batch(params.samples, *part)
    net.set_parameters(theta)
    own, raw = None, None
    try:
        raw = net.gradient_raw(x, y)
        grads, _ = canonical_gradient(raw, layout, theta)
        if all(v is not None and np.all(np.isfinite(v)) for v in grads.values()):
            own = grads
    except (WorkerFailure, ApiError):
        own = None
    trust = gradient_explained(ctx, list(params.hidden), theta, x, y, own) if own is not None else None
    net.set_parameters(theta)
    snaps = net.steps(x, y, 1)
    after = canonical_snapshot(snaps[-1], snaps[0], layout, theta, "after step()")
    return Run(lr, theta, x, y, after, own, trust, float_eps(raw, snaps[-1]))


def prefetch(ctx: Context, params: Params) -> None:
    """Every reference answer observe and judge ask, all at the probes'
    fixed starts: the gradient, and the named mistakes' gradients the trust
    question (`gradient_explained`) compares a student's with -- asked by
    putting it a gradient no mistake explains, so none is skipped."""
    hidden = list(params.hidden)
    for part in (("step",), ("step", 2)):
        theta = ctx.oracle.theta(hidden, *part)
        x, y = ctx.oracle.batch(params.samples, *part)
        reference = ctx.oracle.gradient(hidden, theta, x, y)
        unexplained = {k: np.full_like(v, 0.123) for k, v in reference.items()}
        gradient_explained(ctx, hidden, theta, x, y, unexplained)


def validate(rubric: Rubric, crit: Criterion, params: Params) -> list[str]:
    """The probe network must be as deep as the rubric's."""
    return depth_problems(rubric, params.hidden)


# -- fitting one run to theta - c lr g ----------------------------------------------------------

@dataclass(frozen=True)
class Fit:
    """One run against theta - c lr g for one gradient g (`source` names it):
    the fitted factor c (nan when the step is not along g), whether the step
    is c lr g within tolerance (`along`), and whether c = 1 (`exact`)."""

    source: str
    grad: Theta
    factor: float
    along: bool
    exact: bool
    rows: list[list[Any]]
    errors: dict[str, float]
    limits: dict[str, float]


def tolerances(ctx: Context, run: Run, steps: Theta) -> dict[str, float]:
    """Per block, the relative error a correct step may show: 1e-6 in float64;
    in lower precision the rubric's float32 tolerance plus the rounding of the
    stored parameters (eps |theta|) relative to the step's length."""
    if run.eps <= FLOAT64_EPS:
        return {key: MATCH for key in steps}
    base = max(MATCH, ctx.tol.float32_rel)
    return {key: base + 4.0 * run.eps * float(np.linalg.norm(run.after.values[key]))
            / max(float(np.linalg.norm(step)), 1e-300) for key, step in steps.items()}


def fit_run(ctx: Context, run: Run, source: str, grad: Theta) -> Fit:
    """Fit the run's step to theta - c lr g (one c for all blocks), with the
    per-block table the evidence shows."""
    theta, after, lr = run.theta, run.after.values, run.lr
    limits = tolerances(ctx, run, {k: -lr * grad[k] for k in theta})
    moved = np.concatenate([np.ravel(theta[k] - after[k]) for k in theta])
    along = np.concatenate([np.ravel(lr * grad[k]) for k in theta])
    factor, residual = best_scale(moved, along)
    if not np.any(moved):
        factor, residual = 0.0, 0.0
    rows, errors = [], {}
    for key in theta:
        errors[key] = rel_error(after[key] - theta[key], -lr * grad[key])
        c, resid = best_scale(theta[key] - after[key], grad[key])
        rows.append([key, errors[key], c if resid < limits[key] else "-"])
    limit = max(limits.values())
    fitted = np.isfinite(factor) and residual <= limit
    return Fit(source, grad, float(factor), bool(fitted), all(errors[k] <= limits[k] for k in theta),
               rows, errors, limits)


def run_fits(ctx: Context, hidden: tuple[int, ...], run: Run) -> list[Fit]:
    """The run fitted with every gradient the evidence rule allows: the
    student's own when it is a named mistake's (step() may use it), then the
    reference's."""
    reference = ctx.oracle.gradient(list(hidden), run.theta, run.x, run.y)
    fits = [fit_run(ctx, run, "the reference gradient", reference)]
    if run.trust == "named" and run.own_gradient is not None:
        fits.insert(0, fit_run(ctx, run, "your own gradient (its mistake is charged in the gradient criteria)",
                               run.own_gradient))
    return fits


def best_fit(fits: list[Fit]) -> Fit:
    """The first exact fit, else the first the step lies along, else the first."""
    return next((f for f in fits if f.exact), next((f for f in fits if f.along), fits[0]))


# -- judging -------------------------------------------------------------------------------------

def judge(ctx: Context, obs: Observation, params: Params) -> Verdict:
    unusable = _unusable(obs)
    if unusable is not None:
        return unusable
    fits = [best_fit(run_fits(ctx, obs.hidden, run)) for run in obs.runs]
    first, evidence = fits[0], _evidence(obs.runs[0], fits[0])
    _second_evidence(evidence, obs.runs, fits)
    if first.exact:
        return _credit(ctx, obs, fits, evidence)
    untrusted = _untrusted_own_gradient(ctx, obs.runs[0], first, evidence)
    if untrusted is not None:
        return untrusted
    frozen = _frozen_blocks(obs.runs[0], first, evidence)
    if frozen is not None:
        return frozen
    return _name_factor(obs, fits, evidence)


def _unusable(obs: Observation) -> Verdict | None:
    """Blocks lost or non-finite after the step: nothing to fit."""
    for run in obs.runs:
        after = run.after
        if after.missing:
            return Verdict(0.0, f"After step(), self.theta lacks {list(after.missing)}"
                           + (f" and holds new keys {list(after.new_keys)}." if after.new_keys else "."),
                           diagnoses=["key-typo"] if after.new_keys else ["bad-output"])
        if after.nonfinite:
            return Verdict(0.0, f"After one step from finite parameters, {', '.join(after.nonfinite)} hold NaN or "
                           "infinity: the update is not theta - lr * g.", evidence={"learning rate": sig(run.lr)})
    return None


def _credit(ctx: Context, obs: Observation, fits: list[Fit], evidence: dict[str, Any]) -> Verdict:
    """Right on the first probe: full credit when the second agrees."""
    run, first = obs.runs[0], fits[0]
    lr = run.lr
    if first.source.startswith("the reference") and run.trust == "named":
        flipped = all(scale_is(run.own_gradient[k], first.grad[k], -1.0) for k in run.theta)
        why = ("your back_propagate returns -1 x the gradient (the descent direction) and step() adds it, "
               "so the step itself is right; the gradient's sign is charged in the gradient criteria"
               if flipped else "your back_propagate differs from the gradient (charged in the gradient "
               "criteria), but step() moves by exactly lr times the correct gradient")
        feedback = f"One GD step gives theta - lr * grad L exactly (lr = {fmt(lr)}): {why}."
    else:
        feedback = f"One GD step gives theta - lr * g exactly (lr = {fmt(lr)}, g = {first.source})."
    if all(f.exact for f in fits[1:]):
        return Verdict(1.0, feedback + f" With lr = {fmt(obs.runs[-1].lr)} it is right too.", evidence=evidence)
    second, run2 = fits[-1], obs.runs[-1]
    if second.along and _same(second.factor * run2.lr, lr, max(second.limits.values())):
        return Verdict(0.5, feedback + f" But constructed with lr = {fmt(run2.lr)}, your step still moves by "
                       f"{fmt(lr)} times the gradient: the learning rate is written into the code instead of taken "
                       "from the constructor.", diagnoses=["wrong-step-size"], evidence=evidence)
    return Verdict(0.5, feedback + f" But constructed with lr = {fmt(run2.lr)}, your step is not theta - lr * g "
                   f"(largest relative error {fmt(max(second.errors.values()))} per block).", evidence=evidence)


def _untrusted_own_gradient(ctx: Context, run: Run, fit: Fit, evidence: dict[str, Any]) -> Verdict | None:
    """The rule may be right, but with a quantity nobody verified: no credit, no second charge."""
    if run.own_gradient is None or run.trust is not None:
        return None
    own = fit_run(ctx, run, "your own gradient", run.own_gradient)
    worst = max(fit.errors.values())
    if own.exact:
        return Verdict(0.0, "step() moves theta by exactly lr times your own back_propagate's gradient, but "
                       "that gradient is neither the reference's nor a known mistake's (see the gradient "
                       "criteria), so the step cannot be credited: against the true gradient it is off by "
                       f"{fmt(worst)} (largest relative error per block).", evidence=evidence)
    evidence["note"] = ("Your back_propagate's gradient is neither the reference's nor a known mistake's, so the "
                        "step is compared with the reference gradient.")
    return None


def _frozen_blocks(run: Run, fit: Fit, evidence: dict[str, Any]) -> Verdict | None:
    """Some blocks moved and others did not: the update went under another key."""
    theta, after = run.theta, run.after.values
    frozen = [k for k in theta if np.array_equal(after[k], theta[k]) and np.any(fit.grad[k] != 0)]
    if not frozen or len(frozen) == len(theta):
        return None
    new = f" and step() created new keys {list(run.after.new_keys)}" if run.after.new_keys else ""
    return Verdict(0.0, f"{', '.join(frozen)} did not change at all during the step{new}: the update is written "
                   "under a different key (a typo such as 'w0' for 'W0'?).", diagnoses=["key-typo"],
                   evidence=evidence)


#: named step factors c (the step moved c lr g) and what each says, as functions of the batch size S
def named_factors(samples: int) -> dict[float, str]:
    return {0.0: "the step is never applied", -1.0: "the step is added instead of subtracted",
            2.0: "the learning rate is applied twice (2 lr)", 0.5: "the learning rate is halved (lr / 2)",
            float(samples): f"the learning rate is multiplied by the batch size S = {samples}",
            1.0 / samples: f"the learning rate is divided by the batch size S = {samples}"}


def _same(a: float, b: float, tol: float) -> bool:
    return bool(np.isfinite(a) and np.isfinite(b) and abs(a - b) <= max(tol, MATCH) * max(abs(a), abs(b), 1e-300))


def _name_factor(obs: Observation, fits: list[Fit], evidence: dict[str, Any]) -> Verdict:
    """Name the fitted factor once the second probe confirms it; otherwise
    say plainly what was fitted."""
    first, run = fits[0], obs.runs[0]
    if not first.along:
        return Verdict(0.0, f"The step is not along the gradient: theta - c lr g fits no factor c (largest relative "
                       f"error against theta - lr g {fmt(max(first.errors.values()))} per block).", evidence=evidence)
    c, tol = first.factor, max(first.limits.values())
    evidence["inferred step size"] = sig(c * run.lr)
    confirmed = [f.along and _same(f.factor, c, tol) for f in fits[1:]]
    constant_step = [f.along and _same(f.factor * r.lr, c * run.lr, tol) for f, r in zip(fits[1:], obs.runs[1:])]
    if c == 0.0 and all(confirmed):
        return Verdict(0.0, "step() left theta unchanged: one GD step must move it to theta - lr * g.",
                       diagnoses=["step-not-applied"], evidence=evidence)
    for factor, meaning in named_factors(len(run.y)).items():
        if factor != 0.0 and _same(c, factor, tol) and all(confirmed):
            diagnosis = "sign-flip" if factor < 0 else "wrong-step-size"
            return Verdict(0.0, f"Every parameter moved by exactly {fmt(c)} x lr x the gradient, at both learning "
                           f"rates tried: {meaning}.", diagnoses=[diagnosis], evidence=evidence)
    shown = fmt_pair(c * run.lr, run.lr)
    if all(constant_step) and shown is not None:
        return Verdict(0.0, f"Every parameter moved by exactly {shown[0]} times the gradient, but the learning rate "
                       f"is {shown[1]}; constructed with lr = {fmt(obs.runs[-1].lr)} the step is {shown[0]} again: "
                       "the step ignores self.lr (a learning rate written into the code).",
                       diagnoses=["wrong-step-size" if c > 0 else "sign-flip"], evidence=evidence)
    if all(confirmed):
        return Verdict(0.0, f"Every parameter moved by exactly {fmt(c)} x lr x the gradient, at both learning rates "
                       "tried: the step scales the learning rate.",
                       diagnoses=["wrong-step-size" if c > 0 else "sign-flip"], evidence=evidence)
    seconds = ", ".join(fmt(f.factor) if f.along else "no factor" for f in fits[1:])
    return Verdict(0.0, f"Your step moved by {fmt(c)} x lr x the gradient (lr = {fmt(run.lr)}), but by {seconds} x lr "
                   "at the second learning rate tried: neither the factor nor the step length is constant, so no "
                   "known mistake explains it.", evidence=evidence)


def _evidence(run: Run, fit: Fit) -> dict[str, Any]:
    evidence = {"learning rate": sig(run.lr), "compared with": fit.source,
                "blocks": table(["block", "relative error of the step", "step size used"], fit.rows),
                "largest relative error": sig(max(fit.errors.values()))}
    if run.eps > FLOAT64_EPS:
        evidence["tolerance (float32 rounding)"] = sig(max(fit.limits.values()))
    return evidence


def _second_evidence(evidence: dict[str, Any], runs: tuple[Run, ...], fits: list[Fit]) -> None:
    evidence["fitted step factor c (theta - c lr g) per probe"] = table(
        ["learning rate", "c", "fits"], [[r.lr, f.factor, "yes" if f.along else "no"] for r, f in zip(runs, fits)])


CHECK = Check(
    name="gd_step",
    summary="one GD step moves theta to theta - lr g (g the student's trusted gradient or the reference's), "
            "at two learning rates",
    Params=Params, Observation=Observation, operations=("construct", "get_parameters", "set_parameters", "gradient", "step"),
    observe=observe, judge=judge,
    mistakes=("key-typo", "wrong-step-size", "sign-flip", "step-not-applied"),
    prefetch=prefetch, validate=validate,
)
