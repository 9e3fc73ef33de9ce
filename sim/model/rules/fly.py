"""Flights: seats to the transit country, rerouting through hubs, stranding at a hub."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.allocate import allocate_fifo
from sim.model.population import State, choose_by_weight
from sim.model.rng import HUB_CHOICE, HUB_RECHOICE, SEAT_ROUTE_ORDER, SEAT_TIE
from sim.model.rules.sell import cancel

if TYPE_CHECKING:
    from sim.model.model import MigrationModel

# the per-person work of this module's phases (numpy; sim.engines.compiled has their twins)
KERNELS: tuple[str, ...] = ()


def fly(model: MigrationModel) -> None:
    """Ticketed and in-transit people take today's seats to Minsk; agencies reroute via hubs.

    A ticketed person flies direct while a route from their airports will carry them and
    they have waited less than ``rebook_wait_days``; otherwise the agency sends them to a
    hub, chosen in proportion to the corridor seats a week from each hub that accept their
    nationality. People at a hub whose routes stop carrying them move to another hub, or go
    home after ``hub_stranded_days``.
    """
    p, w, cfg, day = model.people, model.world, model.cfg, model.day
    pol = w.policy
    serv = w.routes_in_service(day) & (w.route_flights_per_week > 0)  # (R,)
    carry = serv[:, None] & pol.boarding_ok  # (R, K)
    direct_ok = (w.direct.astype(int) @ carry.astype(int)) > 0  # (O, K)

    tk = p.ids(State.TICKETED)
    go_direct = direct_ok[p.origin[tk], p.nationality[tk]] & (day - p.day_entered[tk] < cfg.travel.rebook_wait_days)
    tr = p.ids(State.IN_TRANSIT)
    at_hub = tr[p.day_due[tr] <= day]

    # seats today: one FIFO queue per route over direct travellers and those at its hub
    pool = np.concatenate([tk[go_direct], at_hub])
    is_tk = np.zeros(pool.size, bool)
    is_tk[: int(go_direct.sum())] = True
    wait = np.where(is_tk, p.day_entered[pool], p.day_due[pool])
    tie = model.streams.uniform(SEAT_TIE, day, pool)
    seated = np.zeros(pool.size, bool)
    sold = np.zeros(w.n_routes, dtype=np.int64)
    o, k, h = p.origin[pool], p.nationality[pool], p.hub[pool]
    # (R, pool): who may take a seat on each route today (from their own city, or their hub)
    may_board = (pol.boarding_ok[:, k] & np.where(is_tk, w.direct[o].T, h == w.route_from_hub[:, None])
                 & (model.seats_today > 0)[:, None])
    boarding = may_board.any(axis=1).tolist()
    # routes seat people in a random order (no one to seat: no order needed)
    order = model.streams.generator(SEAT_ROUTE_ORDER, day).permutation(w.n_routes) if pool.size else []
    for r in order:
        if not boarding[r]:
            continue
        cand = np.flatnonzero(may_board[r] & ~seated)
        if cand.size == 0:
            continue
        win = cand[allocate_fifo(int(model.seats_today[r]), wait[cand], tie[cand])]
        seated[win] = True
        sold[r] = win.size
        ids = pool[win]
        from_tk = is_tk[win]
        p.move(ids[from_tk], State.TICKETED, State.IN_MINSK, day)
        p.move(ids[~from_tk], State.IN_TRANSIT, State.IN_MINSK, day)
        p.day_in_belarus[ids] = day
        p.hub[ids] = -1
        model.recorder.add(model.recorder.arrival_columns[r], ids.size)
        model.recorder.add("paid_airlines_usd", float(ids.size * w.route_fare[r]))
    model.route_book.record_sales(sold / model.scale)

    hub_w = hub_weights(model, carry)

    # rebook ticketed people who cannot fly direct
    reroute = tk[~go_direct]
    send_to_hub(model, reroute, State.TICKETED, hub_w, HUB_CHOICE)

    # in transit and not seated: waited too long at the hub -> home; hub no longer carries
    # them -> another hub that does
    rest = at_hub[~seated[int(is_tk.sum()):]]
    if rest.size:
        too_long = day - p.day_due[rest] > cfg.travel.hub_stranded_days
        home = rest[too_long]
        p.hub[home] = -1
        p.returns[home] += 1
        p.move(home, State.IN_TRANSIT, State.RETURNED, day)
        model.recorder.add("stranded_at_hub_went_home", home.size)
        rest = rest[~too_long]
        stuck = rest[hub_w[p.nationality[rest], p.hub[rest]] <= 0]
        other = hub_w[p.nationality[stuck]].sum(axis=1) > 0
        send_to_hub(model, stuck[other], State.IN_TRANSIT, hub_w, HUB_RECHOICE)



def hub_weights(model: MigrationModel, carry: np.ndarray) -> np.ndarray:
    """(K, H) corridor seats a week from each hub on routes that carry nationality k today."""
    w = model.world
    weekly = w.route_flights_per_week * w.route_seats * w.route_share
    hub_w = np.zeros((w.n_nationalities, len(w.hubs)))
    r, k = np.nonzero((w.route_from_hub >= 0)[:, None] & carry)  # each hub's routes, in route order
    np.add.at(hub_w, (k, w.route_from_hub[r]), weekly[r])
    return hub_w



def send_to_hub(model: MigrationModel, ids: np.ndarray, src: State, hub_w: np.ndarray, stream: str) -> None:
    p, cfg, day = model.people, model.cfg, model.day
    if ids.size == 0:
        return
    wk = hub_w[p.nationality[ids]]
    can = (wk.sum(axis=1) > 0) & (p.savings_usd[ids] >= cfg.purchase.hub_extra_usd)
    go = ids[can]
    if go.size:
        hub = choose_by_weight(wk[can], model.streams.uniform(stream, day, go))
        p.pay(go, cfg.purchase.hub_extra_usd)
        model.recorder.add("paid_agencies_usd", float(go.size * cfg.purchase.hub_extra_usd))
        p.hub[go] = hub
        if src == State.TICKETED:
            p.day_due[go] = day + cfg.purchase.hub_extra_days
        if src == State.TICKETED:
            p.move(go, State.TICKETED, State.IN_TRANSIT, day)
            model.recorder.add("rerouted_via_hub", go.size)
        else:
            p.day_entered[go] = day
    if src == State.TICKETED:
        # nowhere to go or no money for the detour: cancelled after the agency gives up
        waiting = ids[~can]
        cancel(model, waiting[day - p.day_entered[waiting] > cfg.travel.hub_stranded_days], State.TICKETED)
