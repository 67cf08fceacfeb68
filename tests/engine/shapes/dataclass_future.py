"""
HW3 - Penguins MLP.

Typed version: the hyper-parameters live in a dataclass and the forward pass
returns a small dataclass with everything backprop needs.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Hyper:
    method: str = "GD"
    lr: float = 0.01
    momentum: float = 0.9
    init_std: float = 0.05


@dataclass
class ForwardPass:
    X: np.ndarray          # (n_in, S)
    z1: np.ndarray         # (N_H, S)
    a1: np.ndarray         # (N_H, S)
    probs: np.ndarray      # (n_out, S)
    notes: list[str] = field(default_factory=list)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def silu(z: np.ndarray) -> np.ndarray:
    return z * sigmoid(z)


def silu_prime(z: np.ndarray) -> np.ndarray:
    s = sigmoid(z)
    return s * (1.0 + z * (1.0 - s))


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=0, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=0, keepdims=True)


class NN:
    def __init__(self, num_input: int = 4, num_hidden: int = 16, num_output: int = 3,
                 gradient_method: str = "GD", lr: float = 0.01, momentum: float = 0.9) -> None:
        self.sizes = (num_input, num_hidden, num_output)
        self.hyper = Hyper(gradient_method, lr, momentum)
        self.init_params()

    @property
    def lr(self) -> float:
        return self.hyper.lr

    @property
    def momentum(self) -> float:
        return self.hyper.momentum

    @property
    def gradient_method(self) -> str:
        return self.hyper.method

    def init_params(self) -> None:
        n_in, n_h, n_out = self.sizes
        sd = self.hyper.init_std
        self.theta: dict[str, np.ndarray] = {
            "W0": np.random.normal(0.0, sd, (n_h, n_in)),
            "b0": np.random.normal(0.0, sd, (n_h, 1)),
            "W1": np.random.normal(0.0, sd, (n_out, n_h)),
            "b1": np.random.normal(0.0, sd, (n_out, 1)),
        }
        self.theta_prev: dict[str, np.ndarray] = {k: v.copy() for k, v in self.theta.items()}

    def _forward(self, x: np.ndarray, theta: dict[str, np.ndarray]) -> ForwardPass:
        X = np.asarray(x, dtype=float).T
        z1 = theta["W0"] @ X + theta["b0"]
        a1 = silu(z1)
        return ForwardPass(X, z1, a1, softmax(theta["W1"] @ a1 + theta["b1"]))

    def feed_forward(self, x: np.ndarray) -> np.ndarray:
        return self._forward(x, self.theta).probs

    def loss(self, x: np.ndarray, y: np.ndarray) -> float:
        y = np.asarray(y, dtype=int)
        p = self.feed_forward(x)
        return float(-np.mean(np.log(p[y, np.arange(y.size)])))

    def _gradient(self, x: np.ndarray, y: np.ndarray, theta: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        y = np.asarray(y, dtype=int)
        fp = self._forward(x, theta)
        S = y.size
        e2 = fp.probs.copy()
        e2[y, np.arange(S)] -= 1.0
        e2 /= S
        e1 = (theta["W1"].T @ e2) * silu_prime(fp.z1)
        return {"W0": e1 @ fp.X.T, "b0": e1.sum(axis=1, keepdims=True),
                "W1": e2 @ fp.a1.T, "b1": e2.sum(axis=1, keepdims=True)}

    def back_propagate(self, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
        return self._gradient(x, y, self.theta)

    def step(self, x: np.ndarray, y: np.ndarray) -> None:
        if self.hyper.method == "GD":
            g = self.back_propagate(x, y)
            self.theta = {k: v - self.lr * g[k] for k, v in self.theta.items()}
        elif self.hyper.method == "NAG":
            mu = self.momentum
            ahead = {k: v + mu * (v - self.theta_prev[k]) for k, v in self.theta.items()}
            g = self._gradient(x, y, ahead)
            self.theta_prev = {k: v.copy() for k, v in self.theta.items()}
            self.theta = {k: ahead[k] - self.lr * g[k] for k in ahead}
        else:
            raise ValueError(f"unknown method {self.hyper.method}")

    def train(self, x: np.ndarray, y: np.ndarray, num_iterations: int) -> list[float]:
        return [self.step(x, y) or self.loss(x, y) for _ in range(num_iterations)]


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    net = NN(gradient_method="NAG", lr=0.1)
    xs, ys = rng.normal(size=(40, 4)), rng.integers(0, 3, 40)
    print(net.train(xs, ys, 20)[-1])
