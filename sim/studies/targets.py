"""The record, and the model's version of it: one observation model per target, declared as data.

A world names its record in its config (``world.record``: for the 2021 world
``data/observed/targets_2021.csv``, figures from the record, each with a *counts* column saying
what it counts, and ``data/observed/observations_2021.csv``). The observations file declares, per metric, which
outputs of the daily table count the same thing over the same period and how (:data:`HOW`:
a sum, a rate a week, a value on a day, a mean, a ratio), with the tolerance we defend for that
kind of figure (``docs/validation.md`` explains each). No place and no world is named here:
a world's observations name its own output columns (or patterns of them, ``flights_*``).
:func:`compare` returns one row per target: the record's value and range, the model's value,
and whether the model is within the tolerance.
"""

from __future__ import annotations

import csv
import datetime as dt
import fnmatch
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.model.config import Config, ConfigError, check_number
from sim.model.model import MigrationModel
from sim.running.compose import compose, config_dir
from sim.running.paths import OBSERVED_DIR

DATA_DIR = OBSERVED_DIR  # data/observed/ of the checkout, or the copy a wheel ships
TARGET_COLUMNS = ["metric", "period_start", "period_end", "value", "low", "high", "unit", "counts", "source_url", "note"]


@dataclass(frozen=True)
class Target:
    metric: str
    start: dt.date
    end: dt.date
    value: float
    low: float
    high: float
    unit: str
    counts: str
    source: str
    note: str


def record_paths(cfg: Config | None = None) -> tuple[Path, Path]:
    """The targets and observations files of a config's world (``world.record``; default: the
    default config's world), under ``data/observed/``.

    Raises:
        ConfigError: the world declares no record (naming the world and the keys to set).
    """
    if cfg is None:
        return _default_record(str(config_dir()))
    r = cfg.world.record
    if not r.targets or not r.observations:
        raise ConfigError(f"world.record: the world {cfg.world.name!r} declares no record; set world.record.targets "
                          "and world.record.observations to its files under data/observed/ (docs/validation.md)")
    return DATA_DIR / r.targets, DATA_DIR / r.observations


@functools.lru_cache(maxsize=4)
def _default_record(configs: str) -> tuple[Path, Path]:  # composed once per configs folder and process
    return record_paths(compose([]))


def load_targets(path: Path | None = None) -> list[Target]:
    """Read a targets file (default: the default world's, :func:`record_paths`), refusing a
    malformed one with the row and column named."""
    path = record_paths()[0] if path is None else path
    rows = []
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames is None or [c for c in TARGET_COLUMNS if c not in reader.fieldnames]:
                missing = [c for c in TARGET_COLUMNS if c not in (reader.fieldnames or [])]
                raise ConfigError(f"{path}: missing columns {missing}; expected {TARGET_COLUMNS}")
            for i, r in enumerate(reader, start=2):
                where = f"{path}:{i}"
                try:
                    start = dt.date.fromisoformat(r["period_start"])
                    end = dt.date.fromisoformat(r["period_end"])
                except ValueError as e:
                    raise ConfigError(f"{where}: period_start/period_end must be YYYY-MM-DD ({e})") from None
                # the schema's number rule (finite: a NaN target would be at distance 0 of anything)
                value = check_number(r["value"], f"{where}: value", text=True)
                low = check_number(r["low"], f"{where}: low", text=True,
                                   allowed="a finite number, or empty for the value") if r["low"] else value
                high = check_number(r["high"], f"{where}: high", text=True,
                                    allowed="a finite number, or empty for the value") if r["high"] else value
                if end < start or low > high:
                    raise ConfigError(f"{where}: period_end before period_start, or low > high")
                rows.append(Target(r["metric"], start, end, value, low, high, r["unit"], r["counts"],
                                   r["source_url"], r["note"]))
    except FileNotFoundError:
        raise ConfigError(f"{path}: targets file not found") from None
    return rows


def _window(d: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
    return d[(d["date"] >= start.isoformat()) & (d["date"] <= end.isoformat())]


# how a figure is counted from the daily table, over the target's period (start..end)
HOW = {
    "sum": "the sum of the output columns over the period",
    "per_week": "that sum a week: sum x 7 / days in the period",
    "on_day": "the output column on the period's last day",
    "mean": "the mean of the output column over the period",
    "ratio_sum": "sum of the output columns / sum of the per columns over the period (undefined if the latter is 0)",
    "ratio_on_day": "output / max(per, 1) on the period's last day",
    "input": "an input of the model (it sets a parameter): not compared",
}
OBSERVATION_COLUMNS = ["metric", "how", "output", "per", "tol", "kind", "people", "share_of_record",
                       "joint_range", "describes"]


@dataclass(frozen=True)
class Observation:
    """How the model counts one kind of figure of the record, declared in the observations file.

    ``output`` and ``per`` are columns of the daily table, or patterns of them (``flights_*``);
    ``tol`` widens the record's own range [low, high] by that relative margin, ``kind`` says why
    (docs/validation.md); ``people``: a count of people, divided by the sampling fraction;
    ``share_of_record``: compare shares of this total instead of counts; ``joint_range``: figures
    of the same group are estimates of one quantity, compared with their joint range.
    """

    metric: str
    how: str
    output: tuple[str, ...] = ()
    per: tuple[str, ...] = ()
    tol: float = 0.0
    kind: str = ""
    people: bool = True
    share_of_record: float | None = None
    joint_range: str = ""
    describes: str = ""

    def columns(self, daily: pd.DataFrame, patterns: tuple[str, ...]) -> list[str]:
        """The daily table's columns the patterns name, in the table's order.

        Raises:
            ConfigError: a pattern names no column (the metric, the pattern and some columns named).
        """
        found = []
        for pat in patterns:
            cols = [c for c in daily.columns if fnmatch.fnmatchcase(c, pat)]
            if not cols:
                raise ConfigError(f"observation of {self.metric!r}: no output column matches {pat!r} "
                                  f"(the run's columns include {', '.join(list(daily.columns)[:8])}, ...)")
            found += [c for c in cols if c not in found]
        return found

    def model(self, daily: pd.DataFrame, t: Target) -> float:
        """The model's value of target ``t`` (in simulated people where it counts people)."""
        if self.how in ("on_day", "ratio_on_day"):
            w = _window(daily, t.end, t.end)
            if not len(w):
                return float("nan")
            value = float(w[self.columns(daily, self.output)].to_numpy().sum())
            if self.how == "on_day":
                return value
            return float(value / max(float(w[self.columns(daily, self.per)].to_numpy().sum()), 1))
        w = _window(daily, t.start, t.end)
        if self.how == "mean":
            return float(w[self.columns(daily, self.output)[0]].mean())
        total = float(w[self.columns(daily, self.output)].to_numpy().sum())
        if self.how == "per_week":
            return total * 7.0 / ((t.end - t.start).days + 1)
        if self.how == "ratio_sum":
            per = float(w[self.columns(daily, self.per)].to_numpy().sum())
            return total / per if per else float("nan")
        return total


def load_observations(path: Path | None = None) -> dict[str, Observation]:
    """Read an observations file (one row per metric of the targets file), refusing a malformed
    one with the row, the column and what is allowed."""
    path = record_paths()[1] if path is None else path
    out: dict[str, Observation] = {}
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = [c for c in OBSERVATION_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise ConfigError(f"{path}: missing columns {missing}; expected {OBSERVATION_COLUMNS}")
            for i, r in enumerate(reader, start=2):
                where = f"{path}:{i}"
                how = r["how"].strip()
                if how not in HOW:
                    raise ConfigError(f"{where}: how {how!r}; allowed: {', '.join(HOW)}")
                if r["metric"] in out:
                    raise ConfigError(f"{where}: metric {r['metric']!r} is declared twice")
                if how == "input":
                    out[r["metric"]] = Observation(r["metric"], how, describes=r["describes"])
                    continue
                output, per = tuple(r["output"].split()), tuple(r["per"].split())
                if not output or (how.startswith("ratio") != bool(per)):
                    raise ConfigError(f"{where}: how {how!r} needs output columns" +
                                      (" and per columns" if how.startswith("ratio") else " and no per columns"))
                if r["people"].strip() not in ("true", "false"):
                    raise ConfigError(f"{where}: people {r['people']!r}; allowed: true, false")
                share = r["share_of_record"].strip()
                out[r["metric"]] = Observation(
                    r["metric"], how, output, per,
                    check_number(r["tol"], f"{where}: tol", lo=0.0, text=True), r["kind"],
                    r["people"].strip() == "true",
                    check_number(share, f"{where}: share_of_record", lo=0.0, text=True) if share else None,
                    r["joint_range"].strip(), r["describes"])
    except FileNotFoundError:
        raise ConfigError(f"{path}: observations file not found") from None
    return out


def inputs(observations: dict[str, Observation] | None = None) -> set[str]:
    """The record's figures that are inputs of the model (they set parameters), not targets."""
    obs = load_observations() if observations is None else observations
    return {m for m, o in obs.items() if o.how == "input"}


def compare(daily: pd.DataFrame, targets: list[Target] | None = None, scale: float = 1.0,
            observations: dict[str, Observation] | None = None) -> pd.DataFrame:
    """One row per target: record (value, low, high), model value, tolerance band and verdict.

    ``scale`` is the run's sampling fraction (population.size / population.pool): counts of
    people are divided by it to compare with the record. Each target is counted as its
    observation (the observations file) declares.

    Raises:
        ConfigError: a target has no observation, or an observation names no column of the run.
    """
    targets = load_targets() if targets is None else targets
    obs_of = load_observations() if observations is None else observations
    rows = []
    missing = sorted({t.metric for t in targets} - set(obs_of))
    if missing:
        raise ConfigError(f"the observations: no observation for the target metric(s) {', '.join(missing)}; "
                          f"add a row each (how: {', '.join(HOW)})")
    joint: dict[str, tuple[float, float]] = {}
    for t in targets:
        g = obs_of[t.metric].joint_range
        if g:
            lo, hi = joint.get(g, (float("inf"), float("-inf")))
            joint[g] = (min(lo, t.low), max(hi, t.high))
    for t in targets:
        obs = obs_of[t.metric]
        if obs.how == "input":
            continue
        value, low, high = t.value, t.low, t.high
        if obs.joint_range:
            low, high = joint[obs.joint_range]
        if obs.share_of_record:  # a share of a stock estimate: compare shares
            total = obs.share_of_record
            value, low, high = value / total, low / total, high / total
        model = obs.model(daily, t) / (scale if obs.people else 1.0)
        lo_ok, hi_ok = low * (1 - obs.tol), high * (1 + obs.tol)
        rows.append({
            "metric": t.metric, "period": f"{t.start}..{t.end}", "record": value, "low": low, "high": high,
            "model": model, "band_low": lo_ok, "band_high": hi_ok, "within": bool(lo_ok <= model <= hi_ok),
            "kind": obs.kind, "model_output": obs.describes, "counts": t.counts, "tol": obs.tol,
        })
    return pd.DataFrame(rows)


def compare_seeds(runs: list[tuple[pd.DataFrame, float]], targets: list[Target] | None = None,
                  observations: dict[str, Observation] | None = None) -> pd.DataFrame:
    """:func:`compare` over several runs (daily table, scale) of one scenario with different seeds.

    ``model`` is the mean across seeds (the verdict uses it), ``model_p5``/``model_p95`` the
    5th and 95th percentiles, ``seeds`` how many runs.
    """

    tables = [compare(d, targets, scale, observations) for d, scale in runs]
    out = tables[0].copy()
    values = np.array([t["model"].to_numpy(float) for t in tables])
    out["model"] = values.mean(axis=0)
    out["model_p5"] = np.percentile(values, 5, axis=0)
    out["model_p95"] = np.percentile(values, 95, axis=0)
    out["seeds"] = len(tables)
    out["within"] = (out["band_low"] <= out["model"]) & (out["model"] <= out["band_high"])
    return out


DEFAULT_SEEDS = [20211118 + i for i in range(8)]


def run_default_seeds(seeds: list[int] = DEFAULT_SEEDS, overrides: list[str] | None = None) -> pd.DataFrame:
    """The default scenario at full scale for each seed, compared with the record."""

    runs = []
    cfg = compose(list(overrides or []))
    for seed in seeds:
        model = MigrationModel(cfg, rng=seed)
        model.run()
        runs.append((model.recorder.frame(), model.scale))
    targets, observations = record_paths(cfg)  # the record of the world the overrides chose
    return compare_seeds(runs, load_targets(targets), load_observations(observations))


# --------------------------------------------------------------------------------------
# distance to the record (calibration), and the series an official statistic would show
# --------------------------------------------------------------------------------------


MIN_TOL = 0.1  # a target's distance is measured in units of log(1 + max(tol, MIN_TOL))
MAX_DISTANCE = 10.0  # ... and capped here: a zero (no death in a small run) is "far", not infinitely


def distances(table: pd.DataFrame) -> pd.Series:
    """Per target of a :func:`compare` table: how far the model is outside the record's range.

    The log-distance from the model's value to the range [low, high] (0 inside it), divided by
    log(1 + tol), the tolerance of that kind of figure (at least ``MIN_TOL``): 1 means "at the
    edge of the band we defend", 2 "twice as far out" (on the log scale). Capped at
    ``MAX_DISTANCE``, so that a count the run happens to miss entirely (no death among a small
    sample) does not outweigh every other target. A value the run leaves undefined (a share of
    nobody: no one caught in Lithuania) is as far as that: ``MAX_DISTANCE``.
    """

    m = np.maximum(table["model"].to_numpy(float), 1e-9)
    low = np.maximum(table["low"].to_numpy(float), 1e-9)
    high = np.maximum(table["high"].to_numpy(float), 1e-9)
    tol = np.maximum(table["tol"].to_numpy(float), MIN_TOL)
    d = np.where(m > high, np.log(m / high), np.where(m < low, np.log(low / m), 0.0))
    d = np.minimum(d / np.log1p(tol), MAX_DISTANCE)
    d = np.where(np.isfinite(table["model"].to_numpy(float)), d, MAX_DISTANCE)
    return pd.Series(d, index=table.index, name="distance")


def distance(table: pd.DataFrame) -> float:
    """One number for a run: the root mean square of :func:`distances` over the targets."""

    d = distances(table).to_numpy(float)
    return float(np.sqrt(np.mean(d**2))) if len(d) else float("nan")


OFFICIAL_COLUMNS = {
    "attempts": "attempts to cross (each try counts, so one person may count several times)",
    "turned_back": "attempts stopped at the line, plus people caught inside and pushed back",
    "caught_inside": "people caught inside the country after crossing (kept or pushed back)",
    "caught": "people caught inside and kept (what a border guard's 'apprehended' usually counts)",
    "got_through": "people through unseen",
    "deaths": "deaths at that segment",
}


def official_statistics(daily: pd.DataFrame, scale: float = 1.0, freq: str = "M") -> pd.DataFrame:
    """Per border segment and month: the series a border guard's statistic would show.

    One row per (segment, month) with the columns of :data:`OFFICIAL_COLUMNS`, in real people
    (rows / ``scale``). ``freq="D"`` gives days instead of months.
    """
    segments = sorted({c[len("attempts_"):] for c in daily.columns if c.startswith("attempts_")})
    d = daily.copy()
    d["date"] = pd.to_datetime(d["date"])
    period = d["date"].dt.to_period(freq)
    frames = []
    for s in segments:
        cols = {k: f"{k}_{s}" for k in OFFICIAL_COLUMNS}
        g = d[list(cols.values())].groupby(period).sum() / scale
        g.columns = list(cols)
        g.insert(0, "segment", s)
        frames.append(g.rename_axis("period").reset_index())
    out = pd.concat(frames, ignore_index=True)
    out["period"] = out["period"].astype(str)
    return out


def observe(daily: pd.DataFrame, scale: float = 1.0, targets: list[Target] | None = None) -> dict[str, pd.DataFrame]:
    """Everything the record can be compared with, from one run's daily table.

    Returns ``{"targets": compare(...) with a distance column, "official": official_statistics(...)}``.
    """
    table = compare(daily, targets, scale)
    table["distance"] = distances(table)
    return {"targets": table, "official": official_statistics(daily, scale)}
