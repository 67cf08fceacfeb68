"""`python -m grader.mistakes`: print docs/MISTAKES.md (see `doc`)."""

from .doc import markdown

print(markdown(), end="")
