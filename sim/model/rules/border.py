"""The border: who tries today, smugglers, each attempt's outcome, what the network hears.

The phase (:func:`resolve_border`) keeps the books: the capacity and stop share per segment,
the moves, the recorder, the guards, the network's averages. The per-person work is done by the
kernels in ``KERNELS``, plain functions of arrays defined here in numpy (the rule);
:mod:`sim.engines.compiled.border` has their compiled twins (same names, arguments, results).
The formulas are :func:`sim.model.population.stop_share` (called by the phase) and
:func:`sim.model.population.resolve_crossings` (called by :func:`cross`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.allocate import allocate_by_group, token_bucket
from sim.model.population import State, pay, resolve_crossings, stop_share
from sim.model.rng import (
    ATTEMPT,
    CLOSED_CHOICE,
    CLOSED_RECHOICE,
    CROSS_DEATH,
    CROSS_INSIDE,
    CROSS_KEEP,
    CROSS_LINE,
    CROSSING_TIE,
    SEGMENT_RECHOICE,
    SMUGGLER,
    SWITCH,
    draw,
)
from sim.model.rules.transit import choose_segment, stopped_on_the_way

if TYPE_CHECKING:
    from sim.model.day import Day
    from sim.model.model import MigrationModel

# the per-person work of this module's phases (numpy; sim.engines.compiled has their twins)
KERNELS: tuple[str, ...] = ("attempts_today", "cross", "present_at_crossings", "closed_crossing_choice")

# an attempt's outcome: the rows of cross's count per segment
DIED, STOPPED, CAUGHT_TURNED, CAUGHT_KEPT, THROUGH = 0, 1, 2, 3, 4
# the rows of cross's count per origin, by outcome (turned back: stopped or caught and pushed back)
ORIGIN_ROW = np.array([3, 2, 2, 1, 0])  # through 0, kept 1, turned back 2, died 3


def at_crossings(model: MigrationModel, today: Day) -> None:
    """People at official crossing points. At an open one they present themselves and, as far as
    today's throughput goes (opening hours x people an hour, first come first served), are
    registered to apply for asylum; a mode the destination bans there is refused at a gate that
    does not register claims whatever the mode. At a closed one each chooses again among the
    segments open to them, goes back to the city, or waits nearby."""
    p, w, cfg, day = model.people, model.world, model.cfg, model.day
    if not w.seg_crossing.any():
        return
    pol, rec, streams = w.policy, model.recorder, model.streams
    at = p.ids(State.AT_BORDER)
    at = at[w.seg_crossing[p.segment[at]]]
    open_ = pol.crossing_hours > 0
    cap = token_bucket(model.crossing_credit, np.where(w.seg_crossing, pol.crossing_hours * w.seg_throughput, 0.0) * model.scale)
    refuse_at = w.banned_legs(pol) & ~w.seg_registers  # (E, S): banned, at a gate that refuses on it
    admitted, refused, closed, n_admitted, n_refused = model.kernels.present_at_crossings(
        at, day, p.day_due, p.day_entered, p.segment, p.entry, open_, cap, refuse_at,
        streams.counter_key(CROSSING_TIE, day), w.n_segments)
    model.crossing_credit -= n_admitted
    b = cfg.border
    again, back = model.kernels.closed_crossing_choice(
        closed, streams.counter_key(CLOSED_CHOICE, day), b.closed_rechoose_per_day, b.closed_go_back_per_day,
        p.day_due, day)

    # those choosing again head for another segment; the transit state may stop them on its side
    again = choose_segment(model, again, CLOSED_RECHOICE)
    back = np.union1d(back, again[stopped_on_the_way(model, again)])  # stopped: back to the city
    rec.add_many(rec.applied_columns, n_admitted.tolist())
    rec.add_many(rec.refused_columns, n_refused.tolist())
    k = np.bincount(p.nationality[admitted], minlength=w.n_nationalities)
    rec.add_many(rec.applied_nationality_columns, k.tolist())
    p.move(admitted, State.AT_BORDER, State.IN_DESTINATION, day)
    turned = np.concatenate([refused, back])
    turned.sort()
    p.segment[turned] = -1
    p.pushbacks[refused] += 1
    p.move(turned, State.AT_BORDER, State.IN_CITY, day)

    # what the network hears: registered is kept in a procedure; refused and sent back, a failure
    # (added to the averages, which resolve_border, later today, smooths once for the day)
    c = cfg.intention
    O = w.n_origins
    succ = c.caught_success_weight * np.bincount(p.origin[admitted], minlength=O)
    fail = np.bincount(p.origin[turned], minlength=O)
    a = (1.0 - model.decay) / model.scale
    model.success_ema += a * succ
    model.failure_ema += a * fail
    d = 1.0 - model.decay
    model.seg_success_ema += d * n_admitted
    model.seg_attempts_ema += d * (n_admitted + n_refused)


def resolve_border(model: MigrationModel, today: Day) -> None:
    """Attempts at each green segment and their outcomes; turned-back people rest (``retry_days``)
    and may switch segment. The cold lowers the attempt chance and raises deaths unless the
    transit state shelters people; each attempt pays what the border makes it cost (a fence);
    the stop share at the line rises with a fence; the kept share with the chance to claim and
    the free places in detention, where those kept go."""
    p, w, cfg, day = model.people, model.world, model.cfg, model.day
    pol = w.policy
    b = cfg.border
    streams, rec = model.streams, model.recorder
    at = p.ids(State.AT_BORDER)
    if w.seg_crossing.any():
        at = at[~w.seg_crossing[p.segment[at]]]
    cold = w.cold_on(day) * (not pol.shelter)
    base = b.attempt_prob_per_day * pol.attempt_mult * (1.0 - b.cold_attempt_drop * cold)
    # a pushback policy announced and not yet in force: the last chance, people try sooner
    base = (base * np.where(pol.closing_soon, b.announced_attempt_mult, 1.0)).astype(np.float32)
    att, n_hired = model.kernels.attempts_today(
        at, day, p.day_due, p.risk, p.segment, p.has_smuggler, p.savings_usd, p.spent_usd, base,
        streams.counter_key(ATTEMPT, day), cfg.purchase.smuggler_fee_usd, cfg.purchase.smuggler_take_prob,
        streams.counter_key(SMUGGLER, day))
    rec.add("paid_smugglers_usd", float(n_hired * cfg.purchase.smuggler_fee_usd))
    if pol.attempt_cost_usd.any() and att.size:
        rec.add("paid_attempts_usd", p.pay(att, pol.attempt_cost_usd[p.segment[att]]))

    S, O, K = w.n_segments, w.n_origins, w.n_nationalities
    n_att = np.bincount(p.segment[att].astype(np.int64), minlength=S)
    cap = np.array([g.capacity(pol.guard_cap_mult[g.segment]) for g in model.guards]) * model.scale
    p_stop = stop_share(np.minimum(1.0, w.seg_detect * pol.line_stop_mult), cap, n_att, b.congestion_half)
    p_inside = np.minimum(1.0, w.seg_interior * pol.interior_catch_mult)
    by_seg, by_origin, kept_by_nat, died, into_destination, back, switch = model.kernels.cross(
        att, p.segment, p.has_smuggler, p.origin, p.nationality, p.attempts, p.pushbacks, p.day_due, day,
        streams.counter_key(CROSS_DEATH, day), streams.counter_key(CROSS_LINE, day),
        streams.counter_key(CROSS_INSIDE, day), streams.counter_key(SWITCH, day),
        b.death_prob_per_attempt * (1.0 + b.cold_death_mult * cold), p_stop, p_inside, pol.pushback,
        cfg.purchase.smuggler_detect_mult, b.switch_prob_after_pushback, S, O, K, kept_share_today(model),
        streams.counter_key(CROSS_KEEP, day), b.retry_days)

    counts = {"attempts": n_att, "turned_back": by_seg[STOPPED] + by_seg[CAUGHT_TURNED],
              "caught_inside": by_seg[CAUGHT_TURNED] + by_seg[CAUGHT_KEPT],
              "caught": by_seg[CAUGHT_KEPT], "got_through": by_seg[THROUGH], "deaths": by_seg[DIED]}
    rec.add_many([c for what in counts for c in rec.outcome_columns[what]],
                 np.concatenate(list(counts.values())).tolist())
    rec.set_many(rec.guard_capacity_columns, (cap / model.scale).tolist())
    rec.set_many(rec.pushback_columns, pol.pushback.astype(int).tolist())
    guards_after_the_day(model, n_att, cap, by_seg[CAUGHT_KEPT])

    p.move(died, State.AT_BORDER, State.DIED, day)
    p.move(into_destination, State.AT_BORDER, State.IN_DESTINATION, day)
    choose_segment(model, switch, SEGMENT_RECHOICE)
    if b.retry_days > 1:  # a new segment is reached after its leg; a rest is taken all the same
        p.day_due[switch] = np.maximum(p.day_due[switch], day + b.retry_days)

    # what the network hears: per origin, and per segment
    through_o, kept_o, back_o, died_o = by_origin
    succ = through_o + cfg.intention.caught_success_weight * kept_o
    fail = back_o + cfg.intention.death_weight * died_o
    a = (1.0 - model.decay) / model.scale  # smoothing; the origin EMAs are real people a day
    model.success_ema = model.success_ema * model.decay + a * succ
    model.failure_ema = model.failure_ema * model.decay + a * fail
    d = 1.0 - model.decay  # per-segment EMAs stay in simulated people (only their ratio is used)
    model.seg_success_ema = model.seg_success_ema * model.decay + d * (
        cfg.intention.caught_success_weight * by_seg[CAUGHT_KEPT] + by_seg[THROUGH])
    model.seg_attempts_ema = model.seg_attempts_ema * model.decay + d * n_att
    nz = np.flatnonzero(kept_by_nat)  # adding 0 changes no count: only the others
    rec.add_many([rec.caught_by_nationality_columns[j] for j in nz.tolist()], kept_by_nat[nz].tolist())


def kept_share_today(model: MigrationModel) -> np.ndarray:
    """(S,) where a segment pushes back, the share of those caught inside who are kept today: the
    state's kept share x the chance to claim x the free share of its detention places (the
    guards' ``detained``: those still held this morning, :func:`guards_after_the_day`).

    Formula: ``kept_share * claim_mult * clip(1 - occupied / places, 0, 1)``, where ``occupied``
    sums the detained of the segments sharing the places (``Policy.detention_pool``) and
    ``places`` are today's (real people, times the sampling fraction; inf: the free share is 1).
    """
    pol = model.world.policy
    detained = np.array([g.detained for g in model.guards])  # guards are in segment order
    places = pol.detention_places * model.scale
    occupied = np.bincount(pol.detention_pool, weights=detained, minlength=detained.size)[pol.detention_pool]
    with np.errstate(invalid="ignore", divide="ignore"):
        free = np.where(np.isinf(places), 1.0, np.clip(1.0 - occupied / places, 0.0, 1.0))
    return pol.kept_share * pol.claim_mult * free


def guards_after_the_day(model: MigrationModel, n_att: np.ndarray, cap: np.ndarray, kept: np.ndarray) -> None:
    """The guards after the day's attempts (both engines): each knows whether it pushes back,
    adapts to the day's pressure (:meth:`BorderGuard.adapt`) and takes those kept into detention;
    the recorder gets the people detained per segment tonight; then the night's releases
    (:meth:`BorderGuard.release`, ``border.detention_stay_days``), so that tomorrow's free places
    are counted from those still held."""
    pol, stay = model.world.policy, model.cfg.border.detention_stay_days
    for g in model.guards:
        g.pushback = bool(pol.pushback[g.segment])
        g.adapt(int(n_att[g.segment]), cap[g.segment])
        g.detain(int(kept[g.segment]))
    model.recorder.set_many(model.recorder.detained_columns, [g.detained for g in model.guards])
    for g in model.guards:
        g.release(stay)


# ---- kernels ---------------------------------------------------------------------------------
def attempts_today(at_border: np.ndarray, day: int, day_due: np.ndarray, risk: np.ndarray, segment: np.ndarray,
                   has_smuggler: np.ndarray, savings: np.ndarray, spent: np.ndarray, attempt_base: np.ndarray,
                   key_attempt: np.uint64, fee: float, take_prob: float, key_smuggler: np.uint64):
    """Who of those at the border tries today, and who of them hires a smuggler first (paying).

    Ready if ``day_due <= day``; attempts if the attempt draw < ``min(1, attempt_base[segment] *
    (0.5 + risk))`` (``attempt_base``: (S,) float32, today's base chance per segment). An attempter without a smuggler whose ``savings >= fee`` hires one if the smuggler
    draw < ``take_prob``: pays ``fee`` (``pay``) and ``has_smuggler = True`` (for the run).

    Returns:
        (the attempters, ascending as ``at_border``; how many hired a smuggler).
    """
    ready = at_border[day_due[at_border] <= day]
    att = ready[draw(key_attempt, ready) < np.minimum(1.0, attempt_base[segment[ready]] * (0.5 + risk[ready]))]
    first = att[~has_smuggler[att] & (savings[att] >= fee)]
    hire = first[draw(key_smuggler, first) < take_prob]
    pay(hire, fee, savings, spent)
    has_smuggler[hire] = True
    return att, hire.size


def cross(att: np.ndarray, segment: np.ndarray, has_smuggler: np.ndarray, origin: np.ndarray,
          nationality: np.ndarray, attempts: np.ndarray, pushbacks: np.ndarray, day_due: np.ndarray,
          day: int, key_death: np.uint64, key_line: np.uint64, key_inside: np.uint64, key_switch: np.uint64,
          death_prob: float, p_stop: np.ndarray, p_inside: np.ndarray, pushback: np.ndarray,
          detect_mult: float, switch_prob: float, n_seg: int, n_origin: int, n_nat: int,
          kept_share: np.ndarray, key_keep: np.uint64, retry_days: int):
    """Each attempt's outcome (:func:`resolve_crossings`; a smuggler's client has the detection
    multiplier float32(``detect_mult``), others 1; where a segment pushes back, one caught inside
    is still kept if the keep draw < ``kept_share[s]``), the counts the books need, and who is
    turned back (stopped, or caught inside and pushed back) and who of them switches segment (the
    switch draw < ``switch_prob``).

    Also: ``attempts[att] += 1``; ``pushbacks[back] += 1``; ``day_due[back] = day + retry_days``
    (the first day they may try again).

    Returns:
        (by_seg (5, n_seg): attempts per outcome (``DIED`` .. ``THROUGH``) and segment,
        by_origin (4, n_origin): through, caught and kept, turned back, died per origin,
        kept_by_nat (n_seg * n_nat): caught and kept per segment * n_nat + nationality,
        died, into_destination (caught and kept or through), back, switch: rows, in ``att``'s order).
    """
    seg = segment[att].astype(np.int64)
    died, stopped, caught_in, kept, through = resolve_crossings(
        seg, draw(key_death, att), draw(key_line, att), draw(key_inside, att), death_prob, p_stop, p_inside,
        pushback, np.where(has_smuggler[att], np.float32(detect_mult), np.float32(1.0)), kept_share,
        draw(key_keep, att))
    outcome = np.full(att.size, THROUGH)
    outcome[caught_in] = CAUGHT_TURNED
    outcome[kept] = CAUGHT_KEPT
    outcome[stopped] = STOPPED
    outcome[died] = DIED
    by_seg = np.bincount(outcome * n_seg + seg, minlength=5 * n_seg).reshape(5, n_seg)
    by_origin = np.bincount(ORIGIN_ROW[outcome] * n_origin + origin[att], minlength=4 * n_origin)
    kept_by_nat = np.bincount(seg[kept] * n_nat + nationality[att[kept]], minlength=n_seg * n_nat)
    attempts[att] += 1
    back = att[stopped | (caught_in & ~kept)]
    pushbacks[back] += 1
    switch = back[draw(key_switch, back) < switch_prob]
    day_due[back] = day + retry_days
    return by_seg, by_origin.reshape(4, n_origin), kept_by_nat, att[died], att[kept | through], back, switch


def present_at_crossings(at: np.ndarray, day: int, day_due: np.ndarray, day_entered: np.ndarray,
                         segment: np.ndarray, entry: np.ndarray, open_: np.ndarray, cap: np.ndarray,
                         refuse_at: np.ndarray, key: np.uint64, n_seg: int):
    """Who of ``at`` (people at crossing points, ascending) is registered, refused, or finds the
    crossing closed today.

    Ready if ``day_due <= day``. At an open crossing (``open_[s]``): refused if
    ``refuse_at[entry, s]`` (their mode is banned there); the others are candidates, and within
    each crossing the first ``cap[s]`` by (``day_entered``, draw, position) are registered
    (:func:`sim.model.allocate.allocate_by_group`); the rest wait (``day_due = day + 1``). At a
    closed crossing: the ``closed`` rows.

    Returns:
        (admitted, refused, closed: rows, ascending; n_admitted, n_refused: (n_seg,) int64).
    """
    ready = at[day_due[at] <= day]
    seg = segment[ready].astype(np.int64)
    is_open = open_[seg]
    refused_mask = is_open & refuse_at[entry[ready], seg]
    cand = np.flatnonzero(is_open & ~refused_mask)
    won = allocate_by_group(seg[cand], cap, day_entered[ready[cand]], draw(key, ready[cand]))
    admitted = ready[cand[won]]
    day_due[ready[cand[~won]]] = day + 1
    return (admitted, ready[refused_mask], ready[~is_open], np.bincount(seg[cand[won]], minlength=n_seg),
            np.bincount(seg[refused_mask], minlength=n_seg))


def closed_crossing_choice(closed: np.ndarray, key: np.uint64, rechoose: float, go_back: float,
                           day_due: np.ndarray, day: int):
    """At a closed crossing, each of ``closed`` (ascending) chooses again if its draw
    ``u < rechoose``; else goes back to the city if ``u < rechoose + (1 - rechoose) * go_back``;
    else waits nearby (``day_due = day + 1``, as do those choosing again until they have chosen).

    Returns:
        (again, back): rows, ascending.
    """
    u = draw(key, closed)
    again = u < rechoose
    back = ~again & (u < rechoose + (1.0 - rechoose) * go_back)
    day_due[closed[~back]] = day + 1
    return closed[again], closed[back]
