"""Result documents and rubrics as rich tables for the terminal (`grade`, `check`, `rubric`).

Feedback is wrapped at word boundaries, never cut: a cell holds the first
line of a criterion's feedback in full, and the whole feedback of every
criterion that did not pass follows the table.  A message several criteria
share (a syntax error stops all of them) is printed once; result.json keeps
each criterion's own entry (the collapsing is the renderers' job, as in the
HTML report).  Everything a student controls is printed as rich `Text`
through `for_terminal` (never markup).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader import diagnoses
from grader.names import for_terminal
from grader.render.common import GRADER_ERROR, GRADER_ERROR_LABEL, fmt_points, grader_error_ids, message_of, repeats

__all__ = ["STATUS_STYLE", "text", "result_table", "print_details", "print_result", "grader_failure_line", "rubric_table",
           "rubric_list_table", "rubric_settings"]

STATUS_STYLE = {"passed": "green", "partial": "yellow", "failed": "red", "error": "bold red", "hidden": "dim",
                GRADER_ERROR: "bold cyan"}   # the grader's failure: never the red of the student's


def text(message: object, style: str = "") -> Text:
    """Anything that may hold a student's text, ready to print: never
    markup, escape sequences and control characters removed."""
    return Text(for_terminal(message), style=style)


def _shown(crit: dict[str, Any], reveal: bool) -> bool:
    """False for a criterion whose outcome is withheld from this reader."""
    return not (crit.get("visibility") == "hidden" and (not reveal or crit.get("status") == "hidden"))


def _not_graded(result: dict[str, Any], crit: dict[str, Any]) -> bool:
    """True when the criterion failed only because the whole submission did."""
    error = result.get("error")
    return bool(error) and crit.get("status") == "error" and \
        message_of(str(crit.get("feedback") or "")) == f"Not graded: {error.get('message', '')}"


def result_table(result: dict[str, Any], *, reveal: bool) -> Table:
    """One row per criterion and a total row.  `reveal`: hidden criteria's
    outcomes are shown (`grade`, the instructor); otherwise they are rows
    saying "graded after release" and the total counts the shown ones."""
    name = result.get("name") or result["submission"]
    criteria = result["criteria"]
    shown = [c for c in criteria if _shown(c, reveal)]
    stopped = bool(shown) and all(_not_graded(result, c) for c in shown)   # nothing to say per row
    table = Table(title=text(f"{name} - {result.get('rubric_title', result['rubric'])}"),
                  caption=Text("not graded: see the problem below", style="bold red") if stopped else None)
    table.add_column("criterion", overflow="fold")
    table.add_column("points", justify="right", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    if not stopped:   # wraps at spaces; only a word wider than the column folds
        table.add_column("feedback", overflow="fold", ratio=1)

    def row(*cells: Any, end_section: bool = False) -> None:
        table.add_row(*cells[:len(table.columns)], end_section=end_section)

    same = repeats(criteria, shown=lambda c: _shown(c, reveal))
    headlines: dict[str, str] = {}   # a failure's first line -> the first criterion that said it
    score = top = 0.0
    for i, crit in enumerate(criteria):
        if not _shown(crit, reveal):
            row(text(crit["title"]), f"-/{crit['max_score']:g}", Text("hidden", style="dim"),
                Text("graded after release", style="dim"))
            continue
        if crit["status"] == GRADER_ERROR:   # the grader's failure: out of the total, said in words
            row(text(crit["title"]), Text(f"-/{crit['max_score']:g}", style="cyan"),
                Text(GRADER_ERROR_LABEL, style=STATUS_STYLE[GRADER_ERROR]),
                Text("the grader failed here, not your code (details below)", style="cyan"))
            continue
        score, top = score + crit["score"], top + crit["max_score"]
        if _not_graded(result, crit):
            cell = Text("not graded (see below)", style="dim")
        elif i in same:
            cell = text(f"the same failure as {criteria[same[i]]['title']}", style="dim")
        elif crit["status"] == "passed":   # short: all of it, wrapped
            cell = text(" ".join(str(crit.get("feedback") or "").split("\n")))
        else:   # the headline; the whole feedback follows the table
            lines = str(crit.get("feedback") or "").splitlines()
            headline = lines[0] if lines else ""
            if headline in headlines:
                cell = text(f"same as {headlines[headline]} (details below)", style="dim")
            else:
                headlines[headline] = crit["title"]
                cell = text(headline + (" (details below)" if len(lines) > 1 else ""))
        row(text(crit["title"]), f"{crit['score']:g}/{crit['max_score']:g}",
            text(crit["status"], style=STATUS_STYLE.get(crit["status"], "")), cell)
    hidden_left = len(shown) < len(criteria)
    if table.rows:
        table.rows[-1].end_section = True
    not_counted = [c for c in shown if c.get("status") == GRADER_ERROR]
    label = "total" + (" (shown criteria)" if hidden_left else "") + (
        f" ({len(not_counted)} not counted: grader failure)" if not_counted else "")
    row(Text(label, style="bold"), Text(f"{fmt_points(score)}/{fmt_points(top)}", style="bold"), "", "")
    return table


def print_details(console: Console, result: dict[str, Any], *, reveal: bool) -> None:
    """Below the table: the problem with the whole submission (once, with
    its advice), then the full feedback of each criterion that did not pass,
    a shared message printed once."""
    error = result.get("error")
    if error:
        diag = diagnoses.lookup(result, str(error.get("kind")))
        console.print(text(f"\n{diag.title} ({error.get('kind')}): every criterion above is not graded",
                           style="bold red"))
        console.print(text(error.get("message", "")))
        console.print(text(f"  {diag.explanation}\n  How to fix: {diag.fix}", style="cyan"))
    criteria = result["criteria"]
    same = repeats(criteria, shown=lambda c: _shown(c, reveal))
    explained: set[str] = {str(error.get("kind"))} if error else set()   # a diagnosis' advice is printed once
    for i, crit in enumerate(criteria):
        if not _shown(crit, reveal) or crit["status"] == "passed" or _not_graded(result, crit):
            continue
        status = GRADER_ERROR_LABEL if crit["status"] == GRADER_ERROR else crit["status"]
        console.print(text(f"\n{crit['title']} ({crit['id']}): {status}", style=STATUS_STYLE.get(crit["status"], "")))
        if i in same:
            console.print(text(f"The same failure as {criteria[same[i]]['title']} (above)."))
            continue
        console.print(text(crit["feedback"]))
        if crit["status"] == GRADER_ERROR:   # its feedback says it all; `grader_failure_line` sums them up
            continue
        for diag_id in crit["diagnoses"]:
            d = diagnoses.lookup(result, diag_id)
            if diag_id in explained:
                console.print(text(f"  likely cause: {d.title} (how to fix: above)", style="cyan"))
            else:
                explained.add(diag_id)
                console.print(text(f"  likely cause: {d.title}. How to fix: {d.fix}", style="cyan"))


def grader_failure_line(result: dict[str, Any], *, reveal: bool) -> Text | None:
    """One line under the details when the grader failed on shown
    criteria: how many points are left out of the total, and that it is
    not the student's mistake."""
    shown = {str(c.get("id")): c for c in result.get("criteria") or [] if isinstance(c, dict) and _shown(c, reveal)}
    failed = [shown[i] for i in grader_error_ids(result) if i in shown]
    if not failed:
        return None
    points = sum(float(c.get("max_score") or 0) for c in failed)
    return text(f"\nThe grader failed on {len(failed)} criteri{'on' if len(failed) == 1 else 'a'} "
                f"({', '.join(str(c['title']) for c in failed)}): a bug in the grader, not in your code. "
                f"{fmt_points(points)} point{'' if points == 1 else 's'} not counted in the total until the "
                "course staff fix it and grade again.", style="bold cyan")


def print_result(console: Console, result: dict[str, Any], *, reveal: bool) -> None:
    """The table, then the details, then the grader's own failures (if any)."""
    console.print(result_table(result, reveal=reveal))
    print_details(console, result, reveal=reveal)
    line = grader_failure_line(result, reveal=reveal)
    if line is not None:
        console.print(line)


def rubric_settings(rubric: Any) -> list[tuple[str, str]]:
    """Every setting a rubric fixes besides its criteria, as (name, value)
    rows: what the students' code is run with and judged against."""
    rows: list[tuple[str, str]] = [("id", rubric.id), ("title", rubric.title), ("seed", str(rubric.seed)),
                                   ("total points", fmt_points(rubric.total_points))]
    a = rubric.assignment
    if a is None:
        rows.append(("submission", "written questions only: an answers file (answers.yaml / answers.json) "
                                   "or a folder or notebook holding one"))
    else:
        arch = a.architecture
        alpha = f" (alpha {arch.alpha:g})" if arch.activation == "leaky_relu" else ""
        rows += [("network", f"{'-'.join(str(n) for n in arch.sizes)}, activation {arch.activation}{alpha}"),
                 ("loss", str(a.loss)), ("regularization", _plain(a.regularization)),
                 ("init", _plain(a.init)), ("optimizer", _plain(a.optimizer)), ("data", _plain(a.data)),
                 ("interface", _plain(rubric.interface))]
    rows += [("tolerances", _plain(rubric.tolerances)), ("limits", _plain(rubric.limits)),
             ("sandbox", _plain(rubric.sandbox))]
    return rows


def _plain(model: Any) -> str:
    """A settings model as `key value, ...` (nested ones in braces)."""
    data = model.model_dump(mode="json") if hasattr(model, "model_dump") else model
    if isinstance(data, dict):
        return ", ".join(f"{k} {_plain(v) if not isinstance(v, dict) else '{' + _plain(v) + '}'}"
                         for k, v in data.items()) or "none"
    if isinstance(data, list):
        return "[" + ", ".join(_plain(v) for v in data) + "]"
    if data is None:
        return "default"   # e.g. a step check's lr: the assignment's
    return f"{data:g}" if isinstance(data, float) else str(data)


def rubric_table(rubric: Any) -> tuple[Table, Table]:
    """`rubric show`: the settings, then the criteria with each one's own
    parameters (the check's settings, e.g. a training criterion's lr and
    iterations)."""
    settings = Table(show_header=False, title=f"{rubric.title} ({rubric.id})")
    settings.add_column("setting", style="bold", no_wrap=True)
    settings.add_column("value", overflow="fold")
    for name, value in rubric_settings(rubric):   # Text: "[column, flat]" is not markup
        settings.add_row(Text(name), Text(value))
    criteria = Table()
    for col in ("id", "title", "points", "visibility", "check", "settings"):
        criteria.add_column(col, overflow="fold")
    for crit in rubric.criteria:   # the check's settings with their defaults filled in (lr, iterations...)
        criteria.add_row(*(Text(cell) for cell in (crit.id, crit.title, f"{crit.points:g}", crit.visibility,
                                                    crit.check, _plain(crit.check_params()))))
    return settings, criteria


def rubric_list_table(entries: list[tuple[str, Any]]) -> Table:
    """`rubric list`: each bundled rubric's id, title, criteria and points
    (an entry whose file does not load shows its error instead)."""
    table = Table(title="bundled rubrics")
    for col in ("id", "title", "criteria", "points"):
        table.add_column(col, overflow="fold")
    for rid, rubric in entries:
        if isinstance(rubric, Exception):
            table.add_row(Text(rid), Text(f"does not load: {rubric}", style="red"), "", "")
        else:
            table.add_row(Text(rid), Text(rubric.title), str(len(rubric.criteria)), fmt_points(rubric.total_points))
    return table
