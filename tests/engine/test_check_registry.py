"""The check registry imports a check's module only when it is looked up."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from grader.checks import CHECKS, REGISTRY, LazyRegistry


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A throwaway package `lazyreg_pkg` with modules `one` and `two`."""
    root = tmp_path / "lazyreg_pkg"
    root.mkdir()
    (root / "__init__.py").write_text("")
    for name in ("one", "two"):
        (root / f"{name}.py").write_text(f"NAME = {name!r}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "lazyreg_pkg"
    for name in [m for m in sys.modules if m == "lazyreg_pkg" or m.startswith("lazyreg_pkg.")]:
        del sys.modules[name]


def test_membership_iteration_and_length_import_nothing(package):
    registry = LazyRegistry(package, ("two", "one"))
    assert "one" in registry and "three" not in registry
    assert list(registry) == ["two", "one"] and len(registry) == 2   # the declared order
    assert f"{package}.one" not in sys.modules and f"{package}.two" not in sys.modules


def test_lookup_imports_that_module_only(package):
    registry = LazyRegistry(package, ("one", "two"))
    assert registry["one"].NAME == "one"
    assert f"{package}.one" in sys.modules and f"{package}.two" not in sys.modules
    assert registry["one"] is sys.modules[f"{package}.one"]   # imported once
    assert registry.get("two").NAME == "two"


def test_an_unknown_check_is_a_key_error_and_imports_nothing(package):
    registry = LazyRegistry(package, ("one",))
    with pytest.raises(KeyError, match="three"):
        registry["three"]
    assert registry.get("three") is None
    assert [m for m in sys.modules if m.startswith(f"{package}.")] == []


def test_every_check_is_a_module_with_params_observe_and_judge():
    assert list(REGISTRY) == list(CHECKS)
    for name, module in REGISTRY.items():
        assert module.__name__ == f"grader.checks.{name}"
        for attribute in ("Params", "observe", "judge"):
            assert callable(getattr(module, attribute)), f"{name}.{attribute}"
