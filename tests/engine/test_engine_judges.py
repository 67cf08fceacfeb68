"""Every diagnosis the grader claims, tested on synthetic observations.

Judges are pure functions of observations, so each known mistake is
reproduced here with the reference's own numbers, mutated the way the
mistake mutates them, without starting a student process.  Each test fails
if its diagnosis is removed or mis-triggered.
"""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks.observe import parameter_description
from grader.checks import param_count, param_shapes


# -- parameters ------------------------------------------------------------------

def shapes_obs(entries_for):
    """A typed observation, built the way observe builds it: from worker replies."""
    variants = []
    for hidden in ([16], [5], [7]):
        h = hidden[0]
        entries = {k: {"shape": list(s), "size": int(np.prod(s)), "dtype": "float64"}
                   for k, s in entries_for(h).items()}
        reply = {"type": "dict", "entries": entries}
        variants.append(param_shapes.Variant(tuple(hidden), parameter_description(reply)))
    return param_shapes.Observation(tuple(variants))


def test_param_shapes_and_count(make_ctx):
    ctx = make_ctx("param-shapes")
    good = shapes_obs(lambda h: {"W0": (h, 4), "b0": (h, 1), "W1": (3, h), "b1": (3, 1)})
    assert param_shapes.judge(ctx, good, ctx.criterion.check_params()).status == "passed"
    flat = shapes_obs(lambda h: {"W0": (h, 4), "b0": (h,), "W1": (3, h), "b1": (3,)})
    assert param_shapes.judge(ctx, flat, ctx.criterion.check_params()).status == "passed"
    transposed = shapes_obs(lambda h: {"W0": (4, h), "b0": (h, 1), "W1": (3, h), "b1": (3, 1)})
    v = param_shapes.judge(ctx, transposed, ctx.criterion.check_params())
    assert v.diagnoses == ["transposed-weights"]
    typo = shapes_obs(lambda h: {"w0": (h, 4), "b0": (h, 1), "W1": (3, h), "b1": (3, 1)})
    assert "key-typo" in param_shapes.judge(ctx, typo, ctx.criterion.check_params()).diagnoses
    cctx = make_ctx("param-count")
    assert param_count.judge(cctx, good, cctx.criterion.check_params()).status == "passed"
    extra = shapes_obs(lambda h: {"W0": (h, 4), "b0": (h, 1), "W1": (3, h), "b1": (3, 1), "v_W0": (h, 4)})
    v = param_count.judge(cctx, extra, cctx.criterion.check_params())
    assert v.status == "failed" and "more than" in v.feedback
