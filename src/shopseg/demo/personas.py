"""Accounts and their planted personas: who orders how often, when, and when they signed up.

This is the ``truth/personas`` table and the first draws of a shop: every other table is
drawn from these accounts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from shopseg.demo._arrays import categorical, pick
from shopseg.demo.schema import (
    BROWSER,
    GUEST,
    HUNTER,
    LAPSED,
    LOYAL,
    NEW,
    ONE_TIME,
    PERSONAS,
    PROSPECT,
)

PERSONA_SHARES = (0.12, 0.15, 0.18, 0.18, 0.12, 0.10, 0.15)  # registered personas only


@dataclass
class Accounts:
    """Registered customers (accounts ``0..n-1``) and guests (after them), with their windows.

    Windows and sign-up are in days before as_of.
    """

    persona: np.ndarray  # per registered customer, an index into PERSONAS
    uniforms: np.ndarray  # (n, 6) uniforms per registered customer; columns 4, 5 set the age
    n_orders: np.ndarray  # regular orders per registered customer
    order_lo: np.ndarray  # window of those orders
    order_hi: np.ndarray
    signup: np.ndarray
    guest_orders: np.ndarray  # orders per guest
    guest_lo: np.ndarray
    guest_hi: np.ndarray

    @property
    def account_persona(self) -> np.ndarray:
        """Return the persona of every account, guests included."""
        return np.concatenate((self.persona, np.full(self.guest_orders.size, GUEST)))


def draw_accounts(rng: np.random.Generator, n: int) -> Accounts:
    """Draw the personas, order windows and sign-up days of n customers, then the guests.

    Parameters
    ----------
    rng : numpy.random.Generator
        The shop's generator; this is its first use.
    n : int
        Registered customers.

    Returns
    -------
    Accounts
        The registered customers with exact persona shares (largest remainder, shuffled)
        and about 1% of all orders placed by guests.
    """
    # --- personas with exact shares (largest remainder), shuffled
    raw = np.array(PERSONA_SHARES) * n
    counts = np.floor(raw).astype(np.int64)
    counts[np.argsort(-(raw - counts), kind="stable")[: n - counts.sum()]] += 1
    persona = rng.permutation(np.repeat(np.arange(7), counts))

    u = rng.random((n, 6))  # generic uniforms per customer
    # --- number of orders and their window (days before as_of), signup
    n_ord = np.zeros(n, dtype=np.int64)
    lo = np.zeros(n)
    hi = np.zeros(n)
    signup = np.zeros(n)
    is_ = [persona == p for p in range(7)]

    m = is_[LOYAL]
    n_ord[m] = 8 + np.floor(18 * u[m, 0] ** 2)
    lo[m] = 0.05 + 29.95 * u[m, 1]
    hi[m] = 400 + 330 * u[m, 2]
    signup[m] = hi[m] + 0.5 + 300 * u[m, 3]

    m = is_[HUNTER]
    n_ord[m] = 4 + np.floor(7 * u[m, 0] ** 1.5)
    lo[m] = 20 + 100 * u[m, 1]
    hi[m] = 300 + 400 * u[m, 2]
    signup[m] = hi[m] + 0.5 + 300 * u[m, 3]

    m = is_[BROWSER]
    n_ord[m] = u[m, 0] < 0.15
    signup[m] = 30 + 870 * u[m, 3]
    lo[m] = hi[m] = 10 + u[m, 1] * (np.minimum(signup[m] - 0.5, 300) - 10)

    m = is_[ONE_TIME]
    n_ord[m] = 1
    lo[m] = hi[m] = 120 + 380 * u[m, 1]
    signup[m] = hi[m] + 0.5 + 15 * -np.log1p(-u[m, 3])

    m = is_[NEW]
    signup[m] = 1 + 29 * u[m, 3]
    room = signup[m] - 0.55
    lo[m] = 0.05 + 0.3 * room * u[m, 1]
    hi[m] = signup[m] - 0.5 - 0.3 * room * u[m, 2]
    n_ord[m] = np.where((u[m, 0] < 0.5) & (hi[m] - lo[m] >= 1.0), 2, 1)

    m = is_[LAPSED]
    n_ord[m] = 5 + np.floor(11 * u[m, 0] ** 2)
    lo[m] = 300 + 400 * u[m, 1]
    hi[m] = lo[m] + 200 + 400 * u[m, 2]
    signup[m] = hi[m] + 0.5 + 300 * u[m, 3]

    m = is_[PROSPECT]
    signup[m] = 1 + 999 * u[m, 3]

    # --- guests: ~1% of all orders, 1-3 orders each
    n_guest = max(1, round(0.01 / 0.99 * n_ord.sum() / 1.5))
    g_ord = 1 + pick(rng, (0.6, 0.3, 0.1), n_guest)
    g_lo = 0.05 + 400 * rng.random(n_guest)
    g_hi = g_lo + 3 + 500 * rng.random(n_guest)
    return Accounts(
        persona=persona,
        uniforms=u,
        n_orders=n_ord,
        order_lo=lo,
        order_hi=hi,
        signup=signup,
        guest_orders=g_ord,
        guest_lo=g_lo,
        guest_hi=g_hi,
    )


def personas_table(accounts: Accounts) -> pd.DataFrame:
    """Return the truth table: the planted persona of every account.

    Parameters
    ----------
    accounts : Accounts
        The shop's accounts.

    Returns
    -------
    pandas.DataFrame
        Columns ``customer_id`` (guests after the registered customers) and ``persona``.
    """
    persona = accounts.account_persona
    return pd.DataFrame(
        {
            "customer_id": np.arange(1, persona.size + 1, dtype=np.int64),
            "persona": categorical(persona, PERSONAS),
        }
    )
