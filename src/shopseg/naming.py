"""Readable, unique segment names from segment profiles."""

from __future__ import annotations

import math

import pandas as pd

HIGH = 1.5  # lift above which a feature counts as high
LOW = 0.67  # lift below which it counts as low


def name_segments(profile: pd.DataFrame, overall: pd.Series) -> list[str]:
    """One name per profile row (typical values in original units), unique within the set."""
    names = [_name_one(row, overall) for _, row in profile.iterrows()]
    return _make_unique(names, profile, overall)


def _get(row: pd.Series, name: str) -> float:
    value = row.get(name, math.nan)
    return float(value) if value is not None else math.nan


def _lift(row: pd.Series, overall: pd.Series, name: str) -> float:
    base = _get(overall, name)
    value = _get(row, name)
    if math.isnan(base) or math.isnan(value):
        return math.nan
    if base == 0:
        return math.inf if value > 0 else 1.0
    return value / base


def _name_one(row: pd.Series, overall: pd.Series) -> str:
    orders = _get(row, "order_count")
    recency = _get(row, "recency_days")
    tenure = _get(row, "tenure_days")
    spend = _lift(row, overall, "monetary")
    aov = _lift(row, overall, "avg_order_value")
    discount = _lift(row, overall, "discounted_order_share")
    browsing = _nanmax(
        _lift(row, overall, "session_count"), _lift(row, overall, "product_view_count")
    )
    if not math.isnan(orders) and orders < 0.5:
        if browsing >= HIGH:
            return "Browsers, no purchase"
        return "Registered prospects"
    if not math.isnan(tenure) and tenure <= 45 and (math.isnan(orders) or orders <= 2.5):
        return "New customers"
    if not math.isnan(recency) and recency > 270:
        if spend >= HIGH or aov >= HIGH:
            return "Lapsed big spenders"
        return "Lapsed customers"
    if discount >= HIGH:
        return "Discount-driven regulars"
    if spend >= HIGH and (math.isnan(recency) or recency <= 90):
        return "High-value loyal"
    if not math.isnan(orders) and orders < 1.5:
        return "One-time buyers"
    if browsing >= HIGH:
        return "Engaged browsers"
    if spend >= HIGH:
        return "Big spenders"
    if spend <= LOW:
        return "Low spenders"
    return "Regular customers"


def _make_unique(names: list[str], profile: pd.DataFrame, overall: pd.Series) -> list[str]:
    """Suffix repeated names with what sets each apart, then with a number if needed."""
    out = list(names)
    for name in set(names):
        idx = [i for i, n in enumerate(names) if n == name]
        if len(idx) < 2:
            continue
        spend = [
            _get(profile.iloc[i], "monetary") if "monetary" in profile.columns else 0.0 for i in idx
        ]
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
