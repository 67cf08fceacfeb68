"""Mistakes in the elastic-net penalty's gradient.

One record per mistake (see `grader.mistakes`); texts may use the rubric's
own words (`grader.mistakes.words`).  One family: the gap between the
student's gradient of a block and the data gradient is fitted as
a l1 sign(W) + b l2 W (least squares); the correct term is (a, b) = (1, 2)
on the weights and (0, 0) on the biases.  A record names an exact (a, b),
confirmed at a second probe (`grader.checks.gradient_families`).
"""

from __future__ import annotations

from .record import Mistake

FAMILY = "penalties"

FITTED = "the gap between the gradient and the data gradient is a l1 sign(W) + b l2 W at two probes, with "

RECORDS: tuple[Mistake, ...] = (
    Mistake(
        'penalty-missing', FAMILY,
        title='Elastic-net penalty missing',
        explanation='Your loss or gradient is that of the data term alone: the elastic-net penalty l1 sum|W| + l2 sum W^2 (and its gradient l1 sign(W) + 2 l2 W) is not included.',
        fix="Add l1 * np.abs(W).sum() + l2 * (W ** 2).sum() for each penalized weight matrix to the loss, and l1 * np.sign(W) + 2 * l2 * W to that matrix's gradient.",
        recognized=FITTED + "(a, b) = (0, 0) on a weight matrix (or, in the loss, the data loss alone).",
    ),
    Mistake(
        'penalty-on-biases', FAMILY,
        title='Biases penalized',
        explanation='You apply the elastic-net penalty to the biases too; only the weight matrices are regularized.',
        fix='Leave the biases ({b_first}, ..., {b_last}) out of the penalty and out of its gradient.',
        recognized=FITTED + "(a, b) = (1, 2) or (1, 1) on a bias (or, in the loss, the biases' penalty added).",
    ),
    Mistake(
        'penalty-l2-factor', FAMILY,
        title='L2 gradient missing its factor 2',
        explanation='The derivative of l2 sum W^2 is 2 l2 W; your gradient has l2 W.',
        fix='Use 2 * l2 * W in the gradient of each penalized weight matrix.',
        recognized=FITTED + "(a, b) = (1, 1) on a weight matrix.",
    ),
    Mistake(
        'penalty-l2-doubled', FAMILY,
        title="L2 penalty twice the assignment's (its 1/2 left out)",
        explanation="Your L2 term is 2 l2 sum W^2, twice the assignment's l2 sum W^2, and its gradient 4 l2 W instead of 2 l2 W. A course that writes the penalty as 0.5 * reg * sum W^2 (gradient reg * W) gets this from reg * sum W^2 with the 0.5 left out (gradient 2 * reg * W).",
        fix='Keep the 0.5: loss += 0.5 * reg * (W ** 2).sum() for each weight matrix, and reg * W in its gradient.',
        recognized=FITTED + "(a, b) = (1, 4) on a weight matrix (or, in the loss, the L2 part of the penalty counted twice).",
    ),
    Mistake(
        'penalty-sign-flipped', FAMILY,
        title="Penalty's gradient subtracted",
        explanation="Your gradient subtracts the penalty's gradient, -(l1 sign(W) + 2 l2 W), instead of adding it, so a descent step makes the weights grow.",
        fix='The penalty is added to the loss, so its gradient is added too: dW = (data gradient) + l1 * np.sign(W) + 2 * l2 * W.',
        recognized=FITTED + "(a, b) = (-1, -2) on a weight matrix.",
    ),
)
