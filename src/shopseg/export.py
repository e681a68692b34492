"""Activation export: the customers of one segment an ad platform or campaign tool may reach.

An export leaves out the holdout (control) group unless asked, writes only customers who
agreed to marketing when the input says who did, and refuses an audience smaller than the
ad platforms accept. The rules the SQL applies (the holdout hash, the email normalisation)
are repeated here in Python so that tests and users can check a published file.
"""

from __future__ import annotations

import errno
import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np

FORMATS = ("csv", "parquet", "customer-match")
# the defaults of the dbt vars of the same names (dbt_project.yml, README settings table)
HOLDOUT_SALT = "shopseg"
HOLDOUT_SHARE = 0.10
# Google Ads shows no Customer Match list under 1,000 members; Microsoft needs 300
MIN_AUDIENCE_SIZE = 1000
# the columns customer_segments carries for exports (older published files lack them)
AUDIENCE_COLUMNS = ("is_holdout", "accepts_marketing", "email_sha256")


def holdout_flags(
    customer_ids: Iterable[str], salt: str = HOLDOUT_SALT, share: float = HOLDOUT_SHARE
) -> np.ndarray:
    """The is_holdout flag of each customer id, by the rule customer_segments applies.

    A customer is held out when the first 8 hex digits of md5(salt + customer_id), read as
    an integer in [0, 2^32), are below ceil(share * 2^32).

    Parameters
    ----------
    customer_ids : iterable of str
        Customer ids as customer_segments holds them (text).
    salt : str, default="shopseg"
        The var shop_holdout_salt.
    share : float, default=0.10
        The var shop_holdout_share, in [0, 1].

    Returns
    -------
    numpy.ndarray of bool
        One flag per id, in the order given.
    """
    threshold = math.ceil(share * 4294967296)
    return np.array(
        [
            int(hashlib.md5(f"{salt}{cid}".encode()).hexdigest()[:8], 16) < threshold
            for cid in customer_ids
        ],
        dtype=bool,
    )


def normalise_email(email: str | None) -> str | None:
    """An email as customer-match uploads hash it: spaces trimmed, lower case; '' as None.

    Parameters
    ----------
    email : str or None
        An address as the input holds it.

    Returns
    -------
    str or None
        The normalised address (SQL's ``nullif(lower(trim(email)), '')``).
    """
    if email is None:
        return None
    normalised = email.strip(" ").lower()
    return normalised or None


def email_sha256(email: str | None) -> str | None:
    """The lower-case hex SHA-256 of the normalised email, as customer_segments.email_sha256.

    Parameters
    ----------
    email : str or None
        An address as the input holds it.

    Returns
    -------
    str or None
        64 hex digits, or None when there is no address.
    """
    normalised = normalise_email(email)
    return None if normalised is None else hashlib.sha256(normalised.encode()).hexdigest()


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


@dataclass(frozen=True)
class ExportResult:
    """What one export wrote and what it left out, counted on the chosen segment.

    Attributes
    ----------
    segment_id, segment_name : int, str
        The chosen segment.
    customers : int
        Customers of the segment.
    holdout : int
        Of them, customers of the holdout group (is_holdout).
    consent_known : bool
        True when some customer of the published file has an accepts_marketing value: only
        customers whose value is true are then exported.
    without_consent : int
        Customers left out because accepts_marketing is false or unknown (0 when not known).
    holdout_left_out : int
        Consenting holdout customers left out of ``out`` (0 with ``include_holdout``).
    without_email : int
        Customer-match only: customers of the audience without an email hash.
    rows : int
        Rows written to ``out`` (customers; distinct hashes for customer-match).
    holdout_rows : int or None
        Rows written to the holdout file; None when none was asked for.
    """

    segment_id: int
    segment_name: str
    customers: int
    holdout: int
    consent_known: bool
    without_consent: int
    holdout_left_out: int
    without_email: int
    rows: int
    holdout_rows: int | None

    @property
    def holdout_share(self) -> float:
        """Share of the segment's customers in the holdout group (0 for an empty segment)."""
        return self.holdout / self.customers if self.customers else 0.0

    def summary_lines(self) -> list[str]:
        """The lines `shopseg export` prints after the file is written.

        Returns
        -------
        list of str
            The segment's size and holdout share, then what was left out and why.
        """
        lines = [
            f"segment {self.segment_id} ({self.segment_name!r}): {self.customers} customers, "
            f"{self.holdout} in the holdout group ({self.holdout_share:.1%}; shop_holdout_share)"
        ]
        left_out = [
            f"{self.holdout_left_out} holdout customers (--include-holdout keeps them)"
            if self.holdout_rows is None
            else f"{self.holdout_left_out} holdout customers (written to the holdout file)"
        ]
        if self.consent_known:
            left_out.append(f"{self.without_consent} without marketing consent")
        if self.without_email:
            left_out.append(f"{self.without_email} without an email")
        lines.append("left out: " + ", ".join(left_out))
        if not self.consent_known:
            lines.append(
                "consent not checked: no customer has an accepts_marketing value in the input"
            )
        return lines


def _missing_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    found = {row[0] for row in con.execute("describe customer_segments").fetchall()}
    return [c for c in AUDIENCE_COLUMNS if c not in found]


def _copy(con: duckdb.DuckDBPyConnection, query: str, target: Path, fmt: str) -> int:
    target.parent.mkdir(parents=True, exist_ok=True)
    options = "format parquet" if fmt == "parquet" else "format csv, header"
    escaped = str(target).replace("'", "''")
    # COPY answers with the number of rows it wrote
    return int(con.execute(f"copy ({query}) to '{escaped}' ({options})").fetchone()[0])


def export_segment(
    db_path: str | Path,
    segment: str | None,
    out: str | Path,
    fmt: str = "csv",
    *,
    segment_id: int | None = None,
    segment_name: str | None = None,
    include_holdout: bool = False,
    holdout_file: str | Path | None = None,
    min_audience_size: int = MIN_AUDIENCE_SIZE,
) -> ExportResult:
    """Write the reachable customers of one segment; say what was written and left out.

    The segment is picked by exactly one of `segment_id`, `segment_name` or `segment` (an id
    or a name, refused when it is the id of one segment and the name of another). The
    audience is the segment's customers less the holdout group (unless `include_holdout`)
    and, when the published file has any accepts_marketing value, less every customer
    whose value is not true (false or unknown). Consenting holdout customers can be written
    to `holdout_file`, to measure the campaign against.

    Parameters
    ----------
    db_path : str or Path
        The published DuckDB file (opened read-only).
    segment : str or None
        An id or a name (see ``find_segment``).
    out : str or Path
        The file to write; its folder is created.
    fmt : {"csv", "parquet", "customer-match"}, default="csv"
        csv (with a header) and parquet hold customer_id, segment_id, segment_name and
        run_id, ordered by customer_id; customer-match is a CSV with one column ``Email``:
        the distinct SHA-256 hashes of the audience's normalised emails (see
        ``email_sha256``), sorted: a hashed customer-match upload (Google Ads' template
        names the column Email; Microsoft and Meta map columns on upload).
    segment_id : int or None, default=None
        A segment id.
    segment_name : str or None, default=None
        A segment name.
    include_holdout : bool, default=False
        Keep the holdout group in the audience.
    holdout_file : str or Path or None, default=None
        Where to write the consenting holdout customers of the segment (the columns of the
        csv format; Parquet when the name ends in .parquet, else CSV).
    min_audience_size : int, default=1000
        The smallest audience written (the var shop_min_audience_size's default); a smaller
        one is refused and nothing is written.

    Returns
    -------
    ExportResult
        The rows written and the customers left out, by reason.

    Raises
    ------
    FileNotFoundError
        When there is no file at ``db_path``.
    ValueError
        For an unknown format, a selector ``find_segment`` refuses, a published file
        without the audience columns, ``include_holdout`` with ``holdout_file``, or an
        audience smaller than ``min_audience_size``.
    """
    if fmt not in FORMATS:
        raise ValueError(f"export: format {fmt!r} is not one of {', '.join(FORMATS)}")
    if include_holdout and holdout_file is not None:
        raise ValueError("export: --include-holdout and --holdout-file exclude each other")
    if holdout_file is not None and Path(holdout_file).resolve() == Path(out).resolve():
        raise ValueError("export: --holdout-file must not be the --out file")
    con = duckdb.connect(str(require_file(db_path)), read_only=True)
    try:
        missing = _missing_columns(con)
        if missing:
            raise ValueError(
                f"export: customer_segments in {db_path} has no {', '.join(missing)} "
                "column: rebuild it with this version of shopseg (dbt build)"
            )
        segments = con.execute(
            "select distinct segment_id, segment_name from customer_segments order by 1"
        ).fetchall()
        chosen = find_segment(segments, segment, segment_id, segment_name, db_path)
        name = next(n for i, n in segments if i == chosen)
        consent_known = bool(
            con.execute("select count(accepts_marketing) > 0 from customer_segments").fetchone()[0]
        )
        consents = "coalesce(accepts_marketing, false)" if consent_known else "true"
        keeps_holdout = "true" if include_holdout else "not is_holdout"
        matched = fmt == "customer-match"
        audience = f"{consents} and {keeps_holdout}"
        size = "count(distinct email_sha256)" if matched else "count(*)"
        customers, holdout, without_consent, holdout_left_out, without_email, size = (
            int(v or 0)
            for v in con.execute(
                "select count(*), count(*) filter (where is_holdout), "
                f"count(*) filter (where not {consents}), "
                f"count(*) filter (where {consents} and not {keeps_holdout}), "
                f"count(*) filter (where {audience} and email_sha256 is null), "
                f"{size} filter (where {audience}) "
                f"from customer_segments where segment_id = {chosen}"
            ).fetchone()
        )
        if size < min_audience_size:
            raise ValueError(
                f"export: segment {chosen} ({name!r}) has {size} "
                f"{'hashed emails' if matched else 'customers'} to export (of {customers}), "
                f"fewer than shop_min_audience_size = {min_audience_size} "
                "(--min-audience-size): nothing written"
            )
        audience = f"segment_id = {chosen} and {audience}"
        ids = "customer_id, segment_id, segment_name, run_id"
        if matched:
            query = (
                'select distinct email_sha256 as "Email" from customer_segments '
                f"where {audience} and email_sha256 is not null order by 1"
            )
        else:
            query = f"select {ids} from customer_segments where {audience} order by customer_id"
        rows = _copy(con, query, Path(out), "csv" if matched else fmt)
        holdout_rows = None
        if holdout_file is not None:
            held = Path(holdout_file)
            holdout_query = (
                f"select {ids} from customer_segments where segment_id = {chosen} "
                f"and {consents} and is_holdout order by customer_id"
            )
            held_fmt = "parquet" if held.suffix.lower() == ".parquet" else "csv"
            holdout_rows = _copy(con, holdout_query, held, held_fmt)
    finally:
        con.close()
    return ExportResult(
        segment_id=chosen,
        segment_name=name,
        customers=customers,
        holdout=holdout,
        consent_known=consent_known,
        without_consent=without_consent,
        holdout_left_out=holdout_left_out,
        without_email=without_email if matched else 0,
        rows=rows,
        holdout_rows=holdout_rows,
    )
