"""A random forest that learns the segments: holdout quality, importances, rules, scoring.

config: ForestConfig (settings); sample: the training frame and its fixed-seed sample; fit:
fitting the forest and the rule tree, holdout F1 and permutation importance; store: the
forest as a canonical skops file and loading it back; results: the long result table that
segment_forest stores; score: scoring every customer.
"""

from shopseg.forest.config import SEGMENT, TARGETS, ForestConfig
from shopseg.forest.fit import ForestFit, fit_forest, fit_sample
from shopseg.forest.results import RESULT_COLUMNS, empty_results, forest_results
from shopseg.forest.sample import ForestSample, forest_sample, frame_from_arrow, training_frame
from shopseg.forest.score import SCORE_COLUMNS, score_customers
from shopseg.forest.store import TRUSTED_TYPES, scoring_fit

__all__ = [
    "RESULT_COLUMNS",
    "SCORE_COLUMNS",
    "SEGMENT",
    "TARGETS",
    "TRUSTED_TYPES",
    "ForestConfig",
    "ForestFit",
    "ForestSample",
    "empty_results",
    "fit_forest",
    "fit_sample",
    "forest_results",
    "forest_sample",
    "frame_from_arrow",
    "score_customers",
    "scoring_fit",
    "training_frame",
]
