"""Segmentation settings, read from dbt model config (vars) with types checked."""

from __future__ import annotations

import json
import typing
from collections.abc import Mapping
from dataclasses import Field, asdict, dataclass, field, fields
from typing import Any, Self

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
# Counts, durations and money of the default list, log1p-transformed whatever their skewness
# (shop_log_features' default): with the k rule's segment Jaccard check, `make eval` measured
# it best over the independent families (DECISIONLOG.md)
RATIO_SCALE_FEATURES: tuple[str, ...] = (
    "recency_days",
    "order_count",
    "monetary",
    "avg_order_value",
    "tenure_days",
    "session_count",
    "product_view_count",
    "days_since_last_visit",
)


class ConfigError(ValueError):
    """A setting has a value shopseg cannot use; the message names the var."""


ALGORITHM_NAMES = ("kmeans", "agglomerative")  # shop_algorithm: shopseg.kmeans.ALGORITHMS
_NULL_TEXT = ("", "none", "null")  # how dbt renders a null var (and what users write for one)


def setting(
    default: Any,
    var: str,
    *,
    count: bool = False,
    null_is_default: bool = False,
    shapes_fit: bool = True,
) -> Any:
    """A field of a settings dataclass: its default and the dbt var that sets it.

    Parameters
    ----------
    default : Any
        The library's default, the one dbt_project.yml and the README repeat.
    var : str
        The dbt var that sets it (named in every error message about it).
    count : bool, default=False
        True for a count, which must be at least 1.
    null_is_default : bool, default=False
        True when a null var means the default (else null is refused unless the field's
        type allows None).
    shapes_fit : bool, default=True
        False for a setting that changes what is measured about a fit but not the fit
        itself (the bootstrap's): it is left out of `SegmentConfig.fit_json`.

    Returns
    -------
    dataclasses.Field
        The field, with `var`, `count`, `null_is_default` and `shapes_fit` in its metadata
        (read by `Settings.from_mapping`, `Settings.check_counts` and `setting_vars`).
    """
    metadata = {
        "var": var,
        "count": count,
        "null_is_default": null_is_default,
        "shapes_fit": shapes_fit,
    }
    return field(default=default, metadata=metadata)


class Settings:
    """A settings dataclass whose fields are made with `setting`, read from dbt config."""

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Self:
        """Build from a mapping of strings or values (as dbt config renders vars).

        Parameters
        ----------
        values : Mapping[str, Any]
            Field name to value; a value may be the text dbt renders for a var ("3",
            "None", "0.05", a JSON list). Fields not in the mapping keep their defaults;
            keys that are no field are ignored.

        Returns
        -------
        Self
            The settings.

        Raises
        ------
        ConfigError
            When a value cannot be read as the field's type; the message names the var.
        """
        hints = typing.get_type_hints(cls)
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if "var" not in f.metadata or f.name not in values:
                continue
            raw = values[f.name]
            try:
                kwargs[f.name] = _coerce(f, hints[f.name], raw)
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"{f.metadata['var']} = {raw!r} is not valid: {exc}") from exc
        return cls(**kwargs)

    def check_counts(self) -> None:
        """Raise ConfigError naming the var of any count setting below 1."""
        for f in fields(self):
            value = getattr(self, f.name)
            if f.metadata.get("count") and value < 1:
                raise ConfigError(f"{f.metadata['var']} must be at least 1, got {value}")


def setting_vars(cls: type) -> dict[str, str]:
    """Field name to dbt var of each setting of a settings dataclass.

    Parameters
    ----------
    cls : type
        A dataclass whose fields are made with `setting`.

    Returns
    -------
    dict[str, str]
        Field name to var name, in field order.
    """
    return {f.name: f.metadata["var"] for f in fields(cls) if "var" in f.metadata}


def _coerce(f: Field, hint: Any, raw: Any) -> Any:
    """A raw setting as the field's type: int, float, str, a tuple of str, or None."""
    options = typing.get_args(hint) if typing.get_origin(hint) is not tuple else ()
    nullable = type(None) in options
    kind = next((o for o in options if o is not type(None)), hint) if nullable else hint
    is_list = typing.get_origin(kind) is tuple
    if isinstance(raw, str):
        text = raw.strip()
        if text.lower() in _NULL_TEXT:
            raw = None
        elif kind is str:
            return text.lower()
        elif is_list:
            raw = json.loads(text) if text.startswith("[") else text.split(",")
        else:
            raw = json.loads(text)
    if raw is None:
        if f.metadata.get("null_is_default"):
            return f.default
        if nullable:
            return None
        raise ValueError("a value is required")
    if is_list:
        items = tuple(str(x).strip() for x in raw)
        if len(set(items)) != len(items):
            raise ValueError("a name is listed twice")
        return items
    if kind is float:
        return float(raw)
    if kind is str:
        return str(raw).lower()
    if isinstance(raw, float) and not raw.is_integer():
        raise ValueError("expected a whole number")
    return int(raw)


# left out of SegmentConfig.to_json (and so of run ids) while no categorical feature is set
CATEGORICAL_SETTINGS = ("categorical_features", "categorical_weight", "categorical_max_levels")


@dataclass(frozen=True)
class SegmentConfig(Settings):
    """Settings of one segmentation fit (defaults here; dbt_project.yml repeats them)."""

    features: tuple[str, ...] = setting(
        DEFAULT_FEATURES, "shop_segment_features", null_is_default=True
    )
    k_min: int = setting(3, "shop_k_min")
    k_max: int = setting(8, "shop_k_max")
    k: int | None = setting(None, "shop_k")
    random_state: int = setting(42, "shop_random_state")
    n_init: int = setting(4, "shop_n_init", count=True)
    sweep_sample_size: int = setting(50_000, "shop_sweep_sample_size", count=True)
    fit_sample_size: int = setting(200_000, "shop_fit_sample_size", count=True)
    silhouette_sample_size: int = setting(10_000, "shop_silhouette_sample_size", count=True)
    min_segment_share: float = setting(0.02, "shop_min_segment_share")
    # the smallest k within this many standard errors of the best silhouette (0: the best)
    k_rule_standard_errors: float = setting(2.0, "shop_k_rule_standard_errors")
    winsor_quantile: float = setting(0.01, "shop_winsor_quantile")
    skew_threshold: float = setting(1.0, "shop_skew_threshold")
    # non-negative features that are log1p-transformed whatever their skewness (empty: the
    # skew rule decides for every feature); names not among the features are ignored
    log_features: tuple[str, ...] = setting(
        RATIO_SCALE_FEATURES, "shop_log_features", null_is_default=True
    )
    outlier_quantile: float = setting(0.99, "shop_outlier_quantile")
    algorithm: str = setting("kmeans", "shop_algorithm")
    agglomerative_sample_size: int = setting(5_000, "shop_agglomerative_sample_size", count=True)
    match_max_distance: float = setting(1.5, "shop_segment_match_max_distance")
    # text columns of customer_features that take part as one-hot columns (none by default)
    categorical_features: tuple[str, ...] = setting(
        (), "shop_segment_categorical_features", null_is_default=True
    )
    # distance (standard deviations of a numeric feature) between two levels of one attribute
    categorical_weight: float = setting(1.0, "shop_categorical_weight")
    # the most frequent levels on the fit sample each get a column; the rest share "(other)"
    categorical_max_levels: int = setting(10, "shop_categorical_max_levels", count=True)
    # refits of the bootstrap stability (0: not measured) and the customers each one sees
    bootstrap_resamples: int = setting(10, "shop_bootstrap_resamples", shapes_fit=False)
    bootstrap_sample_size: int = setting(
        5_000, "shop_bootstrap_sample_size", count=True, shapes_fit=False
    )
    # the k rule steps down from a k with a segment whose bootstrap Jaccard is below this
    # (0: off); the bootstrap settings then shape the fit too
    k_rule_min_jaccard: float = setting(0.6, "shop_k_rule_min_jaccard")
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
        if self.algorithm not in ALGORITHM_NAMES:
            raise ConfigError(
                f"shop_algorithm must be one of {list(ALGORITHM_NAMES)}, got {self.algorithm!r}"
            )
        if self.match_max_distance < 0:
            raise ConfigError(
                f"shop_segment_match_max_distance must be >= 0, got {self.match_max_distance}"
            )
        if self.bootstrap_resamples < 0:
            raise ConfigError(
                f"shop_bootstrap_resamples must be >= 0, got {self.bootstrap_resamples}"
            )
        if not self.k_rule_standard_errors >= 0:
            raise ConfigError(
                f"shop_k_rule_standard_errors must be >= 0, got {self.k_rule_standard_errors}"
            )
        if not 0 <= self.k_rule_min_jaccard <= 1:
            raise ConfigError(
                f"shop_k_rule_min_jaccard must be in [0, 1], got {self.k_rule_min_jaccard}"
            )
        if not self.categorical_weight > 0:
            raise ConfigError(f"shop_categorical_weight must be > 0, got {self.categorical_weight}")
        self.check_counts()
        if not self.features:
            raise ConfigError("shop_segment_features is empty")

    @property
    def checks_segment_jaccard(self) -> bool:
        """Whether the k rule refits to check every segment's Jaccard: shop_k_rule_min_jaccard
        above 0 and refits to measure it (shop_bootstrap_resamples above 0)."""
        return self.k_rule_min_jaccard > 0 and self.bootstrap_resamples > 0

    def to_json(self) -> str:
        """The settings as canonical JSON (for run ids and the runs table).

        Returns
        -------
        str
            Sorted-key JSON of every setting but `extra`, features as a list. The
            categorical settings appear only when categorical features are set, and
            `log_features` and `k_rule_min_jaccard` only when in use: a model they do not
            touch keeps the run id it had before those settings existed.
        """
        data = asdict(self)
        data.pop("extra")
        data["features"] = list(self.features)
        # left out while empty: a model without it keeps the run id it had before it existed
        if not self.log_features:
            data.pop("log_features")
        else:
            data["log_features"] = list(self.log_features)
        if self.categorical_features:
            data["categorical_features"] = list(self.categorical_features)
        else:
            for name in CATEGORICAL_SETTINGS:
                data.pop(name)
        if not self.checks_segment_jaccard:
            data.pop("k_rule_min_jaccard")
        return json.dumps(data, sort_keys=True)

    def fit_json(self) -> str:
        """The settings that shape the fit, as canonical JSON (what run ids hash).

        Returns
        -------
        str
            `to_json` without the settings made with ``shapes_fit=False``: measuring a
            fit's stability differently leaves its run id as it is, unless
            shop_k_rule_min_jaccard lets the refits choose k.
        """
        data = json.loads(self.to_json())
        for f in fields(self):
            # with shop_k_rule_min_jaccard on, the refits choose k: they shape the fit
            if not f.metadata.get("shapes_fit", True) and not self.checks_segment_jaccard:
                data.pop(f.name)
        return json.dumps(data, sort_keys=True)


def parse_bool(value: Any, var: str) -> bool:
    """A boolean setting from a dbt-rendered value ('True', 'false', 1, ...).

    Parameters
    ----------
    value : Any
        A bool, or text such as "True", "false", "1", "yes", "off".
    var : str
        The var it comes from, named in the error.

    Returns
    -------
    bool
        The setting.

    Raises
    ------
    ConfigError
        When the value is neither true nor false.
    """
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ConfigError(f"{var} = {value!r} is not true or false")
