"""The record, and the model's version of it: one observation model per target.

``data/observed/targets_2021.csv`` holds figures from the record. Each has a *counts* column
saying what it counts; :data:`OBSERVATION` maps each (metric) to the model output that counts
the same thing over the same period, and :func:`compare` returns one row per target: the
record's value and range, the model's value, and whether the model is within the tolerance we
defend for that kind of figure (``docs/validation.md`` explains each).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.model.config import ConfigError, check_number
from sim.model.model import MigrationModel
from sim.running.compose import compose
from sim.running.paths import OBSERVED_DIR

DATA_DIR = OBSERVED_DIR  # data/observed/ of the checkout, or the copy a wheel ships
TARGETS_CSV = DATA_DIR / "targets_2021.csv"
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


def load_targets(path: Path = TARGETS_CSV) -> list[Target]:
    """Read the targets file, refusing a malformed one with the row and column named."""
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


def _sum(*cols: str) -> Callable[[pd.DataFrame, Target], float]:
    def f(d: pd.DataFrame, t: Target) -> float:
        w = _window(d, t.start, t.end)
        return float(sum(w[c].sum() for c in cols))
    return f


def _on_day(col: str) -> Callable[[pd.DataFrame, Target], float]:
    def f(d: pd.DataFrame, t: Target) -> float:
        w = _window(d, t.end, t.end)
        return float(w[col].iloc[0]) if len(w) else float("nan")
    return f


def _flight_cols(d: pd.DataFrame, origins: list[str] | None, airline: str | None = None) -> list[str]:
    out = []
    for c in d.columns:
        if not c.startswith("flights_"):
            continue
        parts = c[len("flights_"):].split("_")
        if origins and parts[1] not in origins:
            continue
        if airline and parts[0] != airline:
            continue
        out.append(c)
    return out


def _flights_total(origins: list[str] | None = None, airline: str | None = None, per_week: bool = False):
    def f(d: pd.DataFrame, t: Target) -> float:
        w = _window(d, t.start, t.end)
        total = float(w[_flight_cols(d, origins, airline)].to_numpy().sum())
        return total * 7.0 / ((t.end - t.start).days + 1) if per_week else total
    return f


def _share_iraqi_caught_lt(d: pd.DataFrame, t: Target) -> float:
    w = _window(d, t.start, t.end)
    total = w["caught_lithuania"].sum()
    return float(w["caught_lithuania_iraqi"].sum() / total) if total else float("nan")


def _repatriated_cum(d: pd.DataFrame, t: Target) -> float:
    return _sum("repatriated")(d, t)


def _kri_share(d: pd.DataFrame, t: Target) -> float:
    w = _window(d, t.end, t.end)
    return float(w["in_belarus_kri"].iloc[0] / max(w["in_belarus"].iloc[0], 1)) if len(w) else float("nan")


def _mean(col: str) -> Callable[[pd.DataFrame, Target], float]:
    def f(d: pd.DataFrame, t: Target) -> float:
        return float(_window(d, t.start, t.end)[col].mean())
    return f


@dataclass(frozen=True)
class Observation:
    """How the model counts one target, and the tolerance we defend for it.

    ``tol`` widens the record's own range [low, high] by that relative margin; ``kind`` says
    why (docs/validation.md).
    """

    model: Callable[[pd.DataFrame, Target], float]
    output: str
    tol: float
    kind: str
    scale_to_record: bool = False  # compare a share (e.g. KRI share) instead of a count
    people: bool = True  # a count of people: scaled by pool/size when the run samples the pool


OBSERVATION: dict[str, Observation] = {
    "lt_apprehended": Observation(_sum("caught_lithuania"), "sum of caught_lithuania (people caught inside Lithuania and kept)", 0.5, "monthly flow"),
    "lt_apprehended_cumulative": Observation(_sum("caught_lithuania"), "sum of caught_lithuania", 0.25, "cumulative flow"),
    "lt_apprehended_share_iraqi": Observation(_share_iraqi_caught_lt, "caught_lithuania_iraqi / caught_lithuania", 0.25, "share", people=False),
    "repatriated_from_belarus": Observation(_sum("repatriated"), "sum of repatriated (free flights from Minsk)", 0.25, "cumulative flow"),
    "repatriated_from_belarus_cumulative": Observation(_repatriated_cum, "sum of repatriated since 18 Nov 2021", 0.15, "cumulative flow"),
    "stranded_at_borders": Observation(_on_day("in_belarus"), "in_belarus on the day (Minsk + border)", 0.0, "stock estimate"),
    "stranded_at_borders_kri": Observation(_kri_share, "in_belarus_kri / in_belarus on the day, against 7,500-8,000 of 16,500", 0.25, "share", True, people=False),
    "migrants_in_belarus": Observation(_on_day("in_belarus"), "in_belarus on the day", 0.0, "stock estimate"),
    "flights_to_minsk_from_middle_east": Observation(_flights_total(), "sum of flights_<route> (all routes to Minsk)", 0.3, "flights", people=False),
    "flights_per_week_to_minsk_from_middle_east": Observation(_flights_total(per_week=True), "flights a week, all routes", 0.3, "flights", people=False),
    "cham_wings_flights_per_week": Observation(_flights_total(["DAM"], "6Q", per_week=True), "flights a week on Cham Wings' routes", 0.3, "flights", people=False),
    "belavia_dubai_flights_per_week": Observation(_flights_total(["DXB"], "B2", per_week=True), "flights a week Belavia Dubai-Minsk", 0.3, "flights", people=False),
    "flights_to_minsk_from_dubai": Observation(_flights_total(["DXB"]), "sum of flights from DXB", 0.3, "flights", people=False),
    "belavia_beirut_flights": Observation(_flights_total(["BEY"], "B2"), "sum of flights Belavia Beirut-Minsk", 0.3, "flights", people=False),
    "iraqi_airways_baghdad_minsk_per_week": Observation(_flights_total(["BGW"], per_week=True), "flights a week from Baghdad (Iraqi Airways + Fly Baghdad)", 0.2, "flights", people=False),
    "arrived_in_belarus_by_air": Observation(_sum("arrivals_minsk"), "sum of arrivals_minsk", 0.3, "cumulative flow"),
    "arrived_in_belarus_cumulative": Observation(_sum("arrivals_minsk"), "sum of arrivals_minsk", 0.0, "estimate range"),
    "package_price_usd": Observation(_mean("package_price_usd"), "mean package_price_usd over the period", 0.15, "price", people=False),
    "deaths_at_border": Observation(_sum("deaths"), "sum of deaths (all segments)", 1.0, "small count"),
}
# estimates of the same stock by interested parties: the record's README says to treat them
# together as one range (7,000 by Belarus .. 17,000 by the KRG)
STOCK_ESTIMATES = ("stranded_at_borders", "migrants_in_belarus")
# inputs of the model, not outputs: they are used to set parameters, not to check them
INPUTS = {"visa_price_usd", "smuggling_fee_usd", "monthly_wage_iraq_usd"}


def compare(daily: pd.DataFrame, targets: list[Target] | None = None, scale: float = 1.0) -> pd.DataFrame:
    """One row per target: record (value, low, high), model value, tolerance band and verdict.

    ``scale`` is the run's sampling fraction (population.size / population.pool): counts of
    people are divided by it to compare with the record.
    """
    targets = load_targets() if targets is None else targets
    rows = []
    stock = [t for t in targets if t.metric in STOCK_ESTIMATES]
    stock_low = min((t.low for t in stock), default=0.0)
    stock_high = max((t.high for t in stock), default=0.0)
    for t in targets:
        if t.metric in INPUTS:
            continue
        obs = OBSERVATION.get(t.metric)
        if obs is None:
            raise ConfigError(f"{TARGETS_CSV.name}: no observation model for metric {t.metric!r}; add one to sim/studies/targets.py")
        value, low, high = t.value, t.low, t.high
        if t.metric in STOCK_ESTIMATES:
            low, high = stock_low, stock_high
        if obs.scale_to_record:  # a share of a stock estimate: compare shares
            total = 16500.0
            value, low, high = value / total, low / total, high / total
        model = obs.model(daily, t) / (scale if obs.people else 1.0)
        lo_ok, hi_ok = low * (1 - obs.tol), high * (1 + obs.tol)
        rows.append({
            "metric": t.metric, "period": f"{t.start}..{t.end}", "record": value, "low": low, "high": high,
            "model": model, "band_low": lo_ok, "band_high": hi_ok, "within": bool(lo_ok <= model <= hi_ok),
            "kind": obs.kind, "model_output": obs.output, "counts": t.counts,
        })
    return pd.DataFrame(rows)


def compare_seeds(runs: list[tuple[pd.DataFrame, float]], targets: list[Target] | None = None) -> pd.DataFrame:
    """:func:`compare` over several runs (daily table, scale) of one scenario with different seeds.

    ``model`` is the mean across seeds (the verdict uses it), ``model_p5``/``model_p95`` the
    5th and 95th percentiles, ``seeds`` how many runs.
    """

    tables = [compare(d, targets, scale) for d, scale in runs]
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
    return compare_seeds(runs)


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
    tol = np.array([max(OBSERVATION[k].tol, MIN_TOL) for k in table["metric"]])
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
    "caught": "people caught inside and kept (what Lithuania's 'apprehended' counts)",
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
