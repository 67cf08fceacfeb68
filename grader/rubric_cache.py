"""Validated rubrics kept between `nngrade check` runs.

A student runs `check` over and over on the same rubric; parsing its YAML
and validating it (pydantic validators built for every model, each
criterion's `Params`, the checks' `validate` hooks) cost a fifth of every
run.  `parse_cached` keeps the result of `grader.rubric.parse_rubric` in a
per-user cache folder and loads it back instead of parsing again.

What is loaded must mean what a fresh parse means:

* the file name holds a digest of the rubric's text, its path, and the code
  that validated it (grader version, Python and pydantic versions, and the
  size and modification time of every module of `grader` and `reference`),
  so an edited rubric or grader never meets an old entry (stale entries of
  the same rubric path are deleted when a new one is written);
* the entry carries a digest of its own bytes under that key: a truncated,
  corrupted or hand-edited entry is ignored, never partly used;
* a folder or file that another user could write (not owned by this user,
  or group/other-writable) is never read: a cache is loaded with pickle, so
  only the user's own files are trusted -- the same trust as the installed
  grader itself, which the user can edit anyway (`check` is a self-check;
  final grading never reads this cache);
* what is loaded must be a `Rubric` whose criteria carry parameters of
  their checks' own `Params` types.

Anything else (no folder, no entry, a failed read or write) falls back to
parsing, silently: the cache only ever saves time.  `NNGRADE_CACHE_DIR`
moves the folder; an empty value turns the cache off.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

CACHE_ENV = "NNGRADE_CACHE_DIR"
MAGIC = b"nngrade-rubric-cache 1\n"

_fingerprint: str | None = None


def cache_folder() -> Path | None:
    """Where entries live: $NNGRADE_CACHE_DIR, else $XDG_CACHE_HOME/nngrade/rubrics
    or ~/.cache/nngrade/rubrics; None (no cache) when the variable is empty."""
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        return Path(configured) if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nngrade" / "rubrics"


def code_fingerprint() -> str:
    """A digest of everything that decides what a validated rubric is: a
    changed module (a new rule, a new `Params` field) changes it.  Stat, not
    read: ~100 files in about a millisecond."""
    global _fingerprint
    if _fingerprint is None:
        import pydantic

        from . import __version__

        digest = hashlib.sha256(f"{__version__}\0{sys.version}\0{pydantic.VERSION}".encode())
        for root in _code_roots():
            for path in sorted(_modules(root)):
                info = os.stat(path)
                digest.update(f"\0{path}\0{info.st_size}\0{info.st_mtime_ns}".encode())
        _fingerprint = digest.hexdigest()
    return _fingerprint


def _code_roots() -> list[str]:
    """The folders of the `grader` and `reference` packages (found, not imported:
    importing `reference` would import NumPy)."""
    from importlib.util import find_spec

    roots = [os.path.dirname(os.path.abspath(__file__))]
    spec = find_spec("reference")
    roots += list(spec.submodule_search_locations or []) if spec is not None else []
    return roots


def _modules(root: str) -> list[str]:
    out = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [d for d in subfolders if d != "__pycache__"]
        out += [os.path.join(folder, f) for f in files if f.endswith(".py")]
    return out


def entry_name(text: str, filename: str) -> tuple[str, str]:
    """(prefix, full name) of the entry for this rubric text at this path:
    the prefix names the path, so older entries of the same rubric can go."""
    prefix = hashlib.sha256(os.path.abspath(filename).encode()).hexdigest()[:16]
    key = hashlib.sha256(f"{code_fingerprint()}\0{os.path.abspath(filename)}\0".encode() + text.encode()).hexdigest()
    return prefix, f"{prefix}-{key}.pickle"


def parse_cached(text: str, filename: str, parse: Callable[[str, str], Any], accept: Callable[[Any], bool]) -> Any:
    """`parse(text, filename)`, from the cache when a sound entry is there
    (`accept` says whether a loaded object is one `parse` could have
    returned), else parsed and stored.  Errors are never cached: a
    rubric that fails raises from `parse` every time."""
    folder = cache_folder()
    if folder is None:
        return parse(text, filename)
    prefix, name = entry_name(text, filename)
    loaded = _load(folder, name)
    if loaded is not None and accept(loaded):
        return loaded
    value = parse(text, filename)
    _store(folder, prefix, name, value)
    return value


def _private(info: os.stat_result) -> bool:
    """Owned by this user and writable by no one else."""
    return info.st_uid == os.getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _load(folder: Path, name: str) -> Any:
    """The entry's object, or None when it is absent, not private, or not intact."""
    try:
        if not _private(os.stat(folder)):
            return None
        with open(folder / name, "rb") as handle:
            if not _private(os.fstat(handle.fileno())):
                return None
            data = handle.read()
    except OSError:
        return None
    if not data.startswith(MAGIC):
        return None
    digest, _, payload = data[len(MAGIC):].partition(b"\n")
    if digest != _digest(name, payload).encode():
        return None
    try:
        return pickle.loads(payload)
    except Exception:  # noqa: BLE001 -- an unreadable entry is a miss, never an error
        return None


def _digest(name: str, payload: bytes) -> str:
    return hashlib.sha256(name.encode() + b"\0" + payload).hexdigest()


def _store(folder: Path, prefix: str, name: str, value: Any) -> None:
    """Write the entry atomically (private folder and file) and delete the
    older entries of the same rubric path; failures are ignored."""
    try:
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(os.stat(folder)):
            return
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(MAGIC + _digest(name, payload).encode() + b"\n" + payload)
            os.replace(temporary, folder / name)
        except BaseException:
            os.unlink(temporary)
            raise
        for old in folder.glob(f"{prefix}-*.pickle"):
            if old.name != name:
                old.unlink(missing_ok=True)
    except Exception:  # noqa: BLE001 -- the cache only saves time
        return
