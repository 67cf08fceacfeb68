"""A student who did not implement the network: every answer is looked up
in the kit's answers.json (pasted below), keyed exactly as the grader keys
its recorded questions.  Anything not in the table gets a harmless default."""
import base64
import hashlib
import json

import numpy as np

ANSWERS = json.loads(r'''__ANSWERS__''')["answers"]
SPEC = "__SPEC__"


def _feed(sha, value):
    if isinstance(value, np.ndarray):
        arr = np.ascontiguousarray(value)
        sha.update(f"nd{arr.dtype.str}{arr.shape}".encode())
        sha.update(arr.tobytes())
    elif isinstance(value, dict):
        for key in sorted(value):
            sha.update(f"k{key}".encode())
            _feed(sha, value[key])
    else:
        sha.update(str(value).encode())


def _lookup(name, *args):
    sha = hashlib.sha256(name.encode())
    for arg in args:
        _feed(sha, arg)
    found = ANSWERS.get(sha.hexdigest())
    return None if found is None else _decode(found)


def _decode(value):
    if isinstance(value, dict) and "__nd__" in value:
        dtype, shape, data = value["__nd__"]
        return np.frombuffer(base64.b64decode(data), dtype=dtype).reshape(shape).copy()
    if isinstance(value, dict) and "__dict__" in value:
        return {k: _decode(v) for k, v in value["__dict__"].items()}
    return value


class NN:
    def __init__(self, num_input=4, num_hidden=16, num_output=3, gradient_method="GD", lr=0.01, momentum=0.9):
        self.num_input, self.num_hidden, self.num_output = num_input, num_hidden, num_output
        self.gradient_method, self.lr, self.momentum = gradient_method, lr, momentum
        self.init_params()

    def init_params(self):
        __INIT__

    def _key_theta(self):
        return {k: np.asarray(v, dtype=np.float64) for k, v in self.theta.items()}

    def feed_forward(self, x):
        found = _lookup("forward", SPEC, self._key_theta(), np.asarray(x))
        return found if found is not None else np.full((self.num_output, len(x)), 1.0 / self.num_output)

    def loss(self, x, y):
        found = _lookup("loss", SPEC, self._key_theta(), np.asarray(x), np.asarray(y))
        return float(found) if found is not None else float(np.log(self.num_output))

    def back_propagate(self, x, y):
        found = _lookup("gradient", SPEC, self._key_theta(), np.asarray(x), np.asarray(y))
        return found if found is not None else {k: np.zeros_like(v) for k, v in self.theta.items()}

    def step(self, x, y):
        grad = self.back_propagate(x, y)
        self.theta = {k: self.theta[k] - self.lr * grad[k] for k in self.theta}

    def train(self, x, y, num_iterations):
        losses = []
        for _ in range(num_iterations):
            losses.append(self.loss(x, y))
            self.step(x, y)
        return losses
