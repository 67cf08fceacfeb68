import numpy as np

# NAG in the "velocity" form (Sutskever, Martens, Dahl & Hinton 2013):
#     v_{k+1}     = mu * v_k - lr * grad L(theta_k + mu * v_k)
#     theta_{k+1} = theta_k + v_{k+1}
# with v_0 = 0. This is the same method as the one in the handout
# (v_k = theta_k - theta_{k-1}).


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
        shapes = {
            "W0": (self.num_hidden, self.num_input),
            "b0": (self.num_hidden, 1),
            "W1": (self.num_output, self.num_hidden),
            "b1": (self.num_output, 1),
        }
        self.theta = {name: np.random.normal(loc=0.0, scale=0.05, size=shp)
                      for name, shp in shapes.items()}
        self.velocity = {name: np.zeros(shp) for name, shp in shapes.items()}

    # --- helpers ---------------------------------------------------------
    @staticmethod
    def _sig(z):
        return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))

    def _act(self, z):
        return z * self._sig(z)

    def _act_deriv(self, z):
        s = self._sig(z)
        return s * (1 + z - z * s)

    @staticmethod
    def _softmax(z):
        ez = np.exp(z - z.max(axis=0))
        return ez / ez.sum(axis=0)

    def _forward(self, params, x):
        z1 = params["W0"] @ x.T + params["b0"]
        a1 = self._act(z1)
        z2 = params["W1"] @ a1 + params["b1"]
        return z1, a1, self._softmax(z2)

    def _grad(self, params, x, y):
        S = x.shape[0]
        z1, a1, yt = self._forward(params, x)
        onehot = np.eye(self.num_output)[y.astype(int)].T   # (3, S)
        dz2 = yt - onehot
        dz1 = (params["W1"].T @ dz2) * self._act_deriv(z1)
        return {
            "W0": dz1 @ x / S,
            "b0": dz1.mean(axis=1, keepdims=True),
            "W1": dz2 @ a1.T / S,
            "b1": dz2.mean(axis=1, keepdims=True),
        }

    # --- API -------------------------------------------------------------
    def feed_forward(self, x):
        return self._forward(self.theta, x)[2]

    def loss(self, x, y):
        probs = self.feed_forward(x)
        idx = y.astype(int)
        return -np.mean(np.log(probs[idx, np.arange(len(idx))]))

    def back_propagate(self, x, y):
        return self._grad(self.theta, x, y)

    def step(self, x, y):
        method = self.gradient_method.upper()
        if method == "GD":
            g = self.back_propagate(x, y)
            for k in self.theta:
                self.theta[k] = self.theta[k] - self.lr * g[k]
        elif method == "NAG":
            mu = self.momentum
            ahead = {k: self.theta[k] + mu * self.velocity[k] for k in self.theta}
            g = self._grad(ahead, x, y)
            for k in self.theta:
                self.velocity[k] = mu * self.velocity[k] - self.lr * g[k]
                self.theta[k] = self.theta[k] + self.velocity[k]
        else:
            raise NotImplementedError(method)

    def train(self, x, y, num_iterations):
        losses = []
        for _ in range(num_iterations):
            self.step(x, y)
            losses.append(self.loss(x, y))
        return losses
