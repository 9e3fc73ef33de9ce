"""Compiled form of :meth:`sim.model.model.MigrationModel.sell_packages` (same numbers, bit for bit).

The agencies' numbers (capacity credit, what is on sale, price and capacity at the close of
the day) are a few small arrays and stay in numpy, called exactly as the numpy method calls
them. The intending people — the largest stock away from home — are done in one kernel call:
who can buy, who asks, who of those asking gets a package (paying for it), and who of the
others gives up.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import njit

from sim.engines.compiled.common import first_k_by_group, u01
from sim.model.population import State
from sim.model.rng import BUY, BUY_TIE, GIVE_UP


@njit(cache=True, inline="always")
def _give_up_prob(give_up, discouraged, signal_o, can_buy):
    """One person's :func:`sim.model.population.give_up_prob`:
    ``min(1, discouraged * max(0, -S_o) + give_up * [cannot buy])``, in float64 as numpy.

    ``np.maximum(0.0, x)`` is ``x`` when ``x`` is NaN or above 0, else 0.0; ``np.minimum(1.0, q)``
    keeps a NaN ``q`` (which then is not ``> 0``: nobody gives up), as here.
    """
    x = -signal_o
    bad_news = x if (x > 0.0 or x != x) else 0.0
    q = discouraged * bad_news + give_up * (0.0 if can_buy else 1.0)
    if q > 1.0:
        q = 1.0
    return q


@njit(cache=True)
def _sell(it, agency, has_agency, savings, spent, origin, day_entered, offer, price, reserve, buy_prob,
          cap, credit, signal, give_up, discouraged, k_buy, k_tie, k_give_up):
    """The intending people ``it`` (ascending rows) ask, buy, pay or give up; returns
    ``(got, paid, quit_, demand, sold, revenue)``.

    Mirrors, in :meth:`MigrationModel.sell_packages`::

        can_buy = has_agency & (savings >= price[ag] + reserve) & offer[origin]
        buyers  = it[can_buy][u_buy < buy_prob]            # float32 compare
        demand  = bincount(buyer_ag)
        win     = allocate_by_group(buyer_ag, cap, day_entered[buyers], u_tie)
        got     = buyers[win]; paid = price[got_ag]; pay(got, paid)
        sold    = bincount(got_ag); credit -= sold; revenue = bincount(got_ag, weights=paid)
        rest    = it not among buyers; q = give_up_prob(...)
        quit_   = rest[q > 0][u_give_up < q]               # float64 compare

    ``savings``, ``spent`` (paying) and ``credit`` (the agencies' token buckets) change in place.
    """
    n_ag = price.shape[0]
    demand = np.zeros(n_ag, dtype=np.int64)
    sold = np.zeros(n_ag, dtype=np.int64)
    revenue = np.zeros(n_ag, dtype=np.float64)
    buyers = np.empty(it.shape[0], dtype=np.int64)
    buyer_ag = np.empty(it.shape[0], dtype=np.int64)
    quit_ = np.empty(it.shape[0], dtype=np.int64)
    n_buy = 0
    n_quit = 0
    for i in it:
        o = origin[i]
        a = np.int64(agency[i])
        # has_agency first: a person without one may have an agency index past the book
        can_buy = has_agency[i] and np.float64(savings[i]) >= price[a] + reserve and offer[o]
        if can_buy and u01(k_buy, i) < buy_prob:
            buyers[n_buy] = i
            buyer_ag[n_buy] = a
            demand[a] += 1
            n_buy += 1
            continue
        q = _give_up_prob(give_up, discouraged, signal[o], can_buy)
        if q > 0.0 and np.float64(u01(k_give_up, i)) < q:
            quit_[n_quit] = i
            n_quit += 1
    buyers = buyers[:n_buy]
    buyer_ag = buyer_ag[:n_buy]
    # allocation: whole units per agency (allocate_by_group's floor(max(capacity, 0)))
    units = np.empty(n_ag, dtype=np.int64)
    for a in range(n_ag):
        units[a] = max(cap[a], 0)
    day = np.empty(n_buy, dtype=np.int64)
    tie = np.empty(n_buy, dtype=np.float32)
    for j in range(n_buy):
        day[j] = day_entered[buyers[j]]
        tie[j] = u01(k_tie, buyers[j])
    win = first_k_by_group(buyer_ag, units, day, tie)
    n_got = 0
    for j in range(n_buy):
        if win[j]:
            n_got += 1
    got = np.empty(n_got, dtype=np.int64)
    paid = np.empty(n_got, dtype=np.float64)
    g = 0
    for j in range(n_buy):
        if not win[j]:
            continue
        i = buyers[j]
        a = buyer_ag[j]
        got[g] = i
        paid[g] = price[a]
        g += 1
        # Population.pay: amount = min(float32(price), savings), in float32
        amount = np.float32(price[a])
        if savings[i] < amount:
            amount = savings[i]
        savings[i] -= amount
        spent[i] += amount
        sold[a] += 1
        revenue[a] += price[a]  # bincount with weights: in order of the candidates
    for a in range(n_ag):
        credit[a] -= np.float64(sold[a])
    return got, paid, quit_[:n_quit], demand, sold, revenue


@njit(cache=True)
def _close_day(price, capacity, base_price, base_capacity, demand_today, sold_today, revenue_usd,
               demand, sold, revenue, scale, price_adjust, price_min_mult, price_max_mult, growth, capacity_max_mult):
    """:meth:`sim.model.institutions.travel_agency.AgencyBook.close_day` for every agency, with today's
    ``demand``, ``sold`` and ``revenue`` in simulated people (divided by ``scale`` here, as the
    numpy method's caller does): each agency's price and capacity follow
    :func:`sim.model.institutions.travel_agency.adjust_price_and_capacity`, the same float64 operations in the
    same order (``math.exp`` is the C library's, as there)."""
    for a in range(price.shape[0]):
        d = demand[a] / scale
        demand_today[a] = d
        sold_today[a] = sold[a] / scale
        revenue_usd[a] += revenue[a] / scale
        excess = d / max(capacity[a], 1e-9) - 1.0
        step = math.exp(price_adjust * min(max(excess, -1.0), 1.0))
        price[a] = min(max(price[a] * step, price_min_mult * base_price[a]), price_max_mult * base_price[a])
        if d > capacity[a]:
            capacity[a] = min(capacity[a] * growth, capacity_max_mult * base_capacity[a])


def close_agencies_day(model, demand, sold, revenue) -> None:
    """The agencies close the day (``AgencyBook.close_day`` over all rows), compiled unless numba
    would vectorise ``exp`` with Intel's SVML (whose last bit may differ from the C library's)."""
    book = model.agency_book
    if numba.config.USING_SVML:
        book.close_day(demand / model.scale, sold / model.scale, revenue / model.scale)
        return
    c = book.cfg
    _close_day(book.price_usd, book.capacity, book.base_price_usd, book.base_capacity, book.demand_today,
               book.sold_today, book.revenue_usd, demand, sold, revenue, float(model.scale), float(c.price_adjust),
               float(c.price_min_mult), float(c.price_max_mult), float(1 + c.capacity_growth), float(c.capacity_max_mult))


def sell_packages(model) -> None:
    """Compiled :meth:`sim.model.model.MigrationModel.sell_packages`: intending people who can pay ask
    their agency; agencies sell up to capacity (FIFO); of the others, some give up."""
    p, cfg, day, streams = model.people, model.cfg, model.day, model.streams
    pol = model.world.policy
    it = p.ids(State.INTENDING)
    book = model.agency_book
    price = book.price_usd
    cap = model._credit(model.agency_credit, book.capacity_today(pol.agency_cap_mult) * model.scale)
    model.offer = model._package_on_sale()
    if it.size == 0:
        n_ag = len(model.agencies)
        demand = np.zeros(n_ag, dtype=np.int64)
        close_agencies_day(model, demand, demand, np.zeros(n_ag))
        model.recorder.add("package_demand", 0)
        return
    c = cfg.intention
    got, paid, quit_, demand, sold, revenue = _sell(
        it, p.agency, p.has_agency, p.savings_usd, p.spent_usd, p.origin, p.day_entered, model.offer,
        price, float(cfg.purchase.reserve_usd), np.float32(cfg.purchase.buy_prob_per_day), cap,
        model.agency_credit, model.signal, float(c.give_up_per_day), float(c.discouraged_per_day),
        streams.counter_key(BUY, day), streams.counter_key(BUY_TIE, day),
        streams.counter_key(GIVE_UP, day))
    p.move(got, State.INTENDING, State.WAITING_PACKAGE, day)
    model.recorder.add("packages_sold", got.size)
    model.recorder.add("paid_agencies_usd", float(paid.sum()))  # numpy's pairwise sum, as the numpy method
    p.move(quit_, State.INTENDING, State.AT_HOME, day)
    close_agencies_day(model, demand, sold, revenue)
    model.recorder.add("package_demand", int(demand.sum()))
