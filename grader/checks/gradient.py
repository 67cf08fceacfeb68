"""`grad-W0`, `grad-b0`, ...: one parameter block's gradient.

The student's `back_propagate` is compared with (a) central finite
differences of the student's *own* loss (float64, h = 1e-6) and (b) the
reference gradient, on a probe network whose sizes are all distinct
(S=5, N_H=6, 4 inputs, 3 classes), so a transposed result cannot hide.
On large networks (`mode: directional`) both comparisons use a few random
directions instead of every coordinate, so the cost does not grow with
the number of parameters.

When the numbers are wrong the judge names the mistake by fitting them to
families of known mistakes (`gradient_families`: scalings, penalty terms,
output errors, derivative points), each fit confirmed on a second probe
with another batch size and theta (one more `back_propagate` call, no
finite differences), so a coincidence on one probe names nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ..adapter import asked_shape
from ..probe import FLOAT64_EPS, float_eps, precision_name
from ..schema import Criterion, Rubric
from .base import CheckParams, Context, Verdict, best_scale, close, fmt, rel_error, sig, table
from .values import depth_problems
from .contract import Check, StudentValueError
from .gradient_families import FAMILY_MISTAKES, Finding, Match, Point, Sizes, explain
from .loss import named_loss, prefetch_named_losses

SELF_CONSISTENT_CREDIT = 0.5

#: above this many parameters a kit records no mutant gradients (they would be huge)
KIT_MUTANT_LIMIT = 100_000

#: a back_propagate that calls the loss or the forward pass more often than
#: this per call is taking finite differences, not backpropagating
NUMERICAL_CALLS = 4


class Params(CheckParams):
    block: str
    hidden: list[int] = [6]
    samples: int = 5
    confirm_samples: int = 7    # the second probe's batch size: a factor S must follow it
    h: float = 1e-6
    mode: Literal["full", "directional"] = "full"
    directions: int = 4
    max_coordinates: int = 200


# -- the observation -----------------------------------------------------------------------------

@dataclass(frozen=True)
class StudentGradient:
    """The student's `back_propagate` at one probe point, validated: per
    block the canonical float64 array (None when unusable) and how it was
    stored ('ok', 'transposed', 'missing', 'shape (2, 3)', 'a str', ...)."""

    theta: dict[str, np.ndarray]
    x: np.ndarray
    y: np.ndarray
    grads: dict[str, np.ndarray | None]
    forms: dict[str, str]


@dataclass(frozen=True)
class FiniteDifferences:
    """Central differences of the student's own loss at the first probe:
    along flat coordinates of the block (`coords`) or unit `directions`."""

    values: np.ndarray
    coords: np.ndarray | None
    directions: tuple[np.ndarray, ...] | None
    h: float
    own_loss: float

    def project(self, g: np.ndarray) -> np.ndarray:
        """The student's gradient seen the way the differences see it."""
        if self.coords is not None:
            return np.ravel(g)[self.coords]
        return np.array([float(np.sum(g * d)) for d in self.directions or ()])


@dataclass(frozen=True)
class Observation:
    """What the student's code did for one block's criterion."""

    block: str
    hidden: tuple[int, ...]
    first: StudentGradient       # the probe the criterion is judged on
    second: StudentGradient      # another S and theta: confirms a family fit before it is named
    fd: FiniteDifferences
    eps: float                   # machine epsilon of the student's gradient (float64's or coarser)
    float32: bool                # the student keeps or computes in float32
    calls: dict[str, int]        # loss / feed_forward calls during one back_propagate

    @property
    def loss_scale(self) -> float:
        """|L| for a float32 loss (its rounding is eps |L|), else 1."""
        own = self.fd.own_loss
        return abs(own) if self.eps > FLOAT64_EPS and np.isfinite(own) else 1.0


def probe_inputs(ctx: Context, params: Params) -> tuple[dict, Any, Any]:
    """The same theta and batch for every block: one mistake, one picture."""
    x, y = ctx.oracle.batch(params.samples, "gradient")
    return ctx.oracle.theta(params.hidden, "gradient"), x, y


def confirm_inputs(ctx: Context, params: Params) -> tuple[dict, Any, Any]:
    """The second probe: another S and theta, shared by every block like the
    first (a kit records its reference answers once, not once per block),
    seeded by the course secret when grading for real (`Oracle.seed`)."""
    x, y = ctx.oracle.batch(params.confirm_samples, "gradient", "confirm")
    return ctx.oracle.theta(params.hidden, "gradient", "confirm"), x, y


def observe(ctx: Context, probe: Any, params: Params) -> Observation:
    net = probe.new(params.hidden, seed=ctx.seed("net"))
    layout = net.require_layout()
    if params.block not in layout.blocks:   # `validate` refuses such a rubric: reaching here is a grader bug
        raise KeyError(f"block {params.block!r} is not in the probe network's layout")
    theta, x, y = probe_inputs(ctx, params)
    net.set_parameters(theta)
    reply = net.call("back_propagate", x, y, count=("loss", "feed_forward"))
    first = student_gradient(reply.get("value"), layout, theta, x, y)
    # the precision the student computes in (the dtype of the gradient it returns)
    # sets the finite-difference step: float32 losses need h near eps^(1/3)
    eps = float_eps(reply.get("value"))
    fd = _finite_differences(ctx, net, params, theta, x, y, eps)
    theta2, x2, y2 = confirm_inputs(ctx, params)
    second = student_gradient(net.gradient_at(theta2, x2, y2), layout, theta2, x2, y2)
    return Observation(params.block, tuple(params.hidden), first, second, fd, eps,
                       eps > FLOAT64_EPS or bool(net.is_float32), _calls(reply.get("calls")))


def _finite_differences(ctx: Context, net: Any, params: Params, theta: dict, x: np.ndarray, y: np.ndarray,
                        eps: float) -> FiniteDifferences:
    h = max(params.h, eps ** (1.0 / 3.0)) if eps > FLOAT64_EPS else params.h
    shape = theta[params.block].shape
    rng = np.random.default_rng(ctx.seed("directions"))
    coords, directions = None, None
    if params.mode == "full":
        size = int(np.prod(shape))
        coords = (np.arange(size) if size <= params.max_coordinates
                  else np.sort(rng.choice(size, params.max_coordinates, replace=False)))
        asked: list[Any] = [(params.block, int(i)) for i in coords]
    else:
        units = [rng.standard_normal(shape) for _ in range(params.directions)]
        directions = tuple(d / np.linalg.norm(d) for d in units)
        asked = [{params.block: d} for d in directions]
    values, own_loss = net.finite_differences(theta, x, y, asked, h)
    return FiniteDifferences(np.asarray(values, dtype=np.float64), coords, directions, h, float(own_loss))


def _calls(value: Any) -> dict[str, int]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value.values()):
        raise StudentValueError("the count of calls during back_propagate is malformed", value)
    return {str(k): int(v) for k, v in value.items()}


def student_gradient(raw: Any, layout: Any, theta: dict, x: np.ndarray, y: np.ndarray) -> StudentGradient:
    grads, forms = canonical_gradient(raw, layout, theta)
    return StudentGradient(theta, x, y, grads, forms)


#: array kinds a gradient may have: float, signed and unsigned integers
NUMERIC_KINDS = "fiu"


def canonical_gradient(raw: Any, layout: Any, theta: dict) -> tuple[dict, dict]:
    """Per block: the canonical float64 array (or None) and how it was stored:
    'ok', 'transposed' (the transpose of its parameter), 'missing', a shape,
    or what it was instead of a numeric array.  Whatever the student
    returned, nothing here raises, and nothing non-numeric gets through."""
    grads: dict[str, np.ndarray | None] = {}
    forms: dict[str, str] = {}
    if not isinstance(raw, dict) or "__obj__" in raw:
        for key in theta:
            grads[key], forms[key] = None, "missing"
        return grads, forms
    for key, block in layout.blocks.items():
        grads[key], forms[key] = _canonical_block(raw.get(block.student_key), block, theta[key], key)
    return grads, forms


def _canonical_block(value: Any, block: Any, parameter: np.ndarray, key: str) -> tuple[np.ndarray | None, str]:
    if value is None:
        return None, "missing"
    if not isinstance(value, np.ndarray):
        return None, f"a {type(value).__name__}"
    if value.dtype.kind not in NUMERIC_KINDS:
        return None, f"an array of {value.dtype}"
    canon_shape = parameter.shape
    student_shape = block.to_student(parameter).shape
    if value.shape == student_shape or value.size == parameter.size and value.ndim == 1 and key.startswith("b"):
        return np.asarray(block.to_canonical(value), dtype=np.float64), "ok"
    if value.ndim == 2 and value.shape == student_shape[::-1] and student_shape[0] != student_shape[1]:
        return np.asarray(block.to_canonical(value.T), dtype=np.float64), "transposed"
    if value.shape == canon_shape:
        return value.astype(np.float64), "ok"
    return None, f"shape {value.shape}"


# -- the rubric's rules, the reference's answers --------------------------------------------------

def validate(rubric: Rubric, crit: Criterion, params: Params) -> list[str]:
    """The block exists in the rubric's architecture, the probe network is as
    deep as it (a 1-hidden-layer probe would never see W2), and the two
    probes' batch sizes differ (else a factor S cannot be told from a constant)."""
    if rubric.assignment is None:
        return ["the gradient check needs an assignment with an architecture"]
    depth = len(rubric.assignment.architecture.hidden)
    problems = []
    blocks = [f"{kind}{i}" for i in range(depth + 1) for kind in "Wb"]
    if params.block not in blocks:
        problems.append(f"block {params.block!r} is not in the architecture (its blocks are {', '.join(blocks)})")
    problems += depth_problems(rubric, params.hidden)
    if params.samples == params.confirm_samples:
        problems.append(f"samples and confirm_samples are both {params.samples}: the second probe needs another "
                        "batch size")
    return problems


def prefetch(ctx: Context, params: Params) -> None:
    """Every reference answer `judge` may need (recorded into student kits):
    at both probes the gradient, its data part (when penalized) and the mutants; at the first
    also the named losses, other activations and single-sample gradients."""
    oracle = ctx.oracle
    small = oracle.architecture(params.hidden).param_count() <= KIT_MUTANT_LIMIT
    penalized = oracle.architecture(params.hidden).penalized
    for theta, x, y in (probe_inputs(ctx, params), confirm_inputs(ctx, params)):
        oracle.gradient(params.hidden, theta, x, y)
        if penalized:
            oracle.data_gradient(params.hidden, theta, x, y)
        if small:
            oracle.gradient_mutants(params.hidden, theta, x, y)
    theta, x, y = probe_inputs(ctx, params)
    prefetch_named_losses(ctx, params.hidden, theta, x, y)
    if small:
        oracle.activation_gradients(params.hidden, theta, x, y)
        oracle.single_sample_gradients(params.hidden, theta, x, y)


def tolerances(ctx: Context) -> tuple[float, float]:
    """(rel, abs) for comparing gradients: looser where finite differences
    meet kinks (ReLU-like activations, L1)."""
    factor = ctx.tol.kink_factor if ctx.oracle.kinky else 1.0
    return ctx.tol.grad_rel * factor, ctx.tol.grad_abs * factor


# -- judging -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Bounds:
    """How close counts: against the reference (`match`) and against finite
    differences (`fd_abs`), loosened for a float32 computation."""

    match: Match
    fd_abs: float
    precision: str | None


@dataclass(frozen=True)
class Agreement:
    fd_error: float
    ref_error: float
    matches_fd: bool
    matches_ref: bool


def judge(ctx: Context, obs: Observation, params: Params) -> Verdict:
    return in_student_names(ctx, judge_canonical(ctx, obs))


#: a canonical block name in feedback: W0, b0, W1, ...
BLOCK_NAME = re.compile(r"\b([Wb])(\d+)\b")


def in_student_names(ctx: Context, verdict: Verdict) -> Verdict:
    """The verdict with every block named as the student names it (the
    rubric's keys, numbered from `first_index`: template B's W1 is the
    canonical W0), in the feedback and the evidence's block table; the
    judgement itself works in canonical names throughout."""
    iface = ctx.rubric.interface
    if iface.first_index == 0 and iface.weight_key == "W{i}" and iface.bias_key == "b{i}":
        return verdict
    rename = lambda text: BLOCK_NAME.sub(lambda m: iface.block_key(m.group(0)), text)  # noqa: E731
    verdict.feedback = rename(verdict.feedback)
    blocks = verdict.evidence.get("blocks")
    if isinstance(blocks, dict) and "rows" in blocks:
        verdict.evidence["blocks"] = dict(blocks, rows=[[rename(str(r[0])), *r[1:]] for r in blocks["rows"]])
    return verdict


def student_shape(ctx: Context, block: str, canonical: tuple[int, ...]) -> tuple[int, ...]:
    """Block `block`'s shape as the rubric asks the student to store it."""
    iface = ctx.rubric.interface
    return asked_shape(block, tuple(canonical), iface.bias_layouts, iface.weight_layouts)


def judge_canonical(ctx: Context, obs: Observation) -> Verdict:
    """The judgement, in canonical block names (`judge` renames them)."""
    block, hidden = obs.block, list(obs.hidden)
    ref_all = ctx.oracle.gradient(hidden, obs.first.theta, obs.first.x, obs.first.y)
    ref = ref_all[block]
    bounds = comparison_bounds(ctx, obs, ref)
    evidence = _evidence(ctx, obs, ref_all, bounds)
    g = obs.first.grads.get(block)
    form = obs.first.forms.get(block, "missing")
    shape = student_shape(ctx, block, ref.shape)
    if g is None or g.shape != ref.shape:
        return _unusable(block, form if g is None else f"shape {g.shape}", shape, evidence)
    agreement = _agreement(g, ref, obs.fd, bounds)
    evidence.update(_agreement_evidence(agreement, obs.fd, ref))
    transposed = _transposed_note(block, shape) if form == "transposed" else None
    if transposed and (agreement.matches_ref or agreement.matches_fd):
        return Verdict(0.0, transposed + " Transposed back, its values are right.",
                       diagnoses=["gradient-transposed"], evidence=evidence)
    if agreement.matches_ref:
        elsewhere = _wrong_elsewhere(ctx, obs, bounds)
        return elsewhere if elsewhere is not None else _passed(block, agreement, evidence)
    finding = explain(confirmation_points(ctx, obs), _sizes(ctx, hidden), _coefficients(ctx, hidden, block),
                      bounds.match, block, _single_samples(ctx, obs))
    return _wrong(ctx, obs, ref_all, bounds, agreement, finding, transposed, evidence)


def comparison_bounds(ctx: Context, obs: Observation, ref: np.ndarray) -> Bounds:
    """The grading tolerance; a float32 computation's rounding, not the
    rubric's float64 bounds, limits the agreement (a loss rounded to eps |L|
    puts eps |L| / h of noise on every finite difference)."""
    rel, abs_ = tolerances(ctx)
    if obs.eps <= FLOAT64_EPS:
        return Bounds(Match(rel, abs_), abs_, None)
    rel = max(rel, ctx.tol.float32_rel)
    abs_ = max(abs_, 16.0 * obs.eps * float(np.max(np.abs(ref))))
    fd_abs = max(abs_, 8.0 * obs.eps * max(1.0, obs.loss_scale) / obs.fd.h)
    return Bounds(Match(rel, abs_), fd_abs, f"your gradient is {precision_name(obs.eps)}: finite-difference step "
                                            f"h = {fmt(obs.fd.h)}, relative tolerance {fmt(rel)}")


def _evidence(ctx: Context, obs: Observation, ref_all: dict, bounds: Bounds) -> dict[str, Any]:
    arch = ctx.oracle.architecture(list(obs.hidden))
    evidence: dict[str, Any] = {"samples S": obs.first.x.shape[0], "second probe S": obs.second.x.shape[0],
                                "probe network": "-".join(map(str, arch.sizes))}
    if bounds.precision:
        evidence["precision"] = bounds.precision
    evidence["blocks"] = _block_table(obs.first, ref_all)
    return evidence


def _unusable(block: str, form: str, shape: tuple[int, ...], evidence: dict) -> Verdict:
    what = "no entry" if form == "missing" else f"a {form}" if form.startswith("shape") else form
    return Verdict(0.0, f"back_propagate returned {what} for {block}; expected an array of shape "
                   f"{shape} (the shape of {block}).",
                   diagnoses=["gradient-shape" if form.startswith("shape") else "bad-output"], evidence=evidence)


def _agreement(g: np.ndarray, ref: np.ndarray, fd: FiniteDifferences, bounds: Bounds) -> Agreement:
    projected = fd.project(g)
    return Agreement(rel_error(projected, fd.values), rel_error(g, ref),
                     close(projected, fd.values, bounds.match.rel, bounds.fd_abs), bounds.match.close(g, ref))


def _agreement_evidence(agreement: Agreement, fd: FiniteDifferences, ref: np.ndarray) -> dict[str, Any]:
    seen = ("all coordinates" if fd.coords is not None and len(fd.coords) == ref.size
            else f"{len(fd.values)} {'coordinates' if fd.coords is not None else 'random directions'}")
    return {"relative error vs finite differences": sig(agreement.fd_error),
            "relative error vs reference": sig(agreement.ref_error), "finite differences": seen}


def _transposed_note(block: str, shape: tuple[int, ...]) -> str:
    return (f"Your gradient for {block} has shape {shape[::-1]}, the transpose of {block}'s shape {shape}: "
            "a dimension slip (e.g. a^T e instead of e a^T).")


def _passed(block: str, agreement: Agreement, evidence: dict) -> Verdict:
    if agreement.matches_fd:
        return Verdict(1.0, f"The gradient of {block} matches finite differences of your loss (relative error "
                       f"{fmt(agreement.fd_error)}) and the reference ({fmt(agreement.ref_error)}).", evidence=evidence)
    return Verdict(1.0, f"The gradient of {block} matches the reference (relative error "
                   f"{fmt(agreement.ref_error)}). It does not match finite differences of your own loss "
                   f"({fmt(agreement.fd_error)}), because your loss function differs (see the 'loss' criterion).",
                   evidence=evidence)


def _wrong_elsewhere(ctx: Context, obs: Observation, bounds: Bounds) -> Verdict | None:
    """A gradient right on the first probe must be right on the second
    (another theta and batch size): one that is not was written for the
    first probe's batch (a hard-coded sample count, a fixed-size buffer)."""
    block, second = obs.block, obs.second
    ref2 = ctx.oracle.gradient(list(obs.hidden), second.theta, second.x, second.y)[block]
    g2 = second.grads.get(block)
    if g2 is not None and g2.shape == ref2.shape and bounds.match.close(g2, ref2):
        return None
    s1, s2 = obs.first.x.shape[0], second.x.shape[0]
    got = ("no usable array" if g2 is None or g2.shape != ref2.shape
           else f"relative error {fmt(rel_error(g2, ref2))}")
    return Verdict(0.0, f"The gradient of {block} is right for the batch of S = {s1} samples but not for another "
                   f"batch of S = {s2} samples at other parameters ({got}): it depends on something fixed for the "
                   "first batch, such as a hard-coded sample count or an array of fixed size.",
                   diagnoses=["gradient-batch-specific"],
                   evidence={"samples S (first, second)": [s1, s2], "second probe": got})


def _wrong(ctx: Context, obs: Observation, ref_all: dict, bounds: Bounds, agreement: Agreement,
           finding: Finding | None, transposed: str | None, evidence: dict) -> Verdict:
    """A gradient that is not the reference's: what it is, and what it earns."""
    block = obs.block
    diagnoses = ["gradient-transposed"] if transposed else []
    lines = [transposed] if transposed else []
    if finding is not None:
        diagnoses += [finding.diagnosis] if finding.diagnosis else []
        lines.append(finding.text)
        evidence.update(finding.evidence)
    named = finding is not None and finding.diagnosis is not None
    if agreement.matches_fd:
        credit, headline, notes = _own_loss_credit(ctx, obs, bounds, agreement)
        lines.insert(0, headline)
        other = None if credit == 0.0 else _other_activation(ctx, list(obs.hidden), obs.first, block, bounds.match)
        if other and "wrong-activation" not in diagnoses:
            diagnoses.append("wrong-activation")
            lines.append(f"It is exactly the gradient of a network with the {other} activation.")
        return Verdict(credit, "\n".join(lines), diagnoses=diagnoses, evidence=evidence, notes=notes)
    numbers = (f"relative error {fmt(agreement.fd_error)} against finite differences of your own loss, "
               f"{fmt(agreement.ref_error)} against the reference")
    if named:   # the named mistake is the headline; the numbers back it up
        lines.append(f"(The gradient of {block}: {numbers}.)")
    else:
        lines.insert(0, f"The gradient of {block} is wrong: {numbers}.")
        if finding is None:
            g, ref = obs.first.grads[block], ref_all[block]
            if student_shape(ctx, block, ref.shape) != ref.shape and ref.ndim == 2:   # index as the student stores it
                g, ref = g.T, ref.T
            lines.append(_largest_difference(block, g, ref))
        hint = _hint_from_blocks(obs.first, ref_all, block, bounds.match)
        lines += [hint] if hint else []
    return Verdict(0.0, "\n".join(lines), diagnoses=diagnoses, evidence=evidence)


def _own_loss_credit(ctx: Context, obs: Observation, bounds: Bounds,
                     agreement: Agreement) -> tuple[float, str, dict[str, str]]:
    """Evidence before credit: "consistent with your own loss" counts only when
    that loss is a named mistake and the gradient is that loss's gradient as
    computed here (a zero gradient of a constant loss, or differences forged
    in the student's process, earn nothing)."""
    block, hidden, first = obs.block, list(obs.hidden), obs.first
    g = first.grads[block]
    loss_is = named_loss(ctx, hidden, first.theta, first.x, first.y, obs.fd.own_loss,
                         ctx.tol.float32_rel if obs.float32 else ctx.tol.value_rel, with_gradient=True)
    own = loss_is.gradient.get(block) if loss_is and loss_is.diagnosis and loss_is.gradient else None
    if own is not None and bounds.match.close(g, own):
        return SELF_CONSISTENT_CREDIT, (
            f"The gradient of {block} is consistent with your own loss (finite-difference error "
            f"{fmt(agreement.fd_error)}) but differs from the reference (relative error {fmt(agreement.ref_error)}), "
            "so the function you differentiate is not the assignment's."), {}
    notes = {}
    if loss_is is not None and loss_is.diagnosis is None:
        notes["forged-finite-differences"] = (
            f"the loss values around the probe point agree with a gradient of {block} that is not the gradient "
            "of the (correct) loss at that point: the finite differences may have been forged inside the "
            "student's process")
    why = ("that loss is the assignment's, whose gradient it is not" if loss_is and loss_is.diagnosis is None
           else "it is not the gradient of any loss the grader knows")
    return 0.0, (f"The gradient of {block} differs from the reference (relative error {fmt(agreement.ref_error)}). "
                 f"It agrees with finite differences of your own loss ({fmt(obs.fd.own_loss, 6)} here), but "
                 f"{why}, so this earns nothing."), notes


def _largest_difference(block: str, g: np.ndarray, ref: np.ndarray) -> str:
    with np.errstate(invalid="ignore"):
        worst = int(np.nanargmax(np.abs(np.ravel(g) - np.ravel(ref)))) if np.any(np.isfinite(g)) else 0
    idx = [int(i) for i in np.unravel_index(worst, ref.shape)]
    return (f"Largest difference at {block}{idx}: yours {fmt(float(np.ravel(g)[worst]), 6)}, "
            f"expected {fmt(float(np.ravel(ref)[worst]), 6)}.")


def confirmation_points(ctx: Context, obs: Observation) -> tuple[Point, ...]:
    """The probe points a family fit must hold at: the first, and the second
    when the student's gradient there is usable."""
    hidden = list(obs.hidden)
    points = [_point(ctx, hidden, sg, obs.block) for sg in (obs.first, obs.second)]
    return tuple(p for p in points if p is not None)


def _point(ctx: Context, hidden: list[int], sg: StudentGradient, block: str) -> Point | None:
    oracle = ctx.oracle
    ref = oracle.gradient(hidden, sg.theta, sg.x, sg.y)[block]
    g = sg.grads.get(block)
    if g is None or g.shape != ref.shape:
        return None
    data = oracle.data_gradient(hidden, sg.theta, sg.x, sg.y)[block] if oracle.architecture(hidden).penalized \
        else ref
    mutants = {k: v[block] for k, v in oracle.gradient_mutants(hidden, sg.theta, sg.x, sg.y).items()}
    return Point(sg.theta, sg.x, sg.y, g, ref, data, mutants)


def _sizes(ctx: Context, hidden: list[int]) -> Sizes:
    sizes = ctx.oracle.architecture(hidden).sizes
    return Sizes(inputs=sizes[0], classes=sizes[-1])


def _coefficients(ctx: Context, hidden: list[int], block: str) -> tuple[float, float]:
    arch, layer = ctx.oracle.architecture(hidden), int(block[1:])
    return arch.l1_coefficients[layer], arch.l2_coefficients[layer]


def _single_samples(ctx: Context, obs: Observation) -> dict[str, np.ndarray]:
    if not obs.block.startswith("b"):
        return {}
    first = obs.first
    singles = ctx.oracle.single_sample_gradients(list(obs.hidden), first.theta, first.x, first.y)
    return {label: grads[obs.block] for label, grads in singles.items()}


def _other_activation(ctx: Context, hidden: list[int], sg: StudentGradient, block: str, match: Match) -> str | None:
    """The other activation whose network's gradient the student's block is, if any."""
    for name, grads in ctx.oracle.activation_gradients(hidden, sg.theta, sg.x, sg.y).items():
        if match.close(sg.grads[block], grads[block]):
            return name
    return None


def _block_table(sg: StudentGradient, ref_all: dict) -> dict:
    rows = []
    for key, ref in ref_all.items():
        g = sg.grads.get(key)
        if g is None or g.shape != ref.shape:
            rows.append([key, sg.forms.get(key, "missing"), "-", "-"])
            continue
        c, residual = best_scale(g, ref)
        rows.append([key, sg.forms.get(key, "ok"), rel_error(g, ref), c if residual < 1e-6 else "-"])
    return table(["block", "stored as", "relative error vs reference", "exact ratio"], rows)


def _hint_from_blocks(sg: StudentGradient, ref_all: dict, block: str, match: Match) -> str | None:
    """Output-layer blocks right but hidden-layer blocks wrong points at the
    backward pass through the hidden activation."""
    last = max(int(k[1:]) for k in ref_all if k.startswith("W"))
    right = {k for k, ref in ref_all.items() if sg.grads.get(k) is not None and match.close(sg.grads[k], ref)}
    if {f"W{last}", f"b{last}"} <= right and not block.endswith(str(last)):
        return (f"W{last} and b{last} are right, so the error enters when you propagate back through the hidden "
                "activation: check h'(z) and where you evaluate it.")
    return None


def instructor_notes(obs: Observation) -> dict[str, str]:
    """Facts for the instructor only (run.json), never a score: a gradient
    computed by finite differences of the student's own loss."""
    if sum(obs.calls.values()) > NUMERICAL_CALLS:
        counts = ", ".join(f"{k} {v} times" for k, v in sorted(obs.calls.items()))
        return {"numerical-gradient": f"back_propagate called {counts} for one gradient: it computes finite "
                                      "differences, not backpropagation"}
    return {}


# -- the door for the step and training checks ---------------------------------------------------

def gradient_explained(ctx: Context, hidden: list[int], theta: dict, x: np.ndarray, y: np.ndarray,
                       grads: dict | None) -> str | None:
    """How far a student's whole gradient can be trusted: "reference" when
    every block matches the reference, "named" when every block that does
    not is reproduced by a named mistake, None otherwise.

    The evidence rule's door for gradients: a step or a training run is
    judged with the student's own gradient only when this is not None.
    It sees one probe point (the step's own), so a family fit is taken
    there unconfirmed: the gradient criteria confirm it on their second probe."""
    if not grads or any(g is None for g in grads.values()):
        return None
    oracle = ctx.oracle
    match = Match(*tolerances(ctx))
    ref_all = oracle.gradient(hidden, theta, x, y)
    sg = StudentGradient(theta, x, y, grads, {k: "ok" for k in grads})
    verdict = "reference"
    for block, ref in ref_all.items():
        g = grads.get(block)
        if g is None or g.shape != ref.shape:
            return None
        if match.close(g, ref):
            continue
        point = _point(ctx, hidden, sg, block)
        singles = ({label: s[block] for label, s in oracle.single_sample_gradients(hidden, theta, x, y).items()}
                   if block.startswith("b") else {})
        finding = explain((point,), _sizes(ctx, hidden), _coefficients(ctx, hidden, block), match, block, singles)
        named = finding is not None and finding.diagnosis is not None
        if not named and _other_activation(ctx, hidden, sg, block, match) is None:
            return None
        verdict = "named"
    return verdict


#: every mistake a verdict may name: the families' members and the single ones
MISTAKES: tuple[str, ...] = (*FAMILY_MISTAKES, "gradient-transposed", "gradient-shape", "wrong-activation",
                             "gradient-batch-specific")

CHECK = Check(
    name="gradient",
    summary="one block's gradient equals the reference's (and finite differences of the student's own loss); "
            "a wrong one is named by a family fit confirmed on a second probe",
    Params=Params, Observation=Observation, operations=("construct", "get_parameters", "set_parameters", "gradient", "loss"),
    observe=observe, judge=judge, mistakes=MISTAKES, prefetch=prefetch, reference=True, validate=validate,
    instructor_notes=instructor_notes,
)
