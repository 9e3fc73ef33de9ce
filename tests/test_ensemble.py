"""Ensembles and the comparison report: paired runs share their randomness, parallel runs give
the same results as serial ones, bad input stops before any run, a failed run is reported
without losing the others, and the report is written end to end.

Common random numbers at the level of one lever (an inactive lever leaves a run bit-identical)
are tested in tests/test_levers.py (``test_disabled_lever_changes_nothing``,
``test_lever_outside_the_simulated_days_changes_nothing``, ``test_trigger_that_never_fires_changes_nothing``);
here the same property is checked through the ensemble, on whole scenarios of the library.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sim.studies.ensemble as ensemble
from sim.model.config import ConfigError
from sim.running.compose import default_scenario
from sim.studies.ensemble import (
    EnsembleResult,
    Job,
    RunFailure,
    RunOutput,
    check_seeds,
    list_scenarios,
    prepare,
    run_configs,
    run_ensemble,
    run_job,
    scenario_question,
)
from sim.studies.report import (
    OUTCOMES,
    lever_changes,
    mechanism_paragraph,
    paired_effects,
    run_metrics,
    write_report,
)

ROOT = Path(__file__).resolve().parent.parent
BASELINE = default_scenario()  # the default config's scenario, the library's baseline
SIZE = 5000  # rows; a sample of the 250,000 pool (counts × 50 in real people)
SEEDS = 8
SCENARIO = (
    "no_repatriation"  # differs from the baseline from 9 Aug 2021 (the first evacuation flight)
)


@pytest.fixture(scope="module")
def paired_ensemble() -> EnsembleResult:
    """The baseline and no_repatriation, seeds 1..8, 5,000 rows each, on two processes."""
    return run_ensemble([BASELINE, SCENARIO], seeds=SEEDS, size=SIZE, n_jobs=2)


# ---- (a) common random numbers ------------------------------------------------------------


@pytest.mark.slow
def test_paired_runs_are_identical_until_a_changed_lever_acts(
    paired_ensemble: EnsembleResult,
) -> None:
    """Protects: a scenario and its baseline with the same seed share every draw, so their daily
    tables are identical, bit for bit, until the first day a lever that differs acts (here the
    first evacuation flight, 9 Aug 2021), and differ afterwards."""
    ens = paired_ensemble
    assert not ens.failures
    for seed in ens.seeds:
        base, scen = ens.runs[(BASELINE, seed)].daily, ens.runs[(SCENARIO, seed)].daily
        before = base["date"] < "2021-08-09"
        pd.testing.assert_frame_equal(base[before], scen[before], check_exact=True)
        assert not base[~before].equals(scen[~before])


# ---- (b) the paired difference is far less noisy than either run ------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("outcome", ["arrivals", "reached_destination"])
def test_paired_difference_spreads_far_less_than_a_run(
    paired_ensemble: EnsembleResult, outcome: str
) -> None:
    """Protects: common random numbers. Across seeds, scenario − baseline varies far less than
    the baseline itself (sd of the difference < half the baseline's sd), and far less than the
    difference of runs with *different* seeds (unpaired: scenario seed i − baseline seed i−1),
    which varies about √2 times more than one run. Outcomes: arrivals in Minsk (the lever barely
    touches them) and people reaching the EU (the lever raises them by about a fifth)."""
    m = run_metrics(paired_ensemble)
    base = m[m["scenario"] == BASELINE].set_index("seed")[outcome].sort_index().to_numpy()
    scen = m[m["scenario"] == SCENARIO].set_index("seed")[outcome].sort_index().to_numpy()
    assert base.size == scen.size == SEEDS
    sd_base = base.std(ddof=1)
    sd_paired = (scen - base).std(ddof=1)
    sd_unpaired = (scen - np.roll(base, 1)).std(ddof=1)
    assert sd_base > 0
    assert sd_paired < 0.5 * sd_base, (
        f"{outcome}: sd(diff) {sd_paired:.0f} vs sd(baseline) {sd_base:.0f}"
    )
    assert sd_paired < 0.5 * sd_unpaired, (
        f"{outcome}: paired {sd_paired:.0f} vs unpaired {sd_unpaired:.0f}"
    )


# ---- (c) the number of processes does not change anything -----------------------------------


@pytest.mark.slow
def test_serial_and_parallel_runs_are_identical(paired_ensemble: EnsembleResult) -> None:
    """Protects: each run depends only on its config and seed, and results come back in job
    order, so n_jobs=1 and n_jobs=2 give bit-identical daily tables, summaries and tables."""
    seeds = [1, 2]
    configs = {sc: paired_ensemble.configs[sc] for sc in (BASELINE, SCENARIO)}
    serial = run_configs(configs, seeds, n_jobs=1)
    assert serial.n_jobs == 1 and not serial.failures
    for key, run in serial.runs.items():
        par = paired_ensemble.runs[key]
        pd.testing.assert_frame_equal(run.daily, par.daily, check_exact=True)
        assert run.summary == par.summary
        assert run.levers == par.levers
    par_table = paired_ensemble.summary_table()
    par_table = par_table[par_table["seed"].isin(seeds)].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        serial.summary_table().drop(columns="seconds"),
        par_table.drop(columns="seconds"),
        check_exact=True,
    )


# ---- (d) bad input stops before any run ------------------------------------------------------


@pytest.fixture
def no_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to run a job fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("a run started although the input was bad")

    monkeypatch.setattr(ensemble, "run_configs", refuse)
    monkeypatch.setattr(ensemble, "simulate", refuse)


def test_unknown_scenario_is_an_error_before_any_run(no_runs: None) -> None:
    """Protects: an unknown scenario name stops the ensemble before any run, naming it and
    listing the known scenarios."""
    with pytest.raises(ConfigError) as err:
        run_ensemble([BASELINE, "no_such_scenario"], seeds=2, size=1000)
    msg = str(err.value)
    assert "no_such_scenario" in msg
    for name in list_scenarios():
        assert name in msg


def test_bad_override_names_the_scenario_before_any_run(no_runs: None) -> None:
    """Protects: a config that does not check stops the ensemble before any run; the message
    names the scenario and the key."""
    with pytest.raises(ConfigError, match=rf"scenario {BASELINE}: border\.attempt_prob_per_day"):
        run_ensemble([BASELINE], seeds=2, size=1000, overrides=["border.attempt_prob_per_day=1.5"])


@pytest.mark.parametrize("seeds", [0, [], [1, 1], [-1], [1.5]])
def test_bad_seeds_are_an_error(seeds) -> None:
    """Protects: seeds are whole numbers >= 0, at least one, none repeated (pairs need them)."""
    with pytest.raises(ConfigError):
        check_seeds(seeds)


def test_seed_count_gives_seeds_from_one() -> None:
    assert check_seeds(3) == [1, 2, 3]


def test_every_library_scenario_states_its_question() -> None:
    """Protects: the report shows each scenario's question, read from its file's comment."""
    for name in list_scenarios():
        assert scenario_question(name), name


# ---- (e) a failed run is reported, the others are kept ----------------------------------------


def test_failed_run_is_reported_and_the_others_kept(
    monkeypatch: pytest.MonkeyPatch, tiny_world, tmp_path
) -> None:
    """Protects: a run that raises inside an ensemble is recorded with its scenario, seed,
    error and traceback; the other runs' results are kept, and the report lists the failure.
    (n_jobs=1 runs the jobs in this process, so the monkeypatch reaches them.)"""
    real = ensemble.simulate

    def flaky(config, seed):
        if seed == 2:
            raise RuntimeError("simulated failure for seed 2")
        return real(config, seed)

    monkeypatch.setattr(ensemble, "simulate", flaky)
    cfg = tiny_world(run={"start": "2021-01-01", "end": "2021-02-28", "seed": 1})
    ens = run_configs({"tiny": cfg}, seeds=[1, 2, 3], n_jobs=1)
    assert sorted(ens.runs) == [("tiny", 1), ("tiny", 3)]
    (fail,) = ens.failures
    assert (fail.scenario, fail.seed, fail.error_type) == ("tiny", 2, "RuntimeError")
    assert "simulated failure for seed 2" in fail.message
    assert "flaky" in fail.traceback
    table = ens.summary_table()
    assert list(table["status"]) == ["ok", "failed", "ok"]
    assert table.loc[1, "error"] == "RuntimeError: simulated failure for seed 2"

    paths = write_report(ens, tmp_path / "report", baseline="tiny")
    text = (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    assert "Runs that failed" in text and "simulated failure for seed 2" in text
    failures = pd.read_csv(tmp_path / "report" / "failures.csv")
    assert list(failures["seed"]) == [2]
    assert all(p.exists() for p in paths)


def test_report_is_written_when_every_run_fails(
    monkeypatch: pytest.MonkeyPatch, tiny_world, tmp_path
) -> None:
    """Protects: with no run finished, the report still says what was asked and lists every
    failure (nothing to compare is not a crash)."""

    def broken(config, seed):
        raise ValueError(f"broken seed {seed}")

    monkeypatch.setattr(ensemble, "simulate", broken)
    ens = run_configs({"tiny": tiny_world()}, seeds=[1, 2], n_jobs=1)
    assert not ens.runs and [f.seed for f in ens.failures] == [1, 2]
    write_report(ens, tmp_path / "r", baseline="tiny")
    text = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    assert "0 finished, 2 failed" in text
    assert "broken seed 1" in text and "broken seed 2" in text


def test_run_job_turns_an_exception_into_a_failure() -> None:
    """Protects: a job whose config breaks inside the worker returns a RunFailure, not raise."""
    out = run_job({"world": {"routes": []}, "population": {"size": -1}}, Job("broken", 7))
    assert isinstance(out, RunFailure)
    assert (out.scenario, out.seed) == ("broken", 7)
    assert out.error_type and out.traceback


# ---- the effects' arithmetic ------------------------------------------------------------------


def _fake(values: dict[str, list[float]], per_row: float = 5.0) -> EnsembleResult:
    """An ensemble whose runs have only summaries: got_through = the given values (rows)."""
    from sim.running.compose import compose

    cfg = compose(["population.size=50000"])
    seeds = list(range(1, len(next(iter(values.values()))) + 1))
    runs = {}
    for sc, vals in values.items():
        for seed, v in zip(seeds, vals, strict=True):
            summary = {o.key: 0 for o in OUTCOMES if o.key != "peak_day"}
            summary.update(got_through=v, peak_in_transit_country_date="2021-10-01", days=424)
            runs[(sc, seed)] = RunOutput(sc, seed, pd.DataFrame(), summary, {}, per_row, 0.0)
    return EnsembleResult(
        runs=runs, failures=[], configs=dict.fromkeys(values, cfg), seeds=seeds, n_jobs=1
    )


def test_paired_effects_arithmetic() -> None:
    """Protects: the effect is the per-seed difference in real people (rows × pool/size); its
    mean, 5th-95th percentile across seeds and 90 % t-interval of the mean are what they say."""
    base = [100.0, 110.0, 90.0, 105.0, 95.0]
    diff = np.array([-10.0, -12.0, -8.0, -11.0, -9.0])
    ens = _fake({"base": base, "scen": list(np.array(base) + diff)})
    eff = paired_effects(ens, "base").set_index("outcome").loc["got_through"]
    d = diff * 5.0
    assert eff["n_seeds"] == 5
    assert eff["effect_mean"] == pytest.approx(d.mean())
    assert eff["baseline_mean"] == pytest.approx(np.mean(base) * 5.0)
    assert eff["effect_pct"] == pytest.approx(100 * d.mean() / (np.mean(base) * 5.0))
    assert (eff["spread_p05"], eff["spread_p95"]) == pytest.approx(tuple(np.percentile(d, [5, 95])))
    half = stats.t.ppf(0.95, 4) * d.std(ddof=1) / math.sqrt(5)
    assert (eff["ci90_low"], eff["ci90_high"]) == pytest.approx((d.mean() - half, d.mean() + half))
    assert eff["clear"]
    peak = paired_effects(ens, "base").set_index("outcome").loc["peak_day"]
    assert peak["effect_mean"] == 0 and not peak["clear"]


def test_identical_runs_are_said_to_be_identical() -> None:
    """Protects: a scenario whose runs equal the baseline's seed by seed is reported as such."""
    ens = _fake({"base": [1.0, 2.0, 3.0], "same": [1.0, 2.0, 3.0]})
    assert "identical" in mechanism_paragraph(ens, "same", "base")


def test_lever_changes_name_the_changed_levers() -> None:
    """Protects: "what changed" lists exactly the levers whose config differs, in words."""
    configs = prepare([BASELINE, "early_flight_suspension", "no_repatriation"], size=1000)
    early = lever_changes(configs["early_flight_suspension"], configs[BASELINE])
    assert early == [
        "`iraq_flight_suspension` (flight suspension, Iraq) acts from 1 Jul 2021 "
        "instead of from 6 Aug 2021"
    ]
    norep = " ".join(lever_changes(configs["no_repatriation"], configs[BASELINE]))
    assert "`iraq_evacuation_flights`" in norep and "`iraq_repatriation_flights`" in norep
    assert lever_changes(configs[BASELINE], configs[BASELINE]) == []


# ---- (f) the report end to end ---------------------------------------------------------------


@pytest.mark.slow
def test_compare_scenarios_writes_the_report(tmp_path: Path) -> None:
    """Protects: the one command runs a small ensemble (2 scenarios × 3 seeds × 5,000 people)
    and writes report.md with its figures, effects.csv and runs.parquet."""
    out = tmp_path / "report"
    cmd = [
        sys.executable,
        str(ROOT / "experiments" / "compare_scenarios.py"),
        "--scenarios",
        f"{BASELINE},early_repatriation",
        "--seeds",
        "3",
        "--size",
        "5000",
        "--jobs",
        "2",
        "--out",
        str(out),
    ]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    text = (out / "report.md").read_text(encoding="utf-8")
    for section in (
        "## How to read this report",
        "## Effects at a glance",
        f"## The baseline: `{BASELINE}`",
        "## early_repatriation",
        "**What changed from the baseline:**",
        "**What happened, and through which mechanism:**",
    ):
        assert section in text, section
    pngs = {p.name for p in (out / "figures").glob("*.png")}
    assert pngs == {"effects.png", f"{BASELINE}.png", "early_repatriation.png"}
    for png in pngs:
        assert f"figures/{png}" in text
    effects = pd.read_csv(out / "effects.csv")
    # one row per outcome, except those the world never has (no crossing points in 2021: no registrations)
    runs_ok = pd.read_parquet(out / "runs.parquet")
    present = [o.key for o in OUTCOMES if o.key not in runs_ok or runs_ok[o.key].astype(float).abs().sum() > 0]
    assert list(effects["outcome"]) == present and "applied" not in present
    assert set(effects["scenario"]) == {"early_repatriation"}
    assert (effects["n_seeds"] == 3).all()
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 6 and (runs["status"] == "ok").all()
    # counts are in real people: the simulated sample is scaled up by pool/size
    assert (runs["per_row"] == 50).all()
    assert (runs["arrivals"] % 50 == 0).all()


def test_compare_scenarios_refuses_an_unknown_scenario(tmp_path: Path) -> None:
    """Protects: the command exits with code 2 and names the scenario, having run nothing."""
    cmd = [
        sys.executable,
        str(ROOT / "experiments" / "compare_scenarios.py"),
        "--scenarios",
        "no_such",
        "--seeds",
        "2",
        "--out",
        str(tmp_path / "r"),
    ]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert "no_such" in done.stderr and "known scenarios" in done.stderr
    assert not (tmp_path / "r").exists()


def test_posterior_draws_are_paired_across_scenarios_and_applied() -> None:
    """Replicate i runs every scenario with seed i and draw i; the draw's values are the run's."""
    from sim.running.compose import compose

    cfg = compose(["population.size=2000", "scenario=no_levers", "run.end=2021-08-31"])
    draws = [{"intention.network_gain": 3.0, "world.segments.poland.guard_capacity_per_day": 30.0},
             {"intention.network_gain": 9.0, "world.segments.poland.guard_capacity_per_day": 150.0}]
    ens = ensemble.run_configs({"a": cfg, "b": cfg}, [5, 6], n_jobs=1, draws=draws)
    assert ens.draws == draws and not ens.failures
    for seed in (5, 6):
        pd.testing.assert_frame_equal(ens.runs[("a", seed)].daily, ens.runs[("b", seed)].daily)
    by_hand = ensemble.with_params(ensemble.to_dict(cfg), draws[1])
    direct = ensemble.run_configs({"a": by_hand}, [6], n_jobs=1)
    pd.testing.assert_frame_equal(direct.runs[("a", 6)].daily, ens.runs[("a", 6)].daily)
    assert ens.runs[("a", 5)].summary != ens.runs[("a", 6)].summary


def test_posterior_draws_are_checked_before_any_run(monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.running.compose import compose

    def refuse(*args, **kwargs):
        raise AssertionError("a run started although the input was bad")

    monkeypatch.setattr(ensemble, "run_job", refuse)

    cfg = compose(["population.size=2000"])
    with pytest.raises(ConfigError, match="one per seed"):
        ensemble.run_configs({"a": cfg}, [1, 2], draws=[{"intention.network_gain": 3.0}])
    with pytest.raises(ConfigError, match="parameter draw 0"):
        ensemble.run_configs({"a": cfg}, [1], draws=[{"border.attempt_prob_per_day": 2.0}])
