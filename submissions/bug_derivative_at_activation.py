import numpy as np

print("loading NN (SiLU hidden layer, softmax output)")


def logistic(z):
    return 1.0 / (1.0 + np.exp(-np.clip(z, -300.0, 300.0)))


def silu(z):
    return z * logistic(z)


def silu_prime(z):
    s = logistic(z)
    return s * (1.0 + z * (1.0 - s))


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
        rng = np.random
        self.theta = {}
        self.theta['W0'] = rng.normal(scale=0.05, size=(self.num_hidden, self.num_input))
        self.theta['b0'] = rng.normal(scale=0.05, size=(self.num_hidden, 1))
        self.theta['W1'] = rng.normal(scale=0.05, size=(self.num_output, self.num_hidden))
        self.theta['b1'] = rng.normal(scale=0.05, size=(self.num_output, 1))
        self.previous = {name: value.copy() for name, value in self.theta.items()}

    def feed_forward(self, x):
        A0 = x.T
        A1 = silu(self.theta['W0'] @ A0 + self.theta['b0'])
        Z2 = self.theta['W1'] @ A1 + self.theta['b1']
        Z2 = Z2 - Z2.max(axis=0)
        A2 = np.exp(Z2) / np.exp(Z2).sum(axis=0)
        self.cache = [A0, A1, A2]
        return A2

    def loss(self, x, y):
        A2 = self.feed_forward(x)
        m = x.shape[0]
        return float(-np.log(A2[y, range(m)]).sum() / m)

    def back_propagate(self, x, y):
        m = x.shape[0]
        A2 = self.feed_forward(x)
        A0, A1, _ = self.cache
        Y = np.zeros(A2.shape)
        Y[y, range(m)] = 1

        dZ2 = (A2 - Y) / m
        dW1 = dZ2 @ A1.T
        db1 = dZ2.sum(axis=1, keepdims=True)

        dA1 = self.theta['W1'].T @ dZ2
        dZ1 = dA1 * silu_prime(A1)
        dW0 = dZ1 @ A0.T
        db0 = dZ1.sum(axis=1, keepdims=True)
        return {'W0': dW0, 'b0': db0, 'W1': dW1, 'b1': db1}

    def step(self, x, y):
        if self.gradient_method == "GD":
            grad = self.back_propagate(x, y)
            for name in self.theta:
                self.theta[name] = self.theta[name] - self.lr * grad[name]
        elif self.gradient_method == "NAG":
            now = self.theta
            # jump to the look-ahead point and compute the gradient there
            self.theta = {name: now[name] + self.momentum * (now[name] - self.previous[name]) for name in now}
            grad = self.back_propagate(x, y)
            self.theta = {name: self.theta[name] - self.lr * grad[name] for name in self.theta}
            self.previous = now
        else:
            raise ValueError(self.gradient_method)

    def train(self, x, y, num_iterations):
        history = []
        for _ in range(num_iterations):
            self.step(x, y)
            history.append(self.loss(x, y))
        return history
