"""The CDNOW transactions (a real shop, 1997-1998) as an orders table, read from a local wheel."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pandas as pd

WHEEL = "lifetimes-0.11.3"  # the file ships inside the lifetimes==0.11.3 wheel
MEMBER = "lifetimes/datasets/CDNOW_master.txt"
ENV = "SHOPSEG_CDNOW_WHEEL"


def find_wheel(path: str | Path | None) -> Path:
    """Find the lifetimes wheel that holds the CDNOW file.

    Parameters
    ----------
    path : str, Path or None
        The wheel, or a folder holding it; None reads ``$SHOPSEG_CDNOW_WHEEL``.

    Returns
    -------
    Path
        The wheel file.
    """
    given = path or os.environ.get(ENV)
    if not given:
        raise FileNotFoundError(
            f"shopseg: eval: CDNOW needs the {WHEEL} wheel: pass --cdnow-wheel or set {ENV} "
            "(make eval fetches it once into bench/cache/ with "
            "`pip download --no-deps lifetimes==0.11.3 -d bench/cache`), or leave cdnow out "
            "of --families"
        )
    candidate = Path(given)
    if candidate.is_dir():
        found = sorted(p for p in candidate.glob("*.whl") if p.name.lower().startswith(WHEEL))
        if not found:
            raise FileNotFoundError(f"shopseg: eval: no {WHEEL}*.whl in {candidate}")
        candidate = found[0]
    if not candidate.is_file():
        raise FileNotFoundError(f"shopseg: eval: {candidate}: no such file")
    return candidate


def parse_cdnow(text: str) -> pd.DataFrame:
    """Parse CDNOW_master.txt (customer id, YYYYMMDD, quantity, amount) into contract orders.

    One order per line, order_id = the line number (1 = the first data line), status
    completed, no discount; the quantity has no column in the orders contract and is dropped.

    Parameters
    ----------
    text : str
        The file's text, with or without a header line.

    Returns
    -------
    pandas.DataFrame
        ``order_id``, ``customer_id``, ``ordered_at``, ``order_total``, ``discount_amount``
        and ``status``.
    """
    raw = pd.read_csv(
        io.StringIO(text),
        sep=r"\s+",
        header=None,
        skiprows=1 if text.lstrip().lower().startswith("customer_id") else 0,
        names=["customer_id", "date", "quantity", "amount"],
        dtype={"customer_id": str, "date": str},
    )
    return pd.DataFrame(
        {
            "order_id": range(1, len(raw) + 1),
            "customer_id": raw["customer_id"].str.lstrip("0").astype("int64"),
            "ordered_at": pd.to_datetime(raw["date"], format="%Y%m%d").astype("datetime64[us]"),
            "order_total": raw["amount"].astype("float64"),
            "discount_amount": 0.0,
            "status": "completed",
        }
    )


def read_orders(wheel: str | Path | None) -> pd.DataFrame:
    """Read the CDNOW orders from the lifetimes wheel; nothing downloads.

    Parameters
    ----------
    wheel : str, Path or None
        The wheel or its folder (see :func:`find_wheel`).

    Returns
    -------
    pandas.DataFrame
        The orders, in the input contract's ``orders`` columns.
    """
    with zipfile.ZipFile(find_wheel(wheel)) as archive:
        text = archive.read(MEMBER).decode("ascii")
    return parse_cdnow(text)
