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
        self.theta = {}
        self.theta["W0"] = np.random.randn(self.num_hidden, self.num_input) * 0.05
        self.theta["b0"] = np.random.randn(self.num_hidden, 1) * 0.05
        self.theta["W1"] = np.random.randn(self.num_output, self.num_hidden) * 0.05
        self.theta["b1"] = np.random.randn(self.num_output, 1) * 0.05
        self.prev_theta = {k: v.copy() for k, v in self.theta.items()}

    def sigmoid(self, z):
        return 1 / (1 + np.exp(-np.clip(z, -250, 250)))

    def silu(self, z):
        return z * self.sigmoid(z)

    def silu_deriv(self, z):
        s = self.sigmoid(z)
        return s + z * s * (1 - s)

    def softmax(self, z):
        z = z - np.max(z, axis=0)
        return np.exp(z) / np.sum(np.exp(z), axis=0)

    def feed_forward(self, x):
        self.z1 = self.theta["W0"] @ x.T + self.theta["b0"]
        self.a1 = self.silu(self.z1)
        self.z2 = self.theta["W1"] @ self.a1 + self.theta["b1"]
        self.y_hat = self.softmax(self.z2)
        return self.y_hat

    def loss(self, x, y):
        y_hat = self.feed_forward(x)
        S = x.shape[0]
        return -np.mean(np.log(y_hat[y, np.arange(S)]))

    def back_propagate(self, x, y):
        S = x.shape[0]
        y_hat = self.feed_forward(x)
        y_onehot = np.zeros((self.num_output, S))
        y_onehot[y, np.arange(S)] = 1

        # output layer
        dz2 = y_hat - y_onehot
        dW1 = dz2 @ self.a1.T
        db1 = np.sum(dz2, axis=1, keepdims=True)

        # hidden layer
        da1 = self.theta["W1"].T @ dz2
        dz1 = da1 * self.silu_deriv(self.z1)
        dW0 = dz1 @ x
        db0 = np.sum(dz1, axis=1, keepdims=True)

        return {"W0": dW0, "b0": db0, "W1": dW1, "b1": db1}

    def step(self, x, y):
        if self.gradient_method == "GD":
            grads = self.back_propagate(x, y)
            for key in self.theta:
                self.theta[key] = self.theta[key] - self.lr * grads[key]
        elif self.gradient_method == "NAG":
            current = {k: v.copy() for k, v in self.theta.items()}
            # evaluate gradient at y_k = theta_k + mu (theta_k - theta_{k-1})
            for key in self.theta:
                self.theta[key] = current[key] + self.momentum * (current[key] - self.prev_theta[key])
            grads = self.back_propagate(x, y)
            for key in self.theta:
                self.theta[key] = self.theta[key] - self.lr * grads[key]
            self.prev_theta = current

    def train(self, x, y, num_iterations):
        losses = []
        for i in range(num_iterations):
            self.step(x, y)
            losses.append(self.loss(x, y))
        return losses


if __name__ == "__main__":
    net = NN()
    x = np.random.randn(10, 4)
    y = np.random.randint(0, 3, 10)
    print("initial loss:", net.loss(x, y))
    print(net.train(x, y, 20)[-1])
