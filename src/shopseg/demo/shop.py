"""A whole demo shop: every table drawn from one seed, in memory or streamed to files.

Conventions shared by the table modules:

* All regular timestamps are strictly before ``as_of`` 00:00:00 (the start of the as-of day);
  late-arriving rows are at least one full day after that (after the as-of day has ended), so
  both ``ts < as_of`` and ``ts::date <= as_of`` filters drop exactly the late rows.
* Times are int64 seconds relative to ``as_of`` midnight, converted to timestamps at the end.
* Everything but the event rows comes from one ``default_rng(seed)``, drawn in the order of
  :func:`draw_shop`; the event rows come from one generator per block of customers (see
  ``events``) and the planted interests from their own (see ``interests``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from shopseg.demo.customers import customers_table
from shopseg.demo.events import SessionPlan, iter_events, plan_sessions
from shopseg.demo.files import FORMATS, table_path, to_arrow, write_stream
from shopseg.demo.orders import draw_orders
from shopseg.demo.personas import draw_accounts, personas_table
from shopseg.demo.schema import INPUT_TABLES, SCHEMAS, TRUTH_TABLE


def parse_as_of(as_of: str) -> int:
    """Return as_of midnight as epoch seconds, validating the YYYY-MM-DD format.

    Parameters
    ----------
    as_of : str
        A date as ``YYYY-MM-DD``.

    Returns
    -------
    int
        Midnight (UTC) of that day in seconds since the epoch.

    Raises
    ------
    ValueError
        When as_of is not a valid ``YYYY-MM-DD`` date.
    """
    try:
        day = np.datetime64(as_of, "D")
    except ValueError as exc:
        raise ValueError(f"as_of must be YYYY-MM-DD, got {as_of!r}") from exc
    if str(day) != as_of:
        raise ValueError(f"as_of must be YYYY-MM-DD, got {as_of!r}")
    return int(day.astype("M8[s]").astype(np.int64))


def draw_shop(
    customers: int, seed: int, events_per_customer: float, as_of: str
) -> tuple[dict[str, pd.DataFrame], SessionPlan]:
    """Draw every table but the events, and the plan the event blocks are drawn from.

    Parameters
    ----------
    customers : int
        Registered customers (guests come on top).
    seed : int
        Seed of the shop's generator.
    events_per_customer : float
        Target number of events per registered customer.
    as_of : str
        The shop's as-of date, ``YYYY-MM-DD``.

    Returns
    -------
    tables : dict of str to pandas.DataFrame
        ``customers``, ``orders``, ``order_items``, ``products`` and ``personas``.
    sessions : SessionPlan
        What :func:`shopseg.demo.events.iter_events` needs to draw the events.
    """
    if customers < 1:
        raise ValueError("customers must be >= 1")
    if events_per_customer < 0:
        raise ValueError("events_per_customer must be >= 0")
    as_of_s = parse_as_of(as_of)
    as_of_year = int(str(np.datetime64(as_of, "Y")))
    rng = np.random.default_rng(seed)
    # One generator, drawn in this order: moving a call changes every table after it.
    accounts = draw_accounts(rng, customers)
    book = draw_orders(rng, accounts, as_of_s, np.random.default_rng([seed, 2]))
    customers_df = customers_table(rng, accounts, as_of_year, as_of_s)
    sessions = plan_sessions(rng, accounts, book, events_per_customer, seed, as_of_s)
    tables = {
        "customers": customers_df,
        "orders": book.orders,
        "order_items": book.order_items,
        "products": book.products,
        "personas": personas_table(accounts),
    }
    return tables, sessions


def generate(
    customers: int = 5000,
    seed: int = 42,
    events_per_customer: float = 12.0,
    as_of: str = "2026-06-30",
) -> dict[str, pd.DataFrame]:
    """Generate all demo tables (five inputs plus the ``personas`` truth) as DataFrames.

    Parameters
    ----------
    customers : int, default 5000
        Registered customers; about 1% of the orders come from guests on top.
    seed : int, default 42
        The same seed gives the same tables, row for row.
    events_per_customer : float, default 12.0
        Target number of events per registered customer.
    as_of : str, default "2026-06-30"
        The shop's as-of date, ``YYYY-MM-DD``: regular rows are before it, a few late rows after.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``customers``, ``orders``, ``order_items``, ``products``, ``events`` and ``personas``
        (the planted persona of every customer and guest).
    """
    tables, sessions = draw_shop(customers, seed, events_per_customer, as_of)
    events = pa.concat_tables(list(iter_events(sessions))).to_pandas()
    return {
        "customers": tables["customers"],
        "orders": tables["orders"],
        "order_items": tables["order_items"],
        "products": tables["products"],
        "events": events,
        "personas": tables["personas"],
    }


def generate_to(
    out_dir: str | Path,
    customers: int = 5000,
    seed: int = 42,
    events_per_customer: float = 12.0,
    as_of: str = "2026-06-30",
    fmt: str = "parquet",
) -> dict[str, int]:
    """Generate and write all tables, streaming events block by block; return row counts.

    The files are the same bytes as ``write(generate(...), out_dir, fmt)`` writes, but the
    events are never held in memory at once.

    Parameters
    ----------
    out_dir : str or Path
        The folder to write into (``personas`` goes to ``out_dir/truth/``).
    customers : int, default 5000
        Registered customers.
    seed : int, default 42
        Seed of the shop.
    events_per_customer : float, default 12.0
        Target number of events per registered customer.
    as_of : str, default "2026-06-30"
        The shop's as-of date, ``YYYY-MM-DD``.
    fmt : {"parquet", "csv"}, default "parquet"
        File format.

    Returns
    -------
    dict of str to int
        Rows written per table.
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be 'parquet' or 'csv', got {fmt!r}")
    small, sessions = draw_shop(customers, seed, events_per_customer, as_of)
    out = Path(out_dir)
    counts = {}
    for name in (*INPUT_TABLES, TRUTH_TABLE):
        if name == "events":
            stream: Iterable[pa.Table] = iter_events(sessions)
        else:
            # popped, so each small frame is freed once written
            stream = [to_arrow(name, small.pop(name))]
        counts[name] = write_stream(table_path(out, name, fmt), fmt, SCHEMAS[name], stream)
    return counts
