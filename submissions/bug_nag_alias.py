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
            "W0": np.random.randn(self.num_hidden, self.num_input) * 0.05,
            "b0": np.random.randn(self.num_hidden, 1) * 0.05,
            "W1": np.random.randn(self.num_output, self.num_hidden) * 0.05,
            "b1": np.random.randn(self.num_output, 1) * 0.05,
        }
        self.theta_prev = self.theta   # theta_{-1} = theta_0

    # activation
    def silu(self, z):
        return z * self.sigmoid(z)

    def sigmoid(self, z):
        return 1 / (1 + np.exp(-np.clip(z, -500, 500)))

    def silu_grad(self, z):
        s = self.sigmoid(z)
        return s * (1 + z * (1 - s))

    def softmax(self, z):
        exp_z = np.exp(z - np.max(z, axis=0, keepdims=True))
        return exp_z / np.sum(exp_z, axis=0, keepdims=True)

    def forward(self, params, x):
        z1 = params["W0"] @ x.T + params["b0"]
        a1 = self.silu(z1)
        z2 = params["W1"] @ a1 + params["b1"]
        return z1, a1, self.softmax(z2)

    def feed_forward(self, x):
        _, _, y_hat = self.forward(self.theta, x)
        return y_hat

    def loss(self, x, y):
        y_hat = self.feed_forward(x)
        S = x.shape[0]
        return -np.mean(np.log(y_hat[y, np.arange(S)]))

    def gradient(self, params, x, y):
        S = x.shape[0]
        z1, a1, y_hat = self.forward(params, x)
        y_true = np.zeros_like(y_hat)
        y_true[y, np.arange(S)] = 1
        dz2 = (y_hat - y_true) / S
        dz1 = params["W1"].T @ dz2 * self.silu_grad(z1)
        return {
            "W0": dz1 @ x,
            "b0": dz1.sum(axis=1, keepdims=True),
            "W1": dz2 @ a1.T,
            "b1": dz2.sum(axis=1, keepdims=True),
        }

    def back_propagate(self, x, y):
        return self.gradient(self.theta, x, y)

    def step(self, x, y):
        if self.gradient_method == "GD":
            grads = self.back_propagate(x, y)
            for key in self.theta:
                self.theta[key] = self.theta[key] - self.lr * grads[key]

        elif self.gradient_method == "NAG":
            # y_k = theta_k + mu * (theta_k - theta_{k-1})
            y_k = {}
            for key in self.theta:
                y_k[key] = self.theta[key] + self.momentum * (self.theta[key] - self.theta_prev[key])
            grads = self.gradient(y_k, x, y)
            # remember theta_k before updating
            self.theta_prev = self.theta
            for key in self.theta:
                self.theta[key] = y_k[key] - self.lr * grads[key]

    def train(self, x, y, num_iterations):
        losses = []
        for i in range(num_iterations):
            self.step(x, y)
            losses.append(self.loss(x, y))
        return losses


if __name__ == "__main__":
    # compare GD and NAG on a random problem
    np.random.seed(0)
    X = np.random.randn(100, 4)
    Y = np.argmax(X[:, :3], axis=1)
    for method in ["GD", "NAG"]:
        np.random.seed(1)
        model = NN(gradient_method=method, lr=0.1)
        hist = model.train(X, Y, 300)
        print(method, hist[-1])
