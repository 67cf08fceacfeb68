# HW3: MLP for Palmer penguins
# activation: SiLU  h(z) = z * sigma(z)

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
        self.theta_prev = None

    def init_params(self):
        self.theta = {
            'W0': 0.05 * np.random.randn(self.num_hidden, self.num_input),
            'b0': 0.05 * np.random.randn(self.num_hidden, 1),
            'W1': 0.05 * np.random.randn(self.num_output, self.num_hidden),
            'b1': 0.05 * np.random.randn(self.num_output, 1),
        }

    # ---------------- activation functions ----------------
    def sigma(self, z):
        return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))

    def h(self, z):
        return z * self.sigma(z)

    def h_prime(self, z):
        # chain rule: derivative of the activation
        s = self.sigma(z)
        return s * (1 - s)

    def softmax(self, z):
        z = z - np.max(z, axis=0, keepdims=True)
        return np.exp(z) / np.sum(np.exp(z), axis=0, keepdims=True)

    # ---------------- network ----------------
    def forward_with(self, theta, x):
        z1 = theta['W0'] @ x.T + theta['b0']
        a1 = self.h(z1)
        z2 = theta['W1'] @ a1 + theta['b1']
        return z1, a1, self.softmax(z2)

    def feed_forward(self, x):
        return self.forward_with(self.theta, x)[2]

    def loss(self, x, y):
        p = self.feed_forward(x)
        return -np.mean(np.log(p[y, np.arange(len(y))]))

    def gradient_at(self, theta, x, y):
        S = x.shape[0]
        z1, a1, p = self.forward_with(theta, x)
        T = np.zeros_like(p)
        T[y, np.arange(S)] = 1.0
        e2 = (p - T) / S
        e1 = (theta['W1'].T @ e2) * self.h_prime(z1)
        grads = {
            'W0': e1 @ x,
            'b0': e1.sum(axis=1, keepdims=True),
            'W1': e2 @ a1.T,
            'b1': e2.sum(axis=1, keepdims=True),
        }
        return grads

    def back_propagate(self, x, y):
        return self.gradient_at(self.theta, x, y)

    def step(self, x, y):
        if self.gradient_method == "GD":
            grads = self.back_propagate(x, y)
            for k in self.theta:
                self.theta[k] = self.theta[k] - self.lr * grads[k]
        elif self.gradient_method == "NAG":
            if self.theta_prev is None:
                self.theta_prev = {k: v.copy() for k, v in self.theta.items()}
            look = {}
            for k in self.theta:
                look[k] = self.theta[k] + self.momentum * (self.theta[k] - self.theta_prev[k])
            grads = self.gradient_at(look, x, y)
            self.theta_prev = {k: v.copy() for k, v in self.theta.items()}
            for k in self.theta:
                self.theta[k] = look[k] - self.lr * grads[k]

    def train(self, x, y, num_iterations):
        losses = []
        for i in range(num_iterations):
            self.step(x, y)
            losses.append(self.loss(x, y))
            if (i + 1) % 500 == 0:
                print(f"[{self.gradient_method}] iter {i + 1}: loss = {losses[-1]:.5f}")
        return losses
