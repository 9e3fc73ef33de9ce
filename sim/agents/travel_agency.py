"""Travel agencies: sell packages (visa + flight + hotel), set prices, reroute through hubs.

An agency sells at most its capacity a day; raises its price when more people ask than it
can serve and lowers it when demand drops; grows its capacity while demand persists; books its
clients on direct flights while its city has one that will carry them and through a hub when
not; and is closed or cut by a crackdown (``Policy.agency_cap_mult``).
"""

from __future__ import annotations

import math

import mesa

from sim.config import AgencyConfig


class TravelAgency(mesa.Agent):
    """One agency in one origin city.

    Attributes:
        index: global agency index (the migrants' ``agency`` column).
        origin: index of its city.
        base_capacity, capacity: packages a day, at the start and now (before crackdowns).
        base_price_usd, price_usd: package price, at the start and now.
        demand_today, sold_today: people who asked today and packages sold.
        revenue_usd: money taken so far.
    """

    def __init__(self, model: mesa.Model, index: int, origin: int, capacity: float,
                 price_usd: float, cfg: AgencyConfig) -> None:
        super().__init__(model)
        self.index = index
        self.origin = origin
        self.base_capacity = self.capacity = capacity
        self.base_price_usd = self.price_usd = price_usd
        self.cfg = cfg
        self.demand_today = 0
        self.sold_today = 0
        self.revenue_usd = 0.0

    def capacity_today(self, crackdown_mult: float) -> float:
        return self.capacity * crackdown_mult

    def close_day(self, demand: float, sold: float, revenue_usd: float) -> None:
        """Adjust price and capacity to today's demand (all in real people).

        Formula: ``price *= exp(a * clip(demand / capacity - 1, -1, 1))`` within
        [floor, ceiling] x base price; ``capacity *= 1 + g`` while demand > capacity.
        """
        self.demand_today, self.sold_today = demand, sold
        self.revenue_usd += revenue_usd
        c = self.cfg
        excess = demand / max(self.capacity, 1e-9) - 1.0
        step = math.exp(c.price_adjust * max(-1.0, min(1.0, excess)))
        self.price_usd = min(max(self.price_usd * step, c.price_min_mult * self.base_price_usd),
                             c.price_max_mult * self.base_price_usd)
        if demand > self.capacity:
            self.capacity = min(self.capacity * (1 + c.capacity_growth), c.capacity_max_mult * self.base_capacity)
