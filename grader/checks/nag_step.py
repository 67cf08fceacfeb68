"""`nag-step`: Nesterov's method, gradient at the look-ahead point.

The student's NAG runs a few steps from their own initial parameters (so any
state they set up in the constructor stays valid).

Credit: the trajectory is one of the correct forms (the theta form, or the
look-ahead points torch stores; the FISTA schedule when the rubric asks
for it), replayed with the student's own gradient where the evidence rule
trusts it, else the reference's; with a constant schedule, the same at a
second momentum (seeded from the course secret when grading for real), so
a momentum written into the code is caught.

Naming a wrong trajectory: every momentum step the grader knows is one
member of a parametric family (`grader.mutants.StepRule`): where the step
starts (theta_k or y_k), where the gradient is evaluated (theta_k or y_k),
whether the previous iterate follows the iterates or stays theta_0, the
momentum coefficient m in y_k = theta_k + m (theta_k - prev_k) and the
learning-rate factor c.  The student's steps are fitted to each structure
(teacher-forced: every step from the student's own previous iterates, so
errors do not compound), the fitted numbers are read as a mistake (m = mu
with the gradient at theta_k is heavy ball, m = 1 - mu or -mu a misread
coefficient, c != 1 a scaled learning rate, ...), and the mistake is named
only when the second probe confirms it: the same relation to the second
momentum (1 - mu2, -mu2), or the same number (a coefficient written into
the code).  Anything else is reported as the fitted numbers, plainly.

Under the FISTA schedule the family also holds every structure with the
schedule's own coefficients beta_k (`StepRule.schedule`), fitted first:
the momentum is no constructor argument there, so there is no second
probe, and the confirmation is the fit itself: beta_k changes at every
step, so one member fitting every step exactly, teacher-forced, is what a
constant-momentum member cannot do by chance.  Heavy ball with beta_k is
named heavy ball, as with a constant mu; a constant momentum where FISTA
is asked stays wrong-momentum.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any, Callable

import numpy as np

from ..mutants import CONSTANT, FISTA, FROZEN, ITERATE, LOOKAHEAD, UPDATED, StepRule
from ..probe import FLOAT64_EPS, ApiError, WorkerFailure, float_eps
from ..schema import Criterion, Rubric
from .base import CheckParams, Context, Verdict, best_scale, fmt, scale_is, sig, table
from .values import depth_problems
from .contract import Check, StudentValueError
from .gd_step import Snapshot, Theta, canonical_snapshot
from .gradient import canonical_gradient, gradient_explained

GradFn = Callable[[Theta], Theta]

LABELS = {"nag": "NAG (look-ahead / theta form, or the velocity form)",
          "nag_stored": "NAG storing the look-ahead point (torch's SGD(nesterov=True) form)",
          "nag_fista": "NAG with the FISTA momentum schedule"}
MATCH = 1e-6
#: below this relative deviation a trajectory that misses the tolerance is "close": rounding, not a mistake
NEAR = 1e-4
SECOND_STEPS = 3


class Params(CheckParams):
    hidden: list[int] = [6]
    samples: int = 5
    steps: int = 4
    lr: float = 0.05   # deliberately not a round value students hard-code (0.1, 0.01)
    momentum: float | None = None  # default: the rubric's


def second_momentum(mu: float, seed: int) -> float:
    """The second probe's momentum: drawn from `seed` (the course secret's
    when grading for real, so nobody can write it into the code), far from
    mu and from 1 - mu (so "the same number" and "the same relation" cannot
    coincide), rounded to print plainly."""
    rng = np.random.default_rng(seed)
    for _ in range(64):
        m = round(float(rng.uniform(0.4, 0.8)), 3)
        if abs(m - mu) > 0.1 and abs(m - (1.0 - mu)) > 0.1 and abs(m - 0.5) > 0.02:
            return m
    return 0.55 if abs(mu - 0.55) > 0.1 else 0.8


def correct_methods(schedule: str) -> tuple[str, ...]:
    return ("nag_fista",) if schedule == FISTA else ("nag", "nag_stored")


# -- observation -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Run:
    """The student's NAG run at one momentum: the validated snapshots before
    and after every step, the precision they are stored in, and the correct
    forms replayed from the same start with the trusted gradient function,
    keyed by (method, momentum)."""

    momentum: float
    snapshots: tuple[Snapshot, ...]
    eps: float
    replays: dict[tuple[str, float], tuple[Theta, ...]]

    @property
    def iterates(self) -> list[Theta]:
        return [s.values for s in self.snapshots]

    @property
    def usable(self) -> bool:
        return all(s.usable for s in self.snapshots)


@dataclass(frozen=True)
class Observation:
    hidden: tuple[int, ...]
    x: np.ndarray
    y: np.ndarray
    lr: float
    momentum: float
    schedule: str
    first: Run
    second: Run | None            # constant schedule only: the same steps at second_momentum(mu)
    aliases: tuple[str, ...]      # attributes sharing memory with the parameters
    own_gradient: bool            # the replays used the student's back_propagate (trusted)
    own_at_start: Theta | None    # the student's gradient at the first snapshot, when used
    own_scale: float = 1.0        # the student's gradient is exactly this multiple of the reference's (S, 1/S, -1)


def observe(ctx: Context, probe: Any, params: Params) -> Observation:
    optimizer = ctx.rubric.assignment.optimizer
    mu = params.momentum if params.momentum is not None else optimizer.momentum
    x, y = ctx.oracle.batch(params.samples, "nag")
    net = probe.new(params.hidden, method="nag", lr=params.lr, momentum=mu, seed=ctx.seed("nag"))
    layout = net.require_layout()
    shapes = {k: np.zeros(s) for k, s in ctx.oracle.architecture(list(params.hidden)).shapes().items()}
    raw, first = _student_run(net, layout, shapes, x, y, params.steps)
    aliases = tuple(str(a) for a in net.aliases())
    helper = probe.new(params.hidden, method="gd", lr=params.lr, momentum=mu, seed=ctx.seed("nag"))
    helper.require_layout()
    grad_fn, used_own = _gradient_function(ctx, helper, params.hidden, x, y)
    methods = ("nag", "nag_stored", "nag_fista")
    first_run = Run(mu, first, float_eps(raw), _replays(ctx, grad_fn, first, methods, (mu,), params))
    second_run = None
    if optimizer.schedule == "constant":
        # the same steps at another momentum: a coefficient written into the code shows here
        mu2 = second_momentum(mu, ctx.seed("momentum"))
        other = probe.new(params.hidden, method="nag", lr=params.lr, momentum=mu2, seed=ctx.seed("nag2"))
        raw2, second = _student_run(other, other.require_layout(), shapes, x, y, SECOND_STEPS)
        second_run = Run(mu2, second, float_eps(raw2),
                         _replays(ctx, grad_fn, second, ("nag", "nag_stored"), (mu2, mu), params))
    own_at_start = grad_fn(first[0].values) if used_own[0] and first[0].usable else None   # cached: no extra call
    reference = ctx.oracle.gradient(list(params.hidden), first[0].values, x, y) if own_at_start else None
    return Observation(tuple(params.hidden), x, y, params.lr, mu, optimizer.schedule, first_run, second_run,
                       aliases, bool(used_own[0]), own_at_start, own_scale(own_at_start, reference))


def own_scale(own: Theta | None, reference: Theta | None) -> float:
    """s when the student's gradient is exactly s times the reference's (a
    sum for a mean, S; a mean taken twice, 1/S; the descent direction, -1):
    step() then moves by s lr g, which is their gradient's mistake (charged
    in the gradient criteria), not a learning-rate one.  1 otherwise."""
    if not own or not reference or set(own) != set(reference):
        return 1.0
    a = np.concatenate([np.ravel(own[k]) for k in reference])
    b = np.concatenate([np.ravel(reference[k]) for k in reference])
    c, residual = best_scale(a, b)
    return float(c) if np.isfinite(c) and residual < 1e-9 and c != 0 else 1.0


def _student_run(net: Any, layout: Any, shapes: Theta, x: np.ndarray, y: np.ndarray,
                 steps: int) -> tuple[Any, tuple[Snapshot, ...]]:
    """The student's snapshots before and after each of `steps` steps, validated."""
    raw = net.steps(x, y, steps)
    if not isinstance(raw, list) or len(raw) != steps + 1:
        raise StudentValueError(f"the parameters snapshotted over {steps} steps are malformed", type(raw).__name__)
    return raw, tuple(canonical_snapshot(s, raw[0], layout, shapes, f"after {k} NAG steps" if k else "before "
                                         "the first NAG step") for k, s in enumerate(raw))


def _replays(ctx: Context, grad_fn: GradFn, snaps: tuple[Snapshot, ...], methods: tuple[str, ...],
             momenta: tuple[float, ...], params: Params) -> dict[tuple[str, float], tuple[Theta, ...]]:
    """The correct forms from the student's start (nothing when it is unusable)."""
    if not snaps[0].usable:
        return {}
    return {(method, m): tuple(ctx.oracle.trajectory(method, grad_fn, snaps[0].values, len(snaps) - 1,
                                                     params.lr, m).stored)
            for method in methods for m in momenta}


def _gradient_function(ctx: Context, helper: Any, hidden: list[int], x: np.ndarray,
                       y: np.ndarray) -> tuple[GradFn, list[bool]]:
    """The student's back_propagate as a function of canonical theta
    (memoized), used only while it is trustworthy: the reference's, or a
    named mistake's, at *every* point asked (evidence before credit: a zero
    gradient would make "no step at all" a perfect NAG, and answers crafted
    at the replays' look-ahead points would make plain GD steps replay as
    NAG -- tests/trust, nag_replay_forged).  From the first point where it
    is not, or fails, the reference gradient."""
    cache: dict[str, Theta] = {}
    used_own = [True]

    def grad(theta: Theta) -> Theta:
        key = hashlib.sha256(b"".join(np.ascontiguousarray(theta[k]).tobytes() for k in sorted(theta))).hexdigest()
        if key not in cache:
            result = None
            if used_own[0]:
                try:
                    grads, _ = canonical_gradient(helper.gradient_at(theta, x, y), helper.layout, theta)
                    if all(v is not None and np.all(np.isfinite(v)) for v in grads.values()) \
                            and gradient_explained(ctx, hidden, theta, x, y, grads) is not None:
                        result = grads
                except (WorkerFailure, ApiError):
                    result = None
            if result is None:
                used_own[0] = False
                result = ctx.oracle.gradient(hidden, theta, x, y)
            cache[key] = result
        return cache[key]

    return grad, used_own


def validate(rubric: Rubric, crit: Criterion, params: Params) -> list[str]:
    """Probe depth follows the architecture; enough steps to tell the methods
    apart (the first step of every member is a gradient step, FISTA's too).
    Hidden only (the declaration's `public=False`): judge asks the reference
    at the student's own iterates, which no kit can record in advance."""
    problems = depth_problems(rubric, params.hidden)
    if params.steps < 2:
        problems.append(f"steps = {params.steps}: the first NAG step (a FISTA one too) is a plain gradient step, "
                        "so at least 2 are needed to see any momentum")
    return problems


# -- distances to a replayed trajectory (credit) ---------------------------------------------------

def distance(student: list[Theta], candidate: list[Theta] | tuple[Theta, ...]) -> float:
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


def tolerance(ctx: Context, run: Run, candidate: list[Theta] | tuple[Theta, ...]) -> float:
    """How far a correct trajectory may deviate from `candidate` (see
    `distance`): MATCH in float64; in lower precision the rubric's float32
    tolerance plus the rounding of every stored iterate (eps |theta_k|,
    accumulating over the steps) relative to how far the candidate moved."""
    if run.eps <= FLOAT64_EPS:
        return MATCH
    snaps, start, ratio = run.iterates, candidate[0], 0.0
    for k in range(1, min(len(snaps), len(candidate))):
        size = np.sqrt(sum(float(np.sum(snaps[k][key] ** 2)) for key in candidate[k]))
        moved = np.sqrt(sum(float(np.sum((candidate[k][key] - start[key]) ** 2)) for key in candidate[k]))
        ratio = max(ratio, k * size / max(moved, 1e-300))
    return max(MATCH, ctx.tol.float32_rel) + 4.0 * run.eps * ratio


def follows(ctx: Context, run: Run, candidate: list[Theta] | tuple[Theta, ...]) -> bool:
    """The run follows `candidate` within tolerance (an absent replay is followed by nothing)."""
    return len(candidate) > 1 and distance(run.iterates, candidate) <= tolerance(ctx, run, candidate)


def reference_gradient(ctx: Context, obs: Observation) -> GradFn:
    def grad(theta: Theta) -> Theta:
        return ctx.oracle.gradient(list(obs.hidden), theta, obs.x, obs.y)

    return grad


def reference_replay(ctx: Context, obs: Observation, run: Run, method: str, momentum: float) -> list[Theta]:
    return ctx.oracle.trajectory(method, reference_gradient(ctx, obs), run.iterates[0], len(run.snapshots) - 1,
                                 obs.lr, momentum).stored


# -- the family fit ------------------------------------------------------------------------------

#: the structures of the family, in the order a tie is resolved (Nesterov's first)
STRUCTURES: tuple[tuple[str, str, str], ...] = tuple(
    (start, evaluate, previous) for previous in (UPDATED, FROZEN)
    for start, evaluate in ((LOOKAHEAD, LOOKAHEAD), (LOOKAHEAD, ITERATE), (ITERATE, LOOKAHEAD)))


@dataclass(frozen=True)
class MemberFit:
    """A member of the family fitted to a run: its rule (fitted momentum and
    factor), the worst per-step relative residual (teacher-forced) and the
    residual a correct step may show."""

    rule: StepRule
    residual: float
    limit: float

    @property
    def fits(self) -> bool:
        return self.residual <= self.limit

    @property
    def is_gd(self) -> bool:
        return self.rule.momentum == 0.0 or (self.rule.start, self.rule.evaluate) == (ITERATE, ITERATE)


def step_residuals(rule: StepRule, iterates: list[Theta], grad: GradFn, lr: float) -> list[float]:
    """Per step k, |rule's step from the student's theta_k - student's theta_{k+1}|
    relative to how far the student moved."""
    out = []
    for k in range(len(iterates) - 1):
        predicted = rule.step(grad, iterates[k], rule.previous_of(iterates, k), lr, k)
        num = np.sqrt(sum(float(np.sum((predicted[key] - iterates[k + 1][key]) ** 2)) for key in predicted))
        den = np.sqrt(sum(float(np.sum((iterates[k + 1][key] - iterates[k][key]) ** 2)) for key in predicted))
        out.append(0.0 if num == 0.0 else num / den if den > 0 and np.isfinite(num) else float("inf"))
    return out


def step_limit(ctx: Context, run: Run) -> float:
    """The per-step residual a correct step may show: MATCH in float64, plus
    float32 rounding of the stored iterates relative to the step otherwise."""
    if run.eps <= FLOAT64_EPS:
        return MATCH
    its, ratio = run.iterates, 0.0
    for k in range(len(its) - 1):
        size = np.sqrt(sum(float(np.sum(its[k + 1][key] ** 2)) for key in its[k]))
        moved = np.sqrt(sum(float(np.sum((its[k + 1][key] - its[k][key]) ** 2)) for key in its[k]))
        ratio = max(ratio, size / max(moved, 1e-300))
    return max(MATCH, ctx.tol.float32_rel) + 8.0 * run.eps * ratio


def fit_factor(iterates: list[Theta], grad: GradFn, lr: float) -> float:
    """c from the first step, the same for every member: theta_{-1} = theta_0
    makes it theta_1 = theta_0 - c lr g(theta_0)."""
    g = grad(iterates[0])
    moved = np.concatenate([np.ravel(iterates[0][k] - iterates[1][k]) for k in g])
    along = np.concatenate([np.ravel(lr * g[k]) for k in g])
    denominator = float(along @ along)
    return float(moved @ along) / denominator if denominator > 0 else float("nan")


def _errors(rule: StepRule, iterates: list[Theta], grad: GradFn, lr: float) -> np.ndarray:
    """The stacked teacher-forced step errors of steps 1.. (step 0 carries no momentum)."""
    parts = []
    for k in range(1, len(iterates) - 1):
        predicted = rule.step(grad, iterates[k], rule.previous_of(iterates, k), lr, k)
        parts += [np.ravel(predicted[key] - iterates[k + 1][key]) for key in predicted]
    return np.concatenate(parts) if parts else np.zeros(0)


def fit_momentum(structure: tuple[str, str, str], factor: float, iterates: list[Theta], grad: GradFn,
                 lr: float) -> float:
    """The m that best explains steps 1.. under `structure` (Gauss-Newton on
    the scalar m: exact in one step when the gradient does not move with m,
    a few steps otherwise, since the gradient changes slowly along y_k)."""
    start, evaluate, previous = structure
    m = 0.0
    for _ in range(8):
        rule = StepRule(m, factor, start, evaluate, previous)
        h = 1e-3
        e = _errors(rule, iterates, grad, lr)
        slope = (_errors(StepRule(m + h, factor, start, evaluate, previous), iterates, grad, lr)
                 - _errors(StepRule(m - h, factor, start, evaluate, previous), iterates, grad, lr)) / (2 * h)
        denominator = float(slope @ slope)
        if denominator == 0.0 or not np.isfinite(denominator):
            return m
        delta = float(e @ slope) / denominator
        m -= delta
        if not np.isfinite(m) or abs(m) > 10:
            return float("nan")
        if abs(delta) < 1e-12:
            break
    return m


def evaluate_member(ctx: Context, run: Run, rule: StepRule, grad: GradFn, lr: float) -> MemberFit:
    residuals = step_residuals(rule, run.iterates, grad, lr)
    return MemberFit(rule, max(residuals) if residuals else float("inf"), step_limit(ctx, run))


def fit_family(ctx: Context, run: Run, grad: GradFn, lr: float, schedule: str = CONSTANT) -> list[MemberFit]:
    """Every structure of the family fitted to the run (fitted m, c): the
    members that fit first, in the family's order (plain GD, the schedule's
    members when the rubric asks for FISTA, Nesterov, ...), then the
    others, nearest first."""
    iterates = run.iterates
    factor = fit_factor(iterates, grad, lr)
    if not np.isfinite(factor):
        return []
    fits = [evaluate_member(ctx, run, StepRule(0.0, factor, ITERATE, ITERATE, UPDATED), grad, lr)]
    if schedule == FISTA:   # beta_k is fixed by the schedule (or one step early): only the factor is fitted
        fits += [evaluate_member(ctx, run, StepRule(1.0, factor, *structure, schedule=FISTA, shift=shift), grad, lr)
                 for shift in (0, 1) for structure in STRUCTURES]
    for structure in STRUCTURES:
        m = fit_momentum(structure, factor, iterates, grad, lr)
        if np.isfinite(m):
            fits.append(evaluate_member(ctx, run, StepRule(m, factor, *structure), grad, lr))
    # the simplest member that fits first (GD, then the family's order), else the nearest
    return sorted(fits, key=lambda f: (not f.fits, 0.0 if f.fits else f.residual / f.limit))


def snapped(ctx: Context, run: Run, fit: MemberFit, grad: GradFn, lr: float,
            values: dict[str, float], unit: float = 1.0) -> tuple[MemberFit, str | None]:
    """The fit with its momentum and factor replaced by named values (factor
    `unit`: the right learning rate; the relations of `values`) when those
    still fit: a named value is only used when the numbers cannot tell it
    from the fitted one."""
    for factor in (unit, fit.rule.factor):
        for relation, m in values.items():
            rule = replace(fit.rule, momentum=m, factor=factor)
            member = evaluate_member(ctx, run, rule, grad, lr)
            if member.fits:
                return member, relation
        if factor == unit:
            rule = replace(fit.rule, factor=unit)
            member = evaluate_member(ctx, run, rule, grad, lr)
            if member.fits:
                return member, None
    return fit, None


def relations(mu: float) -> dict[str, float]:
    """The named relations of a fitted momentum to the rubric's mu."""
    return {"mu": mu, "1 - mu": 1.0 - mu, "-mu": -mu}


#: a schedule member's only named momentum: the schedule itself (its scale 1)
SCHEDULE_RELATIONS = {"schedule": 1.0}


def member_relations(rule: StepRule, mu: float) -> dict[str, float]:
    """The named values a fitted member's momentum is snapped to."""
    return SCHEDULE_RELATIONS if rule.schedule == FISTA else relations(mu)


def describe(rule: StepRule) -> str:
    """A member in words: what each fitted knob says."""
    if rule.momentum == 0.0 or (rule.start, rule.evaluate) == (ITERATE, ITERATE):
        scaled = f" with learning rate x {fmt(rule.factor)}" if abs(rule.factor - 1.0) > 1e-9 else ""
        return "plain gradient steps (no momentum)" + scaled
    where = "the look-ahead point y_k" if rule.evaluate == LOOKAHEAD else "the current iterate theta_k"
    start = "y_k" if rule.start == LOOKAHEAD else "theta_k"
    prev = "theta_{k-1}" if rule.previous == UPDATED else "theta_0 (never updated)"
    if rule.schedule == FISTA:
        early, beta = (" one step early", "beta_{k+1}") if rule.shift else ("", "beta_k")
        text = (f"the FISTA schedule{early} (y_k = theta_k + {beta} (theta_k - {prev})), "
                f"the gradient at {where}, the step from {start}")
        return text + (f", learning rate x {fmt(rule.factor)}" if abs(rule.factor - 1.0) > 1e-9 else "")
    sign = "-" if rule.momentum < 0 else "+"
    text = (f"momentum {fmt(rule.momentum)} (y_k = theta_k {sign} {fmt(abs(rule.momentum))} (theta_k - {prev})), "
            f"the gradient at {where}, the step from {start}")
    return text + (f", learning rate x {fmt(rule.factor)}" if abs(rule.factor - 1.0) > 1e-9 else "")


# -- judging -------------------------------------------------------------------------------------

def judge(ctx: Context, obs: Observation, params: Params) -> Verdict:
    evidence = _evidence(obs)
    unusable = _unusable(obs, evidence)
    if unusable is not None:
        return unusable
    credited = _credit(ctx, obs, evidence)
    if credited is not None:
        return credited
    structural = _not_moving(obs, evidence) or _other_schedule(ctx, obs, evidence)
    if structural is not None:
        return structural
    return _name_member(ctx, obs, evidence)


def _evidence(obs: Observation) -> dict[str, Any]:
    evidence: dict[str, Any] = {"learning rate": sig(obs.lr), "momentum": sig(obs.momentum),
                                "steps": len(obs.first.snapshots) - 1,
                                "gradients used": "yours" if obs.own_gradient else "the reference's"}
    if obs.first.eps > FLOAT64_EPS:
        evidence["precision"] = "float32 (tolerances widened by its rounding)"
    return evidence


def _unusable(obs: Observation, evidence: dict[str, Any]) -> Verdict | None:
    """A block lost or non-finite in some snapshot: nothing to fit."""
    for run in (obs.first, obs.second):
        for k, snap in enumerate(run.snapshots if run is not None else ()):
            when = f"after {k} NAG steps" if k else "before the first NAG step"
            if snap.missing:
                return Verdict(0.0, f"{when.capitalize()}, self.theta lacks {list(snap.missing)}"
                               + (f" and holds new keys {list(snap.new_keys)}: the update is written under "
                                  "another key." if snap.new_keys else "."),
                               diagnoses=["key-typo"] if snap.new_keys else ["bad-output"], evidence=evidence)
            if snap.nonfinite:
                return Verdict(0.0, f"{when.capitalize()}, {', '.join(snap.nonfinite)} hold NaN or infinity "
                               f"(momentum {fmt(run.momentum)}, lr {fmt(obs.lr)}).", evidence=evidence)
    return None


def _credit(ctx: Context, obs: Observation, evidence: dict[str, Any]) -> Verdict | None:
    """A correct form with the trusted gradient, or with the reference's
    (step() may use a correct internal gradient while back_propagate is
    wrong, which is charged there)."""
    run, steps = obs.first, len(obs.first.snapshots) - 1
    for method in correct_methods(obs.schedule):
        if follows(ctx, run, run.replays.get((method, obs.momentum), ())):
            evidence["your steps follow"] = LABELS[method]
            return _with_second_probe(ctx, obs, evidence, f"Your NAG steps follow {LABELS[method]} exactly over "
                                      f"{steps} steps.")
    if not obs.own_gradient:
        return None
    for method in correct_methods(obs.schedule):
        if follows(ctx, run, reference_replay(ctx, obs, run, method, obs.momentum)):
            evidence["your steps follow"] = LABELS[method]
            own, ref = obs.own_at_start, reference_gradient(ctx, obs)(run.iterates[0])
            if own and all(scale_is(own[k], ref[k], -1.0) for k in ref if k in own):
                evidence["gradients used"] = "yours, which are -1 x the gradient (the descent direction), added by step()"
                return _with_second_probe(ctx, obs, evidence, f"Your NAG steps follow {LABELS[method]} exactly over "
                                          f"{steps} steps: your back_propagate returns -1 x the gradient (the descent "
                                          "direction) and step() adds it, so the steps are right; the gradient's sign "
                                          "is charged in the gradient criteria.")
            evidence["gradients used"] = "the reference's (your step() does not use back_propagate's result)"
            return _with_second_probe(ctx, obs, evidence, f"Your NAG steps follow {LABELS[method]} exactly over "
                                      f"{steps} steps (with the correct gradient; back_propagate is judged separately).")
    return None


def _with_second_probe(ctx: Context, obs: Observation, evidence: dict[str, Any], feedback: str) -> Verdict:
    """Full credit needs the same steps right at a second momentum too; a
    run whose fitted momentum is still the rubric's there has it hard-coded."""
    run = obs.second
    if run is None:
        return Verdict(1.0, feedback, evidence=evidence)
    mu, mu2 = obs.momentum, run.momentum
    evidence["second probe momentum"] = sig(mu2)
    if _second_follows(ctx, obs, run, mu2):
        return Verdict(1.0, feedback + f" With momentum {fmt(mu2)} they follow it too.", evidence=evidence)
    if _second_follows(ctx, obs, run, mu):
        return Verdict(0.5, feedback + f" But constructed with momentum {fmt(mu2)}, your steps still use "
                       f"{fmt(mu)}: the momentum is written into the code instead of taken from the constructor.",
                       diagnoses=["momentum-hard-coded"], evidence=evidence)
    best = next(iter(fit_family(ctx, run, reference_gradient(ctx, obs), obs.lr)), None)
    fitted = f" (they fit {describe(best.rule)}, deviation {fmt(best.residual)})" if best is not None else ""
    return Verdict(0.5, feedback + f" But constructed with momentum {fmt(mu2)}, your steps follow neither that "
                   f"momentum nor {fmt(mu)}{fitted}.", diagnoses=["wrong-momentum"], evidence=evidence)


def _second_follows(ctx: Context, obs: Observation, run: Run, momentum: float) -> bool:
    """The second run follows a correct form at `momentum`, with the trusted
    gradient or the reference's."""
    return any(follows(ctx, run, run.replays.get((method, momentum), ()))
               or follows(ctx, run, reference_replay(ctx, obs, run, method, momentum))
               for method in ("nag", "nag_stored"))


def _not_moving(obs: Observation, evidence: dict[str, Any]) -> Verdict | None:
    """Nothing moved (step-not-applied) or some blocks never moved (a key typo)."""
    its = obs.first.iterates
    frozen = [k for k in its[0] if all(np.array_equal(s[k], its[0][k]) for s in its[1:])]
    if len(frozen) == len(its[0]):
        return Verdict(0.0, "step() left theta unchanged over every NAG step.", diagnoses=["step-not-applied"],
                       evidence=evidence)
    if frozen:
        return Verdict(0.0, f"{', '.join(frozen)} never changed during NAG steps: the update writes them under "
                       "another key (a typo such as 'w0' for 'W0'?).", diagnoses=["key-typo"], evidence=evidence)
    return None


def _other_schedule(ctx: Context, obs: Observation, evidence: dict[str, Any]) -> Verdict | None:
    """FISTA where constant momentum is asked (a constant momentum where FISTA
    is asked is found by the family fit)."""
    if obs.schedule != FISTA and follows(ctx, obs.first, obs.first.replays.get(("nag_fista", obs.momentum), ())):
        evidence["your steps follow"] = LABELS["nag_fista"]
        return Verdict(0.0, "Your steps use the FISTA momentum schedule, but this assignment asks for constant "
                       f"momentum mu = {fmt(obs.momentum)}.", diagnoses=["wrong-momentum"], evidence=evidence)
    return None


@dataclass(frozen=True)
class Named:
    """A mistake read off a fitted member: its diagnoses and the sentence."""

    diagnoses: tuple[str, ...]
    text: str


def _name_member(ctx: Context, obs: Observation, evidence: dict[str, Any]) -> Verdict:
    grad = reference_gradient(ctx, obs)
    fits = fit_family(ctx, obs.first, grad, obs.lr, obs.schedule)
    evidence["family fit"] = table(["member (fitted)", "relative residual per step"],
                                   [[describe(f.rule), f.residual] for f in fits])
    if not fits or not fits[0].fits:
        return _unexplained(obs, fits, evidence)
    member, relation = snapped(ctx, obs.first, fits[0], grad, obs.lr, member_relations(fits[0].rule, obs.momentum),
                               obs.own_scale)
    evidence["your steps fit"] = describe(member.rule)
    if obs.own_scale != 1.0:
        evidence["your gradient"] = f"{fmt(obs.own_scale)} x the reference's (its factor is not charged here)"
    named = _read(obs, member, relation)
    confirmation = _confirm(ctx, obs, member, relation, grad)
    if confirmation is None:   # no second probe (FISTA schedule): the first one names it
        return Verdict(0.0, named.text, diagnoses=list(named.diagnoses), evidence=evidence)
    confirmed, text = confirmation
    evidence["second probe"] = text
    if confirmed == "same relation":
        return Verdict(0.0, named.text + " " + text, diagnoses=list(named.diagnoses), evidence=evidence)
    if confirmed == "same number":
        diagnoses = [d for d in named.diagnoses if d not in ("momentum-complement", "momentum-sign-flipped")]
        return Verdict(0.0, f"Your steps fit {describe(member.rule)}. {text}",
                       diagnoses=diagnoses or ["wrong-momentum"], evidence=evidence)
    return Verdict(0.0, f"Your steps fit {describe(member.rule)} on the first probe, but {text}; so no known mistake "
                   "is named.", evidence=evidence)


def _read(obs: Observation, member: MemberFit, relation: str | None) -> Named:
    """What the fitted knobs say, as diagnoses and a sentence."""
    rule, mu = member.rule, obs.momentum
    if member.is_gd:
        if obs.aliases:
            names = ", ".join(f"self.{a}" for a in obs.aliases)
            return Named(("zero-momentum",), "Your NAG steps are exactly GD steps: the momentum term is always zero. "
                         f"{names} shares memory with the current parameters, so the 'previous iterate' is updated "
                         "together with theta. Store a copy (e.g. {k: v.copy() for ...}).")
        return Named(("nag-missing",), "Your NAG steps are exactly GD steps: no momentum is applied. Is the NAG "
                     "branch of step() ever reached (gradient_method == 'NAG')?")
    diagnoses, parts = [], []
    coefficient = "beta_k" if rule.schedule == FISTA else "mu"
    if rule.previous == FROZEN:
        diagnoses.append("previous-not-updated")
        parts.append("the previous iterate is theta_0 at every step: it is never updated")
    if rule.evaluate == ITERATE:
        diagnoses.append("heavy-ball")
        parts.append("the gradient is taken at the current iterate theta_k, not at the look-ahead point "
                     f"y_k = theta_k + {coefficient} (theta_k - theta_{{k-1}}): heavy-ball momentum, not Nesterov's")
    if rule.start == ITERATE:
        diagnoses.append("lookahead-not-stepped")
        parts.append("the gradient is taken at y_k but the step starts from theta_k, so the momentum never enters "
                     "the iterates")
    if rule.schedule == FISTA and rule.shift:
        diagnoses.append("wrong-momentum")
        parts.append("the FISTA coefficients are used one step early: beta_{k+1} at step k (t_k is advanced before "
                     "beta_k = (t_k - 1) / t_{k+1} is computed from it)")
    elif obs.schedule == FISTA and rule.schedule != FISTA:   # a schedule member's beta_k is the rubric's
        diagnoses.append("wrong-momentum")
        parts.append(f"the momentum is a constant {fmt(rule.momentum)}, but this assignment asks for the FISTA schedule")
    elif relation == "1 - mu":
        diagnoses.append("momentum-complement")
        parts.append(f"the momentum is 1 - mu = {fmt(rule.momentum)} instead of mu = {fmt(mu)}")
    elif relation == "-mu":
        diagnoses.append("momentum-sign-flipped")
        parts.append(f"the momentum is -mu = {fmt(rule.momentum)}: the look-ahead goes backwards")
    elif relation is None:
        diagnoses.append("wrong-momentum")
        parts.append(f"the momentum is {fmt(rule.momentum)} instead of {fmt(mu)}")
    if abs(rule.factor - obs.own_scale) > 1e-9 * abs(obs.own_scale):
        used = rule.factor / obs.own_scale * obs.lr   # with the student's own gradient, as step() uses it
        diagnoses.append("wrong-step-size")
        parts.append(f"the learning rate is {fmt(used)} instead of {fmt(obs.lr)} (step() ignores self.lr or scales it)")
    return Named(tuple(diagnoses), "Your NAG steps fit the momentum family: " + "; ".join(parts) + ".")


def _confirm(ctx: Context, obs: Observation, member: MemberFit, relation: str | None,
             grad: GradFn) -> tuple[str, str] | None:
    """The member at the second probe: "same relation" when it fits at the
    second momentum's counterpart (1 - mu2, ...), "same number" when it fits
    with the first probe's coefficient unchanged (written into the code),
    else "unconfirmed"."""
    run = obs.second
    if run is None:
        return None
    rule, mu2 = member.rule, run.momentum
    expected = rule.momentum if member.is_gd else relations(mu2).get(relation or "", None)

    def fits_at(m: float) -> bool:
        return evaluate_member(ctx, run, replace(rule, momentum=m), grad, obs.lr).fits

    if expected is not None and fits_at(expected):
        return "same relation", f"Constructed with momentum {fmt(mu2)}, your steps follow the same rule."
    if fits_at(rule.momentum):
        return "same number", (f"Constructed with momentum {fmt(mu2)}, your steps still use {fmt(rule.momentum)}: "
                               "that coefficient is written into the code.")
    best = next(iter(fit_family(ctx, run, grad, obs.lr)), None)
    seen = f"fit {describe(best.rule)} (residual {fmt(best.residual)})" if best is not None else "fit no member"
    return "unconfirmed", f"constructed with momentum {fmt(mu2)} they {seen}"


def _unexplained(obs: Observation, fits: list[MemberFit], evidence: dict[str, Any]) -> Verdict:
    """No member fits: the nearest fitted numbers, plainly; "close" only
    when the deviation is of rounding size."""
    if not fits:
        return Verdict(0.0, "Your NAG steps do not move along any gradient direction the grader can fit.",
                       evidence=evidence)
    best = fits[0]
    if best.residual <= NEAR:
        return Verdict(0.0, f"Your NAG steps are close to {describe(best.rule)} but not within the tolerance "
                       f"(relative deviation per step {fmt(best.residual)}, allowed {fmt(best.limit)}): a small "
                       "difference in the update, e.g. a value rounded or a term computed at a slightly different "
                       "point.", evidence=evidence)
    return Verdict(0.0, f"Your NAG steps fit no known method: the nearest member of the momentum family is "
                   f"{describe(best.rule)}, but not within tolerance (relative deviation per step "
                   f"{fmt(best.residual)}, allowed {fmt(best.limit)}).", evidence=evidence)


CHECK = Check(
    name="nag_step",
    summary="NAG steps follow Nesterov's method (any correct form) at the rubric's momentum and at a second one; "
            "a wrong trajectory is named by fitting it to the momentum-step family",
    Params=Params, Observation=Observation,
    operations=("construct", "get_parameters", "set_parameters", "gradient", "step"),
    observe=observe, judge=judge,
    mistakes=("key-typo", "step-not-applied", "heavy-ball", "zero-momentum", "nag-missing", "wrong-momentum",
              "momentum-hard-coded", "momentum-complement", "momentum-sign-flipped", "previous-not-updated",
              "lookahead-not-stepped", "wrong-step-size"),
    # judge asks the reference at the student's own iterates: no kit could record that, so hidden only
    reference=True, public=False, validate=validate,
)
