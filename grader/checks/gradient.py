"""`grad-W0`, `grad-b0`, ...: one parameter block's gradient.

The student's `back_propagate` is compared with (a) central finite
differences of the student's *own* loss (float64, h = 1e-6) and (b) the
reference gradient, on a probe network whose sizes are all distinct
(S=5, N_H=6, 4 inputs, 3 classes), so a transposed result cannot hide.
On large networks (`mode: directional`) both comparisons use a few random
directions instead of every coordinate, so the cost does not grow with
the number of parameters.

When the numbers are wrong the judge looks for the mistake that explains
them: an exact factor (S, 1/S, -1), a transposed shape, a known wrong
activation derivative, a bias gradient from a single sample.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from ..probe import FLOAT64_EPS, float_eps, precision_name
from .base import CheckParams, Context, Verdict, best_scale, close, fmt, rel_error, sig, table
from .loss import named_loss, prefetch_named_losses

SELF_CONSISTENT_CREDIT = 0.5


class Params(CheckParams):
    block: str
    hidden: list[int] = [6]
    samples: int = 5
    h: float = 1e-6
    mode: Literal["full", "directional"] = "full"
    directions: int = 4
    max_coordinates: int = 200


#: above this many parameters a kit records no mutant gradients (they would be huge)
KIT_MUTANT_LIMIT = 100_000


def probe_inputs(ctx: Context, params: Params) -> tuple[dict, Any, Any]:
    """The same theta and batch for every block: one mistake, one picture."""
    x, y = ctx.oracle.batch(params.samples, "gradient")
    return ctx.oracle.theta(params.hidden, "gradient"), x, y


def prefetch(ctx: Context, params: Params) -> None:
    """Every reference answer `judge` may need (recorded into student kits)."""
    oracle = ctx.oracle
    theta, x, y = probe_inputs(ctx, params)
    oracle.gradient(params.hidden, theta, x, y)
    oracle.data_gradient(params.hidden, theta, x, y)
    prefetch_named_losses(ctx, params.hidden, theta, x, y)
    if oracle.architecture(params.hidden).param_count() <= KIT_MUTANT_LIMIT:
        oracle.gradient_mutants(params.hidden, theta, x, y)
        oracle.activation_gradients(params.hidden, theta, x, y)
        oracle.single_sample_gradients(params.hidden, theta, x, y)


def observe(ctx: Context, probe: Any, params: Params) -> dict:
    net = probe.new(params.hidden, seed=ctx.seed("net"))
    layout = net.require_layout()
    if params.block not in layout.blocks:
        raise KeyError(params.block)
    theta, x, y = probe_inputs(ctx, params)
    net.set_parameters(theta)
    reply = net.call("back_propagate", x, y, count=("loss", "feed_forward"))
    raw = reply["value"]
    grads, forms = canonical_gradient(raw, layout, theta)
    # the precision the student computes in (the dtype of the gradient it returns)
    # sets the finite-difference step: float32 losses need h near eps^(1/3)
    eps = float_eps(raw)
    h, loss_scale = params.h, None
    if eps > FLOAT64_EPS:
        h = max(params.h, eps ** (1.0 / 3.0))
    block_shape = theta[params.block].shape
    rng = np.random.default_rng(ctx.seed("directions"))
    if params.mode == "full":
        size = int(np.prod(block_shape))
        coords = (np.arange(size) if size <= params.max_coordinates
                  else np.sort(rng.choice(size, params.max_coordinates, replace=False)))
        directions: list[Any] = [(params.block, int(i)) for i in coords]
    else:
        coords = None
        directions = []
        for _ in range(params.directions):
            d = rng.standard_normal(block_shape)
            directions.append({params.block: d / np.linalg.norm(d)})
    fd, own_loss = net.finite_differences(theta, x, y, directions, h)
    if eps > FLOAT64_EPS and np.isfinite(own_loss):
        loss_scale = abs(own_loss)
    return {"block": params.block, "hidden": list(params.hidden), "theta": theta, "x": x, "y": y,
            "grads": grads, "forms": forms, "fd": fd, "coords": coords, "own_loss": own_loss, "eps": eps, "h": h,
            "loss_scale": loss_scale, "float32": eps > FLOAT64_EPS or net.is_float32, "calls": reply.get("calls", {}),
            "directions": None if coords is not None else [d[params.block] for d in directions]}


def canonical_gradient(raw: Any, layout: Any, theta: dict) -> tuple[dict, dict]:
    """Per block: the canonical array (or None) and how it was stored:
    'ok', 'transposed' (the transpose of its parameter), 'missing', or a shape."""
    grads: dict[str, np.ndarray | None] = {}
    forms: dict[str, str] = {}
    if not isinstance(raw, dict) or "__obj__" in raw:
        for key in theta:
            grads[key], forms[key] = None, "missing"
        return grads, forms
    for key, block in layout.blocks.items():
        value = raw.get(block.student_key)
        if not isinstance(value, np.ndarray):
            grads[key], forms[key] = None, "missing" if value is None else type(value).__name__
            continue
        canon_shape = theta[key].shape
        student_shape = block.to_student(theta[key]).shape
        if value.shape == student_shape or value.size == theta[key].size and value.ndim == 1 and key.startswith("b"):
            grads[key], forms[key] = block.to_canonical(value), "ok"
        elif value.ndim == 2 and value.shape == student_shape[::-1] and student_shape[0] != student_shape[1]:
            grads[key], forms[key] = block.to_canonical(value.T), "transposed"
        elif value.shape == canon_shape:
            grads[key], forms[key] = value.astype(np.float64), "ok"
        else:
            grads[key], forms[key] = None, f"shape {value.shape}"
    return grads, forms


def judge(ctx: Context, obs: dict, params: Params) -> Verdict:
    oracle, tol = ctx.oracle, ctx.tol
    block, hidden, theta, x, y = obs["block"], obs["hidden"], obs["theta"], obs["x"], obs["y"]
    arch = oracle.architecture(hidden)
    ref_all = oracle.gradient(hidden, theta, x, y)
    ref = ref_all[block]
    rel, abs_ = tolerances(ctx)
    s = x.shape[0]
    g = obs["grads"].get(block)
    form = obs["forms"].get(block, "missing")
    fd = np.asarray(obs["fd"], dtype=np.float64)
    evidence: dict[str, Any] = {"samples S": s, "probe network": "-".join(str(n) for n in arch.sizes)}
    fd_abs = abs_
    eps = obs.get("eps", FLOAT64_EPS)
    if eps > FLOAT64_EPS:
        # a float32 computation: its rounding, not the rubric's float64 bounds, limits the agreement;
        # a loss rounded to eps |L| puts eps |L| / h of noise on every finite difference
        scale = obs.get("loss_scale")
        scale = scale if scale is not None and np.isfinite(scale) else 1.0
        rel = max(rel, tol.float32_rel)
        abs_ = max(abs_, 16.0 * eps * float(np.max(np.abs(ref))))
        fd_abs = max(abs_, 8.0 * eps * max(1.0, scale) / obs["h"])
        evidence["precision"] = (f"your gradient is {precision_name(eps)}: finite-difference step "
                                 f"h = {fmt(obs['h'])}, relative tolerance {fmt(rel)}")
    evidence["blocks"] = _block_table(obs, ref_all)

    if g is None:
        what = "no entry" if form == "missing" else f"a {form}"
        return Verdict(0.0, f"back_propagate returned {what} for {block}; expected an array of shape "
                       f"{ref.shape} (the shape of {block}).",
                       diagnoses=["gradient-shape" if form.startswith("shape") else "bad-output"], evidence=evidence)

    student_proj = _project(g, obs)
    fd_err = rel_error(student_proj, fd)
    ref_err = rel_error(g, ref)
    evidence["relative error vs finite differences"] = sig(fd_err)
    evidence["relative error vs reference"] = sig(ref_err)
    evidence["finite differences"] = ("all coordinates" if obs["coords"] is not None and len(obs["coords"]) == ref.size
                                      else f"{len(fd)} {'coordinates' if obs['coords'] is not None else 'random directions'}")
    matches_fd = close(student_proj, fd, rel, fd_abs)
    matches_ref = close(g, ref, rel, abs_)
    transposed_note = ""
    if form == "transposed":
        transposed_note = (f"Your gradient for {block} has shape {ref.shape[::-1]}, the transpose of {block}'s "
                           f"shape {ref.shape}: a dimension slip (e.g. a^T e instead of e a^T).")
        if matches_ref or matches_fd:
            return Verdict(0.0, transposed_note + " Transposed back, its values are right.",
                           diagnoses=["gradient-transposed"], evidence=evidence)
    if matches_fd and matches_ref:
        return Verdict(1.0, f"The gradient of {block} matches finite differences of your loss "
                       f"(relative error {fmt(fd_err)}) and the reference ({fmt(ref_err)}).", evidence=evidence)
    if matches_ref:
        return Verdict(1.0, f"The gradient of {block} matches the reference (relative error {fmt(ref_err)}). "
                       f"It does not match finite differences of your own loss ({fmt(fd_err)}), "
                       "because your loss function differs (see the 'loss' criterion).", evidence=evidence)

    diagnoses, lines = [], []
    if transposed_note:
        lines.append(transposed_note)
        diagnoses.append("gradient-transposed")
    found = _explain(g, ref, oracle, hidden, theta, x, y, block, rel, abs_, s)
    if found:
        diagnoses.append(found[0])
        lines.append(found[1])
        evidence.update(found[2])
    loss_is = named_loss(ctx, hidden, theta, x, y, float(obs["own_loss"]),
                         tol.float32_rel if obs.get("float32") else tol.value_rel, with_gradient=True)
    # evidence before credit: "consistent with your own loss" counts only when that loss
    # is a named mistake and the gradient is that loss's gradient as computed here (a zero
    # gradient of a constant loss, or differences forged in the student's process, earn nothing)
    own_gradient = loss_is.gradient.get(block) if loss_is and loss_is.diagnosis and loss_is.gradient else None
    notes: dict[str, str] = {}
    if matches_fd and (own_gradient is None or not close(g, own_gradient, rel, abs_)):
        credit = 0.0
        if loss_is is not None and loss_is.diagnosis is None:
            notes["forged-finite-differences"] = (
                f"the loss values around the probe point agree with a gradient of {block} that is not the "
                "gradient of the (correct) loss at that point: the finite differences may have been forged "
                "inside the student's process")
        lines.insert(0, f"The gradient of {block} differs from the reference (relative error {fmt(ref_err)}). It "
                     f"agrees with finite differences of your own loss ({fmt(obs['own_loss'], 6)} here), but "
                     + ("that loss is the assignment's, whose gradient it is not"
                        if loss_is and loss_is.diagnosis is None else
                        "it is not the gradient of any loss the grader knows")
                     + ", so this earns nothing.")
    elif matches_fd:
        credit = SELF_CONSISTENT_CREDIT
        lines.insert(0, f"The gradient of {block} is consistent with your own loss (finite-difference error "
                     f"{fmt(fd_err)}) but differs from the reference (relative error {fmt(ref_err)}), so the "
                     "function you differentiate is not the assignment's.")
        other = _other_activation(g, oracle, hidden, theta, x, y, block, rel, abs_)
        if other and "wrong-activation" not in diagnoses:
            diagnoses.append("wrong-activation")
            lines.append(f"It is exactly the gradient of a network with the {other} activation.")
    else:
        credit = 0.0
        numbers = (f"relative error {fmt(fd_err)} against finite differences of your own loss, "
                   f"{fmt(ref_err)} against the reference")
        if found:  # the named mistake is the headline; the numbers back it up
            lines.append(f"(The gradient of {block}: {numbers}.)")
        else:
            lines.insert(0, f"The gradient of {block} is wrong: {numbers}.")
        if not found:
            worst = int(np.argmax(np.abs(np.ravel(g) - np.ravel(ref))))
            idx = [int(i) for i in np.unravel_index(worst, ref.shape)]
            lines.append(f"Largest difference at {block}{idx}: yours {fmt(float(np.ravel(g)[worst]), 6)}, "
                         f"expected {fmt(float(np.ravel(ref)[worst]), 6)}.")
    hint = _hint_from_blocks(obs, ref_all, block, rel, abs_)
    if hint and not found:
        lines.append(hint)
    return Verdict(credit, "\n".join(lines), diagnoses=diagnoses, evidence=evidence, notes=notes)


#: a back_propagate that calls the loss or the forward pass more often than
#: this per call is taking finite differences, not backpropagating
NUMERICAL_CALLS = 4


def instructor_notes(obs: dict) -> dict[str, Any]:
    """Facts for the instructor only (run.json), never a score: a gradient
    computed by finite differences of the student's own loss."""
    calls = obs.get("calls") or {}
    total = sum(int(v) for v in calls.values())
    if total > NUMERICAL_CALLS:
        return {"numerical-gradient": f"back_propagate called {', '.join(f'{k} {v} times' for k, v in sorted(calls.items()))} "
                                      "for one gradient: it computes finite differences, not backpropagation"}
    return {}


def tolerances(ctx: Context) -> tuple[float, float]:
    """(rel, abs) for comparing gradients: looser where finite differences
    meet kinks (ReLU-like activations, L1)."""
    factor = ctx.tol.kink_factor if ctx.oracle.kinky else 1.0
    return ctx.tol.grad_rel * factor, ctx.tol.grad_abs * factor


def gradient_explained(ctx: Context, hidden: list[int], theta: dict, x: np.ndarray, y: np.ndarray,
                       grads: dict | None) -> str | None:
    """How far a student's whole gradient can be trusted: "reference" when
    every block matches the reference, "named" when every block that does
    not is reproduced by a named mistake, None otherwise.

    The evidence rule's door for gradients: a step or a training run is
    judged with the student's own gradient only when this is not None."""
    if not grads or any(g is None for g in grads.values()):
        return None
    oracle = ctx.oracle
    rel, abs_ = tolerances(ctx)
    ref_all = oracle.gradient(hidden, theta, x, y)
    verdict = "reference"
    for block, ref in ref_all.items():
        g = grads.get(block)
        if g is None or g.shape != ref.shape:
            return None
        if close(g, ref, rel, abs_):
            continue
        if _explain(g, ref, oracle, hidden, theta, x, y, block, rel, abs_, x.shape[0]) is None \
                and _other_activation(g, oracle, hidden, theta, x, y, block, rel, abs_) is None:
            return None
        verdict = "named"
    return verdict


def _project(g: np.ndarray, obs: dict) -> np.ndarray:
    if obs["coords"] is not None:
        return np.ravel(g)[np.asarray(obs["coords"], dtype=int)]
    return np.array([float(np.sum(g * d)) for d in obs["directions"]])


def _explain(g: np.ndarray, ref: np.ndarray, oracle: Any, hidden: list[int], theta: dict, x: np.ndarray, y: np.ndarray,
             block: str, rel: float, abs_: float, s: int) -> tuple[str, str, dict] | None:
    """The known mistake that reproduces the student's numbers, if any."""
    arch = oracle.architecture(hidden)
    penalty_mistake = _explain_penalty(g, oracle, hidden, theta, x, y, block, rel, abs_)
    if penalty_mistake:
        return penalty_mistake
    c, residual = best_scale(g, ref)
    if (residual >= 1e-6 or not np.isfinite(c)) and arch.penalized:
        # with a penalty, a scale mistake shows on the data part only: g - reg = c * data
        data = oracle.data_gradient(hidden, theta, x, y)[block]
        c, residual = best_scale(g - (ref - data), data)
    if residual < 1e-6 and np.isfinite(c):
        ev = {"ratio yours / reference": sig(c)}
        if abs(c - s) < 1e-6 * s:
            return ("sum-not-mean", f"Your gradient is exactly S = {s} times the correct one: you sum over the "
                    f"samples but do not divide by S.", ev)
        if abs(c - 1.0 / s) < 1e-6:
            return ("mean-twice", f"Your gradient is exactly 1/S = 1/{s} of the correct one: you divide by S twice.", ev)
        if abs(c + 1.0) < 1e-6:
            return ("sign-flip", "Your gradient has the right size but the opposite sign.", ev)
        if abs(c - s * s) < 1e-6 * s * s:
            return ("sum-not-mean", f"Your gradient is S^2 = {s * s} times the correct one.", ev)
    for name, mutant in oracle.gradient_mutants(hidden, theta, x, y).items():
        if close(g, mutant[block], rel, abs_):
            text = {"activation-derivative-sigmoid":
                    f"Your gradient equals backprop with the sigmoid's derivative s(z)(1 - s(z)) in place of "
                    f"the {arch.activation} derivative.",
                    "activation-derivative-at-activation":
                    "Your gradient equals backprop with the activation's derivative evaluated at the "
                    "activation a = h(z) instead of the pre-activation z."}[name]
            return (name, text, {})
    if block.startswith("b"):
        for label, single in oracle.single_sample_gradients(hidden, theta, x, y).items():
            if close(g, single[block], rel, abs_):
                return ("bias-one-sample", f"Your bias gradient equals the gradient of a single sample "
                        f"({label}); it must combine all S = {s} samples (sum the error over the sample axis, "
                        "then divide by S).", {"matches": label})
    return None


def _explain_penalty(g: np.ndarray, oracle: Any, hidden: list[int], theta: dict, x: np.ndarray, y: np.ndarray, block: str,
                     rel: float, abs_: float) -> tuple[str, str, dict] | None:
    """Elastic-net mistakes: no penalty term, the penalty on a bias, the L2
    term's derivative without its factor 2."""
    arch = oracle.architecture(hidden)
    layer = int(block[1:])
    c1, c2 = arch.l1_coefficients[layer], arch.l2_coefficients[layer]
    if not (c1 or c2):
        return None
    data = oracle.data_gradient(hidden, theta, x, y)[block]
    p = theta[block]
    if block.startswith("W"):
        if close(g, data, rel, abs_):
            return ("penalty-missing", f"Your gradient of {block} is the gradient of the data loss alone: the "
                    f"elastic-net term l1 sign({block}) + 2 l2 {block} is missing.", {})
        if c2 and close(g, data + c1 * np.sign(p) + c2 * p, rel, abs_):
            return ("penalty-l2-factor", f"Your gradient of {block} has the L2 term l2 {block} instead of "
                    f"2 l2 {block}: the derivative of l2 sum {block}^2 is 2 l2 {block}.", {})
    elif close(g, data + c1 * np.sign(p) + 2.0 * c2 * p, rel, abs_):
        return ("penalty-on-biases", f"Your gradient of {block} contains the elastic-net term l1 sign({block}) "
                f"+ 2 l2 {block}; only the weight matrices are penalized, never the biases.", {})
    return None


def _other_activation(g: np.ndarray, oracle: Any, hidden: list[int], theta: dict, x: np.ndarray, y: np.ndarray,
                      block: str, rel: float, abs_: float) -> str | None:
    for name, grads in oracle.activation_gradients(hidden, theta, x, y).items():
        if close(g, grads[block], rel, abs_):
            return name
    return None


def _block_table(obs: dict, ref_all: dict) -> dict:
    rows = []
    for key, ref in ref_all.items():
        g = obs["grads"].get(key)
        if g is None:
            rows.append([key, obs["forms"].get(key, "missing"), "-", "-"])
            continue
        c, residual = best_scale(g, ref)
        rows.append([key, obs["forms"].get(key, "ok"), rel_error(g, ref), c if residual < 1e-6 else "-"])
    return table(["block", "stored as", "relative error vs reference", "exact ratio"], rows)


def _hint_from_blocks(obs: dict, ref_all: dict, block: str, rel: float, abs_: float) -> str | None:
    """Output-layer blocks right but hidden-layer blocks wrong points at the
    backward pass through the hidden activation."""
    last = max(int(k[1:]) for k in ref_all if k.startswith("W"))
    right = {k for k, ref in ref_all.items() if obs["grads"].get(k) is not None and close(obs["grads"][k], ref, rel, abs_)}
    if {f"W{last}", f"b{last}"} <= right and not block.endswith(str(last)):
        return (f"W{last} and b{last} are right, so the error enters when you propagate back through the hidden "
                "activation: check h'(z) and where you evaluate it.")
    return None
