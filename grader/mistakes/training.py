"""Mistakes seen only over many iterations.

One record per mistake (see `grader.mistakes`); texts may use the rubric's
own words (`grader.mistakes.words`)."""

from __future__ import annotations

from .record import Mistake

FAMILY = "training"

RECORDS: tuple[Mistake, ...] = (
    Mistake(
        'no-progress', FAMILY,
        title='Training does not lower the loss',
        explanation='A short training run from a fixed start leaves the training loss where it started (or raises it), so the network does not learn.',
        fix='Check that step() updates self.theta in place of the old values, that the gradient is correct (compare with finite differences), and that train() returns the loss after each step.',
        recognized='the training loss of a run does not fall below its start',
    ),
    Mistake(
        'diverged', FAMILY,
        title='Training diverged',
        explanation='During training the loss blew up (it climbed far above where it started, or the loss or the parameters became NaN or infinite): each step overshoots, usually because the gradient is far too large (e.g. summed instead of averaged over the S samples, which acts like an S times larger learning rate) or because of an overflowing exp.',
        fix='Check the gradient scale first (it must be averaged over S samples, and the step uses lr * grad once), then use a stable softmax (subtract the max) and a stable log (of probabilities that are never exactly 0).',
        recognized='the loss of a run climbs above 10 times its start, or the parameters become NaN or infinite',
    ),
    Mistake(
        'train-broken', FAMILY,
        title='train() does not do its job',
        explanation="train(x, y, n) must run n iterations of step() and return one loss per iteration, each the assignment's loss at the iterate before or after that step; yours hung, crashed, or returned other numbers.",
        fix='Loop n times: record self.loss(x, y), then call self.step(x, y); return the list of recorded losses.',
        recognized='train() raises, hangs, or does not return one loss per iteration at the iterates it visited',
    ),
    Mistake(
        'trajectory-mismatch', FAMILY,
        title='Training run not produced by the update rule',
        explanation="Spot checks of your training run found a step that is not theta - lr * g (or NAG's update) with the assignment's gradient or your own verified one: the parameters changed in a way no step() rule explains.",
        fix='Make step() compute the update from the current parameters and the gradient of the loss on the data it is given, and nothing else.',
        recognized='spot-checked steps of a run do not move along minus the (reference or trusted own) gradient, e.g. weights that jump to a precomputed point',
    ),
)
