"""Visas, compiled: the twins of the kernels of :mod:`sim.model.rules.visas`.

The rules and the phases' bookkeeping (moves, counters, token buckets, cancellations) live in
:mod:`sim.model.rules.visas`; these functions have the same names, parameters and results as
its numpy kernels, bit for bit:

- :func:`lapsed_applications`: the applications at channels no longer serving them;
- :func:`apply_at_channels`: the winners of each channel, in ``preference`` order, are the
  first ``cap[c]`` of those still free whose nationality it serves, by (day entered,
  ``visa.tie`` draw, position) as ``allocate_fifo`` picks them — found without a pass and a
  selection per channel; and the ones waiting too long;
- :func:`visas_due`: the visas due today, counted per channel.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engines.compiled.common import TIE, u01


@njit(cache=True)
def lapsed_applications(wv: np.ndarray, channel: np.ndarray, group: np.ndarray,
                        serving: np.ndarray) -> np.ndarray:
    """Rows of ``wv`` whose channel no longer serves their group (ascending); their
    channel is set to -1: ``wv[~serving[channel[wv], group[wv]]]``."""
    out = np.empty(wv.shape[0], dtype=np.int64)
    n = 0
    for i in wv:
        if not serving[channel[i], group[i]]:
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
def apply_at_channels(wp: np.ndarray, group: np.ndarray, day_entered: np.ndarray, day_due: np.ndarray,
                      channel: np.ndarray, serving: np.ndarray, cap: np.ndarray, preference: np.ndarray,
                      channel_days: np.ndarray, key: np.uint64, day: int, cancel_days: int):
    """Who of ``wp`` gets a visa application today, and who waited too long.

    The rule (:func:`sim.model.rules.visas.apply_at_channels`): for each channel ``c`` in
    ``preference`` with ``cap[c] > 0``, the candidates are the rows of ``wp`` not yet placed
    whose group ``c`` serves (``group``: the phase passes each person's origin), and the first ``cap[c]`` of them by (day entered,
    ``visa.tie`` draw, position) win (``allocate_fifo``); winners get ``channel = c`` and
    ``day_due = day + channel_days[c]``. Those placed nowhere with ``day - day_entered >
    cancel_days`` are stuck.

    The same winners without a pass per channel: a channel always takes the earliest of its
    candidates, so what it takes of a group is the earliest of that group still
    free, and the ones taken of a group are always its earliest. No group gives
    more than the channels serving it can take (the sum of their capacities), so only that
    many of its earliest matter: they are found in one pass (:func:`_earliest`), and each
    channel then merges the heads of the lists of the nationalities it serves. Positions in
    ``wp`` order candidates as their positions among a channel's candidates do.

    Returns:
        (winners, n_won, stuck, queue): the winners' rows (ascending), how many each channel
        placed (C,), the stuck rows (ascending), and the people each channel could serve
        (C,) float: ``serving @ np.bincount(group[wp])``.

    Raises:
        ValueError: a ``day_entered`` of ``wp`` outside [0, day].
    """
    n = wp.shape[0]
    C, K = serving.shape
    k = np.empty(n, dtype=group.dtype)
    waited = np.empty(n, dtype=day_entered.dtype)
    per_day = np.zeros((K, day + 1), dtype=np.int64)  # people per group and days waited
    old = np.empty(n, dtype=np.int64)  # positions of those waiting longer than cancel_days
    n_old = 0
    for j in range(n):
        row = wp[j]
        k[j] = group[row]
        waited[j] = day_entered[row]
        d = day - np.int64(waited[j])
        if d < 0 or d > day:
            raise ValueError("day_entered outside [0, day]")
        per_day[k[j], d] += 1
        if d > cancel_days:
            old[n_old] = j
            n_old += 1
    by_group = per_day.sum(axis=1)
    # at most this many of each group can be placed today
    room = np.zeros(K, dtype=np.int64)
    for c in range(C):
        if cap[c] > 0:
            for g in range(K):
                if serving[c, g]:
                    room[g] += cap[c]
    for g in range(K):
        room[g] = min(room[g], by_group[g])
    first, start, fifo = _earliest(k, room, waited, per_day, day, wp, key)

    head = start[:K].copy()  # each group's earliest still free
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
    # the old ones not placed today are stuck (both lists ascending)
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
    stuck = stuck[:s]
    queue = np.zeros(C)
    for c in range(C):
        for g in range(K):
            if serving[c, g]:
                queue[c] += by_group[g]
    return winners, n_won, stuck, queue


@njit(cache=True)
def visas_due(wv: np.ndarray, day_due: np.ndarray, channel: np.ndarray, day: int, n_channels: int):
    """Rows of ``wv`` whose visa is due by ``day`` (ascending), and their count per channel:
    ``ready = wv[day_due[wv] <= day]``, ``np.bincount(channel[ready], minlength=n_channels)``."""
    out = np.empty(wv.shape[0], dtype=np.int64)
    counts = np.zeros(n_channels, dtype=np.int64)
    n = 0
    for i in wv:
        if day_due[i] <= day:
            out[n] = i
            n += 1
            counts[channel[i]] += 1
    return out[:n], counts

