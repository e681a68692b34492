"""K-means segmentation: k sweep on a bounded sample, final fit, scoring of every customer."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
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
class Refits:
    """The bootstrap refits the k rule's Jaccard check made at the chosen k."""

    ari: float  # mean ARI between the fit and the refits
    jaccard: tuple[float, ...]  # each centroid row's mean best Jaccard
    sample_size: int  # customers per refit
    settings: tuple[int, int, int]  # the bootstrap_resamples, bootstrap_sample_size, random_state

    def measured_with(self, config: SegmentConfig) -> bool:
        """Whether these refits are the ones `config`'s bootstrap settings ask for."""
        return self.settings == _bootstrap_settings(config)

    def reordered(self, order: Sequence[int] | np.ndarray) -> Refits:
        """The same refits for centroid rows taken in `order`."""
        return replace(self, jaccard=tuple(self.jaccard[i] for i in order))


def _bootstrap_settings(config: SegmentConfig) -> tuple[int, int, int]:
    return (config.bootstrap_resamples, config.bootstrap_sample_size, config.random_state)


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
    # the k rule's Jaccard check made these at the chosen k (`segment_stability` reuses them;
    # a model read from the store has none)
    refits: Refits | None = None

    @property
    def k(self) -> int:
        """Number of segments."""
        return int(self.centroids.shape[0])

    @property
    def max_segment_id(self) -> int:
        """Highest segment id ever used by this model's lineage (ids are never reused)."""
        return int(max(max(self.segment_ids), self.metrics.get("max_segment_id", 0)))


def sample_rows(n_rows: int, size: int, random_state: int) -> np.ndarray:
    """Sorted positions of a fixed-seed uniform sample of at most `size` rows.

    Parameters
    ----------
    n_rows : int
        Rows to sample from.
    size : int
        Largest sample; with `n_rows` <= `size` every row is taken.
    random_state : int
        Seed of the sample.

    Returns
    -------
    numpy.ndarray
        Sorted row positions, without repeats.
    """
    if n_rows <= size:
        return np.arange(n_rows)
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(n_rows, size=size, replace=False))


def sweep_k(x: np.ndarray, config: SegmentConfig) -> pd.DataFrame:
    """Cluster a bounded sample for each candidate k and record the quality indices of each.

    Parameters
    ----------
    x : numpy.ndarray
        The fit sample in standardised space.
    config : SegmentConfig
        The settings: k range (or fixed k), algorithm, sample sizes, seed.

    Returns
    -------
    pandas.DataFrame
        One row per k tried (k below 2 or above the distinct rows is skipped): k, silhouette,
        inertia, between_ss, calinski_harabasz, davies_bouldin, min_segment_share,
        sample_size, elbow_score. Empty when no k could be tried.
    """
    n = x.shape[0]
    ks = [config.k] if config.k is not None else list(range(config.k_min, config.k_max + 1))
    algorithm = algorithm_of(config.algorithm)
    xs = x[sample_rows(n, algorithm.sweep_size(config), config.random_state)]
    cluster = algorithm.clusterer(xs, config)
    sil_idx = sample_rows(len(xs), config.silhouette_sample_size, config.random_state + 1)
    total_ss = float(((xs - xs.mean(axis=0)) ** 2).sum())
    distinct_rows = len(np.unique(xs, axis=0))
    rows, sil_labels = [], []
    for k in ks:
        if k < 2 or k > distinct_rows:
            log.info("shopseg: k=%d skipped: %d distinct customers", k, distinct_rows)
            continue
        started = time.perf_counter()
        centres, labels = cluster(k)
        inertia = _inertia(xs, centres, labels)
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
    points = point_silhouettes(xs[sil_idx], sil_labels)
    sweep.insert(1, "silhouette", [float(v) for v in points.mean(axis=0)])
    sweep.attrs["silhouette_points"] = points  # for choose_k's paired comparison
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
    """Mean silhouette of each labelling of x (the parameters of `point_silhouettes`).

    Returns
    -------
    list[float]
        The mean silhouette of each labelling (as scikit-learn's silhouette_score); nan for
        a labelling with one cluster.
    """
    points = point_silhouettes(x, label_sets, chunk_rows)
    return [
        float(points[:, j].mean()) if len(np.unique(label_sets[j])) > 1 else float("nan")
        for j in range(len(label_sets))
    ]


def point_silhouettes(
    x: np.ndarray, label_sets: Sequence[np.ndarray], chunk_rows: int = 1024
) -> np.ndarray:
    """Silhouette of every row under each labelling of x, from one chunked pass.

    Parameters
    ----------
    x : numpy.ndarray
        The rows, shape (n, features).
    label_sets : Sequence[numpy.ndarray]
        Labellings of the rows, each of length n.
    chunk_rows : int, default=1024
        Rows whose distances to all rows are held in memory at once.

    Returns
    -------
    numpy.ndarray
        Shape (n, labellings): each row's silhouette (as scikit-learn's
        silhouette_samples; 0 for a row alone in its cluster and under one cluster).
    """
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
    out = np.zeros((n, len(label_sets)))
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
            out[start:stop, j] = np.nan_to_num(s)
    return out


def _eligible(sweep: pd.DataFrame, min_segment_share: float, below: int | None) -> pd.DataFrame:
    """The sweep's rows whose smallest segment reaches min_segment_share (and k < `below`)."""
    keep = sweep["min_segment_share"] >= min_segment_share
    return sweep[keep if below is None else keep & (sweep["k"] < below)]


def choose_k(
    sweep: pd.DataFrame,
    min_segment_share: float,
    standard_errors: float = 0.0,
    below: int | None = None,
) -> tuple[int, str]:
    """Best silhouette among k whose smallest segment reaches min_segment_share.

    With `standard_errors` above 0 and the per-customer silhouettes of the sweep (its
    ``attrs["silhouette_points"]``, from `sweep_k`), the smallest eligible k whose
    silhouette is within that many standard errors of the best k's (paired over the same
    customers) is chosen instead: a difference the silhouette sample cannot tell from
    noise does not justify more segments.

    Parameters
    ----------
    sweep : pandas.DataFrame
        The k sweep (see `sweep_k`).
    min_segment_share : float
        Smallest share of customers a segment of an eligible k holds.
    standard_errors : float, default=0.0
        Tolerance in standard errors of the paired silhouette difference (0: the best).
    below : int or None, default=None
        Only k below this are eligible (the segment Jaccard check's step down); the caller
        makes sure one is.

    Returns
    -------
    tuple[int, str]
        The chosen k and the rule that chose it.

    Raises
    ------
    ValueError
        When the sweep is empty.
    """
    if sweep.empty:
        raise ValueError("no k could be tried: too few distinct customers")
    eligible = _eligible(sweep, min_segment_share, below)
    if eligible.empty:
        return int(sweep["k"].min()), "no k met shop_min_segment_share: smallest k used"
    best = eligible.sort_values(["silhouette", "k"], ascending=[False, True]).iloc[0]
    if len(sweep) == 1:
        return int(best["k"]), "fixed by shop_k"
    points = sweep.attrs.get("silhouette_points")
    if standard_errors > 0 and points is not None and points.shape[0] > 1:
        column = {int(k): j for j, k in enumerate(sweep["k"])}
        best_points = points[:, column[int(best["k"])]]
        for k in sorted(int(k) for k in eligible["k"] if k < best["k"]):
            diff = best_points - points[:, column[k]]
            se = float(diff.std(ddof=1) / np.sqrt(len(diff)))
            if diff.mean() <= standard_errors * se:
                return k, (
                    f"smallest k within {standard_errors:g} standard errors of the best "
                    "silhouette among k meeting shop_min_segment_share"
                )
    return int(best["k"]), "best silhouette among k meeting shop_min_segment_share"


def fit_segments(features: pd.DataFrame, config: SegmentConfig) -> SegmentModel:
    """Fit the whole segmentation on a customer feature frame (one row per customer).

    Degenerate inputs get one segment, FALLBACK_NAME, with status 'fallback: <reason>':
    fewer customers than the smallest k, no feature that varies, or fewer distinct
    feature profiles than the smallest k. No customer at all is an error.

    Parameters
    ----------
    features : pandas.DataFrame
        customer_id and the raw features of every customer.
    config : SegmentConfig
        The settings of the fit.

    Returns
    -------
    SegmentModel
        The fitted model, segment ids 1..k in order of size (largest first).

    Raises
    ------
    ValueError
        When customer_id is missing, null or repeated, or there is no customer.
    """
    check_ids(features)
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
        pre = _fit_preprocessor(fit_frame, config)
    except NoUsableFeatureError:
        reason = "no feature varies between customers (zero variance)"
        return _single_segment(fit_frame, len(ordered), config, reason)
    x = pre.transform(fit_frame)
    log.info(
        "shopseg: fitting on %d of %d customers, %d features (%s)",
        len(fit_frame),
        len(ordered),
        len(pre.features) + len(pre.categorical),
        ", ".join(pre.inputs),
    )
    sweep = sweep_k(x, config)
    if sweep.empty:
        distinct = len(np.unique(x, axis=0))
        reason = f"{distinct} distinct feature profiles, fewer than {k_var}"
        return _single_segment(fit_frame, len(ordered), config, reason, pre)
    k, rule = choose_k(sweep, config.min_segment_share, config.k_rule_standard_errors)
    started = time.perf_counter()
    centres, raw_labels, dendrogram = algorithm_of(config.algorithm).fit(x, k, config)
    seconds = time.perf_counter() - started
    log.info("shopseg: k=%d fitted on %d customers (%.1fs)", k, len(x), seconds)
    refits: Refits | None = None
    if config.checks_segment_jaccard and config.k is None:
        k, rule, (centres, raw_labels, dendrogram), refits = _reproducible_k(
            x, sweep, k, rule, (centres, raw_labels, dendrogram), config
        )
    order = _canonical_order(centres, raw_labels)
    if refits is not None:
        # in the canonical order; a Ward cut with fewer clusters than k has none to reuse
        refits = refits.reordered(order) if len(centres) == k else None
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
        "inertia": _inertia(x, centroids, labels),
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
        refits=refits,
    )


def _reproducible_k(
    x: np.ndarray,
    sweep: pd.DataFrame,
    k: int,
    rule: str,
    clustering: Clustering,
    config: SegmentConfig,
) -> tuple[int, str, Clustering, Refits]:
    """Step down from k while a segment's bootstrap Jaccard is below shop_k_rule_min_jaccard.

    Each step takes the k that `choose_k` picks among the eligible k below the current one
    and refits it; a k whose every segment reproduces (or the smallest eligible k) stays.

    Returns
    -------
    tuple[int, str, Clustering, Refits]
        The k, the rule that chose it, its clustering and its refits (each cluster's
        Jaccard in the clustering's order).
    """
    from shopseg.stability import refit_agreement  # shopseg.stability imports this module

    first, started, share = k, time.perf_counter(), config.min_segment_share
    while True:
        ari, jaccard, size = refit_agreement(x, _nearest(x, clustering[0]), k, config)
        worst = float(np.nanmin(jaccard))
        log.info("shopseg: k=%d: lowest segment bootstrap Jaccard %.2f", k, worst)
        if worst >= config.k_rule_min_jaccard or _eligible(sweep, share, below=k).empty:
            break
        k, _ = choose_k(sweep, share, config.k_rule_standard_errors, below=k)
        clustering = algorithm_of(config.algorithm).fit(x, k, config)
    if k != first:
        rule = (
            f"{rule}, then stepped down from k={first}: each larger k had a segment whose "
            f"bootstrap Jaccard was below shop_k_rule_min_jaccard ({config.k_rule_min_jaccard:g})"
        )
    log.info("shopseg: k rule with segment Jaccard: k=%d (%.1fs)", k, time.perf_counter() - started)
    refits = Refits(ari, tuple(float(j) for j in jaccard), size, _bootstrap_settings(config))
    return k, rule, clustering, refits


def _fit_preprocessor(fit_frame: pd.DataFrame, config: SegmentConfig) -> Preprocessor:
    """The preprocessing a fit's settings ask for, learnt on the fit sample."""
    return fit_preprocessor(
        fit_frame,
        config.features,
        config.winsor_quantile,
        config.skew_threshold,
        log_features=config.log_features,
        categorical=config.categorical_features,
        categorical_weight=config.categorical_weight,
        max_levels=config.categorical_max_levels,
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


# k -> (centres, label of each row from 0) of k clusters of the rows one sample
Clusterer = Callable[[int], tuple[np.ndarray, np.ndarray]]
# centres, the label of each row, and the dendrogram (None for an algorithm without one)
Clustering = tuple[np.ndarray, np.ndarray, np.ndarray | None]


class Algorithm:
    """How one shop_algorithm clusters: the k sweep's sample, a labelling per k, the final fit."""

    def sweep_size(self, config: SegmentConfig) -> int:
        """Customers the k sweep clusters at most.

        Parameters
        ----------
        config : SegmentConfig
            The fit's settings.

        Returns
        -------
        int
            The size of the sweep's sample.
        """
        return config.sweep_sample_size

    def clusterer(self, x: np.ndarray, config: SegmentConfig) -> Clusterer:
        """A function of k giving the centres and labels of k clusters of the rows of x.

        Parameters
        ----------
        x : numpy.ndarray
            The sweep's sample in standardised space.
        config : SegmentConfig
            The fit's settings.

        Returns
        -------
        Clusterer
            k to (centres, label of each row of x, from 0).
        """
        raise NotImplementedError

    def fit(self, x: np.ndarray, k: int, config: SegmentConfig) -> Clustering:
        """The final fit of k clusters on the fit sample.

        Parameters
        ----------
        x : numpy.ndarray
            The fit sample in standardised space.
        k : int
            The chosen number of clusters.
        config : SegmentConfig
            The fit's settings.

        Returns
        -------
        Clustering
            Centres, the label of each row of x, and the dendrogram (None without one).
        """
        raise NotImplementedError


class KMeansAlgorithm(Algorithm):
    """K-means with k-means++ starts (shop_algorithm kmeans)."""

    def clusterer(self, x: np.ndarray, config: SegmentConfig) -> Clusterer:
        return lambda k: _kmeans(x, k, config)

    def fit(self, x: np.ndarray, k: int, config: SegmentConfig) -> Clustering:
        centres, labels = _kmeans(x, k, config)
        return centres, labels, None


class WardAlgorithm(Algorithm):
    """Ward agglomerative clustering of a bounded sample (shop_algorithm agglomerative)."""

    def sweep_size(self, config: SegmentConfig) -> int:
        return min(config.sweep_sample_size, config.agglomerative_sample_size)

    def clusterer(self, x: np.ndarray, config: SegmentConfig) -> Clusterer:
        tree = _ward_tree(x)  # one tree, cut at every k
        return lambda k: _cut(tree, x, k)

    def fit(self, x: np.ndarray, k: int, config: SegmentConfig) -> Clustering:
        sample = x[sample_rows(len(x), config.agglomerative_sample_size, config.random_state)]
        dendrogram = _ward_tree(sample)
        centres, _ = _cut(dendrogram, sample, k)
        return centres, _nearest(x, centres), dendrogram  # the rest join the nearest centre


ALGORITHMS: dict[str, Algorithm] = {
    "kmeans": KMeansAlgorithm(),
    "agglomerative": WardAlgorithm(),
}


def algorithm_of(name: str) -> Algorithm:
    """The clustering algorithm a shop_algorithm value names.

    Parameters
    ----------
    name : str
        A key of ALGORITHMS (SegmentConfig.algorithm).

    Returns
    -------
    Algorithm
        The one object that sweeps and fits with that algorithm.

    Raises
    ------
    ValueError
        For a name ALGORITHMS does not hold.
    """
    if name not in ALGORITHMS:
        raise ValueError(f"shop_algorithm must be one of {list(ALGORITHMS)}, got {name!r}")
    return ALGORITHMS[name]


def _kmeans(x: np.ndarray, k: int, config: SegmentConfig) -> tuple[np.ndarray, np.ndarray]:
    """Centres and labels of K-means with k clusters on the rows of x."""
    # Lloyd's iterations add up one partial sum per thread, in whichever order the threads
    # finish: from three threads on, the centroids' last bits change from run to run.
    with threadpool_limits(limits=KMEANS_THREADS, user_api="openmp"):
        model = KMeans(
            n_clusters=k,
            init="k-means++",
            n_init=config.n_init,
            random_state=config.random_state,
        ).fit(x)
    return model.cluster_centers_, model.labels_


def _cut(tree: np.ndarray, x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Centres and labels of the (at most) k clusters a Ward tree of the rows of x is cut into."""
    raw = fcluster(tree, t=k, criterion="maxclust") - 1
    present = np.unique(raw)
    labels = np.searchsorted(present, raw)
    centres = np.vstack([x[labels == i].mean(axis=0) for i in range(len(present))])
    return centres, labels


def _inertia(x: np.ndarray, centres: np.ndarray, labels: np.ndarray) -> float:
    """Within-cluster sum of squares of a labelling."""
    return float(((x - centres[labels]) ** 2).sum())


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
            pre = _fit_preprocessor(fit_frame, config)
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
    """Hash of the settings and data a model was fitted on (its run_id before any alignment).

    Parameters
    ----------
    model : SegmentModel
        A fitted or stored model.

    Returns
    -------
    str
        The hash: equal for two fits of the same settings and data.
    """
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

    Parameters
    ----------
    model : SegmentModel
        The new fit.
    previous : SegmentModel
        The last stored (promoted) model.
    max_distance : float
        Farthest centroid distance (standardised units) that still matches
        (shop_segment_match_max_distance).

    Returns
    -------
    SegmentModel
        The new model with matched ids and names, segments ordered by id.
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
        refits=None if model.refits is None else model.refits.reordered(order),
    )


def score_segments(model: SegmentModel, features: pd.DataFrame) -> pd.DataFrame:
    """Assign every customer to the nearest centroid, with distance and runner-up segment.

    Parameters
    ----------
    model : SegmentModel
        The model to score with.
    features : pandas.DataFrame
        customer_id and the model's raw features of every customer.

    Returns
    -------
    pandas.DataFrame
        One row per customer, ordered by customer_id: customer_id, segment_id,
        centroid_distance, is_outlier, second_segment_id, second_centroid_distance, run_id.
    """
    check_ids(features)
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
    """Previous centroids expressed in the target's standardised columns (NaN if absent).

    A one-hot column is the segment's share of that level. An attribute the previous model
    did not use is absent (NaN) like a feature; a level of an attribute it used but that
    had no column of its own there gets the target's centred zero (the fit sample's share).
    """
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
    first = len(pre.features) + len(pre.missing_flags)
    shares = {
        c: previous.centroids[:, first + j] * pre.scale[first + j] + pre.mean[first + j]
        for j, c in enumerate(pre.level_columns)
    }
    start = n_t + len(target.missing_flags)
    attribute_of = [
        a for a, levels in zip(target.categorical, target.levels, strict=True) for _ in levels
    ]
    for i, column in enumerate(target.level_columns):
        j = start + i
        if column in shares:
            out[:, j] = (shares[column] - target.mean[j]) / target.scale[j]
        elif attribute_of[i] in pre.categorical:
            out[:, j] = 0.0
    return out


def check_ids(frame: pd.DataFrame, what: str = "customer_features") -> None:
    """Raise ValueError unless the frame has a customer_id column without nulls or repeats.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per customer.
    what : str, default="customer_features"
        The frame's name in the message (table, column and problem in one line).

    Raises
    ------
    ValueError
        When the column is missing, or holds nulls or duplicated ids (counted).
    """
    if ID_COLUMN not in frame.columns:
        raise ValueError(f"{what}: column {ID_COLUMN} is missing")
    ids = frame[ID_COLUMN]
    if ids.isna().any():
        raise ValueError(f"{what}.{ID_COLUMN}: {int(ids.isna().sum())} null ids")
    if ids.duplicated().any():
        raise ValueError(f"{what}.{ID_COLUMN}: {int(ids.duplicated().sum())} duplicated ids")


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
    digest.update(config.fit_json().encode())
    digest.update(repr(pre.columns).encode())
    digest.update(np.ascontiguousarray(x, dtype=np.float64).tobytes())
    return digest.hexdigest()[:16]
