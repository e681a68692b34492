"""Evaluation shops: synthetic families with planted personas, written apart from the demo.

Each family describes a different kind of shop (a grocer, a fashion label, an electronics
store) with its own personas; one engine turns a family's persona table into the five
contract tables plus the truth (`personas`: customer_id, persona). Every family plants:
one persona at 3% of customers, lognormal/Pareto spend, features correlated through two
latent traits per customer (wealth, engagement), customers who never order, and 10% noise
customers (persona `noise`) whose every parameter is drawn on its own, belonging to no
persona. Same family, customers and seed: same tables.

Interests are planted too: each ordering persona prefers its favourite categories (a
preference vector, the rest of it drawn from the family's seed; each customer's own drawn
around it), and some buy the dear or the cheap end of a category (`price_position`). Each
category holds a ladder of products, the dearer a product the more a line of it costs; noise
customers pick products uniformly. The interests have their own generator, so customers,
events, order counts and times are the draws they would be without them; order values move
only by the price ladder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

NOISE = "noise"
NOISE_SHARE = 0.10
AS_OF = np.datetime64("2025-12-31T00:00:00", "s")
_DAY = 86_400
CHANNELS = ("organic", "paid_search", "social", "email", "referral")
COUNTRIES = ("DE", "FR", "GB", "US", "ES", "IT", "NL", "PL")
GENDERS = ("female", "male", "non-binary")
# Planted interests. A persona's category preference: its favourites take these weights (one
# favourite: the first; two: both), the rest of the mass follows a background preference drawn
# from Dirichlet(BACKGROUND_ALPHA) with the family's seed; each customer's own preference is
# drawn from Dirichlet(CUSTOMER_CONCENTRATION * the persona's).
FAVOURITE_WEIGHTS = (0.45, 0.25)
BACKGROUND_ALPHA = 1.0
CUSTOMER_CONCENTRATION = 25.0
# A category's products form a price ladder (product 1 the cheapest): a line of the ladder's
# step t costs PRICE_STEP ** t times the cheapest, scaled so that a uniform pick costs the
# line's budget on average. A persona's price_position p tilts its pick: step t's odds are
# exp(PRICE_TILT * p * z), z from -1 (the cheapest) to 1 (the dearest).
PRODUCTS_PER_CATEGORY = 10
PRICE_STEP = 1.08
PRICE_TILT = 1.5


@dataclass(frozen=True)
class Persona:
    """How one kind of customer behaves; spans are (low, high) days before the as-of time."""

    name: str
    share: float  # of all customers
    orders: float  # mean orders; 0 = never orders
    aov: tuple[float, float]  # lognormal median and sigma of the order value
    discount_p: float  # chance an order is discounted
    recency: tuple[int, int]  # days since the last activity
    tenure: tuple[int, int]  # days since sign-up
    browse_sessions: float = 0.0  # mean sessions without an order (events families only)
    views: float = 3.0  # mean product views per session
    cart_p: float = 0.1  # chance a browse session puts something in the cart
    age: tuple[float, float] = (40.0, 10.0)  # mean, sd
    income: tuple[float, float] = (50_000.0, 0.35)  # lognormal median, sigma
    heavy_orders: bool = False  # Pareto order counts instead of negative binomial
    return_p: float = 0.03
    # planted interests: the favourite categories, most preferred first (none: buys by the
    # family's background preference alone), and where in a category's prices the persona
    # buys, -1 (the cheapest products) to 1 (the dearest); 0 = no preference
    favourites: tuple[str, ...] = ()
    price_position: float = 0.0


@dataclass(frozen=True)
class Family:
    """A kind of shop: its personas and which optional tables it has."""

    name: str
    description: str
    personas: tuple[Persona, ...]
    categories: tuple[str, ...]
    has_events: bool = True
    has_demographics: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        for persona in self.personas:
            unknown = set(persona.favourites) - set(self.categories)
            if unknown or len(persona.favourites) > len(FAVOURITE_WEIGHTS):
                raise ValueError(f"{self.name}: {persona.name}'s favourites {persona.favourites}")

    @property
    def persona_names(self) -> tuple[str, ...]:
        """The planted personas (noise not included)."""
        return tuple(p.name for p in self.personas)


GROCERY = Family(
    name="grocery",
    description="weekly-delivery grocer, with events and demographics",
    categories=("produce", "dairy", "bakery", "pantry", "frozen", "drinks", "household"),
    seed=1101,
    personas=(
        Persona(
            "weekly_family",
            0.22,
            18,
            (85, 0.30),
            0.15,
            (0, 10),
            (300, 900),
            4,
            4,
            0.3,
            (38, 7),
            (60_000, 0.30),
            favourites=("dairy", "produce"),
        ),
        Persona(
            "premium_foodie",
            0.12,
            6,
            (170, 0.40),
            0.03,
            (5, 60),
            (200, 1000),
            8,
            8,
            0.2,
            (46, 9),
            (115_000, 0.30),
            favourites=("bakery", "drinks"),  # artisan bread and wine
            price_position=1.0,
        ),
        Persona(
            "coupon_stockpiler",
            0.16,
            8,
            (110, 0.35),
            0.90,
            (10, 90),
            (150, 900),
            5,
            10,
            0.3,
            (41, 12),
            (40_000, 0.30),
            favourites=("pantry", "household"),  # shelf-stable goods, stocked up on offer
            price_position=-1.0,
        ),
        Persona(
            "trial_dropout",
            0.17,
            1.3,
            (45, 0.30),
            0.60,
            (200, 700),
            (200, 900),
            0.5,
            2,
            0.1,
            (31, 8),
            (45_000, 0.35),
            favourites=("frozen",),  # tried the ready meals
        ),
        Persona(
            "recipe_browser",
            0.12,
            0,
            (1, 0.1),
            0.0,
            (0, 40),
            (30, 600),
            10,
            6,
            0.05,
            (28, 6),
            (35_000, 0.35),
        ),
        Persona(
            "office_bulk",
            0.03,
            25,
            (600, 0.50),
            0.10,
            (0, 14),
            (400, 1000),
            2,
            15,
            0.5,
            (43, 8),
            (150_000, 0.30),
            heavy_orders=True,
            favourites=("drinks", "household"),  # the office's coffee, water and supplies
        ),
        Persona(
            "new_household",
            0.08,
            2,
            (70, 0.30),
            0.40,
            (0, 20),
            (0, 30),
            3,
            4,
            0.3,
            (33, 6),
            (55_000, 0.30),
            favourites=("household", "pantry"),  # setting up a home
        ),
    ),
)

FASHION = Family(
    name="fashion_no_events",
    description="apparel label selling online, no events table (orders and demographics)",
    categories=("tops", "denim", "dresses", "shoes", "outerwear", "accessories"),
    has_events=False,
    seed=2202,
    personas=(
        Persona(
            "full_price_regular",
            0.20,
            7,
            (140, 0.35),
            0.05,
            (10, 90),
            (400, 1500),
            age=(36, 8),
            income=(75_000, 0.30),
            return_p=0.10,
            favourites=("tops", "dresses"),
            price_position=0.5,
        ),
        Persona(
            "sale_chaser",
            0.20,
            6,
            (60, 0.35),
            0.95,
            (5, 120),
            (200, 1200),
            age=(27, 6),
            income=(38_000, 0.30),
            return_p=0.20,
            favourites=("shoes", "denim"),
            price_position=-1.0,
        ),
        Persona(
            "luxury_collector",
            0.03,
            4,
            (1500, 0.60),
            0.0,
            (20, 200),
            (800, 2000),
            age=(52, 8),
            income=(250_000, 0.40),
            heavy_orders=True,
            favourites=("outerwear", "accessories"),  # coats and bags
            price_position=1.0,
        ),
        Persona(
            "one_season",
            0.20,
            1.2,
            (80, 0.35),
            0.30,
            (300, 900),
            (300, 1200),
            age=(33, 10),
            income=(50_000, 0.35),
            favourites=("dresses",),  # one occasion's dress
        ),
        Persona(
            "signed_up_never_bought",
            0.15,
            0,
            (1, 0.1),
            0.0,
            (0, 900),
            (0, 900),
            age=(24, 5),
            income=(30_000, 0.35),
        ),
        Persona(
            "lapsed_loyal",
            0.12,
            9,
            (120, 0.35),
            0.10,
            (400, 800),
            (900, 1800),
            age=(48, 10),
            income=(70_000, 0.30),
            favourites=("denim", "tops"),
        ),
    ),
)

ELECTRONICS = Family(
    name="electronics_no_demographics",
    description="electronics store with events; customers table holds ids and sign-up only",
    categories=("phones", "laptops", "audio", "gaming", "cables", "smart_home", "cameras"),
    has_demographics=False,
    seed=3303,
    personas=(
        Persona(
            "deep_researcher",
            0.18,
            1.5,
            (450, 0.60),
            0.10,
            (10, 120),
            (100, 900),
            14,
            12,
            0.3,
            favourites=("laptops", "cameras"),  # researched, then the better model
            price_position=1.0,
        ),
        Persona(
            "accessory_repeat",
            0.17,
            9,
            (35, 0.40),
            0.10,
            (0, 45),
            (200, 1200),
            2,
            3,
            0.2,
            favourites=("cables", "audio"),
        ),
        Persona(
            "deal_watcher",
            0.15,
            4,
            (150, 0.45),
            0.85,
            (0, 60),
            (100, 1000),
            8,
            6,
            0.4,
            favourites=("gaming", "audio"),
            price_position=-1.0,
        ),
        Persona("window_shopper", 0.17, 0, (1, 0.1), 0.0, (0, 90), (10, 800), 6, 5, 0.6),
        Persona(
            "reseller",
            0.03,
            35,
            (2500, 0.50),
            0.30,
            (0, 7),
            (500, 1500),
            4,
            30,
            0.8,
            heavy_orders=True,
            favourites=("phones",),  # resells handsets
        ),
        Persona(
            "dormant_owner",
            0.12,
            2,
            (200, 0.45),
            0.10,
            (365, 1000),
            (400, 1400),
            1,
            3,
            0.1,
            favourites=("smart_home", "phones"),
        ),
        Persona(
            "fresh_signup",
            0.08,
            1,
            (120, 0.40),
            0.30,
            (0, 20),
            (0, 25),
            5,
            5,
            0.3,
            favourites=("audio", "phones"),
        ),
    ),
)

FAMILIES: dict[str, Family] = {f.name: f for f in (GROCERY, FASHION, ELECTRONICS)}


def _counts(shares: np.ndarray, n: int) -> np.ndarray:
    """Whole counts summing to n in these shares (largest remainder)."""
    raw = shares / shares.sum() * n
    counts = np.floor(raw).astype(np.int64)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return counts


def _uniform(rng: np.random.Generator, span: np.ndarray) -> np.ndarray:
    """One uniform draw per row between span[:, 0] and span[:, 1]."""
    return span[:, 0] + rng.random(len(span)) * (span[:, 1] - span[:, 0])


def _params(family: Family, n: int, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """Persona code per customer (-1 = noise) and the per-customer behaviour parameters."""
    shares = np.array([p.share for p in family.personas] + [NOISE_SHARE])
    counts = _counts(shares, n)
    code = rng.permutation(np.repeat(np.arange(len(shares)), counts))
    code[code == len(family.personas)] = -1
    table = {
        "orders": [p.orders for p in family.personas],
        "aov_median": [p.aov[0] for p in family.personas],
        "aov_sigma": [p.aov[1] for p in family.personas],
        "discount_p": [p.discount_p for p in family.personas],
        "browse": [p.browse_sessions for p in family.personas],
        "views": [p.views for p in family.personas],
        "cart_p": [p.cart_p for p in family.personas],
        "age_mean": [p.age[0] for p in family.personas],
        "age_sd": [p.age[1] for p in family.personas],
        "income_median": [p.income[0] for p in family.personas],
        "income_sigma": [p.income[1] for p in family.personas],
        "heavy": [p.heavy_orders for p in family.personas],
        "return_p": [p.return_p for p in family.personas],
    }
    safe = np.where(code < 0, 0, code)
    par = {k: np.asarray(v)[safe].astype(np.float64) for k, v in table.items()}
    rec = np.array([p.recency for p in family.personas], dtype=np.float64)[safe]
    ten = np.array([p.tenure for p in family.personas], dtype=np.float64)[safe]
    par["recency"] = _uniform(rng, rec)
    par["tenure"] = _uniform(rng, ten)
    noise = code < 0
    m = int(noise.sum())
    # noise: every parameter on its own, over the whole range any persona could have
    par["orders"][noise] = np.where(rng.random(m) < 0.2, 0.0, rng.uniform(1, 15, m))
    par["aov_median"][noise] = np.exp(rng.uniform(np.log(15), np.log(800), m))
    par["aov_sigma"][noise] = rng.uniform(0.2, 0.8, m)
    par["discount_p"][noise] = rng.random(m)
    par["browse"][noise] = rng.uniform(0, 12, m)
    par["views"][noise] = rng.uniform(1, 12, m)
    par["cart_p"][noise] = rng.random(m) * 0.6
    par["age_mean"][noise] = rng.uniform(20, 70, m)
    par["age_sd"][noise] = 1.0
    par["income_median"][noise] = np.exp(rng.uniform(np.log(20_000), np.log(200_000), m))
    par["income_sigma"][noise] = 0.1
    par["heavy"][noise] = 0.0
    par["return_p"][noise] = rng.random(m) * 0.2
    par["recency"][noise] = rng.uniform(0, 900, m)
    par["tenure"][noise] = rng.uniform(0, 1500, m)
    par["tenure"] = np.maximum(par["tenure"], par["recency"] + 1 + rng.uniform(0, 60, n))
    return code, par


def category_preferences(family: Family, seed: int | None = None) -> np.ndarray:
    """Return each persona's planted preference over the family's categories.

    Parameters
    ----------
    family : Family
        The kind of shop.
    seed : int, optional
        Seed of the background preferences; default the family's own.

    Returns
    -------
    numpy.ndarray
        One row per persona (``family.personas`` order), one column per category; each row
        sums to 1, its favourites weighted ``FAVOURITE_WEIGHTS``.
    """
    rng = np.random.default_rng([family.seed if seed is None else seed, 18])
    n_cat = len(family.categories)
    rows = []
    for persona in family.personas:
        background = rng.dirichlet(np.full(n_cat, BACKGROUND_ALPHA))
        favourite = np.zeros(n_cat)
        for name, weight in zip(persona.favourites, FAVOURITE_WEIGHTS, strict=False):
            favourite[family.categories.index(name)] = weight
        rows.append(favourite + (1.0 - favourite.sum()) * background)
    return np.array(rows)


def price_factors() -> np.ndarray:
    """What a line of each step of a category's price ladder costs, per unit of its budget."""
    factors = PRICE_STEP ** np.arange(PRODUCTS_PER_CATEGORY, dtype=np.float64)
    return factors / factors.mean()


def _interest_products(
    rng: np.random.Generator,
    family: Family,
    preferences: np.ndarray,
    code: np.ndarray,
    line_customer: np.ndarray,
    uniform_product: np.ndarray,
) -> np.ndarray:
    """Each order line's product (1-based): a persona customer's from its interests.

    Noise customers keep ``uniform_product``; a persona customer's line takes a category from
    the customer's own preference (Dirichlet around the persona's) and a step of the
    category's price ladder tilted by the persona's price_position.
    """
    n_cat, steps = len(family.categories), PRODUCTS_PER_CATEGORY
    safe = np.where(code < 0, 0, code)
    shape = CUSTOMER_CONCENTRATION * preferences[safe]
    own = rng.gamma(shape)
    own /= own.sum(axis=1, keepdims=True)
    pref = own[line_customer]
    category = (np.cumsum(pref, axis=1) < rng.random(len(pref))[:, None]).sum(axis=1)
    category = np.minimum(category, n_cat - 1)
    position = np.array([p.price_position for p in family.personas])[safe][line_customer]
    z = np.linspace(-1.0, 1.0, steps)
    odds = np.exp(PRICE_TILT * position[:, None] * z[None, :])
    cum = np.cumsum(odds, axis=1)
    step = (cum < (rng.random(len(cum)) * cum[:, -1])[:, None]).sum(axis=1)
    step = np.minimum(step, steps - 1)
    planted = 1 + category * steps + step
    return np.where(code[line_customer] < 0, uniform_product, planted)


def _order_counts(rng: np.random.Generator, par: dict, engagement: np.ndarray) -> np.ndarray:
    """Orders per customer: negative binomial (or Pareto) around the persona's mean."""
    n = len(engagement)
    mean = par["orders"] * np.exp(0.35 * engagement)
    extra = np.maximum(mean - 1.0, 1e-9)
    r = 1.5
    nb = rng.negative_binomial(r, r / (r + extra))
    pareto = np.floor(extra * (rng.pareto(2.2, n) * 1.2)).astype(np.int64)
    counts = 1 + np.where(par["heavy"] > 0, pareto, nb)
    return np.where(par["orders"] > 0, np.minimum(counts, 400), 0)


def _times(rng: np.random.Generator, last: np.ndarray, first: np.ndarray, counts: np.ndarray):
    """`counts[i]` moments (days ago) per customer i: one at last[i], the rest up to first[i]."""
    owner = np.repeat(np.arange(len(counts)), counts)
    days = last[owner] + rng.random(len(owner)) * (first[owner] - last[owner])
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    has = counts > 0
    days[starts[has]] = last[has]
    return owner, days


def _stamp(days_ago: np.ndarray) -> np.ndarray:
    """Timestamps (microseconds, UTC) this many days before the as-of time."""
    return (AS_OF - (days_ago * _DAY).astype("timedelta64[s]")).astype("datetime64[us]")


def generate_family(family: Family, customers: int = 5000, seed: int | None = None) -> dict:
    """Generate a family's shop: its contract tables plus the ``personas`` truth.

    Parameters
    ----------
    family : Family
        The kind of shop (personas, optional tables).
    customers : int, default 5000
        Customers of the shop.
    seed : int, optional
        Seed of the draws; default the family's own.

    Returns
    -------
    dict of str to pandas.DataFrame
        The contract tables the family has (of the five) and ``personas``.
    """
    rng = np.random.default_rng([family.seed if seed is None else seed, customers])
    n = customers
    code, par = _params(family, n, rng)
    wealth, engagement = rng.standard_normal(n), rng.standard_normal(n)
    ids = 100_000 + rng.permutation(n) * 7 + 3  # not 1..n, not in id order of personas
    names = np.array([*family.persona_names, NOISE])
    personas = pd.DataFrame({"customer_id": ids, "persona": names[code]})

    # customers: sign-up, and demographics correlated with wealth
    signup = _stamp(par["tenure"])
    customers_df = pd.DataFrame({"customer_id": ids, "signup_at": signup})
    if family.has_demographics:
        age = par["age_mean"] + par["age_sd"] * (0.4 * wealth + 0.9 * rng.standard_normal(n))
        income = par["income_median"] * np.exp(
            par["income_sigma"] * (0.8 * wealth + 0.6 * rng.standard_normal(n))
        )
        customers_df["birth_year"] = (2025 - np.clip(age, 16, 90)).round().astype(np.int64)
        customers_df["gender"] = np.array(GENDERS)[rng.choice(3, n, p=[0.5, 0.46, 0.04])]
        customers_df["country"] = np.array(COUNTRIES)[rng.integers(0, len(COUNTRIES), n)]
        customers_df["income"] = income.round(-2)
        customers_df["acquisition_channel"] = np.array(CHANNELS)[rng.integers(0, len(CHANNELS), n)]

    # orders: days between the last activity and a first active day after sign-up
    n_orders = _order_counts(rng, par, engagement)
    first = par["recency"] + (par["tenure"] - par["recency"]) * rng.uniform(0.5, 1.0, n)
    owner, order_days = _times(rng, par["recency"], first, n_orders)
    m = len(owner)
    aov = par["aov_median"] * np.exp(
        par["aov_sigma"] * (0.6 * wealth + 0.8 * rng.standard_normal(n))
    )
    gross_target = aov[owner] * np.exp(0.3 * rng.standard_normal(m))

    # order items over the family's products; the order's value is what its items add up to
    n_cat, steps = len(family.categories), PRODUCTS_PER_CATEGORY
    products = pd.DataFrame(
        {
            "product_id": np.arange(1, steps * n_cat + 1),
            "category": np.repeat(np.array(family.categories), steps),
        }
    )
    items_per_order = 1 + np.minimum(rng.poisson(1.2, m), 7)
    item_order = np.repeat(np.arange(m), items_per_order)
    weight = rng.gamma(2.0, 1.0, len(item_order))
    starts = np.concatenate([[0], np.cumsum(items_per_order)[:-1]])
    weight = weight / np.add.reduceat(weight, starts)[item_order]
    quantity = 1 + rng.poisson(0.3, len(item_order))
    # the shop's generator draws in the order it always has (the products last)
    discounted = rng.random(m) < par["discount_p"][owner]
    discount_rate = rng.uniform(0.1, 0.35, m)
    returned = rng.random(m) < par["return_p"][owner]
    cancelled = rng.random(m) < 0.02
    uniform_product = rng.integers(1, len(products) + 1, len(item_order))
    interests = np.random.default_rng([family.seed if seed is None else seed, customers, 18])
    product_id = _interest_products(
        interests,
        family,
        category_preferences(family, seed),
        code,
        owner[item_order],
        uniform_product,
    )
    factor = price_factors()[(product_id - 1) % steps]
    budget = gross_target[item_order] * weight / quantity
    unit_price = np.maximum(np.round(budget * factor, 2), 0.5)
    gross = np.add.reduceat(unit_price * quantity, starts)
    discount = np.where(discounted, np.round(gross * discount_rate, 2), 0.0)
    status = np.where(returned, "returned", np.where(cancelled, "cancelled", "completed"))
    order_ids = 1 + np.arange(m)
    ordered_at = _stamp(order_days)
    orders = pd.DataFrame(
        {
            "order_id": order_ids,
            "customer_id": ids[owner],
            "ordered_at": ordered_at,
            "order_total": np.round(gross - discount, 2),
            "discount_amount": discount,
            "status": status,
        }
    ).sort_values("ordered_at", kind="stable", ignore_index=True)
    order_items = pd.DataFrame(
        {
            "order_id": order_ids[item_order],
            "product_id": product_id,
            "quantity": quantity.astype(np.int64),
            "unit_price": unit_price,
        }
    )
    tables = {
        "customers": customers_df,
        "orders": orders,
        "order_items": order_items,
        "products": products,
    }
    if family.has_events:
        tables["events"] = _events(rng, par, engagement, owner, order_days, ids)
    tables["personas"] = personas
    return tables


def _events(rng, par, engagement, order_owner, order_days, ids) -> pd.DataFrame:
    """Sessions of events: one per order (ending in purchase) plus browse-only sessions."""
    n = len(ids)
    n_browse = rng.poisson(par["browse"] * np.exp(0.5 * engagement))
    last_visit = np.maximum(
        par["recency"] - np.where(par["orders"] > 0, rng.uniform(0, 5, n), 0), 0
    )
    first = last_visit + (par["tenure"] - last_visit) * rng.uniform(0.3, 1.0, n)
    b_owner, b_days = _times(rng, last_visit, first, n_browse)
    owner = np.concatenate([order_owner, b_owner])
    days = np.concatenate([order_days + 10 / 1440, b_days])  # order sessions start 10 min before
    is_order = np.concatenate([np.ones(len(order_owner), bool), np.zeros(len(b_owner), bool)])
    s = len(owner)
    views_mean = par["views"][owner] * np.exp(0.3 * engagement[owner])
    counts = np.stack(
        [
            np.ones(s, np.int64),  # page_view
            rng.poisson(views_mean),  # product_view
            rng.poisson(0.5, s),  # search
            np.where(is_order, 1, rng.random(s) < par["cart_p"][owner]).astype(np.int64),
            is_order.astype(np.int64),  # checkout
            is_order.astype(np.int64),  # purchase
        ],
        axis=1,
    )
    kinds = np.array(["page_view", "product_view", "search", "add_to_cart", "checkout", "purchase"])
    per_session = counts.sum(axis=1)
    event_type = np.repeat(np.tile(np.arange(6), s), counts.ravel())
    session = np.repeat(np.arange(s), per_session)
    starts = np.concatenate([[0], np.cumsum(per_session)[:-1]])
    step = np.arange(len(session)) - starts[session]
    start = AS_OF - (days[session] * _DAY).astype("timedelta64[s]")
    occurred = (start + (step * 45).astype("timedelta64[s]")).astype("datetime64[us]")  # in order
    occurred = np.minimum(occurred, (AS_OF - np.timedelta64(1, "s")).astype("datetime64[us]"))
    frame = pd.DataFrame(
        {
            "event_id": 1 + np.arange(len(session)),
            "customer_id": ids[owner][session],
            "session_id": np.char.add("s", session.astype(str)),
            "event_type": kinds[event_type],
            "occurred_at": occurred,
        }
    )
    return frame.sort_values(["occurred_at", "event_id"], kind="stable", ignore_index=True)


def write_tables(tables: dict, out_dir: str | Path) -> Path:
    """Write the tables as ``<name>.parquet`` (the truth into ``truth/personas.parquet``).

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        What :func:`generate_family` returned.
    out_dir : str or Path
        The input folder to write.

    Returns
    -------
    Path
        The folder written.
    """
    out = Path(out_dir)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        path = out / "truth" / f"{name}.parquet" if name == "personas" else out / f"{name}.parquet"
        frame.to_parquet(path, index=False)
    return out
