"""A student's class played in-process, behind the real `Probe`, for tests of
what a check's observe does with odd student values.

`FakeClient` answers the worker protocol (`new`, `describe`, `get`, `set`,
`call`, `steps`) with the reference's numbers, so a fake student is right
unless told otherwise; `overrides` replace what one operation returns.
Every value goes through the worker's own encode/decode and JSON, so the
grader sees exactly what it would see from a real worker: a Mapping arrives
as a dict, an object as its description, a ragged list as a list of arrays.
No process is started, so these tests are fast and deterministic.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any, Callable

import numpy as np

from grader.checks.base import Verdict
from grader.engine import oracle_for, run_criterion
from grader.probe import Probe
from grader.sandbox import worker as wire
from reference import optimizers

#: an object the grader cannot read, as a student's class might return
class Opaque:
    def __repr__(self) -> str:
        return "Opaque()"


class Ragged(dict):
    """A student's own Mapping class."""


#: the odd values a student's method may return, by name (ids of parametrized tests)
ODD_VALUES: dict[str, Any] = {
    "None": None,
    "str": "0.25",
    "nested-lists": [[0.1, 0.2], [0.3]],
    "object": Opaque(),
    "nan": float("nan"),
    "nan-array": np.full((3, 7), np.nan),
    "wrong-shape": np.ones((2, 2)),
    "float32-wrong-shape": np.ones((4, 5), dtype=np.float32),
    "mapping": Ragged(a=np.ones(3)),
    "bool": True,
    "empty": [],
}


def roundtrip(value: Any) -> Any:
    """What the grader receives for `value` (the worker's wire, both ways)."""
    return wire.decode(json.loads(json.dumps(wire.encode(value, np), allow_nan=True)), np)


_RUNS: dict[tuple, list[dict]] = {}


class FakeStudent:
    """One instance of the class: parameters drawn like the assignment's init."""

    def __init__(self, client: "FakeClient", sizes: tuple[int, ...], method: str, lr: float, seed: int) -> None:
        self.client, self.sizes, self.method, self.lr = client, sizes, method, lr
        rng = np.random.default_rng(seed)
        std = client.rubric.assignment.init.std
        self.theta = {}
        for i in range(len(sizes) - 1):
            self.theta[f"W{i}"] = std * rng.standard_normal((sizes[i + 1], sizes[i]))
            self.theta[f"b{i}"] = std * rng.standard_normal((sizes[i + 1], 1))

    @property
    def hidden(self) -> list[int]:
        return list(self.sizes[1:-1])

    def run(self, name: str, args: list[Any]) -> Any:
        oracle = self.client.oracle
        if name == "feed_forward":
            return oracle.forward(self.hidden, self.theta, args[0])
        if name == "loss":
            return oracle.loss(self.hidden, self.theta, args[0], args[1])
        if name == "back_propagate":
            return oracle.gradient(self.hidden, self.theta, args[0], args[1])
        if name == "train":
            x, y, n = args
            losses = [oracle.loss(self.hidden, t, x, y) for t in self.iterates(x, y, n)[:-1]]
            return losses
        raise AttributeError(name)

    def iterates(self, x: np.ndarray, y: np.ndarray, n: int) -> list[dict]:
        """n steps of the configured method from the current parameters (which end at the last);
        the same run is computed once per test session (every check starts from the same point)."""
        key = (self.client.rubric.id, self.method, self.lr, n, x.tobytes(), y.tobytes(),
               tuple((k, v.tobytes()) for k, v in sorted(self.theta.items())))
        if key not in _RUNS:
            mu = self.client.rubric.assignment.optimizer.momentum
            _RUNS[key] = optimizers.trajectory(
                self.method, lambda th: self.client.oracle.gradient(self.hidden, th, x, y), self.theta, n, self.lr,
                mu).iterates
        self.theta = _RUNS[key][-1]
        return _RUNS[key]


class FakeClient:
    """The worker protocol, answered in-process (see the module docstring)."""

    def __init__(self, rubric: Any, overrides: dict[str, Callable[[Any], Any]] | None = None) -> None:
        self.rubric, self.oracle = rubric, oracle_for(rubric)
        self.overrides = overrides or {}
        self.limits = SimpleNamespace(wall_factor=3.0)
        self.request_cpu, self.max_request_bytes = 0.0, 0
        self.students: dict[int, FakeStudent] = {}

    def _out(self, operation: str, value: Any) -> Any:
        """What the student returns for `operation`, overridden or not, over the wire."""
        if operation in self.overrides:
            value = self.overrides[operation](value)
        return roundtrip(value)

    def request(self, message: dict, budget: Any = None, *, reply_bytes: int | None = None) -> Any:
        message = wire.decode(json.loads(json.dumps(message)), np)
        op = message["op"]
        if op == "new":
            iface = self.rubric.interface
            kwargs = message["kwargs"]
            hidden = kwargs[iface.kwarg("num_hidden")]
            hidden = [hidden] if isinstance(hidden, int) else list(hidden)
            arch = self.rubric.assignment.architecture
            method = "nag" if kwargs[iface.kwarg("gradient_method")] == iface.gradient_methods["nag"] else "gd"
            handle = len(self.students) + 1
            self.students[handle] = FakeStudent(self, (arch.inputs, *hidden, arch.outputs), method,
                                                kwargs[iface.kwarg("lr")], message["seed"])
            methods = [iface.method(r) for r in ("feed_forward", "loss", "back_propagate", "step", "train")]
            return {"handle": handle, "methods": methods}
        student = self.students[message["handle"]]
        if op == "describe":   # the right blocks; dtypes as the "parameters" override stores them
            shown = self._out("parameters", student.theta)

            def dtype(key: str) -> str:
                value = shown.get(key) if isinstance(shown, dict) else None
                return str(value.dtype) if isinstance(value, np.ndarray) else "float64"

            return {"type": "dict", "entries": {k: {"shape": list(v.shape), "size": int(v.size), "dtype": dtype(k)}
                                                for k, v in student.theta.items()}}
        if op == "get":
            if message["attr"] == "__dict__":
                return roundtrip({"theta": student.theta})
            return self._out("parameters", student.theta)
        if op == "set" and message["attr"] == self.rubric.interface.parameters_attribute:
            student.theta = {k: np.asarray(v, dtype=np.float64) for k, v in message["value"].items()}
            return {}
        if op == "call":
            role = {self.rubric.interface.method(r): r for r in ("feed_forward", "loss", "back_propagate", "train")}
            return {"value": self._out(role[message["method"]], student.run(role[message["method"]],
                                                                              message["args"]))}
        if op == "steps":
            x, y = message["args"]
            n, every = message["n"], message["every"]
            positions = sorted({*range(0, n + 1, every), *message["at"]})
            iterates = student.iterates(x, y, n)
            return {"snapshots": [self._out("snapshot", iterates[p]) for p in positions], "positions": positions}
        if op == "set":   # another attribute (a NAG buffer re-pointed at the start)
            return {}
        if op == "aliases":
            return []
        raise ValueError(f"the fake worker does not know op {op!r}")


def grade_criterion(rubric: Any, criterion_id: str, **overrides: Callable[[Any], Any]) -> Verdict:
    """One criterion observed through the real Probe and judged by the engine,
    with the fake student's `overrides` (operation -> value -> value)."""
    probe = Probe(rubric, FakeClient(rubric, overrides))
    probe.begin(1e9)
    return run_criterion(rubric, oracle_for(rubric), rubric.criterion(criterion_id), probe)


def judge_declared(ctx: Any, observation: Any) -> Verdict:
    """Judge through the engine and the check's declaration, as grading does:
    a diagnosis the check does not declare comes back as a grader-error."""
    from grader.checks import REGISTRY
    from grader.engine import Observed, judge_criterion

    return judge_criterion(Observed(REGISTRY[ctx.criterion.check], ctx, ctx.criterion.check_params(), observation))
