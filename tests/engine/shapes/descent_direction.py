"""
HW3 - Penguins MLP.

back_propagate returns the *descent direction* d = -grad L (the direction in
which the loss decreases), so every optimizer step adds it:
theta <- theta + lr * d.
"""
import numpy as np


def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def silu(z):
    return z * sigmoid(z)


def silu_prime(z):
    s = sigmoid(z)
    return s * (1.0 + z * (1.0 - s))


def softmax(z):
    z = z - np.max(z, axis=0, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=0, keepdims=True)


class NN:
    def __init__(self, num_input=4, num_hidden=16, num_output=3,
                 gradient_method="GD", lr=0.01, momentum=0.9):
        self.num_input = num_input
        self.num_hidden = num_hidden
        self.num_output = num_output
        self.gradient_method = gradient_method
        self.lr = lr
        self.momentum = momentum
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
        a1 = silu(z1)
        return X, z1, a1, softmax(theta["W1"] @ a1 + theta["b1"])

    def feed_forward(self, x):
        return self._forward(x, self.theta)[-1]

    def loss(self, x, y):
        y = np.asarray(y, dtype=int)
        p = self.feed_forward(x)
        return float(-np.mean(np.log(p[y, np.arange(y.size)])))

    def _direction(self, x, y, theta):
        """-dL/dtheta: the steepest-descent direction."""
        y = np.asarray(y, dtype=int)
        X, z1, a1, p = self._forward(x, theta)
        S = y.size
        onehot = np.zeros_like(p)
        onehot[y, np.arange(S)] = 1.0
        e2 = (onehot - p) / S                  # = -dL/dz2
        e1 = (theta["W1"].T @ e2) * silu_prime(z1)
        return {"W0": e1 @ X.T, "b0": e1.sum(axis=1, keepdims=True),
                "W1": e2 @ a1.T, "b1": e2.sum(axis=1, keepdims=True)}

    def back_propagate(self, x, y):
        return self._direction(x, y, self.theta)

    def step(self, x, y):
        if self.gradient_method == "GD":
            d = self.back_propagate(x, y)
            for k in self.theta:
                self.theta[k] = self.theta[k] + self.lr * d[k]
        elif self.gradient_method == "NAG":
            mu = self.momentum
            look = {k: self.theta[k] + mu * (self.theta[k] - self.theta_prev[k]) for k in self.theta}
            d = self._direction(x, y, look)
            self.theta_prev = {k: v.copy() for k, v in self.theta.items()}
            for k in self.theta:
                self.theta[k] = look[k] + self.lr * d[k]
        else:
            raise ValueError(self.gradient_method)

    def train(self, x, y, num_iterations):
        losses = []
        for _ in range(num_iterations):
            self.step(x, y)
            losses.append(self.loss(x, y))
        return losses
