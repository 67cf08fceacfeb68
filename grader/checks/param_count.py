"""`param-count`: the learnable scalars number exactly what the architecture
implies (a linear function of N_H), for several sizes.  Checked
from the shapes alone, so a 1.7-million-parameter network costs nothing."""

from __future__ import annotations

from .base import Context, Verdict, failed, passed, table
from .param_shapes import Params, observe  # the same observation: keys, shapes and sizes per hidden size

__all__ = ["Params", "observe", "judge"]


def judge(ctx: Context, obs: dict, params: Params) -> Verdict:
    rows, problems = [], []
    for variant in obs["variants"]:
        hidden = variant["hidden"]
        expected = ctx.oracle.architecture(hidden).param_count()
        entries = variant["raw"]["entries"]
        counted = sum(int(e["size"]) for e in entries.values())
        label = f"N_H={hidden[0]}" if len(hidden) == 1 else f"hidden={hidden}"
        rows.append([label, counted, expected])
        if variant["raw"]["type"] != "dict":
            problems.append(f"{label}: the parameters are not a dict of arrays")
        elif counted != expected:
            more = "more" if counted > expected else "fewer"
            problems.append(f"{label}: {counted:,} learnable scalars, {more} than the {expected:,} the "
                            f"architecture has")
    evidence = {"counts": table(["network", "your count", "expected"], rows)}
    if problems:
        return failed("The number of learnable parameters is wrong:\n- " + "\n- ".join(problems)
                      + "\nOnly weights and biases belong in theta (no gradients, caches or momentum buffers).",
                      evidence=evidence)
    return passed(f"The parameter count matches the architecture for {len(rows)} hidden sizes "
                  f"(e.g. {rows[0][2]:,}).", evidence=evidence)
