"""Update rules. Each takes the current weights w, their gradient dw and a
config dict, and returns (next_w, config)."""
import numpy as np


def sgd(w, dw, config=None):
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    next_w = w - config["learning_rate"] * dw
    return next_w, config


def sgd_momentum(w, dw, config=None):
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    if config.get("velocity") is None:
        config["velocity"] = np.zeros_like(w)
    config["velocity"] = config["momentum"] * config["velocity"] - config["learning_rate"] * dw
    w += config["velocity"]          # in place, like the course's reference loop allows
    return w, config


def nesterov(w, dw, config=None):
    """Stored look-ahead Nesterov: the held w is the point where dw was taken."""
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    mu = config["momentum"]
    lr = config["learning_rate"]
    v_prev = config.get("velocity")
    if v_prev is None:
        v_prev = np.zeros_like(w)
    v = mu * v_prev - lr * dw
    w += -mu * v_prev + (1 + mu) * v   # in place
    config["velocity"] = v
    return w, config
