"""Per-submission glue (`nngrade batch --glue-map`, `nngrade grade --glue`).

End to end: a class of a correct default-API submission, a buggy one and
the drifted one-based student (examples/drift/), whose glue a map outside
the submissions names.  The drifted student gets 100 through it, and every
output says so; resuming regrades exactly the students whose glue changed.
Then the refusals (exit 2, nothing graded), and the map's parsing alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from html import unescape
from pathlib import Path
from types import SimpleNamespace

import pytest

from grader.gluemap import GlueMapError, read_map, resolve
from grader.intake.plan import build as build_intake
from grader.rubric import load_rubric

REPO = Path(__file__).resolve().parents[2]
DRIFT = REPO / "examples" / "drift" / "forward_backward_one_based.py"
DRIFT_GLUE = REPO / "examples" / "drift-glue" / "forward_backward_one_based.py"
CLASS = ("correct_vectorized.py", "bug_sum_not_mean.py")
IDS = ["bug_sum_not_mean", "correct_vectorized", "forward_backward_one_based"]
OLD_NS = 1_000_000_000 * 10**9


def make_class(root: Path, copy_subs) -> SimpleNamespace:
    """Submissions (two samples and the drifted student) and, beside them,
    the instructor's glue folder with its map."""
    subs = copy_subs(root / "submissions", CLASS)
    shutil.copy2(DRIFT, subs / DRIFT.name)
    glue_dir = root / "glue"
    glue_dir.mkdir()
    shutil.copy2(DRIFT_GLUE, glue_dir / "one_based.py")
    (glue_dir / "map.yaml").write_text("forward_backward_one_based.py: one_based.py\n", encoding="utf-8")
    return SimpleNamespace(root=root, subs=subs, glue=glue_dir / "one_based.py", map=glue_dir / "map.yaml",
                           out=root / "out")


def batch(run_cli, c: SimpleNamespace, *extra: object):
    return run_cli(["batch", c.subs, "--rubric", "penguins-silu", "--out", c.out, "--workers", "2", *extra])


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def result(out: Path, sid: str) -> dict:
    return json.loads((out / sid / "result.json").read_text(encoding="utf-8"))


def plain(html: str) -> str:
    """The page's text: tags dropped, entities decoded, whitespace folded."""
    return " ".join(unescape(re.sub(r"<[^>]+>", "", html)).split())


def rewritten(out: Path) -> list[str]:
    return sorted(sid for sid in IDS if (out / sid / "result.json").stat().st_mtime_ns != OLD_NS)


@pytest.fixture(scope="module")
def glued_batch(tmp_path_factory, run_cli, copy_subs) -> SimpleNamespace:
    c = make_class(tmp_path_factory.mktemp("glue-map"), copy_subs)
    c.run = batch(run_cli, c, "--glue-map", c.map)
    return c


@pytest.fixture
def glued_copy(glued_batch, tmp_path) -> SimpleNamespace:
    """A private copy of the graded class (its OUT files dated far in the
    past, so a rewrite shows), for the tests that change something."""
    assert glued_batch.run.code == 0, glued_batch.run
    shutil.copytree(glued_batch.root, tmp_path / "class")
    c = SimpleNamespace(root=tmp_path / "class", subs=tmp_path / "class" / "submissions",
                        glue=tmp_path / "class" / "glue" / "one_based.py",
                        map=tmp_path / "class" / "glue" / "map.yaml", out=tmp_path / "class" / "out")
    for path in c.out.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(OLD_NS, OLD_NS))
    return c


# -- the drifted student graded through their glue -----------------------------------------


def test_drifted_student_gets_full_marks_through_their_glue(glued_batch):
    c = glued_batch
    assert c.run.code == 0, c.run
    drifted = result(c.out, "forward_backward_one_based")
    assert drifted["score"] == 100 and drifted["error"] is None, drifted["criteria"]
    assert drifted["glue"] == {"name": "one_based.py", "sha256": sha(c.glue), "origin": "per-submission"}
    # the others are graded as ever: the default glue, no record; the bug is still caught
    assert "glue" not in result(c.out, "correct_vectorized") and result(c.out, "correct_vectorized")["score"] == 100
    assert "glue" not in result(c.out, "bug_sum_not_mean") and result(c.out, "bug_sum_not_mean")["score"] < 100


def test_every_class_output_names_the_glue(glued_batch):
    c = glued_batch
    label = f"one_based.py ({sha(c.glue)[:12]})"
    # terminal: the progress line and the summary at the end
    assert f"forward_backward_one_based: 100/100 (through glue {label})" in c.run.text, c.run
    assert f"graded through per-submission glue (1): forward_backward_one_based {label}" in c.run.text, c.run
    # gradebook: a glue column, empty for the students graded through the default glue
    lines = (c.out / "gradebook.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    assert header[-1] == "glue"
    cells = {row.split(",")[0]: row.split(",")[-1] for row in lines[1:]}
    assert cells == {"bug_sum_not_mean": "", "correct_vectorized": "", "forward_backward_one_based": label}
    # summary: the students graded through special glue
    summary = plain((c.out / "summary.html").read_text(encoding="utf-8"))
    assert "Graded through special glue (1)" in summary
    assert f"forward_backward_one_based through glue {label}" in summary
    # the instructor's report: name, hash, origin
    report = plain((c.out / "forward_backward_one_based" / "report.html").read_text(encoding="utf-8"))
    assert f"Graded through glue {label} — per-submission" in report
    assert "Graded through glue" not in plain((c.out / "correct_vectorized" / "report.html").read_text())


def test_the_glue_text_is_never_shown(glued_batch):
    c = glued_batch
    student = plain((c.out / "release.students" / "forward_backward_one_based" / "report.html").read_text())
    assert "graded through an adapter the course staff wrote for your submission (glue one_based.py)" in student
    marker = "def _canonical"   # a line of the glue's source
    assert marker in c.glue.read_text()
    for path in c.out.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".json", ".csv"):
            assert marker not in path.read_text(encoding="utf-8", errors="replace"), path


# -- resuming -------------------------------------------------------------------------------


def test_rerun_with_the_same_map_regrades_nothing(glued_copy, run_cli):
    run = batch(run_cli, glued_copy, "--glue-map", glued_copy.map)
    assert run.code == 0, run
    assert "0 to grade, 3 unchanged (kept)" in run.out, run
    assert rewritten(glued_copy.out) == []


def test_an_edited_glue_regrades_that_student_alone(glued_copy, run_cli):
    glued_copy.glue.write_text(glued_copy.glue.read_text() + "\n# fixed a comment\n", encoding="utf-8")
    run = batch(run_cli, glued_copy, "--glue-map", glued_copy.map)
    assert run.code == 0, run
    assert "1 to grade, 2 unchanged (kept)" in run.out, run
    assert rewritten(glued_copy.out) == ["forward_backward_one_based"]
    assert result(glued_copy.out, "forward_backward_one_based")["glue"]["sha256"] == sha(glued_copy.glue)


def test_a_removed_map_regrades_that_student_through_the_default_glue(glued_copy, run_cli):
    run = batch(run_cli, glued_copy)
    assert run.code == 0, run
    assert rewritten(glued_copy.out) == ["forward_backward_one_based"]
    drifted = result(glued_copy.out, "forward_backward_one_based")
    assert "glue" not in drifted and drifted["score"] < 100   # forwardPass is not the handout's API
    assert "glue" not in (glued_copy.out / "gradebook.csv").read_text().splitlines()[0].split(",")
    assert "special glue" not in (glued_copy.out / "summary.html").read_text()


def test_a_glue_added_for_another_student_regrades_only_them(glued_copy, run_cli):
    (glued_copy.map.parent / "default.py").write_text(
        "import numpy as np\n\n"
        "def construct(student, config):\n"
        "    method = 'NAG' if config['gradient_method'] == 'nag' else 'GD'\n"
        "    return student.NN(config['num_input'], config['num_hidden'], config['num_output'], method,\n"
        "                      config['lr'], config['momentum'])\n\n"
        "def get_parameters(net):\n    return net.theta\n\n"
        "def set_parameters(net, params):\n    net.theta = {k: np.array(v, dtype=float) for k, v in params.items()}\n\n"
        "def probabilities(net, x):\n    return net.feed_forward(x)\n\n"
        "def loss(net, x, y):\n    return net.loss(x, y)\n\n"
        "def gradient(net, x, y):\n    return net.back_propagate(x, y)\n\n"
        "def step(net, x, y):\n    net.step(x, y)\n\n"
        "def train(net, x, y, n):\n    return net.train(x, y, n)\n", encoding="utf-8")
    glued_copy.map.write_text(glued_copy.map.read_text() + "correct_vectorized: default.py\n", encoding="utf-8")
    run = batch(run_cli, glued_copy, "--glue-map", glued_copy.map)
    assert run.code == 0, run
    assert rewritten(glued_copy.out) == ["correct_vectorized"]
    assert result(glued_copy.out, "correct_vectorized")["glue"]["name"] == "default.py"


# -- refusals: exit 2, nothing graded or written ------------------------------------------------


@pytest.fixture
def ungraded(tmp_path, copy_subs) -> SimpleNamespace:
    return make_class(tmp_path, copy_subs)


def refused(run, c: SimpleNamespace, *phrases: str) -> None:
    assert run.code == 2, run
    for phrase in phrases:
        assert phrase in run.text, run
    assert not c.out.exists(), "a refused batch writes nothing"


def test_refuses_a_map_inside_the_submissions(ungraded, run_cli):
    inside = ungraded.subs / "map.yaml"
    inside.write_text(f"forward_backward_one_based: {ungraded.glue}\n", encoding="utf-8")
    refused(batch(run_cli, ungraded, "--glue-map", inside), ungraded, "glue map", "is inside the submissions folder",
            "student input")


def test_refuses_a_glue_inside_a_students_folder(ungraded, run_cli):
    folder = ungraded.subs / "carol"
    folder.mkdir()
    shutil.copy2(REPO / "submissions" / "correct_vectorized.py", folder / "nn.py")
    shutil.copy2(ungraded.glue, folder / "glue.py")   # handed in by carol: student input
    ungraded.map.write_text("carol: ../submissions/carol/glue.py\n", encoding="utf-8")
    refused(batch(run_cli, ungraded, "--glue-map", ungraded.map), ungraded, "glue file",
            "is inside the submissions folder")


def test_refuses_a_glue_linked_into_the_submissions(ungraded, run_cli):
    link = ungraded.map.parent / "linked.py"
    link.symlink_to(ungraded.subs / DRIFT.name)
    ungraded.map.write_text("forward_backward_one_based: linked.py\n", encoding="utf-8")
    refused(batch(run_cli, ungraded, "--glue-map", ungraded.map), ungraded, "is inside the submissions folder")


def test_refuses_an_entry_naming_no_submission(ungraded, run_cli):
    ungraded.map.write_text("forward_backward_one_based: one_based.py\nforward_backward_one_base: one_based.py\n",
                            encoding="utf-8")
    refused(batch(run_cli, ungraded, "--glue-map", ungraded.map), ungraded, "map.yaml:2: no submission named "
            "forward_backward_one_base (did you mean forward_backward_one_based", "OUT/<id>/")


def test_refuses_a_glue_lacking_operations_a_criterion_needs(ungraded, run_cli):
    text = ungraded.glue.read_text()
    ungraded.glue.write_text(text[:text.index("def step(")], encoding="utf-8")   # no step, no train
    refused(batch(run_cli, ungraded, "--glue-map", ungraded.map), ungraded,
            "cannot grade rubric penguins-silu: it defines no step (needed by gd-step, nag-step, training) "
            "and no train (needed by training)")


def test_refuses_a_glue_read_glue_refuses(ungraded, run_cli):
    ungraded.glue.write_text("def construct(student, config):\n    return student.NN()\n", encoding="utf-8")
    refused(batch(run_cli, ungraded, "--glue-map", ungraded.map), ungraded, "missing: get_parameters, set_parameters")


def test_refuses_a_missing_map(ungraded, run_cli):
    refused(batch(run_cli, ungraded, "--glue-map", ungraded.root / "nope.yaml"), ungraded, "glue map",
            "nope.yaml not found")


# -- nngrade grade --glue --------------------------------------------------------------------


def test_grade_refuses_a_glue_inside_the_submission(tmp_path, run_cli):
    folder = tmp_path / "dora"
    folder.mkdir()
    shutil.copy2(DRIFT, folder / "nn.py")
    shutil.copy2(DRIFT_GLUE, folder / "glue.py")
    run = run_cli(["grade", folder, "--rubric", "penguins-silu", "--glue", folder / "glue.py",
                   "--out", tmp_path / "out"])
    assert run.code == 2 and "is inside the submission" in run.text, run
    assert not (tmp_path / "out").exists()


def test_grade_through_a_glue(tmp_path, run_cli):
    run = run_cli(["grade", DRIFT, "--rubric", "penguins-silu", "--glue", DRIFT_GLUE, "--out", tmp_path / "out"])
    assert run.code == 0, run
    assert f"graded through glue forward_backward_one_based.py ({sha(DRIFT_GLUE)[:12]}) (per-submission)" \
        in run.text, run
    assert result(tmp_path / "out", "forward_backward_one_based")["score"] == 100


# -- the map alone --------------------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_read_map_resolves_glue_paths_against_the_map_and_keeps_keys_as_text(tmp_path):
    (tmp_path / "m").mkdir()
    entries = read_map(write(tmp_path / "m" / "map.yaml", "# staff only\n0123: glue/a.py\n"
                             "alice.py: /abs/b.py\n'yes': c.py\n"))
    assert [(e.key, e.glue_path, e.line) for e in entries] == [
        ("0123", tmp_path / "m" / "glue" / "a.py", 2), ("alice.py", Path("/abs/b.py"), 3),
        ("yes", tmp_path / "m" / "c.py", 4)]


@pytest.mark.parametrize("text, message", [
    ("", "is empty"),
    ("- alice: a.py\n", "map.yaml:1: a glue map is a mapping"),
    ("alice: a.py\nbob: [a.py]\n", "map.yaml:2: each entry is 'submission: glue.py'"),
    ("alice: a.py\nbob: ''\n", "map.yaml:2: an entry needs a submission and a glue file"),
    ("alice: a.py\nbob: b.py\nalice: c.py\n", "map.yaml:3: alice is already mapped on line 1"),
    ("alice: [a.py\n", "the glue map is not valid YAML"),
])
def test_read_map_refuses(tmp_path, text, message):
    with pytest.raises(GlueMapError, match=re.escape(message)):
        read_map(write(tmp_path / "map.yaml", text))


def test_read_map_refuses_bytes_that_are_not_utf8(tmp_path):
    (tmp_path / "map.yaml").write_bytes(b"alice: \xff.py\n")
    with pytest.raises(GlueMapError, match="not UTF-8"):
        read_map(tmp_path / "map.yaml")


@pytest.fixture
def folder(tmp_path) -> SimpleNamespace:
    subs = tmp_path / "subs"
    (subs / "bob").mkdir(parents=True)
    shutil.copy2(DRIFT, subs / "alice.py")
    shutil.copy2(DRIFT, subs / "bob" / "nn.py")
    glue = tmp_path / "staff" / "g.py"
    glue.parent.mkdir()
    shutil.copy2(DRIFT_GLUE, glue)
    rubric = load_rubric("penguins-silu")
    return SimpleNamespace(subs=subs, staff=glue.parent, rubric=rubric,
                           entries=build_intake(subs, class_name=rubric.interface.class_name).entries)


def test_resolve_matches_an_id_or_a_file_name(folder):
    glues = resolve(write(folder.staff / "map.yaml", "alice.py: g.py\nbob: g.py\n"), folder.entries, folder.rubric,
                    folder.subs)
    assert sorted(glues) == ["alice", "bob"]
    assert glues["alice"] is glues["bob"]   # one file, read once
    assert glues["alice"].origin == "per-submission" and glues["alice"].name == "g.py"


def test_resolve_refuses_two_entries_naming_one_submission(folder):
    with pytest.raises(GlueMapError, match=r"map.yaml:2: alice and alice.py \(line 1\) both name submission alice"):
        resolve(write(folder.staff / "map.yaml", "alice.py: g.py\nalice: g.py\n"), folder.entries, folder.rubric,
                folder.subs)


def test_resolve_refuses_a_rubric_of_written_questions(folder):
    with pytest.raises(GlueMapError, match="no class for a glue"):
        resolve(write(folder.staff / "map.yaml", "alice: g.py\n"), folder.entries, load_rubric("penguins-written"),
                folder.subs)


# -- the resume keys ----------------------------------------------------------------------


def test_the_rubric_glue_content_is_part_of_the_rubric_digest(tmp_path):
    from grader.batch import rubric_digest

    (tmp_path / "glue").mkdir()
    shutil.copytree(REPO / "rubrics" / "skeletons", tmp_path / "skeletons")   # the rubric names its course skeleton
    shutil.copy2(REPO / "rubrics" / "penguins-stateful-2021.yaml", tmp_path / "rubric.yaml")
    glue = shutil.copy2(REPO / "rubrics" / "glue" / "stateful_2021.py", tmp_path / "glue" / "stateful_2021.py")
    before = rubric_digest(load_rubric(str(tmp_path / "rubric.yaml")))
    assert rubric_digest(load_rubric(str(tmp_path / "rubric.yaml"))) == before
    Path(glue).write_text(Path(glue).read_text() + "\n# edited\n", encoding="utf-8")
    assert rubric_digest(load_rubric(str(tmp_path / "rubric.yaml"))) != before   # everyone is regraded


def test_a_submission_key_changes_with_its_glue_alone():
    from grader.batch import glued_digest
    from grader.glue import parse_glue

    source = DRIFT_GLUE.read_text()
    glue = parse_glue(source, "g.py", "per-submission")
    assert glued_digest("abc", None) == "abc"   # no glue: the key of a batch graded before glue maps
    keys = {glued_digest("abc", glue), glued_digest("abc", parse_glue(source + "\n", "g.py", "per-submission")),
            glued_digest("abc", parse_glue(source, "h.py", "per-submission")), glued_digest("abd", glue)}
    assert len(keys) == 4 and "abc" not in keys


def test_a_path_that_only_passes_through_the_submissions_is_outside(folder):
    glues = resolve(write(folder.staff / "map.yaml", "alice: ../subs/../staff/g.py\n"), folder.entries,
                    folder.rubric, folder.subs)
    assert glues["alice"].name == "g.py"


def test_the_example_map_names_both_drift_students():
    drift = REPO / "examples" / "drift"
    rubric = load_rubric("penguins-silu")
    glues = resolve(REPO / "examples" / "drift-glue" / "glue-map.yaml",
                    build_intake(drift, class_name=rubric.interface.class_name).entries, rubric, drift)
    assert {sid: g.name for sid, g in glues.items()} == {
        "forward_backward_one_based": "forward_backward_one_based.py",
        "velocity_as_argument": "velocity_as_argument.py"}


# -- what the renderers show of a rubric's glue and of a student's own ----------------------


def test_only_a_per_submission_glue_fills_the_gradebook_column_and_the_students_view():
    from grader.render.gradebook import gradebook_frame
    from grader.render.html import render_report

    def graded(sid: str, origin: str | None) -> dict:
        doc = {"submission": sid, "name": sid, "score": 10.0, "max_score": 10.0, "rubric": "r", "error": None,
               "criteria": [{"id": "c", "title": "C", "score": 10.0, "max_score": 10.0, "status": "passed",
                             "visibility": "public", "feedback": "ok", "diagnoses": [], "evidence": {},
                             "plots": []}]}
        if origin is not None:
            doc["glue"] = {"name": f"{sid}.py", "sha256": "ab" * 32, "origin": origin}
        return doc

    course = [graded("ann", "rubric"), graded("ben", None)]
    assert "glue" not in gradebook_frame(course, ["c"]).columns   # the rubric's glue is everyone's: no column
    frame = gradebook_frame([*course, graded("cid", "per-submission")], ["c"])
    assert list(frame["glue"]) == ["", "", "cid.py (abababababab)"]
    rubric_glued = plain(render_report(graded("ann", "rubric"), audience="instructor"))
    assert "Graded through glue ann.py (abababababab) — the rubric's" in rubric_glued
    assert "adapter" not in plain(render_report(graded("ann", "rubric"), audience="student"))
    assert "adapter the course staff wrote for your submission (glue cid.py)" in \
        plain(render_report(graded("cid", "per-submission"), audience="student"))
