"""A fitted segment model as a long table of parameters, so the warehouse can store it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from shopseg.kmeans import SegmentModel
from shopseg.preprocess import Preprocessor

PARAM_COLUMNS = ["run_id", "record_type", "segment_id", "k", "name", "value", "text_value"]


def model_to_params(model: SegmentModel, extra: dict[str, str] | None = None) -> pd.DataFrame:
    """Flatten a model into rows of (run_id, record_type, segment_id, k, name, value, text)."""
    rows: list[tuple] = []
    pre = model.preprocessor
    for key, value in model.metrics.items():
        if isinstance(value, str):
            rows.append(("run", None, None, key, None, value))
        else:
            rows.append(("run", None, None, key, float(value), None))
    rows.append(("run", None, None, "status", None, model.status))
    rows.append(("run", None, None, "features", None, json.dumps(list(pre.features))))
    rows.append(("run", None, None, "dropped_features", None, json.dumps(list(pre.dropped))))
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
    for i in range(model.k):
        rows.append(("segment_name", i + 1, None, "name", None, model.names[i]))
        for j, column in enumerate(pre.columns):
            rows.append(("centroid", i + 1, None, column, float(model.centroids[i, j]), None))
    for record in model.k_sweep.to_dict("records"):
        k = int(record.pop("k"))
        for key, value in record.items():
            rows.append(("k_sweep", None, k, key, float(value), None))
    frame = pd.DataFrame(rows, columns=PARAM_COLUMNS[1:])
    frame.insert(0, "run_id", model.run_id)
    frame["segment_id"] = frame["segment_id"].astype("Int64")
    frame["k"] = frame["k"].astype("Int64")
    frame["value"] = frame["value"].astype("float64")
    frame["text_value"] = frame["text_value"].astype("string")
    return frame


def model_from_params(params: pd.DataFrame) -> SegmentModel:
    """Rebuild a model from its parameter rows (one run)."""
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
    columns = features + tuple(f + "__missing" for f in flags)
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
    )
    cent = records("centroid")
    k = int(cent["segment_id"].max())
    centroids = np.zeros((k, len(columns)))
    col_index = {c: j for j, c in enumerate(columns)}
    for seg, name, value in zip(cent["segment_id"], cent["name"], cent["value"], strict=True):
        centroids[int(seg) - 1, col_index[name]] = float(value)
    names_part = records("segment_name").sort_values("segment_id")
    sweep = records("k_sweep").pivot(index="k", columns="name", values="value").reset_index()
    metrics: dict = {n: float(v) for n, v in values.items() if v is not None and not pd.isna(v)}
    return SegmentModel(
        run_id=str(runs[0]),
        preprocessor=pre,
        centroids=centroids,
        names=tuple(names_part["text_value"]),
        k_sweep=sweep,
        metrics=metrics,
        status=str(text.get("status", "ok")),
    )
