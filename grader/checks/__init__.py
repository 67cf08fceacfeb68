"""Check kinds a rubric criterion can name, plugin style.

Each entry is a module with ``Params``, ``observe`` and ``judge`` (see
``base``).  Adding a kind of check is adding a module and a line here.

The registry maps names to module *names* and imports a module the first
time its check is looked up: `nngrade check` on a network rubric never pays
for the written-answers machinery (``answers`` and ``grader.answers``:
parsers, formula evaluation), and validating a rubric imports only the
checks it names.  Membership and iteration need no import.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from types import ModuleType

#: the check kinds, each the name of a module in this package
CHECKS: tuple[str, ...] = ("param_shapes", "param_count", "init", "forward", "loss", "gradient", "gd_step",
                           "nag_step", "training", "answers")


class LazyRegistry(Mapping[str, ModuleType]):
    """A read-only mapping of check names to their modules (submodules of
    `package` of the same name), each imported on first access and then
    cached by `sys.modules`."""

    def __init__(self, package: str, names: tuple[str, ...]) -> None:
        self._package = package
        self._names = dict.fromkeys(names)   # ordered, O(1) membership

    def __getitem__(self, name: str) -> ModuleType:
        if name not in self._names:
            raise KeyError(name)
        return importlib.import_module(f"{self._package}.{name}")

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return f"LazyRegistry({list(self._names)})"


REGISTRY: Mapping[str, ModuleType] = LazyRegistry(__name__, CHECKS)
