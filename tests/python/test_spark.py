"""Scale-out: the SQL layer on Apache Spark equals DuckDB's, Spark scoring equals pandas scoring.

The demo shop plus the edge rows of the PostgreSQL test is built with
`dbt build --target spark --select +customer_features` (dbt-spark's session method on a
local PySpark, in a dbt subprocess whose warehouse and metastore live in a temporary
folder) and with the same selection on DuckDB; every dbt test, unit tests included, must
pass on both and customer_features must match row by row. The Spark scoring of
shopseg.spark (mapInPandas on a local[2] SparkSession) must give the pandas scoring's
segments and distances for the same fitted model, and the Spark branches of the
segmentation models run here with a stand-in for dbt's `dbt` object (never on Databricks).

Needs the `spark` extra (pyspark, dbt-spark[session]) and Java 17: `make test-spark`.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _compare import (
    EDGE_ID,
    MART,
    REL_TOL,
    Table,
    add_edge_rows,
    assert_built_like_duckdb,
    differences,
    fetch_duckdb,
    make_table,
)
from conftest import PROJECT, DbtResult, connect_warehouse, copy_input, run_dbt

import shopseg
from shopseg.config import SegmentConfig
from shopseg.forest import ForestConfig, fit_forest, score_customers, training_frame
from shopseg.kmeans import SegmentModel, fit_segments, score_segments
from shopseg.params import model_from_params
from shopseg.segments import with_previous

# pyspark 4.3 warns that it does not fully support pandas 3; what these tests use works
pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas")

# Python models and the marts after customer_features are DuckDB-only; `cautious` leaves
# out the tests of those marts that merely also read a selected model.
BUILD = ["build", "--select", f"+{MART}", "--indirect-selection", "cautious"]
SPARK_SCHEMA = "shopseg"
TABLES = ["orders", "customers", "order_items", "products", "events"]


@dataclass(frozen=True)
class Builds:
    """The same input built on DuckDB and on Spark, and their customer_features."""

    duckdb: DbtResult
    spark: DbtResult
    duckdb_table: Table
    spark_table: Table


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A local[2] SparkSession in this process (UTC, no Hive), stopped at the end.

    Fails (never skips) when pyspark is missing: run `make test-spark`, which installs it.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        pytest.fail("pyspark is not installed: run `make test-spark` (installs '.[dev,spark]')")
    # the Python workers of mapInPandas must import shopseg: this interpreter, not PATH's
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("shopseg-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark_session")))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()


@pytest.fixture(scope="module")
def shop_input(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo shop (5,000 customers) with the edge rows appended."""
    out = copy_input(demo_dir, tmp_path_factory.mktemp("spark_input"), TABLES)
    add_edge_rows(out)
    return out


@pytest.fixture(scope="module")
def duckdb_build(shop_input: Path, tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    """`dbt build --select +customer_features` of the input on DuckDB."""
    work = tmp_path_factory.mktemp("spark_vs_duckdb")
    result = run_dbt(BUILD, work, shop_input, env={"SHOPSEG_TARGET": "duckdb"}, unit_tests=True)
    assert result.ok, result.output[-5000:]
    return result


@pytest.fixture(scope="module")
def builds(
    shop_input: Path, duckdb_build: DbtResult, spark: Any, tmp_path_factory: pytest.TempPathFactory
) -> Builds:
    """The same input built on Spark (a dbt subprocess) and on DuckDB."""
    work = tmp_path_factory.mktemp("spark_build")
    env = {"SHOPSEG_TARGET": "spark", "SHOPSEG_SPARK_DIR": str(work / "spark")}
    on_spark = run_dbt(
        BUILD, work, None, {"shop_input_path": str(shop_input)}, env=env, unit_tests=True
    )
    assert on_spark.ok, on_spark.output[-5000:]
    # the profile keeps Spark's warehouse, metastore and derby.log out of the working folder
    assert {"spark-warehouse", "metastore_db", "derby.log"} <= {
        p.name for p in (work / "spark").iterdir()
    }
    table_dir = work / "spark" / "spark-warehouse" / f"{SPARK_SCHEMA}_shopseg.db" / MART
    return Builds(
        duckdb_build,
        on_spark,
        fetch_duckdb(duckdb_build.db_path),
        fetch_spark(spark, table_dir),
    )


def fetch_spark(spark: Any, table_dir: Path) -> Table:
    """customer_features of a Spark build, read from its Parquet files (timestamps as UTC)."""
    frame = spark.read.parquet(str(table_dir))
    rows = [tuple(_naive_utc(v) for v in row.values()) for row in frame.toArrow().to_pylist()]
    return make_table(frame.dtypes, rows)


def _naive_utc(value: Any) -> Any:
    """Spark timestamps are instants; DuckDB's are naive UTC: compare them as the latter."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


@pytest.mark.spark
@pytest.mark.e2e
def test_spark_builds_and_passes_the_same_dbt_tests(builds: Builds) -> None:
    on_spark = builds.spark.results()
    manifest = json.loads((builds.spark.target_path / "manifest.json").read_text())
    assert sum(node.startswith("unit_test.") for node in on_spark) >= 5
    assert_built_like_duckdb(on_spark, builds.duckdb.results(), manifest, PROJECT)


@pytest.mark.spark
@pytest.mark.e2e
def test_customer_features_are_the_same_row_by_row(builds: Builds) -> None:
    duck, spark_table = builds.duckdb_table, builds.spark_table
    assert len(duck.rows) > 5000
    edge = {str(EDGE_ID + i) for i in (1, 2, 3)}
    assert edge <= duck.rows.keys()
    problems = differences(duck, spark_table)
    assert not problems, "spark differs from duckdb:\n" + "\n".join(problems)


@pytest.mark.spark
@pytest.mark.e2e
def test_the_comparison_sees_one_changed_cell_of_a_spark_table(builds: Builds) -> None:
    table = builds.spark_table
    key = str(EDGE_ID + 1)
    i = table.columns.index("monetary")
    for column, change in (
        ("monetary", lambda v: v + Decimal("0.01")),
        ("income", lambda v: v * (1 + 10 * REL_TOL)),
        ("last_visit_at", lambda v: v + dt.timedelta(microseconds=1)),
        ("rfm_segment", lambda v: v + " "),
    ):
        i = table.columns.index(column)
        row = list(table.rows[key])
        row[i] = change(row[i])
        changed = replace(table, rows=table.rows | {key: tuple(row)})
        assert differences(table, changed) == [
            f"customer {key} {column}: {table.rows[key][i]!r} vs {row[i]!r}"
        ]


# --- distributed scoring -------------------------------------------------------------


@pytest.fixture(scope="module")
def features(duckdb_build: DbtResult) -> pd.DataFrame:
    """customer_features of the DuckDB build, as the pandas path reads it."""
    con = connect_warehouse(duckdb_build.db_path)
    try:
        return con.sql(f"select * from {MART}").to_arrow_table().to_pandas()
    finally:
        con.close()


@pytest.fixture(scope="module")
def features_on_spark(duckdb_build: DbtResult, spark: Any, tmp_path_factory) -> Any:
    """The same customer_features as a Spark DataFrame read from Parquet (3 partitions)."""
    path = tmp_path_factory.mktemp("spark_features") / "customer_features.parquet"
    con = connect_warehouse(duckdb_build.db_path)
    try:
        con.execute(f"copy {MART} to '{path}' (format parquet)")
    finally:
        con.close()
    return spark.read.parquet(str(path)).repartition(3)


@pytest.fixture(scope="module")
def kmeans_model(features: pd.DataFrame) -> SegmentModel:
    """The default K-means model, fitted with pandas on every customer."""
    config = SegmentConfig()
    columns = ["customer_id", *[c for c in config.features if c in features.columns]]
    return fit_segments(features[columns], config)


def scoring_differences(expected: pd.DataFrame, actual: pd.DataFrame, limit: int = 20) -> list[str]:
    """How two scorings differ: columns, customers, ids and labels exactly, doubles 1e-9."""
    if list(expected.columns) != list(actual.columns):
        return [f"columns differ: {list(expected.columns)} vs {list(actual.columns)}"]
    e = expected.sort_values("customer_id").reset_index(drop=True)
    a = actual.sort_values("customer_id").reset_index(drop=True)
    if len(e) != len(a) or (e["customer_id"].astype(str) != a["customer_id"].astype(str)).any():
        return [f"customers differ: {len(e)} vs {len(a)}"]
    problems = []
    for column in e.columns:
        x, y = e[column], a[column]
        if pd.api.types.is_float_dtype(x) or pd.api.types.is_float_dtype(y):
            x, y = x.to_numpy(dtype=float), y.to_numpy(dtype=float)
            both_nan = np.isnan(x) & np.isnan(y)
            ok = both_nan | np.isclose(x, y, rtol=REL_TOL, atol=1e-12)
        else:
            ok = (x.isna() & y.isna()).to_numpy() | (x.astype(str) == y.astype(str)).to_numpy()
        for row in np.flatnonzero(~ok)[:limit]:
            problems.append(f"customer {e['customer_id'][row]} {column}: {x[row]!r} vs {y[row]!r}")
    return problems[:limit]


@pytest.mark.spark
@pytest.mark.e2e
def test_spark_kmeans_scoring_equals_pandas_scoring(
    kmeans_model: SegmentModel, features: pd.DataFrame, features_on_spark: Any
) -> None:
    from shopseg.spark import score_kmeans_spark

    expected = score_segments(kmeans_model, features)
    scored = score_kmeans_spark(features_on_spark, kmeans_model)
    assert scored.rdd.getNumPartitions() == 3
    actual = scored.toArrow().to_pandas()
    assert kmeans_model.k >= 3 and len(actual) == len(features) > 5000
    assert not scoring_differences(expected, actual)


@pytest.mark.spark
@pytest.mark.e2e
def test_spark_scoring_of_a_single_segment_fallback(
    features: pd.DataFrame, features_on_spark: Any
) -> None:
    from shopseg.spark import score_kmeans_spark

    config = SegmentConfig(k=1)
    model = fit_segments(features[["customer_id", *config.features]], config)
    assert model.status.startswith("fallback")
    expected = score_segments(model, features)
    actual = score_kmeans_spark(features_on_spark, model).toArrow().to_pandas()
    assert actual["second_segment_id"].isna().all()
    assert not scoring_differences(expected, actual)


@pytest.mark.spark
@pytest.mark.e2e
def test_spark_forest_scoring_equals_pandas_scoring(
    kmeans_model: SegmentModel, features: pd.DataFrame, spark: Any, tmp_path: Path
) -> None:
    from shopseg.spark import score_forest_spark

    columns = ["customer_id", *kmeans_model.preprocessor.features, "lifecycle_stage"]
    segments = score_segments(kmeans_model, features)[["customer_id", "segment_id"]]
    frame = training_frame(features[columns], segments)
    config = ForestConfig(sample_size=3000, n_estimators=30)
    fit = fit_forest(frame, kmeans_model.preprocessor.features, config, kmeans_model.run_id)
    expected = score_customers(fit, frame)
    assert set(expected["sample_split"]) == {"train", "holdout", "not_sampled"}
    frame.to_parquet(tmp_path / "frame.parquet")
    on_spark = spark.read.parquet(str(tmp_path / "frame.parquet")).repartition(2)
    actual = score_forest_spark(on_spark, fit).toArrow().to_pandas()
    assert not scoring_differences(expected, actual)


@pytest.mark.spark
@pytest.mark.e2e
def test_the_scoring_comparison_sees_one_changed_assignment(
    kmeans_model: SegmentModel, features: pd.DataFrame
) -> None:
    expected = score_segments(kmeans_model, features)
    key = expected["customer_id"].iloc[7]
    moved = expected.copy()
    moved.loc[7, "second_segment_id"] = moved.loc[7, "segment_id"]
    assert scoring_differences(expected, moved) == [
        f"customer {key} second_segment_id: "
        f"{expected['second_segment_id'][7]!r} vs {moved['second_segment_id'][7]!r}"
    ]
    nudged = expected.copy()
    nudged.loc[7, "centroid_distance"] *= 1 + 10 * REL_TOL
    assert len(scoring_differences(expected, nudged)) == 1
    assert scoring_differences(expected, expected.iloc[::-1]) == []
    assert scoring_differences(expected, expected.iloc[1:]) == [
        f"customers differ: {len(expected)} vs {len(expected) - 1}"
    ]


@pytest.mark.spark
@pytest.mark.e2e
def test_bounded_sample_is_fixed_by_the_seed_not_the_partitioning(features_on_spark: Any) -> None:
    from shopseg.spark import sample_to_pandas

    sample = sample_to_pandas(features_on_spark, 1000, seed=42)
    again = sample_to_pandas(features_on_spark.repartition(7), 1000, seed=42)
    other = sample_to_pandas(features_on_spark, 1000, seed=43)
    assert len(sample) == 1000 and sample["customer_id"].is_unique
    assert sample["customer_id"].tolist() == again["customer_id"].tolist()
    assert sample["customer_id"].tolist() != other["customer_id"].tolist()
    assert sample["customer_id"].tolist() == sorted(sample["customer_id"])
    everyone = sample_to_pandas(features_on_spark, 10**9, seed=42)
    assert len(everyone) == features_on_spark.count()


# --- the Spark branches of the segmentation models, with a stand-in for dbt ----------


def load_model(name: str):
    """The `model` function of python_models/segmentation/<name>.py."""
    path = PROJECT / "python_models" / "segmentation" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"shopseg_model_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.model


class StandInConfig:
    """`dbt.config` of a Python model: callable (ignored here) with `get`."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings

    def __call__(self, **_: Any) -> None:
        return None

    def get(self, key: str, default: Any = None) -> Any:
        return self.settings.get(key, default)


def stand_in_dbt(refs: dict[str, Any], settings: dict[str, Any], this: str) -> Any:
    """What a dbt Python model reads from `dbt`: refs, config, is_incremental, this."""
    return SimpleNamespace(
        ref=lambda *names: refs[names[-1]],
        config=StandInConfig(settings),
        is_incremental=False,
        this=this,
    )


@pytest.mark.spark
@pytest.mark.e2e
def test_segmentation_models_take_the_spark_path_on_spark_frames(
    features: pd.DataFrame, features_on_spark: Any, spark: Any, tmp_path: Path
) -> None:
    settings = {"shopseg": {"k": 4, "n_init": 2, "fit_sample_size": 3000, "refit": "true"}}
    settings["package_version"] = shopseg.__version__  # the fit model checks it first
    fit_model = load_model("segment_kmeans_fit")
    params = fit_model(stand_in_dbt({MART: features_on_spark}, settings, "fit"), spark)
    assert isinstance(params, pd.DataFrame) and params["run_seq"].eq(1).all()
    assert float(params.query("record_type == 'run' and name == 'k'")["value"].iloc[0]) == 4
    params.drop(columns=["run_seq"]).to_parquet(tmp_path / "latest.parquet")
    latest = spark.read.parquet(str(tmp_path / "latest.parquet"))
    model = model_from_params(params.drop(columns=["run_seq"]))
    # the last promoted build's segments (int_segment_assignments__promoted): none yet
    promoted = "shopseg_test_promoted_assignments"
    empty = spark.createDataFrame([], "customer_id string, segment_id bigint, run_id string")
    refs = {MART: features_on_spark, "int_segment_model__latest": latest}
    refs["int_segment_assignments__promoted"] = empty
    assign = load_model("segment_kmeans_assignments")
    this = "shopseg_test_assignments"
    first = assign(stand_in_dbt(refs, {}, this), spark)
    assert type(first).__module__.startswith("pyspark.")
    expected = with_previous(score_segments(model, features), None)
    assert not scoring_differences(expected, first.toArrow().to_pandas())
    previous = score_segments(model, features).assign(segment_id=1, run_id="before")
    spark.createDataFrame(
        previous[["customer_id", "segment_id", "run_id"]].astype(object)
    ).createOrReplaceTempView(promoted)
    refs["int_segment_assignments__promoted"] = spark.table(promoted)
    second = assign(stand_in_dbt(refs, {}, this), spark).toArrow().to_pandas()
    expected = with_previous(score_segments(model, features), previous)
    assert not scoring_differences(expected, second)
    assert second["previous_run_id"].eq("before").all()


def test_shopseg_imports_without_pyspark() -> None:
    code = (
        "import sys; import shopseg.spark, shopseg.kmeans, shopseg.forest; "
        "assert 'pyspark' not in sys.modules, 'pyspark imported'; "
        "import duckdb; from shopseg.spark import is_spark_frame; "
        "import pandas as pd; "
        "assert not is_spark_frame(duckdb.sql('select 1')) and not is_spark_frame(pd.DataFrame())"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
