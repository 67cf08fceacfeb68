"""`nngrade`: the command line.

    nngrade batch SUBMISSIONS --rubric R --out OUT   grade a class (or an LMS download; --roster, --due)
    nngrade grade SUBMISSION --rubric R --out OUT    grade one student
    nngrade check SUBMISSION [--rubric R]            student self-check (public criteria)
    nngrade kit --rubric R --out DIR                 build the student kit
    nngrade rubric validate|show R                   inspect a rubric
    nngrade gradescope build --rubric R --out Z.zip  the Gradescope autograder bundle

Exit codes: 0 success (for `check`: every public check passed), 1 a failed
check (or one the grader failed on) or a batch with grader-side failures (a submission
not graded, or a criterion the grader failed on), 2 usage or input errors.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from . import __version__
from .names import for_terminal
from .render.terminal import print_result, text   # text: student-controlled text, never markup
from .rubric import Rubric, RubricError, load_rubric
from .secret import CourseSecret, SecretError, load_or_create
from .submission import SubmissionError
from .blas import share_blas_threads   # not .executors: only `batch` needs process pools

# Start-up time is what a student waits for on every `nngrade check`: this
# module imports only what every command needs; what one command alone uses
# (the engine, batch's process pools, Dask, SQLite and HTML rendering, the
# kit) is imported inside it.  tests/cli/test_cli_imports.py holds that line.

# The grader's own NumPy work is small matrices: one BLAS thread is as fast
# and does not fight the students' processes or a pool for the cores.
# (Nothing above imports NumPy; explicit settings are kept, and pool
# processes inherit this.)
share_blas_threads(1)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input from the user: printed plainly, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nngrade", description="Grade neural-network homework: "
                                     "import each student's NN class, check it numerically, explain mistakes.")
    parser.add_argument("--version", action="version", version=f"nngrade {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def limits(p: argparse.ArgumentParser) -> None:
        g = p.add_argument_group("limits (override the rubric's)")
        g.add_argument("--criterion-seconds", type=float,
                       help="CPU seconds per criterion (all the student's processes; wall-clock backstop 3x)")
        g.add_argument("--submission-seconds", type=float,
                       help="CPU seconds per submission (all the student's processes; wall-clock backstop 3x)")
        g.add_argument("--memory-mb", type=int, help="memory per student process")
        g.add_argument("--cpu-seconds", type=int, help="CPU time per student process (a hard rlimit)")
        g.add_argument("--processes", type=int, help="processes per student (fork bombs stop here)")
        g.add_argument("--output-kb", type=int, help="captured student output kept, in KiB")
        g.add_argument("--file-mb", type=int, help="largest file (and output) a student may write, in MiB")

    b = sub.add_parser("batch", help="grade every submission in a folder")
    b.add_argument("submissions", type=Path, help="folder of .py/.ipynb/.zip files and sub-folders")
    b.add_argument("--rubric", default="penguins-silu", help="rubric id or path (default: penguins-silu)")
    b.add_argument("--out", type=Path, default=Path("reports"), help="output folder (default: reports)")
    b.add_argument("--workers", type=int, default=None, help="parallel graders (default: all cores)")
    b.add_argument("--only", action="append", metavar="ID", help="regrade only this submission (repeatable)")
    b.add_argument("--force", action="store_true", help="regrade even unchanged submissions")
    shown = b.add_mutually_exclusive_group()
    shown.add_argument("--release", action="store_true", default=None,
                       help="release the grades: hidden criteria shown in the students' reports "
                            "(OUT/release.students/); stored, so it sticks for regrades and late submissions")
    shown.add_argument("--unrelease", dest="release", action="store_false",
                       help="withdraw a release: hidden criteria withheld again in the students' reports")
    intake_options(b)
    b.add_argument("--glue-map", type=Path, metavar="MAP.yaml",
                   help="per-submission glue: a YAML map 'submission: glue.py' (paths relative to the map, both "
                        "outside the submissions folder) for students who drifted from the course's API")
    b.add_argument("--executor", choices=("local", "dask"), default="local")
    b.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786")
    secret_option(b)
    limits(b)

    g = sub.add_parser("grade", help="grade one submission (all criteria)")
    g.add_argument("submission", type=Path)
    g.add_argument("--rubric", default="penguins-silu")
    g.add_argument("--out", type=Path, default=Path("reports"))
    g.add_argument("--release", action="store_true",
                   help="show hidden criteria in the student's report (OUT/release.students/<id>/report.html)")
    g.add_argument("--glue", type=Path, metavar="GLUE.py",
                   help="grade through this glue instead of the rubric's (a student who drifted from the API)")
    secret_option(g)
    limits(g)

    c = sub.add_parser("check", help="student self-check: public criteria only")
    c.add_argument("submission", type=Path)
    c.add_argument("--rubric", default="penguins-silu")
    limits(c)

    k = sub.add_parser("kit", help="build a student kit (public rubric, data, skeleton, answers)")
    k.add_argument("--rubric", default="penguins-silu")
    k.add_argument("--out", type=Path, required=True)

    s = sub.add_parser("secret", help="create (once) and show the course secret that seeds final grading")
    secret_option(s)

    gs = sub.add_parser("gradescope", help="Gradescope autograder: build the bundle (build), or grade inside "
                        "Gradescope's container (run, called by the bundle's run_autograder)")
    gs.add_argument("action", choices=("build", "run"))
    gs.add_argument("--rubric", default="penguins-silu", help="build: rubric id or path (the full rubric)")
    gs.add_argument("--out", type=Path, default=Path("autograder.zip"), help="build: the bundle to write")
    gs.add_argument("--root", type=Path, default=None,
                    help="run: the autograder root (default: $NNGRADE_AUTOGRADER_ROOT or /autograder)")
    secret_option(gs)

    r = sub.add_parser("rubric", help="list the bundled rubrics, validate or show one")
    r.add_argument("action", choices=("list", "validate", "show"))
    r.add_argument("rubric", nargs="?", help="rubric id or path (a path ends in .yaml/.yml, holds a '/' or is a "
                                             "file; anything else is a bundled id)")
    r.add_argument("--solution", type=Path, default=None, metavar="SOLUTION",
                   help="validate: also grade your own solution (a file or folder) on every criterion, hidden "
                        "ones too, through the rubric and its glue; the rubric is refused unless it scores full marks")
    return parser


def intake_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("intake (README: From your LMS)")
    g.add_argument("--roster", type=Path, metavar="CSV",
                   help="class list (student_id,name,email,login[,lms_id]; a Canvas gradebook export works): "
                        "every student gets a gradebook row, missing and not gradable included")
    g.add_argument("--due", metavar="WHEN", help="due date, ISO 8601 with its UTC offset, e.g. 2026-11-27T23:59+01:00")
    g.add_argument("--late-penalty", metavar="P", help="percent of the score deducted when late: once (10) "
                   "or per started day (10/day); capped at 100")


def build_intake_for(args: argparse.Namespace, rubric: Rubric) -> Any:
    """The batch's intake from --roster, --due and --late-penalty (bad values are usage errors)."""
    from .intake.late import LateError, LatePolicy, parse_due, parse_penalty
    from .intake.plan import build
    from .intake.roster import read_roster

    try:
        due = parse_due(args.due) if args.due else None
        percent, per_day = parse_penalty(args.late_penalty) if args.late_penalty else (0.0, False)
    except LateError as exc:
        raise UsageError(str(exc)) from exc
    if percent and due is None:
        raise UsageError("--late-penalty needs --due (Canvas's own LATE marker is used where the download has one)")
    roster = read_roster(args.roster) if args.roster else None
    return build(args.submissions, answers=rubric.answers_only, roster=roster,
                 class_name=None if rubric.answers_only else rubric.interface.class_name,
                 policy=LatePolicy(due, percent, per_day))


def print_intake(console: Console, intake: Any) -> None:
    """What intake found, before grading: the layout, and everyone who gets no grade or a flag."""
    if intake.layout != "folder" or intake.roster is not None:
        console.print(text(f"{intake.layout} layout: {len(intake.entries)} submissions to grade"
                           + (f", roster of {len(intake.roster.students)} ({intake.roster.source})"
                              if intake.roster is not None else "")))
    for absent in intake.absent:
        console.print(text(f"{absent.status.replace('-', ' ')}: {absent.name} ({absent.sid}): {absent.message}",
                           style="yellow"))
    if intake.unmatched:
        console.print(text("not on the roster (graded under their own names): " + ", ".join(intake.unmatched),
                           style="yellow"))
    if intake.ignored:
        console.print(text("not a submission (ignored): " + ", ".join(intake.ignored), style="dim"))


def refuse_class_folder(path: Path, rubric: Rubric) -> None:
    """`grade` grades one student: a folder that holds a class is a usage error."""
    from .intake.layouts import scan

    if not path.is_dir() or path.is_symlink():
        return
    found = scan(path, answers=rubric.answers_only,
                 class_name=None if rubric.answers_only else rubric.interface.class_name)
    if found.layout != "folder":
        raise UsageError(f"{path} is a {found.layout} download of {len(found.handins)} submissions: "
                         f"grade it with nngrade batch {path} --out OUT")
    from .intake.choose import PREFERRED_NAMES

    if any((path / name).is_file() for name in PREFERRED_NAMES):
        return
    defining = _defining_files(path, rubric)
    # sub-folders that hold the class themselves (a helper package does not count), and zips
    units = [h for h in found.handins if h.path is not None and not h.path.is_symlink()
             and (h.path.suffix == ".zip" or (h.path.is_dir() and any(
                 _defining_files(d, rubric) for d in [h.path, *sorted(q for q in h.path.rglob("*") if q.is_dir())])))]
    if len(units) >= 2 or len(defining) >= 3 or (units and defining):
        shown = ", ".join(sorted(h.key for h in found.handins)[:6])
        raise UsageError(f"{path} looks like a folder of {len(found.handins)} submissions ({shown}, ...): grade it "
                         f"with nngrade batch {path} --out OUT. If it is one student's folder, keep only the files "
                         "to grade in it or name the main one nn.py.")


def _defining_files(path: Path, rubric: Rubric) -> list[Path]:
    import re

    name = re.escape(rubric.interface.class_name)
    pattern = re.compile(rf"^[ \t]*class[ \t]+{name}\b", re.MULTILINE)
    return [p for p in sorted(path.iterdir()) if p.is_file() and p.suffix in (".py", ".ipynb")
            and pattern.search(p.read_text(encoding="utf-8", errors="replace"))]


def secret_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--secret", type=Path, default=None, metavar="FILE",
                   help="the course secret that seeds final grading's questions (default: $NNGRADE_SECRET_FILE "
                        "or ~/.config/nngrade/course-secret, created on first use; never inside the "
                        "submissions or output folders, never handed to students)")


def course_secret(args: argparse.Namespace, console: Console, *forbidden: Path) -> CourseSecret:
    """Load the course secret, creating it on first use (and saying so)."""
    try:
        secret, path, created = load_or_create(args.secret, forbidden=tuple(forbidden))
    except SecretError as exc:
        raise UsageError(str(exc)) from exc
    if created:
        console.print(text(f"created the course secret {path} (keep it private and keep it: the same secret gives "
                           "the same grades; a new one asks new questions)"))
    return secret


def with_limits(rubric: Rubric, args: argparse.Namespace) -> Rubric:
    updates = {name: getattr(args, name, None) for name in ("criterion_seconds", "submission_seconds",
                                                            "memory_mb", "cpu_seconds", "processes",
                                                            "output_kb", "file_mb")}
    updates = {k: v for k, v in updates.items() if v is not None}
    if not updates:
        return rubric
    try:
        limits = rubric.limits.model_validate({**rubric.limits.model_dump(), **updates})
    except ValidationError as exc:
        problems = "; ".join(f"--{'-'.join(str(p) for p in e['loc']).replace('_', '-')}: {e['msg']}"
                             for e in exc.errors())
        raise UsageError(problems) from exc
    return rubric.model_copy(update={"limits": limits})


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "check":  # the sandbox's zygote imports NumPy while the grader imports itself
        from .sandbox.zygote import prestart

        prestart()
    console = Console(highlight=False)
    errors = Console(stderr=True, highlight=False)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return COMMANDS[args.command](args, console)
    except (RubricError, SubmissionError, UsageError) as exc:
        errors.print(Text.assemble(("error:", "bold red"), " ", text(exc)), soft_wrap=True)
        return EXIT_USAGE
    except KeyboardInterrupt:
        errors.print("interrupted: finished grades are saved; run the same command again to resume")
        return 130


# -- commands ---------------------------------------------------------------------

def cmd_batch(args: argparse.Namespace, console: Console) -> int:
    from .batch import run_batch
    from .executors import make_executor

    if not args.submissions.is_dir():
        raise UsageError(f"{args.submissions} is not a folder of submissions")
    if args.executor == "dask" and not args.scheduler:
        raise UsageError("--executor dask needs --scheduler ADDRESS")
    rubric = with_limits(load_rubric(args.rubric), args)
    intake = build_intake_for(args, rubric)
    glues = glue_map_for(args, rubric, intake)   # refused before anything is written
    secret = course_secret(args, console, args.submissions, args.out)
    print_intake(console, intake)
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers {args.workers}: give at least 1 parallel grader, or leave it out to use "
                         "every core")
    executor = make_executor(args.executor, args.workers, args.scheduler)
    progress = _BatchProgress(console)
    try:
        report = run_batch(args.submissions, rubric, args.out, executor=executor, only=args.only,
                           force=args.force, release=args.release, on_event=progress.event, secret=secret,
                           intake=intake, glues=glues)
    finally:
        progress.stop()
        if hasattr(executor, "close"):
            executor.close()
    criteria_failed = sum(len(ids) for ids in report.grader_errors.values())
    console.print(f"graded {len(report.graded)}, unchanged {len(report.skipped)}, "
                  f"grader failures {len(report.failed) + criteria_failed} in {report.seconds:.1f} s")
    for sid, error in sorted(report.failed.items()):
        console.print(Text.assemble(("grader failure", "red"), " ", text(f"{sid}: {(error.splitlines() or [''])[0]}")))
    out = args.out.resolve()
    print_grader_errors(console, report.grader_errors, out)
    print_glued(console, report.glued)
    console.print(text(f"reports:   {out}/<id>/report.html (instructor's view)\nsummary:   {out / 'summary.html'}\n"
                       f"gradebook: {out / 'gradebook.csv'} (Canvas: {out / 'gradebook_canvas.csv'})"))
    console.print(text(release_line(out, report.released)))
    return EXIT_FAILED if report.failed or report.grader_errors else EXIT_OK


def glue_map_for(args: argparse.Namespace, rubric: Rubric, intake: Any) -> dict[str, Any]:
    """--glue-map: submission id -> its glue (grader/gluemap.py); any problem is a usage error."""
    if args.glue_map is None:
        return {}
    from .gluemap import resolve

    return _glue_usage(lambda: resolve(args.glue_map, intake.entries, rubric, args.submissions))


def glue_for(args: argparse.Namespace, rubric: Rubric) -> Any:
    """grade --glue: one student's glue, checked like a map's (None without the option)."""
    if args.glue is None:
        return None
    from .gluemap import single

    return _glue_usage(lambda: single(args.glue, rubric, args.submission))


def _glue_usage(read: Callable[[], Any]) -> Any:
    """What `read` returns; a refused glue map or glue is a usage error (exit 2, nothing written)."""
    from .gluemap import GlueMapError

    try:
        return read()
    except GlueMapError as exc:
        raise UsageError(str(exc)) from exc


def print_glued(console: Console, glued: dict[str, dict[str, str]]) -> None:
    """The students graded through a glue of their own, with which version."""
    if not glued:
        return
    from .render.common import glue_label

    console.print(text(f"graded through per-submission glue ({len(glued)}): "
                       + ", ".join(f"{sid} {glue_label(record)}" for sid, record in sorted(glued.items()))))


def print_grader_errors(console: Console, grader_errors: dict[str, list[str]], out: Path) -> None:
    """The criteria the grader failed on, and where to look: they are not
    counted in any total, and a re-run of the batch regrades them."""
    if not grader_errors:
        return
    n = sum(len(ids) for ids in grader_errors.values())
    console.print(Text(f"the grader failed on {n} criteri{'on' if n == 1 else 'a'} in {len(grader_errors)} "
                       f"submission{'' if len(grader_errors) == 1 else 's'} (not counted in their totals; "
                       "gradebook column grader_errors):", style="bold red"))
    for sid, ids in sorted(grader_errors.items()):
        console.print(Text.assemble(("grader failure", "red"), " ", text(f"{sid}: {', '.join(ids)}")))
    console.print(text(f"tracebacks: {out}/<id>/run.json (instructor_notes, key grader-error); fix the grader, "
                       "then run the same batch again: it regrades these submissions"))


class _BatchProgress:
    """A rich progress bar with ETA on a terminal; one line per submission otherwise."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.bar: Any = None
        self.task: Any = None
        self.done = 0
        self.total = 0
        self.rerender_total = self.rerender_done = 0
        self.rerender_started = 0.0

    def event(self, kind: str, payload: Any) -> None:
        if kind in ("rerender", "rerendered"):
            self._rerender(kind, payload)
            return
        if kind == "planned":
            self.total = payload["tasks"]
            self.console.print(f"{payload['tasks']} to grade, {payload['skipped']} unchanged (kept)")
            if self.console.is_terminal and self.total:
                from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

                self.bar = Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                                    TimeRemainingColumn(), console=self.console)
                self.bar.start()
                self.task = self.bar.add_task("grading", total=self.total)
            return
        self.done += 1
        if kind == "graded":
            res = payload.result
            line = f"{res['submission']}: {res['score']:g}/{res['max_score']:g}"
            if res.get("error"):
                line += f" ({res['error']['kind']})"
            from .intake.notes import is_ambiguous

            record = res.get("intake") if isinstance(res.get("intake"), dict) else {}
            if record.get("late"):
                line += f" late, final {record.get('final_score', res['score']):g}"
            if is_ambiguous(res):
                line += " (several code files: check which was graded)"
            if res.get("grader_errors"):
                line += f" (grader failure, not counted: {', '.join(res['grader_errors'])})"
            from .render.common import glue_label, special_glue

            if (glue := special_glue(res)) is not None:
                line += f" (through glue {glue_label(glue)})"
        else:
            line = f"{payload[0]}: grader failure"
        line = for_terminal(line)
        if self.bar is not None:   # the description is markup: escaped
            self.bar.update(self.task, advance=1, description=escape(line[:40]))
        else:
            self.console.print(Text(f"[{self.done}/{self.total}] {line}"))

    def _rerender(self, kind: str, payload: Any) -> None:
        """Re-rendering the students' reports after --release/--unrelease
        (or for a batch from before the release tree): say so, and show
        progress about every tenth report."""
        if kind == "rerender":
            self.rerender_total, self.rerender_done = payload["reports"], 0
            self.rerender_started = time.monotonic()
            state = "released" if payload["released"] else "not released"
            self.console.print(f"grades {state}: re-rendering {self.rerender_total} student report"
                               f"{'' if self.rerender_total == 1 else 's'} (no regrading)")
            return
        self.rerender_done += 1
        step = max(1, self.rerender_total // 10)
        if self.rerender_done % step == 0 or self.rerender_done == self.rerender_total:
            self.console.print(f"  re-rendered {self.rerender_done}/{self.rerender_total} "
                               f"({time.monotonic() - self.rerender_started:.1f} s)")

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def cmd_grade(args: argparse.Namespace, console: Console) -> int:
    from .engine import grade
    from .outputs import write_submission_outputs

    if not args.submission.exists():
        raise UsageError(f"{args.submission} does not exist")
    rubric = with_limits(load_rubric(args.rubric), args)
    refuse_class_folder(args.submission, rubric)
    glue = glue_for(args, rubric)
    secret = course_secret(args, console, args.submission, args.out)
    hide_neighbours(args.submission, args.out, Path(secret.source).parent)
    outcome = grade(args.submission, rubric, secret=secret, glue=glue)
    folder = write_submission_outputs(outcome, args.out, release=args.release)
    print_result(console, outcome.result, reveal=True)
    from .intake.notes import notes

    for note in notes(outcome.result):
        console.print(text(note, style="yellow"))
    if glue is not None:
        from .render.common import glue_label

        console.print(text(f"graded through glue {glue_label(glue.record())} ({glue.origin})"))
    console.print(text(f"report: {folder.resolve() / 'report.html'} (instructor's view)"))
    console.print(text(release_line(args.out.resolve(), args.release)))
    failed = outcome.result.get("grader_errors") or []
    if failed:   # the grade is incomplete: like a batch, say where to look and exit non-zero
        print_grader_errors(console, {outcome.result["submission"]: list(failed)}, args.out.resolve())
    return EXIT_FAILED if failed else EXIT_OK


def release_line(out: Path, released: bool) -> str:
    """Where the students' reports are, and whether they show hidden criteria."""
    from .release import release_folder

    state = "released: hidden criteria shown" if released else "not released: hidden criteria withheld until --release"
    return f"students:  {release_folder(out)}/<id>/report.html ({state})"


def hide_neighbours(submission: Path, *more: Path) -> None:
    """Classmates' files next to the submission, and the output folder, are
    hidden from the student's process."""
    from .sandbox.limits import hide

    hide(submission.resolve().parent, *[p.resolve() for p in more if p.exists()])


def cmd_check(args: argparse.Namespace, console: Console) -> int:
    from .engine import CHECK_WALL_FACTOR, grade

    if not args.submission.exists():
        raise UsageError(f"{args.submission} does not exist")
    rubric = with_limits(load_rubric(args.rubric, cached=True), args)   # run after run: grader/rubric_cache.py
    started = time.monotonic()
    result = grade(args.submission, rubric, public_only=True, wall_factor=CHECK_WALL_FACTOR).result
    print_result(console, result, reveal=False)
    public = [c for c in result["criteria"] if c["visibility"] == "public"]
    hidden = [{"title": c["title"], "max_score": c["max_score"]} for c in result["criteria"]
              if c["visibility"] != "public"]
    hidden += [{"title": h.get("title", "?"), "max_score": float(h.get("points", 0))} for h in rubric.hidden_summary]
    counted = [c for c in public if c["status"] != "grader-error"]   # the grader's failures are not the student's
    failures = [c for c in counted if c["status"] != "passed"]
    score = sum(c["score"] for c in counted)
    top = sum(c["max_score"] for c in counted)
    console.print(f"\npublic score {score:g}/{top:g} in {time.monotonic() - started:.1f} s")
    if hidden:
        console.print(text(f"{len(hidden)} hidden criteria ({sum(c['max_score'] for c in hidden):g} points) are "
                           "graded after the deadline: " + ", ".join(c["title"] for c in hidden), style="dim"))
    if failures or result.get("error"):
        console.print(Text(f"{len(failures)} of {len(counted)} public checks need work.", style="bold red"))
        return EXIT_FAILED
    if len(counted) < len(public):   # not all checked: no "all passed"
        console.print(Text(f"the other {len(counted)} public checks passed; tell the course staff that the grader "
                           "failed (see above)", style="bold cyan"))
        return EXIT_FAILED
    console.print(Text("all public checks passed" + (" (hidden criteria are graded later)" if hidden else ""),
                       style="bold green"))
    return EXIT_OK


def cmd_kit(args: argparse.Namespace, console: Console) -> int:
    from .kit import SKELETON_ASIDE, SKELETON_NAME, build_kit

    rubric = load_rubric(args.rubric)
    before = args.out / SKELETON_NAME
    before = before.read_bytes() if before.is_file() else None
    folder = build_kit(rubric, args.out)
    first = "answers.yaml" if rubric.answers_only else SKELETON_NAME
    # paths as given (relative stays relative): the lines are meant to be pasted into a handout
    console.print(text(f"student kit written to {folder} (hand out the whole folder; it holds no solution)"))
    aside = folder / SKELETON_ASIDE
    if not rubric.answers_only and before is not None and aside.is_file() and aside.read_bytes() != before:
        console.print(text(f"{folder / SKELETON_NAME} already existed and was kept; "
                           f"the skeleton is in {folder / SKELETON_ASIDE}", style="yellow"))
    console.print(text(f"students install it once: pip install ./{folder.name}\n"
                       f"then run, in the kit's folder: nngrade check {first}"))
    return EXIT_OK


def cmd_rubric(args: argparse.Namespace, console: Console) -> int:
    from .render.terminal import rubric_list_table, rubric_table
    from .rubric import bundled_ids

    if args.action == "list":
        if args.rubric:
            raise UsageError("rubric list takes no rubric: it lists the bundled ones")
        entries: list[tuple[str, Any]] = []
        for rid in bundled_ids():
            try:
                entries.append((rid, load_rubric(rid)))
            except RubricError as exc:   # one broken file is shown, never hides the others
                entries.append((rid, exc))
        console.print(rubric_list_table(entries))
        console.print("show one: nngrade rubric show ID")
        return EXIT_OK
    if not args.rubric:
        raise UsageError(f"rubric {args.action} needs a rubric id or path (bundled: nngrade rubric list)")
    if args.solution is not None and args.action != "validate":
        raise UsageError(f"--solution goes with rubric validate, not rubric {args.action}")
    if args.solution is not None and not args.solution.exists():   # before the audits, which may train
        raise UsageError(f"--solution {args.solution} does not exist")
    rubric = load_rubric(args.rubric)
    if args.action == "validate":
        from .rubric import refuse_failed_audits

        refuse_failed_audits(rubric, str(args.rubric))   # the costly rules too (RubricError: exit 2)
        if args.solution is not None:
            validate_solution(console, rubric, str(args.rubric), args.solution)
        console.print(f"{args.rubric}: valid ({len(rubric.criteria)} criteria, {rubric.total_points:g} points)")
        return EXIT_OK
    for table in rubric_table(rubric):
        console.print(table)
    console.print(f"total {rubric.total_points:g} points")
    return EXIT_OK


def validate_solution(console: Console, rubric: Rubric, name: str, solution: Path) -> None:
    """`rubric validate --solution`: say what carries out each criterion's
    operations (the glue, or the default glue's method names), then grade
    the instructor's solution on every criterion; RubricError (exit 2)
    naming each criterion short of full marks (`grader.validate`)."""
    from .validate import glue_support, grade_solution, solution_failures

    for line in glue_support(rubric):
        console.print(text(line))
    result = grade_solution(solution, rubric)
    failures = solution_failures(result)
    if failures:
        raise RubricError("\n".join([f"{name}: the solution {solution} scored {result['score']:g}/"
                                     f"{result['max_score']:g}, not full marks: the rubric"
                                     + (" (or its glue)" if rubric.interface.glue else "")
                                     + " does not grade your own solution correctly:", *(f"  {line}" for line in failures)]))
    console.print(text(f"solution {solution}: {result['score']:g}/{result['max_score']:g}, every criterion "
                       f"passed (hidden ones too)"))


def cmd_gradescope(args: argparse.Namespace, console: Console) -> int:
    import os

    from .autograder import DEFAULT_ROOT, ROOT_VARIABLE, BundleError, build_bundle, run

    if args.action == "run":
        root = args.root or Path(os.environ.get(ROOT_VARIABLE) or DEFAULT_ROOT)
        console.print(text(f"results: {run(root)}"))
        return EXIT_OK
    secret = course_secret(args, console)
    try:
        entries = build_bundle(args.rubric, secret, args.out)
    except BundleError as exc:
        raise UsageError(str(exc)) from exc
    console.print(text(f"Gradescope autograder written to {args.out} ({len(entries)} files; course secret "
                       f"fingerprint {secret.fingerprint})\n"
                       "It holds the solution and the course secret: upload it to Gradescope "
                       "(Autograder Settings > Zip file upload) and share it with no one.\n"
                       "Gradescope's image build runs its setup.sh, which needs the network (apt, pip)."))
    return EXIT_OK


def cmd_secret(args: argparse.Namespace, console: Console) -> int:
    secret = course_secret(args, console)
    console.print(f"course secret: {secret.source} (fingerprint {secret.fingerprint})")
    return EXIT_OK


COMMANDS = {"gradescope": cmd_gradescope, "secret": cmd_secret, "batch": cmd_batch, "grade": cmd_grade, "check": cmd_check, "kit": cmd_kit, "rubric": cmd_rubric}


if __name__ == "__main__":
    sys.exit(main())
