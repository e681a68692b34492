"""The floor the benchmark compares `dbt build` with: one plain DuckDB query over the inputs.

It computes the core per-customer aggregates and nothing else: completed orders, revenue,
recency, sessions by the 30-minute gap rule, product views and cart adds, and writes them to
one Parquet file. No cleaning, no tests, no models: what any tool must at least read and
group. Run from the repository root as `python -m bench.floor --input DIR --out FILE`; it
prints one JSON line with the seconds and the customers written.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import duckdb

SESSION_GAP_MINUTES = 30


def floor_sql(input_dir: Path, out: Path) -> str:
    """The one statement: per-customer aggregates of orders (and events, where there are)."""
    orders = (input_dir / "orders.parquet").as_posix()
    events = input_dir / "events.parquet"
    order_part = f"""
        with orders as (
            select customer_id, ordered_at, order_total,
                   coalesce(lower(trim(status)), 'completed') = 'completed' as completed
            from read_parquet('{orders}')
            where customer_id is not null
        ),
        as_of as (select max(ordered_at) as as_of_at from orders),
        per_order as (
            select customer_id,
                   count(*) filter (where completed) as order_count,
                   coalesce(sum(order_total) filter (where completed), 0) as revenue,
                   date_diff('day', max(ordered_at) filter (where completed),
                             (select as_of_at from as_of)) as recency_days
            from orders group by customer_id
        )"""
    if not events.exists():
        query = f"{order_part} select * from per_order"
    else:
        query = f"""{order_part},
        gaps as (
            select customer_id, event_type,
                   coalesce(occurred_at - lag(occurred_at) over (
                       partition by customer_id order by occurred_at, event_id
                   ) > interval {SESSION_GAP_MINUTES} minute, true) as starts_session
            from read_parquet('{events.as_posix()}')
            where customer_id is not null
        ),
        per_event as (
            select customer_id,
                   count(*) filter (where starts_session) as session_count,
                   count(*) filter (where lower(event_type) = 'product_view') as product_views,
                   count(*) filter (where lower(event_type) = 'add_to_cart') as cart_adds
            from gaps group by customer_id
        )
        select coalesce(o.customer_id, e.customer_id) as customer_id,
               o.order_count, o.revenue, o.recency_days,
               e.session_count, e.product_views, e.cart_adds
        from per_order as o full join per_event as e on o.customer_id = e.customer_id"""
    return f"copy ({query}) to '{out.as_posix()}' (format parquet)"


def main(argv: list[str] | None = None) -> int:
    """Command line entry point: run the floor query and print one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__)
    parser.add_argument("--input", type=Path, required=True, help="shop folder of parquet files")
    parser.add_argument("--out", type=Path, required=True, help="the Parquet file to write")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    con = duckdb.connect()
    con.execute(floor_sql(args.input.resolve(), args.out.resolve()))
    seconds = time.perf_counter() - started
    customers = con.execute(f"select count(*) from '{args.out.resolve().as_posix()}'").fetchone()
    print(json.dumps({"status": "ok", "seconds": seconds, "customers": customers[0]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
