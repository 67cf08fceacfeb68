"""Glue for the two-layer-net style template (TEMPLATES.md's template B).

TwoLayerNet keeps self.params (W1 (D, H), b1 (H,), W2 (H, C), b2 (C,));
loss(X) returns class scores (N, C), loss(X, y) returns (loss, grads).
The optimizers are module-level functions update(w, dw, config) ->
(next_w, config); the course's loop evaluates dw at the parameters it
holds and keeps one config per parameter, so this glue does the same.
weight_scale and reg come from the rubric's glue_options (the
constructor's defaults are not the assignment's).  The optimizers may live
in the student's file or in an optim.py beside it (a folder submission).
"""
import importlib


def construct(student, config):
    options = config["options"]
    model = student.TwoLayerNet(config["num_input"], config["num_hidden"], config["num_output"],
                                weight_scale=options["weight_scale"], reg=options["reg"])
    update = _optimizer(student, "nesterov" if config["gradient_method"] == "nag" else "sgd")
    return {"model": model, "update": update, "lr": config["lr"], "momentum": config["momentum"], "configs": {}}


def _optimizer(student, name):
    found = getattr(student, name, None)
    return found if callable(found) else getattr(importlib.import_module("optim"), name)


def get_parameters(net):
    return net["model"].params


def set_parameters(net, params):
    net["model"].params.update({key: value.copy() for key, value in params.items()})
    reset_optimizer(net)


def reset_optimizer(net):
    net["configs"] = {}   # a fresh run: no velocity yet, as on the course's first call


def probabilities(net, x):
    return net["model"].loss(x)   # class scores (interface.outputs: scores)


def loss(net, x, y):
    return net["model"].loss(x, y)[0]


def gradient(net, x, y):
    return net["model"].loss(x, y)[1]


def step(net, x, y):
    value, grads = net["model"].loss(x, y)
    params = net["model"].params
    for key in params:
        config = net["configs"].setdefault(key, {"learning_rate": net["lr"], "momentum": net["momentum"]})
        params[key], net["configs"][key] = net["update"](params[key], grads[key], config)
    return value


def train(net, x, y, n):
    return [step(net, x, y) for _ in range(n)]
