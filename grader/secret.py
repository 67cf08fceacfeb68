"""The course secret: what makes final grading ask questions no kit answers.

A student kit records the reference's answers to the public checks' seeded
questions, so a kit is a lookup table for exactly those questions.  Final
grading (`batch`, `grade`, every executor) therefore seeds its probes with a
secret that only the instructor holds: the probe batches, parameters,
finite-difference coordinates and the training start all change with it,
while `check` (with or without a kit) keeps asking the public questions.

The secret is 32 random bytes in a file created once, on the first `batch`
or `grade` (or by `nngrade secret`), outside the submissions and output
trees: by default ``$XDG_CONFIG_HOME/nngrade/course-secret`` (usually
``~/.config/nngrade/course-secret``), or the file named by
``NNGRADE_SECRET_FILE`` / ``--secret``.  The same secret gives the same
grades, byte for byte; a new secret gives new questions (and a regrade).
Its folder is hidden from every worker.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

SECRET_BYTES = 32
ENV_VAR = "NNGRADE_SECRET_FILE"


class SecretError(Exception):
    """The secret file cannot be used (unreadable, malformed, misplaced)."""


@dataclass(frozen=True)
class CourseSecret:
    """The instructor's secret key; only its fingerprint is ever written out."""

    key: bytes
    source: str = field(default="", compare=False)   # the file it was read from, if any

    @property
    def fingerprint(self) -> str:
        """A public name of the secret (in the store's resume key, run.json)."""
        return hashlib.sha256(b"nngrade-fingerprint/" + self.key).hexdigest()[:16]

    @property
    def hex(self) -> str:
        """The key as text, for tasks shipped to executors."""
        return self.key.hex()

    @classmethod
    def from_hex(cls, text: str) -> "CourseSecret":
        return cls(bytes.fromhex(text))

    def seed(self, *parts: object) -> int:
        """A 31-bit seed keyed by the secret: unpredictable without it."""
        message = "/".join(str(p) for p in parts).encode()
        digest = hmac.new(self.key, message, hashlib.sha256).digest()
        return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def default_path() -> Path:
    """Where the secret lives unless told otherwise."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "nngrade" / "course-secret"


def load_or_create(path: Path | None = None, *, forbidden: tuple[Path, ...] = ()) -> tuple[CourseSecret, Path, bool]:
    """The secret at `path` (default: `default_path()`), created when missing.
    Returns (secret, path, created).  Refuses a path inside any `forbidden`
    folder (the submissions and output trees: students could read it)."""
    path = Path(path).expanduser() if path is not None else default_path()
    resolved = path.resolve()
    for folder in forbidden:
        folder = Path(folder).resolve()
        if resolved == folder or folder in resolved.parents:
            raise SecretError(f"the course secret {path} lies inside {folder}, which students' code or the "
                              "released reports can reach; keep it elsewhere (--secret FILE)")
    created = False
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(SECRET_BYTES) + "\n")
        created = True
    try:
        text = path.read_text(encoding="ascii").strip()
        key = bytes.fromhex(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SecretError(f"cannot read the course secret {path}: {exc}; it must hold "
                          f"{SECRET_BYTES * 2} hexadecimal digits (delete it to create a new one, "
                          "which changes every final grading question)") from exc
    if len(key) < 16:
        raise SecretError(f"the course secret {path} is too short ({len(key)} bytes; at least 16)")
    return CourseSecret(key, str(path)), path, created
