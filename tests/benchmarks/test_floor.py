"""benchmarks/floor.py asks what the grader asks: one probe per criterion of
penguins-silu, and per criterion the same calls of the student's class
(constructor arguments, methods, sample counts, iterations) as `grade()`.

`grade/floor` in benchmarks/bench.py is only an honest ratio while both sides
ask the same questions: a new criterion without a floor probe, or a check
that starts asking more (another finite-difference point, a second probe,
a longer run), fails here until floor.py is updated.
"""

from __future__ import annotations

import dataclasses

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from grader import engine
from grader.checks import REGISTRY
from grader.rubric import load_rubric
from grader.sandbox import client as client_mod

ROOT = Path(__file__).resolve().parents[2]
FLOOR = ROOT / "benchmarks" / "floor.py"
SUBMISSION = ROOT / "submissions" / "correct_vectorized.py"
#: the floor's figures that are not a criterion's probe
OVERHEAD = {"numpy import", "data", "load", "total inside"}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def floor_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    """(timings, questions) of one traced floor run on the vectorized sample."""
    trace = tmp_path_factory.mktemp("floor") / "trace.json"
    proc = subprocess.run([sys.executable, str(FLOOR), str(SUBMISSION), "--trace", str(trace)],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    timings = json.loads(proc.stdout.strip().splitlines()[-1])
    return timings, json.loads(trace.read_text(encoding="utf-8"))


def grader_questions(monkeypatch: pytest.MonkeyPatch) -> dict[str, Counter]:
    """The calls of the student's class that an in-process grade() of the
    vectorized sample makes, per criterion, read off the worker requests."""
    rubric = load_rubric("penguins-silu")
    current = ["(load)"]
    asked: dict[str, Counter] = {}
    request = client_mod.WorkerClient.request

    def tracking(observe: Any) -> Any:
        """A check's observe (the check contract: the only code that asks the
        worker), noting which criterion the requests belong to."""
        def observing(ctx: Any, probe: Any, params: Any) -> Any:
            current[0] = ctx.criterion.id
            asked.setdefault(ctx.criterion.id, Counter())
            return observe(ctx, probe, params)
        return observing

    def recording(self: Any, message: dict, timeout: Any, **kw: Any) -> Any:
        op, args = message.get("op"), message.get("args", [])
        samples = int(args[0]["__nd__"][1][0]) if args and isinstance(args[0], dict) and "__nd__" in args[0] else None
        counter = asked.setdefault(current[0], Counter())
        if op == "new":
            kwargs = message["kwargs"]
            counter[("__init__", kwargs["num_hidden"], kwargs["gradient_method"], kwargs["lr"],
                     kwargs["momentum"])] += 1
        elif op == "call":
            counter[(message["method"], samples, *(a for a in args[2:3] if isinstance(a, int)))] += 1
        elif op == "loss_at":   # one call of the loss per point of a sweep
            counter[(message["method"], samples)] += len(message.get("points") or [None])
        elif op == "steps":
            counter[(message["method"], samples)] += int(message["n"])
        return request(self, message, timeout, **kw)

    for check in {c.check for c in rubric.criteria}:
        monkeypatch.setitem(REGISTRY._names, check, dataclasses.replace(REGISTRY[check],
                                                                        observe=tracking(REGISTRY[check].observe)))
    monkeypatch.setattr(client_mod.WorkerClient, "request", recording)
    outcome = engine.grade(SUBMISSION, rubric)
    assert outcome.result["score"] == outcome.result["max_score"], "the vectorized sample must grade in full"
    return asked


def test_one_probe_per_criterion(floor_run: tuple[dict, dict]) -> None:
    timings, _ = floor_run
    criteria = {c.id for c in load_rubric("penguins-silu").criteria}
    assert set(timings) - OVERHEAD == criteria, "floor.py needs exactly one probe per penguins-silu criterion"
    assert OVERHEAD <= set(timings)
    assert all(isinstance(v, float) and v >= 0.0 for v in timings.values())
    assert timings["total inside"] >= sum(v for k, v in timings.items() if k != "total inside")


def test_same_questions_as_the_grader(floor_run: tuple[dict, dict], monkeypatch: pytest.MonkeyPatch) -> None:
    _, floor_questions = floor_run
    asked = grader_questions(monkeypatch)
    for criterion, counter in asked.items():
        if criterion == "(load)":
            assert not counter, f"the grader called the student's class before any criterion: {counter}"
            continue
        floor = Counter(tuple(q) for q in floor_questions.get(criterion, []))
        assert floor == counter, (f"{criterion}: floor.py asks {dict(floor)}, the grader "
                                  f"{dict(counter)}; update benchmarks/floor.py")
    assert set(floor_questions) == set(asked) - {"(load)"}


@pytest.mark.parametrize("method", ["gd", "heavy_ball", "nag", "nag_fista", "nag_stored"])
@pytest.mark.parametrize("momentum", [0.9, 0.55])
def test_replay_asks_where_the_reference_optimizers_do(method: str, momentum: float) -> None:
    """floor.replay writes out reference/optimizers.py's recurrences (cheaper
    than importing it): it must ask for gradients at the same points."""
    import importlib.util

    import numpy as np

    from reference.optimizers import trajectory

    spec = importlib.util.spec_from_file_location("floor_under_test", FLOOR)
    floor = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(floor)
    rng = np.random.default_rng(7)
    theta0 = {"W0": rng.standard_normal((6, 4)), "b0": rng.standard_normal((6, 1)),
              "W1": rng.standard_normal((3, 6)), "b1": rng.standard_normal((3, 1))}

    def gradient(theta: dict) -> dict:   # any smooth nonlinear map will do
        return {k: np.tanh(v) + 0.1 * v ** 2 for k, v in theta.items()}

    asked: list[dict] = []

    def recording(theta: dict) -> dict:
        asked.append({k: np.array(v) for k, v in theta.items()})
        return gradient(theta)

    floor.replay(method, recording, theta0, 4, 0.05, momentum)
    expected = trajectory(method, gradient, theta0, 4, 0.05, momentum).lookaheads
    assert len(asked) == len(expected) == 4
    for mine, theirs in zip(asked, expected):
        assert mine.keys() == theirs.keys()
        for key in theirs:
            np.testing.assert_allclose(mine[key], theirs[key], rtol=1e-12, atol=1e-14)
