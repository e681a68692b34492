"""Publishing: BI readers never block a build nor see half-written tables; kills lose nothing."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest
from conftest import DBT, PROJECT, DbtResult, connect_warehouse, dbt_env, run_dbt

from shopseg import demo
from shopseg.publish import publish

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


@pytest.mark.e2e
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


@pytest.mark.e2e
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
        if log.exists() and "START python incremental model main_shopseg.segment_kmeans_fit" in (
            log.read_text(errors="replace")
        ):
            break
        assert build.poll() is None, "dbt finished before the fit started"
        time.sleep(0.1)
    time.sleep(1.0)
    assert build.poll() is None, "the fit finished before the kill"
    os.killpg(build.pid, signal.SIGKILL)
    build.wait()

    con = connect_warehouse(tmp_path / "shopseg.duckdb")
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


# --- where a publish may write -------------------------------------------------------


def one_table(rows: int = 3) -> list[tuple[str, object]]:
    return [("t", lambda: pa.table({"x": list(range(rows))}))]


def make_duckdb(path: Path) -> bytes:
    """A DuckDB file holding one table; its bytes."""
    con = duckdb.connect(str(path))
    con.execute("create table segment_kmeans_fit as select 1 as run_seq")
    con.close()
    return path.read_bytes()


def listing(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_publish_refuses_the_build_warehouse(tmp_path: Path, monkeypatch) -> None:
    warehouse = tmp_path / "shopseg.duckdb"
    make_duckdb(warehouse)
    (tmp_path / "link.duckdb").symlink_to(warehouse)
    os.link(warehouse, tmp_path / "hard.duckdb")
    before = listing(tmp_path)
    monkeypatch.chdir(tmp_path)
    for target in (warehouse, Path("shopseg.duckdb"), tmp_path / "link.duckdb", "hard.duckdb"):
        with pytest.raises(ValueError) as refused:
            publish(one_table(), target, warehouse=warehouse, input_path=tmp_path / "in")
        assert str(refused.value) == (
            f"shopseg: shop_publish_path = '{target}' is the build warehouse (publishing "
            "would replace it, and the models it stores, with the marts): set "
            "shop_publish_path (or SHOPSEG_PUBLISH_PATH) to a file of its own"
        )
    assert listing(tmp_path) == before  # nothing written, not even a temp file


def test_publish_refuses_the_input_folder_and_its_files(tmp_path: Path) -> None:
    warehouse, inputs = tmp_path / "shopseg.duckdb", tmp_path / "input"
    inputs.mkdir()
    (inputs / "orders.parquet").write_bytes(b"PAR1 a user's orders")
    before = listing(tmp_path)
    cases = {
        inputs / "orders.parquet": "is an input file",
        inputs / "new" / "published.duckdb": "is inside the input folder",
        inputs: "is the input folder",
    }
    for target, reason in cases.items():
        with pytest.raises(ValueError) as refused:
            publish(one_table(), target, warehouse=warehouse, input_path=inputs)
        assert str(refused.value) == (
            f"shopseg: shop_publish_path = '{target}' {reason} (shop_input_path = '{inputs}'): "
            "set shop_publish_path (or SHOPSEG_PUBLISH_PATH) to a file of its own"
        )
    assert listing(tmp_path) == before and not (inputs / "new").exists()


def test_publish_refuses_a_folder_or_a_file_that_is_not_duckdb(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database")
    for target, reason in {
        tmp_path: "is a folder",
        notes: "exists and is not a DuckDB file",
    }.items():
        with pytest.raises(ValueError, match=re.escape(f"'{target}' {reason}")):
            publish(one_table(), target)
    assert notes.read_text() == "not a database"
    empty = tmp_path / "empty.duckdb"
    empty.touch()  # an empty file holds nothing to lose
    publish(one_table(), empty)
    target = tmp_path / "published.duckdb"
    make_duckdb(target)  # the previous published file is replaced
    assert list(publish(one_table(4), target)["row_count"]) == [4]


def dead_pid() -> int:
    """The id of a process that has exited."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_publish_removes_temp_files_of_killed_publishes(tmp_path: Path, caplog) -> None:
    target = tmp_path / "published.duckdb"
    dead, live = dead_pid(), os.getppid()
    stale = [
        tmp_path / f".published.duckdb.{dead}.tmp",
        tmp_path / f".published.duckdb.{dead}.tmp.wal",
    ]
    kept = [
        tmp_path / f".published.duckdb.{live}.tmp",  # a publish still running
        tmp_path / f".other.duckdb.{dead}.tmp",  # another target's
        tmp_path / ".published.duckdb.notapid.tmp",
    ]
    for path in stale + kept:
        path.write_bytes(b"half a database")
    with caplog.at_level(logging.INFO, logger="shopseg.publish"):
        done = publish(one_table(), target)
    assert list(done["table_name"]) == ["t"]
    assert not any(path.exists() for path in stale)
    assert all(path.exists() for path in kept)
    assert (
        f"shopseg: removed 2 leftover file(s) of interrupted publishes: {stale[0]}, {stale[1]}"
        in caplog.messages
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [target.name, *(p.name for p in kept)]
    )


def test_failed_publish_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "published.duckdb"
    before = make_duckdb(target)

    def broken() -> pa.Table:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        publish([*one_table(), ("u", broken)], target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


@pytest.mark.e2e
def test_build_refuses_to_publish_over_its_warehouse(tmp_path: Path) -> None:
    shop = tmp_path / "input"
    demo.write({k: v for k, v in demo.generate(customers=300).items() if k != "personas"}, shop)
    work = tmp_path / "work"
    warehouse = work / "shopseg.duckdb"
    result = run_dbt(
        ["build", "--exclude-resource-type", "unit_test"],
        work,
        shop,
        {"shop_min_classifier_f1": 0, "shop_min_rule_fidelity": 0}
        | {"shop_publish_path": str(warehouse)},
    )
    assert not result.ok
    line = (
        f"ValueError: shopseg: shop_publish_path = '{warehouse}' is the build warehouse "
        "(publishing would replace it, and the models it stores, with the marts): set "
        "shop_publish_path (or SHOPSEG_PUBLISH_PATH) to a file of its own"
    )
    lines = [text.strip() for text in result.output.splitlines()]
    assert line in lines, "\n".join(text for text in lines if "shopseg" in text)
    assert "src/shopseg" not in result.output  # the model's frame only, not the library's
    statuses = result.results()
    failed = {uid for uid, status in statuses.items() if status in ("error", "fail")}
    assert failed == {"model.shopseg.published_tables"}
    assert statuses["model.shopseg.segment_kmeans_fit"] == "success"
    # the warehouse is the build's, models and all
    assert result.query("select count(*) as n from segment_kmeans_fit")["n"].iloc[0] > 0
    assert result.query("select count(*) as n from customer_segments")["n"].iloc[0] > 0
    assert sorted(p.name for p in work.glob("*.duckdb*")) == ["shopseg.duckdb"]

    # the next build, publishing where it should, clears what a killed publish left there
    target = work / "shopseg_published.duckdb"
    pid = dead_pid()
    stale = [work / f".{target.name}.{pid}.tmp{wal}" for wal in ("", ".wal")]
    for path in stale:
        path.write_bytes(b"half a database")
    # (only the publishing model: the marts it reads are in the warehouse already)
    again = run_dbt(
        ["run", "--select", "published_tables"],
        work,
        shop,
        {"shop_min_classifier_f1": 0, "shop_min_rule_fidelity": 0},
    )
    assert again.ok, again.output[-3000:]
    assert not any(path.exists() for path in stale)
    assert (
        f"shopseg: removed 2 leftover file(s) of interrupted publishes: {stale[0]}, {stale[1]}"
        in again.output
    )
    assert sorted(p.name for p in work.glob("*.duckdb*")) == ["shopseg.duckdb", target.name]
