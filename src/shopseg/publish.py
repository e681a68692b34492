"""Publishing: copy finished tables to the DuckDB file BI tools read, swapped in atomically.

This is shopseg's only module that writes files. A BI tool holding the published file open
(read-only) keeps reading the previous version until it reconnects; the build never waits
for it, and never exposes a half-written table.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

log = logging.getLogger(__name__)


def publish(
    tables: Iterable[tuple[str, Callable[[], pa.Table]]], target: str | Path
) -> pd.DataFrame:
    """Write each (name, loader) table to a new file beside `target`, then rename it over."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    started = time.perf_counter()
    rows = []
    con = duckdb.connect(str(tmp))
    try:
        for name, load in tables:
            if not name.isidentifier():
                raise ValueError(f"publish: table name {name!r} is not a plain identifier")
            data = load()
            con.register("incoming", data)
            con.execute(f'create table "{name}" as select * from incoming')
            con.unregister("incoming")
            rows.append({"table_name": name, "row_count": data.num_rows})
        con.execute("checkpoint")
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        raise
    con.close()
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    log.info(
        "shopseg: published %d tables to %s in %.1fs",
        len(rows),
        target,
        time.perf_counter() - started,
    )
    return pd.DataFrame(rows, columns=["table_name", "row_count"]).astype({"row_count": "int64"})
