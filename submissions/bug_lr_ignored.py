# ------------------------------------------------------------
#  MLP for the penguin species (homework 3)
# ------------------------------------------------------------
import numpy as np

LEARNING_RATE = 0.1
MOMENTUM = 0.9


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
        size = {"W0": (self.num_hidden, self.num_input), "b0": (self.num_hidden, 1),
                "W1": (self.num_output, self.num_hidden), "b1": (self.num_output, 1)}
        self.theta = {}
        for key in ["W0", "b0", "W1", "b1"]:
            self.theta[key] = np.random.randn(*size[key]) * 0.05
        self.theta_prev = None

    def sigmoid(self, z):
        return 1.0 / (1.0 + np.exp(-np.clip(z, -400, 400)))

    def forward_pass(self, theta, x):
        z1 = theta["W0"] @ x.T + theta["b0"]
        a1 = z1 * self.sigmoid(z1)
        z2 = theta["W1"] @ a1 + theta["b1"]
        z2 = z2 - z2.max(axis=0, keepdims=True)
        y_tilde = np.exp(z2)
        y_tilde = y_tilde / y_tilde.sum(axis=0, keepdims=True)
        return z1, a1, y_tilde

    def feed_forward(self, x):
        return self.forward_pass(self.theta, x)[2]

    def loss(self, x, y):
        y_tilde = self.feed_forward(x)
        S = x.shape[0]
        return np.mean(-np.log(y_tilde[y, np.arange(S)]))

    def gradient(self, theta, x, y):
        S = x.shape[0]
        z1, a1, y_tilde = self.forward_pass(theta, x)
        Y = np.zeros_like(y_tilde)
        Y[y, np.arange(S)] = 1.0
        delta2 = y_tilde - Y
        s = self.sigmoid(z1)
        delta1 = (theta["W1"].T @ delta2) * (s + z1 * s * (1 - s))
        return {"W0": delta1 @ x / S,
                "b0": delta1.mean(axis=1, keepdims=True),
                "W1": delta2 @ a1.T / S,
                "b1": delta2.mean(axis=1, keepdims=True)}

    def back_propagate(self, x, y):
        return self.gradient(self.theta, x, y)

    def step(self, x, y):
        if self.gradient_method == "GD":
            grad = self.back_propagate(x, y)
            for key in self.theta:
                self.theta[key] = self.theta[key] - LEARNING_RATE * grad[key]
        elif self.gradient_method == "NAG":
            if self.theta_prev is None:
                self.theta_prev = {key: val.copy() for key, val in self.theta.items()}
            y_k = {key: self.theta[key] + self.momentum * (self.theta[key] - self.theta_prev[key])
                   for key in self.theta}
            grad = self.gradient(y_k, x, y)
            self.theta_prev = {key: val.copy() for key, val in self.theta.items()}
            for key in self.theta:
                self.theta[key] = y_k[key] - LEARNING_RATE * grad[key]

    def train(self, x, y, num_iterations):
        losses = []
        for i in range(num_iterations):
            self.step(x, y)
            losses.append(self.loss(x, y))
        return losses
