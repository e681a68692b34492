"""The plot types of the report (line, bars, stacked bars, heatmap, scatter, flow) as SVG text."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from shopseg.report.svg import (
    Rect,
    axis_labels,
    esc,
    fmt_number,
    fmt_pct,
    ink,
    linear,
    message_box,
    nice_ticks,
    px,
    svg_text,
    tick_decimals,
)


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
    """A line chart with points, one highlighted x (a dashed rule) and hollow points.

    Parameters
    ----------
    xs, ys : sequence of float
        The points; those with a None or non-finite y are left out.
    rect : Rect
        The plot area.
    title : str
        Shown above the plot.
    x_label, y_label : str
        Axis titles.
    colour : str
        Line and point colour.
    marked_x : float or None, default=None
        An x to mark with a dashed rule, a label ``chosen k = ...`` and a larger point.
    hollow : sequence of bool or None, default=None
        Per x, True draws the point hollow (white fill).
    y_decimals : int or None, default=None
        Decimals of the y ticks; None picks the fewest that print them exactly.

    Returns
    -------
    str
        SVG fragments; a message box saying "no values" when no point is left.
    """
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
            f'<line class="grid-line" x1="{px(rect.left)}" x2="{px(rect.right)}" '
            f'y1="{px(y)}" y2="{px(y)}"/>'
        )
        parts.append(svg_text(rect.left - 8, y + 4, fmt_number(t, decimals), "tick", "end"))
    for t in x_ticks:
        parts.append(svg_text(sx(t), rect.bottom + 18, fmt_number(t), "tick", "middle"))
    parts.append(
        f'<line class="axis" x1="{px(rect.left)}" x2="{px(rect.right)}" '
        f'y1="{px(rect.bottom)}" y2="{px(rect.bottom)}"/>'
    )
    if marked_x is not None:
        x = sx(marked_x)
        parts.append(
            f'<line x1="{px(x)}" x2="{px(x)}" y1="{px(rect.top)}" y2="{px(rect.bottom)}" '
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
    points = " ".join(f"{px(sx(x))},{px(sy(y))}" for x, y in ok)
    parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
    hollow_by_x = dict(zip(xs, hollow, strict=True)) if hollow is not None else {}
    for x, y in ok:
        chosen = marked_x is not None and x == marked_x
        fill = "#ffffff" if hollow_by_x.get(x) else colour
        r = 7 if chosen else 4.5
        stroke = "#1f2933" if chosen else colour
        parts.append(
            f'<circle cx="{px(sx(x))}" cy="{px(sy(y))}" r="{r}" fill="{fill}" '
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
    """Horizontal bars with value labels, optional error whiskers and a zero line.

    Parameters
    ----------
    labels : sequence of str
        One per bar, top to bottom.
    values : sequence of float
        Bar lengths; negative values extend left of the zero line.
    rect : Rect
        The plot area.
    x_label, y_label : str
        Axis titles.
    colours : sequence of str
        One fill colour per bar.
    value_texts : sequence of str
        The text written at the end of each bar (and in its tooltip).
    errors : sequence of float or None, default=None
        Half-widths of error whiskers; None draws none.
    x_decimals : int or None, default=None
        Decimals of the x ticks; None picks the fewest that print them exactly.
    tick_scale : float, default=1.0
        Factor applied to tick values before printing (100 prints shares as points).
    y_label_offset : float or None, default=None
        Distance of the y title from the plot; None puts it 16 px from the SVG's left edge.

    Returns
    -------
    str
        SVG fragments.
    """
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
            f'<line class="grid-line" x1="{px(x)}" x2="{px(x)}" y1="{px(rect.top)}" '
            f'y2="{px(rect.bottom)}"/>'
        )
        label = fmt_number(t * tick_scale, decimals)
        parts.append(svg_text(x, rect.bottom + 16, label, "tick", "middle"))
    zero = sx(0.0)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        cy = rect.top + band * (i + 0.5)
        x0, x1 = sorted((zero, sx(value)))
        parts.append(
            f'<rect x="{px(x0)}" y="{px(cy - bar / 2)}" width="{px(max(x1 - x0, 0.5))}" '
            f'height="{px(bar)}" fill="{colours[i]}" rx="2"><title>{esc(label)}: '
            f"{esc(value_texts[i])}</title></rect>"
        )
        parts.append(svg_text(rect.left - 8, cy + 4, label, "tick", "end"))
        end = sx(value + errs[i]) if value >= 0 else sx(value - errs[i])
        if errs[i]:
            a, b = sx(value - errs[i]), sx(value + errs[i])
            parts.append(
                f'<line x1="{px(a)}" x2="{px(b)}" y1="{px(cy)}" y2="{px(cy)}" '
                'stroke="#323f4b" stroke-width="1.5"/>'
                f'<line x1="{px(a)}" x2="{px(a)}" y1="{px(cy - 5)}" y2="{px(cy + 5)}" '
                'stroke="#323f4b" stroke-width="1.5"/>'
                f'<line x1="{px(b)}" x2="{px(b)}" y1="{px(cy - 5)}" y2="{px(cy + 5)}" '
                'stroke="#323f4b" stroke-width="1.5"/>'
            )
        if value >= 0:
            parts.append(svg_text(max(end, x1) + 6, cy + 4, value_texts[i], "value"))
        else:
            parts.append(svg_text(min(end, x0) - 6, cy + 4, value_texts[i], "value", "end"))
    parts.append(
        f'<line class="axis" x1="{px(zero)}" x2="{px(zero)}" y1="{px(rect.top)}" '
        f'y2="{px(rect.bottom)}"/>'
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
    """100% stacked horizontal bars with percentages in the wide parts.

    Parameters
    ----------
    labels : sequence of str
        One per bar, top to bottom.
    shares : ndarray of shape (n_bars, n_parts)
        Each part's share of its bar (rows add up to 1, or 0 for an empty bar).
    part_names : sequence of str
        Name of each part, for the tooltips.
    part_colours : sequence of str
        Fill colour of each part.
    rect : Rect
        The plot area.
    x_label, y_label : str
        Axis titles.
    counts : ndarray of shape (n_bars, n_parts)
        Customers in each part, for the tooltips.

    Returns
    -------
    str
        SVG fragments; parts at least 34 px wide carry their percentage.
    """
    n = max(len(labels), 1)
    band = rect.height / n
    bar = min(band * 0.7, 26)
    sx = linear((0.0, 1.0), (rect.left, rect.right))
    parts = []
    for t in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = sx(t)
        parts.append(
            f'<line class="grid-line" x1="{px(x)}" x2="{px(x)}" y1="{px(rect.top)}" '
            f'y2="{px(rect.bottom)}"/>'
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
                f'<rect x="{px(x0)}" y="{px(cy - bar / 2)}" width="{px(x1 - x0)}" '
                f'height="{px(bar)}" fill="{part_colours[j]}" stroke="#ffffff" '
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
    """A grid of coloured cells with text, row labels left and column labels below.

    Parameters
    ----------
    row_labels, col_labels : sequence of str
        Labels of the rows (left) and columns (below).
    colours : sequence of sequence of str
        Fill colour per cell, by row then column.
    texts : sequence of sequence of str
        Text per cell; empty text writes none.
    rect : Rect
        The grid's area.
    x_label, y_label : str
        Axis titles.
    tooltips : sequence of sequence of str
        Tooltip per cell.
    rotate_columns : bool, default=True
        Write column labels rotated by -55 degrees (for long labels).
    bold_columns : sequence of bool or None, default=None
        Per column, True writes its label bold.
    outline : sequence of (int, int), default=()
        (row, column) cells to outline.
    y_label_offset, x_label_offset : float or None, default=None
        Distances of the axis titles from the grid; None uses defaults.

    Returns
    -------
    str
        SVG fragments.
    """
    rows, cols = max(len(row_labels), 1), max(len(col_labels), 1)
    cw, ch = rect.width / cols, rect.height / rows
    parts = []
    for i, label in enumerate(row_labels):
        parts.append(svg_text(rect.left - 8, rect.top + ch * (i + 0.5) + 4, label, "tick", "end"))
        for j in range(len(col_labels)):
            x, y = rect.left + j * cw, rect.top + i * ch
            parts.append(
                f'<rect x="{px(x)}" y="{px(y)}" width="{px(cw)}" height="{px(ch)}" '
                f'fill="{colours[i][j]}" stroke="#ffffff" stroke-width="1">'
                f"<title>{esc(tooltips[i][j])}</title></rect>"
            )
            if texts[i][j]:
                fill = f"fill:{ink(colours[i][j])}"
                cx, cy = x + cw / 2, y + ch / 2 + 3.5
                parts.append(svg_text(cx, cy, texts[i][j], "cell", "middle", style=fill))
    for i, j in outline:
        parts.append(
            f'<rect x="{px(rect.left + j * cw + 1)}" y="{px(rect.top + i * ch + 1)}" '
            f'width="{px(cw - 2)}" height="{px(ch - 2)}" fill="none" stroke="#1f2933" '
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
                    transform=f"rotate(-55 {px(x)} {px(y)})",
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
    """A scatter plot with equal scales on both axes and labelled centre markers.

    Parameters
    ----------
    coords : ndarray of shape (n_points, 2)
        Point positions in data units.
    colours : sequence of str
        One colour per point.
    rect : Rect
        The plot area.
    x_label, y_label : str
        Axis titles.
    centres : sequence of (float, float, str, str), default=()
        (x, y, label, colour) of markers drawn over the points; the label's first word is
        written inside the marker.

    Returns
    -------
    str
        SVG fragments.
    """
    xs, ys = coords[:, 0], coords[:, 1]
    x_lo, x_hi = float(xs.min()), float(xs.max())
    y_lo, y_hi = float(ys.min()), float(ys.max())
    unit = min(rect.width / max(x_hi - x_lo, 1e-9), rect.height / max(y_hi - y_lo, 1e-9)) * 0.94
    x_mid, y_mid = (x_lo + x_hi) / 2, (y_lo + y_hi) / 2
    half_w, half_h = rect.width / 2 / unit, rect.height / 2 / unit
    sx = linear((x_mid - half_w, x_mid + half_w), (rect.left, rect.right))
    sy = linear((y_mid - half_h, y_mid + half_h), (rect.bottom, rect.top))
    parts = [
        f'<rect x="{px(rect.left)}" y="{px(rect.top)}" width="{px(rect.width)}" '
        f'height="{px(rect.height)}" fill="#fcfcfd" stroke="#cbd2d9"/>'
    ]
    x_ticks = [t for t in nice_ticks(x_mid - half_w, x_mid + half_w, 8) if abs(t - x_mid) <= half_w]
    y_ticks = [t for t in nice_ticks(y_mid - half_h, y_mid + half_h, 6) if abs(t - y_mid) <= half_h]
    for t in x_ticks:
        x = sx(t)
        parts.append(
            f'<line class="grid-line" x1="{px(x)}" x2="{px(x)}" y1="{px(rect.top)}" '
            f'y2="{px(rect.bottom)}"/>'
        )
        parts.append(
            svg_text(x, rect.bottom + 16, fmt_number(t, tick_decimals(x_ticks)), "tick", "middle")
        )
    for t in y_ticks:
        y = sy(t)
        parts.append(
            f'<line class="grid-line" x1="{px(rect.left)}" x2="{px(rect.right)}" '
            f'y1="{px(y)}" y2="{px(y)}"/>'
        )
        parts.append(
            svg_text(rect.left - 8, y + 4, fmt_number(t, tick_decimals(y_ticks)), "tick", "end")
        )
    parts.append('<g fill-opacity="0.62">')
    for (x, y), colour in zip(coords, colours, strict=True):
        parts.append(f'<circle cx="{px(sx(x))}" cy="{px(sy(y))}" r="2.6" fill="{colour}"/>')
    parts.append("</g>")
    for x, y, text, colour in centres:
        cx, cy = sx(x), sy(y)
        parts.append(
            f'<circle cx="{px(cx)}" cy="{px(cy)}" r="11" fill="{colour}" stroke="#1f2933" '
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


def calibration_plot(
    predicted: Sequence[float],
    observed: Sequence[float],
    counts: Sequence[int],
    rect: Rect,
    *,
    x_label: str,
    y_label: str,
    colour: str,
) -> str:
    """Observed against predicted shares (0-1) per group, with the diagonal of perfect calibration.

    Parameters
    ----------
    predicted, observed : sequence of float
        One point per group: the mean prediction and the observed share.
    counts : sequence of int
        Members per group (in each point's tooltip).
    rect : Rect
        The plot area (square reads best).
    x_label, y_label : str
        Axis titles.
    colour : str
        Line and point colour.

    Returns
    -------
    str
        SVG fragments; a message box saying "no backtest" when there is no point.
    """
    ok = [
        (p, o, n)
        for p, o, n in zip(predicted, observed, counts, strict=True)
        if p is not None and o is not None and math.isfinite(p) and math.isfinite(o)
    ]
    if not ok:
        return message_box(rect, ["no backtest"]) + axis_labels(rect, x_label, y_label, 40, 52)
    sx = linear((0.0, 1.0), (rect.left, rect.right))
    sy = linear((0.0, 1.0), (rect.bottom, rect.top))
    ticks = [0.0, 0.25, 0.5, 0.75, 1.0]
    parts = []
    for t in ticks:
        parts.append(
            f'<line class="grid-line" x1="{px(rect.left)}" x2="{px(rect.right)}" '
            f'y1="{px(sy(t))}" y2="{px(sy(t))}"/>'
        )
        parts.append(svg_text(rect.left - 8, sy(t) + 4, fmt_pct(t, 0), "tick", "end"))
        parts.append(svg_text(sx(t), rect.bottom + 18, fmt_pct(t, 0), "tick", "middle"))
    parts.append(
        f'<line x1="{px(sx(0))}" y1="{px(sy(0))}" x2="{px(sx(1))}" y2="{px(sy(1))}" '
        'stroke="#9aa5b1" stroke-width="1.5" stroke-dasharray="5 4"/>'
    )
    parts.append(
        f'<line class="axis" x1="{px(rect.left)}" x2="{px(rect.right)}" '
        f'y1="{px(rect.bottom)}" y2="{px(rect.bottom)}"/>'
    )
    points = " ".join(f"{px(sx(p))},{px(sy(o))}" for p, o, _ in ok)
    parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
    for p, o, n in ok:
        parts.append(
            f'<circle cx="{px(sx(p))}" cy="{px(sy(o))}" r="4.5" fill="{colour}">'
            f"<title>{esc(fmt_number(n))} customers: predicted {esc(fmt_pct(p))}, "
            f"observed {esc(fmt_pct(o))}</title></circle>"
        )
    parts.append(axis_labels(rect, x_label, y_label, 40, 52))
    return "".join(parts)


def flow_plot(
    sizes: np.ndarray,
    flows: Sequence[np.ndarray],
    rect: Rect,
    *,
    row_labels: Sequence[str],
    row_keys: Sequence[str],
    row_colours: Sequence[str],
    column_keys: Sequence[str],
    column_ticks: Sequence[Sequence[str]],
    gap_notes: Sequence[Sequence[str]],
    x_label: str,
    y_label: str,
) -> str:
    """Stacked bars of group sizes per column with the flows between consecutive columns.

    Parameters
    ----------
    sizes : ndarray of shape (n_rows, n_columns)
        Members of each group (row) in each column, stacked top down in row order.
    flows : sequence of ndarray of shape (n_rows, n_rows)
        One per gap between consecutive columns: members going from the row group of the left
        column to the row group of the right one. A band leaves each block from the top in
        order of the group it goes to; members who arrive or leave have no band.
    rect : Rect
        The plot area; the bars stand on its bottom edge, on a count scale from 0.
    row_labels, row_keys, row_colours : sequence of str
        Each group's label (tooltips), key (``data-segment``) and fill colour.
    column_keys : sequence of str
        Each column's key (``data-build``).
    column_ticks : sequence of sequence of str
        The lines written under each bar.
    gap_notes : sequence of sequence of str
        The lines written above each gap.
    x_label, y_label : str
        Axis titles.

    Returns
    -------
    str
        SVG fragments: blocks carry ``data-build``, ``data-segment`` and ``data-customers``,
        bands ``data-build`` (the right column), ``data-from``, ``data-to`` and
        ``data-customers``.
    """
    n_rows, n_cols = sizes.shape
    ticks = nice_ticks(0.0, float(max(sizes.sum(axis=0).max(), 1.0)))
    sy = linear((0.0, ticks[-1]), (rect.bottom, rect.top))
    unit = rect.height / ticks[-1]
    bar = 34.0
    step = (rect.width - bar) / max(n_cols - 1, 1)
    xs = [rect.left + step * j for j in range(n_cols)]
    parts = []
    for t in ticks:
        y = sy(t)
        parts.append(
            f'<line class="grid-line" x1="{px(rect.left)}" x2="{px(rect.right)}" '
            f'y1="{px(y)}" y2="{px(y)}"/>'
        )
        parts.append(svg_text(rect.left - 8, y + 4, fmt_number(t), "tick", "end"))
    # the top of each block: bars are stacked top down from their total
    tops = np.zeros_like(sizes, dtype=float)
    for j in range(n_cols):
        y = sy(float(sizes[:, j].sum()))
        for i in range(n_rows):
            tops[i, j] = y
            y += sizes[i, j] * unit
    for j, matrix in enumerate(flows):
        out_y = tops[:, j].copy()
        in_y = tops[:, j + 1].copy()
        x0, x1 = xs[j] + bar, xs[j + 1]
        mid = (x0 + x1) / 2
        # bands leave in order of their target and arrive in order of their source
        starts = {}
        for a in range(n_rows):
            for b in range(n_rows):
                starts[a, b] = out_y[a]
                out_y[a] += matrix[a, b] * unit
        for b in range(n_rows):
            for a in range(n_rows):
                count = float(matrix[a, b])
                if count <= 0:
                    continue
                h = count * unit
                ya, yb = starts[a, b], in_y[b]
                in_y[b] += h
                path = (
                    f"M{px(x0)} {px(ya)} C{px(mid)} {px(ya)} {px(mid)} {px(yb)} {px(x1)} {px(yb)} "
                    f"L{px(x1)} {px(yb + h)} C{px(mid)} {px(yb + h)} {px(mid)} {px(ya + h)} "
                    f"{px(x0)} {px(ya + h)} Z"
                )
                tip = (
                    f"{fmt_number(count)} customers from {row_labels[a]} to {row_labels[b]} "
                    f"(build {column_keys[j]} to {column_keys[j + 1]})"
                )
                parts.append(
                    f'<path class="flow" d="{path}" fill="{row_colours[a]}" fill-opacity="0.42" '
                    f'data-build="{esc(column_keys[j + 1])}" data-from="{esc(row_keys[a])}" '
                    f'data-to="{esc(row_keys[b])}" data-customers="{int(count)}">'
                    f"<title>{esc(tip)}</title></path>"
                )
        for k, line in enumerate(gap_notes[j]):
            parts.append(svg_text(mid, rect.top - 22 + 13 * k, line, "tick", "middle"))
    for j in range(n_cols):
        for i in range(n_rows):
            count = float(sizes[i, j])
            if count <= 0:
                continue
            h, y = count * unit, tops[i, j]
            tip = f"{row_labels[i]}, build {column_keys[j]}: {fmt_number(count)} customers"
            parts.append(
                f'<rect class="block" x="{px(xs[j])}" y="{px(y)}" width="{px(bar)}" '
                f'height="{px(h)}" fill="{row_colours[i]}" stroke="#ffffff" stroke-width="1" '
                f'data-build="{esc(column_keys[j])}" data-segment="{esc(row_keys[i])}" '
                f'data-customers="{int(count)}"><title>{esc(tip)}</title></rect>'
            )
            if h >= 15:
                style = f"fill:{ink(row_colours[i])}"
                label = fmt_number(count)
                parts.append(
                    svg_text(xs[j] + bar / 2, y + h / 2 + 4, label, "cell", "middle", style=style)
                )
        for k, line in enumerate(column_ticks[j]):
            parts.append(
                svg_text(xs[j] + bar / 2, rect.bottom + 16 + 14 * k, line, "tick", "middle")
            )
    parts.append(
        f'<line class="axis" x1="{px(rect.left)}" x2="{px(rect.right)}" '
        f'y1="{px(rect.bottom)}" y2="{px(rect.bottom)}"/>'
    )
    x_offset = 30 + 14 * max((len(t) for t in column_ticks), default=1)
    parts.append(axis_labels(rect, x_label, y_label, x_offset, rect.left - 18))
    return "".join(parts)
