"""The reference solution, configured by a rubric.

Everything the judges compare against comes from here and runs in the
grader's own process: architectures, data, probe batches, gradients,
trajectories.  Results that do not depend on the student are cached per
rubric, so a batch of 400 computes them once per worker process.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Callable

import numpy as np

from reference import data as ref_data
from reference import network as ref
from reference import optimizers as ref_opt

from .rubric import Rubric

Params = dict[str, np.ndarray]

#: Probe weights are N(0, 0.5^2) up to this fan-in, N(0, 2 / fan_in) (He) above it.
PROBE_FAN_IN = 16


def stable_seed(*parts: object) -> int:
    """A seed derived from names, identical on every run and machine."""
    return zlib.crc32("/".join(str(p) for p in parts).encode()) & 0x7FFFFFFF


@dataclass
class Oracle:
    rubric: Rubric

    # -- configuration --------------------------------------------------------
    def architecture(self, hidden: list[int] | None = None, activation: str | None = None) -> ref.Architecture:
        spec = self.rubric.assignment.architecture
        hidden = list(hidden) if hidden is not None else list(spec.hidden)
        reg = self.rubric.assignment.regularization
        n = len(hidden) + 1
        return ref.Architecture(
            sizes=(spec.inputs, *hidden, spec.outputs),
            activation=activation or spec.activation,
            alpha=spec.alpha,
            loss=self.rubric.assignment.loss,
            l1=tuple(float(reg.l1.get(f"W{i}", 0.0)) for i in range(n)),
            l2=tuple(float(reg.l2.get(f"W{i}", 0.0)) for i in range(n)),
        )

    @property
    def default_hidden(self) -> list[int]:
        return list(self.rubric.assignment.architecture.hidden)

    @property
    def kinky(self) -> bool:
        """ReLU-like activations or L1: finite differences are unreliable at kinks."""
        reg = self.rubric.assignment.regularization
        return (self.rubric.assignment.architecture.activation in ("relu", "leaky_relu")
                or any(v != 0 for v in reg.l1.values()))

    def seed(self, *parts: object) -> int:
        return stable_seed(self.rubric.id, self.rubric.seed, *parts)

    # -- data -------------------------------------------------------------------
    @cached_property
    def dataset(self) -> ref_data.Dataset:
        spec = self.rubric.assignment.data
        arch = self.rubric.assignment.architecture
        if spec.name == "penguins":
            return _penguins(spec.seed)
        return _synthetic(spec.n_train or 0, spec.n_test or 0, arch.inputs, arch.outputs, spec.seed)

    def batch(self, samples: int, *parts: object) -> tuple[np.ndarray, np.ndarray]:
        """A small probe batch (S != C, so output orientation is unambiguous):
        standard-normal features scaled up a little so every activation's
        curvature matters, and labels covering the classes."""
        arch = self.rubric.assignment.architecture
        rng = np.random.default_rng(self.seed("batch", samples, *parts))
        x = 1.5 * rng.standard_normal((samples, arch.inputs))
        y = rng.permutation(np.arange(samples) % arch.outputs)
        return x, y.astype(np.int64)

    def theta(self, hidden: list[int], *parts: object, std: float | None = None) -> Params:
        """A start point for probes.  Larger than the assignment's init (0.5)
        by default, so that hidden units are not all in the linear regime and
        activation mistakes show."""
        arch = self.architecture(hidden)
        theta = ref.init_params(arch, self.seed("theta", *hidden, *parts), 0.0, 0.5 if std is None else std)
        if std is None:
            # wide layers (fan-in n > 16, e.g. 3072 inputs): weights of std sqrt(2/n),
            # so the logits stay O(1) and the softmax does not saturate
            for i in range(arch.num_layers):
                fan_in = arch.sizes[i]
                if fan_in > PROBE_FAN_IN:
                    theta[f"W{i}"] *= np.sqrt(2.0 / fan_in) / 0.5
        return theta

    # -- computations -----------------------------------------------------------
    def forward(self, hidden: list[int], theta: Params, x: np.ndarray, activation: str | None = None) -> np.ndarray:
        return ref.forward(self.architecture(hidden, activation), theta, x)

    def loss(self, hidden: list[int], theta: Params, x: np.ndarray, y: np.ndarray) -> float:
        return ref.loss(self.architecture(hidden), theta, x, y)

    def gradient(self, hidden: list[int], theta: Params, x: np.ndarray, y: np.ndarray) -> Params:
        return ref.gradient(self.architecture(hidden), theta, x, y)

    def accuracy(self, hidden: list[int], theta: Params, x: np.ndarray, y: np.ndarray) -> float:
        return ref.accuracy(self.architecture(hidden), theta, x, y)

    def trajectory(self, method: str, grad_fn: Callable[[Params], Params], theta0: Params, steps: int,
                   lr: float, momentum: float) -> ref_opt.Trajectory:
        return ref_opt.trajectory(method, grad_fn, theta0, steps, lr, momentum)

    @property
    def nag_method(self) -> str:
        """The reference method the rubric asks for."""
        return "nag_fista" if self.rubric.assignment.optimizer.schedule == "fista" else "nag"


@lru_cache(maxsize=4)
def _penguins(seed: int) -> ref_data.Dataset:
    return ref_data.penguins(seed=seed)


@lru_cache(maxsize=4)
def _synthetic(n_train: int, n_test: int, n_features: int, n_classes: int, seed: int) -> ref_data.Dataset:
    return ref_data.synthetic(n_train, n_test, n_features, n_classes, seed)


def param_shapes(arch: ref.Architecture) -> dict[str, tuple[int, ...]]:
    return ref.param_shapes(arch)


def param_count(arch: ref.Architecture) -> int:
    return ref.param_count(arch)
