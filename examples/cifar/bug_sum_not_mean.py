"""A generic multilayer perceptron for CIFAR-10 sized inputs (3072 -> ... -> 10).

    a_0 = x^T,  z_{i+1} = W_i a_i + b_i,  a_i = ReLU(z_i) for hidden layers,
    y~ = softmax(z_L),  L = -(1/S) sum_s log y~_{y_s}

`num_hidden` is a list of hidden layer sizes, e.g. [512, 256]; the parameters
are W0, b0, W1, b1, ..., W_L-1, b_L-1 with W_i of shape (n_{i+1}, n_i) and
b_i of shape (n_{i+1}, 1).  Backpropagation loops over the layers.
"""
import numpy as np


def relu(z):
    return np.maximum(z, 0.0)


def relu_prime(z):
    return (z > 0).astype(float)


def softmax(z):
    z = z - z.max(axis=0, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=0, keepdims=True)


class NN:
    def __init__(self, num_input=3072, num_hidden=(512, 256), num_output=10,
                 gradient_method="GD", lr=0.01, momentum=0.9):
        if np.isscalar(num_hidden):
            num_hidden = [num_hidden]
        self.sizes = [num_input, *num_hidden, num_output]
        self.num_layers = len(self.sizes) - 1
        self.gradient_method = gradient_method
        self.lr = lr
        self.momentum = momentum
        self.init_params()

    def init_params(self):
        """Every parameter ~ N(0, 0.05^2)."""
        self.theta = {}
        for i in range(self.num_layers):
            self.theta[f"W{i}"] = np.random.normal(0.0, 0.05, (self.sizes[i + 1], self.sizes[i]))
            self.theta[f"b{i}"] = np.random.normal(0.0, 0.05, (self.sizes[i + 1], 1))
        self.theta_prev = {k: v.copy() for k, v in self.theta.items()}

    def _forward(self, x, theta):
        a = [np.asarray(x, dtype=float).T]
        z = []
        for i in range(self.num_layers):
            z.append(theta[f"W{i}"] @ a[-1] + theta[f"b{i}"])
            if i < self.num_layers - 1:
                a.append(relu(z[-1]))
        return z, a, softmax(z[-1])

    def feed_forward(self, x):
        return self._forward(x, self.theta)[2]

    def loss(self, x, y):
        y = np.asarray(y, dtype=int)
        p = self.feed_forward(x)
        return float(-np.mean(np.log(p[y, np.arange(y.size)])))

    def _gradient(self, x, y, theta):
        y = np.asarray(y, dtype=int)
        z, a, p = self._forward(x, theta)
        S = y.size
        e = p.copy()
        e[y, np.arange(S)] -= 1.0
        # BUG: the loss is a mean over the S samples, but the gradient is not divided by S
        grad = {}
        for i in reversed(range(self.num_layers)):
            grad[f"W{i}"] = e @ a[i].T
            grad[f"b{i}"] = e.sum(axis=1, keepdims=True)
            if i > 0:
                e = (theta[f"W{i}"].T @ e) * relu_prime(z[i - 1])
        return grad

    def back_propagate(self, x, y):
        return self._gradient(x, y, self.theta)

    def step(self, x, y):
        if self.gradient_method == "GD":
            g = self.back_propagate(x, y)
            for k in self.theta:
                self.theta[k] = self.theta[k] - self.lr * g[k]
        elif self.gradient_method == "NAG":
            mu = self.momentum
            ahead = {k: v + mu * (v - self.theta_prev[k]) for k, v in self.theta.items()}
            g = self._gradient(x, y, ahead)
            self.theta_prev = {k: v.copy() for k, v in self.theta.items()}
            self.theta = {k: ahead[k] - self.lr * g[k] for k in ahead}
        else:
            raise ValueError(f"unknown gradient method {self.gradient_method!r}")

    def train(self, x, y, num_iterations):
        losses = []
        for _ in range(num_iterations):
            self.step(x, y)
            losses.append(self.loss(x, y))
        return losses
