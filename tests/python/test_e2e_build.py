"""End to end: real `dbt build` runs on DuckDB files, checked through the published tables."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from conftest import DbtResult, copy_input, run_dbt

from shopseg.export import HOLDOUT_SHARE, holdout_flags

pytestmark = pytest.mark.e2e


def input_customers(input_dir: Path) -> set[str]:
    """Every customer id of an input folder, as text, read without dbt."""
    con = duckdb.connect()
    ids: set[str] = set()
    for name in ("customers", "orders", "events"):
        path = input_dir / f"{name}.parquet"
        if path.exists():
            rows = con.execute(
                f"select distinct cast(customer_id as varchar) from read_parquet('{path}') "
                "where customer_id is not null"
            ).fetchall()
            ids |= {r[0] for r in rows}
    return ids


def test_demo_build_segments_every_customer_once(demo_build: DbtResult, demo_dir: Path) -> None:
    segments = demo_build.query("select customer_id from customer_segments")
    assert segments["customer_id"].is_unique
    assert set(segments["customer_id"]) == input_customers(demo_dir)


def test_demo_run_is_recorded(demo_build: DbtResult) -> None:
    runs = demo_build.query("select * from segmentation_runs")
    assert len(runs) == 1
    run = runs.iloc[0]
    assert 3 <= run["k"] <= 8
    assert run["silhouette"] > 0.15
    sweep = demo_build.query("select * from segment_k_selection order by k")
    assert list(sweep["k"]) == list(range(3, 9))
    assert int(sweep.loc[sweep["is_chosen"], "k"].iloc[0]) == run["k"]
    names = demo_build.query("select distinct segment_id, segment_name from customer_segments")
    assert names["segment_name"].is_unique and len(names) == run["k"]


def test_demo_holdout_group_is_the_salted_hash_and_no_mart_keeps_emails(
    demo_build: DbtResult,
) -> None:
    segments = demo_build.query("select customer_id, segment_id, is_holdout from customer_segments")
    # the SQL's flags are the library's rule (md5 of salt and id) for every customer
    assert list(segments["is_holdout"]) == list(holdout_flags(segments["customer_id"]))
    assert abs(segments["is_holdout"].mean() - HOLDOUT_SHARE) <= 0.01
    for segment_id, group in segments.groupby("segment_id"):
        spread = 3 * (HOLDOUT_SHARE * (1 - HOLDOUT_SHARE) / len(group)) ** 0.5
        assert abs(group["is_holdout"].mean() - HOLDOUT_SHARE) <= spread, segment_id
    # only the hash of the optional customers.email exists, in no relation the address
    columns = demo_build.query("select table_name, column_name from information_schema.columns")
    assert "email" not in set(columns["column_name"])
    hashed = set(columns.loc[columns["column_name"] == "email_sha256", "table_name"])
    assert {"stg_shop__customers", "customer_segments"} <= hashed
    manifest = json.loads((demo_build.target_path / "manifest.json").read_text())
    declared = {
        node_id
        for node_id, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "snapshot", "seed") and "email" in node["columns"]
    }
    assert declared == set()


def test_orders_only_folder_builds_and_segments_everyone(
    demo_build: DbtResult, demo_dir: Path, tmp_path: Path
) -> None:
    only_orders = copy_input(demo_dir, tmp_path / "input", ["orders"])
    result = run_dbt(["build"], tmp_path / "work", only_orders)
    assert result.ok, result.output[-3000:]
    segments = result.query("select customer_id from customer_segments")
    assert segments["customer_id"].is_unique
    assert set(segments["customer_id"]) == input_customers(only_orders)
    used = result.query("select features_used from segmentation_runs")["features_used"].iloc[0]
    assert "session_count" not in used and "age" not in used
    # another input, another fit: every customer keeps the holdout flag the demo build gave
    flags = "select customer_id, is_holdout from customer_segments"
    both = result.query(flags).merge(demo_build.query(flags), on="customer_id")
    assert len(both) == len(segments)
    assert (both["is_holdout_x"] == both["is_holdout_y"]).all()
