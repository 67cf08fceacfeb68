"""One source for the network's blocks, shapes and count: reference/architecture.py.

The reference, the oracle (what judges know of a network), the probe of a
student's class (reply allowances, layout learning), the param-shapes and
param-count checks and the kit's skeleton all read them from there; these
tests pin that they agree and that nobody computes them again."""

from __future__ import annotations

import io
import re
import tokenize
import typing
from pathlib import Path

import pytest

import reference.network
from grader import oracle as oracle_module
from grader.adapter import interface_keys
from grader.schema import Interface
from grader.kit import shapes_text
from grader.oracle import Oracle, architecture_of
from grader.probe import StudentNet
from grader.rubric import load_rubric
from grader.schema import ACTIVATIONS, ArchitectureSpec
from reference import activations
from reference.architecture import (
    ACTIVATION_NAMES,
    Architecture,
    block_names,
    block_order,
    block_shapes,
    count_parameters,
)

ROOT = Path(__file__).resolve().parents[2]
SIZES = [(4, 16, 3), (4, 5, 3), (3072, 512, 256, 10), (2, 7, 7, 2)]


@pytest.mark.parametrize("sizes", SIZES)
def test_shapes_are_out_in_columns_in_canonical_order(sizes):
    shapes = block_shapes(sizes)
    assert list(shapes) == block_names(len(sizes) - 1)
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        assert shapes[f"W{i}"] == (n_out, n_in) and shapes[f"b{i}"] == (n_out, 1)
    assert count_parameters(sizes) == sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    assert sorted(shapes, key=block_order) == list(shapes)


def test_the_reference_uses_the_architecture_module():
    assert reference.network.Architecture is Architecture
    assert reference.network.param_shapes(Architecture((4, 16, 3))) == block_shapes((4, 16, 3))
    assert reference.network.param_count(Architecture((4, 16, 3))) == 8 * 16 + 3


def test_the_oracles_netspec_is_the_references_architecture():
    """NetSpec no longer mirrors Architecture: it is it (an alias)."""
    assert oracle_module.NetSpec is Architecture
    rubric = load_rubric("leakyrelu-elasticnet")
    arch = Oracle(rubric).architecture([7])
    assert isinstance(arch, Architecture) and arch == architecture_of(rubric, [7])
    assert arch.sizes == (rubric.assignment.architecture.inputs, 7, rubric.assignment.architecture.outputs)
    assert arch.penalized and not arch.without_penalty().penalized
    assert arch.activation_fn.name == "leaky_relu"


@pytest.mark.parametrize("sizes", SIZES)
def test_the_probe_counts_and_shapes_as_the_reference_does(sizes):
    net = StudentNet(probe=None, handle=0, sizes=tuple(sizes), methods=[])   # no worker needed
    assert net.shapes == Architecture(sizes).shapes()
    assert net.parameter_count == Architecture(sizes).param_count()


def test_the_kits_shapes_text_is_the_references_shapes_in_the_rubrics_keys(tmp_path):
    rubric = load_rubric("cifar-mlp")
    assert shapes_text(rubric) == ("W0 (512, 3072), b0 (512, 1), W1 (256, 512), b1 (256, 1), "
                                   "W2 (10, 256), b2 (10, 1)")
    text = (ROOT / "rubrics" / "penguins-silu.yaml").read_text()
    renamed = tmp_path / "renamed.yaml"
    renamed.write_text(text.replace("interface:\n", "interface:\n  weight_key: 'weights{i}'\n"
                                    "  bias_key: 'bias_{i}'\n", 1))
    assert shapes_text(load_rubric(renamed)).startswith("weights0 (16, 4), bias_0 (16, 1), weights1 (3, 16)")


def test_the_activation_names_are_configuration_and_everyone_agrees():
    assert tuple(activations._TABLE) == ACTIVATION_NAMES
    assert tuple(ACTIVATIONS) == ACTIVATION_NAMES
    assert typing.get_args(ArchitectureSpec.model_fields["activation"].annotation) == ACTIVATION_NAMES


def test_canonical_keys_are_the_block_names():
    pairs = interface_keys(3, Interface(weight_key="w_{i}", bias_key="B{i}", first_index=1))
    assert [c for c, _ in pairs] == block_names(3)
    assert [s for _, s in pairs] == ["w_1", "B1", "w_2", "B2", "w_3", "B3"]


#: a shape rule written out again: "(sizes[i + 1], sizes[i])" or "n_out, 1" outside the one source
SHAPE_RULE = re.compile(r"sizes\s*\[\s*i\s*\+\s*1\s*\]|\(\s*n_out\s*,\s*1\s*\)|\(\s*n_out\s*,\s*n_in\s*\)")


#: modules allowed to spell it: the one source, and the written questions' shape of a
#: *stated* network in either layout (its own subject, `layout: out_in | in_out`)
ALLOWED = {"reference/architecture.py", "grader/checks/answers.py"}


def code_only(source: str) -> str:
    """The source without its strings and comments (messages may name shapes)."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return " ".join(t.string for t in tokens if t.type not in (tokenize.STRING, tokenize.COMMENT)
                    and not t.type == getattr(tokenize, "FSTRING_MIDDLE", -1))


def test_no_other_module_computes_shapes():
    """Only reference/architecture.py spells out the shape rule (in the grader
    and the reference; student-like samples and benchmarks are not the grader)."""
    offenders = []
    for folder in ("grader", "reference"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if name not in ALLOWED and SHAPE_RULE.search(code_only(path.read_text())):
                offenders.append(name)
    assert offenders == []


def test_the_source_scan_finds_a_shape_rule():
    """The scan above can fail: the rule as the old probe wrote it is found."""
    assert SHAPE_RULE.search(code_only('out[f"W{i}"] = (self.sizes[i + 1], self.sizes[i])\n'))
    assert not SHAPE_RULE.search(code_only('msg = "W is (n_out, n_in)"  # (n_out, 1)\n'))
