"""The gradient-boosting alternative: point-in-time features, its backtest and eligibility."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_predict import orders_of
from threadpoolctl import threadpool_limits

from shopseg.predict import (
    PredictConfig,
    backtest,
    backtest_calibration,
    calibration_deciles,
    order_summary,
)
from shopseg.predict.boosting import (
    backtest_boosting,
    point_in_time_features,
    predict_boosting,
)

START = pd.Timestamp("2022-01-01")


@pytest.fixture(autouse=True)
def one_thread():
    # OpenMP threads of the boosting wait for busy cores: on a loaded machine a 1-second
    # fit took a minute with two threads
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def orders() -> pd.DataFrame:
    return orders_of(pd.DataFrame(index=range(1_200)), seed=3)


def test_features_read_nothing_after_the_cut_off(orders: pd.DataFrame) -> None:
    cut = START + pd.Timedelta(days=400)
    before = point_in_time_features(orders, cut)
    later = orders.assign(ordered_at=orders["ordered_at"] + pd.Timedelta(days=1000))
    after = point_in_time_features(pd.concat([orders, later]), cut)
    pd.testing.assert_frame_equal(before, after)
    first = orders[orders["customer_id"] == before.index[0]]
    seen = first[first["ordered_at"] <= cut]
    assert before.iloc[0]["order_count"] == len(seen)
    assert before.iloc[0]["recency_days"] == pytest.approx(
        (cut - seen["ordered_at"].max()) / pd.Timedelta(days=1)
    )


def test_only_completed_orders_count_and_returns_have_their_own_count() -> None:
    at = pd.Timestamp("2024-01-10")
    orders = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2],
            "ordered_at": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-08", "2024-01-09"]),
            "order_total": [10.0, 20.0, 30.0, 5.0],
            "status": ["completed", "returned", "completed", "cancelled"],
        }
    )
    features = point_in_time_features(orders, at)
    assert list(features.index) == [1]  # customer 2 has no completed order
    assert features.loc[1, "order_count"] == 2
    assert features.loc[1, "monetary"] == 40
    assert features.loc[1, "returned_order_count"] == 1
    assert features.loc[1, "avg_days_between_orders"] == pytest.approx(7)


def test_boosting_backtest_is_scored_on_the_bgnbd_backtests_customers(
    orders: pd.DataFrame,
) -> None:
    as_of = START + pd.Timedelta(days=700)
    config = PredictConfig(min_customers=100)
    result = backtest_boosting(orders, as_of, 180, config)
    bgnbd = backtest(orders, as_of, 180, config)
    assert result["status"] == "ok"
    assert result["customers"] == bgnbd.customers
    assert result["actual_orders"] == bgnbd.actual_orders
    assert 0.6 < result["auc"] <= 1
    assert 0 < result["brier"] < 0.3
    scored = result["scored"]
    assert scored["p_no_order"].between(0, 1).all()
    assert (scored["expected_orders"] >= 0).all()


def test_boosting_needs_twice_the_horizon_of_history(orders: pd.DataFrame) -> None:
    # at T - 2h the shop is 100 days old: below the 180-day floor
    as_of = START + pd.Timedelta(days=500)
    result = backtest_boosting(orders, as_of, 200, PredictConfig(min_customers=10))
    assert result["status"] == "history_too_short"
    assert np.isnan(result["auc"]) and result["scored"] is None
    few = backtest_boosting(
        orders, START + pd.Timedelta(days=700), 180, PredictConfig(min_customers=5_000)
    )
    assert few["status"] == "too_few_customers"  # 2,000 customers at most


def test_predictions_cover_every_customer_with_an_order(orders: pd.DataFrame) -> None:
    as_of = START + pd.Timedelta(days=700)
    fit, scored = predict_boosting(
        orders, as_of, PredictConfig(horizon_days=180, min_customers=100)
    )
    assert fit.status == "ok"
    assert set(scored.index) == set(orders["customer_id"])
    again, _ = predict_boosting(orders, as_of, PredictConfig(horizon_days=180, min_customers=100))
    assert again.fit_customers == fit.fit_customers


def test_calibration_deciles_are_equal_groups_by_predicted_probability() -> None:
    p = np.linspace(0.01, 0.99, 95)
    actual = (np.arange(95) % 3 == 0).astype("int64") * 2
    deciles = calibration_deciles(p, actual, expected=p * 2)
    assert list(deciles["decile"]) == list(range(1, 11))
    assert deciles["customers"].sum() == 95 and set(deciles["customers"]) <= {9, 10}
    assert deciles["predicted_share"].is_monotonic_increasing
    first = deciles.iloc[0]
    assert first["predicted_share"] == pytest.approx(p[:10].mean())
    assert first["observed_share"] == pytest.approx((actual[:10] > 0).mean())
    assert deciles["actual_orders"].sum() == actual.sum()
    assert deciles["predicted_orders"].sum() == pytest.approx((p * 2).sum())


def test_backtest_calibration_agrees_with_the_backtest(orders: pd.DataFrame) -> None:
    as_of = START + pd.Timedelta(days=700)
    config = PredictConfig(min_customers=100)
    result = backtest(orders, as_of, 180, config)
    end = result.calibration_end
    summary = order_summary(orders, end)
    later = orders[(orders["ordered_at"] > end) & (orders["ordered_at"] <= as_of)]
    counts = later.groupby("customer_id").size().reindex(summary["customer_id"]).fillna(0)
    summary["holdout_order_count"] = counts.to_numpy("int64")
    deciles = backtest_calibration(summary, as_of, 180, config)
    assert (deciles["run_id"] == result.run_id).all()
    assert deciles["customers"].sum() == result.customers
    assert deciles["actual_orders"].sum() == result.actual_orders
    assert deciles["predicted_orders"].sum() == pytest.approx(result.predicted_orders)
    shares = np.average(deciles["observed_share"], weights=deciles["customers"])
    assert shares == pytest.approx(result.ordered_again_share)
    # without a backtest there are no groups
    empty = backtest_calibration(summary, as_of, 180, PredictConfig(min_customers=100_000))
    assert empty.empty and "run_id" in empty.columns
