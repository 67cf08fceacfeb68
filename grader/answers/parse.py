"""Reading written answers: files, numbers, shapes, formulas, arrays.

Everything here treats student text as *data*.  Nothing is ever passed to
eval(): formulas go through a small recursive-descent parser of arithmetic
(numbers, the question's variables, + - * / ^ and parentheses, implicit
multiplication), evaluated exactly with fractions.  Every refusal is an
`AnswerFormatError` whose message says what *is* accepted.

Accepted forms (see README "Written answers"):

* number: 12345, "12,345", "12 345", "12_345", 0.125, "-2.9e-1",
  or an arithmetic expression without variables ("30*20 + 20");
* shape: [10, 3], "10x3", "10 x 3", "10 × 3", "(10, 3)"; a dimension may be a
  formula in the question's variables ("N_H x 10");
* formula: "6*N_H + 2", "6 N_H + 2", "6N_H+2", "f(N_H) = 6 N_H + 2",
  "(4)(N_H) + N_H + 3 N_H + 3"; a plain number means "does not depend on N_H";
* array: [0.25, -0.5], [[1, 2], [3, 4]],
  "(0.25, -0.5)".
"""

from __future__ import annotations

import json
import math
import re
from fractions import Fraction
from typing import Any, Callable

import yaml

MAX_FILE_BYTES = 64 * 1024
MAX_TEXT = 2000          # characters in one answer
MAX_KEYS = 200
MAX_DEPTH = 40           # parentheses / nesting
MAX_MAGNITUDE = Fraction(10) ** 30
DEFAULT_VARIABLES: dict[str, tuple[str, ...]] = {"N_H": ("N_H", "NH", "N_{H}", "n_h", "nh", "n_H", "N_h")}


class AnswerFormatError(ValueError):
    """An answer (or an answers file) that cannot be read, and why."""


# -- files -------------------------------------------------------------------------

def normalize_key(key: Any) -> str:
    """Question keys match case-insensitively, with _ and spaces as -."""
    return re.sub(r"[\s_]+", "-", str(key).strip().lower())


def load_answers_bytes(data: bytes, filename: str = "answers.yaml") -> dict[str, Any]:
    """An answers file (JSON or YAML) -> {normalized key: raw value}."""
    if len(data) > MAX_FILE_BYTES:
        raise AnswerFormatError(f"{filename} is {len(data):,} bytes; an answers file may have at most "
                                f"{MAX_FILE_BYTES // 1024} KiB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AnswerFormatError(f"{filename} is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    return load_answers_text(text, filename)


def load_answers_text(text: str, filename: str = "answers.yaml") -> dict[str, Any]:
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise AnswerFormatError(f"{filename} is larger than {MAX_FILE_BYTES // 1024} KiB")
    if filename.lower().endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise AnswerFormatError(f"{filename}:{exc.lineno}: not valid JSON: {exc.msg}") from exc
    else:
        data = _safe_yaml(text, filename)
    if data is None:
        raise AnswerFormatError(f"{filename} is empty: write one line per question, e.g. `param-count: 12,345`")
    return answers_mapping(data, filename)


def _safe_yaml(text: str, filename: str) -> Any:
    """yaml.safe_load, after refusing anchors, aliases and tags (no alias bombs)."""
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, (yaml.AnchorToken, yaml.AliasToken)):
                raise AnswerFormatError(f"{filename}:{token.start_mark.line + 1}: anchors and aliases (&name, *name) "
                                        "are not accepted in an answers file; write each value out")
            if isinstance(token, yaml.TagToken):
                raise AnswerFormatError(f"{filename}:{token.start_mark.line + 1}: YAML tags (!...) are not accepted "
                                        "in an answers file")
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{filename}:{mark.line + 1}" if mark else filename
        raise AnswerFormatError(f"{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from exc


def answers_mapping(data: Any, origin: str) -> dict[str, Any]:
    """Check the shape of a whole answers document: a mapping of question
    keys to plain values (numbers, strings, lists of those)."""
    if isinstance(data, dict) and set(data) == {"answers"} and isinstance(data["answers"], dict):
        data = data["answers"]
    if not isinstance(data, dict):
        raise AnswerFormatError(f"{origin}: expected a mapping of question ids to answers "
                                f"(e.g. `param-count: 12,345`), found a {type(data).__name__}")
    if len(data) > MAX_KEYS:
        raise AnswerFormatError(f"{origin}: {len(data)} entries; at most {MAX_KEYS} are read")
    out: dict[str, Any] = {}
    for key, value in data.items():
        norm = normalize_key(key)
        if norm in out:
            raise AnswerFormatError(f"{origin}: the question {key!r} is answered twice")
        _check_value(value, f"{origin}: {key}", 0)
        out[norm] = value
    return out


def _check_value(value: Any, where: str, depth: int) -> None:
    if depth > 4:
        raise AnswerFormatError(f"{where}: nested too deeply (at most a matrix: a list of lists)")
    if value is None or isinstance(value, (bool, int, float)):
        return
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise AnswerFormatError(f"{where}: the answer is {len(value)} characters long; at most {MAX_TEXT}")
        return
    if isinstance(value, (list, tuple)):
        if len(value) > 1000:
            raise AnswerFormatError(f"{where}: a list of {len(value)} values; at most 1000")
        for item in value:
            _check_value(item, where, depth + 1)
        return
    raise AnswerFormatError(f"{where}: a {type(value).__name__} is not an answer; write a number, a string "
                            "or a list")


def plain(value: Any) -> Any:
    """Values decoded from the worker (NumPy arrays, NumPy scalars) as plain
    Python data, so they go through the same parsers as a file's."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return plain(value.tolist())
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 2 ** 53:
        return int(value)
    return value


# -- numbers -------------------------------------------------------------------------

_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-", "\u00d7": "*", "\u22c5": "*", "\u00b7": "*"})
_SPACES = "\u00a0\u2009\u202f"
_PLAIN = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_GROUPED = [re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?"),
            re.compile(r"[+-]?\d{1,3}( \d{3})+(\.\d+)?"),
            re.compile(r"[+-]?\d{1,3}(_\d{3})+(\.\d+)?")]


def parse_number(value: Any, what: str = "a number") -> Fraction:
    """A number, exactly (as a fraction), from any accepted form."""
    if isinstance(value, bool) or value is None:
        raise AnswerFormatError(f"expected {what}, found {value!r}")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise AnswerFormatError(f"expected {what}, found {value!r}")
        return Fraction(repr(value))
    if not isinstance(value, str):
        raise AnswerFormatError(f"expected {what}, found a {type(value).__name__}")
    text = value.translate(_MINUS).strip()
    if "=" in text:              # "x = 5", "N = 12,345"
        text = text.rsplit("=", 1)[1].strip()
    for ch in _SPACES:
        text = text.replace(ch, " ")
    text = re.sub(r" +", " ", text)
    if _PLAIN.fullmatch(text):
        return Fraction(text)
    for pattern in _GROUPED:
        if pattern.fullmatch(text):
            return Fraction(re.sub(r"[, _]", "", text))
    try:
        expr = parse_expression(text, variables={})
    except AnswerFormatError as exc:
        raise AnswerFormatError(f"{value!r} is not {what} I can read ({exc}); write e.g. 12345, 12,345, "
                                "12 345, 0.125 or an arithmetic expression like 30*20 + 20") from exc
    return expr({})


def parse_integer(value: Any, what: str = "a whole number") -> int:
    number = parse_number(value, what)
    if number.denominator != 1:
        raise AnswerFormatError(f"{_show(value)} is not {what}: give an integer (e.g. 5, not 4.9)")
    return int(number)


def fmt_int(n: int | Fraction) -> str:
    return f"{int(n):,}" if Fraction(n).denominator == 1 else str(float(n))


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


# -- formulas ------------------------------------------------------------------------

Expr = Callable[[dict[str, Fraction]], Fraction]
_TOKEN = re.compile(r"\s*(?:(?P<num>(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
                    r"|(?P<op>\*\*|[-+*/^()]))")


def _variable_table(variables: dict[str, tuple[str, ...]]) -> dict[str, str]:
    table = {}
    for name, aliases in variables.items():
        for alias in (name, *aliases):
            table[re.sub(r"[_{}]", "", alias).lower()] = name
    return table


def parse_formula(value: Any, variables: dict[str, tuple[str, ...]] | None = None) -> Expr:
    """A formula in the question's variables, e.g. "6 N_H + 2" -> f({'N_H': n})."""
    variables = DEFAULT_VARIABLES if variables is None else variables
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = parse_number(value)
        return lambda env: number
    if not isinstance(value, str):
        raise AnswerFormatError(f"expected a formula such as 6*N_H + 2, found a {type(value).__name__}")
    text = value.strip()
    if "=" in text:              # "f(N_H) = 6 N_H + 2", "P = ..."
        text = text.rsplit("=", 1)[1]
    return parse_expression(text, variables)


def parse_expression(text: str, variables: dict[str, tuple[str, ...]]) -> Expr:
    """Tokenize and parse arithmetic; returns an evaluator over exact fractions."""
    if len(text) > MAX_TEXT:
        raise AnswerFormatError(f"the formula is longer than {MAX_TEXT} characters")
    text = text.translate(_MINUS)
    text = re.sub(r"_\{(\w+)\}", r"_\1", text)
    names = _variable_table(variables)
    tokens: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m:
            raise AnswerFormatError(f"cannot read {text[pos:pos + 12].strip()!r} in {text.strip()!r}")
        if m.group("num"):
            tokens.append(("num", Fraction(m.group("num"))))
        elif m.group("name"):
            key = m.group("name").replace("_", "").lower()
            if key not in names:
                known = ", ".join(variables) or "none"
                raise AnswerFormatError(f"unknown name {m.group('name')!r} (variables here: {known})")
            tokens.append(("var", names[key]))
        else:
            tokens.append(("op", "^" if m.group("op") == "**" else m.group("op")))
        pos = m.end()
    if not tokens:
        raise AnswerFormatError("the answer is empty")
    parser = _Parser(tokens)
    expr = parser.sum(0)
    if parser.i != len(tokens):
        raise AnswerFormatError(f"unexpected {tokens[parser.i][1]!r} in {text.strip()!r}")
    return _bounded(expr)


def _bounded(expr: Expr) -> Expr:
    def run(env: dict[str, Fraction]) -> Fraction:
        value = expr(env)
        if abs(value) > MAX_MAGNITUDE:
            raise AnswerFormatError("the value is far too large")
        return value
    return run


class _Parser:
    """sum := term (('+'|'-') term)*;  term := unary (('*'|'/'|implicit) unary)*;
    unary := ('+'|'-') unary | power;  power := atom ('^' unary)?;
    atom := number | variable | '(' sum ')'."""

    def __init__(self, tokens: list[tuple[str, Any]]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, Any]:
        tok = self.peek()
        if tok is None:
            raise AnswerFormatError("the formula ends too early")
        self.i += 1
        return tok

    def sum(self, depth: int) -> Expr:
        if depth > MAX_DEPTH:
            raise AnswerFormatError("nested too deeply")
        left = self.term(depth)
        while self.peek() in (("op", "+"), ("op", "-")):
            op = self.take()[1]
            right = self.term(depth)
            left = (lambda a, b: lambda env: a(env) + b(env))(left, right) if op == "+" else \
                (lambda a, b: lambda env: a(env) - b(env))(left, right)
        return left

    def term(self, depth: int) -> Expr:
        left = self.unary(depth)
        while True:
            tok = self.peek()
            if tok in (("op", "*"), ("op", "/")):
                op = self.take()[1]
            elif tok is not None and (tok[0] in ("num", "var") or tok == ("op", "(")):
                if tok[0] == "num" and self.tokens[self.i - 1][0] == "num":
                    raise AnswerFormatError(f"two numbers side by side ({self.tokens[self.i - 1][1]} {tok[1]}): "
                                            "write the operation between them")
                op = "*"      # implicit: "8 N_H", "(3075)(512)", "x(120)"
            else:
                return left
            right = self.unary(depth)
            if op == "*":
                left = (lambda a, b: lambda env: a(env) * b(env))(left, right)
            else:
                left = (lambda a, b: lambda env: _divide(a(env), b(env)))(left, right)

    def unary(self, depth: int) -> Expr:
        if depth > MAX_DEPTH:
            raise AnswerFormatError("nested too deeply")
        tok = self.peek()
        if tok in (("op", "+"), ("op", "-")):
            self.take()
            inner = self.unary(depth + 1)
            return inner if tok[1] == "+" else (lambda a: lambda env: -a(env))(inner)
        return self.power(depth)

    def power(self, depth: int) -> Expr:
        base = self.atom(depth)
        if self.peek() == ("op", "^"):
            self.take()
            exponent = self.unary(depth + 1)
            return (lambda a, b: lambda env: _power(a(env), b(env)))(base, exponent)
        return base

    def atom(self, depth: int) -> Expr:
        kind, value = self.take()
        if kind == "num":
            return lambda env: value
        if kind == "var":
            return lambda env: env[value]
        if value == "(":
            inner = self.sum(depth + 1)
            if self.take() != ("op", ")"):
                raise AnswerFormatError("a parenthesis is not closed")
            return inner
        raise AnswerFormatError(f"unexpected {value!r}")


def _divide(a: Fraction, b: Fraction) -> Fraction:
    if b == 0:
        raise AnswerFormatError("division by zero")
    return a / b


def _power(a: Fraction, b: Fraction) -> Fraction:
    if b.denominator != 1 or abs(b) > 8:
        raise AnswerFormatError("only small whole-number powers (up to 8) are accepted")
    if abs(a) > 10 ** 6:
        raise AnswerFormatError("the value is far too large")
    if a == 0 and b < 0:
        raise AnswerFormatError("division by zero")
    return a ** int(b)


# -- shapes -------------------------------------------------------------------------

_SHAPE_SPLIT = re.compile(r"\s*(?:,|\u00d7|\bby\b|\bx\b|\bX\b|(?<=[\d)])\s*[xX](?=\s*[\dA-Za-z(])"
                          r"|(?<=[A-Za-z_}])[xX](?=\d))\s*")
_DANGLING = re.compile(r"^\s*(?:[xX\u00d7,]|by\b)|(?:\b[xX]|\u00d7|\bby)\s*$")


def parse_shape(value: Any, variables: dict[str, tuple[str, ...]] | None = None) -> list[Expr]:
    """A shape -> one evaluator per dimension ("N_H x 10" -> [N_H, 10])."""
    if isinstance(value, (list, tuple)):
        parts: list[Any] = list(value)
    elif isinstance(value, str):
        text = value.strip()
        if len(text) > 200:
            raise AnswerFormatError("a shape is a few numbers, e.g. 10x3")
        if text[:1] in "([" and text[-1:] in ")]":
            text = text[1:-1]
        if _DANGLING.search(text):
            raise AnswerFormatError(f"{value!r} is not a shape: a dimension is missing")
        parts = [p for p in _SHAPE_SPLIT.split(text) if p.strip()]
    elif isinstance(value, int) and not isinstance(value, bool):
        parts = [value]
    else:
        raise AnswerFormatError(f"expected a shape such as [10, 3] or \"10x3\", found {value!r}")
    if not parts or len(parts) > 4:
        raise AnswerFormatError(f"expected a shape such as [10, 3], \"10x3\" or \"(10, 3)\", found {_show(value)}")
    dims = []
    for part in parts:
        try:
            dims.append(parse_formula(part, variables))
        except AnswerFormatError as exc:
            raise AnswerFormatError(f"{_show(value)} is not a shape I can read ({exc}); write e.g. [10, 3], "
                                    "\"10x3\", \"(10, 3)\" or \"N_H x 10\"") from exc
    return dims


# -- arrays -------------------------------------------------------------------------

def parse_array(value: Any) -> Any:
    """A number, a vector or a matrix -> nested lists of floats."""
    if isinstance(value, str):
        value = _bracket_text(value)
    if isinstance(value, (list, tuple)):
        items = [parse_array(v) for v in value]
        kinds = {type(i) for i in items}
        if not items:
            raise AnswerFormatError("an empty list is not an answer")
        if len(kinds) > 1 or (list in kinds and len({len(i) for i in items}) > 1):
            raise AnswerFormatError(f"{_show(value)} is not a vector or a matrix (rows of different lengths)")
        return items
    number = parse_number(value)
    try:
        return float(number)
    except OverflowError:   # an exact number (1e999 reads as a fraction) beyond any float
        raise AnswerFormatError(f"{_show(value)} is too large for a value of this network") from None


def _bracket_text(text: str) -> Any:
    """"[[1, 2], [3, 4]]" or "(0.29, -0.29)" -> nested lists of number strings."""
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise AnswerFormatError(f"the answer is longer than {MAX_TEXT} characters")
    if not text or text[0] not in "([":
        return text
    stack: list[list[Any]] = []
    root: list[Any] | None = None
    token = ""
    for ch in text + " ":
        if ch in "([":
            if len(stack) > 4:
                raise AnswerFormatError("nested too deeply")
            new: list[Any] = []
            if stack:
                stack[-1].append(new)
            elif root is not None:
                raise AnswerFormatError(f"{text!r}: text after the closing bracket")
            else:
                root = new
            stack.append(new)
        elif ch in ")],; " or ch == "\n":
            if token.strip():
                if not stack:
                    raise AnswerFormatError(f"{text!r}: text outside the brackets")
                stack[-1].append(token.strip())
            token = ""
            if ch in ")]":
                if not stack:
                    raise AnswerFormatError(f"{text!r}: unbalanced brackets")
                stack.pop()
        else:
            token += ch
    if stack or root is None:
        raise AnswerFormatError(f"{text!r}: unbalanced brackets")
    return root


def array_text(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(array_text(v) for v in value) + "]"
    return f"{value:.4g}"
