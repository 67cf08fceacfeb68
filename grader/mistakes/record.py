"""One known mistake as a record: its name, how it is made and recognized,
and every text a person reads about it.

The texts are `str.format` templates over the rubric's own words
(`grader.mistakes.words.Words`): a tanh course reads about tanh, a course
whose blocks are W1, b1, W2, b2 reads those names.
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Formatter
from typing import Any, Mapping


@dataclass(frozen=True)
class Diagnosis:
    """A mistake's texts, filled in with one rubric's words: what renderers show."""

    id: str
    title: str
    explanation: str
    fix: str

    def as_dict(self) -> dict[str, str]:
        return {"title": self.title, "explanation": self.explanation, "fix": self.fix}


@dataclass(frozen=True)
class Mistake:
    """A named mistake.

    `family`: the module it lives in (gradients, steps, ...).  `recognized`:
    how the grader tells it from the numbers (for maintainers and the docs).
    `mutant`: the name of the function in `grader.mutants` that commits it on
    purpose, when the grader recognizes it by reproducing it (instructor side
    only; a kit carries the recorded answers, never the mutant code)."""

    id: str
    family: str
    title: str
    explanation: str
    fix: str
    recognized: str = ""
    mutant: str | None = None

    def fields(self) -> set[str]:
        """The words its texts use (for the test that every rubric can fill them)."""
        names = set()
        for text in (self.title, self.explanation, self.fix):
            names.update(name for _, name, _, _ in Formatter().parse(text) if name)
        return names

    def render(self, words: Mapping[str, Any]) -> Diagnosis:
        return Diagnosis(self.id, self.title.format_map(words), self.explanation.format_map(words),
                         self.fix.format_map(words))
