"""Names are data, never markup or paths.

A submission's name is whatever a student (or an LMS export) chose: it may
hold `:`, `/`-free but shell- and HTML-significant characters, spreadsheet
formulas, terminal escape sequences, or bytes that are not UTF-8 at all.
This module turns such a name into each form the grader needs:

* `display(name)`  -- valid Unicode for JSON, HTML and CSV (bytes that are
  not UTF-8 become U+FFFD, the replacement character);
* `slug(name)`     -- the submission id: a safe file-name and URL segment,
  used for `OUT/<id>/` and the store; a name that is already safe is its
  own id, any other gets a sanitized form plus `~` and a short hash of the
  original name (no safe name contains `~`, so two names never share an id),
  and an id never ends like a class output (`.html`, `.csv`, `.sqlite`...),
  so `OUT/<id>/` never collides with `OUT/summary.html` and its siblings;
* `href(id)`       -- a relative link (percent-encoded, never a scheme);
* `csv_cell(text)` -- a CSV cell a spreadsheet shows as text, never runs as
  a formula (a leading `= + - @`, tab or CR gets an apostrophe) and a reader
  never splits into forged rows (control characters but newline and tab
  removed);
* `for_terminal(text)` -- text without control characters or ANSI/OSC
  escape sequences (newlines and tabs kept), for printing.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import quote
from .textsafe import clean

__all__ = ["display", "slug", "is_safe", "is_id", "href", "csv_cell", "for_terminal", "CLASS_OUTPUT_SUFFIXES"]

SLUG_MAX = 60                 # characters kept of a sanitized name (before `~` and the hash)
HASH_CHARS = 12               # hex digits of sha256: 48 bits
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}\Z")
#: what the class outputs at OUT's top level end with (summary.html, gradebook.csv,
#: gradebook_canvas.csv, nngrade.sqlite and its -wal/-shm/-journal files, the release
#: tree's folder release.students/); an id never does
CLASS_OUTPUT_SUFFIXES = (".html", ".htm", ".csv", ".json", ".sqlite", ".sqlite-wal", ".sqlite-shm",
                         ".sqlite-journal", ".db", ".txt", ".log", ".tmp", ".students")
CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def display(name: object) -> str:
    """`name` as valid Unicode: bytes that were not UTF-8 (decoded by the
    file system with surrogateescape) become U+FFFD."""
    if isinstance(name, bytes):
        return name.decode("utf-8", "replace")
    text = str(name)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogatepass")
    return raw.decode("utf-8", "replace")


def is_safe(name: str) -> bool:
    """True when `name` is its own id: ASCII letters, digits, `.`, `_`, `-`,
    starting with a letter or digit, at most 80 characters, not ending like a
    class output."""
    return bool(_SAFE.match(name)) and not name.lower().endswith(CLASS_OUTPUT_SUFFIXES)


_SLUGGED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,%d}~[0-9a-f]{%d}\Z" % (SLUG_MAX - 1, HASH_CHARS))


def is_id(sid: str) -> bool:
    """True for what `slug` returns: a plain name or a sanitized one with its hash."""
    return is_safe(sid) or bool(_SLUGGED.match(sid))


def slug(name: str) -> str:
    """The submission id for `name` (deterministic, depends on `name` only)."""
    if is_safe(name):
        return name
    ascii_text = unicodedata.normalize("NFKD", display(name)).encode("ascii", "ignore").decode("ascii")
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_text).strip("._-")[:SLUG_MAX].strip("._-") or "submission"
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_CHARS]
    return f"{base}~{digest}"


def href(sid: str, page: str = "report.html") -> str:
    """A relative link to `OUT/<sid>/<page>`: the id is percent-encoded
    (`:` and `/` included), so the link can never carry a scheme."""
    return f"{quote(display(sid), safe='')}/{page}"


def csv_cell(value: object) -> object:
    """A text cell a spreadsheet will not evaluate and a CSV reader will not
    split: control characters but newline and tab removed (a lone CR is not
    quoted by a writer whose line ends are \\n, and would start a forged
    row), then a leading formula character neutralized by an apostrophe.
    Numbers pass unchanged."""
    if not isinstance(value, str):
        return value
    text = for_terminal(value)
    return "'" + text if text.startswith(CSV_FORMULA_PREFIXES) else text


def for_terminal(text: object) -> str:
    """`text` safe to print: escape sequences and control characters removed
    (newlines and tabs kept), undecodable bytes shown as U+FFFD.  One
    sanitizer for everything a student controls: grader/textsafe.py."""
    return clean(display(text), limit=None)
