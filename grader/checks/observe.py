"""Validating what the student's code returned into typed observations.

Everything a worker sends is the student's: a forged or odd value must be
refused here, naming it, as `StudentValueError` (the criterion's
`bad-output`).  After these functions a check may trust the types it holds;
an exception later is the grader's own failure (`grader-error`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .contract import StudentValueError


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
