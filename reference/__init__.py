"""The oracle: a plain float64 NumPy implementation of everything the
homework asks for, which the grader compares student code against."""

from .activations import ACTIVATION_NAMES, Activation, get_activation
from .data import Dataset, load_dataset, penguins, synthetic
from .network import (
    LOSS_NAMES,
    MLP,
    Architecture,
    accuracy,
    data_loss,
    flatten,
    forward,
    forward_cache,
    gradient,
    init_params,
    log_probabilities,
    loss,
    param_count,
    param_shapes,
    penalty,
    unflatten,
)
from .optimizers import (
    METHODS,
    Trajectory,
    fista_momentums,
    nag_iterates_from_stored,
    nag_stored_from_iterates,
    trajectory,
)

__all__ = [
    "ACTIVATION_NAMES",
    "LOSS_NAMES",
    "METHODS",
    "MLP",
    "Activation",
    "Architecture",
    "Dataset",
    "Trajectory",
    "accuracy",
    "data_loss",
    "fista_momentums",
    "flatten",
    "forward",
    "forward_cache",
    "get_activation",
    "gradient",
    "init_params",
    "load_dataset",
    "log_probabilities",
    "loss",
    "nag_iterates_from_stored",
    "nag_stored_from_iterates",
    "param_count",
    "param_shapes",
    "penalty",
    "penguins",
    "synthetic",
    "trajectory",
    "unflatten",
]
