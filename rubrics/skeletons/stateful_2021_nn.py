"""Penguins MLP (softplus year): your implementation.

A 4 x N_H x 3 network: softplus hidden layer h(z) = ln(1 + e^z), softmax
output, mean cross-entropy loss, trained with gradient descent ("GD") or
Nesterov's accelerated gradient ("NAG").

Inside the class one sample is one COLUMN:
    var['x']                (4, S)
    var['z1'], var['a1']    (N_H, S)
    var['z2'], var['y_prob'] (3, S)

Run the public self-check at any time (install it first: see README.md):

    nngrade check nn.py
"""
import numpy as np

MU, SIGMA = 0.0, 0.05


class NN:
    def __init__(self, num_input, num_hidden, num_output, gradient_method="GD", lr=0.01):
        """Store the sizes and settings, then draw the parameters.

        self.theta: dict 'W0' (N_H, 4), 'b0' (N_H, 1), 'W1' (3, N_H), 'b1' (3, 1)
        self.var: cache of the last forward pass (see feed_forward)
        self.gradient: dict with the same keys and shapes as self.theta
        """
        self.num_input = num_input
        self.num_hidden = num_hidden
        self.num_output = num_output
        self.gradient_method = gradient_method
        self.lr = lr
        self.theta = {}
        self.var = {}
        self.gradient = {}
        self.init_params()

    def init_params(self):
        """Draw every entry of W0, b0, W1, b1 from N(MU, SIGMA^2) into self.theta.

        (NAG keeps state on the object between calls of train(): start it
        afresh here too.)"""
        # TODO
        raise NotImplementedError

    def set_theta(self, w0, b0, w1, b1):
        """Set the parameters to the given arrays (used by the gradient check).

        Start the optimizer afresh: the next train() continues from these values."""
        # TODO
        raise NotImplementedError

    def feed_forward(self, x, training=True):
        """x: (S, 4) array, one sample per row.  Return the PREDICTED LABELS, (S,).

        When training, cache in self.var: 'x' (4, S), 'z1' and 'a1' (N_H, S),
        'z2' and 'y_prob' (3, S), the softmax probabilities."""
        # TODO
        raise NotImplementedError

    def compute_loss(self, y):
        """Mean cross-entropy of the cached self.var['y_prob']; y: (S,) integer labels."""
        # TODO
        raise NotImplementedError

    def back_propagate(self, y):
        """Fill self.gradient (same keys and shapes as self.theta) with the
        gradient of compute_loss(y), from the cache of the last feed_forward
        (mean over the S samples).  Returns nothing."""
        # TODO
        raise NotImplementedError

    def train(self, x, y, num_iterations):
        """Run num_iterations iterations of self.gradient_method ("GD" or "NAG")
        with step self.lr; return the list of losses, one per iteration.

        Calling train(x, y, 1) repeatedly must continue the same run (the
        optimizer's state lives on the object).  NAG uses the lecture's
        schedule: t_0 = 1, t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2,
        beta_k = (t_k - 1) / t_{k+1}; y_k = theta_k + beta_k (theta_k - theta_{k-1});
        the gradient is taken AT y_k, then theta_{k+1} = y_k - lr grad(y_k)."""
        # TODO
        raise NotImplementedError
