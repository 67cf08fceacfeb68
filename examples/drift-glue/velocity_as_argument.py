"""Glue for examples/drift/velocity_as_argument.py (TEMPLATES.md, C).

The student keeps the network as a list of Dense layers (.W (n_out, n_in),
.b (n_out, 1)) instead of a theta dict, back_propagate returns a list of
(dW, db), and step(x, y, velocity) takes NAG's velocity and returns the
next one.  The glue keeps that velocity per net between steps, as the
student's own train() does; forgetting it is a fresh start.
"""
import weakref

import numpy as np

_velocity = weakref.WeakKeyDictionary()   # net -> the velocity its last step returned


def construct(student, config):
    method = "NAG" if config["gradient_method"] == "nag" else "GD"
    return student.NN(config["num_input"], config["num_hidden"], config["num_output"], method,
                      config["lr"], config["momentum"])


def get_parameters(net):
    blocks = {}
    for i, layer in enumerate(net.layers):
        blocks[f"W{i}"], blocks[f"b{i}"] = layer.W, layer.b
    return blocks


def set_parameters(net, params):
    for i, layer in enumerate(net.layers):
        layer.W = np.array(params[f"W{i}"], dtype=float)
        layer.b = np.array(params[f"b{i}"], dtype=float)


def reset_optimizer(net):
    _velocity.pop(net, None)


def probabilities(net, x):
    return net.feed_forward(x)


def loss(net, x, y):
    return net.loss(x, y)


def gradient(net, x, y):
    blocks = {}
    for i, (dW, db) in enumerate(net.back_propagate(x, y)):
        blocks[f"W{i}"], blocks[f"b{i}"] = dW, db
    return blocks


def step(net, x, y):
    _velocity[net] = net.step(x, y, _velocity.get(net))


def train(net, x, y, n):
    return net.train(x, y, n)
