"""Static HTML segment report: inline SVG charts and CSS, no script, no external file.

The modules, from the bottom up: `svg` (escaping, number formats, ticks, colours, SVG
elements, legends), `plots` (line, bar, stacked bar, heatmap, scatter and flow plots),
`projection` (the PCA of a customer sample), `charts` (the report's twelve panels) and
`page` (reading the published file, the page around the panels, writing it).
"""

from shopseg.report.charts import (
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
from shopseg.report.page import (
    CHART_IDS,
    SAMPLE_SIZE,
    ReportData,
    read_report_data,
    render_report,
    write_report,
)
from shopseg.report.projection import Projection, project_sample
from shopseg.report.svg import LIFECYCLE_COLOURS, PALETTE, UNKNOWN_COLOUR

__all__ = [
    "CHART_IDS",
    "LIFECYCLE_COLOURS",
    "PALETTE",
    "SAMPLE_SIZE",
    "UNKNOWN_COLOUR",
    "Projection",
    "ReportData",
    "chart_calibration",
    "chart_category_affinity",
    "chart_churn_risk",
    "chart_feature_importance",
    "chart_k_selection",
    "chart_lifecycle",
    "chart_migration",
    "chart_profile_heatmap",
    "chart_projection",
    "chart_segment_flow",
    "chart_segment_rules",
    "chart_segment_sizes",
    "project_sample",
    "read_report_data",
    "render_report",
    "write_report",
]
