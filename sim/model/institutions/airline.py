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

from sim.model.config import AirlineConfig
from sim.model.levers import Lever
from sim.model.world import World


class RouteBook:
    """The airlines' numbers per route (R,), whoever flies it; each :class:`Airline` reviews its rows.

    Attributes:
        extra_per_week: (R,) int, extra weekly flights the route's airline added.
        offered, sold: (R,) float, corridor seats offered and sold since the airline's last review.
    """

    def __init__(self, n_routes: int) -> None:
        self.extra_per_week = np.zeros(n_routes, dtype=int)
        self.offered = np.zeros(n_routes)
        self.sold = np.zeros(n_routes)

    def publish(self, day: int, world: World, flights: np.ndarray, seats: np.ndarray) -> None:
        """Write today's flights and corridor seats of every route into ``flights`` and ``seats``.

        Formula: flights = scheduled on this weekday + extra flights spread over the week;
        seats = floor(flights * seats per flight * corridor share * seat multiplier).
        """
        weekday = (world.start.weekday() + day) % 7  # world.date_of(day).weekday()
        k = self.extra_per_week
        # k extra flights spread evenly over 7 days (none added: none to spread)
        extra = (day + 1) * k // 7 - day * k // 7 if k.any() else 0
        in_service = world.routes_in_service(day) & (world.route_flights_per_week > 0)
        flights[:] = np.where(in_service, world.route_week[:, weekday] + extra, 0)
        seats[:] = np.floor(flights * world.route_seats * world.route_share * world.policy.route_seat_mult)
        self.offered += seats

    def record_sales(self, sold: np.ndarray) -> None:
        self.sold += sold


class Airline(mesa.Agent):
    """One airline.

    Attributes:
        code: IATA-style code.
        routes: (r,) indices of its routes in the world (its rows of the :class:`RouteBook`).
        book: the route book.
        levers: levers this airline owns.
    """

    def __init__(self, model: mesa.Model, code: str, world: World, book: RouteBook, cfg: AirlineConfig,
                 levers: list[Lever]) -> None:
        super().__init__(model)
        self.code = code
        self.cfg = cfg
        self.routes = np.flatnonzero(world.route_airline == world.airlines.index(code))
        self.book = book
        self.levers = levers
        self.active_today: list[str] = []
        self.charters_flown = 0
        self.charter_seats = 0

    def pull_levers(self, day: int, metric: Callable[[str], float]) -> list[tuple[Lever, float]]:
        """The owned levers whose schedule is on today, with their strengths (in ``active_today``)."""
        pulled = [(lv, s) for lv in self.levers if (s := lv.strength_today(day, metric)) > 0]
        self.active_today = [lv.name for lv, _ in pulled]
        return pulled

    def fly_charter(self, seats: int) -> int:
        """Fly a repatriation charter out of the transit country ordered by a state; returns the seats offered."""
        if seats > 0:
            self.charters_flown += 1
            self.charter_seats += seats
        return max(seats, 0)

    def record_sales(self, sold: np.ndarray) -> None:
        """Add corridor seats sold today on its routes (``sold``: (R,), all routes)."""
        self.book.sold[self.routes] += sold[self.routes]

    def review_schedule(self, day: int) -> None:
        """Every ``review_days``: add a weekly flight where load >= high_load, drop one below half."""
        if day % self.cfg.review_days or day == 0:
            return
        r, b = self.routes, self.book
        offered, sold, extra = b.offered[r], b.sold[r], b.extra_per_week[r]
        load = np.where(offered > 0, sold / np.maximum(offered, 1), 0.0)
        up = (offered > 0) & (load >= self.cfg.high_load) & (extra < self.cfg.extra_flights_max)
        down = (load < 0.5) & (extra > 0)
        b.extra_per_week[r] = extra + up.astype(int) - down.astype(int)
        b.offered[r] = 0
        b.sold[r] = 0
