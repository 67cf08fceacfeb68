"""Penguins and synthetic data: sizes, stratification, determinism, scaling."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference.data import (
    PENGUIN_CLASSES,
    PENGUIN_FEATURES,
    _penguin_table,
    load_dataset,
    penguins,
    stratified_split,
    stratified_test_counts,
    synthetic,
)


def test_penguin_table() -> None:
    x, y = _penguin_table()
    assert x.shape == (342, 4) and y.shape == (342,)
    assert np.bincount(y).tolist() == [151, 68, 123]
    assert not x.flags.writeable  # the cached table cannot be corrupted by a caller
    assert x[0].tolist() == [39.1, 18.7, 181.0, 3750.0]


def test_penguins_split_sizes_types_and_names() -> None:
    data = penguins()
    assert data.x_train.shape == (280, 4) and data.x_test.shape == (62, 4)
    assert data.y_train.shape == (280,) and data.y_test.shape == (62,)
    assert data.x_train.dtype == np.float64 and data.y_train.dtype == np.int64
    assert data.feature_names == PENGUIN_FEATURES and data.class_names == PENGUIN_CLASSES
    assert (data.num_features, data.num_classes, data.name) == (4, 3, "penguins")


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_penguins_test_split_is_stratified(seed: int) -> None:
    counts = np.bincount(penguins(seed).y_test, minlength=3)
    quotas = 62 * np.array([151, 68, 123]) / 342
    assert counts.sum() == 62 and np.all(np.abs(counts - quotas) < 1)


def test_penguins_deterministic_per_seed() -> None:
    a, b, c = penguins(0), penguins(0), penguins(1)
    for field in ("x_train", "y_train", "x_test", "y_test"):
        assert np.array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.x_test, c.x_test)


def test_penguins_standardized_with_training_statistics() -> None:
    data = penguins()
    assert np.allclose(data.x_train.mean(axis=0), 0.0, atol=1e-12)
    assert np.allclose(data.x_train.std(axis=0), 1.0, rtol=1e-12)
    raw, _ = _penguin_table()
    train, test = stratified_split(_penguin_table()[1], 62, 0)
    mean, std = raw[train].mean(axis=0), raw[train].std(axis=0)
    assert np.allclose(data.x_test, (raw[test] - mean) / std, rtol=1e-13)


def test_split_partitions_the_rows() -> None:
    y = _penguin_table()[1]
    train, test = stratified_split(y, 62, 3)
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(342))


def test_largest_remainder_counts() -> None:
    assert stratified_test_counts(np.array([151, 68, 123]), 62).tolist() == [28, 12, 22]


@given(
    counts=st.lists(st.integers(1, 200), min_size=1, max_size=8),
    fraction=st.floats(0, 1),
)
def test_largest_remainder_counts_property(counts: list[int], fraction: float) -> None:
    counts_arr = np.array(counts)
    test_size = int(fraction * counts_arr.sum())
    allocated = stratified_test_counts(counts_arr, test_size)
    quotas = test_size * counts_arr / counts_arr.sum()
    assert allocated.sum() == test_size
    assert np.all(np.abs(allocated - quotas) < 1) and np.all(allocated <= counts_arr)


def test_synthetic_cifar_sized() -> None:
    data = synthetic(n_train=20, n_test=10, n_features=3072, n_classes=10, seed=4)
    assert data.x_train.shape == (20, 3072) and data.x_test.shape == (10, 3072)
    assert data.y_train.dtype == np.int64 and set(np.unique(data.y_train)) <= set(range(10))
    assert len(np.unique(np.concatenate([data.y_train, data.y_test]))) == 10
    assert (data.num_features, data.num_classes, data.name) == (3072, 10, "synthetic")
    assert np.allclose(data.x_train.mean(axis=0), 0.0, atol=1e-12)
    assert np.allclose(data.x_train.std(axis=0), 1.0)


def test_synthetic_deterministic_and_separable() -> None:
    a, b = synthetic(200, 50, 4, 3, seed=1), synthetic(200, 50, 4, 3, seed=1)
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.x_train, synthetic(200, 50, 4, 3, seed=2).x_train)
    # nearest class mean already classifies most test points: the blobs are separable-ish
    means = np.stack([a.x_train[a.y_train == c].mean(axis=0) for c in range(3)])
    predicted = np.argmin(((a.x_test[:, None, :] - means) ** 2).sum(axis=2), axis=1)
    assert np.mean(predicted == a.y_test) > 0.7


def test_load_dataset() -> None:
    assert np.array_equal(load_dataset({"name": "penguins", "seed": 3}).x_test, penguins(3).x_test)
    spec = {"name": "synthetic", "n_train": 5, "n_test": 2, "n_features": 3, "n_classes": 2, "seed": 0}
    assert load_dataset(spec).x_train.shape == (5, 3)
    assert spec["name"] == "synthetic"  # the caller's dict is left alone
    with pytest.raises(ValueError, match="penguins"):
        load_dataset({"name": "cifar"})
    with pytest.raises(ValueError, match="bad options"):
        load_dataset({"name": "penguins", "colour": "blue"})
