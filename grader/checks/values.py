"""Validating the student's values into typed observations (arrays, a loss,
a parameter dict, the parameters' description), and the probe-depth rule
every check's `validate` shares.

What a worker sends is the student's: None, a string, a ragged list, an
object's description (``{"__obj__": ...}``), a dict for any Mapping, or an
array of any numeric dtype and shape.  These functions turn such a value
into what a judge may trust (float64 arrays of the expected shape, a float),
or say what it is instead: either None plus a phrase for the feedback (the
check judges it as a wrong answer) or `StudentValueError` (the student's
`bad-output`).  No judge may meet a value these functions have not seen.
The parameter container's description (keys, shapes, dtypes) is validated
here too (`parameter_description`), for the parameter checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..probe import describe_value
from .contract import StudentValueError

#: dtype kinds a number may come in: bool, signed and unsigned integers, floats
NUMBER_KINDS = "biuf"


def number_array(value: Any) -> np.ndarray | None:
    """`value` as a float64 array when it is an array (or a rectangular list)
    of real numbers, None otherwise (strings, ragged lists, objects, dicts)."""
    if isinstance(value, np.ndarray):
        return value.astype(np.float64) if value.dtype.kind in NUMBER_KINDS else None
    if isinstance(value, (list, tuple, int, float)) and not isinstance(value, bool):
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError):   # ragged
            return None
        return arr.astype(np.float64) if arr.dtype.kind in NUMBER_KINDS else None
    return None


def loss_value(value: Any) -> float | None:
    """The student's loss as a float (NaN and infinity kept: judged as not
    finite), or None when it is not one number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dict) and "__obj__" in value:   # an object NumPy can read (a 0-d tensor): its array view
        value = value.get("array")
    arr = number_array(value) if isinstance(value, np.ndarray) else None
    if arr is not None and arr.size == 1:
        return float(arr.reshape(-1)[0])
    return None


def describe(value: Any) -> str:
    """A short phrase for a value that is not what was asked (feedback)."""
    return describe_value(value)


def numbers(value: Any, what: str, *, booleans: bool = True) -> np.ndarray:
    """`value` as a float64 array of real numbers (`number_array`), or the
    student's bad-output naming `what`.  `booleans=False` refuses a bool
    array too (True/False is no parameter iterate)."""
    arr = None if not booleans and isinstance(value, np.ndarray) and value.dtype.kind == "b" else number_array(value)
    if arr is None:
        raise StudentValueError(f"{what} is not an array of numbers", value)
    return arr


def canonical_parameters(raw: Any, layout: Any, what: str = "self.theta") -> dict[str, np.ndarray]:
    """The student's parameter container (as the worker sent it) in canonical
    keys and layout (`grader.adapter.Layout`), each block a float64 array of
    its canonical shape; StudentValueError when it is not a dict, a block is
    missing, or a block is not an array of that shape."""
    if not isinstance(raw, dict) or "__obj__" in raw:   # an object arrives as its description
        raise StudentValueError(f"{what} is not a dict of arrays", raw)
    out = {}
    for key, block in layout.blocks.items():
        if block.student_key not in raw:
            raise StudentValueError(f"{what} has no entry {block.student_key!r}", None)
        arr = block.to_canonical(numbers(raw[block.student_key], f"{what}: {block.student_key}"))
        if arr.shape != tuple(block.canonical_shape):   # converted once: to_canonical keeps float64
            raise StudentValueError(f"parameter {key} has shape {arr.shape}, expected {tuple(block.canonical_shape)}", arr)
        out[key] = arr
    return out


def depth_problems(rubric: Any, hidden: list[int] | None, field: str = "hidden") -> list[str]:
    """A probe network must be as deep as the rubric's architecture: a
    2-hidden-layer assignment probed with a 1-hidden-layer net (a default
    copied from a 1-layer rubric) would vouch for blocks it never saw.
    `hidden` None: the check uses the architecture's own sizes.  The one
    wording of this rule for every check."""
    if hidden is None or rubric.assignment is None:
        return []
    arch = list(rubric.assignment.architecture.hidden)
    if len(hidden) == len(arch):
        return []
    first = hidden[0] if hidden else arch[0]
    example = [max(first - i, 2) for i in range(len(arch))]   # as deep, sizes still distinct
    return [f"{field} {list(hidden)} has {len(hidden)} hidden layer(s), the architecture {len(arch)} "
            f"({arch}): give probe sizes as deep as the architecture, e.g. {field}: {example}"]
    arch = list(rubric.assignment.architecture.hidden)
    if len(hidden) != len(arch):
        return [f"{field} {list(hidden)} has {len(hidden)} hidden layer(s), the architecture {len(arch)} "
                f"({arch}): give probe sizes as deep as the architecture, e.g. {field}: {arch}"]
    return []


@dataclass(frozen=True)
class Entry:
    """One entry of the student's parameter container, as described by the
    worker: its shape (None: not an array) and its dtype name."""

    shape: tuple[int, ...] | None
    size: int
    dtype: str


@dataclass(frozen=True)
class ParameterDescription:
    """The student's parameter container without its values: the type of
    container ("dict" for any Mapping) and its entries by the student's keys."""

    container: str
    entries: dict[str, Entry]

    @property
    def is_mapping(self) -> bool:
        return self.container == "dict"


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise StudentValueError(f"{what} is not a size", value)
    return value


def parameter_description(reply: Any) -> ParameterDescription:
    """The worker's `describe` reply, validated (it was built in the student's process)."""
    if not isinstance(reply, dict) or not isinstance(reply.get("type"), str) \
            or not isinstance(reply.get("entries"), dict):
        raise StudentValueError("the description of your parameters is malformed", reply)
    entries = {}
    for key, entry in reply["entries"].items():
        if not isinstance(entry, dict):
            raise StudentValueError(f"the description of parameter {key!r} is malformed", entry)
        shape = entry.get("shape")
        if shape is not None:
            if not isinstance(shape, list):
                raise StudentValueError(f"the shape of parameter {key!r} is malformed", shape)
            shape = tuple(_int(n, f"a dimension of {key!r}") for n in shape)
        entries[str(key)] = Entry(shape, _int(entry.get("size", 0), f"the size of {key!r}"), str(entry.get("dtype")))
    return ParameterDescription(reply["type"], entries)
