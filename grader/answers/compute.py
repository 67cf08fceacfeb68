"""What each written question asks of the reference, and what each named
mistake would have produced instead.

Counts and depths are exact integers.  The worked example is a stated tiny
network (weights as written in the handout), computed in float64 with a few
switches that reproduce the classic wrong computations; with every switch off
it agrees with `reference.network` (tested).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .parse import fmt_int

INPUT_SLACK = 4   # "an input dimension off by a few": 3075 or 3068 for 3072


def input_slack(inputs: int) -> int:
    """How far off an input size may be to count as "off by a few": up to 4,
    and at most half of it (1 input is not "a few off" 4)."""
    return min(INPUT_SLACK, max(1, inputs // 2))


@dataclass(frozen=True)
class Candidate:
    """One named mistake's value: `key` identifies the same structural
    mistake across the points a formula is evaluated at."""

    mistake: str
    key: str
    value: Any
    fields: dict[str, Any] = field(default_factory=dict)


# -- parameter counts -------------------------------------------------------------------

def count(sizes: list[int]) -> int:
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def count_candidates(sizes: list[int], labels: list[str], first_index: int = 0,
                     input_fixed: bool = True) -> list[Candidate]:
    """The count under each named mistake; `labels` names the sizes in
    prose ("N_H", "512")."""
    total = count(sizes)
    out: list[Candidate] = []
    layers = list(zip(sizes[:-1], sizes[1:]))
    last = len(layers) - 1
    for i, (n_in, n_out) in enumerate(layers):
        name = _layer_name(i, last)
        out.append(Candidate("answer-missing-layer-biases", f"bias:{i}", total - n_out,
                             {"block": f"b{i + first_index}", "layer": name, "n": labels[i + 1]}))
        out.append(Candidate("answer-missing-layer-weights", f"weights:{i}", total - n_in * n_out,
                             {"block": f"W{i + first_index}", "layer": name,
                              "n": f"{labels[i]} x {labels[i + 1]}"}))
        out.append(Candidate("answer-layer-twice", f"twice:{i}", total + n_in * n_out + n_out,
                             {"block": f"W{i + first_index} and b{i + first_index}", "layer": name}))
    out.append(Candidate("answer-missing-all-biases", "biases", total - sum(sizes[1:]), {}))
    out.append(Candidate("answer-biases-twice", "biases-twice", total + sum(sizes[1:]), {}))
    if input_fixed:
        slack = input_slack(sizes[0])
        for d in range(-slack, slack + 1):
            if d and sizes[0] + d > 0:
                out.append(Candidate("answer-input-dimension", f"inputs:{d}", count([sizes[0] + d, *sizes[1:]]),
                                     {"used": fmt_int(sizes[0] + d), "inputs": fmt_int(sizes[0])}))
    return out


def slip(answer: int, expected: int) -> Candidate | None:
    """A plain addition slip: the answer is off by one nonzero digit in one
    decimal place (10, 300, 2000, ...)."""
    diff = answer - expected
    if diff == 0:
        return None
    magnitude = abs(diff)
    while magnitude % 10 == 0:
        magnitude //= 10
    if magnitude > 9:
        return None
    return Candidate("answer-arithmetic-slip", "slip", answer,
                     {"off": f"{abs(diff):,}", "direction": "short" if diff < 0 else "too many"})


def _layer_name(i: int, last: int) -> str:
    if i == last:
        return "the output layer"
    if last == 1:
        return "the hidden layer"
    return f"hidden layer {i + 1}"


# -- the integer that best meets a budget -------------------------------------------------

@dataclass(frozen=True)
class DepthAnswer:
    best: int
    real: float               # the real x with count(x) = budget (linear between integers)
    budget: int
    counts: dict[int, int]    # count at a few x around the best


def closest_depth(before: list[int], repeat: int, after: list[int], budget: int, max_depth: int = 1000) -> DepthAnswer:
    """The x >= 0 minimizing |count(before + [repeat] * x + after) - budget|."""
    def c(x: int) -> int:
        return count([*before, *([repeat] * x), *after])

    best, best_gap = 0, abs(c(0) - budget)
    real = 0.0
    for x in range(0, max_depth + 1):
        value = c(x)
        if abs(value - budget) < best_gap:
            best, best_gap = x, abs(value - budget)
        nxt = c(x + 1)
        if value <= budget < nxt:
            real = x + (budget - value) / (nxt - value)
        if value > budget:
            break
    counts = {x: c(x) for x in range(max(0, best - 2), best + 3)}
    return DepthAnswer(best, real, budget, counts)


def depth_candidates(before: list[int], repeat: int, after: list[int], budget: int,
                     max_depth: int = 1000) -> list[Candidate]:
    ref = closest_depth(before, repeat, after, budget, max_depth)
    out = []
    down, up = math.floor(ref.real), math.ceil(ref.real)
    fields = {"real": f"{ref.real:.2f}", "best": ref.best}
    if down != ref.best:
        out.append(Candidate("answer-rounded-down", "down", down, fields))
    if up != ref.best:
        out.append(Candidate("answer-rounded-up", "up", up, fields))
    slack = input_slack(before[0])
    for d in range(-slack, slack + 1):
        if d and before[0] + d > 0:
            other = closest_depth([before[0] + d, *before[1:]], repeat, after, budget, max_depth).best
            if other != ref.best:
                out.append(Candidate("answer-input-dimension", f"inputs:{d}", other,
                                     {"used": fmt_int(before[0] + d), "inputs": fmt_int(before[0])}))
    return out


# -- a stated tiny network, by hand ----------------------------------------------------------

def _act(name: str, z: np.ndarray) -> np.ndarray:
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    return z.copy()


def _dact(name: str, z: np.ndarray) -> np.ndarray:
    if name == "sigmoid":
        s = 1.0 / (1.0 + np.exp(-z))
        return s * (1.0 - s)
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if name == "relu":
        return (z > 0).astype(float)
    return np.ones_like(z)


WORKED_MISTAKES: dict[str, str] = {
    "at_activation": "answer-derivative-at-activation",
    "no_jacobian": "answer-no-softmax-jacobian",
    "no_half": "answer-loss-without-half",
    "step_sign": "answer-step-sign",
    "other_layout": "answer-weight-layout",
}


def worked_example(net: Any, *, at_activation: bool = False, no_jacobian: bool = False,
                   no_half: bool = False, step_sign: bool = False, other_layout: bool = False) -> dict[str, np.ndarray]:
    """Every value of one forward pass, backward pass and gradient step of
    the stated network, named as the handout names them (layers first_index..):
    hidden{l} / hidden, output, loss, grad:W{l}, grad:b{l}, step:W{l}, step:b{l}."""
    in_out = (net.weight_layout == "in_out") != other_layout
    W = [np.asarray(w, dtype=float) for w in net.weights]
    b = [np.asarray(v, dtype=float) for v in net.biases]
    a = [np.asarray(net.x, dtype=float)]
    zs = []
    for l, (w, bias) in enumerate(zip(W, b)):
        z = (w.T @ a[-1] if in_out else w @ a[-1]) + bias
        zs.append(z)
        if l < len(W) - 1:
            a.append(_act(net.activation, z))
    z_out = zs[-1]
    if net.output == "softmax":
        e = np.exp(z_out - z_out.max())
        p = e / e.sum()
    elif net.output == "sigmoid":
        p = 1.0 / (1.0 + np.exp(-z_out))
    else:
        p = z_out.copy()
    y = np.asarray(net.target, dtype=float)
    half = 1.0 if no_half else 0.5
    if net.loss == "half_squared_error":
        loss = half * float(np.sum((y - p) ** 2))
        dp = 2 * half * (p - y)
    else:
        loss = float(-np.sum(y * np.log(p)))
        dp = -y / p
    if no_jacobian or net.output == "identity":
        dz = dp
    elif net.output == "softmax":
        dz = (np.diag(p) - np.outer(p, p)) @ dp
    else:
        dz = dp * p * (1 - p)
    grads_w: list[np.ndarray] = [np.zeros(0)] * len(W)
    grads_b: list[np.ndarray] = [np.zeros(0)] * len(W)
    for l in range(len(W) - 1, -1, -1):
        grads_w[l] = np.outer(a[l], dz) if in_out else np.outer(dz, a[l])
        grads_b[l] = dz.copy()
        if l > 0:
            da = W[l] @ dz if in_out else W[l].T @ dz
            point = a[l] if at_activation else zs[l - 1]
            dz = da * _dact(net.activation, point)
    sign = 1.0 if step_sign else -1.0
    first = net.first_index
    values: dict[str, np.ndarray] = {"output": p, "loss": np.asarray(loss)}
    for l in range(len(W)):
        if l < len(W) - 1:
            values[f"hidden{l + first}"] = a[l + 1]
        values[f"grad:W{l + first}"] = grads_w[l]
        values[f"grad:b{l + first}"] = grads_b[l]
        values[f"step:W{l + first}"] = W[l] + sign * net.lr * grads_w[l]
        values[f"step:b{l + first}"] = b[l] + sign * net.lr * grads_b[l]
    if len(W) == 2:
        values["hidden"] = a[1]
    return values


def worked_candidates(net: Any, value: str) -> list[Candidate]:
    out = []
    for flag, mistake in WORKED_MISTAKES.items():
        out.append(Candidate(mistake, flag, worked_example(net, **{flag: True})[value], {}))
    return out
