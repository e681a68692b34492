"""shopseg installed as a dbt package in a user's own project (integration_tests/).

The integration project installs shopseg with `packages: [{local: ../}]`, reads a
Shopify-shaped shop (numeric ids, ISO-8601 text times in local offsets, amounts as text,
financial_status words, customer columns under other names, events with time zones)
through its own staging models named in the shop_<table>_relation vars, and has the names
a real project has: models customer_segments, customer_features, data_quality_issues,
time_spine_daily, a source named `shop`, metrics named revenue and customers. Every build
here is a real `dbt deps` + `dbt build` in that project.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import DBT, PROJECT, DbtResult, run_in_work

pytestmark = pytest.mark.e2e

IT = PROJECT / "integration_tests"
sys.path.insert(0, str(IT))
import load_raw  # noqa: E402  (integration_tests/ is not a package)

CUSTOMERS = 600
QUICK = ["build", "--exclude-resource-type", "unit_test"]
COMPLETED_WORDS = {"paid", "partially_refunded"}  # the Shopify words shopseg maps to completed


def it_dbt(args: list[str], work: Path, dbt_vars: dict | None = None) -> DbtResult:
    """Run dbt in the integration project with its warehouse, target and logs in `work`."""
    env = os.environ | {
        "DBT_PROFILES_DIR": str(IT),
        "SHOPSEG_IT_DUCKDB_PATH": str(work / "it.duckdb"),
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_LOG_LEVEL_FILE": "info",  # as conftest.dbt_env
    }
    cmd = [DBT, *args] + (["--vars", json.dumps(dbt_vars)] if dbt_vars else [])
    env["DBT_PROJECT_DIR"] = str(IT)
    return run_in_work(cmd, work, env, "it.duckdb", dbt_vars, db_var="SHOPSEG_IT_DUCKDB_PATH")


def on_a_copy(build: DbtResult, work: Path, args: list[str], dbt_vars: dict) -> DbtResult:
    """Run dbt on a copy of a built warehouse (the raw tables are in it too)."""
    work.mkdir(parents=True, exist_ok=True)
    shutil.copy(build.db_path, work / "it.duckdb")
    return it_dbt(args, work, dbt_vars)


def query(result: DbtResult, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(result.db_path), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


@pytest.fixture(scope="module")
def raw() -> dict[str, pd.DataFrame]:
    return load_raw.shopify_tables(CUSTOMERS)


@pytest.fixture(scope="module")
def deps(tmp_path_factory: pytest.TempPathFactory) -> None:
    """`dbt deps` once: a local package needs no network."""
    result = it_dbt(["deps"], tmp_path_factory.mktemp("it_deps"))
    assert result.ok, result.output[-3000:]
    assert (IT / "dbt_packages" / "shopseg" / "dbt_project.yml").exists()


def build(work: Path, raw: dict[str, pd.DataFrame], args=("build",), dbt_vars=None) -> DbtResult:
    load_raw.load(work / "it.duckdb", raw)
    return it_dbt(list(args), work, dbt_vars)


@pytest.fixture(scope="module")
def default_build(tmp_path_factory, raw, deps) -> DbtResult:
    result = build(tmp_path_factory.mktemp("it_default"), raw)
    assert result.ok, result.output[-5000:]
    return result


def expected_customers(raw: dict[str, pd.DataFrame], tables: set[str]) -> set[str]:
    """Every customer id of the raw tables shopseg reads, as text."""
    ids = set(raw["orders"]["customer_id"].dropna().astype("int64").astype(str))
    if "customers" in tables:
        ids |= set(raw["customers"]["id"].astype(str))
    if "events" in tables:
        ids |= set(raw["events"]["user_id"].dropna().astype("int64").astype(str))
    return ids


def expected_revenue(raw: dict[str, pd.DataFrame]) -> dict[str, Decimal]:
    """Revenue per customer from the raw orders: the total_price of completed orders."""
    orders = raw["orders"][raw["orders"]["financial_status"].isin(COMPLETED_WORDS)]
    revenue: dict[str, Decimal] = {}
    for customer, total in zip(orders["customer_id"], orders["total_price"], strict=True):
        key = str(int(customer))
        revenue[key] = revenue.get(key, Decimal("0")) + Decimal(total)
    return revenue


def assert_segmented_once_with_revenue(result: DbtResult, raw, tables: set[str]) -> None:
    segments = query(result, "select customer_id from main_shopseg.customer_segments")
    assert segments["customer_id"].is_unique
    assert set(segments["customer_id"]) == expected_customers(raw, tables)
    features = query(result, "select customer_id, monetary from main_shopseg.customer_features")
    want = expected_revenue(raw)
    got = {
        c: Decimal(str(m))
        for c, m in zip(features["customer_id"], features["monetary"], strict=True)
    }
    wrong = {c: (got[c], want.get(c, Decimal(0))) for c in got if got[c] != want.get(c, 0)}
    assert not wrong, list(wrong.items())[:5]


def test_package_builds_in_a_users_project(default_build: DbtResult, raw) -> None:
    assert_segmented_once_with_revenue(default_build, raw, {"customers", "events"})


def test_times_with_offsets_are_read_in_utc(default_build: DbtResult, raw) -> None:
    """first_order_at equals the raw ISO-8601 text converted to UTC by Python."""
    orders = raw["orders"][raw["orders"]["financial_status"].isin(COMPLETED_WORDS)]
    utc = [
        dt.datetime.fromisoformat(text).astimezone(dt.UTC).replace(tzinfo=None)
        for text in orders["created_at"]
    ]
    want = pd.Series(utc).groupby(orders["customer_id"].astype(str).to_numpy()).min()
    got = query(
        default_build,
        "select customer_id, first_order_at from main_shopseg.customer_features "
        "where first_order_at is not null",
    ).set_index("customer_id")["first_order_at"]
    assert len(got) == len(want)
    assert (got.sort_index() == want.sort_index()).all()


def test_names_of_the_users_project_do_not_clash(default_build: DbtResult) -> None:
    # the project's own models are untouched, and shopseg's marts are in their own schema
    for model in ("customer_segments", "customer_features", "data_quality_issues"):
        owner = query(default_build, f"select owner from main.{model}")["owner"]
        assert list(owner) == ["not shopseg"], model
    manifest = json.loads((default_build.target_path / "manifest.json").read_text())
    metrics = {m["name"]: m["package_name"] for m in manifest["metrics"].values()}
    assert metrics["revenue"] == "shopseg_integration_tests"
    assert metrics["shopseg_revenue"] == "shopseg"
    # shopseg's models read only shopseg's nodes and the user's relations named in the vars
    users = {
        f"model.shopseg_integration_tests.{name}"
        for name in ("stg_shopify__orders", "stg_shopify__customers", "stg_shopify__order_lines")
        + ("stg_shopify__products", "stg_web__events")
    } | {"seed.shopseg_integration_tests.my_segment_names"}
    for node in manifest["nodes"].values():
        if node["package_name"] != "shopseg" or node["resource_type"] != "model":
            continue
        for parent in node["depends_on"]["nodes"]:
            assert parent.split(".")[1] == "shopseg" or parent in users, (node["name"], parent)
    # the lookup replaced from the project's own seed, and nothing published
    names = query(default_build, "select distinct segment_name from main_shopseg.customer_segments")
    assert "Our first segment" in set(names["segment_name"])
    enabled = [k for k, node in manifest["nodes"].items() if node["config"]["enabled"]]
    assert not [k for k in enabled if "published" in k]
    assert not list(default_build.db_path.parent.glob("*published*"))


def test_users_models_are_upstream_in_the_dag(default_build: DbtResult) -> None:
    listed = it_dbt(
        ["ls", "--select", "+shopseg.marts.customer_segments", "--resource-type", "model"],
        default_build.db_path.parent / "ls",
    )
    assert listed.ok, listed.output[-2000:]
    for model in ("stg_shopify__orders", "stg_shopify__customers", "stg_web__events"):
        assert f"shopseg_integration_tests.shopify.{model}" in listed.output


def test_the_optional_tables_switched_off(raw, deps, tmp_path: Path) -> None:
    # the three switches in one build (each takes its own path through the models); the
    # default build has all three on
    off = {f"shop_using_{table}": False for table in ("customers", "order_items", "events")}
    result = build(tmp_path, raw, QUICK, off)
    assert result.ok, result.output[-5000:]
    assert_segmented_once_with_revenue(result, raw, set())


def test_a_row_of_the_users_model_changes_the_segments(
    default_build: DbtResult, raw, tmp_path: Path
) -> None:
    """The lineage is real: one order of the user's staging model, x100, moves its customer."""
    before = query(
        default_build,
        "select s.customer_id, s.segment_id, s.centroid_distance, f.monetary "
        "from main_shopseg.customer_segments as s join main_shopseg.customer_features as f "
        "using (customer_id) where f.order_count = 1 order by f.monetary, s.customer_id limit 1",
    ).iloc[0]
    orders = raw["orders"]
    order = orders[orders["customer_id"].astype(str) == before["customer_id"]]
    order = order[order["financial_status"].isin(COMPLETED_WORDS)].iloc[0]
    again = on_a_copy(default_build, tmp_path, QUICK, {"it_bumped_order_id": int(order["id"])})
    assert again.ok, again.output[-5000:]
    after = query(
        again,
        "select s.segment_id, s.centroid_distance, f.monetary "
        "from main_shopseg.customer_segments as s join main_shopseg.customer_features as f "
        f"using (customer_id) where customer_id = '{before['customer_id']}'",
    ).iloc[0]
    assert Decimal(str(after["monetary"])) == Decimal(order["total_price"]) * 100
    assert (after["segment_id"], after["centroid_distance"]) != (
        before["segment_id"],
        before["centroid_distance"],
    )


def test_missing_user_columns_fail_with_one_line(default_build: DbtResult, tmp_path: Path) -> None:
    result = on_a_copy(
        default_build,
        tmp_path,
        ["compile", "--select", "shopseg.staging.shop.stg_shop__orders"],
        {"shop_orders_relation": "raw_shopify.orders"},
    )
    assert not result.ok
    line = (
        "shopseg: input orders (shop_orders_relation = raw_shopify.orders): required columns "
        "order_id, ordered_at, order_total are missing (columns found: id, customer_id, "
        "created_at, total_price, total_discounts, financial_status)"
    )
    assert line in result.output, result.output[-3000:]
    assert "Traceback" not in result.output


def test_library_and_package_versions_must_match(default_build: DbtResult, tmp_path: Path) -> None:
    result = on_a_copy(
        default_build,
        tmp_path,
        ["run", "--select", "shopseg.segmentation.segment_kmeans_fit"],
        {"shopseg_package_version": "9.9.9"},
    )
    assert not result.ok
    from shopseg import __version__

    assert (
        f"shopseg: the shopseg dbt package is version 9.9.9 but the installed Python library "
        f"shopseg is {__version__}: install the library the package ships with"
    ) in result.output, result.output[-3000:]
