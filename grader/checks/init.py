"""`init`: the constructor's parameters look like draws from N(mean, std^2).

On a large hidden layer (thousands of values) weights and biases are tested
separately: the mean within a few standard errors, the standard deviation
within a few of its standard errors, a Kolmogorov-Smirnov test against the
normal distribution, no constant blocks, and no two identical hidden units
(symmetric units would learn identical features forever).

A rubric whose `init.biases` is `zero` (template B) asks for the weights
drawn from N(mean, std^2) and the biases exactly zero: its biases are not
tested as draws but must all be 0.0 (`init-biases-not-zero` otherwise).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..schema import Criterion, Rubric
from .base import CheckParams, Context, Verdict, failed, fmt, passed, sig, table
from .contract import Check
from .values import canonical_parameters, depth_problems


class Params(CheckParams):
    hidden: list[int] = [500]
    z_limit: float = 5.0          # mean and std must lie within this many standard errors
    ks_p_min: float = 1e-4        # reject normality below this p-value


@dataclass(frozen=True)
class Observation:
    """The parameters the constructor drew, canonical and validated."""

    hidden: tuple[int, ...]
    theta: dict[str, np.ndarray]


def observe(ctx: Context, probe: Any, params: Params) -> Observation:
    net = probe.new(params.hidden, seed=ctx.seed("init"))
    layout = net.require_layout()
    return Observation(tuple(params.hidden), canonical_parameters(net.raw_parameters(), layout, f"self.{net.attr}"))


def validate(rubric: Rubric, crit: Criterion, params: Params) -> list[str]:
    return depth_problems(rubric, params.hidden)


def ks_pvalue(sample: np.ndarray, mean: float, std: float) -> tuple[float, float]:
    """Two-sided one-sample KS test against N(mean, std^2): (D, p)."""
    x = np.sort((np.asarray(sample, dtype=np.float64) - mean) / std)
    n = x.size
    cdf = 0.5 * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))
    upper = np.arange(1, n + 1) / n - cdf
    lower = cdf - np.arange(0, n) / n
    d = float(max(upper.max(), lower.max()))
    lam = (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n)) * d
    p = 2.0 * sum((-1) ** (k - 1) * math.exp(-2.0 * k * k * lam * lam) for k in range(1, 101))
    return d, float(min(1.0, max(0.0, p)))


def assess(values: np.ndarray, mean: float, std: float, params: Params) -> dict:
    n = values.size
    m, s = float(values.mean()), float(values.std())
    z_mean = (m - mean) / (std / math.sqrt(n))
    z_std = (s - std) / (std / math.sqrt(2 * n))
    unique = int(np.unique(values).size)
    d, p = ks_pvalue(values, mean, std) if s > 0 else (1.0, 0.0)
    return {"n": n, "mean": m, "std": s, "z_mean": z_mean, "z_std": z_std, "unique": unique, "ks_d": d, "ks_p": p}


@dataclass(frozen=True)
class Finding:
    """One problem with the draws, and the mistake it is (None: unnamed)."""

    text: str
    diagnosis: str | None


def rule(spec: Any) -> str:
    """The rubric's initialization in words."""
    normal = f"N({fmt(spec.mean)}, {fmt(spec.std)}^2)"
    return f"weights drawn from {normal}, biases exactly zero" if spec.biases == "zero" else f"draws from {normal}"


def judge(ctx: Context, obs: Observation, params: Params) -> Verdict:
    spec = ctx.rubric.assignment.init
    blocks = {"weights": _values(obs.theta, "W"), "biases": _values(obs.theta, "b")}
    total = sum(v.size for v in blocks.values())
    bad = {label: int(v.size - np.isfinite(v).sum()) for label, v in blocks.items()}
    if any(bad.values()):
        return failed(f"Initial parameters should be {rule(spec)}, but "
                      + " and ".join(f"{n} {label}" for label, n in bad.items() if n) + " are NaN or infinite.",
                      diagnoses=["bad-output"])
    drawn = {"weights": blocks["weights"]} if spec.biases == "zero" else blocks
    rows, findings = [], []
    for label, values in drawn.items():
        a = assess(values, spec.mean, spec.std, params)
        rows.append([label, a["n"], a["mean"], a["std"], a["ks_p"], a["unique"]])
        findings += _block_findings(label, values, a, spec, params)
    if spec.biases == "zero":
        rows.append(_zero_row(blocks["biases"]))
        findings += _zero_bias_findings(obs.theta, ctx.rubric.interface)
    findings += _symmetry_findings(obs.theta, findings)
    evidence = {"statistics": table(["block", "values", "mean", "std", "KS p-value", "distinct values"], rows),
                "expected mean": sig(spec.mean), "expected std": sig(spec.std)}
    if spec.biases == "zero":
        evidence["expected biases"] = "exactly 0"
    if findings:
        return failed(f"Initial parameters should be {rule(spec)} (checked on {total:,} values):\n- "
                      + "\n- ".join(f.text for f in findings),
                      diagnoses=sorted({f.diagnosis for f in findings if f.diagnosis}), evidence=evidence)
    fits = ("the weights' mean, spread and shape fit, and every bias is exactly zero" if spec.biases == "zero"
            else "mean, spread and shape all fit")
    return passed(f"The {total:,} initial values are consistent with {rule(spec)}: {fits}.", evidence=evidence)


def _zero_row(values: np.ndarray) -> list[Any]:
    """The biases' statistics row when they must be zero (no KS test: they are not draws)."""
    return ["biases", int(values.size), float(values.mean()), float(values.std()), "-", int(np.unique(values).size)]


def _zero_bias_findings(theta: dict[str, np.ndarray], interface: Any) -> list[Finding]:
    """Biases that must start exactly zero but do not, block by block, each
    named by the student's own key (b1 for the canonical b0 when keys are
    one-based)."""
    out = []
    for key, value in theta.items():
        if key.startswith("b") and np.any(value != 0):
            nonzero = int(np.count_nonzero(value))
            out.append(Finding(f"{nonzero} of the {value.size} entries of {interface.block_key(key)} are not zero (largest "
                               f"magnitude {fmt(float(np.abs(value).max()))}); the biases start exactly zero",
                               "init-biases-not-zero"))
    return out


def _values(theta: dict[str, np.ndarray], prefix: str) -> np.ndarray:
    """Every value of the weight (W) or bias (b) blocks, flat."""
    return np.concatenate([v.ravel() for k, v in theta.items() if k.startswith(prefix)])


def _block_findings(label: str, values: np.ndarray, a: dict, spec: Any, params: Params) -> list[Finding]:
    """A constant block; else a mean or spread off by more than z_limit
    standard errors; else a shape the KS test rejects (a KS test against the
    right normal also rejects a wrong mean or spread: it would name a second
    mistake that is not there)."""
    if a["unique"] == 1:
        return [Finding(f"all {a['n']} {label} equal {fmt(float(values[0]))}: a constant, not random draws",
                        "init-constant")]
    out = []
    if abs(a["z_mean"]) > params.z_limit:
        out.append(Finding(f"the {label} average {fmt(a['mean'])}, expected {fmt(spec.mean)} "
                           f"({fmt(abs(a['z_mean']), 2)} standard errors away)", "init-wrong-scale"))
    if abs(a["z_std"]) > params.z_limit:
        ratio = a["std"] / spec.std
        out.append(Finding(f"the {label} have standard deviation {fmt(a['std'])}, expected {fmt(spec.std)} "
                           f"({fmt(ratio)} times too {'large' if ratio > 1 else 'small'})", "init-wrong-scale"))
    if not out and a["ks_p"] < params.ks_p_min:   # the shape, once mean and spread fit (else KS says the same)
        out.append(Finding(f"the {label} do not look normally distributed (Kolmogorov-Smirnov p = "
                           f"{a['ks_p']:.1e}); e.g. a uniform distribution has the wrong shape", "init-not-normal"))
    return out


def _symmetry_findings(theta: dict[str, np.ndarray], found: list[Finding]) -> list[Finding]:
    """Hidden units with identical incoming weights stay identical forever
    (not said again when the weights are constant altogether)."""
    w0 = theta.get("W0")
    if w0 is None or w0.shape[0] < 2 or any(f.diagnosis == "init-constant" for f in found):
        return []
    if np.unique(np.round(w0, 12), axis=0).shape[0] < w0.shape[0]:
        return [Finding("some hidden units start with identical weights, so they stay identical (symmetry)",
                        "init-symmetric")]
    return []


CHECK = Check(
    name="init",
    summary="the constructor's parameters look like independent draws from the rubric's normal distribution",
    Params=Params, Observation=Observation, operations=("construct", "get_parameters"),
    observe=observe, judge=judge,
    mistakes=("init-constant", "init-wrong-scale", "init-not-normal", "init-symmetric", "init-biases-not-zero"),
    reference=False, validate=validate,
)
