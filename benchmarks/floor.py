"""The floor: the student's own work for the penguins rubric, nothing else.

    python benchmarks/floor.py SUBMISSION.py [--data penguins.npz] [--seed 0]

One fresh Python process (run it as a subprocess, one per submission) that
imports NumPy, executes the submission's source and calls its ``NN`` class
with the same probes, at the same sizes, as the penguins-silu criteria --
without a sandbox, a wire format, an oracle, judging or rendering.  No
grader can be faster than this for the same questions, so ``grader time /
floor time`` is the grader's overhead factor.

Probes (mirroring grader/checks/*.py with their penguins-silu parameters):

* param-shapes, param-count: construct N_H = 16, 5, 7 and read theta (twice);
* init: construct N_H = 500 and read theta;
* forward: S = 7, N_H = 6, a set theta, feed_forward(x) and feed_forward(1000 x);
* loss: the same network, loss(x, y) and feed_forward(x);
* grad-W0/b0/W1/b1: S = 5, N_H = 6, back_propagate, then central finite
  differences of loss over every coordinate of the block (2 loss calls per
  coordinate; 24 + 6 + 18 + 3 = 51 coordinates in all);
* gd-step: back_propagate, reset theta, one step;
* nag-step: 4 NAG steps (lr 0.1) with a snapshot each, then the candidate
  replays: 5 methods x 4 back_propagate calls on a helper network;
* training: 300 GD and 300 NAG steps (lr 0.1) on the penguins training split
  (280 x 4) with a parameter snapshot every 10 steps, then train(x, y, 5).
  The split comes from ``reference.data.penguins()``; bench.py saves it once
  to an .npz (``--data``) so that reading the CSV is not charged to the floor
  (the grader, too, loads it once per process and sends it over a pipe).

Parameters are written in the student's own layout (same keys and shapes as
their theta), so no adapter is needed.  The student's prints are swallowed.
Prints one JSON line: per-probe seconds and the total inside the process
(the caller measures the wall time, interpreter start-up included).
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import io  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

IMPORTED = time.perf_counter()

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LR, MU, TRAIN_LR = 0.01, 0.9, 0.1


def main(argv: list[str]) -> int:
    path = Path(argv[0])
    seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 0
    timings: dict[str, float] = {"numpy import": IMPORTED - STARTED}
    real_stdout = sys.stdout
    sys.stdout = io.StringIO()   # the student's prints (correct_loops prints during train)

    t = time.perf_counter()
    if "--data" in argv:   # the training split saved by bench.py from reference.data.penguins()
        with np.load(argv[argv.index("--data") + 1]) as saved:
            x_train, y_train = saved["x_train"], saved["y_train"]
    else:
        from reference.data import penguins   # stdlib csv + numpy only
        data = penguins(seed=0)
        x_train, y_train = data.x_train, data.y_train
    timings["data"] = time.perf_counter() - t

    t = time.perf_counter()
    np.random.seed(seed)
    namespace = {"__name__": "nn", "__file__": str(path)}
    exec(compile(path.read_text(encoding="utf-8"), path.name, "exec"), namespace)  # noqa: S102
    NN = namespace["NN"]
    timings["load"] = time.perf_counter() - t

    rng = np.random.default_rng(seed)

    def new(hidden: int, method: str = "GD", lr: float = LR) -> object:
        return NN(num_input=4, num_hidden=hidden, num_output=3, gradient_method=method, lr=lr, momentum=MU)

    def random_theta(net: object, std: float = 0.5) -> dict:
        """A probe theta in the student's own layout; written into their dict."""
        theta = {k: std * rng.standard_normal(np.shape(v)) for k, v in net.theta.items()}
        net.theta.update({k: v.copy() for k, v in theta.items()})
        return theta

    def batch(samples: int) -> tuple[np.ndarray, np.ndarray]:
        x = 1.5 * rng.standard_normal((samples, 4))
        y = rng.permutation(np.arange(samples) % 3)
        return x, y

    def timed(name: str, fn) -> None:
        t0 = time.perf_counter()
        fn()
        timings[name] = time.perf_counter() - t0

    def shapes() -> None:
        for hidden in (16, 5, 7):
            net = new(hidden)
            _ = {k: np.shape(v) for k, v in net.theta.items()}

    def init() -> None:
        net = new(500)
        values = np.concatenate([np.ravel(v) for v in net.theta.values()])
        _ = values.mean(), values.std()

    def forward() -> None:
        net = new(6)
        random_theta(net)
        x, _ = batch(7)
        net.feed_forward(x)
        net.feed_forward(1000.0 * x)

    def loss() -> None:
        net = new(6)
        random_theta(net)
        x, y = batch(7)
        net.loss(x, y)
        net.feed_forward(x)

    def gradient(block: str) -> None:
        net = new(6)
        theta = random_theta(net)
        x, y = batch(5)
        net.back_propagate(x, y)
        h = 1e-6
        flat = net.theta[block].reshape(-1)   # a view: perturb in place, restore exactly
        for i in range(flat.size):
            for sign in (1.0, -1.0):
                flat[i] = theta[block].reshape(-1)[i] + sign * h
                net.loss(x, y)
            flat[i] = theta[block].reshape(-1)[i]

    def gd_step() -> None:
        net = new(6)
        theta = random_theta(net)
        x, y = batch(5)
        net.back_propagate(x, y)
        net.theta.update({k: v.copy() for k, v in theta.items()})
        net.step(x, y)

    def nag_step() -> None:
        x, y = batch(5)
        net = new(6, "NAG", lr=0.1)
        snaps = [{k: np.array(v) for k, v in net.theta.items()}]
        for _ in range(4):
            net.step(x, y)
            snaps.append({k: np.array(v) for k, v in net.theta.items()})
        helper = new(6, "GD", lr=0.1)
        for _ in range(5 * 4):          # candidate replays: 5 methods x 4 gradient calls
            helper.theta.update({k: v.copy() for k, v in snaps[0].items()})
            helper.back_propagate(x, y)

    def training() -> None:
        start = None
        for method in ("GD", "NAG"):
            net = new(16, method, lr=TRAIN_LR)
            if start is None:
                start = {k: 0.05 * rng.standard_normal(np.shape(v)) for k, v in net.theta.items()}
            net.theta.update({k: v.copy() for k, v in start.items()})
            snaps = [{k: np.array(v) for k, v in net.theta.items()}]
            for i in range(300):
                net.step(x_train, y_train)
                if (i + 1) % 10 == 0:
                    snaps.append({k: np.array(v) for k, v in net.theta.items()})
        new(16, "GD", lr=TRAIN_LR).train(x_train, y_train, 5)

    timed("param-shapes", shapes)
    timed("param-count", shapes)
    timed("init", init)
    timed("forward", forward)
    timed("loss", loss)
    for block in ("W0", "b0", "W1", "b1"):
        timed(f"grad-{block}", lambda b=block: gradient(b))
    timed("gd-step", gd_step)
    timed("nag-step", nag_step)
    timed("training", training)
    timings["total inside"] = time.perf_counter() - STARTED
    sys.stdout = real_stdout
    print(json.dumps(timings, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
