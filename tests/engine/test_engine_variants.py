"""Correct code written differently must get full marks.

Hypothesis writes correct submissions that vary the choices students make
(bias layout, output orientation, dtype, container types, the NAG form, the
loss's return type) and every one is graded end to end.
"""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import assume, HealthCheck, given, settings
from hypothesis import strategies as st

from grader.engine import grade

pytestmark = pytest.mark.slow

TEMPLATE = '''
import numpy as np

DT = np.{dtype}

def _sig(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))

class NN:
    def __init__(self, num_input=4, num_hidden=16, num_output=3, gradient_method="GD", lr=0.01, momentum=0.9):
        self.sizes = (num_input, num_hidden, num_output)
        self.gradient_method, self.lr, self.momentum = gradient_method, lr, momentum
        self.init_params()

    def _b(self, n):
        return ({bias_shape})

    def init_params(self):
        i, h, o = self.sizes
        self.theta = {{"W0": (0.05 * np.random.randn(h, i)).astype(DT), "b0": (0.05 * np.random.randn(*self._b(h))).astype(DT),
                      "W1": (0.05 * np.random.randn(o, h)).astype(DT), "b1": (0.05 * np.random.randn(*self._b(o))).astype(DT)}}
        self.prev = None
        self.v = None
        self.buf = None

    def _fwd(self, x, th):
        X = np.asarray(x, dtype=float).T
        z1 = th["W0"] @ X + th["b0"].reshape(-1, 1)
        a1 = z1 * _sig(z1)
        z2 = th["W1"] @ a1 + th["b1"].reshape(-1, 1)
        z2 = z2 - z2.max(axis=0, keepdims=True)
        p = np.exp(z2) / np.exp(z2).sum(axis=0, keepdims=True)
        return X, z1, a1, p

    def feed_forward(self, x):
        p = self._fwd(x, self.theta)[-1]
        return {out_expr}

    def loss(self, x, y):
        y = np.asarray(y, dtype=int)
        p = self._fwd(x, self.theta)[-1]
        value = -np.mean(np.log(p[y, np.arange(len(y))]))
        return {loss_expr}

    def _grad(self, x, y, th):
        X, z1, a1, p = self._fwd(x, th)
        y = np.asarray(y, dtype=int)
        S = X.shape[1]
        Y = np.zeros_like(p); Y[y, np.arange(S)] = 1
        e2 = (p - Y) / S
        s = _sig(z1)
        e1 = (th["W1"].T @ e2) * (s * (1 + z1 * (1 - s)))
        g = {{"W0": e1 @ X.T, "b0": e1.sum(axis=1), "W1": e2 @ a1.T, "b1": e2.sum(axis=1)}}
        for k in ("b0", "b1"):
            g[k] = g[k].reshape(th[k].shape)
        return {{k: {grad_expr} for k, v in g.items()}}

    def back_propagate(self, x, y):
        return self._grad(x, y, self.theta)

    def step(self, x, y):
        th, lr, mu = self.theta, self.lr, self.momentum
        if self.gradient_method == "GD":
            g = self._grad(x, y, th)
            for k in th:
                th[k] = th[k] - lr * np.asarray(g[k])
            return
{nag_body}

    def train(self, x, y, num_iterations):
        out = []
        for _ in range(num_iterations):
            self.step(x, y)
            out.append({history_expr})
        return out
'''

NAG_BODIES = {
    "theta": """
        if self.prev is None:
            self.prev = {k: v.copy() for k, v in th.items()}
        look = {k: th[k] + mu * (th[k] - self.prev[k]) for k in th}
        g = self._grad(x, y, look)
        self.prev = {k: v.copy() for k, v in th.items()}
        for k in th:
            th[k] = look[k] - lr * np.asarray(g[k])
""",
    "velocity": """
        if self.v is None:
            self.v = {k: np.zeros_like(v) for k, v in th.items()}
        g = self._grad(x, y, {k: th[k] + mu * self.v[k] for k in th})
        for k in th:
            self.v[k] = mu * self.v[k] - lr * np.asarray(g[k])
            th[k] = th[k] + self.v[k]
""",
    "stored": """
        g = self._grad(x, y, th)
        if self.buf is None:
            self.buf = {k: np.asarray(g[k]).copy() for k in th}
        else:
            self.buf = {k: mu * self.buf[k] + np.asarray(g[k]) for k in th}
        for k in th:
            th[k] = th[k] - lr * (np.asarray(g[k]) + mu * self.buf[k])
""",
}

variants = st.fixed_dictionaries({
    "dtype": st.sampled_from(["float64", "float32"]),
    "bias_shape": st.sampled_from(["(n, 1)", "(n,)"]),
    "out_expr": st.sampled_from(["p", "p.T", "p.T.tolist()"]),
    "loss_expr": st.sampled_from(["float(value)", "value", "np.array([value])", "np.array(value)"]),
    "grad_expr": st.sampled_from(["v", "v.tolist()"]),
    "nag": st.sampled_from(sorted(NAG_BODIES)),
    "history_expr": st.sampled_from(["float(self.loss(x, y))", "self.loss(x, y)"]),
})


def render(opts: dict) -> str:
    body = textwrap.indent(textwrap.dedent(NAG_BODIES[opts["nag"]]).strip("\n"), " " * 8)
    return TEMPLATE.format(nag_body=body, **{k: v for k, v in opts.items() if k != "nag"})


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(opts=variants)
def test_every_correct_variant_gets_full_marks(tmp_path_factory, silu_rubric, opts):
    # float() of a shape-(1,) array raises TypeError on NumPy >= 2.3: that train() really
    # crashes (and train() is graded), so the pair is not a correct variant
    assume(not (opts["loss_expr"] == "np.array([value])" and opts["history_expr"].startswith("float(")))
    folder = tmp_path_factory.mktemp("variant")
    path = folder / "nn.py"
    path.write_text(render(opts))
    result = grade(path, silu_rubric).result
    lost = {c["id"]: c["feedback"] for c in result["criteria"] if c["status"] != "passed"}
    assert result["score"] == 100.0, (opts, lost)


def test_template_itself_is_valid_python():
    for nag in NAG_BODIES:
        compile(render({"dtype": "float64", "bias_shape": "(n, 1)", "out_expr": "p", "loss_expr": "value",
                        "grad_expr": "v", "nag": nag, "history_expr": "self.loss(x, y)"}), "nn.py", "exec")
