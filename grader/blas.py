"""How many threads NumPy's BLAS may start in a grading process.

Kept apart from `executors` (process pools, multiprocessing, Dask) so that
the command line can set it before anything imports NumPy without paying for
the pool machinery, which only `batch` uses.
"""

from __future__ import annotations

import os

#: Thread-count variables of the BLAS/OpenMP libraries NumPy may use.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
                         "VECLIB_MAXIMUM_THREADS")


def share_blas_threads(threads: int) -> None:
    """Pool-process initializer, run before the first task imports NumPy:
    the pool's processes share the cores, so each gets cores / workers BLAS
    threads (the sandboxed student workers already use one).  Without it
    every grading process starts a thread per core, and the reference
    computations of a parallel batch slow down several times over on a busy
    machine.  Explicit settings in the environment are kept."""
    for name in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(name, str(threads))
