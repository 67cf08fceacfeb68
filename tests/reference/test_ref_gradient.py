"""Backprop against central finite differences, for every variant the
rubrics can express, and a directional check at CIFAR size."""

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from reference.activations import ACTIVATION_NAMES
from reference.network import (
    Architecture,
    flatten,
    forward_cache,
    gradient,
    init_params,
    loss,
    param_shapes,
    unflatten,
)

KINKED = ("relu", "leaky_relu")


def finite_difference(arch: Architecture, theta: dict, x: np.ndarray, y: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences of ``loss`` along every coordinate of flatten(theta)."""
    shapes = param_shapes(arch)
    vector = flatten(theta)
    grad = np.empty_like(vector)
    for j in range(vector.size):
        plus, minus = vector.copy(), vector.copy()
        plus[j] += h
        minus[j] -= h
        grad[j] = (loss(arch, unflatten(plus, shapes), x, y) - loss(arch, unflatten(minus, shapes), x, y)) / (2 * h)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-12))


@st.composite
def problems(draw):
    """A small random network, data set and parameter vector."""
    hidden = draw(st.lists(st.integers(1, 5), min_size=1, max_size=3))
    sizes = (draw(st.integers(1, 4)), *hidden, draw(st.integers(2, 4)))
    layers = len(sizes) - 1
    regularized = draw(st.booleans())
    coeffs = st.lists(st.floats(0.0, 0.1), min_size=layers, max_size=layers)
    arch = Architecture(
        sizes=sizes,
        activation=draw(st.sampled_from(ACTIVATION_NAMES)),
        alpha=draw(st.floats(0.01, 0.3)),
        loss=draw(st.sampled_from(("cross_entropy", "squared_error"))),
        l1=tuple(draw(coeffs)) if regularized else (),
        l2=tuple(draw(coeffs)) if regularized else (),
    )
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    theta = init_params(arch, rng, std=0.7)
    # keep every weight >= 1e-3 away from the L1 kink at 0
    theta = {k: np.where(v >= 0, v + 1e-3, v - 1e-3) if k.startswith("W") else v for k, v in theta.items()}
    samples = draw(st.integers(1, 6))
    x = rng.normal(size=(samples, sizes[0]))
    y = rng.integers(0, sizes[-1], size=samples)
    return arch, theta, x, y


@settings(deadline=None, max_examples=40)
@given(problems())
def test_gradient_matches_finite_differences(problem) -> None:
    arch, theta, x, y = problem
    if arch.activation in KINKED:
        hidden_z = forward_cache(arch, theta, x).pre_activations[:-1]
        assume(all(np.min(np.abs(z)) > 1e-3 for z in hidden_z))
    analytic = gradient(arch, theta, x, y)
    assert list(analytic) == list(theta)
    assert all(analytic[k].shape == theta[k].shape for k in theta)
    assert relative_error(flatten(analytic), finite_difference(arch, theta, x, y)) < 1e-6


def test_gradient_of_the_handout_network_on_penguin_sized_data() -> None:
    arch = Architecture((4, 16, 3))
    rng = np.random.default_rng(1)
    theta = init_params(arch, rng)
    x, y = rng.normal(size=(30, 4)), rng.integers(0, 3, size=30)
    assert relative_error(flatten(gradient(arch, theta, x, y)), finite_difference(arch, theta, x, y)) < 1e-6


def test_penalty_gradient_uses_sign_with_sign_zero_zero() -> None:
    arch = Architecture((2, 2), l1=(0.5,), l2=(0.0,))
    theta = {"W0": np.zeros((2, 2)), "b0": np.zeros((2, 1))}
    x, y = np.zeros((1, 2)), np.array([0])
    # with x = 0 the data gradient of W0 vanishes; sign(0) = 0 leaves nothing
    assert np.array_equal(gradient(arch, theta, x, y)["W0"], np.zeros((2, 2)))


def test_cifar_sized_directional_derivative() -> None:
    """1.7M parameters: check one random direction instead of every coordinate."""
    arch = Architecture((3072, 512, 256, 10), l1=(1e-4, 1e-4, 1e-4), l2=(1e-3, 1e-3, 1e-3))
    rng = np.random.default_rng(2)
    theta = init_params(arch, rng)
    x, y = rng.normal(size=(3, 3072)), rng.integers(0, 10, size=3)
    direction = rng.normal(size=flatten(theta).size)
    direction /= np.linalg.norm(direction)
    shapes, vector, h = param_shapes(arch), flatten(theta), 1e-5
    numeric = (loss(arch, unflatten(vector + h * direction, shapes), x, y)
               - loss(arch, unflatten(vector - h * direction, shapes), x, y)) / (2 * h)
    analytic = flatten(gradient(arch, theta, x, y)) @ direction
    assert abs(numeric - analytic) <= 1e-6 * max(abs(analytic), 1e-3)
