"""The optimizer-step judges (gd-step, nag-step) on typed synthetic observations.

Each named member of the step families is committed on purpose (the
mutants of `grader.mutants`), fed to the judge as a student would produce
it on both probes, and must be named -- and only it: a test fails if its
diagnosis is removed or mis-triggered.  Random fitted parameters that are
no named member must never be named; odd student values are verdicts,
never grader errors.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader import mutants
from grader.checks import REGISTRY, gd_step, nag_step
from grader.checks.contract import StudentValueError
from grader.checks.gd_step import Snapshot, canonical_snapshot
from grader.engine import Observed, judge_criterion
from grader.probe import FLOAT64_EPS
from grader.rubric import RubricError, find_rubric, parse_rubric
from reference import optimizers as ref_opt

FLOAT32_EPS = float(np.finfo(np.float32).eps)
Theta = dict[str, np.ndarray]


# -- gd-step -------------------------------------------------------------------------------------

def gd_obs(ctx, step_fn: Callable[[Theta, Theta, float, int], Theta], new_keys=(), own=None, trust="reference",
           eps=FLOAT64_EPS) -> gd_step.Observation:
    """Both probes of a student whose step() is `step_fn(theta, g, lr, probe)`
    (g the reference gradient), whose back_propagate is `own` (a function of
    the reference gradient; the reference's when None)."""
    params = ctx.criterion.check_params()
    lr = ctx.rubric.assignment.optimizer.lr
    runs = []
    for index, (part, rate) in enumerate(((("step",), lr), (("step", 2), gd_step.second_lr(lr, ctx.seed("lr"))))):
        theta = ctx.oracle.theta(params.hidden, *part)
        x, y = ctx.oracle.batch(params.samples, *part)
        g = ctx.oracle.gradient(params.hidden, theta, x, y)
        after = Snapshot(step_fn(theta, g, rate, index), (), tuple(new_keys))
        runs.append(gd_step.Run(rate, theta, x, y, after, own(g) if own else g, trust, eps))
    return gd_step.Observation(tuple(params.hidden), tuple(runs))


def judge_gd(ctx, obs):
    return gd_step.judge(ctx, obs, ctx.criterion.check_params())


def scaled(factor: float) -> Callable[[Theta, Theta, float, int], Theta]:
    return lambda t, g, lr, probe: mutants.scaled_gd_step(g, t, lr, factor)


def test_gd_correct_step_passes(make_ctx):
    v = judge_gd(make_ctx("gd-step"), gd_obs(make_ctx("gd-step"), scaled(1.0)))
    assert v.status == "passed" and v.diagnoses == [], v.feedback


@pytest.mark.parametrize("factor, diagnosis, phrase", [
    (2.0, "wrong-step-size", "applied twice"),
    (0.5, "wrong-step-size", "halved"),
    (5.0, "wrong-step-size", "multiplied by the batch size"),
    (0.2, "wrong-step-size", "divided by the batch size"),
    (-1.0, "sign-flip", "added instead of subtracted"),
    (0.0, "step-not-applied", "unchanged"),
])
def test_gd_named_factor_confirmed_on_both_probes(make_ctx, factor, diagnosis, phrase):
    ctx = make_ctx("gd-step")
    assert ctx.criterion.check_params().samples == 5   # S of the batch-size members
    v = judge_gd(ctx, gd_obs(ctx, scaled(factor)))
    assert v.status == "failed" and v.diagnoses == [diagnosis], v.feedback
    assert phrase in v.feedback


def test_gd_hard_coded_learning_rate_is_named_by_its_constant_step(make_ctx):
    ctx = make_ctx("gd-step")
    v = judge_gd(ctx, gd_obs(ctx, lambda t, g, lr, probe: {k: t[k] - 0.1 * g[k] for k in t}))
    assert v.diagnoses == ["wrong-step-size"] and v.evidence["inferred step size"] == 0.1
    assert "written into the code" in v.feedback, v.feedback


def test_gd_rubric_learning_rate_hard_coded_shows_on_the_second_probe(make_ctx):
    ctx = make_ctx("gd-step")
    lr = ctx.rubric.assignment.optimizer.lr
    v = judge_gd(ctx, gd_obs(ctx, lambda t, g, rate, probe: {k: t[k] - lr * g[k] for k in t}))
    assert v.fraction == 0.5 and v.diagnoses == ["wrong-step-size"], v.feedback


def test_gd_factor_unconfirmed_on_the_second_probe_is_not_named(make_ctx):
    ctx = make_ctx("gd-step")
    v = judge_gd(ctx, gd_obs(ctx, lambda t, g, lr, probe: mutants.scaled_gd_step(g, t, lr, (2.0, 3.0)[probe])))
    assert v.status == "failed" and v.diagnoses == [], v.feedback
    assert "no known mistake" in v.feedback


def test_gd_key_typo(make_ctx):
    ctx = make_ctx("gd-step")
    obs = gd_obs(ctx, lambda t, g, lr, probe: {k: t[k] if k == "W0" else t[k] - lr * g[k] for k in t},
                 new_keys=["w0"])
    v = judge_gd(ctx, obs)
    assert v.diagnoses == ["key-typo"] and "w0" in v.feedback, v.feedback


def test_gd_passes_a_correct_step_from_a_flipped_gradient(make_ctx):
    ctx = make_ctx("gd-step")
    obs = gd_obs(ctx, scaled(1.0), own=lambda g: {k: -v for k, v in g.items()}, trust="named")
    v = judge_gd(ctx, obs)
    assert v.status == "passed" and "charged in the gradient criteria" in v.feedback, v.feedback
    assert judge_gd(ctx, gd_obs(ctx, scaled(0.5), own=lambda g: {k: -v for k, v in g.items()},
                                trust="named")).status == "failed"


def test_gd_step_with_an_untrusted_own_gradient_earns_nothing(make_ctx):
    """Evidence before credit: a zero back_propagate makes 'no step' follow it."""
    ctx = make_ctx("gd-step")
    v = judge_gd(ctx, gd_obs(ctx, scaled(0.0), own=lambda g: {k: 0 * v for k, v in g.items()}, trust=None))
    assert v.fraction == 0.0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.floats(-3, 6), st.floats(-3, 6))
def test_gd_random_factors_are_not_named(make_ctx, c1, c2):
    """Factors that differ between probes (neither the same factor nor the
    same step length) are no member: nothing is named."""
    ctx = make_ctx("gd-step")
    lr = ctx.rubric.assignment.optimizer.lr
    c1, c2 = round(c1, 3), round(c2, 3)
    if abs(c1 - c2) < 1e-3 or abs(c1 * lr - c2 * gd_step.second_lr(lr, ctx.seed("lr"))) < 1e-6 or c1 == 1.0:
        return
    v = judge_gd(ctx, gd_obs(ctx, lambda t, g, rate, probe: mutants.scaled_gd_step(g, t, rate, (c1, c2)[probe])))
    assert v.diagnoses == [], (c1, c2, v.feedback)


def test_gd_float32_step_passes_within_its_rounding(make_ctx):
    ctx = make_ctx("gd-step")
    rounded = gd_obs(ctx, lambda t, g, lr, probe: {k: (t[k] - lr * g[k]).astype(np.float32).astype(np.float64)
                                                   for k in t}, eps=FLOAT32_EPS)
    assert judge_gd(ctx, rounded).status == "passed"


# -- odd student values ------------------------------------------------------------------------

class _Block:
    def __init__(self, key: str, shape: tuple[int, ...]) -> None:
        self.student_key, self.shape = key, shape

    def to_canonical(self, value):
        return np.asarray(value, dtype=np.float64)


class _Layout:
    def __init__(self, reference: Theta) -> None:
        self.blocks = {k: _Block(k, v.shape) for k, v in reference.items()}


REFERENCE = {"W0": np.zeros((2, 3)), "b0": np.zeros(2)}


@pytest.mark.parametrize("raw, phrase", [
    ([1, 2], "not a dict"),
    ({"__obj__": "MyParams"}, "not a dict"),
    ({"W0": "abc", "b0": np.zeros(2)}, "not an array of numbers"),
    ({"W0": np.zeros((3, 2)), "b0": np.zeros(2)}, "shape"),
    ({"W0": np.array([["a"] * 3] * 2), "b0": np.zeros(2)}, "not an array of numbers"),
    ({"W0": [[1, 2, 3], [4, "x", 6]], "b0": np.zeros(2)}, "not an array of numbers"),
    ({"W0": [[1, 2, 3], [4, 5]], "b0": np.zeros(2)}, "not an array of numbers"),
    ({"W0": None, "b0": np.zeros(2)}, "not an array of numbers"),
])
def test_odd_snapshots_are_the_students_bad_output(raw, phrase):
    with pytest.raises(StudentValueError, match=phrase):
        canonical_snapshot(raw, {}, _Layout(REFERENCE), REFERENCE, "after step()")


def test_nested_lists_of_numbers_are_read_as_arrays():
    snap = canonical_snapshot({"W0": [[1, 2, 3], [4, 5, 6]], "b0": np.zeros(2, dtype=np.float32)}, {},
                              _Layout(REFERENCE), REFERENCE, "after step()")
    assert snap.usable and snap.values["W0"].dtype == np.float64 and snap.values["W0"][1, 2] == 6


def test_missing_and_nonfinite_blocks_are_kept_for_the_judge():
    snap = canonical_snapshot({"W0": np.full((2, 3), np.nan), "w_0": np.zeros(2)}, {"W0": 0, "b0": 0},
                              _Layout(REFERENCE), REFERENCE, "after step()")
    assert snap.missing == ("b0",) and snap.nonfinite == ("W0",) and snap.new_keys == ("w_0",)
    assert not snap.usable


def _judged(ctx, check: str, obs) -> object:
    return judge_criterion(Observed(REGISTRY[check], ctx, ctx.criterion.check_params(), obs))


@pytest.mark.parametrize("odd", ["nan", "inf", "missing", "missing-new", "float32", "all-zero"])
def test_odd_values_are_verdicts_never_grader_errors(make_ctx, odd):
    ctx = make_ctx("gd-step")
    obs = gd_obs(ctx, scaled(1.0))
    run = obs.runs[0]
    values = dict(run.after.values)
    after = run.after
    if odd in ("nan", "inf"):
        values["W0"] = np.full_like(values["W0"], np.nan if odd == "nan" else np.inf)
        after = Snapshot(values, nonfinite=("W0",))
    elif odd.startswith("missing"):
        values.pop("b1")
        after = Snapshot(values, missing=("b1",), new_keys=("B1",) if odd == "missing-new" else ())
    elif odd == "all-zero":
        after = Snapshot({k: np.zeros_like(v) for k, v in values.items()})
    run = dataclasses.replace(run, after=after, eps=FLOAT32_EPS if odd == "float32" else run.eps)
    v = _judged(ctx, "gd_step", dataclasses.replace(obs, runs=(run, obs.runs[1])))
    assert v.status != "grader-error", v.notes
    assert v.status == ("passed" if odd == "float32" else "failed"), v.feedback

    nctx = make_ctx("nag-step")
    nobs = nag_obs(nctx, "nag")
    snaps = list(nobs.first.snapshots)
    last = dict(snaps[-1].values)
    if odd in ("nan", "inf"):
        last["W1"] = np.full_like(last["W1"], np.nan if odd == "nan" else np.inf)
        snaps[-1] = Snapshot(last, nonfinite=("W1",))
    elif odd.startswith("missing"):
        last.pop("W1")
        snaps[-1] = Snapshot(last, missing=("W1",), new_keys=("w1",) if odd == "missing-new" else ())
    elif odd == "all-zero":
        snaps[-1] = Snapshot({k: np.zeros_like(v) for k, v in last.items()})
    first = dataclasses.replace(nobs.first, snapshots=tuple(snaps),
                                eps=FLOAT32_EPS if odd == "float32" else nobs.first.eps)
    v = _judged(nctx, "nag_step", dataclasses.replace(nobs, first=first))
    assert v.status != "grader-error", v.notes
    assert v.status == ("passed" if odd == "float32" else "failed"), v.feedback


# -- nag-step ------------------------------------------------------------------------------------

Student = Callable[[Callable, Theta, int, float, float], list[Theta]]


def by_method(method: str) -> Student:
    return lambda grad, theta0, steps, lr, mu: ref_opt.trajectory(method, grad, theta0, steps, lr, mu).stored


def student_of(spec) -> Student:
    return by_method(spec) if isinstance(spec, str) else spec


def _run(ctx, student: Student, grad, theta0: Theta, steps: int, lr: float, mu: float,
         methods: tuple[str, ...], momenta: tuple[float, ...], eps: float) -> nag_step.Run:
    snaps = tuple(Snapshot(s) for s in student(grad, theta0, steps, lr, mu))
    replays = {(m, mo): tuple(ref_opt.trajectory(m, grad, theta0, steps, lr, mo).stored)
               for m in methods for mo in momenta}
    return nag_step.Run(mu, snaps, eps, replays)


def nag_obs(ctx, first, second=None, aliases=(), rubric_grad=None, eps=FLOAT64_EPS,
            student_scale=1.0) -> nag_step.Observation:
    """A student's NAG run at the rubric's momentum (`first`: a method name of
    the reference or a function like the mutants') and, for a constant
    schedule, at the second momentum (`second`, the same student by
    default).  The replays use `rubric_grad` (the trusted gradient;
    the reference's by default)."""
    params = ctx.criterion.check_params()
    optimizer = ctx.rubric.assignment.optimizer
    mu = optimizer.momentum
    x, y = ctx.oracle.batch(params.samples, "nag")
    theta0 = ctx.oracle.theta(params.hidden, "nag-test", std=0.05)

    def reference(th):
        return ctx.oracle.gradient(params.hidden, th, x, y)

    def students(th):   # the student's back_propagate, which their step() uses
        return {k: student_scale * v for k, v in reference(th).items()}

    grad = rubric_grad or (students if student_scale != 1.0 else reference)
    first_run = _run(ctx, student_of(first), students, theta0, params.steps, params.lr, mu,
                     ("nag", "nag_stored", "nag_fista"), (mu,), eps)
    first_run = dataclasses.replace(first_run, replays={
        key: tuple(ref_opt.trajectory(key[0], grad, theta0, params.steps, params.lr, key[1]).stored)
        for key in first_run.replays})
    second_run = None
    if optimizer.schedule == "constant":
        mu2 = nag_step.second_momentum(mu, ctx.seed("momentum"))
        second_run = _run(ctx, student_of(second if second is not None else first), students, theta0,
                          nag_step.SECOND_STEPS, params.lr, mu2, ("nag", "nag_stored"), (mu2, mu), eps)
    return nag_step.Observation(tuple(params.hidden), x, y, params.lr, mu, optimizer.schedule, first_run, second_run,
                                tuple(aliases), True, students(theta0), student_scale)


def judge_nag(ctx, obs):
    return nag_step.judge(ctx, obs, ctx.criterion.check_params())


def mutant(name: str, **fixed: float) -> Student:
    """A named mutant of grader.mutants as a student (its momentum argument
    replaced by `fixed` values when given)."""
    fn = getattr(mutants, name)
    return lambda grad, theta0, steps, lr, mu: fn(grad, theta0, steps, lr, fixed.get("mu", mu))


def rule(**knobs) -> Student:
    """A student committing one member of the family, its momentum the constructor's unless fixed."""
    def run(grad, theta0, steps, lr, mu):
        m = knobs.get("momentum", mu)
        r = mutants.StepRule(m, knobs.get("factor", 1.0), knobs.get("start", mutants.LOOKAHEAD),
                             knobs.get("evaluate", mutants.LOOKAHEAD), knobs.get("previous", mutants.UPDATED),
                             knobs.get("schedule", mutants.CONSTANT), knobs.get("shift", 0))
        return mutants.momentum_steps(r, grad, theta0, steps, lr)
    return run


@pytest.mark.parametrize("method", ["nag", "nag_velocity", "nag_stored"])
def test_nag_correct_forms_pass(make_ctx, method):
    ctx = make_ctx("nag-step")
    v = judge_nag(ctx, nag_obs(ctx, method))
    assert v.status == "passed" and v.diagnoses == [], v.feedback


@pytest.mark.parametrize("student, aliases, diagnosis", [
    (mutant("heavy_ball_steps"), (), "heavy-ball"),
    ("heavy_ball", (), "heavy-ball"),
    ("gd", ("theta_prev",), "zero-momentum"),
    ("gd", (), "nag-missing"),
    ("nag_fista", (), "wrong-momentum"),
    (mutant("momentum_complement_steps"), (), "momentum-complement"),
    (mutant("momentum_sign_flipped_steps"), (), "momentum-sign-flipped"),
    (mutant("previous_not_updated_steps"), (), "previous-not-updated"),
    (mutant("lookahead_not_stepped_steps"), (), "lookahead-not-stepped"),
    (rule(factor=2.0), (), "wrong-step-size"),
])
def test_nag_named_member(make_ctx, student, aliases, diagnosis):
    ctx = make_ctx("nag-step")
    v = judge_nag(ctx, nag_obs(ctx, student, aliases=aliases))
    assert v.status == "failed" and v.diagnoses == [diagnosis], v.feedback


def test_every_step_mutant_a_record_names_is_named(make_ctx):
    """The records' mutants, run as students, are named by their own records."""
    from grader.mistakes import MISTAKES

    ctx = make_ctx("nag-step")
    named = {r.id: r.mutant for r in MISTAKES.values() if r.family == "steps" and r.mutant}
    assert len(named) >= 5
    for mistake_id, name in named.items():
        v = judge_nag(ctx, nag_obs(ctx, mutant(name)))
        assert v.diagnoses == [mistake_id], (mistake_id, v.feedback)


def test_nag_ignored_learning_rate_is_inferred(make_ctx):
    ctx = make_ctx("nag-step")
    v = judge_nag(ctx, nag_obs(ctx, lambda grad, t0, steps, lr, mu: ref_opt.trajectory("nag", grad, t0, steps, 0.1,
                                                                                       mu).stored))
    assert v.diagnoses == ["wrong-step-size"] and "0.1 instead of 0.05" in v.feedback, v.feedback


def test_nag_constant_wrong_momentum_is_named_as_written_into_the_code(make_ctx):
    """A fitted 0.5 on both probes: not a relation to mu, a constant in the code."""
    ctx = make_ctx("nag-step")
    v = judge_nag(ctx, nag_obs(ctx, rule(momentum=0.5)))
    assert v.diagnoses == ["wrong-momentum"] and "0.5" in v.feedback and "written into the code" in v.feedback


def test_nag_complement_hard_coded_is_not_called_a_complement(make_ctx):
    """0.1 = 1 - 0.9 on the first probe, still 0.1 at the second momentum: a
    constant that happens to equal 1 - mu, named as what it is."""
    ctx = make_ctx("nag-step")
    v = judge_nag(ctx, nag_obs(ctx, rule(momentum=0.1)))
    assert v.diagnoses == ["wrong-momentum"] and "written into the code" in v.feedback, v.feedback


def test_nag_hard_coded_rubric_momentum_is_named(make_ctx):
    """Right at the rubric's momentum, still the rubric's at the second one."""
    ctx = make_ctx("nag-step")
    mu = ctx.rubric.assignment.optimizer.momentum
    v = judge_nag(ctx, nag_obs(ctx, "nag", second=rule(momentum=mu)))
    assert v.fraction == 0.5 and v.diagnoses == ["momentum-hard-coded"], v.feedback


def test_nag_member_unconfirmed_on_the_second_probe_is_not_named(make_ctx):
    """1 - mu on the first probe, but neither 1 - mu2 nor the same number on the second."""
    ctx = make_ctx("nag-step")
    v = judge_nag(ctx, nag_obs(ctx, mutant("momentum_complement_steps"), second=rule(momentum=0.3)))
    assert v.status == "failed" and v.diagnoses == [], v.feedback
    assert "no known mistake" in v.feedback


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.floats(-0.95, 1.4), st.floats(-0.95, 1.4))
def test_nag_random_momenta_are_not_named(make_ctx, m1, m2):
    """A fitted momentum that is no relation to mu, and another one again at
    the second probe, names nothing; the fitted number is reported."""
    ctx = make_ctx("nag-step")
    mu = ctx.rubric.assignment.optimizer.momentum
    mu2 = nag_step.second_momentum(mu, ctx.seed("momentum"))
    m1, m2 = round(m1, 3), round(m2, 3)
    named1 = [mu, 1 - mu, -mu, 0.0]
    named2 = [mu2, 1 - mu2, -mu2, 0.0, m1, mu]
    if min(abs(m1 - v) for v in named1) < 0.02 or min(abs(m2 - v) for v in named2) < 0.02:
        return
    v = judge_nag(ctx, nag_obs(ctx, rule(momentum=m1), second=rule(momentum=m2)))
    assert v.status == "failed" and v.diagnoses == [], (m1, m2, v.feedback)
    assert f"{m1:.3g}" in v.feedback, (m1, v.feedback)


def test_nag_fitted_momentum_is_what_the_student_used(make_ctx):
    ctx = make_ctx("nag-step")
    obs = nag_obs(ctx, rule(momentum=0.37))
    fits = nag_step.fit_family(ctx, obs.first, nag_step.reference_gradient(ctx, obs), obs.lr)
    assert fits[0].fits and fits[0].rule.start == fits[0].rule.evaluate == mutants.LOOKAHEAD
    assert fits[0].rule.momentum == pytest.approx(0.37, abs=1e-6) and fits[0].rule.factor == pytest.approx(1.0)


def test_nag_correct_step_with_wrong_back_propagate_passes(make_ctx):
    ctx = make_ctx("nag-step")
    params = ctx.criterion.check_params()
    x, y = ctx.oracle.batch(params.samples, "nag")

    def doubled(th):   # what a wrong back_propagate gives the replays
        return {k: 2 * v for k, v in ctx.oracle.gradient(params.hidden, th, x, y).items()}

    v = judge_nag(ctx, nag_obs(ctx, "nag", rubric_grad=doubled))
    assert v.status == "passed" and "judged separately" in v.feedback, v.feedback


def test_nag_near_miss_is_not_called_a_wrong_momentum(make_ctx):
    """Steps within 1e-4 of NAG but outside the float64 tolerance: no
    'momentum 0.9 instead of 0.9'; within the float32 tolerance when stored in float32."""
    ctx = make_ctx("nag-step")

    def rounded(grad, t0, steps, lr, mu):
        out = ref_opt.trajectory("nag", grad, t0, steps, lr, mu).stored
        return [out[0]] + [{k: v.astype(np.float32).astype(np.float64) for k, v in s.items()} for s in out[1:]]

    v = judge_nag(ctx, nag_obs(ctx, rounded))
    assert v.status == "failed" and "wrong-momentum" not in v.diagnoses, v.feedback
    assert "0.9 instead of 0.9" not in v.feedback and "close to" in v.feedback, v.feedback
    assert judge_nag(ctx, nag_obs(ctx, rounded, eps=FLOAT32_EPS)).status == "passed"


# -- a FISTA rubric ------------------------------------------------------------------------------

@pytest.fixture
def fista_ctx(make_ctx, silu_rubric):
    assignment = silu_rubric.assignment
    optimizer = assignment.optimizer.model_copy(update={"schedule": "fista"})
    rubric = silu_rubric.model_copy(update={"assignment": assignment.model_copy(update={"optimizer": optimizer})})
    return make_ctx("nag-step", rubric)


def test_fista_rubric_credits_fista_and_names_constant_momentum(fista_ctx):
    assert judge_nag(fista_ctx, nag_obs(fista_ctx, "nag_fista")).status == "passed"
    v = judge_nag(fista_ctx, nag_obs(fista_ctx, "nag"))
    assert v.diagnoses == ["wrong-momentum"] and "FISTA" in v.feedback, v.feedback


def fista(**knobs) -> Student:
    """A student committing one member of the family with the FISTA schedule's beta_k."""
    return rule(momentum=1.0, schedule=mutants.FISTA, **knobs)


def test_the_fista_member_of_the_family_is_the_reference_fista():
    """StepRule's schedule member with every knob right is the reference's
    nag_fista, step for step (so fitting it is fitting FISTA)."""
    rng = np.random.default_rng(0)
    target = {"W0": rng.normal(size=(3, 2)), "b0": rng.normal(size=(3, 1))}

    def grad(th):   # a quadratic bowl: the gradient moves with the point, as a network's does
        return {k: 0.5 * (th[k] - target[k]) ** 3 + th[k] for k in th}

    theta0 = {k: np.zeros_like(v) for k, v in target.items()}
    ours = mutants.momentum_steps(mutants.StepRule(1.0, schedule=mutants.FISTA), grad, theta0, 5, 0.1)
    theirs = ref_opt.trajectory("nag_fista", grad, theta0, 5, 0.1, 0.9).iterates
    for a, b in zip(ours, theirs):
        for k in a:
            np.testing.assert_allclose(a[k], b[k], rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("knobs, diagnoses", [
    ({"evaluate": mutants.ITERATE}, ["heavy-ball"]),
    ({"start": mutants.ITERATE}, ["lookahead-not-stepped"]),
    ({"previous": mutants.FROZEN}, ["previous-not-updated"]),
    ({"factor": 2.0}, ["wrong-step-size"]),
    ({"evaluate": mutants.ITERATE, "factor": 0.5}, ["heavy-ball", "wrong-step-size"]),
    ({"shift": 1}, ["wrong-momentum"]),
    ({"shift": 1, "evaluate": mutants.ITERATE}, ["heavy-ball", "wrong-momentum"]),
])
def test_fista_rubric_names_the_schedule_members(fista_ctx, knobs, diagnoses):
    """Under the FISTA schedule every member is fitted with beta_k: heavy
    ball with beta_k is heavy ball (template A's "gradients with respect to
    q and not p"), not a wrong constant momentum."""
    v = judge_nag(fista_ctx, nag_obs(fista_ctx, fista(**knobs)))
    assert v.status == "failed" and v.diagnoses == diagnoses, v.feedback
    assert "the FISTA schedule" in v.evidence["your steps fit"], v.evidence


def test_fista_one_step_early_says_so(fista_ctx):
    """t advanced before beta is computed: the schedule's coefficients one step early."""
    v = judge_nag(fista_ctx, nag_obs(fista_ctx, fista(shift=1)))
    assert v.diagnoses == ["wrong-momentum"] and "one step early" in v.feedback, v.feedback
    assert "constant" not in v.feedback


def test_fista_heavy_ball_names_beta_k_not_mu(fista_ctx):
    v = judge_nag(fista_ctx, nag_obs(fista_ctx, fista(evaluate=mutants.ITERATE)))
    assert "theta_k + beta_k (theta_k - theta_{k-1})" in v.feedback, v.feedback
    assert "constant" not in v.feedback


def test_fista_rubric_names_constant_heavy_ball_as_both(fista_ctx):
    """A constant mu with the gradient at theta_k where FISTA is asked: two mistakes."""
    v = judge_nag(fista_ctx, nag_obs(fista_ctx, mutant("heavy_ball_steps")))
    assert v.diagnoses == ["heavy-ball", "wrong-momentum"], v.feedback


def test_fista_members_are_not_fitted_under_a_constant_schedule(make_ctx):
    """A constant-momentum rubric keeps its family: a correct FISTA there is
    the FISTA replay's business (wrong-momentum); a FISTA heavy ball is
    reported as its nearest constant member, unnamed (its beta_k ignores
    the constructor's momentum, so the second probe could not confirm it
    the way it confirms a relation to mu)."""
    ctx = make_ctx("nag-step")
    obs = nag_obs(ctx, fista(evaluate=mutants.ITERATE))
    fits = nag_step.fit_family(ctx, obs.first, nag_step.reference_gradient(ctx, obs), obs.lr)
    assert fits and all(f.rule.schedule == mutants.CONSTANT for f in fits)
    v = judge_nag(ctx, obs)
    assert v.status == "failed" and v.diagnoses == [] and "fit no known method" in v.feedback, v.feedback


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.floats(0.05, 1.4))
def test_fista_rubric_random_constant_momenta_name_no_schedule_member(fista_ctx, m):
    """A constant momentum under the FISTA rubric is never read as a schedule member."""
    v = judge_nag(fista_ctx, nag_obs(fista_ctx, rule(momentum=round(m, 3), evaluate=mutants.ITERATE)))
    assert "FISTA schedule" not in v.evidence.get("your steps fit", ""), v.evidence
    assert v.status == "failed"


def test_validate_needs_two_steps_and_the_architectures_depth(make_ctx, silu_rubric):
    ctx = make_ctx("nag-step")
    crit = ctx.criterion
    assert nag_step.validate(silu_rubric, crit, nag_step.Params()) == []
    assert any("at least 2" in p for p in nag_step.validate(silu_rubric, crit, nag_step.Params(steps=1)))
    assert any("hidden layer" in p for p in nag_step.validate(silu_rubric, crit, nag_step.Params(hidden=[4, 4])))
    assert REGISTRY["nag_step"].public is False   # a public nag-step criterion is refused at load (make it hidden)
    text = find_rubric("penguins-silu").read_text()
    block = "    visibility: hidden\n    check: nag_step\n"
    assert block in text
    with pytest.raises(RubricError, match="check 'nag_step' cannot be public.*make it hidden"):
        parse_rubric(text.replace(block, block.replace("hidden", "public")))
    gd_crit = make_ctx("gd-step").criterion
    assert gd_step.validate(silu_rubric, gd_crit, gd_step.Params()) == []
    assert gd_step.validate(silu_rubric, gd_crit, gd_step.Params(hidden=[3, 3]))


# -- end to end: the step cases, graded in the sandbox --------------------------------------------

CASES = Path(__file__).resolve().parent / "cases_steps"
#: each case is submissions/correct_vectorized.py with one line of step() changed
CASE_DIAGNOSES = {
    "gd_lr_twice": {"gd-step": ["wrong-step-size"]},
    "gd_step_not_applied": {"gd-step": ["step-not-applied"]},
    "nag_lookahead_not_stepped": {"nag-step": ["lookahead-not-stepped"]},
    "nag_momentum_complement": {"nag-step": ["momentum-complement"]},
    "nag_momentum_half_literal": {"nag-step": ["wrong-momentum"]},
    "nag_momentum_sign_flipped": {"nag-step": ["momentum-sign-flipped"]},
    "nag_previous_not_updated": {"nag-step": ["previous-not-updated"]},
}


def test_every_case_has_an_expectation():
    assert sorted(p.stem for p in CASES.glob("*.py")) == sorted(CASE_DIAGNOSES)


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASE_DIAGNOSES))
def test_step_case_is_named_end_to_end(case, silu_rubric):
    from grader.engine import grade

    result = grade(CASES / f"{case}.py", silu_rubric).result
    by_id = {c["id"]: c for c in result["criteria"]}
    for cid in ("gd-step", "nag-step"):
        expected = CASE_DIAGNOSES[case].get(cid)
        crit = by_id[cid]
        if expected is None:
            assert crit["status"] == "passed", (cid, crit["feedback"])
        else:
            assert crit["status"] == "failed" and crit["diagnoses"] == expected, (cid, crit["feedback"])


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**63), st.sampled_from([0.9, 0.5, 0.55, 0.7, 0.3]))
def test_second_probe_values_are_drawn_from_the_seed_and_kept_apart(seed, mu):
    """The second probe's momentum and learning rate come from the seed (the
    course secret's when grading), and never sit where a named relation or a
    hard-coded value could be confused with the first probe's."""
    mu2 = nag_step.second_momentum(mu, seed)
    assert abs(mu2 - mu) > 0.1 and abs(mu2 - (1 - mu)) > 0.1
    lr2 = gd_step.second_lr(0.01, seed)
    assert 0.003 <= lr2 <= 0.0045
    assert all(abs(lr2 / 0.01 - f) > 0.04 for f in (0.5, 0.2, 1.0))


def test_second_probe_values_differ_between_seeds():
    assert len({nag_step.second_momentum(0.9, s) for s in range(20)}) > 5
    assert len({gd_step.second_lr(0.01, s) for s in range(20)}) > 5


def test_gd_prefetch_records_every_answer_observe_and_judge_ask(make_ctx, silu_rubric):
    """A kit replays recorded answers only: with gd-step's prefetch recorded,
    the trust question and the judge run for a right, a scaled and an
    unexplained gradient without asking anything unrecorded."""
    from grader.checks.base import Context
    from grader.checks.gradient import gradient_explained
    from grader.oracle import Oracle

    crit = silu_rubric.criterion("gd-step")
    recorder = Oracle(silu_rubric, record={})
    gd_step.prefetch(Context(silu_rubric, recorder, crit), crit.check_params())
    ctx = Context(silu_rubric, Oracle(silu_rubric, answers=dict(recorder.record)), crit)
    full = make_ctx("gd-step")
    obs = gd_obs(full, scaled(1.0))
    assert judge_gd(ctx, obs).status == "passed"
    for run in obs.runs:
        hidden = list(obs.hidden)
        mutant_grads = full.oracle.gradient_mutants(hidden, run.theta, run.x, run.y)
        owns = [run.own_gradient, {k: 5 * v for k, v in run.own_gradient.items()},
                {k: v + 1 for k, v in run.own_gradient.items()}, *mutant_grads.values()]
        for own in owns:
            assert gradient_explained(ctx, hidden, run.theta, run.x, run.y, own) \
                == gradient_explained(full, hidden, run.theta, run.x, run.y, own)


@pytest.mark.parametrize("scale", [5.0, 0.2])
def test_nag_member_with_a_scaled_own_gradient_charges_no_learning_rate(make_ctx, scale):
    """back_propagate returns S g (or g / S), step() uses it in heavy-ball
    steps: heavy-ball is named, the gradient's factor is not charged again
    as a learning rate; the same steps with 2 lr are."""
    ctx = make_ctx("nag-step")
    v = judge_nag(ctx, nag_obs(ctx, mutant("heavy_ball_steps"), student_scale=scale))
    assert v.diagnoses == ["heavy-ball"], v.feedback
    doubled = lambda grad, t0, steps, lr, mu: mutants.heavy_ball_steps(grad, t0, steps, 2 * lr, mu)   # noqa: E731
    v = judge_nag(ctx, nag_obs(ctx, doubled, student_scale=scale))
    assert v.diagnoses == ["heavy-ball", "wrong-step-size"], v.feedback
