"""`param-count`: the learnable scalars number exactly what the architecture
implies (a linear function of N_H), for several sizes.  Checked
from the shapes alone, so a 1.7-million-parameter network costs nothing."""

from __future__ import annotations

from .base import Context, Verdict, failed, passed, table
from .contract import Check
from .param_shapes import Observation, Params, observe, validate  # the same observation and probe sizes


def judge(ctx: Context, obs: Observation, params: Params) -> Verdict:
    rows, problems = [], []
    for variant in obs.variants:
        expected = ctx.oracle.architecture(list(variant.hidden)).param_count()
        counted = sum(e.size for e in variant.parameters.entries.values())
        rows.append([variant.label, counted, expected])
        if not variant.parameters.is_mapping:
            problems.append(f"{variant.label}: the parameters are not a dict of arrays")
        elif counted != expected:
            more = "more" if counted > expected else "fewer"
            problems.append(f"{variant.label}: {counted:,} learnable scalars, {more} than the {expected:,} the "
                            f"architecture has")
    evidence = {"counts": table(["network", "your count", "expected"], rows)}
    if problems:
        return failed("The number of learnable parameters is wrong:\n- " + "\n- ".join(problems)
                      + "\nOnly weights and biases belong in theta (no gradients, caches or momentum buffers).",
                      evidence=evidence)
    return passed(f"The parameter count matches the architecture for {len(rows)} hidden sizes "
                  f"(e.g. {rows[0][2]:,}).", evidence=evidence)


CHECK = Check(
    name="param_count",
    summary="theta holds as many learnable scalars as the architecture implies, at several hidden sizes",
    Params=Params, Observation=Observation, operations=("construct", "get_parameters"),
    observe=observe, judge=judge, reference=False, validate=validate,
)
