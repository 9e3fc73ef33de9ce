"""Any corridor: a third world made up here runs and keeps its books; the loader names what is
wrong with a world's new keys; the code names no shipped world's places.

A. A synthetic world (not a shipped file; invented places: Aland, Borduria, Carpania, Transia,
   Westmark) with everything a corridor may now have: two entry points with airports and routes
   to both, residents of the transit country, a visa-free nationality and visas held, a channel
   serving by origin and one charging its price outside the package, legs over land (one with a
   capacity and a price), a green border and two crossing points (one registering claims at the
   gate, one not), exit control; levers closing and reopening a crossing, banning a mode and
   lifting the exit control. It is run once, day by day, keeping every person's state and
   spending each evening; each test reads that trace.
B. The loader's checks of the new keys: each bad value raises a ConfigError naming its key.
C. No module of sim/ or experiments/ names a place of a shipped world in its code (comments and
   docstrings may cite examples).
"""

from __future__ import annotations

import ast
import copy
import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import test_invariants as invariants  # tests/ is on sys.path
import yaml
from test_engines import assert_same_run

from sim.engines import compiled
from sim.model.config import ConfigError, set_dotted
from sim.model.model import MigrationModel
from sim.model.population import State
from sim.model.recorder import OUTCOMES, flow_name
from sim.model.rules.transit import places_on_legs, take_legs

ROOT = Path(__file__).resolve().parent.parent

# ---- A. the synthetic world -------------------------------------------------------------------

SYNTHETIC_WORLD: dict[str, Any] = {
    "name": "synthetic_transia",
    "nationalities": ["alandic", "bordurian", "carpanian"],
    "states": ["Aland", "Borduria", "Carpania", "Hubland", "Portia", "Transia", "Westmark"],
    "airports": {"ALA": "Aland", "BOR": "Borduria", "HBA": "Hubland", "HBB": "Portia",
                 "TRN": "Transia", "TRS": "Transia"},
    "hubs": ["HBA", "HBB"],
    "transit": {"state": "Transia",
                "entry_points": [{"id": "north_port", "airport": "TRN"}, {"id": "south_port", "airport": "TRS"}],
                "exit_control": 0.5, "visa_free": ["bordurian"]},
    "groups": {"west": "Western origins", "settled": "Residents"},
    "airlines": {"AA": {"name": "Aland Air", "state": "Aland"},
                 "BB": {"name": "Bordurian Wings", "state": "Borduria"},
                 "HH": {"name": "Hub Express", "state": "Hubland"}},
    "origins": [
        {"name": "Alandia", "nationality": "alandic", "group": "west", "share": 0.45, "push": 1.0,
         "savings_median_usd": 9000, "airports": ["ALA"], "agencies": 4, "visa_held_share": 0.2},
        {"name": "Bordurian Plains", "nationality": "bordurian", "group": "west", "share": 0.35, "push": 1.0,
         "savings_median_usd": 8000, "airports": ["BOR"], "agencies": 3},
        # residents: rich enough that the hotel never empties their savings in the run
        {"name": "Carpanians in North Port", "nationality": "carpanian", "group": "settled", "share": 0.2,
         "push": 1.0, "savings_median_usd": 50000, "airports": [], "lives_in": "north_port"},
    ],
    "routes": [
        {"id": "AA_ALA_TRN", "airline": "AA", "origin": "ALA", "destination": "TRN", "weekdays": [0, 2, 4],
         "seats": 60, "corridor_share": 1.0, "fare_usd": 400},
        {"id": "BB_BOR_TRS", "airline": "BB", "origin": "BOR", "destination": "TRS", "weekdays": [1, 3, 5],
         "seats": 60, "corridor_share": 1.0, "fare_usd": 350},
        {"id": "HH_HBA_TRN", "airline": "HH", "origin": "HBA", "destination": "TRN",
         "weekdays": [0, 1, 2, 3, 4, 5, 6], "seats": 20, "corridor_share": 1.0, "fare_usd": 300},
        {"id": "HH_HBB_TRS", "airline": "HH", "origin": "HBB", "destination": "TRS", "weekdays": [0, 3, 6],
         "seats": 20, "corridor_share": 1.0, "fare_usd": 300},
    ],
    "visa_channels": [
        {"id": "consulate_alandia", "kind": "consulate", "place": "Alandia", "host_state": "Aland",
         "origins": ["Alandia"], "capacity_per_day": 20, "processing_days": 4, "cost_usd": 900},
        {"id": "invitation", "kind": "invitation", "place": "North Port", "host_state": "Transia",
         "nationalities": ["alandic"], "capacity_per_day": 10, "processing_days": 6, "cost_usd": 700,
         "in_package": False},
    ],
    "segments": [
        {"id": "marsh", "state": "Westmark", "kind": "green", "guard_capacity_per_day": 10, "detect_max": 0.7,
         "interior_catch_prob": 0.5, "adapt_per_day": 0.01, "capacity_max_mult": 2},
        {"id": "north_post", "state": "Westmark", "kind": "crossing", "detect_max": 0.0, "hours_per_day": 12,
         "throughput_per_hour": 2},
        {"id": "south_post", "state": "Westmark", "kind": "crossing", "detect_max": 0.0, "hours_per_day": 10,
         "throughput_per_hour": 2.5, "registers_claims_at_gate": False},
    ],
    "legs": [
        {"id": "north_bus", "entry": "north_port", "to": ["north_post", "marsh"], "mode": "bus", "days": 1,
         "price_usd": 80, "capacity_per_day": 30},
        {"id": "south_bike", "entry": "south_port", "to": ["south_post", "marsh"], "mode": "bicycle", "days": 2,
         "price_usd": 150},
    ],
    "agency_capacity_per_day": 6,
    "agency_base_price_usd": 2500,
    "cold": [0.8, 0.7, 0.5, 0.2, 0.0, 0.0, 0.0, 0.0, 0.1, 0.3, 0.6, 0.8],
}
RUN = {"start": "2030-01-01", "end": "2030-04-30", "seed": 777, "engine": "numpy"}
EXIT_LIFTED, BAN, CLOSED, REOPENED = "2030-01-25", "2030-02-01", "2030-02-20", "2030-03-12"
SYNTHETIC_LEVERS: dict[str, Any] = {
    "north_closed": {"kind": "crossing_closure", "actor": "Westmark", "when": {"start": CLOSED, "end": REOPENED},
                     "segments": ["north_post"]},
    "no_bicycles": {"kind": "mode_ban", "actor": "Westmark", "when": {"start": BAN},
                    "modes": ["bicycle"], "segments": ["south_post"]},
    "let_go": {"kind": "transit_facilitation", "actor": "Transia", "when": {"start": EXIT_LIFTED},
               "exit_control_mult": 0.2, "transport_mult": 1.5},
}


def synthetic_config(default_dict: dict, **changes: Any) -> dict:
    """The default composed config with the synthetic world, its levers and window, 20,000 rows
    standing for 40,000 people (capacities scaled by 0.5), and a high intention rate so that every
    stage is busy within days. ``changes``: top-level sections to update (``returns={...}``)."""
    data = copy.deepcopy(default_dict)
    data["world"] = copy.deepcopy(SYNTHETIC_WORLD)
    data["levers"] = copy.deepcopy(SYNTHETIC_LEVERS)
    data["run"] = dict(RUN)
    data["population"].update(size=20_000, pool=40_000)
    data["intention"]["base_rate_per_day"] = 3e-3
    data["output"] = {"figures": False, "csv": False, "progress": False}
    data["meta"] = {}
    data["scenario"] = "synthetic"
    for section, values in changes.items():
        data[section] = {**data.get(section, {}), **values} if isinstance(values, dict) else values
    return data


@dataclass
class Trace:
    """What a run looked like each evening, day by day (D days, N people, S segments, L legs)."""

    state: np.ndarray  # (D, N) int8
    spent: np.ndarray  # (D, N) float32
    hours: np.ndarray  # (D, S) the crossing points' opening hours that day
    legs: np.ndarray  # (D, L) people who took each leg that day
    late_first_trip: int  # travellers on a first trip not due at the border after their leg's days
    late_later_trip: int  # ... on a later trip
    first_trips: int  # travellers on a first trip


def run_traced(config: dict) -> tuple[MigrationModel, pd.DataFrame, Trace]:
    model = MigrationModel(copy.deepcopy(config))
    p, w = model.people, model.world
    state, spent, hours, legs = [], [], [], []
    late, first_trips = np.zeros(2, np.int64), 0
    while model.running:
        day = model.day
        model.step()
        state.append(p.state.copy())
        spent.append(p.spent_usd.copy())
        hours.append(w.policy.crossing_hours.copy())
        # who took a leg today: entered the border from the city (also who landed or set out from home
        # today); nobody reaches a crossing or makes an attempt the day they set out (a leg takes days)
        went = np.flatnonzero((p.state == State.AT_BORDER) & (p.day_entered == day))
        leg = w.leg_of[p.entry[went], p.segment[went]]
        assert (leg >= 0).all()
        legs.append(np.bincount(leg, minlength=w.n_legs))
        first = p.returns[went] == 0  # never came home before
        wrong = p.day_due[went] != day + w.travel[p.entry[went], p.segment[went]]
        late += np.bincount((~first[wrong]).astype(np.int64), minlength=2)  # [first trip, later trip]
        first_trips += int(first.sum())
    return model, model.recorder.frame(), Trace(np.array(state), np.array(spent), np.array(hours),
                                                np.array(legs), int(late[0]), int(late[1]), first_trips)


@pytest.fixture(scope="module")
def traced(default_dict: dict) -> tuple[MigrationModel, pd.DataFrame, Trace]:
    """The synthetic world run once with the numpy engine, traced."""
    return run_traced(synthetic_config(default_dict))


def days_of(d: pd.DataFrame, start: str, end: str | None = None) -> np.ndarray:
    sel = d["date"] >= start
    if end is not None:
        sel &= d["date"] <= end
    return sel.to_numpy()


def residents(model: MigrationModel) -> np.ndarray:
    return model.world.origin_home_entry[model.people.origin] >= 0


def test_the_synthetic_world_is_busy(traced) -> None:
    """Protects the tests below from passing vacuously: every part of the world is used: both
    entry points' routes, residents setting out, both legs, registrations at both crossing points
    (before the ban and the closure), refusals, attempts at the green border, the exit control,
    charged visas; and the limited leg and the smaller crossing run full on some days."""
    model, d, trace = traced
    for r in model.world.route_ids:
        assert d[f"arrivals_{r}"].sum() > 10, r
    for column in ("set_out_residents", "kept_from_border", "attempts_marsh", "paid_legs_usd", "paid_visas_usd",
                   "refused_south_post", "in_transit_country_settled", "in_transit_country_west"):
        assert d[column].sum() > 10, column
    before = ~days_of(d, BAN)
    assert d.loc[before, "applied_south_post"].sum() > 10 and d.loc[before, "applied_north_post"].sum() > 10
    assert (trace.legs > 0).sum(axis=0).min() > 30  # both legs carried people on many days
    assert d["n_in_destination"].iloc[-1] > 1000


def test_every_person_is_counted_once_and_every_move_is_a_flow(traced) -> None:
    """Protects conservation in a world with crossings, residents and two entry points: the general
    checks of tests/test_invariants.py (stocks sum to the population every day, stocks change by
    exactly the flows, the last row is the people, absorbing states only grow, the green border's
    outcomes partition its attempts, arrivals within seats, visa applications within capacity)."""
    model, d, _ = traced
    for check in (invariants.test_every_person_is_in_exactly_one_state_every_day,
                  invariants.test_stocks_change_by_exactly_the_flows,
                  invariants.test_final_stocks_match_the_people,
                  invariants.test_absorbing_states_only_grow,
                  invariants.test_border_outcomes_partition_the_attempts,
                  invariants.test_attempts_come_from_people_at_the_border,
                  invariants.test_arrivals_never_exceed_the_seats,
                  invariants.test_arrivals_match_the_flows,
                  invariants.test_visa_applications_never_exceed_channel_capacity):
        check((model, d))


def test_the_border_books_with_crossing_points(traced) -> None:
    """Protects the border's identities once crossing points exist: into the destination = caught +
    through (green) + registered (crossings); registered by segment and by nationality add up;
    crossing points have no attempts (nobody at one, open or closed, "attempts") and green segments
    register and refuse nobody; each turn-back and refusal is a person's pushback."""
    model, d, _ = traced
    w, p = model.world, model.people
    assert (d[flow_name(State.AT_BORDER, State.IN_DESTINATION)] == d["caught"] + d["got_through"] + d["applied"]).all()
    assert (d["applied"] == sum(d[f"applied_{s}"] for s in w.segment_ids)).all()
    assert (d["applied"] == sum(d[f"applied_nationality_{k}"] for k in w.nationalities)).all()
    for s, crossing in zip(w.segment_ids, w.seg_crossing, strict=True):
        quiet = OUTCOMES if crossing else ("applied", "refused")
        for what in quiet:
            assert (d[f"{what}_{s}"] == 0).all(), f"{what}_{s}"
    assert (d[flow_name(State.AT_BORDER, State.IN_CITY)] >= sum(d[f"refused_{s}"] for s in w.segment_ids)).all()
    refused = sum(d[f"refused_{s}"].sum() for s in w.segment_ids)
    assert int(p.pushbacks.sum()) == int(d["turned_back"].sum() + refused)
    assert int(p.attempts.sum()) == int(d["attempts"].sum())


def test_the_columns_per_segment_and_group_are_the_people(traced) -> None:
    """Protects: waiting_<segment> is the people at the border at that segment each evening,
    in_transit_country_<group> the people of the group's origins in the city or at the border, and
    everyone at the border is at a segment a leg reaches from their entry point."""
    model, d, trace = traced
    w, p = model.world, model.people
    here = (trace.state == State.IN_CITY) | (trace.state == State.AT_BORDER)
    for g, group in enumerate(w.group_ids):
        members = w.origin_group[p.origin] == g
        assert d[f"in_transit_country_{group}"].tolist() == here[:, members].sum(axis=1).tolist(), group
    assert d["in_transit_country"].tolist() == here.sum(axis=1).tolist()
    assert (sum(d[f"waiting_{s}"] for s in w.segment_ids) == d["n_at_border"]).all()
    at = trace.state[-1] == State.AT_BORDER
    assert w.reach[p.entry[at], p.segment[at]].all()
    counts = np.bincount(p.segment[at], minlength=w.n_segments)
    assert [d[f"waiting_{s}"].iloc[-1] for s in w.segment_ids] == counts.tolist()
    assert (p.entry[here.any(axis=0)] >= 0).all()  # everyone who was in the transit country has an entry point


def test_crossing_points_never_register_more_than_their_token_bucket(traced) -> None:
    """Protects the throughput: per crossing point and day, registrations <= the whole places in
    its token bucket (sim.model.allocate.token_bucket, recomputed here from that day's opening hours
    x throughput x scale: credit = min(credit + c, 7c + 1), 0 on a closed day, less what was used);
    so also <= floor(7c + 1), a week's capacity plus one, and from the start <= the sum of c. Nobody
    is registered on a day a crossing point is closed. The bound is reached on some days (the
    queue is real)."""
    model, d, trace = traced
    w = model.world
    for s in np.flatnonzero(w.seg_crossing):
        applied = d[f"applied_{w.segment_ids[s]}"].to_numpy()
        per_day = trace.hours[:, s] * w.seg_throughput[s] * model.scale
        credit, full = 0.0, 0
        for day, (c, a) in enumerate(zip(per_day, applied, strict=True)):
            credit = 0.0 if c <= 0 else min(credit + c, 7.0 * c + 1.0)
            assert a <= np.floor(credit) <= np.floor(7.0 * c + 1.0), (w.segment_ids[s], day)
            full += a == np.floor(credit) and a > 0
            credit -= a
        assert (applied[per_day == 0] == 0).all()
        assert (np.cumsum(applied) <= np.cumsum(per_day) + 1e-9).all()
        if w.segment_ids[s] == "north_post":
            assert full > 10


def test_legs_never_carry_more_than_their_token_bucket(traced) -> None:
    """Protects a leg's daily capacity (real people, scaled): per limited leg and day, the people
    who took it <= the whole places of a token bucket filled every day (the model's is filled only on
    days someone sets out: it holds no more) and <= floor(7c + 1), and from the start <= the sum of c
    (an unlimited leg has no bound). paid_legs_usd is each day's travellers times their leg's price.
    The limited leg runs full on many days."""
    model, d, trace = traced
    w = model.world
    for leg in range(w.n_legs):
        used = trace.legs[:, leg]
        if not np.isfinite(w.leg_cap[leg]):
            continue
        c = w.leg_cap[leg] * model.scale
        credit, full = 0.0, 0
        for day, u in enumerate(used):
            credit = min(credit + c, 7.0 * c + 1.0)
            assert u <= np.floor(credit) <= np.floor(7.0 * c + 1.0), (w.leg_ids[leg], day)
            full += u >= np.floor(c)
            credit -= u
        assert (np.cumsum(used) <= c * np.arange(1, used.size + 1) + 1e-9).all()
        assert full > 20, w.leg_ids[leg]
    # what was paid: the price, or what a traveller had left (never more; nearly all pay in full)
    full_price = trace.legs @ w.leg_price
    assert (d["paid_legs_usd"] <= full_price + 1e-6).all() and d["paid_legs_usd"].sum() >= 0.9 * full_price.sum()


def test_residents_never_buy_a_package_a_visa_or_a_flight(traced) -> None:
    """Protects residents (``lives_in``): they go from intending straight to their city (counted in
    set_out_residents, at their own entry point), never through a package, a visa, a ticket or a
    hub, and nobody else does; they spend nothing until they set out (what they spend before their
    first leg: test_residents_spend_nothing_before_their_first_leg)."""
    model, d, trace = traced
    w, p = model.world, model.people
    res = residents(model)
    bought = (State.WAITING_PACKAGE, State.WAITING_VISA, State.TICKETED, State.IN_TRANSIT)
    assert not np.isin(trace.state[:, res], bought).any()
    assert np.isin(trace.state[:, ~res], bought).any(axis=0).sum() > 1000
    assert (d["set_out_residents"] == d[flow_name(State.INTENDING, State.IN_CITY)]).all()
    assert (p.entry[res] == w.origin_home_entry[p.origin[res]]).all()
    assert not p.has_agency[res].any()
    assert (p.channel[res] == -1).all() and (p.hub[res] == -1).all()
    states, spent = trace.state[:, res], trace.spent[:, res]
    at_home = np.logical_and.accumulate(np.isin(states, (State.AT_HOME, State.INTENDING)), axis=0)
    assert not spent[at_home].any()


def test_residents_spend_nothing_before_their_first_leg(traced) -> None:
    """Residents live in the transit country: until they take a leg to the border they pay nothing."""
    model, _, trace = traced
    res = residents(model)
    states, spent = trace.state[:, res], trace.spent[:, res]
    before_leg = np.logical_and.accumulate(np.isin(states, (State.AT_HOME, State.INTENDING, State.IN_CITY)), axis=0)
    assert not spent[before_leg].any()


def test_visa_free_held_and_charged_visas(traced) -> None:
    """Protects: a visa-free nationality and people holding a visa never wait for one; the channel
    serving by origin serves only that origin; a visa outside the package is paid when issued
    (paid_visas_usd = its price x visas issued there each day), one inside it is not."""
    model, d, trace = traced
    w, p = model.world, model.people
    free = w.visa_free[p.nationality]
    assert free.any() and (p.visa_held & ~residents(model)).any()
    never = free | p.visa_held
    assert not (trace.state[:, never] == State.WAITING_VISA).any()
    assert (trace.state[:, ~never] == State.WAITING_VISA).any(axis=0).sum() > 100
    by_origin = w.channel_ids.index("consulate_alandia")
    assert set(p.origin[p.channel == by_origin].tolist()) == {w.origin_names.index("Alandia")}
    charged = ~w.channel_in_package
    expected = sum(d[f"visas_{c}"] * w.channel_cost[i] for i, c in enumerate(w.channel_ids) if charged[i])
    assert (d["paid_visas_usd"] <= expected + 1e-6).all() and d["paid_visas_usd"].sum() >= 0.9 * expected.sum() > 0


def test_the_closure_closes_the_crossing_point_and_the_reopening_opens_it(traced) -> None:
    """Protects the crossing_closure lever: while it acts nobody is registered at the closed
    crossing point and nobody new arrives there (the people waiting only get fewer: they choose
    again, go back or wait, and make no attempt); people were waiting there when it closed; after
    the reopening people are registered there again."""
    model, d, trace = traced
    closed = days_of(d, CLOSED, REOPENED)
    s = model.world.segment_ids.index("north_post")
    assert (trace.hours[closed, s] == 0).all() and (trace.hours[~closed, s] == 12).all()
    assert d.loc[closed, "applied_north_post"].sum() == 0
    waiting = d["waiting_north_post"].to_numpy()
    first = int(np.flatnonzero(closed)[0])
    assert waiting[first - 1] > 5
    last = first + int(closed.sum()) - 1
    assert (np.diff(waiting[first - 1:last + 1]) <= 0).all() and waiting[last] < waiting[first - 1] / 4
    assert d["attempts_north_post"].sum() == 0  # at a closed crossing point people wait, they make no attempt
    after = days_of(d, "2030-03-13", "2030-03-27")
    assert d.loc[after, "applied_north_post"].sum() > 20


def test_the_mode_ban_refuses_bicycles_at_a_gate_that_registers_no_claims(traced) -> None:
    """Protects the mode_ban lever at a crossing point that does not register claims whatever the
    mode: before the ban nobody is refused there; from the ban everyone arriving by the banned mode
    (all of south_post's, by the bicycle leg) is refused and nobody registered; nobody is refused at
    the other crossing point."""
    _, d, _ = traced
    ban = days_of(d, BAN)
    assert d.loc[~ban, "refused_south_post"].sum() == 0
    assert d.loc[ban, "refused_south_post"].sum() > 50
    assert d.loc[ban, "applied_south_post"].sum() == 0
    assert d["refused_north_post"].sum() == 0


def test_lifting_the_exit_control_lets_more_people_go(traced) -> None:
    """Protects exit_control and transit_facilitation.exit_control_mult: the share of people in the
    city kept from the border each day is want x exit control (0.12 x 0.5 before the lever; 0.12 x
    1.5 x 0.1 after)."""
    _, d, _ = traced
    # in the city when people set out: last evening's, today's arrivals and residents, less who went home
    in_city = (d["n_in_city"].shift(1, fill_value=0) + d["arrivals"] + d["set_out_residents"]
               - d[flow_name(State.IN_CITY, State.RETURNING)])
    lifted = days_of(d, EXIT_LIFTED)
    before = d.loc[~lifted, "kept_from_border"].sum() / in_city[~lifted].sum()
    after = d.loc[lifted, "kept_from_border"].sum() / in_city[lifted].sum()
    assert before == pytest.approx(0.12 * 0.5, rel=0.1) and after == pytest.approx(0.12 * 1.5 * 0.5 * 0.2, rel=0.1)


def test_same_config_and_seed_give_the_same_run(traced, default_dict) -> None:
    """Protects determinism in the synthetic world: a second run of the same config and seed gives
    the same daily table and people, bit for bit."""
    model, _, _ = traced
    again = MigrationModel(synthetic_config(default_dict))
    again.run()
    assert_same_run(model, again)


@pytest.mark.skipif(not compiled.available(), reason="numba is not installed")
def test_the_engines_agree_on_the_synthetic_world(traced, default_dict) -> None:
    """Protects: the compiled kernels (board_legs, present_at_crossings, closed_crossing_choice,
    pick_segments by entry point, ...) give the numpy model's numbers in a world that uses them all."""
    model, _, _ = traced
    fast = MigrationModel(synthetic_config(default_dict, run={**RUN, "engine": "numba"}))
    fast.run()
    assert_same_run(model, fast)


def test_a_second_trip_takes_the_legs_days_too(default_dict) -> None:
    """Everyone who sets out from the city is due at the border after their leg's days, also people
    on a second trip (many return and leave again here) who pick the segment of their first."""
    config = synthetic_config(default_dict, returns={"base_willing_per_day": 0.05, "leave_again_per_day": 0.1})
    model, _, trace = run_traced(config)
    assert model.recorder.frame()["flow_returned__intending"].sum() > 100
    assert trace.late_first_trip + trace.late_later_trip == 0


def test_travellers_are_due_after_their_legs_days_on_a_first_trip(traced) -> None:
    """Protects pick_segments by entry point in the run: people setting out on their first trip are
    due at the border exactly their leg's days later (1 by bus, 2 by bicycle)."""
    _, _, trace = traced
    assert trace.first_trips > 1000 and trace.late_first_trip == 0


def test_a_legs_unused_capacity_carries_over_a_day_with_nobody_going(default_dict) -> None:
    """A leg of half a person a day: nobody goes on day 0; on day 1 one person goes and finds the
    two days' half places, a whole one (credit = min(0.5 + 0.5, 7 x 0.5 + 1) = 1)."""
    config = synthetic_config(default_dict)
    config["world"]["legs"][0]["capacity_per_day"] = 0.5
    config["population"].update(size=200, pool=200)
    model = MigrationModel(config)
    w, p = model.world, model.people
    for day in (0, 1):
        model.day = day
        model.recorder.start_day()
        go = np.zeros(0, np.int64) if day == 0 else np.array([0])
        p.entry[go] = w.entry_ids.index("north_port")
        p.segment[go] = w.segment_ids.index("north_post")
        places_on_legs(model)  # go_to_border fills the legs' places every morning
        went = take_legs(model, go)
    assert went.tolist() == [0]


# ---- B. the loader's checks of the new keys -----------------------------------------------------


def _set(dotted: str, value: Any):
    """A change to the config: ``dotted`` as :func:`set_dotted` takes it (list elements by id or name)."""
    return lambda data: set_dotted(data, dotted, copy.deepcopy(value))


def _add_segment(data: dict) -> None:
    data["world"]["segments"].append({"id": "far_post", "state": "Westmark", "kind": "crossing",
                                      "throughput_per_hour": 1})


BAD_WORLDS = [
    ("unknown entry point in a leg", _set("world.legs.north_bus.entry", "nowhere"),
     r"world\.legs\[0\]\.entry: unknown entry point 'nowhere'; known: north_port, south_port"),
    ("crossing with throughput 0", _set("world.segments.north_post.throughput_per_hour", 0),
     r"world\.segments\[1\]\.throughput_per_hour: 0 at crossing point 'north_post'"),
    ("segment no leg reaches", _add_segment, r"world\.segments\[3\]: no leg reaches 'far_post'"),
    ("route to an airport that is no entry point", _set("world.routes.AA_ALA_TRN.destination", "HBB"),
     r"world\.routes\[0\]\.destination: 'HBB' is not an entry point's airport; routes fly to: TRN, TRS"),
    ("route without destination with two entry points", _set("world.routes.BB_BOR_TRS.destination", ""),
     r"world\.routes\[1\]\.destination: missing; with several entry points"),
    ("resident origin with airports", _set("world.origins.Carpanians in North Port.airports", ["ALA"]),
     r"world\.origins\[2\]: Carpanians in North Port lives in the transit country \(lives_in: north_port\)"),
    ("resident of an unknown entry point", _set("world.origins.Carpanians in North Port.lives_in", "east_port"),
     r"world\.origins\[2\]\.lives_in: unknown entry point 'east_port'"),
    ("unknown group", _set("world.origins.Alandia.group", "east"),
     r"world\.origins\[0\]\.group: unknown group 'east'; known: west, settled"),
    ("entry airport outside the transit state", _set("world.transit.entry_points.south_port.airport", "HBB"),
     r"world\.transit\.entry_points\[1\]\.airport: 'HBB' is in 'Portia', not in the transit state 'Transia'"),
    ("unknown visa-free nationality", _set("world.transit.visa_free", ["martian"]),
     r"world\.transit\.visa_free: unknown nationality 'martian'"),
    ("channel serving an unknown origin", _set("world.visa_channels.consulate_alandia.origins", ["Atlantis"]),
     r"world\.visa_channels\[0\]\.origins: unknown origin 'Atlantis'"),
    ("unknown segment kind", _set("world.segments.marsh.kind", "tunnel"),
     r"world\.segments\[0\]\.kind: 'tunnel' is not allowed; allowed: green, crossing"),
    ("crossing_closure naming a green segment", _set("levers.north_closed.segments", ["marsh"]),
     r"levers\.north_closed\.segments: 'marsh' is a green border, not a crossing point"),
    ("mode_ban with an unknown mode", _set("levers.no_bicycles.modes", ["boat"]),
     r"levers\.no_bicycles\.modes\[0\]: unknown mode 'boat'; known: bicycle, bus"),
    ("negative exit_control_mult", _set("levers.let_go.exit_control_mult", -1.0),
     r"levers\.let_go\.exit_control_mult: -1\.0 is negative"),
]


@pytest.mark.parametrize(("change", "message"), [b[1:] for b in BAD_WORLDS], ids=[b[0] for b in BAD_WORLDS])
def test_a_bad_world_is_refused_naming_its_key(default_dict, change, message: str) -> None:
    """Protects: each mistake in the new keys of a world (or its levers) stops the model being built
    with a ConfigError naming the key, the value and what is allowed."""
    config = synthetic_config(default_dict)
    config["population"].update(size=100, pool=100)
    change(config)
    with pytest.raises(ConfigError, match=message):
        MigrationModel(config)


def test_the_synthetic_world_builds_as_given(default_dict) -> None:
    """Protects the parametrized test above from passing for another reason: unchanged, the world builds."""
    config = synthetic_config(default_dict)
    config["population"].update(size=100, pool=100)
    model = MigrationModel(config)
    assert model.world.entry_ids == ["north_port", "south_port"] and model.world.modes == ["bicycle", "bus"]


# ---- C. no shipped world's places in the code ------------------------------------------------------

WORLD_FILES = sorted((ROOT / "configs" / "world").glob("*.yaml"))
CODE = sorted([*(ROOT / "sim").rglob("*.py"), *(ROOT / "experiments").rglob("*.py")])
# the words of an identifier or a text: snake_case, CamelCase and UPPER parts, digits apart
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
# words of the worlds' names that are also ordinary English or programming words: from the
# multi-word names ("Other origins", "Yemenis abroad", "Afghans in Moscow", "Kurdistan Region",
# "Fly Baghdad", "Syrian Air", "Qatar Airways", "Turkish Airlines", "Cham Wings"); "other" is also
# a nationality of both worlds ("everyone else"), a word any code may use
# "and" (an origin of Syrians from "Homs and Aleppo") and "led" (St Petersburg's airport, LED) are English words.
GENERIC = {"other", "origins", "in", "abroad", "region", "fly", "air", "airways", "airlines", "wings", "and", "led"}
# shorter than 3 characters: airline codes (IA, FB, MS, SU...) collide with ordinary identifiers
# (ms, su, ...) and are ignored; but "EU", a state of both worlds, is checked: the destination of a
# corridor is not always the EU (the neutral names renamed IN_EU to IN_DESTINATION)
SHORT_CHECKED = {"eu"}


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def shipped_place_names() -> set[str]:
    """The place-like names of every shipped world, as lower-case words: the world file's name and
    ``name`` (iraq, belarus, ...: years are no places), states, airport and hub codes, airline codes
    and names, nationalities, origin names, entry point ids, segment ids, group ids and labels, and
    the places of the visa channels. Less the generic words and the short ones."""
    found: list[str] = []
    for f in WORLD_FILES:
        w = yaml.safe_load(f.read_text(encoding="utf-8"))
        found += [f.stem, w["name"], *w["states"], *w["airports"], *w["hubs"], *w["nationalities"], *w["airlines"]]
        found += [a["name"] for a in w["airlines"].values()] + [o["name"] for o in w["origins"]]
        found += [e["id"] for e in w["transit"]["entry_points"]] + [s["id"] for s in w["segments"]]
        found += [*w.get("groups", {}), *w.get("groups", {}).values()]
        found += [c["place"] for c in w["visa_channels"] if c.get("place")]
    words = {x for name in found for x in _words(str(name))}
    return {x for x in words if (len(x) >= 3 or x in SHORT_CHECKED) and not x.isdigit() and x not in GENERIC}


def _docstrings(tree: ast.AST) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) of each docstring: a string statement first in a module, class or function."""
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                spans.append(((first.lineno, first.col_offset), (first.end_lineno, first.end_col_offset)))
    return spans


def _text(tok: tokenize.TokenInfo) -> str:
    """A token's text: a string literal's value (escapes and prefix resolved)."""
    if tok.type != tokenize.STRING:
        return tok.string
    value = ast.literal_eval(tok.string)
    return value.decode("latin-1") if isinstance(value, bytes) else value


def places_in_code(source: str, names: set[str], where: str) -> list[str]:
    """``where:line:name`` for each name of ``names`` that a NAME token or a string (not a
    docstring; f-strings' text too) of ``source`` contains as a whole word. Comments are no tokens
    looked at."""
    spans = _docstrings(ast.parse(source))
    found = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type not in (tokenize.NAME, tokenize.STRING, tokenize.FSTRING_MIDDLE):
            continue
        if tok.type == tokenize.STRING and any(a <= tok.start <= b for a, b in spans):
            continue
        found += [f"{where}:{tok.start[0]}:{x}" for x in sorted(set(_words(_text(tok))) & names)]
    return list(dict.fromkeys(found))  # once per line and name


def test_the_place_scan_finds_names_in_code_and_not_in_docstrings_or_comments() -> None:
    """Protects the scan below from passing vacuously: it finds a place in an identifier (any case,
    snake or Camel), a string and an f-string, and not in docstrings, comments or longer words."""
    source = (
        '"""Module docstring: people fly to Minsk."""\n'
        "IN_MINSK = 1  # a comment on Minsk\n"
        "class Minskish:\n"
        '    """Minsk."""\n'
        '    x = "kept in the EU"\n'
        "def go(belarusCity, n):\n"
        '    """Belarus."""\n'
        '    return f"{n} in Minsk", "homeland"\n'
    )
    names = {"minsk", "belarus", "eu", "home"}
    assert places_in_code(source, names, "f.py") == [
        "f.py:2:minsk", "f.py:5:eu", "f.py:6:belarus", "f.py:8:minsk"]
    assert {"belarus", "finland", "minsk", "moscow", "vaalimaa", "iraqi", "eu", "bgw", "kri"} <= shipped_place_names()
    assert not GENERIC & shipped_place_names() and "ia" not in shipped_place_names()


def _places_in_the_code() -> list[str]:
    names = shipped_place_names()
    return [hit for path in CODE
            for hit in places_in_code(path.read_text(encoding="utf-8"), names, str(path.relative_to(ROOT)))]


def test_the_code_names_no_shipped_worlds_places() -> None:
    """Protects "any corridor": the code of sim/ and experiments/ names no place of a shipped world
    (configs/world/*.yaml) in an identifier or a string that is not a docstring, so that a world is
    data and nothing in the code assumes one. Comments and docstrings may cite examples."""
    found = _places_in_the_code()
    assert not found, f"{len(found)} places in the code:\n" + "\n".join(found)
