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
from grader.checks import forward, gradient, init, loss, param_count, param_shapes, training
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
