"""Realistic result documents for the renderer tests (penguins-silu rubric)."""

from __future__ import annotations

import copy
import math
from typing import Any

RUBRIC = "penguins-silu"
RUBRIC_TITLE = "Penguins MLP (SiLU)"

# id, title, points, visibility -- the instructor's rubric from the handout
CRITERIA: list[dict[str, Any]] = [
    {"id": "param-shapes", "title": "Parameter shapes", "points": 5.0, "visibility": "public"},
    {"id": "param-count", "title": "Parameter count", "points": 5.0, "visibility": "public"},
    {"id": "init", "title": "Initialization", "points": 5.0, "visibility": "hidden"},
    {"id": "forward", "title": "Forward pass", "points": 15.0, "visibility": "public"},
    {"id": "loss", "title": "Loss", "points": 5.0, "visibility": "public"},
    {"id": "grad-W0", "title": "Gradient of W0", "points": 6.0, "visibility": "public"},
    {"id": "grad-b0", "title": "Gradient of b0", "points": 6.0, "visibility": "public"},
    {"id": "grad-W1", "title": "Gradient of W1", "points": 6.0, "visibility": "public"},
    {"id": "grad-b1", "title": "Gradient of b1", "points": 6.0, "visibility": "public"},
    {"id": "gd-step", "title": "Gradient descent step", "points": 10.0, "visibility": "hidden"},
    {"id": "nag-step", "title": "Nesterov (NAG) step", "points": 16.0, "visibility": "hidden"},
    {"id": "training", "title": "Training run", "points": 15.0, "visibility": "hidden"},
]
CRITERIA_IDS = [c["id"] for c in CRITERIA]
HIDDEN_IDS = [c["id"] for c in CRITERIA if c["visibility"] == "hidden"]

# Marker strings that must never appear in a student page before release.
HIDDEN_SECRETS = {
    "gd-step": "SECRET-GD: one GD step matched theta - lr * grad to 1e-12",
    "nag-step": "SECRET-NAG: your NAG step evaluates the gradient at theta_k",
    "training": "SECRET-TRAIN: the loss fell from 1.0986 to 0.41",
}


def _loss_curve(start: float, rate: float, n: int, floor: float) -> list[float]:
    return [round(floor + (start - floor) * math.exp(-rate * k), 6) for k in range(n)]


def training_plot(*, diverge_nag: bool = False) -> dict[str, Any]:
    """Training-loss plot spec: student vs reference, GD and NAG, 21 points."""
    x = list(range(0, 201, 10))
    nag_you = _loss_curve(1.0986, 0.09, 21, 0.09)
    if diverge_nag:
        nag_you = nag_you[:12] + [float("nan")] * 8 + [float("inf")]
    return {
        "xlabel": "iteration", "ylabel": "training loss", "logy": True, "x": x,
        "series": {
            "GD (you)": _loss_curve(1.0986, 0.015, 21, 0.25),
            "NAG (you)": nag_you,
            "GD (reference)": _loss_curve(1.0986, 0.016, 21, 0.24),
            "NAG (reference)": _loss_curve(1.0986, 0.10, 21, 0.08),
        },
    }


def _criterion(cid: str, status: str, score: float, feedback: str = "",
               diagnoses: list[str] | None = None, evidence: dict[str, Any] | None = None,
               plots: dict[str, Any] | None = None) -> dict[str, Any]:
    meta = next(c for c in CRITERIA if c["id"] == cid)
    out: dict[str, Any] = {
        "id": cid, "title": meta["title"], "score": float(score), "max_score": meta["points"],
        "status": status, "visibility": meta["visibility"], "feedback": feedback,
        "diagnoses": list(diagnoses or []), "evidence": dict(evidence or {}),
    }
    if plots:
        out["plots"] = plots
    return out


def make_result(submission: str = "alice") -> dict[str, Any]:
    """A realistic result with every status, hidden criteria, a table, plots (one with
    NaN/inf values), diagnoses and captured stdout. Total: 56 / 100; public 43 / 54."""
    criteria = [
        _criterion("param-shapes", "passed", 5, "theta has W0 (16, 4), b0 (16, 1), W1 (3, 16), "
                   "b1 (3, 1) for N_H in {4, 16, 32}.", evidence={"hidden sizes tried": [4, 16, 32]}),
        _criterion("param-count", "passed", 5, "8 N_H + 3 learnable scalars for every N_H tried.",
                   evidence={"learnable scalars (N_H = 16)": 131}),
        _criterion("init", "hidden", 0),
        _criterion(
            "forward", "partial", 10,
            "Your probabilities equal the reference's to 3e-16 and every column sums to 1.\n"
            "For inputs scaled by 1000 your output contains NaN: exp overflowed.",
            ["softmax-overflow"],
            {"max |p - p_ref|": 3.1e-16, "max |column sum - 1|": 2.2e-16,
             "NaN entries at scale 1000": 186, "input scale": 1000}),
        _criterion(
            "loss", "passed", 5, "Your loss equals the mean cross-entropy (difference 4.4e-16).",
            evidence={"your loss": 1.0986122886681098, "reference loss": 1.0986122886681096},
            plots={"loss along a random direction": {
                "xlabel": "step t along d", "ylabel": "L(theta + t d)",
                "x": [round(-1 + 0.25 * i, 2) for i in range(9)],
                "series": {"you": [1.42, 1.27, 1.18, 1.12, 1.0986, 1.11, 1.16, float("nan"), 1.39],
                           "reference": [1.42, 1.27, 1.18, 1.12, 1.0986, 1.11, 1.16, 1.25, 1.39]}}}),
        _criterion("grad-W0", "passed", 6, "dW0 matches finite differences (rel. error 2.1e-9) "
                   "and the reference (rel. error 1.3e-15).",
                   evidence={"relative error vs finite differences": 2.1e-9,
                             "relative error vs reference": 1.3e-15}),
        _criterion(
            "grad-b0", "failed", 0,
            "Your gradient for b0 is exactly 280.0 times the correct one (S = 280 samples).\n"
            "Observed: db0[0] = 0.8414; expected 0.003005.",
            ["sum-not-mean"],
            {"relative error vs finite differences": 279.0,
             "ratio yours / reference": 280.0,
             "blocks": {"columns": ["block", "rel. error vs FD", "rel. error vs reference", "ratio"],
                        "rows": [["W0", 1e-9, 2e-9, 1.0], ["b0", 279.0, 279.0, 280.0],
                                 ["W1", 3.3e-10, 1e-15, 1.0], ["b1", 4.1e-10, 2e-16, 1.0]]}}),
        _criterion("grad-W1", "passed", 6, "dW1 matches finite differences (rel. error 8.7e-10).",
                   evidence={"relative error vs finite differences": 8.7e-10}),
        _criterion("grad-b1", "error", 0,
                   "back_propagate raised an exception:\n"
                   "IndexError: index 3 is out of bounds for axis 0 with size 3 (nn.py, line 88)",
                   ["crash"]),
        _criterion("gd-step", "passed", 10, HIDDEN_SECRETS["gd-step"],
                   evidence={"max |theta_1 - expected|": 1.1e-16}),
        _criterion("nag-step", "failed", 0, HIDDEN_SECRETS["nag-step"], ["heavy-ball"],
                   {"steps compared": 5, "rel. distance to Nesterov": 0.031,
                    "rel. distance to heavy-ball": 2e-16}),
        _criterion("training", "partial", 9, HIDDEN_SECRETS["training"] + "\n"
                   "NAG diverged after 110 iterations.", ["diverged"],
                   {"GD final loss": 0.41, "NAG final loss": float("nan"), "test accuracy": 0.968},
                   {"training loss": training_plot(diverge_nag=True)}),
    ]
    score = sum(c["score"] for c in criteria)
    return {
        "submission": submission, "rubric": RUBRIC, "rubric_title": RUBRIC_TITLE,
        "score": float(score), "max_score": 100.0, "error": None,
        "isolation": "namespaces+rlimits", "criteria": criteria,
        "stdout": STDOUT,
        "stdout_segments": [{"criterion": None, "chars": len(STDOUT)}],   # all printed while loading
    }


STDOUT = "epoch 0 loss 1.0986\nepoch 100 loss 0.52\n<script>alert('stdout')</script>\n"


def make_error_result(submission: str = "carol", kind: str = "syntax-error",
                      message: str = "SyntaxError: expected ':' (nn.py, line 30)") -> dict[str, Any]:
    """A submission that could not be run at all: every criterion errored, score 0."""
    criteria = [
        _criterion(c["id"], "error", 0, f"Not checked: {message}", [kind]) for c in CRITERIA
    ]
    return {
        "submission": submission, "rubric": RUBRIC, "rubric_title": RUBRIC_TITLE,
        "score": 0.0, "max_score": 100.0, "error": {"kind": kind, "message": message},
        "isolation": "namespaces+rlimits", "criteria": criteria, "stdout": "",
    }


def make_perfect_result(submission: str = "bob") -> dict[str, Any]:
    """Every criterion passed: 100 / 100."""
    criteria = [_criterion(c["id"], "passed", c["points"], "Correct.") for c in CRITERIA]
    criteria[-1]["plots"] = {"training loss": training_plot()}
    return {
        "submission": submission, "rubric": RUBRIC, "rubric_title": RUBRIC_TITLE,
        "score": 100.0, "max_score": 100.0, "error": None, "isolation": "namespaces+rlimits",
        "criteria": criteria, "stdout": "",
    }


def make_sum_not_mean_result(submission: str = "erin") -> dict[str, Any]:
    """All four gradients S times too large, NAG is heavy-ball: 100 - 24 - 16 = 60."""
    res = make_perfect_result(submission)
    for c in res["criteria"]:
        if c["id"].startswith("grad-"):
            c.update(status="failed", score=0.0, diagnoses=["sum-not-mean"],
                     feedback="Your gradient is exactly 280 times the correct one.")
        if c["id"] == "nag-step":
            c.update(status="failed", score=0.0, diagnoses=["heavy-ball"],
                     feedback="Gradient evaluated at theta_k, not at the look-ahead point.")
    res["score"] = sum(c["score"] for c in res["criteria"])
    return res


def make_class() -> list[dict[str, Any]]:
    """Five submissions, deliberately not in id order.

    Scores: alice 56, bob 100, carol 0 (syntax error), dave 0 (timeout), erin 60.
    """
    dave = make_error_result("dave", "timeout", "Time limit of 60 s exceeded while importing nn.py")
    return [make_sum_not_mean_result("erin"), make_result("alice"), dave,
            make_perfect_result("bob"), make_error_result("carol")]


def with_feedback(result: dict[str, Any], criterion_id: str, feedback: str) -> dict[str, Any]:
    """A deep copy of ``result`` with one criterion's feedback replaced."""
    res = copy.deepcopy(result)
    for c in res["criteria"]:
        if c["id"] == criterion_id:
            c["feedback"] = feedback
    return res
