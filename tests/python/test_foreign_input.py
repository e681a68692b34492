"""Input from other platforms and a little hostility: never a wrong green build.

Each case is a real `dbt build` (or a compile where the case stops before any model runs)
of the standalone project on a small generated shop. Either the build succeeds with the
correct result and the problem counted in data_quality_issues, or it fails with one line
naming the table, the column and the problem, and nothing is published.
"""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import DbtResult, run_dbt
from test_bad_input import BUILD, VARS, assert_fails_with, base_tables, issues, write_parquet

from shopseg.export import email_sha256

pytestmark = pytest.mark.e2e

WORDS = {"completed": ["paid", "Shipped", "fulfilled"], "returned": ["refunded"]}
WORDS["cancelled"] = ["voided", "canceled"]
FAR_FUTURE = pd.Timestamp("2999-01-01 00:00:00")
CONSENT_WORDS = ["true", "False", None, " yes", "No", "1", "0", "maybe", "T", "n", ""]
CONSENT = {"true": True, "t": True, "yes": True, "y": True, "1": True}
CONSENT |= {"false": False, "f": False, "no": False, "n": False, "0": False}
EMAILS = [" Ann@Example.COM ", "bob@example.com", "", None, "Ünïcode.Ä@Example.de", "x@y.z  "]


def foreign_tables() -> tuple[dict[str, pd.DataFrame], dict]:
    """The demo shop as other platforms export it; returns the tables and what to expect."""
    t = base_tables()
    orders, events = t["orders"], t["events"]
    # status words of Shopify, WooCommerce and Magento, a few pending and unknown ones
    words = []
    for i, status in enumerate(orders["status"]):
        choices = WORDS.get(status if isinstance(status, str) else "completed")
        words.append(choices[i % len(choices)])
    orders["status"] = words
    orders.loc[orders.index[:3], "status"] = "pending"
    orders.loc[orders.index[3:5], "status"] = "frobnicated"  # 2 of ~1,150: below 1%
    # float-looking ids in orders (625.0), integers elsewhere: one customer, no phantom guests
    orders["customer_id"] = orders["customer_id"].astype(float)
    regular_max = max(orders["ordered_at"].max(), events["occurred_at"].max())
    known = t["customers"]["customer_id"].iloc[0]
    future = orders.iloc[[10]].assign(order_id="9999999", ordered_at=FAR_FUTURE, status="paid")
    future["customer_id"] = float(known)
    t["orders"] = pd.concat([orders, future], ignore_index=True)
    # event times as text with ISO-8601 offsets, and one unreadable cell
    offsets = ["+05:00", "Z", " +0100", "-0330"]
    deltas = [pd.Timedelta(hours=5), pd.Timedelta(0), pd.Timedelta(hours=1)]
    deltas.append(-pd.Timedelta(hours=3, minutes=30))
    texts = []
    for i, at in enumerate(events["occurred_at"]):
        k = i % len(offsets)
        texts.append((at + deltas[k]).strftime("%Y-%m-%dT%H:%M:%S") + offsets[k])
    events = events.assign(occurred_at=texts)
    events.loc[events.index[7], "occurred_at"] = "sometime last week"
    future_event = events.iloc[[0]].assign(event_id="ev-future", occurred_at="2999-01-01 00:00:00Z")
    t["events"] = pd.concat([events, future_event], ignore_index=True)
    # consent words and email addresses as shops write them; "maybe" is no yes or no
    customers = t["customers"]
    n = len(customers)
    customers["accepts_marketing"] = [CONSENT_WORDS[i % len(CONSENT_WORDS)] for i in range(n)]
    customers["email"] = [EMAILS[i % len(EMAILS)] for i in range(n)]
    # a customer listed twice, tied on sign-up, birth year and country, other attributes
    # differing: the copy kept must not depend on row order
    twin = t["customers"].iloc[[5]].assign(gender="f", income=12345.0, acquisition_channel="tv")
    t["customers"] = pd.concat([t["customers"], twin], ignore_index=True)
    o = t["orders"]
    completed = o[o["status"].isin(WORDS["completed"]) & (o["ordered_at"] <= regular_max)]
    revenue = {}
    for cid, total in zip(completed["customer_id"], completed["order_total"], strict=True):
        key = str(int(cid))
        revenue[key] = revenue.get(key, Decimal(0)) + Decimal(str(round(total, 2)))
    expect = {
        "as_of": regular_max,
        "revenue": revenue,
        "customers": {str(int(c)) for c in o["customer_id"]}
        | set(t["customers"]["customer_id"])
        | set(events["customer_id"].dropna()),
        "utc_of_event_1": pd.Timestamp(base_tables()["events"]["occurred_at"].iloc[1]),
        "contacts": t["customers"][["customer_id", "accepts_marketing", "email"]],
    }
    return t, expect


def write_foreign_shop(folder: Path, reverse: bool = False) -> dict:
    """The foreign shop in a folder named like a glob pattern, beside a folder it matches."""
    tables, expect = foreign_tables()
    if reverse:  # the same rows in the opposite order
        tables = {name: frame.iloc[::-1].reset_index(drop=True) for name, frame in tables.items()}
    base = folder / "shop[1]"
    # shop1 matches the pattern shop[1]: a glob would read this other shop instead
    other = base_tables()
    write_parquet(other["orders"].assign(order_total=1.0), folder / "shop1" / "orders.parquet")
    orders = tables["orders"]
    # order times as TIMESTAMP WITH TIME ZONE (UTC instants), as Parquet from pandas has them
    utc = pa.array(orders["ordered_at"].dt.tz_localize("UTC"), type=pa.timestamp("us", tz="UTC"))
    frame = pa.Table.from_pandas(orders.drop(columns=["ordered_at"]), preserve_index=False)
    base.mkdir(parents=True)
    pq.write_table(frame.append_column("ordered_at", utc), base / "orders.parquet")
    (base / "orders.csv").write_text("this file is ignored: the Parquet one is read\n")
    write_parquet(tables["customers"], base / "customers.PARQUET")
    for name in ("events", "order_items", "products"):
        write_parquet(tables[name], base / f"{name}.parquet")
    return expect | {"input": base}


def checksums(db: Path) -> dict[str, str]:
    """md5 of every published table's rows in a fixed order."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [t for (t,) in con.execute("show tables").fetchall()]
        return {
            t: hashlib.md5(
                con.execute(f'select * from "{t}" order by all').df().to_csv(index=False).encode()
            ).hexdigest()
            for t in tables
        }
    finally:
        con.close()


def published(result: DbtResult) -> Path:
    return result.db_path.with_name(result.db_path.stem + "_published.duckdb")


@pytest.fixture(scope="module")
def foreign(tmp_path_factory: pytest.TempPathFactory) -> tuple[DbtResult, dict]:
    folder = tmp_path_factory.mktemp("foreign")
    expect = write_foreign_shop(folder)
    result = run_dbt(BUILD, folder / "work", expect["input"], VARS, env={"TZ": "UTC"})
    return result, expect


def test_foreign_shop_is_read_correctly(foreign) -> None:
    result, expect = foreign
    assert result.ok, result.output[-5000:]
    seg = result.query("select customer_id from customer_segments")
    assert seg["customer_id"].is_unique
    assert set(seg["customer_id"]) == expect["customers"]  # 625.0 is 625: no phantom guests
    features = result.query("select customer_id, monetary from customer_features")
    got = {
        c: Decimal(str(m))
        for c, m in zip(features["customer_id"], features["monetary"], strict=True)
    }
    assert {c: v for c, v in got.items() if v} == {c: v for c, v in expect["revenue"].items() if v}
    as_of = result.query("select as_of_at from segmentation_runs where is_current")["as_of_at"]
    assert pd.Timestamp(as_of.iloc[0]) == expect["as_of"]  # not 2999
    found = issues(result)
    assert found[("orders", "status word not in shop_status_map")] == 2
    assert found[("orders", "status pending (not paid yet)")] == 3
    future = "in the future (after the build start + shop_future_tolerance_hours)"
    assert found[("orders", f"ordered_at {future}")] == 1
    assert found[("events", f"occurred_at {future}")] == 1
    assert found[("events", "occurred_at missing or not a timestamp")] == 1
    # consent read from its words (an unknown word is unknown consent, counted), the email
    # kept only as the hash of the trimmed, lower-cased address
    contacts = expect["contacts"]
    words = contacts["accepts_marketing"].fillna("").str.strip().str.lower()
    assert (
        found[("customers", "accepts_marketing not a yes or no word")] == (words == "maybe").sum()
    )
    got = result.query(
        "select customer_id, accepts_marketing, email_sha256 from customer_segments"
    ).set_index("customer_id")
    for row, word in zip(contacts.itertuples(), words, strict=True):
        digest = got.loc[row.customer_id, "email_sha256"]
        want = email_sha256(None if pd.isna(row.email) else row.email)
        assert (None if pd.isna(digest) else digest) == want, row
        consent = got.loc[row.customer_id, "accepts_marketing"]
        assert (None if pd.isna(consent) else bool(consent)) == CONSENT.get(word), row
    columns = result.query("select column_name from information_schema.columns")
    assert "email" not in set(columns["column_name"])  # the address is in no relation
    lines = result.output
    assert "reading customers.PARQUET as the customers table" in lines
    assert "reading orders.parquet, ignoring the CSV" in lines
    assert re.search(r"2 orders have status words shop_status_map does not map", lines)


def test_offsets_are_applied_even_beside_unreadable_cells(foreign) -> None:
    result, expect = foreign
    assert result.ok, result.output[-5000:]
    at = result.query("select occurred_at from stg_shop__events where event_id = '2'")
    assert pd.Timestamp(at["occurred_at"].iloc[0]) == expect["utc_of_event_1"]  # 'Z'
    times = result.query(
        "select min(occurred_at) as lo, max(occurred_at) as hi from stg_shop__events "
        "where event_id <> 'ev-future'"
    ).iloc[0]
    base = base_tables()["events"]["occurred_at"]
    assert pd.Timestamp(times["lo"]) == base.min() and pd.Timestamp(times["hi"]) == base.max()


def test_same_bytes_whatever_the_time_zone_and_row_order(foreign, tmp_path: Path) -> None:
    # one build with both changed: the rows in reverse order, read on a machine at UTC+14
    result, expect = foreign
    assert result.ok, result.output[-5000:]
    reversed_input = write_foreign_shop(tmp_path / "reversed", reverse=True)["input"]
    again = run_dbt(
        BUILD, tmp_path / "rows", reversed_input, VARS, env={"TZ": "Pacific/Kiritimati"}
    )
    assert again.ok, again.output[-5000:]
    assert checksums(published(again)) == checksums(published(result))


def test_unknown_status_words_above_the_share_stop_the_build(tmp_path: Path) -> None:
    tables, _ = foreign_tables()
    tables["orders"]["status"] = "frobnicated"
    for name, frame in tables.items():
        write_parquet(frame, tmp_path / "input" / f"{name}.parquet")
    result = run_dbt(BUILD, tmp_path / "work", tmp_path / "input", VARS)
    total = len(tables["orders"])
    assert_fails_with(
        result,
        [
            r"shopseg: input orders: column status has words shop_status_map does not map: "
            rf"'frobnicated' \({total}\), {total} of {total} orders \(100\.0%, above "
            r"shop_max_unmapped_status_share = 0\.01\): map each to completed, cancelled, "
            r"returned or pending with the var shop_status_map, e\.g\. \{frobnicated: completed\}"
        ],
    )
    assert not published(result).exists()
    # mapped with the var, the same shop builds; shop_refit false on an empty store says
    # what it chose (a first fit)
    mapped_vars = VARS | {"shop_status_map": {"Frobnicated": "completed"}, "shop_refit": False}
    mapped = run_dbt(BUILD, tmp_path / "mapped", tmp_path / "input", mapped_vars)
    assert mapped.ok, mapped.output[-3000:]
    assert "shop_refit is false but no model is stored yet: fitting the first one" in mapped.output


def compile_staging(tmp_path: Path, make, table: str = "orders", dbt_vars=None) -> DbtResult:
    """Write a shop with `make(folder)` and compile one staging model of it."""
    folder = tmp_path / "input"
    folder.mkdir()
    make(folder)
    return run_dbt(
        ["compile", "--select", f"stg_shop__{table}"], tmp_path / "work", folder, dbt_vars
    )


def write_all(folder: Path, tables: dict[str, pd.DataFrame]) -> None:
    for name, frame in tables.items():
        write_parquet(frame, folder / f"{name}.parquet")


@pytest.mark.parametrize(
    ("case", "pattern"),
    [
        (
            "empty",
            r"shopseg: input orders\.parquet: the file is empty \(0 bytes\): write the table "
            r"again or remove the file",
        ),
        (
            "truncated",
            r"shopseg: input orders\.parquet: not a Parquet file or truncated \(\d+ bytes, no PAR1 "
            r"marker at its start and end\): write the table again",
        ),
        (
            "case_duplicates",
            r"shopseg: input orders\.parquet: columns 'customer_id' and 'Customer_ID' both read as "
            r"customer_id \(names are matched without regard to case\): rename or drop one",
        ),
        (
            "nested",
            r"shopseg: input orders\.parquet: column order_id holds nested values \(type "
            r"BIGINT\[\]\): give it plain values",
        ),
        (
            "two_missing",
            r"shopseg: input orders\.parquet: required columns ordered_at, order_total are missing "
            r"\(columns found: order_id, customer_id, discount_amount, status\)",
        ),
    ],
)
def test_unreadable_orders_fail_with_one_line(case: str, pattern: str, tmp_path: Path) -> None:
    def make(folder: Path) -> None:
        tables = base_tables()
        write_all(folder, tables)
        orders = tables["orders"]
        path = folder / "orders.parquet"
        if case == "empty":
            path.write_bytes(b"")
        elif case == "truncated":
            path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        elif case == "case_duplicates":
            write_parquet(orders.assign(Customer_ID=orders["customer_id"]), path)
        elif case == "nested":
            frame = pa.Table.from_pandas(orders.drop(columns=["order_id"]), preserve_index=False)
            lists = pa.array([[i] for i in range(len(orders))], type=pa.list_(pa.int64()))
            pq.write_table(frame.append_column("order_id", lists), path)
        elif case == "two_missing":
            write_parquet(orders.drop(columns=["ordered_at", "order_total"]), path)

    result = compile_staging(tmp_path, make)
    assert_fails_with(result, [pattern])
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("as_of", "pattern"),
    [
        ("2025-02-30", r"shopseg: var shop_as_of = '2025-02-30' is not a calendar date or time"),
        (
            "2998-01-01",
            r"shopseg: var shop_as_of = '2998-01-01' is after the build's start \(.* UTC\): "
            r"features are computed as of a time that has happened",
        ),
    ],
)
def test_impossible_as_of_times_fail_with_one_line(
    as_of: str, pattern: str, tmp_path: Path
) -> None:
    folder = tmp_path / "input"
    folder.mkdir()
    write_all(folder, base_tables())
    result = run_dbt(
        ["compile", "--select", "int_shop__as_of"], tmp_path / "work", folder, {"shop_as_of": as_of}
    )
    assert_fails_with(result, [pattern])
