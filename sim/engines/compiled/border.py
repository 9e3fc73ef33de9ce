"""Compiled form of :meth:`sim.model.model.MigrationModel.resolve_border` (same numbers, bit for bit)."""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engines.compiled.belarus import choose_segment
from sim.engines.compiled.common import as_numpy_compares, u01
from sim.model.population import State, stop_share
from sim.model.rng import (
    ATTEMPT,
    CROSS_DEATH,
    CROSS_INSIDE,
    CROSS_LINE,
    SEGMENT_RECHOICE,
    SMUGGLER,
    SWITCH,
)

# outcome codes of an attempt (kernel -> Python)
DIED, STOPPED, CAUGHT_TURNED, CAUGHT_KEPT, THROUGH = 0, 1, 2, 3, 4


@njit(cache=True)
def _attempts(ab, day, day_due, risk, has_smuggler, savings, spent, attempt_base, k_attempt, fee, take_prob, k_smuggler):
    """Who of those at the border tries today, and who of them hires a smuggler first (paying).

    Mirrors: ``ready = ab[day_due <= day]``; ``att = ready[u_attempt < min(1, base * (0.5 + risk))]``;
    ``first = att[~has_smuggler & (savings >= fee)]``; ``hire = first[u_smuggler < take_prob]``;
    ``pay(hire, fee)``; ``has_smuggler[hire] = True``.
    """
    half = np.float32(0.5)
    one = attempt_base * 0 + 1  # 1 in the dtype numpy computes the chance in
    att = np.empty(ab.shape[0], dtype=np.int64)
    n_att = 0
    n_hire = 0
    for i in ab:
        if day_due[i] > day:
            continue
        p = attempt_base * (half + risk[i])
        if u01(k_attempt, i) < min(one, p):
            att[n_att] = i
            n_att += 1
    fee32 = np.float32(fee)
    for j in range(n_att):
        i = att[j]
        if not has_smuggler[i] and savings[i] >= fee32 and u01(k_smuggler, i) < take_prob:
            amount = min(fee32, savings[i])
            savings[i] -= amount
            spent[i] += amount
            has_smuggler[i] = True
            n_hire += 1
    return att[:n_att], n_hire


@njit(cache=True)
def _outcomes(att, segment, has_smuggler, origin, nationality, attempts, pushbacks, day_due, day,
              k_death, k_line, k_inside, k_switch, death_prob, p_stop, p_inside, pushback, detect_mult,
              switch_prob, n_seg, n_origin, n_nat):
    """Each attempt's outcome (:func:`sim.model.population.resolve_crossings`), the counts the recorder and
    the network need, and who is turned back and who of them switches segment.

    Also: ``attempts[att] += 1``; ``pushbacks[back] += 1``; ``day_due[back] = day + 1``.
    """
    n = att.shape[0]
    outcome = np.empty(n, dtype=np.int8)
    by_seg = np.zeros((5, n_seg), dtype=np.int64)  # outcome x segment
    by_origin = np.zeros((4, n_origin), dtype=np.int64)  # through, kept, back, died
    kept_by_nat = np.zeros(n_seg * n_nat, dtype=np.int64)
    n_back = 0
    for j in range(n):
        i = att[j]
        s = np.int64(segment[i])
        m = np.float32(detect_mult) if has_smuggler[i] else np.float32(1.0)
        if u01(k_death, i) < death_prob:
            o = DIED
        elif u01(k_line, i) < np.float64(m) * p_stop[s]:
            o = STOPPED
        elif u01(k_inside, i) < np.float64(m) * p_inside[s]:
            o = CAUGHT_TURNED if pushback[s] else CAUGHT_KEPT
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
    into_eu = np.empty(by_seg[CAUGHT_KEPT].sum() + by_seg[THROUGH].sum(), dtype=np.int64)
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
            into_eu[ne] = i
            ne += 1
        else:
            back[nb] = i
            nb += 1
            pushbacks[i] += 1
            if u01(k_switch, i) < switch_prob:
                switch[ns] = i
                ns += 1
            day_due[i] = day + 1
    return by_seg, by_origin, kept_by_nat, died, into_eu, back, switch[:ns]


def resolve_border(model) -> None:
    """Attempts at each segment and their outcomes; turned-back people may switch segment
    (mirrors :meth:`MigrationModel.resolve_border`)."""
    p, w, cfg, day = model.people, model.world, model.cfg, model.day
    pol = w.policy
    b = cfg.border
    streams, rec = model.streams, model.recorder
    ab = p.ids(State.AT_BORDER)
    att, n_hire = _attempts(
        ab, day, p.day_due, p.risk, p.has_smuggler, p.savings_usd, p.spent_usd,
        as_numpy_compares(b.attempt_prob_per_day * pol.attempt_mult), streams.counter_key(ATTEMPT, day),
        cfg.purchase.smuggler_fee_usd, as_numpy_compares(cfg.purchase.smuggler_take_prob), streams.counter_key(SMUGGLER, day))
    rec.add("paid_smugglers_usd", float(n_hire * cfg.purchase.smuggler_fee_usd))

    S, O, K = w.n_segments, w.n_origins, w.n_nationalities
    seg = p.segment[att].astype(np.int64)
    n_att = np.bincount(seg, minlength=S)
    cap = np.array([g.capacity(pol.guard_cap_mult[g.segment]) for g in model.guards]) * model.scale
    p_stop = stop_share(w.seg_detect, cap, n_att, b.congestion_half)
    p_inside = np.minimum(1.0, w.seg_interior * pol.interior_catch_mult)
    cold = w.cold_on(day) * (not pol.shelter)
    by_seg, by_origin, kept_by_nat, died, into_eu, back, switch = _outcomes(
        att, p.segment, p.has_smuggler, p.origin, p.nationality, p.attempts, p.pushbacks, p.day_due, day,
        streams.counter_key(CROSS_DEATH, day), streams.counter_key(CROSS_LINE, day),
        streams.counter_key(CROSS_INSIDE, day), streams.counter_key(SWITCH, day),
        as_numpy_compares(b.death_prob_per_attempt * (1.0 + b.cold_death_mult * cold)),
        np.asarray(p_stop, dtype=np.float64), np.asarray(p_inside, dtype=np.float64), pol.pushback,
        np.float32(cfg.purchase.smuggler_detect_mult), as_numpy_compares(b.switch_prob_after_pushback), S, O, K)

    counts = {"attempts": n_att, "turned_back": by_seg[STOPPED] + by_seg[CAUGHT_TURNED],
              "caught_inside": by_seg[CAUGHT_TURNED] + by_seg[CAUGHT_KEPT],
              "caught": by_seg[CAUGHT_KEPT], "got_through": by_seg[THROUGH], "deaths": by_seg[DIED]}
    rec.add_many([c for what in counts for c in rec.outcome_columns[what]], np.concatenate(list(counts.values())).tolist())
    rec.set_many(rec.guard_capacity_columns, (cap / model.scale).tolist())
    rec.set_many(rec.pushback_columns, pol.pushback.astype(int).tolist())
    for g in model.guards:
        g.pushback = bool(pol.pushback[g.segment])
        g.adapt(int(n_att[g.segment]), cap[g.segment])

    p.move(died, State.AT_BORDER, State.DIED, day)
    p.move(into_eu, State.AT_BORDER, State.IN_EU, day)
    choose_segment(model, switch, SEGMENT_RECHOICE)

    # what the network hears: per origin, and per segment (as the numpy method, from the counts)
    through_o, kept_o, back_o, died_o = by_origin
    succ = through_o + cfg.intention.caught_success_weight * kept_o
    fail = back_o + cfg.intention.death_weight * died_o
    a = (1.0 - model.decay) / model.scale
    model.success_ema = model.success_ema * model.decay + a * succ
    model.failure_ema = model.failure_ema * model.decay + a * fail
    seg_succ = by_seg[CAUGHT_KEPT] + by_seg[THROUGH]
    d = 1.0 - model.decay
    model.seg_success_ema = model.seg_success_ema * model.decay + d * seg_succ
    model.seg_attempts_ema = model.seg_attempts_ema * model.decay + d * n_att
    nz = np.flatnonzero(kept_by_nat)  # adding 0 changes no count: only the others
    rec.add_many([rec.caught_by_nationality_columns[j] for j in nz.tolist()], kept_by_nat[nz].tolist())
