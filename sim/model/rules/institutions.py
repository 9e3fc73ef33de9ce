"""The institutions' phases of the day: levers pulled, visa issuance scaled, flights published.

These are the first three phases (:data:`sim.model.rules.PHASES`); their decisions are the
agents' own (:mod:`sim.model.institutions`, :mod:`sim.model.levers`), wired here into the day.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.rng import AIRLINE_SEATS

if TYPE_CHECKING:
    from sim.model.day import Day
    from sim.model.model import MigrationModel


def pull_levers(model: MigrationModel, today: Day) -> None:
    """Each state and airline pulls its levers active today; today's policy is "nobody acts"
    narrowed by each of them in turn (sim.model.levers.DayPolicy). Sets ``today.active_levers``
    and ``today.serving``."""
    day, metric = model.day, model.recorder.yesterday
    pulled = [pull for actor in model.lever_owners for pull in actor.pull_levers(day, metric)]
    w = model.world
    w.policy = pol = model.day_policy.of(pulled, day)
    today.active_levers = sorted(name for actor in model.lever_owners for name in actor.active_today)
    # which visa channels serve whom today: for the agencies (what is on sale) and the visa phase
    today.serving = w.channels_in_service(day)[:, None] & pol.channel_ok[:, w.origin_nat] & w.channel_origin


def states_decide(model: MigrationModel, today: Day) -> None:
    """Issuing states scale their channels to yesterday's queue (``model.yesterday``)."""
    w, before = model.world, model.yesterday
    for name, issued_here in model.growing_channels.items():
        model.state_actors[name].scale_visa_issuance(model.channel_level, issued_here, before.visa_queue,
                                                    before.visa_capacity, w.channel_growth, w.channel_max_mult)


def publish_flights(model: MigrationModel, today: Day) -> None:
    """Airlines review schedules and publish today's flights and corridor seats (scaled to the
    sample: ``today.flights``, ``today.seats``), and fly the repatriation charters states ordered."""
    if model.day % model.cfg.airline.review_days == 0:  # a review day (see Airline.review_schedule)
        for airline in model.airline_agents.values():
            airline.review_schedule(model.day)
    today.flights = np.empty(model.world.n_routes, dtype=np.int64)
    real = np.empty_like(today.flights)  # publish writes every route
    model.route_book.publish(model.day, model.world, today.flights, real)
    today.seats = model.scaled(real, AIRLINE_SEATS)
    pol = model.world.policy
    if pol.charters:  # none ordered: no seats (repat_seats stays the reset policy's 0)
        pol.repat_seats = sum(model.airline_agents[code].fly_charter(seats) for code, seats in pol.charters)
        model.recorder.add("repatriation_flights", sum(1 for _, seats in pol.charters if seats > 0))
