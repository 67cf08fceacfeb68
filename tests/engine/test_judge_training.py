"""The training check: its conditions, train()'s history and the spot checks
on typed observations; odd student values through the real observe (never
a grader-error); and its audit: a rubric whose settings keep the reference
itself below the bar is refused by `rubric validate` and by `batch`.
Each test fails if its diagnosis is removed or mis-triggered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader.checks import training
from grader.checks.base import GRADER_ERROR
from grader.cli import main
from grader.rubric import RubricError, audit_problems, load_rubric, parse_rubric
from grader.schema import BUNDLED
from reference import optimizers as ref_opt
from student_fakes import ODD_VALUES, grade_criterion, judge_declared

SPOTS = (57, 123, 250)


def trajectory(ctx: Any, method: str, lr: float | None = None) -> list[dict]:
    """Every iterate of the reference's run from the criterion's start."""
    p = ctx.criterion.check_params()
    hidden, data = ctx.oracle.default_hidden, ctx.oracle.dataset
    return ref_opt.trajectory(method, lambda th: ctx.oracle.gradient(hidden, th, data.x_train, data.y_train),
                              training.start(ctx, hidden), p.iterations, lr or p.lr, 0.9).iterates


def training_obs(ctx: Any, gd: list[dict] | None = None, nag: list[dict] | None = None,
                 history: tuple[float, ...] | None = None, history_error: str | None = None) -> training.Observation:
    """A typed observation built from whole trajectories (every iterate),
    sliced the way observe() snapshots them."""
    p = ctx.criterion.check_params()
    hidden, data = ctx.oracle.default_hidden, ctx.oracle.dataset
    full = {"gd": gd or trajectory(ctx, "gd"), "nag": nag or trajectory(ctx, "nag")}
    if history is None and history_error is None:
        history = tuple(ctx.oracle.loss(hidden, full["gd"][i], data.x_train, data.y_train)
                        for i in range(p.train_iterations))

    def grad(th: dict) -> dict:
        return ctx.oracle.gradient(hidden, th, data.x_train, data.y_train)

    spots = {m: {i: full[m][i] for i in (*range(p.train_iterations + 1), *SPOTS, *(k + 1 for k in SPOTS))}
             for m in full}
    return training.Observation(tuple(hidden), p.lr, p.every, {m: tuple(full[m][::p.every]) for m in full}, spots,
                                SPOTS, (grad(full["gd"][0]), *(grad(full["gd"][k]) for k in SPOTS)), history,
                                history_error, False)


def judge(ctx: Any, obs: training.Observation):
    return judge_declared(ctx, obs)


@pytest.fixture(scope="module")
def good(silu_rubric):
    from grader.checks.base import Context
    from grader.engine import oracle_for

    ctx = Context(silu_rubric, oracle_for(silu_rubric), silu_rubric.criterion("training"))
    return training_obs(ctx)


def test_reference_runs_pass_with_plots(make_ctx, good):
    v = judge(make_ctx("training"), good)
    assert v.status == "passed" and v.diagnoses == [], v.feedback
    assert set(v.plots) == {"training loss", "test accuracy"}
    assert len(v.plots["training loss"]["series"]) == 4


def test_stuck_run_is_no_progress(make_ctx, good):
    stuck = training.Observation(**{**good.__dict__, "runs": {"gd": (good.runs["gd"][0],) * len(good.runs["gd"]),
                                                              "nag": good.runs["nag"]}})
    v = judge(make_ctx("training"), stuck)
    assert v.status == "partial" and v.diagnoses == ["no-progress"]


def test_non_finite_end_is_diverged(make_ctx, good):
    nan = {k: np.full_like(val, np.nan) for k, val in good.runs["gd"][0].items()}
    diverged = training.Observation(**{**good.__dict__, "runs": {"gd": good.runs["gd"][:-1] + (nan,),
                                                                 "nag": good.runs["nag"]}})
    v = judge(make_ctx("training"), diverged)
    assert v.diagnoses == ["diverged"] and "no test accuracy" in v.feedback


def test_loss_that_blew_up_and_came_back_is_diverged(make_ctx, good):
    """Not merely stalled: a peak far above the start is named even if the end is fine."""
    ctx = make_ctx("training")
    start = good.runs["gd"][0]
    far = {k: 40 * v for k, v in start.items()}
    runs = {"gd": (start, far) + good.runs["gd"][2:], "nag": good.runs["nag"]}
    v = judge(ctx, training.Observation(**{**good.__dict__, "runs": runs}))
    assert "diverged" in v.diagnoses and "blew up" in v.feedback


def test_jump_to_precomputed_weights_earns_nothing(make_ctx, good):
    """A step() that recognises the training set and jumps to weights trained
    offline: the run reaches the bar, but its first step is no gradient step."""
    ctx = make_ctx("training")
    p = ctx.criterion.check_params()
    jump = [good.runs["gd"][0]] + [good.runs["gd"][-1]] * p.iterations
    v = judge(ctx, training_obs(ctx, gd=jump, nag=jump))
    assert v.fraction == 0.0 and "trajectory-mismatch" in v.diagnoses, v.feedback


def test_a_wrong_step_size_is_still_a_gradient_step(make_ctx):
    """Spot checks accept any positive step size along -g (a wrong lr is charged in gd-step)."""
    ctx = make_ctx("training")
    v = judge(ctx, training_obs(ctx, gd=trajectory(ctx, "gd", lr=0.13)))
    assert "trajectory-mismatch" not in v.diagnoses, v.feedback


@pytest.mark.parametrize("history, error, phrase", [
    ((1.0,) * 5, None, "for iteration 1"),
    ((1.0,) * 3, None, "3 values"),
    (None, "ZeroDivisionError: division by zero", "failed"),
])
def test_broken_train_costs_its_share(make_ctx, history, error, phrase):
    ctx = make_ctx("training")
    v = judge(ctx, training_obs(ctx, history=history, history_error=error))
    assert v.fraction == pytest.approx(1 - training.TRAIN_SHARE) and v.diagnoses == ["train-broken"]
    assert phrase in v.feedback


def test_conditions_are_the_five_fifths():
    p = training.Params(iterations=20, every=10, accuracy=0.9)
    runs = {"gd": {"loss": [1.0, 0.5, 0.4], "test_acc": [0.3, 0.8, 0.95]},
            "nag": {"loss": [1.0, 0.5, 0.3], "test_acc": [0.3, 0.8, 0.85]}}
    met = training.conditions(runs, [0, 10, 20], p)
    assert [c.met for c in met] == [True, True, True, False, True]
    assert "85.0% (bar 90% not reached)" in met[3].line


# -- odd student values, through observe ------------------------------------------------

def test_correct_student_passes_through_observe(silu_rubric):
    v = grade_criterion(silu_rubric, "training")
    assert v.status == "passed", v.feedback


@pytest.mark.parametrize("name", list(ODD_VALUES))
def test_odd_snapshot_is_bad_output_never_a_grader_error(silu_rubric, name):
    v = grade_criterion(silu_rubric, "training", snapshot=lambda _: ODD_VALUES[name])
    assert v.status != GRADER_ERROR, v.notes
    assert v.diagnoses == ["bad-output"] and "self.theta after 0" in v.feedback


@pytest.mark.parametrize("name", list(ODD_VALUES))
def test_odd_train_history_is_train_broken_never_a_grader_error(silu_rubric, name):
    v = grade_criterion(silu_rubric, "training", train=lambda _: ODD_VALUES[name])
    assert v.status != GRADER_ERROR, v.notes
    assert v.diagnoses == ["train-broken"] and v.fraction == pytest.approx(1 - training.TRAIN_SHARE)


@pytest.mark.parametrize("name", list(ODD_VALUES))
def test_odd_own_gradient_is_ignored(silu_rubric, name):
    """back_propagate is optional evidence here: an odd one falls back to the reference."""
    v = grade_criterion(silu_rubric, "training", back_propagate=lambda _: ODD_VALUES[name])
    assert v.status == "passed", v.feedback


def test_float32_student_is_read_and_compared_at_float32_precision(silu_rubric):
    def float32(theta):
        return {k: a.astype(np.float32) for k, a in theta.items()}

    v = grade_criterion(silu_rubric, "training", snapshot=float32, parameters=float32)
    assert v.status == "passed", v.feedback


# -- validate: cheap rules ----------------------------------------------------------------

def cifar_text(training_params: str) -> str:
    text = (BUNDLED / "cifar-mlp.yaml").read_text()
    line = "    params: {hidden: [32, 16], iterations: 30, lr: 0.1, accuracy: 0.9}\n"
    assert line in text
    return text.replace(line, f"    params: {training_params}\n")


def test_one_layer_probe_on_a_two_layer_rubric_is_refused():
    with pytest.raises(RubricError, match=r"hidden \[32\] has 1 hidden layer\(s\), the architecture 2"):
        parse_rubric(cifar_text("{hidden: [32], iterations: 30, lr: 0.1}"), "cifar-mlp.yaml")
    parse_rubric(cifar_text("{iterations: 30, lr: 0.1}"), "cifar-mlp.yaml")   # default: the architecture's


def test_too_few_iterations_for_the_spot_checks_is_refused():
    with pytest.raises(RubricError, match="no room for 3 spot-checked steps"):
        parse_rubric(cifar_text("{hidden: [32, 16], iterations: 8, lr: 0.1}"), "cifar-mlp.yaml")


def test_snapshots_every_zero_steps_is_refused():
    with pytest.raises(RubricError, match="every 0"):
        parse_rubric(cifar_text("{iterations: 30, lr: 0.1, every: 0}"), "cifar-mlp.yaml")


def test_public_training_criterion_is_refused():
    text = (BUNDLED / "penguins-silu.yaml").read_text()
    hidden = "    visibility: hidden\n    check: training\n"
    assert hidden in text
    with pytest.raises(RubricError, match="check .training. cannot be public.*make it hidden"):
        parse_rubric(text.replace(hidden, "    visibility: public\n    check: training\n"), "penguins-silu.yaml")


# -- audit: the reference reaches the rubric's own bar ---------------------------------------

SLOW_LR = "params: {iterations: 300, lr: 0.01, accuracy: 0.9}"


@pytest.fixture(scope="module")
def slow_rubric_file(tmp_path_factory) -> Path:
    """penguins-silu with the training lr a TA copied from the optimizer (0.01):
    the reference reaches 80.6 % test accuracy against the 0.9 bar."""
    text = (BUNDLED / "penguins-silu.yaml").read_text()
    line = "params: {iterations: 300, lr: 0.1, accuracy: 0.9}"
    assert line in text
    path = tmp_path_factory.mktemp("audit") / "slow.yaml"
    path.write_text(text.replace(line, SLOW_LR))
    return path


def test_bundled_rubrics_pass_their_audits(silu_rubric):
    assert audit_problems(silu_rubric) == []


def test_audit_names_the_criterion_and_the_numbers(slow_rubric_file):
    problems = audit_problems(load_rubric(slow_rubric_file))
    assert len(problems) == 1
    assert problems[0].startswith("criteria.11 (training): the reference itself misses")
    assert "lr 0.01" in problems[0] and "GD: test accuracy 80.6% (bar 90% not reached)" in problems[0]


def test_audit_passes_when_the_bar_is_within_reach(slow_rubric_file):
    """The same slow lr with a bar the reference reaches: nothing to say."""
    text = slow_rubric_file.read_text().replace(SLOW_LR, "params: {iterations: 300, lr: 0.01, accuracy: 0.8}")
    assert audit_problems(parse_rubric(text, "ok.yaml")) == []


def test_rubric_validate_refuses_a_failed_audit(slow_rubric_file, capsys):
    assert main(["rubric", "validate", str(slow_rubric_file)]) == 2
    err = capsys.readouterr().err
    assert "training" in err and "80.6%" in err and "valid (" not in capsys.readouterr().out


def test_batch_refuses_to_start_on_a_failed_audit(slow_rubric_file, tmp_path, capsys):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "alice.py").write_text("class NN:\n    pass\n")
    out = tmp_path / "out"
    assert main(["batch", str(subs), "--rubric", str(slow_rubric_file), "--out", str(out)]) == 2
    assert "80.6%" in capsys.readouterr().err
    assert not out.exists()   # nothing graded, nothing written


def test_work_prepared_ahead_is_what_the_judge_would_compute():
    """Context.prepare runs the judge's curves in the judging thread while
    the student's code goes on; with it or without it the verdict is the same."""
    from concurrent.futures import ThreadPoolExecutor

    from grader.checks.base import Context

    calls = []
    with ThreadPoolExecutor(max_workers=1) as ahead:
        ctx = Context(None, None, None, ahead=ahead)
        ctx.prepare("k", lambda: calls.append("ahead") or 41)
        assert ctx.prepared("k", lambda: calls.append("judge") or 42) == 41
        assert ctx.prepared("k", lambda: calls.append("judge") or 42) == 42   # taken once
    plain = Context(None, None, None)
    plain.prepare("k", lambda: calls.append("never") or 0)
    assert plain.prepared("k", lambda: 7) == 7
    assert calls == ["ahead", "judge"]


@pytest.mark.parametrize("sample", ["correct_vectorized.py", "bug_no_nag.py"])
def test_a_training_verdict_does_not_depend_on_prepared_work(sample, silu_rubric, monkeypatch):
    from grader.checks.base import Context
    from grader.engine import grade

    path = Path(__file__).resolve().parents[2] / "submissions" / sample
    prepared = grade(path, silu_rubric).result
    monkeypatch.setattr(Context, "prepare", lambda self, key, compute: None)
    alone = grade(path, silu_rubric).result
    pick = lambda doc: next(c for c in doc["criteria"] if c["id"] == "training")   # noqa: E731
    assert pick(prepared) == pick(alone)
