"""Scoring every customer with the forest: predicted class, probability and disagreement."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from shopseg.forest.config import SEGMENT
from shopseg.forest.fit import ForestFit
from shopseg.forest.sample import by_id, labels_of
from shopseg.kmeans import ID_COLUMN, check_ids
from shopseg.preprocess import numeric_matrix
from shopseg.rules import impute

SCORE_COLUMNS = [
    ID_COLUMN,
    "classifier_target",
    "actual_class",
    "predicted_class",
    "predicted_probability",
    "is_misclassified",
    "predicted_segment_id",
    "sample_split",
    "run_id",
]


def score_customers(fit: ForestFit, frame: pd.DataFrame, chunk_size: int = 100_000) -> pd.DataFrame:
    """Predict every customer of a feature frame in chunks: class, probability, disagreement.

    Parameters
    ----------
    fit : ForestFit
        The forest to predict with (see `scoring_fit`) and its sample (for sample_split).
    frame : pandas.DataFrame
        customer_id, the forest's features and the target of every customer.
    chunk_size : int, default=100_000
        Customers predicted at once (chunks run on config.n_jobs threads).

    Returns
    -------
    pandas.DataFrame
        One row per customer, ordered by customer_id, columns SCORE_COLUMNS.
    """
    check_ids(frame, "scoring frame")
    ordered = by_id(frame)
    n = len(ordered)
    best, probability = _predict(fit, ordered, chunk_size)
    # labels as text once per class, then taken per customer (no per-row Python strings)
    class_text = [str(label) for label in fit.forest.classes_]
    codes, uniques = pd.factorize(ordered[fit.config.target])  # -1: no actual class
    known = codes >= 0
    actual_text = [str(label) for label in labels_of(pd.Series(uniques), fit.config.target)]
    position = {text: i for i, text in enumerate(class_text)}
    # the class position of each actual label (-1: no class of the forest); the last entry
    # is what code -1 (no actual class) picks, and those rows are null anyway
    actual_position = np.array([position.get(text, -1) for text in actual_text] + [-1])
    mismatch = pd.arrays.BooleanArray(actual_position[codes] != best, ~known)
    out = pd.DataFrame(
        {
            ID_COLUMN: ordered[ID_COLUMN].to_numpy(),
            "classifier_target": fit.config.target,
            "actual_class": _text(actual_text, pa.array(codes, mask=~known)),
            "predicted_class": _text(class_text, best),
            "predicted_probability": probability,
            "is_misclassified": mismatch,
        }
    )
    if fit.config.target == SEGMENT:
        predicted = fit.forest.classes_[best].astype(np.int64)
        out["predicted_segment_id"] = pd.array(predicted, dtype="Int64")
    else:
        null = np.ones(n, dtype=bool)
        out["predicted_segment_id"] = pd.arrays.IntegerArray(np.zeros(n, np.int64), null)
    ids = pa.array(ordered[ID_COLUMN])
    split = np.full(n, 2)  # not_sampled
    for code, kind in enumerate(("train", "holdout")):
        chosen = pa.array(fit.split.index[fit.split.to_numpy() == kind], type=ids.type)
        split[pc.is_in(ids, value_set=chosen).to_numpy(zero_copy_only=False)] = code
    out["sample_split"] = _text(["train", "holdout", "not_sampled"], split)
    out["run_id"] = fit.run_id
    return out[SCORE_COLUMNS]


def _predict(fit: ForestFit, ordered: pd.DataFrame, chunk_size: int) -> tuple[np.ndarray, ...]:
    """Per row, the position of the most probable class and its probability (chunks on threads)."""
    # each chunk sums its trees in order on one thread: the same bits on every run (the forest's
    # own n_jobs would add the trees up in whatever order its threads finish)
    forest = copy.copy(fit.forest)
    forest.n_jobs = 1

    def predict(start: int) -> tuple[np.ndarray, np.ndarray]:
        part = impute(
            numeric_matrix(ordered.iloc[start : start + chunk_size], fit.features), fit.medians
        )
        # trees compare float32 features: convert here rather than in each predict_proba call
        proba = forest.predict_proba(part.astype(np.float32))
        # the published probability is rounded to 9 digits (the tables hold these bytes)
        proba = np.round(proba, 9)
        top = np.argmax(proba, axis=1)
        return top, proba[np.arange(len(part)), top]

    starts = range(0, len(ordered), chunk_size)
    with ThreadPoolExecutor(max_workers=max(1, fit.config.n_jobs)) as pool:
        parts = list(pool.map(predict, starts))
    if not parts:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    best = np.concatenate([top for top, _ in parts]).astype(np.int64)
    return best, np.concatenate([probability for _, probability in parts])


def _text(labels: Sequence[str], positions: np.ndarray | pa.Array) -> pd.arrays.ArrowStringArray:
    """A string array of labels[position] per row (null where the position is null)."""
    return pd.array(pa.array(labels, type=pa.string()).take(positions), dtype="string")
