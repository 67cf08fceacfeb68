# Buggy sample for the penalty family (tests/engine/test_judge_gradient.py): the penalty's gradient subtracted.
"""Penguins MLP, LeakyReLU hidden layer, elastic-net penalty on the weights.

Loss:  L = -(1/S) sum_s log y~_{y_s}
           + l11 |W0|_1 + l12 |W0|^2 + l21 |W1|_1 + l22 |W1|^2
(biases are not penalized).  Gradient of the penalty: l1 sign(W) + 2 l2 W.

Style choices of this student: biases are flat vectors of shape (N,), and NAG
keeps the look-ahead point as the parameters with a momentum buffer, like
torch.optim.SGD(nesterov=True) does.
"""
import numpy as np

ALPHA = 0.01


def leaky_relu(z):
    return np.where(z > 0, z, ALPHA * z)


def leaky_relu_prime(z):
    return np.where(z > 0, 1.0, ALPHA)


class NN:
    def __init__(self, num_input=4, num_hidden=16, num_output=3, gradient_method="GD",
                 lr=0.01, momentum=0.9, l11=0.0, l12=0.0, l21=0.0, l22=0.0):
        self.num_input, self.num_hidden, self.num_output = num_input, num_hidden, num_output
        self.gradient_method = gradient_method
        self.lr = lr
        self.momentum = momentum
        self.l1 = {"W0": l11, "W1": l21}
        self.l2 = {"W0": l12, "W1": l22}
        self.buffer = None
        self.init_params()

    def init_params(self):
        self.theta = {
            "W0": np.random.normal(0, 0.05, (self.num_hidden, self.num_input)),
            "b0": np.random.normal(0, 0.05, self.num_hidden),
            "W1": np.random.normal(0, 0.05, (self.num_output, self.num_hidden)),
            "b1": np.random.normal(0, 0.05, self.num_output),
        }
        self.buffer = None

    def _forward(self, x):
        t = self.theta
        z1 = x @ t["W0"].T + t["b0"]            # (S, N_H)
        a1 = leaky_relu(z1)
        z2 = a1 @ t["W1"].T + t["b1"]           # (S, C)
        z2 = z2 - z2.max(axis=1, keepdims=True)
        p = np.exp(z2)
        p /= p.sum(axis=1, keepdims=True)
        return z1, a1, p

    def feed_forward(self, x):
        return self._forward(np.asarray(x, dtype=float))[2].T     # (C, S)

    def penalty(self):
        return sum(self.l1[k] * np.abs(self.theta[k]).sum() + self.l2[k] * np.square(self.theta[k]).sum()
                   for k in ("W0", "W1"))

    def loss(self, x, y):
        p = self.feed_forward(x)
        y = np.asarray(y, dtype=int)
        return float(-np.mean(np.log(p[y, np.arange(len(y))])) + self.penalty())

    def back_propagate(self, x, y):
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=int)
        S = x.shape[0]
        z1, a1, p = self._forward(x)
        d2 = p.copy()
        d2[np.arange(S), y] -= 1.0
        d2 /= S                                  # dL/dz2, (S, C)
        d1 = (d2 @ self.theta["W1"]) * leaky_relu_prime(z1)
        grad = {"W1": d2.T @ a1, "b1": d2.sum(axis=0), "W0": d1.T @ x, "b0": d1.sum(axis=0)}
        for k in ("W0", "W1"):
            grad[k] = grad[k] - self.l1[k] * np.sign(self.theta[k]) - 2.0 * self.l2[k] * self.theta[k]   # BUG: subtracted
        return grad

    def step(self, x, y):
        g = self.back_propagate(x, y)
        if self.gradient_method == "GD":
            for k in self.theta:
                self.theta[k] = self.theta[k] - self.lr * g[k]
        elif self.gradient_method == "NAG":
            mu = self.momentum
            if self.buffer is None:
                self.buffer = {k: v.copy() for k, v in g.items()}
            else:
                self.buffer = {k: mu * self.buffer[k] + g[k] for k in g}
            for k in self.theta:
                self.theta[k] = self.theta[k] - self.lr * (g[k] + mu * self.buffer[k])
        else:
            raise ValueError(self.gradient_method)

    def train(self, x, y, num_iterations):
        return [(self.step(x, y), self.loss(x, y))[1] for _ in range(num_iterations)]
