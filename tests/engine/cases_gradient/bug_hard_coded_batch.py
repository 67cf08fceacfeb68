"""
HW3 - Penguins MLP
Two-layer network (SiLU hidden layer, softmax output) trained with
steepest descent (GD) or Nesterov's accelerated gradient (NAG).

Conventions used everywhere below:
    x      : (S, 4)      one sample per row (as given)
    X = x.T: (4, S)      one sample per column (what the math uses)
    z1, a1 : (N_H, S)
    z2, y~ : (3, S)
"""
import numpy as np


def sigmoid(z):
    # numerically stable logistic function (no overflow warnings for big |z|)
    out = np.empty_like(z, dtype=float)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def silu(z):
    return z * sigmoid(z)


def silu_prime(z):
    # d/dz [z s(z)] = s(z) + z s(z)(1 - s(z))
    s = sigmoid(z)
    return s * (1.0 + z * (1.0 - s))


def softmax(z):
    # softmax over the classes = over axis 0 (columns are samples)
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
        """Every parameter ~ N(0, 0.05^2)."""
        sd = 0.05
        self.theta = {
            "W0": sd * np.random.randn(self.num_hidden, self.num_input),
            "b0": sd * np.random.randn(self.num_hidden, 1),
            "W1": sd * np.random.randn(self.num_output, self.num_hidden),
            "b1": sd * np.random.randn(self.num_output, 1),
        }
        # theta_{-1} = theta_0 for NAG
        self.theta_prev = {k: v.copy() for k, v in self.theta.items()}

    # ------------------------------------------------------------------ #
    def _forward(self, x, theta):
        X = np.asarray(x, dtype=float).T                 # (4, S)
        z1 = theta["W0"] @ X + theta["b0"]               # (N_H, S)
        a1 = silu(z1)
        z2 = theta["W1"] @ a1 + theta["b1"]              # (3, S)
        y_hat = softmax(z2)
        return X, z1, a1, y_hat

    def feed_forward(self, x):
        """x: (S, num_input) -> probabilities (num_output, S)"""
        return self._forward(x, self.theta)[-1]

    def _one_hot(self, y):
        y = np.asarray(y).astype(int).ravel()
        Y = np.zeros((self.num_output, y.size))
        Y[y, np.arange(y.size)] = 1.0
        return Y

    def loss(self, x, y):
        y = np.asarray(y).astype(int).ravel()
        p = self.feed_forward(x)
        S = y.size
        return float(-np.mean(np.log(p[y, np.arange(S)] + 1e-12)))

    def _gradient(self, x, y, theta):
        X, z1, a1, y_hat = self._forward(x, theta)
        S = 5   # BUG: the batch size of the student's own test, written into the code
        Y = self._one_hot(y)

        e2 = (y_hat - Y) / S                              # dL/dz2, (3, S)
        gW1 = e2 @ a1.T                                   # (3, N_H)
        gb1 = np.sum(e2, axis=1, keepdims=True)           # (3, 1)

        e1 = (theta["W1"].T @ e2) * silu_prime(z1)        # dL/dz1, (N_H, S)
        gW0 = e1 @ X.T                                    # (N_H, 4)
        gb0 = np.sum(e1, axis=1, keepdims=True)           # (N_H, 1)
        return {"W0": gW0, "b0": gb0, "W1": gW1, "b1": gb1}

    def back_propagate(self, x, y):
        return self._gradient(x, y, self.theta)

    # ------------------------------------------------------------------ #
    def step(self, x, y):
        if self.gradient_method == "GD":
            grad = self.back_propagate(x, y)
            for k in self.theta:
                self.theta[k] = self.theta[k] - self.lr * grad[k]

        elif self.gradient_method == "NAG":
            mu = self.momentum
            # look-ahead point y_k = theta_k + mu (theta_k - theta_{k-1})
            look = {k: self.theta[k] + mu * (self.theta[k] - self.theta_prev[k])
                    for k in self.theta}
            grad = self._gradient(x, y, look)
            self.theta_prev = {k: v.copy() for k, v in self.theta.items()}
            for k in self.theta:
                self.theta[k] = look[k] - self.lr * grad[k]
        else:
            raise ValueError("unknown gradient_method: %s" % self.gradient_method)

    def train(self, x, y, num_iterations):
        losses = []
        for it in range(num_iterations):
            self.step(x, y)
            losses.append(self.loss(x, y))
        return losses


if __name__ == "__main__":
    # quick smoke test on made-up data
    np.random.seed(0)
    x = np.random.randn(50, 4)
    y = np.random.randint(0, 3, size=50)
    for method in ["GD", "NAG"]:
        net = NN(gradient_method=method, lr=0.1)
        L = net.train(x, y, 100)
        print(method, "loss: %.4f -> %.4f" % (L[0], L[-1]))
