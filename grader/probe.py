"""High-level questions to a student's class, in canonical terms.

A `Probe` knows the rubric's interface (names of the class, methods, keys)
and a worker; a `StudentNet` is one instance of the student's class living in
the worker.  Every method returns plain NumPy data in the canonical layout or
raises `WorkerFailure` / `ApiError`, so checks never see the student's
spelling or the sandbox's plumbing.

Time: every request of a criterion shares the criterion's CPU budget
(`Probe.begin`), counted over the CPU time the worker uses while answering
(see `grader.sandbox.cpuclock`), with a wall-clock backstop.  An operation
that runs out of time (a method on one size class of input, e.g.
back_propagate on the 5-sample probe net) is remembered: a later criterion
that needs the same operation gets the same time-out at once instead of
waiting for it again.

Size: every request says how large its answer can legitimately be
(`reply_allowance` of the numbers it can hold: parameters, snapshots,
samples x units), so a forged answer is refused before it can fill the
grader's memory; small operations keep the client's default.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import numpy as np

from reference.architecture import block_shapes, count_parameters

from .adapter import (Layout, RefusedLayout, accepted_forms, asked_shape, interface_keys, is_bias, learn_layout,
                      probabilities_to_canonical)
from .checks.contract import StudentValueError
from .schema import Rubric
from .glue import wire_methods
from .sandbox.client import Budget, WorkerClient, WorkerFailure, reply_allowance

#: a timed-out operation is remembered only when it had at least this share of
#: its criterion's budget: one that started late in a criterion may fit a fresh one
REMEMBER_SHARE = 0.9


class ApiError(Exception):
    """The student's code does not offer what the rubric's interface names."""


@dataclass
class Probe:
    """Questions to the student's class; every request shares the current
    criterion's CPU budget, so a slow method cannot overrun its criterion."""

    rubric: Rubric
    client: WorkerClient
    cpu_budget: float = 0.0      # CPU seconds the current criterion may use
    cpu_limit: float = 0.0       # the limit named in time-out messages
    scope: str = "this criterion's limit"
    wall_limit: float = 0.0
    _cpu_start: float = 0.0
    _wall_end: float = 0.0
    hung: dict = field(default_factory=dict)   # operation -> (amount, the WorkerFailure it gave)
    skipped: int = 0             # operations not run again because they had timed out before
    glued: bool = False          # an instructor's glue carries out the operations (grader/glue.py)

    def begin(self, cpu_budget: float, *, cpu_limit: float | None = None,
              scope: str = "this criterion's limit", wall_end: float | None = None) -> None:
        """Start a criterion: `cpu_budget` CPU seconds for all its requests,
        and a wall-clock backstop of `wall_factor` times that (or `wall_end`,
        if sooner).  `cpu_limit` and `scope` word the time-out messages."""
        factor = self.client.limits.wall_factor
        now = time.monotonic()
        self.cpu_budget = cpu_budget
        self.cpu_limit = cpu_budget if cpu_limit is None else cpu_limit
        self.scope = scope
        self.wall_limit = self.cpu_limit * factor
        self._wall_end = now + cpu_budget * factor if wall_end is None else min(wall_end, now + cpu_budget * factor)
        self._cpu_start = self.client.request_cpu

    @property
    def timeout(self) -> Budget:
        """What is left of the criterion's budget, for the next request."""
        cpu_left = self.cpu_budget - (self.client.request_cpu - self._cpu_start)
        wall_left = self._wall_end - time.monotonic()
        budget = Budget(cpu_left, wall_left, self.cpu_limit, self.wall_limit, self.scope)
        if cpu_left <= 0:
            raise WorkerFailure("timeout", budget.cpu_message(), cause="cpu", budget=budget)
        if wall_left <= 0:
            raise WorkerFailure("timeout", budget.wall_message(), cause="wall", budget=budget)
        return budget

    def timed(self, operation: tuple, amount: float, subject: str, send: Any) -> Any:
        """Run `send(budget)` for `operation` (e.g. ("back_propagate", sizes,
        samples)) of size `amount` (e.g. steps).  If the same operation ran
        out of time before with at most this amount, raise that failure again
        without running it; a time-out now names `subject` and is remembered."""
        known = self.hung.get(operation)
        if known is not None and amount >= known[0]:
            self.skipped += 1
            raise known[1]
        budget = self.timeout
        try:
            return send(budget)
        except WorkerFailure as failure:
            if failure.kind != "timeout" or failure.budget is None:
                raise
            named = WorkerFailure("timeout", failure.message, cause=failure.cause, budget=failure.budget,
                                  subject=subject)
            whole = budget.cpu >= REMEMBER_SHARE * budget.cpu_limit if failure.cause == "cpu" else \
                budget.wall >= REMEMBER_SHARE * budget.wall_limit
            if whole and (known is None or amount < known[0]):
                self.hung[operation] = (amount, named)
            raise named from failure

    @property
    def interface(self):
        return self.rubric.interface

    def wire_method(self, role: str) -> str:
        """The method the worker calls for `role`: the student's (the
        rubric's spelling) under the default glue, the glued view's
        operation under an instructor's glue.  Messages keep the rubric's
        spelling (`interface.method`)."""
        return wire_methods[role] if self.glued else self.interface.method(role)

    @property
    def wire_attribute(self) -> str:
        """Where the worker reads and writes the parameters (see `wire_method`)."""
        return "parameters" if self.glued else self.interface.parameters_attribute

    def constructor_kwargs(self, hidden: list[int], method: str = "gd", lr: float | None = None,
                           momentum: float | None = None) -> dict[str, Any]:
        return constructor_kwargs(self.rubric, hidden, method, lr, momentum)

    def new(self, hidden: list[int], *, method: str = "gd", seed: int = 0, lr: float | None = None,
            momentum: float | None = None) -> "StudentNet":
        kwargs = glue_config(self.rubric, hidden, method, lr, momentum) if self.glued else \
            self.constructor_kwargs(hidden, method, lr, momentum)
        sizes = (self.rubric.assignment.architecture.inputs, *hidden,
                 self.rubric.assignment.architecture.outputs)
        name = self.interface.class_name
        reply = self.timed(("__init__", tuple(sizes), method), 1, f"{name}() constructor",
                           lambda budget: well_formed("new", self.client.request(
                               {"op": "new", "class": name, "kwargs": kwargs, "seed": seed}, budget)))
        return StudentNet(self, int(reply["handle"]), tuple(sizes), list(reply.get("methods", [])),
                          optimizer=method)


def constructor_kwargs(rubric: Rubric, hidden: list[int], method: str = "gd", lr: float | None = None,
                       momentum: float | None = None) -> dict[str, Any]:
    """The keywords the grader builds a student's instance with, in the
    rubric's spelling (`interface.constructor`, then `constructor_extra`):
    the one list of them, which the kit's skeleton constructor also takes."""
    arch = rubric.assignment.architecture
    opt = rubric.assignment.optimizer
    iface = rubric.interface
    kwargs: dict[str, Any] = {
        iface.kwarg("num_input"): arch.inputs,
        iface.kwarg("num_hidden"): hidden[0] if len(hidden) == 1 else list(hidden),
        iface.kwarg("num_output"): arch.outputs,
        iface.kwarg("gradient_method"): iface.gradient_methods[method],  # type: ignore[index]
        iface.kwarg("lr"): opt.lr if lr is None else lr,
        iface.kwarg("momentum"): opt.momentum if momentum is None else momentum,
    }
    kwargs.update(iface.constructor_extra)
    return kwargs


def glue_config(rubric: Rubric, hidden: list[int], method: str = "gd", lr: float | None = None,
                momentum: float | None = None) -> dict[str, Any]:
    """What an instructor's glue `construct` gets (grader/glue.py): the
    canonical names, whatever the course calls them, plus the rubric's
    `interface.glue_options`."""
    arch = rubric.assignment.architecture
    opt = rubric.assignment.optimizer
    return {"num_input": arch.inputs, "num_hidden": hidden[0] if len(hidden) == 1 else list(hidden),
            "hidden": list(hidden), "num_output": arch.outputs, "gradient_method": method,
            "lr": opt.lr if lr is None else lr, "momentum": opt.momentum if momentum is None else momentum,
            "options": dict(rubric.interface.glue_options)}


@dataclass
class StudentNet:
    probe: Probe
    handle: int
    sizes: tuple[int, ...]
    methods: list[str]
    optimizer: str = "gd"    # the gradient method it was built with ("gd", "nag")
    layout: Layout | None = None
    _last_set: Any = None   # the canonical theta most recently injected (by identity)

    # -- plumbing ---------------------------------------------------------------
    @property
    def shapes(self) -> dict[str, tuple[int, int]]:
        """Canonical shapes of this instance's network (the reference's rule)."""
        return block_shapes(self.sizes)

    def _request(self, message: dict, timeout: float | None = None, reply_bytes: int | None = None) -> Any:
        message = dict(message, handle=self.handle)
        budget = self.probe.timeout
        if timeout is not None and timeout < budget.cpu:
            budget = replace(budget, cpu=timeout)
        return well_formed(message["op"], self.probe.client.request(message, budget, reply_bytes=reply_bytes))

    # -- how large an answer can legitimately be -----------------------------------
    @property
    def parameter_count(self) -> int:
        """Learnable scalars of this instance's network (the reference's count)."""
        return count_parameters(self.sizes)

    @property
    def _blocks(self) -> int:
        return len(self.shapes)

    def parameters_reply(self, copies: int = 1) -> int:
        """`copies` parameter containers, each allowed twice the parameters
        (float128 values, or extra entries kept next to them)."""
        return reply_allowance(2 * copies * self.parameter_count, items=2 * copies * self._blocks)

    def state_reply(self) -> int:
        """Any attribute of the instance: several copies of the parameters
        (previous iterate, velocity, gradients) and copies of whatever the
        grader has sent this worker (a cached batch, activations of it)."""
        return reply_allowance(6 * self.parameter_count, items=64) + 4 * self.probe.client.max_request_bytes

    def call_reply(self, samples: Any, amount: float = 1) -> int:
        """A method's value: parameters or a gradient, per-sample values of
        every unit (probabilities, activations, a per-sample loss), or one
        value per iteration (train's losses)."""
        n = int(samples.shape[0]) if isinstance(samples, np.ndarray) and samples.ndim else 1
        return reply_allowance(self.parameter_count + n * sum(self.sizes) + int(amount), items=64)

    def _operation(self, method: str, message: dict, amount: float, samples: Any = None,
                   reply_bytes: int | None = None) -> Any:
        """A request that runs the student's `method`: one that timed out
        before on this net's sizes and this many samples is not run again
        (see `Probe.timed`)."""
        n = int(samples.shape[0]) if isinstance(samples, np.ndarray) and samples.ndim else None
        optimizer = self.optimizer if method in (self.probe.wire_method("step"),
                                                 self.probe.wire_method("train")) else ""
        operation = (method, self.sizes, n, optimizer)
        message = dict(message, handle=self.handle)
        return self.probe.timed(operation, amount, f"{method}()", lambda budget: well_formed(
            message["op"], self.probe.client.request(message, budget, reply_bytes=reply_bytes)))

    def _method(self, role: str) -> str:
        """The wire name of `role`'s method (`Probe.wire_method`), which the instance must have."""
        name = self.probe.wire_method(role)
        if name not in self.methods:
            raise ApiError(f"your class has no method {self.probe.interface.method(role)}()")
        return name

    @property
    def attr(self) -> str:
        """The parameters' attribute as the rubric spells it (for messages)."""
        return self.probe.interface.parameters_attribute

    @property
    def wire_attr(self) -> str:
        """Where the worker reads and writes the parameters (`Probe.wire_attribute`)."""
        return self.probe.wire_attribute

    def key_pairs(self) -> list[tuple[str, str]]:
        iface = self.probe.interface
        return interface_keys(len(self.sizes) - 1, iface)

    # -- parameters ---------------------------------------------------------
    @property
    def is_float32(self) -> bool:
        """The student keeps float32 parameters: compare more loosely."""
        return bool(self.layout and any(b.dtype == "float32" for b in self.layout.blocks.values()))

    def raw_parameters(self) -> Any:
        return self._request({"op": "get", "attr": self.wire_attr}, reply_bytes=self.parameters_reply())

    def get_attribute(self, name: str) -> Any:
        return self._request({"op": "get", "attr": name}, reply_bytes=self.state_reply())

    def set_attribute(self, name: str, value: Any) -> None:
        self._request({"op": "set", "attr": name, "value": _wire(value)})

    def describe_parameters(self) -> dict:
        """{"type", "entries": {key: {"shape", "size", "dtype"}}} of the parameters."""
        return self._request({"op": "describe", "attr": self.wire_attr})

    def learn_layout(self) -> Layout:
        self.layout = learn_layout(self.describe_parameters(), self.shapes, self.key_pairs())
        return self.layout

    def require_layout(self) -> Layout:
        layout = self.layout or self.learn_layout()
        if layout.missing:
            raise ApiError(f"self.{self.attr} has no entry for "
                           + ", ".join(self._student_key(k) for k in layout.missing))
        bad = [k for k, b in layout.blocks.items() if b.form == "mismatch"]
        if bad:
            raise ApiError("cannot read your parameters: " + ", ".join(
                f"{layout.blocks[k].student_key} has the wrong shape" for k in bad))
        iface = self.probe.interface
        if not iface.transpose_detection:   # the rubric reads weights only in the layouts it declares
            other = [k for k, b in layout.blocks.items() if not is_bias(k)
                     and b.form not in accepted_forms(k, iface.bias_layouts, iface.weight_layouts)]
            if other:
                raise ApiError("cannot read your parameters: " + ", ".join(
                    _orientation_problem(k, layout.blocks[k], iface) for k in other)
                    + " (this assignment does not read the other orientation)")
        return layout

    def _student_key(self, canon: str) -> str:
        return dict(self.key_pairs())[canon]

    def parameters(self) -> dict[str, np.ndarray]:
        layout = self.require_layout()
        raw = self.raw_parameters()
        if not isinstance(raw, dict):
            raise ApiError(f"self.{self.attr} is no longer a dict")
        return layout.to_canonical(raw)

    def set_parameters(self, theta: dict[str, np.ndarray]) -> None:
        """Inject canonical parameters, then make sure they stuck (the worker
        reads them back): a read-only property that returns a copy would
        otherwise have every later number judged at parameters never set."""
        reply = self._request({"op": "set", "verify": True, **self._setting(theta)})
        self._after_set(theta, reply)

    def _setting(self, theta: dict[str, np.ndarray]) -> dict[str, Any]:
        """Where and what to write for canonical `theta` (an `op_set` request's fields)."""
        return {"attr": self.wire_attr, "value": _wire(self.require_layout().to_student(theta))}

    def _after_set(self, theta: dict[str, np.ndarray], reply: Any) -> None:
        if isinstance(reply, dict) and reply.get("lost"):
            self._last_set = None
            raise ApiError(_lost_message(self.attr, reply))
        self._last_set = theta

    # -- the assignment's methods ------------------------------------------------
    def call(self, role: str, *args: Any, count: tuple[str, ...] = (), at: dict[str, np.ndarray] | None = None) -> Any:
        """Call one of the assignment's methods; `count` names other roles
        whose calls during it are counted (reply["calls"], by role); `at`:
        canonical parameters written (and read back) first, in the same
        request (the caller checks reply["lost"], see `gradient_at`)."""
        method = self._method(role)
        names = {self.probe.wire_method(r): r for r in count}
        message = {"op": "call", "method": method, "args": [_wire(a) for a in args]}
        if at is not None:
            message["set"] = self._setting(at)
        if names:
            message["count"] = sorted(n for n in names if n in self.methods)
        amount = args[2] if role == "train" and len(args) > 2 and isinstance(args[2], int) else 1
        samples = args[0] if args else None
        reply = self._operation(method, message, amount, samples, self.call_reply(samples, amount))
        if "calls" in reply:
            reply["calls"] = {names[n]: int(c) for n, c in reply["calls"].items() if n in names}
        return reply

    def forward(self, x: np.ndarray) -> tuple[np.ndarray | None, str, Any]:
        """(canonical probabilities or None, layout seen, raw value).  A
        layout the rubric's `output_layouts` does not accept is the student's
        `bad-output`, named (StudentValueError), never silently transposed."""
        raw = self.call("feed_forward", x)["value"]
        try:
            probs, seen = _as_probabilities(raw, self.sizes[-1], x.shape[0], self.probe.interface.output_layouts)
        except RefusedLayout as refused:
            raise StudentValueError(f"{self.probe.interface.method('feed_forward')}() returned {refused}") from None
        return probs, seen, raw

    def loss(self, x: np.ndarray, y: np.ndarray) -> Any:
        return self.call("loss", x, y)["value"]

    def gradient_raw(self, x: np.ndarray, y: np.ndarray) -> Any:
        return self.call("back_propagate", x, y)["value"]

    def gradient_at(self, theta: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> Any:
        """`set_parameters(theta)` then `gradient_raw(x, y)`, in one round
        trip (the worker writes, reads back, and calls only if they stuck)."""
        reply = self.call("back_propagate", x, y, at=theta)
        self._after_set(theta, reply.get("lost"))
        return reply["value"]

    def steps(self, x: np.ndarray, y: np.ndarray, n: int, every: int = 1) -> list[Any]:
        """Raw parameter snapshots before and after every `every` steps."""
        return self.steps_at(x, y, n, every, ())[1]

    def steps_at(self, x: np.ndarray, y: np.ndarray, n: int, every: int,
                 at: tuple[int, ...]) -> tuple[list[int], list[Any]]:
        """(positions, raw snapshots): before the first step, after every
        `every` steps and after each step count in `at` (spot checks)."""
        method = self._method("step")
        snapshots = 1 + n // max(int(every), 1) + len(set(at))
        reply = self._operation(method, {"op": "steps", "method": method, "args": [_wire(x), _wire(y)],
                                         "n": n, "every": every, "at": sorted(set(at)), "snapshot": self.wire_attr},
                                n, x, self.parameters_reply(snapshots))
        snaps = reply["snapshots"]
        positions = reply.get("positions") or list(range(0, n + 1, every))[:len(snaps)]
        return [int(p) for p in positions], snaps

    def finite_differences(self, base: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray,
                           directions: list[Any], h: float) -> tuple[np.ndarray, float]:
        """Central differences of the student's own loss at canonical `base`
        along canonical directions (dicts) or ("W0", flat_index) units, and
        the loss at `base` itself.

        The grader drives the sweep: it chooses every point (one request,
        op `loss_at`, for the loss at `base`, one for all the others) and
        takes the differences here.  No finite-difference formula runs in
        the student's process, so their code cannot replace it."""
        layout = self.require_layout()
        from .sandbox.worker import parameters_digest

        student_base = layout.to_student(base)
        keys = [b.student_key for b in layout.blocks.values()]
        common = {"op": "loss_at", "attr": self.wire_attr, "method": self._method("loss"),
                  "args": [_wire(x), _wire(y)], "keys": keys}
        # base is usually what set_parameters just injected: then the worker reuses it
        # (a 1.7M-parameter theta is 13.6 MB on the wire); a digest proves it is unchanged
        first = dict(common, base=None if base is self._last_set else _wire(student_base),
                     digest=parameters_digest(student_base, keys))
        loss = self._method("loss")   # each value one loss call: a loss that hung once is not asked again

        def ask(message: dict) -> Any:   # a scalar (or, wrongly, per-sample values)
            return self._operation(loss, message, 1, x, self.call_reply(x))

        value = ask(first)
        if isinstance(value, dict) and value.get("stale"):   # e.g. back_propagate also moved theta
            value = ask(dict(common, base=_wire(student_base)))
        at_base = scalar(value)
        points: list[dict[str, Any]] = []
        sent: list[Any] = []   # the directions, each sent once for its +h and -h
        for d in directions:
            if isinstance(d, tuple):
                key, index = d
                block = layout.blocks[key]
                student_index = index   # the flat index of the canonical entry inside the student's array
                if block.form == "transposed":
                    position = np.unravel_index(index, block.canonical_shape)
                    student_index = int(np.ravel_multi_index(position[::-1], block.canonical_shape[::-1]))
                where: dict[str, Any] = {"unit": [block.student_key, int(student_index)]}
            else:
                where = {"direction": len(sent)}
                sent.append(_wire(layout.to_student(d)))
            points += [dict(where, delta=h), dict(where, delta=-h)]
        if not points:
            return np.zeros(0), at_base
        # the whole sweep in one request: each point is still one call of the student's loss
        reply = self._operation(loss, dict(common, base="kept", points=points, directions=sent), len(points), x,
                                len(points) * self.call_reply(x))
        values = reply.get("values") if isinstance(reply, dict) else None
        if not isinstance(values, list) or len(values) != len(points):
            raise WorkerFailure("protocol", "the reply to a finite-difference sweep is malformed "
                                f"({describe_value(reply)})")
        pairs = np.array([scalar(v) for v in values], dtype=np.float64).reshape(-1, 2)
        return (pairs[:, 0] - pairs[:, 1]) / (2 * h), at_base

    def aliases(self) -> list[str]:
        """Other attributes sharing memory with the parameters (aliasing)."""
        return list(self._request({"op": "aliases", "attr": self.wire_attr}))


def _ints(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)


def _shape_entry(entry: Any) -> bool:
    return isinstance(entry, dict) and (entry.get("shape") is None or _ints(entry.get("shape"))) \
        and isinstance(entry.get("dtype"), str) and isinstance(entry.get("size", 0), int)


#: the structure of each operation's reply, as the grader's code reads it (values inside,
#: e.g. a method's return value, are the checks' to validate)
REPLY_FORMS: dict[str, Callable[[Any], bool]] = {
    "new": lambda v: isinstance(v, dict) and isinstance(v.get("handle"), int) and not isinstance(v.get("handle"), bool)
    and isinstance(v.get("methods"), list) and all(isinstance(m, str) for m in v["methods"]),
    "call": lambda v: isinstance(v, dict) and "value" in v
    and (v.get("lost") is None or isinstance(v["lost"], dict)) and (
        "calls" not in v or isinstance(v["calls"], dict) and all(
            isinstance(k, str) and isinstance(c, int) and not isinstance(c, bool) for k, c in v["calls"].items())),
    "steps": lambda v: isinstance(v, dict) and isinstance(v.get("snapshots"), list)
    and (v.get("positions") is None or _ints(v["positions"])),
    "describe": lambda v: isinstance(v, dict) and isinstance(v.get("type"), str) and isinstance(v.get("entries"), dict)
    and all(_shape_entry(e) for e in v["entries"].values()),
    "set": lambda v: v is None or isinstance(v, dict) and isinstance(v.get("lost", []), list),
    "aliases": lambda v: isinstance(v, list),
}


def well_formed(op: str, value: Any) -> Any:
    """`value`, the reply to operation `op`, when it has the structure the
    grader reads; otherwise the worker was tampered with (a submission can
    patch the worker it runs in): a protocol failure, the student's, never
    an exception inside the grader's code (which would be taken for a
    grader failure and left out of the student's total)."""
    form = REPLY_FORMS.get(op)
    if form is not None and not form(value):
        raise WorkerFailure("protocol", f"the reply to a {op!r} request is malformed ({describe_value(value)})")
    return value


def _orientation_problem(canon: str, block: Any, iface: Any) -> str:
    """'W1 is stored (16, 4) instead of (4, 16)': a weight in the orientation
    the rubric does not declare (`interface.transpose_detection: false`)."""
    stored = block.canonical_shape[::-1] if block.form == "transposed" else block.canonical_shape
    asked = asked_shape(canon, block.canonical_shape, iface.bias_layouts, iface.weight_layouts)
    return f"{block.student_key} is stored {tuple(stored)} instead of {tuple(asked)}"


def _lost_message(attr: str, reply: dict) -> str:
    keys = ", ".join(str(k) for k in reply["lost"])
    if reply.get("read_only") and reply.get("copy"):
        return (f"self.{attr} is a read-only property returning a copy: the grader cannot set your parameters; "
                f"add a setter (@{attr}.setter) that stores the dict it is given ({keys} were lost)")
    if reply.get("read_only"):
        return (f"self.{attr} is a read-only property and the values the grader wrote into it did not stick "
                f"({keys}): the grader cannot set your parameters; add a setter (@{attr}.setter)")
    return (f"the grader set self.{attr} (a {reply.get('container', 'dict')}) but reading it back gave other values "
            f"for {keys}: assigning self.{attr} = {{...}} must store those parameters")


def _as_probabilities(raw: Any, num_classes: int, num_samples: int,
                      allowed: tuple[str, ...] | list[str]) -> tuple[np.ndarray | None, str]:
    """Canonical probabilities from a decoded worker value (see
    `adapter.probabilities_to_canonical`), or None and what the value is."""
    if isinstance(raw, np.ndarray) or isinstance(raw, (list, float, int)):
        return probabilities_to_canonical(raw, num_classes, num_samples, allowed)
    if isinstance(raw, dict) and "__obj__" in raw:
        return None, f"a {raw['__obj__']} object"
    return None, f"a {type(raw).__name__}"


def float_eps(*values: Any) -> float:
    """The machine epsilon of the least precise floating-point array among
    decoded worker values (arrays, dicts and lists of them): the precision
    the student's code computed or stored them in (float64's when none)."""
    eps = float(np.finfo(np.float64).eps)
    stack = list(values)
    while stack:
        value = stack.pop()
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            eps = max(eps, float(np.finfo(value.dtype).eps))
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return eps


FLOAT64_EPS = float(np.finfo(np.float64).eps)


def precision_name(eps: float) -> str:
    """'float32' for float32's machine epsilon (and so on)."""
    for dtype in (np.float16, np.float32, np.float64, np.longdouble):
        if float(np.finfo(dtype).eps) == eps:
            return np.dtype(dtype).name
    return f"a float type with machine epsilon {eps:.3g}"


def scalar(value: Any) -> float:
    """A loss the student returned, as a float (NaN when it is not one)."""
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, np.ndarray) and value.size == 1:
        return float(value.reshape(-1)[0])
    if isinstance(value, dict) and "array" in value:
        return scalar(value["array"])
    return float("nan")




def _wire(value: Any) -> Any:
    """Encode grader-side values for a request (arrays, dicts, numbers)."""
    from .sandbox import worker as wire

    return wire.encode(value, np)


def describe_value(value: Any) -> str:
    """A short phrase for an unexpected return value in feedback."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, dict) and "__obj__" in value:
        return f"a {value['__obj__']} ({value.get('repr', '')[:60]})"
    if isinstance(value, dict):
        return f"a dict with keys {sorted(value)}"
    return f"{type(value).__name__} {value!r}"[:100]


__all__ = ["ApiError", "FLOAT64_EPS", "Probe", "StudentNet", "WorkerFailure", "float_eps", "precision_name", "scalar", "describe_value"]
