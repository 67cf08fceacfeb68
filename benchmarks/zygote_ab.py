"""grade/floor with the zygote and with the exec path, in the same run.

    sudo .venv/bin/python benchmarks/zygote_ab.py [--rounds 9] [--kind vectorized]

Each round grades one copy of the sample in-process three ways back to back
-- the floor (benchmarks/floor.py, a fresh process), grade() with workers
forked by the zygote, grade() with workers started as fresh interpreters
(``NNGRADE_ZYGOTE=0``, the way before the zygote) -- so all three see the
same machine load; the medians of the paired ratios are printed, by wall
clock and by CPU seconds (the grader's process plus its worker's cgroup).
`bench.py`'s `floor_times` does the pairing; this script only alternates
the worker start.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench  # noqa: E402  (puts the repository root on sys.path)

from grader.rubric import load_rubric  # noqa: E402
from reference.data import penguins  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--kind", choices=sorted(bench.SOURCES), default="vectorized")
    args = parser.parse_args()
    rubric = load_rubric("penguins-silu")
    tmp = Path(tempfile.mkdtemp(prefix="nngrade-ab-"))
    data = tmp / "penguins.npz"
    ds = penguins(seed=0)
    __import__("numpy").savez(data, x_train=ds.x_train, y_train=ds.y_train)
    folder = tmp / "subs"
    ids = bench.make_copies(bench.SOURCES[args.kind], folder, args.kind, 2 * args.rounds)
    print(f"load average at start {os.getloadavg()}")
    ways: dict[str, dict[str, list[float]]] = {"zygote": {"wall": [], "cpu": [], "grade": []},
                                               "exec": {"wall": [], "cpu": [], "grade": []}}
    for i in range(args.rounds):
        for j, (way, flag) in enumerate((("zygote", "1"), ("exec", "0"))):
            os.environ["NNGRADE_ZYGOTE"] = flag
            got = bench.floor_times(args.kind, folder, [ids[2 * i + j]], data, rubric)
            ways[way]["wall"].append(got["paired ratio median"])
            ways[way]["cpu"].append(got["paired cpu ratio median"])
            ways[way]["grade"].append(got["paired grade s"][0])
    print(f"{args.kind}, {args.rounds} rounds: grade/floor medians of back-to-back pairs")
    for way, got in ways.items():
        print(f"  {way:7} grade() {1000 * statistics.median(got['grade']):7.1f} ms   "
              f"grade/floor wall {statistics.median(got['wall']):.2f}x   CPU {statistics.median(got['cpu']):.2f}x")
    print(f"load average at end {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
