"""Activation export: the customer ids of one segment, for campaign tools."""

from __future__ import annotations

from pathlib import Path

import duckdb

FORMATS = ("csv", "parquet")


def export_segment(db_path: str | Path, segment: str, out: str | Path, fmt: str = "csv") -> int:
    """Write customer_id, segment_id, segment_name of one segment (name or id); return rows."""
    if fmt not in FORMATS:
        raise ValueError(f"export: format {fmt!r} is not one of {', '.join(FORMATS)}")
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        segments = con.execute(
            "select distinct segment_id, segment_name from customer_segments order by 1"
        ).fetchall()
        match = [s for s in segments if segment in (str(s[0]), s[1])]
        if not match:
            known = "; ".join(f"{i}: {n}" for i, n in segments)
            raise ValueError(f"export: no segment {segment!r} in {db_path} (segments: {known})")
        segment_id = match[0][0]
        query = (
            "select customer_id, segment_id, segment_name, run_id from customer_segments "
            f"where segment_id = {int(segment_id)} order by customer_id"
        )
        target = Path(out)
        target.parent.mkdir(parents=True, exist_ok=True)
        options = "format csv, header" if fmt == "csv" else "format parquet"
        escaped = str(target).replace("'", "''")
        # COPY answers with the number of rows it wrote
        return int(con.execute(f"copy ({query}) to '{escaped}' ({options})").fetchone()[0])
    finally:
        con.close()
