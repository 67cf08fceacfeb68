# nn.py -- Assignment 3
# helpers.py (same folder) has the activation / softmax functions.

import numpy as np

from helpers import silu
from helpers import silu_grad, softmax, one_hot


class NN:
    """2-layer perceptron: 4 -> N_H (SiLU) -> 3 (softmax)."""

    def __init__(self, num_input=4, num_hidden=16, num_output=3,
                 gradient_method="GD", lr=0.01, momentum=0.9, seed=42):
        self.sizes = (num_input, num_hidden, num_output)
        self.gradient_method = gradient_method
        self.lr = lr
        self.momentum = momentum
        self.rng = np.random.default_rng(seed)
        self.init_params()

    def init_params(self):
        n_in, n_h, n_out = self.sizes
        std = 0.05
        self.theta = {
            "W0": self.rng.normal(0, std, size=(n_h, n_in)),
            "b0": self.rng.normal(0, std, size=(n_h, 1)),
            "W1": self.rng.normal(0, std, size=(n_out, n_h)),
            "b1": self.rng.normal(0, std, size=(n_out, 1)),
        }
        self.prev_theta = None

    def _run(self, theta, x):
        z1 = theta["W0"] @ x.T + theta["b0"]
        a1 = silu(z1)
        out = softmax(theta["W1"] @ a1 + theta["b1"], axis=0)
        return z1, a1, out

    def feed_forward(self, x):
        _, _, out = self._run(self.theta, x)
        return out

    def loss(self, x, y):
        out = self.feed_forward(x)
        T = one_hot(y, self.sizes[2])
        return -np.sum(T * np.log(out)) / x.shape[0]

    def _gradients(self, theta, x, y):
        S = x.shape[0]
        z1, a1, out = self._run(theta, x)
        d2 = out - one_hot(y, self.sizes[2])
        d1 = (theta["W1"].T @ d2) * silu_grad(z1)
        grads = {}
        grads["W1"] = d2 @ a1.T / S
        grads["b1"] = np.sum(d2, axis=1, keepdims=True) / S
        grads["W0"] = d1 @ x / S
        grads["b0"] = np.sum(d1, axis=1, keepdims=True) / S
        return grads

    def back_propagate(self, x, y):
        return self._gradients(self.theta, x, y)

    def step(self, x, y):
        if self.gradient_method == "NAG":
            if self.prev_theta is None:
                self.prev_theta = {k: v.copy() for k, v in self.theta.items()}
            mu = self.momentum
            lookahead = {}
            for k in self.theta:
                lookahead[k] = self.theta[k] + mu * (self.theta[k] - self.prev_theta[k])
            g = self._gradients(lookahead, x, y)
            new_theta = {k: lookahead[k] - self.lr * g[k] for k in self.theta}
            self.prev_theta = self.theta
            self.theta = new_theta
        else:
            g = self.back_propagate(x, y)
            self.theta = {k: self.theta[k] - self.lr * g[k] for k in self.theta}

    def train(self, x, y, num_iterations):
        history = []
        for i in range(num_iterations):
            self.step(x, y)
            history.append(self.loss(x, y))
        return history


if __name__ == "__main__":
    net = NN(num_hidden=5)
    for name, p in net.theta.items():
        print(name, p.shape)
