"""`training`: a short run on the real training split does what training is for.

GD and NAG each run `iterations` steps through the student's `step()` from
the same start drawn like the assignment's initialization (so an init bug
is not charged twice), with snapshots every few steps.  Losses and accuracies along the way
are computed by the reference on the student's iterates, and the reference's
own runs from the same start are drawn beside them.  A short call of
`train()` checks that it returns one loss per iteration.

Five conditions, each worth a fifth: GD lowers the loss, NAG lowers the loss,
GD and NAG reach the test-accuracy bar (one condition each), NAG ends below GD.
`train()` returning a wrong history is reported but costs nothing extra when
the stepping itself works.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..probe import WorkerFailure
from .base import CheckParams, Context, Verdict, fmt, sig


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
    theta0 = ctx.oracle.theta(hidden, "training", std=ctx.rubric.assignment.init.std)
    runs = {}
    for method in ("gd", "nag"):
        net = probe.new(hidden, method=method, lr=lr, seed=ctx.seed("start"))
        layout = net.require_layout()
        start_at(net, theta0)
        raw = net.steps(data.x_train, data.y_train, params.iterations, every=params.every)
        runs[method] = [layout.to_canonical(s) if isinstance(s, dict) else None for s in raw]
    trainer = probe.new(hidden, method="gd", lr=lr, seed=ctx.seed("start"))
    try:
        history = trainer.call("train", data.x_train, data.y_train, params.train_iterations)["value"]
        history = np.asarray(history, dtype=np.float64).ravel().tolist() if not isinstance(history, dict) else None
        history_error = None
    except Exception as exc:  # reported as a note; the stepping is what is graded
        history, history_error = None, str(getattr(exc, "message", exc))
    return {"runs": runs, "hidden": list(hidden), "lr": lr, "history": history, "history_error": history_error,
            "every": params.every}


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
            if not fell:
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
    history = obs["history"]
    if obs["history_error"]:
        lines.append(f"Note: train() failed: {obs['history_error']}")
    elif history is None or len(history) != params.train_iterations or not np.all(np.isfinite(history)):
        if history is None:
            got = "nothing usable"
        elif len(history) != params.train_iterations:
            got = f"{len(history)} values"
        else:
            got = f"{int(np.sum(~np.isfinite(history)))} non-finite values among them"
        lines.append(f"Note: train(x, y, {params.train_iterations}) should return {params.train_iterations} "
                     f"finite losses; it returned {got}.")
    fraction = sum(conditions) / len(conditions)
    evidence = {"learning rate": sig(lr), "iterations": params.iterations, "accuracy bar": sig(params.accuracy),
                "final loss GD": sig(final["gd"]), "final loss NAG": sig(final["nag"]),
                "final test accuracy GD": sig(mine["gd"]["test_acc"][-1]),
                "final test accuracy NAG": sig(mine["nag"]["test_acc"][-1])}
    if ref is not None:
        evidence["reference final loss GD"] = sig(ref["gd"]["loss"][-1])
        evidence["reference final loss NAG"] = sig(ref["nag"]["loss"][-1])
    plots = _plots(x, mine, ref)
    return Verdict(fraction, "\n".join(lines), diagnoses=sorted(set(diagnoses)), evidence=evidence, plots=plots)


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
