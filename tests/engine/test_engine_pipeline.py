"""Judging in a second thread (engine._grade_loaded): criterion k is judged
while the worker answers criterion k+1.  The result must be exactly what
observing and judging one after the other gives, the judges must never
touch the worker, and a judge that fails costs only its criterion."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from pathlib import Path

import pytest

from grader import engine
from grader.checks import REGISTRY
from grader.engine import dumps, grade

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ["correct_vectorized.py", "bug_sum_not_mean.py", "bug_no_nag.py"]


class InlineExecutor:
    """A stand-in for the judge thread: runs each judge at once, in order."""

    def __init__(self, *args, **kwargs) -> None:
        pass

    def __enter__(self) -> "InlineExecutor":
        return self

    def __exit__(self, *exc) -> None:
        return None

    def submit(self, fn, *args):
        future: Future = Future()
        future.set_result(fn(*args))
        return future


@pytest.mark.parametrize("sample", SAMPLES)
def test_pipelined_equals_sequential(sample, silu_rubric, monkeypatch):
    path = ROOT / "submissions" / sample
    pipelined = dumps(grade(path, silu_rubric).result)
    monkeypatch.setattr(engine, "ThreadPoolExecutor", InlineExecutor)
    sequential = dumps(grade(path, silu_rubric).result)
    assert pipelined == sequential


def test_judges_run_in_the_judge_thread_and_never_use_the_worker(silu_rubric, monkeypatch, patch_check):
    """Every judge runs in the judge thread; while it runs, the worker's
    client is not entered from that thread (a judge asking the worker would
    race the observations on one channel)."""
    from grader.sandbox.client import WorkerClient

    judge_threads: set[str] = set()
    requests_from: set[str] = set()
    original_request = WorkerClient._request

    def request(self, *args, **kwargs):
        requests_from.add(threading.current_thread().name)
        return original_request(self, *args, **kwargs)

    monkeypatch.setattr(WorkerClient, "_request", request)
    for kind, check in REGISTRY.items():
        original = check.judge

        def judge(ctx, obs, params, _original=original):
            judge_threads.add(threading.current_thread().name)
            return _original(ctx, obs, params)

        patch_check(kind, judge=judge)
    doc = grade(ROOT / "submissions" / "correct_vectorized.py", silu_rubric).result
    assert doc["score"] == 100.0
    assert judge_threads and all(name.startswith("nngrade-judge") for name in judge_threads)
    assert not any(name.startswith("nngrade-judge") for name in requests_from)


def test_a_failing_judge_costs_only_its_criterion(silu_rubric, patch_check):
    """A check that raises is the grader's failure: the criterion gets the
    grader-error status and is left out of the total, never charged to the
    student (score 75/75 instead of 75/80)."""
    def broken(ctx, obs, params):
        raise KeyError("W9")

    patch_check("param_count", judge=broken)
    doc = grade(ROOT / "submissions" / "correct_vectorized.py", silu_rubric).result
    by_id = {c["id"]: c for c in doc["criteria"]}
    assert by_id["param-count"]["status"] == "grader-error" and "grader's fault" in by_id["param-count"]["feedback"]
    assert by_id["param-count"]["diagnoses"] == ["grader-error"]
    assert doc["grader_errors"] == ["param-count"]
    assert doc["max_score"] == 100.0 - by_id["param-count"]["max_score"] and doc["score"] == doc["max_score"]
    assert "grader-error" in doc["catalogue"]
    others = [c for c in doc["criteria"] if c["id"] != "param-count"]
    assert others and all(c["score"] == c["max_score"] for c in others)
