"""The CDNOW 1/10 sample (2,357 customers) as the calibration/holdout summary of Fader & Hardie.

Kept beside the tests so the fixture tests/python/data/cdnow_sample_summary.csv can be
re-derived from the lifetimes==0.11.3 wheel (lifetimes/datasets/CDNOW_sample.txt) and
compared, when the wheel is at hand.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd

CALIBRATION_END = pd.Timestamp("1997-09-30")  # 39 weeks after the first order day
SAMPLE_MEMBER = "lifetimes/datasets/CDNOW_sample.txt"
FIXTURE = Path(__file__).parent / "data" / "cdnow_sample_summary.csv"
HEADER = (
    "# The CDNOW sample (2,357 customers of the 1/10 sample, first orders in 1997-Q1) summarised\n"
    "# as in Fader, Hardie & Lee (2005): orders of one day count as one, calibration period\n"
    "# 1997-01-01..1997-09-30, holdout the next 273 days. Derived from CDNOW_sample.txt inside\n"
    "# the lifetimes==0.11.3 wheel by tests/python/_cdnow_sample.py (summarise). Columns: x\n"
    "# repeat order days, t_x day of the last order and T age in days since the first order,\n"
    "# zbar mean spend of the repeat order days (0 without), holdout_x order days in the\n"
    "# holdout, customers = how many of the 2,357 have this row. Matches lifetimes'\n"
    "# cdnow_customers_summary_with_transactions.csv (in weeks) to the cent.\n"
)


def summarise(text: str) -> pd.DataFrame:
    """The fixture's rows from CDNOW_sample.txt's text."""
    raw = pd.read_csv(
        io.StringIO(text),
        sep=r"\s+",
        header=None,
        names=["master_id", "customer", "date", "quantity", "amount"],
        dtype={"date": str},
    )
    raw["day"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    days = raw.groupby(["customer", "day"], as_index=False)["amount"].sum()
    first = days.groupby("customer")["day"].transform("min")
    calibration = days[days["day"] <= CALIBRATION_END].assign(first=first)
    per = calibration.groupby("customer").agg(
        n=("day", "size"), first=("first", "min"), last=("day", "max")
    )
    repeat = calibration[calibration["day"] > calibration["first"]]
    holdout = days[days["day"] > CALIBRATION_END].groupby("customer").size()
    frame = pd.DataFrame(
        {
            "x": per["n"] - 1,
            "t_x": (per["last"] - per["first"]).dt.days,
            "T": (CALIBRATION_END - per["first"]).dt.days,
            "zbar": repeat.groupby("customer")["amount"].mean().reindex(per.index).fillna(0.0),
            "holdout_x": holdout.reindex(per.index).fillna(0).astype("int64"),
        }
    )
    frame["zbar"] = frame["zbar"].round(2)
    keys = ["x", "t_x", "T", "zbar", "holdout_x"]
    return frame.groupby(keys, as_index=False).size().rename(columns={"size": "customers"})


def read_wheel(wheel: Path) -> pd.DataFrame:
    """Summarise the sample inside the lifetimes wheel."""
    with zipfile.ZipFile(wheel) as archive:
        return summarise(archive.read(SAMPLE_MEMBER).decode("ascii"))


def read_fixture() -> pd.DataFrame:
    """The stored fixture."""
    return pd.read_csv(FIXTURE, comment="#")


if __name__ == "__main__":  # python tests/python/_cdnow_sample.py bench/cache/<wheel>
    import sys

    FIXTURE.write_text(HEADER + read_wheel(Path(sys.argv[1])).to_csv(index=False))
