"""Travel agencies: sell packages (visa + flight + hotel), set prices, reroute through hubs.

An agency sells at most its capacity a day; raises its price when more people ask than it
can serve and lowers it when demand drops; grows its capacity while demand persists; books its
clients on direct flights while its city has one that will carry them and through a hub when
not; and is closed or cut by a crackdown (``Policy.agency_cap_mult``).

The agencies' numbers live in one :class:`AgencyBook` of (A,) arrays, so the model closes
every agency's day with one vectorised call (:meth:`AgencyBook.close_day`); each
:class:`TravelAgency` agent reads and closes its own row of the book.
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from sim.model.config import AgencyConfig


def adjust_price_and_capacity(price_usd: np.ndarray, capacity: np.ndarray, base_price_usd: np.ndarray,
                              base_capacity: np.ndarray, demand: np.ndarray,
                              cfg: AgencyConfig) -> tuple[np.ndarray, np.ndarray]:
    """Each agency's price and capacity after a day with ``demand`` (all in real people).

    Formula: ``price *= exp(a * clip(demand / capacity - 1, -1, 1))`` within
    [floor, ceiling] x base price; ``capacity *= 1 + g`` while demand > capacity.
    """
    excess = demand / np.maximum(capacity, 1e-9) - 1.0
    # math.exp, not np.exp: numpy's SIMD exp may differ from the C library's in the last bit
    step = np.array([math.exp(x) for x in (cfg.price_adjust * np.minimum(np.maximum(excess, -1.0), 1.0)).tolist()])
    price_usd = np.minimum(np.maximum(price_usd * step, cfg.price_min_mult * base_price_usd),
                           cfg.price_max_mult * base_price_usd)
    grown = np.minimum(capacity * (1 + cfg.capacity_growth), cfg.capacity_max_mult * base_capacity)
    return price_usd, np.where(demand > capacity, grown, capacity)


class AgencyBook:
    """Every agency's numbers, one row per agency (the migrants' ``agency`` column).

    Attributes:
        origin: (A,) int, the agency's city.
        base_capacity, capacity: (A,) float, packages a day, at the start and now (before crackdowns).
        base_price_usd, price_usd: (A,) float, package price, at the start and now.
        demand_today, sold_today: (A,) float, people who asked today and packages sold (real people).
        revenue_usd: (A,) float, money taken so far.
    """

    def __init__(self, origin: np.ndarray, capacity: float, price_usd: float, cfg: AgencyConfig) -> None:
        n = origin.size
        self.cfg = cfg
        self.origin = origin
        self.base_capacity = np.full(n, float(capacity))
        self.capacity = self.base_capacity.copy()
        self.base_price_usd = np.full(n, float(price_usd))
        self.price_usd = self.base_price_usd.copy()
        self.demand_today = np.zeros(n)
        self.sold_today = np.zeros(n)
        self.revenue_usd = np.zeros(n)

    def capacity_today(self, crackdown_mult: np.ndarray) -> np.ndarray:
        """(A,) packages each agency can sell today; ``crackdown_mult`` is per origin (O,)."""
        return self.capacity * crackdown_mult[self.origin]

    def close_day(self, demand: np.ndarray, sold: np.ndarray, revenue_usd: np.ndarray,
                  rows: slice = slice(None)) -> None:
        """Agencies ``rows`` adjust price and capacity to today's demand (real people)."""
        self.demand_today[rows], self.sold_today[rows] = demand, sold
        self.revenue_usd[rows] += revenue_usd
        self.price_usd[rows], self.capacity[rows] = adjust_price_and_capacity(
            self.price_usd[rows], self.capacity[rows], self.base_price_usd[rows], self.base_capacity[rows],
            np.asarray(demand, dtype=float), self.cfg)


def _row(column: str) -> property:
    """An agent's value in one column of the book."""
    return property(lambda agency: float(getattr(agency.book, column)[agency.index]))


class TravelAgency(mesa.Agent):
    """One agency in one origin city: a Mesa agent over its row of the :class:`AgencyBook`.

    Attributes:
        index: global agency index (the migrants' ``agency`` column, the book's row).
        origin: index of its city.
        base_capacity, capacity, base_price_usd, price_usd, demand_today, sold_today,
            revenue_usd: its row of the book (read-only here; see :class:`AgencyBook`).
    """

    base_capacity = _row("base_capacity")
    capacity = _row("capacity")
    base_price_usd = _row("base_price_usd")
    price_usd = _row("price_usd")
    demand_today = _row("demand_today")
    sold_today = _row("sold_today")
    revenue_usd = _row("revenue_usd")

    def __init__(self, model: mesa.Model, book: AgencyBook, index: int) -> None:
        super().__init__(model)
        self.book = book
        self.index = index
        self.origin = int(book.origin[index])

    def capacity_today(self, crackdown_mult: float) -> float:
        return self.capacity * crackdown_mult

    def close_day(self, demand: float, sold: float, revenue_usd: float) -> None:
        """Adjust price and capacity to today's demand (all in real people; the book's rule)."""
        self.book.close_day(demand, sold, revenue_usd, rows=slice(self.index, self.index + 1))
