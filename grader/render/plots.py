"""Plot specs -> inline, deterministic SVG strings (matplotlib, Agg/SVG backend).

A *plot spec* is a plain dict from the result document::

    {"kind": "line",            # default; or "bar"
     "title": "...",            # optional
     "xlabel": "iteration", "ylabel": "training loss", "logy": True,
     "x": [0, 10, 20],          # optional for lines (defaults to 0..n-1)
     "series": {"GD (you)": [...], "GD (reference)": [...]},
     "reference": ["GD (reference)"]}   # optional; by default a series whose
                                        # name contains "reference" is one

Bar specs use ``"categories"`` (the bar labels) and ``"series"`` (one or more
value lists). Reference series are drawn dashed and grey so students can compare
their own (solid, coloured) curves with them.

The SVG is byte-for-byte deterministic across runs (fixed hash salt, no date or
creator metadata, fixed size) and contains no ``http://`` references: the XML
prolog, DOCTYPE, metadata, comments and namespace declarations are removed, which
inline SVG inside HTML5 does not need.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import unicodedata
import warnings
from typing import Any, Iterable, Sequence

import matplotlib

matplotlib.use("Agg")  # never a GUI backend; set before anything draws

from matplotlib.figure import Figure  # noqa: E402  (after matplotlib.use)
from matplotlib.ticker import FuncFormatter  # noqa: E402

__all__ = ["plot_svg", "bar_svg", "is_reference", "STUDENT_COLORS", "REFERENCE_COLORS"]

FIGSIZE: tuple[float, float] = (5.2, 3.3)
"""Figure size in inches (the SVG is 374.4 x 237.6 pt; CSS scales it to the page)."""

STUDENT_COLORS: tuple[str, ...] = ("#1f6feb", "#d9480f", "#2b8a3e", "#9c36b5", "#0c8599", "#c2255c")
REFERENCE_COLORS: tuple[str, ...] = ("#6b7280", "#a1a1aa", "#52525b", "#9ca3af")
REFERENCE_DASHES: tuple[tuple[float, float], ...] = ((5.0, 3.0), (2.0, 2.0), (8.0, 3.0), (1.0, 3.0))
BAR_COLOR = "#1f6feb"
_MARKER_MAX = 30  # student curves with at most this many points get markers

_RC = {
    "svg.hashsalt": "nngrade",
    "svg.fonttype": "path",  # glyphs as paths: looks the same without fonts installed
    "font.family": "DejaVu Sans",  # ships with matplotlib
    "font.size": 9.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e5e7eb",
    "grid.linewidth": 0.6,
    "axes.edgecolor": "#6b7280",
    "axes.labelcolor": "#374151",
    "xtick.color": "#4b5563",
    "ytick.color": "#4b5563",
    "legend.frameon": False,
    "path.simplify": False,
}
_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}


def is_reference(name: str, spec: dict[str, Any] | None = None) -> bool:
    """True if series ``name`` is a reference curve (listed in spec["reference"],
    or, by default, its name contains "reference" or "ref.")."""
    if spec is not None and spec.get("reference") is not None:
        return name in spec["reference"]
    low = str(name).lower()
    return "reference" in low or "ref." in low or low.startswith("ref ")


#: values beyond this magnitude are drawn as non-finite: an axis spanning
#: -9e307..9e307 has an infinite length, and matplotlib's tick locator raises
PLOT_LIMIT = 1e300


def _float(v: Any) -> float:
    """Convert to float; anything that is not a number becomes NaN, and a
    magnitude beyond `PLOT_LIMIT` becomes an infinity of its sign (skipped
    like one: a diverged student's 1e307 must not crash the report)."""
    if isinstance(v, bool) or v is None:
        return math.nan
    try:
        x = float(v)
    except (TypeError, ValueError, OverflowError):
        return math.nan
    return math.copysign(math.inf, x) if abs(x) > PLOT_LIMIT else x


def _label(text: Any) -> str:
    """Text for matplotlib: never mathtext (escape '$'), no control characters."""
    if text is None:
        return ""
    clean = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in str(text))
    return clean.replace("$", r"\$")


def _clean_svg(svg: str, prefix: str) -> str:
    """Make matplotlib's SVG suitable for inlining: no prolog, DOCTYPE, metadata,
    comments or namespace URLs, and ids made unique with ``prefix``."""
    start = svg.find("<svg")
    svg = svg[start:] if start >= 0 else svg
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    svg = re.sub(r"<!--.*?-->\s*", "", svg, flags=re.S)
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    if ids:
        def ref(m: re.Match[str]) -> str:
            name = m.group(2)
            return f"{m.group(1)}{prefix}-{name}" if name in ids else m.group(0)

        svg = re.sub(r'(\bid=")([^"]+)', ref, svg)
        svg = re.sub(r'(href="#)([^"]+)', ref, svg)
        svg = re.sub(r"(url\(#)([^)]+)", ref, svg)
    # Responsive by default; the viewBox keeps the aspect ratio.
    svg = re.sub(r'^<svg ([^>]*?)width="[^"]*" height="[^"]*"',
                 r'<svg \1width="100%"', svg, count=1)
    svg = svg.replace("<svg ", f'<svg role="img" class="plot-svg" data-plot="{prefix}" ', 1)
    return svg.strip() + "\n"


def _spec_prefix(spec: dict[str, Any]) -> str:
    blob = json.dumps(spec, sort_keys=True, default=str, allow_nan=True)
    return "p" + hashlib.sha1(blob.encode("utf-8")).hexdigest()[:10]


def _gapped_points(xs: Sequence[float], ys: Sequence[float], logy: bool) -> tuple[list[float], list[float], int]:
    """Pair xs with ys; unusable y values (NaN, inf, <= 0 on a log axis) become NaN so
    matplotlib leaves a visible gap instead of joining across them. Returns the
    x and y lists and how many values were skipped."""
    px, py, skipped = [], [], 0
    for x, y in zip(xs, ys):
        if not math.isfinite(x):
            skipped += 1
            continue
        if math.isfinite(y) and (not logy or y > 0):
            py.append(y)
        else:
            py.append(math.nan)
            skipped += 1
        px.append(x)
    return px, py, skipped


def _note(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center",
            color="#6b7280", fontsize=10)


def _plain_log_ticks(ax: Any, lo: float, hi: float) -> None:
    """Log-axis tick labels as plain numbers (0.6, 1, 10) instead of 6x10^-1; minor
    ticks are labelled only when the data spans few decades."""
    decades = math.log10(hi / lo) if lo > 0 and hi > 0 else 99.0
    keep = {2, 3, 4, 6} if decades <= 1.2 else ({2, 5} if decades <= 2.5 else set())

    def major(v: float, _pos: Any) -> str:
        return f"{v:g}"

    def minor(v: float, _pos: Any) -> str:
        if v <= 0:
            return ""
        mantissa = round(v / 10 ** math.floor(math.log10(v)))
        return f"{v:g}" if mantissa in keep else ""

    ax.yaxis.set_major_formatter(FuncFormatter(major))
    ax.yaxis.set_minor_formatter(FuncFormatter(minor))


CLIP_DECADES = 2.0
"""A log axis shows at most this many decades above the reference curves' highest value."""
CLIP_SPANS = 2.0
"""A linear axis shows at most this many times the reference curves' range above their highest value."""


def _clip_top(values: dict[str, list[float]], spec: dict[str, Any], logy: bool) -> float | None:
    """Where to cut the y axis so the reference curves stay readable when a
    student's curve blows up (a loss of 1e+190 would flatten them into the
    bottom edge), or None when nothing needs cutting or there is no
    reference.  The plot spec keeps every value; only the view is cut."""
    usable = [(is_reference(name, spec), y) for name, ys in values.items() for y in ys
              if math.isfinite(y) and (not logy or y > 0)]
    ref = [y for is_ref, y in usable if is_ref]
    mine = [y for is_ref, y in usable if not is_ref]
    if not ref or not mine:
        return None
    lo, hi = min(ref + mine), max(ref)
    if logy:
        top = hi * 10 ** CLIP_DECADES
    else:
        top = hi + CLIP_SPANS * max(hi - min(ref), abs(hi), 1e-12)
    return top if max(mine) > top and top > lo else None


def _draw_lines(ax: Any, spec: dict[str, Any]) -> None:
    series: dict[str, Iterable[Any]] = spec.get("series") or {}
    values = {str(k): [_float(v) for v in (vals or [])] for k, vals in series.items()}
    longest = max((len(v) for v in values.values()), default=0)
    x_raw = spec.get("x")
    xs = [_float(v) for v in x_raw] if x_raw is not None else [float(i) for i in range(longest)]

    finite = [y for ys in values.values() for y in ys if math.isfinite(y)]
    logy = bool(spec.get("logy")) and bool(finite) and min(finite) > 0
    if spec.get("logy") and not logy and finite:
        spec["ylabel"] = f"{spec.get('ylabel') or ''} (linear: values <= 0)".strip()

    drawn = 0
    n_student = n_ref = 0
    # Student curves above reference curves: draw references first.
    ordered = sorted(values.items(), key=lambda kv: (not is_reference(kv[0], spec),))
    for name, ys in ordered:
        px, py, skipped = _gapped_points(xs, ys, logy)
        label = _label(name) + (f"  ({skipped} non-finite skipped)" if skipped else "")
        markers = len(px) <= _MARKER_MAX
        if is_reference(name, spec):
            color = REFERENCE_COLORS[n_ref % len(REFERENCE_COLORS)]
            dashes = REFERENCE_DASHES[n_ref % len(REFERENCE_DASHES)]
            n_ref += 1
            (line,) = ax.plot(px, py, color=color, linewidth=1.6, label=label, zorder=2)
            line.set_dashes(dashes)
        else:
            color = STUDENT_COLORS[n_student % len(STUDENT_COLORS)]
            n_student += 1
            ax.plot(px, py, color=color, linewidth=2.0, label=label, zorder=3,
                    marker="o" if markers else None, markersize=3.2)
        drawn += sum(1 for y in py if math.isfinite(y))
    top = _clip_top(values, spec, logy)
    if logy:
        ax.set_yscale("log")
        _plain_log_ticks(ax, min(finite), top if top is not None else max(finite))
    if top is not None:
        reach = max(y for name, ys in values.items() if not is_reference(name, spec) for y in ys if math.isfinite(y))
        lo = min(y for ys in values.values() for y in ys if math.isfinite(y) and (not logy or y > 0))
        ax.set_ylim(bottom=lo / 2 if logy else lo - 0.05 * (top - lo), top=top)   # autoscale would follow the 1e+190
        ax.text(0.99, 0.97, f"\u2191 off the chart: your curve reaches {reach:.3g}", transform=ax.transAxes,
                ha="right", va="top", color="#b42318", fontsize=8)
    if drawn == 0:
        _note(ax, "no finite data to plot")
    if values:
        # Student curves first in the legend (they are drawn last, above the references).
        handles, labels = ax.get_legend_handles_labels()
        n_refs = n_ref
        handles, labels = handles[n_refs:] + handles[:n_refs], labels[n_refs:] + labels[:n_refs]
        # Above the axes, never on top of the curves.
        ax.legend(handles, labels, loc="lower left", bbox_to_anchor=(0.0, 1.01), ncol=2 if len(values) > 1 else 1,
                  fontsize=8, handlelength=2.8, borderaxespad=0.0, columnspacing=1.6)


def _draw_bars(ax: Any, spec: dict[str, Any]) -> None:
    cats = [str(c) for c in (spec.get("categories") or spec.get("x") or [])]
    series = {str(k): [_float(v) for v in (vals or [])] for k, vals in (spec.get("series") or {}).items()}
    if not cats:
        cats = [str(i) for i in range(max((len(v) for v in series.values()), default=0))]
    n = max(len(series), 1)
    width = 0.8 / n
    drawn = 0
    for j, (name, ys) in enumerate(series.items()):
        ys = [(y if math.isfinite(y) else 0.0) for y in ys[: len(cats)]]
        ys += [0.0] * (len(cats) - len(ys))
        pos = [i - 0.4 + width * (j + 0.5) for i in range(len(cats))]
        color = spec.get("color") or (BAR_COLOR if n == 1 else STUDENT_COLORS[j % len(STUDENT_COLORS)])
        bars = ax.bar(pos, ys, width=width * 0.92, color=color, label=_label(name), zorder=3)
        if spec.get("annotate", True):
            for b, y in zip(bars, ys):
                if y:
                    ax.annotate(f"{y:g}", xy=(b.get_x() + b.get_width() / 2, y), xytext=(0, 2),
                                textcoords="offset points", ha="center", va="bottom", fontsize=7,
                                color="#374151")
        drawn += len(ys)
    ax.set_xticks(range(len(cats)))
    ax.set_xticklabels([_label(c) for c in cats], rotation=spec.get("rotate", 0),
                       ha="right" if spec.get("rotate") else "center")
    ax.grid(axis="x", visible=False)
    if spec.get("integer_y", True):
        ax.yaxis.get_major_locator().set_params(integer=True)
    if not cats:
        _note(ax, "no data")
    if len(series) > 1:
        ax.legend(loc="best", fontsize=8)


def plot_svg(spec: dict[str, Any], *, id_prefix: str | None = None) -> str:
    """Render a plot spec to an inline ``<svg ...>`` string (no XML prolog).

    Non-finite values are skipped (and counted in the legend), empty series
    draw empty axes with a note, and ``logy`` falls back to a linear axis when
    any value is <= 0. Output is deterministic for the same spec; element ids
    are prefixed with ``id_prefix`` (default: derived from the spec) so several
    plots can share one HTML page.
    """
    spec = dict(spec or {})
    prefix = id_prefix or _spec_prefix(spec)
    with matplotlib.rc_context(_RC), warnings.catch_warnings():
        # Missing glyphs (drawn as boxes) and overflow in extreme data are not errors here.
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        fig = Figure(figsize=spec.get("figsize", FIGSIZE), dpi=100)
        try:
            ax = fig.add_subplot()
            if spec.get("kind", "line") == "bar":
                _draw_bars(ax, spec)
            else:
                _draw_lines(ax, spec)
            ax.set_xlabel(_label(spec.get("xlabel")))
            ax.set_ylabel(_label(spec.get("ylabel")))
            if spec.get("title"):
                fig.suptitle(_label(spec["title"]), fontsize=10, color="#111827")
            fig.tight_layout(pad=0.6)
            buf = io.StringIO()
            fig.savefig(buf, format="svg", metadata=_METADATA)
        finally:
            fig.clear()
            del fig  # a bare Figure is not registered with pyplot: nothing leaks
    return _clean_svg(buf.getvalue(), prefix)


def bar_svg(categories: Sequence[Any], values: Sequence[float], *, xlabel: str = "",
            ylabel: str = "", title: str = "", color: str | None = None,
            id_prefix: str | None = None, rotate: int = 0) -> str:
    """Convenience wrapper: one bar series -> inline SVG (see :func:`plot_svg`)."""
    spec: dict[str, Any] = {"kind": "bar", "categories": [str(c) for c in categories],
                            "series": {ylabel or "value": list(values)},
                            "xlabel": xlabel, "ylabel": ylabel, "title": title, "rotate": rotate}
    if color:
        spec["color"] = color
    return plot_svg(spec, id_prefix=id_prefix)
