"""The `shopseg` command: demo data, evaluation, and the published segmentation.

`summary`, `report` and `export` read the published DuckDB file, read-only.
"""

from __future__ import annotations

import argparse
import os
import sys


def summary(db_path: str) -> str:
    """Return a short text summary of the published segmentation in a DuckDB file.

    Parameters
    ----------
    db_path : str
        The published DuckDB file, opened read-only.

    Returns
    -------
    str
        The current run (customers, k, silhouette, bootstrap stability, stability against
        the previous build), one line per segment (with its bootstrap Jaccard, marked when
        the segment does not reproduce) and the count of input rows excluded, or a line
        saying no run was found.
    """
    import duckdb

    from shopseg.export import require_file

    con = duckdb.connect(str(require_file(db_path)), read_only=True)
    try:
        run = con.execute(
            "select run_id, customers, k, silhouette, k_rule, as_of_at, stability_ari, "
            "bootstrap_stability from segmentation_runs where is_current"
        ).fetchone()
        sizes = con.execute(
            "select segment_id, segment_name, customers, dominant_lifecycle_stage, "
            "segment_jaccard, is_reproducible from segment_profiles order by segment_id"
        ).fetchall()
        issues = con.execute(
            "select coalesce(sum(rows_affected), 0) from data_quality_issues "
            "where handling not like 'kept%' and handling not like 'repaired%'"
        ).fetchone()[0]
    finally:
        con.close()
    if run is None:
        return "no segmentation run found"
    run_id, customers, k, silhouette, rule, as_of, stability, bootstrap = run
    lines = [
        f"shopseg model {run_id}: {customers} customers as of {as_of}",
        f"k = {k} ({rule}), silhouette = {silhouette:.3f}"
        + (f", bootstrap stability = {bootstrap:.3f}" if bootstrap is not None else "")
        + (f", stability ARI vs previous build = {stability:.3f}" if stability is not None else ""),
        f"{'segment':>8}  {'name':<32} {'customers':>9} {'share':>6}  {'jaccard':>7}  lifecycle",
    ]
    for segment_id, name, n, stage, jaccard, reproducible in sizes:
        figure = "—" if jaccard is None else f"{jaccard:.2f}" + ("" if reproducible else "!")
        lines.append(
            f"{segment_id:>8}  {name:<32} {n:>9} {n / customers:>6.1%}  {figure:>7}  {stage}"
        )
    if any(row[5] is False for row in sizes):
        lines.append(
            "!: the segment does not reproduce on resampled fits "
            "(segment_jaccard below shop_min_segment_jaccard)"
        )
    lines.append(f"input rows excluded as invalid or late: {issues} (see data_quality_issues)")
    lines.append(f"tables for BI (read-only): {db_path}")
    return "\n".join(lines)


def report(
    db_path: str,
    out: str,
    screenshot: str | None = None,
    min_audience_size: int | None = None,
) -> int:
    """Write the HTML segment report and optionally its screenshot.

    Parameters
    ----------
    db_path : str
        The published DuckDB file.
    out : str
        HTML file to write.
    screenshot : str, optional
        PNG file for a full-page screenshot taken with headless Chromium.
    min_audience_size : int, optional
        The audience limit segments are marked against; default ``shopseg export``'s
        (MIN_AUDIENCE_SIZE, shop_min_audience_size).

    Returns
    -------
    int
        Exit code: 0, 1 when the page logged browser console errors, 2 when the report or
        the screenshot could not be made (one line on stderr).
    """
    from shopseg.browser import BrowserError, render_page
    from shopseg.export import MIN_AUDIENCE_SIZE, require_file
    from shopseg.report import write_report

    limit = MIN_AUDIENCE_SIZE if min_audience_size is None else min_audience_size
    try:
        html_path = write_report(require_file(db_path), out, limit)
    except (FileNotFoundError, ValueError) as exc:
        print(error_line(exc), file=sys.stderr)
        return 2
    print(f"wrote the segment report to {html_path}")
    if screenshot is None:
        return 0
    try:
        page = render_page(html_path, screenshot=screenshot)
    except BrowserError as exc:
        print(f"report: screenshot failed: {exc}", file=sys.stderr)
        return 2
    for error in page.console_errors:
        print(f"report: browser console: {error}", file=sys.stderr)
    print(f"wrote a {page.width}x{page.height} screenshot to {screenshot}")
    return 1 if page.console_errors else 0


def error_line(exc: ValueError | FileNotFoundError) -> str:
    """Return the one line `shopseg: <message>` a refused command prints instead of a traceback.

    Parameters
    ----------
    exc : ValueError or FileNotFoundError
        Why the command was refused.

    Returns
    -------
    str
        The message prefixed with ``shopseg: `` (once); a missing file reads
        ``<path>: no such file``.
    """
    if isinstance(exc, FileNotFoundError) and exc.filename is not None:
        message = f"{exc.filename}: no such file"
    else:
        message = str(exc)
    return message if message.startswith("shopseg: ") else f"shopseg: {message}"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `shopseg` console command.

    Parameters
    ----------
    argv : list of str, optional
        Arguments after the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit code of the subcommand (2 for a refused command).
    """
    from shopseg.export import FORMATS, MIN_AUDIENCE_SIZE

    parser = argparse.ArgumentParser(prog="shopseg", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="generate demo shop data (see shopseg demo --help)", add_help=False)
    sub.add_parser(
        "eval", help="score the segments on other shops (see shopseg eval --help)", add_help=False
    )
    p_exp = sub.add_parser("export", help="write the customer ids of one segment")
    p_exp.add_argument("--db", required=True, help="the published DuckDB file")
    which = p_exp.add_mutually_exclusive_group(required=True)
    which.add_argument("--segment-id", type=int, metavar="N", help="the segment with this id")
    which.add_argument("--segment-name", metavar="NAME", help="the segment with this name")
    which.add_argument(
        "--segment",
        metavar="ID_OR_NAME",
        help="a segment id or name; refused when it is one segment's id and another's name",
    )
    p_exp.add_argument(
        "--format",
        choices=list(FORMATS),
        default="csv",
        help="csv or parquet: customer ids; customer-match: SHA-256 hashed emails (CSV)",
    )
    p_exp.add_argument("--out", required=True, help="file to write")
    held = p_exp.add_mutually_exclusive_group()
    held.add_argument(
        "--include-holdout",
        action="store_true",
        help="keep the holdout (control) group in the audience",
    )
    held.add_argument(
        "--holdout-file",
        metavar="PATH",
        help="also write the segment's holdout customers here, to measure the campaign against",
    )
    audience_limit = {
        "type": int,
        "default": MIN_AUDIENCE_SIZE,
        "metavar": "N",
    }
    p_exp.add_argument(
        "--min-audience-size",
        **audience_limit,
        help=f"refuse audiences smaller than N (default {MIN_AUDIENCE_SIZE:,}, "
        "shop_min_audience_size: Google Ads' floor)",
    )
    p_sum = sub.add_parser("summary", help="summarise the latest segmentation")
    p_sum.add_argument("--db", required=True, help="the published DuckDB file")
    p_rep = sub.add_parser("report", help="write a static HTML report with charts")
    p_rep.add_argument(
        "--db",
        default=os.environ.get("SHOPSEG_PUBLISH_PATH"),
        help="the published DuckDB file (default: $SHOPSEG_PUBLISH_PATH)",
    )
    p_rep.add_argument("--out", required=True, help="HTML file to write")
    p_rep.add_argument("--screenshot", help="also save a full-page PNG (headless Chromium)")
    p_rep.add_argument(
        "--min-audience-size",
        **audience_limit,
        help=f"mark segments with fewer exportable customers than N (default "
        f"{MIN_AUDIENCE_SIZE:,}, as shopseg export: shop_min_audience_size)",
    )
    args, rest = parser.parse_known_args(argv)
    if args.command == "demo":
        from shopseg import demo

        return demo.main(rest)
    if args.command == "eval":
        from shopseg import evaluate

        return evaluate.main(rest)
    if rest:
        parser.error(f"unrecognised arguments: {' '.join(rest)}")
    if args.command == "report" and not args.db:
        parser.error("report: --db is required when SHOPSEG_PUBLISH_PATH is not set")
    try:
        return _run(args)
    except (ValueError, FileNotFoundError) as exc:
        print(error_line(exc), file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    """Run the export, report or summary command; its exit code."""
    if args.command == "export":
        from shopseg.export import export_segment

        result = export_segment(
            args.db,
            args.segment,
            args.out,
            args.format,
            segment_id=args.segment_id,
            segment_name=args.segment_name,
            include_holdout=args.include_holdout,
            holdout_file=args.holdout_file,
            min_audience_size=args.min_audience_size,
        )
        if args.segment_id is not None:
            picked = f"segment id {args.segment_id}"
        elif args.segment_name is not None:
            picked = f"the segment named {args.segment_name!r}"
        else:
            picked = f"segment {args.segment!r}"
        what = "hashed emails" if args.format == "customer-match" else "customers"
        print(f"wrote {result.rows} {what} of {picked} to {args.out}")
        print("\n".join(result.summary_lines()))
        if result.holdout_rows is not None:
            print(f"wrote {result.holdout_rows} holdout customers to {args.holdout_file}")
        return 0
    if args.command == "report":
        return report(args.db, args.out, args.screenshot, args.min_audience_size)
    print(summary(args.db))
    return 0


if __name__ == "__main__":
    sys.exit(main())
