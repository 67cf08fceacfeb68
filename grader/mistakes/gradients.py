"""Mistakes in the gradient: scalings, output errors, derivative points, shapes.

One record per mistake (see `grader.mistakes`); texts may use the rubric's
own words (`grader.mistakes.words`).  The records come in families, each
recognized by fitting the student's numbers to a parametric family and
confirming the fit on a second probe (another S and theta) before naming it
(`grader.checks.gradient_families`):

* scalings: the student's gradient is c times the reference (the data part
  of it when a penalty is present); c is named when it is a known factor at
  both probes (S at the first must be the new S at the second);
* output errors and derivative points: the gradient equals what a mutant in
  `grader.mutants` (the record's `mutant`) computes, at both probes;
* single ones: a bias from one sample, a transposed or misshapen array,
  another activation.
"""

from __future__ import annotations

from .record import Mistake

FAMILY = "gradients"

SCALED = "the gradient is exactly c times the reference's at two probes (two batch sizes S), with "

RECORDS: tuple[Mistake, ...] = (
    # -- scalings -----------------------------------------------------------------------------------
    Mistake(
        'sum-not-mean', FAMILY,
        title='Gradient summed over samples, not averaged',
        explanation='Your gradient is S times too large (S = number of samples): you add up the per-sample gradients but never divide by S, although the loss is a mean.',
        fix='Divide the summed gradient by S = x.shape[0], matching L = (1/S) sum_s L_s: for example dW1 = (1/S) e2 a1^T and db1 = (1/S) sum_s e2_s.',
        recognized=SCALED + 'c = S at each.',
    ),
    Mistake(
        'mean-twice', FAMILY,
        title='Gradient averaged twice',
        explanation='Your gradient is S times too small: you divide by S = x.shape[0] twice, for example once on the output error e2 and again on dW1 or db1.',
        fix='Divide by S exactly once: if e2 = (y~ - onehot(y)) / S already carries the 1/S, then dW1 = e2 a1^T and db1 = sum_s e2_s with no further division.',
        recognized=SCALED + 'c = 1/S at each.',
    ),
    Mistake(
        'multiplied-by-s', FAMILY,
        title='Gradient multiplied by S instead of divided',
        explanation='Your gradient is S^2 times too large (S = number of samples): the sum over the samples is multiplied by S where it must be divided by S.',
        fix='Divide by S = x.shape[0] once: dW = (1/S) e a^T, db = (1/S) sum_s e_s (check for a * S or a missing division written as a product).',
        recognized=SCALED + 'c = S^2 at each.',
    ),
    Mistake(
        'sign-flip', FAMILY,
        title='Gradient has the wrong sign',
        explanation='Your gradient points in the opposite direction of the true gradient, so a descent step with it increases the loss.',
        fix='For {output_pair} the output error is {e_out} = y~ - onehot(y) (prediction minus target), not onehot(y) - y~; the update is theta <- theta - lr * grad.',
        recognized=SCALED + 'c = -1 at each.',
    ),
    Mistake(
        'divided-by-classes', FAMILY,
        title='Gradient divided by the number of classes as well',
        explanation='Your gradient is C times too small (C = {outputs} classes): the mean is taken over all C x S entries of a (C, S) array, for example np.mean over the whole matrix, instead of over the S samples.',
        fix='Sum over the classes and divide by S only: L = -(1/S) sum_s log y~_{{y_s}}, and the output error is (y~ - onehot(y)) / S.',
        recognized=SCALED + 'c = 1/C at each.',
    ),
    Mistake(
        'times-classes', FAMILY,
        title='Gradient multiplied by the number of classes',
        explanation='Your gradient is exactly C = {outputs} times the correct one (C = number of classes): a count of the classes enters as a factor where none belongs.',
        fix='Divide by S = x.shape[0] only, never by or times len(y~) or the number of classes: dW = (1/S) e a^T.',
        recognized=SCALED + 'c = C at each.',
    ),
    Mistake(
        'times-features', FAMILY,
        title='Gradient multiplied by the number of input features',
        explanation='Your gradient is exactly D = {inputs} times the correct one (D = number of input features): a count of the features (x.shape[1]) enters as a factor where none belongs.',
        fix='The only count in the gradient is S = x.shape[0] (divide by it once); x.shape[1] is the number of features, not of samples.',
        recognized=SCALED + 'c = D at each.',
    ),
    Mistake(
        'gradient-doubled', FAMILY,
        title='Gradient twice too large',
        explanation='Your gradient is exactly 2 times the correct one: a factor 2 too many, for example the error added twice or the derivative of a square (x^2 -> 2x) where the loss has none.',
        fix='Compare each factor of your backward pass with the derivative of the loss you return; drop the extra factor 2.',
        recognized=SCALED + 'c = 2 at each.',
    ),
    Mistake(
        'gradient-halved', FAMILY,
        title='Gradient half as large as it should be',
        explanation='Your gradient is exactly 1/2 of the correct one: a factor 1/2 too many (or a factor 2 missing), for example an extra 0.5 in the output error.',
        fix='Compare each factor of your backward pass with the derivative of the loss you return; remove the extra 1/2.',
        recognized=SCALED + 'c = 1/2 at each.',
    ),
    # -- output errors (the mutants commit them) ------------------------------------------------------
    Mistake(
        'output-error-no-target', FAMILY,
        title='Output error without the target',
        explanation='Your output error is {e_out} = y~ (the predicted probabilities) instead of y~ - onehot(y): the target is never subtracted, so the gradient ignores the labels.',
        fix='Subtract the one-hot labels: {e_out} = (y~ - onehot(y)) / S, with onehot(y) of shape (C, S) (a 1 in row y_s of column s).',
        recognized='the gradient equals backprop with the output error y~ in place of y~ - onehot(y), at two probes.',
        mutant='output_error_without_target',
    ),
    Mistake(
        'softmax-jacobian-missing', FAMILY,
        title="Softmax's Jacobian left out (squared error)",
        explanation="With the squared error, dL/dy~ = (y~ - onehot(y)) / S is not yet dL/dz: the softmax's Jacobian must be applied to it. Your output error stops at dL/dy~.",
        fix='Apply the softmax Jacobian: with g = (y~ - onehot(y)) / S, {e_out} = y~ * (g - sum_c y~_c g_c), the sum taken over the classes of each sample.',
        recognized='the gradient equals backprop with (y~ - onehot(y)) / S taken for dL/dz (squared error only), at two probes.',
        mutant='softmax_jacobian_left_out',
    ),
    Mistake(
        'softmax-jacobian-inner-product', FAMILY,
        title="Softmax's Jacobian built with an inner product",
        explanation="Your chain rule through the softmax builds its Jacobian diag(y~) - y~ y~^T with the product the wrong way round: y~^T y~ is a 1x1 number (the squared length of y~), which broadcasts, so every entry of the Jacobian loses ||y~||^2 instead of y~_i y~_j.",
        fix='The outer product of a column y~ with itself is y~ @ y~.T (np.outer(y~, y~)), a C x C matrix; or skip the Jacobian: for softmax with cross-entropy {e_out} = (y~ - onehot(y)) / S.',
        recognized='the gradient equals backprop with dL/dz = y~ * g - ||y~||^2 sum_c g_c per sample (g = dL/dy~), at two probes.',
        mutant='softmax_jacobian_inner_product',
    ),
    Mistake(
        'output-derivative-applied', FAMILY,
        title="Softmax's derivative applied to the cross-entropy error",
        explanation='For softmax with cross-entropy the output error is simply {e_out} = (y~ - onehot(y)) / S: the softmax derivative is already inside it. Yours multiplies it once more by y~ (1 - y~).',
        fix='Use {e_out} = (y~ - onehot(y)) / S as it is, with no further factor y~ (1 - y~).',
        recognized='the gradient equals backprop with the output error multiplied by y~ (1 - y~) (cross-entropy only), at two probes.',
        mutant='output_derivative_applied',
    ),
    # -- derivative points (the mutants commit them) --------------------------------------------------
    Mistake(
        'activation-derivative-sigmoid', FAMILY,
        title="Sigmoid's derivative used instead of the activation's",
        explanation='You multiply by sigma(z)(1 - sigma(z)), the derivative of the sigmoid, but the hidden activation is another function ({activation}: {h}), whose derivative differs.',
        fix="Differentiate the activation you use in the forward pass; for {activation} {h_prime}, so {e_hidden} = ({w_hidden_out}^T {e_out}) * h'({z_hidden}).",
        recognized="the gradient equals backprop with sigma'(z) in place of h'(z), at two probes.",
        mutant='sigmoid_derivative',
    ),
    Mistake(
        'activation-derivative-at-activation', FAMILY,
        title='Activation derivative evaluated at a = h(z) instead of z',
        explanation="You evaluate the activation's derivative at the activation a1 = h(z1) instead of at the pre-activation z1; for {activation} these are different points.",
        fix="Keep {z_hidden} = {w_first} x + {b_first} from the forward pass and compute {e_hidden} = ({w_hidden_out}^T {e_out}) * h'({z_hidden}), not h'({a_hidden}).",
        recognized="the gradient equals backprop with h'(h(z)) in place of h'(z), at two probes.",
        mutant='derivative_at_activation',
    ),
    Mistake(
        'activation-derivative-missing', FAMILY,
        title="Activation's derivative left out",
        explanation="When you pass the error back through a hidden layer you multiply by {w_hidden_out}^T but not by the activation's derivative h'({z_hidden}), as if the activation were the identity.",
        fix="Multiply element-wise by the derivative: {e_hidden} = ({w_hidden_out}^T {e_out}) * h'({z_hidden}); for {activation} {h_prime}.",
        recognized="the gradient equals backprop with h'(z) replaced by 1, at two probes.",
        mutant='derivative_left_out',
    ),
    # -- single ones ------------------------------------------------------------------------------
    Mistake(
        'bias-one-sample', FAMILY,
        title='Bias gradient taken from one sample',
        explanation='Your bias gradient uses the error of a single sample (often the first or the last one) instead of combining the errors of all S samples.',
        fix='Sum the error over the sample axis and divide by S: db = (1/S) sum_s e_s, e.g. e.sum(axis=1, keepdims=True) / S for an error e of shape (N, S).',
        recognized="a bias block equals one sample's gradient (divided by S or not).",
    ),
    Mistake(
        'gradient-transposed', FAMILY,
        title='Gradient is transposed',
        explanation='Your weight gradient has the transposed layout, for example (a1)^T e2 instead of e2 a1^T, so its entries land in the wrong positions.',
        fix='Give each gradient the shape of its parameter: d{w_last} = {e_out} {a_before_out}^T has shape {w_last_shape} like {w_last}, and d{w_first} has shape {w_first_shape} like {w_first}.',
        recognized='the array has the transpose of its parameter\'s shape.',
    ),
    Mistake(
        'gradient-shape', FAMILY,
        title='Gradient has the wrong shape',
        explanation='A gradient array does not have the shape of the parameter it belongs to, so it cannot be used in the update theta - lr * grad.',
        fix='Return a dict with the same keys and shapes as self.theta: d{w_first} {w_first_shape}, d{b_first} {b_first_shape}, ..., d{w_last} {w_last_shape}, d{b_last} {b_last_shape}; sum over samples, never keep an S axis.',
        recognized="the array's shape is neither its parameter's nor the transpose.",
    ),
    Mistake(
        'wrong-activation', FAMILY,
        title='Wrong activation function',
        explanation='The hidden layer does not apply the activation the assignment asks for (the feedback names the one your output matches), so your network computes a different function.',
        fix="Use the assignment's activation in the hidden layer ({activation}: {h}) and its derivative in back-propagation.",
        recognized="the gradient equals the reference's for a network with another activation.",
    ),
    Mistake(
        'gradient-batch-specific', FAMILY,
        title='Gradient right for one batch only',
        explanation='Your gradient is right for the batch the grader asked about first but wrong for another batch of a different size at other parameters: something in it is fixed to the first batch.',
        fix='Take the sample count from the input (S = x.shape[0]) and build every array from the shapes of x and {theta}; never write a number of samples into the code.',
        recognized='the block matches the reference on the first probe and not on the second (another S and theta).',
    ),
)
