"""Correct code in any reasonable shape gets full marks (issue 11).

Each sample in tests/engine/shapes/ is a complete, correct nn.py written the
way a student might: parameters behind a property, in an OrderedDict or a
Mapping class of their own, dataclasses with postponed annotations, float32
on the CIFAR-sized network, a back_propagate returning the descent direction.
They are graded end to end; the worker's handling of those shapes is also
tested in-process (no sandbox) below.
"""

from __future__ import annotations

import pickle
import sys
import types
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest

from grader.checks.base import fmt_pair
from grader.engine import grade
from grader.rubric import load_rubric
from grader.sandbox import worker as wire

SHAPES = Path(__file__).resolve().parent / "shapes"


def graded(name: str, rubric: str = "penguins-silu") -> tuple[dict, dict]:
    result = grade(SHAPES / f"{name}.py", load_rubric(rubric)).result
    report = {c["id"]: (c["status"], c["diagnoses"], c["feedback"][:300]) for c in result["criteria"]}
    return result, report


# -- end to end -------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("name", ["property_layers", "ordered_dict", "custom_mapping", "dataclass_future",
                                  "float32_penguins"])
def test_correct_submission_in_another_shape_gets_full_marks(name):
    result, report = graded(name)
    assert result["error"] is None, result["error"]
    assert result["score"] == 100, report


@pytest.mark.slow
def test_read_only_property_returning_a_copy_fails_clearly():
    """The grader cannot inject parameters: every criterion that needs to says
    so, instead of judging numbers computed at parameters never set."""
    result, report = graded("property_readonly")
    assert result["error"] is None
    by_id = {c["id"]: c for c in result["criteria"]}
    for cid in ("forward", "loss", "grad-W0", "grad-b0", "grad-W1", "grad-b1", "gd-step", "training"):
        crit = by_id[cid]
        assert crit["status"] == "error", (cid, report[cid])
        assert "self.theta is a read-only property returning a copy" in crit["feedback"], (cid, report[cid])
        assert "add a setter" in crit["feedback"], (cid, report[cid])
    for cid in ("param-shapes", "param-count", "init"):   # reading the parameters works
        assert by_id[cid]["status"] == "passed", (cid, report[cid])


@pytest.mark.slow
def test_descent_direction_is_charged_once():
    """back_propagate returns -grad and step() adds it: the sign is charged in the
    four gradient criteria only; the steps themselves are right."""
    result, report = graded("descent_direction")
    by_id = {c["id"]: c for c in result["criteria"]}
    for block in ("W0", "b0", "W1", "b1"):
        assert by_id[f"grad-{block}"]["diagnoses"] == ["sign-flip"], report[f"grad-{block}"]
    for cid in ("gd-step", "nag-step", "training"):
        assert by_id[cid]["status"] == "passed", (cid, report[cid])
    assert "charged in the gradient criteria" in by_id["gd-step"]["feedback"]
    assert "charged in the gradient criteria" in by_id["nag-step"]["feedback"]
    assert result["score"] == 100 - 4 * 6, report


@pytest.mark.slow
def test_float32_cifar_gets_full_marks():
    """Kept and computed in float32 on the 3072-512-256-10 network (several seconds)."""
    result, report = graded("float32_cifar", "cifar-mlp")
    assert result["error"] is None, result["error"]
    assert result["score"] == 100, report
    grad = next(c for c in result["criteria"] if c["id"] == "grad-W0")
    assert "matches finite differences" in grad["feedback"], grad["feedback"]


# -- the worker, in-process ------------------------------------------------------------------

class Params(Mapping):
    """A read-only Mapping of the student's own, buildable from a dict."""

    def __init__(self, data):
        self._data = dict(data)

    def __getitem__(self, key):
        return self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)


def test_encode_accepts_any_mapping_and_keeps_its_type_name():
    a = np.arange(6.0).reshape(2, 3)
    for value, name in ((OrderedDict(W0=a), "OrderedDict"), (Params({"W0": a}), "Params"),
                        (types.MappingProxyType({"W0": a}), "mappingproxy")):
        encoded = wire.encode(value, np)
        assert encoded["from"] == name
        decoded = wire.decode(encoded, np)
        assert type(decoded) is dict and np.array_equal(decoded["W0"], a)
    plain = wire.encode({"W0": a}, np)
    assert "from" not in plain   # a plain dict travels as before


class Holder:
    pass


def worker_with(obj) -> wire.Worker:
    worker = wire.Worker(np)
    worker.instances[1] = obj
    return worker


def test_describe_and_set_keep_the_students_mapping():
    obj = Holder()
    obj.theta = OrderedDict(W0=np.zeros((2, 3)), b0=np.zeros((2, 1)))
    alias = obj.theta
    worker = worker_with(obj)
    desc = worker.op_describe({"handle": 1, "attr": "theta"})
    assert desc["type"] == "dict" and desc["container"] == "OrderedDict"
    assert desc["entries"]["W0"]["shape"] == [2, 3]
    new = {"W0": np.ones((2, 3)), "b0": np.full((2, 1), 2.0)}
    assert worker.op_set({"handle": 1, "attr": "theta", "value": wire.encode(new, np), "verify": True}) is None
    assert obj.theta is alias and type(obj.theta) is OrderedDict   # updated in place
    assert np.array_equal(obj.theta["b0"], new["b0"])
    obj.frozen = Params({"W0": np.zeros((2, 3))})   # immutable: replaced by one of its own type
    assert worker.op_set({"handle": 1, "attr": "frozen", "value": wire.encode({"W0": np.ones((2, 3))}, np),
                          "verify": True}) is None
    assert type(obj.frozen) is Params and np.array_equal(obj.frozen["W0"], np.ones((2, 3)))


class Layered:
    def __init__(self):
        self.layers = [np.zeros((2, 3))]

    @property
    def theta(self):
        return {"W0": self.layers[0]}


class LayeredWithSetter(Layered):
    @Layered.theta.setter
    def theta(self, value):
        self.layers = [np.asarray(value["W0"], dtype=np.float32)]


def test_set_writes_through_a_setter_and_reports_a_read_only_copy():
    value = wire.encode({"W0": np.ones((2, 3))}, np)
    obj = LayeredWithSetter()
    worker = worker_with(obj)
    assert worker.op_set({"handle": 1, "attr": "theta", "value": value, "verify": True}) is None
    assert obj.layers[0].dtype == np.float32 and np.all(obj.layers[0] == 1)   # compared in the student's dtype
    obj = Layered()
    reply = worker_with(obj).op_set({"handle": 1, "attr": "theta", "value": value, "verify": True})
    assert reply["lost"] == ["W0"] and reply["read_only"] and reply["copy"]
    from grader.probe import _lost_message

    assert _lost_message("theta", reply).startswith(
        "self.theta is a read-only property returning a copy: the grader cannot set your parameters; add a setter")


def test_load_registers_a_real_module(tmp_path):
    source = tmp_path / "nn.py"
    source.write_text(
        "from __future__ import annotations\n"
        "from dataclasses import dataclass\n"
        "import typing\n"
        "@dataclass\n"
        "class Hyper:\n"
        "    lr: float = 0.1\n"
        "class NN:\n"
        "    def __init__(self) -> None:\n"
        "        self.hyper: Hyper = Hyper()\n"
        "HINTS = typing.get_type_hints(NN.__init__)\n"
        "ran_main = False\n"
        "if __name__ == '__main__':\n"
        "    ran_main = True\n")
    worker = wire.Worker(np)
    try:
        reply = worker.op_load({"dir": str(tmp_path), "source": str(source), "filename": "nn.py"})
        assert {"Hyper", "NN"} <= set(reply["classes"])
        module = sys.modules["nn"]
        assert module.__file__ == str(source) and module.__name__ == "nn" and module.ran_main is False
        assert pickle.loads(pickle.dumps(module.Hyper(0.5))).lr == 0.5
    finally:
        sys.modules.pop("nn", None)
        if str(tmp_path) in sys.path:
            sys.path.remove(str(tmp_path))


# -- judges: one charge per mistake, no self-contradicting message -----------------------------

def test_fmt_pair_never_prints_the_same_number_twice():
    assert fmt_pair(0.9, 0.9) is None
    assert fmt_pair(0.9000001, 0.9) == ("0.9000001", "0.9")
    assert fmt_pair(0.5, 0.9) == ("0.5", "0.9")




class LayeredCounting(Layered):
    calls = 0

    def back_propagate(self, x, y):
        LayeredCounting.calls += 1
        return {"W0": np.ones((2, 3))}


def test_a_call_that_sets_first_calls_only_when_the_parameters_stuck():
    """op_call with `set` (StudentNet.gradient_at: one round trip): written,
    read back, and the method called only if they stuck."""
    value = wire.encode({"W0": np.ones((2, 3))}, np)
    args = [wire.encode(np.zeros((1, 3)), np), wire.encode(np.zeros(1, dtype=np.int64), np)]
    stuck = LayeredWithSetter()
    stuck.back_propagate = lambda x, y: {"W0": np.full((2, 3), 2.0)}
    reply = worker_with(stuck).op_call({"handle": 1, "method": "back_propagate", "args": args,
                                        "set": {"attr": "theta", "value": value}})
    assert "lost" not in reply and np.all(wire.decode(reply["value"], np)["W0"] == 2.0)
    assert np.all(stuck.layers[0] == 1)
    copy = LayeredCounting()
    reply = worker_with(copy).op_call({"handle": 1, "method": "back_propagate", "args": args,
                                       "set": {"attr": "theta", "value": value}})
    assert reply["value"] is None and reply["lost"]["lost"] == ["W0"] and reply["lost"]["copy"]
    assert LayeredCounting.calls == 0
