"""The ``products`` table: a fixed catalogue of categories with log-uniform prices."""

from __future__ import annotations

import numpy as np
import pandas as pd

from shopseg.demo._arrays import categorical
from shopseg.demo.schema import CATEGORIES

CATEGORY_PRICE = (
    (25.0, 1200.0),
    (12.0, 220.0),
    (8.0, 450.0),
    (4.0, 90.0),
    (10.0, 350.0),
    (6.0, 45.0),
    (5.0, 130.0),
    (1.5, 35.0),
)
PRODUCTS_PER_CATEGORY = 25


def draw_products(rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    """Return the products table and each product's price in cents.

    Parameters
    ----------
    rng : numpy.random.Generator
        The shop's generator, at the point where the order baskets need a catalogue.

    Returns
    -------
    products : pandas.DataFrame
        Columns ``product_id`` and ``category``, ``PRODUCTS_PER_CATEGORY`` per category.
    price_cents : ndarray of int64
        Price of each product (row order), always ending in 99 cents.
    """
    cat = rng.permutation(np.repeat(np.arange(len(CATEGORIES)), PRODUCTS_PER_CATEGORY))
    bounds = np.log(np.array(CATEGORY_PRICE))[cat]
    price = np.exp(bounds[:, 0] + rng.random(cat.size) * (bounds[:, 1] - bounds[:, 0]))
    cents = np.floor(price).astype(np.int64) * 100 + 99
    df = pd.DataFrame(
        {
            "product_id": np.arange(1, cat.size + 1, dtype=np.int64),
            "category": categorical(cat, CATEGORIES),
        }
    )
    return df, cents
