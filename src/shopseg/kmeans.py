"""K-means segmentation: k sweep on a bounded sample, final fit, scoring of every customer."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

from shopseg.config import SegmentConfig
from shopseg.naming import name_segments
from shopseg.preprocess import Preprocessor, fit_preprocessor

log = logging.getLogger(__name__)

ID_COLUMN = "customer_id"


@dataclass(frozen=True)
class SegmentModel:
    """A fitted K-means segmentation: preprocessing, centroids, names and fit metrics."""

    run_id: str
    preprocessor: Preprocessor
    centroids: np.ndarray  # standardised space, row i is segment id i + 1
    names: tuple[str, ...]
    k_sweep: pd.DataFrame  # one row per k tried
    metrics: dict[str, float]
    status: str = "ok"

    @property
    def k(self) -> int:
        """Number of segments."""
        return int(self.centroids.shape[0])


def sample_rows(n_rows: int, size: int, random_state: int) -> np.ndarray:
    """Sorted positions of a fixed-seed uniform sample of at most `size` rows."""
    if n_rows <= size:
        return np.arange(n_rows)
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(n_rows, size=size, replace=False))


def sweep_k(x: np.ndarray, config: SegmentConfig) -> pd.DataFrame:
    """Fit K-means for each candidate k and record the quality indices of each."""
    n = x.shape[0]
    ks = [config.k] if config.k is not None else list(range(config.k_min, config.k_max + 1))
    sweep_idx = sample_rows(n, config.sweep_sample_size, config.random_state)
    xs = x[sweep_idx]
    sil_idx = sample_rows(len(xs), config.silhouette_sample_size, config.random_state + 1)
    total_ss = float(((xs - xs.mean(axis=0)) ** 2).sum())
    rows = []
    for k in ks:
        if k > len(xs) - 1 or k < 2:
            continue
        model = KMeans(
            n_clusters=k, init="k-means++", n_init=config.n_init, random_state=config.random_state
        ).fit(xs)
        labels = model.labels_
        sizes = np.bincount(labels, minlength=k)
        distinct = len(np.unique(labels[sil_idx]))
        rows.append(
            {
                "k": k,
                "silhouette": float(
                    silhouette_score(xs[sil_idx], labels[sil_idx]) if distinct > 1 else np.nan
                ),
                "inertia": float(model.inertia_),
                "between_ss": total_ss - float(model.inertia_),
                "calinski_harabasz": float(calinski_harabasz_score(xs, labels)),
                "davies_bouldin": float(davies_bouldin_score(xs, labels)),
                "min_segment_share": float(sizes.min() / sizes.sum()),
                "sample_size": len(xs),
            }
        )
        log.info("shopseg: k=%d silhouette=%.3f", k, rows[-1]["silhouette"])
    sweep = pd.DataFrame(rows)
    if sweep.empty:
        return sweep
    sweep["elbow_score"] = _elbow_scores(sweep["inertia"].to_numpy())
    return sweep


def choose_k(sweep: pd.DataFrame, min_segment_share: float) -> tuple[int, str]:
    """Best silhouette among k whose smallest segment reaches min_segment_share."""
    if sweep.empty:
        raise ValueError("no k could be tried: too few distinct customers")
    eligible = sweep[sweep["min_segment_share"] >= min_segment_share]
    if eligible.empty:
        return int(sweep["k"].min()), "no k met shop_min_segment_share: smallest k used"
    best = eligible.sort_values(["silhouette", "k"], ascending=[False, True]).iloc[0]
    return int(best["k"]), "best silhouette among k meeting shop_min_segment_share"


def fit_segments(features: pd.DataFrame, config: SegmentConfig) -> SegmentModel:
    """Fit the whole segmentation on a customer feature frame (one row per customer)."""
    _check_ids(features)
    ordered = features.sort_values(ID_COLUMN, kind="stable").reset_index(drop=True)
    fit_idx = sample_rows(len(ordered), config.fit_sample_size, config.random_state)
    fit_frame = ordered.iloc[fit_idx]
    pre = fit_preprocessor(
        fit_frame, config.features, config.winsor_quantile, config.skew_threshold
    )
    x = pre.transform(fit_frame)
    sweep = sweep_k(x, config)
    k, rule = choose_k(sweep, config.min_segment_share)
    final = KMeans(
        n_clusters=k, init="k-means++", n_init=config.n_init, random_state=config.random_state
    ).fit(x)
    centroids = _canonical_order(final.cluster_centers_, final.labels_)
    profile = pd.DataFrame(pre.to_original_units(centroids), columns=list(pre.features))
    overall = pd.Series(pre.to_original_units(np.zeros((1, len(pre.columns))))[0], pre.features)
    names = name_segments(profile, overall)
    chosen = sweep.loc[sweep["k"] == k].iloc[0]
    metrics = {
        "k": float(k),
        "silhouette": float(chosen["silhouette"]),
        "inertia": float(final.inertia_),
        "fit_sample_size": float(len(fit_frame)),
        "customers": float(len(ordered)),
    }
    run_id = _run_id(config, pre, x)
    log.info("shopseg: chose k=%d (%s), run %s", k, rule, run_id)
    return SegmentModel(run_id, pre, centroids, tuple(names), sweep, metrics | {"rule": rule})


def score_segments(model: SegmentModel, features: pd.DataFrame) -> pd.DataFrame:
    """Assign every customer to the nearest centroid, with distance and runner-up segment."""
    _check_ids(features)
    x = model.preprocessor.transform(features)
    d2 = (
        (x**2).sum(axis=1)[:, None]
        - 2.0 * x @ model.centroids.T
        + (model.centroids**2).sum(axis=1)[None, :]
    )
    d2 = np.maximum(d2, 0.0)
    order = np.argsort(d2, axis=1, kind="stable")
    nearest = order[:, 0]
    rows = np.arange(len(x))
    out = pd.DataFrame(
        {
            ID_COLUMN: features[ID_COLUMN].to_numpy(),
            "segment_id": (nearest + 1).astype(np.int64),
            "centroid_distance": np.sqrt(d2[rows, nearest]),
        }
    )
    if model.k > 1:
        out["second_segment_id"] = (order[:, 1] + 1).astype(np.int64)
        out["second_centroid_distance"] = np.sqrt(d2[rows, order[:, 1]])
    else:
        out["second_segment_id"] = pd.array([None] * len(x), dtype="Int64")
        out["second_centroid_distance"] = np.nan
    out["run_id"] = model.run_id
    return out.sort_values(ID_COLUMN, kind="stable").reset_index(drop=True)


def _check_ids(features: pd.DataFrame) -> None:
    if ID_COLUMN not in features.columns:
        raise ValueError(f"customer_features: column {ID_COLUMN} is missing")
    ids = features[ID_COLUMN]
    if ids.isna().any():
        raise ValueError(f"customer_features.{ID_COLUMN}: {int(ids.isna().sum())} null ids")
    if ids.duplicated().any():
        raise ValueError(
            f"customer_features.{ID_COLUMN}: {int(ids.duplicated().sum())} duplicated ids"
        )


def _canonical_order(centroids: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Centroids ordered by segment size (largest first), ties by coordinates."""
    sizes = np.bincount(labels, minlength=len(centroids))
    keys = [(-sizes[i], tuple(np.round(centroids[i], 9))) for i in range(len(centroids))]
    order = sorted(range(len(centroids)), key=lambda i: keys[i])
    return centroids[order]


def _elbow_scores(inertia: np.ndarray) -> np.ndarray:
    """Second difference of inertia: the largest value marks the elbow."""
    out = np.full(len(inertia), np.nan)
    for i in range(1, len(inertia) - 1):
        out[i] = inertia[i - 1] - 2 * inertia[i] + inertia[i + 1]
    return out


def _run_id(config: SegmentConfig, pre: Preprocessor, x: np.ndarray) -> str:
    digest = hashlib.sha256()
    digest.update(config.to_json().encode())
    digest.update(repr(pre.columns).encode())
    digest.update(np.ascontiguousarray(x, dtype=np.float64).tobytes())
    return digest.hexdigest()[:16]
