"""Settings of the per-customer predictions, read from dbt model config (vars)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from shopseg.config import ConfigError, Settings, setting


@dataclass(frozen=True)
class PredictConfig(Settings):
    """Settings of the BG/NBD and Gamma-Gamma predictions (dbt_project.yml repeats the defaults)."""

    horizon_days: int = setting(365, "shop_prediction_horizon_days", count=True)
    min_customers: int = setting(500, "shop_prediction_min_customers", count=True)
    min_history_days: int = setting(180, "shop_prediction_min_history_days")
    fit_sample_size: int = setting(20_000, "shop_prediction_fit_sample_size", count=True)
    random_state: int = setting(42, "shop_random_state")

    def __post_init__(self) -> None:
        if self.min_history_days < 0:
            raise ConfigError(
                f"shop_prediction_min_history_days must be at least 0, got {self.min_history_days}"
            )
        self.check_counts()

    def to_json(self) -> str:
        """The settings as canonical JSON (part of the run id)."""
        return json.dumps(asdict(self), sort_keys=True)
