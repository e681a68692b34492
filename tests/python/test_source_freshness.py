"""`dbt source freshness` reads the input as the build does (files on DuckDB) and is off
until its vars are set."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import run_dbt

pytestmark = pytest.mark.e2e


def write_orders(folder: Path, now: datetime) -> None:
    """Orders up to three hours old, and one dated 100 days ahead (a data error)."""
    folder.mkdir(parents=True)
    newest = now.replace(tzinfo=None) - timedelta(hours=3)
    con = duckdb.connect()
    con.execute(
        "create table orders as select 'o' || i as order_id, 'c' || i as customer_id,"
        " ? - i * interval 1 hour as ordered_at, 10.0 as order_total,"
        " null::double as discount_amount, 'paid' as status from range(5) as t(i)",
        [newest],
    )
    con.execute(
        "insert into orders values ('late', 'c9', ?, 5.0, null, 'paid')",
        [newest + timedelta(days=100)],
    )
    con.execute(f"copy orders to '{folder / 'orders.parquet'}'")
    con.close()


def test_freshness_is_off_by_default_and_reads_the_input_files(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    write_orders(tmp_path / "input", now)

    off = run_dbt(["source", "freshness"], tmp_path / "off", tmp_path / "input")
    assert off.ok, off.output[-3000:]
    assert "Nothing to do" in off.output

    on = run_dbt(
        ["source", "freshness"],
        tmp_path / "on",
        tmp_path / "input",
        {
            "shop_freshness_warn_after_hours": 2,
            "shop_freshness_error_after_hours": 72,
            "shop_using_events": False,
        },
    )
    assert on.ok, on.output[-3000:]  # a warning does not fail the command
    results = json.loads((on.target_path / "sources.json").read_text())["results"]
    # events are switched off, so only orders are checked
    assert [r["unique_id"] for r in results] == ["source.shopseg.shopseg.orders"]
    (orders,) = results
    assert orders["status"] == "warn"
    # the newest order three hours ago, not the row dated 100 days ahead
    age_hours = orders["max_loaded_at_time_ago_in_s"] / 3600
    assert 2.9 < age_hours < 4, age_hours
