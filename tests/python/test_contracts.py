"""The BI marts are public with enforced contracts: a breaking column change fails the build."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import DbtResult, copy_project, run_dbt

pytestmark = pytest.mark.e2e

BI_MARTS = [
    "customer_features",
    "customer_segments",
    "segment_profiles",
    "segmentation_runs",
    "segment_k_selection",
    "segment_migration",
    "segment_feature_importance",
    "segment_rules",
    "segment_classifier_metrics",
    "prediction_runs",
    "customer_segment_history",
    "segment_transitions",
]


def test_bi_marts_are_public_contracted_and_match_their_tables(demo_build: DbtResult) -> None:
    manifest = json.loads((demo_build.target_path / "manifest.json").read_text())
    for name in BI_MARTS:
        node = manifest["nodes"][f"model.shopseg.{name}"]
        assert node["access"] == "public", name
        assert node["config"]["contract"]["enforced"] is True, name
        declared = {c: spec["data_type"] for c, spec in node["columns"].items()}
        assert all(declared.values()), f"{name}: a column has no data_type"
        built = demo_build.query(
            "select column_name from information_schema.columns "
            "where table_schema = 'main_shopseg' "
            f"and table_name = '{name}' order by ordinal_position"
        )["column_name"].tolist()
        assert list(declared) == built, name


def test_breaking_column_changes_fail_the_build(demo_build: DbtResult, tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(demo_build.db_path, work / "shopseg.duckdb")

    # a type change: customers becomes a double
    migration = project / "models/marts/segment_migration.sql"
    text = migration.read_text()
    assert "count(*) as customers" in text
    migration.write_text(
        text.replace("count(*) as customers", "cast(count(*) as double) as customers")
    )
    # a renamed column: k becomes n_segments
    k_selection = project / "models/marts/segment_k_selection.sql"
    text = k_selection.read_text()
    assert "        sweep.k,\n" in text
    k_selection.write_text(
        text.replace("        sweep.k,\n", "        sweep.k as n_segments,\n", 1)
    )

    result = run_dbt(
        ["run", "--select", "segment_migration", "segment_k_selection"], work, None, project=project
    )
    assert not result.ok
    assert result.output.count("This model has an enforced contract that failed") == 2
    assert "customers" in result.output and "DOUBLE" in result.output
    assert "n_segments" in result.output
    statuses = set(result.results().values())
    assert statuses == {"error"}
