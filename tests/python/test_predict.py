"""BG/NBD, Gamma-Gamma, the per-customer predictions and the backtest (pure pytest, no dbt)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from _cdnow_sample import read_fixture, read_wheel
from test_settings_defaults import default_differences, project_vars, readme_settings

from shopseg.predict import (
    OUTPUT_COLUMNS,
    Backtest,
    BgNbd,
    PredictConfig,
    backtest,
    backtest_customers,
    backtest_figures,
    expected_order_value,
    expected_orders,
    expected_orders_new,
    fit_bgnbd,
    fit_gamma_gamma,
    median_time_to_next_order,
    order_summary,
    p_alive,
    p_no_order,
    predict_customers,
    simulate_bgnbd,
)
from shopseg.predict.bgnbd import log_likelihood

PROJECT = Path(__file__).resolve().parents[2]
WHEEL = sorted((PROJECT / "bench" / "cache").glob("[Ll]ifetimes-0.11.3*.whl"))
WEEK = 7.0
# Fader, Hardie & Lee (2005) and Fader & Hardie's Gamma-Gamma note, on the CDNOW sample (weeks)
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_LL = -9582.4
PUBLISHED_GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}
CDNOW_MODEL = BgNbd(0.243, 4.414, 0.793, 2.426)


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return read_fixture()


def test_the_fixture_is_derived_from_the_cdnow_sample() -> None:
    # fails, never skips, without the wheel: make test and make test-fast fetch it (cdnow-wheel)
    assert WHEEL, "no lifetimes 0.11.3 wheel in bench/cache: run make cdnow-wheel"
    pd.testing.assert_frame_equal(read_wheel(WHEEL[0]), read_fixture())


def test_bgnbd_fit_matches_the_published_cdnow_estimates(sample: pd.DataFrame) -> None:
    fit = fit_bgnbd(sample["x"], sample["t_x"] / WEEK, sample["T"] / WEEK, sample["customers"])
    assert fit.converged
    for name, value in PUBLISHED_BGNBD.items():
        assert getattr(fit, name) == pytest.approx(value, abs=0.0015), name
    assert fit.log_likelihood * sample["customers"].sum() == pytest.approx(PUBLISHED_LL, abs=0.1)


def test_bgnbd_conditional_figures_match_the_paper() -> None:
    # the paper's worked customer: x = 2, t_x = 30.43, T = 38.86 weeks, next 39 weeks
    assert expected_orders(CDNOW_MODEL, 2, 30.43, 38.86, 39)[0] == pytest.approx(1.226, abs=0.002)
    # a customer without repeats cannot have dropped out; more silence, less alive. By hand:
    # 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)), x = 2, t_x = 10:
    # 1 / (1 + 0.793 / 3.426 * (43.274 / 14.414) ** 2.243) = 1 / (1 + 0.23147 * 11.773) = 0.2684
    alive = p_alive(CDNOW_MODEL, [0, 2, 2], [0, 30.43, 10], [38.86] * 3)
    assert alive.tolist() == pytest.approx([1.0, 0.7266, 0.2684], abs=2e-4)
    # E[X(t)] for a new customer, by the unconditional formula and as the x = 0, T = 0 case
    assert expected_orders(CDNOW_MODEL, 0, 0, 0, 39)[0] == pytest.approx(
        expected_orders_new(CDNOW_MODEL, 39)[0]
    )


def test_p_no_order_is_the_likelihood_ratio_and_a_probability() -> None:
    params = (CDNOW_MODEL.r, CDNOW_MODEL.alpha, CDNOW_MODEL.a, CDNOW_MODEL.b)
    x, t_x, t = np.array([0, 1, 5]), np.array([0, 3.0, 20]), np.array([30.0, 30, 30])
    ratio = np.exp(log_likelihood(params, x, t_x, t + 10) - log_likelihood(params, x, t_x, t))
    got = p_no_order(CDNOW_MODEL, x, t_x, t, 10)
    np.testing.assert_allclose(got, ratio)
    assert np.all((got > 0) & (got < 1))
    assert np.all(p_no_order(CDNOW_MODEL, x, t_x, t, 40) < got)  # longer horizon, less risk


def test_median_time_to_next_order_matches_a_hand_computation() -> None:
    # the paper's worked customer (x = 2, t_x = 30.43, T = 38.86 weeks): p_alive = 0.7266, so
    # ((alpha + T) / (alpha + T + s)) ** (r + x) = 1 - 0.5 / 0.7266 = 0.31186 and
    # s = (4.414 + 38.86) * (0.31186 ** (-1 / 2.243) - 1) = 43.274 * (1.68130 - 1) = 29.48
    x, t_x, t = [0, 2, 2], [0, 30.43, 10], [38.86] * 3
    median = median_time_to_next_order(CDNOW_MODEL, x, t_x, t)
    assert median[1] == pytest.approx(29.48, abs=0.01)
    # without a repeat order p_alive = 1: (43.274 / (43.274 + s)) ** 0.243 = 0.5
    assert median[0] == pytest.approx(43.274 * (2 ** (1 / 0.243) - 1), rel=1e-4)
    assert median[2] == np.inf  # p_alive 0.27: the odds of ever ordering again are not even
    # it is where the churn risk over (T, T + s] is one half
    np.testing.assert_allclose(p_no_order(CDNOW_MODEL, x[:2], t_x[:2], t[:2], median[:2]), 0.5)


def test_bgnbd_recovers_simulated_parameters() -> None:
    truth = BgNbd(0.5, 10.0, 0.6, 3.0)
    ages = np.random.default_rng(1).uniform(50, 400, 20_000)
    data = simulate_bgnbd(truth, ages, random_state=7)
    fit = fit_bgnbd(data["frequency"], data["recency"], data["age"])
    assert fit.r == pytest.approx(truth.r, rel=0.1)
    assert fit.alpha == pytest.approx(truth.alpha, rel=0.15)
    assert fit.a == pytest.approx(truth.a, rel=0.2)
    assert fit.b == pytest.approx(truth.b, rel=0.3)
    again = simulate_bgnbd(truth, ages, random_state=7)
    pd.testing.assert_frame_equal(data, again)


def test_bgnbd_refuses_impossible_summaries() -> None:
    with pytest.raises(ValueError, match="recency"):
        fit_bgnbd([1], [10], [5])
    with pytest.raises(ValueError, match="missing"):
        fit_bgnbd([1, np.nan], [1, 1], [5, 5])


def test_gamma_gamma_fit_matches_the_published_cdnow_estimates(sample: pd.DataFrame) -> None:
    fit = fit_gamma_gamma(sample["x"], sample["zbar"], sample["customers"])
    assert fit.converged
    for name, value in PUBLISHED_GG.items():
        assert getattr(fit, name) == pytest.approx(value, abs=0.01), name
    # a shrinkage towards the population mean p * gamma / (q - 1)
    population = fit.p * fit.gamma / (fit.q - 1)
    value = expected_order_value(fit, [0, 1, 50], [0.0, 100.0, 100.0])
    assert value[0] == pytest.approx(population)
    assert population < value[1] < value[2] < 100


def shop(n: int, days: float, seed: int = 0) -> pd.DataFrame:
    """A per-customer order summary drawn from BG/NBD (daily rates), as of 2024-01-01."""
    truth = BgNbd(0.6, 40.0, 0.7, 3.0)
    rng = np.random.default_rng(seed)
    data = simulate_bgnbd(truth, rng.uniform(1, days, n), random_state=seed)
    as_of = pd.Timestamp("2024-01-01")
    first = as_of - pd.to_timedelta(data["age"], unit="D")
    return pd.DataFrame(
        {
            "customer_id": np.arange(1, n + 1),
            "order_count": data["frequency"] + 1,
            "first_order_at": first,
            "last_order_at": first + pd.to_timedelta(data["recency"], unit="D"),
            "monetary": (data["frequency"] + 1) * rng.gamma(4.0, 10.0, n),
        }
    )


AS_OF = pd.Timestamp("2024-01-01")


def test_predictions_have_one_row_per_customer_and_probabilities() -> None:
    customers = shop(2_000, 600)
    customers.loc[0, ["order_count", "first_order_at", "last_order_at", "monetary"]] = [
        0,
        pd.NaT,
        pd.NaT,
        0.0,
    ]
    out = predict_customers(customers, AS_OF, PredictConfig())
    assert list(out.columns) == list(OUTPUT_COLUMNS)
    assert out["customer_id"].tolist() == customers["customer_id"].tolist()
    assert out.loc[0, "prediction_status"] == "no_orders"
    assert out.loc[0, ["p_alive", "expected_orders"]].isna().all()
    ok = out[out["prediction_status"] == "ok"]
    assert len(ok) == len(out) - 1
    assert ok["p_alive"].between(0, 1).all() and ok["p_no_order"].between(0, 1).all()
    assert (ok["expected_orders"] >= 0).all() and (ok["expected_revenue"] >= 0).all()
    assert out["prediction_run_id"].nunique() == 1
    again = predict_customers(customers, AS_OF, PredictConfig())
    pd.testing.assert_frame_equal(out, again)  # seeded: the same run id and figures
    # rows in another order: the same fit (run id) and figures per customer
    shuffled = predict_customers(customers.sample(frac=1, random_state=3), AS_OF, PredictConfig())
    pd.testing.assert_frame_equal(
        shuffled.sort_values("customer_id", ignore_index=True), out, check_exact=True
    )


def test_expected_next_order_is_the_median_within_the_horizon() -> None:
    customers = shop(2_000, 600)
    out = predict_customers(customers, AS_OF, PredictConfig(horizon_days=180))
    dated = out["expected_next_order_at"].notna()
    # a date only where the customer is more likely than not to order within the horizon
    assert dated.any() and not dated.all()
    assert (dated == (out["p_no_order"] < 0.5)).all()
    days = (out.loc[dated, "expected_next_order_at"] - AS_OF) / pd.Timedelta(days=1)
    assert days.between(0, 180).all()
    # and it is the median of the time to the next order (to the second)
    ok = out[dated].index
    fit_config = PredictConfig(horizon_days=180)
    from shopseg.predict import fit_predictions, summarise

    summary = summarise(customers, AS_OF)
    model = fit_predictions(summary, fit_config, AS_OF).orders
    rows = summary.loc[ok]
    expected = median_time_to_next_order(model, rows["frequency"], rows["recency"], rows["age"])
    np.testing.assert_allclose(days.to_numpy(), expected, atol=1 / 86_400)


@pytest.mark.parametrize(
    ("n", "days", "status"),
    [(499, 600, "too_few_customers"), (2_000, 150, "history_too_short")],
)
def test_too_few_customers_or_too_short_a_history_gives_nulls_with_the_reason(
    n: int, days: float, status: str
) -> None:
    out = predict_customers(shop(n, days), AS_OF, PredictConfig())
    assert (out["prediction_status"] == status).all()
    assert out[["p_alive", "expected_orders", "p_no_order", "expected_revenue"]].isna().all().all()


def test_a_spend_model_without_a_mean_keeps_the_order_figures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # q <= 1: the population's mean spend does not exist (the electronics family of
    # make eval fits q = 0.75); only expected_revenue can be given no value
    import shopseg.predict.customers as customers_module

    fitted = fit_gamma_gamma
    monkeypatch.setattr(
        customers_module,
        "fit_gamma_gamma",
        lambda *args: replace(fitted(*args), q=0.75),
    )
    customers = shop(2_000, 600)
    out = predict_customers(customers, AS_OF, PredictConfig())
    assert (out["prediction_status"] == "spend_fit_failed").all()
    assert out["expected_revenue"].isna().all()
    assert out[["p_alive", "expected_orders", "p_no_order"]].notna().all().all()
    monkeypatch.undo()
    ok = predict_customers(customers, AS_OF, PredictConfig())
    for column in ("p_alive", "expected_orders", "p_no_order"):
        np.testing.assert_array_equal(out[column], ok[column])
    # the backtest judges the order model: it stands
    monkeypatch.setattr(
        customers_module,
        "fit_gamma_gamma",
        lambda *args: replace(fitted(*args), q=0.75),
    )
    orders = orders_of(pd.DataFrame(index=range(2_000)))
    result = backtest(
        orders, pd.Timestamp("2022-01-01") + pd.Timedelta(days=700), 180, PredictConfig()
    )
    assert result.status == "ok" and np.isfinite(result.auc)


def test_the_fit_sample_is_bounded_and_everyone_is_scored() -> None:
    customers = shop(3_000, 600)
    out = predict_customers(customers, AS_OF, PredictConfig(fit_sample_size=800))
    assert (out["prediction_status"] == "ok").all()
    full = predict_customers(customers, AS_OF, PredictConfig())
    assert out["prediction_run_id"].iloc[0] != full["prediction_run_id"].iloc[0]
    assert out["expected_orders"].sum() == pytest.approx(full["expected_orders"].sum(), rel=0.15)


def orders_of(customers: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Orders drawn from BG/NBD over 700 days, one row per order."""
    truth = BgNbd(0.6, 40.0, 0.7, 3.0)
    rng = np.random.default_rng(seed)
    n = len(customers)
    start = pd.Timestamp("2022-01-01")
    first = rng.uniform(0, 500, n)
    rows = []
    rate = rng.gamma(truth.r, 1 / truth.alpha, n)
    drop = rng.beta(truth.a, truth.b, n)
    for i in range(n):
        clock, alive = first[i], True
        while alive and clock <= 700:
            rows.append((i + 1, start + pd.Timedelta(days=clock), 20.0))
            clock += rng.exponential(1 / rate[i])
            alive = rng.random() >= drop[i]
    return pd.DataFrame(rows, columns=["customer_id", "ordered_at", "order_total"])


def test_backtest_reports_auc_brier_and_total_error() -> None:
    orders = orders_of(pd.DataFrame(index=range(3_000)))
    as_of = pd.Timestamp("2022-01-01") + pd.Timedelta(days=700)
    result = backtest(orders, as_of, 180, PredictConfig())
    assert result.status == "ok"
    assert result.calibration_end == as_of - pd.Timedelta(days=180)
    assert 0.7 < result.auc <= 1
    assert 0 < result.brier < 0.25
    assert abs(result.total_error) < 0.15  # the data is BG/NBD's own: totals agree
    assert result.actual_orders == int(
        ((orders["ordered_at"] > result.calibration_end) & (orders["ordered_at"] <= as_of)).sum()
    )


def test_backtest_figures_on_the_cdnow_holdout(sample: pd.DataFrame) -> None:
    # BG/NBD fitted on the calibration weeks, scored against the next 273 days (39 weeks)
    w = sample["customers"]
    model = fit_bgnbd(sample["x"], sample["t_x"], sample["T"], w)
    args = (model, sample["x"], sample["t_x"], sample["T"], 273)
    figures = backtest_figures(
        expected_orders(*args), 1 - p_no_order(*args), sample["holdout_x"], weights=w
    )
    assert figures["actual_orders"] == 1882  # the holdout's repeat order days of 2,357 people
    assert figures["predicted_orders"] == pytest.approx(1653.4, abs=0.5)
    assert figures["total_error"] == pytest.approx(-0.1215, abs=5e-4)
    assert figures["auc"] == pytest.approx(0.7725, abs=5e-4)
    assert figures["brier"] == pytest.approx(0.1612, abs=5e-4)
    assert figures["ordered_again_share"] == pytest.approx(0.2902, abs=5e-4)
    # the default gates pass a textbook BG/NBD on real data, with room
    defaults = project_vars()
    assert figures["auc"] >= defaults["shop_min_prediction_auc"] + 0.1
    assert abs(figures["total_error"]) <= defaults["shop_max_prediction_total_error"] - 0.1


def test_backtest_figures_are_nan_where_undefined() -> None:
    figures = backtest_figures([0.5, 1.0], [0.3, 0.6], [0, 0])
    assert np.isnan(figures["auc"]) and np.isnan(figures["total_error"])
    assert figures["brier"] == pytest.approx((0.3**2 + 0.6**2) / 2)


def test_backtest_does_not_depend_on_the_row_order() -> None:
    orders = orders_of(pd.DataFrame(index=range(3_000)))
    as_of = pd.Timestamp("2022-01-01") + pd.Timedelta(days=700)
    result = backtest(orders, as_of, 180, PredictConfig())
    end = as_of - pd.Timedelta(days=180)
    summary = order_summary(orders, end)
    later = orders[orders["ordered_at"] > end].groupby("customer_id").size()
    summary["holdout_order_count"] = later.reindex(summary["customer_id"]).fillna(0).to_numpy()
    shuffled = backtest_customers(
        summary.sample(frac=1, random_state=5), as_of, 180, PredictConfig()
    )
    assert result.status == "ok"
    assert replace(shuffled, fit_seconds=0) == replace(result, fit_seconds=0)
    assert list(result.to_frame().columns) == list(Backtest.__dataclass_fields__)


def test_a_shop_younger_than_the_horizon_has_too_short_a_history() -> None:
    orders = orders_of(pd.DataFrame(index=range(600)))
    as_of = pd.Timestamp("2022-01-01") + pd.Timedelta(days=300)
    result = backtest(orders, as_of, 365, PredictConfig())  # nobody had ordered at T - h
    assert result.status == "history_too_short" and result.customers == 0
    assert np.isnan(result.auc) and np.isnan(result.brier)


def test_backtest_without_enough_history_says_so() -> None:
    orders = orders_of(pd.DataFrame(index=range(600)))
    as_of = pd.Timestamp("2022-01-01") + pd.Timedelta(days=300)
    result = backtest(orders, as_of, 200, PredictConfig())  # 100 days before the horizon
    assert result.status in {"history_too_short", "too_few_customers"}
    assert np.isnan(result.auc) and np.isnan(result.total_error)


def test_settings_agree_in_the_library_dbt_and_the_readme() -> None:
    models = yaml.safe_load(
        (PROJECT / "python_models" / "predictions" / "_predictions__models.yml").read_text()
    )["models"]
    (entry,) = [m for m in models if m["name"] == "customer_predictions"]
    passed = {k: v.split("'")[1] for k, v in entry["config"]["shopseg"].items()}
    readme = readme_settings((PROJECT / "README.md").read_text())
    assert not default_differences(PredictConfig, passed, project_vars(), readme)
