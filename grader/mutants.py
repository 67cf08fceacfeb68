"""Known wrong answers, computed on purpose.

To *name* a mistake rather than just report a mismatch, the grader computes
what each classic mistake would produce on the same inputs and looks for the
one the student's numbers reproduce.  Each mutant here is the reference with
exactly one thing broken, so a match is strong evidence for that cause.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from reference import network as ref
from reference.activations import get_activation

Params = dict[str, np.ndarray]


def _sigmoid_prime(z: np.ndarray) -> np.ndarray:
    sig = get_activation("sigmoid")
    return sig.derivative(z)


def gradient_mutants(arch: ref.Architecture, theta: Params, x: np.ndarray, y: np.ndarray) -> dict[str, Params]:
    """Gradients of the classic backprop mistakes, keyed by diagnosis id."""
    h = arch.activation_fn
    derivatives: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "activation-derivative-at-activation": lambda z: h.derivative(h.value(z)),
    }
    if arch.activation != "sigmoid":
        derivatives["activation-derivative-sigmoid"] = _sigmoid_prime
    return {name: ref.gradient(arch, theta, x, y, derivative=fn) for name, fn in derivatives.items()}


def activation_mutants(arch: ref.Architecture, theta: Params, x: np.ndarray, y: np.ndarray,
                       names: tuple[str, ...]) -> dict[str, Params]:
    """Correct gradients of the same network with another activation: a
    student who used ReLU everywhere is self-consistent but wrong."""
    out = {}
    for name in names:
        if name == arch.activation:
            continue
        other = ref.Architecture(arch.sizes, name, arch.alpha, arch.loss, arch.l1, arch.l2)
        out[name] = ref.gradient(other, theta, x, y)
    return out


def single_sample_bias_gradients(arch: ref.Architecture, theta: Params, x: np.ndarray,
                                 y: np.ndarray) -> list[tuple[str, Params]]:
    """Bias gradients from one sample only (first, last, any), divided by S
    or not: what `e[:, 0]` or a loop that overwrites instead of adding gives."""
    s = x.shape[0]
    out = []
    for i in range(s):
        g = ref.gradient(arch, theta, x[i:i + 1], y[i:i + 1])
        out.append((f"sample {i}", g))
        out.append((f"sample {i} / S", {k: v / s for k, v in g.items()}))
    return out


# -- optimizer steps: the momentum-step family ------------------------------------------------

#: where a member of the family starts its step / evaluates its gradient
ITERATE, LOOKAHEAD = "iterate", "lookahead"
#: whether the previous iterate follows the iterates or stays theta_0 for good
UPDATED, FROZEN = "updated", "frozen"


@dataclass(frozen=True)
class StepRule:
    """One member of the family every momentum step the grader knows belongs to:

        y_k       = theta_k + momentum (theta_k - prev_k)
        theta_k+1 = start_k - factor * lr * g(eval_k)

    with start_k, eval_k each theta_k ("iterate") or y_k ("lookahead"),
    prev_k = theta_{k-1} ("updated") or theta_0 for good ("frozen"), and
    theta_{-1} = theta_0 (so every member's first step is a gradient step).
    Nesterov is (momentum=mu, factor=1, lookahead, lookahead, updated);
    each classic mistake moves exactly one of these knobs, so naming a
    mistake is reading off the fitted knobs."""

    momentum: float
    factor: float = 1.0
    start: str = LOOKAHEAD
    evaluate: str = LOOKAHEAD
    previous: str = UPDATED

    def previous_of(self, iterates: list[Params], k: int) -> Params:
        """prev_k for step k, given theta_0 ... theta_k."""
        return iterates[k - 1] if self.previous == UPDATED and k > 0 else iterates[0]

    def step(self, grad_fn: Callable[[Params], Params], theta: Params, previous: Params, lr: float) -> Params:
        """theta_{k+1} from theta_k and prev_k."""
        y = {k: theta[k] + self.momentum * (theta[k] - previous[k]) for k in theta}
        g = grad_fn(y if self.evaluate == LOOKAHEAD else theta)
        base = y if self.start == LOOKAHEAD else theta
        return {k: base[k] - self.factor * lr * g[k] for k in theta}


def momentum_steps(rule: StepRule, grad_fn: Callable[[Params], Params], theta0: Params, steps: int,
                   lr: float) -> list[Params]:
    """theta_0 ... theta_steps of one member of the family, run freely."""
    iterates = [{k: np.array(v, dtype=np.float64, copy=True) for k, v in theta0.items()}]
    for k in range(steps):
        iterates.append(rule.step(grad_fn, iterates[k], rule.previous_of(iterates, k), lr))
    return iterates


def heavy_ball_steps(grad_fn: Callable[[Params], Params], theta0: Params, steps: int, lr: float,
                     mu: float) -> list[Params]:
    """Polyak's heavy ball: the look-ahead built, the gradient taken at theta_k."""
    return momentum_steps(StepRule(mu, evaluate=ITERATE), grad_fn, theta0, steps, lr)


def lookahead_not_stepped_steps(grad_fn: Callable[[Params], Params], theta0: Params, steps: int, lr: float,
                                mu: float) -> list[Params]:
    """The gradient at the look-ahead, but the step taken from theta_k (y_k discarded)."""
    return momentum_steps(StepRule(mu, start=ITERATE), grad_fn, theta0, steps, lr)


def previous_not_updated_steps(grad_fn: Callable[[Params], Params], theta0: Params, steps: int, lr: float,
                               mu: float) -> list[Params]:
    """Nesterov with the previous iterate stored once (theta_0) and never updated."""
    return momentum_steps(StepRule(mu, previous=FROZEN), grad_fn, theta0, steps, lr)


def momentum_complement_steps(grad_fn: Callable[[Params], Params], theta0: Params, steps: int, lr: float,
                              mu: float) -> list[Params]:
    """Nesterov with 1 - mu in place of mu (mu read as a damping)."""
    return momentum_steps(StepRule(1.0 - mu), grad_fn, theta0, steps, lr)


def momentum_sign_flipped_steps(grad_fn: Callable[[Params], Params], theta0: Params, steps: int, lr: float,
                                mu: float) -> list[Params]:
    """Nesterov with the look-ahead backwards: theta_k - mu (theta_k - theta_{k-1})."""
    return momentum_steps(StepRule(-mu), grad_fn, theta0, steps, lr)


def scaled_gd_step(grad: Params, theta: Params, lr: float, factor: float) -> Params:
    """One gradient step with the step length scaled: `factor` -1 is the step
    added instead of subtracted, 0 the step never applied, S or 1/S the
    learning rate multiplied or divided by the batch size."""
    return {k: theta[k] - factor * lr * grad[k] for k in theta}
