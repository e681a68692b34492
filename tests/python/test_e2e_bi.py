"""The BI surface: what a separate read-only client and a campaign export see."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import DbtResult

pytestmark = pytest.mark.e2e

BI_QUERY = r"""
import json, sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
rows = con.execute('''
    select s.segment_id, count(*) as customers, sum(f.monetary) as revenue
    from customer_segments as s
    inner join customer_features as f on s.customer_id = f.customer_id
    group by 1 order by 1
''').fetchall()
print(json.dumps([[int(a), int(b), float(c)] for a, b, c in rows]))
"""


def export(published: Path, segment: str, out: Path, *options: str) -> subprocess.CompletedProcess:
    """Run the `shopseg export` CLI on a published file."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("shopseg")), "export", "--db", str(published)]
        + ["--segment", segment, *options, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_bi_client_sizes_and_revenue_match_profiles(demo_build: DbtResult) -> None:
    published = demo_build.db_path.parent / "shopseg_published.duckdb"
    out = subprocess.run(
        [sys.executable, "-c", BI_QUERY, str(published)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    seen = pd.DataFrame(json.loads(out.stdout), columns=["segment_id", "customers", "revenue"])
    profiles = demo_build.query(
        "select segment_id, customers, revenue from segment_profiles order by segment_id"
    )
    assert list(seen["segment_id"]) == list(profiles["segment_id"])
    assert list(seen["customers"]) == list(profiles["customers"])
    assert (seen["revenue"] - profiles["revenue"].astype(float)).abs().max() < 0.01


def test_export_writes_one_segment(demo_build: DbtResult, tmp_path: Path) -> None:
    published = demo_build.db_path.parent / "shopseg_published.duckdb"
    name = demo_build.query(
        "select segment_name from segment_profiles order by customers desc limit 1"
    ).iloc[0, 0]
    for fmt in ("csv", "parquet"):
        out = tmp_path / f"segment.{fmt}"
        # every customer of the segment: holdout and audience floor off (test_export has those)
        done = export(
            published, name, out, "--format", fmt, "--include-holdout", "--min-audience-size", "0"
        )
        assert done.returncode == 0, done.stderr
        frame = pd.read_csv(out) if fmt == "csv" else pd.read_parquet(out)
        segments = demo_build.query("select customer_id, segment_name from customer_segments")
        expected = segments[segments["segment_name"] == name]
        assert sorted(frame["customer_id"].astype(str)) == sorted(expected["customer_id"])
        assert set(frame["segment_name"]) == {name}
    missing = export(published, "no such segment", tmp_path / "x.csv")
    assert missing.returncode == 2 and "no segment 'no such segment'" in missing.stderr
