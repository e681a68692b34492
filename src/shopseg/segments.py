"""Segment tables that compare a run with the one before it."""

from __future__ import annotations

import pandas as pd


def with_previous(scored: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """Add each customer's segment and run from the previous build (null if new).

    Parameters
    ----------
    scored : pandas.DataFrame
        This build's assignments (customer_id, segment_id, ...).
    previous : pandas.DataFrame or None
        The last promoted build's customer_id, segment_id and run_id; None or empty on a
        first build.

    Returns
    -------
    pandas.DataFrame
        `scored` with previous_segment_id (Int64) and previous_run_id (string).
    """
    out = scored.copy()
    if previous is None or previous.empty:
        out["previous_segment_id"] = pd.array([None] * len(out), dtype="Int64")
        out["previous_run_id"] = pd.array([None] * len(out), dtype="string")
        return out
    prev = previous.rename(
        columns={"segment_id": "previous_segment_id", "run_id": "previous_run_id"}
    )[["customer_id", "previous_segment_id", "previous_run_id"]]
    prev = prev.astype({"customer_id": out["customer_id"].dtype})
    out = out.merge(prev, on="customer_id", how="left", validate="one_to_one")
    out["previous_segment_id"] = out["previous_segment_id"].astype("Int64")
    out["previous_run_id"] = out["previous_run_id"].astype("string")
    return out
