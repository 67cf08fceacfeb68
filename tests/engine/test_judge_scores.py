"""Template B's judgements (rubric twolayer-relu): a forward pass returning
class scores compared up to a constant per sample, the softmax's overflow
probed through the loss, biases initialized exactly zero, the L2 penalty
written without its 0.5 (penalty-l2-doubled), and mistake texts in the
rubric's one-based, (n_in, n_out) words.

Observations are built as observe builds them, from the reference's own
numbers mutated the way each mistake mutates them.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

from grader.checks import forward, init, loss
from grader.mistakes import words
from grader.mistakes.init import RECORDS as INIT_RECORDS
from grader.mistakes.outputs import RECORDS as OUTPUT_RECORDS
from grader.rubric import load_rubric
from student_fakes import judge_declared


@pytest.fixture(scope="module")
def twolayer():
    return load_rubric("twolayer-relu")


def scores_of(th: dict, x: np.ndarray, activation: Callable = lambda z: np.maximum(z, 0.0)) -> np.ndarray:
    """The network's class scores (S, C), as template B's loss(X) returns them."""
    a1 = activation(x @ th["W0"].T + th["b0"].T)
    return a1 @ th["W1"].T + th["b1"].T


def naive_loss(th: dict, x: np.ndarray, y: np.ndarray, reg_l2: float) -> float:
    """The right loss with exp() of unshifted scores: inf or NaN on huge inputs."""
    with np.errstate(all="ignore"):
        e = np.exp(scores_of(th, x))
        p = e / e.sum(axis=1, keepdims=True)
        data = float(-np.mean(np.log(p[np.arange(y.size), y])))
    return data + reg_l2 * float((th["W0"] ** 2).sum() + (th["W1"] ** 2).sum())


# -- forward: scores ----------------------------------------------------------------------

def scores_obs(ctx: Any, fn: Callable) -> forward.Observation:
    """A typed observation from what the glued forward pass returns: (S, C) scores."""
    params = ctx.criterion.check_params()
    theta, x = forward.probe_inputs(ctx, params)
    layouts = ctx.rubric.interface.output_layouts
    ordinary = forward.output(fn(theta, x), 3, x.shape[0], layouts)
    big = forward.output(fn(theta, x * params.large_scale), 3, x.shape[0], layouts)
    return forward.Observation(tuple(params.hidden), theta, x, params.large_scale, False, ordinary, big)


def test_scores_equal_to_the_logits_pass(make_ctx, twolayer):
    ctx = make_ctx("forward", twolayer)
    v = judge_declared(ctx, scores_obs(ctx, scores_of))
    assert v.status == "passed" and v.diagnoses == [], v.feedback
    assert "up to a constant per sample" in v.feedback


def test_scores_shifted_by_a_constant_per_sample_pass(make_ctx, twolayer):
    """Softmax cannot see a per-sample constant: log-probabilities are scores too."""
    ctx = make_ctx("forward", twolayer)
    shift = lambda x: 7.0 * np.arange(x.shape[0])[:, None] - 3.0  # noqa: E731
    v = judge_declared(ctx, scores_obs(ctx, lambda th, x: scores_of(th, x) + shift(x)))
    assert v.status == "passed", v.feedback


def test_scores_shifted_per_class_fail(make_ctx, twolayer):
    """A constant per class (a wrong output bias) is not a freedom of the scores."""
    ctx = make_ctx("forward", twolayer)
    v = judge_declared(ctx, scores_obs(ctx, lambda th, x: scores_of(th, x) + np.array([0.0, 0.1, 0.0])))
    assert v.fraction == 0.0 and "beyond a constant per sample" in v.feedback


def test_probabilities_where_scores_are_asked_fail_and_are_named(make_ctx, twolayer):
    ctx = make_ctx("forward", twolayer)
    v = judge_declared(ctx, scores_obs(ctx, lambda th, x: ctx.oracle.forward([6], th, x).T))
    assert v.fraction == 0.0 and "softmax probabilities" in v.feedback


def test_scores_of_another_activation_are_named(make_ctx, twolayer):
    ctx = make_ctx("forward", twolayer)
    v = judge_declared(ctx, scores_obs(ctx, lambda th, x: scores_of(th, x, np.tanh)))
    assert v.diagnoses == ["wrong-activation"] and "tanh" in v.feedback
    assert v.fraction == pytest.approx(forward.STABLE_WEIGHT)


def test_non_finite_scores_on_large_inputs_lose_the_stability_part(make_ctx, twolayer):
    ctx = make_ctx("forward", twolayer)
    obs = scores_obs(ctx, scores_of)
    big = forward.Output(np.full_like(obs.large.probs, np.inf), layout="SC")
    v = judge_declared(ctx, forward.Observation(obs.hidden, obs.theta, obs.x, obs.scale, False, obs.ordinary, big))
    assert v.status == "partial" and v.fraction == pytest.approx(forward.VALUES_WEIGHT)
    assert v.diagnoses == []   # no softmax in a forward pass of scores: nothing of its overflow


def test_scores_comparison_is_per_sample():
    probs = np.array([[0.7, 0.2], [0.2, 0.3], [0.1, 0.5]])
    logits = np.log(probs) + np.array([[5.0, -2.0]])
    assert forward.scores_close(logits, probs, 1e-9, 1e-12)
    assert not forward.scores_close(logits + np.array([[0.0], [0.0], [1e-3]]), probs, 1e-9, 1e-12)
    assert np.allclose(forward.softmax(logits), probs)


# -- loss: the softmax's overflow, probed at huge inputs ------------------------------------

def scores_loss_obs(ctx: Any, value_fn: Callable, large: loss.LargeLoss | None = None) -> loss.Observation:
    params = ctx.criterion.check_params()
    theta, x, y = loss.probe_inputs(ctx, params)
    probs = forward.softmax(scores_of(theta, x).T)
    if large is None:
        scale = params.large_scale
        large = loss.LargeLoss(scale, loss.loss_value(value_fn(theta, x * scale, y)), "")
    value = value_fn(theta, x, y)
    return loss.Observation(tuple(params.hidden), theta, x, y, loss.loss_value(value), loss.describe(value),
                            probs, False, large)


def test_loss_right_on_huge_inputs_earns_everything(make_ctx, twolayer):
    ctx = make_ctx("loss", twolayer)
    v = judge_declared(ctx, scores_loss_obs(ctx, lambda th, x, y: ctx.oracle.loss([6], th, x, y)))
    assert v.status == "passed" and "does not overflow" in v.feedback, v.feedback


def test_unshifted_softmax_in_the_loss_is_softmax_overflow(make_ctx, twolayer):
    ctx = make_ctx("loss", twolayer)
    v = judge_declared(ctx, scores_loss_obs(ctx, lambda th, x, y: naive_loss(th, x, y, 0.005)))
    assert v.diagnoses == ["softmax-overflow"] and v.fraction == pytest.approx(forward.VALUES_WEIGHT), v.feedback


def test_overflow_error_in_the_loss_is_named(make_ctx, twolayer):
    """math.exp raises OverflowError instead of returning inf."""
    ctx = make_ctx("loss", twolayer)
    large = loss.LargeLoss(1000.0, None, "an error: OverflowError: math range error")
    v = judge_declared(ctx, scores_loss_obs(ctx, lambda th, x, y: ctx.oracle.loss([6], th, x, y), large))
    assert v.diagnoses == ["softmax-overflow"] and v.fraction == pytest.approx(forward.VALUES_WEIGHT)


def test_other_error_on_huge_inputs_is_not_called_overflow(make_ctx, twolayer):
    ctx = make_ctx("loss", twolayer)
    large = loss.LargeLoss(1000.0, None, "an error: KeyError: 'W1'")
    v = judge_declared(ctx, scores_loss_obs(ctx, lambda th, x, y: ctx.oracle.loss([6], th, x, y), large))
    assert v.diagnoses == [] and v.fraction == pytest.approx(forward.VALUES_WEIGHT)


def test_wrong_loss_earns_nothing_from_huge_inputs(make_ctx, twolayer):
    """Evidence before credit: the large-input part counts only after a right loss."""
    ctx = make_ctx("loss", twolayer)
    v = judge_declared(ctx, scores_loss_obs(ctx, lambda th, x, y: 2.0 * ctx.oracle.loss([6], th, x, y)))
    assert v.fraction == 0.0


def test_probability_rubrics_do_not_probe_the_loss_at_huge_inputs(make_ctx):
    ctx = make_ctx("loss")
    params = ctx.criterion.check_params()
    theta, x, y = loss.probe_inputs(ctx, params)
    large = loss.LargeLoss(1000.0, float("nan"), "nan")
    obs = loss.Observation(tuple(params.hidden), theta, x, y, ctx.oracle.loss([6], theta, x, y), "",
                           ctx.oracle.forward([6], theta, x), False, large)
    assert judge_declared(ctx, obs).status == "passed"


def test_l2_penalty_without_its_half_is_named(make_ctx, twolayer):
    """reg * sum W^2 where the course writes 0.5 * reg * sum W^2: the L2 part twice."""
    ctx = make_ctx("loss", twolayer)

    def doubled(th, x, y):
        return ctx.oracle.loss([6], th, x, y) + 0.005 * float((th["W0"] ** 2).sum() + (th["W1"] ** 2).sum())

    v = judge_declared(ctx, scores_loss_obs(ctx, doubled))
    assert v.diagnoses == ["penalty-l2-doubled"] and v.fraction == 0.0, v.feedback


# -- init: biases exactly zero ----------------------------------------------------------------

def zero_bias_obs(bias: Callable, h: int = 500) -> init.Observation:
    rng = np.random.default_rng(1)
    return init.Observation((h,), {"W0": 0.05 * rng.standard_normal((h, 4)), "b0": bias(rng, (h, 1)),
                                   "W1": 0.05 * rng.standard_normal((3, h)), "b1": bias(rng, (3, 1))})


def test_zero_biases_pass_when_the_rubric_asks_for_them(make_ctx, twolayer):
    v = judge_declared(make_ctx("init", twolayer), zero_bias_obs(lambda r, s: np.zeros(s)))
    assert v.status == "passed" and "biases exactly zero" in v.feedback, v.feedback


def test_drawn_biases_fail_when_the_rubric_asks_for_zero(make_ctx, twolayer):
    v = judge_declared(make_ctx("init", twolayer), zero_bias_obs(lambda r, s: 0.05 * r.standard_normal(s)))
    assert v.diagnoses == ["init-biases-not-zero"] and v.fraction == 0.0
    assert "b1" in v.feedback and "b2" in v.feedback   # the student's one-based keys


def test_zero_biases_are_constant_where_the_rubric_draws_them(make_ctx):
    v = judge_declared(make_ctx("init"), zero_bias_obs(lambda r, s: np.zeros(s)))
    assert v.diagnoses == ["init-constant"]


# -- words: one-based keys, (n_in, n_out) weights, flat biases --------------------------------

def test_words_follow_the_template_b_interface(twolayer):
    w = words.words_for(twolayer)
    assert (w["w_first"], w["b_first"], w["w_last"]) == ("W1", "b1", "W2")
    assert (w["w_first_shape"], w["w_first_shape_t"], w["w_last_shape"]) == ("(4, N_H)", "(N_H, 4)", "(N_H, 3)")
    assert w["b_first_shape"] == "(N_H,)" and "x @ W1 + b1" in w["z_rule"]
    assert "biases exactly zero" in w["init_rule"]


def test_mistake_texts_in_template_b_words(twolayer):
    w = words.words_for(twolayer)
    texts = {m.id: (m.explanation + " " + m.fix).format_map(w) for m in INIT_RECORDS + OUTPUT_RECORDS}
    assert "biases exactly zero" in texts["init-biases-not-zero"] and "np.zeros((N_H,))" in texts["init-biases-not-zero"]
    assert "W1, W2 (the biases b1, b2 start exactly zero)" in texts["init-constant"]
    assert "W1 with shape (4, N_H)" in texts["transposed-weights"]


# -- gradient feedback in the student's names ---------------------------------------------------

def test_gradient_feedback_names_blocks_as_the_student_does(make_ctx, twolayer):
    from grader.checks import gradient
    from grader.checks.base import Verdict

    ctx = make_ctx("grad-W1", twolayer)
    table = {"columns": ["block"], "rows": [["W0"], ["b1"]]}
    v = gradient.in_student_names(ctx, Verdict(0.0, "W1 and b1 are right; check W0 (not dW0, a1 or e2).",
                                               evidence={"blocks": table}))
    assert v.feedback == "W2 and b2 are right; check W1 (not dW0, a1 or e2)."
    assert v.evidence["blocks"]["rows"] == [["W1"], ["b2"]]
    assert gradient.student_shape(ctx, "W0", (16, 4)) == (4, 16) and gradient.student_shape(ctx, "b0", (16, 1)) == (16,)


def test_gradient_feedback_keeps_canonical_names_for_the_handout(make_ctx):
    from grader.checks import gradient
    from grader.checks.base import Verdict

    v = gradient.in_student_names(make_ctx("grad-W0"), Verdict(0.0, "W1 and b1 are right; check W0."))
    assert v.feedback == "W1 and b1 are right; check W0."
