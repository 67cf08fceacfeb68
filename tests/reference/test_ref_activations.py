"""Activations: values, kink conventions, stability at |z| = 1e4, derivatives."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from reference.activations import ACTIVATION_NAMES, Activation, get_activation

EXTREME = np.array([-1e4, -1e3, -800.0, -700.0, -50.0, -1.0, 0.0, 1.0, 50.0, 700.0, 800.0, 1e3, 1e4])


def test_names() -> None:
    assert set(ACTIVATION_NAMES) == {"silu", "softplus", "relu", "leaky_relu", "sigmoid", "tanh"}


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="silu.*softplus"):
        get_activation("swish")


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_stable_for_huge_inputs(name: str) -> None:
    h = get_activation(name)
    with np.errstate(all="raise"):
        value, slope = h.value(EXTREME), h.derivative(EXTREME)
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(slope))


def test_limits() -> None:
    big = np.array([-1e4, 1e4])
    assert np.allclose(get_activation("sigmoid").value(big), [0.0, 1.0], atol=1e-300)
    assert np.allclose(get_activation("silu").value(big), [0.0, 1e4], atol=1e-290)
    assert np.allclose(get_activation("softplus").value(big), [0.0, 1e4], atol=1e-300)
    assert np.allclose(get_activation("tanh").value(big), [-1.0, 1.0])
    assert np.allclose(get_activation("silu").derivative(big), [0.0, 1.0], atol=1e-290)


def test_known_values() -> None:
    z = np.linspace(-30, 30, 601)
    sig = 1.0 / (1.0 + np.exp(-z))
    assert np.allclose(get_activation("sigmoid").value(z), sig, rtol=1e-14, atol=0)
    assert np.allclose(get_activation("silu").value(z), z * sig, rtol=1e-13, atol=1e-300)
    assert np.allclose(get_activation("softplus").value(z), np.logaddexp(0, z), rtol=1e-14, atol=0)
    assert np.allclose(get_activation("tanh").value(z), np.tanh(z))
    assert get_activation("softplus").value(np.array(0.0)) == pytest.approx(np.log(2.0))


def test_kink_conventions() -> None:
    zero = np.array([0.0])
    assert get_activation("relu").derivative(zero)[0] == 0.0
    assert get_activation("leaky_relu", alpha=0.2).derivative(zero)[0] == 0.2
    assert get_activation("leaky_relu", alpha=0.2).value(np.array([-2.0]))[0] == pytest.approx(-0.4)
    assert get_activation("relu").value(np.array([-2.0, 3.0])).tolist() == [0.0, 3.0]


def test_activation_is_a_value_object() -> None:
    assert get_activation("tanh") == Activation("tanh", 0.01)
    assert len({get_activation("relu"), get_activation("relu")}) == 1


@settings(deadline=None, max_examples=60)
@given(
    name=st.sampled_from(ACTIVATION_NAMES),
    z=st.floats(-30, 30),
    alpha=st.floats(0.0, 0.5),
)
def test_derivative_matches_central_difference(name: str, z: float, alpha: float) -> None:
    if name in ("relu", "leaky_relu"):
        assume(abs(z) > 1e-3)
    h, step = get_activation(name, alpha), 1e-6
    numeric = (h.value(np.array(z + step)) - h.value(np.array(z - step))) / (2 * step)
    assert h.derivative(np.array(z)) == pytest.approx(numeric, rel=1e-6, abs=1e-8)
