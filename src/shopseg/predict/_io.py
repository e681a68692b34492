"""Reading the warehouse's relations into pandas for the prediction models."""

from __future__ import annotations

from typing import Any

import pandas as pd

from shopseg.forest.sample import frame_from_arrow
from shopseg.spark import is_spark_frame, to_pandas


def relation_frame(relation: Any) -> pd.DataFrame:
    """A DuckDB relation (through Arrow) or Spark DataFrame as pandas, decimals as float64.

    Parameters
    ----------
    relation : duckdb.DuckDBPyRelation or pyspark.sql.DataFrame
        The selected columns of a model's input.

    Returns
    -------
    pandas.DataFrame
        Every row; decimal columns as float64, correctly rounded.
    """
    if is_spark_frame(relation):
        return to_pandas(relation)
    # Arrow rather than .df(): far faster on long inputs (a million customers)
    return frame_from_arrow(relation.to_arrow_table())
