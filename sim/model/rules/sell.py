"""The agencies' rules: who buys a package, who gives up, what is on sale, cancellations."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.allocate import allocate_by_group, token_bucket
from sim.model.population import State, give_up_prob
from sim.model.rng import BUY, BUY_TIE, GIVE_UP

if TYPE_CHECKING:
    from sim.model.model import MigrationModel

# the per-person work of this module's phases (numpy; sim.engines.compiled has their twins)
KERNELS: tuple[str, ...] = ()


def sell_packages(model: MigrationModel) -> None:
    """Intending people who can pay ask their agency; agencies sell up to capacity (FIFO)."""
    p, w, cfg, day = model.people, model.world, model.cfg, model.day
    pol = w.policy
    it = p.ids(State.INTENDING)
    book = model.agency_book
    price = book.price_usd
    cap = token_bucket(model.agency_credit, book.capacity_today(pol.agency_cap_mult) * model.scale)
    demand = np.zeros(len(model.agencies), dtype=np.int64)
    sold = np.zeros_like(demand)
    revenue = np.zeros(len(model.agencies))
    model.offer = package_on_sale(model)
    if it.size:
        ag = p.agency[it]
        afford = p.has_agency[it] & (p.savings_usd[it] >= price[ag] + cfg.purchase.reserve_usd)
        can_buy = afford & model.offer[p.origin[it]]
        # draws are per person, so drawing only for those whom the draw concerns changes nothing
        asks = np.flatnonzero(can_buy)
        asks = asks[model.streams.uniform(BUY, day, it[asks]) < cfg.purchase.buy_prob_per_day]
        buyers, buyer_ag = it[asks], ag[asks]
        demand = np.bincount(buyer_ag, minlength=len(model.agencies))
        win = allocate_by_group(buyer_ag.astype(np.int64), cap, p.day_entered[buyers],
                                model.streams.uniform(BUY_TIE, day, buyers))
        got, got_ag = buyers[win], buyer_ag[win]
        paid = price[got_ag]
        p.pay(got, paid)
        sold = np.bincount(got_ag, minlength=len(model.agencies))
        model.agency_credit -= sold
        revenue = np.bincount(got_ag, weights=paid, minlength=len(model.agencies))
        p.move(got, State.INTENDING, State.WAITING_PACKAGE, day)
        model.recorder.add("packages_sold", got.size)
        model.recorder.add("paid_agencies_usd", float(paid.sum()))
        # giving up: cannot afford, or the network's news is bad
        stay = np.ones(it.size, bool)
        stay[asks] = False
        rest = it[stay]
        q = give_up_prob(cfg.intention.give_up_per_day, cfg.intention.discouraged_per_day, model.signal,
                         can_buy[stay], p.origin[rest])
        at_risk = q > 0
        rest, q = rest[at_risk], q[at_risk]
        quit_ = rest[model.streams.uniform(GIVE_UP, day, rest) < q]
        p.move(quit_, State.INTENDING, State.AT_HOME, day)
    book.close_day(demand / model.scale, sold / model.scale, revenue / model.scale)
    model.recorder.add("package_demand", int(demand.sum()))



def package_on_sale(model: MigrationModel) -> np.ndarray:
    """(O,) bool: an origin's agencies are open and a visa channel serves its nationality."""
    w = model.world
    pol = w.policy
    nat_ok = model.channels_serving().any(axis=0)
    return (pol.agency_cap_mult > 0) & (w.origin_agencies > 0) & nat_ok[w.origin_nat]



def cancel(model: MigrationModel, ids: np.ndarray, src: State) -> None:
    """A trip is cancelled before departure: part of the package price comes back; home."""
    p = model.people
    refund = model.cfg.travel.refund_share * model.world.agency_price
    p.savings_usd[ids] += np.float32(refund)
    p.spent_usd[ids] -= np.float32(refund)
    model.recorder.add("paid_agencies_usd", -float(refund * ids.size))
    p.move(ids, src, State.AT_HOME, model.day)
    model.recorder.add("cancelled", ids.size)
