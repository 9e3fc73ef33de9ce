"""Compiled twins of the kernels of :mod:`sim.model.rules.border` (the border).

Each function here has the name, the arguments and the results, bit for bit, of the numpy kernel
of the same name, which is the rule (its docstring has the formula): :func:`attempts_today`
(who tries, who hires a smuggler) and :func:`cross` (each attempt's outcome and its counts).
The phase that calls them, and the books it keeps, are in :mod:`sim.model.rules.border`, the
same for both engines. The thin Python functions type the scalars that numpy compares with
float32 arrays as numpy does (:func:`as_numpy_compares`) before calling their loop.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engines.compiled.common import as_numpy_compares, first_k_by_group, u01
from sim.model.allocate import whole_units
from sim.model.rules.border import CAUGHT_KEPT, CAUGHT_TURNED, DIED, STOPPED, THROUGH


def attempts_today(at_border: np.ndarray, day: int, day_due: np.ndarray, risk: np.ndarray, segment: np.ndarray,
                   has_smuggler: np.ndarray, savings: np.ndarray, spent: np.ndarray, attempt_base: np.ndarray,
                   key_attempt: np.uint64, fee: float, take_prob: float, key_smuggler: np.uint64):
    """Who of those at the border tries today, and who of them hires a smuggler first (paying)."""
    return _attempts_today(at_border, day, day_due, risk, segment, has_smuggler, savings, spent,
                           np.asarray(attempt_base, dtype=np.float32), key_attempt, as_numpy_compares(fee),
                           as_numpy_compares(take_prob), key_smuggler)


@njit(cache=True)
def _attempts_today(at_border, day, day_due, risk, segment, has_smuggler, savings, spent, attempt_base,
                    key_attempt, fee, take_prob, key_smuggler):
    half = np.float32(0.5)
    att = np.empty(at_border.shape[0], dtype=np.int64)
    n_att = 0
    n_hired = 0
    for i in at_border:
        if day_due[i] > day:
            continue
        if u01(key_attempt, i) < min(np.float32(1.0), attempt_base[segment[i]] * (half + risk[i])):
            att[n_att] = i
            n_att += 1
    fee32 = np.float32(fee)
    for j in range(n_att):
        i = att[j]
        if not has_smuggler[i] and savings[i] >= fee and u01(key_smuggler, i) < take_prob:
            amount = min(fee32, savings[i])
            savings[i] -= amount
            spent[i] += amount
            has_smuggler[i] = True
            n_hired += 1
    return att[:n_att], n_hired


def cross(att: np.ndarray, segment: np.ndarray, has_smuggler: np.ndarray, origin: np.ndarray,
          nationality: np.ndarray, attempts: np.ndarray, pushbacks: np.ndarray, day_due: np.ndarray,
          day: int, key_death: np.uint64, key_line: np.uint64, key_inside: np.uint64, key_switch: np.uint64,
          death_prob: float, p_stop: np.ndarray, p_inside: np.ndarray, pushback: np.ndarray,
          detect_mult: float, switch_prob: float, n_seg: int, n_origin: int, n_nat: int,
          kept_share: np.ndarray, key_keep: np.uint64, retry_days: int):
    """Each attempt's outcome, the counts the books need, who is turned back and who switches."""
    return _cross(att, segment, has_smuggler, origin, nationality, attempts, pushbacks, day_due, day,
                  key_death, key_line, key_inside, key_switch, as_numpy_compares(death_prob), p_stop, p_inside,
                  pushback, np.float32(detect_mult), as_numpy_compares(switch_prob), n_seg, n_origin, n_nat,
                  np.asarray(kept_share, dtype=np.float64), key_keep, np.int64(retry_days))


@njit(cache=True)
def _cross(att, segment, has_smuggler, origin, nationality, attempts, pushbacks, day_due, day, key_death,
           key_line, key_inside, key_switch, death_prob, p_stop, p_inside, pushback, detect_mult, switch_prob,
           n_seg, n_origin, n_nat, kept_share, key_keep, retry_days):
    n = att.shape[0]
    outcome = np.empty(n, dtype=np.int8)
    by_seg = np.zeros((5, n_seg), dtype=np.int64)  # outcome x segment
    by_origin = np.zeros((4, n_origin), dtype=np.int64)  # through, kept, back, died
    kept_by_nat = np.zeros(n_seg * n_nat, dtype=np.int64)
    n_back = 0
    for j in range(n):
        i = att[j]
        s = np.int64(segment[i])
        m = detect_mult if has_smuggler[i] else np.float32(1.0)
        if u01(key_death, i) < death_prob:
            o = DIED
        elif u01(key_line, i) < m * p_stop[s]:
            o = STOPPED
        elif u01(key_inside, i) < m * p_inside[s]:
            kept_anyway = np.float64(u01(key_keep, i)) < kept_share[s]
            o = CAUGHT_TURNED if pushback[s] and not kept_anyway else CAUGHT_KEPT
        else:
            o = THROUGH
        outcome[j] = o
        by_seg[o, s] += 1
        attempts[i] += 1
        if o == THROUGH:
            by_origin[0, origin[i]] += 1
        elif o == CAUGHT_KEPT:
            by_origin[1, origin[i]] += 1
            kept_by_nat[s * n_nat + nationality[i]] += 1
        elif o == DIED:
            by_origin[3, origin[i]] += 1
        else:
            by_origin[2, origin[i]] += 1
            n_back += 1
    died = np.empty(by_seg[DIED].sum(), dtype=np.int64)
    into_destination = np.empty(by_seg[CAUGHT_KEPT].sum() + by_seg[THROUGH].sum(), dtype=np.int64)
    back = np.empty(n_back, dtype=np.int64)
    switch = np.empty(n_back, dtype=np.int64)
    nd = ne = nb = ns = 0
    for j in range(n):
        i = att[j]
        o = outcome[j]
        if o == DIED:
            died[nd] = i
            nd += 1
        elif o == CAUGHT_KEPT or o == THROUGH:
            into_destination[ne] = i
            ne += 1
        else:
            back[nb] = i
            nb += 1
            pushbacks[i] += 1
            if u01(key_switch, i) < switch_prob:
                switch[ns] = i
                ns += 1
            day_due[i] = day + retry_days
    return by_seg, by_origin, kept_by_nat, died, into_destination, back, switch[:ns]


def present_at_crossings(at: np.ndarray, day: int, day_due: np.ndarray, day_entered: np.ndarray,
                         segment: np.ndarray, entry: np.ndarray, open_: np.ndarray, cap: np.ndarray,
                         refuse_at: np.ndarray, key: np.uint64, n_seg: int):
    """:func:`sim.model.rules.border.present_at_crossings`: the ready at open crossings are refused
    (a banned mode) or queue; each crossing registers its first ``cap[s]`` by (day entered,
    ``crossing.tie`` draw, position) (:func:`first_k_by_group`); the closed ones' rows apart."""
    return _present_at_crossings(at, day, day_due, day_entered, segment, entry, open_,
                                 whole_units(cap), refuse_at, key, n_seg)


@njit(cache=True)
def _present_at_crossings(at, day, day_due, day_entered, segment, entry, open_, cap, refuse_at, key, n_seg):
    n = at.size
    cand = np.empty(n, dtype=np.int64)
    cand_seg = np.empty(n, dtype=np.int64)
    cand_day = np.empty(n, dtype=np.int64)
    cand_tie = np.empty(n, dtype=np.float32)
    refused = np.empty(n, dtype=np.int64)
    closed = np.empty(n, dtype=np.int64)
    n_refused = np.zeros(n_seg, dtype=np.int64)
    m = n_ref = n_closed = 0
    for i in at:
        if day_due[i] > day:
            continue
        s = np.int64(segment[i])
        if not open_[s]:
            closed[n_closed] = i
            n_closed += 1
        elif refuse_at[entry[i], s]:
            refused[n_ref] = i
            n_ref += 1
            n_refused[s] += 1
        else:
            cand[m] = i
            cand_seg[m] = s
            cand_day[m] = day_entered[i]
            cand_tie[m] = u01(key, i)
            m += 1
    won = first_k_by_group(cand_seg[:m], cap, cand_day[:m], cand_tie[:m])
    admitted = np.empty(m, dtype=np.int64)
    n_admitted = np.zeros(n_seg, dtype=np.int64)
    k = 0
    for j in range(m):
        if won[j]:
            admitted[k] = cand[j]
            k += 1
            n_admitted[cand_seg[j]] += 1
        else:
            day_due[cand[j]] = day + 1
    return admitted[:k], refused[:n_ref], closed[:n_closed], n_admitted, n_refused


def closed_crossing_choice(closed: np.ndarray, key: np.uint64, rechoose: float, go_back: float,
                           day_due: np.ndarray, day: int):
    """:func:`sim.model.rules.border.closed_crossing_choice`: choose again, go back, or wait."""
    return _closed_crossing_choice(closed, key, as_numpy_compares(rechoose),
                                   as_numpy_compares(rechoose + (1.0 - rechoose) * go_back), day_due, day)


@njit(cache=True)
def _closed_crossing_choice(closed, key, rechoose, back_below, day_due, day):
    n = closed.size
    again = np.empty(n, dtype=np.int64)
    back = np.empty(n, dtype=np.int64)
    n_again = n_back = 0
    for i in closed:
        u = u01(key, i)
        if u < rechoose:
            again[n_again] = i
            n_again += 1
            day_due[i] = day + 1
        elif u < back_below:
            back[n_back] = i
            n_back += 1
        else:
            day_due[i] = day + 1
    return again[:n_again], back[:n_back]
