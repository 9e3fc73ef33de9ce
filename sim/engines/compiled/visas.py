"""Visas, compiled: applications at the channels and collection of the visas issued.

The twins of :meth:`sim.model.model.MigrationModel.apply_for_visas` (with its helpers ``_credit``
and ``_cancel``) and :meth:`sim.model.model.MigrationModel.collect_visas`, with the same numbers:

- which channels serve whom and their capacities (``_credit``'s token buckets) are the same
  numpy calls on (C,) and (C, K) arrays as in the numpy method;
- one kernel does the people waiting for a package: the winners of each channel, in
  ``channel_preference`` order, are the first ``cap[c]`` of those still free whose
  nationality it serves, by (day entered, ``visa.tie`` draw, position) as ``allocate_fifo``
  picks them — found without a pass and a selection per channel (see :func:`_apply`); then
  the ones waiting too long are cancelled;
- the moves (:meth:`Population.move`) and the recorder's counters are written in the numpy
  method's order, and the one float counter (``paid_agencies_usd``) gets the same single
  ``-float(refund * n)`` as ``_cancel`` adds (-0.0 when nobody is cancelled, as there).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engines.compiled.common import TIE, u01
from sim.model.population import State
from sim.model.rng import VISA_TIE


@njit(cache=True)
def _lapsed(wv: np.ndarray, channel: np.ndarray, nationality: np.ndarray, serving: np.ndarray) -> np.ndarray:
    """Rows of ``wv`` whose channel no longer serves their nationality (ascending); their
    channel is reset to -1. ``wv[~serving[channel[wv], nationality[wv]]]`` and
    ``channel[lapsed] = -1`` of ``apply_for_visas``."""
    out = np.empty(wv.shape[0], dtype=np.int64)
    n = 0
    for i in wv:
        if not serving[channel[i], nationality[i]]:
            out[n] = i
            n += 1
            channel[i] = -1
    return out[:n]


@njit(cache=True, inline="always")
def _before(fifo: np.ndarray, a: int, b: int) -> bool:
    """Whether candidate ``a`` comes before ``b`` in ``allocate_fifo``'s order: by (day
    entered, tie draw) packed in ``fifo``, then by position."""
    return fifo[a] < fifo[b] or (fifo[a] == fifo[b] and a < b)


@njit(cache=True)
def _sort_fifo(members: np.ndarray, fifo: np.ndarray) -> None:
    """Sort ``members`` (ascending positions) in place by (``fifo``, position)."""
    order = np.argsort(fifo[members])
    sorted_ = members[order]
    # equal keys (the same day and the same 24-bit draw) back in position order
    i = 0
    m = sorted_.shape[0]
    while i < m:
        end = i + 1
        while end < m and fifo[sorted_[end]] == fifo[sorted_[i]]:
            end += 1
        if end - i > 1:
            sorted_[i:end] = np.sort(sorted_[i:end])
        i = end
    members[:] = sorted_


@njit(cache=True)
def _earliest(group: np.ndarray, room: np.ndarray, waited: np.ndarray, per_day: np.ndarray, day: int,
              wp: np.ndarray, key: np.uint64):
    """For each group ``g``, its first ``room[g]`` members in FIFO order, and their keys.

    FIFO order is ``allocate_fifo``'s: by day ``waited``, then tie draw (``u01(key, wp[j])``),
    then position ``j``. ``per_day[g, d]`` counts the members of ``g`` who have waited ``d``
    days (``waited == day - d``). Who started waiting after a group's ``room[g]``-th member's
    day cannot be among its first, so only the members up to that day get a key (the day and
    the draw's 24 bits in one int64) and are sorted. ``room[g]`` must not exceed the group's size.

    Returns:
        (first, start, fifo): ``first[start[g]:start[g] + room[g]]`` are group ``g``'s first
        members (indices into ``group``), earliest first; ``fifo[j]`` is the key of each
        member listed in ``first``.
    """
    n = group.shape[0]
    n_groups = room.shape[0]
    start = np.zeros(n_groups + 1, dtype=np.int64)
    last_day = np.full(n_groups, -1, dtype=np.int64)  # the room[g]-th member's day
    for g in range(n_groups):
        count = 0
        if room[g] > 0:
            for d in range(day, -1, -1):  # the longest waiting first
                count += per_day[g, d]
                if count >= room[g]:
                    last_day[g] = day - d
                    break
        start[g + 1] = start[g] + (count if room[g] > 0 else 0)
    first = np.empty(start[n_groups], dtype=np.int64)
    fifo = np.empty(n, dtype=np.int64)
    filled = start[:n_groups].copy()
    for j in range(n):
        g = group[j]
        if waited[j] <= last_day[g]:
            first[filled[g]] = j
            filled[g] += 1
            fifo[j] = np.int64(waited[j]) * 16777216 + np.int64(np.float64(u01(key, wp[j])) * TIE)
    for g in range(n_groups):
        _sort_fifo(first[start[g]:start[g + 1]], fifo)
    return first, start, fifo


@njit(cache=True)
def _apply(wp: np.ndarray, nationality: np.ndarray, day_entered: np.ndarray, day_due: np.ndarray,
           channel: np.ndarray, savings_usd: np.ndarray, spent_usd: np.ndarray, serving: np.ndarray,
           cap: np.ndarray, preference: np.ndarray, channel_days: np.ndarray, key: np.uint64,
           day: int, cancel_days: int, refund: np.float32):
    """The people loop of ``apply_for_visas``: allocation per channel, then cancellations.

    The numpy rule: for each channel ``c`` in ``preference`` with ``cap[c] > 0``, the
    candidates are the rows of ``wp`` not yet placed whose nationality ``c`` serves, and the
    first ``cap[c]`` of them by (day entered, ``visa.tie`` draw, position) win
    (``allocate_fifo``); winners get ``channel = c`` and ``day_due = day + channel_days[c]``.

    The same winners without a pass per channel: a channel always takes the earliest of its
    candidates, so what it takes of a nationality is the earliest of that nationality still
    free, and the ones taken of a nationality are always its earliest. No nationality gives
    more than the channels serving it can take (the sum of their capacities), so only that
    many of its earliest matter: they are found in one pass (:func:`_earliest`), and each
    channel then merges the heads of the lists of the nationalities it serves. Positions in
    ``wp`` order candidates as their positions among a channel's candidates do.

    Those placed nowhere who entered more than ``cancel_days`` ago are cancelled: ``refund``
    goes back from spent to savings (float32, as ``_cancel``).

    Returns:
        (winners, n_won, stuck, queue): the winners' rows (ascending), how many each channel
        placed (C,), the cancelled rows (ascending), and the people each channel could serve
        (C,) float: ``serving @ np.bincount(nationality[wp])``.
    """
    n = wp.shape[0]
    C, K = serving.shape
    k = np.empty(n, dtype=nationality.dtype)
    waited = np.empty(n, dtype=day_entered.dtype)
    per_day = np.zeros((K, day + 1), dtype=np.int64)  # people per nationality and days waited
    old = np.empty(n, dtype=np.int64)  # positions of those waiting longer than cancel_days
    n_old = 0
    for j in range(n):
        row = wp[j]
        k[j] = nationality[row]
        waited[j] = day_entered[row]
        d = day - np.int64(waited[j])
        if d < 0 or d > day:
            raise ValueError("day_entered outside [0, day]")
        per_day[k[j], d] += 1
        if d > cancel_days:
            old[n_old] = j
            n_old += 1
    by_nationality = per_day.sum(axis=1)
    # at most this many of each nationality can be placed today
    room = np.zeros(K, dtype=np.int64)
    for c in range(C):
        if cap[c] > 0:
            for g in range(K):
                if serving[c, g]:
                    room[g] += cap[c]
    for g in range(K):
        room[g] = min(room[g], by_nationality[g])
    first, start, fifo = _earliest(k, room, waited, per_day, day, wp, key)

    head = start[:K].copy()  # each nationality's earliest still free
    placed = np.empty(first.shape[0], dtype=np.int64)
    n_won = np.zeros(C, dtype=np.int64)
    a = 0
    for c in preference:
        while n_won[c] < cap[c]:
            best, best_g = -1, -1
            for g in range(K):
                if serving[c, g] and head[g] < start[g] + room[g]:
                    j = first[head[g]]
                    if best < 0 or _before(fifo, j, best):
                        best, best_g = j, g
            if best < 0:
                break
            head[best_g] += 1
            placed[a] = best
            a += 1
            row = wp[best]
            channel[row] = c
            day_due[row] = day + channel_days[c]
            n_won[c] += 1
    placed = np.sort(placed[:a])  # positions, so the winners' rows come ascending
    winners = wp[placed]
    # the old ones not placed today are cancelled (both lists ascending)
    stuck = np.empty(n_old, dtype=np.int64)
    s = 0
    i = 0
    for j in old[:n_old]:
        while i < placed.shape[0] and placed[i] < j:
            i += 1
        if i < placed.shape[0] and placed[i] == j:
            continue
        row = wp[j]
        stuck[s] = row
        s += 1
        savings_usd[row] += refund
        spent_usd[row] -= refund
    stuck = stuck[:s]
    queue = np.zeros(C)
    for c in range(C):
        for g in range(K):
            if serving[c, g]:
                queue[c] += by_nationality[g]
    return winners, n_won, stuck, queue


@njit(cache=True)
def _ready(wv: np.ndarray, day_due: np.ndarray, channel: np.ndarray, day: int, n_channels: int):
    """Rows of ``wv`` whose visa is due by ``day`` (ascending), and their count per channel:
    ``wv[day_due[wv] <= day]`` and ``np.bincount(channel[ready], minlength=C)`` of ``collect_visas``."""
    out = np.empty(wv.shape[0], dtype=np.int64)
    counts = np.zeros(n_channels, dtype=np.int64)
    n = 0
    for i in wv:
        if day_due[i] <= day:
            out[n] = i
            n += 1
            counts[channel[i]] += 1
    return out[:n], counts


def apply_for_visas(model) -> None:
    """Waiting for a package -> waiting for a visa, compiled: mirrors
    :meth:`sim.model.model.MigrationModel.apply_for_visas` (and ``_credit``, ``_cancel``)."""
    p, w, day, rec = model.people, model.world, model.day, model.recorder
    pol = w.policy
    # applications at channels that closed or stopped serving the nationality lapse
    wv = p.ids(State.WAITING_VISA)
    serving = model.channels_serving()
    lapsed = _lapsed(wv, p.channel, p.nationality, serving)
    p.move(lapsed, State.WAITING_VISA, State.WAITING_PACKAGE, day)
    rec.add("visa_lapsed", lapsed.size)

    wp = p.ids(State.WAITING_PACKAGE)
    cap = w.channel_cap * model.channel_level * pol.channel_cap_mult * serving.any(axis=1)
    cap = model._credit(model.channel_credit, cap * model.scale)
    rec.channel_capacity = cap.astype(float)
    travel = model.cfg.travel
    refund = travel.refund_share * w.agency_price
    winners, n_won, stuck, rec.channel_queue = _apply(
        wp, p.nationality, p.day_entered, p.day_due, p.channel, p.savings_usd, p.spent_usd, serving,
        cap, w.channel_preference, w.channel_days, model.streams.counter_key(VISA_TIE, day), day,
        travel.package_cancel_days, np.float32(refund))
    model.channel_credit -= n_won
    p.move(winners, State.WAITING_PACKAGE, State.WAITING_VISA, day)
    columns = rec.visa_application_columns
    for c, won in enumerate(n_won.tolist()):
        if won:
            rec.add(columns[c], won)
    # no visa application for too long: cancelled, part of the price refunded (_cancel)
    rec.add("paid_agencies_usd", -float(refund * stuck.size))
    p.move(stuck, State.WAITING_PACKAGE, State.AT_HOME, day)
    rec.add("cancelled", stuck.size)


def collect_visas(model) -> None:
    """Waiting for a visa -> ticketed when it is due, compiled: mirrors
    :meth:`sim.model.model.MigrationModel.collect_visas`."""
    p, w, day, rec = model.people, model.world, model.day, model.recorder
    wv = p.ids(State.WAITING_VISA)
    ready, counts = _ready(wv, p.day_due, p.channel, day, w.n_channels)
    rec.add_many(rec.visa_columns, counts.tolist())
    p.move(ready, State.WAITING_VISA, State.TICKETED, day)
