"""Shared fixtures: real dbt builds on DuckDB files in temporary folders."""

from __future__ import annotations

import atexit
import fcntl
import functools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from fixture_warehouse import build as build_fixture_warehouse

PROJECT = Path(__file__).resolve().parents[2]
# The schemas of a DuckDB build (marts in <target schema>_shopseg, var shop_marts_schema),
# searched in this order by connect_warehouse so that tests name tables without a schema.
WAREHOUSE_SCHEMAS = ["main_shopseg", "main_intermediate", "main_staging", "main_seeds", "main"]
DBT = str(Path(sys.executable).with_name("dbt"))
DEMO_CUSTOMERS = 5000


@dataclass
class DbtResult:
    """Outcome of one dbt invocation."""

    returncode: int
    output: str
    db_path: Path
    target_path: Path

    @property
    def ok(self) -> bool:
        """True when dbt exited 0."""
        return self.returncode == 0

    def results(self) -> dict[str, str]:
        """Status per node unique_id from run_results.json."""
        data = json.loads((self.target_path / "run_results.json").read_text())
        return {r["unique_id"]: r["status"] for r in data["results"]}

    def query(self, sql: str) -> pd.DataFrame:
        """Run SQL on the built DuckDB file, read-only."""
        con = connect_warehouse(self.db_path)
        try:
            return con.execute(sql).df()
        finally:
            con.close()


def connect_warehouse(path: Path, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """A connection to a built warehouse file whose search path covers shopseg's schemas."""
    con = duckdb.connect(str(path), read_only=read_only)
    con.execute(f"set search_path = '{','.join(WAREHOUSE_SCHEMAS)}'")
    return con


def dbt_env(
    work: Path,
    input_path: Path | None,
    db_name: str = "shopseg.duckdb",
    project: Path = PROJECT,
    env: dict[str, str] | None = None,
) -> dict[str, str]:
    """Environment for dbt in `project` with its warehouse, target and logs inside `work`."""
    work.mkdir(parents=True, exist_ok=True)
    db_path = work / db_name
    full_env = os.environ | {
        "DBT_PROFILES_DIR": str(project / "profiles"),
        "SHOPSEG_DUCKDB_PATH": str(db_path),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
        # logs/dbt.log without dbt's debug lines (every SQL statement): a sixth of a small
        # shop's build went to writing them
        "DBT_LOG_LEVEL_FILE": "info",
        # the published file sits beside the warehouse, whatever the caller's environment says
        "SHOPSEG_PUBLISH_PATH": str(db_path.with_name(db_path.stem + "_published.duckdb")),
    }
    if input_path is not None:
        full_env["SHOPSEG_INPUT_PATH"] = str(input_path)
    return full_env | (env or {})


def run_dbt(
    args: list[str],
    work: Path,
    input_path: Path | None,
    dbt_vars: dict | None = None,
    db_name: str = "shopseg.duckdb",
    project: Path = PROJECT,
    env: dict[str, str] | None = None,
    unit_tests: bool = False,
) -> DbtResult:
    """Run dbt in `project` with its warehouse, target and logs inside `work`.

    A `dbt build` leaves the dbt unit tests out unless `unit_tests` is true: they test the
    SQL, not the input, so the demo build (and make test-fast) runs them once.
    """
    full_env = dbt_env(work, input_path, db_name, project, env)
    cmd = [DBT, *args]
    resource_flags = {"--resource-type", "--exclude-resource-type", "--resource-types"}
    if args[:1] == ["build"] and not unit_tests and not resource_flags & set(args):
        cmd += ["--exclude-resource-type", "unit_test"]
    if dbt_vars:
        cmd += ["--vars", json.dumps(dbt_vars)]
    full_env.setdefault("DBT_PROJECT_DIR", str(project))
    return run_in_work(cmd, work, full_env, db_name, dbt_vars)


def run_in_work(
    cmd: list[str],
    work: Path,
    env: dict[str, str],
    db_name: str,
    dbt_vars: dict | None,
    db_var: str = "SHOPSEG_DUCKDB_PATH",
) -> DbtResult:
    """Run a dbt command with `work` as the current folder and the warehouse `db_name` in it.

    The profile names the warehouse relative to `work` (env var `db_var`), so it reads the
    same in every test and a parse of the same project and vars is reused (_PARSES).
    """
    env = dict(env)
    if env[db_var] == str(work / db_name):
        env[db_var] = db_name
    parse_key = json.dumps([env["DBT_PROJECT_DIR"], env[db_var], dbt_vars or {}], sort_keys=True)
    saved_parse = Path(env["DBT_TARGET_PATH"]) / "partial_parse.msgpack"
    if parse_key in _PARSES and not saved_parse.exists():
        saved_parse.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_PARSES[parse_key], saved_parse)
    proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=900)
    if parse_key not in _PARSES and saved_parse.exists():
        _PARSES[parse_key] = _parse_folder() / f"{len(_PARSES)}.msgpack"
        shutil.copyfile(saved_parse, _PARSES[parse_key])
    return DbtResult(proc.returncode, proc.stdout + proc.stderr, work / db_name, work / "target")


# dbt's saved parse (target/partial_parse.msgpack) per project, warehouse name and vars, kept
# by this pytest process: a build in a new folder starts from it and parses only the files
# whose inputs differ (dbt checks the project files, vars, profile and env vars itself and
# parses everything again when any of them changed). A full parse of the project is
# about 10 s of CPU, a third of a small shop's build.
_PARSES: dict[str, Path] = {}


@functools.cache
def _parse_folder() -> Path:
    """This process's folder for _PARSES, removed when it exits."""
    folder = Path(tempfile.mkdtemp(prefix="shopseg-parses-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def failed_tests(result: DbtResult) -> set[str]:
    """Names of the data tests that failed in a dbt run."""
    return {uid.split(".")[2] for uid, status in result.results().items() if status == "fail"}


# A build of a small shop: the classifier's quality floors judge how learnable a few hundred
# customers' segments are, which the tests on small shops do not check (unit tests are left
# out as in every run_dbt build)
SMALL_SHOP_BUILD = ["build", "--exclude-resource-type", "unit_test"]
SMALL_SHOP_VARS = {"shop_min_classifier_f1": 0, "shop_min_rule_fidelity": 0}


@pytest.fixture(scope="session")
def small_shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 300-customer demo shop, generated once per worker."""
    from shopseg import demo

    folder = tmp_path_factory.mktemp("small_shop")
    demo.write(demo.generate(customers=300), folder)
    return folder


def node_statuses(result: DbtResult) -> dict[str, str]:
    """Status per node name (models, tests) of a dbt invocation."""
    return {uid.split(".")[2]: status for uid, status in result.results().items()}


def current_run(result: DbtResult) -> pd.Series:
    """The current row of segmentation_runs in a build's warehouse."""
    return result.query("select * from segmentation_runs where is_current").iloc[0]


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default demo shop (5,000 customers), generated once per session."""
    from shopseg import demo

    out = tmp_path_factory.mktemp("demo")
    demo.write(demo.generate(customers=DEMO_CUSTOMERS), out)
    return out


def shared_temp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every pytest-xdist worker of this run shares (the workers' base temp
    folders are its children), or the base temp folder without xdist."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory, demo_dir: Path) -> DbtResult:
    """One full `dbt build` on the demo shop per test run, shared by read-only tests.

    The first worker that needs it builds it under a file lock; the others wait for the
    lock and read its result (the demo's files are the same bytes in every worker). Tests
    copy the warehouse before they change it.
    """
    shared = shared_temp(tmp_path_factory) / "demo_build"
    saved = shared / "dbt_result.json"
    with open(shared.with_name("demo_build.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if saved.exists():
            fields = json.loads(saved.read_text())
            result = DbtResult(
                fields["returncode"],
                fields["output"],
                Path(fields["db_path"]),
                Path(fields["target_path"]),
            )
        else:
            result = run_dbt(["build"], shared, demo_dir, unit_tests=True)
            fields = {
                "returncode": result.returncode,
                "output": result.output,
                "db_path": str(result.db_path),
                "target_path": str(result.target_path),
            }
            saved.write_text(json.dumps(fields))
    assert result.ok, result.output[-5000:]
    return result


# The files that take longest (their dbt builds; `pytest --durations`), run first so that
# the workers finish together: pytest-xdist's --dist loadfile otherwise starts the files
# with the most tests first (the fast library tests) and leaves the long builds for last.
# make pytest passes --no-loadscope-reorder so that this order holds.
LONGEST_FIRST = [
    "test_e2e_model_store.py",
    "test_bad_input.py",
    "test_e2e_kmeans.py",
    "test_foreign_input.py",
    "test_e2e_forest.py",
    "test_e2e_build_safety.py",
    "test_package.py",
    "test_e2e_publish.py",
    "test_e2e_model_store_safety.py",
    "test_e2e_gates.py",
    "test_eval.py",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the LONGEST_FIRST files first, in that order; every file keeps its own order."""
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture(scope="session")
def fixture_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small published file (400 customers, k = 4, a previous run) written without dbt."""
    return build_fixture_warehouse(
        tmp_path_factory.mktemp("fixture_warehouse") / "published.duckdb"
    )


PROJECT_FILES = [
    "dbt_project.yml",
    "models",
    "python_models",
    "macros",
    "seeds",
    "tests",
    "profiles",
]


def copy_project(dst: Path) -> Path:
    """A copy of the dbt project (no venv, data or artifacts) that a test may edit."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        src = PROJECT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dst / name)
    return dst


def copy_input(src: Path, dst: Path, tables: list[str]) -> Path:
    """Copy some input tables of a shop folder to a new folder."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in tables:
        for ext in ("parquet", "csv"):
            if (src / f"{name}.{ext}").exists():
                shutil.copy(src / f"{name}.{ext}", dst / f"{name}.{ext}")
    return dst


def reachable(manifest: dict, node: str, edges: str) -> set[str]:
    """The node and every node reachable from it by a manifest map of dbt's artifacts:
    `parent_map` walks upstream, `child_map` downstream."""
    seen, todo = {node}, [node]
    while todo:
        for other in manifest[edges].get(todo.pop(), []):
            if other not in seen:
                seen.add(other)
                todo.append(other)
    return seen


# --- PostgreSQL 15 server for the portability tests ------------------------------------

# DuckDB column types of the input files -> natural PostgreSQL types for loading them.
PG_TYPES = {
    "BOOLEAN": "boolean",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "VARCHAR": "text",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
}


def _free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresServer:
    """A throwaway local PostgreSQL server (trust auth, user postgres, loopback only)."""

    host: str
    port: int
    user: str
    data_dir: Path

    def connect(self, dbname: str = "postgres"):
        """A psycopg2 connection to `dbname`."""
        import psycopg2

        return psycopg2.connect(host=self.host, port=self.port, user=self.user, dbname=dbname)

    def create_database(self, dbname: str) -> str:
        """Create an empty database (dropping any of that name); returns its name."""
        con = self.connect()
        con.autocommit = True
        try:
            with con.cursor() as cur:
                cur.execute(f'drop database if exists "{dbname}"')
                cur.execute(f'create database "{dbname}"')
        finally:
            con.close()
        return dbname

    def load_parquet(self, dbname: str, schema: str, input_dir: Path) -> dict[str, int]:
        """Load every <table>.parquet of `input_dir` into `schema` with natural column types."""
        duck = duckdb.connect()
        con = self.connect(dbname)
        counts: dict[str, int] = {}
        try:
            with con, con.cursor() as cur:
                cur.execute(f'drop schema if exists "{schema}" cascade')
                cur.execute(f'create schema "{schema}"')
                for path in sorted(input_dir.glob("*.parquet")):
                    rel = duck.read_parquet(str(path))
                    columns = ", ".join(
                        f'"{name}" {PG_TYPES[str(dtype)]}'
                        for name, dtype in zip(rel.columns, rel.types, strict=True)
                    )
                    cur.execute(f'create table "{schema}"."{path.stem}" ({columns})')
                    csv_path = path.with_suffix(".pg.csv")
                    duck.execute(
                        f"copy (select * from read_parquet('{path}')) to '{csv_path}' "
                        "(header false, nullstr '\\N')"
                    )
                    with csv_path.open() as f:
                        cur.copy_expert(
                            f'copy "{schema}"."{path.stem}" from stdin '
                            "with (format csv, null '\\N')",
                            f,
                        )
                    csv_path.unlink()
                    counts[path.stem] = cur.rowcount
        finally:
            con.close()
            duck.close()
        return counts

    def dbt_env(self, dbname: str, schema: str = "main") -> dict[str, str]:
        """Environment selecting the profile's `postgres` target on this server."""
        return {
            "SHOPSEG_TARGET": "postgres",
            "SHOPSEG_PG_HOST": self.host,
            "SHOPSEG_PG_PORT": str(self.port),
            "SHOPSEG_PG_USER": self.user,
            "SHOPSEG_PG_PASSWORD": "",
            "SHOPSEG_PG_DBNAME": dbname,
            "SHOPSEG_PG_SCHEMA": schema,
        }


def _as_postgres(cmd: list[str]) -> list[str]:
    """`cmd` run as the postgres system user when we are root (the server refuses root)."""
    if os.geteuid() != 0:
        return cmd
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.fail("running as root but `runuser` is missing: cannot start PostgreSQL")
    return [runuser, "-u", "postgres", "--", *cmd]


def _pg_run(cmd: list[str], what: str, log: Path | None = None) -> None:
    """Run a server command; fail the session loudly with its output when it fails."""
    proc = subprocess.run(_as_postgres(cmd), capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        server_log = log.read_text()[-3000:] if log is not None and log.exists() else ""
        pytest.fail(
            f"{what} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}\n{server_log}"
        )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server on a free loopback port for the whole session, stopped at the end.

    Fails (never skips) when the server binaries are missing: CI has PostgreSQL 15.
    """
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.fail(
            "initdb/pg_ctl not on PATH: the postgres tests need the PostgreSQL 15 server "
            "binaries (CI has them; locally install postgresql-15 or deselect -m 'not postgres')"
        )
    # pytest's tmp dirs may be 0700 and owned by root: the server user must traverse this one.
    base = Path(tempfile.mkdtemp(prefix="shopseg-pg-", dir="/tmp"))
    base.chmod(0o755)
    data_dir, log = base / "data", base / "server.log"
    data_dir.mkdir()
    log.touch()
    if os.geteuid() == 0:
        shutil.chown(data_dir, user="postgres")
        shutil.chown(log, user="postgres")
    pg_ctl_d = [pg_ctl, "-D", str(data_dir), "-l", str(log), "-w", "-t", "60"]
    started = False
    try:
        # C.UTF-8: code point order and Unicode case mapping, like DuckDB, whatever the host.
        _pg_run(
            [initdb, "-D", str(data_dir), "-A", "trust", "-U", "postgres"]
            + ["-E", "UTF8", "--locale=C.UTF-8"],
            "initdb",
        )
        for attempt in range(3):  # another process may take the free port first
            port = _free_port()
            options = (
                f"-p {port} -k {data_dir} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            try:
                _pg_run([*pg_ctl_d, "-o", options, "start"], "pg_ctl start", log)
            except pytest.fail.Exception:
                if attempt == 2:
                    raise
                continue
            started = True
            break
        yield PostgresServer("127.0.0.1", port, "postgres", data_dir)
    finally:
        if started:
            _pg_run([*pg_ctl_d, "-m", "fast", "stop"], "pg_ctl stop", log)
        shutil.rmtree(base, ignore_errors=True)
