"""Check kinds a rubric criterion can name, plugin style.

Each entry is a module ending in a declaration ``CHECK = Check(...)`` (the
contract: ``contract.Check``), validated when the module is first looked
up.  Adding a kind of check is adding a module and a line here.

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

from .contract import Check, ContractError

#: the check kinds, each the name of a module in this package
CHECKS: tuple[str, ...] = ("param_shapes", "param_count", "init", "forward", "loss", "gradient", "gd_step",
                           "nag_step", "training", "answers")


class LazyRegistry(Mapping[str, Check]):
    """A read-only mapping of check names to their declarations (`CHECK` of
    the submodule of `package` of the same name), each imported and
    validated on first access, then cached."""

    def __init__(self, package: str, names: tuple[str, ...]) -> None:
        self._package = package
        self._names: dict[str, Check | None] = dict.fromkeys(names)   # ordered, O(1) membership

    def __getitem__(self, name: str) -> Check:
        if name not in self._names:
            raise KeyError(name)
        check = self._names[name]
        if check is None:
            check = self._names[name] = declaration(importlib.import_module(f"{self._package}.{name}"), name)
        return check

    def install(self, name: str, check: Check) -> Check:
        """Put `check` in place of `name`'s declaration and return the one it
        replaces: how tools and tests wrap a check (timing, faults) without
        touching frozen declarations.  Restore with `install(name, previous)`."""
        previous = self[name]
        if check.name != name:
            raise ContractError(f"a declaration named {check.name!r} cannot stand in for {name!r}")
        self._names[name] = check
        return previous

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return f"LazyRegistry({list(self._names)})"


def declaration(module: ModuleType, name: str) -> Check:
    """The module's `CHECK`, which must be a `Check` of the same name."""
    check = getattr(module, "CHECK", None)
    if not isinstance(check, Check):
        raise ContractError(f"check module {module.__name__} declares no CHECK = Check(...)")
    if check.name != name:
        raise ContractError(f"check module {module.__name__} declares the name {check.name!r}, not {name!r}")
    return check


REGISTRY: Mapping[str, Check] = LazyRegistry(__name__, CHECKS)
