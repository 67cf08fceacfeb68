"""Turn whatever a student handed in into one Python source file.

Accepted: `nn.py`, a notebook (code cells in order; IPython magics and shell
lines commented out, never executed), a folder holding one of those, or a
`.zip` of such a folder.  Everything is *read* here, nothing is executed: the
source then runs in the sandbox.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import tokenize
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .intake.choose import Choice, choose_code_file
from .names import display, slug

SUFFIXES = (".py", ".ipynb", ".zip")
ANSWER_SUFFIXES = (".yaml", ".yml", ".json")   # written answers alone (rubrics of written questions only)
PREFERRED_NAMES = ("nn.py", "nn.ipynb", "solution.py", "main.py")
MAX_ZIP_BYTES = 50 * 1024 * 1024
IGNORED_PARTS = {"__MACOSX", "__pycache__", ".ipynb_checkpoints", ".git"}
FOUND_SHOWN = 5   # files named in a "no code here" message


class SubmissionError(Exception):
    """The submission cannot be turned into source (no code file, bad zip,
    unreadable notebook).  Its `kind` names the catalogue diagnosis."""

    def __init__(self, kind: str, message: str) -> None:
        message = display(message)   # a file name that is not UTF-8 shows as U+FFFD: results stay valid JSON
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class PreparedSubmission:
    """A submission ready for the sandbox."""

    id: str
    source: Path        # the .py file the worker executes
    directory: Path     # put on the worker's sys.path (student helper modules)
    filename: str       # shown in error messages ("nn.py", "nn.ipynb")
    digest: str         # sha256 of everything handed in: resumable batches
    name: str = ""      # the name as handed in (display form), e.g. "José.py" -> "José"
    choice: Choice | None = None   # how the graded file was chosen among several (folders, zips)


def _base_name(path: Path) -> str:
    """The file or folder name without its extension (as the file system
    gives it: bytes that are not UTF-8 are surrogate escapes)."""
    path = Path(path)
    known = path.suffix in SUFFIXES or path.suffix.lower() in ANSWER_SUFFIXES
    is_file = path.is_file() or (path.is_symlink() and not path.is_dir())
    return path.name[: -len(path.suffix)] if is_file and known else path.name


def submission_name(path: Path) -> str:
    """The name the student handed in, without its extension, as valid
    Unicode (kept in result.json as "name", shown in reports)."""
    return display(_base_name(path))


def submission_id(path: Path) -> str:
    """The submission's id: its name when that is a safe file name, else a
    sanitized slug with a short hash of the name (see grader/names.py)."""
    return slug(_base_name(path))


def refuse_link(path: Path) -> None:
    """A top-level symbolic link is never followed: the grader runs with
    more rights than the student (it could point at any file)."""
    if Path(path).is_symlink():
        raise SubmissionError("symlink", f"{display(Path(path).name)} is a symbolic link; hand in the file itself")


def discover(folder: Path, answers: bool = False) -> list[Path]:
    """Submissions in a batch folder: code files, zips and sub-folders,
    sorted, skipping hidden entries and files that are not submissions.
    With `answers` (rubrics of written questions only), answers files
    (.yaml, .yml, .json) count as submissions too."""
    suffixes = SUFFIXES + ANSWER_SUFFIXES if answers else SUFFIXES
    if not folder.is_dir():
        raise SubmissionError("missing", f"{folder} is not a folder")
    found = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith((".", "_")) or entry.name in IGNORED_PARTS:
            continue
        if entry.is_dir() or entry.suffix in suffixes:   # a link is kept, to be refused with a message
            found.append(entry)
    return found


def digest_of(path: Path) -> str:
    """Content hash of a file or a folder tree (names and bytes).  A
    top-level symbolic link is hashed by its target's name, never read."""
    sha = hashlib.sha256()
    if path.is_symlink():
        sha.update(b"symlink\0" + os.fsencode(os.readlink(path)))
        return sha.hexdigest()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        sha.update(os.fsencode(file.relative_to(path) if path.is_dir() else file.name))
        sha.update(b"\0")
        # a link inside a folder: its target's name (prepare refuses one that leaves the folder)
        sha.update(b"symlink\0" + os.fsencode(os.readlink(file)) if file.is_symlink() else file.read_bytes())
        sha.update(b"\0")
    return sha.hexdigest()


def notebook_to_source(path: Path) -> str:
    """Code cells in order; magics and `!shell` lines become comments so the
    line count of every cell is kept for error messages."""
    import nbformat

    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # nbformat raises many kinds
        reason = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        raise SubmissionError("notebook-unreadable", f"{path.name} is not a readable notebook "
                              f"(Jupyter's notebook format is JSON): {reason}") from exc
    parts = []
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        lines = []
        in_cell_magic = False
        for line_no, line in enumerate(str(cell.get("source", "")).splitlines()):
            stripped = line.lstrip()
            if line_no == 0 and stripped.startswith("%%"):
                in_cell_magic = True
            if in_cell_magic or stripped.startswith(("%", "!")) or _is_magic(stripped):
                lines.append("# [nngrade: not run] " + line)
            else:
                lines.append(line)
        parts.append(f"# ---- cell {index + 1} ----\n" + "\n".join(lines))
    return "\n\n".join(parts) + "\n"


def _is_magic(stripped: str) -> bool:
    """`x = !ls` and `?obj` / `obj?` help syntax, but not ordinary code."""
    return bool(re.match(r"^\w+\s*=\s*[!%]", stripped) or stripped.startswith("?")
                or re.match(r"^[\w.]+\?\??$", stripped))


def _safe_extract(archive: Path, target: Path) -> None:
    """Extract a zip without letting it write outside `target` or fill the disk."""
    try:
        with zipfile.ZipFile(archive) as zf:
            total = 0
            for info in zf.infolist():
                name = info.filename
                if name.startswith("/") or ".." in Path(name).parts:
                    raise SubmissionError("bad-archive", f"{archive.name} has an unsafe path {name!r}")
                total += info.file_size
                if total > MAX_ZIP_BYTES:
                    raise SubmissionError("bad-archive", f"{archive.name} unpacks to more than "
                                          f"{MAX_ZIP_BYTES // 2**20} MiB")
            zf.extractall(target)
    except zipfile.BadZipFile as exc:
        raise SubmissionError("bad-archive", f"{archive.name} is not a valid zip file: {exc}") from exc


def _refuse_escaping_links(folder: Path) -> None:
    """A folder may not smuggle in files from elsewhere through symbolic links
    (the grader copies it with root's rights)."""
    root = folder.resolve()
    for path in folder.rglob("*"):
        if path.is_symlink():
            target = path.resolve()
            if target != root and root not in target.parents:
                raise SubmissionError("bad-archive", f"{path.relative_to(folder)} is a link to a file outside "
                                      "the submission; hand in the file itself")


def _found(folder: Path) -> str:
    """What a folder without code holds, for the message: the student sees
    that the PDF (or notes) arrived and why it cannot be graded."""
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                   if p.is_file() and not IGNORED_PARTS.intersection(p.relative_to(folder).parts))
    if not files:
        return " (it is empty)"
    shown = ", ".join(display(f) for f in files[:FOUND_SHOWN])
    more = f" and {len(files) - FOUND_SHOWN} more" if len(files) > FOUND_SHOWN else ""
    return f" (found: {shown}{more})"


def _pick_code_file(folder: Path, where: str, class_name: str | None = None) -> tuple[Path, Choice]:
    """The student's main file inside a folder (`where`: the folder or zip as
    handed in, for messages), by the rule of grader/intake/choose.py (also
    what intake reports for LMS downloads)."""
    candidates = [p for p in sorted(folder.rglob("*"))
                  if p.is_file() and p.suffix in (".py", ".ipynb")
                  and not IGNORED_PARTS.intersection(p.relative_to(folder).parts)]
    files = {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8", errors="replace")
             for p in candidates}
    choice = choose_code_file(files, class_name)
    if choice is None:
        raise SubmissionError("no-code-file", f"no .py or .ipynb file in {where}{_found(folder)}")
    return folder / choice.graded, choice


_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")


def source_as_utf8(path: Path) -> str | None:
    """Rewrite a Python file as UTF-8 without a BOM, decoded as Python
    decodes it (a PEP 263 coding declaration or a BOM, else UTF-8), so a
    loader that reads UTF-8 runs what Python would run.  A declaration of
    another encoding becomes a comment on the same line: line numbers are
    kept.  Returns the encoding the file was read in when it was rewritten,
    None when it was left as it is (UTF-8 already, or not decodable: Python
    reports that when it loads)."""
    raw = path.read_bytes()
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        text = raw.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError):
        return None
    if encoding == "utf-8":
        return None   # no BOM, UTF-8 (declared or not): the loader reads it as it is
    if encoding != "utf-8-sig":
        lines = io.StringIO(text, newline="").readlines()   # split as Python counts lines: \n, \r\n, \r
        for i, line in enumerate(lines[:2]):
            if _COOKIE.match(line.encode("utf-8")):
                ending = line[len(line.rstrip("\r\n")):]
                lines[i] = f"# [nngrade: coding declaration, read as {encoding}]{ending}"
                break
        text = "".join(lines)
    path.write_bytes(text.encode("utf-8"))
    return encoding


def _has_code(text: str) -> bool:
    """True when `text` holds anything but blank lines and comments."""
    return any(line.strip() and not line.lstrip().startswith("#") for line in text.splitlines())


def _file_kind(path: Path) -> str:
    """'a PDF', 'a .txt file', 'a file without an extension': for messages."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return "a PDF"
    return f"a {display(suffix)} file" if suffix else "a file without an extension"


def refuse_unreadable(path: Path, filename: str) -> None:
    """An empty file, or one Python could not decode, is refused here with
    its own kind and a position a student can find in an editor (the
    loader's own message would be a codec's byte offset inside the
    grader's call stack)."""
    raw = path.read_bytes()
    if not raw.strip():
        raise SubmissionError("empty-file", f"{filename} is empty ({len(raw)} bytes)")
    cookie = any(_COOKIE.match(line) for line in raw.splitlines()[:2])
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as exc:   # an unknown coding line, or undecodable bytes on the first two lines
        if cookie:
            raise SubmissionError("not-utf8", f"{filename}: its coding line cannot be used ({exc})") from exc
        encoding = "utf-8"
    try:
        raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        declared = (f"it is read as {encoding}, as its coding line says" if cookie
                    else "it has no coding line, so it is read as UTF-8")
        raise SubmissionError("not-utf8", f"{filename}: byte 0x{raw[exc.start]:02x} on line {line}, column {column} "
                              f"cannot be decoded ({declared})") from exc


def _utf8_path(path: Path) -> bool:
    try:
        str(path).encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def prepare(path: Path, scratch: Path, class_name: str | None = None) -> PreparedSubmission:
    """Copy the submission into `scratch` and produce the source to run.
    `class_name` (the rubric's) guides the choice of the graded file in a
    folder or zip (grader/intake/choose.py)."""
    path = Path(path)
    refuse_link(path)
    if not path.exists():
        raise SubmissionError("missing", f"{display(path)} does not exist")
    sid = submission_id(path)
    digest = digest_of(path)
    scratch.mkdir(parents=True, exist_ok=True)
    if path.is_dir():
        _refuse_escaping_links(path)
        folder = scratch / "submission"
        shutil.copytree(path, folder, symlinks=True, dirs_exist_ok=True)
    elif path.suffix == ".zip":
        folder = scratch / "submission"
        folder.mkdir(exist_ok=True)
        _safe_extract(path, folder)
    elif path.suffix in (".py", ".ipynb"):
        folder = scratch / "submission"
        folder.mkdir(exist_ok=True)
        # an odd name (not UTF-8, spaces, quotes...) is copied under its id
        local = path.name if sid == path.stem else sid + path.suffix
        shutil.copy(path, folder / local)
    else:
        raise SubmissionError("no-code-file", f"{display(path.name)} is {_file_kind(path)}, not Python code: "
                              "expected a .py, .ipynb, .zip or a folder")
    choice = None
    if path.is_file() and path.suffix != ".zip":
        code_file, filename = folder / local, display(path.name)
    else:
        code_file, choice = _pick_code_file(folder, display(path.name), class_name)
        filename = display(code_file.name)
        if not _utf8_path(code_file.parent):
            raise SubmissionError("bad-archive", f"{display(code_file.parent.relative_to(folder))}: a folder name "
                                  "that is not UTF-8; rename it (letters, digits, '_', '-')")
        if not _utf8_path(code_file):   # graded under a plain name; messages name it as handed in
            plain = code_file.with_name("_nngrade_main" + code_file.suffix)
            shutil.copy(code_file, plain)
            code_file = plain
    if code_file.suffix == ".ipynb":
        source = code_file.with_name("_nngrade_notebook.py")
        source.write_text(notebook_to_source(code_file), encoding="utf-8")
        if not _has_code(source.read_text(encoding="utf-8")):
            raise SubmissionError("empty-file", f"{filename} has no code cells with code in them")
    else:
        source = code_file
        refuse_unreadable(source, filename)
        source_as_utf8(source)
    return PreparedSubmission(id=sid, source=source, directory=code_file.parent,
                              filename=filename, digest=digest, name=submission_name(path),
                              choice=choice if choice is not None and choice.others else None)
