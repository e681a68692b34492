"""Readable, unique segment names from segment profiles."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

HIGH = 1.5  # lift (segment mean / overall mean) from which a feature counts as high
LOW = 0.67  # lift below which it counts as low


def profile_segments(
    frame: pd.DataFrame, labels: np.ndarray, features: tuple[str, ...]
) -> pd.DataFrame:
    """Per segment label: median, mean lift and missing share of each feature (original units).

    Parameters
    ----------
    frame : pandas.DataFrame
        Raw customer features.
    labels : numpy.ndarray
        The segment label of each row of `frame`.
    features : tuple[str, ...]
        The features to profile.

    Returns
    -------
    pandas.DataFrame
        One row per label (sorted): each feature's median, `<feature>__lift` (segment mean
        over overall mean) and `<feature>__missing` (share of nulls).
    """
    values = frame[list(features)].apply(pd.to_numeric, errors="coerce").astype("float64")
    grouped = values.groupby(labels)
    overall = values.mean()
    lift = grouped.mean() / overall.replace(0, np.nan)
    out = grouped.median()
    for feature in features:
        out[f"{feature}__lift"] = lift[feature]
        out[f"{feature}__missing"] = values[feature].isna().groupby(labels).mean()
    return out.sort_index()


def name_segments(profile: pd.DataFrame) -> list[str]:
    """One name per profile row (see profile_segments), unique within the set.

    Parameters
    ----------
    profile : pandas.DataFrame
        The segment profiles of `profile_segments`.

    Returns
    -------
    list[str]
        A readable name per row, in row order; repeated names are told apart by spend, then
        numbered.
    """
    names = [_name_one(row) for _, row in profile.iterrows()]
    return _make_unique(names, profile)


def _get(row: pd.Series, name: str) -> float:
    value = row.get(name, math.nan)
    return math.nan if value is None or pd.isna(value) else float(value)


def _name_one(row: pd.Series) -> str:
    orders = _get(row, "order_count")
    recency = _get(row, "recency_days")
    tenure = _get(row, "tenure_days")
    spend = _nanmax(_get(row, "monetary__lift"), _get(row, "avg_order_value__lift"))
    discount = _get(row, "discounted_order_share__lift")
    browsing = _nanmax(_get(row, "session_count__lift"), _get(row, "product_view_count__lift"))
    unregistered = _get(row, "tenure_days__missing") > 0.5
    if not math.isnan(orders) and orders < 0.5:
        if browsing >= HIGH:
            return "Browsers, no purchase"
        return "Visitors, no purchase" if unregistered else "Registered prospects"
    if unregistered:
        return "Guest buyers"
    if not math.isnan(tenure) and tenure <= 45 and (math.isnan(orders) or orders <= 2.5):
        return "New customers"
    if not math.isnan(orders) and orders < 1.5:
        return "One-time buyers"
    if not math.isnan(recency) and recency > 270:
        return "Lapsed big spenders" if spend >= HIGH else "Lapsed customers"
    if discount >= HIGH:
        return "Discount-driven regulars"
    if spend >= HIGH and (math.isnan(recency) or recency <= 90):
        return "High-value loyal"
    if browsing >= HIGH:
        return "Engaged browsers"
    if spend >= HIGH:
        return "Big spenders"
    if spend <= LOW:
        return "Low spenders"
    return "Regular customers"


def _make_unique(names: list[str], profile: pd.DataFrame) -> list[str]:
    """Suffix repeated names with what sets each apart, then with a number if needed."""
    out = list(names)
    for name in sorted(set(names)):
        idx = [i for i, n in enumerate(names) if n == name]
        if len(idx) < 2:
            continue
        spend = [_get(profile.iloc[i], "monetary") for i in idx]
        ranked = sorted(zip(spend, idx, strict=True), key=lambda t: (-_nan_low(t[0]), t[1]))
        for rank, (_, i) in enumerate(ranked):
            label = "higher spend" if rank == 0 else ("lower spend" if rank == 1 else None)
            out[i] = f"{name} ({label})" if label else f"{name} ({rank + 1})"
    seen: dict[str, int] = {}
    for i, name in enumerate(out):
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            out[i] = f"{name} #{seen[name]}"
    return out


def _nan_low(value: float) -> float:
    return -math.inf if math.isnan(value) else value


def _nanmax(*values: float) -> float:
    known = [v for v in values if not math.isnan(v)]
    return max(known) if known else math.nan
