"""Check kinds a rubric criterion can name, plugin style.

Each entry is a module with ``Params``, ``observe`` and ``judge`` (see
``base``).  Adding a kind of check is adding a module and a line here.
"""

from __future__ import annotations

from types import ModuleType

from . import answers, forward, gd_step, gradient, init, loss, nag_step, param_count, param_shapes, training

REGISTRY: dict[str, ModuleType] = {
    "param_shapes": param_shapes,
    "param_count": param_count,
    "init": init,
    "forward": forward,
    "loss": loss,
    "gradient": gradient,
    "gd_step": gd_step,
    "nag_step": nag_step,
    "training": training,
    "answers": answers,
}
