"""The init check: every diagnosis on typed observations, and odd student
parameter containers through the real observe (never a grader-error).
Each test fails if its diagnosis is removed or mis-triggered."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pytest

from grader.checks import init
from grader.checks.base import GRADER_ERROR
from grader.rubric import RubricError, parse_rubric
from grader.schema import BUNDLED
from student_fakes import ODD_VALUES, grade_criterion, judge_declared


def init_obs(w_fn: Callable, b_fn: Callable, h: int = 500) -> init.Observation:
    rng = np.random.default_rng(1)
    return init.Observation((h,), {"W0": w_fn(rng, (h, 4)), "b0": b_fn(rng, (h, 1)),
                                   "W1": w_fn(rng, (3, h)), "b1": b_fn(rng, (3, 1))})


def normal(r, s):
    return 0.05 * r.standard_normal(s)


@pytest.mark.parametrize("w_fn, b_fn, diagnosis", [
    (normal, normal, None),
    (lambda r, s: np.full(s, 0.05), lambda r, s: np.zeros(s), "init-constant"),
    (lambda r, s: 0.5 * r.standard_normal(s), normal, "init-wrong-scale"),
    (lambda r, s: 0.05 + normal(r, s), normal, "init-wrong-scale"),   # the mean is off
    (lambda r, s: r.uniform(-0.05 * 3**0.5, 0.05 * 3**0.5, s), normal, "init-not-normal"),
    (lambda r, s: np.repeat(normal(r, (s[0] // 2, s[1])), 2, axis=0) if s[1] == 4 else normal(r, s), normal,
     "init-symmetric"),   # hidden units drawn in identical pairs
], ids=["normal", "constant", "spread", "mean", "uniform", "symmetric"])
def test_init_statistics(make_ctx, w_fn, b_fn, diagnosis):
    ctx = make_ctx("init")
    v = judge_declared(ctx, init_obs(w_fn, b_fn))
    if diagnosis is None:
        assert v.status == "passed" and v.diagnoses == [], v.feedback
    else:
        assert v.diagnoses == [diagnosis], v.feedback


def test_constant_weights_are_not_also_called_symmetric(make_ctx):
    ctx = make_ctx("init")
    v = judge_declared(ctx, init_obs(lambda r, s: np.full(s, 0.05), normal))
    assert v.diagnoses == ["init-constant"]


def test_non_finite_draws_are_bad_output(make_ctx):
    ctx = make_ctx("init")
    v = judge_declared(ctx, init_obs(lambda r, s: np.full(s, np.nan), normal))
    assert v.diagnoses == ["bad-output"] and v.fraction == 0.0 and "NaN" in v.feedback


def test_ks_pvalue_sane():
    rng = np.random.default_rng(3)
    _, p_normal = init.ks_pvalue(rng.normal(0, 1, 2000), 0, 1)
    _, p_shifted = init.ks_pvalue(rng.normal(0.3, 1, 2000), 0, 1)
    assert p_normal > 0.01 and p_shifted < 1e-6


def test_correct_student_passes_through_observe(silu_rubric):
    v = grade_criterion(silu_rubric, "init")
    assert v.status == "passed", v.feedback


@pytest.mark.parametrize("name", list(ODD_VALUES))
def test_odd_parameter_container_is_bad_output_never_a_grader_error(silu_rubric, name):
    """self.theta described as the right blocks, but read back as something else."""
    v = grade_criterion(silu_rubric, "init", parameters=lambda _: ODD_VALUES[name])
    assert v.status != GRADER_ERROR, v.notes
    assert v.fraction == 0.0 and v.diagnoses == ["bad-output"] and "self.theta" in v.feedback


@pytest.mark.parametrize("name", list(ODD_VALUES))
def test_odd_block_is_bad_output_naming_it(silu_rubric, name):
    v = grade_criterion(silu_rubric, "init", parameters=lambda theta: {**theta, "W1": ODD_VALUES[name]})
    assert v.status != GRADER_ERROR, v.notes
    assert v.diagnoses == ["bad-output"] and "W1" in v.feedback


def test_float32_parameters_are_read(silu_rubric):
    v = grade_criterion(silu_rubric, "init",
                        parameters=lambda theta: {k: a.astype(np.float32) for k, a in theta.items()})
    assert v.status == "passed", v.feedback


def test_one_layer_probe_on_a_two_layer_rubric_is_refused():
    text = (BUNDLED / "cifar-mlp.yaml").read_text()
    line = "    check: init\n    params: {hidden: [64, 32]}\n"
    assert line in text
    with pytest.raises(RubricError, match=r"hidden \[500\] has 1 hidden layer\(s\), the architecture 2"):
        parse_rubric(text.replace(line, "    check: init\n"), "cifar-mlp.yaml")
