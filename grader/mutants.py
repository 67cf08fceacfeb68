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
from reference.optimizers import fista_momentums

Params = dict[str, np.ndarray]


def backprop(arch: ref.Architecture, theta: Params, x: np.ndarray, y: np.ndarray, *,
             output_error: OutputError | None = None,
             derivative: Callable[[np.ndarray], np.ndarray] | None = None) -> Params:
    """Backprop with one piece replaced: the output error dL/dz_L (a function
    of the architecture, the probabilities (C, S) and the labels) or the
    hidden activation's derivative (a function of z).

    The reference's `gradient` offers a hook for the derivative only; the
    output error needs its own, so the loop is written here once more, and
    a test holds it to the reference's when nothing is replaced."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y).astype(np.int64)
    cache = ref.forward_cache(arch, theta, x)
    error = (output_error or correct_output_error)(arch, np.exp(cache.log_probs), y)
    h_prime = derivative or arch.activation_fn.derivative
    grads: Params = {}
    for i in reversed(range(arch.num_layers)):
        w = theta[f"W{i}"]
        penalty = arch.l1_coefficients[i] * np.sign(w) + 2.0 * arch.l2_coefficients[i] * w
        grads[f"W{i}"] = error @ cache.activations[i].T + penalty
        grads[f"b{i}"] = error.sum(axis=1, keepdims=True)
        if i > 0:
            error = (w.T @ error) * h_prime(cache.pre_activations[i - 1])
    return {key: grads[key] for key in ref.param_shapes(arch)}


OutputError = Callable[[ref.Architecture, np.ndarray, np.ndarray], np.ndarray]


def _onehot(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = np.zeros_like(p)
    out[y, np.arange(y.shape[0])] = 1.0
    return out


def _through_softmax(arch: ref.Architecture, p: np.ndarray, g: np.ndarray) -> np.ndarray:
    """dL/dz from dL/dp = g: the softmax Jacobian for squared error; for
    cross-entropy g is already (p - onehot) / S, the collapsed product."""
    if arch.loss == "cross_entropy":
        return g
    return p * (g - np.sum(p * g, axis=0, keepdims=True))


def correct_output_error(arch: ref.Architecture, p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dL/dz_L for the mean data loss, (C, S) (the reference's `_logit_error`)."""
    return _through_softmax(arch, p, (p - _onehot(p, y)) / y.shape[0])


# -- the mutants: one function per named mistake (its record's `mutant`) -----------------------
# Each returns the whole gradient that mistake produces, or None where it
# cannot be made (e.g. the sigmoid's derivative in a sigmoid network).

def derivative_at_activation(arch: ref.Architecture, theta: Params, x: np.ndarray, y: np.ndarray) -> Params | None:
    """h'(a) = h'(h(z)) in place of h'(z)."""
    h = arch.activation_fn
    return backprop(arch, theta, x, y, derivative=lambda z: h.derivative(h.value(z)))


def sigmoid_derivative(arch: ref.Architecture, theta: Params, x: np.ndarray, y: np.ndarray) -> Params | None:
    """sigma'(z) = sigma(z)(1 - sigma(z)) in place of the activation's h'(z)."""
    if arch.activation == "sigmoid":
        return None
    return backprop(arch, theta, x, y, derivative=get_activation("sigmoid").derivative)


def derivative_left_out(arch: ref.Architecture, theta: Params, x: np.ndarray, y: np.ndarray) -> Params | None:
    """The error passed back through W^T without the factor h'(z)."""
    return backprop(arch, theta, x, y, derivative=np.ones_like)


def output_error_without_target(arch: ref.Architecture, theta: Params, x: np.ndarray,
                                y: np.ndarray) -> Params | None:
    """The output error y~ in place of y~ - onehot(y) (the target never subtracted)."""
    return backprop(arch, theta, x, y, output_error=lambda a, p, yy: _through_softmax(a, p, p / yy.shape[0]))


def softmax_jacobian_left_out(arch: ref.Architecture, theta: Params, x: np.ndarray,
                              y: np.ndarray) -> Params | None:
    """Squared error: (y~ - onehot(y)) / S taken for dL/dz, the softmax's Jacobian left out."""
    if arch.loss != "squared_error":
        return None
    return backprop(arch, theta, x, y, output_error=lambda a, p, yy: (p - _onehot(p, yy)) / yy.shape[0])


def softmax_jacobian_inner_product(arch: ref.Architecture, theta: Params, x: np.ndarray,
                                   y: np.ndarray) -> Params | None:
    """The chain rule through an explicit softmax Jacobian whose outer product
    p p^T is written p^T p (np.dot(p.T, p) on a column): a 1x1 inner product
    that broadcasts, so J = diag(p) - ||p||^2 and dL/dz = p * g - ||p||^2 sum(g)
    per sample, g = dL/dp (template A's loops, a mistake of real reports)."""
    s = y.shape[0]

    def error(a: ref.Architecture, p: np.ndarray, yy: np.ndarray) -> np.ndarray:
        onehot = _onehot(p, yy)
        # dL/dp of the cross-entropy is -1 / (S p_y) at the label only (the other entries are 0, not 0/0)
        g = -onehot / (s * np.where(onehot > 0, p, 1.0)) if a.loss == "cross_entropy" else (p - onehot) / s
        return p * g - np.sum(p * p, axis=0, keepdims=True) * np.sum(g, axis=0, keepdims=True)

    return backprop(arch, theta, x, y, output_error=error)


def output_derivative_applied(arch: ref.Architecture, theta: Params, x: np.ndarray,
                              y: np.ndarray) -> Params | None:
    """Cross-entropy: the collapsed error (y~ - onehot(y)) / S multiplied once
    more by the softmax's diagonal derivative y~ (1 - y~)."""
    if arch.loss != "cross_entropy":
        return None
    return backprop(arch, theta, x, y,
                    output_error=lambda a, p, yy: (p - _onehot(p, yy)) / yy.shape[0] * p * (1.0 - p))


def gradient_mutants(arch: ref.Architecture, theta: Params, x: np.ndarray, y: np.ndarray) -> dict[str, Params]:
    """Gradients of the classic backprop mistakes, keyed by diagnosis id: every
    record of the gradients family that names a mutant (the records say which
    function commits which mistake; this is the one list)."""
    from .mistakes import MISTAKES

    out = {}
    for record in MISTAKES.values():
        if record.family == "gradients" and record.mutant is not None:
            grads = globals()[record.mutant](arch, theta, x, y)
            if grads is not None:
                out[record.id] = grads
    return out


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
#: the momentum coefficient of step k: one constant, or the FISTA schedule's beta_k (scaled by `momentum`)
CONSTANT, FISTA = "constant", "fista"


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
    mistake is reading off the fitted knobs.

    `schedule` FISTA replaces the constant by `momentum` x beta_{k+shift},
    the FISTA schedule's coefficient of step k (momentum 1, shift 0: the
    schedule itself), so a course that asks for FISTA has the same members
    and the same mistakes: heavy ball with beta_k is still heavy ball.
    `shift` 1 is the schedule one step early (t advanced before beta is
    computed from it)."""

    momentum: float
    factor: float = 1.0
    start: str = LOOKAHEAD
    evaluate: str = LOOKAHEAD
    previous: str = UPDATED
    schedule: str = CONSTANT
    shift: int = 0

    def previous_of(self, iterates: list[Params], k: int) -> Params:
        """prev_k for step k, given theta_0 ... theta_k."""
        return iterates[k - 1] if self.previous == UPDATED and k > 0 else iterates[0]

    def coefficient(self, k: int) -> float:
        """The momentum coefficient of step k (k = 0 is the first step)."""
        if self.schedule == CONSTANT:
            return self.momentum
        return self.momentum * fista_momentums(k + 1 + self.shift)[k + self.shift]

    def step(self, grad_fn: Callable[[Params], Params], theta: Params, previous: Params, lr: float,
             k: int) -> Params:
        """theta_{k+1} from theta_k and prev_k (k, the step's index, matters under a schedule)."""
        m = self.coefficient(k)
        y = {key: theta[key] + m * (theta[key] - previous[key]) for key in theta}
        g = grad_fn(y if self.evaluate == LOOKAHEAD else theta)
        base = y if self.start == LOOKAHEAD else theta
        return {key: base[key] - self.factor * lr * g[key] for key in theta}


def momentum_steps(rule: StepRule, grad_fn: Callable[[Params], Params], theta0: Params, steps: int,
                   lr: float) -> list[Params]:
    """theta_0 ... theta_steps of one member of the family, run freely."""
    iterates = [{k: np.array(v, dtype=np.float64, copy=True) for k, v in theta0.items()}]
    for k in range(steps):
        iterates.append(rule.step(grad_fn, iterates[k], rule.previous_of(iterates, k), lr, k))
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
