"""Publishing: copy finished tables to the DuckDB file BI tools read, swapped in atomically.

This is shopseg's only module that writes files. A BI tool holding the published file open
(read-only) keeps reading the previous version until it reconnects; the build never waits
for it, and never exposes a half-written table.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

log = logging.getLogger(__name__)

# The first bytes of a DuckDB database file: an 8-byte checksum, then this magic.
DUCKDB_MAGIC = (8, b"DUCK")
FIX = "set shop_publish_path (or SHOPSEG_PUBLISH_PATH) to a file of its own"


def _refuse(target: Path, reason: str) -> ValueError:
    return ValueError(f"shopseg: shop_publish_path = '{target}' {reason}: {FIX}")


def _same_file(a: Path, b: Path) -> bool:
    """True when two paths name one file: equal once resolved, or one inode (a hard link)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return a.samefile(b)
    except OSError:
        return False


def _is_duckdb_file(path: Path) -> bool:
    offset, magic = DUCKDB_MAGIC
    with open(path, "rb") as fh:
        head = fh.read(offset + len(magic))
    return head[offset:] == magic


def check_target(
    target: str | Path,
    warehouse: str | Path | None = None,
    input_path: str | Path | None = None,
) -> Path:
    """The publish target, or a one-line ValueError when replacing it would destroy data.

    Parameters
    ----------
    target : str or Path
        The file BI tools read.
    warehouse : str or Path or None, default=None
        The build's DuckDB file (``""`` or ``":memory:"`` for none).
    input_path : str or Path or None, default=None
        The folder of the shop's input files.

    Returns
    -------
    Path
        ``target`` as a Path.

    Raises
    ------
    ValueError
        When ``target`` is the warehouse (or its WAL, or a hard link to it), the input folder
        or inside it, a folder, or an existing non-empty file that is not a DuckDB database.
    """
    target = Path(target)
    resolved = target.resolve()
    if warehouse is not None and str(warehouse) not in ("", ":memory:"):
        warehouse = Path(warehouse)
        if _same_file(target, warehouse) or _same_file(target, Path(f"{warehouse}.wal")):
            raise _refuse(
                target,
                "is the build warehouse (publishing would replace it, and the models it "
                "stores, with the marts)",
            )
    if input_path is not None and str(input_path) != "":
        folder = Path(input_path).resolve()
        if resolved == folder:
            raise _refuse(target, f"is the input folder (shop_input_path = '{input_path}')")
        if resolved.is_relative_to(folder):
            what = "is an input file" if resolved.exists() else "is inside the input folder"
            raise _refuse(target, f"{what} (shop_input_path = '{input_path}')")
    if target.is_dir():
        raise _refuse(target, "is a folder")
    if target.exists() and target.stat().st_size > 0 and not _is_duckdb_file(target):
        raise _refuse(target, "exists and is not a DuckDB file (publishing would replace it)")
    return target


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale_temp_files(target: str | Path) -> list[Path]:
    """Delete the temp files of earlier publishes to `target` whose process is gone.

    Parameters
    ----------
    target : str or Path
        The publish target; its temp files are ``.<name>.<pid>.tmp`` (and ``.tmp.wal``)
        beside it.

    Returns
    -------
    list of Path
        The files removed (those of this process or of a process no longer running); a
        warning names them.
    """
    target = Path(target)
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(\d+)\.tmp(\.wal)?")
    removed = []
    for path in sorted(target.parent.glob(f".{target.name}.*.tmp*")):
        found = pattern.fullmatch(path.name)
        if found is None or not path.is_file():
            continue
        pid = int(found.group(1))
        if pid == os.getpid() or not _pid_alive(pid):
            path.unlink(missing_ok=True)
            removed.append(path)
    if removed:
        log.warning(
            "shopseg: removed %d leftover file(s) of interrupted publishes: %s",
            len(removed),
            ", ".join(str(path) for path in removed),
        )
    return removed


def publish(
    tables: Iterable[tuple[str, Callable[[], pa.Table]]],
    target: str | Path,
    warehouse: str | Path | None = None,
    input_path: str | Path | None = None,
) -> pd.DataFrame:
    """Write each (name, loader) table to a new file beside `target`, then rename it over.

    Refuses (before writing anything) a target that is the build `warehouse`, lies in the
    `input_path` folder, is a folder, or is an existing file that is not a DuckDB database.

    Parameters
    ----------
    tables : iterable of (str, callable)
        Table name (a plain identifier) and a function returning its rows as an Arrow table.
    target : str or Path
        The DuckDB file BI tools read; readers holding it open keep the previous version.
    warehouse : str or Path or None, default=None
        The build's DuckDB file, which must not be the target.
    input_path : str or Path or None, default=None
        The input folder, which must not hold the target.

    Returns
    -------
    DataFrame
        One row per table: ``table_name`` and ``row_count`` (int64).

    Raises
    ------
    ValueError
        For a refused target (see ``check_target``) or a table name that is not an
        identifier; nothing is replaced then, and the temp file is removed.
    """
    target = check_target(target, warehouse, input_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(target)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    wal = tmp.with_name(tmp.name + ".wal")
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
        wal.unlink(missing_ok=True)
        raise
    con.close()
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    wal.unlink(missing_ok=True)  # empty after the checkpoint; never beside the target
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
