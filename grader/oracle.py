"""The reference solution, configured by a rubric.

Everything the judges compare against comes from here and runs in the
grader's own process: probe inputs, probabilities, losses, gradients, the
gradients of known mistakes, trajectories.

Every reference computation goes through one door, `_answer`, so that an
oracle can *record* its answers (to build a student kit) or *replay* them
from a file (the kit's self-check), in which case the reference solution is
never imported.  Probe inputs are seeded from the rubric and the criterion,
so the questions a public check asks are known in advance.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Callable

import numpy as np

from reference.architecture import Architecture, weight_name

from .schema import ACTIVATIONS, Rubric
from .secret import CourseSecret

Params = dict[str, np.ndarray]

#: Probe weights are N(0, 0.5^2) up to this fan-in, N(0, 2 / fan_in) (He) above it.
PROBE_FAN_IN = 16


def stable_seed(*parts: object) -> int:
    """A seed derived from names, identical on every run and machine."""
    return zlib.crc32("/".join(str(p) for p in parts).encode()) & 0x7FFFFFFF


class AnswerMissing(LookupError):
    """A replaying oracle was asked a question its kit did not record."""


#: What judges may know of a network: its configuration, no mathematics.  It
#: is the reference's own `Architecture` (reference/architecture.py, which a
#: student kit ships without the solution); the old name is kept as an alias.
NetSpec = Architecture


@dataclass
class Oracle:
    rubric: Rubric
    record: dict[str, Any] | None = None          # filled when building a kit
    answers: dict[str, Any] | None = field(default=None, repr=False)  # replayed in a kit
    secret: CourseSecret | None = field(default=None, repr=False)      # final grading's questions

    @classmethod
    def for_rubric(cls, rubric: Rubric, secret: CourseSecret | None = None) -> "Oracle":
        """A computing oracle, or a replaying one when the rubric is a kit's.
        With a course secret every probe is seeded by it, so the questions
        differ from the public ones a kit records (a kit never has one)."""
        if rubric.answers:
            return cls(rubric, answers=load_answers(Path(rubric.answers)))
        return cls(rubric, secret=secret)

    # -- configuration --------------------------------------------------------
    def architecture(self, hidden: list[int] | None = None, activation: str | None = None) -> Architecture:
        """The rubric's network (or the same with other hidden sizes or
        activation, for probes): see `architecture_of`."""
        return architecture_of(self.rubric, hidden, activation)

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
        """Every probe's seed: public (rubric and names) or keyed by the secret."""
        if self.secret is not None:
            return self.secret.seed(self.rubric.id, self.rubric.seed, *parts)
        return stable_seed(self.rubric.id, self.rubric.seed, *parts)

    @property
    def nag_method(self) -> str:
        """The reference method the rubric asks for."""
        return "nag_fista" if self.rubric.assignment.optimizer.schedule == "fista" else "nag"

    # -- probe inputs (plain NumPy: a kit needs them without the reference) ------
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
        """A start point for probes.  N(0, 0.5^2) by default, larger than the
        assignment's init so hidden units leave the linear regime and
        activation mistakes show; wide layers (fan-in > 16, e.g. 3072 inputs)
        get std sqrt(2 / fan-in) so the softmax does not saturate."""
        spec = self.architecture(hidden)
        rng = np.random.default_rng(self.seed("theta", *hidden, *parts))
        theta: Params = {}
        for key, shape in spec.shapes().items():
            scale = 0.5 if std is None else std
            if std is None and key.startswith("W") and shape[1] > PROBE_FAN_IN:
                scale = float(np.sqrt(2.0 / shape[1]))
            theta[key] = scale * rng.standard_normal(shape)
        return theta

    # -- the data set (hidden checks and kits only) ----------------------------
    @cached_property
    def dataset(self) -> Any:
        spec = self.rubric.assignment.data
        arch = self.rubric.assignment.architecture
        if spec.name == "penguins":
            return _penguins(spec.seed)
        return _synthetic(spec.n_train or 0, spec.n_test or 0, arch.inputs, arch.outputs, spec.seed)

    # -- reference answers ---------------------------------------------------------
    def _answer(self, name: str, compute: Callable[[], Any], *args: Any, optional: Any = None) -> Any:
        """Compute (and maybe record) or replay one answer.  `optional` is
        what a replaying oracle returns for a diagnostic question its kit
        left out (e.g. mutants of a very large network)."""
        if self.answers is None and self.record is None:
            return compute()   # the common case: no hashing on hot paths
        key = answer_key(name, *args)
        if self.answers is not None:
            if key in self.answers:
                return self.answers[key]
            if optional is not None:
                return optional
            raise AnswerMissing(f"the kit has no recorded answer for {name}")
        value = compute()
        if self.record is not None:
            self.record[key] = value
        return value

    def forward(self, hidden: list[int], theta: Params, x: np.ndarray, activation: str | None = None) -> np.ndarray:
        spec = self.architecture(hidden, activation)
        optional = None if activation is None else np.full((spec.sizes[-1], x.shape[0]), np.nan)
        return self._answer("forward", lambda: _ref().forward(spec, theta, x), spec, theta, x,
                            optional=optional)

    def loss(self, hidden: list[int], theta: Params, x: np.ndarray, y: np.ndarray) -> float:
        spec = self.architecture(hidden)
        return self._answer("loss", lambda: _ref().loss(spec, theta, x, y), spec, theta, x, y)

    def data_loss(self, hidden: list[int], theta: Params, x: np.ndarray, y: np.ndarray) -> float:
        spec = self.architecture(hidden)
        return self._answer("data_loss", lambda: _ref().data_loss(spec, theta, x, y), spec, theta, x, y)

    def gradient(self, hidden: list[int], theta: Params, x: np.ndarray, y: np.ndarray) -> Params:
        spec = self.architecture(hidden)
        return self._answer("gradient", lambda: _ref().gradient(spec, theta, x, y), spec, theta, x, y)

    def data_gradient(self, hidden: list[int], theta: Params, x: np.ndarray, y: np.ndarray) -> Params:
        """The gradient without the elastic-net penalty."""
        spec = self.architecture(hidden)
        return self._answer("data_gradient", lambda: _ref().gradient(spec.without_penalty(), theta, x, y),
                            spec, theta, x, y)

    def accuracy(self, hidden: list[int], theta: Params, x: np.ndarray, y: np.ndarray) -> float:
        spec = self.architecture(hidden)
        return self._answer("accuracy", lambda: _ref().accuracy(spec, theta, x, y), spec, theta, x, y)

    def gradient_mutants(self, hidden: list[int], theta: Params, x: np.ndarray, y: np.ndarray) -> dict[str, Params]:
        """Gradients of the classic backprop mistakes, keyed by diagnosis id."""
        spec = self.architecture(hidden)
        return self._answer("gradient_mutants", lambda: _mutants().gradient_mutants(spec, theta, x, y),
                            spec, theta, x, y, optional={})

    def activation_gradients(self, hidden: list[int], theta: Params, x: np.ndarray, y: np.ndarray) -> dict[str, Params]:
        """Correct gradients of the same network with every other activation."""
        spec = self.architecture(hidden)
        return self._answer("activation_gradients",
                            lambda: _mutants().activation_mutants(spec, theta, x, y, ACTIVATIONS),
                            spec, theta, x, y, optional={})

    def single_sample_gradients(self, hidden: list[int], theta: Params, x: np.ndarray,
                                y: np.ndarray) -> dict[str, Params]:
        """Gradients from one sample only, by label ('sample 4 / S', ...)."""
        spec = self.architecture(hidden)
        return self._answer("single_sample_gradients",
                            lambda: dict(_mutants().single_sample_bias_gradients(spec, theta, x, y)),
                            spec, theta, x, y, optional={})

    def trajectory(self, method: str, grad_fn: Callable[[Params], Params], theta0: Params, steps: int,
                   lr: float, momentum: float) -> Any:
        from reference import optimizers

        return optimizers.trajectory(method, grad_fn, theta0, steps, lr, momentum)

    def memo(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """Student-independent work done once per rubric per process (e.g.
        the reference's training curves from the fixed start).  `key` must
        name everything the result depends on besides the rubric."""
        cache = self.__dict__.setdefault("_memo", {})
        if key not in cache:
            cache[key] = compute()
        return cache[key]

    # -- kits ---------------------------------------------------------------------
    def recorded(self) -> dict[str, Any]:
        """The recorded answers as a JSON-ready document."""
        from .sandbox import worker as wire

        return {"format": "nngrade-answers/1", "rubric": self.rubric.id,
                "answers": {k: wire.encode(v, np) for k, v in sorted((self.record or {}).items())}}


def architecture_of(rubric: Rubric, hidden: list[int] | None = None,
                    activation: str | None = None) -> Architecture:
    """The network a rubric describes, in the reference's terms: the one
    conversion from the rubric's `assignment` to an `Architecture` (the
    oracle, the kit's skeleton).  `hidden` and `activation` replace the
    rubric's for probe networks; elastic-net coefficients come one per
    weight matrix (0 where the rubric names none)."""
    spec = rubric.assignment.architecture
    hidden = list(hidden) if hidden is not None else list(spec.hidden)
    reg = rubric.assignment.regularization
    layers = range(len(hidden) + 1)
    return Architecture(sizes=(spec.inputs, *hidden, spec.outputs), activation=activation or spec.activation,
                        alpha=spec.alpha, loss=rubric.assignment.loss,
                        l1=tuple(float(reg.l1.get(weight_name(i), 0.0)) for i in layers),
                        l2=tuple(float(reg.l2.get(weight_name(i), 0.0)) for i in layers))


def load_answers(path: Path) -> dict[str, Any]:
    from .sandbox import worker as wire

    doc = json.loads(path.read_text(encoding="utf-8"))
    if doc.get("format") != "nngrade-answers/1":
        raise ValueError(f"{path}: not an nngrade answers file")
    return {k: wire.decode(v, np) for k, v in doc["answers"].items()}


def answer_key(name: str, *args: Any) -> str:
    """A digest of a question: its name and the exact bytes of its inputs."""
    sha = hashlib.sha256(name.encode())
    for arg in args:
        _feed(sha, arg)
    return sha.hexdigest()


def _feed(sha: Any, value: Any) -> None:
    if isinstance(value, np.ndarray):
        arr = np.ascontiguousarray(value)
        sha.update(f"nd{arr.dtype.str}{arr.shape}".encode())
        sha.update(arr.tobytes())
    elif isinstance(value, dict):
        for key in sorted(value):
            sha.update(f"k{key}".encode())
            _feed(sha, value[key])
    elif isinstance(value, Architecture):
        sha.update(repr(value).encode())
    elif isinstance(value, (list, tuple)):
        sha.update(b"[")
        for item in value:
            _feed(sha, item)
        sha.update(b"]")
    else:
        sha.update(repr(value).encode())


def _ref() -> Any:
    from reference import network

    return network


def _mutants() -> Any:
    """`grader.mutants` (it imports the reference: only when an answer is computed, never in a kit)."""
    from . import mutants

    return mutants


@lru_cache(maxsize=4)
def _penguins(seed: int) -> Any:
    from reference import data

    return data.penguins(seed=seed)


@lru_cache(maxsize=4)
def _synthetic(n_train: int, n_test: int, n_features: int, n_classes: int, seed: int) -> Any:
    from reference import data

    return data.synthetic(n_train, n_test, n_features, n_classes, seed)
