# Sample (template A): NAG builds the look-ahead q but takes the gradient at the
# current point p = theta_k (heavy-ball momentum with the FISTA schedule).
# Homework 2 -- neural network for the penguins data (softplus hidden layer).
# I loop over the samples because it is easier for me to follow the chain rule
# one sample at a time (the lecture's dL/dp -> softmax Jacobian -> dL/dz2 ...).
import math
import numpy as np

MU, SIGMA = 0.0, 0.05


class NN:
    def __init__(self, num_input, num_hidden, num_output, gradient_method="GD", lr=0.01):
        self.n_in = num_input
        self.n_h = num_hidden
        self.n_out = num_output
        self.gradient_method = gradient_method
        self.lr = lr
        self.var = {}
        self.gradient = {}
        self.init_params()
        # for Nesterov
        self.t_k = 1.0
        self.old_theta = None

    def init_params(self):
        self.theta = {}
        self.theta['W0'] = np.random.normal(MU, SIGMA, (self.n_h, self.n_in))
        self.theta['b0'] = np.random.normal(MU, SIGMA, (self.n_h, 1))
        self.theta['W1'] = np.random.normal(MU, SIGMA, (self.n_out, self.n_h))
        self.theta['b1'] = np.random.normal(MU, SIGMA, (self.n_out, 1))

    def set_theta(self, w0, b0, w1, b1):
        self.theta['W0'] = w0.copy()
        self.theta['b0'] = b0.copy()
        self.theta['W1'] = w1.copy()
        self.theta['b1'] = b1.copy()

    def softplus(self, z):
        out = np.zeros(z.shape)
        for i in range(z.shape[0]):
            for j in range(z.shape[1]):
                v = z[i, j]
                if v > 0:
                    out[i, j] = v + math.log1p(math.exp(-v))
                else:
                    out[i, j] = math.log1p(math.exp(v))
        return out

    def softplus_derivative(self, z):
        # d/dz ln(1 + e^z) = 1 / (1 + e^-z)
        out = np.zeros(z.shape)
        for i in range(z.shape[0]):
            for j in range(z.shape[1]):
                v = z[i, j]
                if v >= 0:
                    out[i, j] = 1.0 / (1.0 + math.exp(-v))
                else:
                    out[i, j] = math.exp(v) / (1.0 + math.exp(v))
        return out

    def softmax(self, z):
        out = np.zeros(z.shape)
        for s in range(z.shape[1]):
            col = z[:, s] - np.max(z[:, s])
            out[:, s] = np.exp(col) / np.sum(np.exp(col))
        return out

    def feed_forward(self, x, training=True):
        x = np.array(x, dtype=float).T           # (4, S)
        z1 = np.dot(self.theta['W0'], x) + self.theta['b0']
        a1 = self.softplus(z1)
        z2 = np.dot(self.theta['W1'], a1) + self.theta['b1']
        y_prob = self.softmax(z2)
        if training:
            self.var['x'] = x
            self.var['z1'] = z1
            self.var['a1'] = a1
            self.var['z2'] = z2
            self.var['y_prob'] = y_prob
        labels = []
        for s in range(y_prob.shape[1]):
            labels.append(int(np.argmax(y_prob[:, s])))
        return np.array(labels)

    def compute_loss(self, y):
        S = len(y)
        total = 0.0
        for s in range(S):
            total = total - math.log(self.var['y_prob'][int(y[s]), s])
        return total / S

    def back_propagate(self, y):
        S = len(y)
        grad = {'W0': np.zeros(self.theta['W0'].shape), 'b0': np.zeros(self.theta['b0'].shape),
                'W1': np.zeros(self.theta['W1'].shape), 'b1': np.zeros(self.theta['b1'].shape)}
        for s in range(S):
            p = self.var['y_prob'][:, s:s + 1]        # (3, 1)
            a1 = self.var['a1'][:, s:s + 1]           # (N_H, 1)
            x = self.var['x'][:, s:s + 1]             # (4, 1)
            z1 = self.var['z1'][:, s:s + 1]
            # dL/dp for L = -(1/S) log p_y
            dL_dp = np.zeros((self.n_out, 1))
            dL_dp[int(y[s]), 0] = -1.0 / (S * p[int(y[s]), 0])
            # softmax Jacobian dp_i/dz_j = p_i (delta_ij - p_j) = diag(p) - p p^T
            J = np.diagflat(p) - np.dot(p, p.T)
            dL_dz2 = np.dot(J.T, dL_dp)               # (3, 1)
            grad['W1'] += np.dot(dL_dz2, a1.T)
            grad['b1'] += dL_dz2
            dL_da1 = np.dot(self.theta['W1'].T, dL_dz2)
            dL_dz1 = dL_da1 * self.softplus_derivative(z1)
            grad['W0'] += np.dot(dL_dz1, x.T)
            grad['b0'] += dL_dz1
        self.gradient = grad

    def train(self, x, y, num_iterations):
        loss_history = []
        for it in range(num_iterations):
            if self.gradient_method == 'GD':
                self.feed_forward(x)
                loss_history.append(self.compute_loss(y))
                self.back_propagate(y)
                for key in ['W0', 'b0', 'W1', 'b1']:
                    self.theta[key] = self.theta[key] - self.lr * self.gradient[key]
            elif self.gradient_method == 'NAG':
                if self.old_theta is None:
                    self.old_theta = {k: v.copy() for k, v in self.theta.items()}
                t_next = (1 + math.sqrt(1 + 4 * self.t_k ** 2)) / 2
                beta = (self.t_k - 1) / t_next
                p = {k: v.copy() for k, v in self.theta.items()}           # theta_k
                q = {}
                for key in ['W0', 'b0', 'W1', 'b1']:
                    q[key] = p[key] + beta * (p[key] - self.old_theta[key])
                self.feed_forward(x)
                loss_history.append(self.compute_loss(y))
                self.back_propagate(y)
                for key in ['W0', 'b0', 'W1', 'b1']:
                    self.theta[key] = q[key] - self.lr * self.gradient[key]
                self.old_theta = p
                self.t_k = t_next
            else:
                print("unknown method", self.gradient_method)
                return loss_history
        return loss_history
