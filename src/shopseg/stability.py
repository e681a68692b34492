"""Bootstrap stability of a segmentation: refits on subsamples, compared with the full fit.

The figures follow Hennig's `clusterboot` (fpc, R): the clustering is refitted with the
same algorithm, settings and k on B fixed-seed subsamples of the fit sample (drawn without
replacement, so no customer counts twice), and each refit is compared with the full fit's
segments on the customers of its subsample:

- the run's stability is the mean adjusted Rand index between the full fit's segments and
  each refit's clusters;
- a segment's stability is the mean, over the refits, of the best Jaccard similarity
  between the segment (its customers in the subsample) and one cluster of the refit.

Hennig reads a segment's mean Jaccard below 0.5 as "dissolved", 0.6 to 0.75 as a pattern
worth reading but not trusting alone, and 0.85 or more as highly stable.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from shopseg.config import SegmentConfig
from shopseg.kmeans import ID_COLUMN, SegmentModel, _nearest, algorithm_of, sample_rows
from shopseg.params import PARAMS

log = logging.getLogger(__name__)

SUBSAMPLE_SHARE = 0.8  # each refit sees this share of the fit sample (at most the var's size)


@dataclass(frozen=True)
class Stability:
    """The bootstrap stability of one segmentation."""

    ari: float  # mean ARI between the full fit and the refits; nan without refits
    segment_jaccard: dict[int, float]  # segment id -> mean best Jaccard over the refits
    resamples: int  # refits made
    sample_size: int  # customers each refit saw


def resample_rows(n_rows: int, config: SegmentConfig, resample: int) -> np.ndarray:
    """Sorted positions of one refit's subsample of the fit sample.

    Parameters
    ----------
    n_rows : int
        Customers in the fit sample.
    config : SegmentConfig
        Its shop_bootstrap_sample_size bounds the subsample; its random_state seeds it.
    resample : int
        Which refit (0, 1, ...): each has its own fixed seed.

    Returns
    -------
    numpy.ndarray
        Sorted row positions without repeats: SUBSAMPLE_SHARE of the rows, at most
        shop_bootstrap_sample_size, at least 1.
    """
    size = max(1, min(round(SUBSAMPLE_SHARE * n_rows), config.bootstrap_sample_size))
    rng = np.random.default_rng([config.random_state, resample])
    return np.sort(rng.choice(n_rows, size=size, replace=False))


def best_jaccard(reference: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """For each reference cluster, the best Jaccard similarity with one cluster of `labels`.

    Parameters
    ----------
    reference : numpy.ndarray
        The full fit's cluster (0..k-1) of each customer of the subsample.
    labels : numpy.ndarray
        The refit's cluster of the same customers (any integers).
    k : int
        Clusters of the reference.

    Returns
    -------
    numpy.ndarray
        Length k; nan for a reference cluster with no customer in the subsample.
    """
    _, code = np.unique(labels, return_inverse=True)
    both = np.zeros((k, code.max() + 1 if len(code) else 0))
    np.add.at(both, (reference, code), 1.0)
    ref_size = both.sum(axis=1, keepdims=True)
    new_size = both.sum(axis=0, keepdims=True)
    union = ref_size + new_size - both
    with np.errstate(invalid="ignore", divide="ignore"):
        jaccard = np.where(union > 0, both / union, 0.0)
    out = jaccard.max(axis=1) if jaccard.shape[1] else np.zeros(k)
    return np.where(ref_size[:, 0] > 0, out, np.nan)


def segment_stability(
    features: pd.DataFrame, model: SegmentModel, config: SegmentConfig
) -> Stability:
    """Refit the segmentation on fixed-seed subsamples and measure how well it reproduces.

    Parameters
    ----------
    features : pandas.DataFrame
        customer_id and the raw features of every customer: the frame `model` was fitted
        on (`fit_segments`), in any row order.
    model : SegmentModel
        The full fit (aligned or not: segments are reported by their ids). Where the k
        rule's Jaccard check made the refits at this k with these bootstrap settings
        (`SegmentModel.refits`), they are reused, not made again.
    config : SegmentConfig
        The settings of the fit; shop_bootstrap_resamples refits of at most
        shop_bootstrap_sample_size customers each, with k fixed to the model's.

    Returns
    -------
    Stability
        Mean ARI and each segment's mean best Jaccard; nan (and no segment figure) for a
        single-segment fallback or with shop_bootstrap_resamples = 0.
    """
    resamples = config.bootstrap_resamples
    if model.status != "ok" or model.k < 2 or resamples == 0:
        return Stability(float("nan"), {}, 0, 0)
    started = time.perf_counter()
    reused = model.refits is not None and model.refits.measured_with(config)
    if model.refits is not None and reused:  # the k rule's Jaccard check made them already
        ari, mean_jaccard, size = model.refits.ari, model.refits.jaccard, model.refits.sample_size
    else:
        # the fit sample, exactly as fit_segments drew it
        ordered = features.sort_values(ID_COLUMN, kind="stable").reset_index(drop=True)
        rows = sample_rows(len(ordered), config.fit_sample_size, config.random_state)
        x = model.preprocessor.transform(ordered.iloc[rows])
        ari, mean_jaccard, size = refit_agreement(x, _nearest(x, model.centroids), model.k, config)
    stability = Stability(
        ari=ari,
        segment_jaccard={
            int(s): float(j) for s, j in zip(model.segment_ids, mean_jaccard, strict=True)
        },
        resamples=resamples,
        sample_size=size,
    )
    log.info(
        "shopseg: bootstrap stability %.3f (%d refits%s of %d customers), segment Jaccard %s "
        "(%.1fs)",
        stability.ari,
        resamples,
        " the k rule made" if reused else "",
        size,
        ", ".join(f"{s}: {j:.2f}" for s, j in stability.segment_jaccard.items()),
        time.perf_counter() - started,
    )
    return stability


def refit_agreement(
    x: np.ndarray, reference: np.ndarray, k: int, config: SegmentConfig
) -> tuple[float, np.ndarray, int]:
    """Refit k clusters on shop_bootstrap_resamples fixed-seed subsamples of x.

    Parameters
    ----------
    x : numpy.ndarray
        The fit sample in standardised space.
    reference : numpy.ndarray
        The cluster (0..k-1) of each row of x under the full fit.
    k : int
        Clusters of the full fit; every refit has as many.
    config : SegmentConfig
        The fit's settings (algorithm, restarts, seed, bootstrap settings; at least one
        resample).

    Returns
    -------
    tuple[float, numpy.ndarray, int]
        The mean ARI between the reference and the refits, each reference cluster's mean
        best Jaccard (nan for one no subsample held), and the customers of a subsample.
    """
    algorithm = algorithm_of(config.algorithm)
    fixed = replace(config, k=k)  # the full fit's restarts and seed: the same method
    aris, jaccards, size = [], [], 0
    for b in range(config.bootstrap_resamples):
        rows = resample_rows(len(x), config, b)
        size = len(rows)
        _, labels, _ = algorithm.fit(x[rows], k, fixed)
        aris.append(adjusted_rand_score(reference[rows], labels))
        jaccards.append(best_jaccard(reference[rows], labels, k))
    with warnings.catch_warnings():  # a segment absent from every subsample: nan
        warnings.simplefilter("ignore", RuntimeWarning)
        mean_jaccard = np.nanmean(np.vstack(jaccards), axis=0)
    return float(np.mean(aris)), mean_jaccard, size


def stability_params(run_id: str, stability: Stability, config: SegmentConfig) -> pd.DataFrame:
    """The stability of a run as rows of the model store (segment_kmeans_fit).

    Parameters
    ----------
    run_id : str
        The run measured.
    stability : Stability
        Its stability (`segment_stability`).
    config : SegmentConfig
        The settings it was measured with (stored, so a change of them is seen).

    Returns
    -------
    pandas.DataFrame
        Run rows bootstrap_resamples and bootstrap_sample_size (the settings), and, when
        measured, bootstrap_stability (run) and one segment_stability row (name jaccard)
        per segment that reached a subsample.
    """
    rows: list[tuple] = [
        ("run", None, None, "bootstrap_resamples", float(config.bootstrap_resamples), None),
        ("run", None, None, "bootstrap_sample_size", float(config.bootstrap_sample_size), None),
    ]
    if np.isfinite(stability.ari):
        rows.append(("run", None, None, "bootstrap_stability", stability.ari, None))
    for segment_id, jaccard in stability.segment_jaccard.items():
        if np.isfinite(jaccard):
            rows.append(("segment_stability", segment_id, None, "jaccard", jaccard, None))
    return PARAMS.frame(run_id, rows)


def measured_alike(metrics: Mapping[str, float | str], config: SegmentConfig) -> bool:
    """Whether a stored run's stability was measured with the settings of `config`.

    Parameters
    ----------
    metrics : Mapping
        The stored run's metrics (`SegmentModel.metrics` of a model read from the store).
    config : SegmentConfig
        This build's settings.

    Returns
    -------
    bool
        True when its bootstrap_resamples and bootstrap_sample_size are this build's; False
        for a run stored without them.
    """
    return metrics.get("bootstrap_resamples") == config.bootstrap_resamples and metrics.get(
        "bootstrap_sample_size"
    ) == float(config.bootstrap_sample_size)
