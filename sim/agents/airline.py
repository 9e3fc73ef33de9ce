"""Airlines: routes with weekly schedules, seats for the corridor, and their own decisions.

An airline flies its routes on their weekdays while in service and not suspended; adds a
weekly flight to a route when the corridor's load stays high (and drops it when load falls);
obeys boarding bans (the world's ``boarding_ok``, read at allocation); and flies repatriation
charters when a state orders them (``Policy.repat_seats``). It may own levers of its own (Cham
Wings suspended its Minsk flights itself).
"""

from __future__ import annotations

from collections.abc import Callable

import mesa
import numpy as np

from sim.config import AirlineConfig
from sim.levers import Lever
from sim.world import Policy, World


class Airline(mesa.Agent):
    """One airline.

    Attributes:
        code: IATA-style code.
        routes: (r,) indices of its routes in the world.
        extra_per_week: (r,) extra weekly flights it added on each route.
        offered, sold: (r,) corridor seats offered and sold since the last review.
        levers: levers this airline owns.
    """

    def __init__(self, model: mesa.Model, code: str, world: World, cfg: AirlineConfig,
                 levers: list[Lever]) -> None:
        super().__init__(model)
        self.code = code
        self.cfg = cfg
        self.routes = np.flatnonzero(world.route_airline == world.airlines.index(code))
        self.extra_per_week = np.zeros(self.routes.size, dtype=int)
        self.offered = np.zeros(self.routes.size)
        self.sold = np.zeros(self.routes.size)
        self.levers = levers
        self.active_today: list[str] = []
        self.charters_flown = 0
        self.charter_seats = 0

    def pull_levers(self, day: int, policy: Policy, metric: Callable[[str], float]) -> None:
        self.active_today = [lv.name for lv in self.levers if lv.act(day, policy, metric)]

    def publish(self, day: int, world: World, flights: np.ndarray, seats: np.ndarray) -> None:
        """Write today's flights and corridor seats for its routes into the world-wide arrays.

        Formula: flights = scheduled on this weekday + extra flights spread over the week;
        seats = floor(flights * seats per flight * corridor share * seat multiplier).
        """
        r = self.routes
        weekday = world.date_of(day).weekday()
        k = self.extra_per_week
        extra = (day + 1) * k // 7 - day * k // 7  # k extra flights spread evenly over 7 days
        base = world.route_week[r, weekday]
        in_service = world.routes_in_service(day)[r]
        f = np.where(in_service & (world.route_week[r].sum(axis=1) > 0), base + extra, 0)
        flights[r] = f
        seats[r] = np.floor(f * world.route_seats[r] * world.route_share[r] * world.policy.route_seat_mult[r])
        self.offered += seats[r]

    def fly_charter(self, seats: int) -> int:
        """Fly a repatriation charter out of Minsk ordered by a state; returns the seats offered."""
        if seats > 0:
            self.charters_flown += 1
            self.charter_seats += seats
        return max(seats, 0)

    def record_sales(self, sold: np.ndarray) -> None:
        self.sold += sold[self.routes]

    def review_schedule(self, day: int) -> None:
        """Every ``review_days``: add a weekly flight where load >= high_load, drop one below half."""
        if day % self.cfg.review_days or day == 0:
            return
        load = np.where(self.offered > 0, self.sold / np.maximum(self.offered, 1), 0.0)
        up = (self.offered > 0) & (load >= self.cfg.high_load) & (self.extra_per_week < self.cfg.extra_flights_max)
        down = (load < 0.5) & (self.extra_per_week > 0)
        self.extra_per_week += up.astype(int) - down.astype(int)
        self.offered[:] = 0
        self.sold[:] = 0
