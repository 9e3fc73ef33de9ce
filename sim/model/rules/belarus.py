"""People in the transit country: living there, going home, leaving for the border, choosing a segment."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.allocate import allocate_fifo
from sim.model.population import (
    IN_BELARUS,
    State,
    choose_by_weight,
    return_willingness,
    segment_weights,
)
from sim.model.rng import (
    LEAVE_MINSK,
    REPATRIATION_SEATS,
    RETURN_OWN,
    RETURN_TIE,
    RETURN_WILLING,
    SEGMENT_CHOICE,
)

if TYPE_CHECKING:
    from sim.model.model import MigrationModel

# the per-person work of this module's phases (numpy; sim.engines.compiled has their twins)
KERNELS: tuple[str, ...] = ()


def live_in_belarus(model: MigrationModel) -> None:
    p = model.people
    here = p.ids_in(IN_BELARUS)
    p.pay(here, model.cfg.purchase.hotel_usd_per_day)



def go_home(model: MigrationModel) -> None:
    """Stranded people become willing to return; free seats first (FIFO by days in Belarus),
    then own tickets; returning -> returned the next day."""
    p, w, c, day = model.people, model.world, model.cfg.returns, model.day
    pol = w.policy
    back = p.ids(State.RETURNING)
    home = back[p.day_due[back] <= day]
    p.returns[home] += 1
    p.move(home, State.RETURNING, State.RETURNED, day)

    here = p.ids_in(IN_BELARUS)
    if here.size == 0:
        return
    seats = int(model.scaled(pol.repat_seats * pol.cooperation, REPATRIATION_SEATS))
    k = p.nationality[here]
    fare = pol.repat_fare_usd if seats > 0 else 0.0
    eligible = pol.repat_ok[k] & (seats > 0) & (p.savings_usd[here] >= fare)
    cold = w.cold_on(day) * (p.state[here] == State.AT_BORDER) * (not pol.shelter)
    broke = p.savings_usd[here] < c.own_ticket_usd
    prob = return_willingness(c.base_willing_per_day, day - p.day_in_belarus[here], c.days_scale,
                              p.pushbacks[here], c.pushback_weight, cold, c.cold_weight, broke,
                              c.broke_weight, p.risk[here], c.stress_max,
                              np.where(eligible, c.free_seat_mult, 1.0))
    willing = model.streams.uniform(RETURN_WILLING, day, here) < prob
    cand = np.flatnonzero(willing & eligible)
    win = cand[allocate_fifo(seats, p.day_in_belarus[here[cand]], model.streams.uniform(RETURN_TIE, day, here[cand]))]
    free = here[win]
    if fare > 0:
        p.pay(free, fare)
    seated = np.zeros(here.size, bool)
    seated[win] = True
    rest = np.flatnonzero(willing & ~seated)
    own = here[rest][(model.streams.uniform(RETURN_OWN, day, here[rest]) < c.own_ticket_share)
                     & ~broke[rest]]
    p.pay(own, c.own_ticket_usd)
    for ids, name in ((free, "repatriated"), (own, "returned_own_ticket")):
        for src in IN_BELARUS:
            sel = ids[p.state[ids] == src]
            p.day_due[sel] = day + 1
            p.move(sel, src, State.RETURNING, day)
        model.recorder.add(name, ids.size)
    if seats > 0:
        model.recorder.add("repatriation_seats", seats)
    model.report_failures(np.concatenate([free, own]))



def leave_minsk(model: MigrationModel) -> None:
    """In Minsk -> at the border: transport (Belarus' facilitation) and segment choice."""
    p, w, cfg, day = model.people, model.world, model.cfg, model.day
    pol = w.policy
    mk = p.ids(State.IN_MINSK)
    go = mk[model.streams.uniform(LEAVE_MINSK, day, mk) < min(1.0, cfg.travel.minsk_to_border_per_day * pol.transport_mult)]
    choose_segment(model, go, SEGMENT_CHOICE)
    p.move(go, State.IN_MINSK, State.AT_BORDER, day)



def choose_segment(model: MigrationModel, ids: np.ndarray, stream: str) -> None:
    p, w = model.people, model.world
    if ids.size == 0:
        return
    k = model.cfg.border.prior_weight_per_day * model.scale
    perceived = (model.seg_success_ema + k * model.seg_prior) / (model.seg_attempts_ema + k)
    wts = segment_weights(perceived, w.seg_bias * w.policy.segment_weight, model.cfg.border.segment_choice_temperature)
    seg = choose_by_weight(wts, model.streams.uniform(stream, model.day, ids))
    changed = seg != p.segment[ids]
    p.segment[ids] = seg
    p.day_due[ids] = model.day + np.where(changed, w.seg_travel[seg], 1)
