"""Compiled twins of the kernels of :mod:`sim.model.rules.transit` (people in the transit country).

Each function here has the name, the arguments and the results, bit for bit, of the numpy kernel
of the same name, which is the rule (its docstring has the formula): :func:`pay_hotel`,
:func:`arrive_home`, :func:`stranded`, :func:`decide_returns`, :func:`leavers`,
:func:`pick_segments`. The phases that call them, and the books they keep, are in
:mod:`sim.model.rules.transit`, the same for both engines.

Where numpy meets a Python float with a float32 array it computes in float32 (NEP 50), numba in
float64: the thin Python functions here type such scalars (:func:`as_numpy_compares`) before
calling their loop. :func:`pick_segments` makes the normalised cumulative weights in numpy, as
:func:`sim.model.population.choose_by_weight` does.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engines.compiled.common import as_numpy_compares, first_k, first_k_by_group, u01
from sim.model.allocate import whole_units
from sim.model.population import cumulative_shares


@njit(cache=True)
def pay_hotel(in_city: np.ndarray, at_border: np.ndarray, usd: float, savings: np.ndarray,
              spent: np.ndarray) -> None:
    """Everyone in both lists pays ``usd``: ``amount = min(float32(usd), savings)``; savings -=
    amount; spent += amount (float32)."""
    usd32 = np.float32(usd)
    for rows in (in_city, at_border):
        for i in rows:
            amount = min(usd32, savings[i])
            savings[i] = savings[i] - amount
            spent[i] = spent[i] + amount


@njit(cache=True)
def arrive_home(returning: np.ndarray, day_due: np.ndarray, returns: np.ndarray, day: int) -> np.ndarray:
    """Returning people whose flight lands today (``day_due <= day``); each one's ``returns`` + 1
    (int8, wrapping as numpy's ``returns[home] += 1``)."""
    home = np.empty(returning.size, dtype=np.int64)
    n = 0
    for i in returning:
        if day_due[i] <= day:
            returns[i] = returns[i] + 1
            home[n] = i
            n += 1
    return home[:n]


def stranded(in_city: np.ndarray, at_border: np.ndarray, day: int, day_arrived: np.ndarray,
             pushbacks: np.ndarray, savings: np.ndarray, risk: np.ndarray, nationality: np.ndarray,
             repat_ok: np.ndarray, seats_today: bool, fare_usd: float, cold_at_border: float,
             own_ticket_usd: float, free_seat_mult: float):
    """Per person in the transit country, the arguments of ``return_willingness`` and who may take a free seat."""
    return _stranded(in_city, at_border, day, day_arrived, pushbacks, savings, risk, nationality,
                     repat_ok, bool(seats_today), as_numpy_compares(fare_usd), float(cold_at_border),
                     as_numpy_compares(own_ticket_usd), float(free_seat_mult))


@njit(cache=True)
def _stranded(in_city, at_border, day, day_arrived, pushbacks, savings, risk, nationality, repat_ok,
              seats_today, fare_usd, cold_at_border, own_ticket_usd, free_seat_mult):
    n_city = in_city.size
    n = n_city + at_border.size
    here = np.empty(n, dtype=np.int64)
    days = np.empty(n, dtype=np.int16)
    pb = np.empty(n, dtype=np.int16)
    cold = np.empty(n, dtype=np.float64)
    broke = np.empty(n, dtype=np.bool_)
    rk = np.empty(n, dtype=np.float32)
    seat_mult = np.empty(n, dtype=np.float64)
    eligible = np.empty(n, dtype=np.bool_)
    for j in range(n):
        at_the_border = j >= n_city
        i = at_border[j - n_city] if at_the_border else in_city[j]
        here[j] = i
        days[j] = np.int16(day - day_arrived[i])
        pb[j] = pushbacks[i]
        cold[j] = cold_at_border if at_the_border else 0.0
        broke[j] = savings[i] < own_ticket_usd
        rk[j] = risk[i]
        # no seats (most days): nobody is eligible, and nobody's nationality need be read
        eligible[j] = seats_today and repat_ok[nationality[i]] and savings[i] >= fare_usd
        seat_mult[j] = free_seat_mult if eligible[j] else 1.0
    return here, days, pb, cold, broke, rk, seat_mult, eligible


def decide_returns(here: np.ndarray, n_city: int, prob: np.ndarray, broke: np.ndarray,
                   eligible: np.ndarray, seats: int, key_willing: np.uint64, key_tie: np.uint64,
                   key_own: np.uint64, own_share: float, day_arrived: np.ndarray, savings: np.ndarray,
                   spent: np.ndarray, fare_usd: float, own_ticket_usd: float, day_due: np.ndarray,
                   day: int):
    """Who goes home today (free seats, then own tickets), with the payments and ``day_due``."""
    return _decide_returns(here, n_city, prob, broke, eligible, seats, key_willing, key_tie, key_own,
                           as_numpy_compares(own_share), day_arrived, savings, spent, bool(fare_usd > 0),
                           np.float32(fare_usd), np.float32(own_ticket_usd), day_due, day)


@njit(cache=True)
def _decide_returns(here, n_city, prob, broke, eligible, seats, key_willing, key_tie, key_own, own_share,
                    day_arrived, savings, spent, pay_fare, fare_usd, own_ticket_usd, day_due, day):
    n = here.size
    willing = np.empty(n, dtype=np.bool_)
    n_cand = 0
    for j in range(n):
        willing[j] = np.float64(u01(key_willing, here[j])) < prob[j]
        if willing[j] and eligible[j]:
            n_cand += 1
    # the candidates in ascending row order: merge the city part's and the border part's
    cand = np.empty(n_cand, dtype=np.int64)
    a, b = 0, n_city
    for c in range(n_cand):
        while a < n_city and not (willing[a] and eligible[a]):
            a += 1
        while b < n and not (willing[b] and eligible[b]):
            b += 1
        if b >= n or (a < n_city and here[a] < here[b]):
            cand[c] = a
            a += 1
        else:
            cand[c] = b
            b += 1
    cand_day = np.empty(n_cand, dtype=np.int16)
    cand_tie = np.empty(n_cand, dtype=np.float32)
    for c in range(n_cand):
        i = here[cand[c]]
        cand_day[c] = day_arrived[i]
        cand_tie[c] = u01(key_tie, i)
    seated = np.zeros(n, dtype=np.bool_)
    win = first_k(seats, cand_day, cand_tie)
    for c in range(n_cand):
        if win[c]:
            seated[cand[c]] = True

    # 0 free in the city, 1 free at the border, 2 own in the city, 3 own at the border, -1 stays
    group = np.full(n, -1, dtype=np.int8)
    sizes = np.zeros(4, dtype=np.int64)
    for j in range(n):
        i = here[j]
        if seated[j]:
            if pay_fare:
                amount = min(fare_usd, savings[i])
                savings[i] = savings[i] - amount
                spent[i] = spent[i] + amount
            g = 0
        elif willing[j] and not broke[j] and u01(key_own, i) < own_share:
            amount = min(own_ticket_usd, savings[i])
            savings[i] = savings[i] - amount
            spent[i] = spent[i] + amount
            g = 2
        else:
            continue
        if j >= n_city:
            g += 1
        group[j] = g
        sizes[g] += 1
    free_city = np.empty(sizes[0], dtype=np.int64)
    free_border = np.empty(sizes[1], dtype=np.int64)
    own_city = np.empty(sizes[2], dtype=np.int64)
    own_border = np.empty(sizes[3], dtype=np.int64)
    due = np.int16(day + 1)
    sizes[:] = 0
    for j in range(n):
        g = group[j]
        if g < 0:
            continue
        i = here[j]
        if g == 0:
            free_city[sizes[0]] = i
        elif g == 1:
            free_border[sizes[1]] = i
        elif g == 2:
            own_city[sizes[2]] = i
        else:
            own_border[sizes[3]] = i
        sizes[g] += 1
        day_due[i] = due
    return free_city, free_border, own_city, own_border


def leavers(in_city: np.ndarray, key: np.uint64, chance: float) -> np.ndarray:
    """The people in the city whose leave draw is below today's ``chance``."""
    return _leavers(in_city, key, as_numpy_compares(chance))


@njit(cache=True)
def _leavers(in_city, key, chance):
    go = np.empty(in_city.size, dtype=np.int64)
    n = 0
    for i in in_city:
        if u01(key, i) < chance:
            go[n] = i
            n += 1
    return go[:n]


def pick_segments(ids: np.ndarray, key: np.uint64, weights: np.ndarray, entry: np.ndarray, segment: np.ndarray,
                  day_due: np.ndarray, travel: np.ndarray, day: int) -> None:
    """Each of ``ids`` picks a segment by its entry point's row of ``weights``; the normalised
    cumulative weights are made in numpy (``cumulative_shares``)."""
    cum = cumulative_shares(weights)
    _pick_segments(ids, key, cum, entry, segment, day_due, travel, day)


@njit(cache=True)
def _pick_segments(ids, key, cum, entry, segment, day_due, travel, day):
    """The segment is the number of the row's ``cum`` entries <= the draw, at most the last."""
    n_seg = cum.shape[1]
    last = n_seg - 1
    for i in ids:
        e = entry[i]
        u = np.float64(u01(key, i))
        s = 0
        while s < n_seg and cum[e, s] <= u:
            s += 1
        s = min(s, last)
        changed = s != segment[i]
        segment[i] = s
        day_due[i] = day + (travel[e, s] if changed else 1)


def board_legs(go: np.ndarray, leg: np.ndarray, cap: np.ndarray, day_entered: np.ndarray, key: np.uint64):
    """:func:`sim.model.rules.transit.board_legs`: within each leg, the first ``cap[l]`` by
    (day entered, ``leg.tie`` draw, position) (:func:`first_k_by_group`)."""
    return _board_legs(go, leg.astype(np.int64), whole_units(cap), day_entered, key)


@njit(cache=True)
def _board_legs(go, leg, cap, day_entered, key):
    n = go.size
    day = np.empty(n, dtype=np.int64)
    tie = np.empty(n, dtype=np.float32)
    for j in range(n):
        day[j] = day_entered[go[j]]
        tie[j] = u01(key, go[j])
    won = first_k_by_group(leg, cap, day, tie)
    n_won = np.zeros(cap.size, dtype=np.int64)
    for j in range(n):
        if won[j]:
            n_won[leg[j]] += 1
    return won, n_won


def exit_checks(go: np.ndarray, segment: np.ndarray, exit_control: np.ndarray, key: np.uint64) -> np.ndarray:
    """:func:`sim.model.rules.transit.exit_checks`: stopped if the ``exit.check`` draw (float32, as
    a float64) is below the segment's share."""
    return _exit_checks(go, segment, exit_control, key)


@njit(cache=True)
def _exit_checks(go, segment, exit_control, key):
    kept = np.empty(go.size, dtype=np.bool_)
    for j in range(go.size):
        kept[j] = np.float64(u01(key, go[j])) < exit_control[segment[go[j]]]
    return kept
