"""Grade a folder of submissions: parallel, resumable, one bad apple harmless.

The main process plans (what is new or changed), hands submissions to an
executor, and records each finished grade in the store the moment it
arrives.  Grading and rendering of one submission happen together in the
executor's worker (`grade_and_write`), so the main process only commits.
Class-level outputs (gradebook, summary) are rebuilt from the store at the
end, so they always describe every finished grade, old and new.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from . import __version__
from .engine import grade
from .glue import Glue, GlueError, parse_glue, rubric_glue
from .outputs import criteria_summary, write_atomic, write_submission_outputs
from .rubric import Rubric, RubricError, parse_rubric, refuse_failed_audits
from .secret import CourseSecret
from .store import GradeStore
from .intake.plan import Intake, apply_intake, build as build_intake
from .names import display
from .release import (RELEASE_DIR, release_folder, rendered_release, set_release, set_rendered, stored_release,
                      write_release_index, write_student_report)
from .submission import SubmissionError, digest_of, submission_name

STORE_NAME = "nngrade.sqlite"


def rubric_digest(rubric: Rubric, secret: CourseSecret | None = None, glue: Glue | None = None) -> str:
    """What a grade depends on besides the submission: rubric, grader version,
    the course secret (a new secret asks new questions: regrade) and the
    content of the rubric's glue (`glue`, as read for the tasks; read here
    when not given): the rubric names its glue by path, so an edited glue
    would otherwise keep every stale grade."""
    fingerprint = secret.fingerprint if secret is not None else "public"
    if glue is None and rubric.interface.glue:
        glue = rubric_glue(rubric)
    glued = f"glue:{glue.name}:{glue.sha256}" if glue is not None else ""
    return hashlib.sha256((rubric.model_dump_json() + __version__ + fingerprint + glued).encode()).hexdigest()


def glued_digest(digest: str, glue: Glue | None) -> str:
    """A submission's resume key with its per-submission glue folded in
    (name and content): a glue added, removed, renamed or edited regrades
    that student alone.  Without one the key is the submission's digest as
    it always was, so a class graded before glue maps resumes unchanged."""
    if glue is None:
        return digest
    return hashlib.sha256(f"{digest}\0glue\0{glue.name}\0{glue.sha256}".encode()).hexdigest()


@dataclass(frozen=True)
class Task:
    """One submission to grade; plain data so any executor can ship it."""

    path: str
    submission: str
    digest: str
    rubric_yaml: str
    out: str
    release: bool = False
    hidden_folders: tuple[str, ...] = ()   # classmates' files and results: never visible to a worker
    secret_hex: str = ""                   # the course secret, shipped by the batch's parent
    name: str = ""                         # the name intake gave it ("" = the engine's: the file's)
    intake_json: str = ""                  # its intake record (grader/intake/plan.py), JSON; "" = none
    # the glue it is graded through, shipped as text (the digest covers exactly what runs); "" = default glue
    glue_name: str = ""
    glue_source: str = ""
    glue_origin: str = ""


@dataclass
class TaskDone:
    submission: str
    digest: str
    result: dict[str, Any]
    run: dict[str, Any]


@lru_cache(maxsize=8)
def _parsed(rubric_text: str) -> Rubric:
    return parse_rubric(rubric_text, "<rubric>")


def grade_and_write(task: Task) -> TaskDone:
    """Runs in an executor worker: grade, then write the per-student files."""
    from .sandbox.limits import hide

    hide(*task.hidden_folders)
    rubric = _parsed(task.rubric_yaml)   # once per process: every task of a batch carries the same text
    secret = CourseSecret.from_hex(task.secret_hex) if task.secret_hex else None
    glue = parse_glue(task.glue_source, task.glue_name, task.glue_origin) if task.glue_source else None
    outcome = grade(Path(task.path), rubric, secret=secret, glue=glue)
    apply_intake(outcome.result, task.submission, task.name or outcome.result["name"],
                 json.loads(task.intake_json) if task.intake_json else None)
    write_submission_outputs(outcome, Path(task.out), release=task.release)
    return TaskDone(task.submission, task.digest, outcome.result, outcome.run)


@dataclass
class BatchReport:
    graded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)   # grader-side failures (never the student's)
    #: submission -> criteria the grader failed on, over every grade in the class outputs (not counted
    #: in any total; the batch exits non-zero until they are fixed and regraded)
    grader_errors: dict[str, list[str]] = field(default_factory=dict)
    seconds: float = 0.0
    out: Path | None = None
    released: bool = False
    #: submission -> its per-submission glue record (name, sha256, origin), over every grade in the class outputs
    glued: dict[str, dict[str, str]] = field(default_factory=dict)


def plan(submissions_dir: Path, rubric: Rubric, rubric_text: str, out: Path, store: GradeStore, *,
         only: list[str] | None = None, force: bool = False, release: bool = False,
         secret: CourseSecret | None = None, intake: Intake | None = None,
         glues: dict[str, Glue] | None = None, base_glue: Glue | None = None) -> tuple[list[Task], list[str]]:
    """Tasks for new or changed submissions; ids that are already current.
    `intake` (grader/intake/plan.py) says what to grade under which id; by
    default the folder is scanned without a roster or due date.  `glues`:
    submission id -> its per-submission glue (grader/gluemap.py), instead
    of `base_glue`, the rubric's (read once by the caller; None: read here)."""
    if base_glue is None and rubric.interface.glue:
        base_glue = rubric_glue(rubric)
    rdigest = rubric_digest(rubric, secret, base_glue)
    glues = glues or {}
    if intake is None:
        intake = build_intake(submissions_dir, answers=rubric.answers_only,
                              class_name=None if rubric.answers_only else rubric.interface.class_name)
    entries = intake.entries
    if not entries:
        raise SubmissionError("missing", empty_batch_message(submissions_dir, intake))
    ids = [e.sid for e in entries]
    if only:   # an id, the name as handed in (or intake's), or the file name
        named = {e.name: e.sid for e in entries}
        only = [named.get(o, o) for o in only]
        only = resolve_only(only, [e.path for e in entries], ids, submissions_dir)
    tasks, skipped = [], []
    # the secret's folder is hidden from workers like the batch's own folders
    secret_folders = (str(Path(secret.source).resolve().parent),) if secret is not None and secret.source else ()
    root = submissions_dir.resolve()
    for entry in entries:
        sid = entry.sid
        if only and sid not in only:
            continue
        digest = digest_of(entry.path)
        if entry.intake is not None:   # a changed roster, due date or penalty re-stamps the grade
            digest = hashlib.sha256((digest + entry.fingerprint()).encode()).hexdigest()
        glue = glues.get(sid, base_glue)
        digest = glued_digest(digest, glues.get(sid))
        if not force and not only and store.is_current(sid, digest, rdigest) \
                and (out / sid / "result.json").exists():
            skipped.append(sid)
            continue
        # the entry itself, never what a symbolic link points to (it is refused, unread)
        path = root / entry.path.relative_to(submissions_dir)
        tasks.append(Task(str(path), sid, digest, rubric_text, str(out), release,
                          hidden_folders=(str(root), str(out.resolve()), *secret_folders),
                          secret_hex=secret.hex if secret is not None else "",
                          name=entry.name, intake_json=json.dumps(entry.intake, sort_keys=True)
                          if entry.intake is not None else "",
                          glue_name=glue.name if glue is not None else "",
                          glue_source=glue.source if glue is not None else "",
                          glue_origin=glue.origin if glue is not None else ""))
    return tasks, skipped


def empty_batch_message(folder: Path, intake: Intake) -> str:
    """Why nothing can be graded, and what to do (an empty batch is a usage error)."""
    seen = intake.ignored + [a.name for a in intake.absent if a.status == "not-gradable"]
    found = f"it holds only {', '.join(seen[:5])}{' ...' if len(seen) > 5 else ''}" if seen else "it is empty"
    return (f"no submission to grade in {display(folder)}: {found}. A submission is a .py, .ipynb or .zip file "
            "or a folder holding one; give the folder that holds the students' submissions (or an LMS download, "
            "unzipped).")


def resolve_only(only: list[str], paths: list[Path], ids: list[str], submissions_dir: Path) -> list[str]:
    """`--only` names a submission by its id, its name as handed in, or its
    file name (`bug_loss_sum.py`); an unknown one is refused with the
    closest ids (a typo is a usage error, never a silent empty regrade)."""
    import difflib

    names = {}
    for path, sid in zip(paths, ids):
        names.update({submission_name(path): sid, display(path.name): sid, sid: sid})
    unknown = [o for o in only if o not in names]
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, ids, n=3, cutoff=0.6) or \
                difflib.get_close_matches(Path(name).stem, ids, n=3, cutoff=0.6)
            hints.append(f"{name} (did you mean {' or '.join(close)}?)" if close else name)
        raise SubmissionError("missing", f"no submission named {', '.join(hints)} in {display(submissions_dir)}; "
                              "--only takes an id as in OUT/<id>/, the name as handed in, or its file name")
    return [names[o] for o in only]


def rubric_wire_text(rubric: Rubric) -> str:
    """The rubric (with any command-line overrides) as text a task carries;
    JSON is valid YAML, so workers parse it with the same loader."""
    return json.dumps(rubric.model_dump(mode="json"), sort_keys=True)


def run_batch(submissions_dir: Path, rubric: Rubric, out: Path, *, executor: Any,
              only: list[str] | None = None, force: bool = False, release: bool | None = None,
              on_event: Callable[[str, Any], None] | None = None,
              secret: CourseSecret | None = None, intake: Intake | None = None,
              glues: dict[str, Glue] | None = None) -> BatchReport:
    """Grade what needs grading, then rebuild the class outputs.  Final
    grading passes the course `secret` (see grader/secret.py); without one the
    public questions are asked, which a kit can answer.

    `release`: True releases the grades (hidden criteria shown in the
    release tree), False withdraws a release, None keeps the stored state
    (grader/release.py), so a regrade or a late submission never silently
    changes what students see.  A change re-renders the release tree's
    reports of the submissions not regraded (events "rerender" and
    "rerendered").  A rubric whose audits fail (`grader.rubric.audit_problems`)
    is refused (RubricError) before anything is graded or written.

    `glues`: submission id -> the glue it is graded through instead of the
    rubric's (an instructor's map, grader/gluemap.py, already checked)."""
    started = time.monotonic()
    refuse_failed_audits(rubric)   # before anything is written: a bar the reference misses costs every student
    try:   # read once: the digest and the tasks see the same text
        base_glue = rubric_glue(rubric)
    except GlueError as exc:
        raise RubricError(f"interface.glue: {exc}") from None
    rubric_text = rubric_wire_text(rubric)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report = BatchReport(out=out)
    event = on_event or (lambda kind, payload: None)
    rdigest = rubric_digest(rubric, secret, base_glue)
    remove_partial_writes(out)
    with GradeStore(out / STORE_NAME) as store:
        before = rendered_release(store)   # what the student reports show now
        released = stored_release(store) if release is None else release
        set_release(store, released)        # first: tasks below and later runs follow it
        report.released = released
        tasks, report.skipped = plan(Path(submissions_dir), rubric, rubric_text, out, store,
                                     only=only, force=force, release=released, secret=secret,
                                     intake=intake, glues=glues, base_glue=base_glue)
        # released (or withdrawn) without regrading, or a batch from before the release tree
        missing = [sid for sid in report.skipped if not (release_folder(out) / sid / "report.html").exists()]
        stale = report.skipped if released != before else missing
        if stale:
            event("rerender", {"reports": len(stale), "released": released})
            rerender_reports(store, stale, out, released, instructor=set(missing),
                             on_done=lambda sid: event("rerendered", sid))
        set_rendered(store, released)       # last: an interrupted re-render is finished by the next run
        event("planned", {"tasks": len(tasks), "skipped": len(report.skipped)})
        for task, done, error in executor.map_unordered(grade_and_write, tasks):
            if error is not None:
                report.failed[task.submission] = error
                event("failed", (task.submission, error))
                continue
            store.record(done.submission, done.digest, rdigest, done.result, done.run)
            report.graded.append(done.submission)
            event("graded", done)
        results = [g.result for g in store.all(rdigest)]
    report.grader_errors = {r["submission"]: list(r["grader_errors"]) for r in results if r.get("grader_errors")}
    report.glued = per_submission_glue(results)
    write_class_outputs(results, rubric, out, released=released, intake=intake)
    report.seconds = time.monotonic() - started
    return report


def per_submission_glue(results: list[dict]) -> dict[str, dict[str, str]]:
    """Submission id -> the glue record of each grade made through a
    student's own glue (the rubric's glue is everyone's: not listed)."""
    from .render.common import special_glue

    return {str(r["submission"]): record for r in results if (record := special_glue(r)) is not None}


#: the class outputs at OUT's top level: no submission id can equal one of them
#: (grader/names.py: an id never ends in .html, .csv, .sqlite...), so OUT/<id>/ never collides
CLASS_OUTPUTS = ("summary.html", "gradebook.csv", "gradebook_canvas.csv", STORE_NAME, RELEASE_DIR)
OUTPUT_NAMES = ("result.json", "run.json", "gradescope.json", "report.html", "summary.html",
                "gradebook.csv", "gradebook_canvas.csv", "index.html")


def remove_partial_writes(out: Path) -> list[Path]:
    """Delete the temporary files of writes a killed batch left unfinished
    (`write_atomic` names them `.<name>.<random>`)."""
    removed = []
    tree = release_folder(out)
    folders = [out, *[p for p in out.iterdir() if p.is_dir()]] if out.is_dir() else []
    folders += [p for p in tree.iterdir() if p.is_dir()] if tree.is_dir() else []
    for folder in folders:
        for path in folder.iterdir():
            if path.is_file() and any(path.name.startswith(f".{name}.") for name in OUTPUT_NAMES):
                path.unlink()
                removed.append(path)
    return removed


def rerender_reports(store: GradeStore, ids: list[str], out: Path, released: bool,
                     instructor: set[str] = frozenset(), on_done: Callable[[str], None] | None = None) -> None:
    """The student's view of stored grades, without grading again; the
    instructor's view (which does not depend on the release) only for the
    ids in `instructor` (a batch from before the release tree, whose
    OUT/<id>/report.html was a student's view)."""
    from .render.html import render_report

    for sid in ids:
        stored = store.get(sid)
        if stored is not None:
            if sid in instructor:
                write_atomic(out / sid / "report.html", render_report(stored.result, audience="instructor"))
            write_student_report(stored.result, out, released=released)
        if on_done is not None:
            on_done(sid)


def write_class_outputs(results: list[dict], rubric: Rubric, out: Path, *, released: bool = False,
                        intake: Intake | None = None) -> list[Path]:
    """gradebook.csv, gradebook_canvas.csv, summary.html and the release
    tree's index from all grades; with an intake, the gradebooks also get a
    row for every student with nothing graded (missing, not gradable) and
    the summary says so."""
    from .render.gradebook import write_gradebook
    from .render.summary import render_summary

    results = sorted(results, key=lambda r: r["submission"])
    if intake is not None and intake.active:   # ids follow the roster: grades stored under old ids are not rows
        current = {e.sid for e in intake.entries}
        results = [r for r in results if r["submission"] in current]
    rows = intake.class_rows(results, float(rubric.total_points)) if intake is not None and intake.active else results
    absent = [r for r in rows if (r.get("intake") or {}).get("status") in ("missing", "not-gradable")]
    written = write_gradebook(rows, [c.id for c in rubric.criteria], out)
    summary = out / "summary.html"
    write_atomic(summary, render_summary(results, rubric_title=rubric.title, criteria=criteria_summary(rubric),
                                         released=released, absent=absent,
                                         ignored=intake.ignored if intake is not None else ()))
    index = write_release_index(results, out, released=released, rubric_title=rubric.title)
    return [*written, summary, index]
