"""K-means segmentation: k sweep on a bounded sample, final fit, scoring of every customer."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score
from threadpoolctl import threadpool_limits

from shopseg.config import SegmentConfig
from shopseg.naming import name_segments, profile_segments
from shopseg.preprocess import (
    NoUsableFeatureError,
    Preprocessor,
    empty_preprocessor,
    fit_preprocessor,
)

log = logging.getLogger(__name__)

ID_COLUMN = "customer_id"
FALLBACK_NAME = "All customers"  # the one segment of a degenerate input (status 'fallback: ...')
KMEANS_THREADS = 2  # at most two threads add partial sums: the same centroids every run


@dataclass(frozen=True)
class SegmentModel:
    """A fitted K-means segmentation: preprocessing, centroids, ids, names and fit metrics."""

    run_id: str
    preprocessor: Preprocessor
    centroids: np.ndarray  # standardised space, one row per segment
    segment_ids: tuple[int, ...]  # the id of each centroid row
    names: tuple[str, ...]
    outlier_distance: tuple[float, ...]  # per segment: distance beyond which a customer is atypical
    k_sweep: pd.DataFrame  # one row per k tried
    metrics: dict[str, float | str]
    status: str = "ok"
    dendrogram: np.ndarray | None = None  # agglomerative: scipy linkage of the fit sample

    @property
    def k(self) -> int:
        """Number of segments."""
        return int(self.centroids.shape[0])

    @property
    def max_segment_id(self) -> int:
        """Highest segment id ever used by this model's lineage (ids are never reused)."""
        return int(max(max(self.segment_ids), self.metrics.get("max_segment_id", 0)))


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
    size = config.sweep_sample_size
    if config.algorithm == "agglomerative":
        size = min(size, config.agglomerative_sample_size)
    sweep_idx = sample_rows(n, size, config.random_state)
    xs = x[sweep_idx]
    tree = _ward_tree(xs) if config.algorithm == "agglomerative" else None
    sil_idx = sample_rows(len(xs), config.silhouette_sample_size, config.random_state + 1)
    total_ss = float(((xs - xs.mean(axis=0)) ** 2).sum())
    distinct_rows = len(np.unique(xs, axis=0))
    rows, sil_labels = [], []
    for k in ks:
        if k < 2 or k > distinct_rows:
            log.info("shopseg: k=%d skipped: %d distinct customers", k, distinct_rows)
            continue
        started = time.perf_counter()
        _, labels, inertia = _cluster(xs, k, config, tree)
        sizes = np.bincount(labels, minlength=k)
        sil_labels.append(labels[sil_idx])
        rows.append(
            {
                "k": k,
                "inertia": inertia,
                "between_ss": total_ss - inertia,
                "calinski_harabasz": float(calinski_harabasz_score(xs, labels)),
                "davies_bouldin": float(davies_bouldin_score(xs, labels)),
                "min_segment_share": float(sizes.min() / sizes.sum()),
                "sample_size": float(len(xs)),
            }
        )
        log.info(
            "shopseg: k=%d fitted, smallest segment=%.1f%% (%.1fs)",
            k,
            100 * rows[-1]["min_segment_share"],
            time.perf_counter() - started,
        )
    sweep = pd.DataFrame(rows)
    if sweep.empty:
        return sweep
    started = time.perf_counter()
    sweep.insert(1, "silhouette", silhouettes(xs[sil_idx], sil_labels))
    log.info(
        "shopseg: silhouettes of k=%s on %d customers: %s (%.1fs)",
        ",".join(str(k) for k in sweep["k"]),
        len(sil_idx),
        ", ".join(f"{v:.3f}" for v in sweep["silhouette"]),
        time.perf_counter() - started,
    )
    sweep["elbow_score"] = _elbow_scores(sweep["inertia"].to_numpy())
    return sweep


def silhouettes(
    x: np.ndarray, label_sets: Sequence[np.ndarray], chunk_rows: int = 1024
) -> list[float]:
    """Mean silhouette of each labelling of x, from one chunked pass over the distances."""
    n = x.shape[0]
    x = np.ascontiguousarray(x, dtype=np.float64)
    squared = np.einsum("ij,ij->i", x, x)
    onehots, counts, codes = [], [], []
    for labels in label_sets:
        present, code = np.unique(labels, return_inverse=True)
        onehot = np.zeros((n, len(present)))
        onehot[np.arange(n), code] = 1.0
        onehots.append(onehot)
        counts.append(onehot.sum(axis=0))
        codes.append(code)
    totals = np.zeros(len(label_sets))
    for start in range(0, n, chunk_rows):
        stop = min(start + chunk_rows, n)
        # euclidean distances of this chunk to every row, as scikit-learn computes them
        d2 = squared[start:stop, None] - 2.0 * (x[start:stop] @ x.T) + squared[None, :]
        np.maximum(d2, 0.0, out=d2)
        dist = np.sqrt(d2, out=d2)
        dist[np.arange(stop - start), np.arange(start, stop)] = 0.0
        rows = np.arange(stop - start)
        for j, onehot in enumerate(onehots):
            sums = dist @ onehot
            own = codes[j][start:stop]
            own_size = counts[j][own]
            a = sums[rows, own] / np.maximum(own_size - 1, 1)
            other = sums / counts[j]
            other[rows, own] = np.inf
            b = other.min(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                s = np.where(own_size > 1, (b - a) / np.maximum(a, b), 0.0)
            totals[j] += np.nan_to_num(s).sum()
    return [
        float(totals[j] / n) if onehots[j].shape[1] > 1 else float("nan")
        for j in range(len(label_sets))
    ]


def choose_k(sweep: pd.DataFrame, min_segment_share: float) -> tuple[int, str]:
    """Best silhouette among k whose smallest segment reaches min_segment_share."""
    if sweep.empty:
        raise ValueError("no k could be tried: too few distinct customers")
    eligible = sweep[sweep["min_segment_share"] >= min_segment_share]
    if eligible.empty:
        return int(sweep["k"].min()), "no k met shop_min_segment_share: smallest k used"
    best = eligible.sort_values(["silhouette", "k"], ascending=[False, True]).iloc[0]
    if len(sweep) == 1:
        return int(best["k"]), "fixed by shop_k"
    return int(best["k"]), "best silhouette among k meeting shop_min_segment_share"


def fit_segments(features: pd.DataFrame, config: SegmentConfig) -> SegmentModel:
    """Fit the whole segmentation on a customer feature frame (one row per customer).

    Degenerate inputs get one segment, FALLBACK_NAME, with status 'fallback: <reason>':
    fewer customers than the smallest k, no feature that varies, or fewer distinct
    feature profiles than the smallest k. No customer at all is an error.
    """
    _check_ids(features)
    if features.empty:
        raise ValueError(
            "customer_features: no customers to segment: the input has no customer_id in "
            "orders, customers or events up to the as-of time"
        )
    ordered = features.sort_values(ID_COLUMN, kind="stable").reset_index(drop=True)
    fit_idx = sample_rows(len(ordered), config.fit_sample_size, config.random_state)
    fit_frame = ordered.iloc[fit_idx]
    smallest_k = config.k if config.k is not None else config.k_min
    k_var = f"shop_k = {config.k}" if config.k is not None else f"shop_k_min = {config.k_min}"
    if config.k == 1:
        return _single_segment(fit_frame, len(ordered), config, "shop_k = 1")
    if len(ordered) < smallest_k:
        n = len(ordered)
        reason = f"{n} customer{'s' if n != 1 else ''}, fewer than {k_var}"
        return _single_segment(fit_frame, n, config, reason)
    try:
        pre = fit_preprocessor(
            fit_frame, config.features, config.winsor_quantile, config.skew_threshold
        )
    except NoUsableFeatureError:
        reason = "no feature varies between customers (zero variance)"
        return _single_segment(fit_frame, len(ordered), config, reason)
    x = pre.transform(fit_frame)
    log.info(
        "shopseg: fitting on %d of %d customers, %d features (%s)",
        len(fit_frame),
        len(ordered),
        len(pre.features),
        ", ".join(pre.features),
    )
    sweep = sweep_k(x, config)
    if sweep.empty:
        distinct = len(np.unique(x, axis=0))
        reason = f"{distinct} distinct feature profiles, fewer than {k_var}"
        return _single_segment(fit_frame, len(ordered), config, reason, pre)
    k, rule = choose_k(sweep, config.min_segment_share)
    dendrogram = None
    if config.algorithm == "agglomerative":
        sample = x[sample_rows(len(x), config.agglomerative_sample_size, config.random_state)]
        dendrogram = _ward_tree(sample)
        centres, _, _ = _cluster(sample, k, config, dendrogram)
        raw_labels = _nearest(x, centres)  # everyone else joins the nearest cluster centre
    else:
        centres, raw_labels, _ = _cluster(x, k, config, None)
    order = _canonical_order(centres, raw_labels)
    centroids = centres[order]
    labels = np.argsort(order)[raw_labels]
    k = len(centroids)
    distances = np.sqrt(_squared_distances(x, centroids)[np.arange(len(x)), labels])
    outlier = tuple(
        float(np.quantile(distances[labels == i], config.outlier_quantile))
        if (labels == i).any()
        else float("inf")
        for i in range(k)
    )
    names = name_segments(profile_segments(fit_frame, labels, pre.features))
    chosen = sweep.loc[sweep["k"] == k].iloc[0]
    metrics: dict[str, float | str] = {
        "k": float(k),
        "silhouette": float(chosen["silhouette"]),
        "inertia": float(((x - centroids[labels]) ** 2).sum()),
        "fit_sample_size": float(len(fit_frame)),
        "customers": float(len(ordered)),
        "rule": rule,
        "algorithm": config.algorithm,
    }
    run_id = _run_id(config, pre, x)
    log.info("shopseg: chose k=%d (%s), run %s", k, rule, run_id)
    return SegmentModel(
        run_id=run_id,
        preprocessor=pre,
        centroids=centroids,
        segment_ids=tuple(range(1, k + 1)),
        names=tuple(names),
        outlier_distance=outlier,
        k_sweep=sweep,
        metrics=metrics,
        dendrogram=dendrogram,
    )


def _ward_tree(x: np.ndarray) -> np.ndarray:
    """Ward linkage of the rows of x (scipy format: left, right, distance, size)."""
    return linkage(x, method="ward")


def _squared_distances(x: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Squared euclidean distance of every row to every centre, the same bits for a row
    wherever it sits in x and however many threads run."""
    # Elementwise, one feature after the other: a matrix product (BLAS) rounds a row
    # differently depending on its position in the blocks the threads work on, and DuckDB
    # hands the rows over in no fixed order.
    columns = np.ascontiguousarray(x.T, dtype=np.float64)
    out = np.zeros((centres.shape[0], x.shape[0]))
    diff = np.empty(x.shape[0])
    for i, centre in enumerate(centres):
        for j, column in enumerate(columns):
            np.subtract(column, centre[j], out=diff)
            np.multiply(diff, diff, out=diff)
            out[i] += diff
    return out.T


def _nearest(x: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the nearest centre of every row (first on ties)."""
    return np.argmin(_squared_distances(x, centres), axis=1)


def _cluster(
    x: np.ndarray, k: int, config: SegmentConfig, tree: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, float]:
    """Centres, labels and within-cluster sum of squares of k clusters of x."""
    if config.algorithm == "agglomerative":
        raw = fcluster(tree, t=k, criterion="maxclust") - 1
        present = np.unique(raw)
        labels = np.searchsorted(present, raw)
        centres = np.vstack([x[labels == i].mean(axis=0) for i in range(len(present))])
    else:
        # Lloyd's iterations add up one partial sum per thread, in whichever order the threads
        # finish: from three threads on, the centroids' last bits change from run to run.
        with threadpool_limits(limits=KMEANS_THREADS, user_api="openmp"):
            model = KMeans(
                n_clusters=k,
                init="k-means++",
                n_init=config.n_init,
                random_state=config.random_state,
            ).fit(x)
        centres, labels = model.cluster_centers_, model.labels_
    inertia = float(((x - centres[labels]) ** 2).sum())
    return centres, labels, inertia


def _single_segment(
    fit_frame: pd.DataFrame,
    customers: int,
    config: SegmentConfig,
    reason: str,
    pre: Preprocessor | None = None,
) -> SegmentModel:
    """The documented fallback for a degenerate input: one segment holding every customer."""
    if pre is None:
        try:
            pre = fit_preprocessor(
                fit_frame, config.features, config.winsor_quantile, config.skew_threshold
            )
        except NoUsableFeatureError:
            pre = empty_preprocessor(tuple(config.features))
    x = pre.transform(fit_frame)
    centroid = x.mean(axis=0, keepdims=True)
    distances = np.sqrt(_squared_distances(x, centroid)[:, 0])
    status = f"fallback: {reason}"
    log.warning("shopseg: %s: one segment, '%s', holds every customer", status, FALLBACK_NAME)
    ids = "\n".join(fit_frame[ID_COLUMN].astype(str))
    return SegmentModel(
        run_id=_run_id(config, pre, x, extra=f"{status}\n{ids}"),
        preprocessor=pre,
        centroids=centroid,
        segment_ids=(1,),
        names=(FALLBACK_NAME,),
        outlier_distance=(float(np.quantile(distances, config.outlier_quantile)),),
        k_sweep=pd.DataFrame(),
        metrics={
            "k": 1.0,
            "inertia": float((distances**2).sum()),
            "fit_sample_size": float(len(fit_frame)),
            "customers": float(customers),
            "rule": "fallback: single segment",
        },
        status=status,
    )


def fit_hash(model: SegmentModel) -> str:
    """Hash of the settings and data a model was fitted on (its run_id before any alignment)."""
    value = model.metrics.get("fit_hash", model.run_id)
    return str(value)


def align_to_previous(
    model: SegmentModel, previous: SegmentModel, max_distance: float
) -> SegmentModel:
    """Give each new segment the id and name of the previous segment it matches.

    Centroids are matched one to one by minimum total distance (Hungarian algorithm) in the
    new model's standardised space; a pair further apart than `max_distance` is no match, and
    an unmatched segment gets a fresh id, above every id the lineage has used. The aligned
    model's run_id hashes its fit with the previous run_id, so a version is never stored twice
    even when the data returns to an earlier state.
    """
    prev_in_new = _to_space(previous, model.preprocessor)
    common = ~np.isnan(prev_in_new).all(axis=0)
    cost = np.sqrt(
        ((model.centroids[:, None, common] - prev_in_new[None, :, common]) ** 2).sum(axis=2)
    )
    rows, cols = linear_sum_assignment(cost)
    if model.status != "ok" or previous.status != "ok" or not common.any():
        # A fallback's single segment is no segment of a real model: nothing matches.
        rows, cols = rows[:0], cols[:0]
    ids: list[int | None] = [None] * model.k
    names: list[str | None] = [None] * model.k
    for r, c in zip(rows, cols, strict=True):
        if cost[r, c] <= max_distance:
            ids[r] = previous.segment_ids[c]
            names[r] = previous.names[c]
    next_id = previous.max_segment_id + 1
    for i in range(model.k):
        if ids[i] is None:
            ids[i] = next_id
            next_id += 1
    kept = {n for n in names if n is not None}
    for i in range(model.k):
        if names[i] is None:
            name, n = model.names[i], 2
            candidate = name
            while candidate in kept:
                candidate, n = f"{name} #{n}", n + 1
            names[i] = candidate
            kept.add(candidate)
    matched = sum(1 for r, c in zip(rows, cols, strict=True) if cost[r, c] <= max_distance)
    log.info(
        "shopseg: %d of %d segments matched run %s; new ids: %s",
        matched,
        model.k,
        previous.run_id,
        [i for i, n in zip(ids, model.names, strict=True) if i > previous.max_segment_id] or "none",
    )
    order = np.argsort(ids, kind="stable")
    metrics = dict(model.metrics)
    metrics["max_segment_id"] = float(max(previous.max_segment_id, max(ids)))  # type: ignore[arg-type]
    metrics["previous_run_id"] = previous.run_id
    metrics["fit_hash"] = fit_hash(model)
    lineage = hashlib.sha256(f"{fit_hash(model)}\n{previous.run_id}".encode()).hexdigest()[:16]
    return replace(
        model,
        run_id=lineage,
        centroids=model.centroids[order],
        segment_ids=tuple(int(ids[i]) for i in order),  # type: ignore[arg-type]
        names=tuple(str(names[i]) for i in order),
        outlier_distance=tuple(model.outlier_distance[i] for i in order),
        metrics=metrics,
    )


def score_segments(model: SegmentModel, features: pd.DataFrame) -> pd.DataFrame:
    """Assign every customer to the nearest centroid, with distance and runner-up segment."""
    _check_ids(features)
    ids = np.asarray(model.segment_ids, dtype=np.int64)
    x = model.preprocessor.transform(features)
    d2 = _squared_distances(x, model.centroids)
    order = np.argsort(d2, axis=1, kind="stable")
    nearest = order[:, 0]
    rows = np.arange(len(x))
    distance = np.sqrt(d2[rows, nearest])
    out = pd.DataFrame(
        {
            ID_COLUMN: features[ID_COLUMN].to_numpy(),
            "segment_id": ids[nearest],
            "centroid_distance": distance,
            "is_outlier": distance > np.asarray(model.outlier_distance)[nearest],
        }
    )
    if model.k > 1:
        out["second_segment_id"] = ids[order[:, 1]]
        out["second_centroid_distance"] = np.sqrt(d2[rows, order[:, 1]])
    else:
        out["second_segment_id"] = pd.array([None] * len(x), dtype="Int64")
        out["second_centroid_distance"] = np.nan
    out["run_id"] = model.run_id
    return out.sort_values(ID_COLUMN, kind="stable").reset_index(drop=True)


def _to_space(previous: SegmentModel, target: Preprocessor) -> np.ndarray:
    """Previous centroids expressed in the target's standardised columns (NaN if absent)."""
    pre = previous.preprocessor
    original = dict(zip(pre.features, pre.to_original_units(previous.centroids).T, strict=True))
    n_feat = len(pre.features)
    flags = {
        c: previous.centroids[:, n_feat + j] * pre.scale[n_feat + j] + pre.mean[n_feat + j]
        for j, c in enumerate(pre.missing_flags)
    }
    out = np.full((previous.k, len(target.columns)), np.nan)
    for j, feature in enumerate(target.features):
        if feature in original:
            raw = original[feature]
            work = np.log1p(np.maximum(raw, 0.0)) if target.log1p[j] else raw
            out[:, j] = (work - target.mean[j]) / target.scale[j]
    n_t = len(target.features)
    for j, flag in enumerate(target.missing_flags):
        if flag in flags:
            out[:, n_t + j] = (flags[flag] - target.mean[n_t + j]) / target.scale[n_t + j]
    return out


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
    """Positions of the centroids ordered by segment size (largest first), ties by coordinates."""
    sizes = np.bincount(labels, minlength=len(centroids))
    keys = [(-sizes[i], tuple(np.round(centroids[i], 9))) for i in range(len(centroids))]
    return np.array(sorted(range(len(centroids)), key=lambda i: keys[i]))


def _elbow_scores(inertia: np.ndarray) -> np.ndarray:
    """Second difference of inertia: the largest value marks the elbow."""
    out = np.full(len(inertia), np.nan)
    for i in range(1, len(inertia) - 1):
        out[i] = inertia[i - 1] - 2 * inertia[i] + inertia[i + 1]
    return out


def _run_id(config: SegmentConfig, pre: Preprocessor, x: np.ndarray, extra: str = "") -> str:
    digest = hashlib.sha256()
    digest.update(extra.encode())
    digest.update(config.to_json().encode())
    digest.update(repr(pre.columns).encode())
    digest.update(np.ascontiguousarray(x, dtype=np.float64).tobytes())
    return digest.hexdigest()[:16]
