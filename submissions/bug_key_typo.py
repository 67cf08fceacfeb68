"""Homework 3 -- MLP with one hidden layer for the penguins data set."""
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
        self.theta = {}
        self.theta['W0'] = np.random.normal(0, 0.05, (self.num_hidden, self.num_input))
        self.theta['b0'] = np.random.normal(0, 0.05, (self.num_hidden, 1))
        self.theta['W1'] = np.random.normal(0, 0.05, (self.num_output, self.num_hidden))
        self.theta['b1'] = np.random.normal(0, 0.05, (self.num_output, 1))
        self.old = None

    def _sigmoid(self, z):
        return np.exp(-np.logaddexp(0, -z))

    def feed_forward(self, x):
        W0, b0 = self.theta['W0'], self.theta['b0']
        W1, b1 = self.theta['W1'], self.theta['b1']
        self.z1 = W0 @ x.T + b0
        self.a1 = self.z1 * self._sigmoid(self.z1)
        z2 = W1 @ self.a1 + b1
        z2 -= z2.max(axis=0)
        self.y_tilde = np.exp(z2) / np.exp(z2).sum(axis=0)
        return self.y_tilde

    def loss(self, x, y):
        y_tilde = self.feed_forward(x)
        S = x.shape[0]
        return -np.sum(np.log(y_tilde[y, np.arange(S)])) / S

    def back_propagate(self, x, y):
        S = x.shape[0]
        y_tilde = self.feed_forward(x)
        Y = np.zeros_like(y_tilde)
        Y[y, np.arange(S)] = 1

        e2 = (y_tilde - Y) / S
        sig = self._sigmoid(self.z1)
        e1 = (self.theta['W1'].T @ e2) * (sig * (1 + self.z1 * (1 - sig)))

        grad = {}
        grad['W0'] = e1 @ x
        grad['b0'] = np.sum(e1, axis=1, keepdims=True)
        grad['W1'] = e2 @ self.a1.T
        grad['b1'] = np.sum(e2, axis=1, keepdims=True)
        return grad

    def step(self, x, y):
        lr = self.lr
        if self.gradient_method == "GD":
            grad = self.back_propagate(x, y)
            self.theta['w0'] = self.theta['W0'] - lr * grad['W0']
            self.theta['b0'] = self.theta['b0'] - lr * grad['b0']
            self.theta['W1'] = self.theta['W1'] - lr * grad['W1']
            self.theta['b1'] = self.theta['b1'] - lr * grad['b1']

        elif self.gradient_method == "NAG":
            mu = self.momentum
            if self.old is None:
                self.old = dict((k, v.copy()) for k, v in self.theta.items())
            current = dict((k, v.copy()) for k, v in self.theta.items())
            # move theta to the look-ahead point
            for k in ['W0', 'b0', 'W1', 'b1']:
                self.theta[k] = current[k] + mu * (current[k] - self.old[k])
            grad = self.back_propagate(x, y)
            self.theta['w0'] = self.theta['W0'] - lr * grad['W0']
            self.theta['b0'] = self.theta['b0'] - lr * grad['b0']
            self.theta['W1'] = self.theta['W1'] - lr * grad['W1']
            self.theta['b1'] = self.theta['b1'] - lr * grad['b1']
            self.old = current

    def train(self, x, y, num_iterations):
        losses = []
        for _ in range(num_iterations):
            self.step(x, y)
            losses.append(self.loss(x, y))
        return losses
