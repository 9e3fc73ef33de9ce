"""Mesa conventions: the model runs under mesa.batch_run and a DataCollector, its institutions are
Mesa agents, and its randomness comes only from the model's own seeded streams."""

from __future__ import annotations

import multiprocessing
import re
from pathlib import Path

import mesa
import pandas as pd
import pytest

from sim.model.institutions import Airline, BorderGuard, StateActor, TravelAgency
from sim.model.model import MigrationModel

SIM_DIR = Path(__file__).resolve().parent.parent / "sim"

REPORTERS = {
    "in_transit_country": lambda m: m.recorder.rows[-1]["in_transit_country"],
    "in_destination": lambda m: int(m.people.stocks()[8]),
    "arrivals": lambda m: m.recorder.rows[-1]["arrivals"],
}


class CollectingModel(MigrationModel):
    """MigrationModel with a mesa.DataCollector, as a user would add one."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.datacollector = mesa.DataCollector(model_reporters=REPORTERS)

    def step(self) -> None:
        super().step()
        if self.recorder.rows:
            self.datacollector.collect(self)


def _batch(model_cls, default_dict: dict, seeds: list[int]) -> pd.DataFrame:
    # batch_run forces the "spawn" start method process-wide; put back what was there
    method = multiprocessing.get_start_method(allow_none=True)
    try:
        results = _batch_run(model_cls, default_dict, seeds)
    finally:
        multiprocessing.set_start_method(method, force=True)
    return pd.DataFrame(results)


def _batch_run(model_cls, default_dict: dict, seeds: list[int]) -> list[dict]:
    return mesa.batch_run(
        model_cls,
        parameters={"config": [default_dict], "population__size": 2000},
        number_processes=1,
        rng=seeds,
        max_steps=10_000,
        data_collection_period=-1,
        display_progress=False,
    )


def test_batch_run_plain_model(default_dict: dict) -> None:
    """Protects: MigrationModel itself runs under mesa.batch_run with keyword overrides and rng
    seeds (Mesa's batch runner needs a `datacollector` on the model)."""
    df = _batch(MigrationModel, default_dict, [1, 2])
    assert len(df) == 2


def test_batch_run_seeds_and_overrides(default_dict: dict) -> None:
    """Protects: under mesa.batch_run the constructor takes config=..., rng=... and dotted
    keyword overrides (population__size), runs the whole window, and each rng seed gives its own
    reproducible run."""
    df = _batch(CollectingModel, default_dict, [1, 2, 1])
    assert len(df) == 3
    assert (df["population__size"] == 2000).all()
    n_days = (pd.Timestamp(default_dict["run"]["end"]) - pd.Timestamp(default_dict["run"]["start"])).days + 1
    assert (df["Step"] == n_days).all()
    by_seed = df.set_index("RunId")[list(REPORTERS)]
    assert by_seed.loc[0].equals(by_seed.loc[2])  # seed 1 twice
    assert not by_seed.loc[0].equals(by_seed.loc[1])


def test_keyword_overrides_reach_the_config(tiny_world) -> None:
    """Protects: `a__b=value` keyword overrides set config keys (how batch_run passes parameters),
    and a misspelt one is still refused."""
    m = MigrationModel(tiny_world(), population__size=1234, border__attempt_prob_per_day=0.5, rng=9)
    assert m.cfg.population.size == 1234 and m.people.n == 1234
    assert m.cfg.border.attempt_prob_per_day == 0.5
    assert m.cfg.run.seed == 9
    from sim.model.config import ConfigError

    with pytest.raises(ConfigError, match=r"population\.sise: unknown key"):
        MigrationModel(tiny_world(), population__sise=10)


def test_datacollector_with_model_reporters(tiny_world) -> None:
    """Protects: a mesa.DataCollector with model reporters works on the model, and what it
    collects matches the model's own daily table."""
    m = MigrationModel(tiny_world(run__end="2021-03-31"))
    dc = mesa.DataCollector(model_reporters=REPORTERS)
    while m.running:
        m.step()
        dc.collect(m)
    got = dc.get_model_vars_dataframe().reset_index(drop=True)
    daily = m.recorder.frame()
    assert len(got) == len(daily) == m.cfg.n_days
    assert got["in_transit_country"].tolist() == daily["in_transit_country"].tolist()
    assert got["in_destination"].tolist() == daily["n_in_destination"].tolist()
    assert got["arrivals"].sum() > 0


def test_institutions_are_mesa_agents(tiny_world) -> None:
    """Protects: states, airlines, agencies and border guards are registered Mesa agents of the
    model (so Mesa's AgentSet tools and agent reporters work), one per world entry."""
    cfg = tiny_world()
    m = MigrationModel(cfg)
    w = cfg["world"]
    assert len(m.agents_by_type[StateActor]) == len(w["states"])
    assert len(m.agents_by_type[Airline]) == len(w["airlines"])
    assert len(m.agents_by_type[TravelAgency]) == sum(o["agencies"] for o in w["origins"])
    assert len(m.agents_by_type[BorderGuard]) == len(w["segments"])
    m.step()
    assert m.steps == 1 and m.day == 1


def test_model_stops_at_the_end_of_its_window(tiny_world) -> None:
    """Protects: `running` turns false after the last day and further steps add no rows (batch
    runners loop on `running`)."""
    m = MigrationModel(tiny_world(run__end="2021-01-10"))
    m.run()
    assert not m.running and len(m.recorder.rows) == 10
    m.step()
    assert len(m.recorder.rows) == 10


# ---- randomness only from model streams ---------------------------------------------------------

# numpy's module-level draw functions (legacy global state); constructors are fine
_ALLOWED_NP_RANDOM = {"Generator", "SeedSequence", "PCG64", "default_rng", "BitGenerator"}


def _sim_sources() -> list[Path]:
    return sorted(SIM_DIR.rglob("*.py"))


def test_no_global_numpy_random_in_sim() -> None:
    """Protects: no module-level numpy random function (np.random.rand, .seed, .choice, ...) is
    called anywhere in sim/: global random state breaks reproducibility and parallel runs."""
    bad = []
    for f in _sim_sources():
        for i, line in enumerate(f.read_text().splitlines(), 1):
            for name in re.findall(r"\b(?:np|numpy)\.random\.(\w+)\s*\(", line):
                if name not in _ALLOWED_NP_RANDOM:
                    bad.append(f"{f.relative_to(SIM_DIR.parent)}:{i}: np.random.{name}(")
            if re.search(r"\bfrom\s+numpy\.random\s+import\b", line):
                bad.append(f"{f.relative_to(SIM_DIR.parent)}:{i}: {line.strip()}")
    assert not bad, "\n".join(bad)


def test_no_stdlib_random_in_sim() -> None:
    """Protects: the stdlib random module is never imported in sim/, and Mesa's own
    `model.random` is never drawn from (every draw comes from sim.model.rng streams)."""
    bad = []
    for f in _sim_sources():
        for i, line in enumerate(f.read_text().splitlines(), 1):
            if re.match(r"\s*(import\s+random\b|from\s+random\s+import\b)", line):
                bad.append(f"{f.relative_to(SIM_DIR.parent)}:{i}: {line.strip()}")
            if re.search(r"\b(?:self|model|self\.model)\.random\.", line):
                bad.append(f"{f.relative_to(SIM_DIR.parent)}:{i}: {line.strip()}")
    assert not bad, "\n".join(bad)


def test_the_scan_finds_what_it_looks_for(tmp_path: Path) -> None:
    """Protects the two scans above from passing vacuously (a broken regex finds nothing)."""
    line_np = "x = np.random.rand(3)"
    line_std = "import random"
    assert re.findall(r"\b(?:np|numpy)\.random\.(\w+)\s*\(", line_np) == ["rand"]
    assert re.match(r"\s*(import\s+random\b|from\s+random\s+import\b)", line_std)
    assert _sim_sources(), "no sources found under sim/"
