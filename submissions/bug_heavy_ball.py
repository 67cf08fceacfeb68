import numpy as np
from numpy.random import default_rng

_rng = default_rng()


class NN:
    def __init__(self, num_input=4, num_hidden=16, num_output=3,
                 gradient_method="GD", lr=0.01, momentum=0.9):
        self.num_input, self.num_hidden, self.num_output = num_input, num_hidden, num_output
        self.gradient_method = gradient_method
        self.lr = lr
        self.momentum = momentum
        self.init_params()

    def init_params(self):
        self.theta = {
            "W0": _rng.normal(0.0, 0.05, (self.num_hidden, self.num_input)),
            "b0": _rng.normal(0.0, 0.05, (self.num_hidden, 1)),
            "W1": _rng.normal(0.0, 0.05, (self.num_output, self.num_hidden)),
            "b1": _rng.normal(0.0, 0.05, (self.num_output, 1)),
        }
        # theta_{k-1}, starts equal to theta_0
        self.theta_before = {k: np.array(v) for k, v in self.theta.items()}

    def silu(self, z):
        return z / (1.0 + np.exp(-np.clip(z, -500, 500)))

    def d_silu(self, z):
        sg = 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))
        return sg * (1.0 + z * (1.0 - sg))

    def feed_forward(self, x):
        self.x = x
        self.z1 = self.theta["W0"] @ x.T + self.theta["b0"]
        self.a1 = self.silu(self.z1)
        self.z2 = self.theta["W1"] @ self.a1 + self.theta["b1"]
        m = self.z2.max(axis=0, keepdims=True)
        e = np.exp(self.z2 - m)
        self.out = e / e.sum(axis=0, keepdims=True)
        return self.out

    def loss(self, x, y):
        out = self.feed_forward(x)
        return np.mean(-np.log(out[y, np.arange(x.shape[0])]))

    def back_propagate(self, x, y):
        S = x.shape[0]
        out = self.feed_forward(x)
        onehot = np.zeros_like(out)
        onehot[y, np.arange(S)] = 1.0
        delta2 = (out - onehot) / S
        delta1 = (self.theta["W1"].T @ delta2) * self.d_silu(self.z1)
        return {
            "W0": delta1 @ x,
            "b0": np.sum(delta1, axis=1, keepdims=True),
            "W1": delta2 @ self.a1.T,
            "b1": np.sum(delta2, axis=1, keepdims=True),
        }

    def gd_update(self, x, y):
        grads = self.back_propagate(x, y)
        for k in self.theta:
            self.theta[k] = self.theta[k] - self.lr * grads[k]

    def nag_update(self, x, y):
        grads = self.back_propagate(x, y)
        new_theta = {}
        for k in self.theta:
            # look-ahead point
            y_k = self.theta[k] + self.momentum * (self.theta[k] - self.theta_before[k])
            new_theta[k] = y_k - self.lr * grads[k]
        self.theta_before = self.theta
        self.theta = new_theta

    def step(self, x, y):
        if self.gradient_method == "NAG":
            self.nag_update(x, y)
        else:
            self.gd_update(x, y)

    def train(self, x, y, num_iterations):
        losses = []
        for i in range(num_iterations):
            self.step(x, y)
            losses.append(self.loss(x, y))
        return losses


if __name__ == "__main__":
    X = _rng.standard_normal((30, 4))
    Y = _rng.integers(0, 3, 30)
    gd = NN(gradient_method="GD", lr=0.05).train(X, Y, 200)
    nag = NN(gradient_method="NAG", lr=0.05).train(X, Y, 200)
    print("GD final loss ", gd[-1])
    print("NAG final loss", nag[-1])
