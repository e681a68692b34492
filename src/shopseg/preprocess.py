"""Feature preprocessing for distance-based segmenters, with parameters that can be stored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

MISSING_SUFFIX = "__missing"
# A missing flag is divided by the standard deviation of a balanced yes/no column, whatever
# its own share: z-scoring a flag that marks 0.2% of customers puts them 25 units away, and
# k-means then spends a segment on a handful of customers (docs/eval.md, DECISIONLOG.md).
MISSING_FLAG_SCALE = 0.5


class NoUsableFeatureError(ValueError):
    """Every requested feature is absent, all missing or constant (zero variance)."""


@dataclass(frozen=True)
class Preprocessor:
    """Fitted preprocessing: log1p, winsorising, median imputation, missing flags, scaling.

    Features are standardised (mean 0, standard deviation 1 on the fit sample); a missing
    flag is centred and divided by MISSING_FLAG_SCALE, so it weighs as a balanced yes/no
    feature whatever its share.
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

    @property
    def columns(self) -> tuple[str, ...]:
        """Names of the transformed columns: the features, then the missing flags."""
        return self.features + tuple(f + MISSING_SUFFIX for f in self.missing_flags)

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Map raw feature columns to the standardised matrix the segmenter works in.

        Parameters
        ----------
        frame : pandas.DataFrame
            Raw customer features; holds every column of `features`.

        Returns
        -------
        numpy.ndarray
            Shape (rows, len(columns)): the features, then the missing flags, standardised.
        """
        values = numeric_matrix(frame, self.features)
        missing = np.isnan(values)
        values = np.where(np.asarray(self.log1p), np.log1p(np.maximum(values, 0.0)), values)
        values = np.clip(values, np.asarray(self.lower), np.asarray(self.upper))
        values = np.where(missing, np.asarray(self.median), values)
        flag_index = [self.features.index(f) for f in self.missing_flags]
        flags = missing[:, flag_index].astype(np.float64)
        matrix = np.hstack([values, flags]) if flag_index else values
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

    Returns
    -------
    Preprocessor
        The fitted preprocessing, with the dropped features listed.

    Raises
    ------
    NoUsableFeatureError
        When no feature is left.
    """
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
        use_log = bool(observed.min() >= 0 and _skewness(observed) > skew_threshold)
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
    draft = Preprocessor(
        features=tuple(kept),
        log1p=tuple(params["log1p"]),
        lower=tuple(params["lower"]),
        upper=tuple(params["upper"]),
        median=tuple(params["median"]),
        missing_flags=tuple(flags),
        mean=tuple([0.0] * (len(kept) + len(flags))),
        scale=tuple([1.0] * (len(kept) + len(flags))),
        dropped=tuple(dropped),
    )
    raw = draft.transform(frame)
    mean = raw.mean(axis=0)
    scale = raw.std(axis=0)
    scale[scale == 0] = 1.0
    scale[len(kept) :] = MISSING_FLAG_SCALE
    return Preprocessor(
        features=draft.features,
        log1p=draft.log1p,
        lower=draft.lower,
        upper=draft.upper,
        median=draft.median,
        missing_flags=draft.missing_flags,
        mean=tuple(float(x) for x in mean),
        scale=tuple(float(x) for x in scale),
        dropped=draft.dropped,
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
