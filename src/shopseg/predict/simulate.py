"""Customer histories drawn from BG/NBD: a known truth for tests and timings."""

from __future__ import annotations

import numpy as np
import pandas as pd

from shopseg.predict.bgnbd import BgNbd


def simulate_bgnbd(model: BgNbd, ages, random_state: int = 0) -> pd.DataFrame:
    """Draw one ``(x, t_x, T)`` history per age from a BG/NBD population.

    Parameters
    ----------
    model : BgNbd
        The population's parameters.
    ages : array-like
        Each customer's age ``T`` (time since the first order).
    random_state : int
        Seed; the same seed gives the same histories.

    Returns
    -------
    pandas.DataFrame
        ``frequency`` (repeat orders), ``recency`` (time of the last order) and ``age``.
    """
    rng = np.random.default_rng(random_state)
    age = np.asarray(ages, dtype="float64")
    n = len(age)
    rate = rng.gamma(model.r, 1.0 / model.alpha, n)
    drop = rng.beta(model.a, model.b, n)
    frequency = np.zeros(n, dtype="int64")
    recency = np.zeros(n)
    clock = np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        clock[idx] += rng.exponential(1.0, len(idx)) / np.maximum(rate[idx], 1e-300)
        ordered = clock[idx] <= age[idx]
        hit = idx[ordered]
        frequency[hit] += 1
        recency[hit] = clock[hit]
        active[idx[~ordered]] = False
        active[hit] = rng.random(len(hit)) >= drop[hit]  # dropped out after this order
    return pd.DataFrame({"frequency": frequency, "recency": recency, "age": age})
