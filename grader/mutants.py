"""Known wrong answers, computed on purpose.

To *name* a mistake rather than just report a mismatch, the grader computes
what each classic mistake would produce on the same inputs and looks for the
one the student's numbers reproduce.  Each mutant here is the reference with
exactly one thing broken, so a match is strong evidence for that cause.
"""

from __future__ import annotations

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
