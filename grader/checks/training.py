"""`training`: a short run on the real training split does what training is for.

GD and NAG each run `iterations` steps through the student's `step()` from
the same start drawn like the assignment's initialization (so an init bug
is not charged twice), with snapshots every few steps.  Losses and accuracies along the way
are computed by the reference on the student's iterates, and the reference's
own runs from the same start are drawn beside them.  A short call of
`train()` checks that it returns one loss per iteration.

Five conditions, each worth a fifth: GD lowers the loss, NAG lowers the loss,
GD and NAG reach the test-accuracy bar (one condition each), NAG ends below GD.
`train(x, y, n)` must return the loss of each of its n iterations (checked
against the loss at the GD run's iterates from the same start); a train()
that hangs, crashes or returns other numbers costs TRAIN_SHARE.
The start is drawn from the course secret in final grading, and steps of
the runs are spot-checked against the update rule: a run that is not made
of gradient steps (weights that jump to a precomputed point) earns nothing.

The same five conditions are the criterion's `audit`: the reference's own
runs must meet them with the criterion's settings (`nngrade rubric
validate` and `batch` refuse a rubric whose bar the reference misses).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..probe import ApiError, WorkerFailure
from ..schema import Criterion, Rubric
from .base import CheckParams, Context, Verdict, best_scale, fmt, sig
from .contract import Check
from .gradient import canonical_gradient, gradient_explained
from .loss import named_loss
from .values import canonical_parameters, depth_problems, describe, number_array


#: the share of the criterion a train() that hangs, crashes or returns wrong losses costs
TRAIN_SHARE = 0.2
#: a run whose loss climbs above this multiple of its start diverged (not merely "no progress")
DIVERGED_FACTOR = 10.0
#: steps of the GD run checked against the update rule besides the first (positions seeded)
SPOT_CHECKS = 3


class Params(CheckParams):
    hidden: list[int] | None = None   # default: the rubric's architecture
    iterations: int = 300
    every: int = 10
    lr: float | None = None           # default: the rubric's lr
    accuracy: float = 0.9
    min_drop: float = 0.1             # the loss must fall by at least this fraction
    train_iterations: int = 5


Theta = dict[str, np.ndarray]


@dataclass(frozen=True)
class Observation:
    """The student's GD and NAG runs from a common start and a short train(),
    every parameter snapshot canonical and validated (one that is not a
    parameter dict of the right shapes is the student's bad-output; None: a
    snapshot the worker did not send)."""

    hidden: tuple[int, ...]
    lr: float
    every: int
    runs: dict[str, tuple[Theta | None, ...]]       # by method ("gd", "nag"): every `every` steps from 0
    spots: dict[str, dict[int, Theta | None]]       # by method: snapshots after so many steps
    spot_checks: tuple[int, ...]                    # the seeded steps of the GD run checked against the rule
    own_gradients: tuple[Theta | None, ...]         # back_propagate at the start and at each spot check
    history: tuple[float, ...] | None               # what train(x, y, n) returned, as numbers
    history_error: str | None                       # why there is no history
    float32: bool


def settings(ctx: Context, params: Params) -> tuple[list[int], float]:
    """The network sizes and learning rate of the runs (the rubric's unless the criterion says)."""
    return list(params.hidden or ctx.oracle.default_hidden), params.lr or ctx.rubric.assignment.optimizer.lr


def start(ctx: Context, hidden: list[int]) -> Theta:
    """The runs' common start, drawn like the assignment's initialization
    (so an init bug is not charged twice); seeded by the course secret in final grading."""
    return ctx.oracle.theta(hidden, "training", std=ctx.rubric.assignment.init.std)


def observe(ctx: Context, probe: Any, params: Params) -> Observation:
    hidden, lr = settings(ctx, params)
    data = ctx.oracle.dataset
    theta0 = start(ctx, hidden)
    spots_at = tuple(sorted(int(k) for k in np.random.default_rng(ctx.seed("spot")).choice(
        np.arange(params.train_iterations + 1, params.iterations - 1), size=SPOT_CHECKS, replace=False)))
    extra = {"gd": (*range(1, params.train_iterations + 1), *spots_at, *(k + 1 for k in spots_at)), "nag": (1,)}
    runs, spots, float32 = {}, {}, False
    for method in ("gd", "nag"):
        net = probe.new(hidden, method=method, lr=lr, seed=ctx.seed("start"))
        layout = net.require_layout()
        float32 = float32 or net.is_float32
        start_at(net, theta0)
        positions, raw = net.steps_at(data.x_train, data.y_train, params.iterations, params.every, extra[method])
        snaps = {p: canonical_parameters(s, layout, f"self.{net.attr} after {p} {method.upper()} steps")
                 for p, s in zip(positions, raw)}
        runs[method] = tuple(snaps.get(p) for p in range(0, params.iterations + 1, params.every))
        spots[method] = snaps
        # the judge's curves of this run, computed while the student's code runs the next one
        ctx.prepare(("curves", method), lambda run=runs[method]: curves(ctx, hidden, list(run)))
    history, history_error = _train_history(ctx, probe, hidden, lr, theta0, params.train_iterations)
    own = _own_gradients(probe, hidden, lr, ctx, [theta0, *(spots["gd"].get(k) for k in spots_at)], data)
    return Observation(tuple(hidden), float(lr), params.every, runs, spots, spots_at, tuple(own), history,
                       history_error, bool(float32))


def _train_history(ctx: Context, probe: Any, hidden: list[int], lr: float, theta0: Theta,
                   n: int) -> tuple[tuple[float, ...] | None, str | None]:
    """train(x, y, n) from theta0: the losses it returned, or why there are none."""
    data = ctx.oracle.dataset
    trainer = probe.new(hidden, method="gd", lr=lr, seed=ctx.seed("start"))
    trainer.require_layout()
    try:
        start_at(trainer, theta0)
        value = trainer.call("train", data.x_train, data.y_train, n)["value"]
    except WorkerFailure as failure:
        return None, failure.describe() if failure.kind == "exception" else failure.message
    losses = number_array(value)
    if losses is None:
        return None, f"it returned {describe(value)}"
    return tuple(float(v) for v in losses.ravel()), None


def _own_gradients(probe: Any, hidden: list[int], lr: float, ctx: Context, points: list[Theta | None],
                   data: Any) -> list[Theta | None]:
    """The student's back_propagate on the training split at the spot-checked
    points (None where it fails or is not a whole gradient): optional
    evidence, used only where the evidence rule trusts it, and never asked
    of a back_propagate that has already run out of time (the spot checks
    then use the reference)."""
    backprop = probe.interface.method("back_propagate")
    if any(operation[0] == backprop for operation in probe.hung):
        return [None for _ in points]
    out: list[Theta | None] = []
    try:
        helper = probe.new(hidden, method="gd", lr=lr, seed=ctx.seed("start"))
        layout = helper.require_layout()
        for theta in points:
            grads = None
            if theta is not None and all(np.all(np.isfinite(v)) for v in theta.values()):
                grads, _ = canonical_gradient(helper.gradient_at(theta, data.x_train, data.y_train), layout, theta)
                grads = grads if all(g is not None for g in grads.values()) else None
            out.append(grads)
    except (WorkerFailure, ApiError):
        pass
    return out + [None] * (len(points) - len(out))


def start_at(net: Any, theta0: dict) -> None:
    """Inject theta0 as if the constructor had drawn it: besides the parameters,
    every attribute that holds a copy of the constructor's parameters (NAG's
    previous iterate theta_{-1} = theta_0, a separately kept iterate) is set to
    theta0 as well, so the student's optimizer does not start with a momentum
    kick from its own initialization towards theta0."""
    own = net.raw_parameters()
    try:
        attributes = net.get_attribute("__dict__")
    except WorkerFailure:  # no instance dict (slots): nothing else to re-point
        attributes = {}
    net.set_parameters(theta0)
    if not isinstance(own, dict) or not isinstance(attributes, dict):
        return
    student = net.layout.to_student(theta0)

    def same(a: Any, b: Any) -> bool:
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape \
            and np.array_equal(a, b)

    for name, state in attributes.items():
        if name == net.attr:
            continue
        if isinstance(state, dict) and set(state) == set(own) and all(same(state[k], own[k]) for k in own):
            net.set_attribute(name, student)
        elif isinstance(state, list) and state and len(state) <= len(own):
            # e.g. self.last = [W0.copy(), b0.copy(), ...]: match each entry to a parameter
            keys = [next((k for k in own if same(entry, own[k])), None) for entry in state]
            if all(k is not None for k in keys):
                net.set_attribute(name, [student[k] for k in keys])


def curves(ctx: Context, hidden: list[int], thetas: list[dict | None]) -> dict[str, list[float]]:
    data = ctx.oracle.dataset
    out: dict[str, list[float]] = {"loss": [], "train_acc": [], "test_acc": []}
    for theta in thetas:
        ok = theta is not None and all(np.all(np.isfinite(v)) for v in theta.values())
        if not ok:
            out["loss"].append(float("nan")); out["train_acc"].append(float("nan")); out["test_acc"].append(float("nan"))
            continue
        out["loss"].append(ctx.oracle.loss(hidden, theta, data.x_train, data.y_train))
        out["train_acc"].append(ctx.oracle.accuracy(hidden, theta, data.x_train, data.y_train))
        out["test_acc"].append(ctx.oracle.accuracy(hidden, theta, data.x_test, data.y_test))
    return out


def reference_curves(ctx: Context, hidden: list[int], theta0: dict, method: str, lr: float,
                     iterations: int, every: int) -> dict[str, list[float]]:
    data = ctx.oracle.dataset
    mu = ctx.rubric.assignment.optimizer.momentum

    def grad(theta: dict) -> dict:
        return ctx.oracle.gradient(hidden, theta, data.x_train, data.y_train)

    name = ctx.oracle.nag_method if method == "nag" else "gd"
    start = tuple((k, v.tobytes()) for k, v in sorted(theta0.items()))

    def compute() -> dict[str, list[float]]:
        traj = ctx.oracle.trajectory(name, grad, theta0, iterations, lr, mu)
        return curves(ctx, hidden, traj.iterates[::every])

    # the same for every student (a fixed start): computed once per process
    return ctx.oracle.memo(("training-curves", tuple(hidden), name, lr, mu, iterations, every, start), compute)


# -- the five conditions (the student's runs in judge, the reference's in audit) ---------------

@dataclass(frozen=True)
class Condition:
    """One of the conditions each worth a fifth, judged on a pair of runs."""

    met: bool
    line: str
    diagnoses: tuple[str, ...] = ()


def descent(label: str, loss: list[float], x: list[int], params: Params) -> Condition:
    """The loss falls by at least min_drop; one that blew up (even if it came
    back down) diverged, one that did not fall made no progress."""
    first, last = loss[0], loss[-1]
    if not np.isfinite(last):
        return Condition(False, f"{label}: the parameters became NaN or infinite during training.", ("diverged",))
    fell = bool(last <= (1 - params.min_drop) * first)
    lines = [f"{label}: loss {fmt(first, 4)} -> {fmt(last, 4)} over {params.iterations} iterations"
             + ("." if fell else f" (should fall by at least {params.min_drop:.0%}).")]
    blown = np.where(np.isfinite(loss), loss, np.inf)   # NaN or inf on the way counts as blown up
    peak = int(np.argmax(blown))
    if blown[peak] > DIVERGED_FACTOR * first:
        size = f"{fmt(blown[peak], 4)} ({blown[peak] / first:.3g} times its start)" \
            if np.isfinite(blown[peak]) else "NaN or infinity"
        lines.append(f"{label}: the loss blew up to {size} at iteration {x[peak]}: the run diverged.")
        return Condition(fell, "\n".join(lines), ("diverged",))
    return Condition(fell, lines[0], () if fell else ("no-progress",))


def accuracy_bar(label: str, accuracy: float, params: Params) -> Condition:
    """The final test accuracy reaches the criterion's bar."""
    ok = bool(np.isfinite(accuracy) and accuracy >= params.accuracy)
    if not np.isfinite(accuracy):
        return Condition(False, f"{label}: no test accuracy (the parameters are not finite; bar "
                                f"{params.accuracy:.0%}).")
    return Condition(ok, f"{label}: test accuracy {accuracy:.1%} (bar {params.accuracy:.0%} "
                         f"{'reached' if ok else 'not reached'}).")


def nag_below_gd(final_gd: float, final_nag: float) -> Condition:
    """Momentum pays: NAG's final loss is below GD's."""
    ok = bool(np.isfinite(final_nag) and np.isfinite(final_gd) and final_nag < final_gd)
    return Condition(ok, "NAG ends below GD." if ok else
                     f"NAG should end below GD (NAG {fmt(final_nag, 4)}, GD {fmt(final_gd, 4)}).")


def conditions(runs: dict[str, dict[str, list[float]]], x: list[int], params: Params) -> list[Condition]:
    """The five conditions on a GD and a NAG run's curves (`curves`)."""
    labels = (("gd", "GD"), ("nag", "NAG"))
    return ([descent(label, runs[m]["loss"], x, params) for m, label in labels]
            + [accuracy_bar(label, runs[m]["test_acc"][-1], params) for m, label in labels]
            + [nag_below_gd(runs["gd"]["loss"][-1], runs["nag"]["loss"][-1])])


# -- judge ---------------------------------------------------------------------------------

def judge(ctx: Context, obs: Observation, params: Params) -> Verdict:
    hidden = list(obs.hidden)
    mine = {m: ctx.prepared(("curves", m), lambda m=m: curves(ctx, hidden, list(obs.runs[m]))) for m in ("gd", "nag")}
    start = obs.runs["gd"][0]
    ref = {m: reference_curves(ctx, hidden, start, m, obs.lr, params.iterations, obs.every) for m in ("gd", "nag")} \
        if start is not None else None
    x = [i * obs.every for i in range(len(mine["gd"]["loss"]))]
    met = conditions(mine, x, params)
    lines = [c.line for c in met]
    diagnoses = [d for c in met for d in c.diagnoses]
    train_ok, train_line, train_diagnosis = _judge_history(ctx, obs, params)
    lines.append(train_line + ("" if train_ok else f" This costs {TRAIN_SHARE:.0%} of the criterion."))
    diagnoses += train_diagnosis
    fraction = max(0.0, sum(c.met for c in met) / len(met) - (0.0 if train_ok else TRAIN_SHARE))
    spot_failure = _spot_check(ctx, obs)
    if spot_failure:
        fraction = 0.0
        lines.insert(0, spot_failure + " Training earns nothing without evidence that step() produced the run.")
        diagnoses.append("trajectory-mismatch")
    return Verdict(fraction, "\n".join(lines), diagnoses=sorted(set(diagnoses)),
                   evidence=_evidence(obs, params, mine, ref), plots=_plots(x, mine, ref))


def _evidence(obs: Observation, params: Params, mine: dict, ref: dict | None) -> dict[str, Any]:
    evidence = {"learning rate": sig(obs.lr), "iterations": params.iterations, "accuracy bar": sig(params.accuracy),
                "final loss GD": sig(mine["gd"]["loss"][-1]), "final loss NAG": sig(mine["nag"]["loss"][-1]),
                "final test accuracy GD": sig(mine["gd"]["test_acc"][-1]),
                "final test accuracy NAG": sig(mine["nag"]["test_acc"][-1])}
    if ref is not None:
        evidence["reference final loss GD"] = sig(ref["gd"]["loss"][-1])
        evidence["reference final loss NAG"] = sig(ref["nag"]["loss"][-1])
    evidence["spot-checked steps"] = "GD " + ", ".join(str(k + 1) for k in [0, *obs.spot_checks]) + "; NAG 1"
    return evidence


def _judge_history(ctx: Context, obs: Observation, params: Params) -> tuple[bool, str, list[str]]:
    """train(x, y, n) returns n losses, each the assignment's loss (or the
    student's named wrong loss, charged under 'loss' already) at the iterate
    before or after that step; the GD run from the same start gives the
    iterates.  Returns (condition met, line, diagnoses)."""
    n = params.train_iterations
    call = f"train(x, y, {n})"
    if obs.history_error:
        return False, f"{call} failed: {obs.history_error}.", ["train-broken"]
    history = obs.history
    if history is None or len(history) != n:
        got = "nothing usable" if history is None else f"{len(history)} values"
        return False, f"{call} should return {n} losses; it returned {got}.", ["train-broken"]
    gd = obs.spots["gd"]
    iterates = [gd.get(i) for i in range(n + 1)]
    if any(t is None or not all(np.all(np.isfinite(v)) for v in t.values()) for t in iterates):
        return False, f"{call} could not be checked: step() did not keep the parameters finite.", []
    data = ctx.oracle.dataset
    hidden = list(obs.hidden)
    rel = ctx.tol.float32_rel if obs.float32 else max(ctx.tol.value_rel, 1e-6)

    def loss_of(value: float, theta: Theta) -> bool:
        return named_loss(ctx, hidden, theta, data.x_train, data.y_train, value, rel) is not None

    losses = [ctx.oracle.loss(hidden, t, data.x_train, data.y_train) for t in iterates]
    # a diverging step() (judged by the conditions): its losses overflow differently
    blowing_up = [not np.isfinite(v) or v > 2 * losses[0] for v in losses]
    for i, value in enumerate(history):
        if blowing_up[i] and blowing_up[i + 1]:
            continue
        if not (loss_of(value, iterates[i]) or loss_of(value, iterates[i + 1])):
            return False, (f"{call} returned {fmt(value, 6)} for iteration {i + 1}; the loss before that step is "
                           f"{fmt(losses[i], 6)} and after it {fmt(losses[i + 1], 6)}."), ["train-broken"]
    return True, f"{call} returns the loss of every iteration.", []


def _spot_check(ctx: Context, obs: Observation) -> str | None:
    """Steps of the training run (the first of each run, SPOT_CHECKS at seeded
    positions of the GD run) must move the parameters along -g, with g the
    reference gradient or the student's own where the evidence rule trusts
    it, by any positive step size (a wrong one is charged in the step
    criteria) and with any frozen blocks (a key typo, charged there too).
    Weights that jump to a precomputed point fail here."""
    own = obs.own_gradients
    checks = [("GD", 0, obs.spots["gd"], own[0]), ("NAG", 0, obs.spots["nag"], own[0])]
    checks += [("GD", k, obs.spots["gd"], g) for k, g in zip(obs.spot_checks, own[1:])]
    for label, k, snaps, own_grad in checks:
        before, after = snaps.get(k), snaps.get(k + 1)
        if not _checkable(ctx, obs, snaps, k):
            continue
        if not _is_gradient_step(ctx, obs, before, after, own_grad):
            return (f"{label} step {k + 1} of your training run is not a gradient step: the parameters did not "
                    "move along the gradient of the loss on the training data.")
    return None


def _checkable(ctx: Context, obs: Observation, snaps: dict[int, Theta | None], k: int) -> bool:
    """Step k can be spot-checked: both snapshots there and finite, and (past
    the first step) the run not blowing up: such a run is judged by the
    conditions; its steps are numerically fragile (overflowing softmax), and
    weights that jumped to a good point have a low loss."""
    before, after = snaps.get(k), snaps.get(k + 1)
    if before is None or after is None:
        return False
    if not all(np.all(np.isfinite(v)) for t in (before, after) for v in t.values()):
        return False   # divergence is judged by the conditions
    if k == 0 or snaps.get(0) is None:
        return k == 0
    data, hidden = ctx.oracle.dataset, list(obs.hidden)
    start_loss = ctx.oracle.loss(hidden, snaps[0], data.x_train, data.y_train)
    now = ctx.oracle.loss(hidden, before, data.x_train, data.y_train)
    return bool(np.isfinite(now) and now <= 2 * start_loss)


def _is_gradient_step(ctx: Context, obs: Observation, before: Theta, after: Theta, own_grad: Theta | None) -> bool:
    """The blocks that moved moved along -g (g the reference's gradient, or
    the student's own where it is explained); no move at all is no progress,
    judged by the conditions."""
    moving = [key for key in before if not np.array_equal(before[key], after[key])]
    if not moving:
        return True
    data, hidden = ctx.oracle.dataset, list(obs.hidden)
    options = [ctx.oracle.gradient(hidden, before, data.x_train, data.y_train)]
    if own_grad is not None and gradient_explained(ctx, hidden, before, data.x_train, data.y_train, own_grad):
        options.append(own_grad)
    moved = np.concatenate([np.ravel(before[key] - after[key]) for key in moving])
    tolerance = 1e-3 if obs.float32 else 1e-6
    return any(_along(moved, np.concatenate([np.ravel(g[key]) for key in moving]), tolerance) for g in options)


def _along(moved: np.ndarray, gradient: np.ndarray, tolerance: float) -> bool:
    c, residual = best_scale(moved, gradient)
    return bool(np.isfinite(c) and c > 0 and residual <= tolerance)


def _plots(x: list[int], mine: dict, ref: dict | None) -> dict:
    def series(key: str) -> dict:
        out = {"GD (you)": sig(mine["gd"][key], 6), "NAG (you)": sig(mine["nag"][key], 6)}
        if ref is not None:
            out["GD (reference)"] = sig(ref["gd"][key], 6)
            out["NAG (reference)"] = sig(ref["nag"][key], 6)
        return out

    return {"training loss": {"xlabel": "iteration", "ylabel": "training loss", "logy": True, "x": x,
                              "series": series("loss")},
            "test accuracy": {"xlabel": "iteration", "ylabel": "test accuracy", "logy": False, "x": x,
                              "series": series("test_acc")}}


# -- rubric rules ------------------------------------------------------------------------------

def validate(rubric: Rubric, crit: Criterion, params: Params) -> list[str]:
    """Cheap: probe sizes as deep as the architecture, and room for the spot checks."""
    problems = depth_problems(rubric, params.hidden)
    if params.every < 1:
        problems.append(f"every {params.every}: snapshots are taken every `every` steps, at least 1")
    if params.iterations - 1 - (params.train_iterations + 1) < SPOT_CHECKS:
        problems.append(f"iterations {params.iterations} leaves no room for {SPOT_CHECKS} spot-checked steps "
                        f"after the {params.train_iterations} of train(): give at least "
                        f"{params.train_iterations + SPOT_CHECKS + 2}")
    return problems


def audit(rubric: Rubric, crit: Criterion, params: Params) -> list[str]:
    """Costly: the reference itself meets the five conditions with the
    criterion's settings (lr, iterations, bar), from the public start.  A
    bar the reference misses (say lr copied from another rubric: 80.6 %
    test accuracy against 0.9) would cost every correct submission points."""
    from ..engine import oracle_for   # the engine imports the checks: import it only when auditing

    oracle = oracle_for(rubric)
    if oracle.answers is not None:   # a kit's rubric replays recorded answers: there is no reference to run
        return []
    ctx = Context(rubric, oracle, crit)
    hidden, lr = settings(ctx, params)
    ref = {m: reference_curves(ctx, hidden, start(ctx, hidden), m, lr, params.iterations, params.every)
           for m in ("gd", "nag")}
    x = list(range(0, params.iterations + 1, params.every))
    missed = [c.line for c in conditions(ref, x, params) if not c.met]
    if not missed:
        return []
    return [f"the reference itself misses this criterion's bar with lr {lr:g}, {params.iterations} iterations and "
            f"hidden sizes {hidden}, so a correct submission could not earn its points: "
            + " ".join(line.replace("\n", " ") for line in missed)
            + " (change lr, iterations or accuracy)"]


CHECK = Check(
    name="training",
    summary="GD and NAG runs made of step() calls lower the loss, reach the accuracy bar, NAG below GD; "
            "train() returns the losses",
    Params=Params, Observation=Observation,
    # back_propagate ("gradient") is asked too, but only as optional evidence for the spot checks:
    # a class without it is not refused here, so it is not listed as needed
    operations=("construct", "get_parameters", "set_parameters", "step", "train"),
    observe=observe, judge=judge,
    mistakes=("no-progress", "diverged", "train-broken", "trajectory-mismatch"),
    # the judge does ask the reference, on the student's own iterates, so no prefetch can serve a kit;
    # its judge runs the reference on the student's own start: no kit could record that, so hidden only
    prefetch=None, reference=True, public=False, validate=validate, audit=audit,
)
