"""MigrationModel: the corridor as a Mesa model. The model owns the state; the rules act on it.

One step is one day: a new :class:`sim.model.day.Day`, then the phases of
:data:`sim.model.rules.PHASES` in order, then the record::

    levers       reset today's policy; states and airlines pull their active levers
    states       issuers scale visa capacity to yesterday's queues
    airlines     publish today's flights and corridor seats
    agencies     sell packages to intending migrants (want, then allocate)
    migrants     intention, visas, flights, the transit country, returns (kernels over people)
    guards       resolve today's attempts at each border segment
    record       the day's row, from what the recorder is given

The per-person work of the migrant phases is done by kernels, in numpy or compiled
(``run.engine``; :attr:`MigrationModel.kernels`): the same numbers either way.

The model's randomness comes only from streams derived from ``run.seed`` (Mesa's ``model.rng``
is seeded from the same root), so the same config and seed give identical outputs.
"""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np

from sim.engines import compiled
from sim.model.allocate import stochastic_round
from sim.model.config import Config, load_config, set_dotted, to_dict
from sim.model.day import Day
from sim.model.institutions import (
    AgencyBook,
    Airline,
    BorderGuard,
    RouteBook,
    StateActor,
    TravelAgency,
)
from sim.model.levers import DayPolicy, build_levers
from sim.model.population import (
    Population,
    network_signal,
)
from sim.model.recorder import METRICS, Recorder
from sim.model.rng import (
    Stream,
    Streams,
)
from sim.model.rules import PHASES, Phase, numpy_kernels
from sim.model.world import World


class MigrationModel(mesa.Model):
    """A corridor as a Mesa model: the world, the scenario and the behaviour given in the config.

    Args:
        config: a :class:`Config` or a nested mapping (checked by :func:`load_config`);
            ``None`` gives the schema's defaults, which have an empty world: pass the default
            scenario with :func:`sim.running.run.default_config`.
        rng: root seed; overrides ``config.run.seed`` (this is how ``mesa.batch_run`` seeds).
        **overrides: dotted keys with ``__`` for dots, e.g. ``population__size=20000``
            (how ``mesa.batch_run`` passes parameters).

    Attributes:
        cfg: the checked config. world: the :class:`World`. people: the :class:`Population`.
        day: index of the day being simulated next (0 = run start).
        recorder: the daily table and run totals.
    """

    def __init__(self, config: Config | dict | None = None, rng: int | None = None,
                 **overrides: Any) -> None:
        data = to_dict(config) if isinstance(config, Config) else dict(config or {})
        for key, value in overrides.items():
            set_dotted(data, key, value)
        if rng is not None:
            set_dotted(data, "run.seed", int(rng))
        cfg = load_config(data)
        super().__init__(rng=np.random.default_rng(np.random.SeedSequence(cfg.run.seed)))
        self.cfg = cfg
        self.world = World(cfg)
        # sampling fraction: rows per real person. Capacities (seats, visas, packages, guards,
        # repatriation seats) are in real people and scaled by it; what the network hears is
        # scaled back to real people. At size == pool (the default) nothing is scaled.
        self.scale = cfg.population.size / cfg.population.pool
        self.streams = Streams(cfg.run.seed, cfg.population.size)
        # the per-person work of the migrant phases: numpy, or the compiled twins (run.engine)
        self.kernels = compiled.kernels() if cfg.run.engine == "numba" else numpy_kernels()
        # the day's phases, in order (sim.model.rules.PHASES)
        self.phases: tuple[Phase, ...] = PHASES

        actors = list(self.world.states) + list(self.world.airlines)
        # applied in name order, whatever the order in the config: levers only narrow the policy
        # (AND, multiply, add), and a fixed order makes the floating-point result exact too
        levers = sorted(build_levers(cfg.levers, self.world, actors, list(METRICS)), key=lambda lv: lv.name)
        self.levers = levers
        self.day_policy = DayPolicy(self.world)  # today's policy from the levers pulled today
        self.people = Population(cfg, self.world, self.streams)
        if cfg.run.engine == "numba":
            self.people.members_kernel = compiled.members_kernel()
        self.recorder = Recorder(self.world, cfg.n_days, self.scale)
        w = self.world

        self.state_actors = {s: StateActor(self, s, [lv for lv in levers if lv.actor == s]) for s in w.states}
        self.route_book = RouteBook(w.n_routes)
        self.airline_agents = {a: Airline(self, a, w, self.route_book, cfg.airline, [lv for lv in levers if lv.actor == a])
                               for a in w.airlines}
        # the actors that own levers, states first (the others' active_today stays empty)
        self.lever_owners = [a for a in list(self.state_actors.values()) + list(self.airline_agents.values()) if a.levers]
        self.agency_book = AgencyBook(np.repeat(np.arange(w.n_origins), w.origin_agencies), w.agency_capacity,
                                      w.agency_price, cfg.agency)
        self.agencies = [TravelAgency(self, self.agency_book, a) for a in range(self.agency_book.origin.size)]
        self.guards = [BorderGuard(self, s, w.segment_ids[s], w.seg_cap[s], w.seg_adapt[s], w.seg_cap_max[s])
                       for s in range(w.n_segments)]

        S, O = w.n_segments, w.n_origins
        self.channel_level = np.ones(w.n_channels)
        # per issuing state whose channels grow with their queues: (C,) which channels
        self.growing_channels = {name: issued for name in self.state_actors
                                 if (issued := (np.array(w.channel_state) == name) & (w.channel_growth > 0)).any()}
        # unused capacity carries over for up to a week (a token bucket), so a small capacity
        # (a fraction of a person a day in a sampled run) is neither lost nor rounded away
        self.agency_credit = np.zeros(len(self.agencies))
        self.channel_credit = np.zeros(w.n_channels)
        self.leg_credit = np.zeros(w.n_legs)
        self.leg_places = np.zeros(w.n_legs, dtype=np.int64)  # today's whole places per leg (go_to_border)
        self.crossing_credit = np.zeros(S)
        self.success_ema = np.zeros(O)
        self.failure_ema = np.zeros(O)
        # what people believe of each segment before anyone reports: the share that gets past
        # the line (being caught inside still means being in the EU, where one may apply)
        self.seg_prior = 1.0 - w.seg_detect
        self.seg_attempts_ema = np.zeros(S)
        self.seg_success_ema = np.zeros(S)
        self.decay = 0.5 ** (1.0 / cfg.intention.report_half_life_days)
        self.day = 0
        self.yesterday = Day.before_the_run(w.n_channels)  # the last day's handoffs (sim.model.day)
        self.running = True
        # Mesa convention: model-level reporters (what mesa.batch_run collects)
        self.datacollector = mesa.DataCollector(
            model_reporters={name: (lambda m, n=name: m.recorder.last(n)) for name in METRICS})

    # ------------------------------------------------------------------------------------
    def step(self) -> None:
        """One day: the phases of the registry in order (levers -> states -> airlines -> agencies ->
        migrants -> guards), each given today's :class:`Day`; then the record."""
        if self.day >= self.cfg.n_days:
            self.running = False
            return
        today = Day(self.day)
        self.recorder.start_day()
        self.people.flows.fill(0)
        for phase in self.phases:  # sim.model.rules.PHASES, in order
            phase.run(self, today)
        self.recorder.end_day(today, self.people, self.agency_book, self.world.policy)
        self.yesterday = today
        self.datacollector.collect(self)
        self.day += 1
        if self.day >= self.cfg.n_days:
            self.running = False

    def run(self, progress: Any = None) -> None:
        """Step to the end of the run window (``progress``: a callable called once a day)."""
        while self.running:
            self.step()
            if progress is not None:
                progress()

    def scaled(self, real: np.ndarray | float, stream: Stream) -> np.ndarray:
        """A capacity in real people as whole units of simulated people (stochastic rounding)."""
        x = np.asarray(real, dtype=float) * self.scale
        whole = np.floor(x)
        if not (x > whole).any():  # whole numbers round to themselves whatever the draw
            return whole.astype(np.int64)
        return stochastic_round(x, self.streams.generator(stream, self.day).random(x.shape))

    @property
    def signal(self) -> np.ndarray:
        c = self.cfg.intention
        return network_signal(self.success_ema, self.failure_ema, c.success_scale_per_day, c.failure_scale_per_day)

    def report_failures(self, ids: np.ndarray) -> None:
        """People who give up and go home tell their network."""
        if ids.size:
            self.failure_ema += (1.0 - self.decay) / self.scale * np.bincount(
                self.people.origin[ids], minlength=self.world.n_origins)


def check_config(config: Config | dict) -> Config:
    """Build (and discard) a tiny model to check a config completely before any work starts."""
    cfg = load_config(config if not isinstance(config, Config) else to_dict(config))
    probe = to_dict(cfg)
    probe["population"]["size"] = min(cfg.population.size, 100)
    MigrationModel(probe)  # raises ConfigError for anything the world or the levers refuse
    return cfg
