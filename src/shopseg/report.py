"""Static HTML segment report: inline SVG charts and CSS, no script, no external file."""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shopseg.preprocess import MISSING_SUFFIX, NoUsableFeatureError, fit_preprocessor

# Stable ids of the report's panels, in page order (tests and readers rely on them).
CHART_IDS = (
    "k-selection",
    "segment-sizes",
    "lifecycle",
    "profile-heatmap",
    "projection",
    "feature-importance",
    "migration",
    "segment-rules",
)
SAMPLE_SIZE = 3000
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#2f4b7c",
    "#a0cbe8",
    "#86bcb6",
)
UNKNOWN_COLOUR = "#9a9a9a"
LIFECYCLE_COLOURS = {
    "prospect": "#c7c2bd",
    "new": "#a6d96a",
    "active": "#59a14f",
    "loyal": "#1b7837",
    "reactivated": "#76b7b2",
    "at_risk": "#f1a340",
    "lapsed": "#d6604d",
}
LOW, MID, HIGH = "#2166ac", "#f7f7f7", "#b2182b"
WIDE, HALF = 1320, 640
CHAR_W = 6.8  # average glyph width at 12px, for laying out labels

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f3f4f6; color: #1f2933;
  font: 14px/1.45 "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; }
main { max-width: 1380px; margin: 0 auto; padding: 24px 20px 40px; }
header h1 { margin: 0 0 4px; font-size: 26px; }
header p { margin: 2px 0; color: #52606d; }
.facts { display: flex; flex-wrap: wrap; gap: 8px; margin: 14px 0 18px; padding: 0; }
.facts li { list-style: none; background: #fff; border: 1px solid #d9dde3; border-radius: 6px;
  padding: 6px 12px; }
.facts b { display: block; font-size: 18px; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 18px; }
.panel { background: #fff; border: 1px solid #d9dde3; border-radius: 8px; padding: 16px 18px;
  min-width: 0; }
.panel.wide { grid-column: 1 / -1; }
.panel h2 { margin: 0 0 4px; font-size: 18px; }
.panel .note { margin: 0 0 10px; color: #52606d; font-size: 13px; }
.panel .empty { color: #7b2d26; font-weight: bold; }
svg.chart { display: block; width: 100%; height: auto; }
svg text { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; fill: #1f2933; }
svg .tick { font-size: 11px; fill: #52606d; }
svg .axis-label { font-size: 13px; font-weight: bold; fill: #323f4b; }
svg .plot-title { font-size: 14px; font-weight: bold; }
svg .value { font-size: 11px; }
svg .cell { font-size: 10px; }
svg .grid-line { stroke: #e4e7eb; stroke-width: 1; }
svg .axis { stroke: #9aa5b1; stroke-width: 1; }
svg .message { font-size: 15px; fill: #7b2d26; font-weight: bold; }
table.rules { width: 100%; border-collapse: collapse; font-size: 13px; }
table.rules th.num { text-align: right; }
table.rules th { text-align: left; background: #eef1f4; padding: 6px 8px;
  border-bottom: 2px solid #cbd2d9; }
table.rules td { padding: 5px 8px; border-bottom: 1px solid #e4e7eb; vertical-align: top; }
table.rules th.group { text-align: center; border-bottom: 1px solid #cbd2d9; }
table.rules td.segment { white-space: nowrap; }
table.rules td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.rules code { font: 12px/1.4 "DejaVu Sans Mono", monospace; }
.chip { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 6px;
  vertical-align: -1px; }
footer { margin-top: 18px; color: #7b8794; font-size: 12px; }
"""


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows, read from the published DuckDB file."""

    run: dict[str, Any]
    config: dict[str, Any]
    k_selection: pd.DataFrame
    profiles: pd.DataFrame
    feature_profiles: pd.DataFrame
    model_features: tuple[str, ...]
    feature_order: tuple[str, ...]
    importance: pd.DataFrame
    rules: pd.DataFrame
    lifecycle: pd.DataFrame
    migration: pd.DataFrame
    sample: pd.DataFrame


@dataclass(frozen=True)
class Rect:
    """A plot area inside an SVG, in pixels."""

    left: float
    top: float
    width: float
    height: float

    @property
    def right(self) -> float:
        """x of the right edge."""
        return self.left + self.width

    @property
    def bottom(self) -> float:
        """y of the bottom edge."""
        return self.top + self.height


@dataclass(frozen=True)
class Projection:
    """Customers and segment centres on the first two principal components."""

    coords: np.ndarray
    segment_ids: np.ndarray
    explained: tuple[float, float]
    loadings: pd.DataFrame


# --- formatting ---------------------------------------------------------------------------


def esc(value: Any) -> str:
    """HTML-escaped text of a value."""
    return html.escape(str(value), quote=True)


def _f(x: float) -> str:
    """A coordinate with one decimal (stable text for byte-identical output)."""
    out = f"{x:.1f}"
    return "0.0" if out == "-0.0" else out


def fmt_number(value: float, decimals: int = 0) -> str:
    """A number with thousands separators and fixed decimals."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    out = f"{value:,.{decimals}f}"
    return out[1:] if out.startswith("-") and float(out.replace(",", "")) == 0 else out


def fmt_pct(share: float, decimals: int = 1) -> str:
    """A share as a percentage."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "–"
    return f"{100 * share:.{decimals}f}%"


def fmt_lift(lift: float) -> str:
    """A lift ratio for a heatmap cell."""
    if lift is None or not math.isfinite(lift):
        return "–"
    size = round(abs(lift), 2)
    if size >= 9.95:
        return f"{lift:.0f}"
    if size >= 1:
        return f"{lift:.1f}"
    return f"{lift:.2f}"


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if hi <= lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(lo / step + 1e-9) * step
    ticks, value = [], start
    while value < hi + step * 0.999:
        ticks.append(round(value, 12))
        value += step
    return ticks


def tick_decimals(ticks: Sequence[float]) -> int:
    """Fewest decimals that print every tick exactly."""
    for decimals in range(7):
        if all(abs(round(t, decimals) - t) < 1e-9 * max(1.0, abs(t)) for t in ticks):
            return decimals
    return 6


def _mix(a: str, b: str, t: float) -> str:
    """Colour between hex colours a and b (t in 0..1)."""
    t = min(max(t, 0.0), 1.0)
    ca = [int(a[i : i + 2], 16) for i in (1, 3, 5)]
    cb = [int(b[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(ca, cb, strict=True))


def diverging(t: float) -> str:
    """Blue (-1) to light grey (0) to red (+1)."""
    return _mix(MID, HIGH, t) if t >= 0 else _mix(MID, LOW, -t)


def sequential(t: float) -> str:
    """White (0) to dark blue (1)."""
    return _mix("#f7fbff", "#08306b", t)


def lift_position(lift: float) -> float:
    """A lift on the diverging colour scale: log2, 4x (or a quarter) at the ends."""
    if lift is None or not math.isfinite(lift):
        return float("nan")
    if lift <= 0:
        return -1.0
    return min(max(math.log2(lift) / 2.0, -1.0), 1.0)


def ink(background: str) -> str:
    """Dark or white text, whichever reads better on a background colour."""
    r, g, b = (int(background[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return "#ffffff" if 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5 else "#1f2933"


def segment_colours(segment_ids: Sequence[int]) -> dict[int, str]:
    """A colour per segment id, in id order."""
    return {sid: PALETTE[i % len(PALETTE)] for i, sid in enumerate(sorted(segment_ids))}


def segment_label(segment_id: int, name: str | None) -> str:
    """'3 · Name' (or 'segment 3' when the name is unknown)."""
    return f"{segment_id} · {name}" if name else f"segment {segment_id}"


def text_width(text: str, size: float = 12.0) -> float:
    """Estimated rendered width of a label."""
    return len(text) * CHAR_W * size / 12.0


# --- SVG primitives -----------------------------------------------------------------------


def svg_text(
    x: float, y: float, text: str, cls: str = "", anchor: str = "start", **attrs: Any
) -> str:
    """A <text> element."""
    extra = "".join(f' {k.replace("_", "-")}="{esc(v)}"' for k, v in attrs.items())
    klass = f' class="{cls}"' if cls else ""
    return f'<text x="{_f(x)}" y="{_f(y)}"{klass} text-anchor="{anchor}"{extra}>{esc(text)}</text>'


def svg_doc(chart_id: str, width: float, height: float, title: str, body: Sequence[str]) -> str:
    """A complete inline <svg> with a title for screen readers."""
    head = (
        f'<svg class="chart" data-chart-svg="{chart_id}" '
        f'viewBox="0 0 {_f(width)} {_f(height)}" width="{_f(width)}" height="{_f(height)}" '
        f'role="img" aria-labelledby="{chart_id}-svg-title">'
        f'<title id="{chart_id}-svg-title">{esc(title)}</title>'
    )
    return head + "".join(body) + "</svg>"


def axis_labels(rect: Rect, x_label: str, y_label: str, x_offset: float, y_offset: float) -> str:
    """The x label under the plot and the rotated y label left of it."""
    x = svg_text(
        rect.left + rect.width / 2,
        rect.bottom + x_offset,
        x_label,
        "axis-label x-label",
        "middle",
        data_axis="x",
    )
    cx, cy = rect.left - y_offset, rect.top + rect.height / 2
    rotate = f"rotate(-90 {_f(cx)} {_f(cy)})"
    y = svg_text(cx, cy, y_label, "axis-label y-label", "middle", transform=rotate, data_axis="y")
    return x + y


def linear(domain: tuple[float, float], span: tuple[float, float]) -> Callable[[float], float]:
    """A linear scale from a data domain to pixels."""
    d0, d1 = domain
    r0, r1 = span
    k = (r1 - r0) / (d1 - d0) if d1 != d0 else 0.0
    return lambda v: r0 + (v - d0) * k


def message_box(rect: Rect, lines: Sequence[str]) -> str:
    """A framed plot area holding a message instead of data."""
    parts = [
        f'<rect x="{_f(rect.left)}" y="{_f(rect.top)}" width="{_f(rect.width)}" '
        f'height="{_f(rect.height)}" fill="#fafafa" stroke="#cbd2d9" stroke-dasharray="4 3"/>'
    ]
    top = rect.top + rect.height / 2 - (len(lines) - 1) * 11
    for i, line in enumerate(lines):
        cls = "message" if i == 0 else "tick"
        parts.append(svg_text(rect.left + rect.width / 2, top + i * 22, line, cls, "middle"))
    return "".join(parts)


def line_plot(
    xs: Sequence[float],
    ys: Sequence[float],
    rect: Rect,
    *,
    title: str,
    x_label: str,
    y_label: str,
    colour: str,
    marked_x: float | None = None,
    hollow: Sequence[bool] | None = None,
    y_decimals: int | None = None,
) -> str:
    """A line chart with points, one highlighted x (a dashed rule) and hollow points."""
    parts = [svg_text(rect.left, rect.top - 12, title, "plot-title")]
    ok = [(x, y) for x, y in zip(xs, ys, strict=True) if y is not None and math.isfinite(y)]
    if not ok:
        return (
            "".join(parts)
            + message_box(rect, ["no values"])
            + axis_labels(rect, x_label, y_label, 40, 52)
        )
    x_ticks = sorted({float(x) for x, _ in ok})
    y_ticks = nice_ticks(min(y for _, y in ok), max(y for _, y in ok))
    pad = 0.5
    sx = linear((x_ticks[0] - pad, x_ticks[-1] + pad), (rect.left, rect.right))
    sy = linear((y_ticks[0], y_ticks[-1]), (rect.bottom, rect.top))
    decimals = tick_decimals(y_ticks) if y_decimals is None else y_decimals
    for t in y_ticks:
        y = sy(t)
        parts.append(
            f'<line class="grid-line" x1="{_f(rect.left)}" x2="{_f(rect.right)}" '
            f'y1="{_f(y)}" y2="{_f(y)}"/>'
        )
        parts.append(svg_text(rect.left - 8, y + 4, fmt_number(t, decimals), "tick", "end"))
    for t in x_ticks:
        parts.append(svg_text(sx(t), rect.bottom + 18, fmt_number(t), "tick", "middle"))
    parts.append(
        f'<line class="axis" x1="{_f(rect.left)}" x2="{_f(rect.right)}" '
        f'y1="{_f(rect.bottom)}" y2="{_f(rect.bottom)}"/>'
    )
    if marked_x is not None:
        x = sx(marked_x)
        parts.append(
            f'<line x1="{_f(x)}" x2="{_f(x)}" y1="{_f(rect.top)}" y2="{_f(rect.bottom)}" '
            'stroke="#323f4b" stroke-width="1.5" stroke-dasharray="5 4"/>'
        )
        left_half = x < rect.left + rect.width / 2
        parts.append(
            svg_text(
                x + 6 if left_half else x - 6,
                rect.top + 12,
                f"chosen k = {fmt_number(marked_x)}",
                "value",
                "start" if left_half else "end",
            )
        )
    points = " ".join(f"{_f(sx(x))},{_f(sy(y))}" for x, y in ok)
    parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
    hollow_by_x = dict(zip(xs, hollow, strict=True)) if hollow is not None else {}
    for x, y in ok:
        chosen = marked_x is not None and x == marked_x
        fill = "#ffffff" if hollow_by_x.get(x) else colour
        r = 7 if chosen else 4.5
        stroke = "#1f2933" if chosen else colour
        parts.append(
            f'<circle cx="{_f(sx(x))}" cy="{_f(sy(y))}" r="{r}" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="2"/>'
        )
    parts.append(axis_labels(rect, x_label, y_label, 40, 52))
    return "".join(parts)


def hbar_plot(
    labels: Sequence[str],
    values: Sequence[float],
    rect: Rect,
    *,
    x_label: str,
    y_label: str,
    colours: Sequence[str],
    value_texts: Sequence[str],
    errors: Sequence[float] | None = None,
    x_decimals: int | None = None,
    tick_scale: float = 1.0,
    y_label_offset: float | None = None,
) -> str:
    """Horizontal bars with value labels, optional error whiskers and a zero line."""
    n = max(len(values), 1)
    errs = list(errors) if errors is not None else [0.0] * len(values)
    lo = min([0.0] + [v - e for v, e in zip(values, errs, strict=True)])
    hi = max([0.0] + [v + e for v, e in zip(values, errs, strict=True)])
    ticks = nice_ticks(lo, hi)
    sx = linear((ticks[0], ticks[-1]), (rect.left, rect.right))
    band = rect.height / n
    bar = min(band * 0.68, 26)
    decimals = tick_decimals([t * tick_scale for t in ticks]) if x_decimals is None else x_decimals
    parts = []
    for t in ticks:
        x = sx(t)
        parts.append(
            f'<line class="grid-line" x1="{_f(x)}" x2="{_f(x)}" y1="{_f(rect.top)}" '
            f'y2="{_f(rect.bottom)}"/>'
        )
        label = fmt_number(t * tick_scale, decimals)
        parts.append(svg_text(x, rect.bottom + 16, label, "tick", "middle"))
    zero = sx(0.0)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        cy = rect.top + band * (i + 0.5)
        x0, x1 = sorted((zero, sx(value)))
        parts.append(
            f'<rect x="{_f(x0)}" y="{_f(cy - bar / 2)}" width="{_f(max(x1 - x0, 0.5))}" '
            f'height="{_f(bar)}" fill="{colours[i]}" rx="2"><title>{esc(label)}: '
            f"{esc(value_texts[i])}</title></rect>"
        )
        parts.append(svg_text(rect.left - 8, cy + 4, label, "tick", "end"))
        end = sx(value + errs[i]) if value >= 0 else sx(value - errs[i])
        if errs[i]:
            a, b = sx(value - errs[i]), sx(value + errs[i])
            parts.append(
                f'<line x1="{_f(a)}" x2="{_f(b)}" y1="{_f(cy)}" y2="{_f(cy)}" '
                'stroke="#323f4b" stroke-width="1.5"/>'
                f'<line x1="{_f(a)}" x2="{_f(a)}" y1="{_f(cy - 5)}" y2="{_f(cy + 5)}" '
                'stroke="#323f4b" stroke-width="1.5"/>'
                f'<line x1="{_f(b)}" x2="{_f(b)}" y1="{_f(cy - 5)}" y2="{_f(cy + 5)}" '
                'stroke="#323f4b" stroke-width="1.5"/>'
            )
        if value >= 0:
            parts.append(svg_text(max(end, x1) + 6, cy + 4, value_texts[i], "value"))
        else:
            parts.append(svg_text(min(end, x0) - 6, cy + 4, value_texts[i], "value", "end"))
    parts.append(
        f'<line class="axis" x1="{_f(zero)}" x2="{_f(zero)}" y1="{_f(rect.top)}" '
        f'y2="{_f(rect.bottom)}"/>'
    )
    offset = y_label_offset if y_label_offset is not None else rect.left - 16
    parts.append(axis_labels(rect, x_label, y_label, 38, offset))
    return "".join(parts)


def stacked_hbar_plot(
    labels: Sequence[str],
    shares: np.ndarray,
    part_names: Sequence[str],
    part_colours: Sequence[str],
    rect: Rect,
    *,
    x_label: str,
    y_label: str,
    counts: np.ndarray,
) -> str:
    """100% stacked horizontal bars with percentages in the wide parts."""
    n = max(len(labels), 1)
    band = rect.height / n
    bar = min(band * 0.7, 26)
    sx = linear((0.0, 1.0), (rect.left, rect.right))
    parts = []
    for t in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = sx(t)
        parts.append(
            f'<line class="grid-line" x1="{_f(x)}" x2="{_f(x)}" y1="{_f(rect.top)}" '
            f'y2="{_f(rect.bottom)}"/>'
        )
        parts.append(svg_text(x, rect.bottom + 16, f"{round(t * 100)}", "tick", "middle"))
    for i, label in enumerate(labels):
        cy = rect.top + band * (i + 0.5)
        parts.append(svg_text(rect.left - 8, cy + 4, label, "tick", "end"))
        start = 0.0
        for j, name in enumerate(part_names):
            share = float(shares[i, j])
            if share <= 0:
                continue
            x0, x1 = sx(start), sx(start + share)
            parts.append(
                f'<rect x="{_f(x0)}" y="{_f(cy - bar / 2)}" width="{_f(x1 - x0)}" '
                f'height="{_f(bar)}" fill="{part_colours[j]}" stroke="#ffffff" '
                f'stroke-width="0.5"><title>{esc(label)}: {esc(name)} '
                f"{fmt_number(int(counts[i, j]))} customers ({fmt_pct(share)})</title></rect>"
            )
            if x1 - x0 >= 34:
                fill = f"fill:{ink(part_colours[j])}"
                text = f"{share * 100:.0f}%"
                parts.append(svg_text((x0 + x1) / 2, cy + 4, text, "value", "middle", style=fill))
            start += share
    parts.append(axis_labels(rect, x_label, y_label, 38, rect.left - 16))
    return "".join(parts)


def heatmap_plot(
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    colours: Sequence[Sequence[str]],
    texts: Sequence[Sequence[str]],
    rect: Rect,
    *,
    x_label: str,
    y_label: str,
    tooltips: Sequence[Sequence[str]],
    rotate_columns: bool = True,
    bold_columns: Sequence[bool] | None = None,
    outline: Sequence[tuple[int, int]] = (),
    y_label_offset: float | None = None,
    x_label_offset: float | None = None,
) -> str:
    """A grid of coloured cells with text, row labels left and column labels below."""
    rows, cols = max(len(row_labels), 1), max(len(col_labels), 1)
    cw, ch = rect.width / cols, rect.height / rows
    parts = []
    for i, label in enumerate(row_labels):
        parts.append(svg_text(rect.left - 8, rect.top + ch * (i + 0.5) + 4, label, "tick", "end"))
        for j in range(len(col_labels)):
            x, y = rect.left + j * cw, rect.top + i * ch
            parts.append(
                f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(cw)}" height="{_f(ch)}" '
                f'fill="{colours[i][j]}" stroke="#ffffff" stroke-width="1">'
                f"<title>{esc(tooltips[i][j])}</title></rect>"
            )
            if texts[i][j]:
                fill = f"fill:{ink(colours[i][j])}"
                cx, cy = x + cw / 2, y + ch / 2 + 3.5
                parts.append(svg_text(cx, cy, texts[i][j], "cell", "middle", style=fill))
    for i, j in outline:
        parts.append(
            f'<rect x="{_f(rect.left + j * cw + 1)}" y="{_f(rect.top + i * ch + 1)}" '
            f'width="{_f(cw - 2)}" height="{_f(ch - 2)}" fill="none" stroke="#1f2933" '
            'stroke-width="1.5"/>'
        )
    bold = list(bold_columns) if bold_columns is not None else [False] * len(col_labels)
    for j, label in enumerate(col_labels):
        x = rect.left + cw * (j + 0.5)
        y = rect.bottom + 12
        weight = {"font_weight": "bold"} if bold[j] else {}
        if rotate_columns:
            parts.append(
                svg_text(
                    x + 4,
                    y,
                    label,
                    "tick",
                    "end",
                    transform=f"rotate(-55 {_f(x)} {_f(y)})",
                    **weight,
                )
            )
        else:
            parts.append(svg_text(x, y + 4, label, "tick", "middle", **weight))
    offset_x = x_label_offset if x_label_offset is not None else 40
    offset_y = y_label_offset if y_label_offset is not None else rect.left - 16
    parts.append(axis_labels(rect, x_label, y_label, offset_x, offset_y))
    return "".join(parts)


def scatter_plot(
    coords: np.ndarray,
    colours: Sequence[str],
    rect: Rect,
    *,
    x_label: str,
    y_label: str,
    centres: Sequence[tuple[float, float, str, str]] = (),
) -> str:
    """A scatter plot with equal scales on both axes and labelled centre markers."""
    xs, ys = coords[:, 0], coords[:, 1]
    x_lo, x_hi = float(xs.min()), float(xs.max())
    y_lo, y_hi = float(ys.min()), float(ys.max())
    unit = min(rect.width / max(x_hi - x_lo, 1e-9), rect.height / max(y_hi - y_lo, 1e-9)) * 0.94
    x_mid, y_mid = (x_lo + x_hi) / 2, (y_lo + y_hi) / 2
    half_w, half_h = rect.width / 2 / unit, rect.height / 2 / unit
    sx = linear((x_mid - half_w, x_mid + half_w), (rect.left, rect.right))
    sy = linear((y_mid - half_h, y_mid + half_h), (rect.bottom, rect.top))
    parts = [
        f'<rect x="{_f(rect.left)}" y="{_f(rect.top)}" width="{_f(rect.width)}" '
        f'height="{_f(rect.height)}" fill="#fcfcfd" stroke="#cbd2d9"/>'
    ]
    x_ticks = [t for t in nice_ticks(x_mid - half_w, x_mid + half_w, 8) if abs(t - x_mid) <= half_w]
    y_ticks = [t for t in nice_ticks(y_mid - half_h, y_mid + half_h, 6) if abs(t - y_mid) <= half_h]
    for t in x_ticks:
        x = sx(t)
        parts.append(
            f'<line class="grid-line" x1="{_f(x)}" x2="{_f(x)}" y1="{_f(rect.top)}" '
            f'y2="{_f(rect.bottom)}"/>'
        )
        parts.append(
            svg_text(x, rect.bottom + 16, fmt_number(t, tick_decimals(x_ticks)), "tick", "middle")
        )
    for t in y_ticks:
        y = sy(t)
        parts.append(
            f'<line class="grid-line" x1="{_f(rect.left)}" x2="{_f(rect.right)}" '
            f'y1="{_f(y)}" y2="{_f(y)}"/>'
        )
        parts.append(
            svg_text(rect.left - 8, y + 4, fmt_number(t, tick_decimals(y_ticks)), "tick", "end")
        )
    parts.append('<g fill-opacity="0.62">')
    for (x, y), colour in zip(coords, colours, strict=True):
        parts.append(f'<circle cx="{_f(sx(x))}" cy="{_f(sy(y))}" r="2.6" fill="{colour}"/>')
    parts.append("</g>")
    for x, y, text, colour in centres:
        cx, cy = sx(x), sy(y)
        parts.append(
            f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="11" fill="{colour}" stroke="#1f2933" '
            f'stroke-width="2"><title>centre of {esc(text)}</title></circle>'
        )
        number = text.split(" ")[0]
        parts.append(
            svg_text(
                cx, cy + 4, number, "value", "middle", font_weight="bold", style="fill:#ffffff"
            )
        )
    parts.append(axis_labels(rect, x_label, y_label, 38, 44))
    return "".join(parts)


def hlegend(
    items: Sequence[tuple[str, str]], left: float, right: float, top: float
) -> tuple[str, float]:
    """A horizontal colour legend wrapped to a width; returns it and its height."""
    parts, x, y = [], left, top
    for label, colour in items:
        width = 26 + text_width(label, 11)
        if x + width > right and x > left:
            x, y = left, y + 20
        parts.append(
            f'<rect x="{_f(x)}" y="{_f(y)}" width="12" height="12" fill="{colour}" rx="2"/>'
        )
        parts.append(svg_text(x + 17, y + 10, label, "tick"))
        x += width
    return "".join(parts), y + 20 - top


def legend(items: Sequence[tuple[str, str]], x: float, y: float, line: float = 20) -> str:
    """A vertical colour legend."""
    parts = []
    for i, (label, colour) in enumerate(items):
        top = y + i * line
        parts.append(
            f'<rect x="{_f(x)}" y="{_f(top - 10)}" width="13" height="13" fill="{colour}" rx="2"/>'
        )
        parts.append(svg_text(x + 20, top + 1, label, "tick"))
    return "".join(parts)


# --- the charts ---------------------------------------------------------------------------


def panel(chart_id: str, title: str, note: str, body: str, wide: bool = False) -> str:
    """A titled report section holding one chart."""
    klass = "panel wide" if wide else "panel"
    return (
        f'<section class="{klass}" id="chart-{chart_id}" data-chart="{chart_id}">'
        f'<h2 class="chart-title">{esc(title)}</h2><p class="note">{note}</p>{body}</section>'
    )


def chart_k_selection(k_selection: pd.DataFrame, run: dict, config: dict) -> str:
    """Silhouette and inertia by k with the chosen k marked."""
    title = "Choosing the number of segments k"
    height = 340
    left = Rect(78, 46, WIDE / 2 - 120, 230)
    right = Rect(WIDE / 2 + 88, 46, WIDE / 2 - 120, 230)
    frame = k_selection.sort_values("k")
    ks = [int(k) for k in frame["k"]]
    chosen = frame.loc[frame["is_chosen"].fillna(False).astype(bool), "k"]
    marked = float(chosen.iloc[0]) if len(chosen) else None
    min_share = config.get("min_segment_share")
    hollow = None
    if min_share is not None and "min_segment_share" in frame:
        hollow = [bool(s < float(min_share)) for s in frame["min_segment_share"].fillna(0.0)]
    x_label = "number of segments k"
    sil = line_plot(
        ks,
        [float(v) for v in frame["silhouette"]],
        left,
        title="Silhouette (higher is better)",
        x_label=x_label,
        y_label="silhouette (unitless, −1 to 1)",
        colour=PALETTE[0],
        marked_x=marked,
        hollow=hollow,
    )
    inertia = line_plot(
        ks,
        [float(v) for v in frame["inertia"]],
        right,
        title="Inertia: within-segment sum of squares (elbow)",
        x_label=x_label,
        y_label="inertia (standardised units²)",
        colour=PALETTE[1],
        marked_x=marked,
        hollow=hollow,
    )
    body = svg_doc("k-selection", WIDE, height, title, [sil, inertia])
    sample = frame["sample_size"].dropna()
    sample_text = f" on {fmt_number(float(sample.iloc[0]))} customers" if len(sample) else ""
    note = (
        f"Every k of the sweep{sample_text}; the dashed line marks the k this run uses "
        f"(rule: {esc(run.get('k_rule') or 'n/a')})."
    )
    if hollow is not None:
        note += (
            f" Hollow points: the smallest segment holds less than {fmt_pct(float(min_share))}"
            " of customers (shop_min_segment_share), so that k is not eligible."
        )
    if frame.empty:
        note = f"No k sweep in this run (status: {esc(run.get('status'))})."
    return panel("k-selection", title, note, body, wide=True)


def chart_segment_sizes(profiles: pd.DataFrame, colours: dict[int, str]) -> str:
    """Customers and share per segment."""
    title = "Segment sizes"
    labels = [segment_label(int(r.segment_id), r.segment_name) for r in profiles.itertuples()]
    label_w = max([text_width(s, 11) for s in labels] + [60])
    rect = Rect(label_w + 42, 16, HALF - label_w - 42 - 110, 34 * max(len(labels), 1))
    values = [float(v) for v in profiles["customers"]]
    texts = [
        f"{fmt_number(v)} ({fmt_pct(float(s))})"
        for v, s in zip(values, profiles["customer_share"], strict=True)
    ]
    plot = hbar_plot(
        labels,
        values,
        rect,
        x_label="customers (count; share of all customers in brackets)",
        y_label="segment",
        colours=[colours[int(s)] for s in profiles["segment_id"]],
        value_texts=texts,
    )
    body = svg_doc("segment-sizes", HALF, rect.bottom + 52, title, [plot])
    total = int(profiles["customers"].sum()) if len(profiles) else 0
    note = f"{fmt_number(total)} customers in {len(profiles)} segments (segment_profiles)."
    return panel("segment-sizes", title, note, body)


def chart_lifecycle(
    lifecycle: pd.DataFrame, profiles: pd.DataFrame, colours: dict[int, str]
) -> str:
    """Share of each lifecycle stage within each segment."""
    title = "Lifecycle stage by segment"
    ids = [int(s) for s in profiles["segment_id"]]
    names = dict(zip(profiles["segment_id"].astype(int), profiles["segment_name"], strict=True))
    present = [str(s) for s in lifecycle["lifecycle_stage"].fillna("unknown").unique()]
    stages = [s for s in LIFECYCLE_COLOURS if s in present] + sorted(
        s for s in present if s not in LIFECYCLE_COLOURS
    )
    table = (
        lifecycle.assign(lifecycle_stage=lifecycle["lifecycle_stage"].fillna("unknown"))
        .pivot_table(
            index="segment_id", columns="lifecycle_stage", values="customers", aggfunc="sum"
        )
        .reindex(index=ids, columns=stages)
        .fillna(0.0)
    )
    counts = table.to_numpy(dtype=float)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    labels = [segment_label(i, names.get(i)) for i in ids]
    label_w = max([text_width(s, 11) for s in labels] + [60])
    stage_colours = [
        LIFECYCLE_COLOURS.get(s, PALETTE[(i + 5) % len(PALETTE)]) for i, s in enumerate(stages)
    ]
    key, key_height = hlegend(list(zip(stages, stage_colours, strict=True)), 60, HALF - 10, 4)
    top = key_height + 18
    rect = Rect(label_w + 42, top, HALF - label_w - 42 - 14, 34 * max(len(labels), 1))
    plot = key + stacked_hbar_plot(
        labels,
        shares,
        stages,
        stage_colours,
        rect,
        x_label="share of the segment's customers (%)",
        y_label="segment",
        counts=counts,
    )
    body = svg_doc("lifecycle", HALF, rect.bottom + 52, title, [plot])
    note = (
        "customer_features.lifecycle_stage of each segment's customers; each bar adds up to 100%."
    )
    return panel("lifecycle", title, note, body)


def chart_profile_heatmap(
    feature_profiles: pd.DataFrame,
    profiles: pd.DataFrame,
    model_features: Sequence[str],
    feature_order: Sequence[str],
) -> str:
    """Lift (segment mean / all customers' mean) per segment and feature."""
    title = "Segment profiles: feature lift"
    ids = [int(s) for s in profiles["segment_id"]]
    names = dict(zip(profiles["segment_id"].astype(int), profiles["segment_name"], strict=True))
    present = set(feature_profiles["feature"])
    order = {f: i for i, f in enumerate(feature_order)}
    features = [f for f in model_features if f in present] + sorted(
        (f for f in present if f not in model_features), key=lambda f: (order.get(f, 1e9), f)
    )
    by_key = {
        (int(r.segment_id), str(r.feature)): r for r in feature_profiles.itertuples(index=False)
    }
    colours, texts, tips = [], [], []
    for sid in ids:
        row_c, row_t, row_tip = [], [], []
        for feature in features:
            r = by_key.get((sid, feature))
            lift = float(r.lift) if r is not None and pd.notna(r.lift) else float("nan")
            t = lift_position(lift)
            row_c.append("#e4e7eb" if math.isnan(t) else diverging(t))
            row_t.append(fmt_lift(lift))
            mean = float(r.mean_value) if r is not None and pd.notna(r.mean_value) else math.nan
            overall = (
                float(r.overall_mean) if r is not None and pd.notna(r.overall_mean) else math.nan
            )
            row_tip.append(
                f"{segment_label(sid, names.get(sid))}, {feature}: lift {fmt_lift(lift)} "
                f"(segment mean {fmt_number(mean, 2)}, all customers {fmt_number(overall, 2)})"
            )
        colours.append(row_c)
        texts.append(row_t)
        tips.append(row_tip)
    labels = [segment_label(i, names.get(i)) for i in ids]
    label_w = max([text_width(s, 11) for s in labels] + [60])
    col_w = max(text_width(f, 11) for f in features) if features else 60
    rect = Rect(label_w + 42, 14, WIDE - label_w - 42 - 16, 30 * max(len(ids), 1))
    used = set(model_features)
    plot = heatmap_plot(
        labels,
        [f"{f} *" if f in used else f for f in features],
        colours,
        texts,
        rect,
        x_label="feature (* = used by the segmentation model)",
        y_label="segment",
        tooltips=tips,
        bold_columns=[f in used for f in features],
        x_label_offset=col_w * 0.82 + 34,
    )
    if not features:
        plot += message_box(rect, ["no feature profiles in this run"])
    n_used = sum(f in used for f in features)
    if 0 < n_used < len(features):
        x = rect.left + rect.width / len(features) * n_used
        plot += (
            f'<line x1="{_f(x)}" x2="{_f(x)}" y1="{_f(rect.top - 4)}" y2="{_f(rect.bottom + 4)}" '
            'stroke="#1f2933" stroke-width="2"/>'
        )
    scale_y = rect.bottom + col_w * 0.82 + 64
    scale = [
        svg_text(rect.left, scale_y + 11, "lift (segment mean ÷ all customers' mean):", "tick")
    ]
    x = rect.left + 270
    for value in (0.25, 0.5, 0.71, 1.0, 1.41, 2.0, 4.0):
        parts_colour = diverging(lift_position(value))
        scale.append(
            f'<rect x="{_f(x)}" y="{_f(scale_y)}" width="46" height="14" fill="{parts_colour}" '
            'stroke="#cbd2d9" stroke-width="0.5"/>'
        )
        scale.append(svg_text(x + 23, scale_y + 28, f"{fmt_lift(value)}×", "tick", "middle"))
        x += 48
    scale.append(
        svg_text(x + 12, scale_y + 11, "grey: no customer of the segment has a value", "tick")
    )
    body = svg_doc("profile-heatmap", WIDE, scale_y + 40, title, [plot, *scale])
    note = (
        "Each cell: the segment's mean of a feature divided by the mean over all customers "
        "(segment_feature_profiles); red above 1×, blue below, capped at 4× and ¼×. "
        "Model features come first."
    )
    return panel("profile-heatmap", title, note, body, wide=True)


def project_sample(
    sample: pd.DataFrame, features: Sequence[str], config: dict | None = None
) -> Projection | None:
    """PCA (SVD) of a sample's features, preprocessed like the segmenter does."""
    config = config or {}
    usable = [f for f in features if f in sample.columns]
    if sample.empty or not usable:
        return None
    try:
        prep = fit_preprocessor(
            sample,
            tuple(usable),
            winsor_quantile=float(config.get("winsor_quantile", 0.01)),
            skew_threshold=float(config.get("skew_threshold", 1.0)),
        )
    except NoUsableFeatureError:
        return None
    matrix = prep.transform(sample)
    centred = matrix - matrix.mean(axis=0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    components = np.zeros((2, centred.shape[1]))
    components[: min(2, vt.shape[0])] = vt[:2]
    for row in components:  # a fixed sign: the largest loading is positive
        if row.any() and row[np.argmax(np.abs(row))] < 0:
            row *= -1
    variance = singular**2
    total = float(variance.sum()) or 1.0
    explained = [float(v) / total for v in variance[:2]] + [0.0, 0.0]
    return Projection(
        coords=centred @ components.T,
        segment_ids=sample["segment_id"].to_numpy(dtype=int),
        explained=(explained[0], explained[1]),
        loadings=pd.DataFrame(components.T, index=list(prep.columns), columns=["pc1", "pc2"]),
    )


def _top_loadings(loadings: pd.Series, n: int = 3) -> str:
    """The strongest loadings of a component as '+a, −b'."""
    top = loadings.reindex(loadings.abs().sort_values(ascending=False, kind="stable").index)[:n]
    names = [f.replace(MISSING_SUFFIX, " missing") for f in top.index]
    return ", ".join(
        f"{'+' if v >= 0 else '−'}{esc(f)} ({abs(v):.2f})"
        for f, v in zip(names, top.values, strict=True)
    )


def chart_projection(
    sample: pd.DataFrame,
    profiles: pd.DataFrame,
    model_features: Sequence[str],
    colours: dict[int, str],
    config: dict,
) -> str:
    """Customers of a sample on the first two principal components, coloured by segment."""
    title = "Customers on two principal components"
    names = dict(zip(profiles["segment_id"].astype(int), profiles["segment_name"], strict=True))
    projection = project_sample(sample, model_features, config)
    plot_rect = Rect(70, 16, 880, 560)
    x_label, y_label = "PC1 (standardised units)", "PC2 (standardised units)"
    if projection is None:
        plot = message_box(plot_rect, ["no model features to project"])
        plot += axis_labels(plot_rect, x_label, y_label, 38, 44)
        body = svg_doc("projection", WIDE, plot_rect.bottom + 56, title, [plot])
        return panel("projection", title, "Nothing to project.", body, wide=True)
    pc1, pc2 = projection.explained
    x_label = f"PC1, {pc1:.0%} of variance (standardised units)"
    y_label = f"PC2, {pc2:.0%} of variance (standardised units)"
    ids = projection.segment_ids
    centres = []
    for sid in sorted(set(int(s) for s in ids)):
        mean = projection.coords[ids == sid].mean(axis=0)
        centres.append(
            (
                float(mean[0]),
                float(mean[1]),
                segment_label(sid, names.get(sid)),
                colours.get(sid, UNKNOWN_COLOUR),
            )
        )
    plot = scatter_plot(
        projection.coords,
        [colours.get(int(s), UNKNOWN_COLOUR) for s in ids],
        plot_rect,
        x_label=x_label,
        y_label=y_label,
        centres=centres,
    )
    counts = pd.Series(ids).value_counts()
    items = [
        (
            f"{segment_label(sid, names.get(sid))} ({int(counts.get(sid, 0))})",
            colours.get(sid, UNKNOWN_COLOUR),
        )
        for sid in sorted(colours)
    ]
    key_x = plot_rect.right + 30
    parts = [
        plot,
        svg_text(key_x, plot_rect.top + 14, "segment (customers in sample)", "axis-label"),
        legend(items, key_x, plot_rect.top + 44, 24),
    ]
    y = plot_rect.top + 60 + 24 * len(items)
    parts.append(
        f'<circle cx="{_f(key_x + 7)}" cy="{_f(y - 4)}" r="8" fill="#9aa5b1" stroke="#1f2933" '
        'stroke-width="2"/>'
    )
    parts.append(svg_text(key_x + 22, y + 1, "segment centre (sample mean), by id", "tick"))
    body = svg_doc("projection", WIDE, plot_rect.bottom + 56, title, parts)
    note = (
        f"A fixed sample of {fmt_number(len(sample))} customers (ordered by a hash of "
        f"customer_id), {len(projection.loadings)} model columns preprocessed like the segmenter "
        "(log, winsorise, impute, missing flags, standardise), then PCA. "
        f"PC1: {_top_loadings(projection.loadings['pc1'])}. "
        f"PC2: {_top_loadings(projection.loadings['pc2'])}."
    )
    return panel("projection", title, note, body, wide=True)


def chart_feature_importance(importance: pd.DataFrame) -> str:
    """Permutation importance of each feature for the segment classifier."""
    title = "Feature importance (segment classifier)"
    frame = importance.sort_values(
        ["permutation_importance_mean", "feature"], ascending=[False, True], kind="stable"
    )
    labels = [str(f) for f in frame["feature"]]
    label_w = max([text_width(s, 11) for s in labels] + [60])
    rect = Rect(label_w + 42, 14, HALF - label_w - 42 - 80, 26 * len(labels) or 160)
    means = [float(v) for v in frame["permutation_importance_mean"].fillna(0.0)]
    sds = [float(v) for v in frame["permutation_importance_std"].fillna(0.0)]
    if frame.empty:
        plot = message_box(rect, ["no classifier in this run"])
        plot += axis_labels(rect, "drop in holdout accuracy", "feature", 38, rect.left - 16)
    else:
        plot = hbar_plot(
            labels,
            means,
            rect,
            x_label="drop in holdout accuracy when shuffled (percentage points)",
            y_label="feature",
            colours=[PALETTE[0] if m >= 0 else UNKNOWN_COLOUR for m in means],
            value_texts=[f"{100 * m:.1f}" for m in means],
            errors=sds,
            tick_scale=100.0,
        )
    body = svg_doc("feature-importance", HALF, rect.bottom + 50, title, [plot])
    note = (
        "Permutation importance on the holdout (segment_feature_importance, current run): "
        "how much the random forest's accuracy drops when one feature is shuffled; "
        "whiskers ±1 sd."
    )
    return panel("feature-importance", title, note, body)


def chart_segment_rules(rules: pd.DataFrame, colours: dict[int, str]) -> str:
    """The readable rules per segment as a table."""
    title = "Segment rules"
    head = (
        '<table class="rules" data-chart-table="segment-rules"><thead>'
        '<tr><th rowspan="2">segment</th><th rowspan="2">rule (original units)</th>'
        '<th rowspan="2">kind</th><th colspan="2" class="group">training</th>'
        '<th colspan="2" class="group">holdout</th></tr>'
        '<tr><th class="num">customers</th><th class="num">precision</th>'
        '<th class="num">customers</th><th class="num">precision</th></tr>'
        "</thead><tbody>"
    )
    rows = []
    for r in rules.itertuples(index=False):
        sid = int(r.segment_id)
        chip = f'<span class="chip" style="background:{colours.get(sid, UNKNOWN_COLOUR)}"></span>'
        rows.append(
            f'<tr><td class="segment">{chip}{esc(segment_label(sid, r.segment_name))}</td>'
            f"<td><code>{esc(r.rule_text)}</code></td><td>{esc(r.rule_kind)}</td>"
            f'<td class="num">{fmt_number(float(r.rule_support))}</td>'
            f'<td class="num">{fmt_pct(float(r.rule_precision))}</td>'
            f'<td class="num">{fmt_number(float(r.holdout_support))}</td>'
            f'<td class="num">{fmt_pct(float(r.holdout_precision))}</td></tr>'
        )
    if not rows:
        rows.append('<tr><td colspan="7" class="empty">no rules in this run</td></tr>')
    body = head + "".join(rows) + "</tbody></table>"
    note = (
        "A shallow decision tree's description of each segment (segment_rules, current run): "
        "customers the rule selects and the share of them in the segment, on the training "
        "customers and on the holdout."
    )
    return panel("segment-rules", title, note, body, wide=True)


def chart_migration(
    migration: pd.DataFrame, profiles: pd.DataFrame, colours: dict[int, str], run: dict
) -> str:
    """Customers per (previous segment, current segment) against the previous run."""
    title = "Migration since the previous run"
    names = dict(zip(profiles["segment_id"].astype(int), profiles["segment_name"], strict=True))
    x_label = "segment in this run (id)"
    y_label = "segment in the previous run"
    if migration.empty:
        rect = Rect(60, 14, HALF - 80, 300)
        plot = message_box(
            rect,
            [
                "No previous run: nothing to compare yet",
                "This is the first build of the model store; the matrix",
                "appears after the next build (refit or score only).",
            ],
        )
        plot += axis_labels(rect, x_label, y_label, 24, rect.left - 16)
        body = svg_doc("migration", HALF, rect.bottom + 40, title, [plot])
        note = '<span class="empty">No previous run.</span> segment_migration is empty.'
        return panel("migration", title, note, body)
    previous_ids = sorted({int(s) for s in migration["from_segment_id"]})
    current_ids = sorted({int(s) for s in migration["to_segment_id"]} | set(names))
    table = (
        migration.pivot_table(
            index="from_segment_id", columns="to_segment_id", values="customers", aggfunc="sum"
        )
        .reindex(index=previous_ids, columns=current_ids)
        .fillna(0.0)
    )
    counts = table.to_numpy(dtype=float)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    row_labels = [
        segment_label(s, names.get(s)) if s in names else f"{s} · (not in this run)"
        for s in previous_ids
    ]
    label_w = max([text_width(s, 11) for s in row_labels] + [60])
    size = min(44.0, (HALF - label_w - 42 - 70) / max(len(current_ids), 1))
    rect = Rect(label_w + 42, 14, size * len(current_ids), size * len(previous_ids))
    cell_colours = [[sequential(float(v)) for v in row] for row in shares]
    texts = [[fmt_number(v) if v else "" for v in row] for row in counts]
    tips = [
        [
            f"{fmt_number(counts[i, j])} customers from {row_labels[i]} to segment "
            f"{current_ids[j]} ({fmt_pct(shares[i, j])} of the row)"
            for j in range(len(current_ids))
        ]
        for i in range(len(previous_ids))
    ]
    diagonal = [(i, current_ids.index(s)) for i, s in enumerate(previous_ids) if s in current_ids]
    plot = heatmap_plot(
        row_labels,
        [str(s) for s in current_ids],
        cell_colours,
        texts,
        rect,
        x_label=x_label,
        y_label=y_label,
        tooltips=tips,
        rotate_columns=False,
        outline=diagonal,
        x_label_offset=40,
    )
    parts = [plot, svg_text(rect.right + 10, rect.top - 2, "stayed", "tick")]
    for i, s in enumerate(previous_ids):
        stayed = shares[i, current_ids.index(s)] if s in current_ids else 0.0
        y = rect.top + size * (i + 0.5) + 4
        parts.append(svg_text(rect.right + 10, y, fmt_pct(float(stayed), 0), "value"))
    body = svg_doc("migration", HALF, rect.bottom + 52, title, parts)
    both = int(counts.sum())
    stayed_total = int(sum(counts[i, j] for i, j in diagonal))
    previous_run = str(migration["previous_run_id"].iloc[0])
    ari = run.get("stability_ari")
    ari_text = f", adjusted Rand index {ari:.3f}" if ari is not None and math.isfinite(ari) else ""
    note = (
        f"Customers in both this run and the previous build (model {esc(previous_run)}): "
        f"{fmt_number(both)}, of whom {fmt_pct(stayed_total / both if both else 0.0)} kept "
        f"their segment{ari_text}. Cell: customers; colour: share of the row; "
        "outlined: same segment id (ids are stable across runs)."
    )
    if previous_run == str(run.get("run_id")):
        note += " The previous build used the same model (same data and settings)."
    return panel("migration", title, note, body)


def _header(data: ReportData) -> str:
    """Title, run facts and the table of contents."""
    run = data.run
    as_of = run.get("as_of_at")
    silhouette = run.get("silhouette")
    ari = run.get("stability_ari")
    facts = [
        ("customers", fmt_number(float(run.get("customers") or 0))),
        ("segments (k)", str(run.get("k"))),
        ("silhouette", f"{silhouette:.3f}" if silhouette is not None else "–"),
        ("stability ARI", f"{ari:.3f}" if ari is not None and math.isfinite(ari) else "–"),
        ("algorithm", str(run.get("algorithm"))),
        ("status", str(run.get("status"))),
        ("model features", str(len(data.model_features))),
    ]
    items = "".join(f"<li>{esc(k)}<b>{esc(v)}</b></li>" for k, v in facts)
    return (
        "<header><h1>Customer segments</h1>"
        f"<p>Model run <code>{esc(run.get('run_id'))}</code> · data as of {esc(as_of)}</p>"
        f'<ul class="facts">{items}</ul></header>'
    )


def render_report(data: ReportData) -> str:
    """The whole report as one self-contained HTML document."""
    ids = [int(s) for s in data.profiles["segment_id"]]
    colours = segment_colours(ids)
    panels = {
        "k-selection": chart_k_selection(data.k_selection, data.run, data.config),
        "segment-sizes": chart_segment_sizes(data.profiles, colours),
        "lifecycle": chart_lifecycle(data.lifecycle, data.profiles, colours),
        "profile-heatmap": chart_profile_heatmap(
            data.feature_profiles, data.profiles, data.model_features, data.feature_order
        ),
        "projection": chart_projection(
            data.sample, data.profiles, data.model_features, colours, data.config
        ),
        "feature-importance": chart_feature_importance(data.importance),
        "migration": chart_migration(data.migration, data.profiles, colours, data.run),
        "segment-rules": chart_segment_rules(data.rules, colours),
    }
    body = "".join(panels[c] for c in CHART_IDS)
    title = f"shopseg segment report: run {data.run.get('run_id')}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body><main>"
        f'{_header(data)}<div class="grid">{body}</div>'
        "<footer>Written by <code>shopseg report</code> from the published DuckDB file; "
        "static HTML with inline SVG, no scripts, no external resources.</footer>"
        "</main></body></html>\n"
    )


# --- reading the published file (the only I/O) -------------------------------------------


def _plain(value: Any) -> Any:
    """A database value as a plain Python value (NaN and NaT as None)."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, pd.Timestamp):
        return str(value)
    return value


def read_report_data(db_path: str | Path, sample_size: int = SAMPLE_SIZE) -> ReportData:
    """Read the current run's tables from the published DuckDB file (read-only)."""
    import duckdb

    path = Path(db_path)
    if not path.exists():
        raise FileNotFoundError(f"report: no published DuckDB file at {path}: run `make build`")
    con = duckdb.connect(str(path), read_only=True)
    try:

        def frame(sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
            return con.execute(sql, list(params)).df()

        runs = frame("select * from segmentation_runs where is_current")
        if runs.empty:
            raise ValueError(f"report: no current run in segmentation_runs of {path}")
        run = {k: _plain(v) for k, v in runs.iloc[0].items()}
        run_id = run["run_id"]
        config_row = con.execute(
            "select config from segment_model_versions where is_current"
        ).fetchone()
        config = json.loads(config_row[0]) if config_row and config_row[0] else {}
        columns = tuple(
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns "
                "where table_name = 'customer_features' order by ordinal_position"
            ).fetchall()
        )
        centroid_features = {
            r[0]
            for r in con.execute(
                "select distinct feature from segment_centroids where run_id = ?", [run_id]
            ).fetchall()
        }
        used = json.loads(run.get("features_used") or "[]")
        model_features = [f for f in used if f in centroid_features] or sorted(
            f for f in centroid_features if not f.endswith(MISSING_SUFFIX)
        )
        sample_columns = [f for f in model_features if f in columns]
        selected = "".join(f', f."{c}"' for c in sample_columns)
        sample = frame(
            f"select s.customer_id, s.segment_id{selected} from customer_segments as s "
            "inner join customer_features as f on s.customer_id = f.customer_id "
            "order by md5(cast(s.customer_id as varchar)), s.customer_id limit ?",
            [sample_size],
        )
        return ReportData(
            run=run,
            config=config,
            k_selection=frame(
                "select k, silhouette, inertia, min_segment_share, sample_size, is_chosen "
                "from segment_k_selection where run_id = ? order by k",
                [run_id],
            ),
            profiles=frame(
                "select segment_id, segment_name, customers, customer_share "
                "from segment_profiles order by segment_id"
            ),
            feature_profiles=frame(
                "select segment_id, feature, mean_value, overall_mean, lift "
                "from segment_feature_profiles order by segment_id, feature"
            ),
            model_features=tuple(model_features),
            feature_order=columns,
            importance=frame(
                "select feature, permutation_importance_mean, permutation_importance_std "
                "from segment_feature_importance where is_current order by feature"
            ),
            rules=frame(
                "select segment_id, segment_name, rule_id, rule_kind, rule_text, rule_support, "
                "rule_precision, holdout_support, holdout_precision "
                "from segment_rules where is_current order by segment_id, rule_id"
            ),
            lifecycle=frame(
                "select segment_id, lifecycle_stage, count(*) as customers "
                "from customer_segments group by 1, 2 order by 1, 2"
            ),
            migration=frame(
                "select previous_run_id, run_id, from_segment_id, to_segment_id, customers "
                "from segment_migration where run_id = ? order by 3, 4",
                [run_id],
            ),
            sample=sample,
        )
    finally:
        con.close()


def write_report(db_path: str | Path, out: str | Path) -> Path:
    """Read the published file and write the HTML report; return its path."""
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_report(read_report_data(db_path)), encoding="utf-8")
    return target
