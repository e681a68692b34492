"""Point-in-time backtest: predict as of T - h, compare with what happened in (T - h, T]."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from shopseg.predict.config import PredictConfig
from shopseg.predict.customers import (
    HISTORY_TOO_SHORT,
    OK,
    SPEND_FIT_FAILED,
    TOO_FEW_CUSTOMERS,
    fit_predictions,
    score_predictions,
    summarise,
)

NO_CONTRAST = "no_contrast"  # nobody (or everybody) ordered again: AUC is undefined
# the per-customer columns backtest_customers and backtest_calibration read
BACKTEST_COLUMNS = (
    "customer_id",
    "order_count",
    "first_order_at",
    "last_order_at",
    "monetary",
    "holdout_order_count",
)


@dataclass(frozen=True)
class Backtest:
    """How the predictions made at ``calibration_end`` did over the following horizon."""

    status: str  # OK, a fit status of customers.py (too few customers, ...), or NO_CONTRAST
    run_id: str
    calibration_end: pd.Timestamp
    as_of: pd.Timestamp
    horizon_days: int
    customers: int  # customers with an order by calibration_end
    predicted_orders: float
    actual_orders: int
    total_error: float  # predicted / actual - 1
    auc: float  # expected_orders ranking who ordered again
    brier: float  # 1 - p_no_order against ordered again
    ordered_again_share: float
    fit_customers: int  # customers the models were fitted on (at most fit_sample_size)
    fit_seconds: float  # wall time of the fit (not a result: it varies from run to run)

    def to_frame(self) -> pd.DataFrame:
        """The backtest as a one-row frame, one column per field."""
        return pd.DataFrame([asdict(self)])


def backtest_figures(expected, p_order, actual, weights=None) -> dict[str, float]:
    """AUC, Brier score and total error of predictions against what happened.

    Parameters
    ----------
    expected : array-like
        Expected orders per customer over the horizon.
    p_order : array-like
        Probability of at least one order in the horizon (``1 - p_no_order``).
    actual : array-like
        Orders each customer placed in the horizon.
    weights : array-like, optional
        Customers each row stands for.

    Returns
    -------
    dict
        ``predicted_orders`` and ``actual_orders`` (totals), ``total_error`` (predicted /
        actual - 1, NaN without actual orders), ``auc`` of ``expected`` for "ordered again"
        (NaN unless both outcomes occur), ``brier`` (mean squared error of ``p_order``) and
        ``ordered_again_share``.
    """
    expected, p_order = np.asarray(expected, "float64"), np.asarray(p_order, "float64")
    actual = np.asarray(actual, "float64")
    w = np.ones(len(actual)) if weights is None else np.asarray(weights, "float64")
    ordered = (actual > 0).astype("float64")
    predicted, happened = float(np.dot(w, expected)), float(np.dot(w, actual))
    both = len(np.unique(ordered)) == 2
    nan = float("nan")
    return {
        "predicted_orders": predicted,
        "actual_orders": happened,
        "total_error": predicted / happened - 1 if happened else nan,
        "auc": float(roc_auc_score(ordered, expected, sample_weight=w)) if both else nan,
        "brier": float(np.average((p_order - ordered) ** 2, weights=w)) if len(w) else nan,
        "ordered_again_share": float(np.average(ordered, weights=w)) if len(w) else nan,
    }


def calibration_deciles(p_order, actual, expected=None, bins: int = 10) -> pd.DataFrame:
    """Predicted against observed "ordered again" per decile of the predicted probability.

    Parameters
    ----------
    p_order : array-like
        Probability of at least one order in the horizon (``1 - p_no_order``).
    actual : array-like
        Orders each customer placed in the horizon.
    expected : array-like, optional
        Expected orders per customer (summed per decile when given).
    bins : int, default=10
        Groups of (as near as possible) equal size, by rank of ``p_order``.

    Returns
    -------
    pandas.DataFrame
        One row per non-empty group, lowest probabilities first: ``decile`` (1..bins),
        ``customers``, ``predicted_share`` (mean ``p_order``), ``observed_share`` (share who
        ordered), ``predicted_orders`` (NaN without ``expected``) and ``actual_orders``.
    """
    p_order, actual = np.asarray(p_order, "float64"), np.asarray(actual, "float64")
    expected = np.full(len(actual), np.nan) if expected is None else np.asarray(expected, "float64")
    # ties broken by position, so equal probabilities still fill the groups evenly
    order = np.argsort(p_order, kind="stable")
    group = np.empty(len(order), dtype="int64")
    group[order] = np.arange(len(order)) * bins // max(len(order), 1) + 1
    frame = pd.DataFrame(
        {"decile": group, "p": p_order, "ordered": actual > 0, "e": expected, "a": actual}
    )
    per = frame.groupby("decile", sort=True)
    return pd.DataFrame(
        {
            "decile": per.size().index.to_numpy("int64"),
            "customers": per.size().to_numpy("int64"),
            "predicted_share": per["p"].mean().to_numpy(),
            "observed_share": per["ordered"].mean().to_numpy("float64"),
            "predicted_orders": per["e"].sum(min_count=1).to_numpy(),
            "actual_orders": per["a"].sum().to_numpy("int64"),
        }
    )


def order_summary(orders: pd.DataFrame, until) -> pd.DataFrame:
    """Per-customer order counts, first and last order and total, of orders up to ``until``.

    Parameters
    ----------
    orders : pandas.DataFrame
        Completed orders: ``customer_id``, ``ordered_at``, ``order_total``.
    until : timestamp
        Orders dated after it are left out.

    Returns
    -------
    pandas.DataFrame
        The columns of ``int_customers_orders`` :func:`summarise` reads.
    """
    seen = orders[orders["ordered_at"] <= pd.Timestamp(until)]
    per = seen.groupby("customer_id").agg(
        order_count=("ordered_at", "size"),
        first_order_at=("ordered_at", "min"),
        last_order_at=("ordered_at", "max"),
        monetary=("order_total", "sum"),
    )
    return per.reset_index()


def backtest(orders: pd.DataFrame, as_of, horizon_days: int, config: PredictConfig) -> Backtest:
    """Fit as of ``as_of - horizon``, score against the orders of the horizon up to ``as_of``.

    Parameters
    ----------
    orders : pandas.DataFrame
        Completed orders: ``customer_id``, ``ordered_at``, ``order_total``.
    as_of : timestamp
        End of the held-out horizon (the build's as-of time).
    horizon_days : int
        Length of the held-out horizon; the fit sees only orders up to ``as_of - horizon``.
    config : PredictConfig
        Eligibility floors, fit sample size and seed (its horizon is replaced).

    Returns
    -------
    Backtest
        As :func:`backtest_customers` on these orders' summary.
    """
    as_of = pd.Timestamp(as_of)
    end = as_of - pd.Timedelta(days=horizon_days)
    summary = order_summary(orders, end)
    later = orders[(orders["ordered_at"] > end) & (orders["ordered_at"] <= as_of)]
    holdout = later.groupby("customer_id").size().reindex(summary["customer_id"]).fillna(0)
    summary["holdout_order_count"] = holdout.to_numpy(dtype="int64")
    return backtest_customers(summary, as_of, horizon_days, config)


def backtest_customers(
    customers: pd.DataFrame, as_of, horizon_days: int, config: PredictConfig
) -> Backtest:
    """Fit on the summary as of ``as_of - horizon``, score against the horizon's orders.

    Parameters
    ----------
    customers : pandas.DataFrame
        One row per customer with an order by ``as_of - horizon``: the columns of
        :func:`order_summary` over the orders up to then, and ``holdout_order_count``,
        the customer's orders in ``(as_of - horizon, as_of]``.
    as_of : timestamp
        End of the held-out horizon (the build's as-of time).
    horizon_days : int
        Length of the held-out horizon.
    config : PredictConfig
        Eligibility floors, fit sample size and seed (its horizon is replaced).

    Returns
    -------
    Backtest
        Total predicted vs actual orders, AUC of expected orders for "ordered again" and
        the Brier score of ``1 - p_no_order``, over the customers who had ordered by the
        calibration end. Figures are NaN when the status is not ``ok``: too few
        customers or too short a history at the calibration end (the floors of the
        predictions), a failed fit, or no contrast (nobody or everybody ordered again).
    """
    as_of = pd.Timestamp(as_of)
    end = as_of - pd.Timedelta(days=horizon_days)
    status, fit, scored, actual, ok, fit_seconds = _backtest_scored(
        customers, as_of, horizon_days, config
    )
    figures = backtest_figures(
        scored["expected_orders"].to_numpy()[ok],
        1 - scored["p_no_order"].to_numpy()[ok],
        actual[ok],
    )
    if status == OK and not np.isfinite(figures["auc"]):
        status = NO_CONTRAST
    if status != OK:
        figures = dict.fromkeys(figures, float("nan")) | {
            "ordered_again_share": float((actual > 0).mean()) if len(actual) else float("nan")
        }
    return Backtest(
        status=status,
        run_id=fit.run_id,
        calibration_end=end,
        as_of=as_of,
        horizon_days=horizon_days,
        customers=len(scored),
        predicted_orders=figures["predicted_orders"],
        actual_orders=int(actual.sum()),
        total_error=figures["total_error"],
        auc=figures["auc"],
        brier=figures["brier"],
        ordered_again_share=figures["ordered_again_share"],
        fit_customers=fit.fit_customers,
        fit_seconds=fit_seconds,
    )


def _backtest_scored(customers: pd.DataFrame, as_of, horizon_days: int, config: PredictConfig):
    """The backtest's fit and scores: status, fit, scored frame, actual orders, usable rows."""
    end = pd.Timestamp(as_of) - pd.Timedelta(days=horizon_days)
    config = replace(config, horizon_days=horizon_days)
    # the warehouse hands rows over in any order: the sums below must not depend on it
    customers = customers.sort_values("customer_id", kind="stable", ignore_index=True)
    summary = summarise(customers, end)
    started = time.perf_counter()
    fit = fit_predictions(summary, config, end)
    fit_seconds = time.perf_counter() - started
    scored = score_predictions(summary, fit, horizon_days)
    actual = pd.to_numeric(customers["holdout_order_count"]).fillna(0).to_numpy("float64")
    # the figures judge the order model: a spend model that failed leaves them standing
    ok = scored["prediction_status"].isin([OK, SPEND_FIT_FAILED]).to_numpy()
    status = OK if fit.status == SPEND_FIT_FAILED else fit.status
    if status == TOO_FEW_CUSTOMERS and fit.history_days < config.min_history_days:
        status = HISTORY_TOO_SHORT  # a shop younger than the horizon has no one at T - h
    return status, fit, scored, actual, ok, fit_seconds


def backtest_calibration(
    customers: pd.DataFrame, as_of, horizon_days: int, config: PredictConfig, bins: int = 10
) -> pd.DataFrame:
    """The backtest's calibration: predicted vs observed "ordered again" per decile.

    Parameters
    ----------
    customers, as_of, horizon_days, config
        As :func:`backtest_customers` (the same fit: same sample, same seed).
    bins : int, default=10
        Groups by rank of the predicted probability of ordering.

    Returns
    -------
    pandas.DataFrame
        :func:`calibration_deciles` of the backtest's customers, with the backtest's
        ``run_id`` first; no rows where the backtest has no figures (its status is not ok
        or nobody, or everybody, ordered again).
    """
    status, fit, scored, actual, ok, _ = _backtest_scored(customers, as_of, horizon_days, config)
    ordered = actual[ok] > 0
    if status != OK or len(np.unique(ordered)) < 2:
        ok = np.zeros(len(actual), dtype=bool)
    deciles = calibration_deciles(
        1 - scored["p_no_order"].to_numpy()[ok],
        actual[ok],
        scored["expected_orders"].to_numpy()[ok],
        bins,
    )
    deciles.insert(0, "run_id", fit.run_id)
    return deciles
