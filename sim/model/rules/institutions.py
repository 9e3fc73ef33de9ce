"""The institutions' phases of the day: levers pulled, visa issuance scaled, flights published.

These are the first three phases (:data:`sim.model.rules.PHASES`); their decisions are the
agents' own (:mod:`sim.model.institutions`, :mod:`sim.model.levers`), wired here into the day.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.rng import AIRLINE_SEATS

if TYPE_CHECKING:
    from sim.model.model import MigrationModel


def pull_levers(model: MigrationModel) -> None:
    """Each state and airline pulls its levers active today; today's policy is "nobody acts"
    narrowed by each of them in turn (sim.model.levers.DayPolicy)."""
    day, metric = model.day, model.recorder.yesterday
    pulled = [pull for actor in model.lever_owners for pull in actor.pull_levers(day, metric)]
    model.world.policy = model.day_policy.of(pulled, day)



def states_decide(model: MigrationModel) -> None:
    """Issuing states scale their channels to yesterday's queue."""
    w, rec = model.world, model.recorder
    for name, issued_here in model.growing_channels.items():
        model.state_actors[name].scale_visa_issuance(model.channel_level, issued_here, rec.channel_queue,
                                                    rec.channel_capacity, w.channel_growth, w.channel_max_mult)



def publish_flights(model: MigrationModel) -> None:
    """Airlines review schedules and publish today's flights and corridor seats (scaled to the
    sample), and fly the repatriation charters states ordered."""
    if model.day % model.cfg.airline.review_days == 0:  # a review day (see Airline.review_schedule)
        for airline in model.airline_agents.values():
            airline.review_schedule(model.day)
    real = np.empty_like(model.seats_today)  # publish writes every route
    model.route_book.publish(model.day, model.world, model.flights_today, real)
    model.seats_today = model.scaled(real, AIRLINE_SEATS)
    pol = model.world.policy
    if pol.charters:  # none ordered: no seats (repat_seats stays the reset policy's 0)
        pol.repat_seats = sum(model.airline_agents[code].fly_charter(seats) for code, seats in pol.charters)
        model.recorder.add("repatriation_flights", sum(1 for _, seats in pol.charters if seats > 0))
