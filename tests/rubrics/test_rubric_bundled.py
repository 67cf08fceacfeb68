"""The bundled rubrics: they load, and they say what their assignments say.

penguins-silu is the handout's rubric, so its criteria, points and
visibilities are pinned to the handout's table; the variants are checked for
the facts that make them variants (activation, penalty, sizes, gradient mode).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.oracle import Oracle
from grader.rubric import BUNDLED, Rubric, find_rubric, load_rubric
from reference import network as ref

BUNDLED_FILES = sorted(BUNDLED.glob("*.yaml"))

HANDOUT_POINTS = {
    "param-shapes": 5, "param-count": 5, "init": 5, "forward": 15, "loss": 5,
    "grad-W0": 6, "grad-b0": 6, "grad-W1": 6, "grad-b1": 6,
    "gd-step": 10, "nag-step": 16, "training": 15,
}
HANDOUT_PUBLIC = {"param-shapes", "param-count", "forward", "loss", "grad-W0", "grad-b0", "grad-W1", "grad-b1"}
HANDOUT_HIDDEN = {"init", "gd-step", "nag-step", "training"}


def test_the_bundled_rubrics_are_there():
    names = {p.stem for p in BUNDLED_FILES}
    assert {"penguins-silu", "penguins-softplus", "leakyrelu-elasticnet", "cifar-mlp"} <= names


@pytest.mark.parametrize("path", BUNDLED_FILES, ids=lambda p: p.stem)
def test_every_bundled_rubric_loads(path: Path):
    rubric = load_rubric(path)
    assert isinstance(rubric, Rubric)
    assert rubric.id == path.stem, "a bundled rubric's id is its file name"
    assert sum(c.points for c in rubric.criteria) == rubric.total_points
    for crit in rubric.criteria:
        crit.check_params()  # every criterion's params validate against its check


@pytest.mark.parametrize("path", BUNDLED_FILES, ids=lambda p: p.stem)
def test_found_by_id_and_by_path(path: Path):
    assert find_rubric(path.stem) == path
    assert find_rubric(path) == path
    assert find_rubric(str(path)) == path
    assert load_rubric(path.stem) == load_rubric(path) == load_rubric(str(path))


def test_penguins_silu_is_the_handouts_rubric():
    rubric = load_rubric("penguins-silu")
    assert [c.id for c in rubric.criteria] == list(HANDOUT_POINTS)
    assert {c.id: c.points for c in rubric.criteria} == HANDOUT_POINTS
    assert rubric.total_points == 100
    assert {c.id for c in rubric.criteria if c.visibility == "public"} == HANDOUT_PUBLIC
    assert {c.id for c in rubric.criteria if c.visibility == "hidden"} == HANDOUT_HIDDEN
    arch = rubric.assignment.architecture
    assert (arch.inputs, arch.outputs, arch.activation) == (4, 3, "silu")
    assert rubric.assignment.init.std == 0.05
    assert rubric.assignment.data.name == "penguins"


def test_penguins_softplus_is_silu_with_softplus():
    silu, softplus = load_rubric("penguins-silu"), load_rubric("penguins-softplus")
    assert softplus.assignment.architecture.activation == "softplus"
    assert "softplus" in softplus.title.lower()
    key = lambda r: [(c.id, c.points, c.visibility, c.check, c.params) for c in r.criteria]  # noqa: E731
    assert key(softplus) == key(silu)
    assert softplus.total_points == silu.total_points
    assert softplus.assignment.model_dump(exclude={"architecture"}) == silu.assignment.model_dump(exclude={"architecture"})
    assert softplus.interface == silu.interface


def test_leakyrelu_elasticnet_penalizes_both_weight_matrices():
    rubric = load_rubric("leakyrelu-elasticnet")
    arch = rubric.assignment.architecture
    assert (arch.activation, arch.alpha) == ("leaky_relu", 0.01)
    reg = rubric.assignment.regularization
    assert reg.l1 == {"W0": 0.001, "W1": 0.001}
    assert reg.l2 == {"W0": 0.01, "W1": 0.01}
    # the students get the same coefficients through the constructor
    assert rubric.interface.constructor_extra == {"l11": 0.001, "l12": 0.01, "l21": 0.001, "l22": 0.01}
    oracle = Oracle(rubric)
    assert oracle.kinky
    assert tuple(oracle.architecture().l1_coefficients) == (0.001, 0.001)
    assert tuple(oracle.architecture().l2_coefficients) == (0.01, 0.01)
    assert sum(c.points for c in rubric.criteria) == 100


def test_cifar_mlp_sizes_and_directional_gradients():
    rubric = load_rubric("cifar-mlp")
    arch = rubric.assignment.architecture
    assert arch.sizes == (3072, 512, 256, 10)
    assert arch.activation == "relu"
    assert rubric.assignment.data.name == "synthetic"
    assert tuple(Oracle(rubric).architecture().sizes) == arch.sizes
    assert ref.param_count(ref.Architecture(arch.sizes, "relu")) == 1_707_274
    blocks = {}
    for crit in rubric.criteria:
        params = crit.check_params()
        if crit.check == "gradient":
            blocks[params.block] = params
    assert sorted(blocks) == ["W0", "W1", "W2", "b0", "b1", "b2"]
    for params in blocks.values():
        assert params.mode == "directional"  # no sweep over 1.7 million coordinates
        assert params.hidden == [512, 256]
        assert 1 <= params.directions <= 8
    shapes = rubric.criterion("param-shapes").check_params()
    assert [512, 256] in shapes.hidden and len(shapes.hidden) >= 2
    # every probe network has the rubric's depth (the constructor gets a list)
    for crit in rubric.criteria:
        hidden = getattr(crit.check_params(), "hidden", None)
        variants = hidden if hidden and isinstance(hidden[0], list) else [hidden] if hidden else []
        assert all(len(h) == 2 for h in variants), crit.id


def test_cifar_data_and_probe_thetas_are_sane():
    """Synthetic data of the declared shape; probe parameters that keep the
    softmax away from saturation, so a student's log(p) stays finite."""
    import numpy as np

    rubric = load_rubric("cifar-mlp")
    oracle = Oracle(rubric)
    data = oracle.dataset
    spec = rubric.assignment.data
    assert data.x_train.shape == (spec.n_train, 3072) and data.x_test.shape == (spec.n_test, 3072)
    assert set(np.unique(data.y_train)) == set(range(10))
    theta = oracle.theta([512, 256], "gradient")
    x, y = oracle.batch(5, "gradient")
    probs = oracle.forward([512, 256], theta, x)
    assert probs.min() > 1e-12
    assert 0.5 < oracle.loss([512, 256], theta, x, y) < 50
