"""The gradient check's judge, on synthetic typed observations.

Each known mistake is reproduced with the reference's own numbers, mutated
the way the mistake mutates them, at both probe points (the second probe
confirms a family fit), without starting a student process.  Each test
fails if its diagnosis is removed or mis-triggered.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader import mutants
from grader.adapter import BlockLayout, Layout
from grader.checks import REGISTRY, gradient
from grader.checks.base import Context
from grader.checks.gradient import FiniteDifferences, Observation, StudentGradient
from grader.checks.gradient_families import FAMILY_MISTAKES, MUTANT_SAYS
from grader.checks.loss import loss_from_probabilities
from grader.engine import Observed, judge_criterion
from grader.mistakes import MISTAKES
from grader.oracle import Oracle
from grader.probe import FLOAT64_EPS
from grader.rubric import find_rubric, load_rubric, parse_rubric
from reference import network as ref


@dataclass(frozen=True)
class At:
    """Where a synthetic student computes its gradient."""

    hidden: list[int]
    theta: dict
    x: np.ndarray
    y: np.ndarray

    @property
    def samples(self) -> int:
        return self.x.shape[0]


Transform = Callable[[str, np.ndarray, At], Any]


def _student(ctx: Context, at: At, transform: Transform) -> StudentGradient:
    true = ctx.oracle.gradient(at.hidden, at.theta, at.x, at.y)
    grads = {k: transform(k, v.copy(), at) for k, v in true.items()}
    return StudentGradient(at.theta, at.x, at.y, grads, {k: "ok" for k in grads})


def synthetic(ctx: Context, transform: Transform = lambda k, g, at: g, *, second: Transform | None = None,
              fd_from: Callable | None = None, own_loss: Callable | None = None) -> Observation:
    """The observation of a student whose back_propagate is `transform(reference)`
    at the first probe and `second` (default the same) at the confirming one,
    whose loss is the reference's (fd = exact reference projections) or
    `own_loss` (a function of hidden, theta, x, y) with fd from `fd_from`."""
    params = ctx.criterion.check_params()
    hidden = list(params.hidden)
    first = At(hidden, *gradient.probe_inputs(ctx, params))
    confirm = At(hidden, *gradient.confirm_inputs(ctx, params))
    source = (fd_from or ctx.oracle.gradient)(hidden, first.theta, first.x, first.y)
    size = first.theta[params.block].size
    fd = FiniteDifferences(np.ravel(source[params.block]), np.arange(size), None, params.h,
                           float((own_loss or ctx.oracle.loss)(hidden, first.theta, first.x, first.y)))
    return Observation(params.block, tuple(hidden), _student(ctx, first, transform),
                       _student(ctx, confirm, second or transform), fd, FLOAT64_EPS, False, {})


def judge(ctx: Context, obs: Observation):
    """Judged as the engine judges (a failure of the judge is a grader-error verdict)."""
    return judge_criterion(Observed(REGISTRY["gradient"], ctx, ctx.criterion.check_params(), obs))


def mutant_of(ctx: Context, diagnosis: str) -> Transform:
    return lambda k, g, at: ctx.oracle.gradient_mutants(at.hidden, at.theta, at.x, at.y)[diagnosis][k]


@pytest.fixture(scope="module")
def elastic() -> Any:
    return load_rubric("leakyrelu-elasticnet")


@pytest.fixture(scope="module")
def squared() -> Any:
    source = find_rubric("penguins-silu").read_text()
    assert "loss: cross_entropy" in source
    return parse_rubric(source.replace("loss: cross_entropy", "loss: squared_error"))


# -- right and plainly wrong ----------------------------------------------------------------------

@pytest.mark.parametrize("block", ["W0", "b0", "W1", "b1"])
def test_correct_gradient_passes(make_ctx, block):
    ctx = make_ctx(f"grad-{block}")
    verdict = judge(ctx, synthetic(ctx))
    assert verdict.status == "passed" and verdict.fraction == 1.0 and verdict.diagnoses == []


def test_unknown_gradient_error_reports_numbers(make_ctx):
    ctx = make_ctx("grad-W0")
    rng = np.random.default_rng(0)
    verdict = judge(ctx, synthetic(ctx, lambda k, g, at: g + 0.3 * rng.standard_normal(g.shape) * np.abs(g).max()))
    assert verdict.fraction == 0.0 and verdict.diagnoses == []
    assert "Largest difference" in verdict.feedback


def test_hidden_layer_hint_when_output_blocks_right(make_ctx):
    ctx = make_ctx("grad-W0")
    verdict = judge(ctx, synthetic(ctx, lambda k, g, at: g * (1.7 if k in ("W0", "b0") else 1.0)
                                   + (0.01 if k == "W0" else 0)))
    assert "W1 and b1 are right" in verdict.feedback and verdict.diagnoses == []


# -- scalings ---------------------------------------------------------------------------------------

#: diagnosis -> the factor at a probe with S samples (penguins: D = 4 inputs, C = 3 classes)
SCALINGS: dict[str, Callable[[int], float]] = {
    "sum-not-mean": lambda s: s, "mean-twice": lambda s: 1 / s, "multiplied-by-s": lambda s: s * s,
    "sign-flip": lambda s: -1.0, "divided-by-classes": lambda s: 1 / 3, "times-classes": lambda s: 3.0,
    "times-features": lambda s: 4.0, "gradient-doubled": lambda s: 2.0, "gradient-halved": lambda s: 0.5,
}


@pytest.mark.parametrize("diagnosis", list(SCALINGS))
@pytest.mark.parametrize("block", ["W1", "b0"])
def test_each_scaling_is_named_with_its_meaning(make_ctx, diagnosis, block):
    ctx = make_ctx(f"grad-{block}")
    factor = SCALINGS[diagnosis]
    verdict = judge(ctx, synthetic(ctx, lambda k, g, at: g * factor(at.samples)))
    assert verdict.status == "failed" and verdict.diagnoses == [diagnosis], verdict.feedback
    assert "exactly" in verdict.feedback and "times the reference" in verdict.feedback


@pytest.mark.parametrize("second", [lambda k, g, at: g * at.samples / 5, lambda k, g, at: None])
def test_right_on_the_first_probe_only_earns_nothing(make_ctx, second):
    """A gradient written for S = 5 (hard-coded) is right on the first probe
    and wrong (or unusable) on the second: never a pass."""
    ctx = make_ctx("grad-W0")
    verdict = judge(ctx, synthetic(ctx, second=second))
    assert verdict.status == "failed" and verdict.diagnoses == ["gradient-batch-specific"]
    assert "S = 5" in verdict.feedback and "S = 7" in verdict.feedback


def test_sum_not_mean_says_S_at_both_probes(make_ctx):
    ctx = make_ctx("grad-b0")
    verdict = judge(ctx, synthetic(ctx, lambda k, g, at: at.samples * g))
    assert "S = 5 times" in verdict.feedback and "S = 7 times on a second probe" in verdict.feedback
    assert "do not divide by S" in verdict.feedback


def test_a_factor_S_on_one_probe_only_is_not_named(make_ctx):
    """5 times right at S = 5 but also 5 times at S = 7: a constant 5, not S."""
    ctx = make_ctx("grad-W1")
    verdict = judge(ctx, synthetic(ctx, lambda k, g, at: 5.0 * g))
    assert "sum-not-mean" not in verdict.diagnoses and verdict.diagnoses == []
    assert "does not behave like S" in verdict.feedback and verdict.fraction == 0.0


def test_a_factor_1_over_S_broken_on_the_second_probe_is_not_named(make_ctx):
    ctx = make_ctx("grad-W0")
    rng = np.random.default_rng(1)
    verdict = judge(ctx, synthetic(ctx, lambda k, g, at: g / at.samples,
                                   second=lambda k, g, at: g + rng.standard_normal(g.shape)))
    assert verdict.diagnoses == [] and "no multiple" in verdict.feedback


KNOWN_CONSTANTS = (-1.0, 1.0, 0.0, 2.0, 0.5, 3.0, 1 / 3, 4.0)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(c=st.floats(-30, 30, allow_nan=False).filter(
    lambda c: all(abs(c - k) > 1e-2 * max(1.0, abs(k)) for k in KNOWN_CONSTANTS)))
def test_an_exact_factor_that_is_no_known_one_is_said_plainly(make_ctx, c):
    ctx = make_ctx("grad-W1")
    verdict = judge(ctx, synthetic(ctx, lambda k, g, at: c * g))
    assert verdict.diagnoses == [] and verdict.fraction == 0.0, verdict.feedback
    assert "exactly" in verdict.feedback and verdict.status == "failed"


# -- penalty terms (elastic net) -------------------------------------------------------------------

def _penalty(ctx: Context, block: str, a: float, b: float) -> Transform:
    arch = ctx.oracle.architecture(ctx.criterion.check_params().hidden)
    layer = int(block[1:])
    l1, l2 = arch.l1_coefficients[layer], arch.l2_coefficients[layer]

    def transform(k: str, g: np.ndarray, at: At) -> np.ndarray:
        if k != block:
            return g
        data = ctx.oracle.data_gradient(at.hidden, at.theta, at.x, at.y)[k]
        p = at.theta[k]
        return data + a * l1 * np.sign(p) + b * l2 * p
    return transform


@pytest.mark.parametrize("block, a, b, diagnosis", [
    ("W0", 0, 0, "penalty-missing"), ("W1", 1, 1, "penalty-l2-factor"), ("W0", -1, -2, "penalty-sign-flipped"),
    ("b0", 1, 2, "penalty-on-biases"), ("b1", 1, 1, "penalty-on-biases")])
def test_each_penalty_pair_is_named(make_ctx, elastic, block, a, b, diagnosis):
    ctx = make_ctx(f"grad-{block}", elastic)
    verdict = judge(ctx, synthetic(ctx, _penalty(ctx, block, a, b)))
    assert verdict.diagnoses == [diagnosis], verdict.feedback
    assert f"(a, b) = ({a:g}, {b:g})" in verdict.feedback


@pytest.mark.parametrize("block", ["W0", "W1", "b0", "b1"])
def test_correct_penalized_gradient_passes(make_ctx, elastic, block):
    ctx = make_ctx(f"grad-{block}", elastic)
    verdict = judge(ctx, synthetic(ctx, _penalty(ctx, block, *((1, 2) if block[0] == "W" else (0, 0)))))
    assert verdict.status == "passed", verdict.feedback


def test_an_unknown_penalty_pair_is_reported_with_its_numbers(make_ctx, elastic):
    ctx = make_ctx("grad-W0", elastic)
    verdict = judge(ctx, synthetic(ctx, _penalty(ctx, "W0", 0.5, 3.0)))
    assert verdict.diagnoses == [] and "a = 0.5, b = 3" in verdict.feedback


def test_a_penalty_pair_on_one_probe_only_is_not_named(make_ctx, elastic):
    ctx = make_ctx("grad-W0", elastic)
    verdict = judge(ctx, synthetic(ctx, _penalty(ctx, "W0", 0, 0), second=_penalty(ctx, "W0", 1, 2)))
    assert "penalty-missing" not in verdict.diagnoses


def test_a_scaling_of_the_data_part_is_named_with_a_penalty(make_ctx, elastic):
    ctx = make_ctx("grad-W1", elastic)

    def summed(k: str, g: np.ndarray, at: At) -> np.ndarray:
        data = ctx.oracle.data_gradient(at.hidden, at.theta, at.x, at.y)[k]
        return at.samples * data + (g - data)

    verdict = judge(ctx, synthetic(ctx, summed))
    assert verdict.diagnoses == ["sum-not-mean"] and "data part" in verdict.feedback
    assert judge(ctx, synthetic(ctx, lambda k, g, at: -g)).diagnoses == ["sign-flip"]


# -- output errors and derivative points (mutants) ------------------------------------------------

CROSS_ENTROPY_MUTANTS = ["output-error-no-target", "output-derivative-applied", "activation-derivative-sigmoid",
                         "activation-derivative-at-activation", "activation-derivative-missing",
                         "softmax-jacobian-inner-product"]


@pytest.mark.parametrize("diagnosis", CROSS_ENTROPY_MUTANTS)
@pytest.mark.parametrize("block", ["W0", "b0"])
def test_each_mutant_is_named(make_ctx, diagnosis, block):
    ctx = make_ctx(f"grad-{block}")
    verdict = judge(ctx, synthetic(ctx, mutant_of(ctx, diagnosis)))
    assert verdict.diagnoses == [diagnosis] and verdict.fraction == 0.0, verdict.feedback
    assert "at both probes" in verdict.feedback


def test_softmax_jacobian_inner_product_is_the_explicit_chain_rule_with_p_t_p(make_ctx):
    """The mutant is what template A's loops compute with np.dot(p.T, p) for
    the outer product: per sample, J = diag(p) - p^T p (broadcast), dL/dz = J^T dL/dp."""
    from grader import mutants
    from reference import network as ref

    ctx = make_ctx("grad-W1")
    hidden = [4]
    theta, (x, y) = ctx.oracle.theta(hidden, "jac"), ctx.oracle.batch(3, "jac")
    arch = ctx.oracle.architecture(hidden)
    p = np.exp(ref.forward_cache(arch, theta, x).log_probs)
    errors = []
    for s in range(x.shape[0]):
        col = p[:, s:s + 1]
        jacobian = np.diagflat(col) - np.dot(col.T, col)
        dl_dp = np.zeros_like(col)
        dl_dp[y[s], 0] = -1.0 / (x.shape[0] * col[y[s], 0])
        errors.append(jacobian.T @ dl_dp)
    error = np.hstack(errors)
    a1 = ref.forward_cache(arch, theta, x).activations[1]
    got = mutants.softmax_jacobian_inner_product(arch, theta, x, y)
    np.testing.assert_allclose(got["W1"], error @ a1.T, rtol=1e-12)
    np.testing.assert_allclose(got["b1"], error.sum(axis=1, keepdims=True), rtol=1e-12)


@pytest.mark.parametrize("diagnosis", ["output-error-no-target", "output-derivative-applied",
                                       "softmax-jacobian-inner-product"])
def test_output_error_mutants_show_in_the_output_layer_too(make_ctx, diagnosis):
    ctx = make_ctx("grad-W1")
    assert judge(ctx, synthetic(ctx, mutant_of(ctx, diagnosis))).diagnoses == [diagnosis]


@pytest.mark.parametrize("block", ["W1", "W0"])
def test_squared_error_without_the_softmax_jacobian_is_named(make_ctx, squared, block):
    ctx = make_ctx(f"grad-{block}", squared)
    assert judge(ctx, synthetic(ctx)).status == "passed"
    verdict = judge(ctx, synthetic(ctx, mutant_of(ctx, "softmax-jacobian-missing")))
    assert verdict.diagnoses == ["softmax-jacobian-missing"], verdict.feedback


def test_a_mutant_on_one_probe_only_is_not_named(make_ctx):
    ctx = make_ctx("grad-W0")
    verdict = judge(ctx, synthetic(ctx, mutant_of(ctx, "activation-derivative-missing"),
                                   second=lambda k, g, at: g))
    assert verdict.diagnoses == []


def test_mutant_backprop_is_the_reference_when_nothing_is_replaced(elastic, squared):
    for rubric in (elastic, squared, load_rubric("penguins-silu")):
        oracle = Oracle.for_rubric(rubric)
        theta, (x, y) = oracle.theta([6, 5], "t"), oracle.batch(5, "t")
        arch = oracle.architecture([6, 5])
        expected, got = ref.gradient(arch, theta, x, y), mutants.backprop(arch, theta, x, y)
        assert all(np.allclose(expected[k], got[k], rtol=1e-12, atol=1e-15) for k in expected)


def test_the_families_and_the_records_agree():
    """Every id the families name has a record; every gradients record that
    names a mutant is one the mutant family can say; the check declares them all."""
    assert set(FAMILY_MISTAKES) <= set(MISTAKES)
    with_mutant = {r.id for r in MISTAKES.values() if r.family == "gradients" and r.mutant}
    assert with_mutant == set(MUTANT_SAYS)
    assert set(FAMILY_MISTAKES) <= set(REGISTRY["gradient"].mistakes)


# -- single mistakes ------------------------------------------------------------------------------

@pytest.mark.parametrize("block", ["b0", "b1"])
def test_bias_from_one_sample_is_named(make_ctx, block):
    ctx = make_ctx(f"grad-{block}")

    def last_sample(k: str, g: np.ndarray, at: At) -> np.ndarray:
        single = ctx.oracle.gradient(at.hidden, at.theta, at.x[-1:], at.y[-1:])
        return single[k] / at.samples if k == block else g

    assert judge(ctx, synthetic(ctx, last_sample)).diagnoses == ["bias-one-sample"]


def test_transposed_gradient_is_named(make_ctx):
    ctx = make_ctx("grad-W1")
    obs = synthetic(ctx)
    obs.first.forms["W1"] = "transposed"   # canonical_gradient transposed it back
    verdict = judge(ctx, obs)
    assert verdict.diagnoses == ["gradient-transposed"] and verdict.fraction == 0.0


def test_canonical_gradient_detects_transpose():
    layout = Layout({"W1": BlockLayout("W1", (3, 6), "canonical"), "b1": BlockLayout("b1", (3, 1), "canonical")})
    theta = {"W1": np.zeros((3, 6)), "b1": np.zeros((3, 1))}
    g = np.arange(18.0).reshape(6, 3)
    grads, forms = gradient.canonical_gradient({"W1": g, "b1": np.zeros(3)}, layout, theta)
    assert forms == {"W1": "transposed", "b1": "ok"}
    np.testing.assert_array_equal(grads["W1"], g.T)
    assert grads["b1"].shape == (3, 1)


def test_self_consistent_wrong_activation_gets_partial_credit(make_ctx):
    ctx = make_ctx("grad-W0")

    def relu_grad(hidden, theta, x, y):
        return ctx.oracle.activation_gradients(hidden, theta, x, y)["relu"]

    def relu_loss(hidden, theta, x, y):
        return loss_from_probabilities("cross_entropy", ctx.oracle.forward(hidden, theta, x, activation="relu"), y)

    obs = synthetic(ctx, lambda k, g, at: relu_grad(at.hidden, at.theta, at.x, at.y)[k],
                    fd_from=relu_grad, own_loss=relu_loss)
    verdict = judge(ctx, obs)
    assert verdict.status == "partial" and 0 < verdict.fraction < 1
    assert "wrong-activation" in verdict.diagnoses


@pytest.mark.parametrize("block", ["W0", "b0", "W1", "b1"])
def test_gradient_of_an_unknown_own_loss_earns_nothing(make_ctx, block):
    """Evidence before credit: a zero gradient is the exact derivative of a
    constant loss, and 2 theta that of sum(theta**2); neither loss is the
    assignment's or a named mistake, so self-consistency earns nothing."""
    ctx = make_ctx(f"grad-{block}")
    zero = synthetic(ctx, lambda k, g, at: np.zeros_like(g),
                     fd_from=lambda h, t, x, y: {k: np.zeros_like(v) for k, v in t.items()},
                     own_loss=lambda h, t, x, y: 1.0986)
    square = synthetic(ctx, lambda k, g, at: 2 * at.theta[k],
                       fd_from=lambda h, t, x, y: {k: 2 * v for k, v in t.items()},
                       own_loss=lambda h, t, x, y: sum(float(np.sum(v ** 2)) for v in t.values()))
    for obs in (zero, square):
        verdict = judge(ctx, obs)
        assert verdict.fraction == 0.0 and "earns nothing" in verdict.feedback, verdict.feedback


def test_numerical_gradient_is_flagged_for_the_instructor_only(make_ctx):
    import dataclasses

    ctx = make_ctx("grad-W0")
    obs = synthetic(ctx)
    notes = gradient.instructor_notes(dataclasses.replace(obs, calls={"loss": 48}))
    assert notes["numerical-gradient"].startswith("back_propagate called")
    assert gradient.instructor_notes(dataclasses.replace(obs, calls={"feed_forward": 1})) == {}


def test_missing_gradient_block(make_ctx):
    ctx = make_ctx("grad-b1")
    obs = synthetic(ctx)
    obs.first.grads["b1"], obs.first.forms["b1"] = None, "missing"
    verdict = judge(ctx, obs)
    assert verdict.fraction == 0 and verdict.diagnoses == ["bad-output"]


# -- odd student values never become a grader error -------------------------------------------------

ODD_VALUES: dict[str, Callable[[np.ndarray], Any]] = {
    "None": lambda g: None, "str": lambda g: "gradient", "nested list": lambda g: g.tolist(),
    "object array": lambda g: np.array([object()] * g.size, dtype=object).reshape(g.shape),
    "NaN": lambda g: np.full(g.shape, np.nan), "inf": lambda g: np.full(g.shape, np.inf),
    "wrong shape": lambda g: np.zeros((g.shape[0] + 1, 2)), "scalar array": lambda g: np.array(1.0),
    "float32": lambda g: g.astype(np.float32), "complex": lambda g: g.astype(np.complex128),
    "bool": lambda g: g > 0, "int": lambda g: np.round(g * 1000).astype(np.int64), "dict": lambda g: {"a": 1},
    "3-d": lambda g: g[None, ...],
}


@pytest.mark.parametrize("odd", list(ODD_VALUES))
@pytest.mark.parametrize("block", ["W0", "b1"])
def test_odd_student_values_are_bad_output_or_judged_never_grader_error(make_ctx, odd, block):
    ctx = make_ctx(f"grad-{block}")
    params = ctx.criterion.check_params()
    shapes = ctx.oracle.architecture(params.hidden).shapes()
    layout = Layout({k: BlockLayout(k, shape, "canonical") for k, shape in shapes.items()})

    def student(theta: dict, x: np.ndarray, y: np.ndarray) -> StudentGradient:
        true = ctx.oracle.gradient(params.hidden, theta, x, y)
        raw = {k: ODD_VALUES[odd](v) if k == block else v for k, v in true.items()}
        return gradient.student_gradient(raw, layout, theta, x, y)

    obs = synthetic(ctx)
    import dataclasses
    obs = dataclasses.replace(obs, first=student(*gradient.probe_inputs(ctx, params)),
                              second=student(*gradient.confirm_inputs(ctx, params)))
    verdict = judge(ctx, obs)
    assert verdict.status != "grader-error", verdict.notes
    assert verdict.status in ("passed", "failed", "error")
    if odd == "float32":
        assert verdict.status == "passed"
    if odd in ("None", "str", "nested list", "object array", "complex", "bool", "dict"):
        assert verdict.diagnoses == ["bad-output"], verdict.feedback
    if odd in ("wrong shape", "3-d", "scalar array"):
        assert verdict.diagnoses == ["gradient-shape"], verdict.feedback


# -- the rubric's rules ------------------------------------------------------------------------------

def _with_criterion(params: str, hidden: str = "[16]") -> str:
    source = find_rubric("penguins-silu").read_text()
    source = source.replace("hidden: [16]", f"hidden: {hidden}", 1)
    return source.replace("params: {block: W0}", f"params: {params}", 1)


def test_validate_refuses_a_block_the_architecture_lacks():
    from grader.rubric import RubricError

    assert "params: {block: W0}" in find_rubric("penguins-silu").read_text()
    with pytest.raises(RubricError, match="block 'W2' is not in the architecture"):
        parse_rubric(_with_criterion("{block: W2}"))


def test_validate_refuses_a_probe_shallower_than_the_architecture():
    from grader.rubric import RubricError

    with pytest.raises(RubricError, match=r"hidden: \[6, 5\]"):
        parse_rubric(_with_criterion("{block: W0}", hidden="[16, 8]"))


def test_validate_refuses_equal_probe_batch_sizes():
    from grader.rubric import RubricError

    with pytest.raises(RubricError, match="second probe needs another batch size"):
        parse_rubric(_with_criterion("{block: W0, samples: 7}"))


# -- the evidence door for steps and training ---------------------------------------------------------

def test_gradient_explained_trusts_the_reference_and_named_mistakes_only(make_ctx):
    ctx = make_ctx("grad-W0")
    params = ctx.criterion.check_params()
    theta, x, y = gradient.probe_inputs(ctx, params)
    true = ctx.oracle.gradient(params.hidden, theta, x, y)
    explained = lambda grads: gradient.gradient_explained(ctx, params.hidden, theta, x, y, grads)  # noqa: E731
    assert explained(true) == "reference"
    assert explained({k: 5 * v for k, v in true.items()}) == "named"
    mutant = ctx.oracle.gradient_mutants(params.hidden, theta, x, y)["activation-derivative-missing"]
    assert explained(mutant) == "named"
    assert explained({k: 1.37 * v for k, v in true.items()}) is None
    assert explained({**true, "W0": None}) is None


# -- a kit judges from recorded answers ------------------------------------------------------------------

@pytest.mark.parametrize("rubric_id", ["penguins-silu", "leakyrelu-elasticnet"])
def test_prefetch_records_every_answer_the_judge_needs(make_ctx, rubric_id):
    """A kit's oracle replays what prefetch recorded: the verdicts must be the
    same as with the reference itself (else the kit raises AnswerMissing or
    names less)."""
    rubric = load_rubric(rubric_id)
    ctx = make_ctx("grad-b0", rubric)
    recorder = Oracle(rubric, record={})
    params = ctx.criterion.check_params()
    gradient.prefetch(Context(rubric, recorder, ctx.criterion), params)
    replay = Context(rubric, Oracle(rubric, answers=recorder.record), ctx.criterion)
    cases = [synthetic(ctx), synthetic(ctx, lambda k, g, at: at.samples * g),
             synthetic(ctx, mutant_of(ctx, "activation-derivative-at-activation"))]
    if rubric_id == "leakyrelu-elasticnet":
        cases.append(synthetic(ctx, _penalty(ctx, "b0", 1, 2)))
    for obs in cases:
        full, kit = judge(ctx, obs), judge(replay, obs)
        assert (kit.status, kit.diagnoses, kit.feedback) == (full.status, full.diagnoses, full.feedback)
        assert kit.status != "grader-error"



# -- end to end: buggy samples of new family members ------------------------------------------------

CASES = Path(__file__).parent / "cases_gradient"


@pytest.mark.parametrize("name, expected", [
    ("bug_derivative_missing.py", {"grad-W0": ["activation-derivative-missing"],
                                   "grad-b0": ["activation-derivative-missing"]}),
    ("bug_output_no_target.py", {f"grad-{b}": ["output-error-no-target"] for b in ("W0", "b0", "W1", "b1")}),
    ("bug_mean_over_classes.py", {f"grad-{b}": ["divided-by-classes"] for b in ("W0", "b0", "W1", "b1")}),
])
def test_buggy_samples_are_named_end_to_end(silu_rubric, name, expected):
    assert_named_end_to_end(CASES / name, silu_rubric, expected)


def test_a_gradient_right_for_one_batch_size_only_fails_end_to_end(silu_rubric):
    """S written into the code: right on the first probe (S = 5), wrong on
    the second (S = 7): no gradient criterion passes."""
    assert_named_end_to_end(CASES / "bug_hard_coded_batch.py", silu_rubric,
                            {f"grad-{b}": ["gradient-batch-specific"] for b in ("W0", "b0", "W1", "b1")})


def test_penalty_subtracted_is_named_end_to_end(elastic):
    assert_named_end_to_end(CASES / "bug_penalty_sign_flipped.py", elastic,
                            {"grad-W0": ["penalty-sign-flipped"], "grad-W1": ["penalty-sign-flipped"]})


def assert_named_end_to_end(path: Path, rubric: Any, expected: dict[str, list[str]]) -> None:
    """Graded for real (public criteria): the gradient criteria in `expected`
    fail with exactly those diagnoses, the others pass."""
    from grader.engine import grade

    result = grade(path, rubric, public_only=True).result
    grads = {c["id"]: c for c in result["criteria"] if c["id"].startswith("grad-")}
    assert result["grader_errors"] == []
    for cid, crit in grads.items():
        if cid in expected:
            assert crit["status"] == "failed" and crit["diagnoses"] == expected[cid], crit["feedback"]
        else:
            assert crit["status"] == "passed", crit["feedback"]


def test_directional_finite_differences_are_judged_the_same_way(make_ctx):
    """Large networks compare along a few random unit directions instead of
    every coordinate: the same verdicts."""
    import dataclasses

    ctx = make_ctx("grad-W1")
    rng = np.random.default_rng(3)
    for transform, status, diagnoses in ((lambda k, g, at: g, "passed", []),
                                         (lambda k, g, at: at.samples * g, "failed", ["sum-not-mean"])):
        obs = synthetic(ctx, transform)
        true = ctx.oracle.gradient(list(obs.hidden), obs.first.theta, obs.first.x, obs.first.y)["W1"]
        units = tuple(d / np.linalg.norm(d) for d in rng.standard_normal((3, *true.shape)))
        fd = dataclasses.replace(obs.fd, coords=None, directions=units,
                                 values=np.array([float(np.sum(true * d)) for d in units]))
        verdict = judge(ctx, dataclasses.replace(obs, fd=fd))
        assert (verdict.status, verdict.diagnoses) == (status, diagnoses), verdict.feedback
        assert verdict.evidence["finite differences"] == "3 random directions"
