"""The classifier run as one long table: metrics, confusion, importances, rules, model."""

from __future__ import annotations

import json
import logging
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

from shopseg.forest.fit import SINGLE_LABEL, ForestFit, holdout_f1, holdout_importance
from shopseg.forest.store import forest_payload, versions_text
from shopseg.params import LongTable
from shopseg.rules import RULE_COLUMNS, impute, tree_rules

log = logging.getLogger(__name__)

RESULTS = LongTable(
    {"item_id": "Int64", "class_label": "string", "predicted_label": "string", "feature": "string"}
)
RESULT_COLUMNS = RESULTS.columns
empty_results = RESULTS.empty  # what segment_forest returns for an unchanged run


def forest_results(fit: ForestFit, segment_ids: Sequence[int]) -> pd.DataFrame:
    """Holdout metrics, confusion, importances and rules of a fit as one long frame.

    Parameters
    ----------
    fit : ForestFit
        The fitted forest and rule tree with their sample.
    segment_ids : Sequence[int]
        The K-means model's segment ids (every segment gets a rule row, if only a fallback).

    Returns
    -------
    pandas.DataFrame
        Columns RESULT_COLUMNS in their stored types; record_type run, class_metric,
        confusion, importance, rule and model (the stored forest).
    """
    rows: list[tuple] = []

    def add(kind: str, name: str, value: Any = None, text: Any = None, **keys: Any) -> None:
        rows.append(
            (
                kind,
                keys.get("item_id"),
                keys.get("class_label"),
                keys.get("predicted_label"),
                keys.get("feature"),
                name,
                None if value is None else float(value),
                text,
            )
        )

    x_train, x_holdout = impute(fit.raw_train, fit.medians), impute(fit.raw_holdout, fit.medians)
    has_holdout = len(fit.y_holdout) > 0
    predicted = fit.forest.predict(x_holdout) if has_holdout else fit.y_holdout
    labels = _class_order(np.concatenate([fit.y_train, fit.y_holdout]))
    tree_predicted = fit.tree.predict(x_holdout) if has_holdout else fit.segments_holdout
    rules = tree_rules(
        fit.tree,
        fit.features,
        fit.medians,
        fit.raw_train,
        fit.segments_train,
        fit.raw_holdout,
        fit.segments_holdout,
        segment_ids,
        fit.config.random_state,
    )
    nan = math.nan
    metrics = {
        "accuracy": accuracy_score(fit.y_holdout, predicted) if has_holdout else nan,
        "macro_f1": holdout_f1(fit.y_holdout, predicted, "macro"),
        "weighted_f1": holdout_f1(fit.y_holdout, predicted, "weighted"),
        "oob_score": getattr(fit.forest, "oob_score_", nan),
        "rule_fidelity": (
            accuracy_score(fit.segments_holdout, tree_predicted) if has_holdout else nan
        ),
        "rule_train_fidelity": accuracy_score(fit.segments_train, fit.tree.predict(x_train)),
        "rule_count": float(len(rules)),
        "rule_leaves": float(fit.tree.get_n_leaves()),
        "customers": float(fit.customers),
        "sample_customers": float(len(fit.y_train) + len(fit.y_holdout)),
        "train_customers": float(len(fit.y_train)),
        "holdout_customers": float(len(fit.y_holdout)),
        "classes": float(len(labels)),
        "is_stratified": float(fit.is_stratified),
    }
    importance = holdout_importance(fit, x_holdout)
    metrics["importance_customers"] = float(importance.attrs["customers"])
    for name, value in metrics.items():
        add("run", name, value)
    texts = {
        "target": fit.config.target,
        "kmeans_run_id": fit.kmeans_run_id,
        "features": json.dumps(list(fit.features)),
        "config": fit.config.to_json(),
        "versions": versions_text(),
    }
    for name, text in texts.items():
        add("run", name, text=text)
    if has_holdout:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=SINGLE_LABEL)
            precision, recall, f1, support = precision_recall_fscore_support(
                fit.y_holdout, predicted, labels=labels, zero_division=0
            )
            matrix = confusion_matrix(fit.y_holdout, predicted, labels=labels)
    else:
        precision = recall = f1 = np.full(len(labels), nan)
        support = np.zeros(len(labels))
        matrix = np.zeros((len(labels), len(labels)))
    train_support = pd.Series(fit.y_train).value_counts()
    for i, label in enumerate(labels):
        text = str(label)
        add("class_metric", "precision", precision[i], class_label=text)
        add("class_metric", "recall", recall[i], class_label=text)
        add("class_metric", "f1", f1[i], class_label=text)
        add("class_metric", "holdout_support", support[i], class_label=text)
        add("class_metric", "train_support", train_support.get(label, 0), class_label=text)
        for k, other in enumerate(labels):
            add(
                "confusion", "customers", matrix[i, k], class_label=text, predicted_label=str(other)
            )
    impurity = fit.forest.feature_importances_
    for j, feature in enumerate(fit.features):
        add("importance", "impurity", impurity[j], feature=feature)
        add("importance", "permutation_mean", importance["mean"].iloc[j], feature=feature)
        add("importance", "permutation_std", importance["std"].iloc[j], feature=feature)
        add("importance", "impute_median", fit.medians[j], feature=feature)
    for rule in rules.to_dict("records"):
        keys = {"item_id": int(rule["rule_id"]), "class_label": str(rule["segment_id"])}
        for name in RULE_COLUMNS[4:]:
            add("rule", name, rule[name], **keys)
        add("rule", "rule_kind", text=rule["rule_kind"], **keys)
        add("rule", "rule_text", text=rule["rule_text"], **keys)
    # the fitted forest itself, so that segment_forest_scores predicts with it instead of
    # refitting (read back by scoring_fit)
    add("model", "forest", text=forest_payload(fit))
    log.info(
        "shopseg: forest %s holdout macro-F1 %.3f, OOB %.3f, rule fidelity %.3f (%d rules)",
        fit.run_id,
        metrics["macro_f1"],
        metrics["oob_score"],
        metrics["rule_fidelity"],
        len(rules),
    )
    return RESULTS.frame(fit.run_id, rows)


def _class_order(labels: np.ndarray) -> list:
    """Distinct labels in their natural order (numbers numerically)."""
    return sorted(set(labels.tolist()))
