"""Deterministic, vectorised demo data generator for an online shop with planted personas.

One module per table draws its rows (``personas``, ``orders`` with ``order_items``,
``products``, ``customers``, ``events``); ``interests`` plants each persona's favourite
categories and price position in the order lines; ``shop`` draws them all from one seed,
``files`` writes them and ``cli`` is ``python -m shopseg.demo``.
"""

from shopseg.demo.cli import MARKER, main
from shopseg.demo.customers import COUNTRY_P
from shopseg.demo.files import write
from shopseg.demo.personas import PERSONA_SHARES
from shopseg.demo.products import CATEGORY_PRICE, PRODUCTS_PER_CATEGORY
from shopseg.demo.schema import (
    ADD_TO_CART,
    BROWSER,
    CATEGORIES,
    CHANNELS,
    CHECKOUT,
    COUNTRIES,
    EVENT_TYPES,
    GENDERS,
    GUEST,
    HUNTER,
    INPUT_TABLES,
    LAPSED,
    LOYAL,
    NEW,
    ONE_TIME,
    ORDER_STATUSES,
    PAGE_VIEW,
    PERSONAS,
    PRODUCT_VIEW,
    PROSPECT,
    PURCHASE,
    SCHEMAS,
    SEARCH,
    TRUTH_DIR,
    TRUTH_TABLE,
)
from shopseg.demo.shop import generate, generate_to

__all__ = [
    "ADD_TO_CART",
    "BROWSER",
    "CATEGORIES",
    "CATEGORY_PRICE",
    "CHANNELS",
    "CHECKOUT",
    "COUNTRIES",
    "COUNTRY_P",
    "EVENT_TYPES",
    "GENDERS",
    "GUEST",
    "HUNTER",
    "INPUT_TABLES",
    "LAPSED",
    "LOYAL",
    "MARKER",
    "NEW",
    "ONE_TIME",
    "ORDER_STATUSES",
    "PAGE_VIEW",
    "PERSONAS",
    "PERSONA_SHARES",
    "PRODUCTS_PER_CATEGORY",
    "PRODUCT_VIEW",
    "PROSPECT",
    "PURCHASE",
    "SCHEMAS",
    "SEARCH",
    "TRUTH_DIR",
    "TRUTH_TABLE",
    "generate",
    "generate_to",
    "main",
    "write",
]
