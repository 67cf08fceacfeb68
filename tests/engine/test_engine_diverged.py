"""A run whose loss blows up is `diverged` (not "no progress"), and its
plot keeps the reference curves readable."""

from __future__ import annotations

import math
from pathlib import Path

from grader.engine import grade
from grader.render.html import render_report
from grader.render.plots import CLIP_DECADES, _clip_top, plot_svg

DIVERGING = Path(__file__).resolve().parent / "diverging" / "lr_times_100.py"


def test_a_learning_rate_100_times_too_large_is_diagnosed_diverged(silu_rubric, monkeypatch):
    result = grade(DIVERGING, silu_rubric).result
    training = next(c for c in result["criteria"] if c["id"] == "training")
    assert "diverged" in training["diagnoses"] and "no-progress" not in training["diagnoses"], training
    assert "the run diverged" in training["feedback"] and "blew up" in training["feedback"]
    plot = training["plots"]["training loss"]
    mine = [y for name, ys in plot["series"].items() if "you" in name for y in ys
            if isinstance(y, float) and math.isfinite(y)]
    ref = [y for name, ys in plot["series"].items() if "reference" in name for y in ys]
    assert max(mine) > 1e3 * max(ref), "the fixture must blow up for this test to mean anything"
    top = _clip_top({k: [float(v) if v is not None else math.nan for v in vals] for k, vals in plot["series"].items()},
                    plot, logy=True)
    assert top is not None and top <= max(ref) * 10 ** CLIP_DECADES * (1 + 1e-12)
    assert "Training diverged" in render_report(result, audience="instructor")
    cut = plot_svg(plot)
    import grader.render.plots as plots
    monkeypatch.setattr(plots, "CLIP_DECADES", 300.0)   # a window no curve leaves: nothing is cut
    assert plot_svg(plot) != cut


def test_the_view_is_cut_only_when_a_curve_leaves_the_reference_window():
    ref = [1.1, 0.5, 0.1, 0.05]
    calm = {"series": {"GD (you)": [1.1, 0.7, 0.4, 0.2], "GD (reference)": ref}, "logy": True}
    assert _clip_top({k: list(v) for k, v in calm["series"].items()}, calm, logy=True) is None
    wild = {"series": {"GD (you)": [1.1, 1e40, 1e98, 3.0], "GD (reference)": ref}, "logy": True}
    top = _clip_top({k: list(v) for k, v in wild["series"].items()}, wild, logy=True)
    assert top == 1.1 * 10 ** CLIP_DECADES
    linear = {"series": {"acc (you)": [0.3, 50.0], "acc (reference)": [0.3, 0.9]}, "logy": False}
    assert _clip_top({k: list(v) for k, v in linear["series"].items()}, linear, logy=False) is not None
    no_ref = {"series": {"GD (you)": [1.0, 1e90]}, "logy": True}
    assert _clip_top({k: list(v) for k, v in no_ref["series"].items()}, no_ref, logy=True) is None
    # the cut view is deterministic and differs from the uncut one
    assert plot_svg(wild) == plot_svg(wild) and plot_svg(wild) != plot_svg(dict(wild, series={
        "GD (you)": [1.1, 2.0, 3.0, 3.0], "GD (reference)": ref}))
