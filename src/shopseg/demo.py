"""Deterministic, vectorised demo data generator for an online shop with planted personas."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

# Conventions
# -----------
# * All "regular" timestamps are strictly before ``as_of`` 00:00:00 (the start of the as-of day);
#   late-arriving rows are at least one full day after that (after the as-of day has ended), so
#   both ``ts < as_of`` and ``ts::date <= as_of`` filters drop exactly the late rows.
# * Times are handled as int64 seconds relative to ``as_of`` midnight, converted at the end.
# * Randomness: ``default_rng(seed)`` for everything but events; events are produced in fixed
#   blocks of ``_CHUNK`` customers, block ``b`` using ``default_rng([seed, 1, b])``, so the result
#   never depends on how (or whether) the caller streams the blocks.

INPUT_TABLES = ("customers", "orders", "order_items", "products", "events")
TRUTH_TABLE = "personas"
TRUTH_DIR = "truth"

PERSONAS = (
    "loyal_high_spender",
    "discount_hunter",
    "browser",
    "one_time_buyer",
    "new_customer",
    "lapsed_big_spender",
    "registered_prospect",
    "guest_buyer",
)
PERSONA_SHARES = (0.12, 0.15, 0.18, 0.18, 0.12, 0.10, 0.15)  # registered personas only
LOYAL, HUNTER, BROWSER, ONE_TIME, NEW, LAPSED, PROSPECT, GUEST = range(8)

EVENT_TYPES = ("page_view", "product_view", "search", "add_to_cart", "checkout", "purchase")
PAGE_VIEW, PRODUCT_VIEW, SEARCH, ADD_TO_CART, CHECKOUT, PURCHASE = range(6)
ORDER_STATUSES = ("completed", "cancelled", "returned")
CHANNELS = ("organic", "paid_search", "social", "email", "referral", "affiliate")
COUNTRIES = ("DE", "FR", "GB", "US", "ES", "IT", "NL", "PL")
COUNTRY_P = (0.25, 0.14, 0.15, 0.16, 0.09, 0.09, 0.06, 0.06)
CATEGORIES = ("electronics", "fashion", "home", "beauty", "sports", "books", "toys", "grocery")
CATEGORY_PRICE = (
    (25.0, 1200.0),
    (12.0, 220.0),
    (8.0, 450.0),
    (4.0, 90.0),
    (10.0, 350.0),
    (6.0, 45.0),
    (5.0, 130.0),
    (1.5, 35.0),
)
PRODUCTS_PER_CATEGORY = 25

# Messy free-text gender: (value, probability); the remaining probability mass is null.
_GENDER_VALUES = (
    ("F", 0.165),
    ("female", 0.118),
    ("Woman", 0.047),
    ("f", 0.047),
    ("Female", 0.056),
    ("FEMALE", 0.023),
    (" female ", 0.014),
    ("M", 0.158),
    ("male", 0.112),
    ("Man", 0.045),
    ("m", 0.045),
    ("Male", 0.054),
    ("MALE", 0.023),
    ("male ", 0.013),
    ("non-binary", 0.016),
    ("Non-Binary", 0.002),
    ("nonbinary", 0.002),
    ("unknown", 0.015),
    ("Unknown", 0.003),
    ("n/a", 0.002),
)
GENDERS = tuple(v for v, _ in _GENDER_VALUES)

_DAY = 86_400
_CHUNK = 50_000  # customers per event block; part of the data definition, do not tune per run
_ROW_GROUP = 1 << 20
_MIN_SESSION_GAP = 2 * 3600  # seconds between the end of one session and the next one
_MAX_EVENT_GAP = 600  # seconds between two events of a session (well under 30 minutes)
_LATE_SHARE = 0.002
_ANON_SHARE = 0.005
_NO_SESSION_ID_SHARE = 0.10
_ORDER_EVENT_BUDGET = 0.4  # at most this share of the event budget goes to order sessions
_DROP_COMPENSATION = 1.02  # browse sessions lost to overlap resolution (measured 1-3%)

# Per persona (index order as PERSONAS).
_NONORDER_WEIGHT = np.array([2.0, 1.2, 9.0, 0.3, 2.0, 0.5, 0.15, 0.0])
_SESSION_MEAN = np.array([6.0, 5.0, 7.0, 4.0, 5.0, 5.0, 3.0, 4.0])
_AOV = np.array(
    [[120, 250], [25, 50], [30, 120], [40, 150], [40, 120], [150, 300], [30, 100], [30, 120]],
    dtype=np.float64,
)
_DISCOUNT_P = np.array([0.05, 0.80, 0.10, 0.10, 0.15, 0.10, 0.10, 0.10])
_DISCOUNT_LO = np.array([0.05, 0.15, 0.05, 0.05, 0.10, 0.05, 0.05, 0.05])
_DISCOUNT_HI = np.array([0.15, 0.40, 0.20, 0.20, 0.20, 0.15, 0.20, 0.20])
_RETURN_P = np.array([0.03, 0.15, 0.05, 0.06, 0.05, 0.04, 0.05, 0.06])
_CANCEL_P = 0.03
_STATUS_NULL_P = 0.10
_AGE = np.array([[35, 60], [25, 55], [18, 30], [20, 70], [18, 65], [35, 65], [18, 75]])
_INCOME = np.array(  # median, log-sigma
    [
        [95e3, 0.30],
        [48e3, 0.25],
        [28e3, 0.35],
        [50e3, 0.40],
        [50e3, 0.40],
        [85e3, 0.30],
        [42e3, 0.45],
    ]
)
_CHANNEL_P = np.array(
    [
        [0.40, 0.20, 0.10, 0.15, 0.12, 0.03],
        [0.15, 0.15, 0.15, 0.25, 0.05, 0.25],
        [0.20, 0.15, 0.45, 0.05, 0.10, 0.05],
        [0.25, 0.35, 0.15, 0.05, 0.10, 0.10],
        [0.25, 0.30, 0.20, 0.05, 0.15, 0.05],
        [0.35, 0.25, 0.10, 0.15, 0.10, 0.05],
        [0.30, 0.20, 0.25, 0.10, 0.10, 0.05],
    ]
)
# Browse event mix (page_view, product_view, search, add_to_cart, checkout) per persona, then a
# last row for the events before add_to_cart in an order session and for anonymous sessions.
_BROWSE_P = np.array(
    [
        [0.25, 0.50, 0.13, 0.10, 0.02],
        [0.25, 0.48, 0.17, 0.08, 0.02],
        [0.15, 0.52, 0.13, 0.17, 0.03],
        [0.40, 0.42, 0.13, 0.04, 0.01],
        [0.30, 0.47, 0.15, 0.07, 0.01],
        [0.30, 0.48, 0.15, 0.06, 0.01],
        [0.50, 0.38, 0.10, 0.02, 0.00],
        [0.40, 0.42, 0.13, 0.04, 0.01],
        [0.20, 0.65, 0.15, 0.00, 0.00],
    ]
)
_PRE_ROW = 8

_DTYPES: dict[str, dict[str, object]] = {
    "customers": {
        "customer_id": "int64",
        "signup_at": "datetime64[us]",
        "birth_year": "Int32",
        "gender": pd.CategoricalDtype(GENDERS),
        "country": pd.CategoricalDtype(COUNTRIES),
        "income": "float64",
        "acquisition_channel": pd.CategoricalDtype(CHANNELS),
    },
    "orders": {
        "order_id": "int64",
        "customer_id": "int64",
        "ordered_at": "datetime64[us]",
        "order_total": "float64",
        "discount_amount": "float64",
        "status": pd.CategoricalDtype(ORDER_STATUSES),
    },
    "order_items": {
        "order_id": "int64",
        "product_id": "int64",
        "quantity": "int32",
        "unit_price": "float64",
    },
    "products": {"product_id": "int64", "category": pd.CategoricalDtype(CATEGORIES)},
    "events": {
        "event_id": "int64",
        "customer_id": "Int64",
        "session_id": "str",
        "event_type": pd.CategoricalDtype(EVENT_TYPES),
        "occurred_at": "datetime64[us]",
    },
    "personas": {"customer_id": "int64", "persona": pd.CategoricalDtype(PERSONAS)},
}

_DICT = pa.dictionary(pa.int8(), pa.string())
_TS = pa.timestamp("us")
_ARROW_TYPES: dict[str, object] = {
    "int64": pa.int64(),
    "Int64": pa.int64(),
    "Int32": pa.int32(),
    "int32": pa.int32(),
    "float64": pa.float64(),
    "datetime64[us]": _TS,
    "str": pa.string(),
}


def _arrow_schema(name: str) -> pa.Schema:
    """Return the canonical arrow schema (with pandas metadata) of one table."""
    empty = pd.DataFrame({c: pd.Series([], dtype=d) for c, d in _DTYPES[name].items()})
    meta = pa.Table.from_pandas(empty, preserve_index=False).schema.metadata
    fields = [
        pa.field(c, _DICT if isinstance(d, pd.CategoricalDtype) else _ARROW_TYPES[str(d)])
        for c, d in _DTYPES[name].items()
    ]
    return pa.schema(fields, metadata=meta)


SCHEMAS: dict[str, pa.Schema] = {name: _arrow_schema(name) for name in _DTYPES}


# --------------------------------------------------------------------------------------------
# Small vectorised helpers
# --------------------------------------------------------------------------------------------


def _starts(counts: np.ndarray) -> np.ndarray:
    """Return the exclusive cumulative sum (group start offsets) of group sizes."""
    out = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=out[1:])
    return out


def _rank(counts: np.ndarray) -> np.ndarray:
    """Return each element's position within its group for consecutive groups of given sizes."""
    total = int(counts.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(_starts(counts)[:-1], counts)


def _group_cumsum(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Return the inclusive cumulative sum of values restarted at every group."""
    cs = np.cumsum(values)
    base = np.concatenate((np.zeros(1, dtype=cs.dtype), cs))[_starts(counts)[:-1]]
    return cs - np.repeat(base, counts)


def _pick(rng: np.random.Generator, cum: np.ndarray) -> np.ndarray:
    """Draw one category per row of a matrix of cumulative probabilities (last column 1)."""
    u = rng.random(cum.shape[0])
    return (u[:, None] >= cum[:, :-1]).sum(axis=1)


def _pick1(rng: np.random.Generator, p: Iterable[float], size: int) -> np.ndarray:
    """Draw ``size`` categories from one probability vector (leftover mass gives -1)."""
    cum = np.cumsum(np.asarray(tuple(p), dtype=np.float64))
    idx = np.searchsorted(cum, rng.random(size), side="right")
    return np.where(idx >= cum.size, -1, idx)


def _spread(
    rng: np.random.Generator, n: np.ndarray, lo: np.ndarray, hi: np.ndarray, gap: float
) -> np.ndarray:
    """Return days-before-as_of positions, oldest first, of n[i] points spread over [lo, hi]."""
    owner = np.repeat(np.arange(n.size), n)
    k = _rank(n)
    n_o = n[owner]
    e = rng.exponential(size=owner.size)
    e[k == 0] = 0.0
    cum = _group_cumsum(e, n)
    last = _starts(n)[1:] - 1
    tot = cum[last][owner] if owner.size else cum
    frac = np.divide(cum, tot, out=np.zeros_like(cum), where=tot > 0)
    span = hi[owner] - lo[owner]
    pos = hi[owner] - k * gap - frac * (span - (n_o - 1) * gap)
    single = n_o == 1
    pos[single] = lo[owner][single] + rng.random(int(single.sum())) * span[single]
    return pos


def _secs(days: np.ndarray) -> np.ndarray:
    """Convert (negative = past) day offsets to whole seconds."""
    return np.rint(days * _DAY).astype(np.int64)


def _to_ts(rel: np.ndarray, as_of_s: int) -> np.ndarray:
    """Convert seconds relative to as_of to datetime64[us]."""
    return ((rel + as_of_s) * 1_000_000).view("M8[us]")


def _cents(x: np.ndarray) -> np.ndarray:
    """Convert integer cents to 2-decimal floats."""
    return np.round(x / 100.0, 2)


def _categorical(codes: np.ndarray, categories: Iterable[str]) -> pd.Categorical:
    """Build a categorical from int codes (-1 = null) and a fixed vocabulary."""
    return pd.Categorical.from_codes(codes.astype(np.int8), categories=list(categories))


# --------------------------------------------------------------------------------------------
# Plan: customers, orders, items, products, personas and per-customer event parameters
# --------------------------------------------------------------------------------------------


@dataclass
class _Plan:
    """Everything except events, plus what the event blocks need."""

    seed: int
    n_customers: int
    as_of_s: int
    tables: dict[str, pd.DataFrame]
    persona: np.ndarray  # per registered customer
    session_rate: np.ndarray  # expected browse sessions per registered customer
    win_lo: np.ndarray  # browse window, days before as_of
    win_hi: np.ndarray
    no_session_id: np.ndarray  # bool per registered customer
    late_customers: np.ndarray  # sorted registered indices with one late browse session
    ord_ptr: np.ndarray  # registered customer -> slice into the per-order arrays below
    ord_rel: np.ndarray  # order time, seconds relative to as_of
    ord_tracked: np.ndarray
    ord_pre: np.ndarray  # events before add_to_cart in the order's session
    ord_carts: np.ndarray
    anon_rate: float  # expected anonymous sessions per customer


def _parse_as_of(as_of: str) -> int:
    """Return as_of midnight as epoch seconds, validating the YYYY-MM-DD format."""
    try:
        day = np.datetime64(as_of, "D")
    except ValueError as exc:
        raise ValueError(f"as_of must be YYYY-MM-DD, got {as_of!r}") from exc
    if str(day) != as_of:
        raise ValueError(f"as_of must be YYYY-MM-DD, got {as_of!r}")
    return int(day.astype("M8[s]").astype(np.int64))


def _products(rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    """Return the products table and each product's price in cents."""
    cat = rng.permutation(np.repeat(np.arange(len(CATEGORIES)), PRODUCTS_PER_CATEGORY))
    bounds = np.log(np.array(CATEGORY_PRICE))[cat]
    price = np.exp(bounds[:, 0] + rng.random(cat.size) * (bounds[:, 1] - bounds[:, 0]))
    cents = np.floor(price).astype(np.int64) * 100 + 99
    df = pd.DataFrame(
        {
            "product_id": np.arange(1, cat.size + 1, dtype=np.int64),
            "category": _categorical(cat, CATEGORIES),
        }
    )
    return df, cents


def _plan(customers: int, seed: int, events_per_customer: float, as_of: str) -> _Plan:
    """Draw everything except the event rows."""
    if customers < 1:
        raise ValueError("customers must be >= 1")
    if events_per_customer < 0:
        raise ValueError("events_per_customer must be >= 0")
    as_of_s = _parse_as_of(as_of)
    as_of_year = int(str(np.datetime64(as_of, "Y")))
    rng = np.random.default_rng(seed)
    n = customers

    # --- personas with exact shares (largest remainder), shuffled
    raw = np.array(PERSONA_SHARES) * n
    counts = np.floor(raw).astype(np.int64)
    counts[np.argsort(-(raw - counts), kind="stable")[: n - counts.sum()]] += 1
    persona = rng.permutation(np.repeat(np.arange(7), counts))

    u = rng.random((n, 6))  # generic uniforms per customer
    # --- number of orders and their window (days before as_of), signup
    n_ord = np.zeros(n, dtype=np.int64)
    lo = np.zeros(n)
    hi = np.zeros(n)
    signup = np.zeros(n)
    is_ = [persona == p for p in range(7)]

    m = is_[LOYAL]
    n_ord[m] = 8 + np.floor(18 * u[m, 0] ** 2)
    lo[m] = 0.05 + 29.95 * u[m, 1]
    hi[m] = 400 + 330 * u[m, 2]
    signup[m] = hi[m] + 0.5 + 300 * u[m, 3]

    m = is_[HUNTER]
    n_ord[m] = 4 + np.floor(7 * u[m, 0] ** 1.5)
    lo[m] = 20 + 100 * u[m, 1]
    hi[m] = 300 + 400 * u[m, 2]
    signup[m] = hi[m] + 0.5 + 300 * u[m, 3]

    m = is_[BROWSER]
    n_ord[m] = u[m, 0] < 0.15
    signup[m] = 30 + 870 * u[m, 3]
    lo[m] = hi[m] = 10 + u[m, 1] * (np.minimum(signup[m] - 0.5, 300) - 10)

    m = is_[ONE_TIME]
    n_ord[m] = 1
    lo[m] = hi[m] = 120 + 380 * u[m, 1]
    signup[m] = hi[m] + 0.5 + 15 * -np.log1p(-u[m, 3])

    m = is_[NEW]
    signup[m] = 1 + 29 * u[m, 3]
    room = signup[m] - 0.55
    lo[m] = 0.05 + 0.3 * room * u[m, 1]
    hi[m] = signup[m] - 0.5 - 0.3 * room * u[m, 2]
    n_ord[m] = np.where((u[m, 0] < 0.5) & (hi[m] - lo[m] >= 1.0), 2, 1)

    m = is_[LAPSED]
    n_ord[m] = 5 + np.floor(11 * u[m, 0] ** 2)
    lo[m] = 300 + 400 * u[m, 1]
    hi[m] = lo[m] + 200 + 400 * u[m, 2]
    signup[m] = hi[m] + 0.5 + 300 * u[m, 3]

    m = is_[PROSPECT]
    signup[m] = 1 + 999 * u[m, 3]

    # --- guests: ~1% of all orders, 1-3 orders each
    n_guest = max(1, round(0.01 / 0.99 * n_ord.sum() / 1.5))
    g_ord = 1 + _pick1(rng, (0.6, 0.3, 0.1), n_guest)
    g_lo = 0.05 + 400 * rng.random(n_guest)
    g_hi = g_lo + 3 + 500 * rng.random(n_guest)

    # --- late orders: one extra order after the as-of day for ~0.2% of orders
    n_late = max(1, round(_LATE_SHARE * (n_ord.sum() + g_ord.sum())))
    late = np.zeros(n, dtype=np.int64)
    late[rng.choice(n, size=min(n_late, n), replace=False)] = 1

    # --- order times per account (registered 0..n-1, guests n..), customer-grouped layout
    acc_n = np.concatenate((n_ord, g_ord))
    acc_lo = np.concatenate((lo, g_lo))
    acc_hi = np.concatenate((hi, g_hi))
    pos = _spread(rng, acc_n, acc_lo, acc_hi, 1.0)
    acc_late = np.concatenate((late, np.zeros(n_guest, dtype=np.int64)))
    tot_n = acc_n + acc_late
    ptr = _starts(tot_n)
    regular_dest = np.arange(pos.size) + np.repeat(_starts(acc_late)[:-1], acc_n)
    rel = np.empty(int(tot_n.sum()), dtype=np.int64)
    rel[regular_dest] = -_secs(pos)
    late_idx = np.flatnonzero(acc_late)
    rel[ptr[late_idx] + acc_n[late_idx]] = _secs(1 + 13 * rng.random(late_idx.size))
    owner = np.repeat(np.arange(tot_n.size), tot_n)
    acc_persona = np.concatenate((persona, np.full(n_guest, GUEST)))
    n_orders = rel.size

    # --- chronological order ids
    chrono = np.argsort(rel, kind="stable")
    rank = np.empty(n_orders, dtype=np.int64)
    rank[chrono] = np.arange(n_orders)
    c_owner = owner[chrono]
    c_pers = acc_persona[c_owner]

    # --- basket: target gross, items, products
    aov = _AOV[acc_persona, 0] + rng.random(tot_n.size) * (
        _AOV[acc_persona, 1] - _AOV[acc_persona, 0]
    )
    exp_disc = _DISCOUNT_P * (_DISCOUNT_LO + _DISCOUNT_HI) / 2
    target = aov[c_owner] / (1 - exp_disc[c_pers]) * rng.lognormal(0.0, 0.3, n_orders)
    n_items = 1 + np.minimum(rng.poisson(0.9, n_orders), 5)
    it_order = np.repeat(np.arange(n_orders), n_items)
    qty = 1 + _pick1(rng, (0.80, 0.15, 0.05), it_order.size)
    qty_per_order = np.bincount(it_order, weights=qty, minlength=n_orders)
    it_target = target[it_order] / qty_per_order[it_order] * rng.lognormal(0.0, 0.35, qty.size)

    products, price_cents = _products(rng)
    by_price = np.argsort(price_cents, kind="stable")
    log_sorted = np.log(price_cents[by_price] / 100.0)
    j = np.searchsorted(log_sorted, np.log(it_target)) + rng.integers(-2, 3, qty.size)
    prod = by_price[np.clip(j, 0, by_price.size - 1)]
    # merge duplicate products within an order
    key, inv = np.unique(it_order * by_price.size + prod, return_inverse=True)
    qty = np.bincount(inv, weights=qty).astype(np.int64)
    it_order = key // by_price.size
    prod = key % by_price.size
    line_cents = qty * price_cents[prod]
    gross = np.bincount(it_order, weights=line_cents, minlength=n_orders).astype(np.int64)

    # --- discounts and status
    disc_on = rng.random(n_orders) < _DISCOUNT_P[c_pers]
    frac = _DISCOUNT_LO[c_pers] + rng.random(n_orders) * (
        _DISCOUNT_HI[c_pers] - _DISCOUNT_LO[c_pers]
    )
    disc = np.where(disc_on, np.rint(gross * frac).astype(np.int64), 0)
    us = rng.random(n_orders)
    status = np.where(us < _CANCEL_P, 1, np.where(us < _CANCEL_P + _RETURN_P[c_pers], 2, 0))
    # a null status means completed: ~11% of completed orders, ~10% of all orders
    status[(status == 0) & (rng.random(n_orders) < _STATUS_NULL_P / 0.9)] = -1

    orders = pd.DataFrame(
        {
            "order_id": np.arange(1, n_orders + 1, dtype=np.int64),
            "customer_id": c_owner.astype(np.int64) + 1,
            "ordered_at": _to_ts(rel[chrono], as_of_s),
            "order_total": _cents(gross - disc),
            "discount_amount": np.where(disc_on, _cents(disc), np.nan),
            "status": _categorical(status, ORDER_STATUSES),
        }
    )
    order_items = pd.DataFrame(
        {
            "order_id": it_order.astype(np.int64) + 1,
            "product_id": prod.astype(np.int64) + 1,
            "quantity": qty.astype(np.int32),
            "unit_price": _cents(price_cents[prod]),
        }
    )

    # --- customer attributes
    age = _AGE[persona, 0] + np.floor(u[:, 4] * (_AGE[persona, 1] - _AGE[persona, 0] + 1))
    birth = (as_of_year - age - (u[:, 5] < 0.5)).astype(np.int64)
    birth_null = rng.random(n) < 0.03
    income = _INCOME[persona, 0] * np.exp(_INCOME[persona, 1] * rng.standard_normal(n))
    income = np.round(income, -2)
    income[rng.random(n) < 0.10] = np.nan
    channel = _pick(rng, np.cumsum(_CHANNEL_P, axis=1)[persona])
    channel[rng.random(n) < 0.02] = -1
    country = _pick1(rng, COUNTRY_P, n)
    country[rng.random(n) < 0.01] = -1
    gender = _pick1(rng, (p for _, p in _GENDER_VALUES), n)
    signup_rel = -_secs(signup)
    customers_df = pd.DataFrame(
        {
            "customer_id": np.arange(1, n + 1, dtype=np.int64),
            "signup_at": _to_ts(signup_rel, as_of_s),
            "birth_year": pd.arrays.IntegerArray(birth.astype(np.int32), birth_null),
            "gender": _categorical(gender, GENDERS),
            "country": _categorical(country, COUNTRIES),
            "income": income,
            "acquisition_channel": _categorical(channel, CHANNELS),
        }
    )
    personas = pd.DataFrame(
        {
            "customer_id": np.arange(1, n + n_guest + 1, dtype=np.int64),
            "persona": _categorical(acc_persona, PERSONAS),
        }
    )

    # --- event parameters
    target_events = events_per_customer * n
    reg = owner < n  # guests have no tracked sessions
    n_items_layout = np.bincount(it_order, minlength=n_orders)[rank]
    pre = 1 + np.minimum(rng.poisson(1.5, n_orders), 9)
    carts = 1 + ((n_items_layout >= 2) & (rng.random(n_orders) < 0.5))
    size = pre + carts + 2
    order_events = size[reg].sum()
    q = min(1.0, _ORDER_EVENT_BUDGET * target_events / order_events) if order_events else 0.0
    tracked = reg & (rng.random(n_orders) < q)
    tracked_events = size[tracked].sum()
    late_order_events = size[tracked & (rel > 0)].sum()
    n_late_sessions = round(max(0.0, _LATE_SHARE * target_events - late_order_events) / 5.0)
    late_customers = np.sort(rng.choice(n, size=min(n_late_sessions, n), replace=False))
    budget = target_events * (1 - _ANON_SHARE) - tracked_events - 5.0 * late_customers.size
    weight = _NONORDER_WEIGHT[persona] * rng.lognormal(-0.125, 0.5, n)
    lam = max(budget, 0.0) * _DROP_COMPENSATION * weight / weight.sum()

    win_lo = np.full(n, 0.15)
    win_hi = signup - 0.2
    m = is_[LOYAL]
    win_hi[m] = np.minimum(win_hi[m], 730)
    m = is_[HUNTER]
    win_lo[m] = np.maximum(0.15, lo[m] - 20)
    win_hi[m] = np.minimum(win_hi[m], hi[m] + 10)
    m = is_[BROWSER]
    win_hi[m] = np.minimum(win_hi[m], 365)
    m = is_[ONE_TIME]
    win_lo[m] = np.maximum(0.15, lo[m] - 30)
    win_hi[m] = np.minimum(win_hi[m], hi[m] + 30)
    m = is_[LAPSED]
    win_lo[m] = lo[m] - 10
    win_hi[m] = np.minimum(win_hi[m], hi[m])
    m = is_[PROSPECT]
    win_lo[m] = np.maximum(0.15, signup[m] - 90)
    win_hi = np.maximum(win_hi, win_lo)

    reg_ptr = ptr[: n + 1]
    return _Plan(
        seed=seed,
        n_customers=n,
        as_of_s=as_of_s,
        tables={
            "customers": customers_df,
            "orders": orders,
            "order_items": order_items,
            "products": products,
            "personas": personas,
        },
        persona=persona,
        session_rate=lam / _SESSION_MEAN[persona],
        win_lo=win_lo,
        win_hi=win_hi,
        no_session_id=rng.random(n) < _NO_SESSION_ID_SHARE,
        late_customers=late_customers,
        ord_ptr=reg_ptr,
        ord_rel=rel[: reg_ptr[-1]],
        ord_tracked=tracked[: reg_ptr[-1]],
        ord_pre=pre[: reg_ptr[-1]],
        ord_carts=carts[: reg_ptr[-1]],
        anon_rate=_ANON_SHARE * events_per_customer / 3.5,
    )


# --------------------------------------------------------------------------------------------
# Events, in blocks of customers
# --------------------------------------------------------------------------------------------

_BROWSE_CUM = np.cumsum(_BROWSE_P, axis=1)
_EVENT_DICT = pa.array(EVENT_TYPES, pa.string())


def _event_block(
    plan: _Plan, block: int, event_offset: int, session_offset: int
) -> tuple[pa.Table, int]:
    """Build the events of one block of customers; return the table and its session count."""
    c0 = block * _CHUNK
    c1 = min(plan.n_customers, c0 + _CHUNK)
    rng = np.random.default_rng([plan.seed, 1, block])
    ids = np.arange(c0, c1)

    # sessions around tracked orders: page/product views, add_to_cart, checkout, purchase
    o0, o1 = plan.ord_ptr[c0], plan.ord_ptr[c1]
    tracked = plan.ord_tracked[o0:o1]
    o_cust = np.repeat(ids, np.diff(plan.ord_ptr[c0 : c1 + 1]))[tracked]
    o_carts = plan.ord_carts[o0:o1][tracked]
    o_size = plan.ord_pre[o0:o1][tracked] + o_carts + 2
    o_anchor = plan.ord_rel[o0:o1][tracked] + rng.integers(0, 6, o_cust.size)

    # browse sessions inside each customer's persona window
    n_browse = rng.poisson(plan.session_rate[c0:c1])
    # browsers and new customers have visited the shop at least once
    must_visit = np.isin(plan.persona[c0:c1], (BROWSER, NEW))
    n_browse = np.where(must_visit, np.maximum(n_browse, 1), n_browse)
    b_cust = np.repeat(ids, n_browse)
    lo, hi = plan.win_lo[b_cust], plan.win_hi[b_cust]
    b_anchor = -_secs(lo + rng.random(b_cust.size) * (hi - lo))
    b_size = 1 + np.minimum(rng.poisson(_SESSION_MEAN[plan.persona[b_cust]] - 1), 19)

    # late-arriving browse sessions (after the as-of day)
    a, z = np.searchsorted(plan.late_customers, [c0, c1])
    l_cust = plan.late_customers[a:z]
    l_anchor = _secs(1 + 14 * rng.random(l_cust.size))
    l_size = 1 + np.minimum(rng.poisson(4.0, l_cust.size), 19)

    # anonymous sessions: each gets its own fake customer index >= c1 (null customer_id)
    n_anon = rng.poisson(plan.anon_rate * (c1 - c0))
    a_cust = c1 + np.arange(n_anon)
    a_anchor = -_secs(0.15 + 364.85 * rng.random(n_anon))
    a_size = 1 + np.minimum(rng.poisson(2.5, n_anon), 19)

    cust = np.concatenate((o_cust, b_cust, l_cust, a_cust)).astype(np.int64)
    anchor = np.concatenate((o_anchor, b_anchor, l_anchor, a_anchor))
    size = np.concatenate((o_size, b_size, l_size, a_size)).astype(np.int64)
    carts = np.concatenate((o_carts, np.zeros(cust.size - o_cust.size, dtype=np.int64)))
    is_order = np.arange(cust.size) < o_cust.size

    # seconds-to-minutes between events; order sessions end (purchase) at the order time
    k = _rank(size)
    gaps = 1 + np.minimum(rng.exponential(40.0, k.size), _MAX_EVENT_GAP - 1).astype(np.int64)
    gaps[k == 0] = 0
    offs = _group_cumsum(gaps, size)
    first = _starts(size)
    dur = offs[first[1:] - 1] if offs.size else np.zeros(0, dtype=np.int64)
    start = anchor - np.where(is_order, dur, 0)

    # keep order sessions; drop browse sessions closer than _MIN_SESSION_GAP to a neighbour
    srt = np.lexsort((start, cust))
    cs, ss = cust[srt], start[srt]
    shift = (cs - c0) << 32
    run_end = np.maximum.accumulate(shift + (ss + dur[srt] + (1 << 31))) - shift - (1 << 31)
    ok = (cs[1:] != cs[:-1]) | (ss[1:] - run_end[:-1] >= _MIN_SESSION_GAP)
    clean = np.concatenate(([True], ok)) & np.concatenate((ok, [True]))
    sel = srt[is_order[srt] | clean]

    # materialise events of the kept sessions
    n_kept = sel.size
    k_size = size[sel]
    j = _rank(k_size)
    src = np.repeat(first[:-1][sel], k_size) + j
    sess = np.repeat(np.arange(n_kept), k_size)
    t = np.repeat(start[sel], k_size) + offs[src]
    ev_cust = np.repeat(cust[sel], k_size)
    anon = ev_cust >= c1
    ev_order = np.repeat(is_order[sel], k_size)
    row = np.where(ev_order | anon, _PRE_ROW, plan.persona[np.where(anon, c0, ev_cust)])
    code = _pick(rng, _BROWSE_CUM[row])
    open_search = ~ev_order & ~anon & (rng.random(j.size) < 0.25)
    code[j == 0] = np.where(open_search, SEARCH, PAGE_VIEW)[j == 0]
    back = np.repeat(k_size, k_size) - 1 - j  # events left after this one in the session
    cart_zone = ev_order & (back >= 2) & (back <= 1 + np.repeat(carts[sel], k_size))
    code[cart_zone] = ADD_TO_CART
    code[ev_order & (back == 1)] = CHECKOUT
    code[ev_order & (back == 0)] = PURCHASE

    s_cust = cust[sel]
    s_null = np.zeros(n_kept, dtype=bool)
    reg = s_cust < c1
    s_null[reg] = plan.no_session_id[s_cust[reg]]
    s_num = pa.array(np.arange(session_offset, session_offset + n_kept), mask=s_null)
    s_str = pc.binary_join_element_wise("s", pc.cast(s_num, pa.string()), "")
    table = pa.Table.from_arrays(
        [
            pa.array(np.arange(event_offset + 1, event_offset + 1 + j.size, dtype=np.int64)),
            pa.array(np.where(anon, 0, ev_cust + 1), type=pa.int64(), mask=anon),
            s_str.take(pa.array(sess)),
            pa.DictionaryArray.from_arrays(pa.array(code.astype(np.int8)), _EVENT_DICT),
            pa.array(_to_ts(t, plan.as_of_s)),
        ],
        schema=SCHEMAS["events"],
    )
    return table, n_kept


def _iter_events(plan: _Plan) -> Iterator[pa.Table]:
    """Yield the events table block by block, with globally unique event and session ids."""
    event_offset = session_offset = 0
    for block in range(-(-plan.n_customers // _CHUNK)):
        table, n_sessions = _event_block(plan, block, event_offset, session_offset)
        event_offset += table.num_rows
        session_offset += n_sessions
        yield table


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def generate(
    customers: int = 5000,
    seed: int = 42,
    events_per_customer: float = 12.0,
    as_of: str = "2026-06-30",
) -> dict[str, pd.DataFrame]:
    """Generate all demo tables (five inputs plus the ``personas`` truth) as DataFrames."""
    plan = _plan(customers, seed, events_per_customer, as_of)
    events = pa.concat_tables(list(_iter_events(plan))).to_pandas()
    t = plan.tables
    return {
        "customers": t["customers"],
        "orders": t["orders"],
        "order_items": t["order_items"],
        "products": t["products"],
        "events": events,
        "personas": t["personas"],
    }


def _path(out_dir: Path, name: str, fmt: str) -> Path:
    """Return where a table is written (the truth table goes to the ``truth/`` subfolder)."""
    folder = out_dir / TRUTH_DIR if name == TRUTH_TABLE else out_dir
    return folder / f"{name}.{fmt}"


def _to_arrow(name: str, df: pd.DataFrame) -> pa.Table:
    """Convert a DataFrame to the table's canonical arrow schema."""
    schema = SCHEMAS[name]
    table = pa.Table.from_pandas(df[list(schema.names)], preserve_index=False)
    return table.cast(schema)


def _rebatch(tables: Iterable[pa.Table], rows: int) -> Iterator[pa.Table]:
    """Re-cut a stream of tables into contiguous pieces of exactly ``rows`` rows (last shorter)."""
    buf: list[pa.Table] = []
    have = 0
    for table in tables:
        buf.append(table)
        have += table.num_rows
        while have >= rows:
            whole = pa.concat_tables(buf)
            yield whole.slice(0, rows).combine_chunks()
            buf, have = [whole.slice(rows)], have - rows
    if have:
        yield pa.concat_tables(buf).combine_chunks()


def _csv_ready(table: pa.Table) -> pa.Table:
    """Decode dictionaries and format timestamps as ISO strings for CSV output."""
    cols = []
    for field, col in zip(table.schema, table.columns, strict=True):
        if pa.types.is_dictionary(field.type):
            col = col.cast(pa.string())
        elif pa.types.is_timestamp(field.type):
            text = pc.cast(pc.cast(col, pa.timestamp("s"), safe=False), pa.string())
            col = pc.replace_substring(
                text, " ", "T", max_replacements=1
            )  # 5x faster than strftime
        cols.append(col)
    return pa.Table.from_arrays(cols, names=table.column_names)


def _write_stream(path: Path, fmt: str, schema: pa.Schema, tables: Iterable[pa.Table]) -> int:
    """Write a stream of tables with the given schema to one file; return the row count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    if fmt == "parquet":
        with pq.ParquetWriter(path, schema, compression="zstd") as writer:
            for piece in _rebatch(tables, _ROW_GROUP):
                writer.write_table(piece, row_group_size=_ROW_GROUP)
                rows += piece.num_rows
    elif fmt == "csv":
        csv_schema = _csv_ready(schema.empty_table()).schema
        with pacsv.CSVWriter(path, csv_schema) as writer:  # strings are always quoted
            for piece in _rebatch(tables, _ROW_GROUP):
                writer.write_table(_csv_ready(piece))
                rows += piece.num_rows
    else:
        raise ValueError(f"fmt must be 'parquet' or 'csv', got {fmt!r}")
    return rows


def write(
    tables: Mapping[str, pd.DataFrame], out_dir: str | Path, fmt: str = "parquet"
) -> dict[str, Path]:
    """Write tables as ``<name>.<fmt>`` into out_dir (``personas`` into ``out_dir/truth/``)."""
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"fmt must be 'parquet' or 'csv', got {fmt!r}")
    out = Path(out_dir)
    paths = {}
    for name, df in tables.items():
        if name not in SCHEMAS:
            raise ValueError(f"unknown table {name!r}")
        paths[name] = _path(out, name, fmt)
        _write_stream(paths[name], fmt, SCHEMAS[name], [_to_arrow(name, df)])
    return paths


def generate_to(
    out_dir: str | Path,
    customers: int = 5000,
    seed: int = 42,
    events_per_customer: float = 12.0,
    as_of: str = "2026-06-30",
    fmt: str = "parquet",
) -> dict[str, int]:
    """Generate and write all tables, streaming events block by block; return row counts."""
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"fmt must be 'parquet' or 'csv', got {fmt!r}")
    plan = _plan(customers, seed, events_per_customer, as_of)
    out = Path(out_dir)
    small = plan.tables
    plan.tables = {}  # drop the references so each small frame is freed once written
    counts = {}
    for name in (*INPUT_TABLES, TRUTH_TABLE):
        if name == "events":
            stream: Iterable[pa.Table] = _iter_events(plan)
        else:
            stream = [_to_arrow(name, small.pop(name))]
        counts[name] = _write_stream(_path(out, name, fmt), fmt, SCHEMAS[name], stream)
    return counts


# The CLI writes only into a folder it created: this file marks it (and records the settings
# of the data in it); `.customers-N` marked folders of older `make demo` runs count as created.
MARKER = ".shopseg-demo"
_LEGACY_MARKER = ".customers-"


def _outputs(out: Path) -> list[Path]:
    """Every file the CLI may have written into `out`, in either format."""
    names = (*INPUT_TABLES, TRUTH_TABLE)
    return [_path(out, name, fmt) for name in names for fmt in ("parquet", "csv")]


def _is_marked(out: Path) -> bool:
    return (out / MARKER).is_file() or any(out.glob(f"{_LEGACY_MARKER}*"))


def _refusal(out: Path) -> str | None:
    """Why the CLI may not write into `out` (a line), or None when it may."""
    if out.exists() and not out.is_dir():
        return f"shopseg: demo: {out} is a file, not a folder: pick another --out"
    if not out.exists() or _is_marked(out):
        return None
    entries = sorted(path.name + ("/" if path.is_dir() else "") for path in out.iterdir())
    if not entries:
        return None
    shown = ", ".join(entries[:5]) + (f" and {len(entries) - 5} more" if len(entries) > 5 else "")
    return (
        f"shopseg: demo: refusing to overwrite {out}: it holds files the demo did not write "
        f"({shown}) and no {MARKER} marker; set DEMO_DIR (or --out) to another folder, "
        "or remove this one yourself"
    )


def _prepare(out: Path, settings: dict[str, object], reuse: bool) -> bool:
    """Empty the demo's own files in `out` and mark it; False when reuse keeps it as it is."""
    marker = out / MARKER
    if reuse and marker.is_file():
        try:
            recorded = json.loads(marker.read_text())
        except ValueError:
            recorded = None
        fmt = str(settings["format"])
        wanted = [_path(out, name, fmt) for name in (*INPUT_TABLES, TRUTH_TABLE)]
        if recorded == settings | {"complete": True} and all(p.is_file() for p in wanted):
            return False
    out.mkdir(parents=True, exist_ok=True)
    # marked before the first table is written, so an interrupted run is regenerated
    marker.write_text(json.dumps(settings | {"complete": False}) + "\n")
    for path in [*_outputs(out), *out.glob(f"{_LEGACY_MARKER}*")]:
        path.unlink(missing_ok=True)
    return True


def main(argv: list[str] | None = None) -> int:
    """Command line entry point: generate demo data into a folder and print row counts.

    It writes only into a new or empty folder, or one it marked itself; any other folder
    is refused with one line, untouched.
    """
    parser = argparse.ArgumentParser(
        prog="python -m shopseg.demo",
        description="Generate deterministic demo shop data with planted customer personas.",
    )
    parser.add_argument("--customers", type=int, required=True, help="registered customers")
    parser.add_argument(
        "--out", type=Path, required=True, help="output folder: new, empty or a demo folder"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--events-per-customer", type=float, default=12.0)
    parser.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    parser.add_argument("--as-of", default="2026-06-30", help="YYYY-MM-DD")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the folder as it is when it holds complete demo data of these settings",
    )
    args = parser.parse_args(argv)
    refusal = _refusal(args.out)
    if refusal is not None:
        print(refusal, file=sys.stderr)
        return 2
    settings: dict[str, object] = {
        "customers": args.customers,
        "seed": args.seed,
        "events_per_customer": args.events_per_customer,
        "as_of": args.as_of,
        "format": args.format,
    }
    if not _prepare(args.out, settings, args.reuse):
        print(f"demo data already in {args.out} ({args.customers} customers)")
        return 0
    started = time.perf_counter()
    counts = generate_to(
        args.out,
        customers=args.customers,
        seed=args.seed,
        events_per_customer=args.events_per_customer,
        as_of=args.as_of,
        fmt=args.format,
    )
    (args.out / MARKER).write_text(json.dumps(settings | {"complete": True}) + "\n")
    seconds = time.perf_counter() - started
    summary = " ".join(f"{name}={rows}" for name, rows in counts.items())
    print(f"{summary} seconds={seconds:.2f} out={args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
