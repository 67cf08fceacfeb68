"""TwoLayerNet: affine -> ReLU -> affine -> softmax cross-entropy.

Layers are written as small forward/backward helpers (the way the course's
layers.py does it); the update rules live in optim.py beside this file.
"""
import numpy as np

# The optimizers live in optim.py beside this file; the course's solver imports
# both modules, so this one never imports optim itself.


def affine_forward(x, w, b):
    return x @ w + b, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def relu_forward(x):
    return np.maximum(x, 0.0), x


def relu_backward(dout, cache):
    return dout * (cache > 0)


def softmax_loss(scores, y):
    n = scores.shape[0]
    z = scores - scores.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(n), y].mean()
    dscores = np.exp(log_p)
    dscores[np.arange(n), y] -= 1.0
    return loss, dscores / n


class TwoLayerNet:
    def __init__(self, input_dim, hidden_dim, num_classes, weight_scale=1e-3, reg=0.0):
        self.reg = reg
        self.params = {
            "W1": np.random.normal(0.0, weight_scale, (input_dim, hidden_dim)),
            "b1": np.zeros(hidden_dim),
            "W2": np.random.normal(0.0, weight_scale, (hidden_dim, num_classes)),
            "b2": np.zeros(num_classes),
        }

    def loss(self, X, y=None):
        hidden, cache1 = affine_forward(X, self.params["W1"], self.params["b1"])
        act, cache_relu = relu_forward(hidden)
        scores, cache2 = affine_forward(act, self.params["W2"], self.params["b2"])
        if y is None:
            return scores

        data_loss, dscores = softmax_loss(scores, y)
        reg_loss = 0.5 * self.reg * sum(np.sum(self.params[k] ** 2) for k in ("W1", "W2"))

        grads = {}
        dact, grads["W2"], grads["b2"] = affine_backward(dscores, cache2)
        dhidden = relu_backward(dact, cache_relu)
        _, grads["W1"], grads["b1"] = affine_backward(dhidden, cache1)
        grads["W1"] += self.reg * self.params["W1"]
        grads["W2"] += self.reg * self.params["W2"]
        return data_loss + reg_loss, grads
