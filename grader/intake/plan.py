"""Intake, all together: what to grade, under which id, and one gradebook row
per student.

`build(folder, ...)` scans the folder (grader/intake/layouts.py), maps each
hand-in to a roster student (grader/intake/roster.py), judges lateness
(grader/intake/late.py) and returns an `Intake`:

* `entries`: the submissions to grade, each with its id, its name and the
  `intake` record that goes into its result.json;
* `absent`: rows for students with nothing to grade -- `missing` (on the
  roster, nothing handed in) and `not gradable` (only a PDF, a .txt...);
* `unmatched`: hand-ins the roster does not know (graded, and named);
* `ignored`: files in the download that belong to nobody.

Ids: a hand-in matched to a roster student gets the student id as its id
(`slug(student_id)`); otherwise a plain folder's entries keep their name
(grader/names.py) and an LMS hand-in gets the LMS's key (Canvas
`smithjohn_12345`, Moodle `Jane Doe_123456`, Gradescope `submission_42`),
made safe the same way.  With nothing to add (a plain folder, no roster, no
due date, no penalty) no `intake` record is written: results are those of
before, byte for byte.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..names import display, slug
from ..textsafe import clean_tree
from ..submission import SubmissionError, submission_id, submission_name
from .late import LatePolicy
from .layouts import Handin, Scan, scan
from .roster import Roster, Student

__all__ = ["Entry", "Absent", "Intake", "build", "apply_intake", "final_score", "STATUS"]

#: the `status` column of the gradebooks
STATUS = {"graded": "graded", "late": "late", "missing": "missing", "not-gradable": "not gradable"}


@dataclass(frozen=True)
class Entry:
    path: Path
    sid: str
    name: str
    intake: dict[str, Any] | None

    def fingerprint(self) -> str:
        """What the resume key adds to the content digest: a changed roster,
        due date or penalty regrades (re-stamps) the submission."""
        return json.dumps(self.intake, sort_keys=True) if self.intake is not None else ""


@dataclass(frozen=True)
class Absent:
    sid: str
    name: str
    status: str                    # missing | not-gradable
    message: str
    student: dict[str, str] | None


@dataclass
class Intake:
    layout: str
    policy: LatePolicy
    roster: Roster | None
    entries: list[Entry] = field(default_factory=list)
    absent: list[Absent] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    shared: dict[str, str] = field(default_factory=dict)   # student id -> submission id (group members)

    @property
    def active(self) -> bool:
        """True when intake adds anything to results and gradebooks."""
        return self.roster is not None or self.layout != "folder" or self.policy != LatePolicy()

    def placeholder(self, absent: Absent, max_score: float) -> dict[str, Any]:
        """A result-like row for the gradebooks and the summary."""
        return {"submission": absent.sid, "name": absent.name, "score": None if absent.status == "missing" else 0.0,
                "max_score": max_score, "criteria": [], "error": None,
                "intake": {"status": absent.status, "message": absent.message, "student": absent.student}}

    def class_rows(self, results: list[dict[str, Any]], max_score: float) -> list[dict[str, Any]]:
        """Every row the gradebooks get: graded results, then, for a group
        submission's other members, a copy under their id, then the absent."""
        rows = list(results)
        by_id = {str(r.get("submission")): r for r in results}
        students = {s.student_id: s for s in (self.roster.students if self.roster else [])}
        for student_id, sid in sorted(self.shared.items()):
            if sid in by_id:
                copy = dict(by_id[sid])
                copy["intake"] = {**(copy.get("intake") or {}), "student": _student(students[student_id]),
                                  "shared_with": sid}
                copy["submission"] = slug(student_id)
                copy["name"] = students[student_id].name or student_id
                rows.append(copy)
        rows += [self.placeholder(a, max_score) for a in self.absent]
        return sorted(rows, key=lambda r: str(r.get("submission", "")))


def _student(student: Student | None) -> dict[str, str] | None:
    if student is None:
        return None
    return {"student_id": student.student_id, "name": student.name, "email": student.email,
            "login": student.login, "lms_id": student.lms_id}


def _handin_name(handin: Handin) -> str:
    if handin.layout == "folder" and handin.path is not None:
        return submission_name(handin.path)
    names = [m.name for m in handin.members if m.name]
    return ", ".join(names) or display(handin.key)


def build(folder: Path, *, answers: bool = False, class_name: str | None = None,
          roster: Roster | None = None, policy: LatePolicy | None = None) -> Intake:
    """Scan `folder` and plan the class (see the module docstring)."""
    policy = policy or LatePolicy()
    found: Scan = scan(Path(folder), answers=answers, class_name=class_name)
    intake = Intake(found.layout, policy, roster, ignored=list(found.ignored))
    claimed: dict[str, str] = {}   # student id -> what claimed them (for a clear duplicate message)
    ids: dict[str, str] = {}

    def claim(student: Student, what: str) -> None:
        if student.student_id in claimed:
            raise SubmissionError("duplicate", f"two hand-ins belong to student {student.student_id} "
                                  f"({student.name or 'no name'}): {claimed[student.student_id]} and {what}; "
                                  "keep one (or fix the roster)")
        claimed[student.student_id] = what

    handins = list(found.handins)
    if found.layout == "folder" and roster is not None:   # with a roster, a PDF-only hand-in is a row too
        for name in found.ignored:
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                handins.append(Handin(key=path.stem, layout="folder", path=None, files=(name,), members=(),
                                      reason=f"handed in {name}: not a .py, .ipynb or .zip file or a folder"))
    for handin in handins:
        what = display(handin.path.name if handin.path is not None else (handin.files or (handin.key,))[0])
        matches: list[tuple[Student, str]] = []
        if roster is not None:
            probes = list(handin.members) or [None]
            for member in probes:
                student, how = roster.match(
                    name=member.name if member else "", sid=member.sid if member else "",
                    email=member.email if member else "", lms_id=member.lms_id if member else "",
                    handed_in_as=handin.key if handin.layout == "folder" else "")
                if student is not None and all(s.student_id != student.student_id for s, _ in matches):
                    matches.append((student, how))
        student = matches[0][0] if matches else None
        if roster is not None and handin.layout == "folder" and handin.path is None and student is None:
            continue   # a stray file in a plain folder: listed in `ignored` already
        if roster is not None and handin.layout == "folder" and handin.path is None:
            intake.ignored.remove(handin.files[0])
            if student is not None and student.student_id in claimed:
                continue   # alice.pdf beside alice.py: her report, part of the graded hand-in
        for s, _ in matches:
            claim(s, what)
        if student is not None:
            sid, name = slug(student.student_id), student.name or _handin_name(handin)
        elif handin.layout == "folder" and handin.path is not None:
            sid, name = submission_id(handin.path), submission_name(handin.path)
        else:
            sid, name = slug(handin.key), _handin_name(handin)
        if sid in ids:
            raise SubmissionError("duplicate", f"two submissions share the id {sid} ({ids[sid]} and {what}): "
                                  "rename one (e.g. alice.py and alice.ipynb)")
        ids[sid] = what
        if roster is not None and student is None:
            intake.unmatched.append(name)
        for s, _ in matches[1:]:
            intake.shared[s.student_id] = sid
        if handin.path is None:
            intake.absent.append(Absent(sid, name, "not-gradable", handin.reason, _student(student)))
            continue
        record: dict[str, Any] | None = None
        if intake.active:
            lateness = policy.judge(handin.submitted_at, handin.late)
            record = {"layout": handin.layout, "handed_in": list(handin.files),
                      "student": _student(student), "matched_by": matches[0][1] if matches else "",
                      "submitted_at": handin.submitted_at.isoformat() if handin.submitted_at else None,
                      "due": policy.due.isoformat() if policy.due else None,
                      "late": lateness.late, "late_days": lateness.days,
                      "penalty_percent": lateness.penalty_percent,
                      "lms_choice": handin.choice.as_dict() if handin.choice is not None else None}
            if len(handin.members) > 1:
                record["members"] = [m.name or m.sid or m.email for m in handin.members]
        intake.entries.append(Entry(handin.path, sid, name, record))
    if roster is not None:
        for student in roster.students:
            if student.student_id not in claimed:
                sid = slug(student.student_id)
                if sid in ids:
                    raise SubmissionError("duplicate", f"the roster's student id {student.student_id} is also the "
                                          f"id of the unmatched submission {ids[sid]}; rename that submission")
                intake.absent.append(Absent(sid, student.name or student.student_id, "missing",
                                            "nothing handed in", _student(student)))
    intake.entries.sort(key=lambda e: e.sid)
    intake.absent.sort(key=lambda a: a.sid)
    return intake


def apply_intake(result: dict[str, Any], entry_id: str, name: str, record: dict[str, Any] | None) -> dict[str, Any]:
    """Stamp a graded result with its intake: the id and name intake gave it,
    and the `intake` record with the late penalty in points and the final
    score (the one place the penalty is computed)."""
    result["submission"], result["name"] = entry_id, display(name)   # as handed in, like the engine's
    if record is None:
        return result
    record = clean_tree(record, None, None)   # names from the download are the students': clean, valid text
    score = float(result.get("score") or 0.0)
    penalty = round(score * float(record.get("penalty_percent") or 0.0) / 100.0, 2)
    record["status"] = "late" if record.get("late") else "graded"
    record["penalty_points"] = penalty
    record["final_score"] = round(score - penalty, 2)
    result["intake"] = record
    return result


def final_score(result: dict[str, Any]) -> float | None:
    """The score that goes to the LMS: after the late penalty (None: missing)."""
    record = result.get("intake")
    if isinstance(record, dict) and "final_score" in record:
        return float(record["final_score"])
    score = result.get("score")
    return float(score) if isinstance(score, (int, float)) else None
