"""The border: who tries today, smugglers, each attempt's outcome, what the network hears."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.population import State, resolve_crossings, stop_share
from sim.model.rng import (
    ATTEMPT,
    CROSS_DEATH,
    CROSS_INSIDE,
    CROSS_LINE,
    SEGMENT_RECHOICE,
    SMUGGLER,
    SWITCH,
)
from sim.model.rules.belarus import choose_segment

if TYPE_CHECKING:
    from sim.model.model import MigrationModel

# the per-person work of this module's phases (numpy; sim.engines.compiled has their twins)
KERNELS: tuple[str, ...] = ()


def resolve_border(model: MigrationModel) -> None:
    """Attempts at each segment and their outcomes; turned-back people may switch segment."""
    p, w, cfg, day = model.people, model.world, model.cfg, model.day
    pol = w.policy
    b = cfg.border
    ab = p.ids(State.AT_BORDER)
    ready = ab[p.day_due[ab] <= day]
    att_p = np.minimum(1.0, b.attempt_prob_per_day * pol.attempt_mult * (0.5 + p.risk[ready]))
    att = ready[model.streams.uniform(ATTEMPT, day, ready) < att_p]
    seg = p.segment[att].astype(np.int64)
    S = w.n_segments
    n_att = np.bincount(seg, minlength=S)

    # smugglers: hired before a first attempt by those who can pay
    first = att[~p.has_smuggler[att] & (p.savings_usd[att] >= cfg.purchase.smuggler_fee_usd)]
    hire = first[model.streams.uniform(SMUGGLER, day, first) < cfg.purchase.smuggler_take_prob]
    p.pay(hire, cfg.purchase.smuggler_fee_usd)
    p.has_smuggler[hire] = True
    model.recorder.add("paid_smugglers_usd", float(hire.size * cfg.purchase.smuggler_fee_usd))

    cap = np.array([g.capacity(pol.guard_cap_mult[g.segment]) for g in model.guards]) * model.scale
    p_stop = stop_share(w.seg_detect, cap, n_att, b.congestion_half)
    p_inside = np.minimum(1.0, w.seg_interior * pol.interior_catch_mult)
    cold = w.cold_on(day) * (not pol.shelter)
    died, stopped, caught_in, kept, through = resolve_crossings(
        seg, model.streams.uniform(CROSS_DEATH, day, att), model.streams.uniform(CROSS_LINE, day, att),
        model.streams.uniform(CROSS_INSIDE, day, att),
        b.death_prob_per_attempt * (1.0 + b.cold_death_mult * cold), p_stop, p_inside, pol.pushback,
        np.where(p.has_smuggler[att], cfg.purchase.smuggler_detect_mult, 1.0).astype(np.float32))
    turned = stopped | (caught_in & ~kept)
    p.attempts[att] += 1
    outcomes = {"attempts": np.ones(seg.size, bool), "turned_back": turned, "caught_inside": caught_in,
                "caught": kept, "got_through": through, "deaths": died}
    rec = model.recorder
    for what, mask in outcomes.items():
        rec.add_many(rec.outcome_columns[what], np.bincount(seg[mask], minlength=S).tolist())
    rec.set_many(rec.guard_capacity_columns, (cap / model.scale).tolist())
    rec.set_many(rec.pushback_columns, pol.pushback.astype(int).tolist())
    for g in model.guards:
        g.pushback = bool(pol.pushback[g.segment])
        g.adapt(int(n_att[g.segment]), cap[g.segment])

    p.move(att[died], State.AT_BORDER, State.DIED, day)
    into_eu = att[kept | through]
    p.move(into_eu, State.AT_BORDER, State.IN_EU, day)
    back = att[turned]
    p.pushbacks[back] += 1
    switch = back[model.streams.uniform(SWITCH, day, back) < b.switch_prob_after_pushback]
    p.day_due[back] = day + 1
    choose_segment(model, switch, SEGMENT_RECHOICE)

    # what the network hears: per origin, and per segment
    succ = np.bincount(p.origin[att[through]], minlength=w.n_origins) + cfg.intention.caught_success_weight * np.bincount(
        p.origin[att[kept]], minlength=w.n_origins)
    fail = np.bincount(p.origin[back], minlength=w.n_origins) + cfg.intention.death_weight * np.bincount(
        p.origin[att[died]], minlength=w.n_origins)
    a = (1.0 - model.decay) / model.scale  # smoothing; the origin EMAs are real people a day
    model.success_ema = model.success_ema * model.decay + a * succ
    model.failure_ema = model.failure_ema * model.decay + a * fail
    seg_succ = np.bincount(seg[kept | through], minlength=S)
    b = 1.0 - model.decay  # per-segment EMAs stay in simulated people (only their ratio is used)
    model.seg_success_ema = model.seg_success_ema * model.decay + b * seg_succ
    model.seg_attempts_ema = model.seg_attempts_ema * model.decay + b * n_att
    K = w.n_nationalities
    by_nat = np.bincount(seg[kept] * K + p.nationality[att[kept]], minlength=S * K)
    rec.add_many(rec.caught_by_nationality_columns, by_nat.tolist())
