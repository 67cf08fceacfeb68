"""`init`: the constructor's parameters look like draws from N(mean, std^2).

On a large hidden layer (thousands of values) weights and biases are tested
separately: the mean within a few standard errors, the standard deviation
within a few of its standard errors, a Kolmogorov-Smirnov test against the
normal distribution, no constant blocks, and no two identical hidden units
(symmetric units would learn identical features forever).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .base import CheckParams, Context, Verdict, failed, fmt, passed, sig, table


class Params(CheckParams):
    hidden: list[int] = [500]
    z_limit: float = 5.0          # mean and std must lie within this many standard errors
    ks_p_min: float = 1e-4        # reject normality below this p-value


def observe(ctx: Context, probe: Any, params: Params) -> dict:
    net = probe.new(params.hidden, seed=ctx.seed("init"))
    net.require_layout()
    return {"theta": net.parameters()}


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


def judge(ctx: Context, obs: dict, params: Params) -> Verdict:
    spec = ctx.rubric.assignment.init
    theta = obs["theta"]
    weights = np.concatenate([v.ravel() for k, v in theta.items() if k.startswith("W")])
    biases = np.concatenate([v.ravel() for k, v in theta.items() if k.startswith("b")])
    problems, diagnoses, rows = [], [], []
    for label, values in (("weights", weights), ("biases", biases)):
        a = assess(values, spec.mean, spec.std, params)
        rows.append([label, a["n"], a["mean"], a["std"], a["ks_p"], a["unique"]])
        if a["unique"] == 1:
            problems.append(f"all {a['n']} {label} equal {fmt(float(values[0]))}: a constant, not random draws")
            diagnoses.append("init-constant")
            continue
        if abs(a["z_mean"]) > params.z_limit:
            problems.append(f"the {label} average {fmt(a['mean'])}, expected {fmt(spec.mean)} "
                            f"({fmt(abs(a['z_mean']), 2)} standard errors away)")
            diagnoses.append("init-wrong-scale")
        if abs(a["z_std"]) > params.z_limit:
            ratio = a["std"] / spec.std
            problems.append(f"the {label} have standard deviation {fmt(a['std'])}, expected {fmt(spec.std)} "
                            f"({fmt(ratio)} times too {'large' if ratio > 1 else 'small'})")
            diagnoses.append("init-wrong-scale")
        elif a["ks_p"] < params.ks_p_min:
            problems.append(f"the {label} do not look normally distributed (Kolmogorov-Smirnov p = "
                            f"{a['ks_p']:.1e}); e.g. a uniform distribution has the wrong shape")
            diagnoses.append("init-not-normal")
    w0 = theta.get("W0")
    if w0 is not None and w0.shape[0] > 1:
        rounded = np.round(w0, 12)
        if np.unique(rounded, axis=0).shape[0] < w0.shape[0] and "init-constant" not in diagnoses:
            problems.append("some hidden units start with identical weights, so they stay identical (symmetry)")
            diagnoses.append("init-symmetric")
    evidence = {"statistics": table(["block", "values", "mean", "std", "KS p-value", "distinct values"], rows),
                "expected mean": sig(spec.mean), "expected std": sig(spec.std)}
    if problems:
        return failed(f"Initial parameters should be draws from N({fmt(spec.mean)}, {fmt(spec.std)}^2) "
                      f"(checked on {weights.size + biases.size:,} values):\n- " + "\n- ".join(problems),
                      diagnoses=sorted(set(diagnoses)), evidence=evidence)
    return passed(f"The {weights.size + biases.size:,} initial values are consistent with "
                  f"N({fmt(spec.mean)}, {fmt(spec.std)}^2): mean, spread and shape all fit.", evidence=evidence)
