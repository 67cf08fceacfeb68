# Penguins MLP homework.
# I number the layers from 1 like in my notes (W1 is the first layer), and I
# keep the samples in the rows the whole way through, because that is how the
# data comes out of the csv.  forwardPass gives back probabilities as (S, 3).
import numpy as np


class NN:
    def __init__(self, num_input=4, num_hidden=16, num_output=3,
                 gradient_method="GD", lr=0.01, momentum=0.9):
        self.nIn = num_input
        self.nHidden = num_hidden
        self.nOut = num_output
        self.gradient_method = gradient_method
        self.lr = lr
        self.momentum = momentum
        self.init_params()

    def init_params(self):
        std = 0.05
        self.theta = dict()
        self.theta["W1"] = np.random.normal(0, std, size=(self.nHidden, self.nIn))
        self.theta["b1"] = np.random.normal(0, std, size=(self.nHidden, 1))
        self.theta["W2"] = np.random.normal(0, std, size=(self.nOut, self.nHidden))
        self.theta["b2"] = np.random.normal(0, std, size=(self.nOut, 1))
        self.lastTheta = None      # theta_{k-1} for NAG

    @staticmethod
    def sig(z):
        return np.exp(-np.logaddexp(0, -z))

    def _forward(self, x, params):
        h = x @ params["W1"].T + params["b1"].T        # S x N_H
        a = h * self.sig(h)                            # SiLU
        o = a @ params["W2"].T + params["b2"].T        # S x 3
        o = o - o.max(axis=1, keepdims=True)
        p = np.exp(o)
        p /= p.sum(axis=1, keepdims=True)
        return h, a, p

    def forwardPass(self, x):
        return self._forward(x, self.theta)[2]

    def loss(self, x, y):
        p = self.forwardPass(x)
        return -np.log(p[np.arange(len(y)), y]).mean()

    def _grad(self, x, y, params):
        h, a, p = self._forward(x, params)
        n = x.shape[0]
        delta2 = p.copy()
        delta2[np.arange(n), y] -= 1
        delta2 /= n                                    # S x 3
        s = self.sig(h)
        delta1 = (delta2 @ params["W2"]) * (s + h * s * (1 - s))   # S x N_H, SiLU'
        return {"W1": delta1.T @ x, "b1": delta1.sum(axis=0).reshape(-1, 1),
                "W2": delta2.T @ a, "b2": delta2.sum(axis=0).reshape(-1, 1)}

    def backwardPass(self, x, y):
        return self._grad(x, y, self.theta)

    def step(self, x, y):
        if self.gradient_method == "NAG":
            if self.lastTheta is None:
                self.lastTheta = {k: v.copy() for k, v in self.theta.items()}
            look = {}
            for k in self.theta:
                look[k] = self.theta[k] + self.momentum * (self.theta[k] - self.lastTheta[k])
            g = self._grad(x, y, look)
            self.lastTheta = {k: v.copy() for k, v in self.theta.items()}
            for k in self.theta:
                self.theta[k] = look[k] - self.lr * g[k]
        else:
            g = self.backwardPass(x, y)
            for k in self.theta:
                self.theta[k] -= self.lr * g[k]

    def train(self, x, y, num_iterations):
        history = []
        for i in range(num_iterations):
            self.step(x, y)
            history.append(self.loss(x, y))
            if i % 100 == 0:
                print("iteration", i, "loss", history[-1])
        return history
