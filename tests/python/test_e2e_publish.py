"""Publishing: BI readers never block a build nor see half-written tables; kills lose nothing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
from conftest import DBT, PROJECT, DbtResult, dbt_env, run_dbt

READER = r"""
import json, sys, time, duckdb
path, stop, out = sys.argv[1:4]
seen, errors = [], []
held = duckdb.connect(path, read_only=True)
def check(con):
    n, distinct, runs = con.execute(
        "select count(*), count(distinct customer_id), count(distinct run_id)"
        " from customer_segments").fetchone()
    total = con.execute("select sum(customers) from segment_profiles").fetchone()[0]
    run = con.execute("select run_id from segmentation_runs where is_current").fetchone()[0]
    return {"rows": n, "distinct": distinct, "runs": runs, "profile_total": total, "run": run}
while True:
    try:
        seen.append(["held", check(held)])
        fresh = duckdb.connect(path, read_only=True)
        seen.append(["fresh", check(fresh)])
        fresh.close()
    except Exception as exc:  # noqa: BLE001
        errors.append(repr(exc))
    if len(seen) > 2 and __import__("os").path.exists(stop):
        break
    time.sleep(0.05)
json.dump({"seen": seen, "errors": errors}, open(out, "w"))
"""


def published(work: Path) -> Path:
    return work / "shopseg_published.duckdb"


def copy_build(build: DbtResult, work: Path) -> None:
    """Start from the state of a finished build: warehouse and published file."""
    work.mkdir(parents=True, exist_ok=True)
    shutil.copy(build.db_path, work / "shopseg.duckdb")
    shutil.copy(published(build.db_path.parent), published(work))


def current_run(path: Path) -> str:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("select run_id from segmentation_runs where is_current").fetchone()[0]
    finally:
        con.close()


def test_bi_reader_during_build(demo_build: DbtResult, demo_dir: Path, tmp_path: Path) -> None:
    copy_build(demo_build, tmp_path)
    before = current_run(published(tmp_path))
    stop, out = tmp_path / "stop", tmp_path / "reader.json"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(published(tmp_path)), str(stop), str(out)]
    )
    try:
        time.sleep(1.0)
        result = run_dbt(["build"], tmp_path, demo_dir, {"shop_k": 5})
    finally:
        stop.touch()
        reader.wait(timeout=60)
    assert result.ok, result.output[-3000:]
    report = json.loads(out.read_text())
    assert not report["errors"], report["errors"][:3]
    for kind, state in report["seen"]:
        assert state["rows"] == state["distinct"] == state["profile_total"], (kind, state)
        assert state["runs"] == 1
        if kind == "held":
            assert state["run"] == before  # a connection keeps its snapshot
    assert {state["run"] for _, state in report["seen"]} <= {
        before,
        current_run(published(tmp_path)),
    }
    after = current_run(published(tmp_path))
    assert after != before  # a new connection sees the new segments
    assert len(report["seen"]) > 10


def test_killed_build_keeps_previous_tables(
    demo_build: DbtResult, demo_dir: Path, tmp_path: Path
) -> None:
    copy_build(demo_build, tmp_path)
    segments_sql = "select * from customer_segments order by customer_id"
    before = demo_build.query(segments_sql)
    build = subprocess.Popen(  # not run_dbt: this build is killed halfway
        [DBT, "build", "--vars", json.dumps({"shop_n_init": 60})],
        cwd=PROJECT,
        env=dbt_env(tmp_path, demo_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    log = tmp_path / "logs" / "dbt.log"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if log.exists() and "START python incremental model main.segment_kmeans_fit" in (
            log.read_text(errors="replace")
        ):
            break
        assert build.poll() is None, "dbt finished before the fit started"
        time.sleep(0.1)
    time.sleep(1.0)
    assert build.poll() is None, "the fit finished before the kill"
    os.killpg(build.pid, signal.SIGKILL)
    build.wait()

    con = duckdb.connect(str(tmp_path / "shopseg.duckdb"), read_only=True)
    try:
        pd.testing.assert_frame_equal(con.execute(segments_sql).df(), before)
    finally:
        con.close()
    con = duckdb.connect(str(published(tmp_path)), read_only=True)
    try:
        pd.testing.assert_frame_equal(con.execute(segments_sql).df(), before)
    finally:
        con.close()
    again = run_dbt(["build"], tmp_path, demo_dir)
    assert again.ok, again.output[-3000:]
