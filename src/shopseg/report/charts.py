"""The report's twelve panels: each reads published frames and returns a titled section."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from shopseg.export import MIN_AUDIENCE_SIZE
from shopseg.preprocess import MISSING_SUFFIX
from shopseg.report.plots import (
    calibration_plot,
    flow_plot,
    hbar_plot,
    heatmap_plot,
    line_plot,
    scatter_plot,
    stacked_hbar_plot,
)
from shopseg.report.projection import project_sample
from shopseg.report.svg import (
    HALF,
    LIFECYCLE_COLOURS,
    PALETTE,
    UNKNOWN_COLOUR,
    WIDE,
    Rect,
    axis_labels,
    diverging,
    esc,
    fmt_lift,
    fmt_number,
    fmt_pct,
    hlegend,
    ink,
    legend,
    lift_position,
    message_box,
    px,
    segment_label,
    sequential,
    svg_doc,
    svg_text,
    text_width,
)

# --- the charts ---------------------------------------------------------------------------


def panel(chart_id: str, title: str, note: str, body: str, wide: bool = False) -> str:
    """A titled report section holding one chart.

    Parameters
    ----------
    chart_id : str
        One of CHART_IDS: the section's ``id`` is ``chart-<chart_id>``, ``data-chart`` is the id.
    title : str
        The panel's heading; it is escaped.
    note : str
        HTML under the heading saying what the chart shows (the caller escapes it).
    body : str
        The chart (an ``<svg>`` or a table).
    wide : bool, default=False
        Span both columns of the page grid.

    Returns
    -------
    str
        The ``<section>`` element.
    """
    klass = "panel wide" if wide else "panel"
    return (
        f'<section class="{klass}" id="chart-{chart_id}" data-chart="{chart_id}">'
        f'<h2 class="chart-title">{esc(title)}</h2><p class="note">{note}</p>{body}</section>'
    )


def chart_k_selection(k_selection: pd.DataFrame, run: dict, config: dict) -> str:
    """Silhouette and inertia by k with the chosen k marked.

    Parameters
    ----------
    k_selection : DataFrame
        The current run's segment_k_selection rows: ``k``, ``silhouette``, ``inertia``,
        ``min_segment_share``, ``sample_size``, ``is_chosen``.
    run : dict
        The current segmentation_runs row (``k_rule`` and ``status`` are shown).
    config : dict
        The model's configuration; with ``min_segment_share``, k whose smallest segment is
        below it are drawn hollow.

    Returns
    -------
    str
        The panel's ``<section>`` (see ``panel``).
    """
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


def audience_limit_text(min_audience_size: int) -> str:
    """'the 1,000-customer audience limit (shop_min_audience_size)', as the report words it.

    Parameters
    ----------
    min_audience_size : int
        The smallest audience ``shopseg export`` writes.

    Returns
    -------
    str
        The phrase the header and the segment-sizes panel use.
    """
    return f"the {min_audience_size:,}-customer audience limit (shop_min_audience_size)"


def chart_segment_sizes(
    profiles: pd.DataFrame,
    colours: dict[int, str],
    audiences: pd.DataFrame | None = None,
    min_audience_size: int = MIN_AUDIENCE_SIZE,
    consent_known: bool | None = None,
) -> str:
    """Customers and share per segment, and the customers an export of each would write.

    Parameters
    ----------
    profiles : DataFrame
        segment_profiles: ``segment_id``, ``segment_name``, ``customers``, ``customer_share``.
    colours : dict of int to str
        The colour of each segment id (``segment_colours``).
    audiences : DataFrame or None, default=None
        ``segment_id`` and ``exportable``: the customers ``shopseg export`` writes by default
        (see ``read_report_data``); None when the published file has no audience columns.
    min_audience_size : int, default=MIN_AUDIENCE_SIZE
        The limit under which ``shopseg export`` refuses a segment; those are marked.
    consent_known : bool or None, default=None
        Whether the export filters on consent (some customer has an accepts_marketing value).

    Returns
    -------
    str
        The panel's ``<section>`` (see ``panel``); a marked segment's exportable count carries
        ``data-under-audience-limit="true"``.
    """
    title = "Segment sizes"
    labels = [segment_label(int(r.segment_id), r.segment_name) for r in profiles.itertuples()]
    label_w = max([text_width(s, 11) for s in labels] + [60])
    column_w = 104
    rect = Rect(label_w + 42, 30, HALF - label_w - 42 - 110 - column_w, 34 * max(len(labels), 1))
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
    exportable = (
        {int(r.segment_id): int(r.exportable) for r in audiences.itertuples()}
        if audiences is not None
        else {}
    )
    column_x = HALF - 14
    parts = [plot, svg_text(column_x, rect.top - 12, "exportable", "axis-label", "end")]
    band = rect.height / max(len(labels), 1)
    under = []
    for i, r in enumerate(profiles.itertuples()):
        sid = int(r.segment_id)
        y = rect.top + band * (i + 0.5) + 4
        count = exportable.get(sid)
        if count is None:
            parts.append(svg_text(column_x, y, "–", "value", "end"))
        elif count < min_audience_size:
            under.append(sid)
            parts.append(
                svg_text(
                    column_x,
                    y,
                    f"⚠ {fmt_number(count)}",
                    "value under-limit",
                    "end",
                    data_segment=sid,
                    data_under_audience_limit="true",
                )
            )
        else:
            parts.append(svg_text(column_x, y, fmt_number(count), "value", "end", data_segment=sid))
    body = svg_doc("segment-sizes", HALF, rect.bottom + 52, title, parts)
    total = int(profiles["customers"].sum()) if len(profiles) else 0
    note = f"{fmt_number(total)} customers in {len(profiles)} segments (segment_profiles). "
    limit = esc(audience_limit_text(min_audience_size))
    if audiences is None:
        note += (
            "Exportable: unknown, customer_segments has no audience columns (is_holdout, "
            "accepts_marketing, email_sha256), so <code>shopseg export</code> refuses this "
            "file until it is rebuilt."
        )
        return panel("segment-sizes", title, note, body)
    who = (
        "customers who accepted marketing (accepts_marketing true) and are outside the "
        "holdout group (is_holdout)"
        if consent_known
        else "customers outside the holdout group (is_holdout; the input records no "
        "marketing consent, so export filters none)"
    )
    note += (
        "Exportable: what <code>shopseg export</code> writes by default (csv or parquet), "
        f"the {who}; customer-match counts distinct hashed emails, which can be fewer. "
    )
    if under:
        note += (
            f'<span class="under-limit">⚠ {len(under)} of {len(profiles)} segments under '
            f"{limit}</span>: export refuses them"
        )
    else:
        note += f"Every segment reaches {limit}"
    note += (
        " (<code>--min-audience-size</code> of <code>shopseg report</code> and "
        "<code>shopseg export</code> sets the limit)."
    )
    return panel("segment-sizes", title, note, body)


def chart_lifecycle(
    lifecycle: pd.DataFrame, profiles: pd.DataFrame, colours: dict[int, str]
) -> str:
    """Share of each lifecycle stage within each segment.

    Parameters
    ----------
    lifecycle : DataFrame
        Customers per ``segment_id`` and ``lifecycle_stage`` (a null stage counts as unknown).
    profiles : DataFrame
        segment_profiles: ``segment_id``, ``segment_name``, ``customers``, ``customer_share``.
    colours : dict of int to str
        The colour of each segment id (``segment_colours``).

    Returns
    -------
    str
        The panel's ``<section>`` (see ``panel``).
    """
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
    """Lift (segment mean / all customers' mean) per segment and feature.

    Parameters
    ----------
    feature_profiles : DataFrame
        segment_feature_profiles: ``segment_id``, ``feature``, ``mean_value``,
        ``overall_mean``, ``lift``.
    profiles : DataFrame
        segment_profiles: ``segment_id``, ``segment_name``, ``customers``, ``customer_share``.
    model_features : sequence of str
        The features the model used: shown first, starred and bold.
    feature_order : sequence of str
        customer_features' column order, for the other features.

    Returns
    -------
    str
        The panel's ``<section>`` (see ``panel``).
    """
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
            f'<line x1="{px(x)}" x2="{px(x)}" y1="{px(rect.top - 4)}" y2="{px(rect.bottom + 4)}" '
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
            f'<rect x="{px(x)}" y="{px(scale_y)}" width="46" height="14" fill="{parts_colour}" '
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
    """Customers of a sample on the first two principal components, coloured by segment.

    Parameters
    ----------
    sample : DataFrame
        The sampled customers: ``segment_id`` and the model features.
    profiles : DataFrame
        segment_profiles: ``segment_id``, ``segment_name``, ``customers``, ``customer_share``.
    model_features : sequence of str
        The features to project (see ``project_sample``).
    colours : dict of int to str
        The colour of each segment id (``segment_colours``).
    config : dict
        The model's configuration, for the preprocessing.

    Returns
    -------
    str
        The panel's ``<section>`` (see ``panel``).
    """
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
        f'<circle cx="{px(key_x + 7)}" cy="{px(y - 4)}" r="8" fill="#9aa5b1" stroke="#1f2933" '
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
    """Permutation importance of each feature for the segment classifier.

    Parameters
    ----------
    importance : DataFrame
        The current segment_feature_importance rows: ``feature``,
        ``permutation_importance_mean``, ``permutation_importance_std``.

    Returns
    -------
    str
        The panel's ``<section>`` (see ``panel``).
    """
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
    """The readable rules per segment as a table.

    Parameters
    ----------
    rules : DataFrame
        The current segment_rules rows: ``segment_id``, ``segment_name``, ``rule_text``,
        ``rule_kind``, ``rule_support``, ``rule_precision``, ``holdout_support``,
        ``holdout_precision``.
    colours : dict of int to str
        The colour of each segment id (``segment_colours``).

    Returns
    -------
    str
        The panel's ``<section>`` (see ``panel``).
    """
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


AFFINITY_TOP = 3


def _affinity_cell(r) -> str:
    """One category of a segment: lift on its colour, shares, residual, the notable mark."""
    lift = float(r.lift)
    background = diverging(lift_position(lift))
    residual = float(r.pearson_residual) if pd.notna(r.pearson_residual) else math.nan
    mark = ' <span class="notable" title="is_notable">✱</span>' if bool(r.is_notable) else ""
    residual_text = f"{residual:+.1f}" if math.isfinite(residual) else "–"
    return (
        f'<td class="affinity" data-category="{esc(r.category)}" '
        f'data-rank="{int(r.affinity_rank)}" data-notable="{str(bool(r.is_notable)).lower()}" '
        f'style="background:{background};color:{ink(background)}">'
        f"<b>{esc(r.category)}</b> {esc(fmt_lift(lift))}×{mark}<br>"
        f'<span class="detail">{fmt_pct(float(r.customer_share), 0)} bought '
        f"(shop {fmt_pct(float(r.overall_customer_share), 0)}) · residual "
        f"{residual_text}</span></td>"
    )


def chart_category_affinity(
    affinity: pd.DataFrame | None, profiles: pd.DataFrame, colours: dict[int, str]
) -> str:
    """Each segment's categories of highest lift, notable ones marked, as a table.

    Parameters
    ----------
    affinity : DataFrame or None
        The current run's segment_category_affinity rows: ``segment_id``, ``category``,
        ``customers``, ``customer_share``, ``overall_customer_share``, ``lift``,
        ``pearson_residual``, ``is_notable``, ``affinity_rank``; None when the published
        file has no such table.
    profiles : DataFrame
        segment_profiles: ``segment_id``, ``segment_name``, ``customers``.
    colours : dict of int to str
        The colour of each segment id (``segment_colours``).

    Returns
    -------
    str
        The panel's ``<section>`` (see ``panel``): per segment its AFFINITY_TOP categories
        with buyers, by affinity_rank (1 = highest lift).
    """
    title = "Category affinity: what each segment buys more than the shop"
    head = (
        '<table class="rules" data-chart-table="category-affinity"><thead><tr>'
        '<th>segment</th><th class="num">customers</th>'
        + "".join(f"<th>category {i} by lift</th>" for i in range(1, AFFINITY_TOP + 1))
        + "</tr></thead><tbody>"
    )
    rows = []
    for p in profiles.itertuples(index=False):
        sid = int(p.segment_id)
        chip = f'<span class="chip" style="background:{colours.get(sid, UNKNOWN_COLOUR)}"></span>'
        start = (
            f'<tr data-segment="{sid}"><td class="segment">{chip}'
            f"{esc(segment_label(sid, p.segment_name))}</td>"
            f'<td class="num">{fmt_number(float(p.customers))}</td>'
        )
        if affinity is None:
            cells = [f'<td colspan="{AFFINITY_TOP}" class="empty">no affinity in this file</td>']
        else:
            mine = affinity[(affinity["segment_id"] == sid) & (affinity["customers"] > 0)]
            top = mine.sort_values("affinity_rank", kind="stable").head(AFFINITY_TOP)
            cells = [_affinity_cell(r) for r in top.itertuples(index=False)]
            if not cells:
                cells = [
                    f'<td colspan="{AFFINITY_TOP}">no purchases by the segment\'s '
                    "customers (every lift 0)</td>"
                ]
            elif len(cells) < AFFINITY_TOP:
                cells.append(f'<td colspan="{AFFINITY_TOP - len(cells)}"></td>')
        rows.append(start + "".join(cells) + "</tr>")
    body = head + "".join(rows) + "</tbody></table>"
    if affinity is None:
        note = (
            '<span class="empty">No category affinity in this file</span> '
            "(segment_category_affinity is missing: published before it existed)."
        )
    else:
        note = (
            "Per segment the categories its customers bought most often relative to the shop "
            "(segment_category_affinity, current run): lift = share of the segment's customers "
            "who bought the category ÷ the share of all customers (red above 1×, blue below); "
            "residual: Pearson residual of the buyer count. ✱ notable (is_notable): |residual| "
            "above shop_affinity_min_residual with at least shop_affinity_min_customers buyers."
        )
    return panel("category-affinity", title, note, body, wide=True)


def chart_migration(
    migration: pd.DataFrame, profiles: pd.DataFrame, colours: dict[int, str], run: dict
) -> str:
    """Customers per (previous segment, current segment) against the previous run.

    Parameters
    ----------
    migration : DataFrame
        The current run's segment_migration rows: ``previous_run_id``, ``from_segment_id``,
        ``to_segment_id``, ``customers``; empty on a first build (the panel says so).
    profiles : DataFrame
        segment_profiles: ``segment_id``, ``segment_name``, ``customers``, ``customer_share``.
    colours : dict of int to str
        The colour of each segment id (``segment_colours``).
    run : dict
        The current segmentation_runs row (``run_id``, ``stability_ari``).

    Returns
    -------
    str
        The panel's ``<section>`` (see ``panel``).
    """
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


# builds the flow panel draws at most (the latest ones): more leaves no room between the bars
FLOW_BUILDS = 6


def _flow_note(title: str, headline: str, note: str) -> str:
    """The flow panel without a chart: a plain note."""
    text = f'<span class="empty">{headline}</span> {note}'
    return panel("segment-flow", title, text, "", wide=True)


def chart_segment_flow(
    transitions: pd.DataFrame | None, profiles: pd.DataFrame, colours: dict[int, str]
) -> str:
    """Segment sizes per stored build and the customers who moved between consecutive builds.

    Parameters
    ----------
    transitions : DataFrame or None
        segment_transitions: ``build_seq``, ``run_id``, ``as_of_at``, ``from_segment_id``,
        ``from_segment_name``, ``to_segment_id``, ``to_segment_name``, ``customers``; None
        when the published file has no such table. With fewer than two builds the panel is
        a note, not a chart.
    profiles : DataFrame
        segment_profiles: ``segment_id``, ``segment_name`` (the current names).
    colours : dict of int to str
        The colour of each segment id (``segment_colours``); ids the current run does not
        have are grey.

    Returns
    -------
    str
        The panel's ``<section>`` (see ``panel``).
    """
    title = "Segment flow across builds"
    if transitions is None:
        return _flow_note(
            title,
            "No segment history in this file.",
            "segment_transitions is missing: the file was published before the history "
            "existed; the next build adds it.",
        )
    builds = sorted(int(b) for b in transitions["build_seq"].unique())
    if not builds:
        return _flow_note(title, "No stored build yet.", "segment_transitions is empty.")
    if len(builds) < 2:
        when = ""
        if builds:
            first = transitions[transitions["build_seq"] == builds[0]]
            when = f" (build {builds[0]}, data as of {esc(first['as_of_at'].iloc[0])})"
        return _flow_note(
            title,
            "Only one stored build so far.",
            f"segment_transitions holds a single build{when}: the flow between builds "
            "appears after the next build that passes every gate.",
        )
    shown = builds[-FLOW_BUILDS:]
    frame = transitions[transitions["build_seq"].isin(shown)]
    names = dict(zip(profiles["segment_id"].astype(int), profiles["segment_name"], strict=True))
    for side in ("from", "to"):  # ids the current run has lost keep the name the history holds
        known = frame.dropna(subset=[f"{side}_segment_id"])
        for sid, name in zip(
            known[f"{side}_segment_id"], known[f"{side}_segment_name"], strict=True
        ):
            names.setdefault(int(sid), name if isinstance(name, str) else None)
    arrived = frame.dropna(subset=["to_segment_id"])
    ids = sorted({int(s) for s in arrived["to_segment_id"]})
    row = {sid: i for i, sid in enumerate(ids)}
    col = {b: j for j, b in enumerate(shown)}
    sizes = np.zeros((len(ids), len(shown)))
    for r in arrived.itertuples(index=False):
        sizes[row[int(r.to_segment_id)], col[int(r.build_seq)]] += float(r.customers)
    flows, gap_notes = [], []
    for b in shown[1:]:
        matrix = np.zeros((len(ids), len(ids)))
        mine = frame[frame["build_seq"] == b]
        both = mine.dropna(subset=["from_segment_id", "to_segment_id"])
        for r in both.itertuples(index=False):
            a, c = int(r.from_segment_id), int(r.to_segment_id)
            if a in row:  # a segment of the previous shown build
                matrix[row[a], row[c]] += float(r.customers)
        flows.append(matrix)
        moved = int(matrix.sum() - np.trace(matrix))
        new = int(mine.loc[mine["from_segment_id"].isna(), "customers"].sum())
        left = int(mine.loc[mine["to_segment_id"].isna(), "customers"].sum())
        gap_notes.append(
            [f"{fmt_number(moved)} moved", f"+{fmt_number(new)} new −{fmt_number(left)} left"]
        )
    runs = frame.groupby("build_seq")["run_id"].first()
    as_of = frame.groupby("build_seq")["as_of_at"].first()
    ticks = []
    for j, b in enumerate(shown):
        lines = [f"build {b}", str(as_of[b])[:10]]
        if j and runs[b] != runs[shown[j - 1]]:
            lines.append("new model")
        ticks.append(lines)
    labels = [
        segment_label(sid, names.get(sid)) + ("" if sid in colours else " (not in this run)")
        for sid in ids
    ]
    key_w = max([text_width(s, 11) for s in labels] + [120]) + 40
    rect = Rect(84, 48, WIDE - 84 - key_w - 40, 360)
    plot = flow_plot(
        sizes,
        flows,
        rect,
        row_labels=labels,
        row_keys=[str(s) for s in ids],
        row_colours=[colours.get(s, UNKNOWN_COLOUR) for s in ids],
        column_keys=[str(b) for b in shown],
        column_ticks=ticks,
        gap_notes=gap_notes,
        x_label="stored build (build_seq; data as of)",
        y_label="customers (count)",
    )
    key_x = rect.right + 40
    parts = [
        plot,
        svg_text(key_x, rect.top + 4, "segment", "axis-label"),
        legend(
            [(s, colours.get(i, UNKNOWN_COLOUR)) for s, i in zip(labels, ids, strict=True)],
            key_x,
            rect.top + 30,
            22,
        ),
    ]
    body = svg_doc("segment-flow", WIDE, rect.bottom + 96, title, parts)
    total = int(sum(f.sum() for f in flows))
    stayed = int(sum(np.trace(f) for f in flows))
    scope = (
        f"the last {len(shown)} of {len(builds)}"
        if len(shown) < len(builds)
        else f"all {len(builds)}"
    )
    note = (
        f"Customers per segment in {scope} stored builds (segment_transitions; "
        "customer_segment_history holds the same moves per customer). Bands: customers in "
        "two consecutive builds, from their segment in the first to the one in the second "
        f"({fmt_number(total)} over the gaps shown, {fmt_pct(stayed / total if total else 0.0)} "
        "stayed); new customers arrive and customers no longer in the data leave without a "
        "band. Ids are compared as the history stores them; after a full refresh they start "
        "again from 1."
    )
    return panel("segment-flow", title, note, body, wide=True)


def _money(value) -> str:
    """A sum of money in the input currency, or a dash when unknown."""
    if value is None or pd.isna(value):
        return "–"
    return fmt_number(float(value))


def chart_churn_risk(profiles: pd.DataFrame, colours: dict[int, str]) -> str:
    """Mean churn risk per segment, with its at-risk and expected revenue.

    Parameters
    ----------
    profiles : DataFrame
        segment_profiles: ``segment_id``, ``segment_name``, ``mean_p_no_order``,
        ``at_risk_revenue`` and ``expected_revenue`` (null where the predictions could not run).
    colours : dict of int to str
        The colour of each segment id (``segment_colours``).

    Returns
    -------
    str
        The panel's ``<section>`` (see ``panel``).
    """
    title = "Churn risk by segment"
    labels = [segment_label(int(r.segment_id), r.segment_name) for r in profiles.itertuples()]
    label_w = max([text_width(s, 11) for s in labels] + [60])
    rect = Rect(label_w + 42, 16, HALF - label_w - 42 - 190, 34 * max(len(labels), 1))
    risk = pd.to_numeric(profiles.get("mean_p_no_order"), errors="coerce")
    if risk is None or risk.isna().all():
        plot = message_box(rect, ["no predictions in this build"])
        plot += axis_labels(rect, "mean p_no_order", "segment", 38, rect.left - 16)
    else:
        values = [float(v) if pd.notna(v) else 0.0 for v in risk]
        texts = [
            f"{fmt_pct(float(v) if pd.notna(v) else None, 0)} · {_money(r.at_risk_revenue)}"
            f" of {_money(r.expected_revenue)}"
            for v, r in zip(risk, profiles.itertuples(), strict=True)
        ]
        plot = hbar_plot(
            labels,
            values,
            rect,
            x_label="mean probability of no order in the horizon (%)",
            y_label="segment",
            colours=[colours[int(s)] for s in profiles["segment_id"]],
            value_texts=texts,
            tick_scale=100.0,
        )
    body = svg_doc("churn-risk", HALF, rect.bottom + 52, title, [plot])
    note = (
        "Mean p_no_order of each segment's customers (segment_profiles, from "
        "customer_predictions); after the bar: at-risk revenue (at_risk_revenue) of the "
        "segment's expected revenue in the horizon (expected_revenue), input currency."
    )
    return panel("churn-risk", title, note, body)


def chart_calibration(calibration: pd.DataFrame, backtest: dict) -> str:
    """The backtest's calibration: observed against predicted share ordering, per decile.

    Parameters
    ----------
    calibration : DataFrame
        prediction_calibration: ``decile``, ``customers``, ``predicted_share``,
        ``observed_share`` (no rows without a backtest).
    backtest : dict
        The prediction_runs row (``status``, ``auc``, ``brier``, ``horizon_days``); empty
        when the build has none.

    Returns
    -------
    str
        The panel's ``<section>`` (see ``panel``).
    """
    title = "Prediction backtest: calibration"
    rect = Rect(84, 16, 300, 300)
    frame = calibration.sort_values("decile", kind="stable")
    plot = calibration_plot(
        [float(v) for v in frame["predicted_share"]],
        [float(v) for v in frame["observed_share"]],
        [int(v) for v in frame["customers"]],
        rect,
        x_label="predicted probability of ordering (%)",
        y_label="customers who ordered (%)",
        colour=PALETTE[0],
    )
    facts = []
    for key, label in (("auc", "AUC"), ("brier", "Brier score"), ("total_error", "total error")):
        value = backtest.get(key)
        if value is not None and math.isfinite(float(value)):
            text = f"{float(value):+.1%}" if key == "total_error" else f"{float(value):.3f}"
            facts.append(f"{label} {text}")
    status = backtest.get("status") or "no backtest"
    lines = [f"status: {status}", *facts]
    side = "".join(
        svg_text(rect.right + 30, rect.top + 20 + 22 * i, line, "value")
        for i, line in enumerate(lines)
    )
    body = svg_doc("calibration", HALF, rect.bottom + 52, title, [plot, side])
    horizon = backtest.get("horizon_days")
    note = (
        "The backtest's customers in ten equal groups by predicted probability of "
        f"ordering in the held-out {esc(horizon) if horizon is not None else ''}-day "
        "horizon (prediction_calibration), against the share who did; on the dashed "
        "diagonal the predictions are calibrated. Figures from prediction_runs."
    )
    return panel("calibration", title, note, body)
