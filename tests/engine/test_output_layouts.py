"""The rubric's `interface.output_layouts` and `bias_layouts` are honoured:
a layout the rubric does not list is refused with a message that names it
and what the assignment asks for; the defaults accept both, as before."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from grader.adapter import RefusedLayout, probabilities_to_canonical
from grader.checks.base import Context
from grader.checks.values import parameter_description
from grader.checks.param_shapes import Observation, Variant, judge
from grader.engine import grade
from grader.oracle import Oracle
from grader.rubric import RubricError, load_rubric, parse_rubric

ROOT = Path(__file__).resolve().parents[2]
C, S = 3, 5


def probs(rng: np.random.Generator, c: int = C, s: int = S) -> np.ndarray:
    p = rng.random((c, s))
    return p / p.sum(axis=0)


# -- the adapter ---------------------------------------------------------------------------------

def test_the_default_reads_both_layouts():
    p = probs(np.random.default_rng(0))
    assert probabilities_to_canonical(p, C, S)[1] == "CS"
    back, seen = probabilities_to_canonical(p.T, C, S)
    assert seen == "SC" and np.array_equal(back, p)


@pytest.mark.parametrize("allowed, refused", [(["CS"], "SC"), (["SC"], "CS")])
def test_a_layout_the_rubric_does_not_list_is_refused_with_a_message(allowed, refused):
    p = probs(np.random.default_rng(1))
    given = p.T if refused == "SC" else p
    with pytest.raises(RefusedLayout) as info:
        probabilities_to_canonical(given, C, S, allowed)
    message = str(info.value)
    assert info.value.seen == refused
    words = {"CS": "(classes, samples)", "SC": "(samples, classes)"}
    assert f"laid out {words[refused]}" in message
    assert f"asks for {words[allowed[0]]} = {(C, S) if allowed == ['CS'] else (S, C)}" in message
    read, seen = probabilities_to_canonical(p if allowed == ["CS"] else p.T, C, S, allowed)   # the listed one reads
    assert seen == allowed[0] and np.array_equal(read, p)


@pytest.mark.parametrize("allowed, seen", [(["CS", "SC"], "CS"), (["CS"], "CS"), (["SC"], "SC"), (["SC", "CS"], "SC")])
def test_a_square_output_is_read_in_the_first_listed_layout(allowed, seen):
    """S == C cannot tell the layouts apart (the probes avoid it): read as
    the rubric lists first, so the default reads (C, S) as it always did."""
    p = probs(np.random.default_rng(2), 3, 3)
    read, got = probabilities_to_canonical(p, 3, 3, allowed)
    assert got == seen and np.array_equal(read, p if seen == "CS" else p.T)


def test_other_shapes_are_described_not_refused():
    assert probabilities_to_canonical(np.zeros(C * S + 1), C, S, ["CS"]) == (None, f"shape ({C * S + 1},)")


def test_an_empty_layout_list_is_a_rubric_error():
    text = (ROOT / "rubrics" / "penguins-silu.yaml").read_text()
    for field in ("output_layouts", "bias_layouts"):
        with pytest.raises(RubricError, match=field):
            parse_rubric(text.replace("interface:\n", f"interface:\n  {field}: []\n", 1))


# -- end to end: a rubric that asks for (C, S) ----------------------------------------------------

def forward_only_rubric(tmp_path: Path, output_layouts: list[str] | None) -> Path:
    doc = yaml.safe_load((ROOT / "rubrics" / "penguins-silu.yaml").read_text())
    doc["criteria"] = [c for c in doc["criteria"] if c["id"] == "forward"]
    doc["total_points"] = doc["criteria"][0]["points"]
    if output_layouts is not None:
        doc["interface"]["output_layouts"] = output_layouts
    path = tmp_path / f"forward-{'-'.join(output_layouts or ['default'])}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.fixture(scope="module")
def samples_by_rows(tmp_path_factory) -> Path:
    """The correct sample, its feed_forward answering (S, C)."""
    folder = tmp_path_factory.mktemp("sc")
    source = (ROOT / "submissions" / "correct_vectorized.py").read_text()
    (folder / "nn.py").write_text(source + "\n\n_Base = NN\n\n\nclass NN(_Base):\n"
                                  "    def feed_forward(self, x):\n        return _Base.feed_forward(self, x).T\n")
    return folder / "nn.py"


@pytest.mark.slow
def test_a_rubric_asking_for_cs_refuses_an_sc_answer_with_a_clear_message(tmp_path, samples_by_rows):
    (crit,) = grade(samples_by_rows, load_rubric(forward_only_rubric(tmp_path, ["CS"])), public_only=True
                    ).result["criteria"]
    assert crit["score"] == 0 and crit["diagnoses"] == ["bad-output"], crit
    feedback = " ".join(crit["feedback"].split())
    s = int(re.search(r"for (\d+) samples and 3 classes", feedback).group(1))
    assert f"feed_forward returned probabilities of shape ({s}, 3), laid out (samples, classes)" in feedback
    assert f"this assignment asks for (classes, samples) = (3, {s})" in feedback, feedback


@pytest.mark.slow
def test_the_default_rubric_reads_the_same_sc_answer(tmp_path, samples_by_rows):
    (crit,) = grade(samples_by_rows, load_rubric(forward_only_rubric(tmp_path, None)), public_only=True
                    ).result["criteria"]
    assert crit["status"] == "passed" and crit["evidence"]["output layout"] == "(S, C)", crit


# -- bias layouts (param-shapes) ------------------------------------------------------------------

def shapes_verdict(tmp_path: Path, bias_layouts: list[str], bias_shape: list[int]):
    text = (ROOT / "rubrics" / "penguins-silu.yaml").read_text()
    rubric = parse_rubric(text.replace("interface:\n", f"interface:\n  bias_layouts: {bias_layouts}\n", 1))
    crit = rubric.criterion("param-shapes")
    entries = {"W0": {"shape": [16, 4], "size": 64, "dtype": "float64"},
               "b0": {"shape": bias_shape, "size": 16, "dtype": "float64"},
               "W1": {"shape": [3, 16], "size": 48, "dtype": "float64"},
               "b1": {"shape": [3] + bias_shape[1:], "size": 3, "dtype": "float64"}}
    description = parameter_description({"type": "dict", "entries": entries})
    obs = Observation((Variant((16,), description),))
    return judge(Context(rubric, Oracle(rubric), crit), obs, crit.check_params())


@pytest.mark.parametrize("bias_layouts, bias_shape, ok", [
    (["column", "flat"], [16, 1], True), (["column", "flat"], [16], True),
    (["column"], [16, 1], True), (["column"], [16], False),
    (["flat"], [16], True), (["flat"], [16, 1], False),
])
def test_param_shapes_accepts_exactly_the_listed_bias_layouts(tmp_path, bias_layouts, bias_shape, ok):
    verdict = shapes_verdict(tmp_path, bias_layouts, bias_shape)
    assert (verdict.fraction == 1.0) == ok, verdict.feedback
    if not ok:
        asked = "a column (16, 1)" if bias_layouts == ["column"] else "a flat vector (16,)"
        assert f"this assignment asks for {asked}" in verdict.feedback, verdict.feedback
