"""People in the transit country: living there, going home, leaving for the border, choosing a segment.

The phases (:func:`live_in_transit_country`, :func:`go_home`, :func:`go_to_border`, and
:func:`choose_segment`, shared with the border) keep the books: who is in which state, the
moves, the recorder, what the network hears. The per-person work is done by the kernels in
``KERNELS``, plain functions of arrays defined here in numpy (the rule);
:mod:`sim.engines.compiled.transit` has their compiled twins (same names, arguments, results).
The formulas they share are :func:`sim.model.population.return_willingness` (the chance of
wanting to go home, called by :func:`go_home`) and :func:`sim.model.population.segment_weights`
(called by :func:`choose_segment`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.allocate import allocate_fifo
from sim.model.population import State, choose_by_weight, pay, return_willingness, segment_weights
from sim.model.rng import (
    GO_TO_BORDER,
    REPATRIATION_SEATS,
    RETURN_OWN,
    RETURN_TIE,
    RETURN_WILLING,
    SEGMENT_CHOICE,
    Stream,
    draw,
)

if TYPE_CHECKING:
    from sim.model.day import Day
    from sim.model.model import MigrationModel

# the per-person work of this module's phases (numpy; sim.engines.compiled has their twins)
KERNELS: tuple[str, ...] = ("pay_hotel", "arrive_home", "stranded", "decide_returns", "leavers",
                            "pick_segments")


def live_in_transit_country(model: MigrationModel, today: Day) -> None:
    """Everyone in Minsk or at the border pays a day's hotel."""
    p = model.people
    in_city, at_border = p.ids(State.IN_CITY), p.ids(State.AT_BORDER)
    if in_city.size + at_border.size:
        model.kernels.pay_hotel(in_city, at_border, model.cfg.purchase.hotel_usd_per_day, p.savings_usd,
                                p.spent_usd)


def go_home(model: MigrationModel, today: Day) -> None:
    """Returning people land (returned); stranded people become willing to return: free seats first
    (FIFO by day in Belarus), then own tickets; they are returning until the next day."""
    p, w, c, day, kernels = model.people, model.world, model.cfg.returns, model.day, model.kernels
    pol = w.policy
    home = kernels.arrive_home(p.ids(State.RETURNING), p.day_due, p.returns, day)
    p.move(home, State.RETURNING, State.RETURNED, day)

    in_city, at_border = p.ids(State.IN_CITY), p.ids(State.AT_BORDER)
    if in_city.size + at_border.size == 0:
        return
    real = pol.repat_seats * pol.cooperation
    # no seats today (most days): scaled would give 0 without a draw
    seats = 0 if float(real) * model.scale == 0.0 else int(model.scaled(real, REPATRIATION_SEATS))
    fare = pol.repat_fare_usd if seats > 0 else 0.0
    here, days, pushbacks, cold, broke, risk, seat_mult, eligible = kernels.stranded(
        in_city, at_border, day, p.day_arrived, p.pushbacks, p.savings_usd, p.risk, p.nationality,
        pol.repat_ok, seats > 0, fare, w.cold_on(day) * (not pol.shelter), c.own_ticket_usd, c.free_seat_mult)
    prob = return_willingness(c.base_willing_per_day, days, c.days_scale, pushbacks, c.pushback_weight,
                              cold, c.cold_weight, broke, c.broke_weight, risk, c.stress_max, seat_mult)
    keys = model.streams
    free_city, free_border, own_city, own_border = kernels.decide_returns(
        here, in_city.size, prob, broke, eligible, seats, keys.counter_key(RETURN_WILLING, day),
        keys.counter_key(RETURN_TIE, day), keys.counter_key(RETURN_OWN, day), c.own_ticket_share,
        p.day_arrived, p.savings_usd, p.spent_usd, fare, c.own_ticket_usd, p.day_due, day)
    for (minsk, border), name in (((free_city, free_border), "repatriated"),
                                  ((own_city, own_border), "returned_own_ticket")):
        p.move(minsk, State.IN_CITY, State.RETURNING, day)
        p.move(border, State.AT_BORDER, State.RETURNING, day)
        model.recorder.add(name, minsk.size + border.size)
    if seats > 0:
        model.recorder.add("repatriation_seats", seats)
    model.report_failures(np.concatenate([free_city, free_border, own_city, own_border]))


def go_to_border(model: MigrationModel, today: Day) -> None:
    """In Minsk -> at the border: transport (Belarus' facilitation) and segment choice."""
    p, cfg, day = model.people, model.cfg, model.day
    in_city = p.ids(State.IN_CITY)
    if in_city.size == 0:
        return
    chance = min(1.0, cfg.travel.city_to_border_per_day * model.world.policy.transport_mult)
    go = model.kernels.leavers(in_city, model.streams.counter_key(GO_TO_BORDER, day), chance)
    choose_segment(model, go, SEGMENT_CHOICE)
    p.move(go, State.IN_CITY, State.AT_BORDER, day)


def choose_segment(model: MigrationModel, ids: np.ndarray, stream: Stream) -> None:
    """``ids`` choose a border segment with draws from ``stream``, by today's weights
    (:func:`segment_weights` of the success share the network reports, with a prior)."""
    if ids.size == 0:
        return
    p, w, b = model.people, model.world, model.cfg.border
    k = b.prior_weight_per_day * model.scale
    perceived = (model.seg_success_ema + k * model.seg_prior) / (model.seg_attempts_ema + k)
    weights = segment_weights(perceived, w.seg_bias * w.policy.segment_weight, b.segment_choice_temperature)
    model.kernels.pick_segments(ids, model.streams.counter_key(stream, model.day), weights, p.segment,
                                p.day_due, w.seg_travel, model.day)


# ---- kernels ---------------------------------------------------------------------------------
def pay_hotel(in_city: np.ndarray, at_border: np.ndarray, usd: float, savings: np.ndarray,
              spent: np.ndarray) -> None:
    """A day's hotel: everyone in ``in_city`` and ``at_border`` pays ``usd`` (:func:`pay`)."""
    pay(in_city, usd, savings, spent)
    pay(at_border, usd, savings, spent)


def arrive_home(returning: np.ndarray, day_due: np.ndarray, returns: np.ndarray, day: int) -> np.ndarray:
    """The returning people who land today (``day_due <= day``), ascending; each one's
    ``returns += 1`` (int8, wrapping)."""
    home = returning[day_due[returning] <= day]
    returns[home] += 1
    return home


def stranded(in_city: np.ndarray, at_border: np.ndarray, day: int, day_arrived: np.ndarray,
             pushbacks: np.ndarray, savings: np.ndarray, risk: np.ndarray, nationality: np.ndarray,
             repat_ok: np.ndarray, seats_today: bool, fare_usd: float, cold_at_border: float,
             own_ticket_usd: float, free_seat_mult: float):
    """Per person in Belarus, the arguments of :func:`return_willingness`, and who may take a free seat.

    The people are ``here = [in_city..., at_border...]`` (each part ascending). Per person:
    ``days = day - day_arrived`` (int16); ``cold = cold_at_border`` at the border, 0 in Minsk;
    ``broke = savings < own_ticket_usd``; ``eligible = seats_today and repat_ok[nationality]
    and savings >= fare_usd``; ``seat_mult = free_seat_mult`` if eligible, else 1.

    Returns:
        (here, days, pushbacks, cold, broke, risk, seat_mult, eligible), each over ``here``.
    """
    here = np.concatenate([in_city, at_border])
    cold = np.zeros(here.size)
    cold[in_city.size:] = cold_at_border
    money = savings[here]
    eligible = repat_ok[nationality[here]] & (money >= fare_usd) if seats_today else np.zeros(here.size, bool)
    return (here, day - day_arrived[here], pushbacks[here], cold, money < own_ticket_usd, risk[here],
            np.where(eligible, free_seat_mult, 1.0), eligible)


def decide_returns(here: np.ndarray, n_city: int, prob: np.ndarray, broke: np.ndarray,
                   eligible: np.ndarray, seats: int, key_willing: np.uint64, key_tie: np.uint64,
                   key_own: np.uint64, own_share: float, day_arrived: np.ndarray, savings: np.ndarray,
                   spent: np.ndarray, fare_usd: float, own_ticket_usd: float, day_due: np.ndarray,
                   day: int):
    """Who goes home today, with the payments, and due home tomorrow (``day_due = day + 1``).

    ``here`` as :func:`stranded` orders it (the first ``n_city`` in Minsk). Willing if the
    willing draw < ``prob``. The willing and ``eligible`` queue for the ``seats`` free seats in
    ascending row order (:func:`allocate_fifo` by day in Belarus, then the tie draw); a seated
    person pays ``fare_usd`` if it is > 0. The other willing who are not ``broke`` buy their own
    ticket (paying ``own_ticket_usd``) if the own draw < ``own_share``.

    Returns:
        (free seat in Minsk, free seat at the border, own ticket in Minsk, own ticket at the
        border) rows, each ascending.
    """
    willing = draw(key_willing, here) < prob
    cand = np.flatnonzero(willing & eligible)
    cand = cand[np.argsort(here[cand], kind="stable")]  # the queue in row order
    seated = np.zeros(here.size, dtype=bool)
    seated[cand[allocate_fifo(seats, day_arrived[here[cand]], draw(key_tie, here[cand]))]] = True
    if fare_usd > 0:
        pay(here[seated], fare_usd, savings, spent)
    rest = np.flatnonzero(willing & ~seated & ~broke)
    own = np.zeros(here.size, dtype=bool)
    own[rest[draw(key_own, here[rest]) < own_share]] = True
    pay(here[own], own_ticket_usd, savings, spent)
    day_due[here[seated | own]] = day + 1
    minsk, border = here[:n_city], here[n_city:]
    return (minsk[seated[:n_city]], border[seated[n_city:]], minsk[own[:n_city]],
            border[own[n_city:]])


def leavers(in_city: np.ndarray, key: np.uint64, chance: float) -> np.ndarray:
    """The people in Minsk whose leave draw is below today's ``chance``, ascending."""
    return in_city[draw(key, in_city) < chance]


def pick_segments(ids: np.ndarray, key: np.uint64, weights: np.ndarray, segment: np.ndarray,
                  day_due: np.ndarray, seg_travel: np.ndarray, day: int) -> None:
    """Each of ``ids`` picks segment ``s`` with probability ``weights_s / sum(weights)``
    (:func:`choose_by_weight` of its draw); a new segment is reached after its travel days
    (``day_due = day + seg_travel[s]``), the same one the next day (``day + 1``)."""
    seg = choose_by_weight(weights, draw(key, ids))
    changed = seg != segment[ids]
    segment[ids] = seg
    day_due[ids] = day + np.where(changed, seg_travel[seg], 1)
