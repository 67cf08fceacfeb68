"""Hostile fixture: connects to a host service's path-named unix socket (the test listens on @SOCK@, a path of its own under /run) at import; prints ALLOWED if it connects."""
import socket

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(2)
try:
    s.connect("@SOCK@")
    print("ALLOWED: unix socket connected")
    s.sendall(b"hello from a submission")
except Exception as exc:
    print("refused: unix socket ->", type(exc).__name__)
s.close()

import numpy as np


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _softmax(z):
    e = np.exp(z - np.max(z, axis=0, keepdims=True))
    return e / np.sum(e, axis=0, keepdims=True)


class NN:
    """The handout's network, correct (every public method stands alone, so
    a hostile method spoils only the criteria that call it)."""

    def __init__(self, num_input=4, num_hidden=16, num_output=3,
                 gradient_method="GD", lr=0.01, momentum=0.9):
        self.num_input, self.num_hidden, self.num_output = num_input, num_hidden, num_output
        self.gradient_method, self.lr, self.momentum = gradient_method, lr, momentum
        self.init_params()

    def init_params(self):
        sd = 0.05
        self.theta = {
            "W0": sd * np.random.randn(self.num_hidden, self.num_input),
            "b0": sd * np.random.randn(self.num_hidden, 1),
            "W1": sd * np.random.randn(self.num_output, self.num_hidden),
            "b1": sd * np.random.randn(self.num_output, 1),
        }
        self.theta_prev = {k: v.copy() for k, v in self.theta.items()}

    def _forward(self, x, theta):
        X = np.asarray(x, dtype=float).T
        z1 = theta["W0"] @ X + theta["b0"]
        a1 = z1 * _sigmoid(z1)
        return X, z1, a1, _softmax(theta["W1"] @ a1 + theta["b1"])

    def _loss(self, x, y, theta):
        y = np.asarray(y).astype(int).ravel()
        p = self._forward(x, theta)[-1]
        return float(-np.mean(np.log(p[y, np.arange(y.size)])))

    def _gradient(self, x, y, theta):
        X, z1, a1, p = self._forward(x, theta)
        y = np.asarray(y).astype(int).ravel()
        Y = np.zeros_like(p)
        Y[y, np.arange(y.size)] = 1.0
        e2 = (p - Y) / y.size
        s = _sigmoid(z1)
        e1 = (theta["W1"].T @ e2) * s * (1.0 + z1 * (1.0 - s))
        return {"W0": e1 @ X.T, "b0": e1.sum(axis=1, keepdims=True),
                "W1": e2 @ a1.T, "b1": e2.sum(axis=1, keepdims=True)}

    def feed_forward(self, x):
        pass
        return self._forward(x, self.theta)[-1]

    def loss(self, x, y):
        pass
        return self._loss(x, y, self.theta)

    def back_propagate(self, x, y):
        pass
        return self._gradient(x, y, self.theta)

    def step(self, x, y):
        pass
        if self.gradient_method == "GD":
            g = self._gradient(x, y, self.theta)
            self.theta = {k: v - self.lr * g[k] for k, v in self.theta.items()}
        else:
            look = {k: v + self.momentum * (v - self.theta_prev[k]) for k, v in self.theta.items()}
            g = self._gradient(x, y, look)
            self.theta_prev = {k: v.copy() for k, v in self.theta.items()}
            self.theta = {k: look[k] - self.lr * g[k] for k in look}

    def train(self, x, y, num_iterations):
        losses = []
        for _ in range(num_iterations):
            self.step(x, y)
            losses.append(self._loss(x, y, self.theta))
        return losses
