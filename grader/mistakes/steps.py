"""Mistakes in one optimizer step (gradient descent, Nesterov's accelerated gradient).

One record per mistake (see `grader.mistakes`); texts may use the rubric's
own words (`grader.mistakes.words`)."""

from __future__ import annotations

from .record import Mistake

FAMILY = "steps"

RECORDS: tuple[Mistake, ...] = (
    Mistake(
        'heavy-ball', FAMILY,
        title='NAG takes the gradient at the current iterate (heavy-ball momentum)',
        explanation="You build the look-ahead point but evaluate the gradient at the current parameters theta_k; that is Polyak's heavy-ball method, not Nesterov's.",
        fix='Evaluate the gradient at the look-ahead point: y_k = theta_k + mu (theta_k - theta_{{k-1}}), then theta_{{k+1}} = y_k - lr * grad L(y_k).',
    ),
    Mistake(
        'zero-momentum', FAMILY,
        title='Momentum term is always zero (previous iterate aliased)',
        explanation="Your 'previous iterate' refers to the same arrays as the current one (for example prev = self.theta, or an in-place update), so theta_k - theta_{{k-1}} is always zero and NAG behaves like plain gradient descent.",
        fix='Store a copy before updating: prev = {{k: v.copy() for k, v in self.theta.items()}}, then assign new arrays rather than updating in place.',
    ),
    Mistake(
        'wrong-momentum', FAMILY,
        title='Momentum is applied incorrectly',
        explanation='Your NAG steps do not match y_k = theta_k + mu (theta_k - theta_{{k-1}}) with the given momentum mu: the momentum coefficient, the sign of the difference, or the starting value theta_{{-1}} = theta_0 is off.',
        fix='Use y_k = theta_k + mu (theta_k - theta_{{k-1}}) with mu = self.momentum and theta_{{-1}} = theta_0 (so the first step is a plain gradient step), then theta_{{k+1}} = y_k - lr * grad L(y_k).',
    ),
    Mistake(
        'momentum-hard-coded', FAMILY,
        title='Momentum ignores the momentum argument',
        explanation="Your NAG steps are right for the assignment's momentum, but with another momentum passed to the constructor they still use the assignment's value: the coefficient is written into the code.",
        fix="Store the constructor's momentum (self.momentum = momentum) and use self.momentum in step(), never a literal such as 0.9.",
    ),
    Mistake(
        'nag-missing', FAMILY,
        title='NAG behaves like gradient descent',
        explanation="With gradient_method='NAG' your step gives exactly the same iterates as 'GD', so no momentum is applied at all.",
        fix="Branch on self.gradient_method in step(): for 'NAG' form the look-ahead point y_k = theta_k + mu (theta_k - theta_{{k-1}}) and step from it.",
    ),
    Mistake(
        'wrong-step-size', FAMILY,
        title='Learning rate ignored or wrong',
        explanation='Your update does not move by lr * grad: the learning rate is ignored, hard-coded, or applied twice.',
        fix='Use the learning rate passed to the constructor: theta <- theta - self.lr * grad, with no other factor.',
    ),
)
