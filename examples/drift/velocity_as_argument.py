"""Penguins MLP.

I wrote the network as a list of layer objects (so adding a layer is one
line), and the NAG velocity is passed into step() and handed back, so the
optimizer has no hidden state: train() carries it from one step to the next.
"""
import numpy as np


def sigmoid(z):
    return np.where(z >= 0, 1 / (1 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1 + np.exp(-np.abs(z))))


class Dense:
    """z = W a + b, followed by SiLU unless it is the output layer."""

    def __init__(self, n_in, n_out, hidden):
        self.W = np.random.normal(0.0, 0.05, (n_out, n_in))
        self.b = np.random.normal(0.0, 0.05, (n_out, 1))
        self.hidden = hidden

    def forward(self, a):
        self.a_in = a
        self.z = self.W @ a + self.b
        if self.hidden:
            return self.z * sigmoid(self.z)
        return self.z

    def backward(self, delta):
        """delta = dL/d(output of this layer); returns dL/d(input), dW, db."""
        if self.hidden:
            s = sigmoid(self.z)
            delta = delta * s * (1 + self.z * (1 - s))
        dW = delta @ self.a_in.T
        db = delta.sum(axis=1, keepdims=True)
        return self.W.T @ delta, dW, db


class NN:
    def __init__(self, num_input=4, num_hidden=16, num_output=3,
                 gradient_method="GD", lr=0.01, momentum=0.9):
        self.sizes = [num_input, num_hidden, num_output]
        self.gradient_method = gradient_method
        self.lr = lr
        self.momentum = momentum
        self.init_params()

    def init_params(self):
        self.layers = [Dense(self.sizes[i], self.sizes[i + 1], hidden=(i < len(self.sizes) - 2))
                       for i in range(len(self.sizes) - 1)]

    def feed_forward(self, x):
        a = x.T
        for layer in self.layers:
            a = layer.forward(a)
        a = a - a.max(axis=0)
        e = np.exp(a)
        return e / e.sum(axis=0)

    def loss(self, x, y):
        p = self.feed_forward(x)
        return float(-np.mean(np.log(p[y, np.arange(len(y))])))

    def back_propagate(self, x, y):
        """List of (dW, db), one per layer."""
        p = self.feed_forward(x)
        delta = p.copy()
        delta[y, np.arange(len(y))] -= 1
        delta /= len(y)
        grads = []
        for layer in reversed(self.layers):
            delta, dW, db = layer.backward(delta)
            grads.insert(0, (dW, db))
        return grads

    def step(self, x, y, velocity=None):
        """One iteration; for NAG, pass the velocity returned by the previous call."""
        if self.gradient_method == "GD":
            for layer, (dW, db) in zip(self.layers, self.back_propagate(x, y)):
                layer.W = layer.W - self.lr * dW
                layer.b = layer.b - self.lr * db
            return velocity
        if velocity is None:
            velocity = [(np.zeros_like(l.W), np.zeros_like(l.b)) for l in self.layers]
        mu = self.momentum
        # move to the look-ahead point theta + mu v, take the gradient there
        for layer, (vW, vb) in zip(self.layers, velocity):
            layer.W = layer.W + mu * vW
            layer.b = layer.b + mu * vb
        grads = self.back_propagate(x, y)
        new_velocity = []
        for layer, (vW, vb), (dW, db) in zip(self.layers, velocity, grads):
            nW = mu * vW - self.lr * dW
            nb = mu * vb - self.lr * db
            # back from the look-ahead to theta, then theta + v_new
            layer.W = layer.W - mu * vW + nW
            layer.b = layer.b - mu * vb + nb
            new_velocity.append((nW, nb))
        return new_velocity

    def train(self, x, y, num_iterations):
        losses, velocity = [], None
        for _ in range(num_iterations):
            velocity = self.step(x, y, velocity)
            losses.append(self.loss(x, y))
        return losses
