"""Catalogue of known mistakes in backprop homework: id, title, explanation, fix.

Checks (``grader/checks/``) attach diagnosis ids to a criterion result when an
observation matches a known mistake; the renderers look the ids up here to show
the student a plain-language explanation and a concrete fix. Texts are plain
text (no HTML, no Markdown) so every renderer can use them as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Diagnosis", "CATALOGUE", "get"]


@dataclass(frozen=True)
class Diagnosis:
    """A known mistake: a short title, what it means, and how to fix it."""

    id: str
    title: str
    explanation: str
    fix: str


def _d(id: str, title: str, explanation: str, fix: str) -> Diagnosis:
    return Diagnosis(id=id, title=title, explanation=explanation, fix=fix)


_ENTRIES: tuple[Diagnosis, ...] = (
    # --- gradients -------------------------------------------------------------------
    _d(
        "sum-not-mean",
        "Gradient summed over samples, not averaged",
        "Your gradient is S times too large (S = number of samples): you add up the "
        "per-sample gradients but never divide by S, although the loss is a mean.",
        "Divide the summed gradient by S = x.shape[0], matching L = (1/S) sum_s "
        "L_s: for example dW1 = (1/S) e2 a1^T and db1 = (1/S) sum_s e2_s.",
    ),
    _d(
        "mean-twice",
        "Gradient averaged twice",
        "Your gradient is S times too small: you divide by S = x.shape[0] twice, "
        "for example once on the output error e2 and again on dW1 or db1.",
        "Divide by S exactly once: if e2 = (y~ - onehot(y)) / S already carries the "
        "1/S, then dW1 = e2 a1^T and db1 = sum_s e2_s with no further division.",
    ),
    _d(
        "sign-flip",
        "Gradient has the wrong sign",
        "Your gradient points in the opposite direction of the true gradient, so a "
        "descent step with it increases the loss.",
        "For softmax with cross-entropy the output error is e2 = y~ - onehot(y) "
        "(prediction minus target), not onehot(y) - y~; the update is "
        "theta <- theta - lr * grad.",
    ),
    _d(
        "activation-derivative-sigmoid",
        "Sigmoid's derivative used instead of the activation's",
        "You multiply by sigma(z)(1 - sigma(z)), the derivative of the sigmoid, but "
        "the hidden activation is another function (e.g. SiLU h(z) = z sigma(z)), whose derivative differs.",
        "Differentiate the activation you use in the forward pass; for SiLU h'(z) = sigma(z) + "
        "z sigma(z)(1 - sigma(z)) = sigma(z)(1 + z(1 - sigma(z))), so e1 = (W1^T e2) * h'(z1).",
    ),
    _d(
        "activation-derivative-at-activation",
        "Activation derivative evaluated at a = h(z) instead of z",
        "You evaluate the activation's derivative at the activation a1 = h(z1) "
        "instead of at the pre-activation z1; for SiLU these are different points.",
        "Keep z1 = W0 x + b0 from the forward pass and compute e1 = (W1^T e2) * "
        "h'(z1), not h'(a1).",
    ),
    _d(
        "bias-one-sample",
        "Bias gradient taken from one sample",
        "Your bias gradient uses the error of a single sample (often the first or "
        "the last one) instead of combining the errors of all S samples.",
        "Sum the error over the sample axis and divide by S: db = (1/S) sum_s e_s, "
        "e.g. e.sum(axis=1, keepdims=True) / S for an error e of shape (N, S).",
    ),
    _d(
        "gradient-transposed",
        "Gradient is transposed",
        "Your weight gradient has the transposed layout, for example (a1)^T e2 "
        "instead of e2 a1^T, so its entries land in the wrong positions.",
        "Give each gradient the shape of its parameter: dW1 = e2 a1^T has shape "
        "(3, N_H) like W1, and dW0 = e1 x has shape (N_H, 4) like W0 (x is (S, 4)).",
    ),
    _d(
        "gradient-shape",
        "Gradient has the wrong shape",
        "A gradient array does not have the shape of the parameter it belongs to, so "
        "it cannot be used in the update theta - lr * grad.",
        "Return a dict with the same keys and shapes as self.theta: dW0 (N_H, 4), "
        "db0 (N_H, 1), dW1 (3, N_H), db1 (3, 1); sum over samples, never keep an S axis.",
    ),
    # --- forward / loss --------------------------------------------------------------
    _d(
        "softmax-overflow",
        "Softmax overflows for large inputs",
        "Your softmax computes exp(z) directly, which overflows to inf (and then NaN) "
        "when the scores z are large.",
        "Subtract the column maximum first: softmax(z) = exp(z - max(z)) / sum "
        "exp(z - max(z)), with the max taken over the classes of each sample; the "
        "result is mathematically unchanged.",
    ),
    _d(
        "transposed-weights",
        "Weight matrix stored transposed",
        "A weight matrix is stored with its axes swapped, for example W0 of shape "
        "(4, N_H) instead of (N_H, 4).",
        "Store W0 with shape (N_H, num_input) and W1 with shape (num_output, N_H), "
        "so that z1 = W0 x + b0 for a column x, i.e. x @ W0.T for rows.",
    ),
    _d(
        "wrong-activation",
        "Wrong activation function",
        "The hidden layer does not apply the activation the assignment asks for "
        "(the feedback names the one your output matches), so your network computes a different function.",
        "Use the assignment's activation in the hidden layer (e.g. SiLU h(z) = z * sigmoid(z) = "
        "z / (1 + exp(-z))) and its derivative in back-propagation.",
    ),
    _d(
        "loss-sum-not-mean",
        "Loss summed over samples, not averaged",
        "Your loss is S times the mean cross-entropy: you add the per-sample losses "
        "but do not divide by the number of samples S.",
        "Return L = -(1/S) sum_s log y~_{y_s}, e.g. -np.mean(np.log(p[y, "
        "np.arange(S)])) for probabilities p of shape (3, S).",
    ),
    # --- initialization --------------------------------------------------------------
    _d(
        "init-constant",
        "Parameters initialized to a constant",
        "All entries of a parameter start with the same value (for example zeros or "
        "ones), which is not a draw from N(0, 0.05^2).",
        "Draw every entry independently: np.random.normal(0.0, 0.05, size=shape) "
        "for each of W0, b0, W1, b1.",
    ),
    _d(
        "init-symmetric",
        "Hidden units initialized symmetrically",
        "Several hidden units start with identical weights, so they receive identical "
        "gradients and stay identical forever: the network cannot use them.",
        "Draw each weight independently from N(0, 0.05^2), e.g. "
        "np.random.normal(0.0, 0.05, size=(N_H, 4)); do not copy one row or column.",
    ),
    _d(
        "init-wrong-scale",
        "Initial values have the wrong spread",
        "Your initial values do not have standard deviation 0.05 (or mean 0); a "
        "common cause is passing the variance 0.0025 where the standard deviation is "
        "expected, or forgetting to scale.",
        "Use np.random.normal(loc=0.0, scale=0.05, size=shape): scale is the standard "
        "deviation 0.05, not the variance.",
    ),
    _d(
        "init-not-normal",
        "Initial values are not normally distributed",
        "Your initial values do not look like draws from a normal distribution, for "
        "example they are uniform (np.random.rand) instead of Gaussian.",
        "Use a normal distribution: np.random.normal(0.0, 0.05, size=shape) or "
        "0.05 * np.random.randn(*shape), not np.random.rand or np.random.uniform.",
    ),
    # --- optimizers ------------------------------------------------------------------
    _d(
        "heavy-ball",
        "NAG takes the gradient at the current iterate (heavy-ball momentum)",
        "You build the look-ahead point but evaluate the gradient at the current "
        "parameters theta_k; that is Polyak's heavy-ball method, not Nesterov's.",
        "Evaluate the gradient at the look-ahead point: y_k = theta_k + mu (theta_k - "
        "theta_{k-1}), then theta_{k+1} = y_k - lr * grad L(y_k).",
    ),
    _d(
        "zero-momentum",
        "Momentum term is always zero (previous iterate aliased)",
        "Your 'previous iterate' refers to the same arrays as the current one (for "
        "example prev = self.theta, or an in-place update), so theta_k - theta_{k-1} "
        "is always zero and NAG behaves like plain gradient descent.",
        "Store a copy before updating: prev = {k: v.copy() for k, v in "
        "self.theta.items()}, then assign new arrays rather than updating in place.",
    ),
    _d(
        "wrong-momentum",
        "Momentum is applied incorrectly",
        "Your NAG steps do not match y_k = theta_k + mu (theta_k - theta_{k-1}) with "
        "the given momentum mu: the momentum coefficient, the sign of the difference, "
        "or the starting value theta_{-1} = theta_0 is off.",
        "Use y_k = theta_k + mu (theta_k - theta_{k-1}) with mu = self.momentum and "
        "theta_{-1} = theta_0 (so the first step is a plain gradient step), then "
        "theta_{k+1} = y_k - lr * grad L(y_k).",
    ),
    _d(
        "momentum-hard-coded",
        "Momentum ignores the momentum argument",
        "Your NAG steps are right for the assignment's momentum, but with another "
        "momentum passed to the constructor they still use the assignment's value: "
        "the coefficient is written into the code.",
        "Store the constructor's momentum (self.momentum = momentum) and use "
        "self.momentum in step(), never a literal such as 0.9.",
    ),
    _d(
        "nag-missing",
        "NAG behaves like gradient descent",
        "With gradient_method='NAG' your step gives exactly the same iterates as "
        "'GD', so no momentum is applied at all.",
        "Branch on self.gradient_method in step(): for 'NAG' form the look-ahead "
        "point y_k = theta_k + mu (theta_k - theta_{k-1}) and step from it.",
    ),
    _d(
        "key-typo",
        "Parameter written under another key",
        "A parameter is updated under a different dict key (for example 'w0' instead "
        "of 'W0'), so the real parameter in self.theta never changes.",
        "Use exactly the keys 'W0', 'b0', 'W1', 'b1' everywhere, e.g. loop over "
        "self.theta.keys() in step() instead of typing the names again.",
    ),
    _d(
        "wrong-step-size",
        "Learning rate ignored or wrong",
        "Your update does not move by lr * grad: the learning rate is ignored, "
        "hard-coded, or applied twice.",
        "Use the learning rate passed to the constructor: theta <- theta - self.lr * "
        "grad, with no other factor.",
    ),
    # --- training --------------------------------------------------------------------
    _d(
        "no-progress",
        "Training does not lower the loss",
        "A short training run from a fixed start leaves the training loss where it "
        "started (or raises it), so the network does not learn.",
        "Check that step() updates self.theta in place of the old values, that the "
        "gradient is correct (compare with finite differences), and that train() "
        "returns the loss after each step.",
    ),
    _d(
        "diverged",
        "Training diverged",
        "During training the loss blew up (it climbed far above where it started, or the loss or "
        "the parameters became NaN or infinite): each step overshoots, usually because the gradient "
        "is far too large (e.g. summed instead of averaged over the S samples, which acts like an "
        "S times larger learning rate) or because of an overflowing exp.",
        "Check the gradient scale first (it must be averaged over S samples, and the step uses "
        "lr * grad once), then use a stable softmax (subtract the max) and a stable log (of "
        "probabilities that are never exactly 0).",
    ),
    # --- running the submission ------------------------------------------------------
    _d(
        "timeout",
        "Time limit exceeded",
        "Your code did not finish within the time limit, often because of an "
        "infinite loop, a huge per-sample Python loop, or training at import time.",
        "Vectorize over samples with NumPy and move experiments (training runs, "
        "plots) under if __name__ == '__main__': so importing nn.py is fast.",
    ),
    _d(
        "crash",
        "Your program crashed or exited",
        "The process running your code ended in the middle of a check: it called "
        "sys.exit()/os._exit(), was killed (often for using more memory than allowed), "
        "or interfered with the grader's channel, so this part could not be checked.",
        "Do not call exit functions or kill processes in nn.py, keep experiments under "
        "if __name__ == '__main__':, and run the same call on a small input yourself, "
        "e.g. NN().back_propagate(x[:5], y[:5]).",
    ),
    _d(
        "syntax-error",
        "Syntax error",
        "Python could not parse your file, so none of it could be run.",
        "Open the file at the line in the message and fix the syntax (missing ':' or "
        "bracket, wrong indentation); python -m py_compile nn.py checks it locally.",
    ),
    _d(
        "import-error",
        "Import failed",
        "Importing your file failed, for example because it imports a module that is "
        "not available (only NumPy is) or runs code that crashes at import time.",
        "Import only numpy (and the standard library), and put experiments under "
        "if __name__ == '__main__': so python -c 'import nn' works.",
    ),
    _d(
        "api-missing",
        "Class, method or attribute not found",
        "The grader could not find a name the assignment requires, such as the class "
        "NN, one of its methods, or the attribute self.theta.",
        "Keep the names and signatures from the handout exactly: class NN with "
        "init_params, feed_forward, loss, back_propagate, step, train, and self.theta.",
    ),
    _d(
        "bad-output",
        "Returned value has the wrong type or shape, or contains NaN",
        "A method returned something the grader cannot use: the wrong type, the "
        "wrong shape, or NaN/inf values.",
        "Return NumPy float arrays of the documented shapes, e.g. feed_forward(x) "
        "-> probabilities of shape (3, S), loss -> a float, back_propagate -> a dict "
        "like self.theta.",
    ),
    # --- regularization -----------------------------------------------------------------
    _d(
        "penalty-missing",
        "Elastic-net penalty missing",
        "Your loss or gradient is that of the data term alone: the elastic-net penalty "
        "l1 sum|W| + l2 sum W^2 (and its gradient l1 sign(W) + 2 l2 W) is not included.",
        "Add l1 * np.abs(W).sum() + l2 * (W ** 2).sum() for each penalized weight matrix to the loss, and "
        "l1 * np.sign(W) + 2 * l2 * W to that matrix's gradient.",
    ),
    _d(
        "penalty-on-biases",
        "Biases penalized",
        "You apply the elastic-net penalty to the biases too; only the weight matrices are regularized.",
        "Leave b0, b1, ... out of the penalty and out of its gradient.",
    ),
    _d(
        "penalty-l2-factor",
        "L2 gradient missing its factor 2",
        "The derivative of l2 sum W^2 is 2 l2 W; your gradient has l2 W.",
        "Use 2 * l2 * W in the gradient of each penalized weight matrix.",
    ),
    _d(
        "train-broken",
        "train() does not do its job",
        "train(x, y, n) must run n iterations of step() and return one loss per "
        "iteration, each the assignment's loss at the iterate before or after that "
        "step; yours hung, crashed, or returned other numbers.",
        "Loop n times: record self.loss(x, y), then call self.step(x, y); return the "
        "list of recorded losses.",
    ),
    _d(
        "trajectory-mismatch",
        "Training run not produced by the update rule",
        "Spot checks of your training run found a step that is not theta - lr * g "
        "(or NAG's update) with the assignment's gradient or your own verified one: "
        "the parameters changed in a way no step() rule explains.",
        "Make step() compute the update from the current parameters and the "
        "gradient of the loss on the data it is given, and nothing else.",
    ),
    _d(
        "missing",
        "Submission not found",
        "The grader found no file to grade: the path does not exist, or it is not a .py, .ipynb or .zip.",
        "Hand in nn.py (or nn.ipynb), or a folder or .zip containing it.",
    ),
    _d(
        "bad-archive",
        "Unusable zip file",
        "The .zip could not be opened safely: it is corrupt, too large, or has paths that point outside its folder.",
        "Zip the folder that contains nn.py again (right-click > compress), without absolute paths.",
    ),
    _d(
        "notebook-unreadable",
        "Notebook file is not a readable notebook",
        "A .ipynb file is JSON written by Jupyter; this one could not be read as a notebook (it was cut "
        "short, edited as text, or is another kind of file renamed to .ipynb), so no cell could be run.",
        "Open it in Jupyter (or VS Code) and save it again (File > Save), check that it opens, then hand it "
        "in; or hand in your code as nn.py (File > Download as > Python).",
    ),
    _d(
        "not-utf8",
        "File is not UTF-8 text",
        "Python reads source files as UTF-8 unless the first or second line declares another encoding; "
        "your file has a byte (often an accented letter saved by an editor in Latin-1 or Windows-1252) "
        "that cannot be read that way, so none of it could be run.",
        "Save the file as UTF-8 in your editor (e.g. 'Save with Encoding > UTF-8'), or declare its "
        "encoding on the first line, e.g. # -*- coding: latin-1 -*-; the message names the line and column.",
    ),
    _d(
        "no-code-file",
        "No Python code handed in",
        "What was handed in holds no .py file and no notebook (.ipynb): a PDF, a text file or other "
        "documents cannot be run, so nothing could be graded.",
        "Hand in your code as nn.py or nn.ipynb (alone, or in the folder or .zip you hand in); if your code "
        "sits in a .txt file, rename it to nn.py. A written report goes in addition to the code, not instead.",
    ),
    _d(
        "empty-file",
        "Empty file",
        "The file handed in is empty (or holds only blank lines and comments): perhaps it was not saved "
        "before it was uploaded, so there was nothing to run.",
        "Save your work, check that the file you upload has your code in it (open it again from the upload "
        "folder), then hand it in again.",
    ),
    _d(
        "symlink",
        "Submission is a symbolic link",
        "What was handed in is a symbolic link (a shortcut to a file elsewhere), not a file: "
        "the grader never follows it.",
        "Hand in the file itself (nn.py, nn.ipynb, a folder or a .zip), not a link to it.",
    ),
)

def _answer_entries() -> tuple[Diagnosis, ...]:
    """Mistakes in written answers: their records (grader/answers/mistakes.py)
    hold the catalogue texts next to how each is recognized."""
    from .answers.mistakes import RECORDS

    return tuple(_d(r.id, r.title, r.explanation, r.fix) for r in RECORDS.values())


CATALOGUE: dict[str, Diagnosis] = {d.id: d for d in (*_ENTRIES, *_answer_entries())}
"""All known diagnoses by id."""


def get(diagnosis_id: str) -> Diagnosis:
    """Return the catalogue entry for ``diagnosis_id``.

    Unknown ids never raise: they give a generic entry whose title is the id, so
    a renderer can always show something.
    """
    try:
        return CATALOGUE[diagnosis_id]
    except (KeyError, TypeError):
        return Diagnosis(
            id=str(diagnosis_id),
            title=str(diagnosis_id),
            explanation="The grader flagged this pattern, but it has no description yet.",
            fix="Compare your code with the formulas in the handout, and ask the course staff.",
        )
