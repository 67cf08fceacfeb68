"""The check registry imports a check's module only when it is looked up,
and a declaration that breaks the contract is refused at registration."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

from grader.checks import CHECKS, REGISTRY, LazyRegistry
from grader.checks.base import CheckParams
from grader.checks.contract import Check, ContractError
from grader.mistakes import MISTAKES
from grader.operations import OPERATIONS

MODULE = '''
from dataclasses import dataclass
from grader.checks.base import CheckParams, passed
from grader.checks.contract import Check

class Params(CheckParams):
    pass

@dataclass
class Observation:
    value: int

def observe(ctx, probe, params):
    return Observation(1)

def judge(ctx, obs, params):
    return passed("ok")

NAME = {name!r}
CHECK = Check(name={declared!r}, summary="s", Params=Params, Observation=Observation, operations=("loss",),
              observe=observe, judge=judge, reference=False)
'''


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A throwaway package `lazyreg_pkg` with checks `one` and `two` and a
    module `liar` whose declaration names another check."""
    root = tmp_path / "lazyreg_pkg"
    root.mkdir()
    (root / "__init__.py").write_text("")
    for name, declared in (("one", "one"), ("two", "two"), ("liar", "one")):
        (root / f"{name}.py").write_text(MODULE.format(name=name, declared=declared))
    (root / "bare.py").write_text("NAME = 'bare'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "lazyreg_pkg"
    for name in [m for m in sys.modules if m == "lazyreg_pkg" or m.startswith("lazyreg_pkg.")]:
        del sys.modules[name]


def test_membership_iteration_and_length_import_nothing(package):
    registry = LazyRegistry(package, ("two", "one"))
    assert "one" in registry and "three" not in registry
    assert list(registry) == ["two", "one"] and len(registry) == 2   # the declared order
    assert f"{package}.one" not in sys.modules and f"{package}.two" not in sys.modules


def test_lookup_imports_that_module_only_and_gives_its_declaration(package):
    registry = LazyRegistry(package, ("one", "two"))
    check = registry["one"]
    assert isinstance(check, Check) and check.name == "one"
    assert check is sys.modules[f"{package}.one"].CHECK
    assert f"{package}.two" not in sys.modules
    assert registry["one"] is check   # looked up once


def test_a_module_without_a_declaration_or_with_another_name_is_refused(package):
    with pytest.raises(ContractError, match="declares no CHECK"):
        LazyRegistry(package, ("bare",))["bare"]
    with pytest.raises(ContractError, match="declares the name 'one', not 'liar'"):
        LazyRegistry(package, ("liar",))["liar"]


def test_an_unknown_check_is_a_key_error_and_imports_nothing(package):
    registry = LazyRegistry(package, ("one",))
    with pytest.raises(KeyError, match="three"):
        registry["three"]
    assert registry.get("three") is None
    assert [m for m in sys.modules if m.startswith(f"{package}.")] == []


def test_every_bundled_check_is_declared_and_its_declaration_holds():
    assert list(REGISTRY) == list(CHECKS)
    for name, check in REGISTRY.items():
        assert isinstance(check, Check) and check.name == name
        assert set(check.operations) <= set(OPERATIONS)
        assert set(check.mistakes) <= set(MISTAKES)
        if check.reference and check.public:
            assert check.prefetch is not None, name


# -- the contract refuses what does not hold together ------------------------------------

class _Params(CheckParams):
    pass


@dataclasses.dataclass
class _Obs:
    x: int


def _observe(ctx, probe, params):
    return _Obs(1)


def _judge(ctx, obs, params):
    return None


GOOD = dict(name="demo", summary="s", Params=_Params, Observation=_Obs, operations=("loss",),
            observe=_observe, judge=_judge, reference=False)


def test_a_good_declaration_is_accepted():
    assert Check(**GOOD).declares("timeout") and not Check(**GOOD).declares("sum-not-mean")
    assert Check(**{**GOOD, "mistakes": ("sum-not-mean",)}).declares("sum-not-mean")


@pytest.mark.parametrize("change, message", [
    ({"Params": dict}, "Params must be a subclass of CheckParams"),
    ({"Observation": dict}, "Observation must be a dataclass"),
    ({"operations": ("loss", "teleport")}, "unknown operations \\['teleport'\\]"),
    ({"mistakes": ("no-such-mistake",)}, "have no record"),
    ({"observe": lambda ctx, probe: None}, "observe takes 2 positional arguments"),
    ({"judge": lambda ctx, obs, params, extra: None}, "judge takes 4"),
    ({"reference": True}, "must declare prefetch"),
    ({"validate": lambda rubric: []}, "validate takes 1"),
    ({"audit": lambda rubric, crit: []}, "audit takes 2"),
])
def test_a_broken_declaration_is_refused(change, message):
    with pytest.raises(ContractError, match=message):
        Check(**{**GOOD, **change})


def test_a_wrapper_taking_positional_varargs_is_accepted():
    """A timing probe (benchmarks/bench.py) wraps observe and judge as
    (ctx, *args): the contract still gives them their arguments."""
    def timed(ctx, *args, **kwargs):
        return None
    assert Check(**{**GOOD, "observe": timed, "judge": timed}).observe is timed
    with pytest.raises(ContractError, match="observe takes 4"):
        Check(**{**GOOD, "observe": lambda a, b, c, d, *rest: None})


def test_the_schema_and_the_checks_import_one_way():
    """rubric (loading) -> checks -> schema: the schema never imports a
    check, the checks never import the loader (no cycle to break by moving
    an import)."""
    import subprocess

    code = ("import sys, grader.schema; a = 'grader.checks' in sys.modules; "
            "import grader.checks.param_shapes, grader.checks.gradient; b = 'grader.rubric' in sys.modules; "
            "print(a, b)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_a_hidden_only_check_may_ask_the_reference_without_prefetch():
    """(A public criterion of such a check is refused when the rubric loads:
    tests/engine/test_judge_training.py::test_public_training_criterion_is_refused.)"""
    assert Check(**{**GOOD, "reference": True, "public": False}).prefetch is None
    with pytest.raises(ContractError, match="or public=False"):
        Check(**{**GOOD, "reference": True, "public": True})


def test_install_swaps_a_declaration_and_gives_back_the_previous(package):
    registry = LazyRegistry(package, ("one", "two"))
    one = registry["one"]
    changed = dataclasses.replace(one, summary="timed")
    assert registry.install("one", changed) is one and registry["one"] is changed
    with pytest.raises(ContractError, match="cannot stand in"):
        registry.install("two", changed)
    registry.install("one", one)
    assert registry["one"] is one


def test_the_interface_s_method_roles_are_the_operations_roles():
    """One list: a rubric may rename exactly the methods grader/operations.py
    carries out through a method of their own."""
    from grader.operations import METHOD_ROLES
    from grader.rubric import RubricError, find_rubric, parse_rubric

    text = find_rubric("penguins-silu").read_text()
    renamed = parse_rubric(text.replace("  class_name: NN\n", "  class_name: NN\n  methods: {back_propagate: backward}\n"))
    assert renamed.interface.method("back_propagate") == "backward"
    assert set(renamed.interface.methods) == set(METHOD_ROLES) and "back_propagate" in METHOD_ROLES
    with pytest.raises(RubricError, match="unknown method role.*teleport.*the roles are"):
        parse_rubric(text.replace("  class_name: NN\n", "  class_name: NN\n  methods: {teleport: guess}\n"))


def test_the_missing_method_message_names_what_the_criterion_calls_in_the_rubric_s_spelling():
    from grader.operations import describe_needs
    from grader.rubric import find_rubric, parse_rubric

    text = find_rubric("penguins-silu").read_text()
    renamed = parse_rubric(text.replace("  class_name: NN\n", "  class_name: NN\n  methods: {back_propagate: backward}\n"))
    needs = describe_needs(REGISTRY["gradient"].operations, renamed.interface)
    assert needs == "class NN with backward(), loss() and self.theta"   # init_params is the constructor's call
