"""Instructor glue (grader/glue.py): reading a glue file, what a rubric may
ask of it, the worker's view of a glued net, and grading through it.

A glue is instructor code, but it runs next to the student's code and
everything it answers is an observation: these tests hold it to that (a
refused glue is refused before any grading; an exception inside glue code
is never reported at a line of the student's file; an odd answer the glue
passes on is judged as any student value, never trusted and never a
grader error).  Template A's rubric and glue (penguins-stateful-2021) are
the working example.
"""

from __future__ import annotations

import json
import shutil
import types
from pathlib import Path

import numpy as np
import pytest

from grader.engine import grade
from grader.glue import GLUE_FUNCTIONS, OPTIONAL, REQUIRED, GlueError, parse_glue, read_glue, \
    rubric_glue, unsupported_criteria
from grader.probe import Probe
from grader.rubric import RubricError, load_rubric
from grader.sandbox import worker as wire
from grader.sandbox.client import LoadSpec, WorkerClient, WorkerFailure
from grader.sandbox.limits import WorkerLimits
from reference import network as ref

ROOT = Path(__file__).resolve().parents[2]
RUBRIC = ROOT / "rubrics" / "penguins-stateful-2021.yaml"
GLUE = ROOT / "rubrics" / "glue" / "stateful_2021.py"
CORRECT = ROOT / "examples" / "stateful" / "correct_vectorized.py"

#: the smallest glue a rubric could load: the three functions every glue defines
MINIMAL = """
def construct(student, config):
    return student.NN(config["num_input"], config["num_hidden"], config["num_output"])


def get_parameters(net):
    return net.theta


def set_parameters(net, params):
    net.theta = dict(params)
"""

#: template A with every method left as the skeleton's `pass`
DO_NOTHING = """
class NN:
    def __init__(self, num_input, num_hidden, num_output, gradient_method="GD", lr=0.01):
        pass

    def init_params(self):
        pass

    def set_theta(self, w0, b0, w1, b1):
        pass

    def feed_forward(self, x, training=True):
        pass

    def compute_loss(self, y):
        pass

    def back_propagate(self, y):
        pass

    def train(self, x, y, num_iterations):
        pass
"""


@pytest.fixture(scope="module")
def stateful():
    return load_rubric(RUBRIC)


def only(rubric, *ids: str):
    """The rubric with just these criteria (fast end-to-end grades)."""
    return rubric.model_copy(update={"criteria": [c for c in rubric.criteria if c.id in ids]})


def without(source: str, function: str) -> str:
    """`source` (a glue) with one module-level function renamed away."""
    assert f"def {function}(" in source
    return source.replace(f"def {function}(", f"def _unused_{function}(")


# -- reading a glue file -------------------------------------------------------------------------

def test_the_bundled_glue_is_read_with_every_operation_template_a_needs():
    glue = read_glue(GLUE)
    assert glue.name == "stateful_2021.py" and glue.origin == "rubric"
    assert set(REQUIRED) <= set(glue.operations)
    assert set(glue.operations) == {"construct", "get_parameters", "set_parameters", "probabilities", "loss",
                                    "gradient", "step", "train"}
    assert list(glue.operations) == [op for op in GLUE_FUNCTIONS if op in glue.operations]   # canonical order


def test_a_missing_glue_file_is_refused(tmp_path):
    with pytest.raises(GlueError, match="not found"):
        read_glue(tmp_path / "absent.py")
    with pytest.raises(GlueError, match="it is a folder"):
        read_glue(tmp_path)


def test_a_glue_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "latin.py"
    path.write_bytes(MINIMAL.encode("utf-8") + "# caf\u00e9\n".encode("latin-1"))
    with pytest.raises(GlueError, match="not UTF-8 text"):
        read_glue(path)


def test_an_oversized_glue_is_refused(tmp_path):
    path = tmp_path / "huge.py"
    path.write_text(MINIMAL + "#" * (300 * 1024) + "\n")
    with pytest.raises(GlueError, match="a few dozen lines"):
        read_glue(path)


def test_a_glue_that_is_not_python_is_refused_with_its_line(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text(MINIMAL + "\ndef probabilities(net, x)\n    return 1\n")
    with pytest.raises(GlueError, match=r"broken\.py:13: the glue module is not valid Python"):
        read_glue(path)


@pytest.mark.parametrize("function", REQUIRED)
def test_a_glue_without_a_required_function_is_refused(function):
    with pytest.raises(GlueError, match=f"missing: {function}$"):
        parse_glue(without(MINIMAL, function), "partial.py")


def test_only_module_level_functions_count():
    """A `construct` nested in a class or assigned as a value is not found by
    reading the syntax tree, and the glue is never run in the grader to find it."""
    nested = without(MINIMAL, "construct") + ("\n\nclass Holder:\n"
                                             "    def construct(student, config):\n        return None\n")
    with pytest.raises(GlueError, match="missing: construct"):
        parse_glue(nested, "nested.py")
    with pytest.raises(GlueError, match="missing: construct"):
        parse_glue(without(MINIMAL, "construct") + "\nconstruct = lambda student, config: None\n", "lambda.py")


def test_the_record_names_the_glue_by_content_hash_never_its_text():
    glue = parse_glue(MINIMAL, "minimal.py", "per-submission")
    record = glue.record()
    assert record == {"name": "minimal.py", "sha256": glue.sha256, "origin": "per-submission"}
    assert len(glue.sha256) == 64 and glue.sha256 != parse_glue(MINIMAL + "\n", "minimal.py").sha256
    assert glue.wire() == {"name": "minimal.py", "source": MINIMAL}


# -- what a rubric may ask of its glue ----------------------------------------------------------------

def test_unsupported_criteria_names_each_criterion_and_what_it_lacks(stateful):
    full = read_glue(GLUE)
    assert unsupported_criteria(stateful, full) == {}
    no_step = parse_glue(without(full.source, "step"), "no_step.py")
    assert unsupported_criteria(stateful, no_step) == {"gd-step": ["step"], "nag-step": ["step"],
                                                       "training": ["step"]}
    minimal = parse_glue(MINIMAL, "minimal.py")
    missing = unsupported_criteria(stateful, minimal)
    assert "param-shapes" not in missing and "param-count" not in missing   # get_parameters is enough
    assert missing["forward"] == ["probabilities"] and "loss" in missing["loss"]
    assert "gradient" in missing["grad-W0"] and "train" in missing["training"]


def test_an_optional_operation_is_never_required(stateful):
    assert OPTIONAL == ("reset_optimizer",)
    glue = read_glue(GLUE)
    assert "reset_optimizer" not in glue.operations and unsupported_criteria(stateful, glue) == {}


def _rubric_with_glue(tmp_path: Path, glue_source: str | None, glue_name: str = "glue.py") -> Path:
    """Template A's rubric copied into tmp_path, its glue replaced (None: no glue file at all)."""
    text = RUBRIC.read_text(encoding="utf-8").replace("glue: glue/stateful_2021.py", f"glue: {glue_name}")
    path = tmp_path / "rubric.yaml"
    path.write_text(text, encoding="utf-8")
    if not (tmp_path / "skeletons").exists():   # the rubric names its course skeleton too
        shutil.copytree(ROOT / "rubrics" / "skeletons", tmp_path / "skeletons")
    if glue_source is not None:
        (tmp_path / glue_name).write_text(glue_source, encoding="utf-8")
    return path


def test_rubric_loading_refuses_a_criterion_whose_operations_the_glue_lacks(tmp_path):
    path = _rubric_with_glue(tmp_path, without(GLUE.read_text(), "gradient"))
    with pytest.raises(RubricError) as refused:
        load_rubric(path)
    message = str(refused.value)
    for cid in ("grad-W0", "grad-b0", "grad-W1", "grad-b1"):
        assert f"criterion {cid}: needs operation(s) gradient that the glue glue.py does not define" in message
    assert "criterion forward" not in message


def test_rubric_loading_refuses_a_glue_it_cannot_read(tmp_path):
    with pytest.raises(RubricError, match="interface.glue: glue file .* not found"):
        load_rubric(_rubric_with_glue(tmp_path, None))
    with pytest.raises(RubricError, match="interface.glue: .*missing: set_parameters"):
        load_rubric(_rubric_with_glue(tmp_path, without(MINIMAL, "set_parameters"), "other.py"))


def test_rubric_loading_resolves_the_glue_against_the_rubric_folder(tmp_path):
    rubric = load_rubric(_rubric_with_glue(tmp_path, GLUE.read_text(), "mine.py"))
    assert Path(rubric.interface.glue) == (tmp_path / "mine.py").resolve()
    assert rubric_glue(rubric).sha256 == read_glue(GLUE).sha256
    assert rubric_glue(load_rubric("penguins-silu")) is None   # the default glue


# -- the worker's view of a glued net -----------------------------------------------------------

@pytest.fixture(scope="module")
def glued_net(stateful, tmp_path_factory):
    """Template A's correct sample in a real worker, seen through its glue."""
    folder = tmp_path_factory.mktemp("glued")
    source = folder / "submission.py"
    shutil.copyfile(CORRECT, source)
    client = WorkerClient(LoadSpec(source, folder, "submission.py", glue=read_glue(GLUE).wire()),
                          limits=WorkerLimits(), load_timeout=60.0)
    client.start()
    assert client.load_error is None, client.load_error
    probe = Probe(stateful, client, glued=True)
    probe.begin(120.0)   # generous: these requests take milliseconds; nothing here is about time
    yield probe
    client.close()


def _batch(samples: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    return rng.normal(size=(samples, 4)), rng.integers(0, 3, size=samples)


def _theta(hidden: int = 6) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(11)
    shapes = {"W0": (hidden, 4), "b0": (hidden, 1), "W1": (3, hidden), "b1": (3, 1)}
    return {k: rng.normal(0.0, 0.3, size=s) for k, s in shapes.items()}


def _arch(stateful, hidden: int = 6) -> ref.Architecture:
    from grader.engine import oracle_for

    return oracle_for(stateful).architecture([hidden])


def test_a_glued_net_offers_the_canonical_operations(glued_net):
    net = glued_net.new([6], method="gd", lr=0.05)
    assert {"probabilities", "loss", "gradient", "step", "train"} <= set(net.methods)
    described = net.describe_parameters()
    assert {k: tuple(v["shape"]) for k, v in described["entries"].items()} == \
        {"W0": (6, 4), "b0": (6, 1), "W1": (3, 6), "b1": (3, 1)}


def test_a_glued_net_gets_and_sets_its_parameters(glued_net):
    net = glued_net.new([6], method="gd", lr=0.05)
    theta = _theta()
    net.set_parameters(theta)   # verified by the worker reading them back through get_parameters
    got = net.parameters()
    assert all(np.array_equal(got[k], theta[k]) for k in theta)


def test_a_glued_net_answers_forward_loss_and_gradient_as_the_reference(glued_net, stateful):
    net = glued_net.new([6], method="gd", lr=0.05)
    theta, (x, y) = _theta(), _batch()
    net.set_parameters(theta)
    arch = _arch(stateful)
    probs, layout, _ = net.forward(x)
    expected = np.exp(ref.forward_cache(arch, theta, x).log_probs)
    assert layout == "CS" and np.allclose(probs, expected, rtol=1e-10, atol=1e-14)
    assert float(net.loss(x, y)) == pytest.approx(float(ref.loss(arch, theta, x, y)), rel=1e-10)
    grads = net.gradient_raw(x, y)
    reference = ref.gradient(arch, theta, x, y)
    assert all(np.allclose(grads[k], reference[k], rtol=1e-9, atol=1e-14) for k in reference)


def test_a_glued_net_steps_and_continues_its_run(glued_net, stateful):
    """`steps` snapshots the parameters through the view around each glued
    step (train(x, y, 1)): NAG over three steps is the FISTA schedule."""
    from reference import optimizers

    net = glued_net.new([6], method="nag", lr=0.05)
    theta, (x, y) = _theta(), _batch()
    net.set_parameters(theta)
    snapshots = net.steps(x, y, 3)
    arch = _arch(stateful)
    expected = optimizers.trajectory("nag_fista", lambda t: ref.gradient(arch, t, x, y), theta, 3, 0.05).iterates
    assert len(snapshots) == 4
    for snap, want in zip(snapshots, expected):
        assert all(np.allclose(np.asarray(snap[k]), want[k], rtol=1e-9, atol=1e-13) for k in want)


def test_a_glued_net_answers_loss_at_for_finite_differences(glued_net, stateful):
    net = glued_net.new([6], method="gd", lr=0.05)
    theta, (x, y) = _theta(), _batch()
    net.set_parameters(theta)
    differences, at_base = net.finite_differences(theta, x, y, [("W1", 0), ("b0", 2)], 1e-6)
    arch = _arch(stateful)
    reference = ref.gradient(arch, theta, x, y)
    assert at_base == pytest.approx(float(ref.loss(arch, theta, x, y)), rel=1e-10)
    assert differences == pytest.approx([reference["W1"].ravel()[0], reference["b0"].ravel()[2]], rel=1e-5)


# -- exceptions inside glue code ------------------------------------------------------------------

STUDENT = """
class NN:
    def __init__(self):
        self.theta = {}

    def broken(self):
        raise KeyError("w0")
"""


def _raised_in(call, *args) -> BaseException:
    """What `call(*args)` raises, its traceback starting below this frame (as
    in the worker, whose own frames describe_exception leaves out)."""
    try:
        call(*args)
    except Exception as exc:   # noqa: BLE001 -- the exception is the observation
        return exc.with_traceback(exc.__traceback__.tb_next)
    raise AssertionError("nothing was raised")


def _glued_in_process(tmp_path: Path, glue_source: str):
    """The worker's own view class and a student module, in this process
    (what load_glue builds in the worker), with the student's file name."""
    student_file = str(tmp_path / "student.py")
    module = types.ModuleType("nn_student")
    exec(compile(STUDENT, student_file, "exec"), module.__dict__)  # noqa: S102 -- the test's own code
    import sys
    sys.modules[module.__name__] = module
    view = wire.load_glue({"name": "g.py", "source": glue_source}, module)
    return view(module.NN()), student_file


def test_an_exception_raised_in_glue_code_names_no_line(tmp_path):
    glue = MINIMAL + "\n\ndef loss(net, x, y):\n    return net.scores['a']\n"
    net, student_file = _glued_in_process(tmp_path, glue)
    raised = _raised_in(net.loss, None, None)
    assert isinstance(raised, AttributeError)
    described = wire.describe_exception(raised, {student_file})
    assert described["type"] == "AttributeError" and described["line"] is None
    assert "nngrade glue" not in described["traceback"]


def test_an_exception_in_the_student_code_the_glue_calls_names_the_student_line(tmp_path):
    glue = MINIMAL + "\n\ndef loss(net, x, y):\n    return net.broken()\n"
    net, student_file = _glued_in_process(tmp_path, glue)
    raised = _raised_in(net.loss, None, None)
    assert isinstance(raised, KeyError)
    described = wire.describe_exception(raised, {student_file})
    assert described["line"] == 7   # `raise KeyError("w0")` in STUDENT, not the glue's line 16
    assert "student.py" in described["traceback"] and "nngrade glue" not in described["traceback"]


def test_a_worker_reports_a_glue_exception_without_a_student_line(stateful, tmp_path):
    source = tmp_path / "submission.py"
    shutil.copyfile(CORRECT, source)
    glue = GLUE.read_text() + "\n\ndef _fail(net):\n    raise RuntimeError('glue says no')\n"
    glue = glue.replace("    net.feed_forward(x, training=True)\n    return net.var[\"y_prob\"]",
                        "    _fail(net)")
    assert "_fail(net)" in glue
    client = WorkerClient(LoadSpec(source, tmp_path, "submission.py", glue=parse_glue(glue, "g.py").wire()),
                          limits=WorkerLimits(), load_timeout=60.0)
    try:
        client.start()
        probe = Probe(stateful, client, glued=True)
        probe.begin(120.0)
        net = probe.new([6])
        with pytest.raises(WorkerFailure) as failed:
            net.call("feed_forward", _batch()[0])
        assert failed.value.error_type == "RuntimeError" and failed.value.line is None
        assert "(line" not in failed.value.describe()
    finally:
        client.close()


# -- grading through the glue --------------------------------------------------------------------

def test_result_json_names_the_glue_that_graded_it(stateful):
    outcome = grade(CORRECT, only(stateful, "param-shapes", "forward", "loss"))
    result = json.loads(json.dumps(outcome.result))
    assert result["score"] == 25.0, [c["feedback"] for c in result["criteria"]]
    assert result["glue"] == {"name": "stateful_2021.py", "sha256": read_glue(GLUE).sha256, "origin": "rubric"}
    assert GLUE.read_text() not in json.dumps(result)   # the record, never the text


def test_a_default_glue_grade_carries_no_glue_record(silu_rubric):
    outcome = grade(ROOT / "submissions" / "correct_vectorized.py", only(silu_rubric, "param-shapes"))
    assert "glue" not in outcome.result


def test_a_do_nothing_template_a_submission_scores_zero(stateful, tmp_path):
    """Every method `pass`: through the glue nothing is ever credited, and the
    glue's own line is never called the student's."""
    path = tmp_path / "nothing.py"
    path.write_text(DO_NOTHING)
    result = grade(path, stateful).result
    assert result["score"] == 0.0 and result["error"] is None
    assert all(c["status"] != "passed" and c["score"] == 0 for c in result["criteria"]), \
        [(c["id"], c["status"]) for c in result["criteria"]]
    assert all("(line" not in c["feedback"] for c in result["criteria"])


#: a per-submission glue answering odd values, as a wrong or forged glue might
ODD = MINIMAL.replace("net.theta = dict(params)",
                      "net.set_theta(params['W0'], params['b0'], params['W1'], params['b1'])") + '''

def probabilities(net, x):
    return "0.25"


def loss(net, x, y):
    return {"loss": 0.5}


def gradient(net, x, y):
    return {"W0": float("nan")}
'''


def test_an_odd_glue_answer_is_judged_as_a_student_value(stateful):
    glue = parse_glue(ODD, "odd.py", "per-submission")
    result = grade(CORRECT, only(stateful, "param-shapes", "forward", "loss", "grad-W0"), glue=glue).result
    by_id = {c["id"]: c for c in result["criteria"]}
    assert by_id["param-shapes"]["status"] == "passed"   # get_parameters is the student's own theta
    for cid in ("forward", "loss", "grad-W0"):
        assert by_id[cid]["status"] == "failed" and by_id[cid]["score"] == 0, by_id[cid]
        assert by_id[cid]["diagnoses"] == ["bad-output"], by_id[cid]   # the student's, as from their own method
    assert "str '0.25'" in by_id["forward"]["feedback"] and "keys ['loss']" in by_id["loss"]["feedback"]
    assert result["error"] is None and result["score"] == 5.0
    assert result["glue"] == {"name": "odd.py", "sha256": glue.sha256, "origin": "per-submission"}


def test_a_forged_perfect_answer_earns_nothing_the_numbers_do_not_show(stateful):
    """A glue whose gradient returns the right shapes filled with zeros: the
    check compares it with the reference and finite differences of the
    student's loss, so it fails like a student's zero gradient would."""
    forged = GLUE.read_text().replace("    net.back_propagate(y)\n    return net.gradient",
                                      "    return {k: 0 * v for k, v in net.theta.items()}")
    assert "0 * v" in forged
    result = grade(CORRECT, only(stateful, "grad-W1"), glue=parse_glue(forged, "forged.py", "per-submission")).result
    crit = result["criteria"][0]
    assert crit["status"] == "failed" and crit["score"] == 0, crit["feedback"]


# -- template A's init criterion through the glue: N(0, 0.05^2) for every entry, biases too ------------

LOOPS = ROOT / "examples" / "stateful" / "correct_loops.py"


def _variant(tmp_path: Path, original: Path, old: str, new: str) -> Path:
    """`original` with one line changed, written to tmp_path."""
    text = original.read_text()
    assert old in text, old
    path = tmp_path / original.name
    path.write_text(text.replace(old, new))
    return path


@pytest.mark.parametrize("sample", [CORRECT, LOOPS], ids=["vectorized", "loops"])
def test_template_a_init_passes_the_correct_samples(stateful, sample):
    crit = grade(sample, only(stateful, "init")).result["criteria"][0]
    assert crit["status"] == "passed" and "N(0, 0.05^2)" in crit["feedback"], crit["feedback"]


@pytest.mark.parametrize("sigma, word", [("0.1", "large"), ("0.01", "small")])
def test_template_a_init_fails_a_wrong_std(stateful, tmp_path, sigma, word):
    path = _variant(tmp_path, CORRECT, "MU, SIGMA = 0.0, 0.05", f"MU, SIGMA = 0.0, {sigma}")
    crit = grade(path, only(stateful, "init")).result["criteria"][0]
    assert crit["status"] == "failed" and crit["diagnoses"] == ["init-wrong-scale"], crit["feedback"]
    for block in ("weights", "biases"):   # every entry is drawn with the wrong spread, and each is told
        assert f"the {block} have standard deviation" in crit["feedback"], crit["feedback"]
    assert f"times too {word}" in crit["feedback"]


def test_template_a_init_fails_zero_biases(stateful, tmp_path):
    """The skeleton draws every entry, biases included (template B's zero biases are wrong here)."""
    path = _variant(tmp_path, LOOPS, "self.theta['b0'] = np.random.normal(MU, SIGMA, (self.n_h, 1))\n"
                    "        self.theta['W1'] = np.random.normal(MU, SIGMA, (self.n_out, self.n_h))\n"
                    "        self.theta['b1'] = np.random.normal(MU, SIGMA, (self.n_out, 1))",
                    "self.theta['b0'] = np.zeros((self.n_h, 1))\n"
                    "        self.theta['W1'] = np.random.normal(MU, SIGMA, (self.n_out, self.n_h))\n"
                    "        self.theta['b1'] = np.zeros((self.n_out, 1))")
    crit = grade(path, only(stateful, "init")).result["criteria"][0]
    assert crit["status"] == "failed" and crit["diagnoses"] == ["init-constant"], crit["feedback"]
    assert "biases" in crit["feedback"]
