"""The oracle multilayer perceptron: parameters, forward pass, loss, backprop.

Everything is a plain function of ``(arch, theta, x, y)`` so the grader can
evaluate the reference at *any* parameter vector, in particular at a
student's own theta. ``MLP`` at the bottom wraps the functions for reading.

Canonical layout (the one the handout uses)::

    theta = {"W0": (n1, n0), "b0": (n1, 1), "W1": (n2, n1), "b1": (n2, 1), ...}
    x: (S, n0) samples in rows      y: (S,) integer labels
    z_{i+1} = W_i a_i + b_i         a_0 = x^T, a_i = h(z_i) for hidden layers
    probabilities = softmax(z_L): (C, S), one column per sample
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from .architecture import LOSS_NAMES, Architecture, bias_name, block_order, param_count, param_shapes, weight_name

__all__ = ["LOSS_NAMES", "MLP", "Architecture", "ForwardCache", "Params", "accuracy", "data_loss", "flatten",
           "forward", "forward_cache", "gradient", "init_params", "log_probabilities", "loss", "param_count",
           "param_shapes", "penalty", "unflatten"]

Params = dict[str, np.ndarray]


# --- parameters (their names, shapes and count: reference.architecture) ------


def init_params(
    arch: Architecture,
    seed: int | np.random.Generator,
    mean: float = 0.0,
    std: float = 0.05,
) -> Params:
    """Every parameter i.i.d. N(mean, std^2), drawn in canonical key order.

    Biases are random too (as the handout asks), not zero.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return {key: rng.normal(mean, std, size=shape) for key, shape in param_shapes(arch).items()}


def flatten(theta: Params) -> np.ndarray:
    """One float64 vector: keys in canonical order, each array C-order raveled.

    The order comes from the key names, not from the dict's insertion order,
    so two dicts with the same content always flatten identically.
    """
    keys = sorted(theta, key=block_order)
    return np.concatenate([np.asarray(theta[k], dtype=np.float64).ravel() for k in keys])


def unflatten(vector: np.ndarray, shapes: dict[str, tuple[int, ...]]) -> Params:
    """Inverse of ``flatten``; ``shapes`` (e.g. ``param_shapes(arch)``) gives the order."""
    vector = np.asarray(vector, dtype=np.float64)
    sizes = [int(np.prod(shape)) for shape in shapes.values()]
    if vector.ndim != 1 or vector.size != sum(sizes):
        raise ValueError(f"expected a 1-D vector of {sum(sizes)} entries, got shape {vector.shape}")
    pieces = np.split(vector, np.cumsum(sizes)[:-1])
    return {key: piece.reshape(shape).copy() for (key, shape), piece in zip(shapes.items(), pieces)}


def _check(arch: Architecture, theta: Params, x: np.ndarray, y: np.ndarray | None = None) -> None:
    """Fail loudly on layout mistakes instead of broadcasting silently."""
    for key, shape in param_shapes(arch).items():
        if key not in theta:
            raise ValueError(f"theta lacks {key!r}")
        if np.shape(theta[key]) != shape:
            raise ValueError(f"theta[{key!r}] has shape {np.shape(theta[key])}, expected {shape}")
    if x.ndim != 2 or x.shape[1] != arch.sizes[0]:
        raise ValueError(f"x has shape {x.shape}, expected (S, {arch.sizes[0]})")
    if y is not None:
        if y.shape != (x.shape[0],):
            raise ValueError(f"y has shape {y.shape}, expected ({x.shape[0]},)")
        if y.size and (y.min() < 0 or y.max() >= arch.sizes[-1]):
            raise ValueError(f"labels must lie in [0, {arch.sizes[-1]})")


# --- forward -----------------------------------------------------------------


class ForwardCache(NamedTuple):
    """What backprop needs from the forward pass.

    ``pre_activations[i] = W_i activations[i] + b_i`` for every layer i, so the
    last entry holds the logits; ``activations[0]`` is x^T and
    ``activations[i] = h(pre_activations[i-1])`` for the hidden layers.
    """

    pre_activations: list[np.ndarray]
    activations: list[np.ndarray]
    log_probs: np.ndarray


def _log_softmax(z: np.ndarray) -> np.ndarray:
    """Column-wise log softmax via log-sum-exp after subtracting the column max,
    so exp only sees numbers <= 0 and never overflows."""
    shifted = z - z.max(axis=0, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))


def forward_cache(arch: Architecture, theta: Params, x: np.ndarray) -> ForwardCache:
    """Run the network and keep every intermediate (z_i, a_i) for backprop."""
    x = np.asarray(x, dtype=np.float64)
    _check(arch, theta, x)
    h = arch.activation_fn
    activations = [x.T]
    pre_activations = []
    for i in range(arch.num_layers):
        z = theta[weight_name(i)] @ activations[-1] + theta[bias_name(i)]
        pre_activations.append(z)
        if i < arch.num_layers - 1:
            activations.append(h.value(z))
    return ForwardCache(pre_activations, activations, _log_softmax(pre_activations[-1]))


def log_probabilities(arch: Architecture, theta: Params, x: np.ndarray) -> np.ndarray:
    """log softmax of the logits, (C, S); finite even where probabilities underflow."""
    return forward_cache(arch, theta, x).log_probs


def forward(arch: Architecture, theta: Params, x: np.ndarray) -> np.ndarray:
    """Class probabilities, (C, S); every column sums to 1."""
    return np.exp(log_probabilities(arch, theta, x))


def accuracy(arch: Architecture, theta: Params, x: np.ndarray, y: np.ndarray) -> float:
    """Fraction of samples whose most probable class is the label."""
    y = np.asarray(y)
    return float(np.mean(log_probabilities(arch, theta, x).argmax(axis=0) == y))


# --- loss --------------------------------------------------------------------


def _one_hot(y: np.ndarray, num_classes: int) -> np.ndarray:
    """(C, S) matrix with a single 1 per column, matching the output layout."""
    out = np.zeros((num_classes, y.shape[0]))
    out[y, np.arange(y.shape[0])] = 1.0
    return out


def _labels(y: np.ndarray) -> np.ndarray:
    return np.asarray(y).astype(np.int64, copy=False)


def data_loss(arch: Architecture, theta: Params, x: np.ndarray, y: np.ndarray) -> float:
    """Mean over samples of the per-sample loss, without the penalty.

    cross_entropy: -log p_{y_s}, read off the log-probabilities (never log of a
    probability that may have underflowed to 0). squared_error:
    1/2 ||onehot(y_s) - p_s||^2 on the softmax output.
    """
    x, y = np.asarray(x, dtype=np.float64), _labels(y)
    _check(arch, theta, x, y)
    log_p = log_probabilities(arch, theta, x)
    if arch.loss == "cross_entropy":
        return float(-np.mean(log_p[y, np.arange(y.shape[0])]))
    residual = _one_hot(y, arch.sizes[-1]) - np.exp(log_p)
    return float(np.mean(0.5 * np.sum(residual**2, axis=0)))


def penalty(arch: Architecture, theta: Params) -> float:
    """Elastic net sum_i l1[i] sum|W_i| + l2[i] sum W_i^2 (weights only, no 1/2)."""
    total = 0.0
    for i, (c1, c2) in enumerate(zip(arch.l1_coefficients, arch.l2_coefficients)):
        w = theta[weight_name(i)]
        total += c1 * float(np.abs(w).sum()) + c2 * float(np.square(w).sum())
    return total


def loss(arch: Architecture, theta: Params, x: np.ndarray, y: np.ndarray) -> float:
    """The objective the optimizers minimize: data loss plus penalty."""
    return data_loss(arch, theta, x, y) + penalty(arch, theta)


# --- backprop ----------------------------------------------------------------


def _logit_error(arch: Architecture, log_p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dL/dz_L for the mean data loss, (C, S).

    Cross-entropy through softmax collapses to (p - onehot)/S. Squared error
    needs the softmax Jacobian: with g = (p - onehot)/S = dL/dp,
    dL/dz_k = p_k (g_k - sum_c p_c g_c).
    """
    p = np.exp(log_p)
    g = (p - _one_hot(y, arch.sizes[-1])) / y.shape[0]
    if arch.loss == "cross_entropy":
        return g
    return p * (g - np.sum(p * g, axis=0, keepdims=True))


def gradient(arch: Architecture, theta: Params, x: np.ndarray, y: np.ndarray,
             derivative: Callable[[np.ndarray], np.ndarray] | None = None) -> Params:
    """Analytic gradient of ``loss`` (data loss + penalty), keys as in theta.

    Backprop, vectorized over samples: with e the error at a layer's output,
    dW_i = e a_i^T, db_i = sum over samples of e, and the error moves down as
    e <- (W_i^T e) * h'(z_i). The L1 subgradient is sign(W) with sign(0) = 0.

    ``derivative`` replaces h' (a function of z): the grader uses it to
    reproduce students' wrong derivatives and name the mistake.
    """
    x, y = np.asarray(x, dtype=np.float64), _labels(y)
    _check(arch, theta, x, y)
    cache = forward_cache(arch, theta, x)
    h = arch.activation_fn
    error = _logit_error(arch, cache.log_probs, y)
    grads: Params = {}
    for i in reversed(range(arch.num_layers)):
        w = theta[weight_name(i)]
        reg = arch.l1_coefficients[i] * np.sign(w) + 2.0 * arch.l2_coefficients[i] * w
        grads[weight_name(i)] = error @ cache.activations[i].T + reg
        grads[bias_name(i)] = error.sum(axis=1, keepdims=True)
        if i > 0:
            h_prime = derivative or h.derivative
            error = (w.T @ error) * h_prime(cache.pre_activations[i - 1])
    return {key: grads[key] for key in param_shapes(arch)}


# --- a readable wrapper ------------------------------------------------------


class MLP:
    """An architecture bound to parameters, micrograd style: ``net.loss(x, y)``."""

    def __init__(self, arch: Architecture, theta: Params) -> None:
        self.arch = arch
        self.theta = theta

    @classmethod
    def initialized(
        cls,
        arch: Architecture,
        seed: int | np.random.Generator,
        mean: float = 0.0,
        std: float = 0.05,
    ) -> "MLP":
        """A network with freshly drawn N(mean, std^2) parameters."""
        return cls(arch, init_params(arch, seed, mean, std))

    def forward(self, x: np.ndarray) -> np.ndarray:
        return forward(self.arch, self.theta, x)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def loss(self, x: np.ndarray, y: np.ndarray) -> float:
        return loss(self.arch, self.theta, x, y)

    def gradient(self, x: np.ndarray, y: np.ndarray) -> Params:
        return gradient(self.arch, self.theta, x, y)

    def accuracy(self, x: np.ndarray, y: np.ndarray) -> float:
        return accuracy(self.arch, self.theta, x, y)

    def __repr__(self) -> str:
        return f"MLP({self.arch!r}, {param_count(self.arch)} parameters)"
