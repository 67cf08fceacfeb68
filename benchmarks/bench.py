"""nngrade benchmarks: throughput, latency, where the time goes, the floor.

    python benchmarks/bench.py                 # defaults: a few minutes on 2 cores
    python benchmarks/bench.py --n 50 --json results.json
    python benchmarks/bench.py --quick         # a smoke run (~1 minute)

Figures (each explained in benchmarks/README.md):

1. self-check latency: `python -m grader.cli check correct_vectorized.py` as a
   subprocess (interpreter start-up and imports included), and the
   in-process `grade(path, rubric, public_only=True)`;
2. batch throughput: `run_batch` over N copies of correct_vectorized.py and
   of correct_loops.py with LocalExecutor(1) and LocalExecutor(all cores),
   rendering included (what instructors run); grade-only time from the
   engine's own run.json; rendering, store and class-output costs measured
   separately;
3. the floor (benchmarks/floor.py: one fresh process per submission running
   the same probes with no grading machinery) and the ratio grader / floor;
4. where the time goes: the engine's per-criterion timings and "load",
   split into observe (student side, through the sandbox) and judge
   (grader side), with the number and time of worker round trips;
5. measured speed-ups: grader changes prototyped here by wrapping grader
   functions (cached reference training curves, a forked worker, a cached
   rubric parse), with the time each would save;
6. cost model: training vs hidden size and vs iterations, and the CIFAR-sized
   directional gradient check vs an extrapolated full finite-difference sweep;
7. optionally (when dask.distributed is installed) the same vectorized batch
   on a LocalCluster through DaskExecutor.

The script puts the repository root on sys.path itself; nothing needs to be
installed beyond the grader's dependencies.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import json
import math
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

HERE = Path(__file__).resolve().parent
FLOOR = HERE / "floor.py"
SOURCES = {"vectorized": ROOT / "submissions" / "correct_vectorized.py",
           "loops": ROOT / "submissions" / "correct_loops.py"}
CIFAR_RUBRIC = ROOT / "rubrics" / "cifar-mlp.yaml"
CIFAR_SUBMISSION = ROOT / "examples" / "cifar" / "correct.py"
RUBRIC = "penguins-silu"

#: The environment of a student worker (one BLAS thread), for the floor processes.
BLAS_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


# -- small helpers -------------------------------------------------------------------

def median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else math.nan


def mean(values: list[float]) -> float:
    return float(statistics.fmean(values)) if values else math.nan


def ms(seconds: float) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "-"
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def num(x: float, digits: int = 1) -> str:
    return "-" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def print_table(title: str, header: list[str], rows: list[list[Any]]) -> None:
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print(f"\n{title}")
    print("  " + "  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(cells[0], widths))))
    print("  " + "  ".join("-" * w for w in widths))
    for row in cells[1:]:
        print("  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
    sys.stdout.flush()


def warn(message: str) -> None:
    print(f"  WARNING: {message}", file=sys.stderr)


def full_marks(result: dict, label: str) -> None:
    """The benchmark grades correct submissions: say so when they lose points
    (the timings are still reported)."""
    if result.get("score") != result.get("max_score"):
        warn(f"{label} scored {result.get('score')}/{result.get('max_score')}: timings may not be comparable")


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "grader", "reference"],
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def make_copies(source: Path, folder: Path, prefix: str, n: int) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    ids = []
    for i in range(n):
        sid = f"{prefix}_{i:03d}"
        shutil.copyfile(source, folder / f"{sid}.py")
        ids.append(sid)
    return ids


# -- timing observe / judge / round trips inside the real engine -----------------------

class EngineProbe:
    """Wraps every check's `observe` and `judge` and the worker client's
    `request` while active, so a normal `grader.engine.grade` call reports
    how its per-criterion time splits.  Nothing in the grader is modified:
    the originals are restored on exit."""

    def __init__(self) -> None:
        self.current = "load"
        self.phases: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))

    def reset(self) -> None:
        self.current = "load"
        self.phases = defaultdict(lambda: defaultdict(float))

    @contextlib.contextmanager
    def active(self) -> Iterator["EngineProbe"]:
        from grader.checks import REGISTRY
        from grader.sandbox import client as client_mod

        saved = [(name, REGISTRY[name]) for name in REGISTRY]
        saved_request = getattr(client_mod.WorkerClient, "request", None)
        probe = self

        def wrap(fn: Callable, phase: str) -> Callable:
            def timed(ctx: Any, *args: Any, **kwargs: Any) -> Any:
                crit = ctx.criterion.id
                if phase == "observe":
                    probe.current = crit
                started = time.perf_counter()
                try:
                    return fn(ctx, *args, **kwargs)
                finally:
                    probe.phases[crit][phase] += time.perf_counter() - started
            return timed

        def request(self_: Any, message: Any, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return saved_request(self_, message, *args, **kwargs)
            finally:
                seconds = time.perf_counter() - started
                phases = probe.phases[probe.current]
                phases["round trips"] += 1
                phases["round-trip seconds"] += seconds
                if isinstance(message, dict):
                    phases[f"op {message.get('op')} seconds"] += seconds

        for name, check in saved:
            REGISTRY.install(name, dataclasses.replace(check, observe=wrap(check.observe, "observe"),
                                                       judge=wrap(check.judge, "judge")))
        if saved_request is not None:
            client_mod.WorkerClient.request = request
        try:
            yield self
        finally:
            for name, check in saved:
                REGISTRY.install(name, check)
            if saved_request is not None:
                client_mod.WorkerClient.request = saved_request


def graded_split(path: Path, rubric: Any, *, public_only: bool = False) -> tuple[Any, dict[str, dict[str, float]]]:
    """grade() with per-criterion observe/judge/round-trip seconds."""
    from grader.engine import grade

    probe = EngineProbe()
    with probe.active():
        started = time.perf_counter()
        outcome = grade(path, rubric, public_only=public_only)
        wall = time.perf_counter() - started
    timings = outcome.run.get("timings", {})
    split: dict[str, dict[str, float]] = {}
    for crit, total in timings.items():
        phases = probe.phases.get(crit, {})
        split[crit] = {"total": total, "observe": phases.get("observe", math.nan),
                       "judge": phases.get("judge", math.nan),
                       "round trips": phases.get("round trips", 0),
                       "round-trip seconds": phases.get("round-trip seconds", 0.0),
                       **{k: v for k, v in phases.items() if k.startswith("op ")}}
    split["(grade wall)"] = {"total": wall}
    return outcome, split


def single_criterion(rubric: Any, crit_id: str, **params: Any) -> Any:
    """The rubric reduced to one criterion, with some of its params replaced."""
    crit = next(c for c in rubric.criteria if c.id == crit_id)
    crit = crit.model_copy(update={"params": {**crit.params, **params}})
    return rubric.model_copy(update={"criteria": [crit]})


# -- the sections ------------------------------------------------------------------------

def self_check_latency(runs: int) -> dict[str, Any]:
    from grader.engine import grade
    from grader.rubric import load_rubric

    path = SOURCES["vectorized"]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cold = [timed_check(path, dict(env, NNGRADE_WARM_CHECK="0")) for _ in range(runs)]
    runtime = Path(tempfile.mkdtemp(prefix="nwb", dir="/tmp"))   # this run's own warm processes
    warm_env = dict(env, NNGRADE_WARM_CHECK="1", XDG_RUNTIME_DIR=str(runtime), NNGRADE_WARM_CHECK_IDLE="120")
    try:
        warm = []
        timed_check(path, warm_env)   # a cold check that leaves the first warm process
        for _ in range(runs):
            wait_for_spare(runtime / "nngrade")   # a student reads the last result meanwhile
            warm.append(timed_check(path, warm_env))
    finally:
        stop_spares(runtime / "nngrade")
        shutil.rmtree(runtime, ignore_errors=True)
    imports = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import grader.cli, grader.engine"], cwd=ROOT, env=env,
                       capture_output=True, timeout=120, check=True)
        imports.append(time.perf_counter() - started)
    rubric = load_rubric(RUBRIC)
    inproc = []
    for _ in range(runs):
        started = time.perf_counter()
        outcome = grade(path, rubric, public_only=True)
        inproc.append(time.perf_counter() - started)
        full_marks(outcome.result, "correct_vectorized (public)")
    fig = {"subprocess median s": median(cold), "subprocess runs s": cold,
           "warm subprocess median s": median(warm), "warm subprocess runs s": warm,
           "interpreter + grader imports median s": median(imports),
           "in-process median s": median(inproc), "in-process first s": inproc[0], "in-process runs s": inproc}
    print_table("Self-check latency (nngrade check correct_vectorized.py, public criteria)",
                ["measure", f"median of {runs}", "first run"],
                [["python -m grader check, cold (subprocess, NNGRADE_WARM_CHECK=0)", ms(fig["subprocess median s"]),
                  ms(cold[0])],
                 ["python -m grader check, warm (handed to the warm check process)",
                  ms(fig["warm subprocess median s"]), ms(warm[0])],
                 ["  of which: interpreter + grader imports", ms(fig["interpreter + grader imports median s"]),
                  ms(imports[0])],
                 ["grade(path, rubric, public_only=True) in-process", ms(fig["in-process median s"]), ms(inproc[0])]])
    return fig


def batch_throughput(kind: str, folder: Path, ids: list[str], worker_counts: list[int], rubric: Any,
                     tmp: Path) -> dict[str, Any]:
    from grader.batch import run_batch
    from grader.executors import LocalExecutor

    fig: dict[str, Any] = {"n": len(ids), "workers": {}}
    for workers in worker_counts:
        out = tmp / f"out-{kind}-{workers}"
        started = time.perf_counter()
        report = run_batch(folder, rubric, out, executor=LocalExecutor(workers), force=True)
        wall = time.perf_counter() - started
        if report.failed or len(report.graded) != len(ids):
            raise RuntimeError(f"batch {kind}/{workers}: failed {report.failed}, graded {len(report.graded)}")
        results = [json.loads((out / s / "result.json").read_text()) for s in ids]
        for result in results[:1]:
            full_marks(result, f"{kind} copy")
        scores = sorted({r["score"] for r in results})
        fig["workers"][workers] = {"wall s": wall, "per submission s": wall / len(ids),
                                   "per minute": 60.0 * len(ids) / wall, "scores": scores, "out": str(out)}
    return fig


def batch_costs(kind: str, out: Path, ids: list[str], rubric: Any, tmp: Path) -> dict[str, Any]:
    """From a finished 1-worker batch: the engine's own grade seconds and
    per-criterion timings, and the cost of everything around grading."""
    from grader.batch import rubric_wire_text, write_class_outputs
    from grader.engine import GradeOutcome, oracle_for
    from grader.outputs import write_submission_outputs
    from grader.rubric import parse_rubric
    from grader.store import GradeStore

    results, runs = [], []
    for sid in ids:
        results.append(json.loads((out / sid / "result.json").read_text()))
        runs.append(json.loads((out / sid / "run.json").read_text()))
    per_crit: dict[str, list[float]] = defaultdict(list)
    for run in runs:
        for crit, seconds in run.get("timings", {}).items():
            per_crit[crit].append(seconds)
    render: dict[str, float] = {}
    for release in (False, True):
        target = tmp / f"render-{kind}-{release}"
        write_submission_outputs(GradeOutcome(results[0], runs[0]), target, release=release)  # warm imports
        times = []
        for result, run in zip(results, runs):
            started = time.perf_counter()
            write_submission_outputs(GradeOutcome(result, run), target, release=release)
            times.append(time.perf_counter() - started)
        render["release" if release else "default"] = mean(times)
    wire = rubric_wire_text(rubric)
    started = time.perf_counter()
    for _ in range(20):
        parsed = parse_rubric(wire, "<rubric>")
        oracle_for(parsed)
    parse = (time.perf_counter() - started) / 20
    with GradeStore(tmp / f"store-{kind}.sqlite") as store:
        started = time.perf_counter()
        for sid, result, run in zip(ids, results, runs):
            store.record(sid, "digest", "rubric", result, run)
        record = (time.perf_counter() - started) / len(ids)
    started = time.perf_counter()
    write_class_outputs(results, rubric, tmp / f"class-{kind}")
    class_outputs = time.perf_counter() - started
    return {"grade s": mean([r["seconds"] for r in runs]), "timings": {k: mean(v) for k, v in per_crit.items()},
            "render s": render, "rubric parse + oracle lookup per task s": parse,
            "store record per grade s": record, "class outputs s (whole batch)": class_outputs}


def floor_times(kind: str, folder: Path, ids: list[str], data: Path, rubric: Any) -> dict[str, Any]:
    """The floor process for each copy, each run right after an in-process
    grade() of the same copy, so the pair sees the same machine load."""
    from grader.engine import grade

    env = dict(os.environ, **BLAS_ENV)
    walls, grades, inside = [], [], []
    cpu_grades, cpu_floors = [], []   # CPU seconds: far less sensitive to machine load than wall time
    for sid in ids:
        path = folder / f"{sid}.py"
        started, cpu_started = time.perf_counter(), time.process_time()
        outcome = grade(path, rubric)
        grades.append(time.perf_counter() - started)
        # the grader's own process (oracle, judging, threads) plus every process of its worker (run.json,
        # counted from the launcher's joining its cgroup: the launcher's interpreter start before that,
        # a few tens of ms, is left out, so this ratio errs in the grader's favour)
        cpu_grades.append(time.process_time() - cpu_started + float(outcome.run.get("cpu_seconds") or 0.0))
        children = children_cpu()
        started = time.perf_counter()
        # its own session, like the sandboxed worker: with the kernel's autogroup
        # scheduling a new session is a new CPU-share group, which matters on a busy machine
        proc = subprocess.run([sys.executable, str(FLOOR), str(path), "--data", str(data)],
                              capture_output=True, text=True, env=env, timeout=600, start_new_session=True)
        walls.append(time.perf_counter() - started)
        cpu_floors.append(children_cpu() - children)
        if proc.returncode != 0:
            raise RuntimeError(f"floor failed for {sid}: {proc.stderr[-2000:]}")
        inside.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    missing = sorted(c.id for c in rubric.criteria if c.id not in inside[0])
    if missing:   # grade/floor would compare different questions (tests/benchmarks/test_floor.py says which)
        raise RuntimeError(f"benchmarks/floor.py has no probe for {', '.join(missing)}: add one asking what "
                           "those criteria's observe asks, or grade/floor is not a ratio of the same work")
    probes = {k: median([d[k] for d in inside]) for k in inside[0]}
    return {"runs": len(ids), "wall median s": median(walls), "walls s": walls, "probes median s": probes,
            "paired grade s": grades, "paired ratio median": median([g / f for g, f in zip(grades, walls)]),
            "floor cpu median s": median(cpu_floors), "paired grade cpu s": cpu_grades,
            "paired cpu ratio median": median([g / f for g, f in zip(cpu_grades, cpu_floors)])}


def children_cpu() -> float:
    """User + system CPU seconds of this process's finished, waited-for children."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_check(path: Path, env: dict[str, str]) -> float:
    """Wall seconds of one `python -m grader check PATH` (what `nngrade check` runs)."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "grader", "check", str(path)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"nngrade check failed ({proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    if proc.returncode == 1:
        warn("nngrade check reports failed public checks for correct_vectorized.py")
    return seconds


def wait_for_spare(folder: Path, timeout: float = 120.0) -> None:
    """Until a warm check process listens in `folder` (grader/warmcheck.py)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(folder.glob("c-*.s")):
            time.sleep(1.0)   # the student reads the last result; the previous process finishes ending
            return
        time.sleep(0.05)
    warn("no warm check process started: the warm figure is a cold one")


def stop_spares(folder: Path) -> None:
    for lock in folder.glob("c-*.lock"):
        text = lock.read_text().strip()
        if text.isdigit():
            try:
                os.kill(int(text), signal.SIGTERM)
            except OSError:
                pass


def bare_interpreter(runs: int = 5) -> dict[str, float]:
    env = dict(os.environ, **BLAS_ENV)
    out = {}
    for label, code in (("python -I -c pass", "pass"), ("python -I -c 'import numpy'", "import numpy")):
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-I", "-c", code], env=env, check=True, timeout=60,
                           start_new_session=True)
            times.append(time.perf_counter() - started)
        out[label] = median(times)
    return out


def where_time_goes(kind: str, path: Path, rubric: Any, repeats: int) -> dict[str, Any]:
    splits = []
    for _ in range(repeats):
        outcome, split = graded_split(path, rubric)
        full_marks(outcome.result, kind)
        splits.append(split)
    keys = list(splits[0])
    return {k: {m: mean([s[k].get(m, math.nan) for s in splits]) for m in splits[0][k]} for k in keys}


def cost_model(rubric: Any, quick: bool, full: bool) -> dict[str, Any]:
    fig: dict[str, Any] = {"training vs hidden": [], "training vs iterations": []}
    hidden_sizes = [16, 64] if quick else [16, 64, 256]
    iterations = [100, 300] if quick else [100, 300, 1000]
    loop_iterations = [100] if quick else ([100, 300, 1000] if full else [100, 300])
    for nh in hidden_sizes:
        r = single_criterion(rubric, "training", hidden=[nh])
        _, split = graded_split(SOURCES["vectorized"], r)
        fig["training vs hidden"].append({"kind": "vectorized", "N_H": nh, "iterations": 300, **split["training"]})
    for kind, its in (("vectorized", iterations), ("loops", loop_iterations)):
        for it in its:
            r = single_criterion(rubric, "training", iterations=it)
            _, split = graded_split(SOURCES[kind], r)
            fig["training vs iterations"].append({"kind": kind, "N_H": 16, "iterations": it, **split["training"]})
    rows = [[f"{p['kind']} N_H={p['N_H']} it={p['iterations']}", ms(p["total"]), ms(p["observe"]), ms(p["judge"]),
             int(p["round trips"])] for p in fig["training vs hidden"] + fig["training vs iterations"]]
    print_table("Cost model: the training criterion (300 GD + 300 NAG steps by default)",
                ["point", "criterion", "observe", "judge", "round trips"], rows)
    return fig


def cifar_figures(quick: bool) -> dict[str, Any] | None:
    if not (CIFAR_RUBRIC.exists() and CIFAR_SUBMISSION.exists()):
        print(f"\n(CIFAR: {CIFAR_RUBRIC.relative_to(ROOT)} or {CIFAR_SUBMISSION.relative_to(ROOT)} missing: skipped)")
        return None
    from grader.rubric import load_rubric

    rubric = load_rubric(str(CIFAR_RUBRIC))
    outcome, split = graded_split(CIFAR_SUBMISSION, rubric)
    grads = {k: v for k, v in split.items() if k.startswith("grad-")}
    sizes = tuple(rubric.assignment.architecture.sizes)
    shapes = {}
    for i in range(len(sizes) - 1):
        shapes[f"W{i}"], shapes[f"b{i}"] = (sizes[i + 1], sizes[i]), (sizes[i + 1], 1)
    params = sum(a * b for a, b in shapes.values())
    # the marginal cost of one coordinate of a *full* sweep, through the real
    # sandbox: the W0 criterion in full mode with two coordinate budgets; only
    # the finite-difference request itself is timed (less noise)
    small, large = (10, 60) if quick else (10, 250)
    observed = {}
    for k in (small, large):
        r = single_criterion(rubric, "grad-W0", mode="full", max_coordinates=k)
        _, s = graded_split(CIFAR_SUBMISSION, r)
        observed[k] = s["grad-W0"].get("op fd seconds", s["grad-W0"]["observe"])
    per_coordinate = (observed[large] - observed[small]) / (large - small)
    # the marginal cost of one random direction of the directional check
    few, many = (1, 4) if quick else (1, 8)
    directional = {}
    for k in (few, many):
        r = single_criterion(rubric, "grad-W0", directions=k)
        _, s = graded_split(CIFAR_SUBMISSION, r)
        directional[k] = s["grad-W0"].get("op fd seconds", s["grad-W0"]["observe"])
    per_direction = (directional[many] - directional[few]) / (many - few)
    rng = __import__("numpy").random.default_rng(0)
    transfer = _theta_transfer({k: rng.standard_normal(shape) for k, shape in shapes.items()})
    samples = int(next(c for c in rubric.criteria if c.id == "grad-W0").params.get("samples", 5))
    bare = _bare_cifar_loss(sizes, samples)
    fig = {"score": outcome.result["score"], "max score": outcome.result["max_score"],
           "grade s": split["(grade wall)"]["total"], "load s": split["load"]["total"],
           "criteria": split, "gradient criteria s": sum(v["total"] for v in grads.values()),
           "directional check per block s": mean([v["total"] for v in grads.values()]),
           "parameters": params,
           "full mode observe s": {str(k): v for k, v in observed.items()},
           "directional observe s": {str(k): v for k, v in directional.items()},
           "directional per direction s (sandbox)": per_direction,
           "one theta over the wire s (encode + json + decode)": transfer,
           "constructor s (bare process)": bare["new s"],
           "full sweep per coordinate s (sandbox)": per_coordinate,
           "full sweep estimate s (sandbox)": per_coordinate * params,
           "one loss evaluation s (bare process)": bare["loss s"],
           "one theta copy s (bare process)": bare["copy s"],
           "full sweep estimate s (bare loss only)": 2 * params * bare["loss s"]}
    rows = [[k, ms(v["total"]), ms(v["observe"]), ms(v["judge"]), int(v["round trips"])]
            for k, v in split.items() if k != "(grade wall)"]
    rows.append(["(grade wall)", ms(split["(grade wall)"]["total"]), "", "", ""])
    print_table(f"CIFAR-sized rubric (3072-512-256-10, {params:,} parameters): examples/cifar/correct.py scores "
                f"{outcome.result['score']:g}/{outcome.result['max_score']:g}",
                ["criterion", "total", "observe", "judge", "round trips"], rows)
    print("  round-trip time by request type:")
    for k in ("param-shapes", "forward", "grad-W0", "grad-b2", "training"):
        ops = {key[3:-8]: v for key, v in split.get(k, {}).items() if key.startswith("op ")}
        if ops:
            print(f"    {k}: " + ", ".join(f"{op} {ms(v)}" for op, v in sorted(ops.items(), key=lambda kv: -kv[1])))
    days = fig["full sweep estimate s (sandbox)"] / 86400
    print_table("CIFAR gradient check: directional (as graded) vs a full finite-difference sweep",
                ["measure", "value"],
                [["directional check, one block (4 directions, 8 loss calls)", ms(fig["directional check per block s"])],
                 ["all 6 gradient criteria", ms(fig["gradient criteria s"])],
                 [f"grad-W0: one more random direction through the sandbox ({few}->{many})", ms(per_direction)],
                 ["one full theta through the wire format (encode, JSON, decode)", ms(transfer)],
                 ["the student's constructor NN(3072, [512, 256], 10) (bare process)", ms(bare["new s"])],
                 ["one loss evaluation, S=5 (bare student process)", ms(bare["loss s"])],
                 ["one full copy of theta (bare student process)", ms(bare["copy s"])],
                 [f"full mode: one more coordinate through the sandbox ({small}->{large} coords)", ms(per_coordinate)],
                 [f"full sweep, 2 x {params:,} loss calls (bare loss only)",
                  f"{fig['full sweep estimate s (bare loss only)'] / 3600:.1f} h"],
                 [f"full sweep through the sandbox ({params:,} coordinates)",
                  f"{fig['full sweep estimate s (sandbox)'] / 3600:.1f} h ({days:.1f} days)"],
                 ["ratio full sweep / directional (sandbox, per block)",
                  f"{fig['full sweep estimate s (sandbox)'] / fig['directional check per block s']:,.0f}x"]])
    return fig


def _bare_cifar_loss(sizes: tuple[int, ...], samples: int) -> dict[str, float]:
    """One loss evaluation of the CIFAR network in a plain student process."""
    code = f"""
import json, time, numpy as np
ns = {{"__name__": "nn"}}
exec(compile(open({str(CIFAR_SUBMISSION)!r}).read(), "nn.py", "exec"), ns)
sizes = {list(sizes)!r}
t = time.perf_counter()
net = ns["NN"](num_input=sizes[0], num_hidden=sizes[1:-1], num_output=sizes[-1], gradient_method="GD", lr=0.01, momentum=0.9)
rng = np.random.default_rng(0)
new = time.perf_counter() - t
x = 1.5 * rng.standard_normal(({samples}, sizes[0])); y = np.arange({samples}) % sizes[-1]
net.loss(x, y)
loss = []
for _ in range(10):
    t = time.perf_counter(); net.loss(x, y); loss.append(time.perf_counter() - t)
copy = []
for _ in range(5):
    t = time.perf_counter(); _ = {{k: v.copy() for k, v in net.theta.items()}}; copy.append(time.perf_counter() - t)
print(json.dumps({{"loss s": sorted(loss)[5], "copy s": sorted(copy)[2], "new s": new}}))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, **BLAS_ENV), check=True, start_new_session=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _theta_transfer(theta: dict) -> float:
    """Seconds to move one parameter dict through the sandbox's wire format
    (encode, JSON text, parse, decode); the pipe itself is not included."""
    import numpy as np

    from grader.sandbox import worker as wire

    times = []
    for _ in range(3):
        started = time.perf_counter()
        text = json.dumps({"op": "set", "value": wire.encode(theta, np)}, separators=(",", ":")).encode()
        wire.decode(json.loads(text.decode())["value"], np)
        times.append(time.perf_counter() - started)
    return median(times)


def dask_throughput(folder: Path, ids: list[str], rubric: Any, workers: int, tmp: Path,
                    local_out: Path | None) -> dict[str, Any] | None:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        print("\n(Dask: dask.distributed is not installed: skipped)")
        return None
    from grader.batch import run_batch
    from grader.executors import DaskExecutor

    started = time.perf_counter()
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster, \
            Client(cluster) as client:
        up = time.perf_counter() - started
        walls = []
        for run in ("cold", "warm"):   # cold: the Dask workers import the grader during the first tasks
            out = tmp / f"out-dask-{run}"
            started = time.perf_counter()
            report = run_batch(folder, rubric, out, executor=DaskExecutor(client=client), force=True)
            walls.append(time.perf_counter() - started)
            if report.failed:
                raise RuntimeError(f"dask batch failed: {report.failed}")
    same = None
    if local_out is not None:
        same = all((out / s / "result.json").read_bytes() == (local_out / s / "result.json").read_bytes()
                   for s in ids) and (out / "gradebook.csv").read_bytes() == (local_out / "gradebook.csv").read_bytes()
    return {"workers": workers, "cluster start s": up, "wall s": walls[0], "per minute": 60 * len(ids) / walls[0],
            "warm wall s": walls[1], "warm per minute": 60 * len(ids) / walls[1], "identical to local": same}


# -- measured speed-ups (the grader is not modified: functions are wrapped here) ----------

ZYGOTE = r"""
import json, os, sys, time
import numpy as np
source = open(sys.argv[1], encoding="utf-8").read()
times = []
for _ in range(int(sys.argv[2])):
    r, w = os.pipe()
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        exec(compile(source, "nn.py", "exec"), {"__name__": "nn"})
        os.write(w, b"k")
        os._exit(0)
    os.close(w)
    os.read(r, 1)
    times.append(time.perf_counter() - started)
    os.waitpid(pid, 0)
    os.close(r)
print(json.dumps(sorted(times)[len(times) // 2]))
"""


def experiments(rubric: Any, engine_load: float, repeats: int) -> dict[str, Any]:
    fig: dict[str, Any] = {}
    fig["training judge"] = _training_judge_cache(rubric, repeats)
    fig["worker start"] = _worker_start(engine_load, repeats)
    fig["per task"] = _per_task(rubric)
    tj, ws, pt = fig["training judge"], fig["worker start"], fig["per task"]
    print_table("Measured speed-ups (prototyped here by wrapping grader functions; the grader is unchanged)",
                ["change", "now", "with the change", "saved per submission"],
                [["cache the reference training curves per (start theta, method, lr, iterations)",
                  ms(tj["judge s"]), ms(tj["judge with cached reference curves s"]),
                  ms(tj["judge s"] - tj["judge with cached reference curves s"])
                  + ("" if tj["same verdict"] else " (VERDICT DIFFERS)")],
                 ["start the student worker by forking a numpy-preloaded process",
                  ms(ws["engine load s"]), ms(ws["fork of a numpy-loaded process + exec s"]),
                  ms(ws["engine load s"] - ws["fork of a numpy-loaded process + exec s"])],
                 ["  (for reference: fresh interpreter + import numpy + exec, no sandbox)",
                  ms(ws["fresh interpreter + numpy + exec s"]), "", ""],
                 ["parse the task's rubric once per pool process (cache by text)",
                  ms(pt["parse_rubric s"]), "~0", ms(pt["parse_rubric s"])]])
    return fig


def _training_judge_cache(rubric: Any, repeats: int) -> dict[str, Any]:
    from dataclasses import asdict

    from grader.checks import REGISTRY
    from grader.checks.base import Context
    from grader.engine import grade, oracle_for

    one = single_criterion(rubric, "training")
    crit = one.criteria[0]
    kept: dict[str, Any] = {}
    training = REGISTRY["training"]

    def keep(ctx: Any, probe: Any, params: Any) -> Any:
        kept["obs"] = training.observe(ctx, probe, params)
        return kept["obs"]

    REGISTRY.install("training", dataclasses.replace(training, observe=keep))
    try:
        grade(SOURCES["vectorized"], one)
    finally:
        REGISTRY.install("training", training)
    ctx = Context(one, oracle_for(one), crit)
    params = crit.check_params()
    plain, verdict = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        verdict = training.judge(ctx, kept["obs"], params)
        plain.append(time.perf_counter() - started)
    original = getattr(training, "reference_curves", None)
    if original is None:
        return {"judge s": median(plain), "judge with cached reference curves s": math.nan, "same verdict": None}
    cache: dict[Any, Any] = {}

    def memo(ctx_: Any, *args: Any, **kwargs: Any) -> Any:
        key = (_cache_key(args), _cache_key(kwargs))   # everything but the context: hidden, start theta, method, ...
        if key not in cache:
            cache[key] = original(ctx_, *args, **kwargs)
        return cache[key]

    training.reference_curves = memo
    try:
        training.judge(ctx, kept["obs"], params)     # fills the cache (the first submission pays)
        cached, again = [], None
        for _ in range(repeats):
            started = time.perf_counter()
            again = training.judge(ctx, kept["obs"], params)
            cached.append(time.perf_counter() - started)
    finally:
        training.reference_curves = original
    same = json.dumps(asdict(verdict), sort_keys=True, default=str) == json.dumps(asdict(again), sort_keys=True,
                                                                                  default=str)
    return {"judge s": median(plain), "judge with cached reference curves s": median(cached), "same verdict": same}


def _cache_key(value: Any) -> Any:
    """A hashable key for arguments made of arrays, dicts, lists and scalars."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return ("nd", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, dict):
        return ("dict",) + tuple((k, _cache_key(v)) for k, v in sorted(value.items()))
    if isinstance(value, (list, tuple)):
        return ("seq",) + tuple(_cache_key(v) for v in value)
    return value


def _worker_start(engine_load: float, repeats: int) -> dict[str, float]:
    env = dict(os.environ, **BLAS_ENV)
    path = str(SOURCES["vectorized"])
    fresh = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-I", "-c", "import sys, numpy; exec(compile(open(sys.argv[1]).read(), "
                        "'nn.py', 'exec'), {'__name__': 'nn'})", path], env=env, check=True, timeout=60,
                       start_new_session=True)
        fresh.append(time.perf_counter() - started)
    proc = subprocess.run([sys.executable, "-I", "-c", ZYGOTE, path, str(max(5, repeats))], env=env,
                          capture_output=True, text=True, check=True, timeout=120, start_new_session=True)
    return {"engine load s": engine_load, "fresh interpreter + numpy + exec s": median(fresh),
            "fork of a numpy-loaded process + exec s": float(json.loads(proc.stdout.strip().splitlines()[-1]))}


def _per_task(rubric: Any) -> dict[str, float]:
    from grader.batch import rubric_wire_text
    from grader.engine import oracle_for
    from grader.rubric import parse_rubric

    wire = rubric_wire_text(rubric)
    started = time.perf_counter()
    for _ in range(20):
        parsed = parse_rubric(wire, "<rubric>")
    parse = (time.perf_counter() - started) / 20
    oracle_for(parsed)
    started = time.perf_counter()
    for _ in range(20):
        oracle_for(parsed)
    lookup = (time.perf_counter() - started) / 20
    return {"parse_rubric s": parse, "oracle_for lookup s": lookup}


# -- main --------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20, help="copies of correct_vectorized.py per batch (default 20)")
    parser.add_argument("--n-loops", type=int, default=None,
                        help="copies of correct_loops.py per batch (default: N/4 rounded up; each costs 3-4 s)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="the 'all workers' batch size")
    parser.add_argument("--check-runs", type=int, default=5, help="runs of the self-check (median)")
    parser.add_argument("--floor-runs", type=int, default=5,
                        help="grade/floor pairs for the vectorized copies (half as many for the loops; median)")
    parser.add_argument("--split-runs", type=int, default=3, help="instrumented grades per kind for the breakdown")
    parser.add_argument("--full", action="store_true", help="also the slow cost-model points (loops at 1000 iterations)")
    parser.add_argument("--quick", action="store_true", help="small sizes everywhere: a smoke run")
    parser.add_argument("--no-cifar", action="store_true", help="skip the CIFAR-sized figures")
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask LocalCluster batch")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    args = parser.parse_args(argv)
    if args.quick:
        args.n = min(args.n, 6)
        args.check_runs = min(args.check_runs, 3)
        args.floor_runs = min(args.floor_runs, 2)
        args.split_runs = 1
    n_loops = args.n_loops if args.n_loops is not None else (2 if args.quick else max(2, math.ceil(args.n / 4)))

    from grader.rubric import load_rubric
    from reference.data import penguins

    started = time.perf_counter()
    rubric = load_rubric(RUBRIC)
    meta = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "machine": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu count": os.cpu_count(), "python": platform.python_version(),
            "numpy": __import__("numpy").__version__, "commit": git_commit(), "load average at start": load_average(),
            "n": {"vectorized": args.n, "loops": n_loops}}
    print(f"nngrade benchmarks  {meta['date']}  {meta['cpu count']} cores  Python {meta['python']}  "
          f"numpy {meta['numpy']}  commit {meta['commit']}  load {meta['load average at start']}")
    figures: dict[str, Any] = {"meta": meta}
    tmp = Path(tempfile.mkdtemp(prefix="nngrade-bench-"))
    try:
        figures["self-check"] = self_check_latency(args.check_runs)

        data = tmp / "penguins.npz"
        ds = penguins(seed=0)
        __import__("numpy").savez(data, x_train=ds.x_train, y_train=ds.y_train)
        counts = {"vectorized": args.n, "loops": n_loops}
        folders, ids = {}, {}
        for kind, source in SOURCES.items():
            folders[kind] = tmp / "subs" / kind
            ids[kind] = make_copies(source, folders[kind], f"{kind}", counts[kind])

        worker_counts = sorted({1, max(1, args.workers)})
        figures["batch"], figures["costs"], figures["floor"] = {}, {}, {}
        for kind in SOURCES:
            figures["batch"][kind] = batch_throughput(kind, folders[kind], ids[kind], worker_counts, rubric, tmp)
            one = Path(figures["batch"][kind]["workers"][1]["out"])
            figures["costs"][kind] = batch_costs(kind, one, ids[kind], rubric, tmp)
            runs = args.floor_runs if kind == "vectorized" else math.ceil(args.floor_runs / 2)  # loops: ~10 s a pair
            floor_ids = ids[kind][: max(1, min(runs, len(ids[kind])))]
            figures["floor"][kind] = floor_times(kind, folders[kind], floor_ids, data, rubric)
        figures["interpreter"] = bare_interpreter()

        rows = []
        for kind in SOURCES:
            b = figures["batch"][kind]
            for w, f in b["workers"].items():
                rows.append([f"{kind} x{b['n']}", w, ms(f["wall s"]), ms(f["per submission s"]), num(f["per minute"])])
        print_table("Batch throughput (run_batch, LocalExecutor, rendering and gradebook included)",
                    ["batch", "workers", "wall", "per submission", "submissions/min"], rows)

        rows = []
        ratios: dict[str, Any] = {}
        for kind in SOURCES:
            batch1 = figures["batch"][kind]["workers"][1]["per submission s"]
            grade_s = figures["costs"][kind]["grade s"]
            fl = figures["floor"][kind]
            ratios[kind] = {"batch per submission / floor": batch1 / fl["wall median s"],
                            "grade / floor": grade_s / fl["wall median s"],
                            "paired grade / floor": fl["paired ratio median"]}
            ratios[kind]["paired grade / floor, CPU"] = fl["paired cpu ratio median"]
            rows.append([kind, ms(fl["wall median s"]), ms(grade_s), ms(batch1),
                         f"{ratios[kind]['paired grade / floor']:.2f}x",
                         f"{ratios[kind]['batch per submission / floor']:.2f}x",
                         f"{ms(median(fl['paired grade cpu s']))} / {ms(fl['floor cpu median s'])}",
                         f"{fl['paired cpu ratio median']:.2f}x"])
        figures["ratios"] = ratios
        print_table("Grader vs floor (floor: one fresh process per submission, same probes, no grading machinery; "
                    "grade/floor: median of back-to-back pairs; CPU: the grader's process plus its worker's, "
                    "against the floor process's)",
                    ["submission", "floor", "grade()", "batch (1 worker)", "grade/floor", "batch/floor",
                     "CPU grade / floor", "grade/floor CPU"], rows)

        figures["breakdown"] = {}
        for kind in SOURCES:
            figures["breakdown"][kind] = where_time_goes(kind, SOURCES[kind], rubric, args.split_runs)
        for kind in SOURCES:
            bd = figures["breakdown"][kind]
            engine = figures["costs"][kind]["timings"]
            probes = dict(figures["floor"][kind]["probes median s"])
            probes["load"] = probes.get("numpy import", 0.0) + probes.get("load", 0.0)   # the worker imports numpy too
            rows = []
            for crit in engine:
                b = bd.get(crit, {})
                rows.append([crit, ms(engine[crit]), ms(b.get("observe", math.nan)), ms(b.get("judge", math.nan)),
                             int(b.get("round trips", 0)), ms(b.get("round-trip seconds", math.nan)),
                             ms(probes.get(crit, math.nan))])
            c = figures["costs"][kind]
            rows.append(["rendering (default / --release)", f"{ms(c['render s']['default'])} / "
                         f"{ms(c['render s']['release'])}", "", "", "", "", ""])
            rows.append(["rubric parse + oracle lookup (per task)", ms(c["rubric parse + oracle lookup per task s"]),
                         "", "", "", "", ""])
            rows.append(["store commit (per grade)", ms(c["store record per grade s"]), "", "", "", "", ""])
            rows.append(["class outputs (once per batch)", ms(c["class outputs s (whole batch)"]), "", "", "", "", ""])
            rows.append(["grade() total (mean, from run.json)", ms(c["grade s"]), "", "", "", "",
                         ms(figures["floor"][kind]["wall median s"])])
            print_table(f"Where the time goes: {kind} (engine timings: mean over the {figures['batch'][kind]['n']} "
                        f"graded copies; observe/judge/round trips: mean of {args.split_runs} instrumented grades)",
                        ["criterion", "engine", "observe", "judge", "trips", "trip time", "floor probe"], rows)
        interp = figures["interpreter"]
        numpy_start = interp["python -I -c 'import numpy'"]
        print(f"\n  reference: fresh `python -I -c pass` {ms(interp['python -I -c pass'])}, "
              f"`python -I -c 'import numpy'` {ms(numpy_start)}")

        engine_load = figures["costs"]["vectorized"]["timings"].get("load", math.nan)
        figures["experiments"] = experiments(rubric, engine_load, args.check_runs)
        figures["cost model"] = cost_model(rubric, args.quick, args.full)
        if not args.no_cifar:
            figures["cifar"] = cifar_figures(args.quick)
        if not args.no_dask:
            local = Path(figures["batch"]["vectorized"]["workers"][1]["out"])
            figures["dask"] = dask_throughput(folders["vectorized"], ids["vectorized"], rubric,
                                              max(1, args.workers), tmp, local)
            if figures["dask"]:
                d = figures["dask"]
                print_table(f"Dask LocalCluster (processes, 1 thread each) through DaskExecutor, "
                            f"vectorized x{args.n}",
                            ["workers", "cluster start", "wall (cold workers)", "submissions/min",
                             "wall (warm)", "submissions/min", "byte-identical to local"],
                            [[d["workers"], ms(d["cluster start s"]), ms(d["wall s"]), num(d["per minute"]),
                              ms(d["warm wall s"]), num(d["warm per minute"]), d["identical to local"]]])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    figures["meta"]["load average at end"] = load_average()
    figures["meta"]["bench seconds"] = time.perf_counter() - started
    print(f"\nbenchmarks took {figures['meta']['bench seconds']:.0f} s; load average at end "
          f"{figures['meta']['load average at end']}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=1, sort_keys=True, default=str) + "\n")
        print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
