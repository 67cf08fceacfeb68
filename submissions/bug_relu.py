import numpy as np

# hidden activation and its derivative
def activation(z):
    return np.maximum(0, z)


def activation_derivative(z):
    return (z > 0).astype(float)


def softmax(z):
    z = z - np.max(z, axis=0, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=0, keepdims=True)


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
        self.theta_prev = {k: v.copy() for k, v in self.theta.items()}

    def _forward(self, theta, x):
        z1 = theta["W0"] @ x.T + theta["b0"]
        a1 = activation(z1)
        z2 = theta["W1"] @ a1 + theta["b1"]
        return z1, a1, softmax(z2)

    def feed_forward(self, x):
        return self._forward(self.theta, x)[-1]

    def loss(self, x, y):
        p = self.feed_forward(x)
        return -np.mean(np.log(p[y, np.arange(x.shape[0])]))

    def _backward(self, theta, x, y):
        S = x.shape[0]
        z1, a1, p = self._forward(theta, x)
        d2 = p.copy()
        d2[y, np.arange(S)] -= 1
        d2 /= S
        d1 = (theta["W1"].T @ d2) * activation_derivative(z1)
        return {"W0": d1 @ x,
                "b0": d1.sum(axis=1, keepdims=True),
                "W1": d2 @ a1.T,
                "b1": d2.sum(axis=1, keepdims=True)}

    def back_propagate(self, x, y):
        return self._backward(self.theta, x, y)

    def step(self, x, y):
        if self.gradient_method == "GD":
            g = self.back_propagate(x, y)
            for k in self.theta:
                self.theta[k] = self.theta[k] - self.lr * g[k]
        elif self.gradient_method == "NAG":
            look = {k: self.theta[k] + self.momentum * (self.theta[k] - self.theta_prev[k])
                    for k in self.theta}
            g = self._backward(look, x, y)
            self.theta_prev = {k: v.copy() for k, v in self.theta.items()}
            for k in self.theta:
                self.theta[k] = look[k] - self.lr * g[k]
        else:
            raise ValueError("gradient_method must be GD or NAG")

    def train(self, x, y, num_iterations):
        losses = []
        for it in range(num_iterations):
            self.step(x, y)
            losses.append(self.loss(x, y))
        return losses


if __name__ == "__main__":
    np.random.seed(42)
    x = np.random.randn(25, 4)
    y = np.random.randint(0, 3, 25)
    net = NN(gradient_method="NAG", lr=0.1)
    print("loss before:", net.loss(x, y))
    net.train(x, y, 100)
    print("loss after:", net.loss(x, y))
