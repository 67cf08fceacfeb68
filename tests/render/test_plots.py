"""plot_svg: inline, deterministic, robust to NaN/inf, empty data and log scales."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.render.plots import bar_svg, is_reference, plot_svg

from .fixtures import training_plot

ROOT = Path(__file__).resolve().parents[2]


def _check_inline_svg(svg: str) -> None:
    assert svg.startswith("<svg ")
    assert svg.rstrip().endswith("</svg>")
    assert "<?xml" not in svg and "<!DOCTYPE" not in svg
    assert "http://" not in svg and "https://" not in svg
    assert "<script" not in svg.lower()


def test_training_plot_is_inline_svg() -> None:
    svg = plot_svg(training_plot())
    _check_inline_svg(svg)
    assert 'viewBox="' in svg


def test_deterministic_within_process() -> None:
    spec = training_plot(diverge_nag=True)
    assert plot_svg(spec) == plot_svg(spec)


def test_deterministic_across_processes() -> None:
    code = ("import sys; sys.path.insert(0, %r); from tests.render.fixtures import training_plot; "
            "from grader.render.plots import plot_svg; "
            "sys.stdout.write(plot_svg(training_plot(diverge_nag=True)))") % str(ROOT)
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"}, cwd=ROOT).stdout
            for seed in ("1", "2")}
    assert len(outs) == 1
    assert outs.pop() == plot_svg(training_plot(diverge_nag=True))


def test_ids_are_prefixed_and_unique_between_plots() -> None:
    a = plot_svg(training_plot(), id_prefix="one")
    b = plot_svg(training_plot(), id_prefix="two")
    ids_a = set(re.findall(r'\bid="([^"]+)"', a))
    ids_b = set(re.findall(r'\bid="([^"]+)"', b))
    assert ids_a and all(i.startswith("one-") for i in ids_a)
    assert not ids_a & ids_b
    # every internal reference points at an id of the same plot
    for ref in re.findall(r'href="#([^"]+)"', a):
        assert ref in ids_a


def test_nan_inf_are_skipped_and_counted() -> None:
    spec = {"series": {"you": [1.0, math.nan, math.inf, -math.inf, 2.0]}, "logy": True}
    svg = plot_svg(spec)
    _check_inline_svg(svg)


def test_empty_series_and_empty_spec() -> None:
    for spec in ({}, {"series": {}}, {"series": {"you": []}}, {"series": {"you": [math.nan] * 3}},
                 {"x": [], "series": {"a": [1, 2]}}):
        _check_inline_svg(plot_svg(spec))


def test_logy_with_nonpositive_values_falls_back_to_linear() -> None:
    svg = plot_svg({"logy": True, "ylabel": "loss", "series": {"you": [1.0, 0.0, -1.0]}})
    _check_inline_svg(svg)


def test_labels_are_escaped_and_dollar_is_not_mathtext() -> None:
    svg = plot_svg({"xlabel": "$x_{unbalanced", "ylabel": "--><script>alert(1)</script>",
                    "series": {"<b>you</b> & $me$": [1, 2, 3]}})
    _check_inline_svg(svg)


def test_bar_chart() -> None:
    svg = bar_svg(["0-10", "10-20", "20-30"], [1, 0, 3], xlabel="score", ylabel="submissions")
    _check_inline_svg(svg)
    assert svg == bar_svg(["0-10", "10-20", "20-30"], [1, 0, 3], xlabel="score", ylabel="submissions")
    _check_inline_svg(plot_svg({"kind": "bar", "categories": [], "series": {}}))


def test_reference_detection() -> None:
    assert is_reference("GD (reference)") and is_reference("NAG (Reference)")
    assert not is_reference("GD (you)")
    assert is_reference("mine", {"reference": ["mine"]})


def test_no_figures_leak() -> None:
    import matplotlib.pyplot as plt

    before = len(plt.get_fignums())
    for _ in range(3):
        plot_svg(training_plot())
    assert len(plt.get_fignums()) == before
    assert matplotlib.get_backend().lower() == "agg"


finite_or_not = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
                          st.integers(-10**6, 10**6), st.none())


@pytest.mark.parametrize("data", [[8.98e307, -8.98e307], [1.7e308, 1e-300], [-1.7e308, 1e308, 0.5]])
@pytest.mark.parametrize("logy", [False, True])
def test_values_near_the_float_limit_render(data: list, logy: bool) -> None:
    """A diverged student's values near +-1.8e308: the axis would span an
    infinite length (matplotlib's tick locator raised); drawn as non-finite."""
    svg = plot_svg({"series": {"yours": data, "reference": [1.0, 0.5]}, "logy": logy})
    _check_inline_svg(svg)   # (it raised ValueError: arange: cannot compute length)


@settings(max_examples=15, deadline=None)
@given(series=st.dictionaries(st.text(max_size=12), st.lists(finite_or_not, max_size=12), max_size=3),
       logy=st.booleans())
def test_any_data_renders(series: dict, logy: bool) -> None:
    _check_inline_svg(plot_svg({"series": series, "logy": logy}))
