"""The student kit's command line: `nngrade check FILE [--rubric R]`, nothing else.

Installed by `pip install ./KIT` (see `kitpkg.py`).  Without --rubric it
checks against the kit's own public rubric (package data), so a student
can run `nngrade check nn.py` from any folder.  The real work is
`grader.cli`'s `check` command, unchanged: one implementation of the
self-check for the instructor's `nngrade` and the kit.

The sandbox that runs the student's code is Linux's (namespaces, prctl,
/proc).  Elsewhere (macOS, Windows) the check runs the student's code in a
plain subprocess (`grader.sandbox.limits.PLAIN`): it is their own code on
their own machine; the kit says so in one line and goes on.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

KIT_RUBRIC = Path(__file__).resolve().parent / "kitdata" / "rubric.yaml"
EXIT_USAGE = 2

NO_SANDBOX = ("note: on {system} the check runs your code in a plain subprocess, without the Linux sandbox "
              "(your own code on your own machine); final grading runs it sandboxed.")


def sandboxed(platform: str | None = None) -> bool:
    """Whether the check runs in the Linux sandbox here (`sys.platform`,
    overridable for tests); elsewhere, in a plain subprocess."""
    return (platform or sys.platform).startswith("linux")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nngrade", description="Student self-check: runs the public criteria of this kit's rubric on your "
        "file. Exit code 0 when every public check passes.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    check = sub.add_parser("check", help="check nn.py (or a notebook, folder or .zip) on the public criteria")
    check.add_argument("submission", help="your nn.py, notebook, folder or .zip")
    check.add_argument("--rubric", default=None,
                       help="a kit's rubric.yaml (default: the rubric installed with this kit)")
    return parser


def main(argv: Sequence[str] | None = None, *, platform: str | None = None) -> int:
    args, rest = build_parser().parse_known_args(list(sys.argv[1:] if argv is None else argv))
    if args.command is None:
        build_parser().print_help()
        return EXIT_USAGE
    if not sandboxed(platform):
        print(NO_SANDBOX.format(system=platform or sys.platform), file=sys.stderr)
    from .entry import check   # the one implementation of `check` (warm process, zygote, grader.cli)

    rubric = args.rubric if args.rubric is not None else str(KIT_RUBRIC)
    return check(["check", args.submission, "--rubric", rubric, *rest])


if __name__ == "__main__":
    sys.exit(main())
