"""Mistakes in the parameter initialization.

One record per mistake (see `grader.mistakes`); texts may use the rubric's
own words (`grader.mistakes.words`)."""

from __future__ import annotations

from .record import Mistake

FAMILY = "init"

RECORDS: tuple[Mistake, ...] = (
    Mistake(
        'init-constant', FAMILY,
        title='Parameters initialized to a constant',
        explanation='All entries of a parameter start with the same value (for example zeros or ones), which is not a draw from N({mean}, {std}^2): the assignment asks for {init_rule}.',
        fix='Draw every entry independently: np.random.normal({mean}, {std}, size=shape) for each of {init_blocks}.',
        recognized='every entry of a freshly initialized block has the same value',
    ),
    Mistake(
        'init-symmetric', FAMILY,
        title='Hidden units initialized symmetrically',
        explanation='Several hidden units start with identical weights, so they receive identical gradients and stay identical forever: the network cannot use them.',
        fix='Draw each weight independently from N({mean}, {std}^2), e.g. np.random.normal({mean}, {std}, size={w_first_shape}) for {w_first}; do not copy one row or column.',
        recognized='two or more rows (hidden units) of the first weight matrix start identical',
    ),
    Mistake(
        'init-wrong-scale', FAMILY,
        title='Initial values have the wrong spread',
        explanation='Your initial values do not have standard deviation {std} (or mean {mean}); a common cause is passing the variance {std}^2 where the standard deviation is expected, or forgetting to scale.',
        fix='Use np.random.normal(loc={mean}, scale={std}, size=shape): scale is the standard deviation {std}, not the variance.',
        recognized="over a large probe network, the initial values' mean or standard deviation is many standard errors from the rubric's init",
    ),
    Mistake(
        'init-not-normal', FAMILY,
        title='Initial values are not normally distributed',
        explanation='Your initial values do not look like draws from a normal distribution, for example they are uniform (np.random.rand) instead of Gaussian.',
        fix='Use a normal distribution: np.random.normal({mean}, {std}, size=shape) or {std} * np.random.randn(*shape), not np.random.rand or np.random.uniform.',
        recognized="mean and spread fit the rubric's init, but a Kolmogorov-Smirnov test rejects the normal distribution",
    ),
    Mistake(
        'init-biases-not-zero', FAMILY,
        title='Biases not initialized to zero',
        explanation='The assignment asks for {init_rule}; some of your biases start at other values (for example drawn like the weights).',
        fix='Start every bias at exactly zero, e.g. np.zeros({b_first_shape}) for {b_first}; draw only the weights from N({mean}, {std}^2).',
        recognized="a rubric with init biases: zero, and a freshly initialized bias block with an entry that is not 0.0",
    ),
)
