"""Drawing primitives of the report: escaping, number formats, ticks, colours, SVG elements."""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

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


# --- formatting ---------------------------------------------------------------------------


def esc(value: Any) -> str:
    """HTML-escaped text of a value.

    Parameters
    ----------
    value : Any
        Anything; it is converted with ``str`` first.

    Returns
    -------
    str
        The text with ``&``, ``<``, ``>`` and both quotes escaped.
    """
    return html.escape(str(value), quote=True)


def px(x: float) -> str:
    """A coordinate with one decimal (stable text for byte-identical output).

    Parameters
    ----------
    x : float
        A position or length in pixels.

    Returns
    -------
    str
        ``x`` rounded to one decimal; ``-0.0`` is written ``0.0``.
    """
    out = f"{x:.1f}"
    return "0.0" if out == "-0.0" else out


def fmt_number(value: float, decimals: int = 0) -> str:
    """A number with thousands separators and fixed decimals.

    Parameters
    ----------
    value : float
        The number; None or NaN is shown as a dash.
    decimals : int, default=0
        Digits after the decimal point.

    Returns
    -------
    str
        For example ``12,345.6``; a negative zero loses its sign.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    out = f"{value:,.{decimals}f}"
    return out[1:] if out.startswith("-") and float(out.replace(",", "")) == 0 else out


def fmt_pct(share: float, decimals: int = 1) -> str:
    """A share as a percentage.

    Parameters
    ----------
    share : float
        A share in 0..1; None or NaN is shown as a dash.
    decimals : int, default=1
        Digits after the decimal point.

    Returns
    -------
    str
        For example ``17.8%``.
    """
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "–"
    return f"{100 * share:.{decimals}f}%"


def fmt_lift(lift: float) -> str:
    """A lift ratio for a heatmap cell.

    Parameters
    ----------
    lift : float
        Segment mean over all customers' mean; None or a non-finite value is shown as a dash.

    Returns
    -------
    str
        Two decimals below 1, one below 10, none from 10 on.
    """
    if lift is None or not math.isfinite(lift):
        return "–"
    size = round(abs(lift), 2)
    if size >= 9.95:
        return f"{lift:.0f}"
    if size >= 1:
        return f"{lift:.1f}"
    return f"{lift:.2f}"


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi].

    Parameters
    ----------
    lo, hi : float
        The data range; an empty range is padded by 10% (or by 1 around zero).
    count : int, default=5
        About how many intervals to make.

    Returns
    -------
    list of float
        Ticks at a step of 1, 2, 2.5 or 5 times a power of ten, from at or below ``lo`` to at
        or above ``hi``; ``[0.0, 1.0]`` when the range is not finite.
    """
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
    """Fewest decimals that print every tick exactly.

    Parameters
    ----------
    ticks : sequence of float
        Tick values.

    Returns
    -------
    int
        0 to 6.
    """
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
    """Blue (-1) to light grey (0) to red (+1).

    Parameters
    ----------
    t : float
        A position on the scale; values beyond -1 and +1 take the end colours.

    Returns
    -------
    str
        A ``#rrggbb`` colour.
    """
    return _mix(MID, HIGH, t) if t >= 0 else _mix(MID, LOW, -t)


def sequential(t: float) -> str:
    """White (0) to dark blue (1).

    Parameters
    ----------
    t : float
        A position on the scale, clipped to 0..1.

    Returns
    -------
    str
        A ``#rrggbb`` colour.
    """
    return _mix("#f7fbff", "#08306b", t)


def lift_position(lift: float) -> float:
    """A lift on the diverging colour scale: log2, 4x (or a quarter) at the ends.

    Parameters
    ----------
    lift : float
        Segment mean over all customers' mean.

    Returns
    -------
    float
        ``log2(lift) / 2`` clipped to -1..1; -1 for a lift of zero or less, NaN for None or a
        non-finite lift.
    """
    if lift is None or not math.isfinite(lift):
        return float("nan")
    if lift <= 0:
        return -1.0
    return min(max(math.log2(lift) / 2.0, -1.0), 1.0)


def ink(background: str) -> str:
    """Dark or white text, whichever reads better on a background colour.

    Parameters
    ----------
    background : str
        A ``#rrggbb`` colour.

    Returns
    -------
    str
        White on a background of relative luminance below 0.5, else the page's dark text colour.
    """
    r, g, b = (int(background[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return "#ffffff" if 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5 else "#1f2933"


def segment_colours(segment_ids: Sequence[int]) -> dict[int, str]:
    """A colour per segment id, in id order.

    Parameters
    ----------
    segment_ids : sequence of int
        The segments to colour.

    Returns
    -------
    dict of int to str
        PALETTE's colours in turn, from the smallest id on (repeating after 12 segments).
    """
    return {sid: PALETTE[i % len(PALETTE)] for i, sid in enumerate(sorted(segment_ids))}


def segment_label(segment_id: int, name: str | None) -> str:
    """'3 · Name' (or 'segment 3' when the name is unknown).

    Parameters
    ----------
    segment_id : int
        The segment's id.
    name : str or None
        Its name, if known.

    Returns
    -------
    str
        The label charts and tables show for the segment.
    """
    return f"{segment_id} · {name}" if name else f"segment {segment_id}"


def text_width(text: str, size: float = 12.0) -> float:
    """Estimated rendered width of a label.

    Parameters
    ----------
    text : str
        The label.
    size : float, default=12.0
        Font size in pixels.

    Returns
    -------
    float
        Width in pixels at an average glyph width (CHAR_W at 12px).
    """
    return len(text) * CHAR_W * size / 12.0


# --- SVG primitives -----------------------------------------------------------------------


def svg_text(
    x: float, y: float, text: str, cls: str = "", anchor: str = "start", **attrs: Any
) -> str:
    """A <text> element.

    Parameters
    ----------
    x, y : float
        Anchor position in pixels.
    text : str
        The text; it is escaped.
    cls : str, default=""
        CSS class(es), none when empty.
    anchor : str, default="start"
        ``text-anchor``: start, middle or end.
    **attrs : Any
        Further attributes; an underscore in a name becomes a hyphen (``font_weight``).

    Returns
    -------
    str
        The element as SVG text.
    """
    extra = "".join(f' {k.replace("_", "-")}="{esc(v)}"' for k, v in attrs.items())
    klass = f' class="{cls}"' if cls else ""
    return f'<text x="{px(x)}" y="{px(y)}"{klass} text-anchor="{anchor}"{extra}>{esc(text)}</text>'


def svg_doc(chart_id: str, width: float, height: float, title: str, body: Sequence[str]) -> str:
    """A complete inline <svg> with a title for screen readers.

    Parameters
    ----------
    chart_id : str
        The chart's id, written to ``data-chart-svg`` and used for the title's id.
    width, height : float
        Size in pixels (also the viewBox).
    title : str
        Accessible title of the image.
    body : sequence of str
        SVG fragments, in drawing order.

    Returns
    -------
    str
        The ``<svg>`` element.
    """
    head = (
        f'<svg class="chart" data-chart-svg="{chart_id}" '
        f'viewBox="0 0 {px(width)} {px(height)}" width="{px(width)}" height="{px(height)}" '
        f'role="img" aria-labelledby="{chart_id}-svg-title">'
        f'<title id="{chart_id}-svg-title">{esc(title)}</title>'
    )
    return head + "".join(body) + "</svg>"


def axis_labels(rect: Rect, x_label: str, y_label: str, x_offset: float, y_offset: float) -> str:
    """The x label under the plot and the rotated y label left of it.

    Parameters
    ----------
    rect : Rect
        The plot area.
    x_label, y_label : str
        The axis titles (with units).
    x_offset : float
        Distance in pixels from the plot's bottom edge to the x label.
    y_offset : float
        Distance in pixels from the plot's left edge to the y label.

    Returns
    -------
    str
        Two ``<text>`` elements, classed ``x-label`` and ``y-label``.
    """
    x = svg_text(
        rect.left + rect.width / 2,
        rect.bottom + x_offset,
        x_label,
        "axis-label x-label",
        "middle",
        data_axis="x",
    )
    cx, cy = rect.left - y_offset, rect.top + rect.height / 2
    rotate = f"rotate(-90 {px(cx)} {px(cy)})"
    y = svg_text(cx, cy, y_label, "axis-label y-label", "middle", transform=rotate, data_axis="y")
    return x + y


def linear(domain: tuple[float, float], span: tuple[float, float]) -> Callable[[float], float]:
    """A linear scale from a data domain to pixels.

    Parameters
    ----------
    domain : tuple of float
        Data values (d0, d1).
    span : tuple of float
        The pixels they map to (r0, r1); r1 < r0 flips the axis (SVG y).

    Returns
    -------
    callable
        Maps a value to pixels; every value maps to r0 when d0 == d1.
    """
    d0, d1 = domain
    r0, r1 = span
    k = (r1 - r0) / (d1 - d0) if d1 != d0 else 0.0
    return lambda v: r0 + (v - d0) * k


def message_box(rect: Rect, lines: Sequence[str]) -> str:
    """A framed plot area holding a message instead of data.

    Parameters
    ----------
    rect : Rect
        The plot area to frame.
    lines : sequence of str
        The first line is the message (bold), the others its explanation.

    Returns
    -------
    str
        SVG text of a dashed frame and the centred lines.
    """
    parts = [
        f'<rect x="{px(rect.left)}" y="{px(rect.top)}" width="{px(rect.width)}" '
        f'height="{px(rect.height)}" fill="#fafafa" stroke="#cbd2d9" stroke-dasharray="4 3"/>'
    ]
    top = rect.top + rect.height / 2 - (len(lines) - 1) * 11
    for i, line in enumerate(lines):
        cls = "message" if i == 0 else "tick"
        parts.append(svg_text(rect.left + rect.width / 2, top + i * 22, line, cls, "middle"))
    return "".join(parts)


def hlegend(
    items: Sequence[tuple[str, str]], left: float, right: float, top: float
) -> tuple[str, float]:
    """A horizontal colour legend wrapped to a width; returns it and its height.

    Parameters
    ----------
    items : sequence of (str, str)
        (label, colour) pairs, in order.
    left, right : float
        The horizontal space to fill, in pixels; an item that would pass ``right`` starts a row.
    top : float
        The first row's top, in pixels.

    Returns
    -------
    svg : str
        The legend's swatches and labels.
    height : float
        The height it takes, in pixels (20 per row).
    """
    parts, x, y = [], left, top
    for label, colour in items:
        width = 26 + text_width(label, 11)
        if x + width > right and x > left:
            x, y = left, y + 20
        parts.append(
            f'<rect x="{px(x)}" y="{px(y)}" width="12" height="12" fill="{colour}" rx="2"/>'
        )
        parts.append(svg_text(x + 17, y + 10, label, "tick"))
        x += width
    return "".join(parts), y + 20 - top


def legend(items: Sequence[tuple[str, str]], x: float, y: float, line: float = 20) -> str:
    """A vertical colour legend.

    Parameters
    ----------
    items : sequence of (str, str)
        (label, colour) pairs, top to bottom.
    x, y : float
        The first item's swatch position, in pixels.
    line : float, default=20
        Pixels from one item to the next.

    Returns
    -------
    str
        The legend's swatches and labels.
    """
    parts = []
    for i, (label, colour) in enumerate(items):
        top = y + i * line
        parts.append(
            f'<rect x="{px(x)}" y="{px(top - 10)}" width="13" height="13" fill="{colour}" rx="2"/>'
        )
        parts.append(svg_text(x + 20, top + 1, label, "tick"))
    return "".join(parts)
