"""The kit's skeleton comes from the declared operations (grader/operations.py)
in the rubric's spelling, or is the course's own file (`interface.skeleton`)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import yaml

from grader.kit import build_kit, generated_skeleton
from grader.operations import OPERATIONS
from grader.probe import Probe
from grader.rubric import BUNDLED, RubricError, load_rubric

ROOT = Path(__file__).resolve().parents[2]
NETWORK_RUBRICS = [p.stem for p in sorted(BUNDLED.glob("*.yaml")) if not load_rubric(p).answers_only]


def rubric_file(tmp_path: Path, interface: dict, base: str = "penguins-silu") -> Path:
    doc = yaml.safe_load((ROOT / "rubrics" / f"{base}.yaml").read_text())
    doc["interface"].update(interface)
    path = tmp_path / "course" / "rubric.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def skeleton_class(source: str, class_name: str = "NN") -> type:
    namespace: dict = {}
    exec(compile(source, "nn.py", "exec"), namespace)
    return namespace[class_name]


def test_the_default_skeleton_keeps_the_handouts_content():
    text = generated_skeleton(load_rubric("penguins-silu"))
    assert text.startswith('"""Penguins MLP (SiLU): your implementation.')
    for line in ('    def __init__(self, num_input=4, num_hidden=16, num_output=3,\n'
                 '                 gradient_method="GD", lr=0.01, momentum=0.9):\n',
                 '        self.init_params()\n',
                 '        """Draw every parameter from N(0.0, 0.05^2) into self.theta:\n'
                 '        W0 (16, 4), b0 (16, 1), W1 (3, 16), b1 (3, 1)."""\n',
                 '    def feed_forward(self, x):\n'
                 '        """x: (S, num_input) array. Return class probabilities, (num_output, S)."""\n',
                 '        """Mean cross-entropy; y: (S,) integer labels."""\n',
                 '    def back_propagate(self, x, y):\n',
                 '        """One iteration of self.gradient_method ("GD" or "NAG") on (x, y)."""\n',
                 '    def train(self, x, y, num_iterations):\n'):
        assert line in text, line
    assert text.count("raise NotImplementedError") == sum(op.role is not None for op in OPERATIONS.values())


@pytest.mark.parametrize("rubric_id", NETWORK_RUBRICS)
def test_the_skeleton_takes_what_the_grader_passes_and_has_every_method(rubric_id):
    """The constructor accepts every keyword the grader's probe passes
    (constructor_extra too), and each operation's method is there."""
    rubric = load_rubric(rubric_id)
    cls = skeleton_class(generated_skeleton(rubric), rubric.interface.class_name)
    kwargs = Probe(rubric, client=None).constructor_kwargs(list(rubric.assignment.architecture.hidden))
    inspect.signature(cls.__init__).bind(None, **kwargs)
    for op in OPERATIONS.values():
        if op.role is not None:
            assert callable(getattr(cls, rubric.interface.method(op.role)))


def test_a_renaming_rubric_gets_its_own_spelling(tmp_path):
    path = rubric_file(tmp_path, {
        "class_name": "Net", "parameters_attribute": "params",
        "methods": {"init_params": "init_params", "feed_forward": "forward", "loss": "loss",
                    "back_propagate": "backward", "step": "step", "train": "fit"},
        "constructor": {"num_input": "n_in", "num_hidden": "n_hidden", "num_output": "n_out",
                        "gradient_method": "method", "lr": "learning_rate", "momentum": "mu"},
        "gradient_methods": {"gd": "gd", "nag": "nesterov"}, "weight_key": "w{i}", "bias_key": "c{i}",
        "output_layouts": ["SC"]})
    rubric = load_rubric(path)
    text = generated_skeleton(rubric)
    assert "    def backward(self, x, y):\n" in text and "back_propagate" not in text
    assert "    def forward(self, x):\n" in text and "    def fit(self, x, y, num_iterations):\n" in text
    assert "class Net:\n" in text and "into self.params:" in text and "w0 (16, 4), c0 (16, 1)" in text
    assert 'def __init__(self, n_in=4, n_hidden=16, n_out=3,\n                 method="gd", learning_rate=0.01, mu=0.9)' \
        in text
    assert 'One iteration of self.method ("gd" or "nesterov")' in text
    assert "Return class probabilities, (S, n_out)." in text
    cls = skeleton_class(text, "Net")
    inspect.signature(cls.__init__).bind(None, **Probe(rubric, client=None).constructor_kwargs([16]))


def test_a_flat_bias_rubric_shows_flat_biases(tmp_path):
    text = generated_skeleton(load_rubric(rubric_file(tmp_path, {"bias_layouts": ["flat"]})))
    assert "W0 (16, 4), b0 (16,), W1 (3, 16), b1 (3,)." in text


def test_a_course_skeleton_file_is_the_kits_nn_py_byte_for_byte(tmp_path):
    own = "# -*- coding: utf-8 -*-\r\n# Übung 3: our own skeleton\r\nclass NN:\r\n    pass\r\n".encode("utf-8")
    (tmp_path / "course").mkdir()
    (tmp_path / "course" / "handout_nn.py").write_bytes(own)
    rubric = load_rubric(rubric_file(tmp_path, {"skeleton": "handout_nn.py"}))
    assert Path(rubric.interface.skeleton) == (tmp_path / "course" / "handout_nn.py").resolve()
    kit = build_kit(rubric, tmp_path / "kit")
    assert (kit / "nn.py").read_bytes() == own
    public = (kit / "rubric.yaml").read_text()
    assert str(tmp_path) not in public and "handout_nn.py" not in public   # no instructor path in the kit
    assert load_rubric(kit / "rubric.yaml").interface.skeleton is None
    build_kit(rubric, tmp_path / "kit")                                   # rebuilt: the same file, kept as nn.py
    assert (kit / "nn.py").read_bytes() == own and not (kit / "nn.skeleton.py").exists()


def test_a_missing_skeleton_file_is_a_rubric_error(tmp_path):
    with pytest.raises(RubricError, match="interface.skeleton: file nope.py not found"):
        load_rubric(rubric_file(tmp_path, {"skeleton": "nope.py"}))
