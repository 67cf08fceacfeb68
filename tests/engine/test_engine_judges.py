"""Every diagnosis the grader claims, tested on synthetic observations.

Judges are pure functions of observations, so each known mistake is
reproduced here with the reference's own numbers, mutated the way the
mistake mutates them, without starting a student process.  Each test fails
if its diagnosis is removed or mis-triggered.
"""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks.observe import parameter_description
from grader.checks import gd_step, nag_step, param_count, param_shapes
from reference import optimizers as ref_opt


# -- parameters ------------------------------------------------------------------

def shapes_obs(entries_for):
    """A typed observation, built the way observe builds it: from worker replies."""
    variants = []
    for hidden in ([16], [5], [7]):
        h = hidden[0]
        entries = {k: {"shape": list(s), "size": int(np.prod(s)), "dtype": "float64"}
                   for k, s in entries_for(h).items()}
        reply = {"type": "dict", "entries": entries}
        variants.append(param_shapes.Variant(tuple(hidden), parameter_description(reply)))
    return param_shapes.Observation(tuple(variants))


def test_param_shapes_and_count(make_ctx):
    ctx = make_ctx("param-shapes")
    good = shapes_obs(lambda h: {"W0": (h, 4), "b0": (h, 1), "W1": (3, h), "b1": (3, 1)})
    assert param_shapes.judge(ctx, good, ctx.criterion.check_params()).status == "passed"
    flat = shapes_obs(lambda h: {"W0": (h, 4), "b0": (h,), "W1": (3, h), "b1": (3,)})
    assert param_shapes.judge(ctx, flat, ctx.criterion.check_params()).status == "passed"
    transposed = shapes_obs(lambda h: {"W0": (4, h), "b0": (h, 1), "W1": (3, h), "b1": (3, 1)})
    v = param_shapes.judge(ctx, transposed, ctx.criterion.check_params())
    assert v.diagnoses == ["transposed-weights"]
    typo = shapes_obs(lambda h: {"w0": (h, 4), "b0": (h, 1), "W1": (3, h), "b1": (3, 1)})
    assert "key-typo" in param_shapes.judge(ctx, typo, ctx.criterion.check_params()).diagnoses
    cctx = make_ctx("param-count")
    assert param_count.judge(cctx, good, cctx.criterion.check_params()).status == "passed"
    extra = shapes_obs(lambda h: {"W0": (h, 4), "b0": (h, 1), "W1": (3, h), "b1": (3, 1), "v_W0": (h, 4)})
    v = param_count.judge(cctx, extra, cctx.criterion.check_params())
    assert v.status == "failed" and "more than" in v.feedback


# -- optimizer steps ------------------------------------------------------------------------

def gd_obs(ctx, step_fn, new_keys=()):
    params = ctx.criterion.check_params()
    theta = ctx.oracle.theta(params.hidden, "step")
    x, y = ctx.oracle.batch(params.samples, "step")
    g = ctx.oracle.gradient(params.hidden, theta, x, y)
    lr = ctx.rubric.assignment.optimizer.lr
    return {"theta": theta, "x": x, "y": y, "lr": lr, "hidden": params.hidden, "own_gradient": g,
            "after": step_fn(theta, g, lr), "new_keys": list(new_keys)}


def test_gd_step_judgements(make_ctx):
    ctx = make_ctx("gd-step")
    p = ctx.criterion.check_params()
    right = gd_step.judge(ctx, gd_obs(ctx, lambda t, g, lr: {k: t[k] - lr * g[k] for k in t}), p)
    assert right.status == "passed"
    fixed = gd_step.judge(ctx, gd_obs(ctx, lambda t, g, lr: {k: t[k] - 0.1 * g[k] for k in t}), p)
    assert fixed.diagnoses == ["wrong-step-size"] and fixed.evidence["inferred step size"] == 0.1
    typo = gd_step.judge(ctx, gd_obs(ctx, lambda t, g, lr: {k: t[k] if k == "W0" else t[k] - lr * g[k] for k in t},
                                     new_keys=["w0"]), p)
    assert "key-typo" in typo.diagnoses and "w0" in typo.feedback


def nag_obs(ctx, method, mu=None, aliases=()):
    params = ctx.criterion.check_params()
    mu = ctx.rubric.assignment.optimizer.momentum if mu is None else mu
    x, y = ctx.oracle.batch(params.samples, "nag")
    theta0 = ctx.oracle.theta(params.hidden, "nag-test", std=0.05)

    def grad(th):
        return ctx.oracle.gradient(params.hidden, th, x, y)

    student = ref_opt.trajectory(method, grad, theta0, params.steps, params.lr, mu).stored
    candidates = {m: ref_opt.trajectory(m, grad, theta0, params.steps, params.lr,
                                        ctx.rubric.assignment.optimizer.momentum).stored for m in nag_step.CANDIDATES}
    return {"snapshots": student, "candidates": candidates, "aliases": list(aliases), "lr": params.lr,
            "momentum": ctx.rubric.assignment.optimizer.momentum, "own_gradient": True, "hidden": params.hidden,
            "x": x, "y": y}


@pytest.mark.parametrize("method, aliases, status, diagnosis", [
    ("nag", (), "passed", None),
    ("nag_velocity", (), "passed", None),
    ("nag_stored", (), "passed", None),
    ("heavy_ball", (), "failed", "heavy-ball"),
    ("gd", ("theta_prev",), "failed", "zero-momentum"),
    ("gd", (), "failed", "nag-missing"),
    ("nag_fista", (), "failed", "wrong-momentum"),
])
def test_nag_classification(make_ctx, method, aliases, status, diagnosis):
    ctx = make_ctx("nag-step")
    v = nag_step.judge(ctx, nag_obs(ctx, method, aliases=aliases), ctx.criterion.check_params())
    assert v.status == status, v.feedback
    assert v.diagnoses == ([diagnosis] if diagnosis else [])


def test_nag_wrong_constant_momentum_is_inferred(make_ctx):
    ctx = make_ctx("nag-step")
    v = nag_step.judge(ctx, nag_obs(ctx, "nag", mu=0.5), ctx.criterion.check_params())
    assert v.diagnoses == ["wrong-momentum"] and v.evidence["inferred momentum"] == 0.5


def test_nag_hard_coded_momentum_is_named(make_ctx):
    """Right at the rubric's momentum, still the rubric's at a second one."""
    ctx = make_ctx("nag-step")
    params = ctx.criterion.check_params()
    obs = nag_obs(ctx, "nag")
    mu = obs["momentum"]
    mu2 = nag_step.second_momentum(mu)
    grad = lambda th: ctx.oracle.gradient(obs["hidden"], th, obs["x"], obs["y"])   # noqa: E731
    start = obs["snapshots"][0]

    def traj(m):
        return ref_opt.trajectory("nag", grad, start, nag_step.SECOND_STEPS, params.lr, m).stored

    cands = {(meth, m, "reference"): ref_opt.trajectory(meth, grad, start, nag_step.SECOND_STEPS, params.lr, m).stored
             for meth in ("nag", "nag_stored") for m in (mu2, mu)}
    honest = dict(obs, second={"momentum": mu2, "snapshots": traj(mu2), "candidates": cands})
    assert nag_step.judge(ctx, honest, params).status == "passed"
    hard = dict(obs, second={"momentum": mu2, "snapshots": traj(mu), "candidates": cands})
    v = nag_step.judge(ctx, hard, params)
    assert v.fraction == 0.5 and v.diagnoses == ["momentum-hard-coded"], v.feedback


def test_nag_ignored_learning_rate_is_inferred(make_ctx):
    ctx = make_ctx("nag-step")
    params = ctx.criterion.check_params()
    obs = nag_obs(ctx, "nag")
    x, y = obs["x"], obs["y"]

    def grad(th):
        return ctx.oracle.gradient(params.hidden, th, x, y)

    obs["snapshots"] = ref_opt.trajectory("nag", grad, obs["snapshots"][0], params.steps, 0.1, 0.9).stored
    v = nag_step.judge(ctx, obs, params)
    assert v.diagnoses == ["wrong-step-size"] and v.evidence["inferred learning rate"] == 0.1


def test_nag_correct_step_with_wrong_back_propagate_passes(make_ctx):
    ctx = make_ctx("nag-step")
    params = ctx.criterion.check_params()
    obs = nag_obs(ctx, "nag")

    def doubled(th):   # what a wrong back_propagate gives the candidate replays
        return {k: 2 * v for k, v in ctx.oracle.gradient(params.hidden, th, obs["x"], obs["y"]).items()}

    obs["candidates"] = {m: ref_opt.trajectory(m, doubled, obs["snapshots"][0], params.steps, params.lr, 0.9).stored
                         for m in nag_step.CANDIDATES}
    v = nag_step.judge(ctx, obs, params)
    assert v.status == "passed" and "judged separately" in v.feedback
