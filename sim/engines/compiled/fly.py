"""The flights phase's kernels compiled: twins of :mod:`sim.model.rules.fly`'s, same numbers.

The rule and the phase (moves, recorder, route sales) live in :mod:`sim.model.rules.fly`; these
are its two kernels, with the same names, arguments and results, each one compiled loop:

- :func:`queue_and_reroute`: today's queue for seats (ticketed people who may fly direct, then
  in-transit people who reached their hub), the hubs' weekly corridor seats per nationality,
  and the ticketed people who cannot fly direct, rerouted through a hub (``hub.choice``) or to
  be cancelled;
- :func:`seat_and_strand`: routes in the given order, each a FIFO queue
  (:func:`sim.engines.compiled.common.first_k`) over those who may board it and have no seat
  yet; then people stranded at a hub go home or move to another hub (``hub.rechoice``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engines.compiled.common import first_k, u01


@njit(cache=True, inline="always")
def _choose_hub(share: np.ndarray, k: int, u: np.float32) -> int:
    """One row of :func:`sim.model.population.choose_by_weight` (2-D form) for nationality ``k``:
    the number of hubs whose ``cum / total`` (float64) is ``<= u``, at most the last hub."""
    n_hubs = share.shape[1]
    pick = 0
    for j in range(n_hubs):
        if share[k, j] <= np.float64(u):
            pick += 1
    return min(pick, n_hubs - 1)


@njit(cache=True, inline="always")
def _pay(i: int, usd: np.float32, savings: np.ndarray, spent: np.ndarray) -> None:
    """:meth:`sim.model.population.Population.pay` for one person (float32, never below 0)."""
    amount = min(usd, savings[i])
    savings[i] = savings[i] - amount
    spent[i] = spent[i] + amount


@njit(cache=True)
def queue_and_reroute(tk, tr, origin, nationality, day_entered, day_due, hub, savings, spent,
                      in_service, flights_per_week, route_seats, route_share, boarding_ok, direct,
                      route_from_hub, n_hubs, day,
                      rebook_wait_days, hub_stranded_days, hub_extra_usd, hub_extra_days, choice_key):
    """:func:`sim.model.rules.fly.queue_and_reroute`: today's queue for seats, the hubs'
    weights, and the ticketed people sent to a hub (hub, detour paid, ``day_due`` written here).

    Returns:
        pool (ticketed who fly direct, then in transit at their hub), n_tk (how many of the
        pool are ticketed), hub_w (K, H), share (K, H) ``cum / total`` of each nationality's
        hub weights (``choose_by_weight``), hub_ok (K,) weights sum > 0, go (rerouted rows),
        cancel (rows to cancel), n_reroute (ticketed who cannot fly direct).
    """
    n_routes, n_nat = boarding_ok.shape
    n_origins = direct.shape[0]
    # serv: in service today with flights in the week; weekly corridor seats (int * int * float)
    serv = np.empty(n_routes, dtype=np.bool_)
    weekly = np.empty(n_routes)
    for r in range(n_routes):
        serv[r] = in_service[r] and flights_per_week[r] > 0
        weekly[r] = np.float64(flights_per_week[r] * route_seats[r]) * route_share[r]
    # direct_ok (O, K): some route in service from the origin's airports carries nationality k
    direct_ok = np.zeros((n_origins, n_nat), dtype=np.bool_)
    for o in range(n_origins):
        for r in range(n_routes):
            if direct[o, r] and serv[r]:
                for k in range(n_nat):
                    if boarding_ok[r, k]:
                        direct_ok[o, k] = True
    # hub_weights: np.add.at over (route, nationality) in route order, one addition each
    hub_w = np.zeros((n_nat, n_hubs))
    for r in range(n_routes):
        h = route_from_hub[r]
        if h >= 0 and serv[r]:
            for k in range(n_nat):
                if boarding_ok[r, k]:
                    hub_w[k, h] += weekly[r]
    # choose_by_weight's cum / where(total > 0, total, 1) per nationality (cumsum is sequential);
    # the weights are >= 0, so "sum > 0" is "the cumulative total > 0"
    share = np.empty((n_nat, n_hubs))
    hub_ok = np.zeros(n_nat, dtype=np.bool_)
    for k in range(n_nat):
        cum = 0.0
        for j in range(n_hubs):
            cum += hub_w[k, j]
            share[k, j] = cum
        total = cum  # the last cumulative weight (0 with no hubs)
        hub_ok[k] = total > 0
        denom = total if total > 0 else 1.0
        for j in range(n_hubs):
            share[k, j] = share[k, j] / denom

    # the queue: ticketed who may fly direct (and have not waited too long), then at the hub
    pool = np.empty(tk.size + tr.size, dtype=np.int64)
    reroute = np.empty(tk.size, dtype=np.int64)
    n_tk = 0
    n_reroute = 0
    for i in tk:
        # day - day_entered is int16 arithmetic in numpy
        if direct_ok[origin[i], nationality[i]] and np.int16(day - np.int64(day_entered[i])) < rebook_wait_days:
            pool[n_tk] = i
            n_tk += 1
        else:
            reroute[n_reroute] = i
            n_reroute += 1
    n = n_tk
    for i in tr:
        if day_due[i] <= day:
            pool[n] = i
            n += 1

    # a hub that carries them and money for the detour (hub.choice), or cancelled once the
    # agency has waited hub_stranded_days
    go = np.empty(n_reroute, dtype=np.int64)
    cancel = np.empty(n_reroute, dtype=np.int64)
    n_go = 0
    n_cancel = 0
    for q in range(n_reroute):
        i = reroute[q]
        k = nationality[i]
        if hub_ok[k] and savings[i] >= hub_extra_usd:
            hub[i] = _choose_hub(share, k, u01(choice_key, i))
            _pay(i, hub_extra_usd, savings, spent)
            day_due[i] = day + hub_extra_days
            go[n_go] = i
            n_go += 1
        elif np.int16(day - np.int64(day_entered[i])) > hub_stranded_days:
            cancel[n_cancel] = i
            n_cancel += 1
    return pool[:n], n_tk, hub_w, share, hub_ok, go[:n_go], cancel[:n_cancel], n_reroute


@njit(cache=True)
def seat_and_strand(pool, n_tk, order, seats, boarding_ok, direct, route_from_hub, origin, nationality,
                    hub, day_entered, day_due, day_arrived, returns, savings, spent, hub_w, share,
                    hub_ok, day, hub_stranded_days, hub_extra_usd, tie_key, rechoice_key, route_entry, entry):
    """:func:`sim.model.rules.fly.seat_and_strand`: today's seats, route by route in ``order``;
    then the people left waiting at a hub.

    On each route, the candidates are the pool's people, in pool order, who may board it and
    have no seat yet; the first ``seats[r]`` by (day waiting, ``seat.tie`` draw, position) get a
    seat (``first_k``); seated people get ``day_arrived`` and lose their hub. Then the
    stranded: in transit, not seated, waited more than ``hub_stranded_days`` -> home (hub -1,
    returns + 1); else, if their hub carries them no more and another does, and they can pay
    -> a new hub (``hub.rechoice``), the price paid, ``day_entered``.

    Returns:
        seat_tk, seat_tr (seated rows from ticketed, from in transit), sold (R,) int64,
        visited (routes that seated someone, in seating order), n_rest (pool people in transit
        and not seated), home (rows going home), go (rows that moved to another hub).
    """
    n = pool.size
    wait = np.empty(n, dtype=np.int64)  # the day they started waiting for this seat
    tie = np.empty(n, dtype=np.float32)
    for j in range(n):
        i = pool[j]
        wait[j] = day_entered[i] if j < n_tk else day_due[i]
        tie[j] = u01(tie_key, i)
    seat_route = np.full(n, -1, dtype=np.int64)
    sold = np.zeros(seats.size, dtype=np.int64)
    visited = np.empty(seats.size, dtype=np.int64)
    n_visited = 0
    cand = np.empty(n, dtype=np.int64)
    cand_wait = np.empty(n, dtype=np.int64)
    cand_tie = np.empty(n, dtype=np.float32)
    for r in order:
        if seats[r] <= 0:  # may_board needs seats today
            continue
        m = 0
        for j in range(n):
            if seat_route[j] >= 0:
                continue
            i = pool[j]
            if not boarding_ok[r, nationality[i]]:
                continue
            if j < n_tk:
                ok = direct[origin[i], r]  # from their own city
            else:
                ok = hub[i] == route_from_hub[r]  # from their hub
            if ok:
                cand[m] = j
                cand_wait[m] = wait[j]
                cand_tie[m] = tie[j]
                m += 1
        if m == 0:
            continue
        win = first_k(seats[r], cand_wait[:m], cand_tie[:m])
        for q in range(m):
            if win[q]:
                seat_route[cand[q]] = r
                sold[r] += 1
        visited[n_visited] = r
        n_visited += 1

    seat_tk = np.empty(n_tk, dtype=np.int64)
    seat_tr = np.empty(n - n_tk, dtype=np.int64)
    home = np.empty(n - n_tk, dtype=np.int64)
    go = np.empty(n - n_tk, dtype=np.int64)
    n_seat_tk = n_seat_tr = n_rest = n_home = n_go = 0
    for j in range(n):
        i = pool[j]
        if seat_route[j] >= 0:
            day_arrived[i] = day
            entry[i] = route_entry[seat_route[j]]
            hub[i] = -1
            if j < n_tk:
                seat_tk[n_seat_tk] = i
                n_seat_tk += 1
            else:
                seat_tr[n_seat_tr] = i
                n_seat_tr += 1
        elif j >= n_tk:  # in transit, no seat today
            n_rest += 1
            if np.int16(day - np.int64(day_due[i])) > hub_stranded_days:
                hub[i] = -1
                returns[i] += 1  # int8, wraps as numpy's
                home[n_home] = i
                n_home += 1
                continue
            k = nationality[i]
            # their hub carries them no more, another does, and they can pay the detour
            if hub_w[k, hub[i]] <= 0 and hub_ok[k] and savings[i] >= hub_extra_usd:
                hub[i] = _choose_hub(share, k, u01(rechoice_key, i))
                _pay(i, hub_extra_usd, savings, spent)
                day_entered[i] = day
                go[n_go] = i
                n_go += 1
    return (seat_tk[:n_seat_tk], seat_tr[:n_seat_tr], sold, visited[:n_visited], n_rest,
            home[:n_home], go[:n_go])
