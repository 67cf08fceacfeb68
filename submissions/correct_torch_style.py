#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""
Penguin classifier, numpy only.

For NAG I implemented the update the way torch.optim.SGD(nesterov=True)
does it (I read the docs / source to check my derivation):

    g   = grad L(p)
    buf = g                       (first step)
    buf = mu * buf + g            (later steps)
    p   = p - lr * (g + mu * buf)

Here the stored parameters p are the look-ahead points y_k of the
lecture's formulation, so the gradient is still taken at the look-ahead
point. Proof sketch in my PDF, section 2.3.
"""

import numpy as np

SEED = None  # set to an int to make runs reproducible


class NN(object):

    def __init__(self, num_input=4, num_hidden=16, num_output=3,
                 gradient_method="GD", lr=0.01, momentum=0.9):
        self.num_input = num_input
        self.num_hidden = num_hidden
        self.num_output = num_output
        self.gradient_method = gradient_method
        self.lr = lr
        self.momentum = momentum
        self.momentum_buffer = None
        if SEED is not None:
            np.random.seed(SEED)
        self.init_params()

    def init_params(self):
        nh, ni, no = self.num_hidden, self.num_input, self.num_output
        self.theta = dict()
        self.theta["W0"] = np.random.randn(nh, ni) * 0.05
        self.theta["b0"] = np.random.randn(nh, 1) * 0.05
        self.theta["W1"] = np.random.randn(no, nh) * 0.05
        self.theta["b1"] = np.random.randn(no, 1) * 0.05
        self.momentum_buffer = None

    def _cache_forward(self, x):
        W0, b0, W1, b1 = (self.theta[k] for k in ("W0", "b0", "W1", "b1"))
        z1 = np.dot(W0, x.T) + b0
        sig = 0.5 * (1.0 + np.tanh(0.5 * z1))        # = 1/(1+exp(-z1)), no overflow
        a1 = z1 * sig
        z2 = np.dot(W1, a1) + b1
        z2 = z2 - z2.max(axis=0, keepdims=True)
        expz = np.exp(z2)
        probs = expz / expz.sum(axis=0, keepdims=True)
        return {"z1": z1, "sig": sig, "a1": a1, "probs": probs}

    def feed_forward(self, x):
        return self._cache_forward(x)["probs"]

    def loss(self, x, y):
        probs = self.feed_forward(x)
        n = x.shape[0]
        log_likelihood = np.log(probs[np.asarray(y, dtype=int), range(n)])
        return -np.sum(log_likelihood) / n

    def back_propagate(self, x, y):
        c = self._cache_forward(x)
        n = x.shape[0]
        delta2 = c["probs"].copy()
        delta2[np.asarray(y, dtype=int), range(n)] -= 1.0
        delta2 /= n
        dsilu = c["sig"] * (1.0 + c["z1"] * (1.0 - c["sig"]))
        delta1 = np.dot(self.theta["W1"].T, delta2) * dsilu
        return {
            "W0": np.dot(delta1, x),
            "b0": delta1.sum(axis=1, keepdims=True),
            "W1": np.dot(delta2, c["a1"].T),
            "b1": delta2.sum(axis=1, keepdims=True),
        }

    def step(self, x, y):
        grads = self.back_propagate(x, y)
        if self.gradient_method == "GD":
            for k in self.theta:
                self.theta[k] -= self.lr * grads[k]
        elif self.gradient_method == "NAG":
            if self.momentum_buffer is None:
                self.momentum_buffer = {k: g.copy() for k, g in grads.items()}
            else:
                for k in grads:
                    self.momentum_buffer[k] = self.momentum * self.momentum_buffer[k] + grads[k]
            for k in self.theta:
                self.theta[k] -= self.lr * (grads[k] + self.momentum * self.momentum_buffer[k])
        else:
            raise ValueError("gradient_method must be 'GD' or 'NAG'")

    def train(self, x, y, num_iterations):
        losses = []
        for i in range(num_iterations):
            losses.append(float(self.loss(x, y)))
            self.step(x, y)
        return losses


if __name__ == "__main__":
    rng = np.random.RandomState(1)
    X = rng.randn(60, 4)
    Y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int)
    for m in ("GD", "NAG"):
        net = NN(gradient_method=m, lr=0.1)
        hist = net.train(X, Y, 300)
        acc = np.mean(net.feed_forward(X).argmax(axis=0) == Y)
        print(f"{m}: loss {hist[0]:.3f} -> {hist[-1]:.3f}, train acc {acc:.2f}")
