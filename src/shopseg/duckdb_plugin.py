"""A dbt-duckdb plugin for the standalone project's profile (profiles/profiles.yml).

It does two things DuckDB's SQL cannot do safely: it creates the folder of the warehouse
file before dbt-duckdb opens it, and it gives the input checks a literal listing of the
input folder (`shopseg_input_files(folder)`), so that a folder name holding `[1]` or `*`
is never read as a glob pattern and a truncated Parquet file is named before DuckDB
trips over it. Without the plugin (a user's own profile) the macros fall back to DuckDB's
`glob()` with the pattern characters escaped.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

PARQUET_MAGIC = b"PAR1"


def input_files(folder: str | None) -> str | None:
    """List the regular files directly in a folder, as JSON.

    Parameters
    ----------
    folder : str or None
        The input folder, taken literally (no glob).

    Returns
    -------
    str or None
        A JSON list of ``{name, path, size, parquet_ok}`` sorted by name (``parquet_ok``:
        the file starts and ends with Parquet's magic bytes); None (SQL null) when the
        folder is None or does not exist.
    """
    if folder is None:
        return None
    base = Path(folder)
    if not base.is_dir():
        return None
    files = []
    for entry in sorted(base.iterdir(), key=lambda p: p.name):
        if not entry.is_file():
            continue
        size = entry.stat().st_size
        files.append(
            {
                "name": entry.name,
                "path": str(entry),
                "size": size,
                "parquet_ok": _has_parquet_magic(entry, size),
            }
        )
    return json.dumps(files)


def _has_parquet_magic(path: Path, size: int) -> bool:
    """True when the file starts and ends with Parquet's magic bytes (not empty or truncated)."""
    if size < 2 * len(PARQUET_MAGIC):
        return False
    with path.open("rb") as fh:
        head = fh.read(len(PARQUET_MAGIC))
        fh.seek(-len(PARQUET_MAGIC), os.SEEK_END)
        tail = fh.read(len(PARQUET_MAGIC))
    return head == PARQUET_MAGIC and tail == PARQUET_MAGIC


class Plugin(BasePlugin):
    """Creates the warehouse folder; registers shopseg_input_files on every connection."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        """Create the folder of a local warehouse file (dbt-duckdb opens it right after)."""
        path = getattr(self.creds, "path", None) if self.creds is not None else None
        if path and path != ":memory:" and ":" not in path.split("/")[0]:
            Path(path).parent.mkdir(parents=True, exist_ok=True)

    def configure_connection(self, conn: Any) -> None:
        """Register the literal folder listing the input checks use."""
        conn.create_function(
            "shopseg_input_files", input_files, ["VARCHAR"], "VARCHAR", side_effects=True
        )
