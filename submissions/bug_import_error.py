import numpy as np
from mynnutils import one_hot, softmax

# one_hot and softmax are in my utils file from homework 2


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
        self.theta = {
            "W0": np.random.normal(0, 0.05, (self.num_hidden, self.num_input)),
            "b0": np.random.normal(0, 0.05, (self.num_hidden, 1)),
            "W1": np.random.normal(0, 0.05, (self.num_output, self.num_hidden)),
            "b1": np.random.normal(0, 0.05, (self.num_output, 1)),
        }
        self.last_theta = None

    def _sig(self, z):
        return 1 / (1 + np.exp(-np.clip(z, -500, 500)))

    def _fwd(self, th, x):
        z1 = th["W0"] @ x.T + th["b0"]
        a1 = z1 * self._sig(z1)
        return z1, a1, softmax(th["W1"] @ a1 + th["b1"])

    def feed_forward(self, x):
        return self._fwd(self.theta, x)[2]

    def loss(self, x, y):
        p = self.feed_forward(x)
        return -np.mean(np.sum(one_hot(y, self.num_output) * np.log(p), axis=0))

    def _grad(self, th, x, y):
        S = x.shape[0]
        z1, a1, p = self._fwd(th, x)
        e2 = (p - one_hot(y, self.num_output)) / S
        s = self._sig(z1)
        e1 = (th["W1"].T @ e2) * (s + z1 * s * (1 - s))
        return {"W0": e1 @ x, "b0": e1.sum(1, keepdims=True),
                "W1": e2 @ a1.T, "b1": e2.sum(1, keepdims=True)}

    def back_propagate(self, x, y):
        return self._grad(self.theta, x, y)

    def step(self, x, y):
        if self.gradient_method == "NAG":
            if self.last_theta is None:
                self.last_theta = {k: v.copy() for k, v in self.theta.items()}
            y_k = {k: self.theta[k] + self.momentum * (self.theta[k] - self.last_theta[k]) for k in self.theta}
            g = self._grad(y_k, x, y)
            self.last_theta = {k: v.copy() for k, v in self.theta.items()}
            self.theta = {k: y_k[k] - self.lr * g[k] for k in y_k}
        else:
            g = self.back_propagate(x, y)
            self.theta = {k: self.theta[k] - self.lr * g[k] for k in self.theta}

    def train(self, x, y, num_iterations):
        out = []
        for _ in range(num_iterations):
            self.step(x, y)
            out.append(self.loss(x, y))
        return out
