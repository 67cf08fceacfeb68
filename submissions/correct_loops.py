# Homework 3 -- neural network for the penguins data
# I did the forward and backward pass one sample at a time because that is
# how we derived the formulas in class (x is a single column vector there).
# It's slower but easier for me to check against my notes.
#
# Note: my feed_forward returns an (S, 3) array (one row per penguin),
# and my biases are plain 1-d vectors.

import numpy as np


class NN:

    def __init__(self, num_input=4, num_hidden=16, num_output=3,
                 gradient_method="GD", lr=0.01, momentum=0.9):
        self.n_in = num_input
        self.n_h = num_hidden
        self.n_out = num_output
        self.gradient_method = gradient_method
        self.lr = lr
        self.momentum = momentum
        self.theta = {}
        self.old_theta = None   # for NAG, filled in at the first step
        self.init_params()

    def init_params(self):
        self.theta['W0'] = np.random.normal(0.0, 0.05, (self.n_h, self.n_in))
        self.theta['b0'] = np.random.normal(0.0, 0.05, self.n_h)
        self.theta['W1'] = np.random.normal(0.0, 0.05, (self.n_out, self.n_h))
        self.theta['b1'] = np.random.normal(0.0, 0.05, self.n_out)
        self.old_theta = None

    # activation + derivative
    def sigmoid(self, z):
        return 1.0 / (1.0 + np.exp(-z))

    def h(self, z):
        return z * self.sigmoid(z)

    def dh(self, z):
        sig = self.sigmoid(z)
        return sig + z * sig * (1 - sig)

    def softmax(self, z):
        z = z - z.max()
        ez = np.exp(z)
        return ez / ez.sum()

    def forward_one(self, xs, theta):
        """forward pass for a single sample xs of shape (4,)"""
        z1 = theta['W0'].dot(xs) + theta['b0']
        a1 = self.h(z1)
        z2 = theta['W1'].dot(a1) + theta['b1']
        yhat = self.softmax(z2)
        return z1, a1, z2, yhat

    def feed_forward(self, x):
        S = x.shape[0]
        out = np.zeros((S, self.n_out))
        for s in range(S):
            out[s] = self.forward_one(x[s], self.theta)[3]
        return out

    def loss(self, x, y):
        P = self.feed_forward(x)
        total = 0.0
        for s in range(len(y)):
            total += -np.log(P[s, int(y[s])])
        return total / len(y)

    def grads_at(self, theta, x, y):
        S = x.shape[0]
        gW0 = np.zeros_like(theta['W0'])
        gb0 = np.zeros_like(theta['b0'])
        gW1 = np.zeros_like(theta['W1'])
        gb1 = np.zeros_like(theta['b1'])
        for s in range(S):
            xs = x[s]
            z1, a1, z2, yhat = self.forward_one(xs, theta)
            t = np.zeros(self.n_out)
            t[int(y[s])] = 1.0
            delta2 = yhat - t                      # dl/dz2
            gW1 += np.outer(delta2, a1)
            gb1 += delta2
            delta1 = theta['W1'].T.dot(delta2) * self.dh(z1)   # dl/dz1
            gW0 += np.outer(delta1, xs)
            gb0 += delta1
        # loss is the mean, so divide by S
        return {'W0': gW0 / S, 'b0': gb0 / S, 'W1': gW1 / S, 'b1': gb1 / S}

    def back_propagate(self, x, y):
        return self.grads_at(self.theta, x, y)

    def step(self, x, y):
        if self.gradient_method == 'GD':
            g = self.back_propagate(x, y)
            for name in self.theta:
                self.theta[name] = self.theta[name] - self.lr * g[name]
        elif self.gradient_method == 'NAG':
            if self.old_theta is None:
                # theta_{-1} = theta_0
                self.old_theta = {k: np.copy(v) for k, v in self.theta.items()}
            yk = {}
            for name in self.theta:
                yk[name] = self.theta[name] + self.momentum * (self.theta[name] - self.old_theta[name])
            g = self.grads_at(yk, x, y)
            for name in self.theta:
                self.old_theta[name] = np.copy(self.theta[name])
                self.theta[name] = yk[name] - self.lr * g[name]
        else:
            print("gradient method not supported:", self.gradient_method)

    def train(self, x, y, num_iterations):
        loss_history = []
        for i in range(num_iterations):
            loss_history.append(self.loss(x, y))
            self.step(x, y)
            if i % 100 == 0:
                print("iteration", i, "loss", loss_history[-1])
        return loss_history


if __name__ == '__main__':
    x = np.random.randn(20, 4)
    y = np.random.randint(3, size=20)
    nn = NN(num_hidden=8, gradient_method='NAG', lr=0.05)
    print(nn.feed_forward(x[:3]))
    hist = nn.train(x, y, 200)
    print("final loss", hist[-1])
