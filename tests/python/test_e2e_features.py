"""Feature layer end to end: switched-off tables, as-of backtests, data-quality accounting, docs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import DbtResult, run_dbt

pytestmark = pytest.mark.e2e


def test_events_off_and_as_of_backtest(demo_dir: Path, tmp_path: Path) -> None:
    result = run_dbt(
        ["build"], tmp_path, demo_dir, {"shop_using_events": False, "shop_as_of": "2026-06-30"}
    )
    assert result.ok, result.output[-3000:]
    features = result.query(
        "select max(session_count) as sessions, max(product_view_count) as views,"
        " max(last_order_at) as last_order, max(as_of_at) as as_of from customer_features"
    ).iloc[0]
    assert features["sessions"] == 0 and features["views"] == 0
    assert str(features["as_of"]) == "2026-06-30 00:00:00"
    assert str(features["last_order"]) <= "2026-06-30"
    used = result.query("select features_used from segmentation_runs").iloc[0, 0]
    assert "session_count" not in json.loads(used)
    late = (
        duckdb.connect()
        .execute(
            f"select count(*) from read_parquet('{demo_dir}/orders.parquet')"
            " where ordered_at > timestamp '2026-06-30'"
        )
        .fetchone()[0]
    )
    counted = result.query(
        "select rows_affected from data_quality_issues"
        " where table_name = 'orders' and problem = 'ordered_at after the as-of time'"
    ).iloc[0, 0]
    assert late > 0 and counted == late


def test_every_model_and_column_is_documented(
    demo_build: DbtResult, demo_dir: Path, tmp_path: Path
) -> None:
    shutil.copy(demo_build.db_path, tmp_path / "shopseg.duckdb")
    docs = run_dbt(["docs", "generate"], tmp_path, demo_dir)
    assert docs.ok, docs.output[-3000:]
    manifest = json.loads((docs.target_path / "manifest.json").read_text())
    catalog = json.loads((docs.target_path / "catalog.json").read_text())
    missing = []
    for uid, node in manifest["nodes"].items():
        if node["resource_type"] not in ("model", "seed") or node["package_name"] != "shopseg":
            continue
        if not node["description"].strip():
            missing.append(uid)
        documented = {c for c, v in node["columns"].items() if v["description"].strip()}
        built = {c.lower() for c in catalog["nodes"].get(uid, {}).get("columns", {})}
        missing += [f"{uid}.{c}" for c in sorted(built - documented)]
    assert not missing, missing
