import numpy as np


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
        self.theta = dict(
            W0=np.random.normal(0.0, 0.05, size=(self.num_hidden, self.num_input)),
            b0=np.random.normal(0.0, 0.05, size=(self.num_hidden, 1)),
            W1=np.random.normal(0.0, 0.05, size=(self.num_output, self.num_hidden)),
            b1=np.random.normal(0.0, 0.05, size=(self.num_output, 1)),
        )
        self.prev = {k: v.copy() for k, v in self.theta.items()}

    @staticmethod
    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))

    def _forward(self, theta, x):
        z1 = theta["W0"] @ x.T + theta["b0"]
        s1 = self.sigmoid(z1)
        a1 = z1 * s1
        z2 = theta["W1"] @ a1 + theta["b1"]
        z2 = z2 - np.max(z2, axis=0, keepdims=True)
        p = np.exp(z2)
        p /= np.sum(p, axis=0, keepdims=True)
        return z1, s1, a1, p

    def feed_forward(self, x):
        return self._forward(self.theta, x)[3]

    def loss(self, x, y):
        # cross entropy
        p = self.feed_forward(x)
        return -np.sum(np.log(p[y, np.arange(x.shape[0])]))

    def _gradient(self, theta, x, y):
        S = x.shape[0]
        z1, s1, a1, p = self._forward(theta, x)
        dz2 = p.copy()
        dz2[y, np.arange(S)] -= 1.0
        dz2 /= S
        dz1 = (theta["W1"].T @ dz2) * (s1 * (1.0 + z1 * (1.0 - s1)))
        return {"W0": dz1 @ x, "b0": dz1.sum(axis=1, keepdims=True),
                "W1": dz2 @ a1.T, "b1": dz2.sum(axis=1, keepdims=True)}

    def back_propagate(self, x, y):
        return self._gradient(self.theta, x, y)

    def step(self, x, y):
        if self.gradient_method == "GD":
            g = self.back_propagate(x, y)
            for k in self.theta:
                self.theta[k] = self.theta[k] - self.lr * g[k]
        elif self.gradient_method == "NAG":
            ahead = {k: self.theta[k] + self.momentum * (self.theta[k] - self.prev[k]) for k in self.theta}
            g = self._gradient(ahead, x, y)
            self.prev = {k: v.copy() for k, v in self.theta.items()}
            for k in self.theta:
                self.theta[k] = ahead[k] - self.lr * g[k]
        else:
            raise ValueError(f"unknown method {self.gradient_method}")

    def train(self, x, y, num_iterations):
        return [self._step_and_loss(x, y) for _ in range(num_iterations)]

    def _step_and_loss(self, x, y):
        self.step(x, y)
        return self.loss(x, y)
