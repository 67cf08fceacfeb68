"""Architecture, parameter layout, forward pass, losses and the MLP wrapper."""

import numpy as np
import pytest

from reference.network import (
    MLP,
    Architecture,
    accuracy,
    data_loss,
    flatten,
    forward,
    gradient,
    init_params,
    log_probabilities,
    loss,
    param_count,
    param_shapes,
    penalty,
    unflatten,
)

HANDOUT = Architecture((4, 16, 3))
OVERFLOW_ERRORS = {"over": "raise", "invalid": "raise", "divide": "raise"}


def sample(arch: Architecture, samples: int = 7, seed: int = 0, std: float = 0.5):
    rng = np.random.default_rng(seed)
    theta = init_params(arch, rng, std=std)
    return theta, rng.normal(size=(samples, arch.sizes[0])), rng.integers(0, arch.sizes[-1], size=samples)


# --- architecture and parameters ----------------------------------------------


def test_param_count() -> None:
    assert param_count(HANDOUT) == 131
    assert param_count(Architecture((3072, 512, 256, 10))) == 1_707_274
    for hidden in (1, 5, 32):
        assert param_count(Architecture((4, hidden, 3))) == 8 * hidden + 3


def test_param_shapes_in_canonical_order() -> None:
    shapes = param_shapes(Architecture((5, 7, 6, 2)))
    assert list(shapes) == ["W0", "b0", "W1", "b1", "W2", "b2"]
    assert shapes == {"W0": (7, 5), "b0": (7, 1), "W1": (6, 7), "b1": (6, 1), "W2": (2, 6), "b2": (2, 1)}


def test_architecture_normalizes_and_validates() -> None:
    arch = Architecture([4, 16, 3], l1=[0.1, 0.2], l2=[0, 0])
    assert arch.sizes == (4, 16, 3) and arch.l1 == (0.1, 0.2) and arch.num_layers == 2
    assert hash(arch) == hash(Architecture((4, 16, 3), l1=(0.1, 0.2), l2=(0.0, 0.0)))
    assert HANDOUT.l1_coefficients == (0.0, 0.0)
    for bad in (
        dict(sizes=(4,)),
        dict(sizes=(4, 0, 3)),
        dict(sizes=(4.5, 3)),
        dict(sizes=(4, 3), activation="swish"),
        dict(sizes=(4, 3), loss="hinge"),
        dict(sizes=(4, 16, 3), l1=(0.1,)),
        dict(sizes=(4, 16, 3), l2=(0.1, -1.0)),
    ):
        with pytest.raises((ValueError, TypeError)):
            Architecture(**bad)


def test_init_params_shapes_statistics_and_determinism() -> None:
    arch = Architecture((64, 64, 10))
    theta = init_params(arch, 3)
    assert {k: v.shape for k, v in theta.items()} == param_shapes(arch)
    assert all(v.dtype == np.float64 for v in theta.values())
    values = flatten(theta)
    assert abs(values.mean()) < 4 * 0.05 / np.sqrt(values.size)
    assert values.std() == pytest.approx(0.05, rel=0.05)
    assert np.array_equal(flatten(init_params(arch, 3)), values)
    assert np.array_equal(flatten(init_params(arch, np.random.default_rng(3))), values)
    assert not np.array_equal(flatten(init_params(arch, 4)), values)
    shifted = flatten(init_params(arch, 3, mean=1.0, std=0.0))
    assert np.all(shifted == 1.0)


def test_flatten_unflatten_round_trip_and_order() -> None:
    arch = Architecture((3, 4, 2))
    theta = init_params(arch, 0)
    vector = flatten(theta)
    assert vector.shape == (param_count(arch),)
    assert np.array_equal(vector[:12], theta["W0"].ravel())
    shuffled = {k: theta[k] for k in ("b1", "W1", "b0", "W0")}
    assert np.array_equal(flatten(shuffled), vector)
    back = unflatten(vector, param_shapes(arch))
    assert list(back) == list(theta) and all(np.array_equal(back[k], theta[k]) for k in theta)
    with pytest.raises(ValueError):
        unflatten(vector[:-1], param_shapes(arch))
    with pytest.raises(ValueError):
        flatten({"w0": theta["W0"]})


def test_layout_mistakes_are_rejected() -> None:
    theta, x, y = sample(HANDOUT)
    with pytest.raises(ValueError, match="W0"):
        forward(HANDOUT, {**theta, "W0": theta["W0"].T}, x)
    with pytest.raises(ValueError, match="b1"):
        forward(HANDOUT, {k: v for k, v in theta.items() if k != "b1"}, x)
    with pytest.raises(ValueError):
        forward(HANDOUT, theta, x.T)
    with pytest.raises(ValueError):
        loss(HANDOUT, theta, x, y + 3)


# --- forward --------------------------------------------------------------------


def test_forward_is_a_column_stochastic_softmax() -> None:
    arch = Architecture((4, 6, 5, 3), activation="tanh")
    theta, x, _ = sample(arch)
    p = forward(arch, theta, x)
    assert p.shape == (3, 7)
    assert np.all(p > 0) and np.allclose(p.sum(axis=0), 1.0, rtol=0, atol=1e-15)
    # direct evaluation of the formula for moderate inputs
    a = np.tanh(theta["W0"] @ x.T + theta["b0"])
    a = np.tanh(theta["W1"] @ a + theta["b1"])
    z = theta["W2"] @ a + theta["b2"]
    assert np.allclose(p, np.exp(z) / np.exp(z).sum(axis=0), rtol=1e-13)


@pytest.mark.parametrize("activation", ["silu", "relu", "softplus"])
def test_forward_and_loss_finite_for_huge_inputs(activation: str) -> None:
    arch = Architecture((4, 16, 3), activation=activation)
    theta, x, y = sample(arch, std=1.0)
    with np.errstate(**OVERFLOW_ERRORS):
        p = forward(arch, theta, 1000 * x)
        value = loss(arch, theta, 1000 * x, y)
        grads = gradient(arch, theta, 1000 * x, y)
    assert np.all(np.isfinite(p)) and np.allclose(p.sum(axis=0), 1.0)
    assert np.isfinite(value) and value > 100  # confidently wrong somewhere
    assert all(np.all(np.isfinite(g)) for g in grads.values())


def test_log_probabilities_are_finite_where_probabilities_underflow() -> None:
    arch = Architecture((1, 2), activation="relu")
    theta = {"W0": np.array([[1.0], [-1.0]]), "b0": np.zeros((2, 1))}
    with np.errstate(**OVERFLOW_ERRORS):
        log_p = log_probabilities(arch, theta, np.array([[1e4]]))
    assert log_p[:, 0] == pytest.approx([0.0, -2e4])


# --- losses ---------------------------------------------------------------------


def test_cross_entropy_is_mean_negative_log_probability() -> None:
    theta, x, y = sample(HANDOUT)
    p = forward(HANDOUT, theta, x)
    expected = -np.mean(np.log(p[y, np.arange(len(y))]))
    assert loss(HANDOUT, theta, x, y) == pytest.approx(expected, rel=1e-14)
    assert data_loss(HANDOUT, theta, x, y) == loss(HANDOUT, theta, x, y)


def test_squared_error_on_one_hot_targets() -> None:
    arch = Architecture((4, 16, 3), loss="squared_error")
    theta, x, y = sample(arch)
    p = forward(arch, theta, x)
    expected = np.mean([0.5 * np.sum((np.eye(3)[label] - p[:, s]) ** 2) for s, label in enumerate(y)])
    assert loss(arch, theta, x, y) == pytest.approx(expected, rel=1e-14)


def test_elastic_net_penalty_on_weights_only_without_a_half() -> None:
    arch = Architecture((4, 5, 3), l1=(0.1, 0.2), l2=(0.3, 0.4))
    theta, x, y = sample(arch)
    expected = sum(
        c1 * np.abs(theta[w]).sum() + c2 * np.sum(theta[w] ** 2)
        for w, c1, c2 in (("W0", 0.1, 0.3), ("W1", 0.2, 0.4))
    )
    assert penalty(arch, theta) == pytest.approx(expected, rel=1e-14)
    assert penalty(arch, {**theta, "b0": theta["b0"] + 10}) == pytest.approx(expected, rel=1e-14)
    assert loss(arch, theta, x, y) == pytest.approx(data_loss(arch, theta, x, y) + expected, rel=1e-14)
    assert penalty(HANDOUT, init_params(HANDOUT, 0)) == 0.0


def test_accuracy() -> None:
    theta, x, _ = sample(HANDOUT, samples=50)
    predicted = forward(HANDOUT, theta, x).argmax(axis=0)
    assert accuracy(HANDOUT, theta, x, predicted) == 1.0
    assert accuracy(HANDOUT, theta, x, (predicted + 1) % 3) == 0.0


def test_mlp_wraps_the_functions() -> None:
    _, x, y = sample(HANDOUT)
    net = MLP.initialized(HANDOUT, seed=5)
    theta = init_params(HANDOUT, 5)
    assert np.array_equal(net.forward(x), forward(HANDOUT, theta, x))
    assert np.array_equal(net(x), net.forward(x))
    assert net.loss(x, y) == loss(HANDOUT, theta, x, y)
    assert np.array_equal(flatten(net.gradient(x, y)), flatten(gradient(HANDOUT, theta, x, y)))
    assert net.accuracy(x, y) == accuracy(HANDOUT, theta, x, y)
    assert "131 parameters" in repr(net)
