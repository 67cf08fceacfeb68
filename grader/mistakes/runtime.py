"""What went wrong while running the student's code (not a named mathematical mistake).

One record per mistake (see `grader.mistakes`); texts may use the rubric's
own words (`grader.mistakes.words`)."""

from __future__ import annotations

from .record import Mistake

FAMILY = "runtime"

RECORDS: tuple[Mistake, ...] = (
    Mistake(
        'timeout', FAMILY,
        title='Time limit exceeded',
        explanation='Your code did not finish within the time limit, often because of an infinite loop, a huge per-sample Python loop, or training at import time.',
        fix="Vectorize over samples with NumPy and move experiments (training runs, plots) under if __name__ == '__main__': so importing nn.py is fast.",
        recognized="a request used up its criterion's CPU budget, or the wall-clock backstop (the worker is killed and restarted)",
    ),
    Mistake(
        'crash', FAMILY,
        title='Your program crashed or exited',
        explanation="The process running your code ended in the middle of a check: it called sys.exit()/os._exit(), was killed (often for using more memory than allowed), or interfered with the grader's channel, so this part could not be checked.",
        fix="Do not call exit functions or kill processes in nn.py, keep experiments under if __name__ == '__main__':, and run the same call on a small input yourself, e.g. NN().back_propagate(x[:5], y[:5]).",
        recognized="the worker process died (signal, memory limit) or broke the channel's protocol",
    ),
    Mistake(
        'syntax-error', FAMILY,
        title='Syntax error',
        explanation='Python could not parse your file, so none of it could be run.',
        fix="Open the file at the line in the message and fix the syntax (missing ':' or bracket, wrong indentation); python -m py_compile nn.py checks it locally.",
        recognized='importing the file raised SyntaxError, IndentationError or TabError',
    ),
    Mistake(
        'import-error', FAMILY,
        title='Import failed',
        explanation='Importing your file failed, for example because it imports a module that is not available (only NumPy is) or runs code that crashes at import time.',
        fix="Import only numpy (and the standard library), and put experiments under if __name__ == '__main__': so python -c 'import nn' works.",
        recognized='importing the file raised ImportError (a module outside the allow-list) or another exception at top level',
    ),
    Mistake(
        'api-missing', FAMILY,
        title='Class, method or attribute not found',
        explanation='The grader could not find a name the assignment requires, such as the class NN, one of its methods, or the attribute self.theta.',
        fix='Keep the names and signatures from the handout exactly: class NN with init_params, feed_forward, loss, back_propagate, step, train, and self.theta.',
        recognized="the class, a method the criterion's operations need, or the parameter attribute is missing; or a method refuses the documented arguments",
    ),
    Mistake(
        'bad-output', FAMILY,
        title='Returned value has the wrong type or shape, or contains NaN',
        explanation='A method returned something the grader cannot use: the wrong type, the wrong shape, or NaN/inf values.',
        fix='Return NumPy float arrays of the documented shapes, e.g. feed_forward(x) -> probabilities of shape (3, S), loss -> a float, back_propagate -> a dict like self.theta.',
        recognized="a value the student's code returned failed validation into the check's typed observation",
    ),
    Mistake(
        'grader-error', FAMILY,
        title='The grader failed on this criterion',
        explanation='The grader itself failed while checking this criterion: this is a bug in the grader or its rubric, not a mistake in your work. The criterion is left out of your total until the course staff fix it and grade again.',
        fix='Nothing to change in your code for this criterion. A batch reports every grader failure to the course staff; if it happens in your own self-check, tell them.',
        recognized='any exception in a check after the student values were validated, or a verdict naming a mistake its check does not declare',
    ),
)
