"""What the demo's files hold: table names, the vocabulary of every coded column, arrow schemas.

How the rows are drawn lives in one module per table (``personas``, ``orders``, ``products``,
``customers``, ``events``); the codes below are the indices those modules draw.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

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
LOYAL, HUNTER, BROWSER, ONE_TIME, NEW, LAPSED, PROSPECT, GUEST = range(8)

EVENT_TYPES = ("page_view", "product_view", "search", "add_to_cart", "checkout", "purchase")
PAGE_VIEW, PRODUCT_VIEW, SEARCH, ADD_TO_CART, CHECKOUT, PURCHASE = range(6)
ORDER_STATUSES = ("completed", "cancelled", "returned")
CHANNELS = ("organic", "paid_search", "social", "email", "referral", "affiliate")
COUNTRIES = ("DE", "FR", "GB", "US", "ES", "IT", "NL", "PL")
CATEGORIES = ("electronics", "fashion", "home", "beauty", "sports", "books", "toys", "grocery")

# Messy free-text gender: (value, share); the remaining share is null.
GENDER_VALUES = (
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
GENDERS = tuple(v for v, _ in GENDER_VALUES)

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
