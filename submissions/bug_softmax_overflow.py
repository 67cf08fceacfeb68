import numpy as np


class NN:
    """
    Simple MLP: input(4) -> hidden(num_hidden, SiLU) -> output(3, softmax)
    """

    def __init__(self, num_input=4, num_hidden=16, num_output=3, gradient_method="GD", lr=0.01, momentum=0.9):
        self.num_input = num_input
        self.num_hidden = num_hidden
        self.num_output = num_output
        self.gradient_method = gradient_method
        self.lr = lr
        self.momentum = momentum
        self.init_params()

    def init_params(self):
        W0 = np.random.normal(0, 0.05, size=(self.num_hidden, self.num_input))
        b0 = np.random.normal(0, 0.05, size=(self.num_hidden, 1))
        W1 = np.random.normal(0, 0.05, size=(self.num_output, self.num_hidden))
        b1 = np.random.normal(0, 0.05, size=(self.num_output, 1))
        self.theta = {"W0": W0, "b0": b0, "W1": W1, "b1": b1}
        self.theta_old = {"W0": W0.copy(), "b0": b0.copy(), "W1": W1.copy(), "b1": b1.copy()}

    def sigmoid(self, x):
        return np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))

    def silu(self, x):
        return x * self.sigmoid(x)

    def silu_derivative(self, x):
        s = self.sigmoid(x)
        return s * (1 + x * (1 - s))

    def softmax(self, x):
        exps = np.exp(x)
        return exps / np.sum(exps, axis=0, keepdims=True)

    def forward(self, theta, x):
        z1 = np.dot(theta["W0"], x.T) + theta["b0"]
        a1 = self.silu(z1)
        z2 = np.dot(theta["W1"], a1) + theta["b1"]
        a2 = self.softmax(z2)
        return z1, a1, a2

    def feed_forward(self, x):
        return self.forward(self.theta, x)[2]

    def loss(self, x, y):
        a2 = self.feed_forward(x)
        n = x.shape[0]
        return -np.sum(np.log(a2[y, np.arange(n)])) / n

    def grad(self, theta, x, y):
        n = x.shape[0]
        z1, a1, a2 = self.forward(theta, x)
        target = np.zeros_like(a2)
        target[y, np.arange(n)] = 1
        d2 = a2 - target
        d1 = np.dot(theta["W1"].T, d2) * self.silu_derivative(z1)
        return {
            "W0": np.dot(d1, x) / n,
            "b0": np.sum(d1, axis=1, keepdims=True) / n,
            "W1": np.dot(d2, a1.T) / n,
            "b1": np.sum(d2, axis=1, keepdims=True) / n,
        }

    def back_propagate(self, x, y):
        return self.grad(self.theta, x, y)

    def step(self, x, y):
        if self.gradient_method == "GD":
            g = self.back_propagate(x, y)
            for k in self.theta:
                self.theta[k] = self.theta[k] - self.lr * g[k]
        elif self.gradient_method == "NAG":
            y_k = {}
            for k in self.theta:
                y_k[k] = self.theta[k] + self.momentum * (self.theta[k] - self.theta_old[k])
            g = self.grad(y_k, x, y)
            for k in self.theta:
                self.theta_old[k] = self.theta[k].copy()
                self.theta[k] = y_k[k] - self.lr * g[k]

    def train(self, x, y, num_iterations):
        losses = []
        for i in range(num_iterations):
            self.step(x, y)
            losses.append(self.loss(x, y))
        return losses


if __name__ == "__main__":
    x = np.random.randn(8, 4)
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    model = NN()
    probs = model.feed_forward(x)
    print(probs.sum(axis=0))   # should be all ones
