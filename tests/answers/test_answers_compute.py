"""The reference computations of written questions, checked by hand and
against the reference network."""

from __future__ import annotations

import numpy as np

from grader.answers import compute
from grader.checks.answers import WorkedNetwork
from grader.rubric import load_rubric
from reference import network as ref

NET = WorkedNetwork(x=[1, 0], weights=[[[3, 6], [4, 5]], [[2, 3], [4, 3]]], biases=[[1, -6], [-1, -2]],
                    weight_layout="in_out", activation="sigmoid", output="softmax", loss="half_squared_error",
                    target=[0, 1], lr=0.5)


def test_counts():
    assert compute.count([3072, 512, 256, 10]) == 1_707_274
    assert compute.count([4, 16, 3]) == 8 * 16 + 3
    assert compute.count([3072, 512, 120, 10]) == 1_636_146


def test_count_mistakes():
    values = {c.key: c.value for c in compute.count_candidates([3072, 512, 256, 10], ["3072", "512", "256", "10"])}
    assert values["bias:2"] == 1_707_264                      # the seed report's total
    assert values["biases"] == 1_707_274 - 778
    assert values["biases-twice"] == 1_707_274 + 778
    assert values["weights:0"] == 1_707_274 - 3072 * 512
    assert values["inputs:3"] == compute.count([3075, 512, 256, 10]) == 1_708_810
    assert compute.slip(1_707_264, 1_707_274).fields["off"] == "10"
    assert compute.slip(1_707_174, 1_707_274) is not None
    assert compute.slip(1_707_263, 1_707_274) is None


def test_closest_depth_is_five_and_four_is_rounded_down():
    answer = compute.closest_depth([3072, 512, 120], 120, [10], 1_707_274)
    assert answer.best == 5
    assert abs(answer.real - 4.9) < 0.01
    assert answer.counts[4] == 1_636_146 + 4 * 14_520 and answer.counts[5] == 1_636_146 + 5 * 14_520
    named = {c.mistake: c.value for c in compute.depth_candidates([3072, 512, 120], 120, [10], 1_707_274)}
    assert named == {"answer-rounded-down": 4}


def test_worked_example_matches_the_handout_and_numpy():
    v = compute.worked_example(NET)
    assert np.allclose(v["hidden"], [0.98201379, 0.5])
    assert np.allclose(v["output"], [0.62667675, 0.37332325])
    assert np.allclose(v["grad:b2"], [0.29322581, -0.29322581])
    assert np.allclose(v["step:W2"], [[1.8560241, 3.1439759], [3.92669355, 3.07330645]])


def test_worked_example_agrees_with_the_reference_network():
    """The reference uses z = W x + b with W (n_out, n_in): the stated (W)^T."""
    arch = ref.Architecture(sizes=(2, 2, 2), activation="sigmoid", loss="squared_error")
    theta = {"W0": np.array([[3.0, 6], [4, 5]]).T, "b0": np.array([[1.0], [-6]]),
             "W1": np.array([[2.0, 3], [4, 3]]).T, "b1": np.array([[-1.0], [-2]])}
    x, y = np.array([[1.0, 0.0]]), np.array([1])
    grad = ref.gradient(arch, theta, x, y)
    v = compute.worked_example(NET)
    assert np.allclose(grad["W1"].T, v["grad:W2"]) and np.allclose(grad["b1"].ravel(), v["grad:b2"])
    assert np.allclose(grad["W0"].T, v["grad:W1"]) and np.allclose(grad["b0"].ravel(), v["grad:b1"])
    assert np.isclose(ref.loss(arch, theta, x, y), float(v["loss"]))


def test_worked_mistakes_differ_from_the_right_values():
    right = compute.worked_example(NET)
    assert np.allclose(compute.worked_example(NET, no_half=True)["grad:b2"], 2 * right["grad:b2"])
    assert np.allclose(compute.worked_example(NET, no_jacobian=True)["grad:b2"], right["output"] - [0, 1])
    at = compute.worked_example(NET, at_activation=True)["grad:b1"]
    assert np.allclose(at, [-0.05812917, 0.06890915])
    assert np.allclose(compute.worked_example(NET, step_sign=True)["step:W2"], NET.weights[1] + 0.5 * right["grad:W2"])


def test_bundled_worked_rubric_states_the_same_network():
    rubric = load_rubric("backprop-worked-example")
    for crit in rubric.criteria:
        assert crit.check_params().quantity.network == NET
