"""HW3 (earlier year) - Penguins MLP with a softplus hidden layer.

    z1 = W0 x + b0,  a1 = softplus(z1) = ln(1 + e^z1),  z2 = W1 a1 + b1,
    y~ = softmax(z2),  L = -(1/S) sum_s log y~_{y_s}

NAG in the "velocity" form of Sutskever et al.:
    v <- mu v - lr grad L(theta + mu v),   theta <- theta + v,   v_0 = 0
which produces the same iterates as the handout's look-ahead form.
"""
import numpy as np


def softplus(z):
    # ln(1 + e^z) without overflow: logaddexp(0, z)
    return np.logaddexp(0.0, z)


def softplus_prime(z):
    # d/dz ln(1 + e^z) = e^z / (1 + e^z) = sigmoid(z), computed stably
    return np.exp(-np.logaddexp(0.0, -z))


def softmax(z):
    z = z - z.max(axis=0, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=0, keepdims=True)


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
        shapes = {"W0": (self.num_hidden, self.num_input), "b0": (self.num_hidden, 1),
                  "W1": (self.num_output, self.num_hidden), "b1": (self.num_output, 1)}
        self.theta = {k: np.random.normal(0.0, 0.05, size=s) for k, s in shapes.items()}
        self.velocity = {k: np.zeros(s) for k, s in shapes.items()}

    def _forward(self, x, theta):
        X = np.asarray(x, dtype=float).T
        z1 = theta["W0"] @ X + theta["b0"]
        a1 = softplus(z1)
        z2 = theta["W1"] @ a1 + theta["b1"]
        return X, z1, a1, softmax(z2)

    def feed_forward(self, x):
        return self._forward(x, self.theta)[-1]

    def loss(self, x, y):
        y = np.asarray(y, dtype=int)
        p = self.feed_forward(x)
        return float(-np.mean(np.log(p[y, np.arange(y.size)])))

    def _gradient(self, x, y, theta):
        y = np.asarray(y, dtype=int)
        X, z1, a1, p = self._forward(x, theta)
        S = X.shape[1]
        onehot = np.zeros_like(p)
        onehot[y, np.arange(S)] = 1.0
        e2 = (p - onehot) / S
        e1 = (theta["W1"].T @ e2) * softplus_prime(a1)   # BUG: h'(a1) instead of h'(z1)
        return {"W0": e1 @ X.T, "b0": e1.sum(axis=1, keepdims=True),
                "W1": e2 @ a1.T, "b1": e2.sum(axis=1, keepdims=True)}

    def back_propagate(self, x, y):
        return self._gradient(x, y, self.theta)

    def step(self, x, y):
        if self.gradient_method == "GD":
            g = self.back_propagate(x, y)
            self.theta = {k: v - self.lr * g[k] for k, v in self.theta.items()}
        elif self.gradient_method == "NAG":
            mu = self.momentum
            ahead = {k: v + mu * self.velocity[k] for k, v in self.theta.items()}
            g = self._gradient(x, y, ahead)
            self.velocity = {k: mu * v - self.lr * g[k] for k, v in self.velocity.items()}
            self.theta = {k: v + self.velocity[k] for k, v in self.theta.items()}
        else:
            raise ValueError(f"unknown gradient method {self.gradient_method!r}")

    def train(self, x, y, num_iterations):
        history = []
        for _ in range(num_iterations):
            self.step(x, y)
            history.append(self.loss(x, y))
        return history
