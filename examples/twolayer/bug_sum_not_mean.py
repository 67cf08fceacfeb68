# Sample (template B): the data loss summed over the N samples, not averaged (and
# its gradient, consistently): data loss and data gradients are N times too large.
"""Two-layer fully-connected net: affine - ReLU - affine - softmax,
with the update rules used by the training loop (sgd, sgd_momentum, nesterov)."""
import numpy as np


class TwoLayerNet(object):
    """input_dim -> hidden_dim (ReLU) -> num_classes; params in self.params."""

    def __init__(self, input_dim, hidden_dim, num_classes, weight_scale=1e-3, reg=0.0):
        self.reg = reg
        self.params = {}
        self.params['W1'] = weight_scale * np.random.randn(input_dim, hidden_dim)
        self.params['b1'] = np.zeros(hidden_dim)
        self.params['W2'] = weight_scale * np.random.randn(hidden_dim, num_classes)
        self.params['b2'] = np.zeros(num_classes)

    def loss(self, X, y=None):
        W1, b1 = self.params['W1'], self.params['b1']
        W2, b2 = self.params['W2'], self.params['b2']
        N = X.shape[0]

        # forward pass
        h_pre = X.dot(W1) + b1                 # (N, H)
        h = np.maximum(0, h_pre)
        scores = h.dot(W2) + b2                # (N, C)
        if y is None:
            return scores

        shifted = scores - np.max(scores, axis=1, keepdims=True)
        log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        loss = -np.sum(log_probs[np.arange(N), y])
        loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))

        # backward pass
        grads = {}
        dscores = np.exp(log_probs)
        dscores[np.arange(N), y] -= 1
        grads['W2'] = h.T.dot(dscores) + self.reg * W2
        grads['b2'] = np.sum(dscores, axis=0)
        dh = dscores.dot(W2.T)
        dh[h_pre <= 0] = 0
        grads['W1'] = X.T.dot(dh) + self.reg * W1
        grads['b1'] = np.sum(dh, axis=0)
        return loss, grads


def sgd(w, dw, config=None):
    """Vanilla stochastic gradient descent."""
    if config is None:
        config = {}
    config.setdefault('learning_rate', 1e-2)
    w -= config['learning_rate'] * dw
    return w, config


def sgd_momentum(w, dw, config=None):
    """Heavy-ball momentum: v = mu v - lr dw; w = w + v."""
    if config is None:
        config = {}
    config.setdefault('learning_rate', 1e-2)
    config.setdefault('momentum', 0.9)
    v = config.get('velocity', np.zeros_like(w))
    v = config['momentum'] * v - config['learning_rate'] * dw
    next_w = w + v
    config['velocity'] = v
    return next_w, config


def nesterov(w, dw, config=None):
    """Nesterov momentum in the stored look-ahead form (w is the look-ahead point)."""
    if config is None:
        config = {}
    config.setdefault('learning_rate', 1e-2)
    config.setdefault('momentum', 0.9)
    mu, lr = config['momentum'], config['learning_rate']
    v = config.get('velocity', np.zeros_like(w))
    v_prev = v
    v = mu * v - lr * dw
    next_w = w - mu * v_prev + (1 + mu) * v
    config['velocity'] = v
    return next_w, config
