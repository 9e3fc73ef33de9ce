"""Day: what one day's phases hand each other.

The model makes a new :class:`Day` each morning and passes it to every phase of
:data:`sim.model.rules.PHASES`; at night the recorder is given it. Nothing a phase hands to a
later one travels through the model's attributes: it is a field here, with the phase that
writes it and the phases that read it. Yesterday's Day is kept (``MigrationModel.yesterday``)
for the one handoff across days: the visa queues the issuing states answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Day:
    """One day's handoffs between phases (arrays over the world's routes R, visa channels C,
    origins O).

    Attributes:
        index: the day (0 = the run's first).
        active_levers: names of the levers pulled today — written by ``pull_levers``; recorded.
        serving: (C, O) bool, channel c in service today and issuing to origin o's people — written
            by ``pull_levers``; read by ``sell_packages`` (what is on sale) and ``apply_for_visas``.
        flights, seats: (R,) int, today's flights and corridor seats (simulated people) per
            route — written by ``publish_flights``; read by ``fly``; recorded.
        offer: (O,) bool, a package is on sale to origin o today — written by ``sell_packages``;
            read by ``intend``.
        visa_capacity: (C,) float, whole visa appointments per channel today — written by
            ``apply_for_visas``; recorded.
        visa_queue: (C,) float, the people each channel could serve today — written by
            ``apply_for_visas``; read by the next day's ``states_decide``.
    """

    index: int
    active_levers: list[str] = field(default_factory=list)
    serving: np.ndarray | None = None
    flights: np.ndarray | None = None
    seats: np.ndarray | None = None
    offer: np.ndarray | None = None
    visa_capacity: np.ndarray | None = None
    visa_queue: np.ndarray | None = None

    @classmethod
    def before_the_run(cls, n_channels: int) -> Day:
        """The day before day 0: nobody queued for a visa."""
        return cls(index=-1, visa_queue=np.zeros(n_channels), visa_capacity=np.zeros(n_channels))
