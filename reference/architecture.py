"""The network's configuration: layer sizes, the activation's and the loss's
names, elastic-net coefficients, and the parameter blocks with their shapes.

This is the one place that says what the parameters of a network are
(``W{i}`` of shape ``(n_out, n_in)``, ``b{i}`` of shape ``(n_out, 1)``, in
the order W0, b0, W1, b1, ...) and how many there are.  The reference
(``reference.network``), the grader's oracle, its probe of a student's
class and the student kit's skeleton all read them from here.

Why a module of its own: the student kit ships its checker *without* the
reference solution, yet its checks need the shapes.  So this file holds
configuration only -- the standard library, no NumPy, no formula of the
solution -- and the kit ships it as it is (``grader/kitpkg.py``;
``tests/kit/test_kit_package.py`` holds it to that).  The activation
functions themselves stay in ``reference.activations``, imported only when
``Architecture.activation_fn`` is asked for (never in a kit).
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:   # the type only: the formulas are never imported with this module
    from .activations import Activation

__all__ = ["ACTIVATION_NAMES", "LOSS_NAMES", "Architecture", "block_names", "block_order", "block_shapes",
           "bias_name", "count_parameters", "param_count", "param_shapes", "weight_name"]

#: Every activation name ``Architecture.activation`` accepts (``reference.activations``
#: implements exactly these; a test holds the two together).
ACTIVATION_NAMES: tuple[str, ...] = ("silu", "softplus", "relu", "leaky_relu", "sigmoid", "tanh")

#: Every loss ``Architecture.loss`` accepts.
LOSS_NAMES: tuple[str, ...] = ("cross_entropy", "squared_error")

Shape = tuple[int, ...]


def weight_name(layer: int) -> str:
    """The canonical name of layer `layer`'s weight matrix: W0, W1, ..."""
    return f"W{layer}"


def bias_name(layer: int) -> str:
    """The canonical name of layer `layer`'s bias vector: b0, b1, ..."""
    return f"b{layer}"


def block_names(num_layers: int) -> list[str]:
    """Canonical block names in canonical order: W0, b0, W1, b1, ..."""
    return [name for i in range(num_layers) for name in (weight_name(i), bias_name(i))]


_KEY = re.compile(r"([Wb])(\d+)")


def block_order(key: str) -> tuple[int, int]:
    """Sort key of a canonical block name: (layer, 0 for W / 1 for b).
    Anything else is not a block of any network (ValueError)."""
    match = _KEY.fullmatch(key)
    if match is None:
        raise ValueError(f"not a canonical parameter name: {key!r} (expected W0, b0, W1, ...)")
    return int(match.group(2)), 0 if match.group(1) == "W" else 1


def block_shapes(sizes: tuple[int, ...] | list[int]) -> dict[str, tuple[int, int]]:
    """Canonical shapes of a network with layer widths `sizes`, in canonical
    order: ``W{i}`` is (n_out, n_in), ``b{i}`` is (n_out, 1) -- a column, so
    z = W a + b broadcasts over the samples' columns."""
    shapes: dict[str, tuple[int, int]] = {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        shapes[weight_name(i)] = (int(n_out), int(n_in))
        shapes[bias_name(i)] = (int(n_out), 1)
    return shapes


def count_parameters(sizes: tuple[int, ...] | list[int]) -> int:
    """Learnable scalars of a network with layer widths `sizes`: every entry
    of every block, e.g. 8 N_H + 3 for sizes (4, N_H, 3)."""
    return sum(math.prod(shape) for shape in block_shapes(sizes).values())


@dataclass(frozen=True)
class Architecture:
    """Everything that defines the function a network computes, except theta.

    ``sizes`` lists layer widths from inputs to outputs. ``l1``/``l2`` hold one
    elastic-net coefficient per weight matrix (W0, W1, ...); empty means no
    regularization. Lists are accepted and frozen to tuples, so an
    architecture read from a rubric YAML file is hashable and comparable
    (its ``repr`` keys the oracle's recorded answers).
    """

    sizes: tuple[int, ...]
    activation: str = "silu"
    alpha: float = 0.01
    loss: str = "cross_entropy"
    l1: tuple[float, ...] = ()
    l2: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        sizes = tuple(operator.index(n) for n in self.sizes)
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"sizes needs >= 2 positive widths, got {sizes}")
        object.__setattr__(self, "sizes", sizes)
        object.__setattr__(self, "alpha", float(self.alpha))
        if self.activation not in ACTIVATION_NAMES:
            raise ValueError(f"unknown activation {self.activation!r}; known: {', '.join(ACTIVATION_NAMES)}")
        if self.loss not in LOSS_NAMES:
            raise ValueError(f"unknown loss {self.loss!r}; known: {', '.join(LOSS_NAMES)}")
        for field in ("l1", "l2"):
            coeffs = tuple(float(c) for c in getattr(self, field))
            if coeffs and len(coeffs) != self.num_layers:
                raise ValueError(
                    f"{field} has {len(coeffs)} coefficients but the network has "
                    f"{self.num_layers} weight matrices"
                )
            if any(not math.isfinite(c) or c < 0 for c in coeffs):
                raise ValueError(f"{field} coefficients must be finite and >= 0, got {coeffs}")
            object.__setattr__(self, field, coeffs)

    @property
    def num_layers(self) -> int:
        """Number of weight matrices (= hidden layers + 1)."""
        return len(self.sizes) - 1

    @property
    def activation_fn(self) -> "Activation":
        """The hidden-layer activation as an object with value/derivative.
        Imported here, not at the top: the formulas are the solution's."""
        from .activations import get_activation

        return get_activation(self.activation, self.alpha)

    @property
    def l1_coefficients(self) -> tuple[float, ...]:
        """``l1`` padded with zeros to one entry per weight matrix."""
        return self.l1 or (0.0,) * self.num_layers

    @property
    def l2_coefficients(self) -> tuple[float, ...]:
        """``l2`` padded with zeros to one entry per weight matrix."""
        return self.l2 or (0.0,) * self.num_layers

    @property
    def penalized(self) -> bool:
        """Does the loss carry an elastic-net penalty at all?"""
        return any(self.l1_coefficients) or any(self.l2_coefficients)

    def without_penalty(self) -> "Architecture":
        """The same network with the elastic-net penalty left out (the data loss's)."""
        return replace(self, l1=(), l2=())

    def block_names(self) -> list[str]:
        """W0, b0, W1, b1, ... for this network."""
        return block_names(self.num_layers)

    def shapes(self) -> dict[str, tuple[int, int]]:
        """Canonical shapes, in canonical order (see `block_shapes`)."""
        return block_shapes(self.sizes)

    def param_count(self) -> int:
        """Number of learnable scalars (see `count_parameters`)."""
        return count_parameters(self.sizes)


def param_shapes(arch: Architecture) -> dict[str, tuple[int, int]]:
    """Shapes in canonical key order W0, b0, W1, b1, ... (``arch.shapes()``)."""
    return arch.shapes()


def param_count(arch: Architecture) -> int:
    """Number of learnable scalars (``arch.param_count()``)."""
    return arch.param_count()
