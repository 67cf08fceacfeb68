"""LMS downloads, recognized by their naming, grouped per student.

Each pattern was checked against the LMS's own source (see README, "From your
LMS", for the citations) and is pinned by fixtures in tests/intake/:

* **Canvas** bulk download ("Download Submissions"): flat files
  `{name}[_LATE]_{user_id}_{attachment_id}_{file}`, where `{name}` is the
  sortable name ("Last, First") lower-cased with everything but letters,
  digits and `_` removed (`smithjohn`), `LATE` is Canvas's own late marker
  (older Canvas wrote `late`), and `{file}` the uploaded name, with `-N` added
  by Canvas when a file of the same name was uploaded again (`nn-1.py`).
  Anonymous grading writes `anon_{anonymous_id}` instead of name and user id.
  Text entries and URLs are `{name}[_LATE]_{user_id}_text.html` / `_link.html`.
  The download carries no submission time, only the marker.
* **Moodle** "Download all submissions": one folder per student and plugin,
  `{Full Name}_{participant_id}_assignsubmission_{plugin}` (older Moodle: a
  trailing `_`), or with "download submissions in folders" off, flat files
  `{Full Name}_{participant_id}_assignsubmission_{plugin}_{file}`.  No
  submission time is in the download.
* **Gradescope** "Download Submissions" (export): `submission_metadata.yml`
  mapping each folder `submission_<id>` to `:submitters:` (`:name:`, `:sid:`,
  `:email:`) and `:created_at:` (the submission time).
* anything else is a **folder** of submissions as before (grader/submission.py:
  `discover`).

Nothing here reads file times: a submission time comes from the layout's own
metadata or not at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterable

from ..names import display
from ..submission import IGNORED_PARTS, SubmissionError, discover, submission_name
from .choose import CODE_SUFFIXES, Choice, choose_code_file

__all__ = ["Member", "Handin", "Scan", "scan", "parse_canvas", "parse_moodle", "GRADESCOPE_METADATA"]

GRADESCOPE_METADATA = "submission_metadata.yml"
CANVAS_FILE = re.compile(r"^(?P<name>.+?)(?:_(?P<late>late))?_(?P<user>\d+)_(?P<attachment>\d+)_(?P<file>.+)\Z",
                         re.IGNORECASE | re.DOTALL)
CANVAS_ANON = re.compile(r"^(?:(?P<late>late)_)?anon_(?P<user>[A-Za-z0-9]+)_(?P<attachment>\d+)_(?P<file>.+)\Z",
                         re.IGNORECASE | re.DOTALL)
CANVAS_TEXT = re.compile(r"^(?P<name>.+?)(?:_(?P<late>late))?_(?P<user>\d+)_(?P<file>text|link)\.html\Z",
                         re.IGNORECASE | re.DOTALL)
MOODLE_FOLDER = re.compile(r"^(?P<name>.+)_(?P<user>\d+)_assignsubmission_(?P<plugin>[a-z]+)_?\Z")
MOODLE_FILE = re.compile(r"^(?P<name>.+)_(?P<user>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<file>.+)\Z", re.DOTALL)


@dataclass(frozen=True)
class Member:
    """One student as the LMS names them (Gradescope groups have several)."""

    name: str = ""
    sid: str = ""       # the student id the LMS stores (Gradescope :sid)
    email: str = ""
    lms_id: str = ""    # Canvas user id, Moodle participant id


@dataclass(frozen=True)
class Handin:
    """What one student (or group) handed in, as found in the download.

    `path` is what gets graded (a file, folder or zip), None when nothing is
    gradable (`reason` says why); `files` lists everything of theirs."""

    key: str                       # unique within the scan: the default submission id's source
    layout: str                    # folder, canvas, moodle, gradescope
    path: Path | None
    files: tuple[str, ...]
    members: tuple[Member, ...]
    late: bool | None = None       # the LMS's own late marker (Canvas)
    submitted_at: datetime | None = None
    choice: Choice | None = None   # several code files of one student in a flat download
    reason: str = ""


@dataclass
class Scan:
    layout: str
    handins: list[Handin] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)   # entries that belong to nobody (named in the output)


def parse_canvas(filename: str) -> dict[str, str | bool] | None:
    """The fields of a Canvas bulk-download file name, or None."""
    for pattern in (CANVAS_ANON, CANVAS_FILE, CANVAS_TEXT):
        match = pattern.match(filename)
        if match:
            fields = match.groupdict()
            anonymous = pattern is CANVAS_ANON
            return {"name": "" if anonymous else str(fields["name"]),
                    "user": ("anon_" if anonymous else "") + str(fields["user"]),
                    "attachment": str(fields.get("attachment") or ""), "file": str(fields["file"]),
                    "late": bool(fields["late"]), "text": pattern is CANVAS_TEXT}
    return None


def parse_moodle(name: str, folder: bool) -> dict[str, str] | None:
    """The fields of a Moodle download entry (a folder or, flat, a file)."""
    match = (MOODLE_FOLDER if folder else MOODLE_FILE).match(name)
    if not match:
        return None
    return {k: str(v) for k, v in match.groupdict().items() if v is not None}


def _entries(folder: Path) -> list[Path]:
    return [p for p in sorted(folder.iterdir()) if not p.name.startswith((".", "_"))
            and p.name not in IGNORED_PARTS]


def _is_code(path: Path, suffixes: tuple[str, ...]) -> bool:
    return path.is_dir() or path.suffix in suffixes


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace") if path.stat().st_size < 4 * 2**20 else ""
    except OSError:
        return ""


def _graded_in(paths: dict[str, Path], suffixes: tuple[str, ...], class_name: str | None,
               ) -> tuple[Path | None, Choice | None, str]:
    """Among one student's files of a flat download (the name they uploaded
    -> the file), the one to grade, by the rule of grader/intake/choose.py."""
    code = {n: p for n, p in paths.items() if p.suffix in CODE_SUFFIXES and p.suffix in suffixes}
    if code:
        choice = choose_code_file({n: _text(p) for n, p in code.items()}, class_name)
        assert choice is not None
        return code[choice.graded], (choice if choice.others else None), ""
    other = [p for n, p in sorted(paths.items()) if p.suffix in suffixes]   # a zip, or an answers file
    if other:
        return other[0], None, ""
    return None, None, _not_gradable(sorted(paths), suffixes)


def _not_gradable(names: Iterable[str], suffixes: tuple[str, ...]) -> str:
    listed = ", ".join(display(n) for n in names) or "nothing"
    return f"handed in {listed}: no {', '.join(suffixes)} file or folder to grade"


def _folder_target(folder: Path, suffixes: tuple[str, ...]) -> tuple[Path | None, str]:
    """A student's folder (Moodle, Gradescope): graded as a folder when it
    holds code, else the single zip or answers file in it."""
    files = [p for p in sorted(folder.rglob("*")) if p.is_file()
             and not IGNORED_PARTS.intersection(p.relative_to(folder).parts)]
    if any(p.suffix in CODE_SUFFIXES and p.suffix in suffixes for p in files):
        return folder, ""
    other = [p for p in files if p.suffix in suffixes]
    if len(other) == 1:
        return other[0], ""
    if other:
        return folder, ""
    return None, _not_gradable([p.relative_to(folder).as_posix() for p in files], suffixes)


def scan_canvas(folder: Path, suffixes: tuple[str, ...], class_name: str | None) -> Scan | None:
    entries = _entries(folder)
    parsed = {p: parse_canvas(p.name) for p in entries if p.is_file()}
    if not any(parsed.values()) or any(_is_code(p, suffixes) and not parsed.get(p) for p in entries):
        return None
    result = Scan("canvas", ignored=[display(p.name) for p in entries if not parsed.get(p)])
    groups: dict[str, list[tuple[Path, dict]]] = {}
    for path, fields in parsed.items():
        if fields:
            groups.setdefault(str(fields["user"]), []).append((path, fields))
    for user, items in sorted(groups.items()):
        name = next((str(f["name"]) for _, f in items if f["name"]), "")
        uploaded = {str(f["file"]): p for p, f in items if not f["text"]}
        if len(uploaded) < len([1 for _, f in items if not f["text"]]):   # the same name twice: keep all
            uploaded = {p.name: p for p, f in items if not f["text"]}
        target, choice, reason = _graded_in(uploaded, suffixes, class_name)
        if target is None:
            reason = _not_gradable([p.name for p, _ in items], suffixes)
        result.handins.append(Handin(
            key=f"{name}_{user}" if name else user, layout="canvas", path=target,
            files=tuple(display(p.name) for p, _ in items),
            members=(Member(name=name, lms_id="" if user.startswith("anon_") else user),),
            late=any(bool(f["late"]) for _, f in items), choice=choice, reason=reason))
    return result


def scan_moodle(folder: Path, suffixes: tuple[str, ...], class_name: str | None) -> Scan | None:
    entries = _entries(folder)
    parsed = {p: parse_moodle(p.name, p.is_dir()) for p in entries}
    if not any(parsed.values()) or any(_is_code(p, suffixes) and not parsed.get(p) for p in entries):
        return None
    result = Scan("moodle", ignored=[display(p.name) for p in entries if not parsed.get(p)])
    groups: dict[tuple[str, str], list[Path]] = {}
    for path, fields in parsed.items():
        if fields:
            groups.setdefault((fields["name"], fields["user"]), []).append(path)
    for (name, user), paths in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        folders = [p for p in paths if p.is_dir() and parse_moodle(p.name, True)["plugin"] == "file"]
        flat = [p for p in paths if p.is_file()]
        if folders:
            target, reason = _folder_target(folders[0], suffixes)
            choice = None
        else:
            uploaded = {parse_moodle(p.name, False)["file"]: p for p in flat}
            target, choice, reason = _graded_in(uploaded if len(uploaded) == len(flat) else {p.name: p for p in flat},
                                                suffixes, class_name)
        if not folders and not flat:
            reason = "handed in online text only: nothing to grade"
        listed = [f"{p.name}/{q.relative_to(p).as_posix()}" for p in paths if p.is_dir()
                  for q in sorted(p.rglob("*")) if q.is_file()] + [p.name for p in flat]
        result.handins.append(Handin(key=f"{name}_{user}", layout="moodle", path=target,
                                     files=tuple(display(n) for n in listed),
                                     members=(Member(name=display(name), lms_id=user),),
                                     choice=choice, reason=reason))
    return result


def _when(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return datetime.fromisoformat(value.strip().replace(" -", "-").replace(" +", "+"))
        except ValueError:
            return None
    return None


def scan_gradescope(folder: Path, suffixes: tuple[str, ...]) -> Scan | None:
    meta_path = folder / GRADESCOPE_METADATA
    if not meta_path.is_file():
        return None
    import yaml

    class Lenient(yaml.SafeLoader):
        """Safe loading; a tag the export may carry (e.g. a Ruby object) is read as plain data."""

    def plain(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> object:
        if isinstance(node, yaml.MappingNode):
            return loader.construct_mapping(node, deep=True)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node, deep=True)
        return loader.construct_scalar(node)   # type: ignore[arg-type]

    Lenient.add_multi_constructor("!", plain)
    try:
        meta = yaml.load(meta_path.read_text(encoding="utf-8"), Loader=Lenient)  # noqa: S506 (a SafeLoader)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SubmissionError("bad-archive", f"{meta_path.name} in {display(folder)} is not readable YAML ({exc}); "
                              "download the Gradescope export again") from exc
    if not isinstance(meta, dict):
        raise SubmissionError("bad-archive", f"{meta_path.name} in {display(folder)} does not map submission "
                              "folders to their submitters; download the Gradescope export again")
    result = Scan("gradescope")
    known = set()
    for key in sorted(meta, key=str):
        record = meta[key] if isinstance(meta[key], dict) else {}
        known.add(str(key))
        members = tuple(Member(name=display(str(s.get(":name") or "")), sid=str(s.get(":sid") or ""),
                               email=str(s.get(":email") or ""))
                        for s in (record.get(":submitters") or []) if isinstance(s, dict))
        sub = folder / str(key)
        if sub.is_dir():
            target, reason = _folder_target(sub, suffixes)
            files = tuple(q.relative_to(sub).as_posix() for q in sorted(sub.rglob("*")) if q.is_file())
        else:
            target, reason, files = None, f"the export lists {key} but has no folder {key}/", ()
        result.handins.append(Handin(key=str(key), layout="gradescope", path=target, files=files,
                                     members=members, submitted_at=_when(record.get(":created_at")),
                                     reason=reason))
    result.ignored = [display(p.name) for p in _entries(folder)
                      if p.name != GRADESCOPE_METADATA and p.name not in known]
    return result


def scan_folder(folder: Path, suffixes: tuple[str, ...], answers: bool) -> Scan:
    """A plain folder: every entry `discover` finds is a submission; other
    top-level files are listed as not gradable (a roster can claim them)."""
    found = discover(folder, answers=answers)
    result = Scan("folder")
    for path in found:
        result.handins.append(Handin(key=submission_name(path), layout="folder", path=path,
                                     files=(display(path.name),), members=()))
    taken = set(found)
    for path in _entries(folder):
        if path not in taken and (path.is_file() or path.is_symlink()):
            result.ignored.append(display(path.name))
    return result


def scan(folder: Path, *, answers: bool = False, class_name: str | None = None) -> Scan:
    """Recognize the layout of `folder` and list what each student handed in."""
    from ..submission import ANSWER_SUFFIXES, SUFFIXES

    if not folder.is_dir():
        raise SubmissionError("missing", f"{display(folder)} is not a folder")
    suffixes = SUFFIXES + ANSWER_SUFFIXES if answers else SUFFIXES
    return (scan_gradescope(folder, suffixes) or scan_moodle(folder, suffixes, class_name)
            or scan_canvas(folder, suffixes, class_name) or scan_folder(folder, suffixes, answers))
