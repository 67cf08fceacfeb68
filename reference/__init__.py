"""The oracle: a plain float64 NumPy implementation of everything the
homework asks for, which the grader compares student code against.

Names are imported on first use (PEP 562), not when the package is: the
grader imports `reference.architecture` (the network's configuration, the
one source of block names and shapes) on every check, and that must not
load the solution's mathematics with it -- a student kit ships that one
module without the rest (`grader/kitpkg.py`).  `from reference import
forward` and `reference.network` work as before.
"""

from __future__ import annotations

import importlib
from typing import Any

#: the submodule each public name lives in
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("ACTIVATION_NAMES", "LOSS_NAMES", "Architecture", "block_names", "block_shapes",
                     "param_count", "param_shapes"), "architecture"),
    **dict.fromkeys(("Activation", "get_activation"), "activations"),
    **dict.fromkeys(("Dataset", "load_dataset", "penguins", "synthetic"), "data"),
    **dict.fromkeys(("MLP", "accuracy", "data_loss", "flatten", "forward", "forward_cache", "gradient",
                     "init_params", "log_probabilities", "loss", "penalty", "unflatten"), "network"),
    **dict.fromkeys(("METHODS", "Trajectory", "fista_momentums", "nag_iterates_from_stored",
                     "nag_stored_from_iterates", "trajectory"), "optimizers"),
}
_SUBMODULES = ("activations", "architecture", "data", "network", "optimizers")

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import a public name's (or a submodule's) module when first asked for."""
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS, *_SUBMODULES})
