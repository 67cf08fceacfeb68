"""Translate between the canonical parameter layout and a student's.

Canonical (the reference's): `W{i}` is (n_out, n_in), `b{i}` is (n_out, 1),
probabilities are (C, S), float64.  Students vary: flat biases, transposed
weights, (S, C) outputs, float32, other key names.  The grader learns the
student's layout once from what their constructor produced, then every
injection and every reading goes through the same `Layout`, so a layout
choice is judged once (in `param-shapes`, against the rubric's
`interface.bias_layouts`) and never again.  Probabilities are read only in
the layouts the rubric's `interface.output_layouts` lists (`RefusedLayout`
otherwise: the student's bad-output, named).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from reference.architecture import bias_name, block_order, weight_name


@dataclass(frozen=True)
class BlockLayout:
    student_key: str
    canonical_shape: tuple[int, ...]
    form: str  # "canonical" | "flat" | "row" | "transposed" | "mismatch"
    dtype: str = "float64"

    def to_student(self, value: np.ndarray) -> np.ndarray:
        value = np.asarray(value, dtype=np.float64)
        if self.form == "flat":
            value = value.reshape(-1)
        elif self.form == "row":
            value = value.reshape(1, -1)
        elif self.form == "transposed":
            value = value.T
        # always float64: a float32 student's arithmetic then runs in float64
        # too, so finite differences stay meaningful
        return np.ascontiguousarray(value)

    def to_canonical(self, value: Any) -> np.ndarray:
        arr = np.asarray(value, dtype=np.float64)
        if self.form == "transposed" and arr.ndim == 2:
            arr = arr.T
        if arr.size == int(np.prod(self.canonical_shape)) and arr.shape != self.canonical_shape:
            if self.form in ("flat", "row") or arr.ndim == 1:
                arr = arr.reshape(self.canonical_shape)
        return arr


@dataclass(frozen=True)
class Layout:
    """How one student stores parameters (learned from their constructor)."""

    blocks: dict[str, BlockLayout]          # canonical key -> layout
    extra_keys: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()

    def to_student(self, theta: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Blocks absent from `theta` are left out (a direction in one block)."""
        return {b.student_key: b.to_student(theta[k]) for k, b in self.blocks.items() if k in theta}

    def to_canonical(self, student: dict[str, Any]) -> dict[str, np.ndarray]:
        return {k: b.to_canonical(student[b.student_key]) for k, b in self.blocks.items()
                if b.student_key in student}



def interface_keys(num_layers: int, interface: Any) -> list[tuple[str, str]]:
    """(canonical key, student key) in canonical order W0, b0, W1, b1, ...
    (the canonical names are the reference's: `reference.architecture`),
    the student's in the spelling of a rubric's `interface`
    (`Interface.block_key`: template B's W1 is the canonical W0)."""
    return [(name, interface.block_key(name)) for i in range(num_layers) for name in (weight_name(i), bias_name(i))]


def learn_layout(description: dict, shapes: dict[str, tuple[int, ...]], key_pairs: list[tuple[str, str]]) -> Layout:
    """Match a description of the student's parameters (the worker's
    `describe`: type, and per key shape and dtype) against the canonical shapes."""
    if description.get("type") != "dict":
        return Layout(blocks={}, missing=tuple(k for k, _ in key_pairs))
    student = description["entries"]
    blocks: dict[str, BlockLayout] = {}
    missing = []
    lower = {str(k).lower(): k for k in student}
    for canon, wanted in key_pairs:
        key = wanted if wanted in student else lower.get(wanted.lower())
        if key is None:
            missing.append(canon)
            continue
        entry = student[key]
        dtype = "float32" if entry.get("dtype") == "float32" else "float64"
        shape = tuple(entry["shape"]) if entry.get("shape") is not None else None
        form = classify_shape(shape, tuple(shapes[canon])) if shape is not None else "mismatch"
        blocks[canon] = BlockLayout(key, tuple(shapes[canon]), form, dtype)
    used = {b.student_key for b in blocks.values()}
    extra = tuple(sorted(str(k) for k in student if k not in used))
    return Layout(blocks=blocks, extra_keys=extra, missing=tuple(missing))


def is_bias(canon: str) -> bool:
    """Is canonical block `canon` a bias vector (b0, b1, ...)?"""
    return block_order(canon)[1] == 1


#: a weight layout the rubric may declare (`interface.weight_layouts`) -> its form in `classify_shape`
WEIGHT_FORMS: dict[str, str] = {"out_in": "canonical", "in_out": "transposed"}


def accepted_forms(canon: str, bias_layouts: tuple[str, ...] | list[str],
                   weight_layouts: tuple[str, ...] | list[str] = ("out_in",)) -> tuple[str, ...]:
    """The forms (see `classify_shape`) the rubric accepts for block `canon`:
    weights as the rubric's `interface.weight_layouts` say, "out_in"
    (n_out, n_in) and/or "in_out" (n_in, n_out); biases as its
    `interface.bias_layouts` say, "column" (n_out, 1) and/or "flat" (n_out,)."""
    if not is_bias(canon):
        return tuple(WEIGHT_FORMS[layout] for layout in weight_layouts)
    return tuple(form for layout, form in (("column", "canonical"), ("flat", "flat")) if layout in bias_layouts)


def asked_shape(canon: str, canonical: tuple[int, ...], bias_layouts: tuple[str, ...] | list[str],
                weight_layouts: tuple[str, ...] | list[str] = ("out_in",)) -> tuple[int, ...]:
    """The shape the rubric asks for block `canon`: the canonical one, a
    flat (n_out,) for a bias when the rubric accepts only flat biases, or
    (n_in, n_out) for a weight when it accepts only that layout."""
    if is_bias(canon) and "column" not in bias_layouts:
        return (canonical[0],)
    if not is_bias(canon) and "out_in" not in weight_layouts:
        return tuple(canonical[::-1])
    return tuple(canonical)


def classify_shape(shape: tuple[int, ...], canonical: tuple[int, ...]) -> str:
    if shape == canonical:
        return "canonical"
    if len(canonical) == 2 and canonical[1] == 1 and shape == (canonical[0],):
        return "flat"
    if len(canonical) == 2 and canonical[1] == 1 and shape == (1, canonical[0]):
        return "row"
    if len(canonical) == 2 and shape == canonical[::-1] and canonical[0] != canonical[1]:
        return "transposed"
    return "mismatch"


#: every layout of a probabilities array the grader can read: (C, S) "CS" and (S, C) "SC"
OUTPUT_LAYOUTS: tuple[str, ...] = ("CS", "SC")
#: how feedback names them
LAYOUT_WORDS: dict[str, str] = {"CS": "(classes, samples)", "SC": "(samples, classes)"}


class RefusedLayout(ValueError):
    """The probabilities come in a layout the grader can read but the
    rubric's `interface.output_layouts` does not accept."""

    def __init__(self, shape: tuple[int, ...], seen: str, allowed: tuple[str, ...], num_classes: int,
                 num_samples: int) -> None:
        wanted = " or ".join(f"{LAYOUT_WORDS[a]} = {layout_shape(a, num_classes, num_samples)}" for a in allowed)
        super().__init__(f"probabilities of shape {shape}, laid out {LAYOUT_WORDS[seen]} for {num_samples} "
                         f"samples and {num_classes} classes; this assignment asks for {wanted}")
        self.seen = seen


def layout_shape(layout: str, num_classes: int, num_samples: int) -> tuple[int, int]:
    """The shape of probabilities in `layout` ("CS" or "SC")."""
    return (num_classes, num_samples) if layout == "CS" else (num_samples, num_classes)


def probabilities_to_canonical(value: Any, num_classes: int, num_samples: int,
                               allowed: tuple[str, ...] | list[str] = OUTPUT_LAYOUTS) -> tuple[np.ndarray | None, str]:
    """(C, S) probabilities from a student's output, and the layout seen.

    Only the layouts in `allowed` (the rubric's `interface.output_layouts`)
    are read; one the grader could read but the rubric does not accept
    raises `RefusedLayout` (the student's mistake, named).  The grader's
    probes use S != C so the orientation is unambiguous; a square array
    (S == C) is read in the first allowed layout (with the default list,
    (C, S), as always).  Anything else: (None, a description of the shape)."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.size == num_classes * num_samples and arr.ndim == 3:
        arr = arr.squeeze()
    for layout in allowed:
        if arr.shape == layout_shape(layout, num_classes, num_samples):
            return (arr if layout == "CS" else arr.T.copy()), layout
    for layout in OUTPUT_LAYOUTS:
        if arr.shape == layout_shape(layout, num_classes, num_samples):
            raise RefusedLayout(tuple(arr.shape), layout, tuple(allowed), num_classes, num_samples)
    return None, f"shape {arr.shape}"
