import numpy as np

# Homework 3 - neural network (numpy)


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
        # small weights (0.05), zero biases
        self.theta = {
            "W0": np.full((self.num_hidden, self.num_input), 0.05),
            "b0": np.zeros((self.num_hidden, 1)),
            "W1": np.full((self.num_output, self.num_hidden), 0.05),
            "b1": np.zeros((self.num_output, 1)),
        }
        self.theta_prev = None

    def silu(self, z):
        return z / (1 + np.exp(-np.clip(z, -500, 500)))

    def silu_prime(self, z):
        s = 1 / (1 + np.exp(-np.clip(z, -500, 500)))
        return s * (1 + z * (1 - s))

    def softmax(self, z):
        t = np.exp(z - z.max(axis=0, keepdims=True))
        return t / t.sum(axis=0, keepdims=True)

    def feed_forward(self, x):
        self.z1 = self.theta["W0"] @ x.T + self.theta["b0"]
        self.a1 = self.silu(self.z1)
        self.z2 = self.theta["W1"] @ self.a1 + self.theta["b1"]
        self.out = self.softmax(self.z2)
        return self.out

    def loss(self, x, y):
        out = self.feed_forward(x)
        S = x.shape[0]
        return -np.log(out[y, np.arange(S)]).sum() / S

    def back_propagate(self, x, y):
        S = x.shape[0]
        out = self.feed_forward(x)
        target = np.zeros_like(out)
        target[y, np.arange(S)] = 1
        delta2 = (out - target) / S
        delta1 = (self.theta["W1"].T @ delta2) * self.silu_prime(self.z1)
        return {"W0": delta1 @ x,
                "b0": delta1.sum(axis=1, keepdims=True),
                "W1": delta2 @ self.a1.T,
                "b1": delta2.sum(axis=1, keepdims=True)}

    def step(self, x, y):
        if self.gradient_method == "GD":
            grads = self.back_propagate(x, y)
            for k in self.theta:
                self.theta[k] = self.theta[k] - self.lr * grads[k]
        elif self.gradient_method == "NAG":
            if self.theta_prev is None:
                self.theta_prev = {k: v.copy() for k, v in self.theta.items()}
            theta_k = self.theta
            self.theta = {k: theta_k[k] + self.momentum * (theta_k[k] - self.theta_prev[k]) for k in theta_k}
            grads = self.back_propagate(x, y)     # gradient at the look-ahead point
            self.theta = {k: self.theta[k] - self.lr * grads[k] for k in self.theta}
            self.theta_prev = theta_k

    def train(self, x, y, num_iterations):
        losses = []
        for i in range(num_iterations):
            self.step(x, y)
            losses.append(self.loss(x, y))
        return losses


if __name__ == "__main__":
    model = NN(num_hidden=4)
    print(model.theta["W0"])
    X = np.random.randn(9, 4)
    print(model.feed_forward(X).shape)
