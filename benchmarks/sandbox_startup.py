"""Start-up cost of the sandboxed worker: how long `WorkerClient.start()`
takes until the worker has executed an empty submission and answered,
forked by the zygote (the default at the strongest isolation level) and
started as a program (``NNGRADE_ZYGOTE=0``: a fresh interpreter that
imports NumPy), interleaved, same isolation.  Also, for scale: a bare
``python -I -c "import numpy"`` with no sandbox.

    sudo .venv/bin/python benchmarks/sandbox_startup.py [--runs 15]

Prints wall-clock median and min per way, and the CPU time the worker's
processes used (the per-start cgroup's cpuacct, or /proc), which is what a
busy machine cannot inflate.  docs/DESIGN.md holds the figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from grader.sandbox import zygote as zygote_module  # noqa: E402
from grader.sandbox.client import LoadSpec, WorkerClient  # noqa: E402
from grader.sandbox.limits import isolation_level  # noqa: E402


def start_once(folder: Path, use_zygote: bool) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds, how it started) for one start + empty load."""
    os.environ["NNGRADE_ZYGOTE"] = "1" if use_zygote else "0"
    client = WorkerClient(LoadSpec(source=folder / "nn.py", directory=folder, filename="nn.py"))
    client._stage()  # staging (copying the submission) is not the start
    began = time.perf_counter()
    client.start()
    wall = time.perf_counter() - began
    if client.load_error is not None:
        raise SystemExit(f"the worker did not start: {client.load_error.describe()}\n{client.output()}")
    how = type(client.proc).__name__
    cpu = client.cpu_seconds()
    client.close()
    return wall, cpu, how


def bare_numpy() -> float:
    began = time.perf_counter()
    subprocess.run([sys.executable, "-I", "-c", "import numpy"], check=True)
    return time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="nngrade-bench-"))
    (folder / "nn.py").write_text("", encoding="utf-8")
    os.chmod(folder, 0o755)
    os.chmod(folder / "nn.py", 0o644)
    print(f"isolation: {isolation_level()}   load average {os.getloadavg()}")
    zygote = zygote_module.zygote()
    if zygote is not None:  # the zygote's own start (once per grader process) is not a worker start
        began = time.perf_counter()
        start_once(folder, True)
        print(f"first start through the zygote (includes starting it): {1000 * (time.perf_counter() - began):.0f} ms")
    rows: dict[str, list[tuple[float, float]]] = {"zygote fork": [], "exec (fresh interpreter)": [], "bare": []}
    hows = set()
    for _ in range(args.runs):
        wall, cpu, how = start_once(folder, True)
        rows["zygote fork"].append((wall, cpu))
        hows.add(how)
        wall, cpu, _ = start_once(folder, False)
        rows["exec (fresh interpreter)"].append((wall, cpu))
        rows["bare"].append((bare_numpy(), float("nan")))
    shutil.rmtree(folder, ignore_errors=True)
    if "ZygoteProcess" not in hows:
        print("note: the zygote was not used (not root, or NNGRADE_ZYGOTE=0, or it failed): both rows are exec")
    print(f"{'way':40} {'wall median':>12} {'wall min':>9} {'CPU median':>11}")
    for name, values in rows.items():
        walls = [w for w, _ in values]
        cpus = [c for _, c in values if c == c]
        cpu_text = f"{1000 * statistics.median(cpus):9.1f}ms" if cpus else f"{'-':>11}"
        label = name if name != "bare" else "bare `python -I -c 'import numpy'`"
        print(f"{label:40} {1000 * statistics.median(walls):10.1f}ms {1000 * min(walls):7.1f}ms {cpu_text}")
    print(f"load average at end {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
