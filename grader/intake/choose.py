"""Which file of a submission is graded: one documented rule, never silent.

A folder (or an LMS download's files of one student) may hold several code
files.  The rule, applied in order:

1. a file with a conventional name (`nn.py`, `nn.ipynb`, `solution.py`,
   `main.py`, in that order; the shallowest wins).  An LMS resubmission
   suffix counts as the same name (`nn-1.py` is `nn.py`; the highest number
   is the latest upload);
2. else the files that define the assignment's class (`class NN`, the
   rubric's `interface.class_name`; any `class` when no name is known);
   among several, names marking an old copy (draft, old, backup, bak, copy,
   test, scratch, tmp, orig) are passed over while others remain, then a name
   saying "final" or "submit" is preferred, then the first by path;
3. else the first code file by path.

The choice is *ambiguous* when step 2 saw more than one file defining the
class, or step 3 saw more than one file: the submission is still graded, and
`result.json` (`graded_file`), the report and the class summary say which
file was graded and which were not, so an instructor can check.  The rule
depends on names and contents only (never file times): the same files give
the same choice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from ..names import for_terminal

__all__ = ["Choice", "choose_code_file", "PREFERRED_NAMES", "CODE_SUFFIXES", "resubmission_base"]

PREFERRED_NAMES = ("nn.py", "nn.ipynb", "solution.py", "main.py")
CODE_SUFFIXES = (".py", ".ipynb")
OLD_COPY = re.compile(r"draft|old|backup|bak|copy|test|scratch|tmp|orig", re.IGNORECASE)
FINAL = re.compile(r"final|submit", re.IGNORECASE)
_RESUBMITTED = re.compile(r"^(?P<stem>.+?)-(?P<n>\d+)(?P<suffix>\.[A-Za-z0-9]+)$")


@dataclass(frozen=True)
class Choice:
    """The graded file (a relative POSIX path), the other code files, and why."""

    graded: str
    others: tuple[str, ...] = ()
    reason: str = ""
    ambiguous: bool = False
    candidates: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, object]:
        """The `graded_file` entry of result.json (plain data; names as valid,
        clean Unicode: they are the student's)."""
        return {"file": for_terminal(self.graded), "not_graded": [for_terminal(p) for p in self.others],
                "rule": self.reason,
                "ambiguous": self.ambiguous}


def resubmission_base(name: str) -> tuple[str, int]:
    """`nn-2.py` -> (`nn.py`, 2): the name an LMS gave a re-uploaded file with
    the same name (Canvas appends `-N`), and N (0 without a suffix)."""
    match = _RESUBMITTED.match(name)
    if not match:
        return name, 0
    return match["stem"] + match["suffix"], int(match["n"])


def _defines_class(text: str, class_name: str | None) -> bool:
    pattern = rf"^[ \t]*class[ \t]+{re.escape(class_name)}\b" if class_name else r"^[ \t]*class[ \t]+\w"
    return re.search(pattern, text, re.MULTILINE) is not None


def choose_code_file(files: dict[str, str], class_name: str | None = None) -> Choice | None:
    """Apply the rule to `files` (relative POSIX path -> source text; for a
    notebook, its raw JSON is enough to find `class NN`).  None when there is
    no code file."""
    paths = sorted(p for p in files if PurePosixPath(p).suffix in CODE_SUFFIXES)
    if not paths:
        return None

    def done(graded: str, reason: str, ambiguous: bool) -> Choice:
        return Choice(graded, tuple(p for p in paths if p != graded), reason, ambiguous, tuple(paths))

    def depth(p: str) -> int:
        return len(PurePosixPath(p).parts)

    for name in PREFERRED_NAMES:
        named = [p for p in paths if resubmission_base(PurePosixPath(p).name)[0] == name]
        if named:
            best = min(named, key=lambda p: (depth(p), -resubmission_base(PurePosixPath(p).name)[1], p))
            return done(best, f"conventional name {name}", False)
    defining = [p for p in paths if _defines_class(files[p], class_name)]
    what = f"class {class_name}" if class_name else "a class"
    if len(defining) == 1:
        return done(defining[0], f"the only file defining {what}", False)
    if defining:
        pool = [p for p in defining if not OLD_COPY.search(PurePosixPath(p).name)] or defining
        final = [p for p in pool if FINAL.search(PurePosixPath(p).name)]
        best = (final or pool)[0]
        return done(best, f"{len(defining)} files define {what}: chosen by name (old copies passed over, "
                          "'final' preferred, then by path)", True)
    return done(paths[0], f"no file defines {what}: the first code file by path", len(paths) > 1)
