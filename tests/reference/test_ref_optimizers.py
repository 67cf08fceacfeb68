"""Optimizer trajectories: GD, the equivalent NAG forms, FISTA, heavy ball."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference.data import penguins
from reference.network import Architecture, flatten, gradient, init_params, loss
from reference.optimizers import (
    METHODS,
    fista_momentums,
    nag_iterates_from_stored,
    nag_stored_from_iterates,
    trajectory,
)

THETA0 = {"W0": np.array([[1.0, -2.0, 0.5], [0.3, 0.0, -1.0]]), "b0": np.array([[0.2], [-0.4]])}


def quadratic_gradient(seed: int = 0):
    """g(theta) = A theta - c on the flattened parameters, A symmetric positive definite."""
    rng = np.random.default_rng(seed)
    m = rng.normal(size=(8, 8))
    a, c = m @ m.T / 8 + np.eye(8), rng.normal(size=8)

    def grad(theta):
        g = a @ np.concatenate([theta["W0"].ravel(), theta["b0"].ravel()]) - c
        return {"W0": g[:6].reshape(2, 3), "b0": g[6:].reshape(2, 1)}

    return grad


def network_gradient():
    """The handout's network on the first 40 penguins."""
    data = penguins()
    arch = Architecture((4, 5, 3))
    x, y = data.x_train[:40], data.y_train[:40]
    return (lambda theta: gradient(arch, theta, x, y)), init_params(arch, 0, std=0.5)


PROBLEMS = {"quadratic": (quadratic_gradient(), THETA0), "network": network_gradient()}


def same(a: list[dict], b: list[dict], rtol: float = 1e-12, atol: float = 1e-13) -> bool:
    return len(a) == len(b) and all(np.allclose(flatten(p), flatten(q), rtol=rtol, atol=atol) for p, q in zip(a, b))


def test_methods_and_unknown_method() -> None:
    assert set(METHODS) == {"gd", "nag", "nag_velocity", "nag_stored", "nag_fista", "heavy_ball"}
    with pytest.raises(ValueError, match="nag_velocity"):
        trajectory("adam", quadratic_gradient(), THETA0, 3, 0.1)


@pytest.mark.parametrize("method", METHODS)
def test_lengths_and_no_mutation(method: str) -> None:
    before = flatten(THETA0).copy()
    run = trajectory(method, quadratic_gradient(), THETA0, 5, 0.1)
    assert (len(run.iterates), len(run.lookaheads), len(run.stored)) == (6, 5, 6)
    assert np.array_equal(flatten(run.iterates[0]), before)
    assert np.array_equal(flatten(THETA0), before)
    assert run.iterates[0]["W0"] is not THETA0["W0"]
    empty = trajectory(method, quadratic_gradient(), THETA0, 0, 0.1)
    assert len(empty.iterates) == 1 and empty.lookaheads == []


def test_gd() -> None:
    grad = quadratic_gradient()
    run = trajectory("gd", grad, THETA0, 4, 0.1)
    for k in range(4):
        theta = run.iterates[k]
        expected = {key: theta[key] - 0.1 * grad(theta)[key] for key in theta}
        assert np.array_equal(flatten(run.iterates[k + 1]), flatten(expected))
    assert same(run.lookaheads, run.iterates[:-1], rtol=0, atol=0)
    assert same(run.stored, run.iterates, rtol=0, atol=0)


def test_nag_follows_the_handout_formula() -> None:
    grad, lr, mu = quadratic_gradient(), 0.1, 0.9
    run = trajectory("nag", grad, THETA0, 3, lr, mu)
    t0, t1 = flatten(run.iterates[0]), flatten(run.iterates[1])
    y1 = t1 + mu * (t1 - t0)
    assert np.allclose(flatten(run.lookaheads[1]), y1, rtol=1e-15)
    g = flatten(grad({"W0": y1[:6].reshape(2, 3), "b0": y1[6:].reshape(2, 1)}))
    assert np.allclose(flatten(run.iterates[2]), y1 - lr * g, rtol=1e-15)
    assert same(run.stored, run.iterates, rtol=0, atol=0)


@pytest.mark.parametrize("problem", PROBLEMS)
@settings(deadline=None, max_examples=10)
@given(mu=st.floats(0.0, 0.99), lr=st.floats(0.001, 0.2))
def test_velocity_form_equals_theta_form(problem: str, mu: float, lr: float) -> None:
    grad, theta0 = PROBLEMS[problem]
    nag = trajectory("nag", grad, theta0, 12, lr, mu)
    velocity = trajectory("nag_velocity", grad, theta0, 12, lr, mu)
    assert same(velocity.iterates, nag.iterates)
    assert same(velocity.lookaheads, nag.lookaheads)


@pytest.mark.parametrize("problem", PROBLEMS)
@settings(deadline=None, max_examples=10)
@given(mu=st.floats(0.0, 0.99), lr=st.floats(0.001, 0.2))
def test_torch_stored_form_is_nag_under_the_change_of_variables(problem: str, mu: float, lr: float) -> None:
    grad, theta0 = PROBLEMS[problem]
    nag = trajectory("nag", grad, theta0, 12, lr, mu)
    torch = trajectory("nag_stored", grad, theta0, 12, lr, mu)
    # the theta-form iterates are recovered exactly (up to rounding)
    assert same(torch.iterates, nag.iterates)
    # p_k = y_k for every k >= 0: torch stores NAG's look-ahead points ...
    assert same(torch.stored[:-1], nag.lookaheads)
    assert same(torch.lookaheads, nag.lookaheads)
    # ... and the last one is the look-ahead of the next step
    last, previous = flatten(nag.iterates[-1]), flatten(nag.iterates[-2])
    assert np.allclose(flatten(torch.stored[-1]), last + mu * (last - previous), rtol=1e-12, atol=1e-13)
    # the two conversion helpers are mutually inverse and match the runs
    assert same(nag_stored_from_iterates(nag.iterates, mu), torch.stored)
    assert same(nag_iterates_from_stored(torch.stored, mu), nag.iterates)


def test_torch_first_step_uses_the_gradient_as_buffer() -> None:
    grad, lr, mu = quadratic_gradient(), 0.1, 0.9
    run = trajectory("nag_stored", grad, THETA0, 1, lr, mu)
    expected = flatten(THETA0) - lr * (1 + mu) * flatten(grad(THETA0))
    assert np.allclose(flatten(run.stored[1]), expected, rtol=1e-15)
    assert np.array_equal(flatten(run.stored[0]), flatten(THETA0))


@pytest.mark.parametrize("problem", PROBLEMS)
def test_heavy_ball_agrees_with_nag_at_step_one_only(problem: str) -> None:
    grad, theta0 = PROBLEMS[problem]
    nag = trajectory("nag", grad, theta0, 3, 0.1, 0.9)
    ball = trajectory("heavy_ball", grad, theta0, 3, 0.1, 0.9)
    gd = trajectory("gd", grad, theta0, 1, 0.1)
    assert np.array_equal(flatten(ball.iterates[1]), flatten(nag.iterates[1]))
    assert np.array_equal(flatten(ball.iterates[1]), flatten(gd.iterates[1]))
    gap = np.linalg.norm(flatten(ball.iterates[2]) - flatten(nag.iterates[2]))
    assert gap > 1e-3 * np.linalg.norm(flatten(nag.iterates[2]) - flatten(nag.iterates[1]))
    assert same(ball.lookaheads, ball.iterates[:-1], rtol=0, atol=0)


def test_heavy_ball_equals_nag_when_the_gradient_is_constant() -> None:
    constant = lambda theta: {k: np.ones_like(v) for k, v in theta.items()}  # noqa: E731
    nag = trajectory("nag", constant, THETA0, 5, 0.1, 0.9)
    ball = trajectory("heavy_ball", constant, THETA0, 5, 0.1, 0.9)
    assert same(ball.iterates, nag.iterates)


def test_fista_schedule() -> None:
    mus = fista_momentums(4)
    golden = (1 + math.sqrt(5)) / 2
    t2 = (1 + math.sqrt(1 + 4 * golden**2)) / 2
    assert mus[0] == 0.0
    assert mus[1] == pytest.approx((golden - 1) / t2, rel=1e-15)
    assert all(0 <= a < b < 1 for a, b in zip(mus, mus[1:]))


def test_fista_first_step_is_gd_and_later_steps_use_the_schedule() -> None:
    grad = quadratic_gradient()
    fista = trajectory("nag_fista", grad, THETA0, 3, 0.1, momentum=0.5)
    gd = trajectory("gd", grad, THETA0, 1, 0.1)
    assert np.array_equal(flatten(fista.iterates[1]), flatten(gd.iterates[1]))
    mu1 = fista_momentums(2)[1]
    t0, t1 = flatten(fista.iterates[0]), flatten(fista.iterates[1])
    assert np.allclose(flatten(fista.lookaheads[1]), t1 + mu1 * (t1 - t0), rtol=1e-15)


def test_training_on_penguins_lowers_the_loss_and_nag_beats_gd() -> None:
    data = penguins()
    arch = Architecture((4, 16, 3))
    theta0 = init_params(arch, 0)
    grad = lambda theta: gradient(arch, theta, data.x_train, data.y_train)  # noqa: E731
    start = loss(arch, theta0, data.x_train, data.y_train)
    final = {}
    for method in ("gd", "nag"):
        run = trajectory(method, grad, theta0, 100, 0.1, 0.9)
        final[method] = loss(arch, run.iterates[-1], data.x_train, data.y_train)
    assert final["gd"] < start and final["nag"] < final["gd"]
