"""The floor: the student's own work for the penguins rubric, nothing else.

    python benchmarks/floor.py SUBMISSION.py [--data penguins.npz] [--seed 0] [--trace FILE]

One fresh Python process (run it as a subprocess, one per submission) that
imports NumPy, executes the submission's source and calls its ``NN`` class
with the same questions, at the same sizes, as the penguins-silu criteria's
``observe`` (grader/checks/*.py) -- without a sandbox, a wire format, an
oracle, judging or rendering.  No grader can be faster than this for the
same questions, so ``grader time / floor time`` is the grader's overhead
factor.

Probes, one per criterion (sizes: 4 inputs, 3 classes, N_H hidden units,
S samples; "set theta" writes values into the student's dict):

* param-shapes, param-count: construct N_H = 16, 5, 7 and read theta's
  shapes (each criterion asks on its own);
* init: construct N_H = 500 and read theta;
* forward: N_H = 6, set theta, feed_forward(x) and feed_forward(1000 x), S = 7;
* loss: N_H = 6, set theta, loss(x, y) and feed_forward(x), S = 7;
* grad-W0/b0/W1/b1: N_H = 6, set theta, back_propagate(x, y) with S = 5, then
  the grader-driven finite differences: one loss call at theta and one at
  theta +- h e_i for every coordinate i of the block (1 + 2 n loss calls:
  49, 13, 37, 7), then back_propagate once more at another theta with
  S = 7 (the second probe that confirms a named mistake);
* gd-step: N_H = 6, set theta, back_propagate, set theta again, one step
  (lr 0.01, S = 5); then the same at the second probe's lr (0.00346);
* nag-step: NAG at N_H = 6 (lr 0.05, momentum 0.9): 4 steps with a snapshot
  each; the three correct-form replays (NAG, NAG storing the look-ahead,
  FISTA) from the first snapshot with a helper network's back_propagate as
  the gradient, asked once per distinct point; then the second-momentum
  probe: NAG at momentum 0.637 for 3 steps and the NAG / stored-look-ahead
  replays at momenta 0.637 and 0.9 from its start (the family fit that names
  a wrong trajectory uses the reference gradient, no student call);
* training: on the penguins training split (280 x 4), N_H = 16, lr 0.1, from
  one start drawn N(0, 0.05^2) (written over theta and over any attribute
  holding a copy of the constructor's theta, e.g. NAG's previous iterate):
  300 GD steps with a snapshot every 10 steps, after steps 1-5 and after
  steps k and k + 1 for 3 spot-checked k (drawn from 6..298), 300 NAG steps
  with a snapshot every 10 and after step 1, train(x, y, 5) on a third
  network from the same start, and back_propagate on a fourth at the start
  and the 3 spot-checked iterates.

The split comes from ``reference.data.penguins()``; bench.py saves it once
to an .npz (``--data``) so that reading the CSV is not charged to the floor
(the grader, too, loads it once per process and sends it over a pipe).  The
candidate replays (`replay`) are the one piece of grader-side arithmetic
kept, as they decide where the student's gradient is asked: a few dict
operations per replayed step (5 x 4 + 4 x 3 steps, about a millisecond).

Parameters are written in the student's own layout (same keys and shapes as
their theta), so no adapter is needed.  The student's prints are swallowed.
Prints one JSON line: per-probe seconds and the total inside the process
(the caller measures the wall time, interpreter start-up included).
``--trace FILE`` also writes, per probe, every top-level call the floor made
to the student's class (constructor arguments; method, samples, iterations)
as JSON, for tests/benchmarks/test_floor.py to compare with the questions
the grader asks; tracing wraps the class's methods, so time a run without it.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import io  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable  # noqa: E402

import numpy as np  # noqa: E402

IMPORTED = time.perf_counter()

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# -- the questions' parameters: penguins-silu and the checks' defaults -------------
LR, MU = 0.01, 0.9                       # rubric optimizer (gd-step, the probe networks)
GD_SECOND_LR = 0.00346                   # gd_step.second_lr(0.01, penguins-silu's public seed)
SHAPE_HIDDEN = (16, 5, 7)                # param-shapes / param-count params.hidden
INIT_HIDDEN = 500                        # init params.hidden
PROBE_HIDDEN = 6                         # forward, loss, gradient, gd_step, nag_step Params.hidden
FORWARD_SAMPLES, FORWARD_SCALE = 7, 1000.0   # forward / loss Params.samples, forward large_scale
GRAD_SAMPLES, FD_STEP = 5, 1e-6          # gradient Params.samples, h (float64)
CONFIRM_SAMPLES = 7                      # gradient Params.confirm_samples (the second probe)
STEP_SAMPLES = 5                         # gd_step / nag_step Params.samples
NAG_LR, NAG_STEPS = 0.05, 4              # nag_step Params.lr, steps
NAG_CANDIDATES = ("nag", "nag_stored", "nag_fista")   # the replays of nag_step.observe
SECOND_MU, SECOND_STEPS = 0.637, 3       # nag_step.second_momentum(0.9, penguins-silu's public seed), SECOND_STEPS
SECOND_CANDIDATES = ("nag", "nag_stored")
TRAIN_HIDDEN, TRAIN_LR, INIT_STD = 16, 0.1, 0.05   # training: architecture, params.lr, init std
ITERATIONS, EVERY, TRAIN_ITERATIONS = 300, 10, 5   # training Params
SPOT_CHECKS = 3                          # training.SPOT_CHECKS

#: the student's methods the grader calls (traced with --trace)
METHODS = ("__init__", "feed_forward", "loss", "back_propagate", "step", "train")


def replay(method: str, grad: Callable[[dict], Any], theta0: dict, steps: int, lr: float, mu: float) -> None:
    """The points where nag-step's candidate `method` asks for a gradient,
    asked through `grad` (the recurrences of reference/optimizers.py, written
    out here because importing that module -- dataclasses, typing -- costs the
    floor several times the arithmetic; tests/benchmarks/test_floor.py checks
    that the calls come out the same as the grader's)."""
    theta, previous, buffer, t = dict(theta0), dict(theta0), None, 1.0
    for _ in range(steps):
        if method == "gd" or method == "heavy_ball":
            g = grad(theta)
            momentum = {k: mu * (theta[k] - previous[k]) for k in theta} if method == "heavy_ball" else {}
            theta, previous = {k: theta[k] - lr * g[k] + momentum.get(k, 0.0) for k in theta}, theta
        elif method == "nag_stored":   # torch's SGD(nesterov=True): theta holds the look-ahead point
            g = grad(theta)
            buffer = {k: g[k].copy() for k in g} if buffer is None else {k: mu * buffer[k] + g[k] for k in g}
            theta = {k: theta[k] - lr * (g[k] + mu * buffer[k]) for k in theta}
        else:   # "nag", or "nag_fista" with mu_k = (t_k - 1) / t_{k+1}
            t_next = (1.0 + (1.0 + 4.0 * t * t) ** 0.5) / 2.0
            momentum_k = (t - 1.0) / t_next if method == "nag_fista" else mu
            t = t_next
            y = {k: theta[k] + momentum_k * (theta[k] - previous[k]) for k in theta}
            g = grad(y)
            theta, previous = {k: y[k] - lr * g[k] for k in y}, theta


def traced(cls: type, log: list) -> None:
    """Record every top-level call of the student's methods into `log` (calls
    they make to one another are the student's own business, as in the
    worker, where only the grader's requests are top-level)."""
    depth = [0]

    def wrap(name: str, method: Callable) -> Callable:
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            if depth[0] == 0:
                log.append(question(name, args, kwargs))
            depth[0] += 1
            try:
                return method(self, *args, **kwargs)
            finally:
                depth[0] -= 1
        return wrapper

    for name in METHODS:
        method = getattr(cls, name, None)
        if callable(method):
            setattr(cls, name, wrap(name, method))


def question(name: str, args: tuple, kwargs: dict) -> list:
    """A call in the terms tests/benchmarks/test_floor.py compares."""
    if name == "__init__":
        return [name, kwargs.get("num_hidden"), kwargs.get("gradient_method"), kwargs.get("lr"),
                kwargs.get("momentum")]
    samples = int(np.shape(args[0])[0]) if args else None
    return [name, samples, *(int(a) for a in args[2:3])]   # train's iterations


def main(argv: list[str]) -> int:
    path = Path(argv[0])
    seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 0
    trace = Path(argv[argv.index("--trace") + 1]) if "--trace" in argv else None
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

    calls: list = []
    questions: dict[str, list] = {}
    if trace is not None:
        traced(NN, calls)
    rng = np.random.default_rng(seed)

    def new(hidden: int, method: str = "GD", lr: float = LR, momentum: float = MU) -> Any:
        return NN(num_input=4, num_hidden=hidden, num_output=3, gradient_method=method, lr=lr, momentum=momentum)

    def snapshot(net: Any) -> dict:
        """What the grader reads back: a copy of theta."""
        return {k: np.array(v) for k, v in net.theta.items()}

    def set_theta(net: Any, theta: dict) -> None:
        net.theta.update({k: np.array(v, dtype=np.float64) for k, v in theta.items()})

    def random_theta(net: Any, std: float = 0.5) -> dict:
        """A probe theta in the student's own layout, written into their dict."""
        theta = {k: std * rng.standard_normal(np.shape(v)) for k, v in net.theta.items()}
        set_theta(net, theta)
        return theta

    def batch(samples: int) -> tuple[np.ndarray, np.ndarray]:
        x = 1.5 * rng.standard_normal((samples, 4))
        y = rng.permutation(np.arange(samples) % 3)
        return x, y

    def timed(name: str, fn: Callable[[], None]) -> None:
        t0 = time.perf_counter()
        fn()
        timings[name] = time.perf_counter() - t0
        questions[name] = calls[:]
        calls.clear()

    def shapes() -> None:
        for hidden in SHAPE_HIDDEN:
            net = new(hidden)
            _ = {k: np.shape(v) for k, v in net.theta.items()}

    def init() -> None:
        snapshot(new(INIT_HIDDEN))

    def forward() -> None:
        net = new(PROBE_HIDDEN)
        random_theta(net)
        x, _ = batch(FORWARD_SAMPLES)
        net.feed_forward(x)
        net.feed_forward(FORWARD_SCALE * x)

    def loss() -> None:
        net = new(PROBE_HIDDEN)
        random_theta(net)
        x, y = batch(FORWARD_SAMPLES)
        net.loss(x, y)
        net.feed_forward(x)

    def gradient(block: str) -> None:
        net = new(PROBE_HIDDEN)
        theta = random_theta(net)
        x, y = batch(GRAD_SAMPLES)
        net.back_propagate(x, y)
        net.loss(x, y)                 # the loss at the base point
        flat = net.theta[block].reshape(-1)   # a view: perturb in place, restore exactly
        base = theta[block].reshape(-1)
        for i in range(flat.size):
            for sign in (1.0, -1.0):
                flat[i] = base[i] + sign * FD_STEP
                net.loss(x, y)
            flat[i] = base[i]
        random_theta(net)              # the second probe: another theta and S confirm a named mistake
        net.back_propagate(*batch(CONFIRM_SAMPLES))

    def gd_step() -> None:
        for lr in (LR, GD_SECOND_LR):
            net = new(PROBE_HIDDEN, lr=lr)
            theta = random_theta(net)
            x, y = batch(STEP_SAMPLES)
            net.back_propagate(x, y)
            set_theta(net, theta)
            snaps = [snapshot(net)]
            net.step(x, y)
            snaps.append(snapshot(net))

    def nag_step() -> None:
        x, y = batch(STEP_SAMPLES)
        helper: list = []
        cache: dict[bytes, dict] = {}

        def grad(theta: dict) -> dict:
            """The helper's back_propagate, once per distinct point (as the grader memoizes it)."""
            key = b"".join(np.ascontiguousarray(theta[k]).tobytes() for k in sorted(theta))
            if key not in cache:
                if not helper:
                    helper.append(new(PROBE_HIDDEN, "GD", lr=NAG_LR))
                set_theta(helper[0], theta)
                cache[key] = helper[0].back_propagate(x, y)
            return cache[key]

        def run(momentum: float, steps: int) -> list[dict]:
            net = new(PROBE_HIDDEN, "NAG", lr=NAG_LR, momentum=momentum)
            snaps = [snapshot(net)]
            for _ in range(steps):
                net.step(x, y)
                snaps.append(snapshot(net))
            return snaps

        snaps = run(MU, NAG_STEPS)
        for method in NAG_CANDIDATES:
            replay(method, grad, snaps[0], NAG_STEPS, NAG_LR, MU)
        second = run(SECOND_MU, SECOND_STEPS)
        for method in SECOND_CANDIDATES:
            for momentum in (SECOND_MU, MU):
                replay(method, grad, second[0], SECOND_STEPS, NAG_LR, momentum)

    def start_at(net: Any, theta0: dict) -> None:
        """theta0 as if the constructor had drawn it: also over every attribute
        holding a copy of the constructor's theta (NAG's previous iterate)."""
        own = snapshot(net)
        for name, state in list(vars(net).items()):
            if name != "theta" and isinstance(state, dict) and state.keys() == own.keys() \
                    and all(np.array_equal(state[k], own[k]) for k in own):
                setattr(net, name, {k: v.copy() for k, v in theta0.items()})
        set_theta(net, theta0)

    def training() -> None:
        spots = sorted(int(k) for k in rng.choice(np.arange(TRAIN_ITERATIONS + 1, ITERATIONS - 1),
                                                  size=SPOT_CHECKS, replace=False))
        extra = {"GD": {*range(1, TRAIN_ITERATIONS + 1), *spots, *(k + 1 for k in spots)}, "NAG": {1}}
        theta0: dict | None = None
        at_spots: list[dict] = []
        for method in ("GD", "NAG"):
            net = new(TRAIN_HIDDEN, method, lr=TRAIN_LR)
            if theta0 is None:
                theta0 = {k: INIT_STD * rng.standard_normal(np.shape(v)) for k, v in net.theta.items()}
            start_at(net, theta0)
            snaps = {0: snapshot(net)}
            for i in range(1, ITERATIONS + 1):
                net.step(x_train, y_train)
                if i % EVERY == 0 or i in extra[method]:
                    snaps[i] = snapshot(net)
            if method == "GD":
                at_spots = [snaps[k] for k in spots]
        trainer = new(TRAIN_HIDDEN, "GD", lr=TRAIN_LR)
        start_at(trainer, theta0)
        trainer.train(x_train, y_train, TRAIN_ITERATIONS)
        helper = new(TRAIN_HIDDEN, "GD", lr=TRAIN_LR)
        for theta in (theta0, *at_spots):
            set_theta(helper, theta)
            helper.back_propagate(x_train, y_train)

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
    if trace is not None:
        trace.write_text(json.dumps(questions, sort_keys=True), encoding="utf-8")
    print(json.dumps(timings, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
