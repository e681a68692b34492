"""Point-in-time backtest: predict as of T - h, compare with what happened in (T - h, T]."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from shopseg.predict.config import PredictConfig
from shopseg.predict.customers import OK, fit_predictions, score_predictions, summarise


@dataclass(frozen=True)
class Backtest:
    """How the predictions made at ``calibration_end`` did over the following horizon."""

    status: str  # OK, or why there is nothing to compare (no predictions, no one to score)
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
        Total predicted vs actual orders, AUC of expected orders for "ordered again" and
        the Brier score of ``1 - p_no_order``, over the customers who had ordered by the
        calibration end. Figures are NaN when the status is not ``ok``.
    """
    as_of = pd.Timestamp(as_of)
    end = as_of - pd.Timedelta(days=horizon_days)
    config = replace(config, horizon_days=horizon_days)
    summary = summarise(order_summary(orders, end), end)
    fit = fit_predictions(summary, config, end)
    scored = score_predictions(summary, fit, horizon_days)
    later = orders[(orders["ordered_at"] > end) & (orders["ordered_at"] <= as_of)]
    actual = later.groupby("customer_id").size().reindex(scored["customer_id"]).fillna(0)
    actual = actual.to_numpy(dtype="float64")
    ordered = (actual > 0).astype("float64")
    ok = (scored["prediction_status"] == OK).to_numpy()
    status = fit.status
    if status == OK and (not ok.any() or len(np.unique(ordered[ok])) < 2):
        status = "no_contrast"  # nobody (or everybody) ordered again: AUC is undefined
    nan = float("nan")
    figures = dict(predicted_orders=nan, total_error=nan, auc=nan, brier=nan)
    if status == OK:
        predicted = scored["expected_orders"].to_numpy()[ok]
        p_order = 1 - scored["p_no_order"].to_numpy()[ok]
        total = float(predicted.sum())
        figures = dict(
            predicted_orders=total,
            total_error=total / actual[ok].sum() - 1 if actual[ok].sum() else nan,
            auc=float(roc_auc_score(ordered[ok], predicted)),
            brier=float(np.mean((p_order - ordered[ok]) ** 2)),
        )
    return Backtest(
        status=status,
        run_id=fit.run_id,
        calibration_end=end,
        as_of=as_of,
        horizon_days=horizon_days,
        customers=len(scored),
        actual_orders=int(actual.sum()),
        ordered_again_share=float(ordered.mean()) if len(ordered) else nan,
        **figures,
    )
