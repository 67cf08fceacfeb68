"""Where a batch's submissions are graded: this machine or a Dask cluster.

An executor has one method, ``map_unordered(fn, tasks)``, yielding
``(task, result, error_text)`` as each task finishes.  Every task is graded
by the same `grade_and_write`, so results are identical byte for byte
whichever executor ran them; isolation and limits are applied by the
sandbox wherever the task lands.
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Callable, Iterable, Iterator


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


class LocalExecutor:
    """A process pool on this machine (forkserver: workers start clean).
    With one worker the tasks run in this process, which is simplest to debug."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[tuple[Any, Any, str | None]]:
        tasks = list(tasks)
        if not tasks:
            return
        if self.workers == 1:
            for task in tasks:
                yield _call(fn, task)
            return
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(max_workers=min(self.workers, len(tasks)), mp_context=context) as pool:
            pending: dict[Future, Any] = {pool.submit(_call, fn, t): t for t in tasks}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    task = pending.pop(future)
                    try:
                        yield future.result()
                    except Exception as exc:  # the pool process itself died
                        yield task, None, f"grading process failed: {type(exc).__name__}: {exc}"


class DaskExecutor:
    """Tasks on a Dask distributed cluster (`--scheduler tcp://host:8786`).
    Workers need nngrade installed; each task still runs the student's code
    in a sandboxed subprocess on the Dask worker."""

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
        futures = {self.client.submit(_call, fn, t, pure=False): t for t in tasks}
        for future in as_completed(futures):
            task = futures[future]
            try:
                yield future.result()
            except Exception as exc:
                yield task, None, f"dask task failed: {type(exc).__name__}: {exc}"

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


def make_executor(kind: str, workers: int | None = None, scheduler: str | None = None) -> Any:
    if kind == "local":
        return LocalExecutor(workers)
    if kind == "dask":
        return DaskExecutor(scheduler)
    raise ValueError(f"unknown executor {kind!r} (local or dask)")
