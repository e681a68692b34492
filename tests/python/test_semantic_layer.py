"""Semantic layer: `mf query` over a built warehouse gives the numbers SQL on the marts gives."""

from __future__ import annotations

import csv
import math
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import PROJECT, DbtResult, dbt_env

MF = str(Path(sys.executable).with_name("mf"))

pytestmark = pytest.mark.e2e

Table = dict[str, dict[str, float | None]]  # group value -> metric -> value (None: null)

SEGMENT_METRICS = [
    "shopseg_customers",
    "shopseg_revenue",
    "shopseg_orders",
    "shopseg_average_order_value",
    "shopseg_segment_share",
    "shopseg_at_risk_revenue",
    "shopseg_expected_revenue",
]

# The same numbers straight from the marts, without the semantic layer: per segment, and
# per lifecycle stage among registered customers (the share's denominator stays everyone).
SEGMENT_SQL = """
select
    segments.segment_name as grp,
    count(*) as shopseg_customers,
    sum(features.monetary) as shopseg_revenue,
    sum(features.order_count) as shopseg_orders,
    sum(features.monetary) / nullif(sum(features.order_count), 0) as shopseg_average_order_value,
    count(*) / (select count(*) from customer_features) as shopseg_segment_share,
    sum(case when features.lifecycle_stage = 'at_risk' then features.monetary end)
        as shopseg_at_risk_revenue,
    sum(predictions.expected_revenue) as shopseg_expected_revenue
from customer_features as features
left join customer_segments as segments on features.customer_id = segments.customer_id
left join customer_predictions as predictions on features.customer_id = predictions.customer_id
group by 1
"""
STAGE_SQL = """
select
    lifecycle_stage as grp,
    count(*) as shopseg_customers,
    count(*) / (select count(*) from customer_features) as shopseg_segment_share,
    sum(monetary) as shopseg_revenue
from customer_features
where is_registered
group by 1
"""


@dataclass
class MfProject:
    """A warehouse copy and a project folder of its own for `mf` to read and lock."""

    root: Path
    db: DbtResult
    env: dict[str, str]

    def query(self, args: list[str], name: str) -> list[dict[str, str]]:
        """Run `mf query ARGS`; its result rows as CSV dicts."""
        out = self.root.parent / f"{name}.csv"
        proc = subprocess.run(
            [MF, "query", *args, "--csv", str(out), "--quiet"],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0 and out.exists(), (proc.stdout + proc.stderr)[-5000:]
        with out.open(newline="") as f:
            return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def mf_project(demo_build: DbtResult, tmp_path_factory: pytest.TempPathFactory) -> MfProject:
    """mf on a copy of the demo warehouse, never on the shared read-only build.

    mf reads `<project>/target/semantic_manifest.json` whatever DBT_TARGET_PATH says and opens
    the DuckDB file read-write, so it gets a project folder (dbt_project.yml and the build's
    semantic manifest) and a warehouse copy of its own: parallel tests never share either.
    """
    work = tmp_path_factory.mktemp("semantic")
    # same file name: DuckDB views name their catalog after the file
    db_path = work / demo_build.db_path.name
    shutil.copy(demo_build.db_path, db_path)
    root = work / "project"
    (root / "target").mkdir(parents=True)
    (root / "dbt_project.yml").symlink_to(PROJECT / "dbt_project.yml")
    shutil.copy(demo_build.target_path / "semantic_manifest.json", root / "target")
    env = dbt_env(work, None, db_path.name, env={"DBT_PROJECT_DIR": str(root)})
    env.pop("SHOPSEG_TARGET", None)
    db = DbtResult(0, "", db_path, work / "target")
    return MfProject(root, db, env)


def as_table(rows: list[dict[str, str]], group: str) -> Table:
    """mf CSV rows keyed by the group column; empty cells are nulls."""
    return {
        row[group]: {k: float(v) if v != "" else None for k, v in row.items() if k != group}
        for row in rows
    }


def sql_table(db: DbtResult, sql: str) -> Table:
    """SQL result rows keyed by their `grp` column; NULL is None."""
    frame = db.query(sql)
    return {
        str(row["grp"]): {
            k: None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
            for k, v in row.items()
            if k != "grp"
        }
        for row in frame.astype(object).to_dict("records")
    }


def mismatches(got: Mapping[str, Mapping[str, float | None]], want: Table) -> list[str]:
    """Every group or number where `got` (mf) differs from `want` (SQL), to 1e-6."""
    problems = [f"{key!r}: only in mf" for key in sorted(set(got) - set(want))]
    for key, metrics in sorted(want.items()):
        if key not in got:
            problems.append(f"{key!r}: missing from mf")
            continue
        for metric, expected in metrics.items():
            actual = got[key].get(metric)
            if actual is None or expected is None:
                same = actual is None and expected is None
            else:
                same = math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-6)
            if not same:
                problems.append(f"{key!r}.{metric}: mf {actual} != SQL {expected}")
    return problems


@pytest.fixture(scope="module")
def by_segment(mf_project: MfProject) -> Table:
    """The README query with every metric: one mf start-up for the segment checks."""
    rows = mf_project.query(
        ["--metrics", ",".join(SEGMENT_METRICS), "--group-by", "shopseg_customer__segment_name"],
        "by_segment",
    )
    return as_table(rows, "shopseg_customer__segment_name")


def test_mf_metrics_per_segment_match_sql_on_the_marts(
    mf_project: MfProject, by_segment: Table
) -> None:
    want = sql_table(mf_project.db, SEGMENT_SQL)
    assert len(want) >= 3
    assert not mismatches(by_segment, want)
    assert math.isclose(sum(m["shopseg_segment_share"] for m in by_segment.values()), 1.0)
    assert sum(m["shopseg_at_risk_revenue"] or 0 for m in by_segment.values()) > 0
    # the share is the mart's own segment share too
    profiles = mf_project.db.query("select segment_name, customer_share from segment_profiles")
    for name, share in zip(profiles["segment_name"], profiles["customer_share"], strict=True):
        assert math.isclose(by_segment[name]["shopseg_segment_share"], share, abs_tol=1e-9), name


def test_mf_share_keeps_all_customers_as_denominator_under_a_filter(
    mf_project: MfProject,
) -> None:
    rows = mf_project.query(
        [
            "--metrics",
            "shopseg_customers,shopseg_segment_share,shopseg_revenue",
            "--group-by",
            "shopseg_customer__lifecycle_stage,metric_time__day",
            "--where",
            "{{ Dimension('shopseg_customer__is_registered') }} = true",
        ],
        "by_stage",
    )
    # metric_time is the as-of day of the build (the measures' agg time dimension)
    as_of = mf_project.db.query("select max(cast(as_of_at as date)) as d from customer_features")
    assert {row.pop("metric_time__day")[:10] for row in rows} == {str(as_of["d"].iloc[0])[:10]}
    got = as_table(rows, "shopseg_customer__lifecycle_stage")
    assert not mismatches(got, sql_table(mf_project.db, STAGE_SQL))
    assert sum(m["shopseg_segment_share"] for m in got.values()) < 1


def test_the_check_flags_a_wrong_number(by_segment: Table) -> None:
    want = {key: dict(metrics) for key, metrics in by_segment.items()}
    assert not mismatches(by_segment, want)
    first, second = sorted(want)[:2]
    want[first]["shopseg_revenue"] += 0.01
    want[second]["shopseg_segment_share"] = None
    want["No such segment"] = {"shopseg_customers": 1.0}
    problems = mismatches(by_segment, want)
    assert len(problems) == 3, problems
    assert any(p.startswith(f"{first!r}.shopseg_revenue") for p in problems)
