"""Hidden-layer activation functions and their derivatives.

Every function here is vectorized float64 NumPy and numerically stable for
|z| up to 1e4 and beyond: no overflow, no invalid operation, and not even an
underflow signal, so callers may run under ``np.errstate(all="raise")``.

The trick is the same everywhere: only ever exponentiate a non-positive
number, and clip it at ``-EXP_FLOOR`` first. ``exp(-700)`` is about 1e-304, a
normal float64, so the tails saturate at a value that is indistinguishable
from the true one (which is even smaller) for any practical purpose, instead
of underflowing.

Conventions at the kinks (derivatives are taken w.r.t. the pre-activation z):

* ``relu``: derivative at z = 0 is 0 (the common ``z > 0`` mask);
* ``leaky_relu``: derivative at z = 0 is ``alpha`` (same mask, other branch).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .architecture import ACTIVATION_NAMES

#: Largest magnitude ever passed to ``np.exp`` (see the module docstring).
EXP_FLOOR = 700.0

Fn = Callable[[np.ndarray, float], np.ndarray]


def _exp_neg_abs(z: np.ndarray) -> np.ndarray:
    """exp(-|z|) without underflow: the argument is clipped at -EXP_FLOOR."""
    return np.exp(-np.minimum(np.abs(z), EXP_FLOOR))


def _sigmoid(z: np.ndarray, alpha: float = 0.0) -> np.ndarray:
    """Logistic function; exp is only taken of -|z| so it never overflows."""
    e = _exp_neg_abs(z)
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _sigmoid_prime(z: np.ndarray, alpha: float = 0.0) -> np.ndarray:
    """s(1-s) written as e/(1+e)^2 with e = exp(-|z|): symmetric and stable."""
    e = _exp_neg_abs(z)
    return e / (1.0 + e) ** 2


def _silu(z: np.ndarray, alpha: float = 0.0) -> np.ndarray:
    return z * _sigmoid(z)


def _silu_prime(z: np.ndarray, alpha: float = 0.0) -> np.ndarray:
    """d/dz z s(z) = s + z s (1 - s) = s (1 + z (1 - s))."""
    s = _sigmoid(z)
    return s * (1.0 + z * (1.0 - s))


def _softplus(z: np.ndarray, alpha: float = 0.0) -> np.ndarray:
    """ln(1 + e^z) = max(z, 0) + ln(1 + e^{-|z|}).

    This is what ``np.logaddexp(0, z)`` computes, but ``logaddexp`` raises an
    underflow signal for z << 0; the clipped exponential does not.
    """
    return np.maximum(z, 0.0) + np.log1p(_exp_neg_abs(z))


def _relu(z: np.ndarray, alpha: float = 0.0) -> np.ndarray:
    return np.where(z > 0, z, 0.0)


def _relu_prime(z: np.ndarray, alpha: float = 0.0) -> np.ndarray:
    """1 for z > 0, else 0 (so 0 at the kink)."""
    return np.where(z > 0, 1.0, 0.0)


def _leaky_relu(z: np.ndarray, alpha: float) -> np.ndarray:
    return np.where(z > 0, z, alpha * z)


def _leaky_relu_prime(z: np.ndarray, alpha: float) -> np.ndarray:
    """1 for z > 0, else alpha (so alpha at the kink)."""
    return np.where(z > 0, 1.0, alpha)


def _tanh(z: np.ndarray, alpha: float = 0.0) -> np.ndarray:
    return np.tanh(z)


def _tanh_prime(z: np.ndarray, alpha: float = 0.0) -> np.ndarray:
    """1 - t^2 factored as (1 - t)(1 + t): accurate near |t| = 1, and t^2
    never underflows for tiny z."""
    t = np.tanh(z)
    return (1.0 - t) * (1.0 + t)


_TABLE: dict[str, tuple[Fn, Fn]] = {
    "silu": (_silu, _silu_prime),
    "softplus": (_softplus, _sigmoid),
    "relu": (_relu, _relu_prime),
    "leaky_relu": (_leaky_relu, _leaky_relu_prime),
    "sigmoid": (_sigmoid, _sigmoid_prime),
    "tanh": (_tanh, _tanh_prime),
}

#: ``ACTIVATION_NAMES`` (every name ``get_activation`` accepts) is configuration and
#: lives in reference.architecture; tests/engine/test_shapes_source.py holds _TABLE to it.


@dataclass(frozen=True)
class Activation:
    """An activation h, identified by name (and slope ``alpha`` for leaky_relu).

    A plain value object so that rubrics, caches and reports can compare and
    print it; the functions themselves live in a module-level table.
    """

    name: str
    alpha: float = 0.01

    def __post_init__(self) -> None:
        if self.name not in _TABLE:
            raise ValueError(
                f"unknown activation {self.name!r}; known: {', '.join(ACTIVATION_NAMES)}"
            )

    def value(self, z: np.ndarray) -> np.ndarray:
        """h(z), elementwise."""
        return _TABLE[self.name][0](np.asarray(z, dtype=np.float64), self.alpha)

    def derivative(self, z: np.ndarray) -> np.ndarray:
        """h'(z), elementwise, at the pre-activation z (not at h(z))."""
        return _TABLE[self.name][1](np.asarray(z, dtype=np.float64), self.alpha)


def get_activation(name: str, alpha: float = 0.01) -> Activation:
    """Look an activation up by name; ValueError lists the known names."""
    return Activation(name=name, alpha=float(alpha))
