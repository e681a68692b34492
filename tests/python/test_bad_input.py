"""Bad input: every case a real `dbt build` on a small generated shop.

The outcome is asserted: either the build succeeds, every input customer is segmented
exactly once and the problem is counted in data_quality_issues, or the build fails with
one line naming the table, the column and the problem. Cases that cannot interfere share
a build (a dirty shop, a CSV shop, a broken shop); degenerate shops get one each. The
README section "Bad input: what happens" lists every case with its outcome.

The builds leave out two things that do not read the input: dbt unit tests (fixed
inputs, run by the demo builds) and the segment classifier's quality floors, which judge
how learnable 300-customer segmentations are, not how input is handled.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import DbtResult, run_dbt

from shopseg import demo
from shopseg.config import SegmentConfig
from shopseg.kmeans import align_to_previous, fit_segments, score_segments
from shopseg.params import model_from_params, model_to_params

BUILD = ["build", "--exclude-resource-type", "unit_test"]
VARS = {"shop_min_classifier_f1": 0, "shop_min_rule_fidelity": 0}
UNICODE_ID = "Ünïcødé-客户-🛒"
LONG_ID = "long-" + "ø" * 290 + "-0300"  # 300 characters
LATE = pd.Timestamp("2026-09-01 12:00:00")  # after every demo row


# --- writing input shops ----------------------------------------------------------------


def base_tables() -> dict[str, pd.DataFrame]:
    """The demo shop (300 customers) with text ids and plain text columns."""
    tables = demo.generate(customers=300)
    tables.pop("personas")
    for frame in tables.values():
        for column in frame.columns:
            if column in ("customer_id", "order_id", "product_id", "event_id"):
                ids = frame[column].astype("Int64").astype("string")
                frame[column] = ids.astype(object).where(ids.notna(), None)
            elif isinstance(frame[column].dtype, pd.CategoricalDtype):
                frame[column] = frame[column].astype(object)
    return tables


def write_parquet(frame: pd.DataFrame, path: Path, keep_nan: tuple[str, ...] = ()) -> None:
    """A frame as Parquet, NaN as null (all-null columns as text) except in `keep_nan`
    columns (floats or None), where NaN stays a NaN value."""
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = {}
    for name in frame.columns:
        values = frame[name]
        if name in keep_nan:
            columns[name] = pa.array(values.tolist(), type=pa.float64(), from_pandas=False)
        else:
            array = pa.array(values, from_pandas=True)
            columns[name] = array.cast(pa.string()) if pa.types.is_null(array.type) else array
    pq.write_table(pa.table(columns), path)


def write_latin1_csv(frame: pd.DataFrame, path: Path, sep: str = ",") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, sep=sep, encoding="latin-1")


def order(order_id: str, customer_id: str | None, at, total: float | None) -> dict:
    """One orders row."""
    return {
        "order_id": order_id,
        "customer_id": customer_id,
        "ordered_at": pd.Timestamp(at),
        "order_total": total,
        "discount_amount": None,
        "status": "completed",
    }


def event(event_id: str, customer_id: str | None, at) -> dict:
    """One events row."""
    return {
        "event_id": event_id,
        "customer_id": customer_id,
        "session_id": None,
        "event_type": "page_view",
        "occurred_at": pd.Timestamp(at),
    }


def ids(frame: pd.DataFrame) -> set[str]:
    return set(frame["customer_id"].dropna())


def dirty_shop(folder: Path) -> dict:
    """Every repairable problem at once; returns the as-of time and what to expect."""
    t = base_tables()
    orders, events, customers = t["orders"], t["events"], t["customers"]
    as_of = max(orders["ordered_at"].max(), events["occurred_at"].max())
    known = customers["customer_id"].iloc[:20].tolist()
    day = as_of - pd.Timedelta(days=3)
    bad = [
        order("nan-1", known[0], day, math.nan),
        order("nan-2", known[1], day, math.nan),
        order("inf-1", known[2], day, math.inf),
        order("inf-2", known[3], day, -math.inf),
        order("huge-1", known[4], day, 1e12),
        order("neg-1", known[5], day, -5.0),
        order("neg-2", known[6], day, -0.01),
        order("neg-3", known[7], day, -120.0),
        order("null-1", known[8], day, None),
        order("null-2", known[9], day, None),
        # customers not in customers (ghost-1, the long id) and one only there (unicode)
        order("ghost-1", "ghost-1", day, 30.0),
        order("ghost-2", "ghost-1", day - pd.Timedelta(days=40), 45.0),
        order("long-1", LONG_ID, day, 99.0),
        order("uni-1", UNICODE_ID, day, 12.5),
        order("uni-2", UNICODE_ID, day - pd.Timedelta(days=9), 20.0),
        # after the as-of time: a known customer's order, and a customer seen only later
        order("late-1", known[10], LATE, 50.0),
        order("late-2", "late-only-1", LATE, 60.0),
    ]
    bad_rows = pd.DataFrame(bad)  # totals as objects: None stays null, NaN stays NaN
    bad_rows["order_total"] = pd.Series([row["order_total"] for row in bad], dtype=object)
    duplicates = orders.iloc[[3, 50, 100, 150, 200]]
    orders = orders.astype({"order_total": object})
    t["orders"] = pd.concat([orders, bad_rows, duplicates], ignore_index=True)
    extra_events = [
        event("ev-ghost-1", "ghost-e1", day),
        event("ev-ghost-2", "ghost-e1", day + pd.Timedelta(minutes=5)),
        event("ev-anon-1", None, day),
        event("ev-anon-2", None, day),
        event("ev-anon-3", None, day),
        event("ev-late-1", "late-only-2", LATE),
        event("ev-late-2", known[11], LATE),
    ]
    t["events"] = pd.concat([events, pd.DataFrame(extra_events)], ignore_index=True)
    unicode_customer = customers.iloc[[0]].assign(customer_id=UNICODE_ID)
    t["customers"] = pd.concat([customers, unicode_customer], ignore_index=True)
    t["products"] = t["products"].iloc[:0]  # an optional table present but empty
    write_parquet(t["orders"], folder / "orders.parquet", keep_nan=("order_total",))
    for name in ("events", "order_items", "products"):
        write_parquet(t[name], folder / f"{name}.parquet")
    # customers as a CSV with a UTF-8 byte order mark (Excel's "CSV UTF-8")
    t["customers"].to_csv(folder / "customers.csv", index=False, encoding="utf-8-sig")

    o, e, registered = t["orders"], t["events"], ids(t["customers"])
    late_only = {"late-only-1", "late-only-2"}
    o_known, e_known = o["customer_id"].notna(), e["customer_id"].notna()
    return {
        "as_of": as_of.strftime("%Y-%m-%d %H:%M:%S"),
        "segmented": (ids(o) | ids(e) | registered) - late_only,
        "late_only": late_only,
        "orders_unknown": int((o_known & ~o["customer_id"].isin(registered)).sum()),
        "events_unknown": int((e_known & ~e["customer_id"].isin(registered)).sum()),
        "events_anonymous": int((~e_known).sum()),
        "session_missing": int((e["session_id"].isna() & e_known).sum()),
    }


def csv_shop(folder: Path) -> set[str]:
    """A European spreadsheet export: ';' delimiter, latin-1, a few unreadable cells."""
    t = base_tables()
    orders = t["orders"].astype({"order_total": object})
    orders["ordered_at"] = orders["ordered_at"].dt.strftime("%Y-%m-%d %H:%M:%S")
    orders.loc[[1, 2, 3], "order_total"] = ["abc", "n/a", "12,50"]
    orders.loc[[4, 5], "ordered_at"] = ["not a date", "31/02/2026 10:00"]
    write_latin1_csv(orders, folder / "orders.csv", sep=";")
    customers = t["customers"]
    customers.loc[0, "customer_id"] = "Jürgen-7"
    customers.loc[0, "acquisition_channel"] = "publicité"
    write_latin1_csv(customers, folder / "customers.csv", sep=";")
    return ids(orders) | ids(customers)


def broken_shop(folder: Path) -> dict[str, int]:
    """One problem per table that no build can repair; returns the row counts."""
    t = base_tables()
    write_parquet(t["orders"].drop(columns=["order_total"]), folder / "orders.parquet")
    customers = t["customers"]
    customers.loc[1, "country"] = "Ísland"
    write_latin1_csv(customers, folder / "customers.csv")  # shop_csv_encoding not set
    events = t["events"].assign(occurred_at="31/12/2025 10:00")
    events.loc[0, "occurred_at"] = "yesterday"
    write_parquet(events, folder / "events.parquet")
    items = t["order_items"].assign(quantity="two")
    write_latin1_csv(items, folder / "order_items.csv")
    write_parquet(t["products"], folder / "products.parquet")
    return {"events": len(events), "order_items": len(items)}


def orders_only(rows: list[dict]) -> Callable[[Path], None]:
    """A shop of nothing but an orders file with these rows (typed even when empty)."""

    def make(folder: Path) -> None:
        frame = pd.DataFrame(rows, columns=list(order("", "", "2026-01-01", 0.0)))
        types = {"ordered_at": "datetime64[us]", "order_total": float, "discount_amount": float}
        write_parquet(frame.astype(types), folder / "orders.parquet")

    return make


def empty_orders_shop(folder: Path) -> set[str]:
    """Registered customers and their visits, but not one order yet."""
    t = base_tables()
    t["orders"] = t["orders"].iloc[:0]
    t["order_items"] = t["order_items"].iloc[:0]
    for name, frame in t.items():
        write_parquet(frame, folder / f"{name}.parquet")
    return ids(t["customers"]) | ids(t["events"])


# --- running and reading builds -----------------------------------------------------------


def build(
    tmp: pytest.TempPathFactory, name: str, make: Callable[[Path], object], dbt_vars=None
) -> tuple[DbtResult, object]:
    """Write a shop with `make`, `dbt build` it; the result and what `make` returned."""
    folder = tmp.mktemp(name)
    info = make(folder / "input")
    result = run_dbt(BUILD, folder / "work", folder / "input", VARS | (dbt_vars or {}))
    return result, info


def issues(result: DbtResult) -> dict[tuple[str, str], int]:
    """data_quality_issues as {(table, problem): rows affected}."""
    frame = result.query("select table_name, problem, rows_affected from data_quality_issues")
    return {(r.table_name, r.problem): int(r.rows_affected) for r in frame.itertuples()}


def segments(result: DbtResult) -> pd.DataFrame:
    return result.query("select * from customer_segments")


def current_run(result: DbtResult) -> pd.Series:
    return result.query("select * from segmentation_runs where is_current").iloc[0]


def assert_fails_with(result: DbtResult, patterns: list[str]) -> None:
    """The build failed and each pattern matches a whole line of its output."""
    assert not result.ok, result.output[-3000:]
    lines = [line.strip() for line in result.output.splitlines()]
    for pattern in patterns:
        assert any(re.fullmatch(pattern, line) for line in lines), (
            f"no line matches {pattern!r}; shopseg lines:\n"
            + "\n".join(line for line in lines if "shopseg" in line)
        )


def assert_segmented_once(result: DbtResult, customers: set[str]) -> pd.DataFrame:
    assert result.ok, result.output[-5000:]
    seg = segments(result)
    assert seg["customer_id"].is_unique
    assert set(seg["customer_id"]) == customers
    return seg


# --- a dirty shop: everything repairable, at once -----------------------------------------


@pytest.fixture(scope="module")
def dirty(tmp_path_factory: pytest.TempPathFactory) -> tuple[DbtResult, dict]:
    """The dirty shop, built as of its last regular row (so the late rows are late)."""
    folder = tmp_path_factory.mktemp("dirty")
    info = dirty_shop(folder / "input")
    dbt_vars = VARS | {"shop_as_of": info["as_of"]}
    return run_dbt(BUILD, folder / "work", folder / "input", dbt_vars), info


@pytest.mark.e2e
def test_dirty_shop_segments_every_customer_once(dirty) -> None:
    result, info = dirty
    seg = assert_segmented_once(result, info["segmented"])
    assert not info["late_only"] & set(seg["customer_id"])
    assert current_run(result)["status"] == "ok"


@pytest.mark.e2e
def test_dirty_shop_counts_each_problem(dirty) -> None:
    result, info = dirty
    assert result.ok, result.output[-5000:]
    expected = {
        ("orders", "order_total NaN or infinite"): 4,
        ("orders", "order_total beyond shop_max_order_total"): 1,  # 1e12
        ("orders", "order_total negative"): 3,
        ("orders", "order_total missing or not a number"): 2,
        ("orders", "order_id duplicated (extra copies)"): 5,
        ("orders", "ordered_at after the as-of time"): 2,
        ("events", "occurred_at after the as-of time"): 2,
        ("all tables", "customer seen only after the as-of time"): 2,
        ("orders", "customer not in customers"): info["orders_unknown"],
        ("events", "customer not in customers"): info["events_unknown"],
        ("events", "customer_id missing (anonymous)"): info["events_anonymous"],
        ("events", "session_id missing"): info["session_missing"],
        ("orders", "order_id missing"): 0,
        ("orders", "customer_id missing"): 0,
        ("orders", "ordered_at missing or not a timestamp"): 0,
        ("customers", "customer_id duplicated (extra copies)"): 0,
    }
    found = issues(result)
    assert {key: found.get(key) for key in expected} == expected
    # the injected ones are among them: ghost-1 (2), the long id, late-only-1; ghost-e1 (2)
    assert info["orders_unknown"] >= 4 and info["events_unknown"] == 3
    assert info["events_anonymous"] >= 3


@pytest.mark.e2e
def test_dirty_shop_excluded_totals_never_reach_the_features(dirty) -> None:
    result, _ = dirty
    assert result.ok, result.output[-5000:]
    low, high = result.query("select min(monetary), max(monetary) from customer_features").iloc[0]
    assert low >= 0 and high < 1e6  # no NaN, infinity, 1e12 or negative total in revenue
    kept = result.query(
        "select order_id from main_intermediate.int_orders__cleaned where regexp_matches(order_id, "
        "'^(nan|inf|huge|neg|null|late)-')"
    )
    assert kept.empty


@pytest.mark.e2e
def test_unicode_and_300_character_ids_round_trip(dirty) -> None:
    result, _ = dirty
    assert result.ok, result.output[-5000:]
    assert len(LONG_ID) == 300
    assert {UNICODE_ID, LONG_ID} <= set(segments(result)["customer_id"])  # byte for byte
    row = result.query(
        "select is_registered, order_count from customer_features "
        f"where customer_id = '{UNICODE_ID}'"
    ).iloc[0]
    assert row["is_registered"] and row["order_count"] == 2  # read from the BOM CSV


@pytest.mark.e2e
def test_optional_table_present_but_empty(dirty) -> None:
    result, _ = dirty
    assert result.ok, result.output[-5000:]
    assert "shopseg: input products.parquet has no rows; its features will be null" in (
        result.output
    )
    categories = result.query(
        "select distinct favourite_category from customer_features "
        "where favourite_category is not null"
    )
    assert list(categories["favourite_category"]) == ["unknown"]


# --- CSV dialects ---------------------------------------------------------------------------


@pytest.mark.e2e
def test_csv_with_semicolons_latin1_and_unreadable_cells(tmp_path_factory) -> None:
    result, customers = build(tmp_path_factory, "csv", csv_shop, {"shop_csv_encoding": "latin-1"})
    assert_segmented_once(result, customers)
    found = issues(result)
    assert found[("orders", "order_total missing or not a number")] == 3  # abc, n/a, 12,50
    assert found[("orders", "ordered_at missing or not a timestamp")] == 2
    assert re.search(
        r"shopseg: input orders\.csv: column order_total: 3 of \d+ values are not a number "
        r"\(e\.g\. '12,50'\); read as null, counted in data_quality_issues",
        result.output,
    )
    channel = result.query(
        "select acquisition_channel from customer_features where customer_id = 'Jürgen-7'"
    )
    assert channel.iloc[0, 0] == "publicité"


# --- inputs no build can repair: one clear line each ------------------------------------------


@pytest.mark.e2e
def test_broken_inputs_fail_with_a_line_naming_table_column_and_problem(
    tmp_path_factory,
) -> None:
    result, rows = build(tmp_path_factory, "broken", broken_shop)
    assert_fails_with(
        result,
        [
            re.escape(
                "shopseg: input orders.parquet: required column order_total is missing "
                "(columns found: order_id, customer_id, ordered_at, discount_amount, status)"
            ),
            re.escape("shopseg: input customers.csv: line 3, column country is not utf-8 text")
            + r" \('.*\?\?land.*'\): save the file as utf-8 or set the var shop_csv_encoding "
            r"\(utf-8, utf-16, latin-1\)",
            re.escape(
                "shopseg: input events.parquet: column occurred_at is not a timestamp in any "
                f"of its {rows['events']} rows (type VARCHAR, e.g. '31/12/2025 10:00'; "
                "expected YYYY-MM-DD HH:MM:SS, optionally with an offset)"
            ),
            re.escape(
                "shopseg: input order_items.csv: column quantity is not a number in any of its "
                f"{rows['order_items']} rows (type VARCHAR, e.g. 'two')"
            ),
        ],
    )
    assert "Traceback" not in result.output
    statuses = result.results()
    for table in ("orders", "customers", "events", "order_items"):
        assert statuses[f"model.shopseg.stg_shop__{table}"] == "error"


@pytest.mark.e2e
def test_empty_orders_and_nothing_else_fails_no_customers(tmp_path_factory) -> None:
    result, _ = build(tmp_path_factory, "no_customers", orders_only([]))
    assert_fails_with(
        result,
        [
            r"shopseg: no customers in input: orders\.parquet has no rows and there is no "
            r"customers or events table with rows \(shop_input_path = '.*'\)"
        ],
    )
    assert "Traceback" not in result.output


@pytest.mark.e2e
def test_no_customer_id_anywhere_fails_in_the_segmenter(tmp_path_factory) -> None:
    rows = [order(f"o{i}", None, "2026-01-10", 10.0) for i in range(3)]
    result, _ = build(tmp_path_factory, "null_customers", orders_only(rows))
    assert_fails_with(
        result,
        [
            re.escape(
                "ValueError: shopseg: customer_features: no customers to segment: the input "
                "has no customer_id in orders, customers or events up to the as-of time"
            )
        ],
    )
    assert "src/shopseg" not in result.output  # the model's frame only, not the library's


# --- degenerate shops: the documented single-segment fallback ---------------------------------


def assert_fallback(result: DbtResult, customers: set[str], status: str) -> None:
    """One segment, 'All customers', holds everyone; the run says why; the gates passed."""
    seg = assert_segmented_once(result, customers)
    assert set(seg["segment_id"]) == {1}
    assert set(seg["segment_name"]) == {"All customers"}
    run = current_run(result)
    assert run["status"] == status
    assert run["k"] == 1 and pd.isna(run["silhouette"])
    assert f"shopseg: {status}: one segment, 'All customers', holds every customer" in (
        result.output
    )


@pytest.mark.e2e
def test_one_customer_gets_the_fallback(tmp_path_factory) -> None:
    rows = [order(f"o{i}", "solo", f"2026-0{i + 1}-10", 10.0 * (i + 1)) for i in range(3)]
    result, _ = build(tmp_path_factory, "one_customer", orders_only(rows))
    assert_fallback(result, {"solo"}, "fallback: 1 customer, fewer than shop_k_min = 3")


@pytest.mark.e2e
def test_fewer_customers_than_k_min_get_the_fallback(tmp_path_factory) -> None:
    rows = [
        order("o1", "a", "2026-01-10", 10.0),
        order("o2", "b", "2026-03-10", 99.0),
        order("o3", "b", "2026-05-10", 15.0),
    ]
    result, _ = build(tmp_path_factory, "two_customers", orders_only(rows))
    assert_fallback(result, {"a", "b"}, "fallback: 2 customers, fewer than shop_k_min = 3")


@pytest.mark.e2e
def test_empty_orders_segments_registered_customers_and_visitors(tmp_path_factory) -> None:
    result, customers = build(tmp_path_factory, "empty_orders", empty_orders_shop)
    assert_segmented_once(result, customers)
    assert "shopseg: input orders.parquet has no rows" in result.output
    run = current_run(result)
    assert run["status"] == "ok" and run["k"] >= 3
    assert {"order_count", "monetary"} <= set(json.loads(run["features_dropped"]))


# --- the library's side of the fallback (no dbt) ----------------------------------------------


def frame_of(**columns: list) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    return pd.DataFrame({"customer_id": [f"c{i:03d}" for i in range(n)], **columns})


def test_library_fallback_reasons_and_round_trip() -> None:

    config = SegmentConfig(features=("f1", "f2"), k_min=3, k_max=5, n_init=1)
    two_profiles = frame_of(f1=[1.0, 2.0] * 20, f2=[5.0] * 40)
    cases = [
        (two_profiles, config, "fallback: 2 distinct feature profiles, fewer than shop_k_min = 3"),
        (
            frame_of(f1=[1.0] * 9, f2=[None] * 9),
            config,
            "fallback: no feature varies between customers (zero variance)",
        ),
        (two_profiles, SegmentConfig(features=("f1",), k=1), "fallback: shop_k = 1"),
        (
            two_profiles,
            SegmentConfig(features=("f1",), k=5),
            "fallback: 2 distinct feature profiles, fewer than shop_k = 5",
        ),
    ]
    for frame, cfg, status in cases:
        model = fit_segments(frame, cfg)
        assert (model.status, model.k, model.names) == (status, 1, ("All customers",))
        stored = model_from_params(model_to_params(model))
        assert stored.status == status
        scored = score_segments(stored, frame)
        assert list(scored["segment_id"].unique()) == [1]
        assert scored["second_segment_id"].isna().all()


def test_library_refuses_an_empty_feature_frame() -> None:

    empty = frame_of(f1=[1.0]).iloc[:0]
    with pytest.raises(ValueError, match=r"^customer_features: no customers to segment"):
        fit_segments(empty, SegmentConfig(features=("f1",)))


def test_a_fallback_segment_never_passes_its_id_or_name_on() -> None:

    rng = np.random.default_rng(0)
    real = fit_segments(
        frame_of(f1=np.r_[rng.normal(0, 1, 60), rng.normal(9, 1, 60), rng.normal(18, 1, 60)]),
        SegmentConfig(features=("f1",), k_min=3, k_max=3, n_init=1),
    )
    fallback = fit_segments(frame_of(f1=[4.0] * 10), SegmentConfig(features=("f1",)))
    after_fallback = align_to_previous(real, fallback, 1.5)
    assert after_fallback.segment_ids == (2, 3, 4)
    assert "All customers" not in after_fallback.names
    after_real = align_to_previous(fallback, real, 1.5)
    assert after_real.segment_ids == (4,) and after_real.names == ("All customers",)
