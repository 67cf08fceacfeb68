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
        self.theta = {
            "W0": np.random.randn(self.num_hidden, self.num_input) * 0.05,
            "b0": np.random.randn(self.num_hidden, 1) * 0.05,
            "W1": np.random.randn(self.num_output, self.num_hidden) * 0.05,
            "b1": np.random.randn(self.num_output, 1) * 0.05,
        }
        self.theta_prev = {k: v.copy() for k, v in self.theta.items()}

    def sigmoid(self, z):
        return 1 / (1 + np.exp(-np.clip(z, -500, 500)))

    def silu(self, z):
        return z * self.sigmoid(z)

    def silu_derivative(self, z)
        s = self.sigmoid(z)
        return s * (1 + z * (1 - s))

    def softmax(self, z):
        z = z - np.max(z, axis=0, keepdims=True)
        return np.exp(z) / np.sum(np.exp(z), axis=0, keepdims=True)

    def forward(self, theta, x):
        z1 = theta["W0"] @ x.T + theta["b0"]
        a1 = self.silu(z1)
        z2 = theta["W1"] @ a1 + theta["b1"]
        return z1, a1, self.softmax(z2)

    def feed_forward(self, x):
        return self.forward(self.theta, x)[2]

    def loss(self, x, y):
        p = self.feed_forward(x)
        return -np.mean(np.log(p[y, np.arange(x.shape[0])]))

    def grad(self, theta, x, y):
        S = x.shape[0]
        z1, a1, p = self.forward(theta, x)
        d2 = p.copy()
        d2[y, np.arange(S)] -= 1
        d2 = d2 / S
        d1 = (theta["W1"].T @ d2) * self.silu_derivative(z1)
        return {"W0": d1 @ x, "b0": d1.sum(axis=1, keepdims=True),
                "W1": d2 @ a1.T, "b1": d2.sum(axis=1, keepdims=True)}

    def back_propagate(self, x, y):
        return self.grad(self.theta, x, y)

    def step(self, x, y):
        if self.gradient_method == "GD":
            g = self.back_propagate(x, y)
            for k in self.theta:
                self.theta[k] = self.theta[k] - self.lr * g[k]
        elif self.gradient_method == "NAG":
            la = {k: self.theta[k] + self.momentum * (self.theta[k] - self.theta_prev[k]) for k in self.theta}
            g = self.grad(la, x, y)
            self.theta_prev = {k: v.copy() for k, v in self.theta.items()}
            for k in self.theta:
                self.theta[k] = la[k] - self.lr * g[k]

    def train(self, x, y, num_iterations):
        losses = []
        for i in range(num_iterations):
            self.step(x, y)
            losses.append(self.loss(x, y))
        return losses
