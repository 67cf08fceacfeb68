"""Grade one submission against one rubric: load -> run -> judge.

The student's code runs only in the sandboxed worker; every comparison,
score and word of feedback is computed here, in the grader's process.  A
failure in one criterion (exception, hang, crash) costs that criterion only:
the worker is restarted for the next one.

Time limits count the CPU time of the submission's processes (per
criterion, per submission, per load), each with a wall-clock backstop of
`WorkerLimits.wall_factor` times the limit, so a grade does not depend on
how busy the machine is.  An operation that ran out of time is not run
again by later criteria (`Probe.timed`).
"""

from __future__ import annotations

import json
import tempfile
import time
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .checks import REGISTRY
from .checks.base import GRADER_ERROR, Context, Verdict
from .checks.contract import ContractError, StudentValueError
from .oracle import Oracle
from .operations import describe_needs
from .glue import RUBRIC, Glue, rubric_glue
from .probe import ApiError, Probe, describe_value
from .rubric import Criterion, Rubric
from .diagnoses import catalogue_for
from .secret import CourseSecret
from .sandbox.client import LoadSpec, WorkerClient, WorkerFailure
from .sandbox.limits import WorkerLimits, isolation_level
from .submission import PreparedSubmission, SubmissionError, prepare, refuse_link, submission_id, submission_name
from .textsafe import clean_tree

ANSWERS_ISOLATION = "none needed: answers read as data, no code run"


@dataclass
class GradeOutcome:
    """The deterministic result document and the run's wall-clock facts."""

    result: dict[str, Any]
    run: dict[str, Any] = field(default_factory=dict)


#: `nngrade check` (a student's own machine, one submission): a tighter wall-clock backstop
CHECK_WALL_FACTOR = 1.5


def worker_limits(rubric: Rubric, **overrides: Any) -> WorkerLimits:
    packages = tuple(rubric.sandbox.packages)
    return WorkerLimits.from_rubric(rubric.limits, **({"packages": packages} if packages else {}), **overrides)


_ORACLES: dict[str, Oracle] = {}


def oracle_for(rubric: Rubric, secret: CourseSecret | None = None) -> Oracle:
    """One oracle per rubric and secret per process: its data and caches are
    reused.  Keyed by the rubric's `repr` (every field, nested models
    included, exactly as `model_dump_json` had them), which needs no
    serializer: building one costs `nngrade check` ~30 ms (grader.schema.Strict)."""
    key = repr(rubric) + (secret.fingerprint if secret is not None else "")
    if key not in _ORACLES:
        _ORACLES[key] = Oracle.for_rubric(rubric, secret)
    return _ORACLES[key]


def grade(path: Path, rubric: Rubric, *, public_only: bool = False,
          secret: CourseSecret | None = None, wall_factor: float | None = None,
          glue: Glue | None = None) -> GradeOutcome:
    """Grade the submission at `path`.  Never raises for anything the
    submission does; a missing file or a bad archive becomes `error`.

    Final grading passes the course `secret`: every probe is then seeded by
    it, so a table of the kit's recorded answers is worthless.  Without one
    (`check`, kits) the public questions are asked.  `wall_factor`: the
    wall-clock backstop as a multiple of each CPU limit (default
    `WorkerLimits.wall_factor`, 3).  `glue`: one student's own glue (an
    instructor's per-submission mapping), instead of the rubric's."""
    glue = glue if glue is not None else rubric_glue(rubric)
    outcome = _grade(Path(path), rubric, public_only=public_only, secret=secret, wall_factor=wall_factor,
                     glue=glue)
    if glue is not None:   # which glue graded it: by name and content hash, never the text
        outcome.result["glue"] = glue.record()
    outcome.result["name"] = submission_name(Path(path))   # as handed in; "submission" is the safe id
    return outcome


def _grade(path: Path, rubric: Rubric, *, public_only: bool, secret: CourseSecret | None,
           wall_factor: float | None, glue: Glue | None = None) -> GradeOutcome:
    started = time.monotonic()
    sid = submission_id(path)
    criteria = [c for c in rubric.criteria if c.visibility == "public" or not public_only]
    try:
        refuse_link(path)   # never followed, whatever the rubric
    except SubmissionError as exc:
        return _failed_outcome(sid, rubric, criteria, exc.kind, exc.message, started, public_only)
    if rubric.answers_only:
        return _grade_answers_only(path, sid, rubric, criteria, started, public_only)
    with tempfile.TemporaryDirectory(prefix="nngrade-sub-") as scratch:
        try:
            prepared = prepare(path, Path(scratch), class_name=rubric.interface.class_name)
        except SubmissionError as exc:
            return _failed_outcome(sid, rubric, criteria, exc.kind, exc.message, started, public_only)
        client = WorkerClient(LoadSpec(prepared.source, prepared.directory, prepared.filename,
                                       seed=oracle_for(rubric, secret).seed("load"),
                                       glue=glue.wire() if glue is not None else None),
                              limits=worker_limits(rubric, **({} if wall_factor is None else
                                                              {"wall_factor": wall_factor})),
                              load_timeout=rubric.limits.load_seconds)
        try:
            outcome = _grade_loaded(prepared, rubric, criteria, client, started, public_only,
                                    oracle_for(rubric, secret), root=Path(scratch) / "submission", glue=glue)
        finally:
            client.close()
        if prepared.choice is not None:   # several code files: which one was graded, and why (never silent)
            outcome.result["graded_file"] = prepared.choice.as_dict()
        return outcome


def _grade_loaded(prepared: PreparedSubmission, rubric: Rubric, criteria: list[Criterion],
                  client: WorkerClient, started: float, public_only: bool, oracle: Oracle,
                  root: Path | None = None, glue: Glue | None = None) -> GradeOutcome:
    load_started = time.monotonic()
    client.start()
    timings: dict[str, float] = {"load": time.monotonic() - load_started}
    if client.load_error is not None:
        kind, message = _load_failure(client.load_error, prepared.filename)
        outcome = _failed_outcome(prepared.id, rubric, criteria, kind, message, started, public_only,
                                  stdout=client.output_parts())
        outcome.run.update(timings=timings, cpu_clock=client.cpu_clock, cpu_seconds=round(client.cpu_seconds(), 4),
                           timeouts=client.timeouts)
        return outcome
    classes = (client.load_result or {}).get("classes", [])
    # one student's glue knows their class (it may be named otherwise); everyone else's is the rubric's
    if rubric.interface.class_name not in classes and (glue is None or glue.origin == RUBRIC):
        found = f" (found: {', '.join(classes)})" if classes else ""
        message = f"{prepared.filename} defines no class named {rubric.interface.class_name}{found}"
        outcome = _failed_outcome(prepared.id, rubric, criteria, "api-missing", message, started, public_only,
                                  stdout=client.output_parts())
        outcome.run.update(timings=timings, cpu_clock=client.cpu_clock, cpu_seconds=round(client.cpu_seconds(), 4),
                           timeouts=client.timeouts)
        return outcome
    probe = Probe(rubric, client, glued=glue is not None)
    answers = _answers_from_worker(root or prepared.directory, probe) \
        if any(c.check == "answers" for c in criteria) else None
    results = []
    notes: dict[str, dict[str, str]] = {}
    limits = rubric.limits
    factor = client.limits.wall_factor
    wall_end = started + limits.submission_seconds * factor   # the submission's wall-clock backstop
    cpu: dict[str, float] = {"load": round(client.cpu_seconds(), 4)}
    verdicts: list[Future[tuple[Verdict, float]]] = []
    # Judging needs only the observation and the reference, never the worker:
    # criterion k is judged in a second thread while the worker answers
    # criterion k+1 (both cores busy instead of taking turns); the verdicts
    # are collected in rubric order, so the result does not depend on timing.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="nngrade-judge") as judges:
        for crit in criteria:
            client.phase(crit.id)   # what it prints now is this criterion's (hidden output: instructor only)
            t0, cpu0 = time.monotonic(), client.request_cpu
            left = limits.submission_seconds - client.cpu_seconds()
            if left <= 0 or t0 >= wall_end:
                what = (f"its total limit of {limits.submission_seconds:g} s of CPU time" if left <= 0 else
                        f"its total wall-clock backstop of {limits.submission_seconds * factor:g} s")
                observed: Verdict | Observed = Verdict(
                    0.0, f"Not run: the submission used up {what} on earlier criteria.",
                    diagnoses=["timeout"], status="error")
            else:
                if left < limits.criterion_seconds:
                    probe.begin(left, cpu_limit=limits.submission_seconds, scope="the submission's total limit",
                                wall_end=wall_end)
                else:
                    probe.begin(limits.criterion_seconds, wall_end=wall_end)
                observed = observe_criterion(rubric, oracle, crit, probe, answers=answers, ahead=judges)
            timings[crit.id] = time.monotonic() - t0
            cpu[crit.id] = round(client.request_cpu - cpu0, 4)
            verdicts.append(judges.submit(_timed_judge, observed))
        for crit, future in zip(criteria, verdicts):
            verdict, judging = future.result()
            timings[crit.id] += judging
            results.append(criterion_result(crit, verdict))
            if verdict.notes:
                notes[crit.id] = verdict.notes
    client.phase(None)
    result = _document(prepared.id, rubric, results, error=None, stdout=client.output_parts(),
                       public_only=public_only)
    run = {"timings": timings, "seconds": time.monotonic() - started, "worker_restarts": client.restarts,
           "cpu_clock": client.cpu_clock, "cpu": cpu, "cpu_seconds": round(client.cpu_seconds(), 4),
           "timeouts": client.timeouts, "timeouts_not_rerun": probe.skipped, "digest": prepared.digest,
           "questions": oracle.secret.fingerprint if oracle.secret is not None else "public",
           "instructor_notes": clean_tree(notes, None, None)}
    return GradeOutcome(result, run)


@dataclass
class Observed:
    """What `observe_criterion` saw, ready for `judge_criterion`."""

    check: Any
    ctx: Context
    params: Any
    observation: Any


def run_criterion(rubric: Rubric, oracle: Oracle | None, crit: Criterion, probe: Probe | None,
                  answers: Any = None) -> Verdict:
    """observe (student process) then judge (here); failures become verdicts."""
    observed = observe_criterion(rubric, oracle, crit, probe, answers=answers)
    return observed if isinstance(observed, Verdict) else judge_criterion(observed)


def _timed_judge(observed: "Observed | Verdict") -> tuple[Verdict, float]:
    if isinstance(observed, Verdict):
        return observed, 0.0
    t0 = time.monotonic()
    verdict = judge_criterion(observed)
    return verdict, time.monotonic() - t0


def observe_criterion(rubric: Rubric, oracle: Oracle | None, crit: Criterion, probe: Probe | None,
                      answers: Any = None, ahead: Any = None) -> "Observed | Verdict":
    """Ask the student's code (through the worker); a failure is already the
    verdict.  `ahead`: the judging thread, where a check may `prepare` work
    of its judge meanwhile (Context.prepare)."""
    check = REGISTRY[crit.check]
    params = crit.check_params()
    ctx = Context(rubric, oracle, crit, answers=answers, ahead=ahead)
    try:
        observation = check.observe(ctx, probe, params)
    except WorkerFailure as failure:
        return _failure_verdict(failure)
    except ApiError as exc:
        return Verdict(0.0, f"{exc}. This criterion needs {describe_needs(check.operations, rubric.interface)}.",
                       diagnoses=["api-missing"], status="error")
    except StudentValueError as exc:
        return _bad_output(exc)
    except Exception as exc:  # after validation nothing is the student's: the grader failed
        return grader_error(crit, "observing", exc)
    return Observed(check, ctx, params, observation)


def judge_criterion(observed: Observed) -> Verdict:
    """Compare an observation with the reference: pure, no worker involved
    (so it may run in another thread than the observations)."""
    check, ctx, params, observation = observed.check, observed.ctx, observed.params, observed.observation
    try:
        verdict = check.judge(ctx, observation, params)
        if check.instructor_notes is not None:
            verdict.notes.update(check.instructor_notes(observation))
    except StudentValueError as exc:
        return _bad_output(exc)
    except Exception as exc:  # the observation was validated: a failure here is the grader's
        return grader_error(ctx.criterion, "judging", exc)
    undeclared = [d for d in verdict.diagnoses if not check.declares(d)]
    if undeclared:
        return grader_error(ctx.criterion, "judging", ContractError(
            f"check {check.name!r} named mistakes it does not declare: {', '.join(undeclared)}"))
    return verdict


def _bad_output(exc: StudentValueError) -> Verdict:
    shown = f" (got {describe_value(exc.value)})" if exc.value is not None else ""
    return Verdict(0.0, f"Your code returned a value the grader cannot use: {exc.what}{shown}.",
                   diagnoses=["bad-output"], status="error")


def grader_error(crit: Criterion, stage: str, exc: BaseException) -> Verdict:
    """A failure of the grader's own (a check, a rubric, the reference): the
    criterion is left out of the student's total and the batch reports it;
    the traceback goes to the instructor (run.json), never to the student."""
    where = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-6))
    return Verdict(0.0, f"The grader failed while {stage} this criterion ({type(exc).__name__}). This is the "
                   "grader's fault, not yours: the criterion is left out of your total until the course staff "
                   "fix it and grade again.", diagnoses=["grader-error"], status=GRADER_ERROR,
                   notes={"grader-error": f"{stage} {crit.id} ({crit.check}): {type(exc).__name__}: {exc}\n{where}"})


def _answers_from_worker(root: Path, probe: Probe) -> Any:
    """The submission's written answers, looked up once: an answers file in
    its folder, else the module-level variable `answers` through the worker."""
    from .answers.source import VARIABLE, AnswerSheet, find_answer_file, sheet_from_file, sheet_from_worker

    cache: list[AnswerSheet] = []

    def sheet() -> AnswerSheet:
        if not cache:
            found = find_answer_file(root) if root.is_dir() else None
            if found is not None:
                cache.append(sheet_from_file(found, str(found.relative_to(root))))
            else:
                try:
                    value = probe.client.request({"op": "get", "attr": VARIABLE}, probe.timeout)
                except WorkerFailure as failure:
                    if failure.kind != "exception":
                        raise
                    cache.append(AnswerSheet(origin="your submission", error=(
                        "no answers file (answers.yaml, answers.yml, answers.json) and no module-level "
                        f"variable {VARIABLE} = {{...}} in your code")))
                else:
                    cache.append(sheet_from_worker(value))
        return cache[0]

    return sheet


def _grade_answers_only(path: Path, sid: str, rubric: Rubric, criteria: list[Criterion], started: float,
                        public_only: bool) -> GradeOutcome:
    """A rubric of written questions only: the answers are data, read here;
    no worker, no student code run, no reference network."""
    from .answers.source import read_submission

    try:
        sheet = read_submission(path)
        if sheet.error:
            raise SubmissionError("answers-unreadable", sheet.error)
    except SubmissionError as exc:
        outcome = _failed_outcome(sid, rubric, criteria, exc.kind, exc.message, started, public_only)
        outcome.result["isolation"] = ANSWERS_ISOLATION
        return outcome
    results = []
    timings: dict[str, float] = {}
    for crit in criteria:
        t0 = time.monotonic()
        results.append(criterion_result(crit, run_criterion(rubric, None, crit, None, answers=lambda: sheet)))
        timings[crit.id] = time.monotonic() - t0
    result = _document(sid, rubric, results, error=None, stdout=[], public_only=public_only)
    result["isolation"] = ANSWERS_ISOLATION
    return GradeOutcome(result, {"timings": timings, "seconds": time.monotonic() - started})


def _failure_verdict(failure: WorkerFailure) -> Verdict:
    if failure.kind == "timeout":
        who = f"Your {failure.subject}" if failure.subject else "Your code"
        if failure.cause == "wall":
            return Verdict(0.0, f"{who} {failure.message}: it waits for something (sleep, input), or it is "
                           "an infinite loop or far too slow.", diagnoses=["timeout"], status="error")
        return Verdict(0.0, f"{who} {failure.message}: an infinite loop, or far too slow "
                       "(vectorize the per-sample work).", diagnoses=["timeout"], status="error")
    if failure.kind == "crash":
        return Verdict(0.0, f"Your program crashed: {failure.message}.", diagnoses=["crash"], status="error")
    if failure.kind == "protocol":
        return Verdict(0.0, f"Your program interfered with the grader: {failure.message}.",
                       diagnoses=["crash"], status="error")
    where = f"\n{failure.traceback.strip()}" if failure.traceback else ""
    signature = failure.error_type == "TypeError" and any(
        phrase in failure.message for phrase in ("unexpected keyword argument", "positional argument"))
    diag = ["api-missing"] if failure.error_type == "AttributeError" or signature else []
    hint = ""
    if signature:
        hint = ("\nThe grader calls the methods exactly as the assignment specifies; check that your constructor "
                "and methods accept those arguments (names and number).")
    return Verdict(0.0, f"Your code raised {failure.describe()}{where}{hint}", diagnoses=diag, status="error")


def _load_failure(failure: WorkerFailure, filename: str) -> tuple[str, str]:
    if failure.kind == "exception" and failure.error_type in ("SyntaxError", "IndentationError", "TabError"):
        return "syntax-error", f"{filename} does not compile: {failure.describe()}"
    if failure.kind == "exception" and failure.error_type in ("ImportError", "ModuleNotFoundError"):
        return "import-error", (f"{filename} could not be imported: {failure.describe()}. Only NumPy (and the "
                                "standard library) is available to submissions.")
    if failure.kind == "exception":
        return "import-error", f"{filename} raised an error while being imported: {failure.describe()}"
    if failure.kind == "timeout":
        return "timeout", f"{filename} did not finish importing: its top-level code {failure.message}"
    return "crash", f"{filename} crashed while being imported: {failure.message}"


def criterion_result(crit: Criterion, verdict: Verdict) -> dict[str, Any]:
    return {"id": crit.id, "title": crit.title, "score": round(crit.points * verdict.fraction, 2),
            "max_score": float(crit.points), "status": verdict.status, "visibility": crit.visibility,
            "feedback": verdict.feedback + (f"\nHint: {crit.hint}" if crit.hint and verdict.status != "passed" else ""),
            "diagnoses": list(dict.fromkeys(verdict.diagnoses)), "evidence": verdict.evidence,
            "plots": verdict.plots}


def _failed_outcome(sid: str, rubric: Rubric, criteria: list[Criterion], kind: str, message: str,
                    started: float, public_only: bool,
                    stdout: list[tuple[str | None, str]] | None = None) -> GradeOutcome:
    results = [criterion_result(c, Verdict(0.0, f"Not graded: {message}", diagnoses=[kind], status="error"))
               for c in criteria]
    doc = _document(sid, rubric, results, error={"kind": kind, "message": message}, stdout=stdout or [],
                    public_only=public_only)
    return GradeOutcome(doc, {"seconds": time.monotonic() - started})


def _document(sid: str, rubric: Rubric, results: list[dict], *, error: dict | None,
              stdout: list[tuple[str | None, str]], public_only: bool) -> dict[str, Any]:
    """`stdout`: the captured output as (criterion id or None, text) pieces
    (`WorkerClient.output_parts`); the document keeps the text whole in
    `stdout` and which criterion printed which characters in
    `stdout_segments`, so a student's view can leave out what was printed
    while a hidden criterion ran (grader/release.py)."""
    pieces = [(name, clean_tree(text, None, None)) for name, text in stdout]
    graded = {r["id"] for r in results}
    hidden = [criterion_result(c, Verdict(0.0, "Hidden until release.", status="hidden"))
              for c in rubric.criteria if c.id not in graded]
    ordered = {c.id: i for i, c in enumerate(rubric.criteria)}
    criteria = sorted(results + hidden, key=lambda r: ordered[r["id"]])
    counted = [r for r in results if r["status"] != GRADER_ERROR]   # a grader failure never costs a student
    # every text is already capped and cleaned where it left the worker (the client); this pass
    # makes sure no lone surrogate or control character reaches result.json whatever the path
    return clean_tree({
        "submission": sid,
        "rubric": rubric.id,
        "rubric_title": rubric.title,
        "grader_version": __version__,
        "score": round(sum(r["score"] for r in counted), 2),
        "max_score": float(sum(r["max_score"] for r in counted)),
        "grader_errors": [r["id"] for r in results if r["status"] == GRADER_ERROR],
        "catalogue": catalogue_for(rubric, (d for r in criteria for d in r["diagnoses"])),
        "scope": "public" if public_only else "all",
        "error": error,
        "isolation": isolation_level(),
        "criteria": criteria,
        "stdout": "".join(text for _, text in pieces),
        "stdout_segments": [{"criterion": name, "chars": len(text)} for name, text in pieces],
    }, None, None)


def dumps(result: dict[str, Any]) -> str:
    """The canonical JSON text of a result: sorted keys, fixed separators."""
    return json.dumps(result, sort_keys=True, indent=1, ensure_ascii=False, allow_nan=True) + "\n"
