"""Ensembles: many (scenario, seed) runs at once on the local cores, checked before they start.

An ensemble runs every scenario of a list with the same seeds, so that a scenario and its
baseline can be compared seed by seed (paired counterfactuals). Because every random number a
run draws is keyed by its seed, the decision's name, the day and the person's slot
(:mod:`sim.model.rng`), two runs with the same seed share each person's draws (common random numbers):
the difference between them is the levers', not noise.

Order of work::

    1. check     every scenario name is a file of configs/scenario/, every config composes and
                 builds (sim.model.model.check_config): a bad input stops here, before any run
    2. run       (scenario, seed) jobs in parallel with joblib (loky processes); each job builds
                 MigrationModel(config, rng=seed), runs it, and keeps only the daily columns a
                 report needs (:data:`KEEP`) plus the run's summary (sim.model.recorder.summarize)
    3. collect   results in job order, so they are the same whatever ``n_jobs``; a run that
                 raises is recorded (:class:`RunFailure`) and the others are kept

Counts are in simulated rows: a run of ``population.size`` rows samples ``population.pool``
real people, so multiply by :attr:`RunOutput.per_row` (pool / size) to get real people
(:meth:`EnsembleResult.summary_table` does).

This module does not import Hydra at import time; :func:`prepare` composes the scenario files
through :mod:`sim.running.compose`. :func:`run_configs` takes ready configs and needs no Hydra at all::

    from sim.studies.ensemble import run_ensemble
    ens = run_ensemble(["baseline_2021", "no_repatriation"], seeds=range(1, 9), size=20_000)
    ens.summary_table()        # one row per run, in real people
"""

from __future__ import annotations

import copy
import os
import time
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from sim.model.config import Config, ConfigError, load_config, sampled_value, set_dotted, to_dict
from sim.model.model import MigrationModel, check_config
from sim.model.recorder import summarize
from sim.running.compose import compose
from sim.running.labels import scenario_question  # noqa: F401  (part of this module's API)
from sim.running.paths import CONFIG_DIR

SCENARIO_DIR = CONFIG_DIR / "scenario"
DEFAULT_SIZE = 50_000
DEFAULT_SEEDS = 20

# daily columns a run keeps (the report's); plus, built by the run, one column per segment
# (attempts_<segment>, got_through_<segment>) and per departure airport (arrivals_from_<airport>)
KEEP = (
    "date",
    "arrivals",
    "rerouted_via_hub",
    "n_in_transit",
    "stranded_at_hub_went_home",
    "cancelled",
    "in_city",
    "at_border",
    "in_transit_country",
    "attempts",
    "turned_back",
    "caught",
    "got_through",
    "deaths",
    "repatriated",
    "repatriation_seats",
    "returned_own_ticket",
)


# --------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One run of an ensemble: a scenario's config with a seed, and parameter values set on it
    (a draw from a calibration's posterior: ``((dotted key, value), ...)``, the same for every
    scenario of a replicate)."""

    scenario: str
    seed: int
    params: tuple[tuple[str, float], ...] = ()


@dataclass
class RunOutput:
    """What one run of an ensemble keeps.

    Attributes:
        scenario, seed: the job.
        daily: the kept daily columns (:data:`KEEP`, ``attempts_<segment>``,
            ``got_through_<segment>``, ``arrivals_from_<airport>``), in simulated rows.
        summary: ``sim.model.recorder.summarize`` of the full daily table, in simulated rows, plus
            totals of the kept columns that the summary lacks (``total_<column>``).
        levers: each lever that acted: ``{name: {"first": YYYY-MM-DD, "days": n}}``.
        per_row: real people per simulated row (``population.pool / population.size``).
        seconds: wall time of the run (build and simulate).
    """

    scenario: str
    seed: int
    daily: pd.DataFrame
    summary: dict[str, Any]
    levers: dict[str, dict[str, Any]]
    per_row: float
    seconds: float


@dataclass
class RunFailure:
    """A run that raised: which, what, and where (the others' results are kept)."""

    scenario: str
    seed: int
    error_type: str
    message: str
    traceback: str
    seconds: float = 0.0


@dataclass
class EnsembleResult:
    """All runs of an ensemble.

    Attributes:
        runs: ``{(scenario, seed): RunOutput}`` of the runs that finished, in job order.
        failures: the runs that raised.
        configs: each scenario's checked config (before the seed is set).
        seeds: the seeds, in order.
        n_jobs: worker processes used. seconds: wall time of the run phase.
        check_seconds: wall time of composing and checking the configs.
        draws: with a posterior, the parameter set of each seed's replicate (``seeds[i]`` ran
            with ``draws[i]`` in every scenario); ``None``: every run used the configs' values.
    """

    runs: dict[tuple[str, int], RunOutput]
    failures: list[RunFailure]
    configs: dict[str, Config]
    seeds: list[int]
    n_jobs: int
    seconds: float = 0.0
    draws: list[dict[str, float]] | None = None  # the parameter set of each seed's replicate
    check_seconds: float = 0.0
    segments: list[str] = field(default_factory=list)
    hubs: list[str] = field(default_factory=list)

    @property
    def scenarios(self) -> list[str]:
        return list(self.configs)

    def seeds_of(self, scenario: str) -> list[int]:
        """The seeds whose run of ``scenario`` finished."""
        return [s for s in self.seeds if (scenario, s) in self.runs]

    def summary_table(self) -> pd.DataFrame:
        """One row per job (finished or failed), counts and money in real people.

        Columns: ``scenario``, ``seed``, ``status`` (``ok`` or ``failed``), ``seconds``, every
        key of the run summary (``sim.model.recorder.summarize``; counts, person-days and USD
        multiplied by pool/size, dates and ``days`` as they are), ``total_<column>`` of the kept
        daily columns, ``per_row`` (real people per row), and for failed runs ``error``.
        """
        failed = {(f.scenario, f.seed): f for f in self.failures}
        rows = []
        for sc in self.configs:
            for seed in self.seeds:
                run, fail = self.runs.get((sc, seed)), failed.get((sc, seed))
                if run is not None:
                    rows.append(
                        {
                            "scenario": sc,
                            "seed": seed,
                            "status": "ok",
                            "seconds": round(run.seconds, 3),
                            **to_real(run.summary, run.per_row),
                            "per_row": run.per_row,
                            "error": "",
                        }
                    )
                elif fail is not None:
                    rows.append(
                        {
                            "scenario": sc,
                            "seed": seed,
                            "status": "failed",
                            "seconds": round(fail.seconds, 3),
                            "error": f"{fail.error_type}: {fail.message}",
                        }
                    )
        return pd.DataFrame(rows)


NOT_COUNTS = {"days", "peak_in_transit_country_date"}


def to_real(summary: dict[str, Any], per_row: float) -> dict[str, Any]:
    """A run summary with counts, person-days and money in real people (× pool/size)."""
    return {
        k: (v if k in NOT_COUNTS or not isinstance(v, int | float) else float(v) * per_row)
        for k, v in summary.items()
    }


# --------------------------------------------------------------------------------------
# 1. check
# --------------------------------------------------------------------------------------


def list_scenarios(scenario_dir: Path = SCENARIO_DIR) -> list[str]:
    """The scenario library: names of ``configs/scenario/*.yaml``, sorted."""
    return sorted(p.stem for p in Path(scenario_dir).glob("*.yaml"))


def check_scenario_names(scenarios: Sequence[str], scenario_dir: Path = SCENARIO_DIR) -> list[str]:
    """The names, in order and without repeats; an unknown name raises :class:`ConfigError`."""
    known = list_scenarios(scenario_dir)
    names = list(dict.fromkeys(scenarios))
    if not names:
        raise ConfigError(f"no scenario given; known scenarios: {', '.join(known)}")
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(
            f"unknown scenario{'s' if len(unknown) > 1 else ''} {', '.join(repr(n) for n in unknown)}; "
            f"known scenarios (configs/scenario/): {', '.join(known)}"
        )
    return names


def check_seeds(seeds: Iterable[int] | int) -> list[int]:
    """``n`` gives seeds 1..n; a list is checked (whole numbers >= 0, no repeats)."""
    if isinstance(seeds, int):
        if seeds < 1:
            raise ConfigError(f"seeds: {seeds}; give at least one seed")
        return list(range(1, seeds + 1))
    out = []
    for s in seeds:
        if isinstance(s, bool) or int(s) != s or int(s) < 0:
            raise ConfigError(f"seeds: {s!r} is not a whole number >= 0")
        out.append(int(s))
    if not out:
        raise ConfigError("seeds: the list is empty; give at least one seed")
    if len(set(out)) != len(out):
        raise ConfigError(f"seeds: {out} repeats a seed; paired runs need distinct seeds")
    return out


def prepare(
    scenarios: Sequence[str],
    overrides: Sequence[str] = (),
    size: int | None = DEFAULT_SIZE,
    scenario_dir: Path = SCENARIO_DIR,
) -> dict[str, Config]:
    """Compose and completely check each scenario's config, before any run starts.

    Args:
        scenarios: names of files in ``configs/scenario/``.
        overrides: Hydra-style overrides applied to every scenario (``key=value``).
        size: ``population.size`` (rows) for every scenario; ``None`` keeps the config's.

    Returns:
        ``{scenario: Config}`` in the order given.

    Raises:
        ConfigError: an unknown scenario (naming the known ones), or a config that does not
            compose or check (naming the scenario and the key).
    """

    names = check_scenario_names(scenarios, scenario_dir)
    extra = list(overrides) + ([f"population.size={int(size)}"] if size is not None else [])
    configs = {}
    for name in names:
        try:
            configs[name] = check_config(compose([f"scenario={name}", *extra]))
        except ConfigError as e:
            raise ConfigError(f"scenario {name}: {e}") from e
    return configs


# --------------------------------------------------------------------------------------
# 2. run
# --------------------------------------------------------------------------------------


def simulate(config: dict[str, Any], seed: int) -> tuple[pd.DataFrame, list[str], float]:
    """Build and run one model; return (full daily table, segment ids, real people per row)."""

    model = MigrationModel(config, rng=seed)
    model.run()
    return model.recorder.frame(), list(model.world.segment_ids), 1.0 / model.scale


def keep_columns(
    daily: pd.DataFrame, segments: Sequence[str], route_airport: dict[str, str]
) -> pd.DataFrame:
    """The report's daily columns: :data:`KEEP`, attempts and got-through per segment, and
    arrivals per departure airport (``arrivals_from_<airport>``, summed over its routes)."""
    cols = [c for c in KEEP if c in daily]
    cols += [
        f"{k}_{s}" for s in segments for k in ("attempts", "got_through") if f"{k}_{s}" in daily
    ]
    kept = daily[cols].copy()
    by_airport: dict[str, list[str]] = {}
    for route, airport in route_airport.items():
        if f"arrivals_{route}" in daily:
            by_airport.setdefault(airport, []).append(f"arrivals_{route}")
    for airport, routes in by_airport.items():
        kept[f"arrivals_from_{airport}"] = daily[routes].sum(axis=1)
    for c in kept.columns:
        if c != "date" and pd.api.types.is_integer_dtype(kept[c]):
            kept[c] = kept[c].astype("int32")
    return kept


def lever_activity(daily: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """``{lever: {"first": first day it acted (YYYY-MM-DD), "days": days it acted}}``."""
    if "active_levers" not in daily:
        return {}
    first: dict[str, str] = {}
    days: dict[str, int] = {}
    for date, active in zip(daily["date"], daily["active_levers"].fillna(""), strict=True):
        for name in filter(None, str(active).split(";")):
            first.setdefault(name, str(date))
            days[name] = days.get(name, 0) + 1
    return {n: {"first": first[n], "days": days[n]} for n in sorted(first)}


def run_job(config: dict[str, Any], job: Job) -> RunOutput | RunFailure:
    """One job, in a worker: run, keep what the report needs; an exception becomes a
    :class:`RunFailure` (with its traceback) instead of stopping the ensemble."""

    t0 = time.perf_counter()
    try:
        if job.params:
            config = with_params(config, dict(job.params))
        daily, segments, per_row = simulate(config, job.seed)
        route_airport = {r["id"]: r["origin"] for r in config["world"]["routes"]}
        kept = keep_columns(daily, segments, route_airport)
        summary = summarize(daily, segments)
        for c in ("repatriation_seats", "stranded_at_hub_went_home", "cancelled"):
            summary[f"total_{c}"] = int(daily[c].sum()) if c in daily else 0
        for c in kept.columns:
            if c.startswith("arrivals_from_"):
                summary[f"total_{c}"] = int(kept[c].sum())
        return RunOutput(
            job.scenario,
            job.seed,
            kept,
            summary,
            lever_activity(daily),
            per_row,
            time.perf_counter() - t0,
        )
    except Exception as e:  # noqa: BLE001 - recorded, not swallowed: the report lists it
        return RunFailure(
            job.scenario,
            job.seed,
            type(e).__name__,
            str(e),
            traceback.format_exc(),
            time.perf_counter() - t0,
        )


def with_params(config: dict[str, Any], params: dict[str, float]) -> dict[str, Any]:
    """A copy of a plain config with parameter values set by dotted key (``world.segments.poland.x``;
    a whole-number key rounded, :func:`sim.model.config.sampled_value`)."""


    out = copy.deepcopy(config)
    for k, v in params.items():
        set_dotted(out, k, sampled_value(k, v))
    return out


def default_jobs() -> int:
    """Worker processes by default: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def run_configs(
    configs: dict[str, Config | dict],
    seeds: Iterable[int] | int = DEFAULT_SEEDS,
    n_jobs: int | None = None,
    progress: bool = False,
    draws: Sequence[dict[str, float]] | None = None,
) -> EnsembleResult:
    """Run every config with every seed in parallel (joblib, loky processes).

    The jobs are independent and each result depends only on its config, seed and draw, and
    results are collected in job order: the outcome is identical whatever ``n_jobs``.

    Args:
        configs: ``{scenario name: config}`` (checked with ``load_config`` here).
        seeds: the seeds, or ``n`` for seeds 1..n.
        n_jobs: worker processes (``None``: every core; 1 runs in this process).
        progress: a progress bar on a terminal.
        draws: one parameter set per seed (``{dotted key: value}``, e.g. from
            :meth:`sim.studies.calibration.Calibration.draws`): replicate ``i`` runs every scenario with
            ``seeds[i]`` and ``draws[i]``, so effects stay paired while their spread includes
            the parameters' uncertainty. Every config with every draw is checked first.
    """
    from joblib import Parallel, delayed

    seed_list = check_seeds(seeds)
    checked = {
        name: cfg if isinstance(cfg, Config) else load_config(cfg) for name, cfg in configs.items()
    }
    plain = {name: to_dict(cfg) for name, cfg in checked.items()}
    if draws is not None:
        draws = [dict(d) for d in draws]
        if len(draws) != len(seed_list):
            raise ConfigError(f"draws: {len(draws)} parameter sets for {len(seed_list)} seeds; give one per seed")
        for name, cfg in plain.items():
            for i, d in enumerate(draws):
                try:
                    load_config(with_params(cfg, d))
                except ConfigError as e:
                    raise ConfigError(f"scenario {name}, parameter draw {i}: {e}") from e
    params = [tuple(sorted(d.items())) for d in draws] if draws is not None else [()] * len(seed_list)
    # seed-major order: the first results cover every scenario, and long and short runs mix
    jobs = [Job(name, seed, p) for seed, p in zip(seed_list, params, strict=True) for name in checked]
    n_jobs = default_jobs() if n_jobs is None else max(1, min(int(n_jobs), len(jobs)))
    t0 = time.perf_counter()
    parallel = Parallel(n_jobs=n_jobs, backend="loky", return_as="generator", batch_size=1)
    outputs = parallel(delayed(run_job)(plain[j.scenario], j) for j in jobs)
    results = list(
        tqdm(
            outputs,
            total=len(jobs),
            unit="run",
            desc="ensemble",
            disable=None if progress else True,
        )
    )
    seconds = time.perf_counter() - t0
    runs = {(r.scenario, r.seed): r for r in results if isinstance(r, RunOutput)}
    failures = [r for r in results if isinstance(r, RunFailure)]
    first = next(iter(checked.values()))
    return EnsembleResult(
        runs=dict(
            sorted(
                runs.items(),
                key=lambda kv: (list(checked).index(kv[0][0]), seed_list.index(kv[0][1])),
            )
        ),
        failures=failures,
        configs=checked,
        seeds=seed_list,
        n_jobs=n_jobs,
        seconds=seconds,
        segments=[s.id for s in first.world.segments],
        hubs=list(first.world.hubs),
        draws=draws,
    )


def run_ensemble(
    scenarios: Sequence[str],
    seeds: Iterable[int] | int = DEFAULT_SEEDS,
    overrides: Sequence[str] = (),
    size: int | None = DEFAULT_SIZE,
    n_jobs: int | None = None,
    progress: bool = False,
    draws: Sequence[dict[str, float]] | None = None,
) -> EnsembleResult:
    """Check every scenario (:func:`prepare`), then run each with every seed (:func:`run_configs`).

    Args:
        scenarios: names in ``configs/scenario/``.
        seeds: the seeds, or ``n`` for seeds 1..n (the same seeds for every scenario: paired).
        overrides: Hydra-style overrides for every scenario.
        size: ``population.size`` for every scenario (default 50,000 rows of a 250,000 pool).
        n_jobs: worker processes (``None``: every core).
        progress: a progress bar on a terminal.
        draws: one parameter set per seed, from a posterior (:func:`run_configs`).

    Raises:
        ConfigError: before any run, for an unknown scenario or a bad config, seed list or draw.
    """
    seed_list = check_seeds(seeds)
    t0 = time.perf_counter()
    configs = prepare(scenarios, overrides, size)
    checked = time.perf_counter() - t0
    result = run_configs(configs, seed_list, n_jobs, progress, draws)
    result.check_seconds = checked
    return result


__all__ = [
    "DEFAULT_SEEDS",
    "DEFAULT_SIZE",
    "KEEP",
    "EnsembleResult",
    "Job",
    "RunFailure",
    "RunOutput",
    "check_scenario_names",
    "check_seeds",
    "list_scenarios",
    "prepare",
    "run_configs",
    "run_ensemble",
    "run_job",
    "scenario_question",
    "simulate",
    "to_real",
    "with_params",
]
