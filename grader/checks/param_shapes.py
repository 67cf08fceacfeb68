"""`param-shapes`: theta holds exactly the right keys with the right shapes,
for several hidden sizes (a hard-coded 16 must not pass)."""

from __future__ import annotations

from typing import Any

from ..adapter import canonical_keys, classify_shape
from .base import CheckParams, Context, Verdict, failed, passed, table


class Params(CheckParams):
    hidden: list[list[int]] = [[16], [5], [7]]


def observe(ctx: Context, probe: Any, params: Params) -> dict:
    variants = []
    for hidden in params.hidden:
        net = probe.new(hidden, seed=ctx.seed(*hidden))
        variants.append({"hidden": list(hidden), "raw": net.describe_parameters()})
    return {"variants": variants}


def expected_shapes(sizes: tuple[int, ...]) -> dict[str, tuple[int, int]]:
    out = {}
    for i in range(len(sizes) - 1):
        out[f"W{i}"] = (sizes[i + 1], sizes[i])
        out[f"b{i}"] = (sizes[i + 1], 1)
    return out


def judge(ctx: Context, obs: dict, params: Params) -> Verdict:
    iface = ctx.rubric.interface
    arch = ctx.rubric.assignment.architecture
    problems: list[str] = []
    diagnoses: list[str] = []
    rows = []
    for variant in obs["variants"]:
        hidden = variant["hidden"]
        desc = variant["raw"]
        sizes = (arch.inputs, *hidden, arch.outputs)
        label = f"N_H={hidden[0]}" if len(hidden) == 1 else f"hidden={hidden}"
        if desc["type"] != "dict":
            problems.append(f"{label}: self.{iface.parameters_attribute} is a {desc['type']}, not a dict")
            diagnoses.append("api-missing")
            continue
        entries = desc["entries"]
        shapes = expected_shapes(sizes)
        pairs = canonical_keys(len(sizes) - 1, iface.weight_key, iface.bias_key)
        wanted = {student for _, student in pairs}
        for canon, student in pairs:
            expected = shapes[canon]
            entry = entries.get(student)
            if entry is None:
                near = [k for k in entries if k.lower() == student.lower()]
                hint = f" (found {near[0]!r}: keys are case-sensitive)" if near else ""
                problems.append(f"{label}: key {student!r} is missing{hint}")
                if near:
                    diagnoses.append("key-typo")
                rows.append([label, student, "missing", str(expected), "missing"])
                continue
            shape = tuple(entry["shape"]) if entry["shape"] is not None else None
            form = classify_shape(shape, expected) if shape is not None else "mismatch"
            ok = form == "canonical" or (form == "flat" and "flat" in iface.bias_layouts and canon.startswith("b"))
            verdict = "ok" if ok else form
            rows.append([label, student, str(shape), str(expected), verdict])
            if ok:
                continue
            if form == "transposed":
                problems.append(f"{label}: {student} has shape {shape}, the transpose of the expected {expected}; "
                                f"the assignment writes z1 = W0 x + b0, so {student} must be (out, in)")
                diagnoses.append("transposed-weights")
            elif shape is None:
                problems.append(f"{label}: {student} is a {entry['dtype']}, not an array")
                diagnoses.append("bad-output")
            else:
                problems.append(f"{label}: {student} has shape {shape}, expected {expected}")
                diagnoses.append("bad-output")
        extra = sorted(set(entries) - wanted)
        if extra:
            problems.append(f"{label}: unexpected extra keys {extra} in self.{iface.parameters_attribute}")
    evidence = {"shapes": table(["network", "key", "your shape", "expected", "verdict"], rows)}
    if not problems:
        return passed(f"theta holds exactly {', '.join(w for _, w in canonical_keys(len(arch.hidden) + 1, iface.weight_key, iface.bias_key))} "
                      f"with the right shapes for {len(obs['variants'])} hidden sizes.", evidence=evidence)
    unique = list(dict.fromkeys(problems))
    return failed("Parameter shapes are not as specified:\n- " + "\n- ".join(unique[:8])
                  + ("\n(The other criteria are graded through an adapter that undoes this layout.)"
                     if "transposed-weights" in diagnoses else ""),
                  diagnoses=sorted(set(diagnoses)), evidence=evidence)
