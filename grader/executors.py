"""Where a batch's submissions are graded: this machine or a Dask cluster.

An executor has one method, ``map_unordered(fn, tasks)``, yielding
``(task, result, error_text)`` as each task finishes.  Every task is graded
by the same `grade_and_write`, so results are identical byte for byte
whichever executor ran them; isolation and limits are applied by the
sandbox wherever the task lands (each task starts its own sandboxed worker
subprocess, which works from daemonic processes such as Dask's workers).

If the consumer stops early (an exception, Ctrl-C), tasks not yet started
are cancelled; tasks already running finish, but their results are dropped.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Callable, Iterable, Iterator

from .blas import share_blas_threads


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def _daemonic() -> bool:
    """True in a daemonic process (a multiprocessing pool worker, a Dask
    worker started by a nanny): it may not start multiprocessing children,
    although plain subprocesses (the sandboxed student workers) are fine."""
    return bool(multiprocessing.current_process().daemon)


class LocalExecutor:
    """A process pool on this machine (forkserver: workers start clean).
    With one worker -- or inside a daemonic process, which may not start a
    pool -- the tasks run in this process, which is also simplest to debug."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[tuple[Any, Any, str | None]]:
        tasks = list(tasks)
        if not tasks:
            return
        if self.workers == 1 or len(tasks) == 1 or _daemonic():
            for task in tasks:
                yield _call(fn, task)
            return
        context = multiprocessing.get_context("forkserver")
        workers = min(self.workers, len(tasks))
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=share_blas_threads,
                                   initargs=(max(1, default_workers() // workers),))
        try:
            pending: dict[Future, Any] = {pool.submit(_call, fn, t): t for t in tasks}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    task = pending.pop(future)
                    try:
                        yield future.result()
                    except Exception as exc:  # the pool process itself died
                        yield task, None, f"grading process failed: {type(exc).__name__}: {exc}"
        finally:
            # normally nothing is left; on an early exit, queued tasks are dropped
            pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """Tasks on a Dask distributed cluster (`--scheduler tcp://host:8786`).

    Workers need nngrade installed and must see the submission paths (a
    shared file system) and the output folder.  Each task still runs the
    student's code in its own sandboxed subprocess on the Dask worker.

    One task at a time per worker *process*: grading and rendering use
    process-wide state that is not thread-safe (matplotlib's rcParams, which
    also salt the SVG ids of the plots), so two tasks in threads of one
    process could write different report.html bytes.  Start workers with
    one thread each and as many processes as cores, e.g.
    ``dask worker tcp://host:8786 --nworkers 8 --nthreads 1`` or
    ``LocalCluster(n_workers=8, threads_per_worker=1, processes=True)``;
    extra threads would only wait for the lock.  (Dask's nanny already
    starts each worker process with one BLAS thread.)
    """

    def __init__(self, scheduler: str | None = None, client: Any = None) -> None:
        try:
            from dask.distributed import Client
        except ImportError as exc:  # pragma: no cover - depends on the extra
            raise RuntimeError("the dask executor needs `pip install 'nngrade[dask]'`") from exc
        self._own = client is None
        self.client = client or Client(scheduler)

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[tuple[Any, Any, str | None]]:
        from dask.distributed import as_completed

        tasks = list(tasks)
        if not tasks:
            return
        futures = {self.client.submit(_call_one_per_process, fn, t, pure=False): t for t in tasks}
        try:
            for future in as_completed(list(futures)):
                task = futures.pop(future)
                try:
                    outcome = future.result()
                except Exception as exc:  # the Dask worker died (KilledWorker) or could not run the task
                    outcome = (task, None, f"dask task failed: {type(exc).__name__}: {exc}")
                future.release()
                yield outcome
        finally:
            if futures:  # stopped early: do not leave the cluster grading for nobody
                self.client.cancel(list(futures))

    def close(self) -> None:
        if self._own:
            self.client.close()


def _call(fn: Callable[[Any], Any], task: Any) -> tuple[Any, Any, str | None]:
    """Run one task; a grader-side exception is reported, never raised, so
    it cannot stop the batch."""
    try:
        return task, fn(task), None
    except Exception as exc:
        return task, None, f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"


_ONE_TASK_AT_A_TIME = threading.Lock()


def _call_one_per_process(fn: Callable[[Any], Any], task: Any) -> tuple[Any, Any, str | None]:
    """`_call` serialized within the process (see DaskExecutor)."""
    with _ONE_TASK_AT_A_TIME:
        return _call(fn, task)


def make_executor(kind: str, workers: int | None = None, scheduler: str | None = None) -> Any:
    if kind == "local":
        return LocalExecutor(workers)
    if kind == "dask":
        return DaskExecutor(scheduler)
    raise ValueError(f"unknown executor {kind!r} (local or dask)")
