"""Mistakes in the elastic-net penalty's gradient.

One record per mistake (see `grader.mistakes`); texts may use the rubric's
own words (`grader.mistakes.words`)."""

from __future__ import annotations

from .record import Mistake

FAMILY = "penalties"

RECORDS: tuple[Mistake, ...] = (
    Mistake(
        'penalty-missing', FAMILY,
        title='Elastic-net penalty missing',
        explanation='Your loss or gradient is that of the data term alone: the elastic-net penalty l1 sum|W| + l2 sum W^2 (and its gradient l1 sign(W) + 2 l2 W) is not included.',
        fix="Add l1 * np.abs(W).sum() + l2 * (W ** 2).sum() for each penalized weight matrix to the loss, and l1 * np.sign(W) + 2 * l2 * W to that matrix's gradient.",
    ),
    Mistake(
        'penalty-on-biases', FAMILY,
        title='Biases penalized',
        explanation='You apply the elastic-net penalty to the biases too; only the weight matrices are regularized.',
        fix='Leave the biases ({b_first}, ..., {b_last}) out of the penalty and out of its gradient.',
    ),
    Mistake(
        'penalty-l2-factor', FAMILY,
        title='L2 gradient missing its factor 2',
        explanation='The derivative of l2 sum W^2 is 2 l2 W; your gradient has l2 W.',
        fix='Use 2 * l2 * W in the gradient of each penalized weight matrix.',
    ),
)
