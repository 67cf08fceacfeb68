"""Mistakes in the forward pass, the loss and the parameter layout.

One record per mistake (see `grader.mistakes`); texts may use the rubric's
own words (`grader.mistakes.words`)."""

from __future__ import annotations

from .record import Mistake

FAMILY = "outputs"

RECORDS: tuple[Mistake, ...] = (
    Mistake(
        'softmax-overflow', FAMILY,
        title='Softmax overflows for large inputs',
        explanation='Your softmax computes exp(z) directly, which overflows to inf (and then NaN) when the scores z are large.',
        fix='Subtract the column maximum first: softmax(z) = exp(z - max(z)) / sum exp(z - max(z)), with the max taken over the classes of each sample; the result is mathematically unchanged.',
        recognized='feed_forward on the probe inputs scaled by 1000 returns inf or NaN, or raises OverflowError, while it is right on the ordinary inputs; when the forward pass returns scores (the softmax is in the loss), the loss on those inputs does',
    ),
    Mistake(
        'transposed-weights', FAMILY,
        title='Weight matrix stored transposed',
        explanation='A weight matrix is stored with its axes swapped, for example {w_first} of shape {w_first_shape_t} instead of {w_first_shape}.',
        fix='Store {w_first} with shape {w_first_shape} and {w_last} with shape {w_last_shape}, so that {z_rule}.',
        recognized="a weight block stored with the transpose of the shape the rubric's weight_layouts declare, (n_out, n_in) by default (param-shapes; the adapter undoes it for the other criteria)",
    ),
    Mistake(
        'loss-sum-not-mean', FAMILY,
        title='Loss summed over samples, not averaged',
        explanation='Your loss is S times the {loss}: you add the per-sample losses but do not divide by the number of samples S.',
        fix='Average the per-sample losses over the S samples (divide their sum by S), e.g. -np.mean(np.log(p[y, np.arange(S)])) for the cross-entropy of probabilities p of shape ({outputs}, S).',
        recognized="the loss (its data part, with a penalty) equals S times the reference's at the same theta and batch",
    ),
    Mistake(
        'key-typo', FAMILY,
        title='Parameter written under another key',
        explanation="A parameter is updated under a different dict key (for example a lower-case key instead of {w_first}), so the real parameter in self.{theta} never changes.",
        fix="Use exactly the keys {blocks} everywhere, e.g. loop over self.{theta}.keys() in step() instead of typing the names again.",
        recognized='a parameter key is missing while one differing only in case exists, or a step writes the parameters under new keys',
    ),
)
