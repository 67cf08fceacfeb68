"""DaskExecutor on a real (local, loopback-only: scheduler, workers and HTTP on 127.0.0.1, random ports) Dask cluster.

* a batch graded on a `LocalCluster` (2 worker processes, 1 thread each) is
  byte-for-byte the batch LocalExecutor(1) grades: every per-student file
  but run.json (wall-clock timings), and the class outputs;
* resumability is the executor's business not at all: a second run grades
  nothing;
* the student's code still runs in its own sandboxed subprocess on the Dask
  worker (which is a daemonic process): same isolation level as locally, a
  different process, and no network when the sandbox has namespaces;
* `nngrade batch --executor dask --scheduler ADDRESS` works against the
  cluster's scheduler;
* tasks never overlap inside one worker process, even with two threads
  (rendering uses matplotlib's process-wide rcParams);
* and, for the executor it is compared with: LocalExecutor's pool
  processes share the cores' BLAS threads instead of each taking them all.

Skipped when dask.distributed is not installed (the `dask` extra).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

from dask.distributed import Client, LocalCluster  # noqa: E402

from grader.batch import run_batch  # noqa: E402
from grader.executors import DaskExecutor, LocalExecutor  # noqa: E402
from grader.rubric import load_rubric  # noqa: E402

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = ROOT / "submissions"
BATCH = ("correct_vectorized", "bug_sum_not_mean", "bug_syntax_error")
#: per-student files that must be identical whichever executor graded them
STUDENT_FILES = ("result.json", "gradescope.json", "report.html")
CLASS_FILES = ("gradebook.csv", "gradebook_canvas.csv", "summary.html")

#: A submission that reports where it runs (printed output lands in result["stdout"]).
PROBE_SUBMISSION = '''
import os, socket
print("pid", os.getpid(), "ppid", os.getppid())
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
    print("network: reached the scheduler")
except OSError as exc:
    print("network: blocked", type(exc).__name__)

class NN:
    pass
'''


def cluster_kwargs(**overrides):
    kwargs = dict(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                  dashboard_address="127.0.0.1:0", scheduler_port=0, silence_logs=40)
    kwargs.update(overrides)
    return kwargs


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(**cluster_kwargs()) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def client(cluster):
    with Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def rubric():
    return load_rubric("penguins-silu")


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dask-submissions")
    for name in BATCH:
        shutil.copyfile(SUBMISSIONS / f"{name}.py", folder / f"{name}.py")
    return folder


@pytest.fixture(scope="module")
def local_out(batch_dir, rubric, tmp_path_factory, course_secret):
    out = tmp_path_factory.mktemp("local") / "out"
    # final grading, with the suite's course secret (as the CLI test below loads it)
    report = run_batch(batch_dir, rubric, out, executor=LocalExecutor(1), secret=course_secret)
    assert sorted(report.graded) == sorted(BATCH) and not report.failed
    return out


def assert_same_outputs(a: Path, b: Path) -> None:
    for name in BATCH:
        for filename in STUDENT_FILES:
            assert (a / name / filename).read_bytes() == (b / name / filename).read_bytes(), (name, filename)
        assert (a / name / "run.json").exists() and (b / name / "run.json").exists()
    for filename in CLASS_FILES:
        assert (a / filename).read_bytes() == (b / filename).read_bytes(), filename


def test_dask_batch_is_byte_identical_to_local_and_resumable(client, batch_dir, rubric, local_out, tmp_path,
                                                             course_secret):
    workers = client.run(lambda: __import__("multiprocessing").current_process().daemon)
    assert len(workers) == 2   # two worker processes (daemonic or not: the sandbox must work in both)

    out = tmp_path / "out"
    report = run_batch(batch_dir, rubric, out, executor=DaskExecutor(client=client), secret=course_secret)
    assert sorted(report.graded) == sorted(BATCH)
    assert not report.failed
    assert_same_outputs(out, local_out)

    again = run_batch(batch_dir, rubric, out, executor=DaskExecutor(client=client), secret=course_secret)
    assert again.graded == [] and sorted(again.skipped) == sorted(BATCH) and not again.failed
    assert_same_outputs(out, local_out)


def test_student_code_runs_sandboxed_on_dask_workers(client, cluster, rubric, tmp_path):
    from grader.sandbox.limits import isolation_level

    port = int(cluster.scheduler_address.rsplit(":", 1)[1])
    folder = tmp_path / "subs"
    folder.mkdir()
    (folder / "where.py").write_text(PROBE_SUBMISSION.format(port=port))
    out = tmp_path / "out"
    report = run_batch(folder, rubric, out, executor=DaskExecutor(client=client))
    assert report.graded == ["where"] and not report.failed

    result = json.loads((out / "where" / "result.json").read_text())
    assert result["isolation"] == isolation_level()    # the same sandbox as on this machine's executor
    lines = result["stdout"].splitlines()
    student_pid = int(next(line for line in lines if line.startswith("pid ")).split()[1])
    assert student_pid not in set(client.run(os.getpid).values())   # not inside the Dask worker process
    if isolation_level().startswith("namespaces"):
        assert any(line.startswith("network: blocked") for line in lines), lines


def test_cli_batch_with_dask_scheduler(cluster, batch_dir, local_out, tmp_path, capsys):
    from grader.cli import main

    out = tmp_path / "cli-out"
    argv = ["batch", str(batch_dir), "--out", str(out), "--executor", "dask", "--scheduler",
            cluster.scheduler_address]
    assert main(argv) == 0
    assert_same_outputs(out, local_out)
    capsys.readouterr()
    assert main(argv) == 0
    assert "graded 0" in capsys.readouterr().out


def _interval(task):
    """A task that takes a while and reports when, and in which process, it ran."""
    started = time.monotonic()
    time.sleep(0.3)
    return started, time.monotonic(), os.getpid()


def test_tasks_do_not_overlap_within_a_worker_process():
    cloudpickle = pytest.importorskip("cloudpickle")
    cloudpickle.register_pickle_by_value(sys.modules[__name__])   # the workers cannot import this test module
    try:
        with LocalCluster(**cluster_kwargs(n_workers=1, threads_per_worker=2)) as cluster, \
                Client(cluster) as client:
            results = list(DaskExecutor(client=client).map_unordered(_interval, range(4)))
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert all(error is None for _, _, error in results), results
    spans = sorted(value[:2] for _, value, _ in results)
    assert len({value[2] for _, value, _ in results}) == 1
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert start >= end - 1e-3   # one after the other, never two at once


def test_dask_executor_with_no_tasks_and_closing(cluster):
    executor = DaskExecutor(cluster.scheduler_address)   # owns its client
    assert list(executor.map_unordered(_interval, [])) == []
    executor.close()
    assert executor.client.status == "closed"


def test_local_pool_processes_share_blas_threads():
    from grader.blas import BLAS_THREAD_VARIABLES

    names = list(BLAS_THREAD_VARIABLES)
    seen = {task: value for task, value, error in LocalExecutor(2).map_unordered(os.getenv, names)}
    share = str(max(1, (os.cpu_count() or 1) // 2))
    assert seen == {name: os.environ.get(name, share) for name in names}
