"""Portability: the SQL layer builds on PostgreSQL 15 and gives DuckDB's customer_features.

The same input (the demo shop plus a few hand-made edge rows) is built with
`dbt build --select +customer_features` on a local PostgreSQL server and on DuckDB files;
every dbt test must pass on both and customer_features must match row by row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from decimal import Decimal

import pytest
from _compare import (
    EDGE_ID,
    MART,
    Table,
    add_edge_rows,
    assert_built_like_duckdb,
    differences,
    fetch_duckdb,
    make_table,
)
from conftest import PROJECT, DbtResult, PostgresServer, run_dbt

pytestmark = [pytest.mark.postgres, pytest.mark.e2e]

CUSTOMERS = 2000
# Python models and the marts after customer_features need DuckDB; `cautious` leaves out
# the tests of those marts that merely also read a selected model.
BUILD = ["build", "--select", f"+{MART}", "--indirect-selection", "cautious"]


@dataclass(frozen=True)
class Builds:
    """The two builds of the same input and their customer_features."""

    duckdb: DbtResult
    postgres: DbtResult
    duckdb_table: Table
    postgres_table: Table


def fetch_postgres(server: PostgresServer, dbname: str, schema: str) -> Table:
    """customer_features of a PostgreSQL build."""
    con = server.connect(dbname)
    try:
        with con.cursor() as cur:
            cur.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = %s and table_name = %s order by ordinal_position",
                (schema, MART),
            )
            types = cur.fetchall()
            cur.execute(f'select * from "{schema}"."{MART}"')
            rows = cur.fetchall()
    finally:
        con.close()
    return make_table(types, rows)


@pytest.fixture(scope="module")
def builds(postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Builds:
    """The same input built on PostgreSQL and on DuckDB."""
    from shopseg import demo

    work = tmp_path_factory.mktemp("pg_equivalence")
    input_dir = work / "input"
    demo.write(demo.generate(customers=CUSTOMERS), input_dir)
    add_edge_rows(input_dir)

    dbname = postgres_server.create_database("shopseg_equivalence")
    loaded = postgres_server.load_parquet(dbname, "shop", input_dir)
    assert loaded["orders"] > CUSTOMERS, loaded
    env = postgres_server.dbt_env(dbname, schema="main")
    on_postgres = run_dbt(BUILD, work / "postgres", None, env=env)
    assert on_postgres.ok, on_postgres.output[-5000:]
    on_duckdb = run_dbt(BUILD, work / "duckdb", input_dir, env={"SHOPSEG_TARGET": "duckdb"})
    assert on_duckdb.ok, on_duckdb.output[-5000:]
    return Builds(
        on_duckdb,
        on_postgres,
        fetch_duckdb(on_duckdb.db_path),
        fetch_postgres(postgres_server, dbname, "main_shopseg"),
    )


def test_postgres_builds_and_passes_the_same_dbt_tests(builds: Builds) -> None:
    manifest = json.loads((builds.postgres.target_path / "manifest.json").read_text())
    assert_built_like_duckdb(builds.postgres.results(), builds.duckdb.results(), manifest, PROJECT)


def test_customer_features_are_the_same_row_by_row(builds: Builds) -> None:
    duck, pg = builds.duckdb_table, builds.postgres_table
    assert len(duck.rows) > CUSTOMERS
    edge = {str(EDGE_ID + 1), str(EDGE_ID + 2)}
    assert edge <= duck.rows.keys()
    problems = differences(duck, pg)
    assert not problems, "postgres differs from duckdb:\n" + "\n".join(problems)


def test_the_comparison_sees_one_changed_cell_or_type(builds: Builds) -> None:
    duck = builds.duckdb_table
    key = str(EDGE_ID + 1)
    for column, new_value in (("monetary", None), ("income", 52345.68), ("gender", "male")):
        i = duck.columns.index(column)
        row = list(duck.rows[key])
        if new_value is None:  # a decimal one cent off
            new_value = row[i] + Decimal("0.01")
        row[i] = new_value
        changed = replace(duck, rows=duck.rows | {key: tuple(row)})
        assert differences(duck, changed) == [
            f"customer {key} {column}: {duck.rows[key][i]!r} vs {new_value!r}"
        ]
    i = duck.columns.index("order_count")
    as_integer = replace(duck, families=[*duck.families[:i], "integer", *duck.families[i + 1 :]])
    as_int128 = replace(duck, families=[*duck.families[:i], "hugeint", *duck.families[i + 1 :]])
    assert differences(as_integer, as_int128) == ["column order_count: type integer vs hugeint"]
