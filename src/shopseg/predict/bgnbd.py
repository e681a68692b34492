"""BG/NBD: how often a customer orders and whether they are still a customer.

Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative to the
Pareto/NBD model", Marketing Science 24(2). A customer orders as a Poisson process of rate
``lambda ~ Gamma(r, alpha)`` and, after each order, drops out with probability
``p ~ Beta(a, b)``. The data per customer is ``(x, t_x, T)``: repeat orders, time of the last
order and age, both measured from the first order, in any one time unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from shopseg.predict._fit import as_float, compress, minimise


@dataclass(frozen=True)
class BgNbd:
    """Fitted BG/NBD parameters (time in the unit the summary was given in)."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float = float("nan")  # mean per customer at the optimum
    converged: bool = True


def log_likelihood(params, frequency, recency, age) -> np.ndarray:
    """Log-likelihood of each customer's ``(x, t_x, T)`` under BG/NBD.

    Parameters
    ----------
    params : sequence of float
        ``r, alpha, a, b``.
    frequency, recency, age : array-like
        Repeat orders ``x``, time of the last order ``t_x`` and age ``T``.

    Returns
    -------
    numpy.ndarray
        One log-likelihood per customer.
    """
    r, alpha, a, b = params
    x, t_x, t = as_float(frequency), as_float(recency), as_float(age)
    head = (
        special.gammaln(r + x)
        - special.gammaln(r)
        + r * np.log(alpha)
        + special.betaln(a, b + x)
        - special.betaln(a, b)
    )
    survived = -(r + x) * np.log(alpha + t)
    repeat = x > 0
    dropped = np.full_like(x, -np.inf)
    dropped[repeat] = (
        np.log(a) - np.log(b + x[repeat] - 1) - (r + x[repeat]) * np.log(alpha + t_x[repeat])
    )
    return head + np.logaddexp(survived, dropped)


def fit_bgnbd(frequency, recency, age, weights=None) -> BgNbd:
    """Fit BG/NBD by maximum likelihood.

    Parameters
    ----------
    frequency, recency, age : array-like
        Repeat orders ``x``, time of the last order ``t_x`` and age ``T`` per customer.
    weights : array-like, optional
        Customers each row stands for (identical summaries are fitted once).

    Returns
    -------
    BgNbd
        The estimates, the mean log-likelihood at the optimum and whether the optimiser
        converged.
    """
    (x, t_x, t), w = compress((frequency, recency, age), weights)
    if not len(x):
        raise ValueError("shopseg: predict: BG/NBD needs at least one customer")
    if np.any(x < 0) or np.any(t_x < 0) or np.any(t_x > t + 1e-9) or np.any((x == 0) & (t_x > 0)):
        raise ValueError(
            "shopseg: predict: need 0 <= recency <= age, and recency 0 without repeats"
        )

    def loss(log_params):
        return -np.dot(w, log_likelihood(np.exp(log_params), x, t_x, t)) / w.sum()

    scale = float(np.mean(t)) or 1.0  # alpha starts on the data's time scale
    result = minimise(loss, np.log([1.0, scale, 1.0, 1.0]))
    r, alpha, a, b = np.exp(result.x)
    return BgNbd(float(r), float(alpha), float(a), float(b), -float(result.fun), result.success)


def p_alive(model: BgNbd, frequency, recency, age) -> np.ndarray:
    """Probability that each customer is still a customer at age ``T``.

    Parameters
    ----------
    model : BgNbd
        Fitted parameters.
    frequency, recency, age : array-like
        ``x``, ``t_x``, ``T`` per customer.

    Returns
    -------
    numpy.ndarray
        P(alive); 1 for customers without a repeat order (BG/NBD drops out only after one).
    """
    x, t_x, t = as_float(frequency), as_float(recency), as_float(age)
    log_odds = (
        np.log(model.a)
        - np.log(np.maximum(model.b + x - 1, 1e-300))
        + (model.r + x) * (np.log(model.alpha + t) - np.log(model.alpha + t_x))
    )
    return np.where(x > 0, special.expit(-log_odds), 1.0)


def p_no_order(model: BgNbd, frequency, recency, age, horizon) -> np.ndarray:
    """Probability that each customer places no order in ``(T, T + horizon]``.

    The history ``(x, t_x, T)`` followed by no order until ``T + horizon`` is the history
    ``(x, t_x, T + horizon)``, so the probability is the ratio of the two likelihoods.

    Parameters
    ----------
    model : BgNbd
        Fitted parameters.
    frequency, recency, age : array-like
        ``x``, ``t_x``, ``T`` per customer.
    horizon : float
        Length of the horizon, in the summary's time unit.

    Returns
    -------
    numpy.ndarray
        P(no order in the horizon): the churn risk over that horizon.
    """
    params = (model.r, model.alpha, model.a, model.b)
    t = as_float(age)
    later = log_likelihood(params, frequency, recency, t + horizon)
    now = log_likelihood(params, frequency, recency, t)
    return np.clip(np.exp(later - now), 0.0, 1.0)


def expected_orders(model: BgNbd, frequency, recency, age, horizon) -> np.ndarray:
    """Expected orders of each customer in ``(T, T + horizon]``.

    Parameters
    ----------
    model : BgNbd
        Fitted parameters.
    frequency, recency, age : array-like
        ``x``, ``t_x``, ``T`` per customer.
    horizon : float
        Length of the horizon, in the summary's time unit.

    Returns
    -------
    numpy.ndarray
        Conditional expectation (Fader, Hardie & Lee 2005, eq. 10).
    """
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    x, t_x, t = as_float(frequency), as_float(recency), as_float(age)
    z = horizon / (alpha + t + horizon)
    ratio = np.exp((r + x) * (np.log(alpha + t) - np.log(alpha + t + horizon)))
    hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
    numerator = (a + b + x - 1) / (a - 1) * (1 - ratio * hyp)
    return np.maximum(numerator * p_alive(model, x, t_x, t), 0.0)


def expected_orders_new(model: BgNbd, horizon) -> np.ndarray:
    """Expected repeat orders in ``(0, horizon]`` of a customer just acquired.

    Parameters
    ----------
    model : BgNbd
        Fitted parameters.
    horizon : float or array-like
        Time since the first order, in the summary's time unit.

    Returns
    -------
    numpy.ndarray
        ``E[X(t)]`` (Fader, Hardie & Lee 2005, eq. 9).
    """
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    t = as_float(horizon)
    hyp = special.hyp2f1(r, b, a + b - 1, t / (alpha + t))
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp)


def median_time_to_next_order(model: BgNbd, frequency, recency, age) -> np.ndarray:
    """Time from ``T`` by which each customer has even odds of having ordered again.

    A customer alive at ``T`` stays alive until their next order (BG/NBD drops customers
    out only just after an order), and given alive the rate is ``Gamma(r + x, alpha + T)``,
    so ``P(no order by T + s) = 1 - p_alive + p_alive * ((alpha + T) / (alpha + T + s)) **
    (r + x)``. This is the ``s`` where that probability is 1/2: the median of the time to
    the next order, counting a customer who dropped out as never ordering.

    Parameters
    ----------
    model : BgNbd
        Fitted parameters.
    frequency, recency, age : array-like
        ``x``, ``t_x``, ``T`` per customer.

    Returns
    -------
    numpy.ndarray
        The median, in the summary's time unit; infinite where ``p_alive <= 1/2`` (the odds
        of ever ordering again are not even).
    """
    x, t = as_float(frequency), as_float(age)
    alive = p_alive(model, frequency, recency, age)
    with np.errstate(divide="ignore", invalid="ignore"):
        survive = np.where(alive > 0.5, 1.0 - 0.5 / alive, np.nan)  # ((a+T)/(a+T+s))^(r+x)
        median = (model.alpha + t) * np.expm1(-np.log(survive) / (model.r + x))
    return np.where(alive > 0.5, median, np.inf)


__all__ = [
    "BgNbd",
    "expected_orders",
    "expected_orders_new",
    "fit_bgnbd",
    "log_likelihood",
    "median_time_to_next_order",
    "p_alive",
    "p_no_order",
]
