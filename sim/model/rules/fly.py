"""Flights: seats to the transit country, rerouting through hubs, stranding at a hub.

The rule lives here: :func:`fly` is the phase (moves, recorder, route sales) for both engines,
and its two kernels, in numpy, do the per-person work:

- :func:`queue_and_reroute`: today's queue for seats, the hubs' weights, the ticketed people
  rerouted through a hub (and who is cancelled);
- :func:`seat_and_strand`: the seats, route by route, and the people left waiting at a hub.

:mod:`sim.engines.compiled.fly` has their compiled twins (same names, arguments and results).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.allocate import allocate_fifo
from sim.model.population import State, cumulative_shares, pay, pick_by_share
from sim.model.rng import HUB_CHOICE, HUB_RECHOICE, SEAT_ROUTE_ORDER, SEAT_TIE, draw
from sim.model.rules.sell import cancel

if TYPE_CHECKING:
    from sim.model.day import Day
    from sim.model.model import MigrationModel

# the per-person work of this module's phases (numpy; sim.engines.compiled has their twins)
KERNELS: tuple[str, ...] = ("queue_and_reroute", "seat_and_strand")


def fly(model: MigrationModel, today: Day) -> None:
    """Ticketed and in-transit people take today's seats to the transit country; agencies reroute via hubs.

    A ticketed person flies direct while a route from their airports will carry them and
    they have waited less than ``rebook_wait_days``; otherwise the agency sends them to a
    hub, chosen in proportion to the corridor seats a week from each hub that accept their
    nationality (or cancels after ``hub_stranded_days``). Routes, in a random order, seat
    those who may board them first come first served. People at a hub whose routes stop
    carrying them move to another hub, or go home after ``hub_stranded_days``.
    """
    p, w, cfg, day = model.people, model.world, model.cfg, model.day
    pol, rec, streams, kernels = w.policy, model.recorder, model.streams, model.kernels
    usd = cfg.purchase.hub_extra_usd
    usd32 = np.float32(usd)  # savings (float32) >= usd, and paying: float32 (NEP 50)
    tk = p.ids(State.TICKETED)
    tr = p.ids(State.IN_TRANSIT)
    pool, n_tk, hub_w, share, hub_ok, go, cancelled, n_reroute = kernels.queue_and_reroute(
        tk, tr, p.origin, p.nationality, p.day_entered, p.day_due, p.hub, p.savings_usd, p.spent_usd,
        w.routes_in_service(day), w.route_flights_per_week, w.route_seats, w.route_share, pol.boarding_ok,
        w.direct, w.route_from_hub, len(w.hubs), day,
        cfg.travel.rebook_wait_days, cfg.travel.hub_stranded_days, usd32, cfg.purchase.hub_extra_days,
        streams.counter_key(HUB_CHOICE, day))

    # routes seat people in a random order (no one to seat: no order needed)
    if pool.size:
        order = streams.generator(SEAT_ROUTE_ORDER, day).permutation(w.n_routes)
    else:
        order = np.zeros(0, dtype=np.int64)
    seat_tk, seat_tr, sold, visited, n_rest, home, go_again = kernels.seat_and_strand(
        pool, n_tk, order, today.seats, pol.boarding_ok, w.direct, w.route_from_hub, p.origin,
        p.nationality, p.hub, p.day_entered, p.day_due, p.day_arrived, p.returns, p.savings_usd,
        p.spent_usd, hub_w, share, hub_ok, day, cfg.travel.hub_stranded_days, usd32,
        streams.counter_key(SEAT_TIE, day), streams.counter_key(HUB_RECHOICE, day), w.route_entry, p.entry)

    # seats: moves, arrivals and fares route by route, in seating order (the fares are a float sum)
    p.move(seat_tk, State.TICKETED, State.IN_CITY, day)
    p.move(seat_tr, State.IN_TRANSIT, State.IN_CITY, day)
    sold_by_route = sold.tolist()
    for r in visited.tolist():
        rec.add(rec.arrival_columns[r], sold_by_route[r])
        rec.add("paid_airlines_usd", float(sold_by_route[r] * w.route_fare[r]))
    model.route_book.record_sales(sold / model.scale)

    # ticketed people who cannot fly direct: rerouted through a hub, or cancelled
    if go.size:
        rec.add("paid_agencies_usd", float(go.size * usd))
        p.move(go, State.TICKETED, State.IN_TRANSIT, day)
        rec.add("rerouted_via_hub", go.size)
    if n_reroute:
        cancel(model, cancelled, State.TICKETED)

    # in transit without a seat: home after too long at the hub, or on to another hub
    if n_rest:
        p.move(home, State.IN_TRANSIT, State.RETURNED, day)
        rec.add("stranded_at_hub_went_home", home.size)
        if go_again.size:
            rec.add("paid_agencies_usd", float(go_again.size * usd))


def hub_weights(model, carry: np.ndarray) -> np.ndarray:
    """(K, H) corridor seats a week from each hub on routes that carry nationality k today
    (``carry``: (R, K)); ``model`` is anything with the :class:`sim.model.world.World` as ``world``."""
    w = model.world
    weekly = w.route_flights_per_week * w.route_seats * w.route_share
    return _hub_weights(carry, w.route_from_hub, weekly, len(w.hubs))


def _hub_weights(carry: np.ndarray, route_from_hub: np.ndarray, weekly: np.ndarray, n_hubs: int) -> np.ndarray:
    """``hub_w[k, h] = sum of weekly[r]`` over the routes ``r`` from hub ``h`` that carry ``k``,
    added in route order."""
    hub_w = np.zeros((carry.shape[1], n_hubs))
    r, k = np.nonzero((route_from_hub >= 0)[:, None] & carry)  # each hub's routes, in route order
    np.add.at(hub_w, (k, route_from_hub[r]), weekly[r])
    return hub_w


def queue_and_reroute(tk, tr, origin, nationality, day_entered, day_due, hub, savings, spent,
                      in_service, flights_per_week, route_seats, route_share, boarding_ok, direct,
                      route_from_hub, n_hubs, day,
                      rebook_wait_days, hub_stranded_days, hub_extra_usd, hub_extra_days, choice_key):
    """Today's queue for seats, the hubs' weights, and the ticketed people sent to a hub.

    - ``carry[r, k] = in_service[r] & (flights_per_week[r] > 0) & boarding_ok[r, k]``;
      ``direct_ok[o, k]``: some route from origin ``o``'s airports (``direct``) carries ``k``;
    - the queue ``pool``: the ticketed (``tk``) with ``direct_ok`` and
      ``day - day_entered < rebook_wait_days`` (``n_tk`` of them), then the in transit (``tr``)
      with ``day_due <= day`` (at their hub);
    - ``hub_w`` (K, H): :func:`_hub_weights` of ``flights_per_week * route_seats * route_share``;
      ``share = cumsum(hub_w, axis=1) / total`` (over 1 where the total is 0), ``hub_ok = total > 0``;
    - the other ticketed (``n_reroute`` of them): with ``hub_ok`` and ``savings >= hub_extra_usd``
      they go (``go``): hub by :func:`sim.model.population.pick_by_share` on draw ``choice_key``, pay the detour
      (:func:`_pay`), ``day_due = day + hub_extra_days``; the rest whose
      ``day - day_entered > hub_stranded_days`` are to be cancelled (``cancel``).

    Changes ``hub``, ``day_due``, ``savings``, ``spent`` in place (of ``go`` only).

    Returns:
        pool, n_tk, hub_w, share, hub_ok, go, cancel, n_reroute (ids in ``tk``/``tr`` order).
    """
    serv = in_service & (flights_per_week > 0)
    carry = serv[:, None] & boarding_ok  # (R, K)
    direct_ok = (direct.astype(int) @ carry.astype(int)) > 0  # (O, K)
    go_direct = direct_ok[origin[tk], nationality[tk]] & (day - day_entered[tk] < rebook_wait_days)
    pool = np.concatenate([tk[go_direct], tr[day_due[tr] <= day]])
    n_tk = int(np.count_nonzero(go_direct))

    hub_w = _hub_weights(carry, route_from_hub, flights_per_week * route_seats * route_share, n_hubs)
    share = cumulative_shares(hub_w)  # each nationality's hub choice, made once
    hub_ok = (hub_w > 0).any(axis=1)  # the weights are >= 0: some hub carries them

    reroute = tk[~go_direct]
    can = hub_ok[nationality[reroute]] & (savings[reroute] >= hub_extra_usd)
    go = reroute[can]
    hub[go] = pick_by_share(share[nationality[go]], draw(choice_key, go))
    pay(go, hub_extra_usd, savings, spent)
    day_due[go] = day + hub_extra_days
    waiting = reroute[~can]
    cancelled = waiting[day - day_entered[waiting] > hub_stranded_days]
    return pool, n_tk, hub_w, share, hub_ok, go, cancelled, int(reroute.size)


def seat_and_strand(pool, n_tk, order, seats, boarding_ok, direct, route_from_hub, origin, nationality,
                    hub, day_entered, day_due, day_arrived, returns, savings, spent, hub_w, share,
                    hub_ok, day, hub_stranded_days, hub_extra_usd, tie_key, rechoice_key, route_entry, entry):
    """Today's seats, route by route in ``order``; then the people left waiting at a hub.

    - who may board route ``r``: ``seats[r] > 0``, ``boarding_ok[r, nationality]``, and from
      their own city (the pool's first ``n_tk``, ticketed: ``direct[origin, r]``) or from their
      hub (in transit: ``hub == route_from_hub[r]``);
    - each route in ``order`` seats the first ``seats[r]`` of those with no seat yet by (day
      waiting: ``day_entered`` ticketed, ``day_due`` in transit; draw ``tie_key``; position)
      (:func:`sim.model.allocate.allocate_fifo`); the seated get ``day_arrived = day``, hub -1,
      ``entry = route_entry[r]`` (the entry point the route lands at);
    - in transit and not seated (``n_rest``): ``day - day_due > hub_stranded_days`` -> home
      (hub -1, returns + 1); else, if ``hub_w[k, hub] <= 0``, ``hub_ok[k]`` and
      ``savings >= hub_extra_usd`` -> another hub (``go``): :func:`sim.model.population.pick_by_share` on draw
      ``rechoice_key``, pay the detour, ``day_entered = day``.

    Changes ``hub``, ``day_entered``, ``day_arrived``, ``entry``, ``returns``, ``savings``, ``spent`` in place.

    Returns:
        seat_tk, seat_tr (seated, from ticketed / in transit), sold (R,) int64, visited (routes
        that seated someone, in seating order), n_rest, home, go (ids in pool order).
    """
    is_tk = np.arange(pool.size) < n_tk
    wait = np.where(is_tk, day_entered[pool], day_due[pool])
    tie = draw(tie_key, pool)
    o, k = origin[pool], nationality[pool]
    # (R, pool): who may take a seat on each route today (from their own city, or their hub)
    may_board = (boarding_ok[:, k] & np.where(is_tk, direct[o].T, hub[pool] == route_from_hub[:, None])
                 & (seats > 0)[:, None])
    boarding = may_board.any(axis=1).tolist()
    seated = np.zeros(pool.size, bool)
    sold = np.zeros(seats.size, dtype=np.int64)
    visited = []
    for r in order.tolist():
        if not boarding[r]:
            continue
        cand = np.flatnonzero(may_board[r] & ~seated)
        if cand.size == 0:
            continue
        win = cand[allocate_fifo(int(seats[r]), wait[cand], tie[cand])]
        seated[win] = True
        entry[pool[win]] = route_entry[r]
        sold[r] = win.size
        visited.append(r)
    ids = pool[seated]
    day_arrived[ids] = day
    hub[ids] = -1

    rest = pool[n_tk:][~seated[n_tk:]]
    n_rest = rest.size
    too_long = day - day_due[rest] > hub_stranded_days
    home = rest[too_long]
    hub[home] = -1
    returns[home] += 1
    rest = rest[~too_long]
    k = nationality[rest]
    go = rest[(hub_w[k, hub[rest]] <= 0) & hub_ok[k] & (savings[rest] >= hub_extra_usd)]
    hub[go] = pick_by_share(share[nationality[go]], draw(rechoice_key, go))
    pay(go, hub_extra_usd, savings, spent)
    day_entered[go] = day
    return (pool[:n_tk][seated[:n_tk]], pool[n_tk:][seated[n_tk:]], sold, np.array(visited, dtype=np.int64),
            n_rest, home, go)
