"""The stored forest: whoever can write the warehouse cannot make a build run code.

One small build (300 customers); then the forest segment_forest stored for its run is replaced
by crafted text that creates a marker file if anything loads it as the old pickle-based code
did, or trusts whatever types a skops file names. Rebuilding the scores must fail in one line,
create no marker and leave the published file alone. The genuine forest, stored again, builds
and publishes: so the checks can fail.

Like tests/python/test_bad_input.py, the builds leave out dbt unit tests and the classifier's
quality floors (they judge how learnable 300-customer segments are, not the stored forest).
"""

from __future__ import annotations

import base64
import hashlib
import pickle
import re
import shutil
import zlib
from pathlib import Path

import duckdb
import pytest
from conftest import DbtResult, run_dbt
from test_forest import OpensMarker, as_payload, refusal, with_marker_gadget

from shopseg import demo

pytestmark = pytest.mark.e2e

BUILD = ["build", "--exclude-resource-type", "unit_test"]
SCORES = ["build", "--select", "segment_forest_scores+", "--exclude-resource-type", "unit_test"]
VARS = {"shop_min_classifier_f1": 0, "shop_min_rule_fidelity": 0}
WAREHOUSE = "shopseg.duckdb"
PUBLISHED = "shopseg_published.duckdb"  # conftest.dbt_env: <warehouse stem>_published.duckdb
LATEST_MODEL = """
    from {table}
    where record_type = 'model'
        and run_id = (
            select run_id from {table} where record_type = 'run'
            order by run_seq desc limit 1
        )
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[DbtResult, Path]:
    """A finished build of a 300-customer shop, and the shop's folder."""
    shop = tmp_path_factory.mktemp("shop")
    demo.write(demo.generate(customers=300), shop)
    result = run_dbt(BUILD, tmp_path_factory.mktemp("build"), shop, VARS)
    assert result.ok, result.output[-5000:]
    assert (result.db_path.parent / PUBLISHED).exists()
    return result, shop


def latest_model(con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    """segment_forest (in whichever schema the project builds it) and the clauses that pick
    the stored forest of its latest run."""
    (schema,) = con.execute(
        "select table_schema from information_schema.tables where table_name = 'segment_forest'"
    ).fetchone()
    table = f'"{schema}".segment_forest'
    return table, LATEST_MODEL.format(table=table)


def stored_forest(db_path: Path) -> tuple[str, str]:
    """The current run's id and the text of the forest stored for it."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        rows = con.execute(f"select run_id, text_value {latest_model(con)[1]}").fetchall()
    finally:
        con.close()
    assert len(rows) == 1
    return rows[0]


def store_forest(db_path: Path, text: str) -> None:
    """Replace the current run's stored forest by `text`, as a warehouse writer could."""
    con = duckdb.connect(str(db_path))
    try:
        table, latest = latest_model(con)
        changed = con.execute(
            f"update {table} set text_value = ? where (run_id, record_type, name) in "
            f"(select run_id, record_type, name {latest})",
            [text],
        ).fetchone()
    finally:
        con.close()
    assert changed == (1,)


def fingerprint(path: Path) -> tuple[int, int, str]:
    """What changes when a file is rewritten or renamed over: inode, mtime, content hash."""
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest()


def crafted(genuine: str, marker: Path, kind: str) -> str:
    """Stored-forest text that creates `marker` if loaded unsafely (`genuine` for none)."""
    if kind == "genuine":
        return genuine
    if kind == "older pickle":
        return as_payload(pickle.dumps(OpensMarker(marker), protocol=pickle.HIGHEST_PROTOCOL))
    skops_file = zlib.decompress(base64.b64decode(genuine))
    return as_payload(with_marker_gadget(skops_file, marker))


PROBLEMS = {
    "older pickle": "is a pickle, as older shopseg versions stored it, and is not loaded",
    "skops naming builtins.open": r"holds types shopseg does not trust \(builtins\.open\)",
}


@pytest.mark.parametrize("kind", [*PROBLEMS, "genuine"])
def test_a_crafted_stored_forest_fails_the_scores_in_one_line_and_runs_nothing(
    built: tuple[DbtResult, Path], tmp_path: Path, kind: str
) -> None:
    build, shop = built
    work = tmp_path / "work"
    work.mkdir()
    for name in (WAREHOUSE, PUBLISHED):
        shutil.copy2(build.db_path.parent / name, work / name)
    marker = tmp_path / "marker"
    run_id, genuine = stored_forest(work / WAREHOUSE)
    store_forest(work / WAREHOUSE, crafted(genuine, marker, kind))
    before = fingerprint(work / PUBLISHED)

    result = run_dbt(SCORES, work, shop, VARS)

    statuses = {uid.split(".")[-1]: status for uid, status in result.results().items()}
    if kind == "genuine":  # the same build publishes when the forest is sound
        assert result.ok, result.output[-5000:]
        assert (work / PUBLISHED).exists(), result.output[-3000:]
        assert fingerprint(work / PUBLISHED) != before
        assert "shopseg: segment_forest:" not in result.output
        return
    assert not result.ok
    assert statuses["segment_forest_scores"] == "error"
    assert statuses["published_tables"] == "skipped"
    pattern = "(ValueError: )?" + refusal(run_id, PROBLEMS[kind])
    lines = [line.strip() for line in result.output.splitlines()]
    assert any(re.fullmatch(pattern, line) for line in lines), "\n".join(
        line for line in lines if "shopseg" in line
    )
    assert not marker.exists()
    assert fingerprint(work / PUBLISHED) == before
