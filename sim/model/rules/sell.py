"""The agencies' rules: who buys a package, who gives up, what is on sale, cancellations.

:func:`sell_packages` is the phase (its bookkeeping: who moves, what is recorded); the per-person
work is done by the kernels in ``KERNELS``, plain functions of arrays defined here in numpy
(the definition) and, with the same names, arguments and results, in
:mod:`sim.engines.compiled.sell`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sim.model.allocate import allocate_by_group, token_bucket
from sim.model.population import State, give_up_prob, pay
from sim.model.rng import BUY, BUY_TIE, GIVE_UP, draw

if TYPE_CHECKING:
    from sim.model.day import Day
    from sim.model.model import MigrationModel
    from sim.model.world import World

# the per-person work of this module's phases (numpy; sim.engines.compiled has their twins)
KERNELS: tuple[str, ...] = ("sell_to_intending", "close_agencies_day")


def sell_packages(model: MigrationModel, today: Day) -> None:
    """Intending people who can pay ask their agency; agencies sell up to capacity (FIFO)."""
    p, cfg, day, streams = model.people, model.cfg, model.day, model.streams
    pol = model.world.policy
    set_out_from_home(model)
    it = p.ids(State.INTENDING)
    book = model.agency_book
    cap = token_bucket(model.agency_credit, book.capacity_today(pol.agency_cap_mult) * model.scale)
    today.offer = package_on_sale(model.world, today.serving)
    c = cfg.intention
    got, paid, quit_, demand, sold, revenue = model.kernels.sell_to_intending(
        it, p.agency, p.has_agency, p.savings_usd, p.spent_usd, p.origin, p.day_entered, today.offer,
        book.price_usd, float(cfg.purchase.reserve_usd), np.float32(cfg.purchase.buy_prob_per_day), cap,
        model.agency_credit, model.signal, float(c.give_up_per_day), float(c.discouraged_per_day),
        streams.counter_key(BUY, day), streams.counter_key(BUY_TIE, day), streams.counter_key(GIVE_UP, day))
    if it.size:  # (nobody intending: only the demand is recorded)
        p.move(got, State.INTENDING, State.WAITING_PACKAGE, day)
        model.recorder.add("packages_sold", got.size)
        model.recorder.add("paid_agencies_usd", float(paid.sum()))  # numpy's pairwise sum
        p.move(quit_, State.INTENDING, State.AT_HOME, day)
    a = book.cfg
    model.kernels.close_agencies_day(
        book.price_usd, book.capacity, book.base_price_usd, book.base_capacity, book.demand_today, book.sold_today,
        book.revenue_usd, demand, sold, revenue, float(model.scale), float(a.price_adjust), float(a.price_min_mult),
        float(a.price_max_mult), float(1 + a.capacity_growth), float(a.capacity_max_mult))
    model.recorder.add("package_demand", int(demand.sum()))


def set_out_from_home(model: MigrationModel) -> None:
    """Residents of the transit country who intend need no package, visa or flight: they are
    in its city (their entry point) from today."""
    p, w = model.people, model.world
    if not (w.origin_home_entry >= 0).any():
        return
    it = p.ids(State.INTENDING)
    here = it[w.origin_home_entry[p.origin[it]] >= 0]
    p.day_arrived[here] = model.day
    p.move(here, State.INTENDING, State.IN_CITY, model.day)
    model.recorder.add("set_out_residents", here.size)


def sell_to_intending(it, agency, has_agency, savings, spent, origin, day_entered, offer, price, reserve, buy_prob,
                      cap, credit, signal, give_up, discouraged, k_buy, k_tie, k_give_up):
    """The intending people ``it`` (ascending rows) ask, buy, pay or give up; returns
    ``(got, paid, quit_, demand, sold, revenue)``, the last three per agency (int64, int64, float64).

    Formula, with ``a = agency[i]``, ``o = origin[i]`` and ``u`` each person's draw on a stream::

        can_buy = has_agency & (savings >= price[a] + reserve) & offer[o]
        buyers  = can_buy & (u_buy < buy_prob)              # float32 buy_prob: a float32 compare
        demand  = bincount(a of buyers)
        win     = allocate_by_group(a, cap, day_entered, u_tie) over the buyers  # FIFO per agency
        got     = buyers[win]; paid = price[a of got]; each pays min(float32(paid), savings)
        sold    = bincount(a of got); credit -= sold; revenue = bincount(a of got, weights=paid)
        quit_   = the others with u_give_up < q, q = give_up_prob(...) > 0   # float64 compare

    ``savings``, ``spent`` (paying) and ``credit`` (the agencies' token buckets) change in place;
    ``k_buy``, ``k_tie``, ``k_give_up`` are the streams' counter keys (:func:`sim.model.rng.draw`).
    """
    n_ag = price.shape[0]
    ag = agency[it]
    has = has_agency[it]
    # has_agency first: a person without one may have an agency index past the book
    afford = np.zeros(it.size, bool)
    afford[has] = savings[it[has]] >= price[ag[has]] + reserve
    can_buy = afford & offer[origin[it]]
    asks = np.flatnonzero(can_buy)  # a draw only for those whom it concerns: the same numbers
    asks = asks[draw(k_buy, it[asks]) < buy_prob]
    buyers, buyer_ag = it[asks], ag[asks].astype(np.int64)
    demand = np.bincount(buyer_ag, minlength=n_ag)
    win = allocate_by_group(buyer_ag, cap, day_entered[buyers], draw(k_tie, buyers))
    got, got_ag = buyers[win], buyer_ag[win]
    paid = price[got_ag]
    pay(got, paid, savings, spent)
    sold = np.bincount(got_ag, minlength=n_ag)
    credit -= sold
    # (float64 even when nobody got one: an empty bincount is int64 whatever its weights)
    revenue = np.bincount(got_ag, weights=paid, minlength=n_ag).astype(np.float64, copy=False)
    # giving up, of those not asking: cannot buy, or the network's news is bad
    stay = np.ones(it.size, bool)
    stay[asks] = False
    rest = it[stay]
    q = give_up_prob(give_up, discouraged, signal, can_buy[stay], origin[rest])
    at_risk = q > 0
    rest, q = rest[at_risk], q[at_risk]
    quit_ = rest[draw(k_give_up, rest) < q]
    return got, paid, quit_, demand, sold, revenue


def close_agencies_day(price, capacity, base_price, base_capacity, demand_today, sold_today, revenue_usd,
                       demand, sold, revenue, scale, price_adjust, price_min_mult, price_max_mult, growth,
                       capacity_max_mult):
    """Every agency closes the day (:meth:`sim.model.institutions.travel_agency.AgencyBook.close_day`
    over all rows) on today's ``demand``, ``sold`` and ``revenue`` in simulated people.

    Formula, in real people (``d = demand / scale``)::

        demand_today = d; sold_today = sold / scale; revenue_usd += revenue / scale
        price    = clip(price * exp(price_adjust * clip(d / max(capacity, 1e-9) - 1, -1, 1)),
                        price_min_mult * base_price, price_max_mult * base_price)
        capacity = min(capacity * growth, capacity_max_mult * base_capacity)  where d > capacity

    (``growth`` is ``1 + capacity_growth``; ``exp`` is the C library's, ``math.exp``, as
    :func:`sim.model.institutions.travel_agency.adjust_price_and_capacity`.) The book's arrays
    ``price`` .. ``revenue_usd`` change in place.
    """
    d = demand / scale
    demand_today[:] = d
    sold_today[:] = sold / scale
    revenue_usd += revenue / scale
    excess = d / np.maximum(capacity, 1e-9) - 1.0
    step = np.array([math.exp(x) for x in (price_adjust * np.minimum(np.maximum(excess, -1.0), 1.0)).tolist()])
    price[:] = np.minimum(np.maximum(price * step, price_min_mult * base_price), price_max_mult * base_price)
    grown = np.minimum(capacity * growth, capacity_max_mult * base_capacity)
    capacity[:] = np.where(d > capacity, grown, capacity)


def package_on_sale(w: World, serving: np.ndarray) -> np.ndarray:
    """(O,) bool: the trip is on offer to an origin today. Nothing is, while no segment of the
    border is open to anyone (every crossing point closed, and the transit state stopping
    everyone on its side of the others: a closure is public, and nobody sells a trip to a shut
    door). Otherwise, abroad: its agencies are open and its people
    can enter the transit country (a visa channel serves them, ``serving``: (C, O); their
    nationality is visa-free; or some hold a visa already). Residents of the transit country
    need nothing bought."""
    pol = w.policy
    if not ((pol.crossing_hours > 0) & (pol.exit_control < 1.0)).any():
        return np.zeros(w.n_origins, dtype=bool)
    can_enter = serving.any(axis=0) | w.visa_free[w.origin_nat] | (w.origin_visa_held > 0)
    abroad = (pol.agency_cap_mult > 0) & (w.origin_agencies > 0) & can_enter
    return abroad | (w.origin_home_entry >= 0)


def cancel(model: MigrationModel, ids: np.ndarray, src: State) -> None:
    """A trip is cancelled before departure: part of the package price comes back; home."""
    p = model.people
    refund = model.cfg.travel.refund_share * model.world.agency_price
    p.savings_usd[ids] += np.float32(refund)
    p.spent_usd[ids] -= np.float32(refund)
    model.recorder.add("paid_agencies_usd", -float(refund * ids.size))
    p.move(ids, src, State.AT_HOME, model.day)
    model.recorder.add("cancelled", ids.size)
