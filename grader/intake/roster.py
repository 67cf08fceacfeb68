"""The class list: who should have handed something in.

A roster is a CSV file with a header row.  Columns (case and spaces
ignored; the Canvas gradebook export's names are accepted, so an exported
gradebook works as a roster as it is):

| column | also accepted | used for |
| --- | --- | --- |
| `student_id` | `SIS User ID`, `id number`, `sid`, `student number` | the submission id, Canvas's `SIS User ID` |
| `name` | `Student`, `full name` | matching by name, reports |
| `email` | `email address`, `e-mail` | matching (Gradescope) |
| `login` | `SIS Login ID`, `lms login`, `username` | matching a file named by login, Canvas's `SIS Login ID` |
| `lms_id` | `ID`, `canvas id`, `user id`, `participant id` | matching the LMS's numeric id (Canvas user id) |

`student_id` is required and unique.  Rows whose name is "Points Possible"
(Canvas's export) are skipped.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..names import display, for_terminal
from ..submission import SubmissionError

__all__ = ["Student", "Roster", "read_roster", "name_keys"]

COLUMNS: dict[str, tuple[str, ...]] = {
    "student_id": ("student_id", "sis user id", "id number", "sid", "student number", "student id"),
    "name": ("name", "student", "full name"),
    "email": ("email", "email address", "e-mail"),
    "login": ("login", "sis login id", "lms login", "username", "login id"),
    "lms_id": ("lms_id", "id", "canvas id", "user id", "participant id", "lms id", "canvas user id"),
}
MAX_ROSTER_BYTES = 16 * 2**20


@dataclass(frozen=True)
class Student:
    student_id: str
    name: str = ""
    email: str = ""
    login: str = ""
    lms_id: str = ""


def _norm(header: str) -> str:
    return re.sub(r"[\s_]+", " ", header.strip().lower().lstrip("\ufeff")).strip()


def name_keys(name: str) -> set[str]:
    """Forms a name may take in a download: letters and digits only, lower
    case, accents removed, in the order given and with the last word first
    (Canvas writes the sortable name "Last, First": `smithjohn`)."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    if "," in plain:   # "Smith, John" -> john smith
        last, _, first = plain.partition(",")
        plain = f"{first} {last}"
    words = re.findall(r"[a-z0-9]+", plain)
    if not words:
        return set()
    return {"".join(words), "".join(words[-1:] + words[:-1])}


@dataclass
class Roster:
    students: list[Student]
    source: str = ""

    def match(self, *, name: str = "", sid: str = "", email: str = "", lms_id: str = "",
              handed_in_as: str = "") -> tuple[Student | None, str]:
        """The roster student an LMS entry belongs to, and how it was matched
        (ids first, then email, login, then a name that only one student has)."""
        def unique(hits: list[Student]) -> Student | None:
            return hits[0] if len(hits) == 1 else None

        tries = [
            ("LMS id", lms_id, lambda s: s.lms_id == lms_id),
            ("student id", sid, lambda s: s.student_id == sid),
            ("email", email, lambda s: bool(s.email) and s.email.lower() == email.lower()),
            ("student id", handed_in_as, lambda s: s.student_id == handed_in_as),
            ("login", handed_in_as, lambda s: bool(s.login) and s.login.lower() == handed_in_as.lower()),
            ("email", handed_in_as, lambda s: bool(s.email) and s.email.lower().split("@")[0] == handed_in_as.lower()),
        ]
        for how, value, test in tries:
            if value:
                hit = unique([s for s in self.students if test(s)])
                if hit is not None:
                    return hit, how
        for value in (name, handed_in_as):
            keys = name_keys(value) if value else set()
            if keys:
                hit = unique([s for s in self.students if name_keys(s.name) & keys])
                if hit is not None:
                    return hit, "name"
        return None, ""


def read_roster(path: Path) -> Roster:
    """Read and check a roster; every problem is a `SubmissionError("roster")`
    naming the file, the line and what to do."""
    where = display(path)
    if not path.is_file():
        raise SubmissionError("roster", f"roster {where} does not exist (a CSV file with a header row: "
                              "student_id,name,email,login)")
    raw = path.read_bytes()
    if len(raw) > MAX_ROSTER_BYTES:
        raise SubmissionError("roster", f"roster {where} is larger than {MAX_ROSTER_BYTES // 2**20} MiB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SubmissionError("roster", f"roster {where} is not UTF-8 (byte {exc.start}); save it as "
                              "'CSV UTF-8' from your spreadsheet") from exc
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    if not rows:
        raise SubmissionError("roster", f"roster {where} is empty: expected a header row "
                              "student_id,name,email,login and one row per student")
    header = [_norm(h) for h in rows[0]]
    columns: dict[str, int] = {}
    for field, aliases in COLUMNS.items():
        for i, h in enumerate(header):
            if h in aliases and field not in columns and i not in columns.values():
                columns[field] = i
    if "student_id" not in columns:
        raise SubmissionError("roster", f"roster {where} has no student id column (header: "
                              f"{', '.join(for_terminal(h) for h in rows[0])}); name one 'student_id' "
                              "(or 'SIS User ID' as Canvas exports it)")
    students: list[Student] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cell = {f: (row[i].strip() if i < len(row) else "") for f, i in columns.items()}
        if cell.get("name", "").lower() == "points possible":   # Canvas's export
            continue
        sid = cell["student_id"]
        if not sid:
            raise SubmissionError("roster", f"{where}:{line}: no student id; every student needs one")
        if sid in seen:
            raise SubmissionError("roster", f"{where}:{line}: student id {for_terminal(sid)} is also on line "
                                  f"{seen[sid]}; each student once")
        seen[sid] = line
        students.append(Student(student_id=for_terminal(sid), name=for_terminal(cell.get("name", "")),
                                email=for_terminal(cell.get("email", "")), login=for_terminal(cell.get("login", "")),
                                lms_id=for_terminal(cell.get("lms_id", ""))))
    if not students:
        raise SubmissionError("roster", f"roster {where} lists no student (only a header)")
    return Roster(students, source=where)
