"""The default scenario at its full population: the invariants hold at scale (slow)."""

from __future__ import annotations

import pytest

from sim.model.population import STATE_NAMES, State
from sim.model.recorder import TRANSITIONS, flow_name


@pytest.mark.slow
def test_default_scenario_full_scale_invariants(default_dict: dict, run) -> None:
    """Protects: with the shipped config as it is (default population and window), people are
    conserved, stocks change by the flows, the border identity holds and no capacity is exceeded."""
    model, d = run(default_dict)
    stocks = [f"n_{s}" for s in STATE_NAMES]
    assert (d[stocks].sum(axis=1) == model.cfg.population.size).all()
    prev = d[stocks].shift(1)
    prev.iloc[0] = [model.cfg.population.size if s == "n_at_home" else 0 for s in stocks]
    for s in State:
        inflow = sum(d[flow_name(a, b)] for a, b in TRANSITIONS if b == s)
        outflow = sum(d[flow_name(a, b)] for a, b in TRANSITIONS if a == s)
        assert ((d[f"n_{STATE_NAMES[s]}"] - prev[f"n_{STATE_NAMES[s]}"]) == inflow - outflow).all(), s.name
    for seg in model.world.segment_ids:
        assert (d[f"attempts_{seg}"] == d[f"turned_back_{seg}"] + d[f"caught_{seg}"]
                + d[f"got_through_{seg}"] + d[f"deaths_{seg}"]).all(), seg
    for r in model.world.route_ids:
        assert (d[f"arrivals_{r}"] <= d[f"seats_{r}"]).all(), r
    for c in model.world.channel_ids:
        assert (d[f"visa_applications_{c}"] <= d[f"visa_capacity_{c}"]).all(), c
    assert (d["repatriated"] <= d["repatriation_seats"]).all()
