"""The forward and loss checks: every diagnosis on typed observations, and
odd student values through the real observe (never a grader-error).

Observations are built the way observe builds them (`forward.output` turns
a raw value into probabilities), from the reference's own numbers mutated
the way each mistake mutates them.  Each test fails if its diagnosis is
removed or mis-triggered.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

from grader.checks import forward, loss
from grader.checks.base import GRADER_ERROR
from grader.rubric import RubricError, load_rubric, parse_rubric
from grader.schema import BUNDLED
from student_fakes import ODD_VALUES, grade_criterion, judge_declared


# -- forward ----------------------------------------------------------------------------

def forward_obs(ctx: Any, probs_fn: Callable, big_fn: Callable | None = None, *,
                float32: bool = False) -> forward.Observation:
    """A typed observation from raw outputs (what feed_forward returns, any form)."""
    params = ctx.criterion.check_params()
    theta, x = forward.probe_inputs(ctx, params)
    classes = ctx.rubric.assignment.architecture.outputs
    ordinary = forward.output(probs_fn(theta, x), classes, x.shape[0])
    big = forward.output((big_fn or probs_fn)(theta, x * params.large_scale), classes, x.shape[0])
    return forward.Observation(tuple(params.hidden), theta, x, params.large_scale, float32, ordinary, big)


def judge_forward(ctx: Any, obs: forward.Observation):
    return judge_declared(ctx, obs)


def test_forward_correct(make_ctx):
    ctx = make_ctx("forward")
    v = judge_forward(ctx, forward_obs(ctx, lambda th, x: ctx.oracle.forward([6], th, x)))
    assert v.status == "passed" and v.diagnoses == []


def test_forward_samples_by_classes_layout_is_accepted(make_ctx):
    ctx = make_ctx("forward")
    v = judge_forward(ctx, forward_obs(ctx, lambda th, x: ctx.oracle.forward([6], th, x).T))
    assert v.status == "passed" and v.evidence["output layout"] == "(S, C)"


def naive_softmax(th: dict, x: np.ndarray) -> np.ndarray:
    """The right network with exp() not shifted: NaN on huge inputs."""
    with np.errstate(all="ignore"):
        z1 = th["W0"] @ x.T + th["b0"]
        a1 = z1 / (1 + np.exp(-z1))
        e = np.exp(th["W1"] @ a1 + th["b1"])
        return e / e.sum(axis=0)


def test_forward_softmax_overflow_loses_stability_points_only(make_ctx):
    ctx = make_ctx("forward")
    v = judge_forward(ctx, forward_obs(ctx, naive_softmax))
    assert v.status == "partial" and v.diagnoses == ["softmax-overflow"]
    assert v.fraction == pytest.approx(forward.VALUES_WEIGHT)


def test_forward_overflow_error_on_large_inputs_is_named(make_ctx):
    """math.exp raises OverflowError instead of returning inf."""
    ctx = make_ctx("forward")
    obs = forward_obs(ctx, lambda th, x: ctx.oracle.forward([6], th, x))
    obs = forward.Observation(obs.hidden, obs.theta, obs.x, obs.scale, False, obs.ordinary,
                              forward.Output(None, problem="an error: OverflowError: math range error"))
    v = judge_forward(ctx, obs)
    assert v.diagnoses == ["softmax-overflow"] and v.fraction == pytest.approx(forward.VALUES_WEIGHT)


def test_forward_other_error_on_large_inputs_is_not_called_overflow(make_ctx):
    ctx = make_ctx("forward")
    obs = forward_obs(ctx, lambda th, x: ctx.oracle.forward([6], th, x))
    obs = forward.Observation(obs.hidden, obs.theta, obs.x, obs.scale, False, obs.ordinary,
                              forward.Output(None, problem="an error: KeyError: 'W0'"))
    v = judge_forward(ctx, obs)
    assert v.diagnoses == [] and v.fraction == pytest.approx(forward.VALUES_WEIGHT)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "softplus"])
def test_forward_names_the_activation_used(make_ctx, activation):
    ctx = make_ctx("forward")
    v = judge_forward(ctx, forward_obs(ctx, lambda th, x: ctx.oracle.forward([6], th, x, activation=activation)))
    assert v.diagnoses == ["wrong-activation"] and activation in v.feedback
    # stability counts once the values are explained by a named mistake
    assert v.fraction == pytest.approx(forward.STABLE_WEIGHT)


def test_forward_bad_output_earns_nothing(make_ctx):
    ctx = make_ctx("forward")
    obs = forward_obs(ctx, lambda th, x: ctx.oracle.forward([6], th, x))
    obs = forward.Observation(obs.hidden, obs.theta, obs.x, obs.scale, False,
                              forward.Output(None, problem="a generator (<generator object>)"), obs.large)
    v = judge_forward(ctx, obs)
    # evidence before credit: stability on large inputs earns nothing without right values
    assert v.diagnoses == ["bad-output"] and v.fraction == 0.0 and "generator" in v.feedback


def test_forward_uniform_output_earns_nothing(make_ctx):
    """Uniform probabilities are finite and sum to 1 on any input: no credit."""
    ctx = make_ctx("forward")
    v = judge_forward(ctx, forward_obs(ctx, lambda th, x: np.full((3, x.shape[0]), 1 / 3)))
    assert v.fraction == 0.0 and v.diagnoses == [] and "earns nothing" in v.feedback


def test_forward_unnormalized_columns_are_pointed_out(make_ctx):
    ctx = make_ctx("forward")
    v = judge_forward(ctx, forward_obs(ctx, lambda th, x: 2 * ctx.oracle.forward([6], th, x)))
    assert v.fraction == 0.0 and "Columns should sum to 1" in v.feedback


def test_forward_float32_output_is_compared_at_float32_precision(silu_rubric):
    """Through observe: float32 probabilities are within float32's tolerance."""
    v = grade_criterion(silu_rubric, "forward", feed_forward=lambda p: np.asarray(p, dtype=np.float32))
    assert v.status == "passed", v.feedback


# -- loss ---------------------------------------------------------------------------------

def loss_obs(ctx: Any, value_fn: Callable, probs_fn: Callable | None = None) -> loss.Observation:
    """A typed observation: the loss value as returned, probabilities as feed_forward gives them."""
    params = ctx.criterion.check_params()
    theta, x, y = loss.probe_inputs(ctx, params)
    raw = value_fn(theta, x, y)
    probs_fn = probs_fn or (lambda th, x: ctx.oracle.forward(params.hidden, th, x))
    probs = forward.output(probs_fn(theta, x), ctx.rubric.assignment.architecture.outputs, x.shape[0]).probs
    return loss.Observation(tuple(params.hidden), theta, x, y, loss.loss_value(raw), loss.describe(raw), probs, False)


def judge_loss(ctx: Any, value_fn: Callable, probs_fn: Callable | None = None):
    return judge_declared(ctx, loss_obs(ctx, value_fn, probs_fn))


@pytest.fixture(scope="module")
def elastic_rubric():
    return load_rubric("leakyrelu-elasticnet")


def test_loss_correct(make_ctx):
    ctx = make_ctx("loss")
    v = judge_loss(ctx, lambda th, x, y: ctx.oracle.loss([6], th, x, y))
    assert v.status == "passed" and v.diagnoses == []


def test_loss_summed_over_samples_is_named(make_ctx):
    ctx = make_ctx("loss")
    v = judge_loss(ctx, lambda th, x, y: x.shape[0] * ctx.oracle.loss([6], th, x, y))
    assert v.diagnoses == ["loss-sum-not-mean"] and v.fraction == 0.0


@pytest.mark.parametrize("value, shown", [(float("nan"), "nan"), ("2.1", "'2.1'"), (None, "None")])
def test_loss_that_is_not_a_finite_number_is_bad_output(make_ctx, value, shown):
    ctx = make_ctx("loss")
    v = judge_loss(ctx, lambda th, x, y: value)
    assert v.diagnoses == ["bad-output"] and v.fraction == 0.0 and shown in v.feedback


def test_loss_of_own_wrong_activation_probabilities_passes_with_a_note(make_ctx):
    """A wrong forward pass is charged once, under forward."""
    ctx = make_ctx("loss")
    p = ctx.criterion.check_params()

    def relu_probs(th, x):
        return ctx.oracle.forward(p.hidden, th, x, activation="relu")

    v = judge_loss(ctx, lambda th, x, y: loss.loss_from_probabilities("cross_entropy", relu_probs(th, x), y),
                   relu_probs)
    assert v.status == "passed" and "charged under 'forward'" in v.feedback


def test_loss_of_unexplained_probabilities_earns_nothing(make_ctx):
    """A loss consistent with forged probabilities (uniform) is no evidence."""
    ctx = make_ctx("loss")

    def uniform(th, x):
        return np.full((3, x.shape[0]), 1 / 3)

    v = judge_loss(ctx, lambda th, x, y: loss.loss_from_probabilities("cross_entropy", uniform(th, x), y), uniform)
    assert v.fraction == 0.0 and v.diagnoses == []


@pytest.mark.parametrize("diagnosis", ["penalty-missing", "penalty-on-biases", "loss-sum-not-mean"])
def test_elastic_net_loss_mistakes_are_named(make_ctx, elastic_rubric, diagnosis):
    ctx = make_ctx("loss", elastic_rubric)
    p = ctx.criterion.check_params()
    arch = ctx.oracle.architecture(p.hidden)

    def mistaken(th, x, y):
        full, data = ctx.oracle.loss(p.hidden, th, x, y), ctx.oracle.data_loss(p.hidden, th, x, y)
        if diagnosis == "penalty-missing":
            return data
        if diagnosis == "loss-sum-not-mean":
            return x.shape[0] * data + (full - data)
        return full + sum(c1 * np.abs(th[f"b{i}"]).sum() + c2 * np.square(th[f"b{i}"]).sum()
                          for i, (c1, c2) in enumerate(zip(arch.l1_coefficients, arch.l2_coefficients)))

    v = judge_loss(ctx, mistaken)
    assert v.diagnoses == [diagnosis] and v.fraction == 0.0
    assert "data loss (no penalty)" in v.evidence
    assert judge_loss(ctx, lambda th, x, y: ctx.oracle.loss(p.hidden, th, x, y)).status == "passed"


# -- odd student values, through observe ------------------------------------------------

@pytest.mark.parametrize("name", list(ODD_VALUES))
def test_forward_odd_output_is_judged_never_a_grader_error(silu_rubric, name):
    v = grade_criterion(silu_rubric, "forward", feed_forward=lambda _: ODD_VALUES[name])
    assert v.status != GRADER_ERROR, v.notes
    assert v.fraction == 0.0 and v.diagnoses in (["bad-output"], ["softmax-overflow"])


@pytest.mark.parametrize("name", list(ODD_VALUES))
def test_loss_odd_value_is_bad_output_never_a_grader_error(silu_rubric, name):
    v = grade_criterion(silu_rubric, "loss", loss=lambda _: ODD_VALUES[name])
    assert v.status != GRADER_ERROR, v.notes
    assert v.fraction == 0.0 and v.diagnoses == ["bad-output"]


@pytest.mark.parametrize("name", list(ODD_VALUES))
def test_loss_with_odd_probabilities_is_still_judged_on_the_loss(silu_rubric, name):
    v = grade_criterion(silu_rubric, "loss", feed_forward=lambda _: ODD_VALUES[name])
    assert v.status == "passed", v.feedback


def test_float32_loss_scalar_is_read(silu_rubric):
    v = grade_criterion(silu_rubric, "loss", loss=lambda value: np.float32(value))
    assert v.status == "passed", v.feedback


class Scalar:
    """A 0-d tensor-like object NumPy can read (np.asarray works on it)."""

    def __init__(self, value: float) -> None:
        self.value = value

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.value, dtype=dtype)


def test_loss_as_an_object_numpy_can_read_is_read(silu_rubric):
    v = grade_criterion(silu_rubric, "loss", loss=Scalar)
    assert v.status == "passed", v.feedback


# -- probe depth follows the architecture (validate) ------------------------------------

@pytest.mark.parametrize("check", ["forward", "loss"])
def test_one_layer_probe_on_a_two_layer_rubric_is_refused(check):
    """cifar-mlp has two hidden layers: the 1-layer default [6] would vouch for blocks it never saw."""
    text = (BUNDLED / "cifar-mlp.yaml").read_text()
    line = f"    check: {check}\n    params: {{hidden: [512, 256]}}\n"
    assert line in text
    with pytest.raises(RubricError) as info:
        parse_rubric(text.replace(line, f"    check: {check}\n"), "cifar-mlp.yaml")
    message = str(info.value)
    assert "hidden [6] has 1 hidden layer(s), the architecture 2 ([512, 256])" in message
    assert "criteria." in message and ".params" in message
