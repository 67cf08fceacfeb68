"""Small math helpers for my network (kept separate so I can unit test them)."""
import numpy as np


def sigmoid(z):
    # exp(-|z|) never overflows
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def silu(z):
    """SiLU / swish: z * sigmoid(z)"""
    return z * sigmoid(z)


def silu_grad(z):
    s = sigmoid(z)
    return s + z * s * (1.0 - s)


def softmax(z, axis=0):
    shifted = z - np.max(z, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


def one_hot(labels, n_classes):
    labels = np.asarray(labels, dtype=int).ravel()
    out = np.zeros((n_classes, labels.size))
    out[labels, np.arange(labels.size)] = 1
    return out
