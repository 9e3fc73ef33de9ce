"""The world: places, routes, visa channels and border segments as index arrays.

:class:`World` is built once from :class:`sim.model.config.WorldConfig` (checked: every airport,
airline, nationality and state a row names must exist). It holds two kinds of arrays:

- **static** arrays, fixed for the run: which airport each route leaves from, its seats, its
  weekly schedule, which origins can reach which airports, the segments' base capacities;
- **policy** arrays, the levers' surface (:class:`Policy`): reset to "nobody acts" every day,
  then set by the levers active that day, then read by the institutions and the migrant
  kernels. Levers combine only by AND (booleans), multiplication or min, so they commute and
  an inactive lever changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from sim.model.config import Config, ConfigError, WorldConfig


@dataclass
class Policy:
    """What the levers set today. Every field's neutral value means "nobody acts".

    Attributes:
        route_open: (R,) bool, the route may fly today.
        boarding_ok: (R, K) bool, nationality k may board route r.
        route_seat_mult: (R,) float, multiplier on corridor seats.
        channel_open: (C,) bool, the visa channel accepts and processes applications.
        channel_ok: (C, K) bool, the channel issues visas to nationality k.
        channel_cap_mult: (C,) float, multiplier on the channel's daily capacity.
        agency_cap_mult: (O,) float, multiplier on agencies' capacity per origin (crackdowns).
        info: (O,) float, information-campaign intensity added to the intention exponent.
        intent_mult: (O,) float, multiplier on the intention hazard (e.g. a legal route closed).
        guard_cap_mult: (S,) float, guard reinforcement.
        interior_catch_mult: (S,) float, multiplier on the chance of being caught inside.
        pushback: (S,) bool, people caught inside are returned to the transit country.
        kept_share: (S,) float, where a segment pushes back, the share of those caught inside who
            are kept all the same (asylum claims registered, vulnerability, court orders).
        claim_mult: (S,) float, multiplier on the kept share: the chance to claim asylum (an
            emergency zone that keeps lawyers and NGOs out lowers it).
        line_stop_mult: (S,) float, multiplier on the share stopped at the line (a fence).
        attempt_cost_usd: (S,) float, what each attempt at s costs on top (ladders, cutters,
            guides across a fence or a closed zone).
        detention_places: (S,) float, places (real people) in the detention centres that hold
            those kept at s (inf: no limit); detention_pool (S,) int: segments sharing places
            have the same pool (the first of them).
        segment_weight: (S,) float, the transit state's transport weight per segment (steering).
        escort_to: (S,) bool, the segments the transit state's forces take people to.
        crossing_hours: (S,) float, hours a crossing point is open today (0: closed; a green
            segment keeps 24).
        mode_banned: (S, M) bool, arriving by mode m is banned at segment s.
        exit_control: (S,) float, share of people heading for segment s whom the transit state stops.
        closing_soon: (S,) bool, a closure of crossing point s, or a pushback policy at green
            segment s, is announced and not yet in force.
        transport_mult: float, multiplier on the daily chance of going from the city to the border.
        attempt_mult: (S,) float, multiplier on the daily attempt chance at each segment (a
            shelter lowers it; the transit state's forces driving people to the line raise it).
        shelter: bool, people at the border are housed (no cold stress, no cold deaths).
        escort_per_day: float, share of the people in the city the transit state's forces take to
            the ``escort_to`` segments today.
        relocate_per_day: float, share of the people at other green segments they move there today.
        hold_at_border: float, share of the people at the border willing to go home whom they keep
            from going back to the capital today.
        repat_seats: int, free repatriation seats out of the transit country today (before cooperation).
        charters: list of (airline code, seats) repatriation flights ordered today.
        repat_fare_usd: the fare on today's repatriation flights (0 = free; the cheapest wins).
        repat_ok: (K,) bool, nationalities the repatriation flights take.
        cooperation: float, the origin state's cooperation on returns in [0, 1].
    """

    route_open: np.ndarray
    boarding_ok: np.ndarray
    route_seat_mult: np.ndarray
    channel_open: np.ndarray
    channel_ok: np.ndarray
    channel_cap_mult: np.ndarray
    agency_cap_mult: np.ndarray
    info: np.ndarray
    intent_mult: np.ndarray
    guard_cap_mult: np.ndarray
    interior_catch_mult: np.ndarray
    pushback: np.ndarray
    kept_share: np.ndarray
    claim_mult: np.ndarray
    line_stop_mult: np.ndarray
    attempt_cost_usd: np.ndarray
    detention_places: np.ndarray
    detention_pool: np.ndarray
    segment_weight: np.ndarray
    escort_to: np.ndarray
    crossing_hours: np.ndarray
    mode_banned: np.ndarray
    exit_control: np.ndarray
    closing_soon: np.ndarray
    attempt_mult: np.ndarray
    transport_mult: float = 1.0
    shelter: bool = False
    escort_per_day: float = 0.0
    relocate_per_day: float = 0.0
    hold_at_border: float = 0.0
    repat_seats: int = 0
    repat_ok: np.ndarray | None = None
    charters: list = field(default_factory=list)
    repat_fare_usd: float = float("inf")
    cooperation: float = 1.0


class World:
    """Indexed places and connections of one run, and today's :class:`Policy`.

    Attributes:
        nationalities, states, airports, hubs, airlines: names, index = position.
        transit_state: the transit state's name; entry_ids (E,) its entry points;
            seg_exit_control (S,): the share it stops on its side, per segment, when no lever acts;
            visa_free (K,) bool: nationalities that need no visa.
        group_ids: origin groups (world.groups keys); group_labels: their labels.
        origin_names: (O,) names; origin_nat (O,) int; origin_group (O,) int (-1: none);
            origin_home_entry (O,) int: the entry point residents live at (-1: abroad);
            origin_visa_held (O,) float: share already holding a visa;
            origin_share, origin_push, origin_savings (O,) float; origin_agencies (O,) int.
        origin_reach: (O, A) bool, airports an origin's people can fly from.
        route_ids: (R,) names; route_airline (R,) int; route_from (R,) airport index;
            route_entry (R,) entry point it lands at;
            route_from_hub (R,) hub index or -1; route_seats (R,) int; route_share (R,) float;
            route_fare (R,) float; route_week (R, 7) int flights per weekday;
            route_flights_per_week (R,) int;
            route_start, route_end (R,) day index of service (inclusive).
        direct (O, R) bool: route r leaves from an airport origin o reaches by land.
        channel_ids (C,); channel_nat (C, K) bool; channel_origin (C, O) bool: serves origin o
            (its nationality, or the origin by name); channel_in_package (C,) bool;
            channel_cap, channel_days, channel_cost,
            channel_growth, channel_max_mult (C,); channel_start, channel_end (C,) day index;
            channel_preference (C,) channels in the order agencies try them.
        segment_ids (S,); seg_cap, seg_detect, seg_interior, seg_adapt, seg_cap_max,
            seg_bias (S,) float; seg_crossing (S,) bool (an official crossing point);
            seg_hours, seg_throughput (S,) float; seg_registers (S,) bool.
        leg_ids (L,); leg_entry (L,) int; leg_mode (L,) int into ``modes``; leg_days (L,) int;
            leg_price, leg_cap (L,) float (inf: unlimited);
            leg_of (E, S) int: the leg from entry point e to segment s (-1: none);
            travel (E, S) int days; reach (E, S) bool.
        cold: (12,) cold index per calendar month.
        policy: today's Policy.
    """

    def __init__(self, cfg: Config) -> None:
        w = cfg.world
        self.start: dt.date = cfg.run.start
        self.n_days = cfg.n_days
        self._check(w)
        self.nationalities = list(w.nationalities)
        self.states = list(w.states)
        self.airport_codes = list(w.airports)
        self.hubs = list(w.hubs)
        self.airlines = list(w.airlines)
        self.airline_state = [a.state for a in w.airlines.values()]
        K, A = len(self.nationalities), len(self.airport_codes)
        ap = {a: i for i, a in enumerate(self.airport_codes)}
        nat = {n: i for i, n in enumerate(self.nationalities)}

        t = w.transit
        self.transit_state = t.state
        self.entry_ids = [e.id for e in t.entry_points]
        entry = {e: i for i, e in enumerate(self.entry_ids)}
        entry_at = {e.airport: i for i, e in enumerate(t.entry_points) if e.airport}
        self.visa_free = np.isin(self.nationalities, t.visa_free)
        self.group_ids = list(w.groups)
        self.group_labels = [w.groups[g] for g in self.group_ids]

        self.origin_names = [o.name for o in w.origins]
        self.origin_nat = np.array([nat[o.nationality] for o in w.origins], dtype=np.int8)
        self.origin_group = np.array([self.group_ids.index(o.group) if o.group else -1 for o in w.origins], dtype=int)
        self.origin_home_entry = np.array([entry[o.lives_in] if o.lives_in else -1 for o in w.origins], dtype=int)
        self.origin_visa_held = np.array([o.visa_held_share for o in w.origins], dtype=float)
        share = np.array([o.share for o in w.origins], dtype=float)
        self.origin_share = share / share.sum()
        self.origin_push = np.array([o.push for o in w.origins], dtype=float)
        self.origin_savings = np.array([o.savings_median_usd for o in w.origins], dtype=float)
        self.origin_agencies = np.array([o.agencies for o in w.origins], dtype=int)
        self.origin_reach = np.zeros((len(w.origins), A), dtype=bool)
        for i, o in enumerate(w.origins):
            self.origin_reach[i, [ap[a] for a in o.airports]] = True

        self.route_ids = [r.id for r in w.routes]
        self.route_airline = np.array([self.airlines.index(r.airline) for r in w.routes], dtype=int)
        self.route_from = np.array([ap[r.origin] for r in w.routes], dtype=int)
        self.route_from_code = [r.origin for r in w.routes]
        self.route_from_hub = np.array(
            [self.hubs.index(r.origin) if r.origin in self.hubs else -1 for r in w.routes], dtype=int
        )
        self.route_seats = np.array([r.seats for r in w.routes], dtype=int)
        self.route_share = np.array([r.corridor_share for r in w.routes], dtype=float)
        self.route_fare = np.array([r.fare_usd for r in w.routes], dtype=float)
        self.route_week = np.zeros((len(w.routes), 7), dtype=int)
        for i, r in enumerate(w.routes):
            np.add.at(self.route_week[i], r.weekdays, 1)
        self.route_flights_per_week = self.route_week.sum(axis=1)
        self.route_start = np.array([self.day_of(r.start) for r in w.routes], dtype=int)
        self.route_end = np.array(
            [self.day_of(r.end) if r.end else 10**6 for r in w.routes], dtype=int
        )
        self.route_state = [w.airports[r.origin] for r in w.routes]
        only = self.entry_ids[0] if len(self.entry_ids) == 1 else None
        self.route_entry = np.array([entry_at[r.destination] if r.destination else entry[only] for r in w.routes], dtype=int)
        self.direct = self.origin_reach[:, self.route_from]  # (O, R)

        self.channel_ids = [c.id for c in w.visa_channels]
        self.channel_nat = np.zeros((len(w.visa_channels), K), dtype=bool)
        for i, c in enumerate(w.visa_channels):
            self.channel_nat[i, [nat[n] for n in c.nationalities]] = True
        self.channel_origin = self.channel_nat[:, self.origin_nat]  # (C, O)
        for i, c in enumerate(w.visa_channels):
            self.channel_origin[i, [self.origin_names.index(o) for o in c.origins]] = True
        self.channel_in_package = np.array([c.in_package for c in w.visa_channels], dtype=bool)
        self.channel_cap = np.array([c.capacity_per_day for c in w.visa_channels], dtype=float)
        self.channel_days = np.array([c.processing_days for c in w.visa_channels], dtype=int)
        self.channel_cost = np.array([c.cost_usd for c in w.visa_channels], dtype=float)
        self.channel_growth = np.array([c.capacity_growth_per_day for c in w.visa_channels])
        self.channel_max_mult = np.array([c.capacity_max_mult for c in w.visa_channels])
        self.channel_start = np.array([self.day_of(c.start) for c in w.visa_channels], dtype=int)
        self.channel_end = np.array(
            [self.day_of(c.end) if c.end else 10**6 for c in w.visa_channels], dtype=int
        )
        self.channel_host = [c.host_state for c in w.visa_channels]
        # agencies apply at the cheapest and fastest channel first (a day counts as $50)
        self.channel_preference = np.argsort(self.channel_cost + 50.0 * self.channel_days, kind="stable")
        self.channel_state = [c.state or t.state for c in w.visa_channels]  # the transit state's visa unless named
        self.agency_capacity = w.agency_capacity_per_day
        self.agency_price = w.agency_base_price_usd

        self.segment_ids = [s.id for s in w.segments]
        self.segment_state = [s.state for s in w.segments]
        self.seg_cap = np.array([s.guard_capacity_per_day for s in w.segments], dtype=float)
        self.seg_detect = np.array([s.detect_max for s in w.segments], dtype=float)
        self.seg_interior = np.array([s.interior_catch_prob for s in w.segments], dtype=float)
        self.seg_adapt = np.array([s.adapt_per_day for s in w.segments], dtype=float)
        self.seg_cap_max = np.array([s.capacity_max_mult for s in w.segments], dtype=float)
        self.seg_bias = np.array([s.steering_weight for s in w.segments], dtype=float)
        self.seg_crossing = np.array([s.kind == "crossing" for s in w.segments], dtype=bool)
        self.seg_hours = np.array([s.hours_per_day if s.kind == "crossing" else 24.0 for s in w.segments], dtype=float)
        self.seg_throughput = np.array([s.throughput_per_hour for s in w.segments], dtype=float)
        self.seg_registers = np.array([s.registers_claims_at_gate for s in w.segments], dtype=bool)
        self.seg_exit_control = np.array([t.exit_control if s.exit_control is None else s.exit_control
                                          for s in w.segments], dtype=float)

        self.leg_ids = [g.id for g in w.legs]
        self.modes = sorted({g.mode for g in w.legs})
        self.leg_entry = np.array([entry[g.entry] for g in w.legs], dtype=int)
        self.leg_mode = np.array([self.modes.index(g.mode) for g in w.legs], dtype=int)
        self.leg_days = np.array([g.days for g in w.legs], dtype=int)
        self.leg_price = np.array([g.price_usd for g in w.legs], dtype=float)
        self.leg_cap = np.array([np.inf if g.capacity_per_day is None else g.capacity_per_day for g in w.legs])
        E, S = len(self.entry_ids), len(self.segment_ids)
        self.leg_of = np.full((E, S), -1, dtype=int)
        for i, g in enumerate(w.legs):
            self.leg_of[entry[g.entry], [self.segment_ids.index(x) for x in g.to]] = i
        self.reach = self.leg_of >= 0
        self.travel = np.where(self.reach, self.leg_days[self.leg_of], 0)
        self.seg_travel = self.travel[0]  # the first entry point's (the benchmark's reference engine has one)

        self.cold = np.array(w.cold, dtype=float)
        self.policy = self.neutral_policy()  # today's, set each day by sim.model.levers.DayPolicy

    # ---- sizes -------------------------------------------------------------------------
    @property
    def n_origins(self) -> int:
        return len(self.origin_names)

    @property
    def n_routes(self) -> int:
        return len(self.route_ids)

    @property
    def n_channels(self) -> int:
        return len(self.channel_ids)

    @property
    def n_segments(self) -> int:
        return len(self.segment_ids)

    @property
    def n_nationalities(self) -> int:
        return len(self.nationalities)

    @property
    def n_entries(self) -> int:
        return len(self.entry_ids)

    @property
    def n_legs(self) -> int:
        return len(self.leg_ids)

    # ---- calendar ----------------------------------------------------------------------
    def day_of(self, date: dt.date) -> int:
        """Day index of a date (0 = run start; may be negative or past the end)."""
        return (date - self.start).days

    def date_of(self, day: int) -> dt.date:
        return self.start + dt.timedelta(days=int(day))

    def cold_on(self, day: int) -> float:
        """Cold index today, interpolated between mid-month values."""
        d = self.date_of(day)
        m = d.month - 1
        frac = (d.day - 15) / 30.0
        other = (m + (1 if frac >= 0 else -1)) % 12
        return float(self.cold[m] + abs(frac) * (self.cold[other] - self.cold[m]))

    # ---- today's policy ------------------------------------------------------------------
    def neutral_policy(self) -> Policy:
        """The policy arrays when nobody acts."""
        R, C, O, S, K = self.n_routes, self.n_channels, self.n_origins, self.n_segments, self.n_nationalities
        return Policy(
            route_open=np.ones(R, bool),
            boarding_ok=np.ones((R, K), bool),
            route_seat_mult=np.ones(R),
            channel_open=np.ones(C, bool),
            channel_ok=np.ones((C, K), bool),
            channel_cap_mult=np.ones(C),
            agency_cap_mult=np.ones(O),
            info=np.zeros(O),
            intent_mult=np.ones(O),
            guard_cap_mult=np.ones(S),
            interior_catch_mult=np.ones(S),
            pushback=np.zeros(S, bool),
            kept_share=np.zeros(S),
            claim_mult=np.ones(S),
            line_stop_mult=np.ones(S),
            attempt_cost_usd=np.zeros(S),
            detention_places=np.full(S, np.inf),
            detention_pool=np.arange(S),
            segment_weight=np.ones(S),
            escort_to=np.zeros(S, bool),
            crossing_hours=self.seg_hours.copy(),
            mode_banned=np.zeros((S, len(self.modes)), bool),
            exit_control=self.seg_exit_control.copy(),
            closing_soon=np.zeros(S, bool),
            attempt_mult=np.ones(S),
            repat_ok=np.zeros(K, bool),
        )

    def banned_legs(self, policy: Policy) -> np.ndarray:
        """(E, S) bool: a leg reaches segment s from entry point e and its mode is banned at s today."""
        mode = self.leg_mode[np.maximum(self.leg_of, 0)]  # (E, S); where no leg, masked by reach
        return policy.mode_banned[np.arange(self.n_segments), mode] & self.reach

    def routes_in_service(self, day: int) -> np.ndarray:
        """(R,) bool: scheduled service covers ``day`` and no lever closed the route."""
        return (self.route_start <= day) & (day <= self.route_end) & self.policy.route_open

    def channels_in_service(self, day: int) -> np.ndarray:
        return (self.channel_start <= day) & (day <= self.channel_end) & self.policy.channel_open

    # ---- lookups for levers (raise ConfigError with the allowed names) -------------------
    def index(self, kind: str, name: str, where: str) -> int:
        names = {
            "route": self.route_ids,
            "airline": self.airlines,
            "airport": self.airport_codes,
            "nationality": self.nationalities,
            "origin": self.origin_names,
            "channel": self.channel_ids,
            "segment": self.segment_ids,
            "state": self.states,
            "mode": self.modes,
            "entry point": self.entry_ids,
        }[kind]
        if name not in names:
            raise ConfigError(f"{where}: unknown {kind} {name!r}; known: {', '.join(names)}")
        return names.index(name)

    # ---- checks --------------------------------------------------------------------------
    @staticmethod
    def _check(w: WorldConfig) -> None:
        def need(cond: bool, where: str, msg: str) -> None:
            if not cond:
                raise ConfigError(f"world.{where}: {msg}")

        def unique(values: list[str], where: str, what: str) -> None:
            """Each name once; the message names the repeated ones and where they stand."""
            seen: dict[str, list[int]] = {}
            for i, v in enumerate(values):
                seen.setdefault(v, []).append(i)
            twice = {v: at for v, at in seen.items() if len(at) > 1}
            need(not twice, where, "; ".join(
                f"{what} {v!r} is used {len(at)} times (entries {', '.join(map(str, at))})" for v, at in twice.items()
            ) + f"; each {what} must be unique")

        need(bool(w.nationalities), "nationalities", "empty; list at least one nationality")
        unique(list(w.nationalities), "nationalities", "nationality")
        need(bool(w.origins), "origins", "empty; list at least one origin")
        need(bool(w.segments), "segments", "empty; list at least one border segment")
        t = w.transit
        need(t.state in w.states, "transit.state", f"{t.state!r} is not in world.states ({', '.join(w.states)}); name the transit country's state")
        need(bool(t.entry_points), "transit.entry_points", "empty; list at least one place where people arrive in the transit country")
        unique([e.id for e in t.entry_points], "transit.entry_points", "entry point id")
        entries = [e.id for e in t.entry_points]
        for i, e in enumerate(t.entry_points):
            need(not e.airport or e.airport in w.airports, f"transit.entry_points[{i}].airport",
                 f"unknown airport {e.airport!r}; known: {', '.join(w.airports)}")
            need(not e.airport or w.airports.get(e.airport) == t.state, f"transit.entry_points[{i}].airport",
                 f"{e.airport!r} is in {w.airports.get(e.airport)!r}, not in the transit state {t.state!r}")
        unique([e.airport for e in t.entry_points if e.airport], "transit.entry_points", "entry airport")
        for n in t.visa_free:
            need(n in w.nationalities, "transit.visa_free", f"unknown nationality {n!r}; known: {', '.join(w.nationalities)}")
        for h in w.hubs:
            need(h in w.airports, "hubs", f"unknown airport {h!r}; known: {', '.join(w.airports)}")
        for code, state in w.airports.items():
            need(state in w.states, f"airports.{code}", f"unknown state {state!r}; known: {', '.join(w.states)}")
        for code, al in w.airlines.items():
            need(al.state in w.states, f"airlines.{code}.state", f"unknown state {al.state!r}; known: {', '.join(w.states)}")
        unique([o.name for o in w.origins], "origins", "origin name")
        total = sum(o.share for o in w.origins)
        need(abs(total - 1.0) <= 1e-6, "origins", (
            f"the shares sum to {total:g} ({', '.join(f'{o.name} {o.share:g}' for o in w.origins)}); each is the "
            "origin's fraction of the pool of people who might leave, so they must sum to 1"))
        for g, label in w.groups.items():
            need(bool(label), f"groups.{g}", "empty label; give the group's name as figures should show it")
        for i, o in enumerate(w.origins):
            need(o.nationality in w.nationalities, f"origins[{i}].nationality",
                 f"unknown nationality {o.nationality!r}; known: {', '.join(w.nationalities)}")
            need(not o.group or o.group in w.groups, f"origins[{i}].group",
                 f"unknown group {o.group!r}; known: {', '.join(w.groups) or 'none (add it to world.groups)'}")
            need(not o.lives_in or o.lives_in in entries, f"origins[{i}].lives_in",
                 f"unknown entry point {o.lives_in!r}; known: {', '.join(entries)}")
            if o.lives_in:
                need(not o.airports and not o.agencies, f"origins[{i}]",
                     f"{o.name} lives in the transit country (lives_in: {o.lives_in}): residents fly from no airport and "
                     "buy no package; remove airports and agencies")
                continue
            need(bool(o.airports), f"origins[{i}].airports", "empty; name at least one airport (or lives_in for residents)")
            for a in o.airports:
                need(a in w.airports, f"origins[{i}].airports", f"unknown airport {a!r}; known: {', '.join(w.airports)}")
        served = {n for c in w.visa_channels for n in c.nationalities} | set(t.visa_free)
        served_origins = {o for c in w.visa_channels for o in c.origins}
        has_hub_route = any(r.origin in w.hubs for r in w.routes)
        for i, o in enumerate(w.origins):
            if o.lives_in:
                continue
            # nobody of an origin could ever travel: say so, rather than run a world where they stay put
            need(o.nationality in served or o.name in served_origins or o.visa_held_share >= 1.0, f"origins[{i}].nationality",
                 f"no visa channel serves {o.nationality!r} or {o.name!r}, the nationality is not visa-free and not everyone "
                 f"holds a visa ({o.name}'s people could never travel); add it to a channel's nationalities or origins, "
                 "to transit.visa_free, or remove the origin")
            need(has_hub_route or any(r.origin in o.airports for r in w.routes), f"origins[{i}].airports",
                 f"no route flies from {', '.join(o.airports)} and no route from a hub exists ({o.name}'s people "
                 "could never fly); add a route from one of its airports or a hub with routes")
        entry_airports = [e.airport for e in t.entry_points if e.airport]
        unique([r.id for r in w.routes], "routes", "route id")
        for i, r in enumerate(w.routes):
            need(r.airline in w.airlines, f"routes[{i}].airline", f"unknown airline {r.airline!r}; known: {', '.join(w.airlines)}")
            need(r.origin in w.airports, f"routes[{i}].origin", f"unknown airport {r.origin!r}; known: {', '.join(w.airports)}")
            if r.destination:
                need(r.destination in entry_airports, f"routes[{i}].destination",
                     f"{r.destination!r} is not an entry point's airport; routes fly to: {', '.join(entry_airports) or 'none'}")
            else:
                need(len(t.entry_points) == 1 and bool(entry_airports), f"routes[{i}].destination",
                     "missing; with several entry points (or none with an airport) each route names its destination airport")
            need(all(0 <= d <= 6 for d in r.weekdays), f"routes[{i}].weekdays", f"{r.weekdays}: days are 0 (Monday) to 6 (Sunday)")
            need(r.end is None or r.end >= r.start, f"routes[{i}].end", f"{r.end} is before start {r.start}")
        unique([c.id for c in w.visa_channels], "visa_channels", "channel id")
        for i, c in enumerate(w.visa_channels):
            need(c.kind in ("consulate", "invitation", "mission"), f"visa_channels[{i}].kind",
                 f"{c.kind!r}; allowed: consulate, invitation, mission")
            need(c.host_state in w.states, f"visa_channels[{i}].host_state", f"unknown state {c.host_state!r}; known: {', '.join(w.states)}")
            need(not c.state or c.state in w.states, f"visa_channels[{i}].state", f"unknown state {c.state!r}; known: {', '.join(w.states)}")
            for n in c.nationalities:
                need(n in w.nationalities, f"visa_channels[{i}].nationalities", f"unknown nationality {n!r}; known: {', '.join(w.nationalities)}")
            for o in c.origins:
                need(o in [x.name for x in w.origins], f"visa_channels[{i}].origins",
                     f"unknown origin {o!r}; known: {', '.join(x.name for x in w.origins)}")
            need(c.end is None or c.end >= c.start, f"visa_channels[{i}].end", f"{c.end} is before start {c.start}")
        unique([s.id for s in w.segments], "segments", "segment id")
        for i, s in enumerate(w.segments):
            need(s.state in w.states, f"segments[{i}].state", f"unknown state {s.state!r}; known: {', '.join(w.states)}")
            need(s.kind != "crossing" or s.throughput_per_hour > 0, f"segments[{i}].throughput_per_hour",
                 f"0 at crossing point {s.id!r}: nobody could ever be registered there; give the people registered an open hour")
            need(s.kind != "crossing" or s.hours_per_day > 0, f"segments[{i}].hours_per_day",
                 f"0 at crossing point {s.id!r}: it would never open (levers only close crossings or shorten their hours); "
                 "give its usual opening hours, and close it with a crossing_closure lever")
        segment_ids = [s.id for s in w.segments]
        unique([g.id for g in w.legs], "legs", "leg id")
        pairs: dict[tuple[str, str], str] = {}
        for i, g in enumerate(w.legs):
            need(g.entry in entries, f"legs[{i}].entry", f"unknown entry point {g.entry!r}; known: {', '.join(entries)}")
            need(bool(g.to), f"legs[{i}].to", f"empty; name the segments leg {g.id!r} reaches ({', '.join(segment_ids)})")
            for x in g.to:
                need(x in segment_ids, f"legs[{i}].to", f"unknown segment {x!r}; known: {', '.join(segment_ids)}")
                need((g.entry, x) not in pairs, f"legs[{i}].to",
                     f"{g.entry} -> {x} is already leg {pairs.get((g.entry, x))!r}; one leg per entry point and segment")
                pairs[(g.entry, x)] = g.id
        reached = {x for _, x in pairs}
        for i, s in enumerate(w.segments):
            need(s.id in reached, f"segments[{i}]", f"no leg reaches {s.id!r} (nobody could ever get there); add it to a leg's to")
        entry_of_airport = {e.airport: e.id for e in t.entry_points if e.airport}
        used = {entry_of_airport.get(r.destination, entries[0]) for r in w.routes} | {o.lives_in for o in w.origins if o.lives_in}
        for e in sorted(used):
            need(any(a == e for a, _ in pairs), "legs",
                 f"no leg leaves entry point {e!r}, where people arrive or live (they could never reach the border); add one")
        for key, n in (("origins", len(w.origins)), ("visa_channels", len(w.visa_channels)), ("legs", len(w.legs)),
                       ("transit.entry_points", len(t.entry_points)),
                       ("segments", len(w.segments)), ("hubs", len(w.hubs)), ("nationalities", len(w.nationalities))):
            need(n <= 127, key, f"{n} entries; at most 127 are allowed (stored as int8)")
        need(len(w.cold) == 12, "cold", f"{len(w.cold)} values; give one per month, January to December")
        need(all(0.0 <= c <= 1.0 for c in w.cold), "cold", f"{w.cold}: each month's cold index is in [0, 1]")
