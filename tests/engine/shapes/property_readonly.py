"""
HW3 - Penguins MLP, object-oriented version.

Each layer is an object holding its own weights and bias; the network keeps a
list of layers.  `theta` is a property that presents the parameters as the
dict the assignment asks for ({"W0", "b0", "W1", "b1"}); it is read-only
(no setter): step() writes the new values into the layers itself.
"""
import numpy as np


def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))   # stable, no overflow


def silu(z):
    return z * sigmoid(z)


def silu_prime(z):
    s = sigmoid(z)
    return s * (1.0 + z * (1.0 - s))


def softmax(z):
    z = z - np.max(z, axis=0, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=0, keepdims=True)


class Layer:
    def __init__(self, W, b):
        self.W = W
        self.b = b

    def forward(self, a):
        return self.W @ a + self.b


class NN:
    def __init__(self, num_input=4, num_hidden=16, num_output=3,
                 gradient_method="GD", lr=0.01, momentum=0.9):
        self.sizes = [num_input, num_hidden, num_output]
        self.gradient_method = gradient_method
        self.lr = lr
        self.momentum = momentum
        self.init_params()

    # the parameters, as the assignment wants to see them
    @property
    def theta(self):
        out = {}
        for i, layer in enumerate(self.layers):
            out[f"W{i}"] = layer.W
            out[f"b{i}"] = layer.b
        return out

    def _write(self, params):
        for i, layer in enumerate(self.layers):
            layer.W = params[f"W{i}"]
            layer.b = params[f"b{i}"]

    def init_params(self):
        self.layers = []
        for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:]):
            self.layers.append(Layer(np.random.normal(0, 0.05, (n_out, n_in)),
                                     np.random.normal(0, 0.05, (n_out, 1))))
        self.previous = {k: v.copy() for k, v in self.theta.items()}

    def _forward(self, x, params):
        X = np.asarray(x, dtype=float).T
        z1 = params["W0"] @ X + params["b0"]
        a1 = silu(z1)
        p = softmax(params["W1"] @ a1 + params["b1"])
        return X, z1, a1, p

    def feed_forward(self, x):
        a = np.asarray(x, dtype=float).T
        a = silu(self.layers[0].forward(a))
        return softmax(self.layers[1].forward(a))

    def loss(self, x, y):
        y = np.asarray(y, dtype=int)
        p = self.feed_forward(x)
        return float(-np.mean(np.log(p[y, np.arange(y.size)])))

    def _gradient(self, x, y, params):
        y = np.asarray(y, dtype=int)
        X, z1, a1, p = self._forward(x, params)
        S = y.size
        e2 = p.copy()
        e2[y, np.arange(S)] -= 1.0
        e2 /= S
        e1 = (params["W1"].T @ e2) * silu_prime(z1)
        return {"W0": e1 @ X.T, "b0": e1.sum(axis=1, keepdims=True),
                "W1": e2 @ a1.T, "b1": e2.sum(axis=1, keepdims=True)}

    def back_propagate(self, x, y):
        return self._gradient(x, y, self.theta)

    def step(self, x, y):
        theta = self.theta
        if self.gradient_method == "GD":
            g = self.back_propagate(x, y)
            self._write({k: theta[k] - self.lr * g[k] for k in theta})
        elif self.gradient_method == "NAG":
            mu = self.momentum
            ahead = {k: theta[k] + mu * (theta[k] - self.previous[k]) for k in theta}
            g = self._gradient(x, y, ahead)
            self.previous = {k: v.copy() for k, v in theta.items()}
            self._write({k: ahead[k] - self.lr * g[k] for k in theta})
        else:
            raise ValueError(self.gradient_method)

    def train(self, x, y, num_iterations):
        losses = []
        for _ in range(num_iterations):
            self.step(x, y)
            losses.append(self.loss(x, y))
        return losses
