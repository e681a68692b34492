"""Activation export: the customer ids of one segment, for campaign tools."""

from __future__ import annotations

import errno
from pathlib import Path

import duckdb

FORMATS = ("csv", "parquet")


def require_file(path: str | Path) -> Path:
    """`path`, or FileNotFoundError (filename set, message 'no such file') when it is absent.

    Parameters
    ----------
    path : str or Path
        A file the command reads.

    Returns
    -------
    Path
        ``path`` as a Path.

    Raises
    ------
    FileNotFoundError
        When nothing exists at ``path``; ``filename`` is the path, so the CLI can print
        ``shopseg: <path>: no such file``.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(errno.ENOENT, "no such file", str(path))
    return path


def _listed(segments: list[tuple[int, str]]) -> str:
    return "; ".join(f"{i}: {n}" for i, n in segments)


def find_segment(
    segments: list[tuple[int, str]],
    segment: str | None = None,
    segment_id: int | None = None,
    segment_name: str | None = None,
    source: str | Path = "customer_segments",
) -> int:
    """The id of the one segment of (segment_id, segment_name) pairs that the selector picks.

    Exactly one selector is given: ``segment_id``, ``segment_name`` or ``segment`` (an id or
    a name).

    Parameters
    ----------
    segments : list of (int, str)
        The published segments, as (segment_id, segment_name).
    segment : str or None, default=None
        An id or a name; refused when it is the id of one segment and the name of another.
    segment_id : int or None, default=None
        A segment id.
    segment_name : str or None, default=None
        A segment name; refused when two segments share it.
    source : str or Path, default="customer_segments"
        Where the segments come from, for the error messages.

    Returns
    -------
    int
        The chosen segment's id.

    Raises
    ------
    ValueError
        When not exactly one selector is given, nothing matches, or the choice is ambiguous;
        the message lists the segments or says which option to use.
    """
    given = [v for v in (segment, segment_id, segment_name) if v is not None]
    if len(given) != 1:
        raise ValueError("export: give exactly one of --segment, --segment-id, --segment-name")
    if segment_id is not None:
        match = [s for s in segments if s[0] == int(segment_id)]
        what = f"segment id {int(segment_id)}"
    elif segment_name is not None:
        match = [s for s in segments if s[1] == segment_name]
        what = f"segment named {segment_name!r}"
    else:
        by_id = [s for s in segments if str(s[0]) == segment]
        by_name = [s for s in segments if s[1] == segment and s not in by_id]
        if by_id and by_name:
            (i, name), others = by_id[0], ", ".join(str(j) for j, _ in by_name)
            raise ValueError(
                f"export: --segment {segment!r} is ambiguous: it is the id of segment {i} "
                f"({name!r}) and the name of segment {others}: use --segment-id {i} or "
                f"--segment-name {segment!r}"
            )
        match, what = by_id or by_name, f"segment {segment!r}"
    if not match:
        raise ValueError(f"export: no {what} in {source} (segments: {_listed(segments)})")
    if len(match) > 1:
        raise ValueError(
            f"export: {len(match)} segments are named {match[0][1]!r} in {source} "
            f"({_listed(match)}): use --segment-id"
        )
    return int(match[0][0])


def export_segment(
    db_path: str | Path,
    segment: str | None,
    out: str | Path,
    fmt: str = "csv",
    *,
    segment_id: int | None = None,
    segment_name: str | None = None,
) -> int:
    """Write customer_id, segment_id, segment_name, run_id of one segment; return rows.

    The segment is picked by exactly one of `segment_id`, `segment_name` or `segment` (an id
    or a name, refused when it is the id of one segment and the name of another).

    Parameters
    ----------
    db_path : str or Path
        The published DuckDB file (opened read-only).
    segment : str or None
        An id or a name (see ``find_segment``).
    out : str or Path
        The file to write; its folder is created.
    fmt : {"csv", "parquet"}, default="csv"
        The file format; CSV has a header row.
    segment_id : int or None, default=None
        A segment id.
    segment_name : str or None, default=None
        A segment name.

    Returns
    -------
    int
        Customers written, ordered by customer_id.

    Raises
    ------
    FileNotFoundError
        When there is no file at ``db_path``.
    ValueError
        For an unknown format or a selector ``find_segment`` refuses.
    """
    if fmt not in FORMATS:
        raise ValueError(f"export: format {fmt!r} is not one of {', '.join(FORMATS)}")
    con = duckdb.connect(str(require_file(db_path)), read_only=True)
    try:
        segments = con.execute(
            "select distinct segment_id, segment_name from customer_segments order by 1"
        ).fetchall()
        chosen = find_segment(segments, segment, segment_id, segment_name, db_path)
        query = (
            "select customer_id, segment_id, segment_name, run_id from customer_segments "
            f"where segment_id = {chosen} order by customer_id"
        )
        target = Path(out)
        target.parent.mkdir(parents=True, exist_ok=True)
        options = "format csv, header" if fmt == "csv" else "format parquet"
        escaped = str(target).replace("'", "''")
        # COPY answers with the number of rows it wrote
        return int(con.execute(f"copy ({query}) to '{escaped}' ({options})").fetchone()[0])
    finally:
        con.close()
