"""The ``events`` table: browse, order, late and anonymous sessions, drawn in blocks of customers.

The blocks make the events streamable: block ``b`` (customers ``b * _CHUNK`` onwards) draws
from its own ``default_rng([seed, 1, b])``, so the rows never depend on how, or whether, the
caller streams the blocks. The session plan (how many sessions each customer gets, which
orders are tracked) is drawn once, from the shop's generator, by :func:`plan_sessions`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shopseg.demo._arrays import (
    days_to_seconds,
    group_cumsum,
    group_rank,
    group_starts,
    pick_rows,
    to_timestamps,
)
from shopseg.demo.orders import LATE_SHARE, OrderBook
from shopseg.demo.personas import Accounts
from shopseg.demo.schema import (
    ADD_TO_CART,
    BROWSER,
    CHECKOUT,
    EVENT_TYPES,
    HUNTER,
    LAPSED,
    LOYAL,
    NEW,
    ONE_TIME,
    PAGE_VIEW,
    PROSPECT,
    PURCHASE,
    SCHEMAS,
    SEARCH,
)

_CHUNK = 50_000  # customers per event block; part of the data definition, do not tune per run
_MIN_SESSION_GAP = 2 * 3600  # seconds between the end of one session and the next one
_MAX_EVENT_GAP = 600  # seconds between two events of a session (well under 30 minutes)
_ANON_SHARE = 0.005
_NO_SESSION_ID_SHARE = 0.10
_ORDER_EVENT_BUDGET = 0.4  # at most this share of the event budget goes to order sessions
_DROP_COMPENSATION = 1.02  # browse sessions lost to overlap resolution (measured 1-3%)

# Per persona (index order as PERSONAS).
_NONORDER_WEIGHT = np.array([2.0, 1.2, 9.0, 0.3, 2.0, 0.5, 0.15, 0.0])
_SESSION_MEAN = np.array([6.0, 5.0, 7.0, 4.0, 5.0, 5.0, 3.0, 4.0])
# Browse event mix (page_view, product_view, search, add_to_cart, checkout) per persona, then a
# last row for the events before add_to_cart in an order session and for anonymous sessions.
_BROWSE_P = np.array(
    [
        [0.25, 0.50, 0.13, 0.10, 0.02],
        [0.25, 0.48, 0.17, 0.08, 0.02],
        [0.15, 0.52, 0.13, 0.17, 0.03],
        [0.40, 0.42, 0.13, 0.04, 0.01],
        [0.30, 0.47, 0.15, 0.07, 0.01],
        [0.30, 0.48, 0.15, 0.06, 0.01],
        [0.50, 0.38, 0.10, 0.02, 0.00],
        [0.40, 0.42, 0.13, 0.04, 0.01],
        [0.20, 0.65, 0.15, 0.00, 0.00],
    ]
)
_PRE_ROW = 8
_BROWSE_CUM = np.cumsum(_BROWSE_P, axis=1)
_EVENT_DICT = pa.array(EVENT_TYPES, pa.string())


@dataclass
class SessionPlan:
    """What the event blocks need: per-customer session rates and windows, tracked orders."""

    seed: int
    n_customers: int
    as_of_s: int
    persona: np.ndarray  # per registered customer
    session_rate: np.ndarray  # expected browse sessions per registered customer
    win_lo: np.ndarray  # browse window, days before as_of
    win_hi: np.ndarray
    no_session_id: np.ndarray  # bool per registered customer
    late_customers: np.ndarray  # sorted registered indices with one late browse session
    ord_ptr: np.ndarray  # registered customer -> slice into the per-order arrays below
    ord_rel: np.ndarray  # order time, seconds relative to as_of
    ord_tracked: np.ndarray
    ord_pre: np.ndarray  # events before add_to_cart in the order's session
    ord_carts: np.ndarray
    anon_rate: float  # expected anonymous sessions per customer


def plan_sessions(
    rng: np.random.Generator,
    accounts: Accounts,
    book: OrderBook,
    events_per_customer: float,
    seed: int,
    as_of_s: int,
) -> SessionPlan:
    """Plan the sessions so the events add up to about events_per_customer per customer.

    Parameters
    ----------
    rng : numpy.random.Generator
        The shop's generator, right after the customers were drawn; its last use.
    accounts : Accounts
        Personas, order windows and sign-up days.
    book : OrderBook
        The orders, in the account-grouped layout.
    events_per_customer : float
        Target number of events per registered customer (anonymous sessions included).
    seed : int
        The shop's seed, from which each event block seeds its own generator.
    as_of_s : int
        As_of midnight in epoch seconds.

    Returns
    -------
    SessionPlan
        Which orders get a tracked session, the browse-session rate and window of every
        registered customer, the customers with a late session and the anonymous rate.
    """
    persona, signup = accounts.persona, accounts.signup
    lo, hi = accounts.order_lo, accounts.order_hi
    n = persona.size
    rel, owner, ptr = book.rel, book.owner, book.ptr
    n_orders = rel.size
    is_ = [persona == p for p in range(7)]

    target_events = events_per_customer * n
    reg = owner < n  # guests have no tracked sessions
    pre = 1 + np.minimum(rng.poisson(1.5, n_orders), 9)
    carts = 1 + ((book.items >= 2) & (rng.random(n_orders) < 0.5))
    size = pre + carts + 2
    order_events = size[reg].sum()
    q = min(1.0, _ORDER_EVENT_BUDGET * target_events / order_events) if order_events else 0.0
    tracked = reg & (rng.random(n_orders) < q)
    tracked_events = size[tracked].sum()
    late_order_events = size[tracked & (rel > 0)].sum()
    n_late_sessions = round(max(0.0, LATE_SHARE * target_events - late_order_events) / 5.0)
    late_customers = np.sort(rng.choice(n, size=min(n_late_sessions, n), replace=False))
    budget = target_events * (1 - _ANON_SHARE) - tracked_events - 5.0 * late_customers.size
    weight = _NONORDER_WEIGHT[persona] * rng.lognormal(-0.125, 0.5, n)
    lam = max(budget, 0.0) * _DROP_COMPENSATION * weight / weight.sum()

    win_lo = np.full(n, 0.15)
    win_hi = signup - 0.2
    m = is_[LOYAL]
    win_hi[m] = np.minimum(win_hi[m], 730)
    m = is_[HUNTER]
    win_lo[m] = np.maximum(0.15, lo[m] - 20)
    win_hi[m] = np.minimum(win_hi[m], hi[m] + 10)
    m = is_[BROWSER]
    win_hi[m] = np.minimum(win_hi[m], 365)
    m = is_[ONE_TIME]
    win_lo[m] = np.maximum(0.15, lo[m] - 30)
    win_hi[m] = np.minimum(win_hi[m], hi[m] + 30)
    m = is_[LAPSED]
    win_lo[m] = lo[m] - 10
    win_hi[m] = np.minimum(win_hi[m], hi[m])
    m = is_[PROSPECT]
    win_lo[m] = np.maximum(0.15, signup[m] - 90)
    win_hi = np.maximum(win_hi, win_lo)

    reg_ptr = ptr[: n + 1]
    return SessionPlan(
        seed=seed,
        n_customers=n,
        as_of_s=as_of_s,
        persona=persona,
        session_rate=lam / _SESSION_MEAN[persona],
        win_lo=win_lo,
        win_hi=win_hi,
        no_session_id=rng.random(n) < _NO_SESSION_ID_SHARE,
        late_customers=late_customers,
        ord_ptr=reg_ptr,
        ord_rel=rel[: reg_ptr[-1]],
        ord_tracked=tracked[: reg_ptr[-1]],
        ord_pre=pre[: reg_ptr[-1]],
        ord_carts=carts[: reg_ptr[-1]],
        anon_rate=_ANON_SHARE * events_per_customer / 3.5,
    )


def event_block(
    plan: SessionPlan, block: int, event_offset: int, session_offset: int
) -> tuple[pa.Table, int]:
    """Build the events of one block of customers.

    Parameters
    ----------
    plan : SessionPlan
        The shop's session plan.
    block : int
        Which block: customers ``block * _CHUNK`` up to the next block's first.
    event_offset : int
        Events of the blocks before this one (event ids continue after them).
    session_offset : int
        Sessions of the blocks before this one (session ids continue after them).

    Returns
    -------
    table : pyarrow.Table
        The block's events in the ``events`` schema.
    n_sessions : int
        Sessions in the block (those without a session_id included).
    """
    c0 = block * _CHUNK
    c1 = min(plan.n_customers, c0 + _CHUNK)
    rng = np.random.default_rng([plan.seed, 1, block])
    ids = np.arange(c0, c1)

    # sessions around tracked orders: page/product views, add_to_cart, checkout, purchase
    o0, o1 = plan.ord_ptr[c0], plan.ord_ptr[c1]
    tracked = plan.ord_tracked[o0:o1]
    o_cust = np.repeat(ids, np.diff(plan.ord_ptr[c0 : c1 + 1]))[tracked]
    o_carts = plan.ord_carts[o0:o1][tracked]
    o_size = plan.ord_pre[o0:o1][tracked] + o_carts + 2
    o_anchor = plan.ord_rel[o0:o1][tracked] + rng.integers(0, 6, o_cust.size)

    # browse sessions inside each customer's persona window
    n_browse = rng.poisson(plan.session_rate[c0:c1])
    # browsers and new customers have visited the shop at least once
    must_visit = np.isin(plan.persona[c0:c1], (BROWSER, NEW))
    n_browse = np.where(must_visit, np.maximum(n_browse, 1), n_browse)
    b_cust = np.repeat(ids, n_browse)
    lo, hi = plan.win_lo[b_cust], plan.win_hi[b_cust]
    b_anchor = -days_to_seconds(lo + rng.random(b_cust.size) * (hi - lo))
    b_size = 1 + np.minimum(rng.poisson(_SESSION_MEAN[plan.persona[b_cust]] - 1), 19)

    # late-arriving browse sessions (after the as-of day)
    a, z = np.searchsorted(plan.late_customers, [c0, c1])
    l_cust = plan.late_customers[a:z]
    l_anchor = days_to_seconds(1 + 14 * rng.random(l_cust.size))
    l_size = 1 + np.minimum(rng.poisson(4.0, l_cust.size), 19)

    # anonymous sessions: each gets its own fake customer index >= c1 (null customer_id)
    n_anon = rng.poisson(plan.anon_rate * (c1 - c0))
    a_cust = c1 + np.arange(n_anon)
    a_anchor = -days_to_seconds(0.15 + 364.85 * rng.random(n_anon))
    a_size = 1 + np.minimum(rng.poisson(2.5, n_anon), 19)

    cust = np.concatenate((o_cust, b_cust, l_cust, a_cust)).astype(np.int64)
    anchor = np.concatenate((o_anchor, b_anchor, l_anchor, a_anchor))
    size = np.concatenate((o_size, b_size, l_size, a_size)).astype(np.int64)
    carts = np.concatenate((o_carts, np.zeros(cust.size - o_cust.size, dtype=np.int64)))
    is_order = np.arange(cust.size) < o_cust.size

    # seconds-to-minutes between events; order sessions end (purchase) at the order time
    k = group_rank(size)
    gaps = 1 + np.minimum(rng.exponential(40.0, k.size), _MAX_EVENT_GAP - 1).astype(np.int64)
    gaps[k == 0] = 0
    offs = group_cumsum(gaps, size)
    first = group_starts(size)
    dur = offs[first[1:] - 1] if offs.size else np.zeros(0, dtype=np.int64)
    start = anchor - np.where(is_order, dur, 0)

    # keep order sessions; drop browse sessions closer than _MIN_SESSION_GAP to a neighbour
    srt = np.lexsort((start, cust))
    cs, ss = cust[srt], start[srt]
    shift = (cs - c0) << 32
    run_end = np.maximum.accumulate(shift + (ss + dur[srt] + (1 << 31))) - shift - (1 << 31)
    ok = (cs[1:] != cs[:-1]) | (ss[1:] - run_end[:-1] >= _MIN_SESSION_GAP)
    clean = np.concatenate(([True], ok)) & np.concatenate((ok, [True]))
    sel = srt[is_order[srt] | clean]

    # materialise events of the kept sessions
    n_kept = sel.size
    k_size = size[sel]
    j = group_rank(k_size)
    src = np.repeat(first[:-1][sel], k_size) + j
    sess = np.repeat(np.arange(n_kept), k_size)
    t = np.repeat(start[sel], k_size) + offs[src]
    ev_cust = np.repeat(cust[sel], k_size)
    anon = ev_cust >= c1
    ev_order = np.repeat(is_order[sel], k_size)
    row = np.where(ev_order | anon, _PRE_ROW, plan.persona[np.where(anon, c0, ev_cust)])
    code = pick_rows(rng, _BROWSE_CUM[row])
    open_search = ~ev_order & ~anon & (rng.random(j.size) < 0.25)
    code[j == 0] = np.where(open_search, SEARCH, PAGE_VIEW)[j == 0]
    back = np.repeat(k_size, k_size) - 1 - j  # events left after this one in the session
    cart_zone = ev_order & (back >= 2) & (back <= 1 + np.repeat(carts[sel], k_size))
    code[cart_zone] = ADD_TO_CART
    code[ev_order & (back == 1)] = CHECKOUT
    code[ev_order & (back == 0)] = PURCHASE

    s_cust = cust[sel]
    s_null = np.zeros(n_kept, dtype=bool)
    reg = s_cust < c1
    s_null[reg] = plan.no_session_id[s_cust[reg]]
    s_num = pa.array(np.arange(session_offset, session_offset + n_kept), mask=s_null)
    s_str = pc.binary_join_element_wise("s", pc.cast(s_num, pa.string()), "")
    table = pa.Table.from_arrays(
        [
            pa.array(np.arange(event_offset + 1, event_offset + 1 + j.size, dtype=np.int64)),
            pa.array(np.where(anon, 0, ev_cust + 1), type=pa.int64(), mask=anon),
            s_str.take(pa.array(sess)),
            pa.DictionaryArray.from_arrays(pa.array(code.astype(np.int8)), _EVENT_DICT),
            pa.array(to_timestamps(t, plan.as_of_s)),
        ],
        schema=SCHEMAS["events"],
    )
    return table, n_kept


def iter_events(plan: SessionPlan) -> Iterator[pa.Table]:
    """Yield the events table block by block, with globally unique event and session ids.

    Parameters
    ----------
    plan : SessionPlan
        The shop's session plan.

    Yields
    ------
    pyarrow.Table
        The events of one block of customers, in the ``events`` schema.
    """
    event_offset = session_offset = 0
    for block in range(-(-plan.n_customers // _CHUNK)):
        table, n_sessions = event_block(plan, block, event_offset, session_offset)
        event_offset += table.num_rows
        session_offset += n_sessions
        yield table
