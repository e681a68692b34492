"""The grain tests can fail: each generic test's SQL, rendered by dbt's own Jinja, finds
the planted duplicate or gap in a tiny DuckDB table, and passes on clean rows."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import PROJECT, connect_warehouse, failed_tests, run_dbt
from dbt_common.clients.jinja import get_environment

GENERIC_TESTS = PROJECT / "macros" / "generic_tests"


def render_test(name: str, **kwargs: object) -> str:
    """The SQL of generic test `name` as dbt compiles it, for the arguments given."""
    template = get_environment().from_string((GENERIC_TESTS / f"{name}.sql").read_text())
    return str(getattr(template.module, f"dbt_macro__test_{name}")(**kwargs))


def failures(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    """Rows the test query returns: dbt fails the test when there is at least one."""
    return con.execute(f"select count(*) from ({sql}) as dbt_internal_test").fetchone()[0]


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with a table keyed by (run_id, record_type, segment_id, name)."""
    con = duckdb.connect()
    con.execute(
        "create table params as select * from (values "
        "('r1', 'run', null, 'k'), ('r1', 'centroid', 1, 'recency_days'),"
        "('r1', 'centroid', 2, 'recency_days'), ('r2', 'run', null, 'k')"
        ") as t(run_id, record_type, segment_id, name)"
    )
    return con


GRAIN = ["run_id", "record_type", "segment_id", "name"]


def test_unique_combination_passes_on_distinct_keys_with_nulls(con) -> None:
    # segment_id is null on run rows: nulls are part of the key, not duplicates of it
    assert (
        failures(
            con,
            render_test(
                "unique_combination_of_columns", model="params", combination_of_columns=GRAIN
            ),
        )
        == 0
    )


@pytest.mark.parametrize(
    "duplicate",
    [
        "('r1', 'centroid', 1, 'recency_days')",  # a repeated key
        "('r1', 'run', null, 'k')",  # a repeated key whose segment_id is null
    ],
)
def test_unique_combination_fails_on_a_duplicate(con, duplicate: str) -> None:
    con.execute(f"insert into params values {duplicate}")
    sql = render_test("unique_combination_of_columns", model="params", combination_of_columns=GRAIN)
    assert failures(con, sql) == 1


def test_unique_combination_fails_only_on_the_whole_key(con) -> None:
    # the same (run_id, name) under another record type is another key
    sql = render_test(
        "unique_combination_of_columns", model="params", combination_of_columns=["run_id", "name"]
    )
    assert failures(con, sql) == 1  # r1 has recency_days twice (segments 1 and 2)


def test_covers_population_fails_for_an_uncovered_id(con) -> None:
    con.execute("create table segments as select * from (values (1), (2), (3)) as t(segment_id)")
    sql = render_test(
        "covers_population", model="params", column_name="segment_id", population="segments"
    )
    assert failures(con, sql) == 1  # segment 3 has no row
    con.execute("insert into params values ('r1', 'centroid', 3, 'recency_days')")
    assert failures(con, sql) == 0


@pytest.mark.e2e
def test_duplicated_grain_fails_the_build_tests(demo_build, demo_dir, tmp_path: Path) -> None:
    # the grain tests are wired to the marts: a copied row fails them in a real `dbt test`
    db = tmp_path / "tampered.duckdb"
    shutil.copy(demo_build.db_path, db)
    warehouse = connect_warehouse(db, read_only=False)
    for table in ("segment_centroids", "segment_k_selection", "segment_feature_profiles"):
        warehouse.execute(f"insert into {table} select * from {table} limit 1")
    warehouse.close()
    result = run_dbt(
        ["test", "--select", "segment_centroids segment_k_selection segment_feature_profiles"],
        tmp_path,
        demo_dir,
        db_name=db.name,
    )
    assert not result.ok
    failed = failed_tests(result)
    for table in ("segment_centroids", "segment_k_selection", "segment_feature_profiles"):
        assert any(name.startswith(f"unique_combination_of_columns_{table}") for name in failed), (
            failed
        )
