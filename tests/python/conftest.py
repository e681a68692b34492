"""Shared fixtures: real dbt builds on DuckDB files in temporary folders."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

PROJECT = Path(__file__).resolve().parents[2]
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
        con = duckdb.connect(str(self.db_path), read_only=True)
        try:
            return con.execute(sql).df()
        finally:
            con.close()


def run_dbt(
    args: list[str],
    work: Path,
    input_path: Path | None,
    dbt_vars: dict | None = None,
    db_name: str = "shopseg.duckdb",
    project: Path = PROJECT,
    env: dict[str, str] | None = None,
) -> DbtResult:
    """Run dbt in `project` with its warehouse, target and logs inside `work`."""
    work.mkdir(parents=True, exist_ok=True)
    db_path = work / db_name
    target_path = work / "target"
    full_env = os.environ | {
        "DBT_PROFILES_DIR": str(project / "profiles"),
        "SHOPSEG_DUCKDB_PATH": str(db_path),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_TARGET_PATH": str(target_path),
        "DBT_LOG_PATH": str(work / "logs"),
    }
    if input_path is not None:
        full_env["SHOPSEG_INPUT_PATH"] = str(input_path)
    full_env |= env or {}
    cmd = [DBT, *args]
    if dbt_vars:
        cmd += ["--vars", json.dumps(dbt_vars)]
    proc = subprocess.run(
        cmd, cwd=project, env=full_env, capture_output=True, text=True, timeout=900
    )
    return DbtResult(proc.returncode, proc.stdout + proc.stderr, db_path, target_path)


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default demo shop (5,000 customers), generated once per session."""
    from shopseg import demo

    out = tmp_path_factory.mktemp("demo")
    demo.write(demo.generate(customers=DEMO_CUSTOMERS), out)
    return out


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory, demo_dir: Path) -> DbtResult:
    """One full `dbt build` on the demo shop, shared by read-only tests."""
    result = run_dbt(["build"], tmp_path_factory.mktemp("demo_build"), demo_dir)
    assert result.ok, result.output[-5000:]
    return result


def copy_input(src: Path, dst: Path, tables: list[str]) -> Path:
    """Copy some input tables of a shop folder to a new folder."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in tables:
        for ext in ("parquet", "csv"):
            if (src / f"{name}.{ext}").exists():
                shutil.copy(src / f"{name}.{ext}", dst / f"{name}.{ext}")
    return dst
