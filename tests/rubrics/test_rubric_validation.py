"""Every kind of bad rubric is refused up front, with the file, the line and
the field, so a mistake is found before 400 submissions are graded with it.

Messages have the form ``<file>:<line>: <field.path>: <what is wrong>``; the
tests build a valid rubric text, break one thing, and check all three parts.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.rubric import RubricError, Rubric, find_rubric, load_rubric, parse_rubric

FILE = "course/bad-rubric.yaml"

# A complete, valid rubric in block style (one key per line), 60 points.
BASE = """\
id: test-rubric
title: Test rubric
seed: 7
total_points: 60
assignment:
  architecture:
    inputs: 4
    hidden: [8]
    outputs: 3
    activation: silu
  loss: cross_entropy
  regularization:
    l2:
      W0: 0.01
  init:
    std: 0.05
  data:
    name: penguins
interface:
  class_name: NN
criteria:
  - id: shapes
    title: Parameter shapes
    points: 10
    check: param_shapes
    params:
      hidden: [[8], [5]]
  - id: forward
    title: Forward pass
    points: 20
    check: forward
  - id: grad-W0
    title: Gradient of W0
    points: 15
    check: gradient
    params:
      block: W0
  - id: gd
    title: GD step
    points: 15
    visibility: hidden
    check: gd_step
"""


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the `occurrence`-th line containing `needle`."""
    hits = [i + 1 for i, line in enumerate(text.splitlines()) if needle in line]
    assert len(hits) >= occurrence, f"{needle!r} not in the test rubric"
    return hits[occurrence - 1]


def refused(text: str, filename: str = FILE) -> str:
    with pytest.raises(RubricError) as info:
        parse_rubric(text, filename)
    return str(info.value)


def assert_located(message: str, line: int | set[int], field: str, filename: str = FILE) -> None:
    """The message names the file, the line and the field (in one entry; the
    field path may go deeper, e.g. hidden.0 for an entry of hidden)."""
    lines = {line} if isinstance(line, int) else line
    pattern = re.compile(rf"^{re.escape(filename)}:({'|'.join(map(str, lines))}): {re.escape(field)}(\.\S+)?: \S")
    assert any(pattern.match(entry) for entry in message.splitlines()), (
        f"expected '{filename}:{sorted(lines)}: {field}: ...' in:\n{message}")


def edit(old: str, new: str, text: str = BASE) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_the_base_rubric_is_valid():
    rubric = parse_rubric(BASE, FILE)
    assert [c.id for c in rubric.criteria] == ["shapes", "forward", "grad-W0", "gd"]
    assert rubric.total_points == 60


# -- unknown keys ------------------------------------------------------------------


@pytest.mark.parametrize("old,new,needle,field", [
    ("seed: 7\n", "seed: 7\ncolour: red\n", "colour:", "colour"),                                  # top level
    ("  loss: cross_entropy\n", "  loss: cross_entropy\n  losss: 1\n", "losss:", "assignment.losss"),  # nested
    ("    activation: silu\n", "    activation: silu\n    dropout: 0.5\n", "dropout:",
     "assignment.architecture.dropout"),                                                          # deeper
    ("    points: 20\n", "    points: 20\n    weight: 2\n", "weight:", "criteria.1.weight"),    # in a criterion
    ("      block: W0\n", "      block: W0\n      blok: W1\n", "blok:", "criteria.2.params.blok"),  # in params
    ("    check: forward\n", "    check: forward\n    params:\n      hiden: [6]\n", "hiden:",
     "criteria.1.params.hiden"),                                                                  # params typo
])
def test_unknown_key(old, new, needle, field):
    text = edit(old, new)
    message = refused(text)
    assert_located(message, line_of(text, needle), field)
    assert "unknown field" in message


# -- wrong types and values ----------------------------------------------------------


@pytest.mark.parametrize("old,new,needle,field", [
    ("seed: 7\n", "seed: many\n", "seed:", "seed"),
    ("total_points: 60\n", "total_points: [60]\n", "total_points:", "total_points"),
    ("    hidden: [8]\n", "    hidden: 8\n", "hidden: 8", "assignment.architecture.hidden"),
    ("    hidden: [8]\n", "    hidden: [8, -2]\n", "hidden: [8, -2]", "assignment.architecture.hidden"),
    ("    activation: silu\n", "    activation: swish\n", "activation:", "assignment.architecture.activation"),
    ("  loss: cross_entropy\n", "  loss: hinge\n", "loss: hinge", "assignment.loss"),
    ("    std: 0.05\n", "    std: -1\n", "std:", "assignment.init.std"),
    ("    points: 20\n", "    points: lots\n", "points: lots", "criteria.1.points"),
    ("    points: 20\n", "    points: 0\n", "points: 0", "criteria.1.points"),
    ("  - id: forward\n", "  - id: for ward\n", "id: for ward", "criteria.1.id"),
    ("    title: Forward pass\n", "    title: [Forward]\n", "title: [Forward]", "criteria.1.title"),
    ("      block: W0\n", "      block: [W0]\n", "block: [W0]", "criteria.2.params.block"),
    ("      hidden: [[8], [5]]\n", "      hidden: [8, 5]\n", "hidden: [8, 5]", "criteria.0.params.hidden"),
])
def test_wrong_type_or_value(old, new, needle, field):
    text = edit(old, new)
    assert_located(refused(text), line_of(text, needle), field)


def test_visibility_must_be_public_or_hidden():
    text = edit("    visibility: hidden\n", "    visibility: secret\n")
    message = refused(text)
    assert_located(message, line_of(text, "visibility:"), "criteria.3.visibility")
    assert "public" in message and "hidden" in message


# -- missing fields ------------------------------------------------------------------


def test_missing_top_level_field():
    text = edit("title: Test rubric\n", "")
    assert_located(refused(text), 1, "title")
    assert "missing" in refused(text)


def test_missing_field_in_a_criterion():
    text = edit("    check: forward\n", "")
    message = refused(text)
    # no line holds the missing key: the criterion's own line is named
    assert_located(message, line_of(text, "- id: forward"), "criteria.1.check")
    assert "missing" in message


def test_missing_check_parameter():
    text = edit("    params:\n      block: W0\n", "")
    assert_located(refused(text), line_of(text, "- id: grad-W0"), "criteria.2.params.block")


def test_missing_nested_field():
    text = edit("    outputs: 3\n", "")
    assert_located(refused(text), line_of(text, "architecture:"), "assignment.architecture.outputs")


def test_several_mistakes_are_all_reported():
    text = edit("seed: 7\n", "seed: many\ncolour: red\n")
    message = refused(text)
    assert_located(message, line_of(text, "seed:"), "seed")
    assert_located(message, line_of(text, "colour:"), "colour")


# -- consistency of the whole rubric ---------------------------------------------------


def test_points_that_do_not_add_up_are_refused():
    text = edit("    points: 20\n", "    points: 25\n")
    message = refused(text)
    assert FILE in message
    assert "65" in message and "60" in message


def test_points_that_do_not_add_up_name_total_points():
    text = edit("    points: 20\n", "    points: 25\n")
    assert_located(refused(text), line_of(text, "total_points:"), "total_points")


def test_unknown_check_is_refused():
    text = edit("    check: forward\n", "    check: forwards\n")
    message = refused(text)
    assert FILE in message and "forwards" in message
    assert "gradient" in message, "the known checks are listed"


def test_unknown_check_names_its_line():
    text = edit("    check: forward\n", "    check: forwards\n")
    assert_located(refused(text), line_of(text, "check: forwards"), "criteria.1.check")


def test_duplicate_criterion_id_is_refused():
    text = edit("  - id: gd\n", "  - id: forward\n")
    message = refused(text)
    assert FILE in message and "forward" in message and "unique" in message


def test_duplicate_criterion_id_names_the_second_one():
    text = edit("  - id: gd\n", "  - id: forward\n")
    assert_located(refused(text), line_of(text, "- id: forward", occurrence=2), "criteria.3.id")


def test_regularization_of_a_missing_weight_matrix_is_refused():
    text = edit("      W0: 0.01\n", "      W0: 0.01\n      W1: 0.01\n      W2: 0.01\n")
    message = refused(text)
    assert FILE in message and "W2" in message
    assert "W1" not in re.findall(r"names ([^,]*),", message), "W1 exists in a one-hidden-layer network"


def test_regularization_of_a_missing_weight_matrix_names_its_line():
    text = edit("      W0: 0.01\n", "      W0: 0.01\n      W2: 0.01\n")
    assert_located(refused(text), line_of(text, "W2: 0.01"), "assignment.regularization.l2.W2")


def test_regularization_of_existing_weight_matrices_is_accepted():
    text = edit("    hidden: [8]\n", "    hidden: [8, 6]\n")
    text = edit("      W0: 0.01\n", "      W0: 0.01\n      W2: 0.02\n", text)
    # probe networks as deep as the architecture (each check's validate refuses shallower ones)
    text = edit("      hidden: [[8], [5]]\n", "      hidden: [[8, 6], [5, 4]]\n", text)
    for check in ("forward", "gradient", "gd_step"):
        text = text.replace(f"    check: {check}\n", f"    check: {check}\n    params: {{hidden: [8, 6]}}\n", 1)
    text = text.replace("    params: {hidden: [8, 6]}\n    params:\n", "    params:\n      hidden: [8, 6]\n")
    rubric = parse_rubric(text, FILE)
    assert rubric.assignment.regularization.l2 == {"W0": 0.01, "W2": 0.02}


def test_synthetic_data_needs_its_sizes():
    text = edit("    name: penguins\n", "    name: synthetic\n")
    message = refused(text)
    assert FILE in message and "n_train" in message


# -- not a rubric at all ---------------------------------------------------------------


def test_invalid_yaml_names_file_and_line():
    text = edit("    title: Forward pass\n", "    title: [Forward pass\n")
    message = refused(text)
    bad = line_of(text, "[Forward pass")
    assert re.match(rf"{re.escape(FILE)}:(\d+): not valid YAML", message), message
    assert int(message.split(":")[1]) in (bad, bad + 1)


def test_tabs_are_invalid_yaml():
    text = edit("    points: 20\n", "\tpoints: 20\n")
    assert refused(text).startswith(f"{FILE}:{line_of(text, 'points: 20')}: not valid YAML")


@pytest.mark.parametrize("text", ["- id: a\n- id: b\n", "just a sentence\n", "", "42\n", "---\n...\n"])
def test_a_document_that_is_not_a_mapping(text):
    message = refused(text)
    assert message.startswith(f"{FILE}:1:")
    assert "mapping" in message


def test_missing_rubric_file(tmp_path: Path):
    path = tmp_path / "nope.yaml"
    with pytest.raises(RubricError, match=re.escape(str(path))):
        load_rubric(path)
    with pytest.raises(RubricError, match="not found"):
        find_rubric(str(path))


def test_unknown_rubric_id_lists_the_bundled_ones():
    with pytest.raises(RubricError) as info:
        load_rubric("no-such-rubric")
    message = str(info.value)
    assert "no-such-rubric" in message
    assert "penguins-silu" in message and "cifar-mlp" in message


def test_a_rubric_file_on_disk_is_reported_by_its_path(tmp_path: Path):
    path = tmp_path / "mine.yaml"
    path.write_text(edit("seed: 7\n", "seed: many\n"), encoding="utf-8")
    with pytest.raises(RubricError) as info:
        load_rubric(path)
    assert str(info.value).startswith(f"{path}:{line_of(path.read_text(), 'seed:')}: seed:")


# -- properties --------------------------------------------------------------------------

BASE_DATA = yaml.safe_load(BASE)
KNOWN_TOP = set(Rubric.model_fields)


def dump(data: dict) -> str:
    return yaml.safe_dump(data, sort_keys=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.permutations(range(len(BASE_DATA["criteria"]))))
def test_any_order_of_the_criteria_is_accepted(order):
    data = dict(BASE_DATA, criteria=[BASE_DATA["criteria"][i] for i in order])
    rubric = parse_rubric(dump(data), FILE)
    assert [c.id for c in rubric.criteria] == [BASE_DATA["criteria"][i]["id"] for i in order]


@settings(max_examples=40, deadline=None)
@given(st.sets(st.integers(0, len(BASE_DATA["criteria"]) - 1), min_size=1,
               max_size=len(BASE_DATA["criteria"]) - 1))
def test_dropping_criteria_breaks_the_total(dropped):
    kept = [c for i, c in enumerate(BASE_DATA["criteria"]) if i not in dropped]
    data = dict(BASE_DATA, criteria=kept)
    with pytest.raises(RubricError) as info:
        parse_rubric(dump(data), FILE)
    message = str(info.value)
    assert FILE in message
    assert f"add up to {sum(c['points'] for c in kept):g}" in message
    # ... and fixing total_points makes the same rubric valid again
    data["total_points"] = sum(c["points"] for c in kept)
    assert [c.id for c in parse_rubric(dump(data), FILE).criteria] == [c["id"] for c in kept]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.5, 50, allow_nan=False).map(lambda x: round(x, 1)), min_size=1, max_size=6),
       st.floats(0.1, 5).map(lambda x: round(x, 1)))
def test_points_must_add_up_exactly(points, excess):
    criteria = [{"id": f"c{i}", "title": f"C{i}", "points": p, "check": "forward"} for i, p in enumerate(points)]
    total = round(sum(points), 6)
    ok = dict(BASE_DATA, criteria=criteria, total_points=total)
    assert parse_rubric(dump(ok), FILE).total_points == pytest.approx(total)
    bad = dict(ok, total_points=round(total + excess, 6))
    with pytest.raises(RubricError):
        parse_rubric(dump(bad), FILE)


@settings(max_examples=40, deadline=None)
@given(st.from_regex(r"[a-z][a-z_]{2,12}", fullmatch=True).filter(lambda k: k not in KNOWN_TOP),
       st.integers(0, len(BASE_DATA)))
def test_an_unknown_top_level_key_is_named_wherever_it_is(key, position):
    items = list(BASE_DATA.items())
    items.insert(position, (key, 1))
    text = dump(dict(items))
    assert_located(refused(text), line_of(text, f"{key}: 1"), key)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, len(BASE_DATA["criteria"]) - 1),
       st.from_regex(r"[a-z][a-z_]{2,12}", fullmatch=True).filter(lambda k: k not in {
           "id", "title", "points", "visibility", "check", "params", "hint"}))
def test_an_unknown_criterion_key_is_named(index, key):
    criteria = [dict(c) for c in BASE_DATA["criteria"]]
    criteria[index][key] = "x"
    text = dump(dict(BASE_DATA, criteria=criteria))
    assert_located(refused(text), line_of(text, f"{key}: x"), f"criteria.{index}.{key}")
