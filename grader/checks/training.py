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
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..probe import ApiError, WorkerFailure, describe_value
from .base import CheckParams, Context, Verdict, best_scale, fmt, sig
from .gradient import canonical_gradient, gradient_explained
from .loss import named_loss


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


def observe(ctx: Context, probe: Any, params: Params) -> dict:
    hidden = params.hidden or ctx.oracle.default_hidden
    lr = params.lr or ctx.rubric.assignment.optimizer.lr
    data = ctx.oracle.dataset
    # the start and the spot-checked step are seeded (by the course secret in final grading)
    theta0 = ctx.oracle.theta(hidden, "training", std=ctx.rubric.assignment.init.std)
    spots_at = sorted(int(k) for k in np.random.default_rng(ctx.seed("spot")).choice(
        np.arange(params.train_iterations + 1, params.iterations - 1), size=SPOT_CHECKS, replace=False))
    extra = {"gd": (*range(1, params.train_iterations + 1), *spots_at, *(k + 1 for k in spots_at)), "nag": (1,)}
    runs, spots, float32 = {}, {}, False
    for method in ("gd", "nag"):
        net = probe.new(hidden, method=method, lr=lr, seed=ctx.seed("start"))
        layout = net.require_layout()
        float32 = float32 or net.is_float32
        start_at(net, theta0)
        positions, raw = net.steps_at(data.x_train, data.y_train, params.iterations, params.every, extra[method])
        snaps = {p: layout.to_canonical(s) if isinstance(s, dict) else None for p, s in zip(positions, raw)}
        runs[method] = [snaps.get(p) for p in range(0, params.iterations + 1, params.every)]
        spots[method] = snaps
    history, history_error = None, None
    trainer = probe.new(hidden, method="gd", lr=lr, seed=ctx.seed("start"))
    trainer.require_layout()
    try:
        start_at(trainer, theta0)
        value = trainer.call("train", data.x_train, data.y_train, params.train_iterations)["value"]
        history = np.asarray(value, dtype=np.float64).ravel().tolist() if not isinstance(value, dict) else None
        if history is None:
            history_error = f"it returned {describe_value(value)}"
    except WorkerFailure as failure:
        history_error = failure.describe() if failure.kind == "exception" else failure.message
    except Exception as exc:  # e.g. a history that is not a list of numbers
        history_error = f"its result could not be read ({type(exc).__name__})"
    own = _own_gradients(probe, hidden, lr, ctx, [theta0, *(spots["gd"].get(k) for k in spots_at)], data)
    return {"runs": runs, "hidden": list(hidden), "lr": lr, "history": history, "history_error": history_error,
            "every": params.every, "spot_checks": spots_at, "spots": spots, "own_gradients": own,
            "float32": float32}


def _own_gradients(probe: Any, hidden: list[int], lr: float, ctx: Context, points: list[dict | None],
                   data: Any) -> list[dict | None]:
    """The student's back_propagate on the training split at the spot-checked
    points (None where it fails): optional evidence, used only where the
    evidence rule trusts it, and never asked of a back_propagate that has
    already run out of time (the spot checks then use the reference)."""
    backprop = probe.interface.method("back_propagate")
    if any(operation[0] == backprop for operation in probe.hung):
        return [None for _ in points]
    out: list[dict | None] = []
    try:
        helper = probe.new(hidden, method="gd", lr=lr, seed=ctx.seed("start"))
        layout = helper.require_layout()
        for theta in points:
            grads = None
            if theta is not None and all(np.all(np.isfinite(v)) for v in theta.values()):
                helper.set_parameters(theta)
                grads, _ = canonical_gradient(helper.gradient_raw(data.x_train, data.y_train), layout, theta)
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


def judge(ctx: Context, obs: dict, params: Params) -> Verdict:
    hidden, lr, every = obs["hidden"], obs["lr"], obs["every"]
    mine = {m: curves(ctx, hidden, obs["runs"][m]) for m in ("gd", "nag")}
    start = obs["runs"]["gd"][0]
    ref = {m: reference_curves(ctx, hidden, start, m, lr, params.iterations, every) for m in ("gd", "nag")} \
        if start is not None else None
    x = [i * every for i in range(len(mine["gd"]["loss"]))]
    conditions, lines, diagnoses = [], [], []
    final = {}
    for method, label in (("gd", "GD"), ("nag", "NAG")):
        loss = mine[method]["loss"]
        first, last = loss[0], loss[-1]
        final[method] = last
        if not np.isfinite(last):
            lines.append(f"{label}: the parameters became NaN or infinite during training.")
            diagnoses.append("diverged")
            conditions.append(False)
        else:
            fell = last <= (1 - params.min_drop) * first
            conditions.append(fell)
            lines.append(f"{label}: loss {fmt(first, 4)} -> {fmt(last, 4)} over {params.iterations} iterations"
                         + ("." if fell else f" (should fall by at least {params.min_drop:.0%})."))
            blown = np.where(np.isfinite(loss), loss, np.inf)   # NaN or inf on the way counts as blown up
            peak = int(np.argmax(blown))
            if blown[peak] > DIVERGED_FACTOR * first:   # it blew up (even if it came back down), not merely stalled
                size = f"{fmt(blown[peak], 4)} ({blown[peak] / first:.3g} times its start)" \
                    if np.isfinite(blown[peak]) else "NaN or infinity"
                lines.append(f"{label}: the loss blew up to {size} at iteration {x[peak]}: the run diverged.")
                diagnoses.append("diverged")
            elif not fell:
                diagnoses.append("no-progress")
    for method, label in (("gd", "GD"), ("nag", "NAG")):
        acc = mine[method]["test_acc"][-1]
        ok = bool(np.isfinite(acc) and acc >= params.accuracy)
        conditions.append(ok)
        lines.append(f"{label}: test accuracy {acc:.1%}" + (" (bar {:.0%} reached)." if ok else " (bar {:.0%} not reached).").format(params.accuracy))
    nag_below = bool(np.isfinite(final["nag"]) and np.isfinite(final["gd"]) and final["nag"] < final["gd"])
    conditions.append(nag_below)
    lines.append("NAG ends below GD." if nag_below else
                 f"NAG should end below GD (NAG {fmt(final['nag'], 4)}, GD {fmt(final['gd'], 4)}).")
    train_ok, train_line, train_diagnosis = _judge_history(ctx, obs, params)
    lines.append(train_line + ("" if train_ok else f" This costs {TRAIN_SHARE:.0%} of the criterion."))
    diagnoses += train_diagnosis
    fraction = max(0.0, sum(conditions) / len(conditions) - (0.0 if train_ok else TRAIN_SHARE))
    spot_failure = _spot_check(ctx, obs)
    if spot_failure:
        fraction = 0.0
        lines.insert(0, spot_failure + " Training earns nothing without evidence that step() produced the run.")
        diagnoses.append("trajectory-mismatch")
    evidence = {"learning rate": sig(lr), "iterations": params.iterations, "accuracy bar": sig(params.accuracy),
                "final loss GD": sig(final["gd"]), "final loss NAG": sig(final["nag"]),
                "final test accuracy GD": sig(mine["gd"]["test_acc"][-1]),
                "final test accuracy NAG": sig(mine["nag"]["test_acc"][-1])}
    if ref is not None:
        evidence["reference final loss GD"] = sig(ref["gd"]["loss"][-1])
        evidence["reference final loss NAG"] = sig(ref["nag"]["loss"][-1])
    evidence["spot-checked steps"] = "GD " + ", ".join(str(k + 1) for k in [0, *obs["spot_checks"]]) + "; NAG 1"
    plots = _plots(x, mine, ref)
    return Verdict(fraction, "\n".join(lines), diagnoses=sorted(set(diagnoses)), evidence=evidence, plots=plots)


def _judge_history(ctx: Context, obs: dict, params: Params) -> tuple[bool, str, list[str]]:
    """train(x, y, n) returns n losses, each the assignment's loss (or the
    student's named wrong loss, charged under 'loss' already) at the iterate
    before or after that step; the GD run from the same start gives the
    iterates.  Returns (condition met, line, diagnoses)."""
    n = params.train_iterations
    call = f"train(x, y, {n})"
    if obs["history_error"]:
        return False, f"{call} failed: {obs['history_error']}.", ["train-broken"]
    history = obs["history"]
    if history is None or len(history) != n:
        got = "nothing usable" if history is None else f"{len(history)} values"
        return False, f"{call} should return {n} losses; it returned {got}.", ["train-broken"]
    gd = obs["spots"]["gd"]
    iterates = [gd.get(i) for i in range(n + 1)]
    if any(t is None or not all(np.all(np.isfinite(v)) for v in t.values()) for t in iterates):
        return False, f"{call} could not be checked: step() did not keep the parameters finite.", []
    data = ctx.oracle.dataset
    rel = ctx.tol.float32_rel if obs.get("float32") else max(ctx.tol.value_rel, 1e-6)

    def loss_of(value: float, theta: dict) -> bool:
        return named_loss(ctx, obs["hidden"], theta, data.x_train, data.y_train, value, rel) is not None

    losses = [ctx.oracle.loss(obs["hidden"], t, data.x_train, data.y_train) for t in iterates]
    # a diverging step() (judged by the conditions): its losses overflow differently
    blowing_up = [not np.isfinite(v) or v > 2 * losses[0] for v in losses]
    for i, value in enumerate(history):
        if blowing_up[i] and blowing_up[i + 1]:
            continue
        if not (loss_of(value, iterates[i]) or loss_of(value, iterates[i + 1])):
            return False, (f"{call} returned {fmt(value, 6)} for iteration {i + 1}; the loss before that step is "
                           f"{fmt(losses[i], 6)} and after it {fmt(losses[i + 1], 6)}."), ["train-broken"]
    return True, f"{call} returns the loss of every iteration.", []


def _spot_check(ctx: Context, obs: dict) -> str | None:
    """Steps of the training run (the first of each run, SPOT_CHECKS at seeded
    positions of the GD run) must move the parameters along -g, with g the
    reference gradient or the student's own where the evidence rule trusts
    it, by any positive step size (a wrong one is charged in the step
    criteria) and with any frozen blocks (a key typo, charged there too).
    Weights that jump to a precomputed point fail here."""
    data = ctx.oracle.dataset
    hidden = obs["hidden"]
    own = obs["own_gradients"]
    checks = [("GD", 0, obs["spots"]["gd"], own[0]), ("NAG", 0, obs["spots"]["nag"], own[0])]
    checks += [("GD", k, obs["spots"]["gd"], g) for k, g in zip(obs["spot_checks"], own[1:])]
    start_loss = None
    for label, k, snaps, own_grad in checks:
        before, after = snaps.get(k), snaps.get(k + 1)
        if before is None or after is None:
            continue
        if not all(np.all(np.isfinite(v)) for t in (before, after) for v in t.values()):
            continue   # divergence is judged by the conditions
        if k > 0:
            # a run that is blowing up is judged by the conditions; its steps are numerically
            # fragile (overflowing softmax), and weights that jumped to a good point have a low loss
            start_loss = start_loss if start_loss is not None else ctx.oracle.loss(
                hidden, snaps[0], data.x_train, data.y_train)
            now = ctx.oracle.loss(hidden, before, data.x_train, data.y_train)
            if not np.isfinite(now) or now > 2 * start_loss:
                continue
        moving = [key for key in before if not np.array_equal(before[key], after[key])]
        if not moving:
            continue   # no progress is judged by the conditions
        options = [ctx.oracle.gradient(hidden, before, data.x_train, data.y_train)]
        if own_grad is not None and gradient_explained(ctx, hidden, before, data.x_train, data.y_train, own_grad):
            options.append(own_grad)
        moved = np.concatenate([np.ravel(before[key] - after[key]) for key in moving])
        tolerance = 1e-3 if obs.get("float32") else 1e-6
        if not any(_along(moved, np.concatenate([np.ravel(g[key]) for key in moving]), tolerance) for g in options):
            return (f"{label} step {k + 1} of your training run is not a gradient step: the parameters did not "
                    "move along the gradient of the loss on the training data.")
    return None


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
