"""The dbt quality gates can fail: each is shown failing a real build."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import connect_warehouse, failed_tests, run_dbt

pytestmark = pytest.mark.e2e


def test_unreachable_silhouette_floor_and_share_cap_fail_the_build(
    demo_dir: Path, tmp_path: Path
) -> None:
    # one build, two gates set out of reach: each must fail on its own test
    result = run_dbt(
        ["build"], tmp_path, demo_dir, {"shop_min_silhouette": 0.99, "shop_max_segment_share": 0.05}
    )
    assert not result.ok
    failed = failed_tests(result)
    assert any(n.startswith("value_at_least_segmentation_runs_silhouette") for n in failed), failed
    assert any(n.startswith("segment_share_between_customer_segments") for n in failed), failed
    assert "published_tables" not in {
        uid.split(".")[2] for uid, status in result.results().items() if status == "success"
    }


def test_lost_or_doubled_customer_fails_exactly_once_gate(demo_build, demo_dir, tmp_path) -> None:
    import shutil

    db = tmp_path / "tampered.duckdb"
    shutil.copy(demo_build.db_path, db)
    con = connect_warehouse(db, read_only=False)
    con.execute(
        "delete from customer_segments where customer_id = "
        "(select min(customer_id) from customer_segments)"
    )
    con.execute(
        "insert into customer_segments select * from customer_segments where customer_id = "
        "(select max(customer_id) from customer_segments)"
    )
    con.close()
    result = run_dbt(["test", "--select", "customer_segments"], tmp_path, demo_dir, db_name=db.name)
    assert not result.ok
    failed = failed_tests(result)
    assert any(name.startswith("segmented_exactly_once_customer_segments") for name in failed)
    assert any(name.startswith("unique_customer_segments") for name in failed)


def test_k_outside_the_range_fails_the_k_gate(demo_build, demo_dir, tmp_path) -> None:
    import shutil

    db = tmp_path / "tampered.duckdb"
    shutil.copy(demo_build.db_path, db)
    con = connect_warehouse(db, read_only=False)
    con.execute("update segmentation_runs set k = 99")
    con.close()
    result = run_dbt(["test", "--select", "segmentation_runs"], tmp_path, demo_dir, db_name=db.name)
    assert not result.ok
    assert any(
        name.startswith("value_between_segmentation_runs_k") for name in failed_tests(result)
    ), result.output[-3000:]


def test_prediction_gates_fail_out_of_reach_and_skip_a_backtest_that_could_not_run(
    demo_build, demo_dir, tmp_path
) -> None:
    import json
    import shutil

    db = tmp_path / "tampered.duckdb"
    shutil.copy(demo_build.db_path, db)
    con = connect_warehouse(db, read_only=False)
    # a second run whose backtest could not run: no figures, so no gate may judge it
    con.execute(
        "insert into prediction_runs select * replace ("
        "'other' as prediction_run_id, 'history_too_short' as status, "
        "null as auc, null as total_error) from prediction_runs"
    )
    con.close()
    result = run_dbt(
        ["test", "--select", "prediction_runs"],
        tmp_path,
        demo_dir,
        {"shop_min_prediction_auc": 0.999, "shop_max_prediction_total_error": 0.001},
        db_name=db.name,
    )
    assert not result.ok
    failures = {
        r["unique_id"].split(".")[2]: r["failures"]
        for r in json.loads((result.target_path / "run_results.json").read_text())["results"]
        if r["status"] == "fail"
    }
    # each gate fails on the demo's run only (1 row), not on the one without a backtest
    assert failures == {
        "value_at_least_prediction_runs_auc": 1,
        "value_between_prediction_runs_total_error": 1,
    }, failures
