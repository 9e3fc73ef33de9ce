"""What every compiled phase shares: a person's draw, first-come-first-served allocation.

Each kernel here is the compiled twin of a numpy function, with the same result exactly:

- :func:`u01` is :func:`sim.model.rng.splitmix_uniform` for one counter;
- :func:`first_k` is :func:`sim.model.allocate.allocate_fifo`;
- :func:`first_k_by_group` is :func:`sim.model.allocate.allocate_by_group`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.model.rng import GAMMA, M1, M2

_S27, _S30, _S40 = np.uint64(27), np.uint64(30), np.uint64(40)
TO_UNIT = np.float32(2.0**-24)
TIE = 16777216.0  # 2**24: a draw times this is its 24-bit integer, exactly
_SMALL_CAP = 16  # up to this many units, a group's winners are kept by insertion; above, sorted


@njit(cache=True, inline="always")
def u01(key: np.uint64, i: int) -> np.float32:
    """Person (counter) ``i``'s U[0, 1) float32 on the stream whose ``Streams.counter_key`` is ``key``."""
    z = np.uint64(i) * GAMMA + key
    z ^= z >> _S30
    z *= M1
    z ^= z >> _S27
    z *= M2
    return np.float32(z >> _S40) * TO_UNIT


@njit(cache=True)
def first_k(k: int, day: np.ndarray, tie: np.ndarray) -> np.ndarray:
    """Bool mask: the first ``k`` candidates by (day waiting, tie draw, position) win.

    Ties are the streams' 24-bit draws, so (day, tie) packs exactly into one int64 and a stable
    sort gives the order :func:`sim.model.allocate.allocate_fifo` selects.
    """
    n = day.shape[0]
    win = np.zeros(n, dtype=np.bool_)
    if k >= n:
        win[:] = True
        return win
    if k <= 0:
        return win
    lo = np.int64(day.min())
    key = np.empty(n, dtype=np.int64)
    for j in range(n):
        key[j] = ((np.int64(day[j]) - lo) << 24) | np.int64(np.float64(tie[j]) * TIE)
    order = np.argsort(key, kind="mergesort")
    for j in range(k):
        win[order[j]] = True
    return win


@njit(cache=True)
def first_k_by_group(group, cap, day, tie):
    """Bool mask: within each group, the first ``cap[g]`` candidates by (day, tie, position) win.

    ``cap`` is whole units per group (``floor(max(capacity, 0))``, as ``allocate_by_group``).
    Same result as a stable sort of the short groups' candidates by (group, day, tie), in O(n)
    for small capacities: the candidates of each short group are visited in position order and
    its ``cap[g]`` best kept by insertion (a later candidate displaces only a strictly later
    (day, tie)); a group with more units than ``_SMALL_CAP`` sorts its own candidates stably.
    """
    n = group.shape[0]
    n_groups = cap.shape[0]
    counts = np.zeros(n_groups, dtype=np.int64)
    for j in range(n):
        counts[group[j]] += 1
    win = np.empty(n, dtype=np.bool_)
    n_queued = 0
    lo = np.int64(0)
    for j in range(n):
        g = group[j]
        win[j] = counts[g] <= cap[g]
        if not win[j]:
            d = np.int64(day[j])
            lo = d if n_queued == 0 else min(lo, d)
            n_queued += 1
    if n_queued == 0:
        return win
    # the short groups' candidates, bucketed by group in position order (a counting sort)
    start = np.zeros(n_groups + 1, dtype=np.int64)
    for g in range(n_groups):
        start[g + 1] = start[g] + (counts[g] if counts[g] > cap[g] else 0)
    fill = start[:n_groups].copy()
    members = np.empty(n_queued, dtype=np.int64)
    key = np.empty(n_queued, dtype=np.int64)
    for j in range(n):
        if not win[j]:
            g = group[j]
            members[fill[g]] = j
            key[fill[g]] = ((np.int64(day[j]) - lo) << 24) | np.int64(np.float64(tie[j]) * TIE)
            fill[g] += 1
    best_key = np.empty(_SMALL_CAP, dtype=np.int64)
    best_j = np.empty(_SMALL_CAP, dtype=np.int64)
    for g in range(n_groups):
        s, e = start[g], start[g + 1]
        k = cap[g]
        if e == s or k <= 0:
            continue
        if k > _SMALL_CAP:
            order = np.argsort(key[s:e], kind="mergesort")
            for r in range(k):
                win[members[s + order[r]]] = True
            continue
        m = 0  # best_key[:m] ascending; equal keys in position order
        for q in range(s, e):
            kq = key[q]
            if m == k:
                if kq >= best_key[k - 1]:
                    continue
                m -= 1  # the last one drops out
            r = m
            while r > 0 and best_key[r - 1] > kq:
                best_key[r] = best_key[r - 1]
                best_j[r] = best_j[r - 1]
                r -= 1
            best_key[r] = kq
            best_j[r] = members[q]
            m += 1
        for r in range(m):
            win[best_j[r]] = True
    return win


def as_numpy_compares(x: float) -> np.floating:
    """A scalar typed as numpy uses it against a float32 array (NEP 50): a Python float becomes
    a float32, a numpy float64 stays one. Pass this to a kernel where numpy meets the scalar."""
    return np.result_type(np.float32, x).type(x)


@njit(cache=True)
def members_in(rows: np.ndarray, joined: np.ndarray, state: np.ndarray, s: int) -> np.ndarray:
    """The rows of ``rows`` (ascending, unique) and ``joined`` (any order, repeats allowed) whose
    ``state`` is ``s``, ascending, each once: what :meth:`sim.model.population.Population.ids` keeps
    for a state. ``joined`` (the newcomers, few) is sorted and merged into ``rows`` in one pass."""
    joined = np.sort(joined)
    out = np.empty(rows.shape[0] + joined.shape[0], dtype=np.int64)
    n = 0
    last = -1
    a = b = 0
    na, nb = rows.shape[0], joined.shape[0]
    while a < na or b < nb:
        if b == nb or (a < na and rows[a] <= joined[b]):
            i = rows[a]
            a += 1
        else:
            i = joined[b]
            b += 1
        if i != last and state[i] == s:
            out[n] = i
            n += 1
        last = i
    return out[:n]
