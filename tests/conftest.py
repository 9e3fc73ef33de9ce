"""Fixtures that build small worlds and run them.

Two kinds of small world:

- ``tiny_config(**overrides)``: the default composed config (``configs/``, the 2021 world and the
  baseline scenario) with a small population. The baseline's lever dates span 2021, so the run
  window stays the default one.
- ``tiny_world(levers=..., **overrides)``: a hand-written world (2 origins, 1 hub, 3 routes,
  2 visa channels, 2 segments) over five months, with an intention rate high enough that every
  stage of the corridor is busy within days. Lever tests use it.

Overrides are dotted keys with ``__`` for dots (``population__size=3000``), as in
:class:`sim.model.model.MigrationModel`. Every fixture returns a fresh plain dict; nothing is global.
"""

from __future__ import annotations

import copy
import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import sim.running.compose
from sim.model.config import PopulationConfig, set_dotted
from sim.model.model import MigrationModel
from sim.running.compose import CONFIG_DIR, compose_dict

TINY_RUN = {"start": "2021-01-01", "end": "2021-05-31", "seed": 12345}

TINY_WORLD: dict[str, Any] = {
    "name": "tiny",
    "nationalities": ["iraqi", "syrian"],
    "states": ["Iraq", "Syria", "Turkey", "Belarus", "Poland", "Lithuania", "EU"],
    "airports": {"BGW": "Iraq", "DAM": "Syria", "IST": "Turkey", "MSQ": "Belarus"},
    "hubs": ["IST"],
    "transit": {"state": "Belarus", "entry_points": [{"id": "minsk", "airport": "MSQ"}]},
    "airlines": {
        "IA": {"name": "Iraqi Airways", "state": "Iraq"},
        "6Q": {"name": "Cham Wings", "state": "Syria"},
        "B2": {"name": "Belavia", "state": "Belarus"},
    },
    "origins": [
        {"name": "Baghdad", "nationality": "iraqi", "share": 0.6, "push": 1.0,
         "savings_median_usd": 9000, "airports": ["BGW"], "agencies": 3},
        {"name": "Damascus", "nationality": "syrian", "share": 0.4, "push": 1.0,
         "savings_median_usd": 9000, "airports": ["DAM"], "agencies": 2},
    ],
    "routes": [
        {"id": "IA_BGW_MSQ", "airline": "IA", "origin": "BGW", "weekdays": [0, 2, 4],
         "seats": 40, "corridor_share": 1.0, "fare_usd": 500},
        {"id": "6Q_DAM_MSQ", "airline": "6Q", "origin": "DAM", "weekdays": [1, 5],
         "seats": 30, "corridor_share": 1.0, "fare_usd": 400},
        {"id": "B2_IST_MSQ", "airline": "B2", "origin": "IST", "weekdays": [0, 1, 2, 3, 4, 5, 6],
         "seats": 30, "corridor_share": 1.0, "fare_usd": 300},
    ],
    "visa_channels": [
        {"id": "consulate_baghdad", "kind": "consulate", "place": "Baghdad", "host_state": "Iraq",
         "nationalities": ["iraqi"], "capacity_per_day": 8, "processing_days": 5, "cost_usd": 1000},
        {"id": "invitation", "kind": "invitation", "place": "Minsk", "host_state": "Belarus",
         "nationalities": ["iraqi", "syrian"], "capacity_per_day": 6, "capacity_growth_per_day": 0.02,
         "capacity_max_mult": 2, "processing_days": 7, "cost_usd": 1500},
    ],
    "segments": [
        {"id": "poland", "state": "Poland", "guard_capacity_per_day": 6, "detect_max": 0.7,
         "interior_catch_prob": 0.5, "adapt_per_day": 0.01, "capacity_max_mult": 2},
        {"id": "lithuania", "state": "Lithuania", "guard_capacity_per_day": 4, "detect_max": 0.6,
         "interior_catch_prob": 0.6, "adapt_per_day": 0.01, "capacity_max_mult": 2},
        {"id": "gate", "state": "Lithuania", "kind": "crossing", "hours_per_day": 12, "throughput_per_hour": 0.5},
    ],
    "legs": [{"id": "road", "entry": "minsk", "to": ["poland", "lithuania"], "mode": "road", "days": 1},
             {"id": "cycle", "entry": "minsk", "to": ["gate"], "mode": "bicycle", "days": 1, "price_usd": 50}],
    "agency_capacity_per_day": 2,
    "agency_base_price_usd": 3000,
    "cold": [1.0, 0.9, 0.6, 0.2, 0.0, 0.0, 0.0, 0.0, 0.1, 0.35, 0.7, 0.95],
}


def _apply(data: dict, overrides: dict[str, Any]) -> dict:
    for key, value in overrides.items():
        set_dotted(data, key, copy.deepcopy(value))
    return data


@pytest.fixture(scope="session")
def default_dict() -> dict:
    """The default composed config as a plain dict (composed once: Hydra takes ~1 s)."""
    return compose_dict()


@pytest.fixture
def tiny_config(default_dict: dict) -> Callable[..., dict]:
    """``tiny_config(**overrides)``: the default config with 5000 people, as a fresh dict."""

    def make(**overrides: Any) -> dict:
        data = copy.deepcopy(default_dict)
        data["population"]["size"] = 5000
        data["output"] = {"figures": False, "csv": False, "progress": False}
        return _apply(data, overrides)

    return make


# the schema may have population.pool (size/pool = rows per real person); the tiny world is unsampled
_HAS_POOL = "pool" in {f.name for f in dataclasses.fields(PopulationConfig)}


def make_tiny_world(levers: dict[str, Any] | None = None, **overrides: Any) -> dict:
    """The hand-written tiny world (see the module docstring) with ``levers`` and overrides."""
    data = {
        "run": dict(TINY_RUN),
        "population": {"size": 4000},
        # busy from the first days: people intend, buy and travel fast
        "intention": {"base_rate_per_day": 5.0e-3},
        # the tiny world's own behaviour (sim.model.config.WORLD_BEHAVIOUR), the schema's defaults
        "border": {"attempt_prob_per_day": 0.0556, "death_prob_per_attempt": 2.0e-4, "retry_days": 1,
                   "cold_attempt_drop": 0.0, "announced_attempt_mult": 1.0,
                   "detention_stay_days": 90.0},
        "purchase": {"smuggler_fee_usd": 6500.0, "hotel_usd_per_day": 25.0},
        "travel": {"city_to_border_per_day": 0.12},
        "output": {"figures": False, "csv": False, "progress": False},
        "world": copy.deepcopy(TINY_WORLD),
        "levers": copy.deepcopy(levers or {}),
        "scenario": "tiny",
    }
    _apply(data, overrides)
    if _HAS_POOL:  # one row per person: capacities are not scaled by a sampling fraction
        data["population"].setdefault("pool", data["population"]["size"])
    return data


@pytest.fixture(scope="session")
def tiny_world() -> Callable[..., dict]:
    """``tiny_world(levers=None, **overrides)``: the hand-written tiny world as a fresh dict."""
    return make_tiny_world


def run_model(config: dict, days: int | None = None, **kwargs: Any) -> tuple[MigrationModel, pd.DataFrame]:
    """Build a model from ``config`` and step it ``days`` days (default: the whole window)."""
    model = MigrationModel(copy.deepcopy(config), **kwargs)
    if days is None:
        model.run()
    else:
        for _ in range(days):
            model.step()
    return model, model.recorder.frame()


@pytest.fixture(scope="session")
def run() -> Callable[..., tuple[MigrationModel, pd.DataFrame]]:
    """``run(config, days=None, **kwargs) -> (model, daily table)``."""
    return run_model


# ---- runs shared by the invariant tests (read-only; built once per session) ---------------

# levers that exercise every kind in the tiny world, at dates inside its window
TINY_LEVERS: dict[str, Any] = {
    "ia_suspended": {"kind": "flight_suspension", "actor": "Iraq",
                     "when": {"start": "2021-03-01", "end": "2021-03-20"}, "routes": ["IA_BGW_MSQ"]},
    "ist_ban": {"kind": "boarding_ban", "actor": "Turkey", "when": {"start": "2021-03-15", "end": "2021-03-25"},
                "from_airports": ["IST"], "nationalities": ["syrian"]},
    "consulate": {"kind": "consulate_closure", "actor": "Iraq",
                  "when": {"start": "2021-04-01", "end": "2021-04-10"}, "channels": ["consulate_baghdad"]},
    "visa_stop": {"kind": "visa_restriction", "actor": "Belarus",
                  "when": {"start": "2021-04-05", "end": "2021-04-15"}, "channels": ["invitation"],
                  "nationalities": ["syrian"]},
    "repat": {"kind": "repatriation_flights", "actor": "Iraq",
              "when": {"dates": ["2021-03-10", "2021-04-10", "2021-05-10"]}, "seats": [30, 40, 50],
              "nationalities": ["iraqi", "syrian"]},
    "pl_pushback": {"kind": "pushback", "actor": "Poland", "when": {"start": "2021-03-01"},
                    "segments": ["poland"], "pushback": True},
    "lt_reinforce": {"kind": "reinforcement", "actor": "Lithuania", "when": {"start": "2021-02-15", "ramp_days": 20},
                     "segments": ["lithuania"], "guard_mult": 3.0, "interior_catch_mult": 1.2},
    "crackdown": {"kind": "smuggler_crackdown", "actor": "Iraq", "when": {"start": "2021-04-20"},
                  "origins": ["Baghdad"], "capacity_mult": 0.5},
    "info": {"kind": "information_campaign", "actor": "Belarus",
             "when": {"start": "2021-02-01", "end": "2021-03-01"}, "origins": ["Damascus"], "intensity": 0.8},
    "transport": {"kind": "transit_facilitation", "actor": "Belarus", "when": {"start": "2021-02-01"},
                  "transport_mult": 2.0, "segment_weights": {"poland": 2.0}, "attempt_mult": 1.2},
    "shelter": {"kind": "transit_facilitation", "actor": "Belarus", "when": {"start": "2021-05-01"},
                "shelter": True},
    "eu_visa": {"kind": "visa_leverage", "actor": "EU", "when": {"start": "2021-04-01"},
                "nationality": "iraqi", "cooperation_drop": 0.5},
    "escort": {"kind": "transit_facilitation", "actor": "Belarus", "when": {"start": "2021-03-20", "end": "2021-04-10"},
               "escort_to": ["lithuania"], "escort_per_day": 0.2, "relocate_per_day": 0.1, "hold_at_border": 0.5,
               "drive_mult": 1.5},
    "pl_fence": {"kind": "fence", "actor": "Poland", "when": {"start": "2021-03-05", "ramp_days": 10},
                 "segments": ["poland"], "line_stop_mult": 1.3, "attempt_cost_usd": 150.0, "kept_share": 0.3,
                 "claim_mult": 0.5},
    "pl_detention": {"kind": "detention", "actor": "Poland", "when": {"start": "2021-03-01", "ramp_days": 30},
                     "segments": ["poland"], "places_at_start": 20, "places": 60},
}


@pytest.fixture
def tiny_levers() -> dict[str, Any]:
    """A fresh copy of TINY_LEVERS: one or more levers of every kind, active inside the tiny
    world's window."""
    return copy.deepcopy(TINY_LEVERS)


@pytest.fixture(scope="session")
def shared_runs(default_dict: dict) -> dict[str, tuple[MigrationModel, pd.DataFrame]]:
    """Two finished runs for invariant checks: the default scenario (10,000 people, intention
    rate raised so that the corridor's capacities bind) and the tiny world with every lever kind.
    """
    default = copy.deepcopy(default_dict)
    default["population"]["size"] = 10_000
    default["intention"]["base_rate_per_day"] = 4.0e-4
    default["output"] = {"figures": False, "csv": False, "progress": False}
    return {
        "default": run_model(default),
        "tiny_levers": run_model(make_tiny_world(TINY_LEVERS)),
    }


@pytest.fixture(params=["default", "tiny_levers"])
def finished(request: pytest.FixtureRequest, shared_runs: dict) -> tuple[MigrationModel, pd.DataFrame]:
    """Each shared run in turn: ``(model, daily table)``."""
    return shared_runs[request.param]


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of configs/ in a temp folder that sim.running.compose reads (the composition helpers of tests) for this test only."""
    d = tmp_path / "configs"
    shutil.copytree(CONFIG_DIR, d)
    monkeypatch.setattr(sim.running.compose, "CONFIG_DIR", d)
    return d
