"""The segment classifier's settings, read from dbt model config (vars) with types checked."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from shopseg.config import ConfigError, Settings, setting

TARGETS = ("segment_id", "lifecycle_stage")
SEGMENT = "segment_id"


@dataclass(frozen=True)
class ForestConfig(Settings):
    """Settings of the segment classifier and the rule tree (defaults here; dbt_project.yml
    repeats them)."""

    target: str = setting(SEGMENT, "shop_classifier_target")
    sample_size: int = setting(100_000, "shop_classifier_sample_size", count=True)
    holdout_share: float = setting(0.25, "shop_classifier_holdout_share")
    n_estimators: int = setting(100, "shop_classifier_n_estimators", count=True)
    max_samples: int = setting(20_000, "shop_classifier_max_samples", count=True)
    min_samples_leaf: int = setting(5, "shop_classifier_min_samples_leaf", count=True)
    importance_sample_size: int = setting(5_000, "shop_importance_sample_size", count=True)
    importance_repeats: int = setting(5, "shop_importance_repeats", count=True)
    rules_max_depth: int = setting(4, "shop_rules_max_depth", count=True)
    rules_min_leaf_share: float = setting(0.01, "shop_rules_min_leaf_share")
    random_state: int = setting(42, "shop_random_state")
    n_jobs: int = setting(2, "n_jobs", count=True)

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise ConfigError(
                f"shop_classifier_target must be one of {list(TARGETS)}, got {self.target!r}"
            )
        if not 0 < self.holdout_share < 1:
            raise ConfigError(
                f"shop_classifier_holdout_share must be in (0, 1), got {self.holdout_share}"
            )
        if not 0 <= self.rules_min_leaf_share < 0.5:
            raise ConfigError(
                f"shop_rules_min_leaf_share must be in [0, 0.5), got {self.rules_min_leaf_share}"
            )
        self.check_counts()

    def to_json(self) -> str:
        """The settings as canonical JSON (for run ids and the metrics table).

        Returns
        -------
        str
            Sorted-key JSON of every setting.
        """
        return json.dumps(asdict(self), sort_keys=True)
