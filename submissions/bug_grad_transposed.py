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
        self.theta = {
            "W0": np.random.normal(0, 0.05, (self.num_hidden, self.num_input)),
            "b0": np.random.normal(0, 0.05, (self.num_hidden, 1)),
            "W1": np.random.normal(0, 0.05, (self.num_output, self.num_hidden)),
            "b1": np.random.normal(0, 0.05, (self.num_output, 1)),
        }
        self.previous_theta = {k: v.copy() for k, v in self.theta.items()}

    def sigmoid(self, z):
        return 1 / (1 + np.exp(-np.clip(z, -500, 500)))

    def forward(self, x, theta):
        z1 = theta["W0"] @ x.T + theta["b0"]        # (N_H, S)
        a1 = z1 * self.sigmoid(z1)
        z2 = theta["W1"] @ a1 + theta["b1"]         # (3, S)
        z2 = z2 - z2.max(axis=0)
        e = np.exp(z2)
        return z1, a1, e / e.sum(axis=0)

    def feed_forward(self, x):
        return self.forward(x, self.theta)[2]

    def loss(self, x, y):
        p = self.feed_forward(x)
        return -np.mean(np.log(p[y, np.arange(len(y))]))

    def gradients(self, x, y, theta):
        S = len(y)
        z1, a1, p = self.forward(x, theta)
        Y = np.zeros_like(p)
        Y[y, np.arange(S)] = 1
        e2 = (p - Y) / S                            # dL/dz2  (3, S)
        # dL/dW1 = a1 * e2^T
        dW1 = a1 @ e2.T
        db1 = e2.sum(axis=1, keepdims=True)
        sig = self.sigmoid(z1)
        e1 = (theta["W1"].T @ e2) * (sig + z1 * sig * (1 - sig))   # (N_H, S)
        dW0 = e1 @ x
        db0 = e1.sum(axis=1, keepdims=True)
        return {"W0": dW0, "b0": db0, "W1": dW1, "b1": db1}

    def back_propagate(self, x, y):
        return self.gradients(x, y, self.theta)

    def _apply(self, base, grads):
        new = {}
        new["W0"] = base["W0"] - self.lr * grads["W0"]
        new["b0"] = base["b0"] - self.lr * grads["b0"]
        new["W1"] = base["W1"] - self.lr * grads["W1"].T
        new["b1"] = base["b1"] - self.lr * grads["b1"]
        return new

    def step(self, x, y):
        if self.gradient_method == "GD":
            self.theta = self._apply(self.theta, self.back_propagate(x, y))
        elif self.gradient_method == "NAG":
            lookahead = {}
            for k in self.theta:
                lookahead[k] = self.theta[k] + self.momentum * (self.theta[k] - self.previous_theta[k])
            grads = self.gradients(x, y, lookahead)
            self.previous_theta = {k: v.copy() for k, v in self.theta.items()}
            self.theta = self._apply(lookahead, grads)

    def train(self, x, y, num_iterations):
        losses = []
        for i in range(num_iterations):
            self.step(x, y)
            losses.append(self.loss(x, y))
        return losses


if __name__ == "__main__":
    nn = NN()
    x = np.random.randn(12, 4)
    y = np.random.randint(0, 3, size=12)
    g = nn.back_propagate(x, y)
    for k in g:
        print(k, g[k].shape)
