"""The `nngrade` program's first module (``[project.scripts]``, ``python -m grader``).

It imports only the standard library, so that `nngrade check` can do two
things before the grader's ~0.35 s of imports (NumPy, pydantic, rich, the
checks): hand the whole command to this user's warm check process
(`grader.warmcheck`), and, when there is none, start the sandbox's zygote
importing NumPy on the other core while this process imports the grader.
Every other command goes straight to `grader.cli`.
"""

from __future__ import annotations

import sys
from typing import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] != ["check"]:
        from .cli import main as cli_main

        return cli_main(args)
    return check(args)


def check(args: list[str]) -> int:
    """`nngrade check ...` (the instructor's program and the student kit's)."""
    from . import warmcheck

    code = warmcheck.hand_over(args)
    if code is not None:
        return code
    from .sandbox.zygote import prestart

    prestart()
    from .cli import main as cli_main

    code = cli_main(args)
    warmcheck.leave_spare()   # after the check: its start-up never competes with this one
    return code


if __name__ == "__main__":
    sys.exit(main())
