"""The configuration schema: plain dataclasses with their checks, and a strict loader.

Everything a user may change is a field here, with its unit in the field's ``help``. The
library never imports Hydra: :func:`load_config` turns a plain nested ``dict`` (from YAML,
from Hydra's composed config, or written by hand in a notebook) into a :class:`Config`,
and refuses, with the full key path and what is allowed, anything it does not know:

- an unknown key (also one added with Hydra's ``+key=value``, which bypasses Hydra's own
  schema check),
- a value of the wrong type,
- a number that is not finite (NaN, +-inf: every comparison with NaN is false, so it would
  pass any range check and then silently poison the run),
- a number outside its range (probabilities in [0, 1]; capacities, prices and days >= 0),
- a malformed date, or an end before a start.

Checks that need the whole world (a lever naming an airport that does not exist, a date
outside the run) live in :mod:`sim.model.world` and :mod:`sim.model.levers`, which call
:class:`ConfigError` too, so every bad input is reported before any work starts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import numbers
import types
import typing
from dataclasses import dataclass, field
from typing import Any


class ConfigError(ValueError):
    """A configuration value is wrong. The message names the key, the value and what is allowed."""


# --------------------------------------------------------------------------------------
# field helpers: the range and unit of a number travel with the field
# --------------------------------------------------------------------------------------


def param(default: Any, help: str, lo: float | None = None, hi: float | None = None,
          choices: tuple[str, ...] | None = None) -> Any:
    """A scalar field with a documented meaning/unit and an allowed closed range (or, for
    text, the values allowed)."""
    meta = {"help": help, "lo": lo, "hi": hi, "choices": choices}
    if isinstance(default, list | dict):
        return field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return field(default=default, metadata=meta)


def prob(default: float, help: str) -> Any:
    """A probability (or share) in [0, 1]."""
    return param(default, help, 0.0, 1.0)


def nonneg(default: Any, help: str) -> Any:
    """A count, capacity, price or duration: >= 0."""
    return param(default, help, 0.0, None)


def sub(cls: type) -> Any:
    """A nested section with its own defaults."""
    return field(default_factory=cls)


DATE_FORMAT = "YYYY-MM-DD"


def parse_date(value: Any, where: str) -> dt.date:
    """Parse an ISO date (``2021-08-06``), naming ``where`` if it is malformed."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ConfigError(f"{where}: {value!r} is not a date; write it as {DATE_FORMAT}")


# --------------------------------------------------------------------------------------
# the schema
# --------------------------------------------------------------------------------------


@dataclass
class RunConfig:
    """The run's window and seed."""

    start: dt.date = param(dt.date(2021, 1, 1), "first simulated day (YYYY-MM-DD)")
    end: dt.date = param(dt.date(2022, 2, 28), "last simulated day, inclusive (YYYY-MM-DD)")
    seed: int = nonneg(20211118, "root seed of every random stream in the run")
    engine: str = param("numpy", "how the migrant rules are computed: numpy (sim/model/model.py, the definition) or "
                        "numba (compiled kernels in sim/engines/compiled/: the same numbers bit for bit, about twice as fast a step, "
                        "after about 0.6 s per process to load them; for sweeps, calibration and large runs)",
                        choices=("numpy", "numba"))


@dataclass
class PopulationConfig:
    """Who might leave: the pool of people, one row each."""

    size: int = param(250_000, "simulated people (rows); each stands for pool/size real people (size > pool over-samples: finer, same world)", 1, 100_000_000)
    pool: int = param(250_000, "real people who might leave, that the rows stand for; capacities, seats and the network's counts are scaled by size/pool", 1, 1_000_000_000)
    savings_sigma: float = nonneg(0.6, "log-sd of savings around each origin's median (lognormal)")
    risk_alpha: float = param(2.0, "Beta(alpha, beta) of risk tolerance: alpha", 0.01, None)
    risk_beta: float = param(2.0, "Beta(alpha, beta) of risk tolerance: beta", 0.01, None)
    network_weight_alpha: float = param(2.0, "Beta(alpha, beta) of the weight a person puts on network reports: alpha", 0.01, None)
    network_weight_beta: float = param(2.0, "Beta(alpha, beta) of that weight: beta", 0.01, None)


@dataclass
class IntentionConfig:
    """At home -> intending, and back (DESIGN 2: push, network, openness, information)."""

    base_rate_per_day: float = prob(5.78e-06, "daily hazard of starting to intend at zero signal, scaled by each origin's push")
    network_gain: float = nonneg(5.04, "weight of the network signal S in exp(w_i * gain * S)")
    success_scale_per_day: float = param(0.3, "reported successes/day from one origin that give S = log 2", 1e-9, None)
    failure_scale_per_day: float = param(10.0, "reported failures/day (pushbacks, returns) that take S down by log 2", 1e-9, None)
    caught_success_weight: float = prob(0.671, "how much a report of being caught and kept in the destination (or registered at a crossing point) counts as a success (1 = as much as getting through)")
    death_weight: float = nonneg(25.0, "one reported death counts as this many failures")
    report_half_life_days: float = param(14.0, "half-life of what the network remembers (days)", 0.1, None)
    closed_offer_mult: float = prob(0.15, "intention hazard multiplier when no package is on sale in the origin")
    give_up_per_day: float = prob(0.01, "daily hazard that an intending person who cannot buy gives up")
    discouraged_per_day: float = prob(0.02, "extra daily hazard of giving up per unit of negative signal")


@dataclass
class PurchaseConfig:
    """Intending -> waiting for a package (agencies) and the money side."""

    buy_prob_per_day: float = prob(0.25, "daily chance an intending person who can afford it asks an agency")
    reserve_usd: float = nonneg(500.0, "money a buyer keeps above the package price (USD)")
    hub_extra_usd: float = nonneg(700.0, "extra cost of a package routed through a hub (USD)")
    hub_extra_days: int = nonneg(2, "extra days of travel through a hub (days)")
    hotel_usd_per_day: float = nonneg(25.0, "living cost in the transit country (USD/day)")
    smuggler_fee_usd: float = nonneg(6500.0, "fee for a smuggler at a green border (USD)")
    smuggler_take_prob: float = prob(0.35, "share of people who can afford a smuggler that hire one")
    smuggler_detect_mult: float = prob(0.6, "detection multiplier for people with a smuggler")


@dataclass
class TravelConfig:
    """Waiting for a visa -> ticketed -> in transit -> in the city -> at the border."""

    rebook_wait_days: int = nonneg(10, "days a ticketed person waits for a seat before the agency rebooks through a hub (days)")
    hub_stranded_days: int = nonneg(21, "days at a hub with no flight that will carry them before going home (days)")
    city_to_border_per_day: float = prob(0.12, "daily chance of leaving the city for the border, unaided")
    closing_soon_mult: float = nonneg(23.2, "multiplier on that chance while a closure of a crossing point, or a pushback "
                                      "policy at a green segment, that the person can reach has been announced and is not "
                                      "yet in force (the last chance: people rush; those already at a green segment try "
                                      "sooner: border.announced_attempt_mult); calibrated on the 2023 record's announced "
                                      "closures")
    package_cancel_days: int = nonneg(60, "days a bought package waits for a visa application before the agency cancels it and refunds part (days)")
    refund_share: float = prob(0.5, "share of the package price refunded when a trip is cancelled")


@dataclass
class BorderConfig:
    """At the border: attempts, segment choice, outcomes, deaths."""

    attempt_prob_per_day: float = prob(0.0556, "daily chance a person at the border makes an attempt")
    switch_prob_after_pushback: float = prob(0.3, "chance of reconsidering the segment after being turned back")
    segment_choice_temperature: float = param(0.4, "softness of the segment choice (logit scale on perceived success)", 1e-6, None)
    prior_weight_per_day: float = param(3.0, "weight of the prior belief in a segment's success share, in attempts a day of reports", 1e-9, None)
    congestion_half: float = param(1.0, "attempts per unit of guard capacity at which the stop share halves", 1e-6, None)
    death_prob_per_attempt: float = prob(2.0e-4, "chance an attempt ends in death at mild temperatures")
    cold_death_mult: float = nonneg(4.0, "extra death multiplier at full cold (December)")
    retry_days: int = param(1, "days from being turned back at a green segment to the first day one may try again "
                               "(rest, injuries, regrouping; then the daily attempt chance) (days)", 1, 365)
    announced_attempt_mult: float = param(1.0, "multiplier on the daily attempt chance at a green segment while a pushback "
                                                "policy there has been announced and is not yet in force (the last chance)",
                                          0.0, None)
    cold_attempt_drop: float = prob(0.0, "share by which full cold lowers the daily attempt chance at green segments "
                                         "(the world's cold index scales it; a shelter removes it)")
    detention_stay_days: float = param(90.0, "mean days a person kept after being caught inside a green segment stays in "
                                             "detention before release into the asylum procedure or return (a daily share "
                                             "1/stay leaves; the places it frees are set by a detention lever) (days)",
                                       1.0, None)
    closed_rechoose_per_day: float = prob(0.5, "daily chance that a person at a closed crossing point chooses again among "
                                          "the segments open to them (a closure is public: nobody sets out for a closed one)")
    closed_go_back_per_day: float = prob(0.15, "daily chance that a person at a closed crossing point who does not choose "
                                         "again goes back to the city; the others wait nearby")


@dataclass
class ReturnConfig:
    """Returning: repatriation flights, own tickets, and leaving again."""

    base_willing_per_day: float = prob(0.00367, "daily chance a person stranded in the transit country becomes willing to return, at zero stress")
    days_scale: float = param(60.0, "days in the transit country that add one unit of stress", 1e-9, None)
    pushback_weight: float = nonneg(0.12, "stress per time turned back")
    cold_weight: float = nonneg(2.0, "stress at full cold")
    broke_weight: float = nonneg(1.5, "stress when money is gone")
    stress_max: float = param(8.0, "stress is capped here (units)", 0.0, None)
    free_seat_mult: float = nonneg(15.0, "willingness multiplier when a free repatriation flight leaves today")
    own_ticket_share: float = prob(0.35, "share of the willing who buy their own ticket home when no free seat exists")
    own_ticket_usd: float = nonneg(400.0, "price of a one-way ticket home (USD)")
    leave_again_per_day: float = prob(0.000954, "daily hazard a returnee intends to leave again")


@dataclass
class AgencyConfig:
    """How travel agencies set prices and capacity."""

    price_adjust: float = prob(0.03, "daily relative price change per unit of excess demand (log-scale step)")
    price_min_mult: float = param(0.8, "price floor as a multiple of the base price", 0.0, None)
    price_max_mult: float = param(1.15, "price ceiling as a multiple of the base price", 0.0, None)
    capacity_growth: float = prob(0.05, "daily relative growth of capacity while demand exceeds it")
    capacity_max_mult: float = param(15.0, "capacity ceiling as a multiple of the base capacity", 1.0, None)


@dataclass
class AirlineConfig:
    """How airlines adjust schedules."""

    high_load: float = prob(0.9, "load factor (corridor seats sold / offered, 14-day mean) that calls for more flights")
    extra_flights_max: int = nonneg(3, "most extra weekly flights an airline adds on one route")
    review_days: int = param(14, "days between schedule reviews", 1, None)


@dataclass
class OutputConfig:
    """What a run writes."""

    dir: str = param("", "results folder; empty = a new folder under results/runs/")
    figures: bool = param(True, "write PNG figures")
    csv: bool = param(True, "write the daily table as CSV as well as parquet")
    progress: bool = param(True, "show a progress bar (only on a terminal)")


@dataclass
class Origin:
    """A place people leave from (a row of ``world.origins``)."""

    name: str = param("", "origin name")
    nationality: str = param("", "nationality of the people there (one of world.nationalities)")
    group: str = param("", "a group of origins reported together (a key of world.groups; '' = none): "
                       "the daily table gains in_transit_country_<group>")
    share: float = prob(0.0, "share of the pool of people who might leave")
    push: float = nonneg(1.0, "push multiplier on the intention hazard (insecurity, jobs)")
    savings_median_usd: float = nonneg(8000.0, "median savings of a person there (USD)")
    airports: list[str] = param([], "airports people fly from, nearest first (codes in world.airports; "
                                "empty for residents of the transit country)")
    agencies: int = nonneg(0, "travel agencies selling packages to the transit country here")
    lives_in: str = param("", "residents: the entry point (world.transit.entry_points id) of the transit country "
                          "where these people already live, on a visa they hold; they need no package, visa or flight "
                          "('' = they start from home abroad)")
    visa_held_share: float = prob(0.0, "share of these people who already hold a valid visa of the transit country "
                                  "(they buy a package without a visa)")
    note: str = param("", "source or assumption")


@dataclass
class Route:
    """A scheduled flight route (a row of ``world.routes``)."""

    id: str = param("", "route id (used in output column names): airline_from_to is a good habit")
    airline: str = param("", "operating airline (a key of world.airlines)")
    origin: str = param("", "departure airport code")
    destination: str = param("", "arrival airport code: an entry point's airport (world.transit.entry_points); "
                             "'' = the only entry point's")
    weekdays: list[int] = param([], "days of the week flown, 0 = Monday")
    seats: int = nonneg(180, "seats per flight")
    corridor_share: float = prob(0.8, "share of seats sold to people on the corridor")
    fare_usd: float = nonneg(500.0, "one-way fare paid to the airline (USD)")
    start: dt.date = param(dt.date(2000, 1, 1), "first day of service (YYYY-MM-DD)")
    end: dt.date | None = param(None, "last day of service, or null")
    note: str = param("", "source or assumption")


@dataclass
class VisaChannel:
    """A way to get a visa of the transit country (a row of ``world.visa_channels``)."""

    id: str = param("", "channel id")
    kind: str = param("consulate", "consulate | invitation | mission")
    place: str = param("", "where it is (city)")
    state: str = param("", "state that issues the visa ('' = the transit state)")
    host_state: str = param("", "state hosting the mission (can close it)")
    nationalities: list[str] = param([], "nationalities served")
    origins: list[str] = param([], "origins served whatever their nationality (names in world.origins), as well as "
                               "the nationalities")
    capacity_per_day: int = nonneg(50, "visas issued per day at most")
    processing_days: int = nonneg(7, "days from application to visa (days)")
    cost_usd: float = nonneg(1500.0, "price of the visa (USD); agencies try the cheapest and fastest channel first")
    in_package: bool = param(True, "the visa's price is part of the package (the agency pays it); false: the "
                             "traveller pays cost_usd when the visa is issued")
    capacity_growth_per_day: float = prob(0.0, "daily relative growth of capacity while applications queue (the issuer scaling up)")
    capacity_max_mult: float = param(1.0, "capacity ceiling as a multiple of capacity_per_day", 1.0, None)
    start: dt.date = param(dt.date(2000, 1, 1), "first day of service")
    end: dt.date | None = param(None, "last day of service, or null")
    note: str = param("", "source or assumption")


@dataclass
class Segment:
    """A place on the land border where people cross from the transit country into the
    destination (a row of ``world.segments``): a green border (attempts, detection,
    pushbacks) or an official crossing point (people present themselves and apply)."""

    id: str = param("", "segment id (lower case; used in output column names)")
    state: str = param("", "state guarding it")
    kind: str = param("green", "green: a stretch of border crossed irregularly (attempts, detection, pushbacks); "
                      "crossing: an official crossing point where people present themselves and apply for asylum "
                      "(opening hours, a throughput; it can be closed and reopened)", choices=("green", "crossing"))
    guard_capacity_per_day: float = nonneg(100.0, "attempts the guards can stop per day at full strength")
    detect_max: float = prob(0.9, "share of attempts stopped when there is no congestion")
    interior_catch_prob: float = prob(0.5, "chance that someone across the line is caught inside the country")
    adapt_per_day: float = prob(0.02, "daily relative growth of guard capacity towards pressure")
    capacity_max_mult: float = param(5.0, "guard capacity ceiling as a multiple of the base", 1.0, None)
    steering_weight: float = nonneg(1.0, "weight the transit state's transport gives this segment (1 = neutral)")
    exit_control: float | None = param(None, "share of people heading here whom the transit state stops on its side when "
                                       "no lever acts (e.g. a closed border zone); null = world.transit.exit_control", 0.0, 1.0)
    hours_per_day: float = param(24.0, "crossing: opening hours a day (hours)", 0.0, 24.0)
    throughput_per_hour: float = nonneg(0.0, "crossing: people the border guards can register an open hour (people/hour)")
    registers_claims_at_gate: bool = param(True, "crossing: an asylum claim made at the gate is registered whatever "
                                           "the traveller's mode (a mode ban is then enforced only by the transit state)")
    note: str = param("", "source or assumption")


@dataclass
class EntryPoint:
    """A place where people arrive in (or live in) the transit country (a row of
    ``world.transit.entry_points``)."""

    id: str = param("", "entry point id (lower case)")
    airport: str = param("", "its airport (a key of world.airports; '' if no route flies there)")
    note: str = param("", "source or assumption")


@dataclass
class Leg:
    """A way over land from an entry point to border segments (a row of ``world.legs``):
    road, rail, bus, taxi, a driver who leaves people near the border with a bicycle."""

    id: str = param("", "leg id")
    entry: str = param("", "the entry point it leaves from (world.transit.entry_points id)")
    to: list[str] = param([], "the segments it reaches (ids in world.segments)")
    mode: str = param("road", "how people travel and arrive at the border (e.g. road, rail, bus, taxi, bicycle): "
                      "what a mode ban names")
    days: int = nonneg(1, "days from the entry point to the border (days)")
    price_usd: float = nonneg(0.0, "price paid by the traveller (USD)")
    capacity_per_day: float | None = param(None, "people it carries a day, all its segments together (people/day); "
                                          "null = as many as want to go", 0.0, None)
    note: str = param("", "source or assumption")


@dataclass
class TransitConfig:
    """The transit country: its state, where people arrive, and its stance at the border."""

    state: str = param("", "the transit state (one of world.states): it owns the transit levers")
    entry_points: list[EntryPoint] = param([], "where people arrive (airports) or live")
    exit_control: float = prob(0.0, "share of people heading for the border whom the transit state stops on its side "
                               "(they hold no visa of the destination) on a day when no lever acts (1 = it stops "
                               "everyone; levers lift it; a segment may set its own)")
    visa_free: list[str] = param([], "nationalities that enter the transit country without a visa")


@dataclass
class AirlineInfo:
    """An airline (a value of ``world.airlines``)."""

    name: str = param("", "full name")
    state: str = param("", "state of registration")


@dataclass
class RecordConfig:
    """Where a world's record is: files under ``data/observed/`` (the world's observed data)."""

    targets: str = param("", "figures from the record, with sources: a targets file under data/observed/ ('' = none)")
    observations: str = param("", "how the model counts each of those figures: an observations file under data/observed/")


@dataclass
class WorldConfig:
    """The world: places, routes, visa channels, border segments. Data, not code."""

    name: str = param("", "world name")
    record: RecordConfig = sub(RecordConfig)
    nationalities: list[str] = param([], "nationalities modelled")
    states: list[str] = param([], "states that can act (own levers)")
    airports: dict[str, str] = param({}, "airport code -> state it is in")
    hubs: list[str] = param([], "transit hub airport codes")
    transit: TransitConfig = sub(TransitConfig)
    groups: dict[str, str] = param({}, "origin group id -> its label in figures (origins name their group)")
    airlines: dict[str, AirlineInfo] = param({}, "airline code -> its details")
    origins: list[Origin] = param([], "origins")
    routes: list[Route] = param([], "flight routes to the transit country's entry points")
    visa_channels: list[VisaChannel] = param([], "visa channels")
    segments: list[Segment] = param([], "border segments into the destination")
    legs: list[Leg] = param([], "ways over land from the entry points to the segments")
    agency_capacity_per_day: float = nonneg(3.0, "packages one agency can sell per day at the start")
    agency_base_price_usd: float = nonneg(3500.0, "package price: visa + flight + hotel (USD); source: targets package_price_usd")
    cold: list[float] = param([0.0] * 12, "cold index per calendar month, 0 = mild, 1 = the coldest nights (Jan..Dec)")


@dataclass
class Trigger:
    """A lever that answers what happens: on when ``metric`` (yesterday's value, in real people)
    has been ``above`` (or ``below``) a threshold for ``for_days`` days, ``lag_days`` later."""

    metric: str = param("", "a metric of the daily table (docs/outputs.md), yesterday's value")
    above: float | None = param(None, "on when the metric is above this (give above or below)")
    below: float | None = param(None, "on when the metric is below this (give above or below)")
    for_days: int = param(1, "days in a row the condition must hold (days)", lo=0)
    lag_days: int = param(0, "days from the condition holding to the lever acting (days)", lo=0)


@dataclass
class When:
    """A lever's schedule. ``{}``: always on; ``start``/``end``: a window (either may be left
    out); ``ramp_days``: strength rises linearly to 1 from ``start``; ``dates``: single days;
    ``trigger`` (with ``duration_days``): on when something happens. Days are resolved against
    the run window when the model is built (a date outside the run is refused there)."""

    start: dt.date | None = param(None, f"first day the lever acts ({DATE_FORMAT}; the run's start if left out)")
    end: dt.date | None = param(None, f"last day the lever acts ({DATE_FORMAT}; the run's end if left out)")
    ramp_days: int = param(0, "days over which its strength rises linearly from 0 to 1 (days)", lo=0)
    dates: list[dt.date] | None = param(None, f"single days on which it acts ({DATE_FORMAT} each)")
    trigger: Trigger | None = param(None, "act when a metric crosses a threshold (see Trigger)")
    duration_days: int | None = param(None, "days a triggered lever stays on (days; forever if left out)", lo=0)


@dataclass
class LeverSpec:
    """One lever as written in ``levers:`` (its own parameters are checked by its class)."""

    kind: str = ""
    actor: str = ""
    enabled: bool = True
    when: When = field(default_factory=When)
    params: dict[str, Any] = field(default_factory=dict)
    note: str = ""


@dataclass
class MetaConfig:
    """What a scenario is, for people: the report's and the app's title, its baseline, the levers
    shown."""

    title: str = param("", "one line: the question the scenario answers (report and app title)")
    baseline: str = param("", "the scenario this one is compared with (a name in configs/scenario/; '' = itself)")
    levers_shown: list[str] = param([], "levers the app offers to move (names in levers:; empty = all)")


@dataclass
class Config:
    """A whole run."""

    run: RunConfig = sub(RunConfig)
    population: PopulationConfig = sub(PopulationConfig)
    intention: IntentionConfig = sub(IntentionConfig)
    purchase: PurchaseConfig = sub(PurchaseConfig)
    travel: TravelConfig = sub(TravelConfig)
    border: BorderConfig = sub(BorderConfig)
    returns: ReturnConfig = sub(ReturnConfig)
    agency: AgencyConfig = sub(AgencyConfig)
    airline: AirlineConfig = sub(AirlineConfig)
    output: OutputConfig = sub(OutputConfig)
    world: WorldConfig = sub(WorldConfig)
    levers: dict[str, LeverSpec] = field(default_factory=dict)
    scenario: str = "custom"
    meta: MetaConfig = sub(MetaConfig)

    @property
    def n_days(self) -> int:
        return (self.run.end - self.run.start).days + 1


LEVER_RESERVED = ("kind", "actor", "enabled", "when", "note")

# behaviour that differs by world: each world sets these in its behaviour file
# (configs/behaviour/<world>.yaml, which its world file pulls in); the shared behavioural core
# is configs/params/default.yaml, the schema's defaults (docs/new_world.md)
WORLD_BEHAVIOUR: tuple[str, ...] = (
    "intention.base_rate_per_day",
    "border.attempt_prob_per_day",
    "border.death_prob_per_attempt",
    "border.retry_days",
    "border.cold_attempt_drop",
    "border.announced_attempt_mult",
    "border.detention_stay_days",
    "purchase.smuggler_fee_usd",
    "purchase.hotel_usd_per_day",
    "travel.city_to_border_per_day",
)


# --------------------------------------------------------------------------------------
# the strict loader
# --------------------------------------------------------------------------------------


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if origin is list:
        return f"a list of {_type_name(typing.get_args(tp)[0])}"
    if origin is dict:
        return f"a mapping to {_type_name(typing.get_args(tp)[1])}"
    if tp is type(None):
        return "null"
    if tp is dt.date:
        return f"a date ({DATE_FORMAT})"
    if dataclasses.is_dataclass(tp):
        return f"a {tp.__name__} section"
    return getattr(tp, "__name__", str(tp))


def convert_value(value: Any, tp: Any, where: str, meta: typing.Mapping[str, Any]) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return convert_value(value, a, where, meta)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(errors[0] if len(errors) == 1 else f"{where}: {value!r} is not {_type_name(tp)}")
    if tp is Any:
        return check_finite(value, where)
    if value is None:
        raise ConfigError(f"{where}: null is not allowed; expected {_type_name(tp)}")
    if dataclasses.is_dataclass(tp):
        return load_dataclass(tp, value, where)
    if origin is list:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: {value!r} is not a list; expected {_type_name(tp)}")
        (item,) = typing.get_args(tp)
        return [convert_value(v, item, f"{where}[{i}]", meta) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: {value!r} is not a mapping; expected {_type_name(tp)}")
        _, vt = typing.get_args(tp)
        return {str(k): convert_value(v, vt, f"{where}.{k}", meta) for k, v in value.items()}
    if tp is Any:
        return value
    if tp is dt.date:
        return parse_date(value, where)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: {value!r} is not true/false")
        return value
    if tp is int:
        return check_number(value, where, lo=meta.get("lo"), hi=meta.get("hi"), whole=True)
    if tp is float:
        return check_number(value, where, lo=meta.get("lo"), hi=meta.get("hi"))
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {value!r} is not text")
        choices = meta.get("choices")
        if choices and value not in choices:
            raise ConfigError(f"{where}: {value!r} is not allowed; allowed: {', '.join(choices)}")
        return value
    raise TypeError(f"schema type {tp!r} at {where} is not supported")  # a bug in the schema


def describe_range(lo: float | None, hi: float | None, whole: bool = False) -> str:
    """What a range allows, in words (the end of every range error)."""
    known = {
        (0.0, 1.0): "a probability or share in [0, 1]",
        (0.0, None): "a value >= 0 (a count, capacity, price or duration cannot be negative)",
    }
    if (lo, hi) in known:
        return known[(lo, hi)]

    def num(x: float) -> str:
        return str(int(x)) if float(x).is_integer() else f"{x:g}"

    what = "a finite whole number" if whole else "a finite number"
    if lo is None and hi is None:
        return what
    if hi is None:
        return f"{what} >= {num(lo)}"
    if lo is None:
        return f"{what} <= {num(hi)}"
    return f"{what} in [{num(lo)}, {num(hi)}]"


def check_number(value: Any, where: str, *, lo: float | None = None, hi: float | None = None,
                 whole: bool = False, text: bool = False, allowed: str | None = None) -> Any:
    """The one rule for every number read from a config, a spec or a data file.

    A number is accepted when it is a real number (Python's or numpy's; not a bool, not text
    unless ``text``: a cell of a CSV file), **finite** (NaN, inf and -inf are refused: every
    comparison with NaN is false, so a NaN would pass any range check and then silently poison
    the run or the distance to the record), whole if ``whole`` (a float with no fraction is
    taken), and inside the closed range [lo, hi]. Config keys and lever parameters reach it
    through the schema (:func:`load_config`); the calibration and sensitivity specs and the
    observed-data files call it directly.

    Args:
        value: what was read.
        where: the key (and file) it was read from, the start of the error message.
        lo, hi: the allowed closed range (None: unbounded on that side).
        whole: a whole number (returned as ``int``); else returned as ``float``.
        text: also parse text (``"0.5"``, as a CSV cell holds it).
        allowed: what is allowed, in words (default: from the range).

    Raises:
        ConfigError: ``<where>: <value> is not a finite number; allowed: ...`` and the like.
    """
    allowed = allowed or describe_range(lo, hi, whole)
    kind = "a whole number" if whole else "a number"
    if text and isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ConfigError(f"{where}: {value!r} is not {kind}; allowed: {allowed}") from None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):  # numpy's bool is no Real
        raise ConfigError(f"{where}: {value!r} is not {kind}; allowed: {allowed}")
    if isinstance(value, numbers.Integral):
        number: Any = int(value)
    else:
        number = float(value)
        if not math.isfinite(number):
            raise ConfigError(f"{where}: {number!r} is not a finite number; allowed: {allowed}")
        if whole:
            if not number.is_integer():
                raise ConfigError(f"{where}: {number!r} is not a whole number; allowed: {allowed}")
            number = int(number)
    if not whole:
        try:
            number = float(number)
        except OverflowError:  # a whole number too large for a float
            raise ConfigError(f"{where}: {number!r} is not a finite number; allowed: {allowed}") from None
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        raise ConfigError(f"{where}: {number!r} is out of range; allowed: {allowed}")
    return number


def check_finite(value: Any, where: str) -> Any:
    """``value`` unchanged, after refusing a non-finite number anywhere inside it (a value the
    schema leaves untyped: a lever's parameters and schedule, before the lever checks them)."""
    if isinstance(value, dict):
        for k, v in value.items():
            check_finite(v, f"{where}.{k}")
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            check_finite(v, f"{where}[{i}]")
    elif isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        check_number(value, where)
    return value


def load_dataclass(cls: type, data: Any, where: str) -> Any:
    if dataclasses.is_dataclass(data) and isinstance(data, cls):
        data = dataclasses.asdict(data)
    if not isinstance(data, dict):
        raise ConfigError(f"{where or 'config'}: expected a mapping of keys, got {data!r}")
    if cls is LeverSpec:
        return _load_lever_spec(data, where)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(map(str, data)) - set(fields))
    if unknown:
        key = f"{where}.{unknown[0]}" if where else unknown[0]
        raise ConfigError(f"{key}: unknown key; allowed keys here: {', '.join(sorted(fields))}")
    kwargs = {}
    for name, f in fields.items():
        if name in data:
            kwargs[name] = convert_value(data[name], hints[name], f"{where}.{name}" if where else name, f.metadata)
    return cls(**kwargs)


def _load_lever_spec(data: dict, where: str) -> LeverSpec:
    params = {k: check_finite(v, f"{where}.{k}") for k, v in data.items() if k not in LEVER_RESERVED}
    spec = LeverSpec(
        kind=convert_value(data.get("kind", ""), str, f"{where}.kind", {}),
        actor=convert_value(data.get("actor", ""), str, f"{where}.actor", {}),
        enabled=convert_value(data.get("enabled", True), bool, f"{where}.enabled", {}),
        when=convert_value(data.get("when", {}) or {}, When, f"{where}.when", {}),
        params=params,
        note=convert_value(data.get("note", ""), str, f"{where}.note", {}),
    )
    if not spec.kind:
        raise ConfigError(f"{where}.kind: missing; every lever needs a kind (see docs/levers.md)")
    return spec


def load_config(data: typing.Mapping[str, Any] | Config | None = None) -> Config:
    """Build a checked :class:`Config` from a nested mapping (or return a copy of one).

    Raises:
        ConfigError: naming the first wrong key, its value and what is allowed.
    """
    if data is None:
        data = {}
    if isinstance(data, Config):
        data = to_dict(data)
    world = data.get("world") or {}
    if isinstance(world, dict) and world.get("name"):  # a world: its own behaviour must be given, not defaulted
        missing = [k for k in WORLD_BEHAVIOUR if not _has_key(data, k)]
        if missing:
            raise ConfigError(
                f"world {world['name']!r}: {', '.join(missing)} not set; these differ by world (sim.model.config."
                f"WORLD_BEHAVIOUR): set them in configs/behaviour/{world['name']}.yaml and pull it in from the world "
                "file's defaults (docs/new_world.md)")
    cfg = load_dataclass(Config, dict(data), "")
    if cfg.run.end < cfg.run.start:
        raise ConfigError(f"run.end: {cfg.run.end} is before run.start {cfg.run.start}; the run must end on or after its start")
    if cfg.n_days > 30000:
        raise ConfigError(f"run.end: the run has {cfg.n_days} days; at most 30,000 are allowed (days are stored as int16)")
    return cfg


def schema_type(dotted: str) -> Any:
    """The schema type of a dotted config key (``intention.network_gain`` -> float), or None."""
    cls: Any = Config
    for part in dotted.split("."):
        if not dataclasses.is_dataclass(cls):
            return None
        hints = typing.get_type_hints(cls)
        if part not in hints:
            return None
        cls = hints[part]
    return cls


def sampled_value(dotted: str, value: float) -> float | int:
    """A value a sampler drew (a real) as the schema holds it: a whole-number key
    (``border.retry_days``) to the nearest integer, any other as it is. The one rule for design
    rows, posterior draws and adopted calibrations."""
    return int(round(value)) if schema_type(dotted) is int else value


def _has_key(data: typing.Mapping[str, Any], dotted: str) -> bool:
    node: Any = data
    for k in dotted.split("."):
        if not isinstance(node, typing.Mapping) or k not in node:
            return False
        node = node[k]
    return True


def to_dict(cfg: Any) -> Any:
    """The plain-data form of a config (dates as ISO strings), for YAML/JSON."""
    if isinstance(cfg, LeverSpec):
        out = {"kind": cfg.kind, "actor": cfg.actor, "enabled": cfg.enabled, "when": to_dict(cfg.when)}
        if cfg.note:
            out["note"] = cfg.note
        out.update(to_dict(cfg.params))
        return out
    if isinstance(cfg, When | Trigger):  # as written: what is set, nothing left at its default
        return {f.name: to_dict(v) for f in dataclasses.fields(cfg) if (v := getattr(cfg, f.name)) != f.default}
    if dataclasses.is_dataclass(cfg):
        return {f.name: to_dict(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)}
    if isinstance(cfg, dict):
        return {k: to_dict(v) for k, v in cfg.items()}
    if isinstance(cfg, list | tuple):
        return [to_dict(v) for v in cfg]
    if isinstance(cfg, dt.date):
        return cfg.isoformat()
    return cfg


def set_dotted(data: dict, dotted: str, value: Any) -> None:
    """Set ``a.b.c = value`` in a nested dict (used for keyword overrides, e.g. by batch_run).

    A list of records (``world.segments``, ``world.origins``) is entered by an element's ``id``
    or ``name``: ``world.segments.lithuania.guard_capacity_per_day`` sets that segment's value
    (a design file of a sweep or a calibration can reach what a Hydra override cannot).
    """
    keys = dotted.replace("__", ".").split(".")
    node: Any = data
    for i, k in enumerate(keys[:-1]):
        if isinstance(node, list):
            node = _list_element(node, k, ".".join(keys[:i]), dotted)
        else:
            node = node.setdefault(k, {})
        if not isinstance(node, dict | list):
            raise ConfigError(f"{dotted}: {k} is not a section")
    if isinstance(node, list):
        raise ConfigError(f"{dotted}: {keys[-1]} names a list element, not a value inside one")
    node[keys[-1]] = value


def _list_element(items: list, key: str, where: str, dotted: str) -> dict:
    """The element of a list of records whose ``id`` or ``name`` is ``key``."""
    for item in items:
        if isinstance(item, dict) and key in (item.get("id"), item.get("name")):
            return item
    known = [str(item.get("id", item.get("name"))) for item in items if isinstance(item, dict)]
    raise ConfigError(f"{dotted}: {where} has no element with id or name {key!r}; known: {', '.join(known)}")


def describe(cls: type = Config, prefix: str = "") -> list[tuple[str, str, str]]:
    """(key, default, meaning) for every scalar key of the schema: the source of docs/config.md."""
    rows = []
    for f in dataclasses.fields(cls):
        key = f"{prefix}{f.name}"
        hint = typing.get_type_hints(cls)[f.name]
        if dataclasses.is_dataclass(hint) and cls is not WorldConfig:
            rows += describe(hint, key + ".")
        elif "help" in f.metadata:
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            rows.append((key, to_dict(default), f.metadata["help"]))
    return rows
