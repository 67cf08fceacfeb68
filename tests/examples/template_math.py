"""Helpers for ``test_template_samples.py``: load a template sample in-process,
map its parameter layout to the canonical one, and run it.

The samples under ``examples/stateful`` (template A), ``examples/twolayer``
(template B) and ``examples/drift`` (template C) are our own trusted files, so
they are imported directly (no sandbox). Every adapter below speaks the
canonical language of ``reference.network`` -- ``theta = {"W0": (n1, n0),
"b0": (n1, 1), "W1": (n2, n1), "b1": (n2, 1)}``, x (S, n0), y (S,) -- and
translates to and from one template's API:

* A, ``StatefulAdapter``: keys as canonical; ``set_theta`` puts parameters
  in; ``feed_forward`` returns labels and caches ``var['y_prob']`` (C, S);
  the gradient lands in ``self.gradient``; steps happen only in ``train``.
* B, ``TwoLayerAdapter``: ``params`` W1 (D, H) = W0^T, b1 (H,) = b0 flat,
  W2 (H, C) = W1^T, b2 (C,) = b1 flat; ``loss(X)`` gives scores (N, C);
  optimizers are module functions driven by the course's loop (dw evaluated
  at the stored w, one config per parameter).
* C, ``OneBasedAdapter`` (keys W1, b1, W2, b2, ``forwardPass`` returning
  (S, C), ``backwardPass``) and ``LayerListAdapter`` (a list of layer
  objects, velocity passed in and out of ``step``).

Each adapter also names the reference optimizer trajectory (a method of
``reference.optimizers.trajectory``) its NAG must reproduce.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterator

import numpy as np

from reference.network import Architecture
from reference.optimizers import fista_momentums

Theta = dict[str, np.ndarray]
CANONICAL = ("W0", "b0", "W1", "b1")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


# --- loading -------------------------------------------------------------------


@contextmanager
def _on_path(folder: Path) -> Iterator[None]:
    """Put a student's folder first on sys.path (a folder submission imports
    its sibling modules by plain name), and forget those siblings afterwards
    so two folders never share a cached ``optim``."""
    before = set(sys.modules)
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        sys.path.remove(str(folder))
        for name in set(sys.modules) - before:
            module = sys.modules[name]
            if getattr(module, "__file__", None) and Path(module.__file__).parent == folder:
                del sys.modules[name]


def load_sample(relative: str) -> ModuleType:
    """Import ``examples/<relative>`` under a unique module name.

    A folder (``twolayer/correct_folder``) is loaded through its ``net.py``
    with the folder on sys.path while it imports.
    """
    path = EXAMPLES / relative
    if path.is_dir():
        path = path / "net.py"
    name = "template_sample_" + relative.replace("/", "_").replace(".", "_")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    with _on_path(path.parent):
        spec.loader.exec_module(module)
    return module


def _copy(theta: Theta) -> Theta:
    return {k: np.array(v, dtype=np.float64, copy=True) for k, v in theta.items()}


# --- a problem: architecture, start, data ------------------------------------------


@dataclass(frozen=True, eq=False)
class Problem:
    """What every comparison runs on: the reference architecture (activation,
    loss and L2 convention of the template), a known theta, and a batch."""

    arch: Architecture
    theta: Theta
    x: np.ndarray
    y: np.ndarray
    lr: float
    momentum: float


# --- adapters ----------------------------------------------------------------------


class Adapter:
    """A student's module seen in canonical terms. Subclasses implement all."""

    #: ``reference.optimizers.trajectory`` method the sample's NAG must follow
    #: (compared on the *stored* sequence: what the object holds after each step).
    nag_method: str = "nag"
    #: "probabilities" (C, S), or "scores" (C, S), which equal the logits up to a per-sample constant.
    output_kind: str = "probabilities"

    def __init__(self, module: ModuleType, arch: Architecture) -> None:
        self.module = module
        self.arch = arch

    def outputs(self, theta: Theta, x: np.ndarray) -> np.ndarray:
        """Probabilities or scores, (C, S)."""
        raise NotImplementedError

    def loss(self, theta: Theta, x: np.ndarray, y: np.ndarray) -> float:
        raise NotImplementedError

    def gradient(self, theta: Theta, x: np.ndarray, y: np.ndarray) -> Theta:
        """The student's gradient at theta, canonical keys and shapes."""
        raise NotImplementedError

    def run(self, method: str, theta: Theta, x: np.ndarray, y: np.ndarray, lr: float, momentum: float,
            steps: int) -> list[Theta]:
        """``steps`` iterations of "GD" or "NAG" from theta, one optimizer call
        per iteration; returns the stored parameters theta_0 ... theta_steps."""
        raise NotImplementedError

    def init_draw(self, num_hidden: int) -> Theta:
        """Freshly initialized parameters (canonical) of a 4-num_hidden-3 network."""
        raise NotImplementedError

    def grad_fn(self, x: np.ndarray, y: np.ndarray) -> Callable[[Theta], Theta]:
        """The student's own gradient as ``reference.optimizers`` wants it."""
        return lambda theta: self.gradient(theta, x, y)


class StatefulAdapter(Adapter):
    """Template A: ``NN(num_input, num_hidden, num_output, gradient_method, lr)``."""

    nag_method = "nag_fista"

    def new(self, theta: Theta, method: str = "GD", lr: float = 0.01) -> Any:
        sizes = self.arch.sizes
        net = self.module.NN(sizes[0], sizes[1], sizes[2], gradient_method=method, lr=lr)
        t = _copy(theta)
        net.set_theta(t["W0"], t["b0"], t["W1"], t["b1"])
        return net

    @staticmethod
    def read(net: Any) -> Theta:
        return {k: np.array(net.theta[k], dtype=np.float64, copy=True) for k in CANONICAL}

    def outputs(self, theta: Theta, x: np.ndarray) -> np.ndarray:
        net = self.new(theta)
        labels = net.feed_forward(x, training=True)
        probs = np.asarray(net.var["y_prob"], dtype=np.float64)
        assert np.array_equal(np.asarray(labels).ravel(), probs.argmax(axis=0)), "labels are not argmax of y_prob"
        return probs

    def loss(self, theta: Theta, x: np.ndarray, y: np.ndarray) -> float:
        net = self.new(theta)
        net.feed_forward(x, training=True)
        return float(net.compute_loss(y))

    def gradient(self, theta: Theta, x: np.ndarray, y: np.ndarray) -> Theta:
        net = self.new(theta)
        net.feed_forward(x, training=True)
        assert net.back_propagate(y) is None, "back_propagate must return nothing"
        return {k: np.array(net.gradient[k], dtype=np.float64) for k in CANONICAL}

    def run(self, method: str, theta: Theta, x: np.ndarray, y: np.ndarray, lr: float, momentum: float,
            steps: int) -> list[Theta]:
        net = self.new(theta, method, lr)
        stored = [self.read(net)]
        for _ in range(steps):
            net.train(x, y, 1)              # repeated calls must continue the run
            stored.append(self.read(net))
        return stored

    def run_keys(self, method: str, theta: Theta, x: np.ndarray, y: np.ndarray, lr: float) -> set[str]:
        """Keys of ``theta`` after two iterations (a stray 'w0' shows up here)."""
        net = self.new(theta, method, lr)
        net.train(x, y, 2)
        return set(net.theta)

    def init_draw(self, num_hidden: int) -> Theta:
        net = self.module.NN(4, num_hidden, 3)
        return self.read(net)


class TwoLayerAdapter(Adapter):
    """Template B: ``TwoLayerNet(input_dim, hidden_dim, num_classes, weight_scale, reg)``."""

    nag_method = "nag_stored"
    output_kind = "scores"

    def __init__(self, module: ModuleType, arch: Architecture, reg: float) -> None:
        super().__init__(module, arch)
        self.reg = reg

    @staticmethod
    def to_student(theta: Theta) -> Theta:
        return {"W1": theta["W0"].T.copy(), "b1": theta["b0"].ravel().copy(),
                "W2": theta["W1"].T.copy(), "b2": theta["b1"].ravel().copy()}

    @staticmethod
    def from_student(params: Theta) -> Theta:
        return {"W0": np.array(params["W1"], dtype=np.float64).T.copy(),
                "b0": np.array(params["b1"], dtype=np.float64).reshape(-1, 1),
                "W1": np.array(params["W2"], dtype=np.float64).T.copy(),
                "b1": np.array(params["b2"], dtype=np.float64).reshape(-1, 1)}

    def new(self, theta: Theta, weight_scale: float = 1e-3) -> Any:
        d, h, c = self.arch.sizes
        net = self.module.TwoLayerNet(d, h, c, weight_scale=weight_scale, reg=self.reg)
        net.params = self.to_student(theta)
        return net

    def outputs(self, theta: Theta, x: np.ndarray) -> np.ndarray:
        scores = self.new(theta).loss(x)
        return np.asarray(scores, dtype=np.float64).T

    def loss(self, theta: Theta, x: np.ndarray, y: np.ndarray) -> float:
        return float(self.new(theta).loss(x, y)[0])

    def gradient(self, theta: Theta, x: np.ndarray, y: np.ndarray) -> Theta:
        return self.from_student(self.new(theta).loss(x, y)[1])

    def rule(self, method: str) -> Callable:
        """The module-level update rule for GD / MOMENTUM / NAG."""
        return {"GD": self.module.sgd, "MOMENTUM": self.module.sgd_momentum, "NAG": self.module.nesterov}[method]

    def run(self, method: str, theta: Theta, x: np.ndarray, y: np.ndarray, lr: float, momentum: float,
            steps: int) -> list[Theta]:
        """The course's loop: dw at the stored w, one config per parameter,
        no 'velocity' key on the first call."""
        net = self.new(theta)
        rule = self.rule(method)
        configs = {k: {"learning_rate": lr, "momentum": momentum} for k in net.params}
        stored = [self.from_student(net.params)]
        for _ in range(steps):
            _, grads = net.loss(x, y)
            for k in net.params:
                net.params[k], configs[k] = rule(net.params[k], grads[k], configs[k])
            stored.append(self.from_student(net.params))
        return stored

    def init_draw(self, num_hidden: int, weight_scale: float = 0.05) -> Theta:
        net = self.module.TwoLayerNet(4, num_hidden, 3, weight_scale=weight_scale, reg=self.reg)
        return self.from_student(net.params)


class OneBasedAdapter(Adapter):
    """Template C: the default API with ``forwardPass`` ((S, C) probabilities),
    ``backwardPass`` and one-based keys W1, b1, W2, b2."""

    ONE_BASED = {"W0": "W1", "b0": "b1", "W1": "W2", "b1": "b2"}

    def new(self, theta: Theta, method: str = "GD", lr: float = 0.01, momentum: float = 0.9) -> Any:
        d, h, c = self.arch.sizes
        net = self.module.NN(d, h, c, gradient_method=method, lr=lr, momentum=momentum)
        net.theta = {self.ONE_BASED[k]: v.copy() for k, v in theta.items()}
        return net

    def read(self, student: Theta) -> Theta:
        return {k: np.array(student[self.ONE_BASED[k]], dtype=np.float64, copy=True) for k in CANONICAL}

    def outputs(self, theta: Theta, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.new(theta).forwardPass(x), dtype=np.float64).T

    def loss(self, theta: Theta, x: np.ndarray, y: np.ndarray) -> float:
        return float(self.new(theta).loss(x, y))

    def gradient(self, theta: Theta, x: np.ndarray, y: np.ndarray) -> Theta:
        return self.read(self.new(theta).backwardPass(x, y))

    def run(self, method: str, theta: Theta, x: np.ndarray, y: np.ndarray, lr: float, momentum: float,
            steps: int) -> list[Theta]:
        net = self.new(theta, method, lr, momentum)
        stored = [self.read(net.theta)]
        for _ in range(steps):
            net.step(x, y)
            stored.append(self.read(net.theta))
        return stored

    def init_draw(self, num_hidden: int) -> Theta:
        return self.read(self.module.NN(4, num_hidden, 3).theta)


class LayerListAdapter(Adapter):
    """Template C: layers as a list of objects with ``.W`` (n_out, n_in) and
    ``.b`` (n_out, 1); ``step(x, y, velocity)`` returns the next velocity."""

    nag_method = "nag_velocity"

    def new(self, theta: Theta, method: str = "GD", lr: float = 0.01, momentum: float = 0.9) -> Any:
        d, h, c = self.arch.sizes
        net = self.module.NN(d, h, c, gradient_method=method, lr=lr, momentum=momentum)
        for i, layer in enumerate(net.layers):
            layer.W, layer.b = theta[f"W{i}"].copy(), theta[f"b{i}"].copy()
        return net

    @staticmethod
    def read(net: Any) -> Theta:
        out: Theta = {}
        for i, layer in enumerate(net.layers):
            out[f"W{i}"] = np.array(layer.W, dtype=np.float64, copy=True)
            out[f"b{i}"] = np.array(layer.b, dtype=np.float64, copy=True)
        return out

    def outputs(self, theta: Theta, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.new(theta).feed_forward(x), dtype=np.float64)

    def loss(self, theta: Theta, x: np.ndarray, y: np.ndarray) -> float:
        return float(self.new(theta).loss(x, y))

    def gradient(self, theta: Theta, x: np.ndarray, y: np.ndarray) -> Theta:
        grads = self.new(theta).back_propagate(x, y)
        out: Theta = {}
        for i, (dw, db) in enumerate(grads):
            out[f"W{i}"], out[f"b{i}"] = np.asarray(dw, dtype=np.float64), np.asarray(db, dtype=np.float64)
        return out

    def run(self, method: str, theta: Theta, x: np.ndarray, y: np.ndarray, lr: float, momentum: float,
            steps: int) -> list[Theta]:
        net = self.new(theta, method, lr, momentum)
        stored, velocity = [self.read(net)], None
        for _ in range(steps):
            velocity = net.step(x, y, velocity)
            stored.append(self.read(net))
        return stored

    def init_draw(self, num_hidden: int) -> Theta:
        return self.read(self.module.NN(4, num_hidden, 3))


# --- reference-side helpers --------------------------------------------------------


def scores_match(student: np.ndarray, logits: np.ndarray, rtol: float = 1e-7, atol: float = 1e-9) -> bool:
    """Scores equal the logits up to one additive constant per sample (column)."""
    if student.shape != logits.shape:
        return False
    centred = student - student.mean(axis=0, keepdims=True)
    reference = logits - logits.mean(axis=0, keepdims=True)
    return bool(np.allclose(centred, reference, rtol=rtol, atol=atol))


def blocks_match(a: Theta, b: Theta, rtol: float = 1e-7, atol: float = 1e-10) -> dict[str, bool]:
    """Per canonical block: same shape and values within tolerance."""
    return {k: bool(np.shape(a[k]) == np.shape(b[k]) and np.allclose(a[k], b[k], rtol=rtol, atol=atol))
            for k in CANONICAL}


def trajectory_match(student: list[Theta], expected: list[Theta], rtol: float = 1e-7,
                     atol: float = 1e-10) -> bool:
    """Every stored snapshot of every block agrees."""
    return len(student) == len(expected) and all(
        all(blocks_match(s, e, rtol, atol).values()) for s, e in zip(student, expected))


def gradient_at_current_fista(grad_fn: Callable[[Theta], Theta], theta0: Theta, steps: int,
                              lr: float) -> list[Theta]:
    """The A mistake's trajectory: FISTA momentum but the gradient at theta_k,
    theta_{k+1} = theta_k + beta_k (theta_k - theta_{k-1}) - lr g(theta_k)."""
    iterates = [_copy(theta0)]
    previous = iterates[0]
    for beta in fista_momentums(steps):
        theta = iterates[-1]
        g = grad_fn(theta)
        iterates.append({k: theta[k] + beta * (theta[k] - previous[k]) - lr * g[k] for k in theta})
        previous = theta
    return iterates


def normal_fit(values: np.ndarray) -> tuple[float, float]:
    """Sample mean and standard deviation of every entry."""
    values = np.asarray(values, dtype=np.float64).ravel()
    return float(values.mean()), float(values.std())


def within_sampling_error(values: np.ndarray, mean: float, std: float, z: float = 5.0) -> bool:
    """Does a sample look like N(mean, std^2)? Mean within z standard errors,
    standard deviation within z of its (normal-theory) standard error."""
    m, s = normal_fit(values)
    n = np.size(values)
    return abs(m - mean) <= z * std / math.sqrt(n) and abs(s - std) <= z * std / math.sqrt(2 * n)
