import numpy as np

# Penguins MLP - homework 3
# x comes in as (S, 4), so for the first layer I just multiply x @ W0,
# which gives one row per sample. The output layer works with columns.


class NN:
    def __init__(self, num_input=4, num_hidden=16, num_output=3,
                 gradient_method="GD", lr=0.01, momentum=0.9):
        self.num_input = num_input
        self.num_hidden = num_hidden
        self.num_output = num_output
        self.gradient_method = gradient_method
        self.lr = lr
        self.momentum = momentum
        self.prev = None
        self.init_params()

    def init_params(self):
        self.theta = {
            "W0": np.random.randn(self.num_input, self.num_hidden) * 0.05,
            "b0": np.random.randn(self.num_hidden, 1) * 0.05,
            "W1": np.random.randn(self.num_output, self.num_hidden) * 0.05,
            "b1": np.random.randn(self.num_output, 1) * 0.05,
        }
        self.prev = None

    def _sigmoid(self, z):
        return 1.0 / (1.0 + np.exp(-np.clip(z, -200, 200)))

    def _forward(self, th, x):
        z1 = x @ th["W0"] + th["b0"].T          # (S, N_H)
        a1 = z1 * self._sigmoid(z1)             # (S, N_H)
        z2 = th["W1"] @ a1.T + th["b1"]         # (3, S)
        z2 = z2 - np.max(z2, axis=0, keepdims=True)
        p = np.exp(z2)
        p = p / p.sum(axis=0, keepdims=True)
        return z1, a1, p

    def feed_forward(self, x):
        return self._forward(self.theta, x)[2]

    def loss(self, x, y):
        p = self.feed_forward(x)
        S = x.shape[0]
        return -np.log(p[y, np.arange(S)]).mean()

    def _grad(self, th, x, y):
        S = x.shape[0]
        z1, a1, p = self._forward(th, x)
        t = np.zeros_like(p)
        t[y, np.arange(S)] = 1.0
        e2 = (p - t) / S                        # (3, S)
        g_W1 = e2 @ a1                          # (3, N_H)
        g_b1 = e2.sum(axis=1, keepdims=True)    # (3, 1)
        s = self._sigmoid(z1)
        e1 = (e2.T @ th["W1"]) * (s + z1 * s * (1 - s))   # (S, N_H)
        g_W0 = x.T @ e1                         # (4, N_H)
        g_b0 = e1.sum(axis=0).reshape(-1, 1)    # (N_H, 1)
        return {"W0": g_W0, "b0": g_b0, "W1": g_W1, "b1": g_b1}

    def back_propagate(self, x, y):
        return self._grad(self.theta, x, y)

    def step(self, x, y):
        if self.gradient_method == "GD":
            g = self.back_propagate(x, y)
            for k in self.theta:
                self.theta[k] = self.theta[k] - self.lr * g[k]
        elif self.gradient_method == "NAG":
            if self.prev is None:
                self.prev = {k: self.theta[k].copy() for k in self.theta}
            la = {k: self.theta[k] + self.momentum * (self.theta[k] - self.prev[k]) for k in self.theta}
            g = self._grad(la, x, y)
            self.prev = {k: self.theta[k].copy() for k in self.theta}
            for k in self.theta:
                self.theta[k] = la[k] - self.lr * g[k]
        else:
            raise ValueError("method should be GD or NAG")

    def train(self, x, y, num_iterations):
        L = []
        for i in range(num_iterations):
            self.step(x, y)
            L.append(self.loss(x, y))
        return L


if __name__ == "__main__":
    nn = NN()
    print({k: v.shape for k, v in nn.theta.items()})
