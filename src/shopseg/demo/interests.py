"""Planted interests: which categories each persona prefers, and so where it sits in their prices.

A share of every persona's order lines is interest-led: the line's category is drawn from the
persona's favourite categories and the product is the one of that category whose price is
nearest the line's target price. The other lines keep the product the price alone picked.
Interest-led lines only replace a product when the favourite category has one near the target
price, and are sold at the price of the product the price picked: order totals, and with them
every feature the segmenter reads, are the same with or without interests (measured: letting
the prices follow the new products moved the demo's ARI from 0.868 to 0.79-0.84).

The price position (premium or bargain against a category's median price) follows from the
persona's basket prices within its favourite categories: the big spenders buy the dear end
(price_position_index about 1.4 and 1.7 on the demo), the discount hunters the cheap end
(about 0.8).

Every draw here comes from its own generator (``default_rng([seed, 2])``): the shop's
generator sees exactly the draws it saw without interests, so no other table shifts.
"""

from __future__ import annotations

import numpy as np

from shopseg.demo.schema import CATEGORIES, PERSONAS

# Per persona (index order as PERSONAS): favourite categories with their weights. Personas
# without favourites (prospects never order; guests are anyone) buy by price alone.
FAVOURITE_CATEGORIES: dict[str, dict[str, float]] = {
    "loyal_high_spender": {"electronics": 0.65, "home": 0.35},
    "discount_hunter": {"beauty": 0.6, "grocery": 0.4},
    "browser": {"toys": 0.6, "books": 0.4},
    "one_time_buyer": {"fashion": 0.7, "books": 0.3},
    "new_customer": {"sports": 0.6, "beauty": 0.4},
    "lapsed_big_spender": {"home": 0.6, "electronics": 0.4},
    "registered_prospect": {},
    "guest_buyer": {},
}
INTEREST_SHARE = 0.6  # share of a persona's order lines that are interest-led
MAX_LOG_PRICE_GAP = 0.3  # an interest-led line keeps its product when no favourite is this near

_WEIGHTS = np.array(
    [[FAVOURITE_CATEGORIES[p].get(c, 0.0) for c in CATEGORIES] for p in PERSONAS],
    dtype=np.float64,
)


def favourite_categories(persona: str) -> tuple[str, ...]:
    """Return a persona's planted favourite categories, the most preferred first.

    Parameters
    ----------
    persona : str
        A name from ``PERSONAS``.

    Returns
    -------
    tuple of str
        Its favourite categories by weight (empty for personas without planted interests).
    """
    weights = FAVOURITE_CATEGORIES[persona]
    return tuple(sorted(weights, key=lambda c: -weights[c]))


def interest_led_products(
    rng: np.random.Generator,
    persona: np.ndarray,
    target: np.ndarray,
    product: np.ndarray,
    category: np.ndarray,
    price_cents: np.ndarray,
) -> np.ndarray:
    """Return each order line's product after the planted interests.

    Parameters
    ----------
    rng : numpy.random.Generator
        The interests' own generator.
    persona : ndarray of int
        Persona index of each line's customer.
    target : ndarray of float
        Target unit price of each line, in decimal currency.
    product : ndarray of int
        The product the price alone picked for each line (row index into the catalogue).
    category : ndarray of int
        Category index of every product of the catalogue.
    price_cents : ndarray of int64
        Price of every product of the catalogue, in cents.

    Returns
    -------
    ndarray of int
        Each line's product: a favourite category's product near the target price for
        interest-led lines where one exists, else the given product.
    """
    n = product.size
    has_favourite = _WEIGHTS[persona].sum(axis=1) > 0
    led = (rng.random(n) < INTEREST_SHARE) & has_favourite
    cum = np.cumsum(_WEIGHTS[persona], axis=1)
    total = np.where(cum[:, -1] > 0, cum[:, -1], 1.0)
    want = (cum < (rng.random(n) * total)[:, None]).sum(axis=1)
    want = np.minimum(want, len(CATEGORIES) - 1)
    log_target = np.log(target)
    jitter = rng.integers(-1, 2, n)

    out = product.copy()
    log_price = np.log(price_cents / 100.0)
    for c in range(len(CATEGORIES)):
        rows = np.flatnonzero(led & (want == c))
        members = np.flatnonzero(category == c)
        if rows.size == 0 or members.size == 0:
            continue
        members = members[np.argsort(log_price[members], kind="stable")]
        sorted_log = log_price[members]
        j = np.searchsorted(sorted_log, log_target[rows])
        # the nearer of the two neighbours, then a step to a neighbour for variety
        left = np.clip(j - 1, 0, members.size - 1)
        right = np.clip(j, 0, members.size - 1)
        near = np.where(
            np.abs(sorted_log[left] - log_target[rows])
            <= np.abs(sorted_log[right] - log_target[rows]),
            left,
            right,
        )
        pick = np.clip(near + jitter[rows], 0, members.size - 1)
        close = np.abs(sorted_log[pick] - log_target[rows]) <= MAX_LOG_PRICE_GAP
        out[rows[close]] = members[pick[close]]
    return out
