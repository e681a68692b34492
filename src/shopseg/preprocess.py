"""Feature preprocessing for distance-based segmenters, with parameters that can be stored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from shopseg.config import ConfigError

MISSING_SUFFIX = "__missing"
# A missing flag is divided by the standard deviation of a balanced yes/no column, whatever
# its own share: z-scoring a flag that marks 0.2% of customers puts them 25 units away, and
# k-means then spends a segment on a handful of customers (docs/eval.md, DECISIONLOG.md).
MISSING_FLAG_SCALE = 0.5
NONE_LEVEL = "(none)"  # the level of a null or empty categorical value
OTHER_LEVEL = "(other)"  # the level shared by the values beyond the most frequent ones
LEVEL_SEPARATOR = "="  # a one-hot column is named <attribute>=<level>


class NoUsableFeatureError(ValueError):
    """Every requested feature is absent, all missing or constant (zero variance)."""


class CategoricalColumnError(ConfigError):
    """A categorical attribute asked for is no text column of the features."""


@dataclass(frozen=True)
class Preprocessor:
    """Fitted preprocessing: log1p, winsorising, median imputation, missing flags, scaling.

    Features are standardised (mean 0, standard deviation 1 on the fit sample); a missing
    flag is centred and divided by MISSING_FLAG_SCALE, so it weighs as a balanced yes/no
    feature whatever its share. Each categorical attribute becomes one 0/1 column per
    level, centred by the level's share of the fit sample and divided by
    sqrt(2) / weight: two customers who differ only in the level of one attribute are
    `weight` apart, whatever the levels' shares.
    """

    features: tuple[str, ...]
    log1p: tuple[bool, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    median: tuple[float, ...]
    missing_flags: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    dropped: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()  # attributes, each with its levels below
    levels: tuple[tuple[str, ...], ...] = ()  # per attribute, in column order

    @property
    def columns(self) -> tuple[str, ...]:
        """Names of the transformed columns: features, missing flags, then `attribute=level`."""
        return (
            self.features
            + tuple(f + MISSING_SUFFIX for f in self.missing_flags)
            + self.level_columns
        )

    @property
    def level_columns(self) -> tuple[str, ...]:
        """Names of the one-hot columns, `attribute=level`, after every other column."""
        return tuple(
            f"{attribute}{LEVEL_SEPARATOR}{level}"
            for attribute, levels in zip(self.categorical, self.levels, strict=True)
            for level in levels
        )

    @property
    def inputs(self) -> tuple[str, ...]:
        """The raw columns `transform` reads: the features, then the categorical attributes."""
        return self.features + self.categorical

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Map raw feature columns to the standardised matrix the segmenter works in.

        Parameters
        ----------
        frame : pandas.DataFrame
            Raw customer features; holds every column of `features`.

        Returns
        -------
        numpy.ndarray
            Shape (rows, len(columns)): the features, the missing flags, then the one-hot
            columns, standardised. A level not seen on the fit sample counts as "(other)"
            when the attribute has that column, else as no level at all.
        """
        values = numeric_matrix(frame, self.features)
        missing = np.isnan(values)
        values = np.where(np.asarray(self.log1p), np.log1p(np.maximum(values, 0.0)), values)
        values = np.clip(values, np.asarray(self.lower), np.asarray(self.upper))
        values = np.where(missing, np.asarray(self.median), values)
        flag_index = [self.features.index(f) for f in self.missing_flags]
        flags = missing[:, flag_index].astype(np.float64)
        matrix = np.hstack([values, flags]) if flag_index else values
        if self.categorical:
            onehot = [
                one_hot(frame[a], levels)
                for a, levels in zip(self.categorical, self.levels, strict=True)
            ]
            matrix = np.hstack([matrix, *onehot])
        return (matrix - np.asarray(self.mean)) / np.asarray(self.scale)

    def to_original_units(self, matrix: np.ndarray) -> np.ndarray:
        """Map standardised feature values back to original units (the features only).

        Parameters
        ----------
        matrix : numpy.ndarray
            Rows in the standardised space of `transform` (missing flags may follow).

        Returns
        -------
        numpy.ndarray
            Shape (rows, len(features)), in the features' original units.
        """
        n = len(self.features)
        values = matrix[:, :n] * np.asarray(self.scale[:n]) + np.asarray(self.mean[:n])
        logged = np.asarray(self.log1p, dtype=bool)
        values[:, logged] = np.expm1(values[:, logged])
        return values


def fit_preprocessor(
    frame: pd.DataFrame,
    features: tuple[str, ...],
    winsor_quantile: float = 0.01,
    skew_threshold: float = 1.0,
    log_features: tuple[str, ...] = (),
    categorical: tuple[str, ...] = (),
    categorical_weight: float = 1.0,
    max_levels: int = 10,
) -> Preprocessor:
    """Learn preprocessing parameters from a sample; drop features with no usable variation.

    Parameters
    ----------
    frame : pandas.DataFrame
        The fit sample of raw customer features.
    features : tuple[str, ...]
        The features asked for; absent, all-null and constant ones are dropped.
    winsor_quantile : float, default=0.01
        Each feature is clipped to its [q, 1 - q] quantiles.
    skew_threshold : float, default=1.0
        A non-negative feature more skewed than this is log1p-transformed first.
    log_features : tuple[str, ...], default=()
        Features log1p-transformed whenever they are non-negative, whatever their skewness
        (counts, durations, money).
    categorical : tuple[str, ...], default=()
        Text columns that take part one-hot encoded (see `category_levels`); one with a
        single level on the fit sample is dropped.
    categorical_weight : float, default=1.0
        Distance, in standardised units, between two customers who differ only in the
        level of one categorical attribute.
    max_levels : int, default=10
        The most frequent levels of an attribute get a column each; the rest share one.

    Returns
    -------
    Preprocessor
        The fitted preprocessing, with the dropped features listed.

    Raises
    ------
    NoUsableFeatureError
        When no numeric feature is left (categorical attributes alone are not enough).
    CategoricalColumnError
        When a categorical attribute is absent from the frame or holds numbers.
    """
    check_categorical(frame, categorical)
    present = [f for f in features if f in frame.columns]
    values = numeric_matrix(frame, tuple(present))
    kept: list[str] = []
    dropped: list[str] = [f for f in features if f not in frame.columns]
    params: dict[str, list] = {k: [] for k in ("log1p", "lower", "upper", "median")}
    flags: list[str] = []
    flag_patterns: set[bytes] = set()
    columns: list[np.ndarray] = []
    for j, name in enumerate(present):
        col = values[:, j]
        observed = col[~np.isnan(col)]
        if observed.size == 0 or np.nanmax(observed) == np.nanmin(observed):
            dropped.append(name)
            continue
        use_log = bool(
            observed.min() >= 0 and (name in log_features or _skewness(observed) > skew_threshold)
        )
        work = np.log1p(observed) if use_log else observed
        lo, hi = np.quantile(work, [winsor_quantile, 1.0 - winsor_quantile])
        if hi <= lo:
            lo, hi = float(work.min()), float(work.max())
        if hi <= lo:
            dropped.append(name)
            continue
        kept.append(name)
        params["log1p"].append(use_log)
        params["lower"].append(float(lo))
        params["upper"].append(float(hi))
        params["median"].append(float(np.median(np.clip(work, lo, hi))))
        missing = np.isnan(col)
        pattern = np.packbits(missing).tobytes()
        if missing.any() and pattern not in flag_patterns:
            flag_patterns.add(pattern)
            flags.append(name)
        columns.append(col)
    if not kept:
        raise NoUsableFeatureError(
            "customer_features: no usable segmentation feature: every feature of "
            f"{list(features)} is absent, all null or the same for every customer"
        )
    attributes: list[str] = []
    levels: list[tuple[str, ...]] = []
    for name in categorical:
        found = category_levels(frame[name], max_levels)
        if len(found) < 2:
            dropped.append(name)
            continue
        attributes.append(name)
        levels.append(found)
    n_dummies = sum(len(found) for found in levels)
    n_columns = len(kept) + len(flags) + n_dummies
    draft = Preprocessor(
        features=tuple(kept),
        log1p=tuple(params["log1p"]),
        lower=tuple(params["lower"]),
        upper=tuple(params["upper"]),
        median=tuple(params["median"]),
        missing_flags=tuple(flags),
        mean=tuple([0.0] * n_columns),
        scale=tuple([1.0] * n_columns),
        dropped=tuple(dropped),
        categorical=tuple(attributes),
        levels=tuple(levels),
    )
    raw = draft.transform(frame)
    mean = raw.mean(axis=0)
    scale = raw.std(axis=0)
    scale[scale == 0] = 1.0
    scale[len(kept) : len(kept) + len(flags)] = MISSING_FLAG_SCALE
    # two levels of one attribute differ in two 0/1 columns: sqrt(2) apart before scaling
    scale[n_columns - n_dummies :] = np.sqrt(2.0) / categorical_weight
    return replace(
        draft,
        mean=tuple(float(x) for x in mean),
        scale=tuple(float(x) for x in scale),
    )


def category_levels(values: pd.Series, max_levels: int) -> tuple[str, ...]:
    """The levels of a categorical attribute that get a column, most frequent first.

    Parameters
    ----------
    values : pandas.Series
        The attribute on the fit sample; null and empty text are the level "(none)".
    max_levels : int
        The most levels kept; when there are more, the rest share the level "(other)".

    Returns
    -------
    tuple[str, ...]
        At most `max_levels` levels by frequency (ties by name), then "(other)" when some
        level was left out.
    """
    counts = category_text(values).value_counts()
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    kept = tuple(str(level) for level, _ in ranked[:max_levels])
    return kept + (OTHER_LEVEL,) if len(ranked) > max_levels else kept


def category_text(values: pd.Series) -> pd.Series:
    """A categorical attribute as text: null and empty (or blank) values are "(none)".

    Parameters
    ----------
    values : pandas.Series
        The attribute's raw values.

    Returns
    -------
    pandas.Series
        The values as text, without nulls.
    """
    text = values.astype("string")
    empty = text.isna() | (text.str.strip() == "")
    return text.mask(empty.fillna(True), NONE_LEVEL)


def one_hot(values: pd.Series, levels: tuple[str, ...]) -> np.ndarray:
    """A 0/1 column per level of a categorical attribute (before centring and scaling).

    Parameters
    ----------
    values : pandas.Series
        The attribute's raw values.
    levels : tuple[str, ...]
        The fitted levels (`category_levels`).

    Returns
    -------
    numpy.ndarray
        Shape (rows, len(levels)), float64. A value outside `levels` marks "(other)" when
        it is a level, else no column.
    """
    text = category_text(values).to_numpy(dtype=object)
    out = np.zeros((len(text), len(levels)))
    named = [level for level in levels if level != OTHER_LEVEL]
    for j, level in enumerate(levels):
        if level == OTHER_LEVEL:
            out[:, j] = ~np.isin(text, named)
        else:
            out[:, j] = text == level
    return out


def check_categorical(frame: pd.DataFrame, categorical: Sequence[str]) -> None:
    """Raise CategoricalColumnError unless every categorical attribute is a text column.

    Parameters
    ----------
    frame : pandas.DataFrame
        The customer features.
    categorical : Sequence[str]
        The attributes asked for (shop_segment_categorical_features).

    Raises
    ------
    CategoricalColumnError
        For the first attribute that is absent, the id, or numeric, boolean or a date.
    """
    for name in categorical:
        if name not in frame.columns or name == "customer_id":
            problem = "is the customer id" if name == "customer_id" else "is no column"
        elif not (
            pd.api.types.is_string_dtype(frame[name]) or pd.api.types.is_object_dtype(frame[name])
        ):
            problem = f"is no text column (type {frame[name].dtype})"
        else:
            continue
        raise CategoricalColumnError(
            f"shop_segment_categorical_features: customer_features.{name} {problem}: "
            "list text columns only (e.g. country, acquisition_channel, gender)"
        )


def empty_preprocessor(dropped: tuple[str, ...]) -> Preprocessor:
    """A preprocessor that uses no feature (for a single-segment fallback).

    Parameters
    ----------
    dropped : tuple[str, ...]
        The features asked for, all dropped.

    Returns
    -------
    Preprocessor
        One that maps every customer to an empty row.
    """
    return Preprocessor((), (), (), (), (), (), (), (), dropped=dropped)


def numeric_matrix(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Columns of a frame as a float64 matrix; nulls, infinities and non-numbers become NaN.

    Parameters
    ----------
    frame : pandas.DataFrame
        Holds every column of `columns`, of any dtype (text that is no number becomes NaN).
    columns : Sequence[str]
        The columns, in matrix order.

    Returns
    -------
    numpy.ndarray
        Shape (rows, columns), float64, with NaN for every value that is no finite number.
    """
    if not columns:
        return np.empty((len(frame), 0))
    out = np.empty((len(frame), len(columns)), dtype=np.float64)
    for j, name in enumerate(columns):
        col = pd.to_numeric(frame[name], errors="coerce")
        arr = col.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
        arr[~np.isfinite(arr)] = np.nan
        out[:, j] = arr
    return out


def _skewness(values: np.ndarray) -> float:
    centred = values - values.mean()
    sd = centred.std()
    return float((centred**3).mean() / sd**3) if sd > 0 else 0.0
