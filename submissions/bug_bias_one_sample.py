# Neural network homework
# backprop is done sample by sample (column vectors), then averaged.

import numpy as np


class NN:
    def __init__(self, num_input=4, num_hidden=16, num_output=3, gradient_method="GD", lr=0.01, momentum=0.9):
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
        self.theta_last = None

    @staticmethod
    def sig(z):
        return 1 / (1 + np.exp(-np.clip(z, -100, 100)))

    def feed_forward(self, x):
        z1 = self.theta["W0"] @ x.T + self.theta["b0"]
        a1 = z1 * self.sig(z1)
        z2 = self.theta["W1"] @ a1 + self.theta["b1"]
        z2 = z2 - z2.max(axis=0)
        return np.exp(z2) / np.exp(z2).sum(axis=0)

    def loss(self, x, y):
        probs = self.feed_forward(x)
        S = x.shape[0]
        L = 0
        for i in range(S):
            L -= np.log(probs[y[i], i])
        return L / S

    def back_propagate(self, x, y):
        W0, b0, W1, b1 = self.theta["W0"], self.theta["b0"], self.theta["W1"], self.theta["b1"]
        S = x.shape[0]
        dW0 = np.zeros_like(W0)
        db0 = np.zeros_like(b0)
        dW1 = np.zeros_like(W1)
        db1 = np.zeros_like(b1)
        for i in range(S):
            xi = x[i].reshape(-1, 1)            # (4, 1)
            z1 = W0 @ xi + b0
            s = self.sig(z1)
            a1 = z1 * s
            z2 = W1 @ a1 + b1
            p = np.exp(z2 - z2.max())
            p = p / p.sum()
            t = np.zeros((self.num_output, 1))
            t[y[i]] = 1
            e2 = p - t
            dW1 += e2 @ a1.T
            db1 = e2
            e1 = (W1.T @ e2) * (s + z1 * s * (1 - s))
            dW0 += e1 @ xi.T
            db0 = e1
        return {"W0": dW0 / S, "b0": db0 / S, "W1": dW1 / S, "b1": db1 / S}

    def step(self, x, y):
        if self.gradient_method == "GD":
            g = self.back_propagate(x, y)
            for p in self.theta:
                self.theta[p] = self.theta[p] - self.lr * g[p]
        elif self.gradient_method == "NAG":
            if self.theta_last is None:
                self.theta_last = {p: v.copy() for p, v in self.theta.items()}
            theta_k = {p: v.copy() for p, v in self.theta.items()}
            # y_k = theta_k + mu*(theta_k - theta_{k-1}), gradient at y_k
            for p in self.theta:
                self.theta[p] = theta_k[p] + self.momentum * (theta_k[p] - self.theta_last[p])
            g = self.back_propagate(x, y)
            for p in self.theta:
                self.theta[p] = self.theta[p] - self.lr * g[p]
            self.theta_last = theta_k

    def train(self, x, y, num_iterations):
        losses = []
        for it in range(num_iterations):
            losses.append(self.loss(x, y))
            self.step(x, y)
        return losses


if __name__ == "__main__":
    np.random.seed(1)
    X = np.random.randn(15, 4)
    Y = np.random.randint(0, 3, 15)
    model = NN(num_hidden=10, gradient_method="NAG")
    out = model.train(X, Y, 50)
    print("loss went from", out[0], "to", out[-1])
