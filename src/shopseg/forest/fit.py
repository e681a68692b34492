"""Fitting the forest and the rule tree on a sample, and judging them on its holdout."""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.inspection import permutation_importance
from sklearn.metrics import f1_score
from sklearn.tree import DecisionTreeClassifier

from shopseg.forest.config import ForestConfig
from shopseg.forest.sample import ForestSample, forest_sample
from shopseg.kmeans import sample_rows
from shopseg.rules import impute

# scikit-learn warns when the holdout has one class: expected for a single-segment fallback
SINGLE_LABEL = "A single label was found"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ForestFit(ForestSample):
    """A fitted forest and rule tree, with the sample they were fitted and judged on."""

    forest: RandomForestClassifier
    tree: DecisionTreeClassifier


def fit_sample(sample: ForestSample) -> ForestFit:
    """Fit the forest (target from config) and the rule tree (K-means segments) on a sample.

    Parameters
    ----------
    sample : ForestSample
        The sample, split and medians (see `forest_sample`).

    Returns
    -------
    ForestFit
        The sample with the fitted forest and rule tree.
    """
    config = sample.config
    started = time.perf_counter()
    x_train = impute(sample.raw_train, sample.medians)
    n_train = len(sample.y_train)
    leaf = _leaf_size(config.min_samples_leaf, n_train, len(np.unique(sample.segments_train)))
    forest = RandomForestClassifier(
        n_estimators=config.n_estimators,
        min_samples_leaf=leaf,
        max_samples=min(config.max_samples, n_train),
        oob_score=n_train > 1,
        n_jobs=config.n_jobs,
        random_state=config.random_state,
    ).fit(x_train, sample.y_train)
    grown = time.perf_counter()
    tree = DecisionTreeClassifier(
        max_depth=config.rules_max_depth,
        min_samples_leaf=max(leaf, math.ceil(config.rules_min_leaf_share * n_train)),
        random_state=config.random_state,
    ).fit(x_train, sample.segments_train)
    log.info(
        "shopseg: forest of %d trees grown on %d customers (%.1fs), rule tree (%.1fs)",
        config.n_estimators,
        n_train,
        grown - started,
        time.perf_counter() - grown,
    )
    return with_models(sample, forest, tree)


def fit_forest(
    frame: pd.DataFrame, features: Sequence[str], config: ForestConfig, kmeans_run_id: str
) -> ForestFit:
    """Fit the forest (target from config) and the rule tree (K-means segments) on a sample.

    Parameters
    ----------
    frame, features, config, kmeans_run_id
        As for `forest_sample`, which draws the sample fitted on.

    Returns
    -------
    ForestFit
        The fitted forest and rule tree with their sample.
    """
    return fit_sample(forest_sample(frame, features, config, kmeans_run_id))


def with_models(
    sample: ForestSample, forest: RandomForestClassifier, tree: DecisionTreeClassifier
) -> ForestFit:
    """A sample with its forest and rule tree, the sample's arrays shared, not copied.

    Parameters
    ----------
    sample : ForestSample
        The sample the models were fitted on.
    forest : sklearn.ensemble.RandomForestClassifier
        The fitted forest.
    tree : sklearn.tree.DecisionTreeClassifier
        The fitted rule tree.

    Returns
    -------
    ForestFit
        The three together.
    """
    shared: dict[str, Any] = {f.name: getattr(sample, f.name) for f in fields(ForestSample)}
    return ForestFit(**shared, forest=forest, tree=tree)


def holdout_f1(actual: np.ndarray, predicted: np.ndarray, average: str) -> float:
    """F1 over the classes in either array; nan without customers.

    Parameters
    ----------
    actual, predicted : numpy.ndarray
        Holdout labels and the forest's predictions.
    average : str
        scikit-learn's average: "macro" or "weighted".

    Returns
    -------
    float
        The F1 score, or nan for an empty holdout.
    """
    if len(actual) == 0:
        return math.nan
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=SINGLE_LABEL)
        return float(f1_score(actual, predicted, average=average, zero_division=0))


def holdout_importance(fit: ForestFit, x_holdout: np.ndarray) -> pd.DataFrame:
    """Drop in holdout accuracy per shuffled feature (mean, sd) on a bounded holdout sample.

    Parameters
    ----------
    fit : ForestFit
        The fitted forest and its sample.
    x_holdout : numpy.ndarray
        The holdout features, imputed.

    Returns
    -------
    pandas.DataFrame
        Columns mean and std, one row per feature (nan without a holdout); attrs["customers"]
        holds how many holdout customers were used.
    """
    n = len(fit.y_holdout)
    out = pd.DataFrame({"mean": np.full(len(fit.features), np.nan)}, index=list(fit.features))
    out["std"] = np.nan
    out.attrs["customers"] = 0
    if n == 0:
        return out
    started = time.perf_counter()
    rows = sample_rows(n, fit.config.importance_sample_size, fit.config.random_state + 2)
    result = permutation_importance(
        fit.forest,
        x_holdout[rows],
        fit.y_holdout[rows],
        scoring="accuracy",
        n_repeats=fit.config.importance_repeats,
        random_state=fit.config.random_state,
        n_jobs=1,
    )
    out["mean"] = result.importances_mean
    out["std"] = result.importances_std
    out.attrs["customers"] = len(rows)
    log.info(
        "shopseg: permutation importance on %d holdout customers, %d shuffles per feature (%.1fs)",
        len(rows),
        fit.config.importance_repeats,
        time.perf_counter() - started,
    )
    return out


def _leaf_size(configured: int, train_customers: int, classes: int) -> int:
    """The configured smallest leaf, smaller on samples too small for it (tiny shops)."""
    return max(1, min(configured, train_customers // (10 * max(classes, 1))))
