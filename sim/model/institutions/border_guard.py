"""Border guards: one per EU border segment.

A guard force has a capacity (attempts it can stop a day at full strength), reinforced by its
state's levers (``Policy.guard_cap_mult``) and by its own adaptation: it shifts patrols to
where the pressure is, growing its capacity while attempts exceed it. How the share stopped
falls with congestion is :func:`sim.model.population.stop_share`. The guards hold those their
state keeps in detention until they leave (:meth:`BorderGuard.release`).
"""

from __future__ import annotations

import mesa


class BorderGuard(mesa.Agent):
    """The guards at one segment.

    Attributes:
        segment: index of the segment.
        base_capacity: attempts stopped a day at the start.
        level: own reinforcement multiplier (>= 1), grown under pressure.
        adapt_per_day, level_max: growth rate and ceiling of ``level``.
        pushback: whether the segment pushes people back today.
        detained: people kept after being caught here who are still in detention (simulated
            people; a float: leaving is a daily share).
    """

    def __init__(self, model: mesa.Model, segment: int, name: str, base_capacity: float,
                 adapt_per_day: float, level_max: float) -> None:
        super().__init__(model)
        self.segment = segment
        self.name = name
        self.base_capacity = base_capacity
        self.level = 1.0
        self.adapt_per_day = adapt_per_day
        self.level_max = level_max
        self.pushback = False
        self.detained = 0.0

    def capacity(self, reinforcement_mult: float) -> float:
        return self.base_capacity * self.level * reinforcement_mult

    def adapt(self, attempts: int, capacity: float) -> None:
        """Formula: ``level *= 1 + adapt`` while attempts exceed capacity, up to ``level_max``."""
        if attempts > capacity:
            self.level = min(self.level * (1.0 + self.adapt_per_day), self.level_max)

    def release(self, stay_days: float) -> None:
        """People leave detention (released into the asylum procedure, or returned) after
        ``stay_days`` on average. Formula: ``detained *= 1 - 1 / stay_days`` (once a day)."""
        self.detained *= 1.0 - 1.0 / stay_days

    def detain(self, kept: int) -> None:
        """Those kept today enter detention."""
        self.detained += kept
