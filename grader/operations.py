"""The canonical operations: everything a check may ask of a student's class.

Checks never call a student's method by name.  Each declares which of these
operations it needs (``Check.operations``); `grader.probe` carries them out
through the rubric's interface (today's default glue: the handout's
``NN(num_input=...)``, ``self.theta``, ``feed_forward``, ``loss``,
``back_propagate``, ``step``, ``train``).  This list is the one place that
says what the operations are, so the kit's skeleton, the message for a
missing method and `rubric validate`'s list of what a criterion needs all
come from here.

Each operation's answer is an observation like any other: the grader
validates it (`grader.checks.values`) before any judge sees it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:   # the schema imports this module (the method roles come from here)
    from .schema import Interface

__all__ = ["Operation", "OPERATIONS", "METHOD_ROLES", "operation", "methods_needed", "describe_needs"]


@dataclass(frozen=True)
class Operation:
    """One canonical operation.

    `role`: the key in the rubric's ``interface.methods`` that names the
    student's method carrying it out under the default glue (None: no method
    of its own, e.g. parameters are an attribute).  `signature` and `doc`
    are the default API's, shown in the kit's skeleton and in messages;
    `doc`'s {placeholders} are filled in the rubric's spelling and numbers
    by `grader.kit.skeleton_values`."""

    name: str
    summary: str
    role: str | None = None
    signature: str = ""
    doc: str = ""
    called: bool = True   # does the grader call the role's method itself (False: the constructor does)


OPERATIONS: dict[str, Operation] = {op.name: op for op in (
    Operation("construct", "build an instance from a seed and the layer sizes (parameters drawn by the init)",
              role="init_params", signature="init_params(self)", called=False,
              doc="Draw every parameter from N({mean}, {std}^2) into self.{theta}:\n{shapes}."),
    Operation("get_parameters", "read the parameters as canonical blocks W0, b0, ... (per the rubric's layout)"),
    Operation("set_parameters", "inject canonical parameters and read them back (they must stick)"),
    Operation("reset_optimizer", "start the optimizer afresh after parameters were injected "
              "(a fresh instance under the default glue)"),
    Operation("probabilities", "class probabilities for a batch x", role="feed_forward",
              signature="feed_forward(self, x)",
              doc="x: (S, {num_input}) array. Return class probabilities, {probabilities_shape}."),
    Operation("loss", "the loss at the current parameters for (x, y)", role="loss", signature="loss(self, x, y)",
              doc="{loss_text}; y: (S,) integer labels."),
    Operation("gradient", "the gradient of the loss at the current parameters, per block", role="back_propagate",
              signature="back_propagate(self, x, y)",
              doc="Gradient of loss(x, y) at the current self.{theta}, as a dict with\n"
                  "the same keys and shapes as self.{theta}."),
    Operation("step", "one iteration of the configured optimizer (GD or NAG) on (x, y)", role="step",
              signature="step(self, x, y)",
              doc='One iteration of self.{gradient_method} ("{gd}" or "{nag}") on (x, y).'),
    Operation("train", "n iterations of the optimizer, returning the loss per iteration", role="train",
              signature="train(self, x, y, num_iterations)",
              doc="Run num_iterations steps; return the list of training losses."),
)}


#: the keys of a rubric's `interface.methods`: the operations carried out by a method of their own
METHOD_ROLES: tuple[str, ...] = tuple(op.role for op in OPERATIONS.values() if op.role is not None)


def operation(name: str) -> Operation:
    """The operation called `name`; an unknown name is a programming error
    (registration of a check refuses it before any grading)."""
    try:
        return OPERATIONS[name]
    except KeyError:
        raise KeyError(f"unknown operation {name!r}; the canonical operations are "
                       f"{', '.join(OPERATIONS)}") from None


def methods_needed(names: tuple[str, ...] | list[str], interface: "Interface") -> list[str]:
    """The student's method names (the rubric's spelling) that `names` need
    the grader to call (construct's `init_params` is the constructor's business)."""
    out = []
    for name in names:
        op = operation(name)
        if op.role is not None and op.called:
            out.append(interface.method(op.role))
    return list(dict.fromkeys(out))


def describe_needs(names: tuple[str, ...] | list[str], interface: "Interface") -> str:
    """What a criterion needs from the class, in the rubric's spelling: for
    the message a student gets when a method is missing."""
    methods = ", ".join(f"{m}()" for m in methods_needed(names, interface))
    parts = [f"class {interface.class_name}"]
    if methods:
        parts.append(f"with {methods}")
    if any(n in ("get_parameters", "set_parameters", "construct") for n in names):
        parts.append(f"and self.{interface.parameters_attribute}")
    return " ".join(parts)
