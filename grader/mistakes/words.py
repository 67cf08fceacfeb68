"""The rubric's own words for the catalogue's texts.

A mistake's explanation says "h'(z1) for SiLU" in the penguins course and
"h'(z1) for tanh" in a tanh course; "W0, b0, W1, b1" or the spelling the
rubric's interface gives.  Everything here is derived from the rubric (one
place: the reference's architecture and the interface), so the texts cannot
drift from what is graded.
"""

from __future__ import annotations

from typing import Any

from ..schema import Rubric

#: how each activation is named and written in prose (h, h' in terms of z and sigma)
ACTIVATION_TEXT: dict[str, tuple[str, str, str]] = {
    "silu": ("SiLU", "h(z) = z sigma(z)", "h'(z) = sigma(z)(1 + z(1 - sigma(z)))"),
    "softplus": ("softplus", "h(z) = log(1 + exp(z))", "h'(z) = sigma(z)"),
    "relu": ("ReLU", "h(z) = max(0, z)", "h'(z) = 1 where z > 0, else 0"),
    "leaky_relu": ("leaky ReLU", "h(z) = max(alpha z, z)", "h'(z) = 1 where z > 0, else alpha"),
    "sigmoid": ("sigmoid", "h(z) = sigma(z) = 1 / (1 + exp(-z))", "h'(z) = sigma(z)(1 - sigma(z))"),
    "tanh": ("tanh", "h(z) = tanh(z)", "h'(z) = 1 - tanh(z)^2"),
}

LOSS_TEXT: dict[str, tuple[str, str]] = {
    "cross_entropy": ("mean cross-entropy", "softmax with cross-entropy"),
    "squared_error": ("mean squared error 1/2 ||y~ - onehot(y)||^2", "softmax with squared error"),
}


class Words(dict):
    """A mapping of template fields to text; `str.format_map` of a record's
    texts looks names up here.  A missing name is a KeyError, on purpose:
    the test that renders every record with every bundled rubric's words
    finds a template that names a word nobody defines."""


def words_for(rubric: Rubric | None) -> Words:
    """The words of `rubric` (the handout's defaults for None: the generic
    catalogue, e.g. for results written before the catalogue was rubric-aware)."""
    inputs, hidden, outputs = 4, [16], 3
    activation, loss = "silu", "cross_entropy"
    mean, std = 0.0, 0.05
    wkey, bkey, theta = "W{i}", "b{i}", "theta"
    biases, in_out, flat = "same", False, False
    if rubric is not None and rubric.assignment is not None:
        arch = rubric.assignment.architecture
        inputs, hidden, outputs = arch.inputs, list(arch.hidden), arch.outputs
        activation, loss = arch.activation, rubric.assignment.loss
        mean, std = rubric.assignment.init.mean, rubric.assignment.init.std
        biases = rubric.assignment.init.biases
    if rubric is not None:
        iface = rubric.interface
        wkey, bkey, theta = iface.weight_key, iface.bias_key, iface.parameters_attribute
        in_out, flat = "out_in" not in iface.weight_layouts, "column" not in iface.bias_layouts
    layers = len(hidden) + 1
    first = rubric.interface.first_index if rubric is not None else 0
    w = [wkey.format(i=i + first) for i in range(layers)]
    b = [bkey.format(i=i + first) for i in range(layers)]
    name, h, h_prime = ACTIVATION_TEXT[activation]
    loss_name, output_pair = LOSS_TEXT[loss]
    hidden_text = "N_H" if len(hidden) == 1 else "the hidden sizes"
    blocks = ", ".join(x for pair in zip(w, b) for x in pair)
    last = layers   # the handout's numbering: z1 = W0 x + b0, ..., z{L} at the output, e{L} its error
    first_hidden = hidden_text if len(hidden) == 1 else hidden[0]
    last_hidden = hidden_text if len(hidden) == 1 else hidden[-1]
    w_first_shape, w_last_shape = (first_hidden, inputs), (outputs, last_hidden)
    if in_out:   # the rubric declares weights (n_in, n_out): x @ W + b
        w_first_shape, w_last_shape = w_first_shape[::-1], w_last_shape[::-1]
    shape = lambda pair: f"({pair[0]}, {pair[1]})"  # noqa: E731
    drawn = ", ".join(w) if biases == "zero" else blocks
    values: dict[str, Any] = {
        "activation": name, "h": h, "h_prime": h_prime, "loss": loss_name, "output_pair": output_pair,
        "blocks": blocks, "w_first": w[0], "b_first": b[0], "w_last": w[-1], "b_last": b[-1],
        "w_hidden_out": w[1] if layers > 1 else w[0],
        "z_hidden": "z1", "a_hidden": "a1", "e_hidden": "e1", "e_out": f"e{last}", "a_before_out": f"a{last - 1}",
        "mean": f"{mean:g}", "std": f"{std:g}", "theta": theta, "inputs": inputs, "outputs": outputs,
        "hidden_size": hidden_text,
        "w_first_shape": shape(w_first_shape), "w_first_shape_t": shape(w_first_shape[::-1]),
        "w_last_shape": shape(w_last_shape),
        "b_first_shape": f"({first_hidden},)" if flat else f"({first_hidden}, 1)",
        "b_last_shape": f"({outputs},)" if flat else f"({outputs}, 1)",
        "z_rule": (f"z1 = x @ {w[0]} + {b[0]} for a batch x of rows (n_in, n_out weights)" if in_out else
                   f"z1 = {w[0]} x + {b[0]} for a column x, i.e. x @ {w[0]}.T for rows"),
        "init_rule": (f"weights drawn from N({mean:g}, {std:g}^2) and biases exactly zero" if biases == "zero"
                      else f"every entry drawn from N({mean:g}, {std:g}^2)"),
        "init_blocks": drawn + (f" (the biases {', '.join(b)} start exactly zero)" if biases == "zero" else ""),
        "b_blocks": ", ".join(b),
    }
    return Words(values)
