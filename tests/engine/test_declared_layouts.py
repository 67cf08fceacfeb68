"""Issue 12, item 2: a rubric declares its template's weight layout
(`interface.weight_layouts`) and whether a weight stored the other way round
is still read by the other criteria (`interface.transpose_detection`): on,
param-shapes alone charges it (judged once); off, every criterion that reads
it fails saying how it is stored and what is asked."""

from __future__ import annotations

import pytest

from grader.adapter import BlockLayout, Layout
from grader.probe import ApiError, Probe, StudentNet
from grader.rubric import load_rubric


def _with(rubric, **interface):
    return rubric.model_copy(update={"interface": rubric.interface.model_copy(update=interface)})


def _net(rubric, forms: dict[str, str]) -> StudentNet:
    """A net whose layout is already known (no worker is asked)."""
    shapes = {"W0": (16, 4), "b0": (16, 1), "W1": (3, 16), "b1": (3, 1)}
    keys = {k: rubric.interface.block_key(k) for k in shapes}   # the rubric's spelling of each block
    blocks = {k: BlockLayout(keys[k], shapes[k], forms.get(k, "canonical")) for k in shapes}
    return StudentNet(Probe(rubric, client=None), 1, (4, 16, 3), [], layout=Layout(blocks=blocks))


def test_transposed_weight_is_read_when_detection_is_on():
    rubric = load_rubric("penguins-silu")
    assert rubric.interface.transpose_detection
    net = _net(rubric, {"W0": "transposed"})
    assert net.require_layout() is net.layout


def test_transposed_weight_is_refused_when_detection_is_off():
    rubric = _with(load_rubric("penguins-silu"), transpose_detection=False)
    with pytest.raises(ApiError, match=r"W0 is stored \(4, 16\) instead of \(16, 4\).*other orientation"):
        _net(rubric, {"W0": "transposed"}).require_layout()
    assert _net(rubric, {}).require_layout() is not None   # the declared layout is read


def test_in_out_rubric_refuses_out_in_weights_when_detection_is_off():
    """Template B declares (n_in, n_out): there a canonical (n_out, n_in) W1 is the other orientation."""
    rubric = _with(load_rubric("twolayer-relu"), transpose_detection=False)
    assert rubric.interface.weight_layouts == ["in_out"] and rubric.interface.first_index == 1
    net = _net(rubric, {"W0": "transposed", "W1": "transposed"})
    assert net.require_layout() is net.layout
    with pytest.raises(ApiError, match=r"W1 is stored \(16, 4\) instead of \(4, 16\)"):
        _net(rubric, {"W1": "transposed"}).require_layout()
