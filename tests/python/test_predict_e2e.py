"""The predictions marts in the shared demo build (no build of its own)."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest
from conftest import DbtResult

pytestmark = pytest.mark.e2e


def test_demo_predictions_cover_every_segmented_customer(demo_build: DbtResult) -> None:
    rows = demo_build.query(
        "select s.customer_id, p.prediction_status, p.p_alive, p.p_no_order, p.expected_orders "
        "from customer_segments as s left join customer_predictions as p using (customer_id)"
    )
    assert rows["prediction_status"].notna().all()  # everyone segmented has a prediction row
    ok = rows[rows["prediction_status"] == "ok"]
    assert len(ok) > len(rows) / 2  # the demo has enough customers and history to fit
    assert ok["p_alive"].between(0, 1).all() and ok["p_no_order"].between(0, 1).all()
    assert rows.loc[rows["prediction_status"] != "ok", "expected_orders"].isna().all()


def test_demo_backtest_is_stored_contracted_and_passes_its_gates(demo_build: DbtResult) -> None:
    (run,) = demo_build.query("select * from prediction_runs").to_dict("records")
    assert run["status"] == "ok"  # the demo has 3.5 years of orders: room for a 365-day backtest
    assert run["horizon_days"] == 365
    assert run["calibration_end_at"] == run["as_of_at"] - pd.Timedelta(days=365)
    assert 0.6 <= run["auc"] <= 1 and 0 < run["brier"] < 0.25
    assert abs(run["total_error"]) <= 0.25
    assert run["total_error"] == pytest.approx(run["predicted_orders"] / run["actual_orders"] - 1)
    assert 0 < run["fit_customers"] <= run["backtest_customers"]
    current = demo_build.query("select distinct prediction_run_id from customer_predictions")
    assert current["prediction_run_id"].tolist() == [run["prediction_run_id"]]
    # the backtest scores those who had ordered by the calibration end, with their later orders
    counts = demo_build.query(
        "select count(*) as customers, sum(holdout_order_count) as orders "
        "from int_customers_orders__backtest"
    ).iloc[0]
    assert (counts["customers"], counts["orders"]) == (
        run["backtest_customers"],
        run["actual_orders"],
    )
    manifest = json.loads((demo_build.target_path / "manifest.json").read_text())
    node = manifest["nodes"]["model.shopseg.prediction_runs"]
    assert node["access"] == "public" and node["config"]["contract"]["enforced"] is True
    built = demo_build.query("select * from prediction_runs limit 0").columns.tolist()
    assert list(node["columns"]) == built
    statuses = demo_build.results()
    gates = [uid for uid in statuses if ".value_at_least_prediction_runs_auc" in uid]
    gates += [uid for uid in statuses if ".value_between_prediction_runs_total_error" in uid]
    assert len(gates) == 2 and all(statuses[uid] == "pass" for uid in gates)


def test_demo_next_order_dates_and_segment_figures(demo_build: DbtResult) -> None:
    rows = demo_build.query(
        "select p.*, f.monetary, f.as_of_at, s.segment_id from customer_predictions as p "
        "inner join customer_segments as s using (customer_id) "
        "inner join customer_features as f using (customer_id)"
    )
    ok = rows[rows["prediction_status"] == "ok"]
    dated = ok["expected_next_order_at"].notna()
    assert (dated == (ok["p_no_order"] < 0.5)).all()
    ahead = ok.loc[dated, "expected_next_order_at"] - ok.loc[dated, "as_of_at"]
    assert ahead.between(pd.Timedelta(0), pd.Timedelta(days=365)).all()
    assert rows.loc[rows["prediction_status"] != "ok", "expected_next_order_at"].isna().all()
    # segment_profiles adds up the same predictions per segment
    profiles = demo_build.query(
        "select segment_id, expected_revenue, mean_p_no_order, at_risk_customers, "
        "at_risk_revenue from segment_profiles"
    ).set_index("segment_id")
    by_segment = ok.groupby("segment_id")
    risky = ok[ok["p_no_order"] >= 0.5]
    expected = pd.DataFrame(
        {
            "expected_revenue": by_segment["expected_revenue"].apply(lambda v: v.round(2).sum()),
            "mean_p_no_order": by_segment["p_no_order"].mean(),
            "at_risk_customers": by_segment["p_no_order"].apply(lambda v: (v >= 0.5).sum()),
            "at_risk_revenue": risky.groupby("segment_id")["monetary"].sum(),
        }
    )
    expected["at_risk_revenue"] = expected["at_risk_revenue"].fillna(0)
    got = profiles.loc[expected.index].astype("float64")
    pd.testing.assert_frame_equal(got, expected.astype("float64"), rtol=1e-6, check_names=False)
    # a segment without any prediction (nobody has ordered) has nulls, not zeros
    unpredicted = profiles.drop(index=expected.index)
    assert unpredicted.isna().all().all()


def test_the_prediction_marts_are_published_without_the_timing(demo_build: DbtResult) -> None:
    published = demo_build.db_path.with_name("shopseg_published.duckdb")
    con = duckdb.connect(str(published), read_only=True)
    try:
        tables = {name for (name,) in con.execute("show tables").fetchall()}
        columns = con.execute("select * from prediction_runs limit 0").df().columns.tolist()
        predictions = con.execute("select count(*) from customer_predictions").fetchone()[0]
    finally:
        con.close()
    assert {"customer_predictions", "prediction_runs"} <= tables
    assert "fit_seconds" not in columns and "auc" in columns
    assert predictions == demo_build.query("select count(*) as n from customer_segments")["n"][0]
