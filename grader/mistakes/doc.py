"""docs/MISTAKES.md, generated from the records: the one list of named
mistakes a person reads, never edited by hand (a test compares it with the
records, so a new record without a regenerated page fails the suite).

    python -m grader.mistakes > docs/MISTAKES.md
"""

from __future__ import annotations

from . import FAMILIES, MISTAKES, words_for

TITLES = {
    "gradients": "Gradients", "penalties": "Elastic-net penalty", "outputs": "Forward pass, loss, parameter layout",
    "init": "Initialization", "steps": "Optimizer steps", "training": "Training", "runtime": "Running the code",
    "intake": "What was handed in", "answers": "Written answers",
}


def markdown() -> str:
    """Every record, by family, in the handout's default words."""
    words = words_for(None)
    lines = ["# Named mistakes", "",
             "Generated from the records in `grader/mistakes/` (and `grader/answers/mistakes.py`) by",
             "`python -m grader.mistakes > docs/MISTAKES.md`; do not edit by hand. Texts are shown in the",
             "handout's words (penguins, SiLU); a report shows them in its rubric's words.", ""]
    for family in FAMILIES:
        records = [m for m in MISTAKES.values() if m.family == family]
        lines += [f"## {TITLES[family]} ({len(records)})", "", "| id | mistake | how the grader recognizes it |",
                  "| --- | --- | --- |"]
        for record in records:
            text = record.render(words)
            how = record.recognized.replace("|", "\\|")
            if record.mutant:
                how += f" (computed on purpose: `grader.mutants.{record.mutant}`)"
            lines.append(f"| `{record.id}` | {text.title.replace('|', chr(92) + '|')} | {how} |")
        lines.append("")
    return "\n".join(lines)
