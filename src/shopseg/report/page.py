"""The report page: read the published file, lay the panels out, write one HTML file."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shopseg.export import AUDIENCE_COLUMNS, MIN_AUDIENCE_SIZE
from shopseg.preprocess import MISSING_SUFFIX
from shopseg.report.charts import (
    audience_limit_text,
    chart_calibration,
    chart_category_affinity,
    chart_churn_risk,
    chart_feature_importance,
    chart_k_selection,
    chart_lifecycle,
    chart_migration,
    chart_profile_heatmap,
    chart_projection,
    chart_segment_flow,
    chart_segment_rules,
    chart_segment_sizes,
)
from shopseg.report.svg import esc, fmt_number, segment_colours

# Stable ids of the report's panels, in page order (tests and readers rely on them).
CHART_IDS = (
    "k-selection",
    "segment-sizes",
    "lifecycle",
    "profile-heatmap",
    "projection",
    "feature-importance",
    "migration",
    "segment-flow",
    "segment-rules",
    "category-affinity",
    "churn-risk",
    "calibration",
)
SAMPLE_SIZE = 3000

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
.under-limit { color: #7b2d26; font-weight: bold; }
svg .under-limit { fill: #7b2d26; font-weight: bold; }
td.affinity .detail { font-size: 11px; }
td.affinity .notable { font-weight: bold; }
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
    calibration: pd.DataFrame
    prediction_run: dict[str, Any]
    audiences: pd.DataFrame | None
    consent_known: bool | None
    min_audience_size: int
    transitions: pd.DataFrame | None
    affinity: pd.DataFrame | None


def _header(data: ReportData) -> str:
    """Title, model run line and the run's key facts."""
    run = data.run
    as_of = run.get("as_of_at")
    silhouette = run.get("silhouette")
    ari = run.get("stability_ari")
    bootstrap = run.get("bootstrap_stability")
    facts = [
        ("customers", fmt_number(float(run.get("customers") or 0))),
        ("segments (k)", str(run.get("k"))),
        ("silhouette", f"{silhouette:.3f}" if silhouette is not None else "–"),
        (
            "bootstrap stability",
            f"{bootstrap:.3f}" if bootstrap is not None and math.isfinite(bootstrap) else "–",
        ),
        ("stability ARI", f"{ari:.3f}" if ari is not None and math.isfinite(ari) else "–"),
        ("algorithm", str(run.get("algorithm"))),
        ("status", str(run.get("status"))),
        ("model features", str(len(data.model_features))),
    ]
    limit = audience_limit_text(data.min_audience_size)
    if data.audiences is None:
        facts.append((f"segments under {limit}", "unknown: no audience columns"))
    else:
        under = int((data.audiences["exportable"] < data.min_audience_size).sum())
        facts.append((f"segments under {limit}", f"{under} of {len(data.audiences)}"))
    items = "".join(f"<li>{esc(k)}<b>{esc(v)}</b></li>" for k, v in facts)
    return (
        "<header><h1>Customer segments</h1>"
        f"<p>Model run <code>{esc(run.get('run_id'))}</code> · data as of {esc(as_of)}</p>"
        f'<ul class="facts">{items}</ul></header>'
    )


def render_report(data: ReportData) -> str:
    """The whole report as one self-contained HTML document.

    Parameters
    ----------
    data : ReportData
        What ``read_report_data`` read from the published file.

    Returns
    -------
    str
        The HTML page: the header, the panels of CHART_IDS in that order and a footer, with
        inline CSS and SVG; the same data gives the same text.
    """
    ids = [int(s) for s in data.profiles["segment_id"]]
    colours = segment_colours(ids)
    panels = {
        "k-selection": chart_k_selection(data.k_selection, data.run, data.config),
        "segment-sizes": chart_segment_sizes(
            data.profiles, colours, data.audiences, data.min_audience_size, data.consent_known
        ),
        "lifecycle": chart_lifecycle(data.lifecycle, data.profiles, colours),
        "profile-heatmap": chart_profile_heatmap(
            data.feature_profiles, data.profiles, data.model_features, data.feature_order
        ),
        "projection": chart_projection(
            data.sample, data.profiles, data.model_features, colours, data.config
        ),
        "feature-importance": chart_feature_importance(data.importance),
        "migration": chart_migration(data.migration, data.profiles, colours, data.run),
        "segment-flow": chart_segment_flow(data.transitions, data.profiles, colours),
        "segment-rules": chart_segment_rules(data.rules, colours),
        "category-affinity": chart_category_affinity(data.affinity, data.profiles, colours),
        "churn-risk": chart_churn_risk(data.profiles, colours),
        "calibration": chart_calibration(data.calibration, data.prediction_run),
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


def read_report_data(
    db_path: str | Path,
    sample_size: int = SAMPLE_SIZE,
    min_audience_size: int = MIN_AUDIENCE_SIZE,
) -> ReportData:
    """Read the current run's tables from the published DuckDB file (read-only).

    Parameters
    ----------
    db_path : str or Path
        The published DuckDB file.
    sample_size : int, default=SAMPLE_SIZE
        Customers in the projection's sample, picked in the order of a hash of customer_id.
    min_audience_size : int, default=MIN_AUDIENCE_SIZE
        The audience limit of ``shopseg export`` (its ``--min-audience-size``; the published
        file does not hold shop_min_audience_size): segments with fewer exportable customers
        are marked.

    Returns
    -------
    ReportData
        The current run, its configuration and the frames the panels draw.

    Raises
    ------
    FileNotFoundError
        When there is no file at ``db_path``.
    ValueError
        When segmentation_runs has no current run.
    """
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
        tables = {
            r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()
        }
        # files published before the predictions existed have neither table
        calibration = (
            frame(
                "select decile, customers, predicted_share, observed_share "
                "from prediction_calibration order by decile"
            )
            if "prediction_calibration" in tables
            else pd.DataFrame(columns=["decile", "customers", "predicted_share", "observed_share"])
        )
        prediction_runs = (
            frame("select status, auc, brier, total_error, horizon_days from prediction_runs")
            if "prediction_runs" in tables
            else pd.DataFrame()
        )
        prediction_run = (
            {k: _plain(v) for k, v in prediction_runs.iloc[0].items()}
            if len(prediction_runs)
            else {}
        )
        # exportable as `shopseg export` counts a default (csv, no holdout) audience: the
        # consent filter applies once any customer has an accepts_marketing value
        segment_columns = {
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns "
                "where table_name = 'customer_segments'"
            ).fetchall()
        }
        audiences, consent_known = None, None
        if set(AUDIENCE_COLUMNS) <= segment_columns:
            consent_known = bool(
                con.execute(
                    "select count(accepts_marketing) > 0 from customer_segments"
                ).fetchone()[0]
            )
            consents = "coalesce(accepts_marketing, false)" if consent_known else "true"
            audiences = frame(
                "select segment_id, count(*) as customers, "
                f"count(*) filter (where {consents} and not is_holdout) as exportable "
                "from customer_segments group by 1 order by 1"
            )
        # files published before the segment history or the affinities lack those tables
        transitions = (
            frame(
                "select build_seq, run_id, as_of_at, from_segment_id, from_segment_name, "
                "to_segment_id, to_segment_name, customers from segment_transitions "
                "order by build_seq, from_segment_id nulls first, to_segment_id nulls first"
            )
            if "segment_transitions" in tables
            else None
        )
        affinity = (
            frame(
                "select segment_id, category, customers, customer_share, "
                "overall_customer_share, lift, pearson_residual, is_notable, affinity_rank "
                "from segment_category_affinity where run_id = ? order by segment_id, "
                "affinity_rank",
                [run_id],
            )
            if "segment_category_affinity" in tables
            else None
        )
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
                "select segment_id, segment_name, customers, customer_share, "
                "mean_p_no_order, at_risk_revenue, expected_revenue "
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
            calibration=calibration,
            prediction_run=prediction_run,
            audiences=audiences,
            consent_known=consent_known,
            min_audience_size=int(min_audience_size),
            transitions=transitions,
            affinity=affinity,
        )
    finally:
        con.close()


def write_report(
    db_path: str | Path, out: str | Path, min_audience_size: int = MIN_AUDIENCE_SIZE
) -> Path:
    """Read the published file and write the HTML report; return its path.

    Parameters
    ----------
    db_path : str or Path
        The published DuckDB file.
    out : str or Path
        The HTML file to write (UTF-8); its folder is created.
    min_audience_size : int, default=MIN_AUDIENCE_SIZE
        The audience limit the segment sizes are marked against (see ``read_report_data``).

    Returns
    -------
    Path
        ``out``.
    """
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = read_report_data(db_path, min_audience_size=min_audience_size)
    target.write_text(render_report(data), encoding="utf-8")
    return target
