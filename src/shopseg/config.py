"""Segmentation settings, read from dbt model config (vars) with types checked."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

DEFAULT_FEATURES: tuple[str, ...] = (
    # purchase (RFM and how the customer buys)
    "recency_days",
    "order_count",
    "monetary",
    "avg_order_value",
    "discounted_order_share",
    # relationship and browsing
    "tenure_days",
    "session_count",
    "product_view_count",
    "days_since_last_visit",
    # demographic
    "age",
    "income",
)


class ConfigError(ValueError):
    """A setting has a value shopseg cannot use; the message names the var."""


@dataclass(frozen=True)
class SegmentConfig:
    """Settings of one segmentation fit."""

    features: tuple[str, ...] = DEFAULT_FEATURES
    k_min: int = 3
    k_max: int = 8
    k: int | None = None
    random_state: int = 42
    n_init: int = 4
    sweep_sample_size: int = 50_000
    fit_sample_size: int = 200_000
    silhouette_sample_size: int = 10_000
    min_segment_share: float = 0.02
    winsor_quantile: float = 0.01
    skew_threshold: float = 1.0
    outlier_quantile: float = 0.99
    algorithm: str = "kmeans"
    agglomerative_sample_size: int = 5_000
    match_max_distance: float = 1.5
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.k_min < 2:
            raise ConfigError(f"shop_k_min must be at least 2, got {self.k_min}")
        if self.k_max < self.k_min:
            raise ConfigError(f"shop_k_max ({self.k_max}) is below shop_k_min ({self.k_min})")
        if self.k is not None and self.k < 1:
            raise ConfigError(f"shop_k must be at least 1, got {self.k}")
        if not 0 <= self.min_segment_share < 1:
            raise ConfigError(
                f"shop_min_segment_share must be in [0, 1), got {self.min_segment_share}"
            )
        if not 0 <= self.winsor_quantile < 0.5:
            raise ConfigError(
                f"shop_winsor_quantile must be in [0, 0.5), got {self.winsor_quantile}"
            )
        if not 0 < self.outlier_quantile <= 1:
            raise ConfigError(
                f"shop_outlier_quantile must be in (0, 1], got {self.outlier_quantile}"
            )
        if self.algorithm not in ("kmeans", "agglomerative"):
            raise ConfigError(
                f"shop_algorithm must be kmeans or agglomerative, got {self.algorithm!r}"
            )
        if self.match_max_distance < 0:
            raise ConfigError(
                f"shop_segment_match_max_distance must be >= 0, got {self.match_max_distance}"
            )
        for name in (
            "agglomerative_sample_size",
            "n_init",
            "sweep_sample_size",
            "fit_sample_size",
            "silhouette_sample_size",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(f"shop_{name} must be positive, got {getattr(self, name)}")
        if not self.features:
            raise ConfigError("shop_segment_features is empty")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> SegmentConfig:
        """Build from a mapping of strings or values (as dbt config renders vars)."""
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "extra" or f.name not in values:
                continue
            raw = values[f.name]
            try:
                kwargs[f.name] = _coerce(f.name, raw)
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"shop_{f.name} = {raw!r} is not valid: {exc}") from exc
        return cls(**kwargs)

    def to_json(self) -> str:
        """The settings as canonical JSON (for run ids and the runs table)."""
        data = asdict(self)
        data.pop("extra")
        data["features"] = list(self.features)
        return json.dumps(data, sort_keys=True)


def _coerce(name: str, raw: Any) -> Any:
    if isinstance(raw, str):
        text = raw.strip()
        if text.lower() in ("", "none", "null"):
            raw = None
        elif name == "features":
            raw = json.loads(text) if text.startswith("[") else [t for t in text.split(",")]
        elif name == "algorithm":
            return text.lower()
        else:
            raw = json.loads(text)
    if raw is None:
        if name == "features":
            return DEFAULT_FEATURES
        if name == "k":
            return None
        raise ValueError("a value is required")
    if name == "features":
        items = tuple(str(x).strip() for x in raw)
        if len(set(items)) != len(items):
            raise ValueError("features are listed twice")
        return items
    if name in (
        "min_segment_share",
        "winsor_quantile",
        "skew_threshold",
        "outlier_quantile",
        "match_max_distance",
    ):
        return float(raw)
    if isinstance(raw, float) and not raw.is_integer():
        raise ValueError("expected a whole number")
    return int(raw)


def parse_bool(value: Any, var: str) -> bool:
    """A boolean setting from a dbt-rendered value ('True', 'false', 1, ...)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ConfigError(f"{var} = {value!r} is not true or false")
