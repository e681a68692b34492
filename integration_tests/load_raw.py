"""Load a Shopify-shaped raw shop into a DuckDB file (schema raw_shopify), as an EL tool would.

The shop is shopseg's demo generator reshaped the way Shopify and a web tracker export
it: numeric `id` columns, `created_at` as ISO-8601 text in the shop's local offsets,
amounts as text, `financial_status` words, customer columns under other names, event
times as TIMESTAMP WITH TIME ZONE. The integration project's staging models map it to
shopseg's contract.

    python integration_tests/load_raw.py integration.duckdb [--customers 600]
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd

from shopseg import demo

SCHEMA = "raw_shopify"
# Local offsets the orders and sign-ups are written in (Shopify writes the shop's zone).
OFFSETS = [
    dt.timedelta(hours=2),
    dt.timedelta(hours=-5),
    dt.timedelta(0),
    dt.timedelta(hours=5, minutes=30),
]
STATUS_WORDS = {"completed": "paid", "returned": "refunded", "cancelled": "voided"}


def iso_local(at: pd.Timestamp, key: int, compact: bool = False) -> str | None:
    """A UTC time as ISO-8601 text in one of OFFSETS (chosen by `key`), with its offset."""
    if pd.isna(at):
        return None
    offset = OFFSETS[key % len(OFFSETS)]
    local = at.to_pydatetime().replace(tzinfo=dt.UTC).astimezone(dt.timezone(offset))
    text = local.isoformat()
    if compact and offset:  # +0530 rather than +05:30: both occur in exports
        text = text[:-3] + text[-2:]
    return text.replace("+00:00", "Z")


def money_text(value: float) -> str | None:
    """An amount as Shopify writes it: text with two decimals."""
    return None if pd.isna(value) else f"{value:.2f}"


def shopify_tables(customers: int = 600, seed: int = 7) -> dict[str, pd.DataFrame]:
    """The raw tables: orders, customers, order_lines, products, events."""
    shop = demo.generate(customers=customers, seed=seed)
    orders, people = shop["orders"], shop["customers"]
    status = orders["status"].astype(object)
    raw_orders = pd.DataFrame(
        {
            "id": orders["order_id"] + 450_000_000,
            "customer_id": orders["customer_id"],
            "created_at": [
                iso_local(at, int(cid), compact=i % 3 == 0)
                for i, (at, cid) in enumerate(
                    zip(orders["ordered_at"], orders["customer_id"], strict=True)
                )
            ],
            "total_price": orders["order_total"].map(money_text),
            "total_discounts": orders["discount_amount"].map(money_text),
            "financial_status": [
                "partially_refunded"
                if word is None and i % 7 == 0
                else STATUS_WORDS.get(word, "paid")
                for i, word in enumerate(status.where(status.notna(), None))
            ],
        }
    )
    raw_customers = pd.DataFrame(
        {
            "id": people["customer_id"],
            "created_at": [
                iso_local(at, int(cid))
                for at, cid in zip(people["signup_at"], people["customer_id"], strict=True)
            ],
            "sex": people["gender"].astype(object),
            "country_code": people["country"].astype(object),
            "year_of_birth": people["birth_year"].astype("Int64"),
            "yearly_income": people["income"],
            "first_touch_channel": people["acquisition_channel"].astype(object),
        }
    )
    items = shop["order_items"]
    raw_lines = pd.DataFrame(
        {
            "order_id": items["order_id"] + 450_000_000,
            "product_id": items["product_id"],
            "quantity": items["quantity"].astype("int64"),
            "price": items["unit_price"].map(money_text),
        }
    )
    products = shop["products"]
    raw_products = pd.DataFrame(
        {"id": products["product_id"], "product_type": products["category"].astype(object)}
    )
    events = shop["events"]
    raw_events = pd.DataFrame(
        {
            "event_id": events["event_id"],
            "user_id": events["customer_id"].astype("Int64"),
            "domain_sessionid": events["session_id"].astype(object),
            "event_name": events["event_type"].astype(object),
            "collector_tstamp": events["occurred_at"].dt.tz_localize("UTC"),
        }
    )
    return {
        "orders": raw_orders,
        "customers": raw_customers,
        "order_lines": raw_lines,
        "products": raw_products,
        "events": raw_events,
    }


def load(db_path: str | Path, tables: dict[str, pd.DataFrame]) -> None:
    """Write the raw tables into schema raw_shopify of a DuckDB file (replacing them)."""
    Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(db_path))
    try:
        con.execute(f"create schema if not exists {SCHEMA}")
        for name, frame in tables.items():
            con.register("incoming", frame)
            con.execute(f"create or replace table {SCHEMA}.{name} as select * from incoming")
            con.unregister("incoming")
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db_path")
    parser.add_argument("--customers", type=int, default=600)
    args = parser.parse_args()
    load(args.db_path, shopify_tables(args.customers))


if __name__ == "__main__":
    main()
