"""Per-customer predictions over a horizon: P(alive), expected orders, churn risk, revenue."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from shopseg.predict.bgnbd import (
    BgNbd,
    expected_orders,
    fit_bgnbd,
    median_time_to_next_order,
    p_alive,
    p_no_order,
)
from shopseg.predict.config import PredictConfig
from shopseg.predict.gamma_gamma import GammaGamma, expected_order_value, fit_gamma_gamma

DAY = pd.Timedelta(days=1)
SUMMARY_COLUMNS = ("customer_id", "order_count", "first_order_at", "last_order_at", "monetary")
OUTPUT_COLUMNS = (
    "customer_id",
    "as_of_at",
    "p_alive",
    "expected_orders",
    "p_no_order",
    "expected_revenue",
    "expected_next_order_at",
    "prediction_run_id",
    "prediction_status",
)
OK = "ok"
NO_ORDERS = "no_orders"  # BG/NBD starts at a customer's first order
TOO_FEW_CUSTOMERS = "too_few_customers"
HISTORY_TOO_SHORT = "history_too_short"
FIT_FAILED = "fit_failed"
# the order figures stand, expected_revenue is null: Gamma-Gamma has q <= 1 (spend so
# heavy-tailed that its mean does not exist) or did not converge
SPEND_FIT_FAILED = "spend_fit_failed"


@dataclass(frozen=True)
class PredictionFit:
    """What one prediction run fitted, and whether it may be used."""

    run_id: str
    status: str  # OK or why every customer gets nulls
    as_of: pd.Timestamp
    orders: BgNbd | None
    spend: GammaGamma | None
    ordering_customers: int
    history_days: float
    fit_customers: int


def summarise(customers: pd.DataFrame, as_of) -> pd.DataFrame:
    """BG/NBD's ``(x, t_x, T)`` in days and the mean order value, per customer.

    Parameters
    ----------
    customers : pandas.DataFrame
        ``customer_id``, ``order_count`` (completed orders), ``first_order_at``,
        ``last_order_at`` and ``monetary`` (their total), as ``int_customers_orders``
        holds them; customers without an order have a count of 0 or null.
    as_of : timestamp
        The time the predictions are made at.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``has_orders``, ``frequency`` (orders after the first),
        ``recency`` (days from the first to the last order), ``age`` (days from the first
        order to ``as_of``) and ``mean_value`` (mean order value), NaN without orders.
    """
    missing = [c for c in SUMMARY_COLUMNS if c not in customers.columns]
    if missing:
        raise ValueError(f"shopseg: predict: customer summary lacks {missing}")
    as_of = pd.Timestamp(as_of)
    count = pd.to_numeric(customers["order_count"]).fillna(0).to_numpy(dtype="float64")
    first = pd.to_datetime(customers["first_order_at"])
    last = pd.to_datetime(customers["last_order_at"])
    has = (count > 0) & first.notna().to_numpy() & last.notna().to_numpy()
    if np.any(has & (first > as_of).to_numpy()):
        raise ValueError("shopseg: predict: a first order is after the as-of time")
    monetary = pd.to_numeric(customers["monetary"]).to_numpy(dtype="float64")
    return pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy(),
            "has_orders": has,
            "frequency": np.where(has, count - 1, np.nan),
            "recency": np.where(has, ((last - first) / DAY).to_numpy(dtype="float64"), np.nan),
            "age": np.where(has, ((as_of - first) / DAY).to_numpy(dtype="float64"), np.nan),
            "mean_value": np.where(has, monetary / np.where(has, count, 1), np.nan),
        }
    )


def fit_predictions(summary: pd.DataFrame, config: PredictConfig, as_of) -> PredictionFit:
    """Check eligibility, then fit BG/NBD and Gamma-Gamma on a bounded sample.

    Parameters
    ----------
    summary : pandas.DataFrame
        From :func:`summarise`.
    config : PredictConfig
        Eligibility floors, the fit sample's size and the seed.
    as_of : timestamp
        The time the predictions are made at (part of the run id).

    Returns
    -------
    PredictionFit
        The models, or a status saying why there are none: too few ordering customers,
        too short a history (days since the first order of the shop), or a failed fit.
    """
    ordering = summary[summary["has_orders"].to_numpy(dtype=bool)]
    # the warehouse hands rows over in any order: the sample and the run id must not depend on it
    ordering = ordering.sort_values("customer_id", kind="stable")
    history = float(ordering["age"].max()) if len(ordering) else 0.0
    sample = ordering
    if len(ordering) > config.fit_sample_size:
        sample = ordering.sample(n=config.fit_sample_size, random_state=config.random_state)
    columns = ["frequency", "recency", "age", "mean_value"]
    digest = hashlib.sha256(config.to_json().encode())
    digest.update(str(pd.Timestamp(as_of)).encode())
    digest.update(np.ascontiguousarray(sample[columns].to_numpy(dtype="float64")).tobytes())
    run_id = digest.hexdigest()[:16]
    base = {
        "run_id": run_id,
        "as_of": pd.Timestamp(as_of),
        "ordering_customers": len(ordering),
        "history_days": history,
    }
    if len(ordering) < config.min_customers:
        return PredictionFit(
            status=TOO_FEW_CUSTOMERS, orders=None, spend=None, fit_customers=0, **base
        )
    if history < config.min_history_days:
        return PredictionFit(
            status=HISTORY_TOO_SHORT, orders=None, spend=None, fit_customers=0, **base
        )
    try:
        orders = fit_bgnbd(sample["frequency"], sample["recency"], sample["age"])
    except (ValueError, FloatingPointError):
        orders = None
    if orders is None or not orders.converged or orders.a == 1:
        return PredictionFit(
            status=FIT_FAILED, orders=None, spend=None, fit_customers=len(sample), **base
        )
    try:
        spend = fit_gamma_gamma(sample["frequency"], sample["mean_value"])
    except (ValueError, FloatingPointError):
        spend = None
    usable = spend is not None and spend.converged and spend.q > 1
    return PredictionFit(
        status=OK if usable else SPEND_FIT_FAILED,
        orders=orders,
        spend=spend if usable else None,
        fit_customers=len(sample),
        **base,
    )


def score_predictions(
    summary: pd.DataFrame, fit: PredictionFit, horizon_days: float
) -> pd.DataFrame:
    """Each customer's predictions over the horizon, or nulls with the reason.

    Parameters
    ----------
    summary : pandas.DataFrame
        From :func:`summarise`.
    fit : PredictionFit
        From :func:`fit_predictions`.
    horizon_days : float
        The horizon, in days after the as-of time.

    Returns
    -------
    pandas.DataFrame
        One row per summary row, in its order, with :data:`OUTPUT_COLUMNS`.
        ``expected_next_order_at`` is the as-of time plus the median time to the next
        order (:func:`~shopseg.predict.bgnbd.median_time_to_next_order`), to the second,
        and null where that median is beyond the horizon: there the customer is more
        likely than not to place no order in it (``p_no_order >= 1/2``).
    """
    n = len(summary)
    out = pd.DataFrame({"customer_id": summary["customer_id"].to_numpy()})
    for column in ("p_alive", "expected_orders", "p_no_order", "expected_revenue"):
        out[column] = np.full(n, np.nan)
    next_days = np.full(n, np.nan)
    has = summary["has_orders"].to_numpy(dtype=bool)
    status = np.where(has, fit.status, NO_ORDERS).astype(object)
    if fit.orders is not None:
        rows = summary[has]
        x, t_x, t = rows["frequency"], rows["recency"], rows["age"]
        orders = expected_orders(fit.orders, x, t_x, t, horizon_days)
        value = (
            expected_order_value(fit.spend, x, rows["mean_value"])
            if fit.spend is not None
            else np.full(len(rows), np.nan)
        )
        scored = np.column_stack(
            [
                p_alive(fit.orders, x, t_x, t),
                orders,
                p_no_order(fit.orders, x, t_x, t, horizon_days),
                orders * value,
            ]
        )
        # a special function out of its range (revenue is null by design without spend)
        bad = ~np.isfinite(scored[:, : 3 if fit.spend is None else 4]).all(axis=1)
        scored[bad] = np.nan
        out.loc[has, ["p_alive", "expected_orders", "p_no_order", "expected_revenue"]] = scored
        status[np.flatnonzero(has)[bad]] = FIT_FAILED
        median = median_time_to_next_order(fit.orders, x, t_x, t)
        next_days[has] = np.where(~bad & (median <= horizon_days), median, np.nan)
    offset = pd.to_timedelta(np.round(next_days * 86_400), unit="s")
    out["expected_next_order_at"] = (fit.as_of + pd.Series(offset)).to_numpy()
    out["as_of_at"] = fit.as_of
    out["prediction_run_id"] = fit.run_id
    out["prediction_status"] = status
    return out[list(OUTPUT_COLUMNS)]


def predict_customers(customers: pd.DataFrame, as_of, config: PredictConfig) -> pd.DataFrame:
    """Summarise, fit on a bounded sample and score every customer.

    Parameters
    ----------
    customers : pandas.DataFrame
        Per-customer order summary (see :func:`summarise`).
    as_of : timestamp
        The time the predictions are made at.
    config : PredictConfig
        Horizon, eligibility floors, fit sample size and seed.

    Returns
    -------
    pandas.DataFrame
        One row per customer with :data:`OUTPUT_COLUMNS`.
    """
    summary = summarise(customers, as_of)
    fit = fit_predictions(summary, config, as_of)
    return score_predictions(summary, fit, config.horizon_days)
