"""Both shipped worlds' replays, end to end: the command line runs each into a complete results
folder, its record can be compared with it, and the 2023 replay tells the closures' story by
mechanism (displacement north, nothing sold while the border is shut, people waiting in the
transit country).

Slow (a run of each replay through ``python -m sim``); CI runs them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.model.config import load_config
from sim.studies.targets import compare, load_observations, load_targets, record_paths

ROOT = Path(__file__).resolve().parent.parent
REPLAYS = {"baseline_2021": 20_000, "finland_2023": 40_000}


def _run(scenario: str, size: int, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim", f"scenario={scenario}", f"population.size={size}", f"output.dir={out}",
         "output.progress=false"],
        cwd=ROOT, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module", params=sorted(REPLAYS))
def replay(request, tmp_path_factory) -> tuple[str, Path, subprocess.CompletedProcess]:
    scenario = request.param
    out = tmp_path_factory.mktemp(scenario) / "out"
    return scenario, out, _run(scenario, REPLAYS[scenario], out)


@pytest.mark.slow
def test_each_replay_runs_end_to_end_into_a_complete_folder(replay) -> None:
    """Protects: `corridor scenario=<replay>` works for every shipped world: results, summary and
    figures, labelled with the world's own names."""
    scenario, out, proc = replay
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    for name in ("daily.parquet", "summary.json", "config.yaml", "run.json"):
        assert (out / name).is_file(), name
    figures = list((out / "figures").glob("*.png"))
    assert figures and all(f.stat().st_size > 10_000 for f in figures)
    import yaml

    cfg = load_config(yaml.safe_load((out / "config.yaml").read_text()))
    assert cfg.scenario == scenario
    assert cfg.world.transit.state in proc.stdout  # the summary speaks of the world's own transit state
    summary = json.loads((out / "summary.json").read_text())
    assert summary["days"] == cfg.n_days


@pytest.mark.slow
def test_each_replay_can_be_compared_with_its_own_record(replay) -> None:
    """Protects: each world's record (world.record) is read and every target gets a model value
    from the replay's daily table (no output a target counts is missing)."""
    scenario, out, proc = replay
    assert proc.returncode == 0, proc.stderr
    import yaml

    cfg = load_config(yaml.safe_load((out / "config.yaml").read_text()))
    targets_file, observations_file = record_paths(cfg)
    daily = pd.read_parquet(out / "daily.parquet")
    table = compare(daily, load_targets(targets_file), cfg.population.size / cfg.population.pool,
                    load_observations(observations_file))
    assert len(table) >= 10
    assert np.isfinite(table["model"].astype(float)).all()


@pytest.fixture(scope="module")
def finland(tmp_path_factory) -> tuple[pd.DataFrame, float]:
    out = tmp_path_factory.mktemp("finland") / "out"
    proc = _run("finland_2023", REPLAYS["finland_2023"], out)
    assert proc.returncode == 0, proc.stderr
    daily = pd.read_parquet(out / "daily.parquet").set_index("date")
    import yaml

    cfg = load_config(yaml.safe_load((out / "config.yaml").read_text()))
    return daily, cfg.population.size / cfg.population.pool


@pytest.mark.slow
def test_the_2023_closures_displace_arrivals_north_then_shut_the_route(finland) -> None:
    """Protects the closures' mechanisms in the 2023 replay (what the record after 17 November,
    kept back, will check): nobody is registered at a crossing while it is closed; when the four
    southern ones close (18 Nov) people go north (Vartius, Salla, then Raja-Jooseppi, where
    nobody went before); while every crossing is closed (1-13 Dec) nothing is sold upstream and
    people wait in Russia rather than attempt a closed gate."""
    d, _ = finland
    south = ["vaalimaa", "nuijamaa", "imatra", "niirala"]
    north = ["vartius", "salla", "raja_jooseppi"]
    closed_south = d.loc["2023-11-18":"2023-12-13"]
    assert closed_south[[f"applied_{s}" for s in south]].to_numpy().sum() == 0
    before = d.loc["2023-08-01":"2023-11-13", [f"applied_{s}" for s in north]].to_numpy().sum()
    after = d.loc["2023-11-18":"2023-11-29", [f"applied_{s}" for s in north]].to_numpy().sum()
    assert after > max(5 * before, 0)
    shut = d.loc["2023-12-01":"2023-12-13"]
    assert shut["applied"].sum() == 0 and shut["packages_sold"].sum() == 0
    assert (shut["in_transit_country"] > 0).all()
    crossings = [c for c in d.columns if c.startswith("attempts_") and c.split("_", 1)[1] in south + north]
    assert d[crossings].to_numpy().sum() == 0  # nobody "attempts" a crossing point, open or closed
