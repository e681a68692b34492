"""A fitted segment model as a long table of parameters, so the warehouse can store it."""

from __future__ import annotations

import json
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from shopseg.kmeans import SegmentModel
from shopseg.preprocess import LEVEL_SEPARATOR, MISSING_SUFFIX, Preprocessor


@dataclass(frozen=True, eq=False)
class LongTable:
    """A long table of runs: run_id, record_type, the table's own keys, name, value, text_value.

    Parameters
    ----------
    keys : Mapping[str, str]
        The table's key columns (between record_type and name) and their pandas dtypes.
    """

    keys: Mapping[str, str]

    @property
    def types(self) -> dict[str, str]:
        """Column to stored pandas dtype, in column order."""
        return {
            "run_id": "string",
            "record_type": "string",
            **self.keys,
            "name": "string",
            "value": "float64",
            "text_value": "string",
        }

    @property
    def columns(self) -> list[str]:
        """The column names, in order."""
        return list(self.types)

    def frame(self, run_id: str, rows: Sequence[tuple]) -> pd.DataFrame:
        """The rows of one run in the stored column types.

        Parameters
        ----------
        run_id : str
            The run every row belongs to.
        rows : Sequence[tuple]
            One tuple per row, the values of every column but run_id, in column order.

        Returns
        -------
        pandas.DataFrame
            The table's columns in their stored types.
        """
        frame = pd.DataFrame(rows, columns=self.columns[1:])
        frame.insert(0, "run_id", run_id)
        return frame.astype(self.types)

    def empty(self) -> pd.DataFrame:
        """The table without rows, its columns in the stored types.

        Returns
        -------
        pandas.DataFrame
            No rows; the table's columns.
        """
        return pd.DataFrame({column: [] for column in self.columns}).astype(self.types)


PARAMS = LongTable({"segment_id": "Int64", "k": "Int64"})
PARAM_COLUMNS = PARAMS.columns
empty_params = PARAMS.empty  # what segment_kmeans_fit returns when nothing was fitted


def library_versions() -> dict[str, str]:
    """Versions of what a fit depends on, recorded with every model.

    Returns
    -------
    dict[str, str]
        Package name (shopseg, scikit-learn, numpy, pandas, python) to version.
    """
    import sklearn

    import shopseg

    return {
        "shopseg": shopseg.__version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "python": platform.python_version(),
    }


def model_to_params(model: SegmentModel, extra: dict[str, str] | None = None) -> pd.DataFrame:
    """Flatten a model into rows of (run_id, record_type, segment_id, k, name, value, text).

    Parameters
    ----------
    model : SegmentModel
        The fitted model.
    extra : dict[str, str], optional
        More run-level text rows (name to text), e.g. the settings as JSON.

    Returns
    -------
    pandas.DataFrame
        The model's parameter rows, columns PARAM_COLUMNS in their stored types.
    """
    rows: list[tuple] = []
    pre = model.preprocessor
    for key, value in model.metrics.items():
        if key == "max_segment_id":
            continue
        if isinstance(value, str):
            rows.append(("run", None, None, key, None, value))
        else:
            rows.append(("run", None, None, key, float(value), None))
    rows.append(("run", None, None, "max_segment_id", float(model.max_segment_id), None))
    rows.append(("run", None, None, "status", None, model.status))
    rows.append(("run", None, None, "features", None, json.dumps(list(pre.features))))
    rows.append(("run", None, None, "dropped_features", None, json.dumps(list(pre.dropped))))
    rows.append(("run", None, None, "versions", None, json.dumps(library_versions())))
    for key, value in (extra or {}).items():
        rows.append(("run", None, None, key, None, value))
    for j, column in enumerate(pre.columns):
        rows.append(("scaler_mean", None, None, column, pre.mean[j], None))
        rows.append(("scaler_scale", None, None, column, pre.scale[j], None))
    for j, feature in enumerate(pre.features):
        rows.append(("log1p", None, None, feature, float(pre.log1p[j]), None))
        rows.append(("clip_lower", None, None, feature, pre.lower[j], None))
        rows.append(("clip_upper", None, None, feature, pre.upper[j], None))
        rows.append(("impute_median", None, None, feature, pre.median[j], None))
    for feature in pre.missing_flags:
        rows.append(("missing_flag", None, None, feature, 1.0, None))
    level_columns = pre.level_columns
    attributes = [a for a, levels in zip(pre.categorical, pre.levels, strict=True) for _ in levels]
    for j, (column, attribute) in enumerate(zip(level_columns, attributes, strict=True)):
        rows.append(("categorical_level", None, None, column, float(j), attribute))
    original = pre.to_original_units(model.centroids)
    first_level = len(pre.columns) - len(level_columns)
    # a one-hot column's centroid in original units: the segment's share of that level
    level_scale = np.asarray(pre.scale[first_level:])
    shares = model.centroids[:, first_level:] * level_scale + np.asarray(pre.mean[first_level:])
    for i, segment_id in enumerate(model.segment_ids):
        rows.append(("segment_name", segment_id, None, "name", None, model.names[i]))
        rows.append(
            ("outlier_distance", segment_id, None, "distance", model.outlier_distance[i], None)
        )
        for j, column in enumerate(pre.columns):
            rows.append(("centroid", segment_id, None, column, float(model.centroids[i, j]), None))
        for j, feature in enumerate(pre.features):
            rows.append(
                ("centroid_original", segment_id, None, feature, float(original[i, j]), None)
            )
        for j, column in enumerate(level_columns):
            rows.append(("centroid_original", segment_id, None, column, float(shares[i, j]), None))
    if model.dendrogram is not None:
        for step, (left, right, distance, size) in enumerate(model.dendrogram):
            for key, value in (("left", left), ("right", right), ("distance", distance)):
                rows.append(("dendrogram", None, step, key, float(value), None))
            rows.append(("dendrogram", None, step, "size", float(size), None))
    for record in model.k_sweep.to_dict("records"):
        k = int(record.pop("k"))
        for key, value in record.items():
            rows.append(("k_sweep", None, k, key, float(value), None))
    return PARAMS.frame(model.run_id, rows)


def model_from_params(params: pd.DataFrame) -> SegmentModel:
    """Rebuild a model from its parameter rows (one run).

    Parameters
    ----------
    params : pandas.DataFrame
        The rows `model_to_params` made for one run (extra columns are ignored).

    Returns
    -------
    SegmentModel
        The model, predicting exactly as the one stored.

    Raises
    ------
    ValueError
        When the rows hold no run or more than one.
    """
    runs = params["run_id"].unique()
    if len(runs) != 1:
        raise ValueError(f"segment model parameters: expected one run, found {len(runs)}")

    def records(kind: str) -> pd.DataFrame:
        return params[params["record_type"] == kind]

    def by_name(kind: str) -> dict[str, float]:
        part = records(kind)
        return dict(zip(part["name"], part["value"].astype(float), strict=True))

    run = records("run")
    text = dict(zip(run["name"], run["text_value"], strict=True))
    values = dict(zip(run["name"], run["value"], strict=True))
    features = tuple(json.loads(text["features"]))
    flags = tuple(records("missing_flag")["name"])
    level_part = records("categorical_level").sort_values("value")
    categorical: dict[str, list[str]] = {}
    for column, attribute in zip(level_part["name"], level_part["text_value"], strict=True):
        level = column[len(attribute) + len(LEVEL_SEPARATOR) :]
        categorical.setdefault(attribute, []).append(level)
    columns = (
        features
        + tuple(f + MISSING_SUFFIX for f in flags)
        + tuple(str(c) for c in level_part["name"])
    )
    mean, scale = by_name("scaler_mean"), by_name("scaler_scale")
    log1p, lower = by_name("log1p"), by_name("clip_lower")
    upper, median = by_name("clip_upper"), by_name("impute_median")
    pre = Preprocessor(
        features=features,
        log1p=tuple(bool(log1p[f]) for f in features),
        lower=tuple(lower[f] for f in features),
        upper=tuple(upper[f] for f in features),
        median=tuple(median[f] for f in features),
        missing_flags=flags,
        mean=tuple(mean[c] for c in columns),
        scale=tuple(scale[c] for c in columns),
        dropped=tuple(json.loads(text.get("dropped_features") or "[]")),
        categorical=tuple(categorical),
        levels=tuple(tuple(levels) for levels in categorical.values()),
    )
    names_part = records("segment_name").sort_values("segment_id")
    segment_ids = tuple(int(s) for s in names_part["segment_id"])
    row_of = {s: i for i, s in enumerate(segment_ids)}
    col_of = {c: j for j, c in enumerate(columns)}
    centroids = np.zeros((len(segment_ids), len(columns)))
    cent = records("centroid")
    for seg, name, value in zip(cent["segment_id"], cent["name"], cent["value"], strict=True):
        centroids[row_of[int(seg)], col_of[name]] = float(value)
    outlier_part = records("outlier_distance").set_index("segment_id")["value"]
    sweep = records("k_sweep").pivot(index="k", columns="name", values="value").reset_index()
    metrics: dict[str, float | str] = {
        n: float(v) for n, v in values.items() if v is not None and not pd.isna(v)
    }
    for key in ("rule", "previous_run_id", "fit_hash", "algorithm"):
        if isinstance(text.get(key), str):
            metrics[key] = text[key]
    return SegmentModel(
        run_id=str(runs[0]),
        preprocessor=pre,
        centroids=centroids,
        segment_ids=segment_ids,
        names=tuple(names_part["text_value"]),
        outlier_distance=tuple(float(outlier_part[s]) for s in segment_ids),
        k_sweep=sweep,
        metrics=metrics,
        status=str(text.get("status", "ok")),
    )


def latest_model(history: pd.DataFrame) -> tuple[SegmentModel | None, int]:
    """The most recent model of a stored history (highest run_seq) and that run_seq.

    Parameters
    ----------
    history : pandas.DataFrame
        Parameter rows of every stored run, with a run_seq column.

    Returns
    -------
    tuple[SegmentModel or None, int]
        The latest model and its run_seq; (None, 0) for an empty history.
    """
    if history.empty:
        return None, 0
    seq = int(history["run_seq"].max())
    latest = history[history["run_seq"] == seq].drop(columns=["run_seq"])
    return model_from_params(latest), seq
