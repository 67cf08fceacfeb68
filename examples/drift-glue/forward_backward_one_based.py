"""Glue for examples/drift/forward_backward_one_based.py (TEMPLATES.md, C).

The student renamed the operations (forwardPass, backwardPass) and numbers
the layers from 1 (W1, b1, W2, b2) where the rubric numbers them from 0;
shapes, the (S, C) output and everything else are the default API's.  The
NAG state is lastTheta: forgetting it is a fresh start.
"""
import numpy as np


def _canonical(blocks):
    """W1, b1, W2, b2 -> W0, b0, W1, b1 (the student's own arrays)."""
    return {f"{key[0]}{int(key[1:]) - 1}": value for key, value in blocks.items()}


def construct(student, config):
    method = "NAG" if config["gradient_method"] == "nag" else "GD"
    return student.NN(config["num_input"], config["num_hidden"], config["num_output"], method,
                      config["lr"], config["momentum"])


def get_parameters(net):
    return _canonical(net.theta)


def set_parameters(net, params):
    for key, value in params.items():
        net.theta[f"{key[0]}{int(key[1:]) + 1}"] = np.array(value, dtype=float)


def reset_optimizer(net):
    net.lastTheta = None


def probabilities(net, x):
    return net.forwardPass(x)


def loss(net, x, y):
    return net.loss(x, y)


def gradient(net, x, y):
    return _canonical(net.backwardPass(x, y))


def step(net, x, y):
    net.step(x, y)


def train(net, x, y, n):
    return net.train(x, y, n)
