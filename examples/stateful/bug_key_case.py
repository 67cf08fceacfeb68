# Sample (template A): the GD update writes theta["w0"] (lower case) instead of
# theta["W0"], so under GD the first weight matrix never changes.
"""
Penguins MLP (softplus year) -- 4 x N_H x 3 network, softplus hidden layer,
softmax output, mean cross-entropy; trained with GD or NAG (FISTA schedule).

Shapes (one sample per column inside the class):
    var['x']           (4, S)
    var['z1'], ['a1']  (N_H, S)
    var['z2'], ['y_prob'] (3, S)
"""
import numpy as np

MU, SIGMA = 0.0, 0.05


def softplus(z):
    # ln(1 + e^z), written so that e^z never overflows
    return np.logaddexp(0.0, z)


def sigmoid(z):
    # derivative of softplus
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def softmax(z):
    z = z - z.max(axis=0, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=0, keepdims=True)


class NN:
    def __init__(self, num_input, num_hidden, num_output, gradient_method="GD", lr=0.01):
        self.num_input = num_input
        self.num_hidden = num_hidden
        self.num_output = num_output
        self.gradient_method = gradient_method
        self.lr = lr
        self.theta = {}
        self.var = {}
        self.gradient = {}
        self.init_params()

    def init_params(self):
        shapes = {"W0": (self.num_hidden, self.num_input), "b0": (self.num_hidden, 1),
                  "W1": (self.num_output, self.num_hidden), "b1": (self.num_output, 1)}
        self.theta = {k: np.random.normal(MU, SIGMA, size=s) for k, s in shapes.items()}
        self._reset_optimizer()

    def _reset_optimizer(self):
        # FISTA state: t_0 = 1, theta_{-1} = theta_0
        self.t = 1.0
        self.theta_prev = {k: v.copy() for k, v in self.theta.items()}

    def set_theta(self, w0, b0, w1, b1):
        self.theta = {"W0": np.array(w0, dtype=float), "b0": np.array(b0, dtype=float),
                      "W1": np.array(w1, dtype=float), "b1": np.array(b1, dtype=float)}
        self._reset_optimizer()

    def feed_forward(self, x, training=True):
        X = np.asarray(x, dtype=float).T
        z1 = self.theta["W0"] @ X + self.theta["b0"]
        a1 = softplus(z1)
        z2 = self.theta["W1"] @ a1 + self.theta["b1"]
        y_prob = softmax(z2)
        if training:
            self.var = {"x": X, "z1": z1, "a1": a1, "z2": z2, "y_prob": y_prob}
        return np.argmax(y_prob, axis=0)

    def compute_loss(self, y):
        y = np.asarray(y, dtype=int)
        p = self.var["y_prob"]
        return float(-np.mean(np.log(p[y, np.arange(y.size)])))

    def back_propagate(self, y):
        y = np.asarray(y, dtype=int)
        p = self.var["y_prob"]
        S = p.shape[1]
        onehot = np.zeros_like(p)
        onehot[y, np.arange(S)] = 1.0
        e2 = (p - onehot) / S
        e1 = (self.theta["W1"].T @ e2) * sigmoid(self.var["z1"])
        self.gradient = {
            "W1": e2 @ self.var["a1"].T,
            "b1": e2.sum(axis=1, keepdims=True),
            "W0": e1 @ self.var["x"].T,
            "b0": e1.sum(axis=1, keepdims=True),
        }

    def train(self, x, y, num_iterations):
        losses = []
        for _ in range(num_iterations):
            if self.gradient_method == "GD":
                self.feed_forward(x)
                losses.append(self.compute_loss(y))
                self.back_propagate(y)
                self.theta["w0"] = self.theta["W0"] - self.lr * self.gradient["W0"]
                self.theta["b0"] = self.theta["b0"] - self.lr * self.gradient["b0"]
                self.theta["W1"] = self.theta["W1"] - self.lr * self.gradient["W1"]
                self.theta["b1"] = self.theta["b1"] - self.lr * self.gradient["b1"]
            elif self.gradient_method == "NAG":
                t_next = (1.0 + np.sqrt(1.0 + 4.0 * self.t ** 2)) / 2.0
                beta = (self.t - 1.0) / t_next
                current = self.theta
                # look-ahead point q = theta_k + beta_k (theta_k - theta_{k-1})
                self.theta = {k: current[k] + beta * (current[k] - self.theta_prev[k]) for k in current}
                self.feed_forward(x)
                losses.append(self.compute_loss(y))
                self.back_propagate(y)          # gradient at the look-ahead point
                self.theta_prev = current
                self.theta = {k: self.theta[k] - self.lr * self.gradient[k] for k in self.theta}
                self.t = t_next
            else:
                raise ValueError("gradient_method must be 'GD' or 'NAG'")
        return losses


if __name__ == "__main__":
    np.random.seed(1)
    x = np.random.randn(30, 4)
    y = np.random.randint(0, 3, 30)
    net = NN(4, 8, 3, "NAG", lr=0.1)
    print(net.train(x, y, 5))
