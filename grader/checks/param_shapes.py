"""`param-shapes`: theta holds exactly the right keys with the right shapes,
for several hidden sizes (a hard-coded 16 must not pass)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..adapter import accepted_forms, asked_shape, classify_shape, interface_keys, is_bias
from ..schema import Criterion, Rubric
from .base import CheckParams, Context, Verdict, failed, passed, table
from .contract import Check
from .values import ParameterDescription, depth_problems, parameter_description


class Params(CheckParams):
    hidden: list[list[int]] = [[16], [5], [7]]


@dataclass(frozen=True)
class Variant:
    hidden: tuple[int, ...]
    parameters: ParameterDescription

    @property
    def label(self) -> str:
        return f"N_H={self.hidden[0]}" if len(self.hidden) == 1 else f"hidden={list(self.hidden)}"


@dataclass(frozen=True)
class Observation:
    """The student's parameter container, described, for each probed hidden size."""

    variants: tuple[Variant, ...]


def observe(ctx: Context, probe: Any, params: Params) -> Observation:
    variants = []
    for hidden in params.hidden:
        net = probe.new(hidden, seed=ctx.seed(*hidden))
        variants.append(Variant(tuple(hidden), parameter_description(net.describe_parameters())))
    return Observation(tuple(variants))


def validate(rubric: Rubric, crit: Criterion, params: Params) -> list[str]:
    """Probe networks as deep as the rubric's: a 2-hidden-layer assignment
    probed with 1-hidden-layer nets would vouch for blocks it never saw."""
    return [problem for hidden in params.hidden for problem in depth_problems(rubric, hidden)]


#: how a bias's layout is named in feedback
BIAS_FORM_WORDS = {"canonical": "a column", "flat": "a flat vector"}


def _block_problem(label: str, canon: str, student: str, entry: Any, canonical: tuple[int, ...],
                   iface: Any) -> tuple[list[Any], str | None, str | None]:
    """One block's table row, problem sentence and diagnosis (None when
    right).  A block is right in any layout the rubric's `bias_layouts` or
    `weight_layouts` lists."""
    shape = entry.shape
    bias_layouts, weight_layouts = iface.bias_layouts, iface.weight_layouts
    expected = asked_shape(canon, canonical, bias_layouts, weight_layouts)
    form = classify_shape(shape, canonical) if shape is not None else "mismatch"
    ok = form in accepted_forms(canon, bias_layouts, weight_layouts)
    row = [label, student, str(shape), str(expected), "ok" if ok else form]
    if ok:
        return row, None, None
    if is_bias(canon) and form in BIAS_FORM_WORDS:
        return row, (f"{label}: {student} has shape {shape}, {BIAS_FORM_WORDS[form]}; this assignment asks for "
                     f"{BIAS_FORM_WORDS['canonical' if 'column' in bias_layouts else 'flat']} {expected}"), \
            "bad-output"
    if form in ("transposed", "canonical"):   # a weight in the layout the rubric does not declare
        rule = "z = W x + b, so {w} must be (out, in)" if "out_in" in weight_layouts else \
            "z = x W + b, so {w} must be (in, out)"
        return row, (f"{label}: {student} has shape {shape}, the transpose of the expected {expected}; the "
                     f"assignment writes {rule.format(w=student)}"), "transposed-weights"
    if shape is None:
        return row, f"{label}: {student} is a {entry.dtype}, not an array", "bad-output"
    return row, f"{label}: {student} has shape {shape}, expected {expected}", "bad-output"


def _variant_problems(ctx: Context, variant: Variant) -> tuple[list[list[Any]], list[str], list[str]]:
    iface = ctx.rubric.interface
    if not variant.parameters.is_mapping:
        return [], [f"{variant.label}: self.{iface.parameters_attribute} is a {variant.parameters.container}, "
                    "not a dict"], ["api-missing"]
    shapes = ctx.oracle.architecture(list(variant.hidden)).shapes()
    pairs = interface_keys(len(variant.hidden) + 1, iface)
    entries = variant.parameters.entries
    rows, problems, diagnoses = [], [], []
    for canon, student in pairs:
        entry = entries.get(student)
        if entry is None:
            near = [k for k in entries if k.lower() == student.lower()]
            problems.append(f"{variant.label}: key {student!r} is missing"
                            + (f" (found {near[0]!r}: keys are case-sensitive)" if near else ""))
            diagnoses += ["key-typo"] if near else []
            rows.append([variant.label, student, "missing",
                         str(asked_shape(canon, shapes[canon], iface.bias_layouts, iface.weight_layouts)),
                         "missing"])
            continue
        row, problem, diagnosis = _block_problem(variant.label, canon, student, entry, shapes[canon], iface)
        rows.append(row)
        problems += [problem] if problem else []
        diagnoses += [diagnosis] if diagnosis else []
    extra = sorted(set(entries) - {student for _, student in pairs})
    if extra:
        problems.append(f"{variant.label}: unexpected extra keys {extra} in self.{iface.parameters_attribute}")
    return rows, problems, diagnoses


def judge(ctx: Context, obs: Observation, params: Params) -> Verdict:
    rows, problems, diagnoses = [], [], []
    for variant in obs.variants:
        r, p, d = _variant_problems(ctx, variant)
        rows, problems, diagnoses = rows + r, problems + p, diagnoses + d
    evidence = {"shapes": table(["network", "key", "your shape", "expected", "verdict"], rows)}
    if not problems:
        iface = ctx.rubric.interface
        keys = ", ".join(s for _, s in interface_keys(len(ctx.rubric.assignment.architecture.hidden) + 1, iface))
        return passed(f"{iface.parameters_attribute} holds exactly {keys} with the right shapes for {len(obs.variants)} hidden sizes.",
                      evidence=evidence)
    unique = list(dict.fromkeys(problems))
    return failed("Parameter shapes are not as specified:\n- " + "\n- ".join(unique[:8])
                  + ("\n(The other criteria are graded through an adapter that undoes this layout.)"
                     if "transposed-weights" in diagnoses else ""),
                  diagnoses=sorted(set(diagnoses)), evidence=evidence)


CHECK = Check(
    name="param_shapes",
    summary="theta holds exactly the blocks of the architecture, each with its shape, at several hidden sizes",
    Params=Params, Observation=Observation, operations=("construct", "get_parameters"),
    observe=observe, judge=judge, mistakes=("key-typo", "transposed-weights"),
    reference=False, validate=validate,
)
