"""Shared numerics of the prediction models: inputs as floats, weighted rows, the optimiser."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize


def as_float(values) -> np.ndarray:
    """A float64 array of ``values`` (scalars become 1-element arrays)."""
    return np.atleast_1d(np.asarray(values, dtype="float64"))


def compress(columns, weights=None) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Identical rows of ``columns`` once, with the customers they stand for as weights.

    Summaries in whole days repeat a lot (every one-order customer of a day is the same
    row), so the likelihood is evaluated on far fewer rows than customers.
    """
    arrays = [as_float(c) for c in columns]
    w = np.ones(len(arrays[0])) if weights is None else as_float(weights)
    if any(len(a) != len(w) for a in arrays):
        raise ValueError("shopseg: predict: summary columns differ in length")
    if np.any(~np.isfinite(np.column_stack([*arrays, w]))):
        raise ValueError("shopseg: predict: summary holds a missing or infinite value")
    frame = pd.DataFrame({f"c{i}": a for i, a in enumerate(arrays)}).assign(w=w)
    grouped = frame.groupby(list(frame.columns[:-1]), sort=True, as_index=False)["w"].sum()
    grouped = grouped[grouped["w"] > 0]
    return tuple(grouped[f"c{i}"].to_numpy() for i in range(len(arrays))), grouped["w"].to_numpy()


def minimise(loss, start) -> optimize.OptimizeResult:
    """Minimise ``loss`` over log-parameters: L-BFGS-B, then Nelder-Mead where it stalls."""

    def safe(log_params):
        if np.any(np.abs(log_params) > 30):  # outside e^+-30 the special functions overflow
            return np.inf
        value = loss(log_params)
        return value if np.isfinite(value) else np.inf

    result = optimize.minimize(safe, start, method="L-BFGS-B", bounds=[(-30, 30)] * len(start))
    if not result.success or not np.isfinite(result.fun):
        polish = optimize.minimize(
            safe,
            result.x,
            method="Nelder-Mead",
            options={"maxiter": 4000, "xatol": 1e-8, "fatol": 1e-12},
        )
        if polish.fun <= result.fun:
            result = polish
    return result
