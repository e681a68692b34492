"""Gamma-Gamma: how much a repeat customer spends per order.

Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves for customer base
analysis", Journal of Marketing Research 42(4), and Fader & Hardie's note "The Gamma-Gamma
model of monetary value" (2013). A customer's order values are Gamma(p, nu) with
``nu ~ Gamma(q, gamma)``; the data per customer is ``x`` repeat orders and their mean
value ``zbar``. Spend is assumed independent of how often the customer orders.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from shopseg.predict._fit import as_float, compress, minimise


@dataclass(frozen=True)
class GammaGamma:
    """Fitted Gamma-Gamma parameters (money in the unit the values were given in)."""

    p: float
    q: float
    gamma: float
    log_likelihood: float = float("nan")  # mean per customer at the optimum
    converged: bool = True


def log_likelihood(params, frequency, mean_value) -> np.ndarray:
    """Log-likelihood of each customer's mean order value ``zbar`` given ``x`` orders.

    Parameters
    ----------
    params : sequence of float
        ``p, q, gamma``.
    frequency, mean_value : array-like
        Repeat orders ``x`` (at least 1) and their mean value ``zbar`` (above 0).

    Returns
    -------
    numpy.ndarray
        One log-likelihood per customer (the density of ``zbar``).
    """
    p, q, gamma = params
    x, z = as_float(frequency), as_float(mean_value)
    px = p * x
    return (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(gamma)
        + (px - 1) * np.log(z)
        + px * np.log(x)
        - (px + q) * np.log(gamma + x * z)
    )


def fit_gamma_gamma(frequency, mean_value, weights=None) -> GammaGamma:
    """Fit Gamma-Gamma by maximum likelihood on the customers with repeat orders.

    Parameters
    ----------
    frequency, mean_value : array-like
        Repeat orders ``x`` and their mean value ``zbar``; rows with ``x == 0`` or
        ``zbar <= 0`` carry no spend information and are left out.
    weights : array-like, optional
        Customers each row stands for.

    Returns
    -------
    GammaGamma
        The estimates, the mean log-likelihood at the optimum and whether the optimiser
        converged.
    """
    x, z = as_float(frequency), as_float(mean_value)
    w = np.ones(len(x)) if weights is None else as_float(weights)
    keep = (x > 0) & (z > 0)
    (x, z), w = compress((x[keep], z[keep]), w[keep])
    if not len(x):
        raise ValueError("shopseg: predict: Gamma-Gamma needs customers with a repeat order")

    def loss(log_params):
        return -np.dot(w, log_likelihood(np.exp(log_params), x, z)) / w.sum()

    start = np.log([1.0, 1.0, float(np.average(z, weights=w))])
    result = minimise(loss, start)
    p, q, gamma = np.exp(result.x)
    return GammaGamma(float(p), float(q), float(gamma), -float(result.fun), result.success)


def expected_order_value(model: GammaGamma, frequency, mean_value) -> np.ndarray:
    """Expected value of each customer's future orders.

    Parameters
    ----------
    model : GammaGamma
        Fitted parameters.
    frequency, mean_value : array-like
        Repeat orders ``x`` and their mean value ``zbar`` (anything for ``x == 0``).

    Returns
    -------
    numpy.ndarray
        ``E[Z | x, zbar]``: a weighted mean of the population's mean ``p gamma / (q - 1)``
        and the customer's own ``zbar``; the population's mean where ``x == 0``. Infinite
        when ``q <= 1`` (the population mean does not exist).
    """
    p, q, gamma = model.p, model.q, model.gamma
    x, z = as_float(frequency), as_float(mean_value)
    z = np.where(x > 0, z, 0.0)
    if q <= 1:
        return np.full_like(x, np.inf)
    return p * (gamma + x * z) / (p * x + q - 1)


__all__ = ["GammaGamma", "expected_order_value", "fit_gamma_gamma", "log_likelihood"]
