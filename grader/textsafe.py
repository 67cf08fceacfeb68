"""Text from the student's side, made safe to store, render and print.

Every string that comes from a worker (error messages, tracebacks, reprs,
dictionary keys, class and method names) and the student's captured
stdout/stderr passes `clean` in the grader's process before it reaches a
result, a report or a terminal.  The worker caps its own strings too, but
the student's code can take the worker over entirely, so the grader never
relies on that.

`clean(text, limit)`:

* caps the text at `limit` characters (a note says how much was cut);
* replaces lone surrogates (which no UTF-8 file can hold: one in an
  exception message used to stop result.json from being written) with
  U+FFFD;
* removes control characters (terminal escapes, NUL, backspace, bell, C1
  controls), bidirectional overrides and other invisible format characters
  that could disguise text in a report or a terminal; newlines and tabs are
  kept, and a carriage return before a newline becomes that newline.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["DEFAULT_LIMIT", "KEY_LIMIT", "clean", "clean_tree"]

#: characters kept of one string unless a caller says otherwise
DEFAULT_LIMIT = 2000
#: characters kept of a dictionary key from the worker
KEY_LIMIT = 200

# C0 controls but tab and newline, DEL, C1 controls; lone surrogates are handled apart;
# bidi embeddings/overrides/isolates, zero-width and other invisible format characters
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# whole terminal escape sequences (CSI "ESC [ ... final", OSC/DCS/APC/PM/SOS "ESC ] ... BEL or ESC \\",
# two-character ones), so no "[31m" residue is left when the ESC itself is removed
_ESCAPE = re.compile("\x1b(?:\\[[0-?]*[ -/]*[@-~]?|[\\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\\\)?|[\x20-\x7e])?"
                     "|\x9b[0-?]*[ -/]*[@-~]?")   # and the 8-bit CSI
_LINE_BREAKS = re.compile("\r\n|[\u2028\u2029\x85\r]")  # \r alone is dropped below (not a line break of its own)


def clean(text: Any, limit: int | None = DEFAULT_LIMIT) -> str:
    """`text` (any value; not a str: its str(), or its type name when that
    fails) capped at `limit` characters (None: no cap) and sanitized."""
    if not isinstance(text, str):
        try:
            text = str(text)
        except Exception:  # a hostile __str__ (grader-side values only get here)
            text = f"<{type(text).__name__}>"
    cut = 0
    if limit is not None and len(text) > limit:
        cut = len(text) - limit
        text = text[:limit]
    text = _SURROGATE.sub("\ufffd", text)
    text = _ESCAPE.sub("", text)
    text = _LINE_BREAKS.sub(lambda m: "" if m.group() == "\r" else "\n", text)
    text = _UNSAFE.sub("", text)
    if cut:
        text += f" [... {cut} more characters cut]"
    return text


def clean_tree(value: Any, limit: int | None = DEFAULT_LIMIT, key_limit: int | None = KEY_LIMIT) -> Any:
    """`value` with every str in it (dict keys included) cleaned; dicts,
    lists and tuples are rebuilt, anything else (numbers, arrays) is kept."""
    if isinstance(value, str):
        return clean(value, limit)
    if isinstance(value, dict):
        return {clean(k, key_limit) if isinstance(k, str) else k: clean_tree(v, limit, key_limit)
                for k, v in value.items()}
    if isinstance(value, list):
        return [clean_tree(v, limit, key_limit) for v in value]
    if isinstance(value, tuple):
        return tuple(clean_tree(v, limit, key_limit) for v in value)
    return value
