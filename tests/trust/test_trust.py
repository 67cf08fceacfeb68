"""Evidence before credit: a student who does nothing, or replays the kit's
answers, earns nothing in final grading (issue: trustworthy grades).

Every submission here is written as a student would write it; grading is
end to end through the sandbox, with the suite's course secret for final
grading (`batch`/`grade`) and without it for `check`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.engine import grade, oracle_for
from grader.kit import build_kit
from grader.rubric import load_rubric
from grader.secret import CourseSecret

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SECRET = CourseSecret.from_hex("5e" * 32)
ZEROS_INIT = ("self.theta = {'W0': np.zeros((self.num_hidden, self.num_input)), "
              "'b0': np.zeros((self.num_hidden, 1)), 'W1': np.zeros((self.num_output, self.num_hidden)), "
              "'b1': np.zeros((self.num_output, 1))}")
NORMAL_INIT = ("self.theta = {'W0': 0.05 * np.random.randn(self.num_hidden, self.num_input), "
               "'b0': 0.05 * np.random.randn(self.num_hidden, 1), "
               "'W1': 0.05 * np.random.randn(self.num_output, self.num_hidden), "
               "'b1': 0.05 * np.random.randn(self.num_output, 1)}")


def scores(result: dict) -> dict[str, float]:
    return {c["id"]: c["score"] for c in result["criteria"]}


def kit_lookup(tmp_path: Path, rubric, init: str) -> Path:
    kit = build_kit(rubric, tmp_path / "kit")
    spec = repr(oracle_for(rubric).architecture([6]))
    text = (HERE / "kit_lookup_template.py").read_text()
    text = text.replace("__ANSWERS__", (kit / "answers.json").read_text().strip()).replace("__SPEC__", spec)
    path = tmp_path / "lookup" / "nn.py"
    path.parent.mkdir()
    path.write_text(text.replace("__INIT__", init))
    return path


def test_kit_lookup_passes_the_kit_questions_but_earns_nothing_in_final_grading(tmp_path, silu_rubric):
    path = kit_lookup(tmp_path, silu_rubric, ZEROS_INIT)
    public = scores(grade(path, silu_rubric, public_only=True).result)
    # the table really answers the kit's questions: the attack is real
    assert public["forward"] == 15 and public["loss"] == 5 and public["grad-W1"] == 6, public
    final = grade(path, silu_rubric, secret=SECRET).result
    assert final["score"] <= 10, scores(final)
    assert {k for k, v in scores(final).items() if v > 0} <= {"param-shapes", "param-count"}


def test_kit_lookup_with_a_real_init_earns_only_the_constructor_criteria(tmp_path, silu_rubric):
    final = grade(kit_lookup(tmp_path, silu_rubric, NORMAL_INIT), silu_rubric, secret=SECRET).result
    assert {k for k, v in scores(final).items() if v > 0} <= {"param-shapes", "param-count", "init"}, scores(final)


# -- a family of trivial submissions -------------------------------------------------------

TRIVIAL = {
    "feed_forward": {
        "uniform": "def feed_forward(self, x):\n        return np.full((self.num_output, len(x)), 1.0 / self.num_output)",
        "one-hot": ("def feed_forward(self, x):\n        p = np.zeros((self.num_output, len(x)))\n"
                    "        p[0] = 1.0\n        return p"),
    },
    "loss": {"constant": "def loss(self, x, y):\n        return 1.0986122886681098"},
    "back_propagate": {
        "zero": "def back_propagate(self, x, y):\n        return {k: np.zeros_like(v) for k, v in self.theta.items()}",
        "random": ("def back_propagate(self, x, y):\n        true = _Correct.back_propagate(self, x, y)\n"
                   "        rng = np.random.default_rng(7)\n        out = {}\n        for k, g in true.items():\n"
                   "            r = rng.standard_normal(g.shape)\n"
                   "            out[k] = r * np.linalg.norm(g) / np.linalg.norm(r)\n        return out"),
    },
    "step": {"no-op": "def step(self, x, y):\n        pass"},
    "train": {"stale": "def train(self, x, y, num_iterations):\n        return [1.0] * num_iterations",
              "no-op": "def train(self, x, y, num_iterations):\n        return []"},
}

#: the methods a criterion's credit rests on in correct_vectorized.py: its loss calls
#: feed_forward, its GD step calls back_propagate, its NAG step its own _gradient
NEEDS = {"forward": {"feed_forward"}, "loss": {"loss", "feed_forward"},
         "grad-W0": {"back_propagate"}, "grad-b0": {"back_propagate"}, "grad-W1": {"back_propagate"},
         "grad-b1": {"back_propagate"}, "gd-step": {"step", "back_propagate"},
         "nag-step": {"step"}, "training": {"step"}}


def trivial_submission(folder: Path, choice: dict[str, str], init: str | None = None) -> Path:
    """correct_vectorized.py with some methods replaced by trivial ones."""
    source = (ROOT / "submissions" / "correct_vectorized.py").read_text()
    methods = [TRIVIAL[m][v] for m, v in sorted(choice.items())]
    if init:
        methods.append(f"def init_params(self):\n        {init}\n        self.theta_prev = dict(self.theta)")
    body = "\n\n".join("    " + m for m in methods) or "    pass"
    source += f"\n\n_Correct = NN\n\n\nclass NN(_Correct):\n{body}\n"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "nn.py"
    path.write_text(source)
    return path


choices = st.dictionaries(st.sampled_from(sorted(TRIVIAL)), st.just(None), min_size=1).flatmap(
    lambda d: st.fixed_dictionaries({m: st.sampled_from(sorted(TRIVIAL[m])) for m in d}))


@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(choice=choices)
def test_trivial_methods_earn_nothing(tmp_path_factory, silu_rubric, choice):
    path = trivial_submission(tmp_path_factory.mktemp("trivial"), choice)
    got = scores(grade(path, silu_rubric, secret=SECRET).result)
    trivial = set(choice)
    for cid, needs in NEEDS.items():
        if needs & trivial:
            assert got[cid] == 0, (choice, cid, got)
    if "back_propagate" in trivial:
        # the GD run rests on back_propagate: at most NAG's three conditions (loss falls, accuracy,
        # below GD), earned by its own _gradient, remain
        assert got["training"] <= 15 * 3 / 5, got
    if "train" in trivial:
        assert got["training"] <= 15 * 0.8, got   # a stale or empty train() history costs its share


def test_do_nothing_submission_scores_at_most_ten(tmp_path, silu_rubric):
    choice = {"feed_forward": "uniform", "loss": "constant", "back_propagate": "zero", "step": "no-op",
              "train": "stale"}
    path = trivial_submission(tmp_path, choice, init=ZEROS_INIT)
    result = grade(path, silu_rubric, secret=SECRET).result
    assert result["score"] <= 10, scores(result)
    elastic = load_rubric("leakyrelu-elasticnet")
    assert grade(path, elastic, secret=SECRET).result["score"] <= 10
