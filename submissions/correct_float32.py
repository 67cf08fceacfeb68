import numpy as np
import time

# I keep the weights in float32 (like pytorch does) -- half the memory
# and it is accurate enough for this.
DTYPE = np.float32

PARAM_NAMES = ["W0", "b0", "W1", "b1"]


class NN:
    def __init__(self, num_input=4, num_hidden=16, num_output=3, gradient_method="GD", lr=0.01, momentum=0.9):
        self.layer_sizes = [num_input, num_hidden, num_output]
        self.gradient_method = gradient_method
        self.lr = lr
        self.momentum = momentum
        self.init_params()

    def init_params(self):
        n_in, n_h, n_out = self.layer_sizes
        shapes = [(n_h, n_in), (n_h, 1), (n_out, n_h), (n_out, 1)]
        self.theta = {}
        for name, shape in zip(PARAM_NAMES, shapes):
            self.theta[name] = (0.05 * np.random.standard_normal(shape)).astype(DTYPE)
        # previous parameters for Nesterov (theta_{-1} = theta_0)
        self.last = [self.theta[name].copy() for name in PARAM_NAMES]

    def feed_forward(self, x):
        W0, b0, W1, b1 = [self.theta[name] for name in PARAM_NAMES]
        z1 = W0 @ x.T + b0
        a1 = z1 / (1.0 + np.exp(-np.clip(z1, -60, 60)))
        z2 = W1 @ a1 + b1
        z2 = z2 - np.max(z2, axis=0)
        p = np.exp(z2)
        p /= np.sum(p, axis=0)
        return p

    def loss(self, x, y):
        p = self.feed_forward(x)
        picked = [p[int(label), i] for i, label in enumerate(y)]
        return float(-np.mean(np.log(picked)))

    def back_propagate(self, x, y):
        W0, b0, W1, b1 = [self.theta[name] for name in PARAM_NAMES]
        S = len(y)
        z1 = W0 @ x.T + b0
        sg = 1.0 / (1.0 + np.exp(-np.clip(z1, -60, 60)))
        a1 = z1 * sg
        z2 = W1 @ a1 + b1
        z2 = z2 - np.max(z2, axis=0)
        p = np.exp(z2) / np.sum(np.exp(z2), axis=0)

        delta = p.copy()
        for i, label in enumerate(y):
            delta[int(label), i] -= 1
        delta = delta / S

        grads = {}
        grads["W1"] = delta @ a1.T
        grads["b1"] = delta.sum(axis=1).reshape(-1, 1)
        delta_h = (W1.T @ delta) * (sg + a1 * (1 - sg))
        grads["W0"] = delta_h @ x
        grads["b0"] = delta_h.sum(axis=1).reshape(-1, 1)
        return grads

    def step(self, x, y):
        if self.gradient_method == "GD":
            grads = self.back_propagate(x, y)
            for name in PARAM_NAMES:
                self.theta[name] -= self.lr * grads[name]
        elif self.gradient_method == "NAG":
            current = [self.theta[name].copy() for name in PARAM_NAMES]
            # move to the look-ahead point, take the gradient there
            for i, name in enumerate(PARAM_NAMES):
                self.theta[name] += self.momentum * (current[i] - self.last[i])
            grads = self.back_propagate(x, y)
            for name in PARAM_NAMES:
                self.theta[name] -= self.lr * grads[name]
            self.last = current

    def train(self, x, y, num_iterations):
        losses = []
        for it in range(num_iterations):
            self.step(x, y)
            losses.append(self.loss(x, y))
        return losses


# quick check that everything runs
_t = time.time()
_x = np.random.randn(30, 4)
_y = np.random.randint(0, 3, 30)
_net = NN(num_hidden=8, gradient_method="NAG", lr=0.1)
_l = _net.train(_x, _y, 50)
print("sanity check: loss %.3f -> %.3f (%.3fs)" % (_l[0], _l[-1], time.time() - _t))
