"""Accounting that must hold in every run, every day: conservation of people, stocks that change
by exactly the recorded flows, the border's outcome identity, and capacities never exceeded.

Each test runs over two finished runs (``finished`` in conftest): the default 2021 scenario with
a small population and the tiny world with every lever kind switched on at some point.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.model.population import STATE_NAMES, State
from sim.model.recorder import TRANSITIONS, flow_name, summarize


def _stock_cols() -> list[str]:
    return [f"n_{s}" for s in STATE_NAMES]


def _segments(model) -> list[str]:
    return list(model.world.segment_ids)


def test_the_runs_are_busy(finished) -> None:
    """Protects the other tests in this file from passing vacuously: people move through every
    stage up to the border, and the border sees attempts of every outcome."""
    model, d = finished
    assert d["packages_sold"].sum() > 100
    assert d["arrivals"].sum() > 100
    for k in ("turned_back", "caught", "got_through"):
        assert d[k].sum() > 10, k


# ---- B. conservation ------------------------------------------------------------------------------


def test_every_person_is_in_exactly_one_state_every_day(finished) -> None:
    """Protects: nobody is created or lost; the stocks sum to population.size on every row."""
    model, d = finished
    assert len(d) == model.cfg.n_days
    total = d[_stock_cols()].sum(axis=1)
    assert (total == model.cfg.population.size).all()
    assert (d[_stock_cols()] >= 0).all().all()


def test_stocks_change_by_exactly_the_flows(finished) -> None:
    """Protects: every move is counted. n_s(t) - n_s(t-1) == inflows(t) - outflows(t) for every
    state and day, with day 0 compared against everyone at home."""
    model, d = finished
    n = model.cfg.population.size
    initial = pd.DataFrame([{c: (n if c == "n_at_home" else 0) for c in _stock_cols()}])
    prev = pd.concat([initial, d[_stock_cols()].iloc[:-1]], ignore_index=True)
    change = d[_stock_cols()].reset_index(drop=True) - prev
    for s in State:
        inflow = sum((d[flow_name(a, b)] for a, b in TRANSITIONS if b == s), pd.Series(0, index=d.index))
        outflow = sum((d[flow_name(a, b)] for a, b in TRANSITIONS if a == s), pd.Series(0, index=d.index))
        expected = (inflow - outflow).reset_index(drop=True)
        bad = np.flatnonzero(change[f"n_{STATE_NAMES[s]}"].to_numpy() != expected.to_numpy())
        assert bad.size == 0, f"{STATE_NAMES[s]}: stock change != flows on days {bad[:10].tolist()}"


def test_final_stocks_match_the_people(finished) -> None:
    """Protects: the recorded last row is the population's actual state (the table is not a
    separate, drifting tally)."""
    model, d = finished
    counts = np.bincount(model.people.state, minlength=len(State))
    assert d[_stock_cols()].iloc[-1].to_numpy().tolist() == counts.tolist()


def test_absorbing_states_only_grow(finished) -> None:
    """Protects: nobody leaves the EU or comes back from the dead."""
    _, d = finished
    assert (d["n_in_destination"].diff().fillna(0) >= 0).all()
    assert (d["n_died"].diff().fillna(0) >= 0).all()


# ---- D. border accounting -----------------------------------------------------------------------


def test_border_outcomes_partition_the_attempts(finished) -> None:
    """Protects the border identity of resolve_crossings, per segment and day:
    attempts = turned_back + caught + got_through + deaths, where
    turned_back = stopped at the line + (caught_inside - caught) [pushed back from inside],
    caught <= caught_inside, caught_inside == caught where there are no pushbacks,
    caught == 0 where there are and no lever keeps a share, and nobody is stopped a negative
    number of times."""
    model, d = finished
    keeps = {i for lv in model.levers if getattr(lv.params, "kept_share", 0) > 0 for i in lv.idx}
    for s in _segments(model):
        att, tb, ci, c, gt, de = (d[f"{k}_{s}"] for k in
                                  ("attempts", "turned_back", "caught_inside", "caught", "got_through", "deaths"))
        pb = d[f"pushback_{s}"].astype(bool)
        assert (att == tb + c + gt + de).all(), s
        assert (c <= ci).all(), s
        assert (ci[~pb] == c[~pb]).all(), s
        if model.world.segment_ids.index(s) not in keeps:
            assert (c[pb] == 0).all(), s
        stopped_at_line = tb - (ci - c)
        assert (stopped_at_line >= 0).all(), s
        assert (stopped_at_line <= att).all(), s


def test_border_totals_match_the_flows(finished) -> None:
    """Protects: the border counters and the state flows agree: into the destination = caught +
    through + registered at a crossing point, died = deaths; the all-segment totals are the sums
    of the segment columns."""
    model, d = finished
    segs = _segments(model)
    for k in ("attempts", "turned_back", "caught_inside", "caught", "got_through", "deaths", "applied"):
        assert (d[k] == sum(d[f"{k}_{s}"] for s in segs)).all(), k
    assert (d[flow_name(State.AT_BORDER, State.IN_DESTINATION)] == d["caught"] + d["got_through"] + d["applied"]).all()
    assert (d[flow_name(State.AT_BORDER, State.DIED)] == d["deaths"]).all()


def test_attempts_come_from_people_at_the_border(finished) -> None:
    """Protects: no more attempts in a day than people at the border that morning."""
    model, d = finished
    at_border_morning = d["n_at_border"].shift(1, fill_value=0) + d[flow_name(State.IN_CITY, State.AT_BORDER)]
    assert (d["attempts"] <= at_border_morning).all()


def test_people_counters_agree(finished) -> None:
    """Protects: each person's own counters agree with the daily table (attempts, turned back or
    refused at a gate, and those in the destination or dead have tried a green border or were
    registered at a crossing point)."""
    model, d = finished
    p = model.people
    assert int(p.attempts.sum()) == int(d["attempts"].sum())
    refused = sum(d[f"refused_{s}"] for s in _segments(model))
    assert int(p.pushbacks.sum()) == int(d["turned_back"].sum() + refused.sum())
    reached = np.isin(p.state, [State.IN_DESTINATION, State.DIED])
    crossing = model.world.seg_crossing[p.segment[reached]]
    assert ((p.attempts[reached] >= 1) | crossing).all()
    assert int(np.count_nonzero(crossing & (p.state[reached] == State.IN_DESTINATION))) == int(d["applied"].sum())


# ---- C. capacities ---------------------------------------------------------------------------------


def test_arrivals_never_exceed_the_seats(finished) -> None:
    """Protects: per route per day, people arriving in Minsk <= corridor seats offered that day."""
    model, d = finished
    for r in model.world.route_ids:
        assert (d[f"arrivals_{r}"] <= d[f"seats_{r}"]).all(), r
    assert (d["arrivals"] == sum(d[f"arrivals_{r}"] for r in model.world.route_ids)).all()


def test_arrivals_match_the_flows(finished) -> None:
    """Protects: every arrival counted on a route is a person moved into Minsk and vice versa."""
    _, d = finished
    into_minsk = d[flow_name(State.TICKETED, State.IN_CITY)] + d[flow_name(State.IN_TRANSIT, State.IN_CITY)]
    assert (d["arrivals"] == into_minsk).all()


def test_visa_applications_never_exceed_channel_capacity(finished) -> None:
    """Protects: per channel per day, accepted applications <= that day's capacity."""
    model, d = finished
    for c in model.world.channel_ids:
        assert (d[f"visa_applications_{c}"] <= d[f"visa_capacity_{c}"]).all(), c
    applied = sum(d[f"visa_applications_{c}"] for c in model.world.channel_ids)
    assert (applied == d[flow_name(State.WAITING_PACKAGE, State.WAITING_VISA)]).all()


def test_repatriated_never_exceed_the_seats(finished) -> None:
    """Protects: people on free repatriation flights per day <= the seats flown that day."""
    _, d = finished
    assert (d["repatriated"] <= d["repatriation_seats"]).all()


def test_repatriation_actually_happens_in_the_runs(finished) -> None:
    """Protects the previous test from passing vacuously: both runs have repatriation flights
    that carry people."""
    _, d = finished
    assert d["repatriation_seats"].sum() > 0
    assert d["repatriated"].sum() > 0


def test_packages_sold_never_exceed_agency_capacity(tiny_world, run) -> None:
    """Protects: agencies never sell more than their capacity (after any crackdown), checked
    agent by agent while stepping. Capacity is a token bucket (unused capacity carries over, at
    most a week's): so (1) from the start of the run to any day, an agency's sales never exceed
    the sum of its daily capacities; (2) no day's sales exceed a week's capacity plus one; and
    (3) the agencies' sales add up to the daily table. Uses a tiny world where demand far
    exceeds the agencies' capacity, with a crackdown."""
    cfg = tiny_world({"crackdown": {"kind": "smuggler_crackdown", "actor": "Iraq", "when": {"start": "2021-02-01"},
                                    "origins": ["Baghdad"], "capacity_mult": 0.3}},
                     intention__base_rate_per_day=2e-2, run__end="2021-03-31", population__size=3000)
    from sim.model.model import MigrationModel

    model = MigrationModel(cfg)
    scale = getattr(model, "scale", 1.0)  # simulated rows per real person (agents count real people)
    n = len(model.agencies)
    cum_cap, cum_sold = np.zeros(n), np.zeros(n)
    saturated = 0
    while model.running:
        before = np.array([a.capacity for a in model.agencies])
        model.step()
        mult = model.world.policy.agency_cap_mult
        cap_rows = before * mult[model.agency_book.origin] * scale  # today's capacity, in rows
        sold_rows = np.array([round(a.sold_today * scale) for a in model.agencies])
        cum_cap += cap_rows
        cum_sold += sold_rows
        assert (cum_sold <= cum_cap + 1e-6).all(), (model.day, cum_sold, cum_cap)
        assert (sold_rows <= np.floor(7 * cap_rows + 1 + 1e-9)).all(), (model.day, sold_rows, cap_rows)
        for a in model.agencies:
            assert a.sold_today <= a.demand_today
            saturated += a.demand_today > a.sold_today
        assert sold_rows.sum() == model.recorder.rows[-1]["packages_sold"]
    assert saturated > 50  # capacity really bound


def test_closed_agencies_sell_nothing(tiny_world) -> None:
    """Protects: a crackdown that closes the agencies (capacity_mult 0) stops all sales there."""
    from sim.model.model import MigrationModel

    cfg = tiny_world({"closed": {"kind": "smuggler_crackdown", "actor": "Iraq", "when": {"start": "2021-01-10"},
                                 "origins": ["Baghdad"], "capacity_mult": 0.0}}, run__end="2021-02-28")
    model = MigrationModel(cfg)
    while model.running:
        model.step()
        if model.day > 9:
            assert all(a.sold_today == 0 for a in model.agencies if a.origin == 0)
    assert sum(a.revenue_usd for a in model.agencies if a.origin == 1) > 0


def test_repeated_attempts_are_counted_per_person(finished) -> None:
    """Protects the repeated-attempt outputs: the people at the border by the attempts they have
    made add up to those at the border; everyone who has tried only grows, and at the end is
    everyone whose own count of attempts is above 0, so attempts per person who tried is the
    daily attempts' sum over it."""
    model, d = finished
    tries = d[["at_border_tries_0", "at_border_tries_1", "at_border_tries_2", "at_border_tries_3plus"]]
    assert (tries.sum(axis=1) == d["n_at_border"]).all()
    assert (d["people_attempted"].diff().fillna(0) >= 0).all()
    assert d["people_attempted"].iloc[-1] == int(np.count_nonzero(model.people.attempts))
    assert d["attempts"].sum() == int(model.people.attempts.sum())
    # everyone who tried, by the attempts made: the bins add up to them, and match each person's count
    tried = d[["people_tried_1", "people_tried_2", "people_tried_3to5", "people_tried_6to10", "people_tried_11plus"]]
    assert (tried.sum(axis=1) == d["people_attempted"]).all()
    a = model.people.attempts
    last = tried.iloc[-1].tolist()
    assert last == [int(np.count_nonzero(a == 1)), int(np.count_nonzero(a == 2)),
                    int(np.count_nonzero((a >= 3) & (a <= 5))), int(np.count_nonzero((a >= 6) & (a <= 10))),
                    int(np.count_nonzero(a >= 11))]
    s = summarize(d, list(model.world.segment_ids))
    assert s["mean_attempts_per_person"] == pytest.approx(d["attempts"].sum() / d["people_attempted"].iloc[-1])
