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
from grader.checks import forward, gd_step, init, loss, nag_step, param_count, param_shapes, training
from reference import optimizers as ref_opt


# -- forward and loss ---------------------------------------------------------------------

def forward_obs(ctx, probs_fn, big_fn=None):
    params = ctx.criterion.check_params()
    theta = ctx.oracle.theta(params.hidden, ctx.criterion.id)
    x, _ = ctx.oracle.batch(params.samples, ctx.criterion.id)
    probs = probs_fn(theta, x)
    big = (big_fn or probs_fn)(theta, x * params.large_scale)
    return {"theta": theta, "x": x, "probs": probs, "layout": "CS", "raw": None, "big_probs": big, "big_raw": None,
            "hidden": params.hidden, "scale": params.large_scale, "float32": False}


def test_forward_correct(make_ctx):
    ctx = make_ctx("forward")
    obs = forward_obs(ctx, lambda th, x: ctx.oracle.forward([6], th, x))
    v = forward.judge(ctx, obs, ctx.criterion.check_params())
    assert v.status == "passed"


def test_forward_softmax_overflow_loses_stability_points_only(make_ctx):
    ctx = make_ctx("forward")

    def naive(th, x):
        with np.errstate(all="ignore"):
            z1 = th["W0"] @ x.T + th["b0"]
            a1 = z1 / (1 + np.exp(-z1))
            z2 = th["W1"] @ a1 + th["b1"]
            e = np.exp(z2)
            return e / e.sum(axis=0)

    v = forward.judge(ctx, forward_obs(ctx, naive), ctx.criterion.check_params())
    assert v.status == "partial" and "softmax-overflow" in v.diagnoses
    assert v.fraction == pytest.approx(forward.VALUES_WEIGHT)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "softplus"])
def test_forward_names_the_activation_used(make_ctx, activation):
    ctx = make_ctx("forward")
    obs = forward_obs(ctx, lambda th, x: ctx.oracle.forward([6], th, x, activation=activation))
    v = forward.judge(ctx, obs, ctx.criterion.check_params())
    assert "wrong-activation" in v.diagnoses and activation in v.feedback


def test_forward_bad_output(make_ctx):
    ctx = make_ctx("forward")
    obs = forward_obs(ctx, lambda th, x: ctx.oracle.forward([6], th, x))
    obs["probs"], obs["raw"] = None, "a generator (<generator object>)"
    v = forward.judge(ctx, obs, ctx.criterion.check_params())
    # evidence before credit: stability on large inputs earns nothing without right values
    assert "bad-output" in v.diagnoses and v.fraction == 0.0


def test_forward_uniform_output_earns_nothing(make_ctx):
    """Uniform probabilities are finite and sum to 1 on any input: no credit."""
    ctx = make_ctx("forward")
    obs = forward_obs(ctx, lambda th, x: np.full((3, x.shape[0]), 1 / 3))
    v = forward.judge(ctx, obs, ctx.criterion.check_params())
    assert v.fraction == 0.0 and "earns nothing" in v.feedback


def test_forward_stability_counts_with_a_named_activation(make_ctx):
    ctx = make_ctx("forward")
    obs = forward_obs(ctx, lambda th, x: ctx.oracle.forward([6], th, x, activation="relu"))
    v = forward.judge(ctx, obs, ctx.criterion.check_params())
    assert v.fraction == pytest.approx(forward.STABLE_WEIGHT) and "wrong-activation" in v.diagnoses


def loss_obs(ctx, value_fn):
    params = ctx.criterion.check_params()
    theta = ctx.oracle.theta(params.hidden, ctx.criterion.id)
    x, y = ctx.oracle.batch(params.samples, ctx.criterion.id)
    return {"theta": theta, "x": x, "y": y, "loss": value_fn(theta, x, y), "probs": ctx.oracle.forward(params.hidden, theta, x),
            "hidden": params.hidden, "float32": False}


def test_loss_correct_and_sum(make_ctx):
    ctx = make_ctx("loss")
    p = ctx.criterion.check_params()
    ok = loss.judge(ctx, loss_obs(ctx, lambda th, x, y: ctx.oracle.loss(p.hidden, th, x, y)), p)
    assert ok.status == "passed"
    summed = loss.judge(ctx, loss_obs(ctx, lambda th, x, y: x.shape[0] * ctx.oracle.loss(p.hidden, th, x, y)), p)
    assert summed.diagnoses == ["loss-sum-not-mean"]
    nan = loss.judge(ctx, loss_obs(ctx, lambda th, x, y: float("nan")), p)
    assert nan.diagnoses == ["bad-output"]


# -- parameters and init ------------------------------------------------------------------

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


def init_obs(w_fn, b_fn, h=500):
    rng = np.random.default_rng(1)
    return {"theta": {"W0": w_fn(rng, (h, 4)), "b0": b_fn(rng, (h, 1)), "W1": w_fn(rng, (3, h)), "b1": b_fn(rng, (3, 1))}}


@pytest.mark.parametrize("w_fn, b_fn, diagnosis", [
    (lambda r, s: 0.05 * r.standard_normal(s), lambda r, s: 0.05 * r.standard_normal(s), None),
    (lambda r, s: np.full(s, 0.05), lambda r, s: np.zeros(s), "init-constant"),
    (lambda r, s: 0.5 * r.standard_normal(s), lambda r, s: 0.05 * r.standard_normal(s), "init-wrong-scale"),
    (lambda r, s: r.uniform(-0.05 * 3**0.5, 0.05 * 3**0.5, s), lambda r, s: 0.05 * r.standard_normal(s), "init-not-normal"),
    (lambda r, s: np.tile(0.05 * r.standard_normal((1, s[1])), (s[0], 1)) if s[1] == 4 else 0.05 * r.standard_normal(s),
     lambda r, s: 0.05 * r.standard_normal(s), "init-symmetric"),
])
def test_init_statistics(make_ctx, w_fn, b_fn, diagnosis):
    ctx = make_ctx("init")
    v = init.judge(ctx, init_obs(w_fn, b_fn), ctx.criterion.check_params())
    if diagnosis is None:
        assert v.status == "passed", v.feedback
    else:
        assert diagnosis in v.diagnoses, v.feedback


def test_ks_pvalue_sane():
    rng = np.random.default_rng(3)
    _, p_normal = init.ks_pvalue(rng.normal(0, 1, 2000), 0, 1)
    _, p_shifted = init.ks_pvalue(rng.normal(0.3, 1, 2000), 0, 1)
    assert p_normal > 0.01 and p_shifted < 1e-6


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


# -- training ---------------------------------------------------------------------------------

def training_obs(ctx, gd_iterates=None, nag_iterates=None, history=None, history_error=None):
    """An observation of the training criterion built from whole trajectories
    (every iterate), sliced the way observe() snapshots them."""
    p = ctx.criterion.check_params()
    hidden = ctx.oracle.default_hidden
    data = ctx.oracle.dataset
    theta0 = ctx.oracle.theta(hidden, "training", std=0.05)

    def grad(th):
        return ctx.oracle.gradient(hidden, th, data.x_train, data.y_train)

    full = {"gd": gd_iterates or ref_opt.trajectory("gd", grad, theta0, p.iterations, p.lr, 0.9).iterates,
            "nag": nag_iterates or ref_opt.trajectory("nag", grad, theta0, p.iterations, p.lr, 0.9).iterates}
    spots = [57, 123, 250]
    if history is None:
        history = [ctx.oracle.loss(hidden, full["gd"][i], data.x_train, data.y_train)
                   for i in range(p.train_iterations)]
    return {"runs": {m: full[m][::p.every] for m in full}, "hidden": hidden, "lr": p.lr, "history": history,
            "history_error": history_error, "every": p.every, "spot_checks": spots, "float32": False,
            "spots": {m: {i: full[m][i] for i in (*range(p.train_iterations + 1), *spots, *(k + 1 for k in spots))}
                      for m in full},
            "own_gradients": [grad(theta0), *(grad(full["gd"][k]) for k in spots)]}


def test_training_judge_conditions(make_ctx):
    ctx = make_ctx("training")
    p = ctx.criterion.check_params()
    good = training_obs(ctx)
    v = training.judge(ctx, good, p)
    assert v.status == "passed", v.feedback
    assert set(v.plots) == {"training loss", "test accuracy"}
    assert len(v.plots["training loss"]["series"]) == 4
    theta0 = good["runs"]["gd"][0]
    stuck = dict(good, runs={"gd": [theta0] * len(good["runs"]["gd"]), "nag": good["runs"]["nag"]})
    v = training.judge(ctx, stuck, p)
    assert v.status == "partial" and "no-progress" in v.diagnoses
    nan = {k: np.full_like(val, np.nan) for k, val in theta0.items()}
    diverged = dict(good, runs={"gd": good["runs"]["gd"][:-1] + [nan], "nag": good["runs"]["nag"]})
    assert "diverged" in training.judge(ctx, diverged, p).diagnoses


def test_training_jump_to_precomputed_weights_earns_nothing(make_ctx):
    """A step() that recognises the training set and jumps to weights trained
    offline: the run reaches the bar, but its first step is no gradient step."""
    ctx = make_ctx("training")
    p = ctx.criterion.check_params()
    good = training_obs(ctx)
    trained = good["runs"]["gd"][-1]
    jump = [good["runs"]["gd"][0]] + [trained] * p.iterations
    v = training.judge(ctx, training_obs(ctx, gd_iterates=jump, nag_iterates=jump), p)
    assert v.fraction == 0.0 and "trajectory-mismatch" in v.diagnoses, v.feedback


def test_training_accepts_a_named_wrong_step_size(make_ctx):
    """Spot checks accept any positive step size along -g (a wrong lr is charged in gd-step)."""
    ctx = make_ctx("training")
    hidden, data = ctx.oracle.default_hidden, ctx.oracle.dataset
    theta0 = ctx.oracle.theta(hidden, "training", std=0.05)
    p = ctx.criterion.check_params()
    gd = ref_opt.trajectory("gd", lambda th: ctx.oracle.gradient(hidden, th, data.x_train, data.y_train),
                            theta0, p.iterations, 0.13, 0.9).iterates
    v = training.judge(ctx, training_obs(ctx, gd_iterates=gd), p)
    assert "trajectory-mismatch" not in v.diagnoses, v.feedback


@pytest.mark.parametrize("history, error, phrase", [
    ([1.0] * 5, None, "for iteration 1"),
    ([1.0] * 3, None, "3 values"),
    (None, "ZeroDivisionError: division by zero", "failed"),
])
def test_training_train_history_costs_its_share(make_ctx, history, error, phrase):
    ctx = make_ctx("training")
    p = ctx.criterion.check_params()
    v = training.judge(ctx, training_obs(ctx, history=history if history else [0.0], history_error=error), p)
    assert v.fraction == pytest.approx(1 - training.TRAIN_SHARE) and "train-broken" in v.diagnoses
    assert phrase in v.feedback


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
