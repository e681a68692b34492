"""Segmenting on Apache Spark: fit on a bounded sample at the driver, score distributed.

The fitted model is the pandas path's own (shopseg.kmeans, shopseg.forest): a sample of at
most n customers is collected to the driver and fitted there; every customer is then scored
by the same scoring functions inside `mapInPandas`, one Arrow batch at a time, so a Spark
score equals the pandas score of the same customer. pyspark is imported only by the
functions that need it: the rest of shopseg imports without it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from shopseg.forest import (
    SCORE_COLUMNS,
    ForestConfig,
    ForestFit,
    frame_from_arrow,
    score_customers,
    training_frame,
)
from shopseg.kmeans import ID_COLUMN, SegmentModel, score_segments

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

KMEANS_SCHEMA = (
    f"{ID_COLUMN} string, segment_id bigint, centroid_distance double, is_outlier boolean, "
    "second_segment_id bigint, second_centroid_distance double, run_id string"
)
FOREST_SCHEMA = (
    f"{ID_COLUMN} string, classifier_target string, actual_class string, "
    "predicted_class string, predicted_probability double, is_misclassified boolean, "
    "predicted_segment_id bigint, sample_split string, run_id string"
)


def is_spark_frame(obj: Any) -> bool:
    """Tell a PySpark DataFrame (classic or Spark Connect) apart, without importing pyspark.

    Parameters
    ----------
    obj : object
        Anything a dbt Python model's ``dbt.ref()`` may return.

    Returns
    -------
    bool
        True for a PySpark DataFrame.
    """
    return any(
        cls.__name__ == "DataFrame" and cls.__module__.startswith("pyspark.")
        for cls in type(obj).__mro__
    )


def to_pandas(frame: Any) -> pd.DataFrame:
    """Collect a small Spark DataFrame or DuckDB relation (model parameters, run ids) to pandas.

    Parameters
    ----------
    frame : pyspark.sql.DataFrame or duckdb.DuckDBPyRelation
        A relation small enough for the driver.

    Returns
    -------
    pandas.DataFrame
        Every row of it.
    """
    if is_spark_frame(frame):
        return frame.toArrow().to_pandas()
    return frame.df()


def sample_to_pandas(df: DataFrame, n: int, seed: int, id_column: str = ID_COLUMN) -> pd.DataFrame:
    """Collect a fixed-seed sample of at most n rows of a Spark DataFrame to the driver.

    Rows are ranked by a seeded hash of their id, so the sample depends on the data and the
    seed only, not on how Spark partitioned it.

    Parameters
    ----------
    df : pyspark.sql.DataFrame
        The rows to sample from.
    n : int
        Largest sample size (at least 1); a frame of at most n rows is collected whole.
    seed : int
        Seed of the hash that ranks the rows.
    id_column : str, default ID_COLUMN
        The column that identifies a row.

    Returns
    -------
    pandas.DataFrame
        The sampled rows, ordered by id.
    """
    from pyspark.sql import functions as F

    if n < 1:
        raise ValueError(f"sample size must be at least 1, got {n}")
    if df.count() > n:
        key = F.xxhash64(F.col(id_column).cast("string"), F.lit(int(seed)))
        df = df.withColumn("__shopseg_key", key).orderBy("__shopseg_key", id_column).limit(n)
        df = df.drop("__shopseg_key")
    frame = df.toArrow().to_pandas()
    return frame.sort_values(id_column, kind="stable").reset_index(drop=True)


def forest_frame(features: Any, segments: Any, config: ForestConfig) -> pd.DataFrame:
    """Return customer features beside their K-means segment as pandas: on Spark, a sample.

    Parameters
    ----------
    features : pyspark.sql.DataFrame or duckdb.DuckDBPyRelation
        One row of features per customer.
    segments : pyspark.sql.DataFrame or duckdb.DuckDBPyRelation
        The K-means segment of every customer.
    config : ForestConfig
        On Spark, the join is sampled to at most ``config.sample_size`` customers with
        ``config.random_state``.

    Returns
    -------
    pandas.DataFrame
        The forest's training frame (``shopseg.forest.training_frame`` columns).
    """
    if is_spark_frame(features):
        joined = features.join(segments, ID_COLUMN)
        return sample_to_pandas(joined, config.sample_size, config.random_state)
    return training_frame(
        frame_from_arrow(features.to_arrow_table()), frame_from_arrow(segments.to_arrow_table())
    )


def score_kmeans_spark(df: DataFrame, model: SegmentModel) -> DataFrame:
    """Score every customer of a Spark DataFrame with a fitted K-means model, via mapInPandas.

    Parameters
    ----------
    df : pyspark.sql.DataFrame
        The ids, the model's feature columns and its categorical attributes.
    model : SegmentModel
        The model fitted at the driver.

    Returns
    -------
    pyspark.sql.DataFrame
        Same columns and values as ``shopseg.kmeans.score_segments`` (``KMEANS_SCHEMA``),
        rows in no particular order.
    """
    columns = [ID_COLUMN, *model.preprocessor.inputs]
    scoring = _slim_kmeans(model)

    def score(batches):
        for batch in batches:
            if len(batch):
                yield _plain(score_segments(scoring, batch))

    return df.select(*columns).mapInPandas(score, KMEANS_SCHEMA)


def score_forest_spark(df: DataFrame, fit: ForestFit) -> DataFrame:
    """Predict every customer of a Spark DataFrame with a fitted forest, via mapInPandas.

    Parameters
    ----------
    df : pyspark.sql.DataFrame
        The ids, the forest's features and its target (the columns of
        ``shopseg.forest.training_frame``).
    fit : ForestFit
        The forest fitted at the driver.

    Returns
    -------
    pyspark.sql.DataFrame
        Same columns and values as ``shopseg.forest.score_customers`` (``FOREST_SCHEMA``),
        rows in no particular order.
    """
    columns = list(dict.fromkeys([ID_COLUMN, *fit.features, fit.config.target]))
    scoring = _slim_forest(fit)

    def score(batches):
        for batch in batches:
            if len(batch):
                yield _plain(score_customers(scoring, batch)[SCORE_COLUMNS])

    return df.select(*columns).mapInPandas(score, FOREST_SCHEMA)


def with_previous_spark(scored: DataFrame, previous: DataFrame | None) -> DataFrame:
    """Add each customer's segment and run from the previous build (null if new), in Spark.

    Parameters
    ----------
    scored : pyspark.sql.DataFrame
        This build's scored customers.
    previous : pyspark.sql.DataFrame or None
        The previous build's ``customer_id``, ``segment_id`` and ``run_id``; None on a
        first build.

    Returns
    -------
    pyspark.sql.DataFrame
        ``scored`` with ``previous_segment_id`` and ``previous_run_id``.
    """
    from pyspark.sql import functions as F

    if previous is None:
        return scored.withColumns(
            {
                "previous_segment_id": F.lit(None).cast("bigint"),
                "previous_run_id": F.lit(None).cast("string"),
            }
        )
    prev = previous.select(
        F.col(ID_COLUMN),
        F.col("segment_id").cast("bigint").alias("previous_segment_id"),
        F.col("run_id").cast("string").alias("previous_run_id"),
    )
    return scored.join(prev, on=ID_COLUMN, how="left")


def _slim_kmeans(model: SegmentModel) -> SegmentModel:
    """The model without what scoring does not read (shipped to every task)."""
    return replace(model, k_sweep=pd.DataFrame(), dendrogram=None)


def _slim_forest(fit: ForestFit) -> ForestFit:
    """The fit without its training arrays (shipped to every task)."""
    n = len(fit.features)
    empty = np.empty((0, n))
    return replace(
        fit,
        raw_train=empty,
        raw_holdout=empty,
        y_train=fit.y_train[:0],
        y_holdout=fit.y_holdout[:0],
        segments_train=fit.segments_train[:0],
        segments_holdout=fit.segments_holdout[:0],
    )


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Column types Arrow hands to Spark as they are: text as Python strings."""
    out = frame.copy()
    for name in out.columns:
        if isinstance(out[name].dtype, pd.StringDtype):
            out[name] = out[name].astype(object).where(out[name].notna(), None)
    return out
