"""Named mistakes in written answers: one record per mistake.

Each record holds everything about one mistake in one place: its id, its
title, how the grader recognizes it, the feedback sentence a student gets
(a template filled with the numbers of the question), and the catalogue's
explanation and fix (`grader.diagnoses` builds its entries from these
records, so the report and the class summary show the same texts).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MistakeRecord", "RECORDS", "record", "feedback"]


@dataclass(frozen=True)
class MistakeRecord:
    id: str
    title: str
    recognized: str     # how the grader recognizes it (for maintainers and the docs)
    feedback: str       # one sentence, str.format()-ed with the candidate's fields
    explanation: str    # catalogue text: what it means
    fix: str            # catalogue text: how to fix it


_RECORDS: tuple[MistakeRecord, ...] = (
    # --- parameter counts ---------------------------------------------------------------
    MistakeRecord(
        "answer-missing-layer-biases", "A layer's biases left out of the count",
        "count = right count - n_out of one layer (for a formula: at every N_H tried)",
        "it is exactly the right count without the biases {block} of {layer} ({n} values)",
        "Your parameter count is short by exactly the number of biases of one layer: that layer's "
        "bias vector was not counted.",
        "Count every layer as n_in x n_out weights plus n_out biases, and add the layers up: "
        "sum over layers of (n_in + 1) n_out."),
    MistakeRecord(
        "answer-missing-all-biases", "Biases left out of the count",
        "count = right count - (sum of the layer sizes after the input)",
        "it is exactly the number of weights alone: the biases of every layer are missing",
        "Your parameter count holds the weights only; every bias is a learnable parameter too.",
        "Add n_out biases for each layer: the count is the sum over layers of n_in x n_out + n_out."),
    MistakeRecord(
        "answer-missing-layer-weights", "A layer's weights left out of the count",
        "count = right count - n_in x n_out of one layer",
        "it is exactly the right count without the weights {block} of {layer} ({n} values)",
        "Your parameter count is short by exactly one weight matrix.",
        "List every weight matrix (W0, W1, ... up to the output layer) with its n_in x n_out entries "
        "before adding up."),
    MistakeRecord(
        "answer-layer-twice", "A layer counted twice",
        "count = right count + (n_in x n_out + n_out) of one layer",
        "it is exactly the right count plus {block} of {layer} a second time",
        "Your count includes one layer's weights and biases twice.",
        "Write one term n_in x n_out + n_out per layer, one layer after the other, and check that the "
        "number of terms is the number of layers."),
    MistakeRecord(
        "answer-biases-twice", "Biases counted twice",
        "count = right count + (sum of the layer sizes after the input): n_in x n_out + 2 n_out per layer",
        "it is what n_in x n_out plus n_out twice per layer gives: every bias is counted twice",
        "Your count adds each layer's n_out biases twice.",
        "Each layer has n_in x n_out weights and n_out biases, once: (n_in + 1) n_out."),
    MistakeRecord(
        "answer-input-dimension", "Input dimension off by a few",
        "the answer is what the right computation gives with an input size a few units off (e.g. 3075 for 3072)",
        "it is what the computation gives with {used} inputs instead of {inputs}",
        "You used a wrong number of inputs, a few units away from the real one (for 32x32 RGB images "
        "the input has 32 x 32 x 3 = 3072 values, with no extra units).",
        "Recompute the input size from the data: 32 x 32 pixels x 3 colour channels = 3072 inputs; "
        "biases are counted separately, never as extra inputs."),
    MistakeRecord(
        "answer-arithmetic-slip", "Addition slip",
        "the answer differs from the right one by one nonzero digit in one decimal place (10, 300, ...)",
        "it is {off} {direction}, one digit off, which is what a slip in adding the terms gives",
        "Your total is off by a single digit in one decimal place: the terms may be right but their sum is not.",
        "Add the terms again (or let Python add them) and compare with each term written out."),
    # --- shapes ---------------------------------------------------------------------------
    MistakeRecord(
        "answer-transposed", "Rows and columns swapped",
        "the answer equals the expected shape or matrix transposed (and the two differ)",
        "it is the expected {what} with rows and columns swapped",
        "Your answer has the rows and columns of the expected one swapped (e.g. 10 x N_H for N_H x 10): the "
        "handout fixes which index is the input and which is the output.",
        "Use the handout's convention: with z = W x + b for a column x, W has shape (n_out, n_in); with "
        "z = W^T x + b, W has shape (n_in, n_out)."),
    # --- the integer closest to a budget ------------------------------------------------------
    MistakeRecord(
        "answer-rounded-down", "Rounded down instead of to the closest integer",
        "the answer is floor(x) of the real solution x while the closest integer is ceil(x)",
        "x = {real} solves the equation, and {best} is the closest integer; rounding down gives a worse match",
        "You solved the equation for a real x and then rounded it down, but the question asks for the "
        "integer whose count is closest to the budget.",
        "Compare |count(floor x) - budget| and |count(ceil x) - budget| and keep the smaller one."),
    MistakeRecord(
        "answer-rounded-up", "Rounded up instead of to the closest integer",
        "the answer is ceil(x) of the real solution x while the closest integer is floor(x)",
        "x = {real} solves the equation, and {best} is the closest integer; rounding up gives a worse match",
        "You solved the equation for a real x and then rounded it up, but the question asks for the "
        "integer whose count is closest to the budget.",
        "Compare |count(floor x) - budget| and |count(ceil x) - budget| and keep the smaller one."),
    # --- worked examples -------------------------------------------------------------------
    MistakeRecord(
        "answer-derivative-at-activation", "Derivative taken at the activation, not the pre-activation",
        "the value equals the computation with the activation's derivative evaluated at a = h(z)",
        "it is what back-propagation gives with the derivative evaluated at the activation h(z) instead of z",
        "You evaluated the activation's derivative at the hidden unit's output a = h(z), e.g. "
        "sigma(a)(1 - sigma(a)), instead of at its input z: sigma'(z) = sigma(z)(1 - sigma(z)) = a(1 - a).",
        "Use h'(z) at the pre-activation z; for the sigmoid that is a(1 - a) with a = sigma(z) already computed."),
    MistakeRecord(
        "answer-no-softmax-jacobian", "Softmax Jacobian left out",
        "the value equals the computation that passes dL/dy_hat through the softmax unchanged",
        "it is what back-propagation gives when dL/dy_hat is used as dL/dz, leaving out the softmax's Jacobian",
        "With a squared loss on a softmax output, dL/dz = J (y_hat - y) with the softmax Jacobian "
        "J = diag(y_hat) - y_hat y_hat^T; you used y_hat - y directly (that shortcut holds only for "
        "the cross-entropy loss).",
        "Multiply by the Jacobian: dL/dz_i = y_hat_i ((y_hat - y)_i - sum_j y_hat_j (y_hat - y)_j)."),
    MistakeRecord(
        "answer-loss-without-half", "Gradient of the loss without its 1/2",
        "the value equals the computation with L = ||y - y_hat||^2 (gradients twice the right ones)",
        "it is exactly what the loss without its factor 1/2 gives (every gradient doubled)",
        "The loss is 1/2 ||y - y_hat||^2, whose gradient is y_hat - y; your numbers are those of "
        "||y - y_hat||^2, twice as large.",
        "Keep the 1/2: dL/dy_hat = y_hat - y, not 2 (y_hat - y)."),
    MistakeRecord(
        "answer-step-sign", "Gradient step taken uphill",
        "the updated value equals W + lr * grad instead of W - lr * grad",
        "it is W + lr x grad, a step up the gradient instead of down",
        "A gradient descent step subtracts the scaled gradient; you added it.",
        "Update with W_new = W - lr * dL/dW."),
    MistakeRecord(
        "answer-weight-layout", "Weights applied as W x instead of the stated W^T x (or the reverse)",
        "the value equals the computation with every weight matrix applied in the other layout",
        "it is what the network gives with each weight matrix applied the other way round (W x instead of "
        "W^T x, or the reverse)",
        "The handout states how each weight matrix is applied (e.g. (W1)^T x); you multiplied by the matrix "
        "in the other orientation, which mixes up which weight connects which pair of units.",
        "Follow the stated formula: with z = (W1)^T x + b1, entry W1[i, j] connects input i to hidden unit j."),
    # --- reading the answers -----------------------------------------------------------------
    MistakeRecord(
        "answer-missing", "No answer to this question",
        "the answers file (or the notebook's answers dict) has no entry under the question's key",
        "there is no entry {key!r} in {origin}",
        "The grader found your answers but none under this question's key.",
        "Add a line with the question's key (see the kit's answers.yaml template), e.g. param-count: 12,345."),
    MistakeRecord(
        "answer-format", "Answer not in an accepted form",
        "the entry exists but no accepted form reads it (number, shape, formula, vector or matrix)",
        "{problem}",
        "The grader could not read your answer as a number, shape, formula or array.",
        "Write numbers as 12345 or 12,345, shapes as [10, 3] or 10x3, formulas as 6*N_H + 2, "
        "vectors and matrices as [0.29, -0.29] or [[1, 2], [3, 4]]."),
    MistakeRecord(
        "answers-unreadable", "Answers file not found or unreadable",
        "no answers file (answers.yaml, answers.yml, answers.json) and no literal answers = {...}, "
        "or the file is not valid JSON/YAML, too large, or uses anchors or tags",
        "{problem}",
        "The grader could not find or read your written answers.",
        "Hand in answers.yaml (or answers.json) with one line per question, e.g. param-count: 12,345, "
        "or a notebook cell answers = {...} holding literal values only."),
)

RECORDS: dict[str, MistakeRecord] = {r.id: r for r in _RECORDS}


def record(mistake_id: str) -> MistakeRecord:
    return RECORDS[mistake_id]


def feedback(mistake_id: str, **fields: object) -> str:
    return RECORDS[mistake_id].feedback.format(**fields)
