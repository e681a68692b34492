"""Exposures: `dbt ls --select +exposure:...` names what a dashboard or an export depends on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_dbt

pytestmark = pytest.mark.e2e


def upstream(exposure: str, work: Path) -> set[str]:
    """Models upstream of an exposure, as dbt ls lists them."""
    result = run_dbt(
        [
            "ls",
            "--select",
            f"+exposure:{exposure}",
            "--resource-type",
            "model",
            "--output",
            "json",
            "--quiet",
        ],
        work,
        None,
    )
    assert result.ok, result.output[-3000:]
    return {json.loads(line)["name"] for line in result.output.splitlines() if line.startswith("{")}


def test_exposures_list_their_upstream_models(tmp_path: Path) -> None:
    campaign = upstream("campaign_export", tmp_path / "campaign")
    assert {
        "customer_segments",
        "segment_kmeans_assignments",
        "customer_features",
        "stg_shop__orders",
    } <= campaign
    assert "segment_rules" not in campaign and "published_tables" not in campaign
    dashboard = upstream("segment_dashboard", tmp_path / "dashboard")
    assert {"segment_profiles", "segment_rules", "segment_migration", "data_quality_issues"} <= (
        dashboard
    )
