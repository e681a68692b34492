"""The report's projection: a sample of customers on its first two principal components."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from shopseg.preprocess import NoUsableFeatureError, fit_preprocessor


@dataclass(frozen=True)
class Projection:
    """Customers and segment centres on the first two principal components."""

    coords: np.ndarray
    segment_ids: np.ndarray
    explained: tuple[float, float]
    loadings: pd.DataFrame


def project_sample(
    sample: pd.DataFrame, features: Sequence[str], config: dict | None = None
) -> Projection | None:
    """PCA (SVD) of a sample's features, preprocessed like the segmenter does.

    Parameters
    ----------
    sample : DataFrame
        Customers with a ``segment_id`` column and feature columns.
    features : sequence of str
        The model features; those missing from ``sample`` are skipped.
    config : dict or None, default=None
        The run's configuration; ``winsor_quantile`` (default 0.01), ``skew_threshold``
        (default 1.0) and ``log_features`` (default none) set the preprocessing.

    Returns
    -------
    Projection or None
        Coordinates on the first two components (each signed so that its largest loading is
        positive), the share of variance each explains, and the loadings; None when the
        sample is empty or no feature is usable.
    """
    config = config or {}
    usable = [f for f in features if f in sample.columns]
    if sample.empty or not usable:
        return None
    try:
        prep = fit_preprocessor(
            sample,
            tuple(usable),
            winsor_quantile=float(config.get("winsor_quantile", 0.01)),
            skew_threshold=float(config.get("skew_threshold", 1.0)),
            log_features=tuple(config.get("log_features", ())),  # absent: none were forced
        )
    except NoUsableFeatureError:
        return None
    matrix = prep.transform(sample)
    centred = matrix - matrix.mean(axis=0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    components = np.zeros((2, centred.shape[1]))
    components[: min(2, vt.shape[0])] = vt[:2]
    for row in components:  # a fixed sign: the largest loading is positive
        if row.any() and row[np.argmax(np.abs(row))] < 0:
            row *= -1
    variance = singular**2
    total = float(variance.sum()) or 1.0
    explained = [float(v) / total for v in variance[:2]] + [0.0, 0.0]
    return Projection(
        coords=centred @ components.T,
        segment_ids=sample["segment_id"].to_numpy(dtype=int),
        explained=(explained[0], explained[1]),
        loadings=pd.DataFrame(components.T, index=list(prep.columns), columns=["pc1", "pc2"]),
    )
