import numpy as np

# Penguins classification with a 1-hidden-layer MLP.
# Activation: SiLU, output: softmax, loss: cross-entropy.


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
        gen = np.random.default_rng(2024)
        self.theta = {
            "W0": gen.standard_normal((self.num_hidden, self.num_input)) * 0.05,
            "b0": gen.standard_normal((self.num_hidden, 1)) * 0.05,
            "W1": gen.standard_normal((self.num_output, self.num_hidden)) * 0.05,
            "b1": gen.standard_normal((self.num_output, 1)) * 0.05,
        }

    def _sigmoid(self, z):
        return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))

    def feed_forward(self, x):
        self.z1 = self.theta["W0"] @ x.T + self.theta["b0"]
        self.s1 = self._sigmoid(self.z1)
        self.a1 = self.z1 * self.s1
        z2 = self.theta["W1"] @ self.a1 + self.theta["b1"]
        z2 = z2 - np.max(z2, axis=0, keepdims=True)
        ez = np.exp(z2)
        self.probs = ez / np.sum(ez, axis=0, keepdims=True)
        return self.probs

    def loss(self, x, y):
        p = self.feed_forward(x)
        S = x.shape[0]
        return float(np.mean(-np.log(p[y, np.arange(S)])))

    def back_propagate(self, x, y):
        S = x.shape[0]
        p = self.feed_forward(x)
        err = p.copy()
        err[y, np.arange(S)] -= 1
        err /= S
        grads = {
            "W1": err @ self.a1.T,
            "b1": np.sum(err, axis=1, keepdims=True),
        }
        err_h = (self.theta["W1"].T @ err) * (self.s1 * (1 + self.z1 * (1 - self.s1)))
        grads["W0"] = err_h @ x
        grads["b0"] = np.sum(err_h, axis=1, keepdims=True)
        return grads

    def step(self, x, y):
        grads = self.back_propagate(x, y)
        for name in self.theta:
            self.theta[name] -= self.lr * grads[name]

    def train(self, x, y, num_iterations):
        losses = []
        for i in range(num_iterations):
            self.step(x, y)
            losses.append(self.loss(x, y))
            if i % 100 == 0:
                print("iter %d  loss %.4f" % (i, losses[-1]))
        return losses


if __name__ == "__main__":
    X = np.random.randn(40, 4)
    Y = np.random.randint(0, 3, 40)
    for m in ["GD", "NAG"]:
        print(m, NN(gradient_method=m, lr=0.1).train(X, Y, 200)[-1])
