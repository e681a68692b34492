"""The ``orders`` and ``order_items`` tables: when each account orders, what, and at what price."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from shopseg.demo._arrays import (
    categorical,
    cents_to_money,
    days_to_seconds,
    group_starts,
    pick,
    spread,
    to_timestamps,
)
from shopseg.demo.interests import interest_led_products
from shopseg.demo.personas import Accounts
from shopseg.demo.products import draw_products
from shopseg.demo.schema import CATEGORIES, ORDER_STATUSES

LATE_SHARE = 0.002  # share of orders (and of events) that arrive after the as-of day

# Per persona (index order as PERSONAS).
_AOV = np.array(
    [[120, 250], [25, 50], [30, 120], [40, 150], [40, 120], [150, 300], [30, 100], [30, 120]],
    dtype=np.float64,
)
_DISCOUNT_P = np.array([0.05, 0.80, 0.10, 0.10, 0.15, 0.10, 0.10, 0.10])
_DISCOUNT_LO = np.array([0.05, 0.15, 0.05, 0.05, 0.10, 0.05, 0.05, 0.05])
_DISCOUNT_HI = np.array([0.15, 0.40, 0.20, 0.20, 0.20, 0.15, 0.20, 0.20])
_RETURN_P = np.array([0.03, 0.15, 0.05, 0.06, 0.05, 0.04, 0.05, 0.06])
_CANCEL_P = 0.03
_STATUS_NULL_P = 0.10


@dataclass
class OrderBook:
    """The order tables, plus the per-order arrays the events are drawn from.

    The arrays are in the account-grouped layout: the orders of account 0 (oldest first, its
    late order last), then those of account 1, and so on.
    """

    orders: pd.DataFrame
    order_items: pd.DataFrame
    products: pd.DataFrame
    rel: np.ndarray  # order time, seconds relative to as_of
    owner: np.ndarray  # account of each order
    ptr: np.ndarray  # account -> offset of its first order
    items: np.ndarray  # order lines (distinct products) per order, before the interests


def draw_orders(
    rng: np.random.Generator,
    accounts: Accounts,
    as_of_s: int,
    interests: np.random.Generator,
) -> OrderBook:
    """Draw every account's orders, their baskets (and the catalogue), discounts and status.

    Parameters
    ----------
    rng : numpy.random.Generator
        The shop's generator, right after the accounts were drawn.
    accounts : Accounts
        Who orders how often and in which window.
    as_of_s : int
        As_of midnight in epoch seconds.
    interests : numpy.random.Generator
        The planted interests' own generator (which lines follow a favourite category), so
        the shop's generator draws the same numbers with or without them.

    Returns
    -------
    OrderBook
        ``orders`` with chronological ids, ``order_items``, ``products``, and the arrays the
        order sessions of the events table need.
    """
    n = accounts.persona.size
    n_ord, lo, hi = accounts.n_orders, accounts.order_lo, accounts.order_hi
    g_ord, g_lo, g_hi = accounts.guest_orders, accounts.guest_lo, accounts.guest_hi
    n_guest = g_ord.size
    acc_persona = accounts.account_persona

    # --- late orders: one extra order after the as-of day for ~0.2% of orders
    n_late = max(1, round(LATE_SHARE * (n_ord.sum() + g_ord.sum())))
    late = np.zeros(n, dtype=np.int64)
    late[rng.choice(n, size=min(n_late, n), replace=False)] = 1

    # --- order times per account (registered 0..n-1, guests n..), customer-grouped layout
    acc_n = np.concatenate((n_ord, g_ord))
    acc_lo = np.concatenate((lo, g_lo))
    acc_hi = np.concatenate((hi, g_hi))
    pos = spread(rng, acc_n, acc_lo, acc_hi, 1.0)
    acc_late = np.concatenate((late, np.zeros(n_guest, dtype=np.int64)))
    tot_n = acc_n + acc_late
    ptr = group_starts(tot_n)
    regular_dest = np.arange(pos.size) + np.repeat(group_starts(acc_late)[:-1], acc_n)
    rel = np.empty(int(tot_n.sum()), dtype=np.int64)
    rel[regular_dest] = -days_to_seconds(pos)
    late_idx = np.flatnonzero(acc_late)
    rel[ptr[late_idx] + acc_n[late_idx]] = days_to_seconds(1 + 13 * rng.random(late_idx.size))
    owner = np.repeat(np.arange(tot_n.size), tot_n)
    n_orders = rel.size

    # --- chronological order ids
    chrono = np.argsort(rel, kind="stable")
    rank = np.empty(n_orders, dtype=np.int64)
    rank[chrono] = np.arange(n_orders)
    c_owner = owner[chrono]
    c_pers = acc_persona[c_owner]

    # --- basket: target gross, items, products
    aov = _AOV[acc_persona, 0] + rng.random(tot_n.size) * (
        _AOV[acc_persona, 1] - _AOV[acc_persona, 0]
    )
    exp_disc = _DISCOUNT_P * (_DISCOUNT_LO + _DISCOUNT_HI) / 2
    target = aov[c_owner] / (1 - exp_disc[c_pers]) * rng.lognormal(0.0, 0.3, n_orders)
    n_items = 1 + np.minimum(rng.poisson(0.9, n_orders), 5)
    it_order = np.repeat(np.arange(n_orders), n_items)
    qty = 1 + pick(rng, (0.80, 0.15, 0.05), it_order.size)
    qty_per_order = np.bincount(it_order, weights=qty, minlength=n_orders)
    it_target = target[it_order] / qty_per_order[it_order] * rng.lognormal(0.0, 0.35, qty.size)

    products, price_cents = draw_products(rng)
    by_price = np.argsort(price_cents, kind="stable")
    log_sorted = np.log(price_cents[by_price] / 100.0)
    j = np.searchsorted(log_sorted, np.log(it_target)) + rng.integers(-2, 3, qty.size)
    prod = by_price[np.clip(j, 0, by_price.size - 1)]
    # the sessions plan their cart adds from the lines the price alone picked, so the events
    # (drawn in blocks whose draws follow their sizes) stay as they are without interests
    plan_lines = np.unique(it_order * by_price.size + prod) // by_price.size
    picked = prod
    prod = interest_led_products(
        interests,
        c_pers[it_order],
        it_target,
        prod,
        products["category"].cat.codes.to_numpy(),
        price_cents,
    )
    # an interest-led line is sold at the price of the product the price picked, so order
    # totals (and every feature drawn from them) are the same with or without interests;
    # a line whose product would meet the same product at another price in its order keeps
    # the price's pick
    line_price = price_cents[picked]
    for _ in range(len(CATEGORIES)):
        key = it_order * by_price.size + prod
        _, inv = np.unique(key, return_inverse=True)
        lo = np.full(inv.max() + 1, np.iinfo(np.int64).max)
        hi = np.full(inv.max() + 1, -1)
        np.minimum.at(lo, inv, line_price)
        np.maximum.at(hi, inv, line_price)
        clash = (lo[inv] != hi[inv]) & (prod != picked)
        if not clash.any():
            break
        prod = np.where(clash, picked, prod)
    # merge duplicate products within an order
    key, first, inv = np.unique(
        it_order * by_price.size + prod, return_index=True, return_inverse=True
    )
    qty = np.bincount(inv, weights=qty).astype(np.int64)
    it_order = key // by_price.size
    prod = key % by_price.size
    unit_cents = line_price[first]
    line_cents = qty * unit_cents
    gross = np.bincount(it_order, weights=line_cents, minlength=n_orders).astype(np.int64)

    # --- discounts and status
    disc_on = rng.random(n_orders) < _DISCOUNT_P[c_pers]
    frac = _DISCOUNT_LO[c_pers] + rng.random(n_orders) * (
        _DISCOUNT_HI[c_pers] - _DISCOUNT_LO[c_pers]
    )
    disc = np.where(disc_on, np.rint(gross * frac).astype(np.int64), 0)
    us = rng.random(n_orders)
    status = np.where(us < _CANCEL_P, 1, np.where(us < _CANCEL_P + _RETURN_P[c_pers], 2, 0))
    # a null status means completed: ~11% of completed orders, ~10% of all orders
    status[(status == 0) & (rng.random(n_orders) < _STATUS_NULL_P / 0.9)] = -1

    orders = pd.DataFrame(
        {
            "order_id": np.arange(1, n_orders + 1, dtype=np.int64),
            "customer_id": c_owner.astype(np.int64) + 1,
            "ordered_at": to_timestamps(rel[chrono], as_of_s),
            "order_total": cents_to_money(gross - disc),
            "discount_amount": np.where(disc_on, cents_to_money(disc), np.nan),
            "status": categorical(status, ORDER_STATUSES),
        }
    )
    order_items = pd.DataFrame(
        {
            "order_id": it_order.astype(np.int64) + 1,
            "product_id": prod.astype(np.int64) + 1,
            "quantity": qty.astype(np.int32),
            "unit_price": cents_to_money(unit_cents),
        }
    )
    return OrderBook(
        orders=orders,
        order_items=order_items,
        products=products,
        rel=rel,
        owner=owner,
        ptr=ptr,
        items=np.bincount(plan_lines, minlength=n_orders)[rank],
    )
