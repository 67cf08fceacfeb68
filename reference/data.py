"""Data sets the reference trains on: Palmer penguins and synthetic blobs.

Both come back as a standardized train/test ``Dataset`` so the grader, the
training check and the tests see exactly what the handout describes.
"""

from __future__ import annotations

import csv
import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

PENGUIN_FEATURES: tuple[str, ...] = (
    "bill_length_mm",
    "bill_depth_mm",
    "flipper_length_mm",
    "body_mass_g",
)
PENGUIN_CLASSES: tuple[str, ...] = ("Adelie", "Chinstrap", "Gentoo")


@dataclass(frozen=True, eq=False)
class Dataset:
    """Standardized features (S, F) float64 and labels (S,) int64, split in two.

    ``eq=False``: arrays do not compare with ``==``, so identity is the only
    sensible equality (and keeps the object hashable).
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    name: str

    @property
    def num_features(self) -> int:
        return len(self.feature_names)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def _standardized(
    x_train: np.ndarray, x_test: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Scale both splits with the *training* mean and std (ddof=0), as the
    handout says; a constant feature is only centred."""
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return (x_train - mean) / std, (x_test - mean) / std


# --- penguins ----------------------------------------------------------------


def _penguins_csv() -> Path:
    """The CSV inside the installed ``palmerpenguins`` wheel.

    Located with ``find_spec`` rather than by importing the package, because
    its ``__init__`` imports pandas, which we do not need.
    """
    spec = importlib.util.find_spec("palmerpenguins")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the 'palmerpenguins' package is not installed (pip install palmerpenguins)")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "penguins.csv"


@functools.lru_cache(maxsize=1)
def _penguin_table() -> tuple[np.ndarray, np.ndarray]:
    """Raw features (342, 4) and labels (342,), file order, rows with a missing
    feature dropped. Cached (and read-only) because every grading run asks."""
    features, labels = [], []
    with _penguins_csv().open(newline="") as handle:
        for row in csv.DictReader(handle):
            values = [row[name] for name in PENGUIN_FEATURES]
            if any(v in ("", "NA") for v in values):
                continue
            features.append([float(v) for v in values])
            labels.append(PENGUIN_CLASSES.index(row["species"]))
    x = np.array(features, dtype=np.float64)
    y = np.array(labels, dtype=np.int64)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def stratified_test_counts(class_counts: np.ndarray, test_size: int) -> np.ndarray:
    """Test samples per class, proportional to the class sizes.

    Largest-remainder rounding: floor every quota, then give the leftover
    samples to the largest fractional parts (ties to the lower class index).
    """
    class_counts = np.asarray(class_counts, dtype=np.int64)
    quotas = test_size * class_counts / class_counts.sum()
    counts = np.floor(quotas).astype(np.int64)
    leftover = test_size - int(counts.sum())
    order = np.argsort(-(quotas - counts), kind="stable")
    counts[order[:leftover]] += 1
    return counts


def stratified_split(y: np.ndarray, test_size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and test row indices, each sorted (table order).

    Per class, in class order, one ``rng.permutation`` of that class's rows;
    its first ``count`` rows go to the test split.
    """
    classes = np.unique(y)
    if not 0 <= test_size <= y.shape[0]:
        raise ValueError(f"test_size must lie in [0, {y.shape[0]}], got {test_size}")
    counts = stratified_test_counts(np.array([np.sum(y == c) for c in classes]), test_size)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c, count in zip(classes, counts):
        rows = rng.permutation(np.flatnonzero(y == c))
        test.append(rows[:count])
        train.append(rows[count:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def penguins(seed: int = 0, test_size: int = 62) -> Dataset:
    """The handout's data: 342 penguins, stratified 280/62 split, standardized."""
    x, y = _penguin_table()
    train, test = stratified_split(y, test_size, seed)
    x_train, x_test = _standardized(x[train], x[test])
    return Dataset(
        x_train=x_train,
        y_train=y[train].copy(),
        x_test=x_test,
        y_test=y[test].copy(),
        feature_names=PENGUIN_FEATURES,
        class_names=PENGUIN_CLASSES,
        name="penguins",
    )


# --- synthetic ---------------------------------------------------------------


def synthetic(
    n_train: int,
    n_test: int,
    n_features: int,
    n_classes: int,
    seed: int = 0,
    separation: float = 2.0,
) -> Dataset:
    """Gaussian blobs: class means ~ N(0, separation^2) per feature, unit noise.

    Labels cycle through the classes before shuffling, so every class appears
    whenever there are at least ``n_classes`` samples. Deterministic in
    ``seed``; sized for any shape the rubrics need (e.g. 3072 features, 10
    classes, a handful of samples for a CIFAR-sized network).
    """
    if min(n_train, n_features, n_classes) < 1 or n_test < 0:
        raise ValueError("need n_train, n_features, n_classes >= 1 and n_test >= 0")
    rng = np.random.default_rng(seed)
    means = rng.normal(0.0, separation, size=(n_classes, n_features))
    n = n_train + n_test
    y = rng.permutation(np.arange(n) % n_classes).astype(np.int64)
    x = means[y] + rng.normal(size=(n, n_features))
    x_train, x_test = _standardized(x[:n_train], x[n_train:])
    return Dataset(
        x_train=x_train,
        y_train=y[:n_train],
        x_test=x_test,
        y_test=y[n_train:],
        feature_names=tuple(f"x{i}" for i in range(n_features)),
        class_names=tuple(f"class{c}" for c in range(n_classes)),
        name="synthetic",
    )


_LOADERS = {"penguins": penguins, "synthetic": synthetic}


def load_dataset(spec: dict[str, Any]) -> Dataset:
    """Build a data set from a rubric entry such as ``{"name": "penguins", "seed": 0}``."""
    options = dict(spec)
    name = options.pop("name", None)
    if name not in _LOADERS:
        raise ValueError(f"unknown data set {name!r}; known: {', '.join(_LOADERS)}")
    try:
        return _LOADERS[name](**options)
    except TypeError as error:
        raise ValueError(f"bad options for data set {name!r}: {error}") from error
