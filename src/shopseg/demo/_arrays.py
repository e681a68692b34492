"""Vectorised helpers of the demo generator: groups of consecutive rows, draws, conversions."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

DAY = 86_400  # seconds


def group_starts(counts: np.ndarray) -> np.ndarray:
    """Return the exclusive cumulative sum (group start offsets) of group sizes.

    Parameters
    ----------
    counts : ndarray of int
        Size of each group of consecutive rows.

    Returns
    -------
    ndarray of int64, shape (len(counts) + 1,)
        Offset of each group's first row, then the total row count.
    """
    out = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=out[1:])
    return out


def group_rank(counts: np.ndarray) -> np.ndarray:
    """Return each row's position within its group for consecutive groups of given sizes.

    Parameters
    ----------
    counts : ndarray of int
        Size of each group of consecutive rows.

    Returns
    -------
    ndarray of int64, shape (counts.sum(),)
        0 for the first row of every group, 1 for the second, and so on.
    """
    total = int(counts.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(group_starts(counts)[:-1], counts)


def group_cumsum(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Return the inclusive cumulative sum of values restarted at every group.

    Parameters
    ----------
    values : ndarray
        One value per row.
    counts : ndarray of int
        Size of each group of consecutive rows; sums to ``len(values)``.

    Returns
    -------
    ndarray
        The running total of ``values`` within each group.
    """
    cs = np.cumsum(values)
    base = np.concatenate((np.zeros(1, dtype=cs.dtype), cs))[group_starts(counts)[:-1]]
    return cs - np.repeat(base, counts)


def pick_rows(rng: np.random.Generator, cum: np.ndarray) -> np.ndarray:
    """Draw one category per row of a matrix of cumulative probabilities (last column 1).

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the one uniform drawn per row.
    cum : ndarray of shape (n_rows, n_categories)
        Cumulative probabilities of each row.

    Returns
    -------
    ndarray of int, shape (n_rows,)
        The category index drawn for each row.
    """
    u = rng.random(cum.shape[0])
    return (u[:, None] >= cum[:, :-1]).sum(axis=1)


def pick(rng: np.random.Generator, p: Iterable[float], size: int) -> np.ndarray:
    """Draw ``size`` categories from one probability vector (leftover mass gives -1).

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the ``size`` uniforms.
    p : iterable of float
        Probability of each category; when it sums to less than 1 the rest means null.
    size : int
        Number of draws.

    Returns
    -------
    ndarray of int, shape (size,)
        Category indices, -1 for a null.
    """
    cum = np.cumsum(np.asarray(tuple(p), dtype=np.float64))
    idx = np.searchsorted(cum, rng.random(size), side="right")
    return np.where(idx >= cum.size, -1, idx)


def spread(
    rng: np.random.Generator, n: np.ndarray, lo: np.ndarray, hi: np.ndarray, gap: float
) -> np.ndarray:
    """Return days-before-as_of positions, oldest first, of n[i] points spread over [lo, hi].

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the exponential gaps (and of one uniform per single point).
    n : ndarray of int
        Number of points of each owner.
    lo, hi : ndarray of float
        Each owner's window, in days before as_of (``lo <= hi``).
    gap : float
        Smallest distance in days between two points of one owner.

    Returns
    -------
    ndarray of float, shape (n.sum(),)
        The points of owner 0, then owner 1, ..., each owner's oldest first.
    """
    owner = np.repeat(np.arange(n.size), n)
    k = group_rank(n)
    n_o = n[owner]
    e = rng.exponential(size=owner.size)
    e[k == 0] = 0.0
    cum = group_cumsum(e, n)
    last = group_starts(n)[1:] - 1
    tot = cum[last][owner] if owner.size else cum
    frac = np.divide(cum, tot, out=np.zeros_like(cum), where=tot > 0)
    span = hi[owner] - lo[owner]
    pos = hi[owner] - k * gap - frac * (span - (n_o - 1) * gap)
    single = n_o == 1
    pos[single] = lo[owner][single] + rng.random(int(single.sum())) * span[single]
    return pos


def days_to_seconds(days: np.ndarray) -> np.ndarray:
    """Convert (negative = past) day offsets to whole seconds.

    Parameters
    ----------
    days : ndarray of float
        Offsets in days.

    Returns
    -------
    ndarray of int64
        The offsets rounded to whole seconds.
    """
    return np.rint(days * DAY).astype(np.int64)


def to_timestamps(rel: np.ndarray, as_of_s: int) -> np.ndarray:
    """Convert seconds relative to as_of to datetime64[us].

    Parameters
    ----------
    rel : ndarray of int64
        Seconds after (positive) or before (negative) as_of midnight.
    as_of_s : int
        As_of midnight in epoch seconds.

    Returns
    -------
    ndarray of datetime64[us]
        The timestamps.
    """
    return ((rel + as_of_s) * 1_000_000).view("M8[us]")


def cents_to_money(x: np.ndarray) -> np.ndarray:
    """Convert integer cents to 2-decimal floats.

    Parameters
    ----------
    x : ndarray of int
        Amounts in cents.

    Returns
    -------
    ndarray of float64
        The amounts in currency units, rounded to cents.
    """
    return np.round(x / 100.0, 2)


def categorical(codes: np.ndarray, categories: Iterable[str]) -> pd.Categorical:
    """Build a categorical from int codes (-1 = null) and a fixed vocabulary.

    Parameters
    ----------
    codes : ndarray of int
        Index into ``categories`` per row, -1 for null.
    categories : iterable of str
        The vocabulary, in code order.

    Returns
    -------
    pandas.Categorical
        The values, with every category of the vocabulary (used or not).
    """
    return pd.Categorical.from_codes(codes.astype(np.int8), categories=list(categories))
