"""The answers parser: every accepted form reads back the same value, anything
else is refused with a message, and student text is never executed."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.answers.parse import (
    MAX_FILE_BYTES, AnswerFormatError, load_answers_bytes, load_answers_text, parse_array, parse_formula,
    parse_integer, parse_number, parse_shape,
)

FAST = settings(max_examples=60, deadline=None)


def grouped(n: int, sep: str) -> str:
    return f"{n:,}".replace(",", sep)


# -- numbers ------------------------------------------------------------------------

@FAST
@given(st.integers(min_value=0, max_value=10 ** 12), st.sampled_from([",", " ", "_", "\u202f", "\u00a0"]))
def test_thousands_separators_read_back(n, sep):
    assert parse_number(grouped(n, sep)) == n
    assert parse_number(str(n)) == n
    assert parse_number(n) == n
    assert parse_integer(f"-{grouped(n, sep)}") == -n


@pytest.mark.parametrize("text", ["1,707,274", "1 707 274", "1707274", "1_707_274", "N = 1,707,274",
                                  "3072*512 + 512 + 512*256 + 256 + 256*10 + 10"])
def test_the_cifar_count_in_every_form(text):
    assert parse_integer(text) == 1_707_274


@FAST
@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))
def test_floats_read_back(x):
    assert float(parse_number(repr(x))) == x
    assert float(parse_number(x)) == x


@pytest.mark.parametrize("text", ["1.707.274", "1,70,7274", "12,34", "one million", "1e", "", "0x10", "__import__('os')",
                                  "1 707 27"])
def test_bad_numbers_are_refused_with_the_accepted_forms(text):
    with pytest.raises(AnswerFormatError) as info:
        parse_number(text)
    assert "12,345" in str(info.value) or "empty" in str(info.value)   # a neutral example, never a bundled answer


def test_non_integers_are_refused_where_an_integer_is_asked():
    with pytest.raises(AnswerFormatError, match="not a whole number"):
        parse_integer("4.91")


# -- formulas -----------------------------------------------------------------------

@pytest.mark.parametrize("text", ["8*N_H + 3", "8 N_H + 3", "8N_H+3", "f(N_H) = 8 N_H + 3", "3 + 8*NH",
                                  "4N_H + N_H + 3N_H + 3", "(4)(N_H) + N_H + (3)(N_H) + 3", "8 × N_H + 3",
                                  "8·N_{H} + 3", "2^3 N_H + 3", "2**3*n_h + 3", "(16 N_H + 6) / 2"])
def test_equivalent_formulas(text):
    f = parse_formula(text)
    assert [f({"N_H": Fraction(n)}) for n in (1, 5, 16, 100)] == [11, 43, 131, 803]


@FAST
@given(st.integers(-50, 50), st.integers(-1000, 1000), st.integers(1, 500), st.sampled_from(["*", " ", ""]))
def test_affine_formulas_evaluate_exactly(a, b, n, times):
    text = f"{a}{times}N_H + {b}" if a >= 0 else f"({a}){times}N_H + {b}"
    assert parse_formula(text)({"N_H": Fraction(n)}) == a * n + b


@pytest.mark.parametrize("text", ["__import__('os').system('echo hi')", "N_H.__class__", "open('x')",
                                  "lambda: 1", "[x for x in ()]", "8 N_H +", "8 ** 99 ** 99", "9^9^9",
                                  "eight N_H", "x + 1", "1/0", "((((1", ")"])
def test_hostile_or_broken_formulas_are_refused_not_run(text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AnswerFormatError):
        parse_formula(text)({"N_H": Fraction(3)})
    assert not list(tmp_path.iterdir())


def test_deep_nesting_is_refused():
    with pytest.raises(AnswerFormatError):
        parse_formula("(" * 500 + "1" + ")" * 500)({})


# -- shapes -------------------------------------------------------------------------

@FAST
@given(st.integers(1, 5000), st.integers(1, 5000),
       st.sampled_from(["{a}x{b}", "{a} x {b}", "{a} × {b}", "({a}, {b})", "[{a}, {b}]", "{a}X{b}", "{a} by {b}"]))
def test_shapes_in_every_form(a, b, form):
    dims = parse_shape(form.format(a=a, b=b))
    assert [d({}) for d in dims] == [a, b]
    assert [d({}) for d in parse_shape([a, b])] == [a, b]


@pytest.mark.parametrize("text", ["N_H x 4", "(N_H, 4)", "[N_H, 4]", "N_H × 4", "N_Hx4"])
def test_shapes_with_the_hidden_size(text):
    assert [d({"N_H": Fraction(7)}) for d in parse_shape(text)] == [7, 4]


@pytest.mark.parametrize("value", ["sixteen by four", "16 x", {"rows": 16}, "1x2x3x4x5", None])
def test_bad_shapes_are_refused(value):
    with pytest.raises(AnswerFormatError):
        parse_shape(value)


# -- arrays ------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("(0.2932, -0.2932)", [0.2932, -0.2932]),
    ("[[1.856, 3.144], [3.927, 3.073]]", [[1.856, 3.144], [3.927, 3.073]]),
    ([["1.856", 3.144], [3.927, "3.073"]], [[1.856, 3.144], [3.927, 3.073]]),
    ("0.3927", 0.3927),
    ("[0.29 -0.29]", [0.29, -0.29]),
])
def test_arrays(value, expected):
    assert parse_array(value) == expected


@pytest.mark.parametrize("value", ["[[1, 2], [3]]", "[1, [2]]", "[1, 2", "(1, 2))", "[]", "[a, b]"])
def test_bad_arrays_are_refused(value):
    with pytest.raises(AnswerFormatError):
        parse_array(value)


# -- files ------------------------------------------------------------------------

def test_yaml_and_json_files_and_key_normalization():
    yaml_text = "param-count: 1,707,274\nN_hidden: 5\nW0 shape: 16x4\n"
    assert load_answers_text(yaml_text) == {"param-count": "1,707,274", "n-hidden": 5, "w0-shape": "16x4"}
    data = json.dumps({"param_count": 1707274, "n-hidden": "5"}).encode()
    assert load_answers_bytes(data, "answers.json") == {"param-count": 1707274, "n-hidden": "5"}
    assert load_answers_text("answers:\n  param-count: 3\n") == {"param-count": 3}


@pytest.mark.parametrize("text, message", [
    ("a: &x [1, 2]\nb: *x\n", "anchors and aliases"),
    ("a: &a [1]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n", "anchors and aliases"),
    ("a: !!python/object/apply:os.system ['echo hi']\n", "tags"),
    ("- 1\n- 2\n", "mapping"),
    ("a: [1\n", "not valid YAML"),
    ("", "empty"),
    ("a: 1\nA: 2\n", "answered twice"),
    ("a: {b: 1}\n", "not an answer"),
])
def test_bad_files_are_refused_with_a_reason(text, message):
    with pytest.raises(AnswerFormatError, match=message):
        load_answers_text(text)


def test_size_limit():
    big = ("a: " + "1" * (MAX_FILE_BYTES + 10) + "\n").encode()
    with pytest.raises(AnswerFormatError, match="KiB"):
        load_answers_bytes(big)
    with pytest.raises(AnswerFormatError, match="not valid JSON"):
        load_answers_bytes(b"{'a': 1}", "answers.json")
