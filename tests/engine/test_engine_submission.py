"""Loading submissions: files, notebooks, folders, zips, and bad input."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.adapter import BlockLayout, classify_shape, learn_layout, probabilities_to_canonical
from grader.engine import dumps, grade
from grader.submission import SubmissionError, discover, notebook_to_source, prepare, submission_id

ROOT = Path(__file__).resolve().parents[2]
CORRECT = ROOT / "submissions" / "correct_vectorized.py"


def test_ids_and_discovery(tmp_path):
    (tmp_path / "alice.py").write_text("x = 1")
    (tmp_path / "bob.ipynb").write_text("{}")
    (tmp_path / "carol").mkdir()
    (tmp_path / "dave.zip").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not a submission")
    (tmp_path / ".hidden.py").write_text("")
    found = [submission_id(p) for p in discover(tmp_path)]
    assert found == ["alice", "bob", "carol", "dave"]


def test_notebook_magics_are_not_run(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# hi"),
                nbformat.v4.new_code_cell("%matplotlib inline\nimport numpy as np\n!pip install torch\nfiles = !ls\nnp?"),
                nbformat.v4.new_code_cell("%%bash\nrm -rf /\n"),
                nbformat.v4.new_code_cell("x = np.ones(3)  # real code\nprint(x.sum())")]
    path = tmp_path / "nn.ipynb"
    nbformat.write(nb, str(path))
    source = notebook_to_source(path)
    compile(source, "nb", "exec")
    live = [line for line in source.splitlines() if line and not line.lstrip().startswith("#")]
    assert live == ["import numpy as np", "x = np.ones(3)  # real code", "print(x.sum())"]


def test_unreadable_notebook_is_a_clear_error(tmp_path):
    path = tmp_path / "nn.ipynb"
    path.write_text("{not json")
    with pytest.raises(SubmissionError) as err:
        prepare(path, tmp_path / "scratch")
    assert "not a readable notebook" in err.value.message and err.value.kind == "notebook-unreadable"


def test_zip_and_folder_submissions_grade_like_the_file(tmp_path, silu_rubric):
    folder = tmp_path / "alice"
    folder.mkdir()
    (folder / "nn.py").write_text(CORRECT.read_text())
    (folder / "scratch_notes.py").write_text("raise SystemExit('not the main file')")
    archive = tmp_path / "bob.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(CORRECT, "homework/nn.py")
        zf.writestr("__MACOSX/homework/._nn.py", "junk")
    from_folder = grade(folder, silu_rubric).result
    from_zip = grade(archive, silu_rubric).result
    assert from_folder["submission"] == "alice" and from_zip["submission"] == "bob"
    assert from_folder["score"] == from_zip["score"] == 100.0


def test_zip_slip_is_refused(tmp_path, silu_rubric):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../escaped.py", "x = 1")
    result = grade(archive, silu_rubric).result
    assert result["error"]["kind"] == "bad-archive"
    assert not (tmp_path.parent / "escaped.py").exists()
    assert all(c["status"] == "error" for c in result["criteria"])


def test_missing_submission_and_missing_class(tmp_path, silu_rubric):
    missing = grade(tmp_path / "ghost.py", silu_rubric).result
    assert missing["error"]["kind"] == "missing" and missing["score"] == 0
    other = tmp_path / "other.py"
    other.write_text("class Net:\n    pass\n")
    result = grade(other, silu_rubric).result
    assert result["error"]["kind"] == "api-missing"
    assert "no class named NN" in result["error"]["message"] and "Net" in result["error"]["message"]


def test_grading_is_deterministic_byte_for_byte(silu_rubric):
    first = dumps(grade(CORRECT, silu_rubric).result)
    second = dumps(grade(CORRECT, silu_rubric).result)
    assert first == second
    buggy = ROOT / "submissions" / "bug_heavy_ball.py"
    assert dumps(grade(buggy, silu_rubric).result) == dumps(grade(buggy, silu_rubric).result)


def test_public_only_grading_does_not_run_hidden_criteria(silu_rubric):
    result = grade(CORRECT, silu_rubric, public_only=True).result
    hidden = [c for c in result["criteria"] if c["visibility"] == "hidden"]
    assert hidden and all(c["status"] == "hidden" and c["score"] == 0 and not c["evidence"] for c in hidden)
    assert result["max_score"] == sum(c.points for c in silu_rubric.public_criteria)
    assert json.dumps(result).count("Hidden until release") == len(hidden)


# -- the layout adapter ---------------------------------------------------------------------

@given(n_out=st.integers(1, 9), n_in=st.integers(1, 9), form=st.sampled_from(["canonical", "transposed", "flat", "row"]),
       seed=st.integers(0, 2**16))
@settings(max_examples=60, deadline=None)
def test_layout_round_trip(n_out, n_in, form, seed):
    canonical = (n_out, 1) if form in ("flat", "row") else (n_out, n_in)
    if form == "transposed" and n_out == n_in:
        form = "canonical"
    block = BlockLayout("k", canonical, form)
    value = np.random.default_rng(seed).standard_normal(canonical)
    student = block.to_student(value)
    np.testing.assert_array_equal(block.to_canonical(student), value)
    # what the grader infers from the student's shape reads the same values back
    inferred = classify_shape(student.shape, canonical)
    assert inferred != "mismatch"
    np.testing.assert_array_equal(BlockLayout("k", canonical, inferred).to_canonical(student), value)


@given(c=st.integers(2, 6), s=st.integers(2, 9))
def test_probability_orientation(c, s):
    p = np.arange(c * s, dtype=float).reshape(c, s)
    if c == s:
        return
    assert probabilities_to_canonical(p, c, s)[1] == "CS"
    back, seen = probabilities_to_canonical(p.T, c, s)
    assert seen == "SC" and np.array_equal(back, p)
    assert probabilities_to_canonical(np.zeros(c * s + 1), c, s)[0] is None


def test_learn_layout_reports_missing_and_extra():
    shapes = {"W0": (3, 2), "b0": (3, 1)}
    described = {"type": "dict", "entries": {
        "W0": {"shape": [2, 3], "size": 6, "dtype": "float64"},
        "B0": {"shape": [3], "size": 3, "dtype": "float32"},
        "cache": {"shape": [2], "size": 2, "dtype": "float64"}}}
    layout = learn_layout(described, shapes, [("W0", "W0"), ("b0", "b0")])
    assert layout.blocks["W0"].form == "transposed"
    assert layout.blocks["b0"].student_key == "B0" and layout.blocks["b0"].form == "flat"
    assert layout.extra_keys == ("cache",)
    assert layout.blocks["b0"].dtype == "float32"
    assert learn_layout({"type": "list", "entries": {}}, shapes, [("W0", "W0")]).missing == ("W0",)


def test_folder_with_a_link_outside_is_refused(tmp_path, silu_rubric):
    secret = tmp_path / "secret.txt"
    secret.write_text("the answers")
    folder = tmp_path / "mallory"
    folder.mkdir()
    (folder / "nn.py").write_text(CORRECT.read_text())
    (folder / "notes.txt").symlink_to(secret)
    result = grade(folder, silu_rubric).result
    assert result["error"]["kind"] == "bad-archive" and "outside" in result["error"]["message"]
    (folder / "notes.txt").unlink()
    (folder / "alias.py").symlink_to(folder / "nn.py")       # a link inside the folder is fine
    assert grade(folder, silu_rubric).result["score"] == 100.0


def test_constructor_missing_an_argument_is_an_api_error(tmp_path, silu_rubric):
    path = tmp_path / "nn.py"
    path.write_text(CORRECT.read_text().replace(", momentum=0.9):", "):").replace(
        "self.momentum = momentum", "self.momentum = 0.9"))
    result = grade(path, silu_rubric).result
    first = result["criteria"][0]
    assert first["status"] == "error" and first["diagnoses"] == ["api-missing"]
    assert "momentum" in first["feedback"] and "accept those arguments" in first["feedback"]


def test_finite_differences_do_not_trust_parameters_the_student_moved(tmp_path, silu_rubric):
    """A back_propagate that also takes a step: the gradient is still judged at
    the point where it was computed."""
    path = tmp_path / "nn.py"
    path.write_text(CORRECT.read_text().replace(
        "    def back_propagate(self, x, y):\n        return self._gradient(x, y, self.theta)\n",
        "    def back_propagate(self, x, y):\n        g = self._gradient(x, y, self.theta)\n"
        "        for k in self.theta:\n            self.theta[k] = self.theta[k] - 0.5 * g[k]\n        return g\n"))
    assert "0.5 * g[k]" in path.read_text()
    result = grade(path, silu_rubric, public_only=True).result
    grads = [c for c in result["criteria"] if c["id"].startswith("grad-")]
    assert all(c["status"] == "passed" and "finite differences of your loss" in c["feedback"] for c in grads)
