"""The day's phases, in order: one registry, and one module per group of rules.

:data:`PHASES` is the day (``MigrationModel.step`` runs it in order). Each :class:`Phase` names
the function that does it, the module that holds its rules, and the random streams it draws
from (``tests/test_architecture.py`` checks, by watching a run, that a phase draws from its
streams and from no other).

A phase function takes the model and does the phase's bookkeeping: who is in which state,
what moves, what is recorded, what the network hears. The per-person work of a migrant phase
(who decides what, who gets a scarce thing, who pays) is done by its kernels: plain
functions of arrays listed in the module's ``KERNELS``, in numpy here (the definition), and
with the same names, arguments and results in :mod:`sim.engines.compiled` (``run.engine=numba``).
The model picks the kernels once (``MigrationModel.kernels``); the phases are the same code
for both engines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType, SimpleNamespace
from typing import TYPE_CHECKING

from sim.model import rng
from sim.model.rng import Stream
from sim.model.rules import border, fly, institutions, intend, sell, transit, visas

if TYPE_CHECKING:
    from sim.model.model import MigrationModel


@dataclass(frozen=True)
class Phase:
    """One phase of the day.

    Attributes:
        name: the phase's name (its function's name).
        run: the function that does it, given the model.
        what: one line on what happens.
        streams: the random streams it draws from (:mod:`sim.model.rng`).
    """

    name: str
    run: Callable[[MigrationModel], None]
    what: str
    streams: tuple[Stream, ...] = ()

    @property
    def module(self) -> str:
        """The module that holds the phase's rules."""
        return self.run.__module__


PHASES: tuple[Phase, ...] = (
    Phase("pull_levers", institutions.pull_levers,
          "today's policy: \"nobody acts\" narrowed by each state's and airline's levers active today"),
    Phase("states_decide", institutions.states_decide,
          "issuing states scale their visa channels to yesterday's queue"),
    Phase("publish_flights", institutions.publish_flights,
          "airlines review schedules, publish today's flights and corridor seats, fly charters",
          (rng.AIRLINE_SEATS,)),
    Phase("sell_packages", sell.sell_packages,
          "intending people who can pay ask their agency; agencies sell up to capacity; some give up",
          (rng.BUY, rng.BUY_TIE, rng.GIVE_UP)),
    Phase("intend", intend.intend,
          "people at home start to intend to leave; people back home leave again",
          (rng.INTEND, rng.LEAVE_AGAIN)),
    Phase("apply_for_visas", visas.apply_for_visas,
          "applications lapse at closed channels; agencies apply at open ones; long waits cancelled",
          (rng.VISA_TIE,)),
    Phase("collect_visas", visas.collect_visas, "visas due today are collected: ticketed"),
    Phase("fly", fly.fly,
          "seats to the transit country, first come first served; reroutes through hubs; stranding",
          (rng.SEAT_TIE, rng.SEAT_ROUTE_ORDER, rng.HUB_CHOICE, rng.HUB_RECHOICE)),
    Phase("live_in_transit_country", transit.live_in_transit_country, "everyone in the transit country pays a day's hotel"),
    Phase("go_home", transit.go_home,
          "returning people land; stranded people become willing to go home: free seats, own tickets",
          (rng.REPATRIATION_SEATS, rng.RETURN_WILLING, rng.RETURN_TIE, rng.RETURN_OWN)),
    Phase("go_to_border", transit.go_to_border,
          "people leave the city for the border, choosing a segment open to them; the transit state stops some "
          "on its side (exit control); the others take the leg there if it has room",
          (rng.GO_TO_BORDER, rng.SEGMENT_CHOICE, rng.EXIT_CHECK, rng.LEG_TIE)),
    Phase("escort", transit.escort,
          "the transit state's forces take people from the city, and from other segments, to the segments it chooses",
          (rng.ESCORT, rng.RELOCATE, rng.ESCORT_CHOICE)),
    Phase("at_crossings", border.at_crossings,
          "at open crossing points people present themselves and are registered as far as the throughput goes; "
          "at closed ones they choose again (the transit state may stop them), go back to the city or wait",
          (rng.CROSSING_TIE, rng.CLOSED_CHOICE, rng.CLOSED_RECHOICE, rng.EXIT_CHECK)),
    Phase("resolve_border", border.resolve_border,
          "at green segments: who tries today, smugglers hired, each attempt's outcome, what the network hears",
          (rng.ATTEMPT, rng.SMUGGLER, rng.CROSS_DEATH, rng.CROSS_LINE, rng.CROSS_INSIDE, rng.CROSS_KEEP, rng.SWITCH,
           rng.SEGMENT_RECHOICE)),
)


# the modules whose phases have kernels; sim.engines.compiled has a module of the same name for each
KERNEL_MODULES: tuple[ModuleType, ...] = (sell, intend, visas, fly, transit, border)


def numpy_kernels() -> SimpleNamespace:
    """The kernels in numpy (``run.engine=numpy``), by name: each module's ``KERNELS``."""
    return SimpleNamespace(**{name: getattr(module, name) for module in KERNEL_MODULES for name in module.KERNELS})
