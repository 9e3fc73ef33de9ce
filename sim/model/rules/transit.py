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

from sim.model.allocate import allocate_by_group, allocate_fifo, token_bucket
from sim.model.population import (
    State,
    cumulative_shares,
    pay,
    pick_by_share,
    return_willingness,
    segment_weights,
)
from sim.model.rng import (
    ESCORT,
    ESCORT_CHOICE,
    EXIT_CHECK,
    GO_TO_BORDER,
    LEG_TIE,
    RELOCATE,
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
                            "pick_segments", "exit_checks", "board_legs")


def live_in_transit_country(model: MigrationModel, today: Day) -> None:
    """Everyone in the city or at the border pays a day's living, except residents in their own
    city (they have a home there)."""
    p, w = model.people, model.world
    in_city, at_border = p.ids(State.IN_CITY), p.ids(State.AT_BORDER)
    if (w.origin_home_entry >= 0).any():
        in_city = in_city[w.origin_home_entry[p.origin[in_city]] < 0]
    if in_city.size + at_border.size:
        model.kernels.pay_hotel(in_city, at_border, model.cfg.purchase.hotel_usd_per_day, p.savings_usd,
                                p.spent_usd)


def go_home(model: MigrationModel, today: Day) -> None:
    """Returning people land (returned); stranded people become willing to return: free seats first
    (FIFO by day in the transit country), then own tickets; they are returning until the next day
    (and leave their segment: a later trip chooses afresh). At the border, the transit state may
    keep a share of the willing from going back (``hold_at_border``)."""
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
    if pol.hold_at_border > 0:  # the transit state's forces keep some at the border from the way back
        prob[in_city.size:] *= 1.0 - pol.hold_at_border
    keys = model.streams
    free_city, free_border, own_city, own_border = kernels.decide_returns(
        here, in_city.size, prob, broke, eligible, seats, keys.counter_key(RETURN_WILLING, day),
        keys.counter_key(RETURN_TIE, day), keys.counter_key(RETURN_OWN, day), c.own_ticket_share,
        p.day_arrived, p.savings_usd, p.spent_usd, fare, c.own_ticket_usd, p.day_due, day)
    for (city, border), name in (((free_city, free_border), "repatriated"),
                                 ((own_city, own_border), "returned_own_ticket")):
        p.move(city, State.IN_CITY, State.RETURNING, day)
        p.segment[border] = -1
        p.move(border, State.AT_BORDER, State.RETURNING, day)
        model.recorder.add(name, city.size + border.size)
    if seats > 0:
        model.recorder.add("repatriation_seats", seats)
    model.report_failures(np.concatenate([free_city, free_border, own_city, own_border]))


def go_to_border(model: MigrationModel, today: Day) -> None:
    """In the city -> at the border. The transit state lets people go (as far as its exit control
    does not keep them back) and carries them (``transport_mult``); each chooses a segment open
    to them (:func:`choose_segment`) and takes the leg there if it has room today, paying its
    price (:func:`take_legs`)."""
    p, cfg, day, w = model.people, model.cfg, model.day, model.world
    places_on_legs(model)
    in_city = p.ids(State.IN_CITY)
    if in_city.size == 0:
        return
    pol = w.policy
    chance = min(1.0, cfg.travel.city_to_border_per_day * pol.transport_mult)
    key = model.streams.counter_key(GO_TO_BORDER, day)
    go = model.kernels.leavers(in_city, key, chance)
    if pol.closing_soon.any():  # an announced closure: those who can reach it rush (the same draws, a higher chance)
        rush = min(1.0, chance * cfg.travel.closing_soon_mult)
        soon = (w.reach & pol.closing_soon).any(axis=1)  # (E,) entry points that reach a crossing closing soon
        extra = model.kernels.leavers(in_city[soon[p.entry[in_city]]], key, rush)
        go = np.union1d(go, extra)
    go = choose_segment(model, go, SEGMENT_CHOICE)
    kept = stopped_on_the_way(model, go)  # they stay in the city, and choose again another day
    p.segment[go[kept]] = -1
    go = go[~kept]
    go = take_legs(model, go)
    p.move(go, State.IN_CITY, State.AT_BORDER, day)


def escort(model: MigrationModel, today: Day) -> None:
    """The transit state's forces take people to the segments it chooses (``escort_to``): a share
    of those in the city (``escort_per_day``: no exit control, no leg, no fare) and a share of
    those at its other green segments (``relocate_per_day``). Each goes to one of the chosen
    segments by today's weights (:func:`choose_segment`), reached after the leg's days."""
    p, w, day = model.people, model.world, model.day
    pol = w.policy
    if not pol.escort_to.any() or pol.escort_per_day + pol.relocate_per_day == 0:
        return
    keys, kernels = model.streams, model.kernels
    taken = kernels.leavers(p.ids(State.IN_CITY), keys.counter_key(ESCORT, day), pol.escort_per_day)
    at = p.ids(State.AT_BORDER)
    seg = p.segment[at]
    at = at[~pol.escort_to[seg] & ~w.seg_crossing[seg]]
    moved = kernels.leavers(at, keys.counter_key(RELOCATE, day), pol.relocate_per_day)
    ids = choose_segment(model, np.union1d(taken, moved), ESCORT_CHOICE, only=pol.escort_to)
    taken = ids[p.state[ids] == State.IN_CITY]
    p.move(taken, State.IN_CITY, State.AT_BORDER, day)
    model.recorder.add("escorted", ids.size)


def stopped_on_the_way(model: MigrationModel, ids: np.ndarray) -> np.ndarray:
    """Which of ``ids``, heading for their segment, the transit state stops on its side (its exit
    control there: ``exit_checks``), a bool mask over ``ids``. Counted (``kept_from_border``), and
    they tell the network: an attempt there without success (the per-segment averages, smoothed
    once a day by resolve_border). The one rule for leaving the city and for choosing again."""
    exit_control = model.world.policy.exit_control
    if ids.size == 0 or not exit_control.any():
        return np.zeros(ids.size, dtype=bool)
    segment = model.people.segment
    kept = model.kernels.exit_checks(ids, segment, exit_control, model.streams.counter_key(EXIT_CHECK, model.day))
    model.recorder.add("kept_from_border", int(np.count_nonzero(kept)))
    model.seg_attempts_ema += (1.0 - model.decay) * np.bincount(
        segment[ids[kept]].astype(np.int64), minlength=model.world.n_segments)
    return kept


def segment_table(model: MigrationModel) -> np.ndarray:
    """(E, S): today's weight of segment s for someone setting out from entry point e.

    :func:`segment_weights` of the success share the network reports at each segment (with a
    prior) and the transit state's steering, on the segments a leg reaches from e
    (``world.reach``) that are open today (a closure is public); where the destination bans the
    leg's mode at s, the transit state holds people back as far as its exit control reaches.
    """
    w, b, pol = model.world, model.cfg.border, model.world.policy
    k = b.prior_weight_per_day * model.scale
    perceived = (model.seg_success_ema + k * model.seg_prior) / (model.seg_attempts_ema + k)
    weights = segment_weights(perceived, w.seg_bias * pol.segment_weight, b.segment_choice_temperature)
    open_ = pol.crossing_hours > 0
    table = weights * w.reach * open_
    if pol.mode_banned.any() and pol.exit_control.any():
        table = table * (1.0 - pol.exit_control * w.banned_legs(pol))
    return table


def choose_segment(model: MigrationModel, ids: np.ndarray, stream: Stream,
                   only: np.ndarray | None = None) -> np.ndarray:
    """``ids`` (ascending) choose a border segment with draws from ``stream`` by today's weights
    from their entry point (:func:`segment_table`), among the segments ``only`` (S,) allows if
    given. Returns those who chose (ascending): anyone with no such segment open to them stays
    as they are."""
    if ids.size == 0:
        return ids
    p = model.people
    table = segment_table(model)
    if only is not None:
        table = table * only
    some = table.sum(axis=1) > 0
    if not some.all():
        ids = ids[some[p.entry[ids]]]
    model.kernels.pick_segments(ids, model.streams.counter_key(stream, model.day), table, p.entry, p.segment,
                                p.day_due, model.world.travel, model.day)
    return ids


def places_on_legs(model: MigrationModel) -> None:
    """Today's whole places on each leg with a daily capacity (``model.leg_places``): a token
    bucket in real people, scaled, filled every day (unused places carry over a week)."""
    w = model.world
    limited = np.isfinite(w.leg_cap)
    if limited.any():
        model.leg_places = token_bucket(model.leg_credit, np.where(limited, w.leg_cap, 0.0) * model.scale)


def take_legs(model: MigrationModel, go: np.ndarray) -> np.ndarray:
    """Of ``go`` (who chose a segment today), those who get a place on the leg from their entry
    point to it: a leg with a daily capacity (a token bucket, in real people) takes the first
    come, by the day they entered the city (``board_legs``); the others stay in the city. The
    travellers pay the leg's price. Returns the travellers (ascending)."""
    p, w, rec = model.people, model.world, model.recorder
    if go.size == 0:
        return go
    leg = w.leg_of[p.entry[go], p.segment[go]]
    limited = np.isfinite(w.leg_cap)
    if limited.any():
        cap = np.where(limited, model.leg_places, go.size)
        won, n_won = model.kernels.board_legs(go, leg, cap, p.day_entered,
                                              model.streams.counter_key(LEG_TIE, model.day))
        model.leg_credit -= np.where(limited, n_won, 0)
        p.segment[go[~won]] = -1  # they set out another day, and choose again then
        go, leg = go[won], leg[won]
    price = w.leg_price[leg]
    if price.any():  # what they pay: the price, or what they have left
        rec.add("paid_legs_usd", p.pay(go, price))
    return go


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
    """Per person in the transit country, the arguments of :func:`return_willingness`, and who may take a free seat.

    The people are ``here = [in_city..., at_border...]`` (each part ascending). Per person:
    ``days = day - day_arrived`` (int16); ``cold = cold_at_border`` at the border, 0 in the city;
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

    ``here`` as :func:`stranded` orders it (the first ``n_city`` in the city). Willing if the
    willing draw < ``prob``. The willing and ``eligible`` queue for the ``seats`` free seats in
    ascending row order (:func:`allocate_fifo` by day in the transit country, then the tie draw); a seated
    person pays ``fare_usd`` if it is > 0. The other willing who are not ``broke`` buy their own
    ticket (paying ``own_ticket_usd``) if the own draw < ``own_share``.

    Returns:
        (free seat in the city, free seat at the border, own ticket in the city, own ticket at the
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
    city, border = here[:n_city], here[n_city:]
    return (city[seated[:n_city]], border[seated[n_city:]], city[own[:n_city]],
            border[own[n_city:]])


def leavers(in_city: np.ndarray, key: np.uint64, chance: float) -> np.ndarray:
    """The people in the city whose leave draw is below today's ``chance``, ascending."""
    return in_city[draw(key, in_city) < chance]


def pick_segments(ids: np.ndarray, key: np.uint64, weights: np.ndarray, entry: np.ndarray, segment: np.ndarray,
                  day_due: np.ndarray, travel: np.ndarray, day: int) -> None:
    """Each of ``ids`` picks segment ``s`` with probability ``weights[e, s] / sum_s weights[e, s]``
    (``weights``: (E, S), ``e = entry[i]``, its entry point; each row used sums > 0), by
    :func:`sim.model.population.pick_by_share` of its draw on the row's
    :func:`sim.model.population.cumulative_shares`; a new segment is reached after the leg's
    days (``day_due = day + travel[e, s]``), the same one the next day (``day + 1``)."""
    e = entry[ids].astype(np.int64)
    seg = pick_by_share(cumulative_shares(weights)[e], draw(key, ids))
    changed = seg != segment[ids]
    segment[ids] = seg
    day_due[ids] = day + np.where(changed, travel[e, seg], 1)


def exit_checks(go: np.ndarray, segment: np.ndarray, exit_control: np.ndarray, key: np.uint64) -> np.ndarray:
    """Who of ``go`` the transit state stops on its side: ``draw(key, i) < exit_control[segment[i]]``
    (a bool mask over ``go``; float32 draws against float64 shares, as numpy compares them)."""
    return draw(key, go) < exit_control[segment[go]]


def board_legs(go: np.ndarray, leg: np.ndarray, cap: np.ndarray, day_entered: np.ndarray, key: np.uint64):
    """Who of ``go`` gets a place on their leg (``leg``, aligned with ``go``) today: within each
    leg, the first ``cap[l]`` by (``day_entered``, draw, position)
    (:func:`sim.model.allocate.allocate_by_group`).

    Returns:
        (won: bool mask over ``go``, n_won: (L,) int64 places taken per leg).
    """
    won = allocate_by_group(leg, cap, day_entered[go], draw(key, go))
    return won, np.bincount(leg[won], minlength=cap.size)
