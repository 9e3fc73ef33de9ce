"""States: origin states, the transit state, the destination's border states, hub states, blocs.

A state owns the levers it may pull (``actor`` in the config) and pulls those active today.
An issuing state (the transit state) also scales its visa issuance to the queue at its channels while it
wants the flow (its channels' ``capacity_growth_per_day``), which is how supply answered demand
in 2021.
"""

from __future__ import annotations

from collections.abc import Callable

import mesa
import numpy as np

from sim.model.levers import Lever


class StateActor(mesa.Agent):
    """A state (called StateActor so as not to clash with a migrant's State).

    Attributes:
        name: the state's name in the world.
        levers: the levers it owns.
        active_today: names of its levers that acted today.
    """

    def __init__(self, model: mesa.Model, name: str, levers: list[Lever]) -> None:
        super().__init__(model)
        self.name = name
        self.levers = levers
        self.active_today: list[str] = []

    def pull_levers(self, day: int, metric: Callable[[str], float]) -> list[tuple[Lever, float]]:
        """The owned levers whose schedule is on today, with their strengths (in ``active_today``)."""
        pulled = [(lv, s) for lv in self.levers if (s := lv.strength_today(day, metric)) > 0]
        self.active_today = [lv.name for lv, _ in pulled]
        return pulled

    def scale_visa_issuance(self, level: np.ndarray, issued_here: np.ndarray, queue: np.ndarray,
                            capacity: np.ndarray, growth: np.ndarray, max_mult: np.ndarray) -> None:
        """Grow the capacity level of this state's channels where applications queue.

        Formula: ``level_c *= 1 + growth_c`` while ``queue_c > capacity_c``, up to ``max_mult_c``.
        """
        grow = issued_here & (queue > capacity)
        np.copyto(level, np.minimum(level * (1.0 + growth), max_mult), where=grow)
