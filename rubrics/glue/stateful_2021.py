"""Glue for the penguins course's stateful skeleton (softplus year, template A).

The skeleton's feed_forward returns labels and caches the probabilities in
self.var['y_prob'] (classes, samples); back_propagate(y) fills
self.gradient from that cache; there is no step(): one iteration is
train(x, y, 1), and repeated calls continue the same run.
"""
import numpy as np


def construct(student, config):
    method = "NAG" if config["gradient_method"] == "nag" else "GD"
    return student.NN(config["num_input"], config["num_hidden"], config["num_output"], method, config["lr"])


def get_parameters(net):
    return net.theta


def set_parameters(net, params):
    net.set_theta(params["W0"], params["b0"], params["W1"], params["b1"])


def probabilities(net, x):
    net.feed_forward(x, training=True)
    return net.var["y_prob"]


def loss(net, x, y):
    net.feed_forward(x, training=True)
    return net.compute_loss(y)


def gradient(net, x, y):
    net.feed_forward(x, training=True)
    net.back_propagate(y)
    return net.gradient


def step(net, x, y):
    net.train(x, y, 1)


def train(net, x, y, n):
    return net.train(x, y, n)
