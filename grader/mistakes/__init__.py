"""Every named mistake, one record each, gathered from the family modules.

A family module (``gradients``, ``steps``, ...) holds the records of one
kind of mistake; written-answer mistakes live with the answers machinery
(`grader.answers.mistakes`).  Adding a mistake is adding one record to its
family (plus the test that the grader names it); the catalogue
(`grader.diagnoses`), the check declarations (`grader.checks.contract`) and
the test that every emitted id is known all read `MISTAKES`.
"""

from __future__ import annotations

from .record import Diagnosis, Mistake
from .words import Words, words_for

__all__ = ["Diagnosis", "Mistake", "MISTAKES", "FAMILIES", "Words", "words_for", "mistake"]

#: the family modules, in catalogue order
FAMILIES: tuple[str, ...] = ("gradients", "penalties", "outputs", "init", "steps", "training", "runtime", "intake",
                             "answers")


def _collect() -> dict[str, Mistake]:
    import importlib

    out: dict[str, Mistake] = {}
    for family in FAMILIES:
        if family == "answers":
            from ..answers.mistakes import RECORDS as ANSWER_RECORDS

            records = tuple(Mistake(r.id, "answers", _literal(r.title), _literal(r.explanation), _literal(r.fix),
                                    recognized=r.recognized) for r in ANSWER_RECORDS.values())
        else:
            records = importlib.import_module(f"{__name__}.{family}").RECORDS
        for record in records:
            if record.id in out:
                raise ValueError(f"mistake {record.id!r} is recorded twice ({out[record.id].family}, {family})")
            out[record.id] = record
    return out


def _literal(text: str) -> str:
    """A text with no words to fill in, as a template (its braces doubled)."""
    return text.replace("{", "{{").replace("}", "}}")


MISTAKES: dict[str, Mistake] = _collect()


def mistake(mistake_id: str) -> Mistake:
    return MISTAKES[mistake_id]
