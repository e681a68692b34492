"""The classifier's training frame and its fixed-seed sample, split and imputation values."""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.model_selection import train_test_split

from shopseg.forest.config import SEGMENT, ForestConfig
from shopseg.kmeans import ID_COLUMN, check_ids, sample_rows
from shopseg.preprocess import numeric_matrix

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ForestSample:
    """The customers a classifier run learns from and is judged on, and the run's id."""

    run_id: str
    config: ForestConfig
    kmeans_run_id: str
    features: tuple[str, ...]
    medians: tuple[float, ...]  # per feature: what nulls are imputed with
    raw_train: np.ndarray  # training features before imputation
    y_train: np.ndarray
    segments_train: np.ndarray
    raw_holdout: np.ndarray
    y_holdout: np.ndarray
    segments_holdout: np.ndarray
    split: pd.Series  # sample_split per customer_id of the sample: train / holdout
    customers: int
    is_stratified: bool


def frame_from_arrow(table: pa.Table) -> pd.DataFrame:
    """An Arrow table as pandas, decimal columns as float64 rounded as float(Decimal) rounds.

    Parameters
    ----------
    table : pyarrow.Table
        Customer features as the warehouse returns them (money as decimals).

    Returns
    -------
    pandas.DataFrame
        The same columns; decimal ones as float64.
    """
    for i, column in enumerate(table.columns):
        if pa.types.is_decimal(column.type):
            # Decimal text parsed as a double is correctly rounded (Arrow's direct cast is
            # not), and far cheaper than the Python Decimal objects pandas would make.
            as_float = pc.cast(pc.cast(column, pa.string()), pa.float64())
            table = table.set_column(i, table.field(i).with_type(pa.float64()), as_float)
    return table.to_pandas()


def training_frame(
    features: pd.DataFrame, segments: pd.DataFrame, target: str = SEGMENT
) -> pd.DataFrame:
    """Customer features beside each customer's K-means segment, ordered by customer id.

    Parameters
    ----------
    features : pandas.DataFrame
        customer_features: customer_id, the features and (unless it is segment_id) the target.
    segments : pandas.DataFrame
        segment_kmeans_assignments: customer_id and segment_id.
    target : str, default="segment_id"
        What the forest learns (shop_classifier_target).

    Returns
    -------
    pandas.DataFrame
        One row per customer present in both, ordered by customer_id.

    Raises
    ------
    ValueError
        When an id column is missing, null or repeated, or the target column is missing.
    """
    check_ids(features, "customer_features")
    check_ids(segments, "segment assignments")
    if target not in features.columns and target != SEGMENT:
        raise ValueError(f"customer_features: target column {target} is missing")
    # ids are unique on both sides (checked above), so the join is one to one
    frame = features.drop(columns=[SEGMENT], errors="ignore").merge(
        segments[[ID_COLUMN, SEGMENT]], on=ID_COLUMN, how="inner"
    )
    return by_id(frame)


def forest_sample(
    frame: pd.DataFrame, features: Sequence[str], config: ForestConfig, kmeans_run_id: str
) -> ForestSample:
    """The fixed-seed sample, its train/holdout split and imputation, and the run id.

    Parameters
    ----------
    frame : pandas.DataFrame
        The training frame (see `training_frame`).
    features : Sequence[str]
        The K-means model's features, in order.
    config : ForestConfig
        The classifier's settings.
    kmeans_run_id : str
        The K-means run whose segments are learnt (part of the run id).

    Returns
    -------
    ForestSample
        The sample, split, training medians and the run id (a hash of all of them).

    Raises
    ------
    ValueError
        When ids are missing, null or repeated, a column is missing, or no customer has
        both a segment and a target value.
    """
    check_ids(frame, "training frame")
    features = tuple(features)
    missing = [f for f in (*features, config.target, SEGMENT) if f not in frame.columns]
    if missing:
        raise ValueError(f"training frame: columns {missing} are missing")
    ordered = by_id(frame[frame[config.target].notna() & frame[SEGMENT].notna()])
    if ordered.empty:
        raise ValueError("no customer has a segment and a target value to learn")
    sample = ordered.iloc[sample_rows(len(ordered), config.sample_size, config.random_state)]
    raw = numeric_matrix(sample, features)
    y = labels_of(sample[config.target], config.target)
    segments = sample[SEGMENT].to_numpy(dtype=np.int64)
    train, holdout, stratified = _split(y, config.holdout_share, config.random_state)
    medians = tuple(_median(raw[train, j]) for j in range(len(features)))
    split = pd.Series("train", index=sample[ID_COLUMN].to_numpy(), name="sample_split")
    split.iloc[holdout] = "holdout"
    run_id = _run_id(config, kmeans_run_id, features, sample[ID_COLUMN], raw, y, segments)
    log.info(
        "shopseg: forest %s on %d of %d customers (%d train, %d holdout), %d features",
        run_id,
        len(sample),
        len(ordered),
        len(train),
        len(holdout),
        len(features),
    )
    return ForestSample(
        run_id=run_id,
        config=config,
        kmeans_run_id=kmeans_run_id,
        features=features,
        medians=medians,
        raw_train=raw[train],
        y_train=y[train],
        segments_train=segments[train],
        raw_holdout=raw[holdout],
        y_holdout=y[holdout],
        segments_holdout=segments[holdout],
        split=split,
        customers=len(ordered),
        is_stratified=stratified,
    )


def by_id(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame ordered by customer id, with a fresh index; not sorted again when it already is.

    Parameters
    ----------
    frame : pandas.DataFrame
        Has a customer_id column.

    Returns
    -------
    pandas.DataFrame
        The rows ordered by customer_id (stable), index 0..n-1.
    """
    if not frame[ID_COLUMN].is_monotonic_increasing:
        frame = frame.sort_values(ID_COLUMN, kind="stable")
    return frame.reset_index(drop=True)


def labels_of(values: pd.Series, target: str) -> np.ndarray:
    """Target values as a plain array: integers for segment ids, text otherwise.

    Parameters
    ----------
    values : pandas.Series
        The target column.
    target : str
        Its name (shop_classifier_target).

    Returns
    -------
    numpy.ndarray
        int64 for segment_id, object (str) for any other target.
    """
    if target == SEGMENT:
        return values.to_numpy(dtype=np.int64)
    return values.astype(str).to_numpy(dtype=object)


def _split(y: np.ndarray, share: float, random_state: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """Sorted train and holdout positions: stratified by class when every class allows it."""
    n = len(y)
    positions = np.arange(n)
    if n < 2:
        return positions, positions[:0], False
    _, counts = np.unique(y, return_counts=True)
    n_holdout = math.ceil(n * share)
    stratify = counts.min() >= 2 and len(counts) <= min(n_holdout, n - n_holdout)
    if not stratify:
        log.info("shopseg: a class is too small for a stratified holdout: plain random split")
    train, holdout = train_test_split(
        positions,
        test_size=share,
        random_state=random_state,
        stratify=y if stratify else None,
    )
    return np.sort(train), np.sort(holdout), bool(stratify)


def _median(column: np.ndarray) -> float:
    """Median of the known values; 0 when none is known."""
    known = column[~np.isnan(column)]
    return float(np.median(known)) if known.size else 0.0


def _run_id(
    config: ForestConfig,
    kmeans_run_id: str,
    features: tuple[str, ...],
    ids: pd.Series,
    raw: np.ndarray,
    y: np.ndarray,
    segments: np.ndarray,
) -> str:
    """Hash of the settings, the K-means run, the features and the sampled data."""
    digest = hashlib.sha256()
    digest.update(config.to_json().encode())
    digest.update(kmeans_run_id.encode())
    digest.update(repr(features).encode())
    digest.update("\x1f".join(ids.astype(str)).encode())
    digest.update(np.ascontiguousarray(raw, dtype=np.float64).tobytes())
    digest.update("\x1f".join(map(str, y.tolist())).encode())
    digest.update(np.ascontiguousarray(segments, dtype=np.int64).tobytes())
    return digest.hexdigest()[:16]
