"""The catalogue of known mistakes: id -> title, explanation, fix.

Checks attach diagnosis ids to a criterion result; renderers show the texts.
The texts come from the mistake records (`grader.mistakes`), filled in with
the rubric's own words: `catalogue_for(rubric, ids)` is what a result
document embeds (its "catalogue"), so a report shows the words of the rubric
it was graded with.  `get(id)` gives the texts in the handout's default
words, for a result without an embedded catalogue.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .mistakes import MISTAKES, Diagnosis, words_for
from .schema import Rubric

__all__ = ["Diagnosis", "CATALOGUE", "get", "catalogue_for", "lookup"]

_DEFAULT_WORDS = words_for(None)

CATALOGUE: dict[str, Diagnosis] = {m.id: m.render(_DEFAULT_WORDS) for m in MISTAKES.values()}
"""All known diagnoses by id, in the handout's default words."""


def get(diagnosis_id: str) -> Diagnosis:
    """The catalogue entry for ``diagnosis_id`` in the default words.

    Unknown ids never raise: they give a generic entry whose title is the id, so
    a renderer can always show something.
    """
    try:
        return CATALOGUE[diagnosis_id]
    except (KeyError, TypeError):
        return Diagnosis(
            id=str(diagnosis_id),
            title=str(diagnosis_id),
            explanation="The grader flagged this pattern, but it has no description yet.",
            fix="Compare your code with the formulas in the handout, and ask the course staff.",
        )


def catalogue_for(rubric: Rubric | None, ids: Iterable[str]) -> dict[str, dict[str, str]]:
    """The entries for `ids` in `rubric`'s words, as a result document embeds them."""
    words = words_for(rubric)
    return {i: MISTAKES[i].render(words).as_dict() for i in sorted(set(ids)) if i in MISTAKES}


def lookup(result: dict[str, Any] | None, diagnosis_id: str) -> Diagnosis:
    """The entry a renderer shows for `diagnosis_id` in `result`: the one the
    result embeds (the rubric's words) if any, else the default words."""
    embedded = ((result or {}).get("catalogue") or {}).get(str(diagnosis_id))
    if isinstance(embedded, dict):
        return Diagnosis(str(diagnosis_id), str(embedded.get("title", diagnosis_id)),
                         str(embedded.get("explanation", "")), str(embedded.get("fix", "")))
    return get(diagnosis_id)
