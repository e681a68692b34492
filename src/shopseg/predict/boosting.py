"""Gradient boosting on point-in-time features: the richer alternative to BG/NBD.

The model learns from the shop's own past: features as of ``T - 2h`` and the orders of
``(T - 2h, T - h]`` train it, features as of ``T - h`` and the orders of ``(T - h, T]``
judge it (the same held-out horizon as the BG/NBD backtest), and for the predictions it is
trained on ``T - h`` / ``(T - h, T]`` and applied to the features as of ``T``. A shop needs
twice the horizon of history for the backtest.

The features are computed here, from the orders (and events, where the shop has them), as
of any time: the SQL features exist only as of ``shop_as_of``, and a second and third
computation of them inside one build would cost more than the model gains. They are the
order summary BG/NBD reads, plus what a richer model can use of it (orders and spend per
recent period, the gaps between orders, discounts, returns and cancellations) and the
browsing figures per recent period.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from shopseg.predict.backtest import backtest_figures
from shopseg.predict.config import PredictConfig
from shopseg.predict.customers import HISTORY_TOO_SHORT, OK, TOO_FEW_CUSTOMERS

DAY = pd.Timedelta(days=1)
PERIODS = (30, 90, 180, 365)  # days before the cut-off the recent-period figures cover
NO_CONTRAST = "no_contrast"  # nobody (or everybody) ordered in the training window


@dataclass(frozen=True)
class BoostingFit:
    """Gradient-boosted models of orders in the horizon and of ordering at all."""

    status: str  # OK, TOO_FEW_CUSTOMERS, HISTORY_TOO_SHORT or NO_CONTRAST
    orders: HistGradientBoostingRegressor | None  # Poisson loss: expected orders
    ordering: HistGradientBoostingClassifier | None  # P(at least one order)
    feature_names: tuple[str, ...]
    fit_customers: int


def point_in_time_features(
    orders: pd.DataFrame, as_of, events: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per-customer features from the orders (and events) dated up to ``as_of``.

    Parameters
    ----------
    orders : pandas.DataFrame
        ``customer_id``, ``ordered_at``, ``order_total`` and optionally ``status`` (only
        ``completed`` orders count as orders; returned and cancelled ones give their own
        counts; statuses are today's) and ``discount_amount``.
    as_of : timestamp
        The cut-off; nothing dated after it is read.
    events : pandas.DataFrame, optional
        ``customer_id``, ``session_id``, ``event_type`` and ``occurred_at``.

    Returns
    -------
    pandas.DataFrame
        One row per customer with a completed order by ``as_of``, indexed by
        ``customer_id`` (sorted), one float column per feature.
    """
    as_of = pd.Timestamp(as_of)
    seen = orders[pd.to_datetime(orders["ordered_at"]) <= as_of]
    status = seen["status"] if "status" in seen.columns else pd.Series("completed", seen.index)
    done = seen[status.to_numpy() == "completed"]
    when = pd.to_datetime(done["ordered_at"])
    ago = ((as_of - when) / DAY).to_numpy("float64")
    total = pd.to_numeric(done["order_total"]).fillna(0).to_numpy("float64")
    frame = pd.DataFrame(
        {"customer_id": done["customer_id"].to_numpy(), "ago": ago, "total": total}
    )
    if "discount_amount" in done.columns:
        discount = pd.to_numeric(done["discount_amount"]).fillna(0).to_numpy("float64")
        frame["discounted"] = (discount > 0).astype("float64")
    per = frame.groupby("customer_id", sort=True)
    out = pd.DataFrame(
        {
            "order_count": per.size().astype("float64"),
            "age_days": per["ago"].max(),
            "recency_days": per["ago"].min(),
            "monetary": per["total"].sum(),
        }
    )
    out["avg_order_value"] = out["monetary"] / out["order_count"]
    span = out["age_days"] - out["recency_days"]
    out["avg_days_between_orders"] = np.where(
        out["order_count"] > 1, span / (out["order_count"] - 1).clip(lower=1), np.nan
    )
    # the recency relative to the customer's own rhythm: overdue customers have high ratios
    out["recency_over_gap"] = out["recency_days"] / out["avg_days_between_orders"]
    out["orders_per_year"] = out["order_count"] / (out["age_days"] + 1) * 365
    for days in PERIODS:
        recent = frame[frame["ago"] <= days].groupby("customer_id")
        out[f"orders_{days}d"] = recent.size().reindex(out.index).fillna(0).astype("float64")
        out[f"spend_{days}d"] = recent["total"].sum().reindex(out.index).fillna(0)
    if "discounted" in frame.columns:
        out["discounted_order_share"] = per["discounted"].mean()
    for kind in ("returned", "cancelled"):
        other = seen[status.to_numpy() == kind].groupby("customer_id").size()
        out[f"{kind}_order_count"] = other.reindex(out.index).fillna(0).astype("float64")
    if events is not None and len(events):
        out = out.join(_event_features(events, as_of, out.index))
    out.index.name = "customer_id"
    return out.astype("float64")


def _event_features(events: pd.DataFrame, as_of: pd.Timestamp, index: pd.Index) -> pd.DataFrame:
    """Browsing figures per customer of ``index``: recent sessions, views, carts, last visit."""
    seen = events[pd.to_datetime(events["occurred_at"]) <= as_of]
    ago = ((as_of - pd.to_datetime(seen["occurred_at"])) / DAY).to_numpy("float64")
    frame = pd.DataFrame(
        {
            "customer_id": seen["customer_id"].to_numpy(),
            "session_id": seen["session_id"].to_numpy(),
            "event_type": seen["event_type"].to_numpy(),
            "ago": ago,
        }
    )
    out = pd.DataFrame(index=index)
    out["days_since_last_visit"] = frame.groupby("customer_id")["ago"].min().reindex(index)
    for days in (30, 90):
        recent = frame[frame["ago"] <= days]
        per = recent.groupby("customer_id")
        out[f"sessions_{days}d"] = per["session_id"].nunique().reindex(index).fillna(0)
        out[f"events_{days}d"] = per.size().reindex(index).fillna(0)
        for kind in ("product_view", "cart_add"):
            typed = recent[recent["event_type"] == kind].groupby("customer_id").size()
            out[f"{kind}_{days}d"] = typed.reindex(index).fillna(0)
    return out


def _window_orders(orders: pd.DataFrame, start, end, index: pd.Index) -> np.ndarray:
    """Completed orders of each customer of ``index`` dated in ``(start, end]``."""
    when = pd.to_datetime(orders["ordered_at"])
    keep = (when > pd.Timestamp(start)) & (when <= pd.Timestamp(end))
    if "status" in orders.columns:
        keep &= orders["status"] == "completed"
    counts = orders.loc[keep].groupby("customer_id").size()
    return counts.reindex(index).fillna(0).to_numpy("float64")


def _history_days(orders: pd.DataFrame, as_of) -> float:
    """Days from the shop's first order to ``as_of`` (0 without one by then)."""
    when = pd.to_datetime(orders["ordered_at"])
    first = when[when <= pd.Timestamp(as_of)].min()
    return 0.0 if pd.isna(first) else float((pd.Timestamp(as_of) - first) / DAY)


def fit_boosting(
    features: pd.DataFrame, label, config: PredictConfig, history_days: float | None = None
) -> BoostingFit:
    """Check eligibility, then fit the order and ordering models on a bounded sample.

    Parameters
    ----------
    features : pandas.DataFrame
        From :func:`point_in_time_features`, at the start of the training window.
    label : array-like
        Each row's completed orders in the training window.
    config : PredictConfig
        Eligibility floors (at the training cut-off), fit sample size and seed.
    history_days : float, optional
        Days of shop history at the training cut-off; default the oldest customer's age.

    Returns
    -------
    BoostingFit
        The models, or the status saying why there are none.
    """
    label = np.asarray(label, dtype="float64")
    names = tuple(features.columns)
    history = float(features["age_days"].max()) if history_days is None else history_days
    if len(features) < config.min_customers:
        status = HISTORY_TOO_SHORT if history < config.min_history_days else TOO_FEW_CUSTOMERS
        return BoostingFit(status, None, None, names, 0)
    if history < config.min_history_days:
        return BoostingFit(HISTORY_TOO_SHORT, None, None, names, 0)
    rows = np.arange(len(features))
    if len(rows) > config.fit_sample_size:
        rng = np.random.default_rng(config.random_state)
        rows = np.sort(rng.choice(rows, size=config.fit_sample_size, replace=False))
    x, y = features.to_numpy("float64")[rows], label[rows]
    ordered = (y > 0).astype("int64")
    if len(np.unique(ordered)) < 2:
        return BoostingFit(NO_CONTRAST, None, None, names, len(rows))
    common = {
        "learning_rate": 0.1,
        "max_iter": 100,
        "max_leaf_nodes": 15,
        "min_samples_leaf": 40,
        "l2_regularization": 1.0,
        "early_stopping": False,
        "random_state": config.random_state,
    }
    orders = HistGradientBoostingRegressor(loss="poisson", **common).fit(x, y)
    ordering = HistGradientBoostingClassifier(**common).fit(x, ordered)
    return BoostingFit(OK, orders, ordering, names, len(rows))


def score_boosting(fit: BoostingFit, features: pd.DataFrame) -> pd.DataFrame:
    """Expected orders and the probability of no order, per row of ``features``.

    Parameters
    ----------
    fit : BoostingFit
        From :func:`fit_boosting` (status ``ok``).
    features : pandas.DataFrame
        From :func:`point_in_time_features`, at the start of the horizon to predict.

    Returns
    -------
    pandas.DataFrame
        ``expected_orders`` and ``p_no_order``, indexed as ``features``.
    """
    if fit.orders is None or fit.ordering is None:
        raise ValueError(f"shopseg: predict: no boosting model to score with ({fit.status})")
    x = features.reindex(columns=list(fit.feature_names)).to_numpy("float64")
    return pd.DataFrame(
        {
            "expected_orders": fit.orders.predict(x),
            "p_no_order": fit.ordering.predict_proba(x)[:, 0],
        },
        index=features.index,
    )


def backtest_boosting(
    orders: pd.DataFrame,
    as_of,
    horizon_days: int,
    config: PredictConfig,
    events: pd.DataFrame | None = None,
) -> dict:
    """Train on ``(T - 2h, T - h]``, score against ``(T - h, T]``: BG/NBD's held-out horizon.

    Parameters
    ----------
    orders : pandas.DataFrame
        Orders (see :func:`point_in_time_features`).
    as_of : timestamp
        ``T``, the end of the held-out horizon.
    horizon_days : int
        ``h``.
    config : PredictConfig
        Eligibility floors, fit sample size and seed.
    events : pandas.DataFrame, optional
        Browsing events.

    Returns
    -------
    dict
        ``status``, ``customers`` (with an order by ``T - h``), ``fit_customers``, the
        figures of :func:`~shopseg.predict.backtest.backtest_figures` (NaN unless the status
        is ``ok``) and, under ``scored``, the per-customer ``expected_orders``,
        ``p_no_order`` and ``actual`` (None unless ok).
    """
    as_of = pd.Timestamp(as_of)
    h = pd.Timedelta(days=horizon_days)
    train_at, test_at = as_of - 2 * h, as_of - h
    train = point_in_time_features(orders, train_at, events)
    test = point_in_time_features(orders, test_at, events)
    actual = _window_orders(orders, test_at, as_of, test.index)
    fit = fit_boosting(
        train,
        _window_orders(orders, train_at, test_at, train.index),
        config,
        _history_days(orders, train_at),
    )
    out = {"status": fit.status, "customers": len(test), "fit_customers": fit.fit_customers}
    nan = float("nan")
    if fit.status != OK:
        keys = ("predicted_orders", "actual_orders", "total_error", "auc", "brier")
        return out | dict.fromkeys(keys, nan) | {"ordered_again_share": nan, "scored": None}
    scored = score_boosting(fit, test).assign(actual=actual)
    figures = backtest_figures(scored["expected_orders"], 1 - scored["p_no_order"], actual)
    return out | figures | {"scored": scored}


def predict_boosting(
    orders: pd.DataFrame,
    as_of,
    config: PredictConfig,
    events: pd.DataFrame | None = None,
) -> tuple[BoostingFit, pd.DataFrame | None]:
    """Train on ``(T - h, T]``, predict the horizon after ``T`` from the features at ``T``.

    Parameters
    ----------
    orders : pandas.DataFrame
        Orders (see :func:`point_in_time_features`).
    as_of : timestamp
        ``T``, the time the predictions are made at.
    config : PredictConfig
        Horizon, eligibility floors, fit sample size and seed.
    events : pandas.DataFrame, optional
        Browsing events.

    Returns
    -------
    (BoostingFit, pandas.DataFrame or None)
        The fit, and :func:`score_boosting`'s frame for every customer with a completed
        order by ``T`` (None unless the fit's status is ``ok``).
    """
    as_of = pd.Timestamp(as_of)
    start = as_of - pd.Timedelta(days=config.horizon_days)
    train = point_in_time_features(orders, start, events)
    fit = fit_boosting(
        train,
        _window_orders(orders, start, as_of, train.index),
        config,
        _history_days(orders, start),
    )
    if fit.status != OK:
        return fit, None
    return fit, score_boosting(fit, point_in_time_features(orders, as_of, events))
