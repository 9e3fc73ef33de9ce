"""Compiled forms of the rules for people in Belarus: living there, going home, leaving Minsk.

Each function here does one phase of :class:`sim.model.model.MigrationModel` with the same numbers:

- :func:`live_in_belarus` is ``MigrationModel.live_in_belarus`` (a day's hotel);
- :func:`go_home` is ``MigrationModel.go_home`` (returns: free seats, own tickets);
- :func:`leave_minsk` is ``MigrationModel.leave_minsk`` (Minsk -> the border);
- :func:`choose_segment` is ``MigrationModel._choose_segment`` (also used by the border phase).

What stays in numpy, as the numpy rules write it: the per-segment weights
(:func:`sim.model.population.segment_weights`, with ``exp``/``log``), the chance of wanting to go home
(:func:`sim.model.population.return_willingness`, with ``exp``), the stochastic rounding of the
repatriation seats (``model._scaled``, a Generator draw) and the network's failure average.
The kernels gather the inputs, draw, allocate, pay and pick who moves; the moves themselves
(:meth:`Population.move`) and the recorder are written here in the numpy rules' order.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engines.compiled.common import first_k, u01
from sim.model.population import State, return_willingness, segment_weights
from sim.model.rng import (
    LEAVE_MINSK,
    REPATRIATION_SEATS,
    RETURN_OWN,
    RETURN_TIE,
    RETURN_WILLING,
    SEGMENT_CHOICE,
)


def _like_numpy(x):
    """A scalar as numpy 2 uses it against a float32 array: a Python number (weak) becomes float32
    (NEP 50); a numpy scalar keeps its own type (numba then promotes as numpy does)."""
    return np.float32(x) if type(x) in (int, float, bool) else x


# ---- live in Belarus ------------------------------------------------------------------------
@njit(cache=True)
def _pay_hotel(mk: np.ndarray, ab: np.ndarray, usd: np.float32, savings: np.ndarray,
               spent: np.ndarray) -> None:
    """``Population.pay(rows, usd)`` for the rows of both lists, in float32:
    ``amount = min(usd, savings)``; savings -= amount; spent += amount."""
    for rows in (mk, ab):
        for i in rows:
            amount = min(usd, savings[i])
            savings[i] = savings[i] - amount
            spent[i] = spent[i] + amount


def live_in_belarus(model) -> None:
    """Everyone in Minsk or at the border pays a day's hotel (``MigrationModel.live_in_belarus``).

    Each person pays for themselves only, so the two states' rows are paid one list after the
    other, without merging them as ``ids_in`` does.
    """
    p = model.people
    mk, ab = p.ids(State.IN_MINSK), p.ids(State.AT_BORDER)
    if mk.size + ab.size:
        _pay_hotel(mk, ab, np.float32(model.cfg.purchase.hotel_usd_per_day), p.savings_usd, p.spent_usd)


# ---- go home --------------------------------------------------------------------------------
@njit(cache=True)
def _arrive_home(back: np.ndarray, day_due: np.ndarray, returns: np.ndarray, day: int) -> np.ndarray:
    """Returning people whose flight lands today (``day_due <= day``); each one's ``returns`` + 1
    (int8, wrapping as numpy's ``returns[home] += 1``)."""
    home = np.empty(back.size, dtype=np.int64)
    n = 0
    for i in back:
        if day_due[i] <= day:
            returns[i] = returns[i] + 1
            home[n] = i
            n += 1
    return home[:n]


@njit(cache=True)
def _stranded(mk: np.ndarray, ab: np.ndarray, day: int, day_in_belarus: np.ndarray,
              pushbacks: np.ndarray, savings: np.ndarray, risk: np.ndarray, nationality: np.ndarray,
              repat_ok: np.ndarray, seats_today: bool, fare, cold_today: float, not_shelter: float,
              own_ticket_usd, free_seat_mult: float):
    """Per person in Belarus, the arguments of :func:`sim.model.population.return_willingness` as
    ``go_home`` builds them, and who is eligible for a free seat.

    The people are taken in the order ``here = [in Minsk..., at the border...]`` (each part
    ascending), not merged as ``ids_in`` does: every value here is per person, so the order
    changes none of them, and :func:`_decide_returns` restores the ascending order where it
    matters (the queue for free seats).

    Returns:
        (here, days int16, pushbacks int16, cold float64, broke bool, risk float32,
        free-seat multiplier float64, eligible bool), each over ``here``.
    """
    n_minsk = mk.size
    n = n_minsk + ab.size
    here = np.empty(n, dtype=np.int64)
    days = np.empty(n, dtype=np.int16)
    pb = np.empty(n, dtype=np.int16)
    cold = np.empty(n, dtype=np.float64)
    broke = np.empty(n, dtype=np.bool_)
    rk = np.empty(n, dtype=np.float32)
    mult = np.empty(n, dtype=np.float64)
    eligible = np.empty(n, dtype=np.bool_)
    for j in range(n):
        at_border = j >= n_minsk
        i = ab[j - n_minsk] if at_border else mk[j]
        here[j] = i
        days[j] = np.int16(day - day_in_belarus[i])
        pb[j] = pushbacks[i]
        # cold_on(day) * (state == AT_BORDER) * (not shelter): two float64 products, in order
        cold[j] = cold_today * (1.0 if at_border else 0.0) * not_shelter
        broke[j] = savings[i] < own_ticket_usd
        rk[j] = risk[i]
        # no seats (most days): nobody is eligible, and nobody's nationality need be read
        eligible[j] = seats_today and repat_ok[nationality[i]] and savings[i] >= fare
        mult[j] = free_seat_mult if eligible[j] else 1.0
    return here, days, pb, cold, broke, rk, mult, eligible


@njit(cache=True)
def _decide_returns(here: np.ndarray, n_minsk: int, prob: np.ndarray, broke: np.ndarray,
                    eligible: np.ndarray, seats: int, key_willing: np.uint64, key_tie: np.uint64,
                    key_own: np.uint64, own_share, day_in_belarus: np.ndarray, origin: np.ndarray,
                    n_origins: int, savings: np.ndarray, spent: np.ndarray, pay_fare: bool,
                    fare_usd: np.float32, own_ticket_usd: np.float32, day_due: np.ndarray, day: int):
    """Who goes home today, as ``go_home`` decides it, with the payments and ``day_due``.

    ``here`` is as :func:`_stranded` orders it: the first ``n_minsk`` in Minsk, then those at
    the border. Willing if the "return.willing" draw < ``prob``; the willing and eligible queue
    for the free seats in ascending row order, as in ``go_home`` (:func:`first_k` by day in
    Belarus and the "return.tie" draw, then position); the other willing buy their own ticket if
    the "return.own" draw < ``own_share`` and they are not broke. Winners pay the fare (when
    ``pay_fare``), own-ticket buyers the ticket; both are due home tomorrow.

    Returns:
        (free in Minsk, free at the border, own in Minsk, own at the border) rows, each
        ascending, and the (O,) count of all of them per origin (what ``report_failures`` counts).
    """
    n = here.size
    willing = np.empty(n, dtype=np.bool_)
    n_cand = 0
    for j in range(n):
        willing[j] = np.float64(u01(key_willing, here[j])) < prob[j]
        if willing[j] and eligible[j]:
            n_cand += 1
    # the candidates in ascending row order: merge the Minsk part's and the border part's
    cand = np.empty(n_cand, dtype=np.int64)
    a, b = 0, n_minsk
    for c in range(n_cand):
        while a < n_minsk and not (willing[a] and eligible[a]):
            a += 1
        while b < n and not (willing[b] and eligible[b]):
            b += 1
        if b >= n or (a < n_minsk and here[a] < here[b]):
            cand[c] = a
            a += 1
        else:
            cand[c] = b
            b += 1
    cand_day = np.empty(n_cand, dtype=np.int16)
    cand_tie = np.empty(n_cand, dtype=np.float32)
    for c in range(n_cand):
        i = here[cand[c]]
        cand_day[c] = day_in_belarus[i]
        cand_tie[c] = u01(key_tie, i)
    seated = np.zeros(n, dtype=np.bool_)
    win = first_k(seats, cand_day, cand_tie)
    for c in range(n_cand):
        if win[c]:
            seated[cand[c]] = True

    # 0 free in Minsk, 1 free at the border, 2 own in Minsk, 3 own at the border, -1 stays
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
        elif willing[j] and np.float64(u01(key_own, i)) < own_share and not broke[j]:
            amount = min(own_ticket_usd, savings[i])
            savings[i] = savings[i] - amount
            spent[i] = spent[i] + amount
            g = 2
        else:
            continue
        if j >= n_minsk:
            g += 1
        group[j] = g
        sizes[g] += 1
    free_mk = np.empty(sizes[0], dtype=np.int64)
    free_ab = np.empty(sizes[1], dtype=np.int64)
    own_mk = np.empty(sizes[2], dtype=np.int64)
    own_ab = np.empty(sizes[3], dtype=np.int64)
    by_origin = np.zeros(n_origins, dtype=np.int64)
    due = np.int16(day + 1)
    sizes[:] = 0
    for j in range(n):
        g = group[j]
        if g < 0:
            continue
        i = here[j]
        if g == 0:
            free_mk[sizes[0]] = i
        elif g == 1:
            free_ab[sizes[1]] = i
        elif g == 2:
            own_mk[sizes[2]] = i
        else:
            own_ab[sizes[3]] = i
        sizes[g] += 1
        by_origin[origin[i]] += 1
        day_due[i] = due
    return free_mk, free_ab, own_mk, own_ab, by_origin


def go_home(model) -> None:
    """Returning people land; people in Belarus decide to go home (``MigrationModel.go_home``).

    The numpy rule's steps, in its order: returning -> returned; the chance of wanting to go
    home (:func:`return_willingness`, in numpy); free repatriation seats (FIFO by day in Belarus),
    then own tickets; each group moved per state to returning and counted; the seats recorded;
    the failures reported to the network.
    """
    p, w, c, day = model.people, model.world, model.cfg.returns, model.day
    pol = w.policy
    home = _arrive_home(p.ids(State.RETURNING), p.day_due, p.returns, day)
    p.move(home, State.RETURNING, State.RETURNED, day)

    mk, ab = p.ids(State.IN_MINSK), p.ids(State.AT_BORDER)
    if mk.size + ab.size == 0:
        return
    real = pol.repat_seats * pol.cooperation
    # no seats today (most days): _scaled gives 0 without a draw
    seats = 0 if float(real) * model.scale == 0.0 else int(model._scaled(real, REPATRIATION_SEATS))
    fare = pol.repat_fare_usd if seats > 0 else 0.0
    here, days, pushbacks, cold, broke, risk, mult, eligible = _stranded(
        mk, ab, day, p.day_in_belarus, p.pushbacks, p.savings_usd, p.risk, p.nationality,
        pol.repat_ok, seats > 0, _like_numpy(fare), w.cold_on(day), float(not pol.shelter),
        _like_numpy(c.own_ticket_usd), float(c.free_seat_mult))
    prob = return_willingness(c.base_willing_per_day, days, c.days_scale, pushbacks, c.pushback_weight,
                              cold, c.cold_weight, broke, c.broke_weight, risk, c.stress_max, mult)
    keys = model.streams
    free_mk, free_ab, own_mk, own_ab, by_origin = _decide_returns(
        here, mk.size, prob, broke, eligible, seats, keys.counter_key(RETURN_WILLING, day),
        keys.counter_key(RETURN_TIE, day), keys.counter_key(RETURN_OWN, day),
        _like_numpy(c.own_ticket_share), p.day_in_belarus, p.origin, w.n_origins,
        p.savings_usd, p.spent_usd, bool(fare > 0), np.float32(fare), np.float32(c.own_ticket_usd),
        p.day_due, day)
    rec = model.recorder
    for (in_minsk, at_border), name in (((free_mk, free_ab), "repatriated"),
                                        ((own_mk, own_ab), "returned_own_ticket")):
        p.move(in_minsk, State.IN_MINSK, State.RETURNING, day)
        p.move(at_border, State.AT_BORDER, State.RETURNING, day)
        rec.add(name, in_minsk.size + at_border.size)
    if seats > 0:
        rec.add("repatriation_seats", seats)
    if free_mk.size + free_ab.size + own_mk.size + own_ab.size:  # MigrationModel.report_failures
        model.failure_ema += (1.0 - model.decay) / model.scale * by_origin


# ---- leave Minsk ----------------------------------------------------------------------------
@njit(cache=True)
def _leave(mk: np.ndarray, key: np.uint64, chance) -> np.ndarray:
    """People in Minsk whose "leave_minsk" draw is below today's ``chance``."""
    go = np.empty(mk.size, dtype=np.int64)
    n = 0
    for i in mk:
        if u01(key, i) < chance:
            go[n] = i
            n += 1
    return go[:n]


def leave_minsk(model) -> None:
    """In Minsk -> at the border, with a segment chosen (``MigrationModel.leave_minsk``)."""
    p, cfg, day = model.people, model.cfg, model.day
    mk = p.ids(State.IN_MINSK)
    if mk.size == 0:
        return
    chance = min(1.0, cfg.travel.minsk_to_border_per_day * model.world.policy.transport_mult)
    go = _leave(mk, model.streams.counter_key(LEAVE_MINSK, day), _like_numpy(chance))
    choose_segment(model, go, SEGMENT_CHOICE)
    p.move(go, State.IN_MINSK, State.AT_BORDER, day)


# ---- segment choice -------------------------------------------------------------------------
@njit(cache=True)
def _assign_segments(ids: np.ndarray, key: np.uint64, cum: np.ndarray, segment: np.ndarray,
                     day_due: np.ndarray, seg_travel: np.ndarray, day: int) -> None:
    """``choose_by_weight`` with one row of weights (``cum``: normalised cumulative weights):
    the segment is the number of ``cum`` entries <= the draw (``searchsorted(side="right")``),
    at most the last; a new segment is reached after its travel days, the same one tomorrow."""
    last = cum.size - 1
    for i in ids:
        u = np.float64(u01(key, i))
        s = 0
        while s < cum.size and cum[s] <= u:
            s += 1
        s = min(s, last)
        changed = s != segment[i]
        segment[i] = s
        day_due[i] = day + (seg_travel[s] if changed else 1)


def choose_segment(model, ids: np.ndarray, stream: str) -> None:
    """``ids`` choose a border segment with draws from ``stream`` (``MigrationModel._choose_segment``).

    The weights are computed in numpy as there (:func:`segment_weights`), and their normalised
    cumulative sum as :func:`sim.model.population.choose_by_weight` makes it for one row of weights.
    """
    if ids.size == 0:
        return
    w = model.world
    k = model.cfg.border.prior_weight_per_day * model.scale
    perceived = (model.seg_success_ema + k * model.seg_prior) / (model.seg_attempts_ema + k)
    wts = segment_weights(perceived, w.seg_bias * w.policy.segment_weight, model.cfg.border.segment_choice_temperature)
    cum = np.cumsum(wts)
    cum = cum / (cum[-1] if cum[-1] > 0 else 1.0)
    p = model.people
    _assign_segments(ids, model.streams.counter_key(stream, model.day), cum, p.segment, p.day_due,
                     w.seg_travel, model.day)
