"""Pin the template samples (examples/stateful, examples/twolayer,
examples/drift) against the reference maths, without the grader.

The grader cannot grade templates A and B yet (that needs instructor glue);
these tests make sure that each sample the glue will be tested against is what
it claims to be: the correct ones agree with ``reference.network`` /
``reference.optimizers`` everywhere, and each buggy one disagrees exactly
where its mistake predicts and agrees everywhere else.

Every check maps the sample's layout to the canonical one
(``template_math``) and compares, on a known theta and a penguins batch:

* ``forward``: probabilities (A, C) or scores up to a per-sample constant (B);
* ``loss``: the objective (B: mean CE + 0.5 reg sum W^2, which is the
  reference's l2 coefficient 0.5 reg per weight matrix, since its penalty is
  ``l2 sum W^2`` with gradient ``2 l2 W``);
* ``grad-<block>``: each canonical block of the gradient;
* ``gd-step``: one step equals ``theta - lr g`` with the sample's OWN gradient
  (as the grader's gd-step does: a gradient mistake is charged to the gradient
  checks only);
* ``nag-steps``: three steps equal the reference trajectory, again with the
  sample's own gradient: FISTA schedule for A (driven by ``train(x, y, 1)``
  three times, so the run must continue across calls), the stored look-ahead
  form for B (the course loop evaluates dw at the stored w), the handout's
  constant-momentum NAG for C;
* B only, ``momentum-steps``: ``sgd_momentum`` is heavy ball;
* A only, ``keys``: after GD and NAG iterations theta holds exactly W0, b0, W1, b1;
* ``init``: the initial draw has the template's distribution.

Training runs (``slow``) reach 90 % test accuracy on penguins for the correct
samples only.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

import numpy as np
import pytest

from reference import network as ref
from reference.data import penguins
from reference.network import Architecture
from reference.optimizers import trajectory

from template_math import (CANONICAL, Adapter, LayerListAdapter, OneBasedAdapter, Problem, StatefulAdapter,
                            TwoLayerAdapter, blocks_match, gradient_at_current_fista, load_sample, scores_match,
                            trajectory_match, within_sampling_error)

N_H = 8
REG = 0.1              # template B's reg in every comparison (so penalty mistakes show)
LR, MU, STEPS = 0.1, 0.9, 3

ARCH_A = Architecture((4, N_H, 3), activation="softplus")
ARCH_B = Architecture((4, N_H, 3), activation="relu", l2=(0.5 * REG, 0.5 * REG))
ARCH_C = Architecture((4, N_H, 3), activation="silu")

GRADIENT = [f"grad-{k}" for k in CANONICAL]

# sample -> (template, the checks its mistake must fail; every other check must pass)
SAMPLES: dict[str, tuple[str, set[str]]] = {
    "stateful/correct_loops.py": ("A", set()),
    "stateful/correct_vectorized.py": ("A", set()),
    "stateful/bug_gradient_at_current_point.py": ("A", {"nag-steps"}),
    "stateful/bug_key_case.py": ("A", {"gd-step", "keys"}),
    "stateful/bug_softmax_jacobian.py": ("A", set(GRADIENT)),
    "stateful/bug_missing_mean.py": ("A", set(GRADIENT)),
    "twolayer/correct_single_file.py": ("B", set()),
    "twolayer/correct_folder": ("B", set()),
    "twolayer/bug_reg_without_half.py": ("B", {"loss", "grad-W0", "grad-W1"}),
    "twolayer/bug_nesterov_heavy_ball.py": ("B", {"nag-steps"}),
    "twolayer/bug_sum_not_mean.py": ("B", {"loss", *GRADIENT}),
    "twolayer/bug_b1_before_relu_mask.py": ("B", {"grad-b0"}),
    "drift/forward_backward_one_based.py": ("C", set()),
    "drift/velocity_as_argument.py": ("C", set()),
}

CHECKS_COMMON = ["forward", "loss", *GRADIENT, "gd-step", "nag-steps", "init"]
CHECKS_EXTRA = {"A": ["keys"], "B": ["momentum-steps"], "C": []}


# --- problems and adapters -------------------------------------------------------


@lru_cache(maxsize=None)
def _data():
    return penguins()


def problem(template: str) -> Problem:
    """A known theta (std 0.5, so ReLU units are both on and off and the
    softmax is far from uniform) and 40 training penguins."""
    arch = {"A": ARCH_A, "B": ARCH_B, "C": ARCH_C}[template]
    data = _data()
    return Problem(arch, ref.init_params(arch, seed=11, std=0.5), data.x_train[:40], data.y_train[:40], LR, MU)


def adapter_for(relative: str) -> Adapter:
    template = SAMPLES[relative][0]
    module = load_sample(relative)
    if template == "A":
        return StatefulAdapter(module, ARCH_A)
    if template == "B":
        return TwoLayerAdapter(module, ARCH_B, REG)
    if "one_based" in relative:
        return OneBasedAdapter(module, ARCH_C)
    return LayerListAdapter(module, ARCH_C)


# --- the checks ------------------------------------------------------------------


def check_forward(a: Adapter, p: Problem) -> bool:
    out = a.outputs(p.theta, p.x)
    if a.output_kind == "scores":
        return scores_match(out, ref.forward_cache(p.arch, p.theta, p.x).pre_activations[-1])
    return out.shape == (3, p.x.shape[0]) and bool(np.allclose(out, ref.forward(p.arch, p.theta, p.x),
                                                               rtol=1e-7, atol=1e-12))


def check_loss(a: Adapter, p: Problem) -> bool:
    return bool(np.isclose(a.loss(p.theta, p.x, p.y), ref.loss(p.arch, p.theta, p.x, p.y), rtol=1e-9, atol=0))


def check_gradient_block(block: str) -> Callable[[Adapter, Problem], bool]:
    def check(a: Adapter, p: Problem) -> bool:
        return blocks_match(a.gradient(p.theta, p.x, p.y), ref.gradient(p.arch, p.theta, p.x, p.y))[block]
    return check


def check_gd_step(a: Adapter, p: Problem) -> bool:
    expected = trajectory("gd", a.grad_fn(p.x, p.y), p.theta, 1, p.lr).stored
    return trajectory_match(a.run("GD", p.theta, p.x, p.y, p.lr, p.momentum, 1), expected)


def check_nag_steps(a: Adapter, p: Problem) -> bool:
    expected = trajectory(a.nag_method, a.grad_fn(p.x, p.y), p.theta, STEPS, p.lr, p.momentum).stored
    return trajectory_match(a.run("NAG", p.theta, p.x, p.y, p.lr, p.momentum, STEPS), expected)


def check_momentum_steps(a: Adapter, p: Problem) -> bool:
    expected = trajectory("heavy_ball", a.grad_fn(p.x, p.y), p.theta, STEPS, p.lr, p.momentum).stored
    return trajectory_match(a.run("MOMENTUM", p.theta, p.x, p.y, p.lr, p.momentum, STEPS), expected)


def check_keys(a: Adapter, p: Problem) -> bool:
    assert isinstance(a, StatefulAdapter)
    return all(a.run_keys(method, p.theta, p.x, p.y, p.lr) == set(CANONICAL) for method in ("GD", "NAG"))


def check_init(a: Adapter, p: Problem) -> bool:
    """A: every entry N(MU, SIGMA^2) read from the module constants (changed
    here to tell them from a hard-coded 0.05); B: weights N(0, weight_scale^2),
    biases zero; C: every entry N(0, 0.05^2)."""
    state = np.random.get_state()
    np.random.seed(3)                 # the samples draw from the global generator
    try:
        return _init_looks_right(a)
    finally:
        np.random.set_state(state)


def _init_looks_right(a: Adapter) -> bool:
    if isinstance(a, StatefulAdapter):
        saved = a.module.MU, a.module.SIGMA
        try:
            a.module.MU, a.module.SIGMA = 1.0, 0.2
            theta = a.init_draw(400)
        finally:
            a.module.MU, a.module.SIGMA = saved
        return all(within_sampling_error(theta[k], 1.0, 0.2) for k in CANONICAL)
    if isinstance(a, TwoLayerAdapter):
        theta = a.init_draw(400, weight_scale=0.3)
        return (within_sampling_error(theta["W0"], 0.0, 0.3) and within_sampling_error(theta["W1"], 0.0, 0.3)
                and not theta["b0"].any() and not theta["b1"].any())
    theta = a.init_draw(400)
    return all(within_sampling_error(theta[k], 0.0, 0.05) for k in CANONICAL)


CHECKS: dict[str, Callable[[Adapter, Problem], bool]] = {
    "forward": check_forward,
    "loss": check_loss,
    **{f"grad-{k}": check_gradient_block(k) for k in CANONICAL},
    "gd-step": check_gd_step,
    "nag-steps": check_nag_steps,
    "momentum-steps": check_momentum_steps,
    "keys": check_keys,
    "init": check_init,
}

CASES = [(sample, check) for sample, (template, _) in SAMPLES.items()
         for check in CHECKS_COMMON + CHECKS_EXTRA[template]]


@pytest.mark.parametrize(("sample", "check"), CASES, ids=[f"{s}::{c}" for s, c in CASES])
def test_sample_check(sample: str, check: str) -> None:
    """Correct samples pass every check; a buggy one fails exactly its predicted checks."""
    template, failing = SAMPLES[sample]
    passed = CHECKS[check](adapter_for(sample), problem(template))
    if check in failing:
        assert not passed, f"{sample}: its mistake should make {check!r} fail, but it passed"
    else:
        assert passed, f"{sample}: {check!r} should pass"


def test_every_predicted_failure_is_a_check() -> None:
    """A typo in SAMPLES must not turn a prediction into a silent pass."""
    for sample, (template, failing) in SAMPLES.items():
        assert failing <= set(CHECKS_COMMON + CHECKS_EXTRA[template]), sample


# --- the mistakes are the named ones, not just "something differs" ------------------


def _ref_grad(p: Problem) -> dict[str, np.ndarray]:
    return ref.gradient(p.arch, p.theta, p.x, p.y)


def test_a_gradient_at_current_point_is_heavy_ball_with_fista() -> None:
    """Its NAG is theta_k + beta_k (theta_k - theta_{k-1}) - lr g(theta_k)."""
    a, p = adapter_for("stateful/bug_gradient_at_current_point.py"), problem("A")
    expected = gradient_at_current_fista(a.grad_fn(p.x, p.y), p.theta, STEPS, p.lr)
    assert trajectory_match(a.run("NAG", p.theta, p.x, p.y, p.lr, 0.0, STEPS), expected)


def test_a_key_case_leaves_w0_unchanged_under_gd() -> None:
    a, p = adapter_for("stateful/bug_key_case.py"), problem("A")
    start, after = a.run("GD", p.theta, p.x, p.y, p.lr, 0.0, 1)
    assert np.array_equal(after["W0"], start["W0"])
    assert a.run_keys("GD", p.theta, p.x, p.y, p.lr) == {*CANONICAL, "w0"}
    assert a.run_keys("NAG", p.theta, p.x, p.y, p.lr) == set(CANONICAL)


def test_a_missing_mean_is_s_times_the_gradient() -> None:
    a, p = adapter_for("stateful/bug_missing_mean.py"), problem("A")
    s, reference = p.x.shape[0], _ref_grad(p)
    student = a.gradient(p.theta, p.x, p.y)
    assert all(np.allclose(student[k], s * reference[k], rtol=1e-9, atol=1e-12) for k in CANONICAL)


def test_a_softmax_jacobian_uses_inner_product() -> None:
    """J = diag(p) - (p^T p) instead of diag(p) - p p^T: the output error
    becomes -onehot/S + ||p||^2 / (S p_y) in every entry of the column."""
    a, p = adapter_for("stateful/bug_softmax_jacobian.py"), problem("A")
    cache = ref.forward_cache(p.arch, p.theta, p.x)
    probs, s = np.exp(cache.log_probs), p.x.shape[0]
    cols = np.arange(s)
    onehot = np.zeros_like(probs)
    onehot[p.y, cols] = 1.0
    error = -onehot / s + (np.sum(probs**2, axis=0) / (s * probs[p.y, cols]))[None, :]
    student = a.gradient(p.theta, p.x, p.y)
    assert np.allclose(student["W1"], error @ cache.activations[1].T, rtol=1e-9, atol=1e-12)
    assert np.allclose(student["b1"], error.sum(axis=1, keepdims=True), rtol=1e-9, atol=1e-12)


def test_b_reg_without_half_doubles_the_penalty() -> None:
    a, p = adapter_for("twolayer/bug_reg_without_half.py"), problem("B")
    doubled = Architecture(p.arch.sizes, activation="relu", l2=(REG, REG))
    assert np.isclose(a.loss(p.theta, p.x, p.y), ref.loss(doubled, p.theta, p.x, p.y), rtol=1e-9)
    assert all(blocks_match(a.gradient(p.theta, p.x, p.y), ref.gradient(doubled, p.theta, p.x, p.y)).values())
    assert check_loss(TwoLayerAdapter(a.module, ARCH_B, 0.0), Problem(
        Architecture(p.arch.sizes, activation="relu"), p.theta, p.x, p.y, p.lr, p.momentum)), \
        "with reg = 0 the mistake is invisible"


def test_b_nesterov_heavy_ball_is_momentum() -> None:
    a, p = adapter_for("twolayer/bug_nesterov_heavy_ball.py"), problem("B")
    expected = trajectory("heavy_ball", a.grad_fn(p.x, p.y), p.theta, STEPS, p.lr, p.momentum).stored
    assert trajectory_match(a.run("NAG", p.theta, p.x, p.y, p.lr, p.momentum, STEPS), expected)


def test_b_sum_not_mean_scales_the_data_term() -> None:
    a, p = adapter_for("twolayer/bug_sum_not_mean.py"), problem("B")
    n, data = p.x.shape[0], p.arch.without_penalty()
    expected = n * ref.data_loss(data, p.theta, p.x, p.y) + ref.penalty(p.arch, p.theta)
    assert np.isclose(a.loss(p.theta, p.x, p.y), expected, rtol=1e-9)
    student, data_grad = a.gradient(p.theta, p.x, p.y), ref.gradient(data, p.theta, p.x, p.y)
    assert np.allclose(student["b1"], n * data_grad["b1"], rtol=1e-9, atol=1e-12)


def test_b_b1_before_mask_sums_the_unmasked_error() -> None:
    a, p = adapter_for("twolayer/bug_b1_before_relu_mask.py"), problem("B")
    cache = ref.forward_cache(p.arch, p.theta, p.x)
    probs, s = np.exp(cache.log_probs), p.x.shape[0]
    error = probs.copy()
    error[p.y, np.arange(s)] -= 1.0
    unmasked = p.theta["W1"].T @ (error / s)
    assert np.allclose(a.gradient(p.theta, p.x, p.y)["b0"], unmasked.sum(axis=1, keepdims=True), rtol=1e-9)


# --- brief training runs (correct samples) -------------------------------------------

CORRECT = [s for s, (_, failing) in SAMPLES.items() if not failing]


def _train_accuracy(relative: str, method: str) -> float:
    """Train from a fixed start on the penguins training split; test accuracy.

    A: N(0, 0.05^2) start through set_theta, ``train(x, y, 300)`` at lr 0.1.
    B: the course loop, 16 hidden units, weights N(0, 0.1^2) and zero biases,
    reg 1e-3, lr 0.1, momentum 0.9, 200 full-batch iterations (sgd or nesterov).
    C: N(0, 0.05^2) start, 300 iterations at lr 0.1, momentum 0.9.
    """
    data = _data()
    template = SAMPLES[relative][0]
    module = load_sample(relative)
    if template == "A":
        a = StatefulAdapter(module, ARCH_A)
        net = a.new(ref.init_params(ARCH_A, seed=0), method, 0.1)
        net.train(data.x_train, data.y_train, 300)
        return float(np.mean(np.asarray(net.feed_forward(data.x_test, training=False)) == data.y_test))
    if template == "B":
        arch = Architecture((4, 16, 3), activation="relu", l2=(5e-4, 5e-4))
        theta = ref.init_params(arch, seed=0, std=0.1)
        theta["b0"][:] = 0.0
        theta["b1"][:] = 0.0
        b = TwoLayerAdapter(module, arch, 1e-3)
        final = b.run(method, theta, data.x_train, data.y_train, 0.1, 0.9, 200)[-1]
        return ref.accuracy(arch, final, data.x_test, data.y_test)
    c = adapter_for(relative)
    final = c.run(method, ref.init_params(ARCH_C, seed=0), data.x_train, data.y_train, 0.1, 0.9, 300)[-1]
    return ref.accuracy(ARCH_C, final, data.x_test, data.y_test)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["GD", "NAG"])
@pytest.mark.parametrize("sample", CORRECT)
def test_correct_sample_trains(sample: str, method: str) -> None:
    assert _train_accuracy(sample, method) >= 0.9


# sample -> {method: does the brief run reach 90 %?}, measured from the fixed
# start above; a run that raises (log of an underflowed probability) counts as not.
BUGGY_TRAINING: dict[str, dict[str, bool]] = {
    "stateful/bug_gradient_at_current_point.py": {"GD": True, "NAG": True},
    "stateful/bug_key_case.py": {"GD": False, "NAG": True},
    "stateful/bug_softmax_jacobian.py": {"GD": False, "NAG": False},
    "stateful/bug_missing_mean.py": {"GD": False, "NAG": False},
    "twolayer/bug_reg_without_half.py": {"GD": True, "NAG": True},
    "twolayer/bug_nesterov_heavy_ball.py": {"GD": True, "NAG": True},
    "twolayer/bug_sum_not_mean.py": {"GD": False, "NAG": False},
    "twolayer/bug_b1_before_relu_mask.py": {"GD": True, "NAG": True},
}
BUGGY_CASES = [(s, m) for s, outcome in BUGGY_TRAINING.items() for m in outcome]


@pytest.mark.slow
@pytest.mark.parametrize(("sample", "method"), BUGGY_CASES, ids=[f"{s}-{m}" for s, m in BUGGY_CASES])
def test_buggy_sample_training_outcome(sample: str, method: str) -> None:
    """What the grader's training criterion should see: a mistake in the
    gradient scale, the softmax Jacobian or the GD update derails the brief
    run; a wrong NAG form, a wrong penalty factor or one wrong bias block do not."""
    assert set(BUGGY_TRAINING) == {s for s, (_, failing) in SAMPLES.items() if failing}
    try:
        with np.errstate(all="ignore"):
            reached = _train_accuracy(sample, method) >= 0.9
    except (ValueError, FloatingPointError, OverflowError):
        reached = False
    assert reached is BUGGY_TRAINING[sample][method]
