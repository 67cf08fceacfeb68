"""Mistakes in the gradient: scalings, signs, derivative points, shapes.

One record per mistake (see `grader.mistakes`); texts may use the rubric's
own words (`grader.mistakes.words`)."""

from __future__ import annotations

from .record import Mistake

FAMILY = "gradients"

RECORDS: tuple[Mistake, ...] = (
    Mistake(
        'sum-not-mean', FAMILY,
        title='Gradient summed over samples, not averaged',
        explanation='Your gradient is S times too large (S = number of samples): you add up the per-sample gradients but never divide by S, although the loss is a mean.',
        fix='Divide the summed gradient by S = x.shape[0], matching L = (1/S) sum_s L_s: for example dW1 = (1/S) e2 a1^T and db1 = (1/S) sum_s e2_s.',
    ),
    Mistake(
        'mean-twice', FAMILY,
        title='Gradient averaged twice',
        explanation='Your gradient is S times too small: you divide by S = x.shape[0] twice, for example once on the output error e2 and again on dW1 or db1.',
        fix='Divide by S exactly once: if e2 = (y~ - onehot(y)) / S already carries the 1/S, then dW1 = e2 a1^T and db1 = sum_s e2_s with no further division.',
    ),
    Mistake(
        'sign-flip', FAMILY,
        title='Gradient has the wrong sign',
        explanation='Your gradient points in the opposite direction of the true gradient, so a descent step with it increases the loss.',
        fix='For {output_pair} the output error is {e_out} = y~ - onehot(y) (prediction minus target), not onehot(y) - y~; the update is theta <- theta - lr * grad.',
    ),
    Mistake(
        'activation-derivative-sigmoid', FAMILY,
        title="Sigmoid's derivative used instead of the activation's",
        explanation='You multiply by sigma(z)(1 - sigma(z)), the derivative of the sigmoid, but the hidden activation is another function ({activation}: {h}), whose derivative differs.',
        fix="Differentiate the activation you use in the forward pass; for {activation} {h_prime}, so {e_hidden} = ({w_hidden_out}^T {e_out}) * h'({z_hidden}).",
    ),
    Mistake(
        'activation-derivative-at-activation', FAMILY,
        title='Activation derivative evaluated at a = h(z) instead of z',
        explanation="You evaluate the activation's derivative at the activation a1 = h(z1) instead of at the pre-activation z1; for {activation} these are different points.",
        fix="Keep {z_hidden} = {w_first} x + {b_first} from the forward pass and compute {e_hidden} = ({w_hidden_out}^T {e_out}) * h'({z_hidden}), not h'({a_hidden}).",
    ),
    Mistake(
        'bias-one-sample', FAMILY,
        title='Bias gradient taken from one sample',
        explanation='Your bias gradient uses the error of a single sample (often the first or the last one) instead of combining the errors of all S samples.',
        fix='Sum the error over the sample axis and divide by S: db = (1/S) sum_s e_s, e.g. e.sum(axis=1, keepdims=True) / S for an error e of shape (N, S).',
    ),
    Mistake(
        'gradient-transposed', FAMILY,
        title='Gradient is transposed',
        explanation='Your weight gradient has the transposed layout, for example (a1)^T e2 instead of e2 a1^T, so its entries land in the wrong positions.',
        fix='Give each gradient the shape of its parameter: d{w_last} = {e_out} {a_before_out}^T has shape {w_last_shape} like {w_last}, and d{w_first} has shape {w_first_shape} like {w_first}.',
    ),
    Mistake(
        'gradient-shape', FAMILY,
        title='Gradient has the wrong shape',
        explanation='A gradient array does not have the shape of the parameter it belongs to, so it cannot be used in the update theta - lr * grad.',
        fix='Return a dict with the same keys and shapes as self.theta: d{w_first} {w_first_shape}, d{b_first} {b_first_shape}, ..., d{w_last} {w_last_shape}, d{b_last} {b_last_shape}; sum over samples, never keep an S axis.',
    ),
    Mistake(
        'wrong-activation', FAMILY,
        title='Wrong activation function',
        explanation='The hidden layer does not apply the activation the assignment asks for (the feedback names the one your output matches), so your network computes a different function.',
        fix="Use the assignment's activation in the hidden layer ({activation}: {h}) and its derivative in back-propagation.",
    ),
)
