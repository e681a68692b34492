"""Never a green build with a wrong answer: real `dbt build` runs on small shops.

- A gate var reaches SQL only as a checked number: text such as '0.99 and false' stops the
  build in one line instead of switching the gate off.
- A shop of more than shop_fallback_max_customers customers that falls back to one segment
  fails a gate, with the reason logged, unless shop_allow_fallback says so.
- One thread or four, the published tables are the same bytes; the profile macros add up
  the same in any order.

Like tests/python/test_bad_input.py, the builds leave out dbt unit tests and the classifier's
quality floors (they judge how learnable 300-customer segments are, not what is tested here).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import (
    SMALL_SHOP_BUILD,
    SMALL_SHOP_VARS,
    connect_warehouse,
    current_run,
    failed_tests,
    node_statuses,
    run_dbt,
)

pytestmark = pytest.mark.e2e

BUILD, VARS = SMALL_SHOP_BUILD, SMALL_SHOP_VARS


# --- gate vars reach SQL only as checked numbers ----------------------------------------------


@pytest.mark.parametrize(
    ("var", "value", "select", "line"),
    [
        (
            "shop_min_silhouette",
            "0.99 and false",
            "segmentation_runs",
            "shopseg: var shop_min_silhouette = '0.99 and false' must be a number",
        ),
        (
            "shop_min_classifier_holdout",
            "1 or true",
            "segment_classifier_metrics",
            "shopseg: var shop_min_classifier_holdout = '1 or true' must be a number "
            "(whole, at least 0)",
        ),
    ],
)
def test_a_gate_var_that_is_no_number_stops_the_build(
    small_shop: Path, tmp_path: Path, var: str, value: str, select: str, line: str
) -> None:
    result = run_dbt(["compile", "--select", select], tmp_path, small_shop, VARS | {var: value})
    assert not result.ok
    lines = [text.strip() for text in result.output.splitlines()]
    assert line in lines, "\n".join(text for text in lines if "shopseg" in text)


# --- no fallback on a real shop without a loud reason ---------------------------------------


def identical_customers(folder: Path, customers: int) -> None:
    """An orders-only shop where every customer placed the same order at the same time."""
    folder.mkdir(parents=True, exist_ok=True)
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(customers)],
            "customer_id": [f"c{i:05d}" for i in range(customers)],
            "ordered_at": pd.Timestamp("2026-04-01 10:00"),
            "order_total": 25.0,
            "discount_amount": 0.0,
            "status": "completed",
        }
    )
    orders.to_parquet(folder / "orders.parquet", index=False)


def test_a_fallback_on_a_real_shop_fails_unless_allowed(tmp_path: Path) -> None:
    identical_customers(tmp_path / "input", 1500)
    reason = "fallback: no feature varies between customers (zero variance)"
    result = run_dbt(BUILD, tmp_path / "refused", tmp_path / "input", VARS)
    assert not result.ok
    assert any(
        n.startswith("no_fallback_on_real_shop_segmentation_runs") for n in failed_tests(result)
    )
    assert node_statuses(result)["segment_model_promotions"] == "skipped"
    lines = [text.strip() for text in result.output.splitlines()]
    logged = [text for text in lines if "fell back to one segment on 1500 customers" in text]
    assert logged and logged[0].endswith(
        "(more than shop_fallback_max_customers = 1000): "
        f"{reason}; fix the input, or set shop_allow_fallback: true to accept one segment"
    ), logged

    allowed = run_dbt(
        BUILD, tmp_path / "allowed", tmp_path / "input", VARS | {"shop_allow_fallback": True}
    )
    assert allowed.ok, allowed.output[-3000:]
    run = current_run(allowed)
    assert run["status"] == reason and run["customers"] == 1500
    # the zero-variance fallback, opted in: every customer once, in the one segment
    segments = allowed.query("select customer_id, segment_id from customer_segments")
    assert segments["customer_id"].is_unique and len(segments) == 1500
    assert set(segments["segment_id"]) == {1}


# --- the same bytes on one thread or four ----------------------------------------------------


def checksums(path: Path, tables: list[str] | None = None) -> dict[str, str]:
    """md5 of each table's rows as CSV text, ordered by every column: every table of a
    published file, or the named tables of a build warehouse."""
    con = connect_warehouse(path) if tables else duckdb.connect(str(path), read_only=True)
    try:
        names = tables or [t for (t,) in con.execute("show tables").fetchall()]
        return {
            name: hashlib.md5(
                con.execute(f'select * from "{name}" order by all')
                .df()
                .to_csv(index=False)
                .encode()
            ).hexdigest()
            for name in names
        }
    finally:
        con.close()


def test_one_thread_or_four_publish_the_same_bytes(small_shop: Path, tmp_path: Path) -> None:
    builds = {
        threads: run_dbt(
            BUILD,
            tmp_path / f"threads_{threads}",
            small_shop,
            VARS,
            env={"SHOPSEG_THREADS": threads},
        )
        for threads in ("1", "4")
    }
    for result in builds.values():
        assert result.ok, result.output[-3000:]
    published = {
        threads: checksums(result.db_path.with_name("shopseg_published.duckdb"))
        for threads, result in builds.items()
    }
    assert "customer_segments" in published["1"] and len(published["1"]) >= 10
    assert published["1"] == published["4"]
    built = {
        threads: checksums(result.db_path, ["customer_segments"])
        for threads, result in builds.items()
    }
    assert built["1"] == built["4"]


EXACT_SQL = """
with
bounds as (select min(x) as lo, nullif(max(x) - min(x), 0) as sp from t),
means as (
    select t.g, {{ shop_exact_avg('t.x', 'bounds.lo', 'bounds.sp') }} as mu
    from t cross join bounds group by t.g, bounds.lo, bounds.sp
)
select t.g, means.mu, {{ shop_exact_stddev('t.x', 'means.mu', 'bounds.sp') }} as sd
from t cross join bounds inner join means on t.g = means.g
group by t.g, means.mu, bounds.sp
order by t.g
"""


def test_profile_means_and_deviations_add_up_the_same_in_any_order(
    small_shop: Path, tmp_path: Path
) -> None:
    # the macros segment_feature_profiles uses, rendered by dbt, on 3M rows and 4 threads: a
    # plain avg() / stddev_samp() gives a different last bit in nearly every run there
    compiled = run_dbt(
        ["compile", "--inline", EXACT_SQL, "--output", "json", "--quiet"], tmp_path, small_shop
    )
    assert compiled.ok, compiled.output[-3000:]
    text = compiled.output
    sql = json.loads(text[text.index("{") : text.rindex("}") + 1])["compiled"]
    con = duckdb.connect()
    con.execute("set threads = 4")
    con.execute(
        "create table t as select i % 5 as g, "
        "case when i % 3 = 0 then null else (random() - 0.3) * pow(10, i % 7) end as x "
        "from range(3000000) as r(i)"
    )
    results = {tuple(con.execute(sql).fetchall()) for _ in range(5)}
    assert len(results) == 1
    frame = con.execute("select g, x from t").df().dropna()
    expected = frame.groupby("g")["x"].agg(["mean", "std"])
    got = pd.DataFrame(next(iter(results)), columns=["g", "mean", "std"]).set_index("g")
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-9)
    con.close()
