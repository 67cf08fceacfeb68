"""Reference optimizer trajectories: GD, Nesterov in its equivalent forms,
and heavy-ball momentum (the known-wrong "NAG").

The grader replays a student's optimizer from a fixed start and compares the
parameters after each step with these sequences. ``grad_fn`` maps a
parameter dict to a gradient dict with the same keys, so the optimizers know
nothing about networks.

Notation: theta_k are the iterates of the handout's theta form, y_k the
look-ahead points where NAG evaluates the gradient, g(.) = grad_fn(.),
mu the momentum and lr the step size.

The torch form (``nag_stored``) and its change of variables
------------------------------------------------------------
``torch.optim.SGD(nesterov=True, dampening=0)`` keeps a buffer b and stores
p in the parameters::

    b_0 = g(p_0)                       (first step: buffer = gradient)
    b_k = mu b_{k-1} + g(p_k)          (k >= 1)
    p_{k+1} = p_k - lr (g(p_k) + mu b_k)

Write the theta form with its velocity v_k = theta_k - theta_{k-1} (v_0 = 0
because theta_{-1} = theta_0), so y_k = theta_k + mu v_k and
v_{k+1} = mu v_k - lr g(y_k). Substituting p_k = y_k and v_{k+1} = -lr b_k
turns the theta form into exactly the torch recursion, and torch's first-step
buffer b_0 = g(p_0) is exactly b_{-1} = 0, i.e. v_0 = 0. So, started from the
same p_0 = theta_0, the relation is exact for every k >= 0 (not only k >= 1):

    p_k     = theta_k + mu (theta_k - theta_{k-1})   = y_k,  theta_{-1} = theta_0
    theta_k = (p_k + mu theta_{k-1}) / (1 + mu),       theta_0 = p_0
            = p_k + lr mu b_{k-1}                      (k >= 1)

The stored p_k (k < n) are the points where the gradients were taken, and the
last stored p_n = theta_n + mu (theta_n - theta_{n-1}) is the look-ahead of a
step not yet taken. ``nag_stored_from_iterates`` and
``nag_iterates_from_stored`` implement the two directions; the inverse
recursion damps errors by mu / (1 + mu) < 1 per step, so it is safe to apply
to a student's (rounded) stored sequence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np

Params = dict[str, np.ndarray]
GradFn = Callable[[Params], Params]


@dataclass
class Trajectory:
    """One optimizer run.

    ``iterates``: theta_0 ... theta_n in the theta ("real") variables.
    ``lookaheads``: the n points where the gradient was evaluated.
    ``stored``: what a student's ``self.theta`` holds after each step,
    theta_0 ... (n + 1 entries); equal to ``iterates`` except for
    ``nag_stored``, where it is the look-ahead sequence p_0 ... p_n.
    """

    iterates: list[Params]
    lookaheads: list[Params]
    stored: list[Params] = field(default_factory=list)


def _copy(theta: Params) -> Params:
    return {k: np.array(v, dtype=np.float64, copy=True) for k, v in theta.items()}


def _extrapolate(current: Params, previous: Params, mu: float) -> Params:
    """current + mu (current - previous), the momentum look-ahead."""
    return {k: current[k] + mu * (current[k] - previous[k]) for k in current}


def _gd(grad_fn: GradFn, theta0: Params, steps: int, lr: float, momentum: float) -> Trajectory:
    """theta_{k+1} = theta_k - lr g(theta_k); ``momentum`` is ignored."""
    iterates = [_copy(theta0)]
    for _ in range(steps):
        theta = iterates[-1]
        g = grad_fn(theta)
        iterates.append({k: theta[k] - lr * g[k] for k in theta})
    return Trajectory(iterates, iterates[:-1], list(iterates))


def _nesterov(grad_fn: GradFn, theta0: Params, lr: float, mus: Iterable[float]) -> Trajectory:
    """Theta form with a momentum schedule: y_k = theta_k + mu_k (theta_k -
    theta_{k-1}), theta_{k+1} = y_k - lr g(y_k), theta_{-1} = theta_0."""
    iterates, lookaheads = [_copy(theta0)], []
    previous = iterates[0]
    for mu in mus:
        theta = iterates[-1]
        y = _extrapolate(theta, previous, mu)
        g = grad_fn(y)
        lookaheads.append(y)
        iterates.append({k: y[k] - lr * g[k] for k in y})
        previous = theta
    return Trajectory(iterates, lookaheads, list(iterates))


def _nag(grad_fn: GradFn, theta0: Params, steps: int, lr: float, momentum: float) -> Trajectory:
    """The handout's NAG: constant momentum mu."""
    return _nesterov(grad_fn, theta0, lr, [momentum] * steps)


def fista_momentums(steps: int) -> list[float]:
    """mu_k = (t_k - 1) / t_{k+1} with t_0 = 1, t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2.

    mu_0 = 0, so the first FISTA step is a plain gradient step.
    """
    mus, t = [], 1.0
    for _ in range(steps):
        t_next = (1.0 + math.sqrt(1.0 + 4.0 * t * t)) / 2.0
        mus.append((t - 1.0) / t_next)
        t = t_next
    return mus


def _nag_fista(grad_fn: GradFn, theta0: Params, steps: int, lr: float, momentum: float) -> Trajectory:
    """NAG with the FISTA schedule; ``momentum`` is ignored."""
    return _nesterov(grad_fn, theta0, lr, fista_momentums(steps))


def _nag_velocity(grad_fn: GradFn, theta0: Params, steps: int, lr: float, momentum: float) -> Trajectory:
    """Sutskever et al.: v_{k+1} = mu v_k - lr g(theta_k + mu v_k),
    theta_{k+1} = theta_k + v_{k+1}, v_0 = 0. Same iterates as ``nag``
    (v_k = theta_k - theta_{k-1}), up to rounding."""
    iterates, lookaheads = [_copy(theta0)], []
    velocity = {k: np.zeros_like(v) for k, v in iterates[0].items()}
    for _ in range(steps):
        theta = iterates[-1]
        y = {k: theta[k] + momentum * velocity[k] for k in theta}
        g = grad_fn(y)
        lookaheads.append(y)
        velocity = {k: momentum * velocity[k] - lr * g[k] for k in theta}
        iterates.append({k: theta[k] + velocity[k] for k in theta})
    return Trajectory(iterates, lookaheads, list(iterates))


def _nag_stored(grad_fn: GradFn, theta0: Params, steps: int, lr: float, momentum: float) -> Trajectory:
    """torch.optim.SGD(nesterov=True, dampening=0), literally; the iterates are
    mapped back to theta by theta_{k+1} = p_{k+1} + lr mu b_k (module docstring)."""
    p = _copy(theta0)
    stored, lookaheads, iterates = [p], [], [_copy(theta0)]
    buffer: Params | None = None
    for _ in range(steps):
        g = grad_fn(p)
        lookaheads.append(p)
        if buffer is None:
            buffer = {k: np.array(g[k], dtype=np.float64, copy=True) for k in p}
        else:
            buffer = {k: momentum * buffer[k] + g[k] for k in p}
        p = {k: p[k] - lr * (g[k] + momentum * buffer[k]) for k in p}
        stored.append(p)
        iterates.append({k: p[k] + lr * momentum * buffer[k] for k in p})
    return Trajectory(iterates, lookaheads, stored)


def _heavy_ball(grad_fn: GradFn, theta0: Params, steps: int, lr: float, momentum: float) -> Trajectory:
    """Polyak: theta_{k+1} = theta_k - lr g(theta_k) + mu (theta_k - theta_{k-1}).

    The gradient is taken at the current iterate, not at the look-ahead: the
    mistake students make when they build y_k but differentiate at theta_k.
    With theta_{-1} = theta_0 its first step equals NAG's (both are a GD step);
    from the second step on they differ whenever g(y_1) != g(theta_1).
    """
    iterates, lookaheads = [_copy(theta0)], []
    previous = iterates[0]
    for _ in range(steps):
        theta = iterates[-1]
        g = grad_fn(theta)
        lookaheads.append(theta)
        iterates.append({k: theta[k] - lr * g[k] + momentum * (theta[k] - previous[k]) for k in theta})
        previous = theta
    return Trajectory(iterates, lookaheads, list(iterates))


_METHODS: dict[str, Callable[[GradFn, Params, int, float, float], Trajectory]] = {
    "gd": _gd,
    "nag": _nag,
    "nag_velocity": _nag_velocity,
    "nag_stored": _nag_stored,
    "nag_fista": _nag_fista,
    "heavy_ball": _heavy_ball,
}

#: Every method ``trajectory`` accepts.
METHODS: tuple[str, ...] = tuple(_METHODS)


def trajectory(
    method: str,
    grad_fn: GradFn,
    theta0: Params,
    steps: int,
    lr: float,
    momentum: float = 0.9,
) -> Trajectory:
    """Run ``steps`` iterations of ``method`` from ``theta0`` (never mutated).

    ``momentum`` is mu for the constant-momentum methods and ignored by
    ``gd`` and ``nag_fista``.
    """
    if method not in _METHODS:
        raise ValueError(f"unknown method {method!r}; known: {', '.join(METHODS)}")
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    return _METHODS[method](grad_fn, theta0, int(steps), float(lr), float(momentum))


def nag_stored_from_iterates(iterates: list[Params], momentum: float) -> list[Params]:
    """theta-form iterates -> the sequence torch stores: p_k = theta_k + mu
    (theta_k - theta_{k-1}), theta_{-1} = theta_0 (so p_0 = theta_0)."""
    return [
        _extrapolate(theta, iterates[max(k - 1, 0)], momentum) for k, theta in enumerate(iterates)
    ]


def nag_iterates_from_stored(stored: list[Params], momentum: float) -> list[Params]:
    """Inverse of ``nag_stored_from_iterates``: theta_0 = p_0,
    theta_k = (p_k + mu theta_{k-1}) / (1 + mu). Lets the grader check a
    torch-style submission against the theta-form reference."""
    iterates: list[Params] = []
    for k, p in enumerate(stored):
        if k == 0:
            iterates.append(_copy(p))
        else:
            previous = iterates[-1]
            iterates.append({key: (p[key] + momentum * previous[key]) / (1.0 + momentum) for key in p})
    return iterates
