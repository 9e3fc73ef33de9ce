"""Compiled twins of the kernels of :mod:`sim.model.rules.sell` (same names, arguments and
results, bit for bit); the phase and its rules live there.

- :func:`sell_to_intending`: the intending people in one loop — who can buy, who asks, who of
  those asking gets a package (paying for it), and who of the others gives up;
- :func:`close_agencies_day`: every agency's price and capacity after the day, in one loop
  (numpy's kernel where numba would use Intel's SVML ``exp``).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import njit

from sim.engines.compiled.common import first_k_by_group, u01
from sim.model.rules import sell as numpy_sell


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
def sell_to_intending(it, agency, has_agency, savings, spent, origin, day_entered, offer, price, reserve, buy_prob,
                      cap, credit, signal, give_up, discouraged, k_buy, k_tie, k_give_up):
    """:func:`sim.model.rules.sell.sell_to_intending` in one pass over ``it``: each person asks
    (``can_buy`` and ``u_buy < buy_prob``, float32) or else gives up (``u_give_up < q``, float64,
    ``q`` by :func:`_give_up_prob`); the buyers are allocated by :func:`first_k_by_group` and pay
    in candidate order (so ``revenue`` adds up as numpy's weighted ``bincount``).

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
    """:func:`sim.model.rules.sell.close_agencies_day`, one agency at a time: the same float64
    operations in the same order (``math.exp`` is the C library's, as there)."""
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




def close_agencies_day(price, capacity, base_price, base_capacity, demand_today, sold_today, revenue_usd,
                       demand, sold, revenue, scale, price_adjust, price_min_mult, price_max_mult, growth,
                       capacity_max_mult) -> None:
    """:func:`sim.model.rules.sell.close_agencies_day`: compiled, unless numba would vectorise
    ``exp`` with Intel's SVML (whose last bit may differ from the C library's): then numpy's."""
    close = numpy_sell.close_agencies_day if numba.config.USING_SVML else _close_day
    close(price, capacity, base_price, base_capacity, demand_today, sold_today, revenue_usd, demand, sold, revenue,
          scale, price_adjust, price_min_mult, price_max_mult, growth, capacity_max_mult)
