"""The batch's memory: one SQLite file in the output folder.

Each finished submission is committed in its own transaction, keyed by the
submission id and stamped with the content digest of the submission and of
the rubric.  Killing the batch at any instant therefore loses at most the
grades in flight, never a committed one, and a re-run skips exactly the
submissions whose content and rubric are unchanged.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

SCHEMA = """
CREATE TABLE IF NOT EXISTS grades (
    submission     TEXT PRIMARY KEY,
    digest         TEXT NOT NULL,
    rubric_digest  TEXT NOT NULL,
    result         TEXT NOT NULL,
    run            TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class StoredGrade:
    submission: str
    digest: str
    rubric_digest: str
    result: dict[str, Any]
    run: dict[str, Any]


class GradeStore:
    """Finished grades, durable as soon as `record` returns."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), timeout=30.0, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "GradeStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def is_current(self, submission: str, digest: str, rubric_digest: str) -> bool:
        """True when the stored grade can be kept: same submission, same
        rubric, and complete.  A grade with grader errors (criteria the
        grader failed on, left out of its total) is never current: the
        grader may have been fixed since, so a resumed batch grades it again."""
        row = self._db.execute("SELECT digest, rubric_digest FROM grades WHERE submission = ?",
                               (submission,)).fetchone()
        return row is not None and row[0] == digest and row[1] == rubric_digest \
            and not self.grader_errors(submission)

    def grader_errors(self, submission: str) -> list[str]:
        """The criteria the stored grade says the grader failed on (none for
        a result written before the field existed).  SQLite reads the one
        field (JSON1, built into every SQLite Python ships with since 3.38),
        so planning a big class does not parse every stored result."""
        try:
            row = self._db.execute("SELECT json_extract(result, '$.grader_errors') FROM grades WHERE submission = ?",
                                   (submission,)).fetchone()
            listed = json.loads(row[0]) if row and row[0] else []
        except (sqlite3.OperationalError, ValueError):   # no JSON1: read the whole result
            stored = self.get(submission)
            listed = stored.result.get("grader_errors") if stored is not None else []
        return [str(i) for i in listed] if isinstance(listed, list) else []

    def record(self, submission: str, digest: str, rubric_digest: str, result: dict, run: dict) -> None:
        """Insert or replace one grade atomically (one transaction)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO grades (submission, digest, rubric_digest, result, run) VALUES (?, ?, ?, ?, ?)",
                (submission, digest, rubric_digest, json.dumps(result, sort_keys=True), json.dumps(run, sort_keys=True)))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def get(self, submission: str) -> StoredGrade | None:
        row = self._db.execute("SELECT submission, digest, rubric_digest, result, run FROM grades WHERE submission = ?",
                               (submission,)).fetchone()
        return _row(row) if row else None

    def all(self, rubric_digest: str | None = None) -> Iterator[StoredGrade]:
        query = "SELECT submission, digest, rubric_digest, result, run FROM grades"
        args: tuple = ()
        if rubric_digest is not None:
            query += " WHERE rubric_digest = ?"
            args = (rubric_digest,)
        for row in self._db.execute(query + " ORDER BY submission", args):
            yield _row(row)

    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM grades").fetchone()[0])


def _row(row: tuple) -> StoredGrade:
    return StoredGrade(row[0], row[1], row[2], json.loads(row[3]), json.loads(row[4]))
