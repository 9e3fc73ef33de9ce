"""Each lever moves its outputs in the expected direction; inactive levers change nothing; levers
commute. All on the tiny world, comparing runs that differ only in the lever (same seed, so the
same people draw the same numbers: common random numbers).
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.model.config import ConfigError
from sim.model.levers import REGISTRY
from sim.model.model import MigrationModel
from sim.model.population import State
from sim.model.recorder import flow_name

START = "2021-02-01"  # levers below act from here (day 31) to the end of the tiny run


def lever(kind: str, actor: str, when: dict | None = None, **params: Any) -> dict:
    return {"kind": kind, "actor": actor, "when": {"start": START} if when is None else when, **params}


def compare(tiny_world, run, levers: dict, base_levers: dict | None = None, **overrides: Any):
    """(without, with): daily tables of the tiny world without and with ``levers`` (both with
    ``base_levers``)."""
    base = dict(base_levers or {})
    _, off = run(tiny_world(base, **overrides))
    m_on, on = run(tiny_world({**base, **levers}, **overrides))
    return off, on, m_on


def window(d: pd.DataFrame, start: str = START, end: str | None = None) -> pd.DataFrame:
    sel = d["date"] >= start
    if end is not None:
        sel &= d["date"] <= end
    return d[sel]


def test_flight_suspension(tiny_world, run) -> None:
    """Protects: suspending a route stops its arrivals while suspended and sends its ticketed
    passengers through the hub instead."""
    off, on, _ = compare(tiny_world, run, {"x": lever("flight_suspension", "Iraq", routes=["IA_BGW_MSQ"])})
    assert window(on)["arrivals_IA_BGW_MSQ"].sum() == 0
    assert window(off)["arrivals_IA_BGW_MSQ"].sum() > 100
    assert window(on)["seats_IA_BGW_MSQ"].sum() == 0
    assert on["rerouted_via_hub"].sum() > off["rerouted_via_hub"].sum() + 50
    assert on["arrivals_B2_IST_MSQ"].sum() > off["arrivals_B2_IST_MSQ"].sum()
    # before the suspension nothing differs
    pd.testing.assert_frame_equal(off[off["date"] < START], on[on["date"] < START], check_exact=True)


def test_boarding_ban(tiny_world, run) -> None:
    """Protects: a boarding ban at the hub for a nationality lowers that nationality's arrivals
    through the hub (here: none at all, since their direct route is suspended too), while others
    may still board."""
    suspended = {"ia": lever("flight_suspension", "Iraq", routes=["IA_BGW_MSQ"])}
    off, on, m_on = compare(tiny_world, run,
                            {"ban": lever("boarding_ban", "Turkey", from_airports=["IST"], nationalities=["iraqi"])},
                            base_levers=suspended)
    assert window(on)["arrivals_B2_IST_MSQ"].sum() < window(off)["arrivals_B2_IST_MSQ"].sum()
    assert window(off)["arrivals_B2_IST_MSQ"].sum() > 50
    p = m_on.people
    ban_day = m_on.world.day_of(pd.Timestamp(START).date())
    iraqi = p.nationality == m_on.world.nationalities.index("iraqi")
    assert not (iraqi & (p.day_arrived >= ban_day)).any()


def test_boarding_ban_leaves_other_nationalities_flying(tiny_world, run) -> None:
    """Protects: a ban on one nationality does not stop the route for others."""
    levers = {"ban": lever("boarding_ban", "Syria", routes=["6Q_DAM_MSQ"], nationalities=["iraqi"])}
    off, on, _ = compare(tiny_world, run, levers)
    pd.testing.assert_frame_equal(off, on.assign(active_levers=off["active_levers"]), check_exact=True)


def test_consulate_closure(tiny_world, run) -> None:
    """Protects: a closed consulate takes no applications and issues fewer visas; the people it
    leaves are served by the other channel."""
    levers = {"x": lever("consulate_closure", "Iraq", when={"start": START, "end": "2021-03-31"},
                         channels=["consulate_baghdad"])}
    off, on, _ = compare(tiny_world, run, levers)
    w_on, w_off = window(on, end="2021-03-31"), window(off, end="2021-03-31")
    assert w_on["visa_applications_consulate_baghdad"].sum() == 0
    assert w_off["visa_applications_consulate_baghdad"].sum() > 100
    assert on["visas_consulate_baghdad"].sum() < off["visas_consulate_baghdad"].sum()
    assert on["visa_lapsed"].sum() > off["visa_lapsed"].sum()
    assert w_on["visa_applications_invitation"].sum() >= w_off["visa_applications_invitation"].sum()


def test_visa_restriction(tiny_world, run) -> None:
    """Protects: stopping visas for a nationality at a channel lowers that channel's applications
    and visas; pending applications of that nationality lapse."""
    levers = {"x": lever("visa_restriction", "Belarus", channels=["invitation"], nationalities=["syrian"])}
    off, on, m_on = compare(tiny_world, run, levers)
    assert window(on)["visa_applications_invitation"].sum() < window(off)["visa_applications_invitation"].sum()
    assert on["visas_invitation"].sum() < off["visas_invitation"].sum()
    assert on["visa_lapsed"].sum() > off["visa_lapsed"].sum()
    # no Syrian can be waiting for a visa at the end: their only channel is closed to them
    p = m_on.people
    syrian = p.nationality == m_on.world.nationalities.index("syrian")
    assert not (syrian & (p.state == State.WAITING_VISA)).any()


def test_repatriation_flights(tiny_world, run) -> None:
    """Protects: repatriation flights take people home (repatriated rises from zero), on the
    scheduled dates only."""
    dates = ["2021-03-01", "2021-03-15", "2021-04-01", "2021-04-15"]
    levers = {"x": lever("repatriation_flights", "Iraq", when={"dates": dates}, seats=[60],
                         nationalities=["iraqi", "syrian"])}
    off, on, _ = compare(tiny_world, run, levers)
    assert off["repatriated"].sum() == 0
    assert on["repatriated"].sum() > 20
    assert set(on.loc[on["repatriated"] > 0, "date"]) <= set(dates)
    assert on["n_returned"].iloc[-1] > off["n_returned"].iloc[-1]


def test_weekly_repatriation_flights(tiny_world, run) -> None:
    """Protects: a weekly schedule flies on its weekdays inside its window, and an airline
    records the charters it flew."""
    levers = {"x": lever("repatriation_flights", "Iraq", when={"start": "2021-03-01", "end": "2021-04-30"},
                         weekdays=[0, 3], seats=[40], nationalities=["iraqi", "syrian"])}
    _, on, m = compare(tiny_world, run, levers)
    flown = on[on["repatriation_flights"] > 0]
    assert set(pd.to_datetime(flown["date"]).dt.day_of_week) == {0, 3}
    assert flown["date"].min() >= "2021-03-01" and flown["date"].max() <= "2021-04-30"
    assert m.airline_agents["IA"].charters_flown == len(flown)
    assert on["repatriated"].sum() > 0


def test_paid_repatriation_boards_fewer_and_costs_money(tiny_world, run) -> None:
    """Protects: a paid repatriation flight boards only people who can pay, and they pay:
    fewer board than on the same free flights."""
    dates = ["2021-03-01", "2021-03-15", "2021-04-01", "2021-04-15"]
    free = {"x": lever("repatriation_flights", "Iraq", when={"dates": dates}, seats=[200],
                       nationalities=["iraqi", "syrian"])}
    paid = {"x": {**free["x"], "fare_usd": 5000.0}}
    _, on_free = run(tiny_world(free))
    m_paid, on_paid = run(tiny_world(paid))
    assert 0 < on_free["repatriated"].sum()
    assert on_paid["repatriated"].sum() < on_free["repatriated"].sum()
    back = m_paid.people.returns > 0
    assert (m_paid.people.spent_usd[back] >= 0).all()


def test_pushback(tiny_world, run) -> None:
    """Protects: pushbacks at a segment turn back the people caught inside (the share of attempts
    turned back rises, caught falls to zero) and leave the other segment's rules alone. (The
    number of attempts there may fall: people learn and go elsewhere — that is displacement.)"""
    off, on, _ = compare(tiny_world, run, {"x": lever("pushback", "Poland", segments=["poland"], pushback=True)})
    assert window(on)["caught_poland"].sum() == 0
    assert window(off)["caught_poland"].sum() > 20

    def share(d: pd.DataFrame) -> float:
        w = window(d)
        return w["turned_back_poland"].sum() / w["attempts_poland"].sum()

    assert share(on) > share(off)
    assert (window(on)["pushback_poland"] == 1).all() and (window(on)["pushback_lithuania"] == 0).all()


def test_reinforcement(tiny_world, run) -> None:
    """Protects: reinforcing a segment's guards raises the share of attempts turned back there."""
    off, on, _ = compare(tiny_world, run,
                         {"x": lever("reinforcement", "Lithuania", segments=["lithuania"], guard_mult=5.0)})

    def share(d: pd.DataFrame) -> float:
        w = window(d)
        return w["turned_back_lithuania"].sum() / w["attempts_lithuania"].sum()

    assert share(on) > share(off) + 0.05
    assert (window(on)["guard_capacity_lithuania"] > window(off)["guard_capacity_lithuania"]).all()


def test_reinforcement_ramps(tiny_world, run) -> None:
    """Protects: with ramp_days the guard multiplier grows day by day to its full value."""
    levers = {"x": lever("reinforcement", "Lithuania", when={"start": START, "ramp_days": 10},
                         segments=["lithuania"], guard_mult=3.0)}
    _, on, m = compare(tiny_world, run, levers, run__end="2021-02-20")
    ratio = (window(on)["guard_capacity_lithuania"] / m.guards[1].base_capacity).to_numpy()
    assert (np.diff(ratio[:10]) > 0).all()


def test_smuggler_crackdown(tiny_world, run) -> None:
    """Protects: a crackdown on agencies lowers the packages sold."""
    off, on, _ = compare(tiny_world, run,
                         {"x": lever("smuggler_crackdown", "Iraq", origins=["Baghdad"], capacity_mult=0.2)})
    # the first month of the crackdown (later, the run without it has sold to everyone who wanted)
    month = {"start": START, "end": "2021-02-28"}
    assert window(on, **month)["packages_sold"].sum() < 0.8 * window(off, **month)["packages_sold"].sum()


def test_information_campaign(tiny_world, run) -> None:
    """Protects: a positive information campaign (disinformation that the route is open) raises
    the flow from home to intending; a negative one lowers it."""
    off, on, _ = compare(tiny_world, run,
                         {"x": lever("information_campaign", "Belarus", origins=["Damascus"], intensity=1.0)})
    col = "flow_at_home__intending"
    assert window(on)[col].sum() > window(off)[col].sum()
    _, neg, _ = compare(tiny_world, run,
                        {"x": lever("information_campaign", "Belarus", origins=["Damascus"], intensity=-1.0)})
    assert window(neg)[col].sum() < window(off)[col].sum()


def test_transit_transport(tiny_world, run) -> None:
    """Protects: Belarus' transport (transport_mult > 1) raises the flow from Minsk to the border."""
    off, on, _ = compare(tiny_world, run,
                         {"x": lever("transit_facilitation", "Belarus", transport_mult=3.0)})
    col = "flow_in_city__at_border"
    assert window(on)[col].sum() > window(off)[col].sum()
    assert window(on)["n_in_city"].mean() < window(off)["n_in_city"].mean()


def test_transit_segment_weights(tiny_world, run) -> None:
    """Protects: Belarus driving people to a segment raises the attempts there."""
    off, on, _ = compare(tiny_world, run,
                         {"x": lever("transit_facilitation", "Belarus", segment_weights={"lithuania": 5.0})})
    assert window(on)["attempts_lithuania"].sum() > window(off)["attempts_lithuania"].sum()


def test_visa_leverage_lowers_repatriation(tiny_world, run) -> None:
    """Protects: the EU visa restriction lowers the origin state's cooperation, so fewer people
    are repatriated on the same flights."""
    dates = [f"2021-{m:02d}-{d:02d}" for m in (3, 4, 5) for d in (1, 8, 15, 22)]
    flights = {"repat": lever("repatriation_flights", "Iraq", when={"dates": dates}, seats=[20],
                              nationalities=["iraqi", "syrian"])}
    off, on, _ = compare(tiny_world, run,
                         {"x": lever("visa_leverage", "EU", nationality="iraqi", cooperation_drop=0.5)},
                         base_levers=flights)
    assert off["repatriated"].sum() > 20
    assert on["repatriated"].sum() < off["repatriated"].sum()
    assert (window(on)["cooperation"] == 0.5).all()


# ---- inactive levers change nothing ---------------------------------------------------------------

INACTIVE_CASES = {
    "flight_suspension": lever("flight_suspension", "Iraq", routes=["IA_BGW_MSQ"]),
    "boarding_ban": lever("boarding_ban", "Turkey", from_airports=["IST"], nationalities=["iraqi"]),
    "consulate_closure": lever("consulate_closure", "Iraq", channels=["consulate_baghdad"]),
    "visa_restriction": lever("visa_restriction", "Belarus", nationalities=["syrian"]),
    "visa_leverage": lever("visa_leverage", "EU", nationality="iraqi"),
    "repatriation_flights": lever("repatriation_flights", "Iraq", when={"dates": [START, "2021-05-20"]}, seats=[100],
                                  nationalities=["iraqi", "syrian"]),
    "smuggler_crackdown": lever("smuggler_crackdown", "Iraq", capacity_mult=0.0),
    "border_policy": lever("border_policy", "Poland", segments=["poland"], pushback=True, kept_share=0.4, guard_mult=3.0,
                           interior_catch_mult=2.0, claim_mult=0.5, line_stop_mult=1.5, attempt_cost_usd=100.0),
    "information_campaign": lever("information_campaign", "Belarus", intensity=2.0),
    "transit_facilitation": lever("transit_facilitation", "Belarus", transport_mult=3.0,
                                  segment_weights={"poland": 3.0}, attempt_mult=2.0, shelter=True,
                                  exit_control_mult=0.5, escort_to=["lithuania"], escort_per_day=0.3,
                                  relocate_per_day=0.2, hold_at_border=0.5, drive_mult=1.5),
    "detention": lever("detention", "Poland", segments=["poland"], places=30.0),
    "crossing_closure": lever("crossing_closure", "Lithuania", segments=["gate"]),
    "mode_ban": lever("mode_ban", "Lithuania", modes=["bicycle"], segments=["gate"]),
}


def test_inactive_cases_cover_every_lever_class() -> None:
    """Protects: a new lever class is added to the inactive-lever tests below."""
    assert {cls for cls in REGISTRY.values()} == {REGISTRY[k] for k in INACTIVE_CASES}


SIMULATED_DAYS = 60  # to 2021-03-01, of a window to 2021-05-31


@pytest.fixture(scope="module")
def base_run(tiny_world, run) -> pd.DataFrame:
    """The tiny world without levers, the whole window."""
    return run(tiny_world())[1]


@pytest.fixture(scope="module")
def base_run_short(tiny_world, run) -> pd.DataFrame:
    """The tiny world without levers, the first SIMULATED_DAYS days only."""
    return run(tiny_world(), days=SIMULATED_DAYS)[1]


@pytest.mark.parametrize("kind", sorted(INACTIVE_CASES))
def test_disabled_lever_changes_nothing(tiny_world, run, base_run, kind: str) -> None:
    """Protects: a lever with enabled: false leaves the run bit-identical to one without it."""
    base = base_run
    spec = {**copy.deepcopy(INACTIVE_CASES[kind]), "enabled": False}
    _, off = run(tiny_world({"x": spec}))
    pd.testing.assert_frame_equal(base, off, check_exact=True)


@pytest.mark.parametrize("kind", sorted(INACTIVE_CASES))
def test_lever_outside_the_simulated_days_changes_nothing(tiny_world, run, base_run_short, kind: str) -> None:
    """Protects: a lever whose window starts after the days simulated leaves those days
    bit-identical (the run window is longer than the days stepped)."""
    days, base = SIMULATED_DAYS, base_run_short
    spec = copy.deepcopy(INACTIVE_CASES[kind])
    if "dates" in spec["when"]:
        spec["when"] = {"dates": ["2021-04-01", "2021-05-20"]}
    else:
        spec["when"] = {"start": "2021-04-01", "end": "2021-05-31"}
    _, later = run(tiny_world({"x": spec}), days=days)
    pd.testing.assert_frame_equal(base, later, check_exact=True)


def test_trigger_that_never_fires_changes_nothing(tiny_world, run, base_run) -> None:
    """Protects: a lever on a trigger whose condition never holds never acts."""
    base = base_run
    spec = lever("pushback", "Poland", when={"trigger": {"metric": "deaths", "above": 1e9, "for_days": 1}},
                 segments=["poland"], pushback=True)
    _, on = run(tiny_world({"x": spec}))
    pd.testing.assert_frame_equal(base, on, check_exact=True)


def test_trigger_fires_after_its_condition_holds(tiny_world, run) -> None:
    """Protects: a trigger lever acts once its metric has been above the threshold for for_days,
    lag_days later, and not before."""
    spec = lever("pushback", "Poland", when={"trigger": {"metric": "in_transit_country", "above": 50, "for_days": 3,
                                                         "lag_days": 2}},
                 segments=["poland"], pushback=True)
    _, d = run(tiny_world({"x": spec}))
    above = (d["in_transit_country"] > 50).to_numpy()
    first_hold = next(i for i in range(2, len(d)) if above[i - 2: i + 1].all())
    # metric of day t is seen on day t + 1; fired_on = (first day the 3-day run is seen) + lag
    fire_day = first_hold + 1 + 2
    assert (d["pushback_poland"].iloc[:fire_day] == 0).all()
    assert d["pushback_poland"].iloc[fire_day] == 1


# ---- levers commute ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # same actor, same policy field (multiplied)
        (lever("reinforcement", "Poland", segments=["poland"], guard_mult=1.7),
         lever("state_of_emergency", "Poland", when={"start": "2021-03-01", "ramp_days": 9}, segments=["poland"],
               guard_mult=2.3, interior_catch_mult=1.3, pushback=True)),
        # same actor, different fields
        (lever("transit_facilitation", "Belarus", transport_mult=1.9, segment_weights={"poland": 0.7}),
         lever("information_campaign", "Belarus", origins=["Damascus"], intensity=0.7)),
        # same actor, booleans and seats
        (lever("consulate_closure", "Iraq", when={"start": "2021-03-01", "end": "2021-03-20"}, channels=["consulate_baghdad"]),
         lever("repatriation_flights", "Iraq", when={"dates": ["2021-03-10", "2021-04-10"]}, seats=[30],
               nationalities=["iraqi", "syrian"])),
        # different actors on overlapping routes
        (lever("flight_suspension", "Iraq", routes=["IA_BGW_MSQ"]),
         lever("boarding_ban", "Turkey", from_airports=["IST"], nationalities=["syrian"])),
    ],
)
def test_two_levers_commute(tiny_world, run, a: dict, b: dict) -> None:
    """Protects: the order in which levers are written does not matter (dict order swapped gives
    a bit-identical run)."""
    _, ab = run(tiny_world({"a": a, "b": b}))
    _, ba = run(tiny_world({"b": b, "a": a}))
    pd.testing.assert_frame_equal(ab, ba, check_exact=True)


def test_all_levers_commute(tiny_world, tiny_levers, run) -> None:
    """Protects: the whole set of tiny-world levers in reverse order gives a bit-identical run."""
    _, fwd = run(tiny_world(tiny_levers))
    _, rev = run(tiny_world(dict(reversed(list(tiny_levers.items())))))
    pd.testing.assert_frame_equal(fwd, rev, check_exact=True)


def test_lever_changes_nothing_before_it_starts(tiny_world, run, tiny_levers, base_run) -> None:
    """Protects: levers act only from their start (no look-ahead): the days before the first
    lever starts are identical to a run without levers."""
    base = base_run
    _, on = run(tiny_world(tiny_levers))
    first = "2021-02-01"
    cut = base["date"] < first
    pd.testing.assert_frame_equal(base[cut], on[cut], check_exact=True)


def test_model_exposes_levers_by_actor(tiny_world, tiny_levers) -> None:
    """Protects: each lever belongs to the actor named in the config, and only enabled ones are
    pulled."""
    tiny_levers["eu_visa"]["enabled"] = False
    m = MigrationModel(tiny_world(tiny_levers))
    owned = {lv.name: actor for actor, a in {**m.state_actors, **m.airline_agents}.items() for lv in a.levers}
    expected = {n: s["actor"] for n, s in tiny_levers.items() if s.get("enabled", True)}
    assert owned == expected


def test_three_levers_on_one_field_commute(tiny_world, run) -> None:
    """Protects: levers commute even when three of them multiply the same policy field (the
    design promises that the order of `levers:` never matters)."""
    specs = {n: lever("reinforcement", "Poland", segments=["poland"], guard_mult=g)
             for n, g in (("a", 0.54), ("b", 2.53), ("c", 2.78))}
    _, abc = run(tiny_world(specs), days=60)
    _, cba = run(tiny_world(dict(reversed(list(specs.items())))), days=60)
    pd.testing.assert_frame_equal(abc, cba, check_exact=True)


def test_disabled_lever_may_be_dated_outside_the_run(tiny_world, run, base_run) -> None:
    """Protects: a disabled lever is still checked but may keep dates outside a shorter run
    window (so a scenario's switched-off lever does not break short runs), and changes nothing."""
    spec = lever("pushback", "Poland", when={"start": "2022-01-01", "end": "2022-02-01"}, segments=["poland"],
                 pushback=True)
    _, off = run(tiny_world({"x": {**spec, "enabled": False}}))
    pd.testing.assert_frame_equal(base_run, off, check_exact=True)


def test_an_announced_closure_brings_departures_forward_and_then_closes(tiny_world, run) -> None:
    """Protects crossing_closure's ``announced``: between the announcement and the closure,
    people who can reach the crossing leave the city sooner (travel.closing_soon_mult); the
    days before the announcement are unchanged; from its start nobody is registered there."""
    closure = lever("crossing_closure", "Lithuania", when={"start": "2021-04-15"}, segments=["gate"])
    rush = {"travel.closing_soon_mult": 10.0}
    _, plain = run(tiny_world({"x": closure}, **rush))
    _, told = run(tiny_world({"x": {**closure, "announced": "2021-04-05"}}, **rush))
    before = ("2021-01-01", "2021-04-04")
    pd.testing.assert_frame_equal(window(plain, *before), window(told, *before), check_exact=True)
    going = flow_name(State.IN_CITY, State.AT_BORDER)
    notice = ("2021-04-05", "2021-04-14")
    assert window(told, *notice)[going].sum() > 1.5 * window(plain, *notice)[going].sum()
    assert window(told, "2021-04-15")["applied_gate"].sum() == 0


def test_an_announcement_after_the_closure_is_refused(tiny_world) -> None:
    """Protects: a closure announced after it starts is a configuration error naming the key."""
    spec = lever("crossing_closure", "Lithuania", when={"start": "2021-04-15"}, segments=["gate"], announced="2021-04-20")
    with pytest.raises(ConfigError, match=r"levers\.x\.announced: 2021-04-20 is after the lever starts \(2021-04-15\)"):
        MigrationModel(tiny_world({"x": spec}))


def test_the_network_forgets_once_a_day_in_a_world_with_crossing_points(tiny_world) -> None:
    """Protects: what the network remembers decays once a day (report_half_life_days), also in a
    world with crossing points, whose phase adds its reports before the border's phase smooths
    them (they were once smoothed twice a day there)."""
    model = MigrationModel(tiny_world())
    assert model.world.seg_crossing.any()
    model.success_ema[:] = 1.0
    model.failure_ema[:] = 1.0
    model.seg_attempts_ema[:] = 1.0
    model.step()  # day 0: nobody has reached the border yet, nothing is reported
    assert np.allclose(model.success_ema, model.decay) and np.allclose(model.failure_ema, model.decay)
    assert np.allclose(model.seg_attempts_ema, model.decay)


def test_a_pushback_policy_keeps_its_kept_share_of_those_caught(tiny_world, run) -> None:
    """Protects border_policy's kept_share: with pushbacks and no kept share nobody caught inside
    Poland is kept from the policy's start; with a share, some are (asylum claims, vulnerability),
    the more the larger the share."""
    when = {"start": "2021-03-01"}
    caught = {}
    for share in (0.0, 0.3, 0.9):
        spec = lever("border_policy", "Poland", when=when, segments=["poland"], pushback=True, kept_share=share)
        _, d = run(tiny_world({"x": spec}))
        caught[share] = int(window(d, "2021-03-01")["caught_poland"].sum())
    assert caught[0.0] == 0 and 0 < caught[0.3] < caught[0.9]


def test_a_kept_share_outside_zero_to_one_is_refused(tiny_world) -> None:
    spec = lever("border_policy", "Poland", segments=["poland"], pushback=True, kept_share=1.5)
    with pytest.raises(ConfigError, match=r"levers\.x\.kept_share: 1\.5 is out of range"):
        MigrationModel(tiny_world({"x": spec}))


# ---- issue 15: the autumn's mechanisms ------------------------------------------------------------

def test_an_emergency_zone_lowers_the_kept_share_by_its_chance_to_claim(tiny_world, run) -> None:
    """Protects border_policy's claim_mult: where a segment pushes back and keeps a share, a
    closed zone that halves the chance to claim asylum keeps fewer of those caught inside (about
    half as many per person caught), and none with no chance at all."""
    when = {"start": "2021-03-01"}
    kept_per_caught = {}
    for claim in (1.0, 0.5, 0.0):
        levers = {"pb": lever("pushback", "Poland", when=when, segments=["poland"], pushback=True, kept_share=0.8),
                  "zone": lever("state_of_emergency", "Poland", when=when, segments=["poland"], claim_mult=claim)}
        _, d = run(tiny_world(levers))
        w = window(d, "2021-03-01")
        kept_per_caught[claim] = w["caught_poland"].sum() / w["caught_inside_poland"].sum()
    assert kept_per_caught[0.0] == 0.0
    assert 0.7 < kept_per_caught[1.0] < 0.9 and 0.3 < kept_per_caught[0.5] < 0.5


def test_a_fence_stops_more_at_the_line_and_each_attempt_costs(tiny_world, run) -> None:
    """Protects the fence (border_policy's line_stop_mult and attempt_cost_usd): more of the
    attempts at the fenced segment are stopped at the line, and each attempt there is paid for
    (what people have, at most the cost), nothing before the fence stands or elsewhere."""
    fence = {"x": lever("fence", "Poland", segments=["poland"], line_stop_mult=1.4, attempt_cost_usd=200.0)}
    off, on, _ = compare(tiny_world, run, fence)
    stopped = {k: (window(d)["turned_back_poland"] - window(d)["caught_inside_poland"]
                   + window(d)["caught_poland"]).sum() / window(d)["attempts_poland"].sum()
               for k, d in (("off", off), ("on", on))}
    assert stopped["on"] > stopped["off"] * 1.2
    paid, attempts = window(on)["paid_attempts_usd"].sum(), window(on)["attempts_poland"].sum()
    assert 0.9 * 200.0 * attempts <= paid <= 200.0 * attempts
    assert on.loc[on["date"] < START, "paid_attempts_usd"].sum() == 0 and off["paid_attempts_usd"].sum() == 0


def test_the_transit_state_escorts_people_to_the_segments_it_chooses(tiny_world, run) -> None:
    """Protects transit_facilitation's escorts: its forces take people from the city and from
    the other green segments to the ones it names; while they do, the others empty and the
    escorted are counted."""
    esc = {"x": lever("transit_facilitation", "Belarus", when={"start": "2021-03-01", "end": "2021-03-31"},
                      escort_to=["lithuania"], escort_per_day=0.5, relocate_per_day=0.5)}
    off, on, _ = compare(tiny_world, run, esc)
    march = ("2021-03-10", "2021-03-31")
    assert window(on, *march)["escorted"].sum() > 50 and off["escorted"].sum() == 0
    assert window(on, *march)["waiting_poland"].mean() < 0.1 * window(off, *march)["waiting_poland"].mean()
    assert window(on, *march)["attempts_lithuania"].sum() > window(off, *march)["attempts_lithuania"].sum()
    assert on.loc[on["date"] < "2021-03-01", "escorted"].sum() == 0


def test_the_transit_state_keeps_people_at_the_border_from_going_home(tiny_world, run) -> None:
    """Protects transit_facilitation's hold_at_border: with every way back blocked nobody goes
    home from the border (people in the city still do); with half blocked fewer go."""
    went = {}
    for hold in (0.0, 0.5, 1.0):
        levers = {"x": lever("transit_facilitation", "Belarus", hold_at_border=hold)}
        _, d = run(tiny_world(levers))
        went[hold] = int(window(d)["flow_at_border__returning"].sum())
        if hold == 1.0:
            assert window(d)["flow_in_city__returning"].sum() > 0
    assert went[1.0] == 0 and went[0.0] > 20 and went[0.5] < went[0.0]


def test_the_transit_state_drives_people_to_the_line_where_it_sends_them(tiny_world, run) -> None:
    """Protects transit_facilitation's drive_mult and drive_at: at the segments named people try
    more often per person waiting there (the attempt chance x drive_mult), the more the larger
    the multiplier; at the other segment (an escort_to segment left out of drive_at) the chance
    is untouched."""
    per_person = {}
    for drive in (1.0, 2.0, 4.0):
        levers = {"x": lever("transit_facilitation", "Belarus", escort_to=["poland", "lithuania"], drive_at=["poland"],
                             drive_mult=drive)}
        _, d = run(tiny_world(levers))
        w = window(d)
        per_person[drive] = {seg: w[f"attempts_{seg}"].sum() / w[f"waiting_{seg}"].sum() for seg in ("poland", "lithuania")}
    assert per_person[1.0]["poland"] * 1.5 < per_person[2.0]["poland"] < per_person[4.0]["poland"]
    for drive in (2.0, 4.0):
        assert per_person[drive]["lithuania"] == pytest.approx(per_person[1.0]["lithuania"], rel=0.2)


def test_the_turned_back_rest_before_trying_again(tiny_world, run) -> None:
    """Protects border.retry_days: where people try often (half of them on any day) and are
    pushed back, a week's rest after each pushback means far fewer attempts a day per person at
    the border (about one in two days without a rest, one in eight with it)."""
    rate = {}
    pushbacks = {"pb": lever("pushback", "Poland", when={}, segments=["poland", "lithuania"], pushback=True)}
    for days in (1, 7):
        model, d = run(tiny_world(pushbacks, **{"border.retry_days": days, "border.attempt_prob_per_day": 0.5}))
        green = d["waiting_poland"] + d["waiting_lithuania"]
        rate[days] = d["attempts"].sum() / green.sum()
    assert rate[1] > 0.3 and rate[7] < 0.5 * rate[1]


def test_the_cold_keeps_people_from_trying_unless_sheltered(tiny_world, run) -> None:
    """Protects border.cold_attempt_drop: in the tiny world's cold January-February a full drop
    leaves almost no attempts, against many without it; a shelter lifts it."""
    cold = {"border.cold_attempt_drop": 1.0, "run.end": "2021-02-28"}
    _, warm = run(tiny_world(**{"run.end": "2021-02-28"}))
    _, frozen = run(tiny_world(**cold))
    shelter = {"x": lever("transit_facilitation", "Belarus", when={"start": "2021-01-01"}, shelter=True)}
    _, housed = run(tiny_world(shelter, **cold))
    assert warm["attempts"].sum() > 50
    assert frozen["attempts"].sum() < 0.2 * warm["attempts"].sum()
    assert housed["attempts"].sum() > 0.5 * warm["attempts"].sum()


@pytest.mark.parametrize("params, message", [
    ({"escort_per_day": 0.2}, r"levers\.x\.escort_to: empty, but escort_per_day or relocate_per_day is set"),
    ({"drive_mult": 2.0}, r"levers\.x\.drive_at: empty \(and so is escort_to\), but drive_mult is set"),
    ({"drive_mult": 2.0, "drive_at": ["nowhere"]}, r"levers\.x\.drive_at\[0\]"),
    ({"escort_to": ["nowhere"], "relocate_per_day": 0.2}, r"levers\.x\.escort_to\[0\]"),
    ({"hold_at_border": 1.5}, r"levers\.x\.hold_at_border: 1\.5 is out of range; allowed: a share in \[0, 1\]"),
])
def test_bad_escorts_are_refused(tiny_world, params, message) -> None:
    with pytest.raises(ConfigError, match=message):
        MigrationModel(tiny_world({"x": lever("transit_facilitation", "Belarus", **params)}))


@pytest.mark.parametrize("params, message", [
    ({"claim_mult": 2.0}, r"levers\.x\.claim_mult: 2\.0 is out of range; allowed: a share in \[0, 1\]"),
    ({"line_stop_mult": -1.0}, r"levers\.x\.line_stop_mult: -1\.0 is negative"),
    ({"attempt_cost_usd": -5.0}, r"levers\.x\.attempt_cost_usd: -5\.0 is negative"),
])
def test_bad_fences_are_refused(tiny_world, params, message) -> None:
    with pytest.raises(ConfigError, match=message):
        MigrationModel(tiny_world({"x": lever("fence", "Poland", segments=["poland"], **params)}))


def test_full_detention_centres_keep_fewer_of_those_caught(tiny_world, run) -> None:
    """Protects the detention lever and border.detention_stay_days: where a segment pushes back
    and keeps a share, few places keep fewer of those caught inside than many, and the places
    bound the people detained (a day's intake over them at most); a shorter stay frees places
    and keeps more; without a pushback policy the places limit nobody (all caught are kept)."""
    when = {"start": "2021-03-01"}
    pushback = lever("pushback", "Poland", when=when, segments=["poland"], pushback=True, kept_share=0.9)

    def kept(places: float | None, stay: float = 90.0, pushes_back: bool = True) -> tuple[float, pd.DataFrame]:
        levers = {"pb": pushback} if pushes_back else {}
        if places is not None:
            levers["centres"] = lever("detention", "Poland", when=when, segments=["poland"], places=places)
        _, d = run(tiny_world(levers, **{"border.detention_stay_days": stay}))
        w = window(d, "2021-03-01")
        return w["caught_poland"].sum() / w["caught_inside_poland"].sum(), d

    unlimited, d_unlimited = kept(None)
    many, _ = kept(10_000.0)
    few, d_few = kept(10.0)
    few_short_stay, _ = kept(10.0, stay=3.0)
    assert 0.85 < unlimited < 0.95 and many > 0.8 * unlimited
    assert few < 0.5 * unlimited and few < few_short_stay
    # once the places bind, the detained grow past them by no more than a day's intake (those
    # kept before the policy were all kept); unlimited, they pile up
    held, intake = d_few["detained_poland"].to_numpy(), d_few["caught_poland"].to_numpy()
    after = window(d_few, "2021-03-02").index
    assert (held[after] <= np.maximum(10.0, held[after - 1]) + intake[after] + 1e-9).all()
    assert d_unlimited["detained_poland"].max() > 30.0
    no_pushback, _ = kept(10.0, pushes_back=False)
    assert no_pushback == 1.0


def test_detention_places_add_up_and_ramp(tiny_world) -> None:
    """Protects the detention lever's places: from places_at_start on its first day to places
    once its ramp is done; two levers' places add up; segments a lever names share its places."""
    model = MigrationModel(tiny_world({
        "a": lever("detention", "Poland", when={"start": "2021-03-01", "ramp_days": 10}, segments=["poland", "lithuania"],
                   places_at_start=100.0, places=200.0),
        "b": lever("detention", "Poland", when={"start": "2021-03-01"}, segments=["poland"], places=50.0)}))
    w = model.world
    pl, lt = w.segment_ids.index("poland"), w.segment_ids.index("lithuania")
    a, b = sorted(model.levers, key=lambda lv: lv.name)
    first = w.neutral_policy()
    assert np.isinf(first.detention_places).all()
    a.apply(first, a.schedule.strength(w.day_of(dt.date(2021, 3, 1))), 0)
    b.apply(first, 1.0, 0)
    assert first.detention_places[pl] == pytest.approx(110.0 + 50.0) and first.detention_places[lt] == pytest.approx(110.0)
    assert first.detention_pool[pl] == first.detention_pool[lt] == min(pl, lt)


@pytest.mark.parametrize("params, message", [
    ({"places": 0.0}, r"levers\.x\.places: 0\.0 is not positive; allowed: places \(people\) > 0"),
    ({"places": 10.0, "places_at_start": -1.0}, r"levers\.x\.places_at_start: -1\.0 is not positive"),
    ({"places": 10.0, "segments": []}, r"levers\.x\.segments: empty"),
    ({"places": 10.0, "segments": ["nowhere"]}, r"levers\.x\.segments"),
])
def test_bad_detention_centres_are_refused(tiny_world, params, message) -> None:
    with pytest.raises(ConfigError, match=message):
        MigrationModel(tiny_world({"x": lever("detention", "Poland", **{"segments": ["poland"], **params})}))


def test_an_announced_pushback_policy_brings_attempts_forward(tiny_world, run) -> None:
    """Protects border_policy's announced (the one rule of announced levers, Lever.announce): on
    the days between the announcement and the start, nobody is pushed back yet, those at the
    segment try border.announced_attempt_mult times as often, and the other segment is untouched."""
    spec = lever("pushback", "Poland", when={"start": "2021-03-15"}, announced="2021-03-12", segments=["poland"],
                 pushback=True)
    notice = ("2021-03-12", "2021-03-14")
    out = {}
    for mult in (1.0, 10.0):
        _, d = run(tiny_world({"x": spec}, **{"border.announced_attempt_mult": mult}))
        out[mult] = window(d, *notice)
        assert (out[mult]["caught_poland"] == out[mult]["caught_inside_poland"]).all()  # not yet in force
    assert out[10.0]["attempts_poland"].sum() > 3 * out[1.0]["attempts_poland"].sum()
    assert out[10.0]["attempts_lithuania"].sum() == out[1.0]["attempts_lithuania"].sum()


def test_only_a_pushback_policy_is_announced(tiny_world) -> None:
    spec = lever("reinforcement", "Poland", when={"start": "2021-03-15"}, announced="2021-03-12", segments=["poland"],
                 guard_mult=2.0)
    with pytest.raises(ConfigError, match=r"levers\.x\.announced: only a pushback policy is announced"):
        MigrationModel(tiny_world({"x": spec}))
    late = lever("pushback", "Poland", when={"start": "2021-03-15"}, announced="2021-03-20", segments=["poland"],
                 pushback=True)
    with pytest.raises(ConfigError, match=r"levers\.x\.announced: 2021-03-20 is after the lever starts \(2021-03-15\)"):
        MigrationModel(tiny_world({"x": late}))


def test_a_disabled_announced_lever_outside_the_run_is_no_error(tiny_world, run) -> None:
    """Protects: a scenario that switches off an announced lever (no_levers) and a run window that
    ends before it (a sweep over spring) build and run; only an enabled lever gives notice."""
    spec = lever("pushback", "Poland", when={"start": "2021-08-03"}, announced="2021-08-02", segments=["poland"],
                 pushback=True)
    spec["enabled"] = False
    model = MigrationModel(tiny_world({"x": spec}))
    assert model.levers == [] or all(not lv.notice for lv in model.levers)


def test_the_no_levers_scenario_switches_off_every_lever_of_its_baseline() -> None:
    """Protects configs/scenario/no_levers.yaml: a lever added to the baseline is switched off
    there too (else 'no lever pulled' pulls it, and a short run refuses its dates)."""
    from sim.running.compose import compose

    cfg = compose(["scenario=no_levers"])
    on = sorted(name for name, spec in cfg.levers.items() if spec.enabled)
    assert not on, f"configs/scenario/no_levers.yaml: switch these off ({{enabled: false}}): {on}"
