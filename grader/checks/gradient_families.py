"""Naming a wrong gradient by fitting it to a family of known mistakes.

A list of wrong answers names only the answers on the list; a family names
every member of a parametric set and says what the fitted parameters mean:

* scalings: g = c * reference (on the data part when a penalty is present),
  c fitted by least squares, named when c is a known factor (S, 1/S, S^2,
  -1, C, 1/C, D, 2, 1/2: `FACTORS`);
* penalty terms: g - data = a l1 sign(W) + b l2 W, (a, b) fitted by least
  squares, named when it is a known pair (`PENALTY_PAIRS`);
* mutants: what `grader.mutants` computes for an output-error or
  derivative-point mistake (the records say which function commits which).

A fit on one probe is a coincidence until a second probe (another batch
size S and theta) confirms it: a factor that is S on the first probe must
be the new S on the second, a constant must stay the same.  Every family
therefore receives the probe points (`Point`) and names a member only when
it reproduces the student's numbers, within the grading tolerance, at every
one of them.  An exact fit that is no known member is said plainly, with
its numbers, and names nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .base import best_scale, close, fmt, sig

#: a least-squares fit whose relative residual is below this (or below the
#: grading tolerance, when looser) is exact: the numbers are that multiple
FIT_RESIDUAL = 1e-6


@dataclass(frozen=True)
class Match:
    """The grading tolerance: element-wise |a - b| <= abs + rel |b|."""

    rel: float
    abs: float

    def close(self, a: np.ndarray, b: np.ndarray) -> bool:
        return close(a, b, self.rel, self.abs)

    def exact_fit(self, residual: float) -> bool:
        return bool(np.isfinite(residual) and residual <= max(FIT_RESIDUAL, self.rel))


@dataclass(frozen=True)
class Point:
    """One probe point as the judge sees it: the inputs, the student's
    gradient of the block (canonical float64) and the reference's answers."""

    theta: dict[str, np.ndarray]
    x: np.ndarray
    y: np.ndarray
    student: np.ndarray
    reference: np.ndarray
    data: np.ndarray                 # the data gradient (the reference's without the penalty)
    mutants: dict[str, np.ndarray] = field(default_factory=dict)   # mistake id -> its gradient of the block

    @property
    def samples(self) -> int:
        return int(self.x.shape[0])


@dataclass(frozen=True)
class Finding:
    """What a family says about the student's numbers: a named mistake, or
    (diagnosis None) an exact fit that is no known one, said plainly."""

    diagnosis: str | None
    text: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Sizes:
    """The counts a scaling factor may involve: inputs D and classes C
    (S is each probe point's own)."""

    inputs: int
    classes: int


# -- scalings --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Factor:
    """One known scaling: its mistake, how it is written, its value at a
    probe (S, D, C) and what it means about the student's code."""

    diagnosis: str
    label: str
    value: Callable[[int, Sizes], float]
    meaning: str

    @property
    def follows_s(self) -> bool:
        return "S" in self.label


FACTORS: tuple[Factor, ...] = (
    Factor("sum-not-mean", "S", lambda s, n: float(s), "you sum over the samples but do not divide by S"),
    Factor("mean-twice", "1/S", lambda s, n: 1.0 / s, "you divide by S twice"),
    Factor("multiplied-by-s", "S^2", lambda s, n: float(s * s), "you multiply by S where you must divide by S"),
    Factor("sign-flip", "-1", lambda s, n: -1.0, "it has the right size but the opposite sign"),
    Factor("divided-by-classes", "1/C", lambda s, n: 1.0 / n.classes,
           "you average over all C x S entries of a (C, S) array instead of over the S samples"),
    Factor("times-classes", "C", lambda s, n: float(n.classes),
           "the number of classes C enters as a factor where none belongs"),
    Factor("times-features", "D", lambda s, n: float(n.inputs),
           "the number of input features D (x.shape[1]) enters as a factor where none belongs"),
    Factor("gradient-doubled", "2", lambda s, n: 2.0, "there is a factor 2 too many"),
    Factor("gradient-halved", "1/2", lambda s, n: 0.5, "there is a factor 1/2 too many (or a factor 2 missing)"),
)


@dataclass(frozen=True)
class Part:
    """What a scaling multiplies: the whole gradient, or its data part (the
    penalty's term then stays as it is): g = c * base + rest."""

    name: str
    base: Callable[[Point], np.ndarray]
    rest: Callable[[Point], np.ndarray]


WHOLE = Part("your gradient", lambda p: p.reference, lambda p: np.zeros_like(p.reference))
DATA = Part("the data part of your gradient (without the penalty's term)", lambda p: p.data,
            lambda p: p.reference - p.data)


def scaling(points: tuple[Point, ...], sizes: Sizes, match: Match, block: str,
            penalized: bool) -> Finding | None:
    """The known factor c with g = c * base + rest at every probe point, or
    an exact multiple said plainly, or None."""
    plain = None
    for part in (WHOLE, DATA) if penalized else (WHOLE,):
        fits = [best_scale(p.student - part.rest(p), part.base(p)) for p in points]
        if not match.exact_fit(fits[0][1]):
            continue
        at_first = [f for f in FACTORS if _reproduces(f, part, points[0], sizes, match)]
        confirmed = [f for f in at_first if all(_reproduces(f, part, p, sizes, match) for p in points[1:])]
        if confirmed:
            return _named_factor(confirmed[0], part, points, fits, sizes, block)
        if at_first:
            return _unconfirmed_factor(at_first[0], part, points, fits, sizes, block)
        plain = plain or _plain_multiple(part, points, fits, match, block)
    return plain


def _reproduces(factor: Factor, part: Part, point: Point, sizes: Sizes, match: Match) -> bool:
    return match.close(point.student, factor.value(point.samples, sizes) * part.base(point) + part.rest(point))


def _named_factor(factor: Factor, part: Part, points: tuple[Point, ...], fits: list[tuple[float, float]],
                  sizes: Sizes, block: str) -> Finding:
    first = points[0]
    value = factor.value(first.samples, sizes)
    where = (f", and {factor.label} = {fmt(factor.value(points[1].samples, sizes), 4)} times on a second probe "
             f"with S = {points[1].samples}" if len(points) > 1 and factor.follows_s
             else " at both probes (two batch sizes)" if len(points) > 1 else "")
    what = part.name.replace("your gradient", f"your gradient of {block}")
    named = factor.label if factor.label == fmt(value, 4) else f"{factor.label} = {fmt(value, 4)}"
    text = f"{what[0].upper() + what[1:]} is exactly {named} times the reference{where}: {factor.meaning}."
    return Finding(factor.diagnosis, text, _ratios(points, fits))


def _unconfirmed_factor(factor: Factor, part: Part, points: tuple[Point, ...], fits: list[tuple[float, float]],
                        sizes: Sizes, block: str) -> Finding:
    first, second = points[0], points[1]
    c2, residual2 = fits[1]
    seen = f"{fmt(c2, 4)} times" if np.isfinite(c2) and residual2 <= FIT_RESIDUAL else "no multiple of"
    return Finding(None, f"On the probe (S = {first.samples}) your gradient of {block} is exactly "
                   f"{factor.label} = {fmt(factor.value(first.samples, sizes), 4)} times the reference, but on a "
                   f"second probe (S = {second.samples}) it is {seen} the reference, not "
                   f"{fmt(factor.value(second.samples, sizes), 4)}: the factor does not behave like {factor.label}, "
                   "so it is no known mistake.", _ratios(points, fits))


def _plain_multiple(part: Part, points: tuple[Point, ...], fits: list[tuple[float, float]], match: Match,
                    block: str) -> Finding | None:
    c1 = fits[0][0]
    if not np.isfinite(c1) or abs(c1) < 1e-9 or abs(c1 - 1.0) < 1e-3:
        return None   # a zero gradient, or one that is nearly right: a ratio says nothing useful
    what = part.name.replace("your gradient", f"your gradient of {block}")
    text = f"{what[0].upper() + what[1:]} is exactly {fmt(c1, 6)} times the reference (S = {points[0].samples})"
    if len(points) > 1:
        c2, residual2 = fits[1]
        text += (f", and exactly {fmt(c2, 6)} times on a second probe (S = {points[1].samples})"
                 if match.exact_fit(residual2) else
                 f", but no multiple of it on a second probe (S = {points[1].samples})")
    return Finding(None, text + ": no known mistake gives that factor.", _ratios(points, fits))


def _ratios(points: tuple[Point, ...], fits: list[tuple[float, float]]) -> dict[str, Any]:
    return {f"ratio yours / reference (S = {p.samples})": sig(c) for p, (c, _) in zip(points, fits)}


def _at(points: tuple[Point, ...]) -> str:
    return f" at both probes (S = {points[0].samples} and {points[1].samples})" if len(points) > 1 else ""


# -- penalty terms ---------------------------------------------------------------------------------

#: (block kind, a, b) -> mistake: g - data = a l1 sign(P) + b l2 P on a weight matrix or a bias
PENALTY_PAIRS: dict[tuple[str, float, float], str] = {
    ("W", 0.0, 0.0): "penalty-missing",
    ("W", 1.0, 1.0): "penalty-l2-factor",
    ("W", 1.0, 4.0): "penalty-l2-doubled",
    ("W", -1.0, -2.0): "penalty-sign-flipped",
    ("b", 1.0, 2.0): "penalty-on-biases",
    ("b", 1.0, 1.0): "penalty-on-biases",
}

PAIR_MEANING: dict[str, str] = {
    "penalty-missing": "the elastic-net term l1 sign({p}) + 2 l2 {p} is missing",
    "penalty-l2-factor": "the L2 term is l2 {p} instead of 2 l2 {p} (the derivative of l2 sum {p}^2 is 2 l2 {p})",
    "penalty-l2-doubled": "the L2 term is 4 l2 {p} instead of 2 l2 {p}: the gradient of 2 l2 sum {p}^2, a "
                          "penalty twice the assignment's (written 0.5 reg sum {p}^2, the 0.5 left out)",
    "penalty-sign-flipped": "the penalty's gradient is subtracted instead of added",
    "penalty-on-biases": "the elastic-net term is applied to the bias {p}; only the weight matrices are penalized",
}


def penalty(points: tuple[Point, ...], coefficients: tuple[float, float], match: Match,
            block: str) -> Finding | None:
    """The known pair (a, b) with g = data + a l1 sign(P) + b l2 P at every
    probe point, or the fitted pair said plainly, or None."""
    l1, l2 = coefficients
    if not (l1 or l2):
        return None
    kind = block[0]
    for (pair_kind, a, b), diagnosis in PENALTY_PAIRS.items():
        if pair_kind == kind and all(match.close(p.student, _penalized(p, block, l1, l2, a, b)) for p in points):
            return Finding(diagnosis, f"Your gradient of {block} is the data gradient plus a l1 sign({block}) + "
                           f"b l2 {block} with (a, b) = ({a:g}, {b:g}){_at(points)}: "
                           + PAIR_MEANING[diagnosis].format(p=block) + ".", {"fitted (a, b)": [a, b]})
    (a, b), residual = _fit_pair(points[0], block, l1, l2)
    expected = (1.0, 2.0) if kind == "W" else (0.0, 0.0)
    if not match.exact_fit(residual) or np.allclose((a, b), expected, atol=1e-3):
        return None
    return Finding(None, f"The difference between your gradient of {block} and the data gradient is exactly "
                   f"a l1 sign({block}) + b l2 {block} with a = {fmt(a, 4)}, b = {fmt(b, 4)} (the assignment's "
                   f"penalty gives a = {expected[0]:g}, b = {expected[1]:g}); no known mistake gives that pair.",
                   {"fitted (a, b)": [sig(a), sig(b)]})


def _penalized(point: Point, block: str, l1: float, l2: float, a: float, b: float) -> np.ndarray:
    p = point.theta[block]
    return point.data + a * l1 * np.sign(p) + b * l2 * p


def _fit_pair(point: Point, block: str, l1: float, l2: float) -> tuple[tuple[float, float], float]:
    """Least squares of g - data on [l1 sign(P), l2 P]; the residual relative to |g|."""
    p = point.theta[block]
    gap = np.ravel(point.student - point.data)
    columns = np.stack([np.ravel(l1 * np.sign(p)), np.ravel(l2 * p)], axis=1)
    if not np.all(np.isfinite(gap)):
        return (np.nan, np.nan), np.inf
    (a, b), *_ = np.linalg.lstsq(columns, gap, rcond=None)
    residual = float(np.linalg.norm(gap - columns @ np.array([a, b])))
    return (float(a), float(b)), residual / max(float(np.linalg.norm(point.student)), 1e-300)


# -- mutants (output errors, derivative points) ------------------------------------------------------

#: what each mutant's match says, in a sentence (the record holds the catalogue's longer texts)
MUTANT_SAYS: dict[str, str] = {
    "output-error-no-target": "backprop with the output error y~ in place of y~ - onehot(y): the target is "
                              "never subtracted",
    "softmax-jacobian-missing": "backprop with dL/dy~ = (y~ - onehot(y)) / S taken for dL/dz: the softmax's "
                                "Jacobian is left out",
    "output-derivative-applied": "backprop with the cross-entropy error multiplied once more by y~ (1 - y~)",
    "softmax-jacobian-inner-product": "backprop through a softmax Jacobian diag(y~) - ||y~||^2 (the outer "
                                      "product y~ y~^T written as the inner product y~^T y~)",
    "activation-derivative-sigmoid": "backprop with the sigmoid's derivative sigma(z)(1 - sigma(z)) in place of "
                                     "the activation's derivative",
    "activation-derivative-at-activation": "backprop with the activation's derivative evaluated at the "
                                           "activation a = h(z) instead of the pre-activation z",
    "activation-derivative-missing": "backprop without the activation's derivative h'(z) (as if h were the "
                                     "identity)",
}


def mutant(points: tuple[Point, ...], match: Match, block: str) -> Finding | None:
    """The mutant that reproduces the student's numbers at every probe point
    (one that the reference itself reproduces names nothing)."""
    for diagnosis, first in points[0].mutants.items():
        if match.close(first, points[0].reference) or not match.close(points[0].student, first):
            continue
        if all(diagnosis in p.mutants and match.close(p.student, p.mutants[diagnosis]) for p in points[1:]):
            return Finding(diagnosis, f"Your gradient of {block} equals {MUTANT_SAYS[diagnosis]}"
                           + ("," + _at(points) if len(points) > 1 else "") + ".")
    return None


def explain(points: tuple[Point, ...], sizes: Sizes, coefficients: tuple[float, float], match: Match,
            block: str, single_samples: dict[str, np.ndarray] | None = None) -> Finding | None:
    """The first family that names the student's numbers, else the first
    plain exact fit, else None.  `single_samples`: the block's gradient from
    one sample (by label), for a bias taken from one sample (first probe)."""
    penalized = bool(coefficients[0] or coefficients[1])
    findings = [penalty(points, coefficients, match, block),
                scaling(points, sizes, match, block, penalized),
                mutant(points, match, block),
                _one_sample(points[0], single_samples or {}, match, block)]
    named = [f for f in findings if f is not None and f.diagnosis is not None]
    plain = [f for f in findings if f is not None]
    return named[0] if named else plain[0] if plain else None


def _one_sample(point: Point, singles: dict[str, np.ndarray], match: Match, block: str) -> Finding | None:
    if not block.startswith("b"):
        return None
    for label, single in singles.items():
        if match.close(point.student, single):
            return Finding("bias-one-sample", f"Your bias gradient equals the gradient of a single sample "
                           f"({label}); it must combine all S = {point.samples} samples (sum the error over the "
                           "sample axis, then divide by S).", {"matches": label})
    return None


#: every mistake the families may name
FAMILY_MISTAKES: tuple[str, ...] = tuple(dict.fromkeys(
    [f.diagnosis for f in FACTORS] + list(PENALTY_PAIRS.values()) + list(MUTANT_SAYS) + ["bias-one-sample"]))
