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
        fix='Evaluate the gradient at the look-ahead point: y_k = theta_k + mu (theta_k - theta_{{k-1}}) (beta_k in place of mu under the FISTA schedule), then theta_{{k+1}} = y_k - lr * grad L(y_k). If your update is handed dw evaluated at the stored w (a module-level nesterov(w, dw, config)), store the look-ahead point instead: v_prev = v; v = mu v - lr dw; w = w - mu v_prev + (1 + mu) v.',
        recognized='the steps fit the momentum family with the gradient evaluated at theta_k (start at y_k, previous iterate updated), confirmed on the second probe; under the FISTA schedule, with the schedule\'s beta_k at every step (no second probe: beta_k changing from step to step is the confirmation)',
        mutant='heavy_ball_steps',
    ),
    Mistake(
        'zero-momentum', FAMILY,
        title='Momentum term is always zero (previous iterate aliased)',
        explanation="Your 'previous iterate' refers to the same arrays as the current one (for example prev = self.theta, or an in-place update), so theta_k - theta_{{k-1}} is always zero and NAG behaves like plain gradient descent.",
        fix='Store a copy before updating: prev = {{k: v.copy() for k, v in self.theta.items()}}, then assign new arrays rather than updating in place.',
        recognized='fitted momentum 0 (the steps are gradient steps) and an attribute shares memory with the parameters',
    ),
    Mistake(
        'wrong-momentum', FAMILY,
        title='Momentum is applied incorrectly',
        explanation='Your NAG steps do not match y_k = theta_k + mu (theta_k - theta_{{k-1}}) with the given momentum mu: the momentum coefficient, the sign of the difference, or the starting value theta_{{-1}} = theta_0 is off.',
        fix='Use y_k = theta_k + mu (theta_k - theta_{{k-1}}) with mu = self.momentum and theta_{{-1}} = theta_0 (so the first step is a plain gradient step), then theta_{{k+1}} = y_k - lr * grad L(y_k).',
        recognized='the steps fit Nesterov with a fitted momentum that is none of the named ones (mu, 1 - mu, -mu), or with a constant momentum where the rubric asks for the FISTA schedule (or the reverse), or the FISTA schedule one step early (beta_{k+1} at step k); a value that stays the same at the second probe momentum is reported as written into the code',
    ),
    Mistake(
        'momentum-complement', FAMILY,
        title='Momentum 1 - mu used instead of mu',
        explanation='Your NAG steps follow Nesterov with momentum 1 - mu instead of mu: the coefficient of theta_k - theta_{{k-1}} is read as a damping.',
        fix='Use y_k = theta_k + mu (theta_k - theta_{{k-1}}) with mu = self.momentum itself.',
        recognized='fitted momentum equals 1 - mu on the first probe and 1 - mu2 on the second (so it is not a constant)',
        mutant='momentum_complement_steps',
    ),
    Mistake(
        'momentum-sign-flipped', FAMILY,
        title='Look-ahead taken backwards (momentum with the wrong sign)',
        explanation='Your NAG steps follow Nesterov with momentum -mu: the look-ahead point is theta_k - mu (theta_k - theta_{{k-1}}), a step back along the last move instead of forward.',
        fix='y_k = theta_k + mu (theta_k - theta_{{k-1}}): the difference is the current iterate minus the previous one, added.',
        recognized='fitted momentum equals -mu on the first probe and -mu2 on the second',
        mutant='momentum_sign_flipped_steps',
    ),
    Mistake(
        'previous-not-updated', FAMILY,
        title='Previous iterate never updated',
        explanation='Your NAG steps use theta_0 as the previous iterate at every step: theta_{{k-1}} is stored once (in the constructor or the first step) and never moved on, so the momentum term grows with the distance from the start.',
        fix='At the end of every step, keep a copy of the iterate you stepped from: prev = {{k: v.copy() for k, v in self.{theta}.items()}} before writing the new {theta}.',
        recognized='the steps fit the momentum family with prev_k = theta_0 for every k (distinguishable from the third step on)',
        mutant='previous_not_updated_steps',
    ),
    Mistake(
        'lookahead-not-stepped', FAMILY,
        title='Gradient at the look-ahead, step from the current iterate',
        explanation='Your NAG steps evaluate the gradient at y_k but then move from theta_k: theta_{{k+1}} = theta_k - lr grad L(y_k), so the momentum term never enters the iterates.',
        fix='Step from the look-ahead point: theta_{{k+1}} = y_k - lr * grad L(y_k).',
        recognized='the steps fit the momentum family with the step starting at theta_k and the gradient at y_k',
        mutant='lookahead_not_stepped_steps',
    ),
    Mistake(
        'momentum-hard-coded', FAMILY,
        title='Momentum ignores the momentum argument',
        explanation="Your NAG steps are right for the assignment's momentum, but with another momentum passed to the constructor they still use the assignment's value: the coefficient is written into the code.",
        fix="Store the constructor's momentum (self.momentum = momentum) and use self.momentum in step(), never a literal such as 0.9.",
        recognized='right at the rubric momentum on the first probe; on the second probe (another momentum, seeded by the course secret when grading) the fitted momentum is still the rubric one',
    ),
    Mistake(
        'nag-missing', FAMILY,
        title='NAG behaves like gradient descent',
        explanation="With gradient_method='NAG' your step gives exactly the same iterates as 'GD', so no momentum is applied at all.",
        fix="Branch on self.gradient_method in step(): for 'NAG' form the look-ahead point y_k = theta_k + mu (theta_k - theta_{{k-1}}) and step from it.",
        recognized='fitted momentum 0 (the steps are gradient steps) and no attribute shares memory with the parameters',
    ),
    Mistake(
        'wrong-step-size', FAMILY,
        title='Learning rate ignored or wrong',
        explanation='Your update does not move by lr * grad: the learning rate is ignored, hard-coded, or applied twice.',
        fix='Use the learning rate passed to the constructor: theta <- theta - self.lr * grad, with no other factor.',
        recognized='the fitted step length over lr is the same factor (2, 1/2, S, 1/S) on both probes (under the FISTA schedule NAG has one probe), or the fitted step length itself is the same on both probes while lr differs (a hard-coded learning rate)',
    ),
    Mistake(
        'step-not-applied', FAMILY,
        title='step() does not move the parameters',
        explanation='After step() the parameters are exactly what they were: the update is computed but never written back into self.{theta} (or written into a copy).',
        fix='Assign the new values: self.{theta}[k] = self.{theta}[k] - self.lr * grad[k] (or rebind self.{theta} to the new dict).',
        recognized='fitted step factor 0 on every probe: theta after the step equals theta before it',
    ),
)
