"""Policy levers: one class per lever, a registry by name, and schedules kept apart.

A lever is written in ``levers:`` of a config as ``kind`` (the registry name), ``actor`` (the
state or airline that pulls it), ``when`` (its schedule) and its own parameters, which its
frozen parameter dataclass checks (an unknown key is an error; every number goes through the
schema's rule, :func:`sim.model.config.check_number`: of its type and finite). Each day the model resets the
world's :class:`sim.model.world.Policy` to "nobody acts"; every active lever then *narrows* it —
booleans by AND, numbers by multiplication, seats and information by addition — so levers
commute and a lever that is not active changes nothing. Levers act on the world's arrays,
never on people. A day on which every active lever does what it did on an earlier day
(:meth:`Lever.effect`) gets that day's policy back instead of building it again.

Schedules (``when``):
    ``{}``                                  always on;
    ``{start: D, end: D}``                  a window (either end may be left out);
    ``{start: D, ramp_days: N}``            strength rises linearly to 1 over N days;
    ``{dates: [D, ...]}``                   single days;
    ``{trigger: {metric: M, above: X, for_days: N, lag_days: L}, duration_days: N}``
                                            on when metric M (yesterday's value) has been
                                            above (or ``below``) X for N days, L days later.

Adding a lever: write a dataclass of its parameters and a class with ``build`` (resolve
names against the world, raising :class:`ConfigError`) and ``apply`` (narrow the policy),
and decorate it with ``@register("name")``. If ``apply`` reads the day, also override
``effect`` (see :class:`RepatriationFlights`). Nothing else changes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from sim.model.config import (
    ConfigError,
    LeverSpec,
    Trigger,
    When,
    load_dataclass,
)
from sim.model.world import Policy, World

REGISTRY: dict[str, type[Lever]] = {}


def register(*names: str) -> Callable[[type[Lever]], type[Lever]]:
    def deco(cls: type[Lever]) -> type[Lever]:
        for n in names:
            REGISTRY[n] = cls
        cls.kind = names[0]
        return cls

    return deco


# --------------------------------------------------------------------------------------
# schedules
# --------------------------------------------------------------------------------------


class Schedule:
    """When a lever acts and how strongly: ``strength(day, metric)`` in [0, 1].

    Built from the lever's typed schedule (:class:`sim.model.config.When`: dates already parsed,
    numbers checked) by resolving its dates against the run window.
    """

    def __init__(self, when: When, world: World, where: str,
                 metric_names: list[str], strict: bool = True) -> None:
        self.strict = strict  # a disabled lever's dates are parsed but may lie outside the run
        last = world.n_days - 1
        self.start = self._day(when.start, world, f"{where}.start", 0)
        # an end after the run's last day is harmless ("until further notice"): clip it
        end = when.end if when.end is None or world.day_of(when.end) <= last else None
        self.end = self._day(end, world, f"{where}.end", last)
        if self.end < self.start:
            raise ConfigError(f"{where}.end: {world.date_of(self.end)} is before start {world.date_of(self.start)}")
        self.ramp_days = when.ramp_days
        self.days: set[int] | None = None
        if when.dates is not None:
            if not when.dates:
                raise ConfigError(f"{where}.dates: []; expected a non-empty list of dates")
            self.dates_in_order = [self._day(d, world, f"{where}.dates[{i}]", None) for i, d in enumerate(when.dates)]
            self.days = set(self.dates_in_order)
        self.trigger = None
        self.duration = when.duration_days or 10**6
        if when.trigger is not None:
            self.trigger = self._trigger(when.trigger, f"{where}.trigger", metric_names)
        self.fired_on: int | None = None
        self._held = 0
        # without a trigger the strength is a function of the day alone: tabulated for the run
        self.by_day = [] if self.trigger is not None else [self.strength(d) for d in range(world.n_days)]

    def _day(self, d: dt.date | None, world: World, where: str, default: int | None) -> int:
        if d is None:
            if default is None:
                raise ConfigError(f"{where}: missing date")
            return default
        day = world.day_of(d)
        if not 0 <= day < world.n_days:
            if not self.strict:
                return min(max(day, 0), world.n_days - 1)
            raise ConfigError(
                f"{where}: {d} is outside the run ({world.date_of(0)} to {world.date_of(world.n_days - 1)}); "
                f"move the date, change run.start/run.end, or disable the lever ({where.split('.when')[0]}.enabled=false)"
            )
        return day

    @staticmethod
    def _trigger(t: Trigger, where: str, metric_names: list[str]) -> dict[str, Any]:
        if t.metric not in metric_names:
            raise ConfigError(f"{where}.metric: {t.metric!r} is not a model metric; known: {', '.join(metric_names)}")
        if (t.above is None) == (t.below is None):
            raise ConfigError(f"{where}: give exactly one of above or below")
        return {"metric": t.metric, "above": t.above, "below": t.below, "for_days": t.for_days, "lag_days": t.lag_days}

    def observe(self, day: int, metric: Callable[[str], float]) -> None:
        """Feed yesterday's metrics to a trigger (call once per day before ``strength``)."""
        if self.trigger is None or self.fired_on is not None or day < self.start:
            return
        x = metric(self.trigger["metric"])
        t = self.trigger
        holds = x > t["above"] if t["above"] is not None else x < t["below"]
        self._held = self._held + 1 if holds else 0
        if self._held >= t["for_days"]:
            self.fired_on = day + t["lag_days"]

    def strength(self, day: int) -> float:
        if self.trigger is not None:
            if self.fired_on is None or day < self.fired_on or day >= self.fired_on + self.duration:
                return 0.0
            return 1.0 if day <= self.end else 0.0
        if self.days is not None:
            return 1.0 if day in self.days else 0.0
        if day < self.start or day > self.end:
            return 0.0
        if self.ramp_days > 0:
            return min(1.0, (day - self.start + 1) / self.ramp_days)
        return 1.0


# --------------------------------------------------------------------------------------
# levers
# --------------------------------------------------------------------------------------


class Lever(ABC):
    """A policy lever: a schedule (when) and an effect (what), built from a :class:`LeverSpec`."""

    kind: ClassVar[str] = ""
    Params: ClassVar[type] = object
    notice: frozenset[int] = frozenset()  # the days between the lever's announcement and its start

    def __init__(self, name: str, spec: LeverSpec, world: World, metric_names: list[str]) -> None:
        self.name = name
        self.actor = spec.actor
        where = f"levers.{name}"
        self.kind_name = spec.kind
        try:
            self.params = load_dataclass(self.Params, dict(spec.params), where)
        except ConfigError as e:
            if "unknown key" in str(e):
                raise ConfigError(f"{e}; every lever also takes kind, actor, enabled, when, note") from None
            raise
        self.when = spec.when
        self.enabled = spec.enabled
        self.schedule = Schedule(spec.when, world, f"{where}.when", metric_names, strict=spec.enabled)
        self.build(world, where)

    def build(self, world: World, where: str) -> None:  # noqa: B027 (optional hook: most levers override it)
        """Resolve names to indices; raise ConfigError for anything not in the world."""

    @abstractmethod
    def apply(self, policy: Policy, strength: float, day: int) -> None:
        """Narrow today's policy (only called when strength > 0; what it does must follow from
        ``effect(strength, day)``)."""

    def effect(self, strength: float, day: int) -> Hashable:
        """What ``apply(policy, strength, day)`` does, as a value: the world builds one policy per
        distinct combination of the active levers' effects and reuses it on every day that repeats
        it (:class:`DayPolicy`). The strength, since most levers read nothing
        else (and whether today is a day of notice, for an announced lever); a lever whose
        ``apply`` also reads the day overrides this."""
        return (strength, day in self.notice) if self.notice else strength

    def announce(self, announced: dt.date | None, world: World, where: str) -> None:
        """A lever made public before it acts: its days of notice, from ``announced`` to the day
        before its schedule starts (on those days it acts too, and ``apply`` tells them apart by
        the day). The one rule for every announced lever."""
        if announced is None:
            return
        start = self.when.start
        if start is None:
            raise ConfigError(f"{where}.announced: the lever has no when.start to be announced before; give one")
        if announced > start:
            raise ConfigError(f"{where}.announced: {announced} is after the lever starts "
                              f"({start}); announce it on or before its start")
        if self.enabled:  # a disabled lever never acts, nor gives notice (its dates may lie outside the run)
            first = min(world.day_of(start), world.n_days)
            self.notice = frozenset(range(max(world.day_of(announced), 0), first))

    def strength_today(self, day: int, metric: Callable[[str], float]) -> float:
        """Today's strength (0: the lever does not act), after feeding a trigger yesterday's
        metrics; 1 on a day of notice."""
        if day in self.notice:
            return 1.0
        s = self.schedule
        if day < len(s.by_day):
            return s.by_day[day]
        s.observe(day, metric)
        return s.strength(day)


def _indices(world: World, kind: str, names: list[str], where: str) -> list[int]:
    return [world.index(kind, n, f"{where}[{i}]") for i, n in enumerate(names)]


def _nat_mask(world: World, names: list[str], where: str) -> np.ndarray:
    mask = np.zeros(world.n_nationalities, bool)
    mask[_indices(world, "nationality", names, where)] = True
    return mask if names else np.ones(world.n_nationalities, bool)


@dataclass(frozen=True)
class FlightSuspensionParams:
    routes: list[str] = field(default_factory=list)
    airlines: list[str] = field(default_factory=list)
    from_airports: list[str] = field(default_factory=list)
    from_states: list[str] = field(default_factory=list)
    nationalities: list[str] = field(default_factory=list)


@register("flight_suspension", "boarding_ban")
class FlightSuspension(Lever):
    """Stops flights to the transit country, or boarding for some nationalities.

    Scope: routes that match every non-empty filter (``routes``, ``airlines``,
    ``from_airports``, ``from_states``). With ``nationalities`` empty the routes do not fly;
    otherwise those nationalities may not board (a boarding ban). People already ticketed are
    rebooked through hubs by their agency, or refunded. Stands for: Iraq's suspension
    (events 2021-08-06, 2021-10-09), Turkey's, Cham Wings' and the UAE's bans (2021-11-12..14).
    """

    Params = FlightSuspensionParams

    def build(self, world: World, where: str) -> None:
        p = self.params
        m = np.ones(world.n_routes, bool)
        if p.routes:
            sel = np.zeros(world.n_routes, bool)
            sel[_indices(world, "route", p.routes, f"{where}.routes")] = True
            m &= sel
        if p.airlines:
            m &= np.isin(world.route_airline, _indices(world, "airline", p.airlines, f"{where}.airlines"))
        if p.from_airports:
            m &= np.isin(world.route_from, _indices(world, "airport", p.from_airports, f"{where}.from_airports"))
        if p.from_states:
            _indices(world, "state", p.from_states, f"{where}.from_states")
            m &= np.isin(np.array(world.route_state), p.from_states)
        if not m.any():
            raise ConfigError(f"{where}: the filters match no route; routes: {', '.join(world.route_ids)}")
        self.route_mask = m
        self.nat_mask = _nat_mask(world, p.nationalities, f"{where}.nationalities")
        self.all_nationalities = not p.nationalities

    def apply(self, policy: Policy, strength: float, day: int) -> None:
        if self.all_nationalities:
            policy.route_open &= ~self.route_mask
        else:
            policy.boarding_ok &= ~(self.route_mask[:, None] & self.nat_mask[None, :])


@dataclass(frozen=True)
class ChannelParams:
    channels: list[str] = field(default_factory=list)
    nationalities: list[str] = field(default_factory=list)


@register("consulate_closure")
class ConsulateClosure(Lever):
    """Closes visa channels (``channels``): no new applications, pending ones lapse.

    People whose application lapses go back to their agency, which applies through another
    open channel (the missions in Ankara and the UAE kept processing). Stands for: Iraq
    closing Belarus' consulates in Baghdad and Erbil (events 2021-11-06).
    """

    Params = ChannelParams

    def build(self, world: World, where: str) -> None:
        if not self.params.channels:
            raise ConfigError(f"{where}.channels: empty; name the channels to close: {', '.join(world.channel_ids)}")
        self.idx = _indices(world, "channel", self.params.channels, f"{where}.channels")

    def apply(self, policy: Policy, strength: float, day: int) -> None:
        policy.channel_open[self.idx] = False


@register("visa_restriction")
class VisaRestriction(Lever):
    """The issuing state stops visas for some nationalities at some channels (all if empty).

    Stands for: Belarus stopping visa on arrival for several nationalities (events
    2021-10-12) and reportedly halting visas to Iraqis (2021-10-20).
    """

    Params = ChannelParams

    def build(self, world: World, where: str) -> None:
        p = self.params
        self.ch = np.zeros(world.n_channels, bool)
        if p.channels:
            self.ch[_indices(world, "channel", p.channels, f"{where}.channels")] = True
        else:
            self.ch[:] = True
        self.nat = _nat_mask(world, p.nationalities, f"{where}.nationalities")

    def apply(self, policy: Policy, strength: float, day: int) -> None:
        policy.channel_ok &= ~(self.ch[:, None] & self.nat[None, :])


@dataclass(frozen=True)
class VisaLeverageParams:
    nationality: str = ""
    cooperation_drop: float = 0.5
    intention_mult: float = 1.2


@register("visa_leverage")
class VisaLeverage(Lever):
    """A destination restricts its own visas for one nationality to press the origin state on
    returns (e.g. the EU's Visa Code Art. 25a).

    Mechanism the record describes: the origin state's cooperation on returns falls (fewer
    repatriation seats: ``cooperation *= 1 - cooperation_drop``), and the legal route closes,
    which raises irregular departures from that nationality's origins (``intention_mult``).
    Stands for: the Commission's 2021 proposal (events 2021-08-15; not adopted).
    """

    Params = VisaLeverageParams

    def build(self, world: World, where: str) -> None:
        p = self.params
        if not p.nationality:
            raise ConfigError(f"{where}.nationality: missing; name the nationality whose visas are restricted "
                              f"({', '.join(world.nationalities)})")
        k = world.index("nationality", p.nationality, f"{where}.nationality")
        if not 0 <= p.cooperation_drop <= 1:
            raise ConfigError(f"{where}.cooperation_drop: {p.cooperation_drop} is out of range; allowed: [0, 1]")
        if p.intention_mult < 0:
            raise ConfigError(f"{where}.intention_mult: {p.intention_mult} is negative; allowed: >= 0")
        self.origins = world.origin_nat == k

    def apply(self, policy: Policy, strength: float, day: int) -> None:
        policy.cooperation *= 1.0 - strength * self.params.cooperation_drop
        policy.intent_mult[self.origins] *= 1.0 + strength * (self.params.intention_mult - 1.0)


@dataclass(frozen=True)
class RepatriationParams:
    seats: list[int] = field(default_factory=list)
    weekdays: list[int] = field(default_factory=list)
    fare_usd: float = 0.0
    airline: str = ""
    nationalities: list[str] = field(default_factory=list)


@register("repatriation_flights")
class RepatriationFlights(Lever):
    """Flights home from the transit country, chartered from ``airline`` by the actor (default:
    the first of ``world.airlines`` registered in the actor's state).

    Schedule: either ``when: {dates: [...]}`` with ``seats`` one per date (or one number for
    all), or a window (``when: {start, end}``) with flights on ``weekdays`` (0 = Monday),
    ``seats`` each. ``fare_usd`` 0 is a free flight; above 0, only those who can pay board.
    ``nationalities``: who may board (all if empty). Seats are scaled by the origin state's cooperation; who
    boards is decided by the migrants' willingness to return (days stranded, times turned
    back, money left, cold). Stands for: Iraq's evacuation flights (events 2021-08-09) and the
    repatriation flights from 2021-11-18.
    """

    Params = RepatriationParams

    def build(self, world: World, where: str) -> None:
        p, s = self.params, self.schedule
        if (s.days is None) == (not p.weekdays):
            raise ConfigError(f"{where}: give either when.dates (one flight per date) or weekdays (flights each week in the window)")
        if not p.seats or any(x < 0 for x in p.seats):
            raise ConfigError(f"{where}.seats: {p.seats}; give seats (>= 0) per flight, one number or one per date")
        if any(not 0 <= d <= 6 for d in p.weekdays):
            raise ConfigError(f"{where}.weekdays: {p.weekdays}; days are 0 (Monday) to 6 (Sunday)")
        if p.fare_usd < 0:
            raise ConfigError(f"{where}.fare_usd: {p.fare_usd} is negative; allowed: >= 0 (0 = free)")
        self.seats_on: dict[int, int] = {}
        if s.days is not None:
            if len(p.seats) not in (1, len(s.dates_in_order)):
                raise ConfigError(f"{where}.seats: {len(p.seats)} numbers for {len(s.dates_in_order)} dates; give one or one per date")
            for i, d in enumerate(s.dates_in_order):
                self.seats_on[d] = self.seats_on.get(d, 0) + p.seats[i if len(p.seats) > 1 else 0]
        else:
            if len(p.seats) != 1:
                raise ConfigError(f"{where}.seats: give one number (seats per weekly flight)")
            for d in range(s.start, s.end + 1):
                n = p.weekdays.count(world.date_of(d).weekday())
                if n:
                    self.seats_on[d] = n * p.seats[0]
        self.nat = _nat_mask(world, p.nationalities, f"{where}.nationalities")
        if p.airline:
            world.index("airline", p.airline, f"{where}.airline")
            self.airline = p.airline
        else:
            own = [a for a, state in zip(world.airlines, world.airline_state, strict=True) if state == self.actor]
            if not own:
                raise ConfigError(f"{where}.airline: missing, and no airline of world.airlines is registered in "
                                  f"{self.actor!r}; name the airline that flies the charters ({', '.join(world.airlines)})")
            self.airline = own[0]

    def effect(self, strength: float, day: int) -> int:
        """Today's seats: all that ``apply`` reads of the strength and the day."""
        return int(round(strength * self.seats_on.get(day, 0)))

    def apply(self, policy: Policy, strength: float, day: int) -> None:
        seats = self.effect(strength, day)
        if seats > 0:
            policy.charters.append((self.airline, seats))
            policy.repat_ok |= self.nat
            policy.repat_fare_usd = min(policy.repat_fare_usd, self.params.fare_usd)


@dataclass(frozen=True)
class CrackdownParams:
    origins: list[str] = field(default_factory=list)
    capacity_mult: float = 0.5


@register("smuggler_crackdown")
class SmugglerCrackdown(Lever):
    """Arrests of smugglers and agencies: agencies in ``origins`` (all if empty) keep
    ``capacity_mult`` of their capacity (0 closes them). Stands for: Iraq's and the KRG's
    arrests (events 2021-08-03, 2021-11-18).
    """

    Params = CrackdownParams

    def build(self, world: World, where: str) -> None:
        if not 0 <= self.params.capacity_mult <= 1:
            raise ConfigError(f"{where}.capacity_mult: {self.params.capacity_mult} is out of range; allowed: [0, 1]")
        self.mask = np.zeros(world.n_origins, bool)
        if self.params.origins:
            self.mask[_indices(world, "origin", self.params.origins, f"{where}.origins")] = True
        else:
            self.mask[:] = True

    def apply(self, policy: Policy, strength: float, day: int) -> None:
        policy.agency_cap_mult[self.mask] *= 1.0 - strength * (1.0 - self.params.capacity_mult)


@dataclass(frozen=True)
class BorderParams:
    segments: list[str] = field(default_factory=list)
    pushback: bool = False
    kept_share: float = 0.0
    claim_mult: float = 1.0
    guard_mult: float = 1.0
    interior_catch_mult: float = 1.0
    line_stop_mult: float = 1.0
    attempt_cost_usd: float = 0.0
    announced: dt.date | None = None


@register("border_policy", "pushback", "reinforcement", "state_of_emergency", "fence")
class BorderPolicy(Lever):
    """A border state's policy at its segments: pushbacks (people caught inside are returned
    to the transit country), reinforcement (``guard_mult`` on guard capacity, ramped by the schedule) and
    interior controls (``interior_catch_mult``, e.g. a state of emergency's closed zone). Where it
    pushes back, ``kept_share`` of those caught inside are kept all the same (asylum claims
    registered, families and people in need of care, court orders stopping a return), the
    largest share any active lever sets, times ``claim_mult`` (the chance to claim asylum: a
    closed zone that keeps lawyers, NGOs and media out lowers it). A fence (``line_stop_mult`` on
    the share stopped at the line, ramped while it is built) makes each attempt cost more
    (``attempt_cost_usd``: ladders, cutters, guides; paid at every attempt there).
    ``announced``: the day a pushback policy was made public; from then until it acts, people who
    can reach those segments leave for them sooner (``travel.closing_soon_mult``, as before an
    announced closure of a crossing point) and those there try sooner (``border.announced_attempt_mult``).
    Stands for: Lithuania's pushback decree (events 2021-08-02), the states of emergency in
    Latvia (2021-08-10), Poland (2021-09-02, NGOs and media barred) and Lithuania (2021-11-09),
    Poland's legalised pushbacks (2021-10-26); the razor-wire fences of Lithuania (2021-07-07)
    and Poland (2021-08-28).
    """

    Params = BorderParams

    def build(self, world: World, where: str) -> None:
        p = self.params
        if not p.segments:
            raise ConfigError(f"{where}.segments: empty; name segments: {', '.join(world.segment_ids)}")
        for k in ("guard_mult", "interior_catch_mult", "line_stop_mult", "attempt_cost_usd"):
            if getattr(p, k) < 0:
                raise ConfigError(f"{where}.{k}: {getattr(p, k)} is negative; allowed: >= 0")
        for k in ("kept_share", "claim_mult"):
            if not 0.0 <= getattr(p, k) <= 1.0:
                raise ConfigError(f"{where}.{k}: {getattr(p, k)} is out of range; allowed: a share in [0, 1]")
        self.idx = _indices(world, "segment", p.segments, f"{where}.segments")
        if p.announced is not None and not self.pushes_back:
            raise ConfigError(f"{where}.announced: only a pushback policy is announced (it closes the segments to those "
                              "caught); set pushback: true or leave announced out")
        self.announce(p.announced, world, where)

    @property
    def pushes_back(self) -> bool:
        return self.params.pushback or self.kind_name == "pushback"  # kind: pushback means pushback: true

    def apply(self, policy: Policy, strength: float, day: int) -> None:
        if day in self.notice:  # announced, not yet in force
            policy.closing_soon[self.idx] = True
            return
        p = self.params
        if self.pushes_back:
            policy.pushback[self.idx] = True
        if p.kept_share > 0:  # who is kept all the same: the largest share any active lever sets
            policy.kept_share[self.idx] = np.maximum(policy.kept_share[self.idx], strength * p.kept_share)
        policy.claim_mult[self.idx] *= 1.0 + strength * (p.claim_mult - 1.0)
        policy.guard_cap_mult[self.idx] *= 1.0 + strength * (p.guard_mult - 1.0)
        policy.interior_catch_mult[self.idx] *= 1.0 + strength * (p.interior_catch_mult - 1.0)
        policy.line_stop_mult[self.idx] *= 1.0 + strength * (p.line_stop_mult - 1.0)
        policy.attempt_cost_usd[self.idx] += strength * p.attempt_cost_usd


@dataclass(frozen=True)
class DetentionParams:
    segments: list[str] = field(default_factory=list)
    places: float = 0.0
    places_at_start: float | None = None


@register("detention")
class Detention(Lever):
    """A border state's detention centres for the people it keeps after catching them inside at
    ``segments`` (which share the places): ``places`` (people) once built, ``places_at_start`` on
    the lever's first day (default: ``places``), rising with the schedule's ramp. Places of
    several levers add up; where no lever acts there is no limit. Where the state pushes back, the
    fuller the centres the fewer it keeps: the kept share is multiplied by the free share of the
    places (:func:`sim.model.rules.border.kept_share_today`); people leave detention after
    ``border.detention_stay_days`` on average. Stands for Poland's guarded centres for
    foreigners: 628 places before August 2021, new centres opened from August (Biała Podlaska,
    Czerwony Bór, Wędrzyn), 2,308 places at the end of 2021 (events 2021-08-02).
    """

    Params = DetentionParams

    def build(self, world: World, where: str) -> None:
        p = self.params
        if not p.segments:
            raise ConfigError(f"{where}.segments: empty; name segments: {', '.join(world.segment_ids)}")
        for k in ("places", "places_at_start"):
            v = getattr(p, k)
            if v is not None and v <= 0:
                raise ConfigError(f"{where}.{k}: {v} is not positive; allowed: places (people) > 0")
        self.idx = _indices(world, "segment", p.segments, f"{where}.segments")
        self.start_places = p.places if p.places_at_start is None else p.places_at_start

    def apply(self, policy: Policy, strength: float, day: int) -> None:
        places = policy.detention_places[self.idx]
        added = self.start_places + strength * (self.params.places - self.start_places)
        policy.detention_places[self.idx] = np.where(np.isinf(places), 0.0, places) + added
        policy.detention_pool[self.idx] = min(self.idx)


@dataclass(frozen=True)
class InfoParams:
    origins: list[str] = field(default_factory=list)
    nationalities: list[str] = field(default_factory=list)
    intensity: float = 0.5


@register("information_campaign")
class InformationCampaign(Lever):
    """Adds ``intensity`` to the intention exponent in target origins: > 0 is disinformation
    that the route is open (Belarus targeting Kurdish audiences, autumn 2021), < 0 an awareness
    campaign. Targets: ``origins`` and/or ``nationalities`` (all if both empty).
    """

    Params = InfoParams

    def build(self, world: World, where: str) -> None:
        p = self.params
        m = np.zeros(world.n_origins, bool)
        if p.origins:
            m[_indices(world, "origin", p.origins, f"{where}.origins")] = True
        if p.nationalities:
            m |= _nat_mask(world, p.nationalities, f"{where}.nationalities")[world.origin_nat]
        self.mask = m if (p.origins or p.nationalities) else np.ones(world.n_origins, bool)

    def apply(self, policy: Policy, strength: float, day: int) -> None:
        policy.info[self.mask] += strength * self.params.intensity


@dataclass(frozen=True)
class FacilitationParams:
    transport_mult: float = 1.0
    segment_weights: dict[str, float] = field(default_factory=dict)
    attempt_mult: float = 1.0
    shelter: bool = False
    exit_control_mult: float = 1.0
    exit_control_segments: list[str] = field(default_factory=list)
    escort_to: list[str] = field(default_factory=list)
    escort_per_day: float = 0.0
    relocate_per_day: float = 0.0
    hold_at_border: float = 0.0
    drive_mult: float = 1.0
    drive_at: list[str] | None = None


@register("transit_facilitation")
class TransitFacilitation(Lever):
    """The transit state's hand at the border: its exit control (``exit_control_mult`` on the
    share of people heading for a segment whom it stops on its side, at ``exit_control_segments``,
    all if empty: 0 lifts it), transport from the city (``transport_mult``), where it takes people
    (``segment_weights`` per segment: steering), pressure to try (``attempt_mult``; a camp at a
    crossing raises it) and a shelter that houses people at the border (``shelter``: no cold).
    Its forces escort people: each day ``escort_per_day`` of those in the city are taken to the
    ``escort_to`` segments (no exit control, no leg, no fare) and ``relocate_per_day`` of those
    at other green segments are moved there; and they keep ``hold_at_border`` of the people at
    the border who want to go home from going back to the capital (they stay, and try again),
    and drive people to the line at the ``drive_at`` segments (default: ``escort_to``):
    ``drive_mult`` on their daily attempt chance (groups gathered and sent across night after
    night, the turned back sent straight back). Stands for, in 2021: Belarus' announcement of 26 May (events 2021-05-26), its forces blocking
    the way back from the border (2021-08-05), the column escorted to the crossing and the camp
    there (2021-11-08), the logistics-centre shelter (2021-11-18); in 2023: Russia no longer
    keeping people from Finland's crossing points (events 2023-08-01).
    """

    Params = FacilitationParams

    def build(self, world: World, where: str) -> None:
        p = self.params
        self.weights = np.ones(world.n_segments)
        for s, w in p.segment_weights.items():
            if w < 0:
                raise ConfigError(f"{where}.segment_weights.{s}: {w} is negative; allowed: >= 0")
            self.weights[world.index("segment", s, f"{where}.segment_weights.{s}")] = w
        self.exit_idx = (_indices(world, "segment", p.exit_control_segments, f"{where}.exit_control_segments")
                         if p.exit_control_segments else list(range(world.n_segments)))
        for k in ("transport_mult", "attempt_mult", "exit_control_mult", "drive_mult"):
            if getattr(p, k) < 0:
                raise ConfigError(f"{where}.{k}: {getattr(p, k)} is negative; allowed: >= 0")
        for k in ("escort_per_day", "relocate_per_day", "hold_at_border"):
            if not 0.0 <= getattr(p, k) <= 1.0:
                raise ConfigError(f"{where}.{k}: {getattr(p, k)} is out of range; allowed: a share in [0, 1]")
        if (p.escort_per_day > 0 or p.relocate_per_day > 0) and not p.escort_to:
            raise ConfigError(f"{where}.escort_to: empty, but escort_per_day or relocate_per_day is set; "
                              f"name the segments the escorts go to: {', '.join(world.segment_ids)}")
        self.escort_idx = _indices(world, "segment", p.escort_to, f"{where}.escort_to")
        drive_at = p.escort_to if p.drive_at is None else p.drive_at
        if p.drive_mult != 1.0 and not drive_at:
            raise ConfigError(f"{where}.drive_at: empty (and so is escort_to), but drive_mult is set; "
                              f"name the segments where people are driven to the line: {', '.join(world.segment_ids)}")
        self.drive_idx = _indices(world, "segment", drive_at, f"{where}.drive_at")

    def apply(self, policy: Policy, strength: float, day: int) -> None:
        p = self.params
        policy.transport_mult *= 1.0 + strength * (p.transport_mult - 1.0)
        policy.segment_weight *= 1.0 + strength * (self.weights - 1.0)
        policy.attempt_mult *= 1.0 + strength * (p.attempt_mult - 1.0)
        policy.attempt_mult[self.drive_idx] *= 1.0 + strength * (p.drive_mult - 1.0)
        policy.shelter = policy.shelter or (p.shelter and strength > 0)
        policy.escort_to[self.escort_idx] = True
        # shares of people a day: the largest any active lever sets
        policy.escort_per_day = max(policy.escort_per_day, strength * p.escort_per_day)
        policy.relocate_per_day = max(policy.relocate_per_day, strength * p.relocate_per_day)
        policy.hold_at_border = max(policy.hold_at_border, strength * p.hold_at_border)
        policy.exit_control[self.exit_idx] = np.minimum(
            1.0, policy.exit_control[self.exit_idx] * (1.0 + strength * (p.exit_control_mult - 1.0)))


@dataclass(frozen=True)
class ClosureParams:
    segments: list[str] = field(default_factory=list)
    hours_per_day: float = 0.0
    announced: dt.date | None = None


@register("crossing_closure")
class CrossingClosure(Lever):
    """A destination state closes crossing points (``hours_per_day: 0``, the default) or keeps
    them open only ``hours_per_day`` hours; the schedule's end reopens them. Nobody sets out for
    a closed crossing (the closure is public); those at one choose again, go back to the city
    or wait nearby (``border.closed_*``). ``announced``: the day the closure was made public;
    from then until it is in force, people who can reach those crossings leave for the border
    sooner (``travel.closing_soon_mult``). Stands for: Finland's closures of November and
    December 2023 (events 2023-11-16, 2023-11-22, 2023-11-28, 2023-12-14).
    """

    Params = ClosureParams

    def build(self, world: World, where: str) -> None:
        p = self.params
        if not p.segments:
            raise ConfigError(f"{where}.segments: empty; name crossing points: "
                              f"{', '.join(s for s, c in zip(world.segment_ids, world.seg_crossing, strict=True) if c) or 'none'}")
        self.idx = _indices(world, "segment", p.segments, f"{where}.segments")
        for i, s in zip(self.idx, p.segments, strict=True):
            if not world.seg_crossing[i]:
                raise ConfigError(f"{where}.segments: {s!r} is a green border, not a crossing point; a closure "
                                  "acts on crossing points (kind: crossing); for a green border use border_policy")
        if not 0.0 <= p.hours_per_day <= 24.0:
            raise ConfigError(f"{where}.hours_per_day: {p.hours_per_day} is out of range; allowed: hours in [0, 24]")
        self.announce(p.announced, world, where)

    def apply(self, policy: Policy, strength: float, day: int) -> None:
        if day in self.notice:
            policy.closing_soon[self.idx] = True
        else:
            np.minimum.at(policy.crossing_hours, self.idx, self.params.hours_per_day)


@dataclass(frozen=True)
class ModeBanParams:
    modes: list[str] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)


@register("mode_ban")
class ModeBan(Lever):
    """A destination state bans arriving by some modes (``modes``, as legs name them, e.g.
    bicycle) at some segments (``segments``; all if empty). A crossing point that registers
    claims at the gate (``registers_claims_at_gate``) registers an asylum claim whatever the
    mode: the ban then binds only as far as the transit state enforces it, through its exit
    control (people on a banned mode are held back from that segment); at a gate that does not
    register claims, people on a banned mode are refused and go back. Stands for: Finland's
    bicycle bans (events 2023-11-09, 2023-11-15: "enforcement on the Russian side left to Russia").
    """

    Params = ModeBanParams

    def build(self, world: World, where: str) -> None:
        p = self.params
        if not p.modes:
            raise ConfigError(f"{where}.modes: empty; name modes of the world's legs: {', '.join(world.modes)}")
        self.modes = _indices(world, "mode", p.modes, f"{where}.modes")
        self.idx = (_indices(world, "segment", p.segments, f"{where}.segments") if p.segments
                    else list(range(world.n_segments)))

    def apply(self, policy: Policy, strength: float, day: int) -> None:
        policy.mode_banned[np.ix_(self.idx, self.modes)] = True


class DayPolicy:
    """Today's policy from the levers pulled today: "nobody acts" (:meth:`World.neutral_policy`)
    narrowed by each (lever, strength), in the order given.

    Levers narrow a policy in place, so each one is built from a fresh neutral policy. It
    depends only on what each pulled lever does (:meth:`Lever.effect`), so the policies built
    are kept by those effects, and a day that repeats an earlier day's effects gets that day's
    policy back, the same object: after the levers phase a policy is only read
    (``publish_flights`` sets ``repat_seats`` from the charters, the same number for the same
    charters); its arrays are made read-only, so a write would fail loudly.
    """

    def __init__(self, world: World) -> None:
        self.world = world
        self._built: dict[tuple, Policy] = {}  # by the day's lever effects

    def of(self, pulled: list[tuple[Lever, float]], day: int) -> Policy:
        """The policy of a day on which ``pulled`` (lever, strength) act."""
        key = tuple((lv, lv.effect(s, day)) for lv, s in pulled)
        policy = self._built.get(key)
        if policy is None:
            policy = self._built[key] = self.world.neutral_policy()
            for lv, s in pulled:
                lv.apply(policy, s, day)
            for value in vars(policy).values():  # shared by the days that repeat it: read only from here
                if isinstance(value, np.ndarray):
                    value.setflags(write=False)
        return policy


def build_levers(specs: dict[str, LeverSpec], world: World, actors: list[str],
                 metric_names: list[str]) -> list[Lever]:
    """Build every enabled lever, checking kind, actor and parameters before the run starts."""
    levers = []
    for name, spec in specs.items():
        where = f"levers.{name}"
        if spec.kind not in REGISTRY:
            raise ConfigError(f"{where}.kind: unknown lever {spec.kind!r}; known: {', '.join(sorted(REGISTRY))}")
        if spec.actor not in actors:
            raise ConfigError(f"{where}.actor: {spec.actor!r} is not a state or airline of this world; known: {', '.join(actors)}")
        lever = REGISTRY[spec.kind](name, spec, world, metric_names)
        if spec.enabled:
            levers.append(lever)
    return levers


def lever_docs() -> list[tuple[str, str, list[tuple[str, Any]]]]:
    """(kind, doc, [(param, default)]) for each lever class: the source of docs/levers.md."""
    seen, out = set(), []
    for cls in REGISTRY.values():
        if cls in seen:
            continue
        seen.add(cls)
        aliases = [n for n, c in REGISTRY.items() if c is cls]
        params = [(f.name, f.default if f.default is not dataclasses.MISSING else f.default_factory())
                  for f in dataclasses.fields(cls.Params)]
        out.append((" / ".join(aliases), (cls.__doc__ or "").strip(), params))
    return out

