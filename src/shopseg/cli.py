"""The `shopseg` command: demo data and a summary of the latest segmentation."""

from __future__ import annotations

import argparse
import sys


def summary(db_path: str) -> str:
    """A short text summary of the segmentation stored in a DuckDB file."""
    import duckdb

    con = duckdb.connect(db_path, read_only=True)
    try:
        run = con.execute(
            "select run_id, customers, k, silhouette, k_rule, as_of_at from segmentation_runs"
        ).fetchone()
        sizes = con.execute(
            "select segment_id, segment_name, count(*) as customers "
            "from customer_segments group by 1, 2 order by 1"
        ).fetchall()
    finally:
        con.close()
    if run is None:
        return "no segmentation run found"
    run_id, customers, k, silhouette, rule, as_of = run
    lines = [
        f"shopseg run {run_id}: {customers} customers as of {as_of}, k = {k} ({rule}),"
        f" silhouette = {silhouette:.3f}",
        f"{'segment':>8}  {'name':<34} {'customers':>9} {'share':>6}",
    ]
    for segment_id, name, n in sizes:
        lines.append(f"{segment_id:>8}  {name:<34} {n:>9} {n / customers:>6.1%}")
    lines.append(
        f"tables: {db_path} (customer_segments, segmentation_runs, segment_k_selection, "
        "customer_features)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `shopseg` console command."""
    parser = argparse.ArgumentParser(prog="shopseg", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="generate demo shop data (see shopseg demo --help)", add_help=False)
    p_sum = sub.add_parser("summary", help="summarise the latest segmentation")
    p_sum.add_argument("--db", required=True, help="DuckDB file dbt built")
    args, rest = parser.parse_known_args(argv)
    if args.command == "demo":
        from shopseg import demo

        return demo.main(rest)
    if rest:
        parser.error(f"unrecognised arguments: {' '.join(rest)}")
    print(summary(args.db))
    return 0


if __name__ == "__main__":
    sys.exit(main())
