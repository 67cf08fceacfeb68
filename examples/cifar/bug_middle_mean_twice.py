"""CIFAR-10 MLP, written out layer by layer (two hidden layers, ReLU).

    z1 = W0 x + b0, a1 = relu(z1), z2 = W1 a1 + b1, a2 = relu(z2),
    z3 = W2 a2 + b2, p = softmax(z3)

Known mistake (for the grader's examples): the middle layer's bias gradient
averages over the samples although the error e2 already carries the 1/S,
so db1 is S times too small ("mean-twice"); every other block is right.
"""
import numpy as np


class NN:
    def __init__(self, num_input=3072, num_hidden=[512, 256], num_output=10,
                 gradient_method="GD", lr=0.01, momentum=0.9):
        self.n0 = num_input
        self.n1, self.n2 = num_hidden
        self.n3 = num_output
        self.gradient_method = gradient_method
        self.lr = lr
        self.momentum = momentum
        self.init_params()

    def init_params(self):
        r = lambda *shape: np.random.randn(*shape) * 0.05
        self.theta = {"W0": r(self.n1, self.n0), "b0": r(self.n1, 1),
                      "W1": r(self.n2, self.n1), "b1": r(self.n2, 1),
                      "W2": r(self.n3, self.n2), "b2": r(self.n3, 1)}
        self.prev = None

    def forward_all(self, x, t):
        a0 = x.T
        z1 = t["W0"] @ a0 + t["b0"]
        a1 = np.maximum(z1, 0)
        z2 = t["W1"] @ a1 + t["b1"]
        a2 = np.maximum(z2, 0)
        z3 = t["W2"] @ a2 + t["b2"]
        z3 = z3 - z3.max(axis=0)
        p = np.exp(z3) / np.exp(z3).sum(axis=0)
        return a0, z1, a1, z2, a2, p

    def feed_forward(self, x):
        return self.forward_all(x, self.theta)[-1]

    def loss(self, x, y):
        p = self.feed_forward(x)
        return -np.mean(np.log(p[y, np.arange(len(y))]))

    def gradients(self, x, y, t):
        a0, z1, a1, z2, a2, p = self.forward_all(x, t)
        S = x.shape[0]
        Y = np.eye(self.n3)[:, y]
        e3 = (p - Y) / S
        dW2 = e3 @ a2.T
        db2 = e3.sum(axis=1, keepdims=True)
        e2 = (t["W2"].T @ e3) * (z2 > 0)
        dW1 = e2 @ a1.T
        db1 = e2.mean(axis=1, keepdims=True)        # BUG: e2 already has the 1/S
        e1 = (t["W1"].T @ e2) * (z1 > 0)
        dW0 = e1 @ a0.T
        db0 = e1.sum(axis=1, keepdims=True)
        return {"W0": dW0, "b0": db0, "W1": dW1, "b1": db1, "W2": dW2, "b2": db2}

    def back_propagate(self, x, y):
        return self.gradients(x, y, self.theta)

    def step(self, x, y):
        if self.gradient_method == "GD":
            g = self.back_propagate(x, y)
            for k in self.theta:
                self.theta[k] -= self.lr * g[k]
        else:
            if self.prev is None:
                self.prev = {k: v.copy() for k, v in self.theta.items()}
            look = {k: self.theta[k] + self.momentum * (self.theta[k] - self.prev[k]) for k in self.theta}
            g = self.gradients(x, y, look)
            self.prev = {k: v.copy() for k, v in self.theta.items()}
            for k in self.theta:
                self.theta[k] = look[k] - self.lr * g[k]

    def train(self, x, y, num_iterations):
        out = []
        for _ in range(num_iterations):
            self.step(x, y)
            out.append(self.loss(x, y))
        return out
