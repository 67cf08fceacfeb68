"""Every diagnosis the grader claims, tested on synthetic observations.

Judges are pure functions of observations, so each known mistake is
reproduced here with the reference's own numbers, mutated the way the
mistake mutates them, without starting a student process.  Each test fails
if its diagnosis is removed or mis-triggered.
"""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks.loss import loss_from_probabilities
from grader.checks.observe import parameter_description
from grader.checks import gd_step, gradient, nag_step, param_count, param_shapes
from reference import optimizers as ref_opt


# -- gradient -------------------------------------------------------------------------

def gradient_obs(ctx, block, transform=lambda key, g, obs: g, fd_from=None, own_loss=None):
    """Observation of a student whose back_propagate is `transform(reference)`
    and whose loss is the reference loss (fd = exact reference projections),
    or `own_loss` (a function of hidden, theta, x, y) with fd from `fd_from`."""
    params = ctx.criterion.check_params()
    hidden = params.hidden
    oracle = ctx.oracle
    theta = oracle.theta(hidden, "gradient")
    x, y = oracle.batch(params.samples, "gradient")
    true = oracle.gradient(hidden, theta, x, y)
    obs = {"block": block, "hidden": hidden, "theta": theta, "x": x, "y": y, "coords": None,
           "directions": None, "raw_type": "dict"}
    grads = {k: transform(k, v.copy(), obs) for k, v in true.items()}
    obs["grads"] = grads
    obs["forms"] = {k: "ok" for k in grads}
    size = theta[block].size
    obs["coords"] = np.arange(size)
    source = fd_from(hidden, theta, x, y) if fd_from else true
    obs["fd"] = np.ravel(source[block])
    obs["own_loss"] = (own_loss or oracle.loss)(hidden, theta, x, y)
    obs["float32"] = False
    return obs


def judge_gradient(ctx, obs):
    return gradient.judge(ctx, obs, ctx.criterion.check_params())


@pytest.mark.parametrize("block", ["W0", "b0", "W1", "b1"])
def test_correct_gradient_passes(make_ctx, block):
    ctx = make_ctx(f"grad-{block}")
    verdict = judge_gradient(ctx, gradient_obs(ctx, block))
    assert verdict.status == "passed" and verdict.fraction == 1.0
    assert verdict.diagnoses == []


@pytest.mark.parametrize("factor, diagnosis", [(5.0, "sum-not-mean"), (0.2, "mean-twice"), (-1.0, "sign-flip")])
def test_scaled_gradient_is_named(make_ctx, factor, diagnosis):
    ctx = make_ctx("grad-W1")
    obs = gradient_obs(ctx, "W1", lambda k, g, o: g * factor)
    assert obs["x"].shape[0] == 5
    verdict = judge_gradient(ctx, obs)
    assert verdict.status == "failed"
    assert diagnosis in verdict.diagnoses
    assert "exactly" in verdict.feedback or "opposite sign" in verdict.feedback


def test_sum_not_mean_feedback_names_S(make_ctx):
    ctx = make_ctx("grad-b0")
    verdict = judge_gradient(ctx, gradient_obs(ctx, "b0", lambda k, g, o: 5 * g))
    assert "S = 5 times" in verdict.feedback


@pytest.mark.parametrize("diagnosis", ["activation-derivative-sigmoid", "activation-derivative-at-activation"])
@pytest.mark.parametrize("block", ["W0", "b0"])
def test_wrong_activation_derivative_is_named(make_ctx, diagnosis, block):
    ctx = make_ctx(f"grad-{block}")

    def transform(key, g, obs):
        return ctx.oracle.gradient_mutants(obs["hidden"], obs["theta"], obs["x"], obs["y"])[diagnosis][key]

    verdict = judge_gradient(ctx, gradient_obs(ctx, block, transform))
    assert verdict.diagnoses == [diagnosis]
    assert verdict.fraction == 0.0


@pytest.mark.parametrize("block", ["b0", "b1"])
def test_bias_from_one_sample_is_named(make_ctx, block):
    ctx = make_ctx(f"grad-{block}")

    def transform(key, g, obs):
        single = ctx.oracle.gradient(obs["hidden"], obs["theta"], obs["x"][-1:], obs["y"][-1:])
        return single[key] / obs["x"].shape[0] if key == block else g

    verdict = judge_gradient(ctx, gradient_obs(ctx, block, transform))
    assert verdict.diagnoses == ["bias-one-sample"]


def test_transposed_gradient_is_named(make_ctx):
    ctx = make_ctx("grad-W1")
    obs = gradient_obs(ctx, "W1")
    obs["forms"]["W1"] = "transposed"   # canonical_gradient transposed it back
    verdict = judge_gradient(ctx, obs)
    assert verdict.diagnoses == ["gradient-transposed"] and verdict.fraction == 0.0


def test_canonical_gradient_detects_transpose():
    from grader.adapter import BlockLayout, Layout

    layout = Layout({"W1": BlockLayout("W1", (3, 6), "canonical"), "b1": BlockLayout("b1", (3, 1), "canonical")})
    theta = {"W1": np.zeros((3, 6)), "b1": np.zeros((3, 1))}
    g = np.arange(18.0).reshape(6, 3)
    grads, forms = gradient.canonical_gradient({"W1": g, "b1": np.zeros(3)}, layout, theta)
    assert forms == {"W1": "transposed", "b1": "ok"}
    np.testing.assert_array_equal(grads["W1"], g.T)
    assert grads["b1"].shape == (3, 1)


def test_self_consistent_wrong_activation_gets_partial_credit(make_ctx):
    ctx = make_ctx("grad-W0")

    def relu_grad(hidden, theta, x, y):
        return ctx.oracle.activation_gradients(hidden, theta, x, y)["relu"]

    def relu_loss(hidden, theta, x, y):
        probs = ctx.oracle.forward(hidden, theta, x, activation="relu")
        return loss_from_probabilities("cross_entropy", probs, y)

    obs = gradient_obs(ctx, "W0", lambda k, g, o: relu_grad(o["hidden"], o["theta"], o["x"], o["y"])[k],
                       fd_from=relu_grad, own_loss=relu_loss)
    verdict = judge_gradient(ctx, obs)
    assert verdict.status == "partial" and 0 < verdict.fraction < 1
    assert "wrong-activation" in verdict.diagnoses


@pytest.mark.parametrize("block", ["W0", "b0", "W1", "b1"])
def test_gradient_of_an_unknown_own_loss_earns_nothing(make_ctx, block):
    """Evidence before credit: a zero gradient is the exact derivative of a
    constant loss, and 2 theta that of sum(theta**2); neither loss is the
    assignment's or a named mistake, so self-consistency earns nothing."""
    ctx = make_ctx(f"grad-{block}")
    zero = gradient_obs(ctx, block, lambda k, g, o: np.zeros_like(g),
                        fd_from=lambda h, t, x, y: {k: np.zeros_like(v) for k, v in t.items()},
                        own_loss=lambda h, t, x, y: 1.0986)
    square = gradient_obs(ctx, block, lambda k, g, o: 2 * o["theta"][k],
                          fd_from=lambda h, t, x, y: {k: 2 * v for k, v in t.items()},
                          own_loss=lambda h, t, x, y: sum(float(np.sum(v ** 2)) for v in t.values()))
    for obs in (zero, square):
        verdict = judge_gradient(ctx, obs)
        assert verdict.fraction == 0.0, verdict.feedback
        assert "earns nothing" in verdict.feedback


def test_numerical_gradient_is_flagged_for_the_instructor_only():
    assert gradient.instructor_notes({"calls": {"loss": 48}})["numerical-gradient"].startswith("back_propagate called")
    assert gradient.instructor_notes({"calls": {"feed_forward": 1}}) == {}


def test_unknown_gradient_error_reports_numbers(make_ctx):
    ctx = make_ctx("grad-W0")
    rng = np.random.default_rng(0)
    obs = gradient_obs(ctx, "W0", lambda k, g, o: g + 0.3 * rng.standard_normal(g.shape) * np.abs(g).max())
    verdict = judge_gradient(ctx, obs)
    assert verdict.fraction == 0.0 and verdict.diagnoses == []
    assert "Largest difference" in verdict.feedback


def test_hidden_layer_hint_when_output_blocks_right(make_ctx):
    ctx = make_ctx("grad-W0")
    obs = gradient_obs(ctx, "W0", lambda k, g, o: g * (1.7 if k in ("W0", "b0") else 1.0) + (0.01 if k == "W0" else 0))
    verdict = judge_gradient(ctx, obs)
    assert "W1 and b1 are right" in verdict.feedback


def test_missing_gradient_block(make_ctx):
    ctx = make_ctx("grad-b1")
    obs = gradient_obs(ctx, "b1")
    obs["grads"]["b1"], obs["forms"]["b1"] = None, "missing"
    verdict = judge_gradient(ctx, obs)
    assert verdict.fraction == 0 and verdict.diagnoses == ["bad-output"]


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
