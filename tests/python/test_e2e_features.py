"""Feature layer end to end: switched-off tables, as-of backtests, data-quality accounting, docs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import DbtResult, copy_input, run_dbt

pytestmark = pytest.mark.e2e


# customers whose order lines lose their unit price in the optional-columns shop
UNPRICED_CUSTOMERS = 25
DAYPARTS = ["night", "morning", "afternoon", "evening"]


def with_brands_and_list_prices(demo_dir: Path, out: Path) -> Path:
    """The demo shop with the optional products.brand and products.price, and the order
    lines of UNPRICED_CUSTOMERS customers without unit prices."""
    copy_input(demo_dir, out, ["orders", "customers", "events"])
    con = duckdb.connect()
    con.execute(
        f"copy (select products.*, 'brand ' || cast(products.product_id % 7 as varchar) as brand,"
        f" (select median(unit_price) from read_parquet('{demo_dir}/order_items.parquet') as i"
        f" where i.product_id = products.product_id) as price"
        f" from read_parquet('{demo_dir}/products.parquet') as products)"
        f" to '{out}/products.parquet' (format parquet)"
    )
    con.execute(
        f"copy (select items.order_id, items.product_id, items.quantity,"
        f" case when orders.customer_id in (select distinct customer_id"
        f" from read_parquet('{demo_dir}/orders.parquet') order by customer_id"
        f" limit {UNPRICED_CUSTOMERS}) then null else items.unit_price end as unit_price"
        f" from read_parquet('{demo_dir}/order_items.parquet') as items"
        f" inner join read_parquet('{demo_dir}/orders.parquet') as orders"
        f" on items.order_id = orders.order_id) to '{out}/order_items.parquet' (format parquet)"
    )
    return out


def test_events_off_and_as_of_backtest(demo_dir: Path, tmp_path: Path) -> None:
    shop = with_brands_and_list_prices(demo_dir, tmp_path / "input")
    result = run_dbt(
        ["build"], tmp_path, shop, {"shop_using_events": False, "shop_as_of": "2026-06-30"}
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
    # without events the habits are timed by the orders; searches and devices are null
    habits = result.query(
        "select count(*) filter (where order_count > 0) as buyers,"
        " count(*) filter (where order_count > 0 and night_activity_share is null) as untimed,"
        f" max(abs({' + '.join(f'{p}_activity_share' for p in DAYPARTS)} - 1)) as off_one,"
        " count(search_session_share) + count(mobile_event_share) + count(top_device)"
        " as from_events from customer_features"
    ).iloc[0]
    assert habits["buyers"] > 0 and habits["untimed"] == 0
    assert habits["off_one"] < 1e-9 and habits["from_events"] == 0
    # the optional products.brand and products.price are read: every product has a brand,
    # so brand loyalty is known exactly where item spend is; customers whose lines have no
    # unit price get their price position from the list prices
    loyalty = result.query(
        "select count(*) filter (where (top_brand_spend_share is null)"
        " <> (favourite_category_share is null)) as brand_mismatch,"
        " count(top_brand_spend_share) as branded, min(top_brand_spend_share) as low,"
        " max(top_brand_spend_share) as high,"
        " count(*) filter (where favourite_category_share is null and order_count > 0"
        " and price_position_index is not null) as listed_only"
        " from customer_features"
    ).iloc[0]
    assert loyalty["brand_mismatch"] == 0 and loyalty["branded"] > 1000
    assert 0 < loyalty["low"] < 1 and loyalty["high"] == 1
    assert 0 < loyalty["listed_only"] <= UNPRICED_CUSTOMERS


def test_optional_columns_absent_read_as_null(demo_build: DbtResult) -> None:
    """The demo shop has no products.brand, products.price or events.device: their
    features are null for everyone, the others are filled, and none is segmented on."""
    features = demo_build.query(
        "select count(top_brand_spend_share) + count(mobile_event_share) + count(top_device)"
        " as from_absent_columns,"
        " count(*) filter (where session_count > 0 and search_session_share is null)"
        " as sessions_without_share,"
        " count(*) filter (where session_count > 0 and night_activity_share is null)"
        " as untimed_visitors,"
        f" max(abs({' + '.join(f'{p}_activity_share' for p in DAYPARTS)} - 1)) as off_one,"
        " count(repeat_product_share) as repeaters,"
        " count(*) filter (where repeat_product_share not between 0 and 1) as out_of_range"
        " from customer_features"
    ).iloc[0]
    assert features["from_absent_columns"] == 0
    assert features["sessions_without_share"] == 0 and features["untimed_visitors"] == 0
    assert features["off_one"] < 1e-9
    assert features["repeaters"] > 1000 and features["out_of_range"] == 0
    used = json.loads(demo_build.query("select features_used from segmentation_runs").iloc[0, 0])
    new = {f"{p}_activity_share" for p in [*DAYPARTS, "weekend"]} | {
        "search_session_share",
        "repeat_product_share",
        "top_brand_spend_share",
        "mobile_event_share",
    }
    assert not new & set(used), used


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
