"""A rubric's YAML is parsed once (node tree and data from one parse), and
reads exactly as `yaml.compose` followed by `yaml.safe_load` did: the same
data, the same line numbers, the same errors."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.rubric import BUNDLED, RubricError, _compose_and_construct, parse_rubric

# YAML's punctuation, indentation, tabs, tags, anchors, block scalars, documents
PIECES = st.sampled_from(["a", "b1", ": ", ":", "-", "- ", "  ", "\t", "\n", "[", "]", "{", "}", ",", "#", "'", '"',
                          "!", "!!str ", "&x ", "*x", "|", ">", "?", "---", "...", "~", "null", "1e3", "0x1F",
                          "\u00e9", "\ufeff", "\x85", "\x07"])


def two_parses(text: str) -> tuple[str, object]:
    """What parse_rubric did before: compose, then safe_load (two parses)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        return repr(node), yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return "error", str(exc)


def one_parse(text: str) -> tuple[str, object]:
    try:
        node, data = _compose_and_construct(text)
        return repr(node), data
    except yaml.YAMLError as exc:
        return "error", str(exc)


@settings(max_examples=400, deadline=None)
@given(st.lists(PIECES, max_size=16).map("".join))
def test_one_parse_reads_like_compose_then_safe_load(text):
    assert repr(one_parse(text)) == repr(two_parses(text))


def test_the_bundled_rubrics_read_the_same():
    for path in sorted(BUNDLED.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert repr(one_parse(text)) == repr(two_parses(text)), path.name


def test_a_construction_error_is_refused_with_its_line():
    text = "id: x\ntitle: !!python/name:os.system x\n"   # a tag the safe loader refuses
    try:
        parse_rubric(text, "r.yaml")
    except RubricError as exc:
        assert str(exc).startswith("r.yaml:2: not valid YAML"), exc
    else:
        raise AssertionError("an unsafe tag was accepted")
