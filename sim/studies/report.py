"""The comparison report: each scenario's effect against the baseline, for policy readers.

From an ensemble (:mod:`sim.studies.ensemble`: every scenario run with the same seeds) this module
computes, in real people (simulated rows × pool/size):

- **paired effects** (:func:`paired_effects`): per seed, scenario minus baseline for each
  outcome of :data:`OUTCOMES`; their mean, the 5th–95th percentile of the per-seed effects (how
  much one replay of the year can differ: the *spread*), and a 90 % t-interval of the mean
  effect (how well the seeds pin the average down: the *confidence interval*);
- **mechanisms** (:func:`run_metrics`, :func:`mechanism_paragraph`): where arrivals came from
  (direct routes, each hub), rerouting through hubs, the split of border attempts between
  segments (displacement), repatriation seats offered and filled, stranding at hubs and in
  the transit country — compared as paired means and written as a paragraph per scenario;
- **what changed** (:func:`lever_changes`): the levers whose config differs from the baseline,
  and when they acted in the runs (a trigger's date comes from the runs);
- **weekly bands** (:func:`weekly_band`): 5–95 % over seeds of weekly arrivals, people at the
  border, attempts per segment, got through and repatriated, drawn per scenario against the
  baseline's band (:func:`plot_scenario`), and the effects at a glance (:func:`plot_effects`).

:func:`write_report` writes ``report.md``, ``effects.csv``, ``runs.parquet`` (the ensemble's
summary table), ``failures.csv`` and ``figures/*.png``. Nothing here is written by hand: every
number and sentence comes from the runs, and every place is named as the world's config names
it (:class:`sim.running.labels.Labels`); the baseline is the scenarios' own (``meta.baseline``)
unless one is given, and each scenario is introduced by its ``meta.title`` and its question. Figures use
matplotlib's object API (Agg canvas), as :mod:`sim.running.figures` does.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from scipy import stats

from sim.model.config import Config, to_dict
from sim.running.figures import DPI, WIDTH_IN, date_axis, thousands
from sim.running.labels import (
    Labels,
    baseline_of,
    metric_words,
    place,
    scenario_question,
    scenario_title,
)
from sim.running.run import git_revision
from sim.studies.ensemble import EnsembleResult

LEVEL = 0.90  # the intervals' coverage
LOW_Q, HIGH_Q = 5.0, 95.0  # percentiles of the spread across seeds, and of the weekly bands


@dataclass(frozen=True)
class Outcome:
    """An outcome of the effects table: a key of the run summary (in real people). Its words
    name places through :meth:`Labels.say`'s fields (``{city}``, ``{transit}``)."""

    key: str
    label: str
    unit: str  # people | attempts | person-days | USD | days
    short: str = ""  # in a sentence (lower case, proper nouns kept)


OUTCOMES = [
    Outcome("arrivals", "Arrivals in {city}", "people", "arrivals in {city}"),
    Outcome("reached_destination", "Reached {destination}", "people", "reached {destination}"),
    Outcome("applied", "Registered at crossing points", "people", "registered at crossing points"),
    Outcome("got_through", "Got through unseen", "people", "got through unseen"),
    Outcome("attempts", "Border attempts", "attempts", "border attempts"),
    Outcome("peak_in_transit_country", "Peak number in {transit}", "people", "peak number in {transit}"),
    Outcome("peak_day", "Date of the peak in {transit}", "days", "date of the peak"),
    Outcome(
        "person_days_in_transit_country", "Person-days in {transit}", "person-days", "person-days in {transit}"
    ),
    Outcome("repatriated", "Repatriated on free flights", "people", "repatriated"),
    Outcome("deaths", "Deaths at the border", "people", "deaths"),
    Outcome("paid_agencies_usd", "Paid to travel agencies", "USD", "money paid to agencies"),
    Outcome("paid_airlines_usd", "of which airline fares", "USD", "airline fares"),
    Outcome("paid_smugglers_usd", "Paid to smugglers", "USD", "money paid to smugglers"),
]
SHORT = {o.key: o.short for o in OUTCOMES}
REL = 0.01  # a mechanism is described when it moved by more than this share of the baseline

SCENARIO_COLOR = "#d95f02"
BASE_COLOR = "0.45"


# --------------------------------------------------------------------------------------
# the baseline and the words: from the scenarios' configs
# --------------------------------------------------------------------------------------


def ensemble_baseline(ens: EnsembleResult, baseline: str | None = None) -> str:
    """``baseline`` if given; else the scenarios' own: the first scenario's ``meta.baseline``
    (its own name when it sets none)."""
    if baseline is not None:
        return baseline
    return baseline_of(next(iter(ens.configs.values())))


def ensemble_labels(ens: EnsembleResult, baseline: str | None = None) -> Labels:
    """The words of the ensemble's world, from the baseline's config (or the first scenario's)."""
    cfg = ens.configs.get(ensemble_baseline(ens, baseline)) or next(iter(ens.configs.values()))
    return Labels.of(cfg)


# --------------------------------------------------------------------------------------
# numbers per run, and paired effects
# --------------------------------------------------------------------------------------


def run_metrics(ens: EnsembleResult) -> pd.DataFrame:
    """One row per finished run, in real people: the summary (as
    :meth:`EnsembleResult.summary_table`), plus ``peak_day`` (days since the run's start),
    ``arrivals_via_hubs`` and ``arrivals_direct`` (arrivals on routes from a hub, and not).
    Empty when no run finished."""
    table = ens.summary_table()
    if table.empty or not (table["status"] == "ok").any():
        return pd.DataFrame()
    table = table[table["status"] == "ok"].reset_index(drop=True)
    start = {sc: cfg.run.start for sc, cfg in ens.configs.items()}
    table["peak_day"] = [
        (dt.date.fromisoformat(d) - start[sc]).days if d else np.nan
        for sc, d in zip(table["scenario"], table["peak_in_transit_country_date"], strict=True)
    ]
    hubs = [f"total_arrivals_from_{h}" for h in ens.hubs if f"total_arrivals_from_{h}" in table]
    table["arrivals_via_hubs"] = table[hubs].sum(axis=1) if hubs else 0.0
    table["arrivals_direct"] = table["arrivals"] - table["arrivals_via_hubs"]
    return table


def _t_interval(diffs: np.ndarray) -> tuple[float, float]:

    n = diffs.size
    if n < 2:
        return math.nan, math.nan
    half = stats.t.ppf(0.5 + LEVEL / 2, n - 1) * diffs.std(ddof=1) / math.sqrt(n)
    mean = diffs.mean()
    return float(mean - half), float(mean + half)


def paired(
    metrics: pd.DataFrame, scenario: str, baseline: str, key: str
) -> tuple[np.ndarray, np.ndarray]:
    """(scenario values, baseline values) of ``key`` on the seeds both finished, seed-aligned."""
    s = metrics.loc[metrics["scenario"] == scenario].set_index("seed")[key]
    b = metrics.loc[metrics["scenario"] == baseline].set_index("seed")[key]
    seeds = s.index.intersection(b.index).sort_values()
    return s.loc[seeds].to_numpy(dtype=float), b.loc[seeds].to_numpy(dtype=float)


def paired_effects(
    ens: EnsembleResult, baseline: str | None = None, metrics: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The effects table: one row per (scenario, outcome), scenario − baseline per seed
    (``baseline``: :func:`ensemble_baseline`).

    Columns: ``scenario``, ``outcome``, ``label`` (in the words of the world), ``unit``, ``n_seeds`` (paired seeds),
    ``baseline_mean``, ``scenario_mean``, ``effect_mean``, ``effect_pct`` (of the baseline
    mean), ``spread_p05``/``spread_p95`` (5th and 95th percentiles of the per-seed effects),
    ``ci90_low``/``ci90_high`` (90 % t-interval of the mean effect), ``sd_effect``,
    ``sd_baseline`` (standard deviations across seeds), ``clear`` (the t-interval excludes 0).
    For ``peak_day`` the means are days since the run's start and the effect is a shift in days.
    """
    m = run_metrics(ens) if metrics is None else metrics
    baseline = ensemble_baseline(ens, baseline)
    say = ensemble_labels(ens, baseline).say
    rows = []
    for sc in ens.scenarios:
        if sc == baseline:
            continue
        for o in OUTCOMES:
            s, b = paired(m, sc, baseline, o.key) if not m.empty and o.key in m else (np.zeros(0), np.zeros(0))
            if s.size and not (s.any() or b.any()):
                continue  # nothing of the kind in this world (no crossing points, no green border crossed): no row
            d = s - b
            n = d.size
            lo, hi = _t_interval(d)
            bm = float(b.mean()) if n else math.nan
            em = float(d.mean()) if n else math.nan
            rows.append(
                {
                    "scenario": sc,
                    "outcome": o.key,
                    "label": say(o.label),
                    "unit": o.unit,
                    "n_seeds": n,
                    "baseline_mean": bm,
                    "scenario_mean": float(s.mean()) if n else math.nan,
                    "effect_mean": em,
                    "effect_pct": 100.0 * em / bm if n and bm and o.unit != "days" else math.nan,
                    "spread_p05": float(np.percentile(d, LOW_Q)) if n else math.nan,
                    "spread_p95": float(np.percentile(d, HIGH_Q)) if n else math.nan,
                    "ci90_low": lo,
                    "ci90_high": hi,
                    "sd_effect": float(d.std(ddof=1)) if n > 1 else math.nan,
                    "sd_baseline": float(b.std(ddof=1)) if n > 1 else math.nan,
                    "clear": bool(n > 1 and (lo > 0 or hi < 0)),
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------
# what changed: lever differences from the baseline
# --------------------------------------------------------------------------------------


def _date(value: Any) -> str:
    d = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    return f"{d.day} {d:%b %Y}"


def describe_when(when: dict[str, Any], labels: Labels | None = None) -> str:
    """A schedule in words: ``from 6 Aug 2021``, ``on 10 days from ...``, ``when ... ``
    (a trigger's metric in the words of ``labels``, the world's)."""
    parts = []
    trig = when.get("trigger")
    if trig:
        cmp = (
            f"above {trig['above']:,.0f}"
            if trig.get("above") is not None
            else f"below {trig['below']:,.0f}"
        )
        lag = int(trig.get("lag_days") or 0)
        what = metric_words(trig["metric"], labels or Labels())
        parts.append(
            f"once {what} stayed {cmp} for {int(trig.get('for_days') or 1)} days"
            + (f", acting {lag} days later" if lag else "")
        )
        if when.get("duration_days"):
            parts.append(f"for {int(when['duration_days'])} days")
    dates = when.get("dates")
    if dates:
        ds = sorted(dates, key=str)
        parts.append(
            "on "
            + (
                ", ".join(_date(d) for d in ds)
                if len(ds) <= 3
                else f"{len(ds)} days from {_date(ds[0])} to {_date(ds[-1])}"
            )
        )
    if when.get("start") and not dates:
        parts.append(f"from {_date(when['start'])}")
    if when.get("end"):
        parts.append(f"to {_date(when['end'])}")
    if when.get("ramp_days"):
        parts.append(f"ramping up over {int(when['ramp_days'])} days")
    return " ".join(parts) if parts else "throughout the run"


def lever_changes(scenario: Config, baseline: Config) -> list[str]:
    """The levers whose config differs from the baseline, one phrase each (Markdown).

    More than five levers switched off are named in one phrase instead of one each.
    """
    labels = Labels.of(scenario)
    out: list[str] = []
    off: list[tuple[str, str]] = []  # (name, phrase) of baseline levers that do not act here
    s_levers, b_levers = to_dict(scenario.levers), to_dict(baseline.levers)
    for name in sorted(set(s_levers) | set(b_levers)):
        s, b = s_levers.get(name), b_levers.get(name)
        if s == b:
            continue
        ref = s or b
        what = f"`{name}` ({ref['kind'].replace('_', ' ')}, {ref['actor']})"
        s_on, b_on = bool(s and s["enabled"]), bool(b and b["enabled"])
        if s_on and not b_on:
            out.append(
                f"{what} acts, {describe_when(s['when'], labels)} ({'off in' if b else 'not in'} the baseline)"
            )
        elif b_on and not s_on:
            off.append((name, f"{what} does not act (in the baseline: {describe_when(b['when'], labels)})"))
        elif s_on and b_on:
            bits = []
            if s["when"] != b["when"]:
                bits.append(f"{describe_when(s['when'], labels)} instead of {describe_when(b['when'], labels)}")
            params = sorted(
                k
                for k in set(s) | set(b)
                if k not in {"kind", "actor", "enabled", "when", "note"} and s.get(k) != b.get(k)
            )
            bits += [f"{k} = {s.get(k)!r} instead of {b.get(k)!r}" for k in params]
            if bits:
                out.append(f"{what} acts " + "; ".join(bits))
    if len(off) > 5:
        return [
            f"{len(off)} levers of the baseline do not act: " + ", ".join(f"`{n}`" for n, _ in off),
            *out,
        ]
    return [phrase for _, phrase in off] + out


def lever_firsts(ens: EnsembleResult, scenario: str, lever: str) -> list[str]:
    """First day the lever acted in each finished run of the scenario (ISO dates)."""
    return [
        r.levers[lever]["first"]
        for (sc, _), r in ens.runs.items()
        if sc == scenario and lever in r.levers
    ]


def changed_levers(ens: EnsembleResult, scenario: str, baseline: str) -> list[str]:
    s, b = to_dict(ens.configs[scenario].levers), to_dict(ens.configs[baseline].levers)
    return [n for n in sorted(set(s) | set(b)) if s.get(n) != b.get(n)]


def lever_timing(ens: EnsembleResult, scenario: str, baseline: str) -> list[str]:
    """For each changed lever scheduled by a trigger, when it acted first in the runs."""
    out = []
    for name in changed_levers(ens, scenario, baseline):
        spec = ens.configs[scenario].levers.get(name)
        if spec is None or not spec.enabled or spec.when.trigger is None:
            continue
        firsts = sorted(lever_firsts(ens, scenario, name))
        n = len(ens.seeds_of(scenario))
        if not firsts:
            out.append(f"`{name}`'s trigger never fired in the {n} runs")
            continue
        med = firsts[len(firsts) // 2]
        text = f"`{name}`'s trigger fired in {len(firsts)} of {n} runs, first acting on {_date(med)} (median)"
        if firsts[0] != firsts[-1]:
            text += f", between {_date(firsts[0])} and {_date(firsts[-1])}"
        out.append(text)
    return out


# --------------------------------------------------------------------------------------
# mechanisms, in words
# --------------------------------------------------------------------------------------


def _sig(x: float, digits: int = 3) -> float:
    """``x`` rounded to ``digits`` significant figures (for reading, not for computing)."""
    if not x or not math.isfinite(x):
        return x
    return round(x, -int(math.floor(math.log10(abs(x)))) + digits - 1)


def fmt_n(x: float, unit: str = "people", signed: bool = False) -> str:
    """A number for a reader: 3 significant figures, thousands separators, USD in millions;
    a mean under 10 keeps one decimal. Nothing that rounds to zero carries a sign."""
    if x is None or not math.isfinite(x):
        return "n/a"
    a = abs(x)
    if unit == "USD":  # always in millions, so an interval reads in one unit
        m = a / 1e6
        text = f"{m:,.{2 if m < 10 else (1 if m < 100 else 0)}f}"
        suffix = " M USD"
    elif unit == "days":
        text, suffix = (f"{a:.1f}", " days") if signed else (f"{a:.0f}", " days")
    elif a < 10 and a != round(a):
        text, suffix = f"{a:.1f}", ""
    else:
        text, suffix = f"{_sig(a):,.0f}", ""
    zero = not any(ch in "123456789" for ch in text)
    if zero and not suffix:
        text = "0"
    sign = "" if zero else ("+" if signed and x > 0 else ("−" if x < 0 else ""))
    return f"{sign}{text}{suffix}"


def fmt_pct(x: float, signed: bool = True) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    sign = "+" if signed and x > 0 else ("−" if x < 0 else "")
    return f"{sign}{abs(x):.{0 if abs(x) >= 10 else 1}f} %"


def _share(a: float, b: float) -> float:
    return 100.0 * a / b if b else math.nan


class _Pair:
    """Paired means of one scenario and the baseline, with a noise test per key."""

    def __init__(self, metrics: pd.DataFrame, scenario: str, baseline: str) -> None:
        self.m, self.sc, self.base = metrics, scenario, baseline

    def __call__(self, key: str) -> tuple[float, float]:
        """(baseline mean, scenario mean) over the paired seeds (0, 0 if the key is absent)."""
        if key not in self.m:
            return 0.0, 0.0
        s, b = paired(self.m, self.sc, self.base, key)
        return (float(b.mean()), float(s.mean())) if s.size else (math.nan, math.nan)

    def moved(self, key: str, rel: float = REL) -> bool:
        """True if the mean changed by more than ``rel`` of the baseline and beyond seed noise."""
        if key not in self.m:
            return False
        s, b = paired(self.m, self.sc, self.base, key)
        d = s - b
        if d.size == 0 or not np.any(d):
            return False
        big = abs(d.mean()) > rel * max(abs(b.mean()), 1.0)
        if d.size < 2:
            return big
        lo, hi = _t_interval(d)
        return big and (lo > 0 or hi < 0)

    def change(self, key: str, unit: str = "people") -> str:
        b, s = self(key)
        pct = f", {fmt_pct(_share(s - b, b))}" if b else ""
        return f"{fmt_n(b, unit)} → {fmt_n(s, unit)} ({fmt_n(s - b, unit, signed=True)}{pct})"


def mechanism_paragraph(
    ens: EnsembleResult,
    scenario: str,
    baseline: str | None = None,
    metrics: pd.DataFrame | None = None,
    effects: pd.DataFrame | None = None,
) -> str:
    """What changed and through which mechanism, in words, computed from the paired runs.

    Each clause compares paired means (baseline → scenario, in real people). A topic (routes,
    border, stranding, returns, money) is described when one of its numbers moved by more than
    1 % of the baseline (:data:`REL`) and beyond seed noise (its 90 % t-interval excludes zero); otherwise the
    paragraph says the topic did not change. Places are named in the words of the world.
    """
    baseline = ensemble_baseline(ens, baseline)
    labels = ensemble_labels(ens, baseline)
    city, transit = labels.city, labels.transit
    m = run_metrics(ens) if metrics is None else metrics
    eff = paired_effects(ens, baseline, m) if effects is None else effects
    p = _Pair(m, scenario, baseline)
    n = len(paired(m, scenario, baseline, "attempts")[0]) if not m.empty else 0
    if n == 0:
        return "No seed finished for both this scenario and the baseline: nothing to compare."
    identical = all(np.array_equal(*paired(m, scenario, baseline, o.key)) for o in OUTCOMES)
    out: list[str] = []

    # headline: the clear effects, largest relative change first
    e = eff[
        (eff["scenario"] == scenario)
        & eff["clear"]
        & ~eff["outcome"].isin(["peak_day", "paid_airlines_usd"])
    ]
    e = e[e["effect_pct"].abs() >= 1.0]
    if identical:
        out.append(
            f"Seed by seed, the runs are identical to the baseline's ({n} seeds): "
            "in this model and window the change does not alter any outcome."
        )
        return " ".join(out)
    if e.empty:
        out.append(
            f"No outcome of the table moves by 1 % or more beyond seed noise ({n} paired seeds)."
        )
    else:
        e = e.reindex(e["effect_pct"].abs().sort_values(ascending=False).index).head(4)
        items = [
            f"{labels.say(SHORT[r.outcome])} {fmt_pct(r.effect_pct)} ({fmt_n(r.effect_mean, r.unit, signed=True)})"
            for r in e.itertuples()
        ]
        out.append(f"In short ({n} paired seeds): " + "; ".join(items) + ".")

    # routes: direct vs hubs
    hub_keys = [f"total_arrivals_from_{h}" for h in ens.hubs]
    direct_keys = [
        c for c in m.columns if c.startswith("total_arrivals_from_") and c not in hub_keys
    ]
    route_keys = [
        "arrivals",
        "arrivals_via_hubs",
        "arrivals_direct",
        "rerouted_via_hub",
        *hub_keys,
    ]
    if any(p.moved(k) for k in route_keys):
        bh, sh = p("arrivals_via_hubs")
        ba, sa = p("arrivals")
        states = sorted(
            {
                ens.configs[scenario].world.airports.get(
                    k.removeprefix("total_arrivals_from_"), "?"
                )
                for k in direct_keys
            }
        )
        where = " and ".join(states) if states else "the origins"
        share_b, share_s = fmt_pct(_share(bh, ba), False), fmt_pct(_share(sh, sa), False)
        text = (
            f"Arrivals in {city}: {p.change('arrivals')}. Flights direct from {where} carried "
            f"{p.change('arrivals_direct')}; flights from the hubs {p.change('arrivals_via_hubs')}, so "
            + (
                f"the hubs' share of arrivals stayed at {share_b}"
                if share_b == share_s
                else f"the hubs' share of arrivals went from {share_b} to {share_s}"
            )
        )
        # every hub whose arrivals changed by 1 % of the baseline's arrivals or more, largest first
        moves = sorted(
            (
                (p(k)[1] - p(k)[0], k.removeprefix("total_arrivals_from_"))
                for k in hub_keys
                if k in m
            ),
            key=lambda t: -abs(t[0]),
        )
        moves = [(d, h) for d, h in moves if abs(d) >= max(REL * ba, 1.0)]
        if moves:
            text += (
                " (by hub: "
                + ", ".join(f"{h} {fmt_n(d, signed=True)}" for d, h in moves)
                + ")"
            )
        br, sr = p("rerouted_via_hub")
        text += (
            f". Agencies sent {fmt_n(sr)} ticketed people through a hub when no direct flight would "
            f"carry them ({fmt_n(br)} in the baseline)."
        )
        out.append(text)
    else:
        out.append(
            f"Arrivals in {city} and the routes they took: no change of 1 % or more beyond seed noise."
        )

    # border: volume, displacement between segments, success per attempt
    segs = [s for s in ens.segments if f"attempts_{s}" in m]
    seg_keys = ["attempts", "got_through", *[f"attempts_{s}" for s in segs]]
    if any(p.moved(k) for k in seg_keys):
        ba, sa = p("attempts")
        shares = [
            (s, _share(p(f"attempts_{s}")[0], ba), _share(p(f"attempts_{s}")[1], sa)) for s in segs
        ]
        shift = max(shares, key=lambda t: abs(t[2] - t[1])) if shares else None
        text = (
            f"Border attempts: {p.change('attempts', 'attempts')}. Split between segments: "
            + ", ".join(
                f"{place(s)} {fmt_pct(b, False)} → {fmt_pct(v, False)}" for s, b, v in shares
            )
        )
        if shift and abs(shift[2] - shift[1]) >= 1.0:
            word = "towards" if shift[2] > shift[1] else "away from"
            pts = shift[2] - shift[1]
            text += f" (displacement {word} {place(shift[0])}: {'+' if pts > 0 else '−'}{abs(pts):.1f} points)"
        else:
            text += " (no displacement between segments: shares within a point)"
        bg, sg = p("got_through")
        text += (
            f". Got through unseen: {p.change('got_through')}; per attempt "
            f"{fmt_pct(_share(bg, ba), False)} → {fmt_pct(_share(sg, sa), False)}."
        )
        out.append(text)
    else:
        out.append(
            "Border attempts, their split between segments and the number getting through: no change "
            "of 1 % or more beyond seed noise."
        )

    # stranding: in the transit country, at hubs, trips cancelled
    strand_keys = [
        "peak_in_transit_country",
        "person_days_in_transit_country",
        "total_stranded_at_hub_went_home",
        "total_cancelled",
    ]
    if any(p.moved(k) for k in strand_keys):
        bd, sd = p("peak_day")
        start = ens.configs[scenario].run.start
        when_b = _date(start + dt.timedelta(days=round(bd))) if math.isfinite(bd) else "n/a"
        when_s = _date(start + dt.timedelta(days=round(sd))) if math.isfinite(sd) else "n/a"
        text = (
            f"Stranding: the peak in {transit} went {p.change('peak_in_transit_country')}, on average around "
            f"{when_b} in the baseline and {when_s} here; person-days in {transit} "
            f"{p.change('person_days_in_transit_country', 'person-days')}. People stuck at a hub who went home: "
            f"{p.change('total_stranded_at_hub_went_home')}; trips cancelled before departure "
            f"(no visa channel, no flight, or no money for a detour): {p.change('total_cancelled')}."
        )
        out.append(text)
    else:
        out.append(
            f"Stranding in {transit} and at the hubs: no change of 1 % or more beyond seed noise."
        )

    # returns: seats offered and filled
    ret_keys = ["repatriated", "total_repatriation_seats", "returned_own_ticket"]
    if any(p.moved(k) for k in ret_keys):
        bs, ss = p("total_repatriation_seats")
        br, sr = p("repatriated")
        fill = (
            f", {fmt_pct(_share(br, bs), False)} → {fmt_pct(_share(sr, ss), False)} of them filled"
            if bs and ss
            else ""
        )
        out.append(
            f"Returns: free repatriation seats offered {p.change('total_repatriation_seats')}{fill}; "
            f"repatriated {p.change('repatriated')}; went home on their own ticket "
            f"{p.change('returned_own_ticket')}."
        )
    else:
        out.append(
            "Returns (repatriation flights and own tickets): no change of 1 % or more beyond seed noise."
        )

    # money
    money = [("paid_agencies_usd", "to travel agencies"), ("paid_smugglers_usd", "to smugglers")]
    moved = [(k, w) for k, w in money if p.moved(k)]
    if moved:
        out.append(
            "Money paid by migrants: "
            + "; ".join(f"{w} {p.change(k, 'USD')}" for k, w in moved)
            + "."
        )
    return " ".join(out)


# --------------------------------------------------------------------------------------
# weekly bands and figures
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    """A weekly series of the scenario figures."""

    name: str
    title: str
    ylabel: str
    columns: Callable[[EnsembleResult], list[str]]
    how: str = "sum"  # sum: a flow per week; mean: a stock, the week's average of end-of-day values


def series_list(ens: EnsembleResult) -> list[Series]:
    """The panels of a scenario figure, in order (places in the words of the world)."""
    city = ensemble_labels(ens).city
    out = [
        Series("arrivals", f"Arrivals in {city}", "people per week", lambda e: ["arrivals"]),
        Series(
            "arrivals_hubs",
            f"Arrivals in {city} on flights from a hub (" + ", ".join(ens.hubs) + ")",
            "people per week",
            lambda e: [f"arrivals_from_{h}" for h in e.hubs],
        ),
        Series(
            "at_border",
            "People at the border (average of the week)",
            "people",
            lambda e: ["at_border"],
            "mean",
        ),
    ]
    out += [
        Series(
            f"attempts_{s}",
            f"Attempts to cross, {place(s)} segment",
            "attempts per week",
            lambda e, s=s: [f"attempts_{s}"],
        )
        for s in ens.segments
    ]
    out += [
        Series(
            "got_through",
            "Got through unseen (all segments)",
            "people per week",
            lambda e: ["got_through"],
        ),
        Series(
            "repatriated",
            "Repatriated on free flights",
            "people per week",
            lambda e: ["repatriated"],
        ),
    ]
    return out


def weekly_runs(ens: EnsembleResult, scenario: str, series: Series) -> pd.DataFrame:
    """Weekly values (real people) of one series, one column per finished seed, indexed by the
    Monday of each whole week (partial weeks at the ends are left out)."""
    cols = {}
    for seed in ens.seeds_of(scenario):
        run = ens.runs[(scenario, seed)]
        d = run.daily
        names = [c for c in series.columns(ens) if c in d]
        values = d[names].sum(axis=1).to_numpy(dtype=float) * run.per_row
        s = pd.Series(values, index=pd.DatetimeIndex(pd.to_datetime(d["date"])))
        g = s.resample("W-MON", label="left", closed="left")
        agg = g.sum() if series.how == "sum" else g.mean()
        cols[seed] = agg[g.count() == 7]
    return pd.DataFrame(cols)


def weekly_band(ens: EnsembleResult, scenario: str, series: Series) -> pd.DataFrame:
    """Columns ``low``, ``median``, ``high``: 5th, 50th, 95th percentile over seeds per week."""
    w = weekly_runs(ens, scenario, series)
    if w.empty:
        return pd.DataFrame(columns=["low", "median", "high"])
    q = np.percentile(w.to_numpy(), [LOW_Q, 50.0, HIGH_Q], axis=1)
    return pd.DataFrame({"low": q[0], "median": q[1], "high": q[2]}, index=w.index)


def _band(ax: Axes, band: pd.DataFrame, color: str, dashed: bool = False) -> None:
    if band.empty:
        return
    band = band.set_axis(band.index + pd.Timedelta(days=3.5))  # drawn at the middle of each week
    ax.fill_between(
        band.index,
        band["low"],
        band["high"],
        color=color,
        alpha=0.25 if not dashed else 0.18,
        lw=0,
        step=None,
    )
    ax.plot(
        band.index,
        band["median"],
        color=color,
        lw=1.1 if dashed else 1.6,
        ls="--" if dashed else "-",
    )


def lever_marks(
    ens: EnsembleResult, scenario: str, baseline: str | None
) -> list[tuple[str, pd.Timestamp]]:
    """(lever, median first day it acted) for the levers that differ from the baseline (every
    lever that acted when ``baseline`` is None)."""
    marks = []
    names = (
        changed_levers(ens, scenario, baseline)
        if baseline is not None
        else sorted({n for (sc, _), r in ens.runs.items() if sc == scenario for n in r.levers})
    )
    for name in names:
        firsts = sorted(lever_firsts(ens, scenario, name))
        if firsts:
            marks.append((name, pd.Timestamp(firsts[len(firsts) // 2])))
    return marks


def plot_scenario(ens: EnsembleResult, scenario: str, baseline: str | None) -> Figure:
    """Weekly bands (5–95 % over seeds) of the scenario, each against the baseline's band
    (none when ``baseline`` is None or the scenario itself)."""
    panels = series_list(ens)
    ncols = 2
    nrows = math.ceil(len(panels) / ncols)
    fig = Figure(figsize=(WIDTH_IN, 1.3 + 2.35 * nrows), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, sharex=True, squeeze=False).ravel()
    compare = baseline is not None and baseline != scenario and baseline in ens.configs
    marks = lever_marks(ens, scenario, baseline if compare else None)
    mark_color = SCENARIO_COLOR if compare else "0.6"
    for ax, series in zip(axes, panels, strict=False):
        if compare:
            _band(ax, weekly_band(ens, baseline, series), BASE_COLOR, dashed=True)
        _band(ax, weekly_band(ens, scenario, series), SCENARIO_COLOR if compare else "#4575b4")
        for _, day in marks:
            ax.axvline(day, color=mark_color, lw=0.9 if compare else 0.6, ls=(0, (2, 2)), zorder=0)
        ax.set_title(series.title, loc="left", fontsize=9.5)
        ax.set_ylabel(series.ylabel, fontsize=8.5)
        date_axis(ax)
        thousands(ax, 5)
        ax.set_ylim(bottom=0)
        ax.tick_params(labelsize=8)
        ax.xaxis.set_tick_params(labelbottom=True)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    n = len(ens.seeds_of(scenario))
    color = SCENARIO_COLOR if compare else "#4575b4"
    handles = [Patch(color=color, alpha=0.35, lw=0), Line2D([], [], color=color, lw=1.6)]
    labels = [f"{scenario}: 5–95 % of {n} seeds", f"{scenario}: median"]
    if compare:
        handles += [
            Patch(color=BASE_COLOR, alpha=0.25, lw=0),
            Line2D([], [], color=BASE_COLOR, lw=1.1, ls="--"),
        ]
        labels += [f"{baseline}: 5–95 %", f"{baseline}: median"]
    if marks and compare:
        handles.append(Line2D([], [], color=mark_color, lw=0.9, ls=(0, (2, 2))))
        names = [name for name, _ in marks]
        labels.append(
            "a changed lever first acts (median day over seeds): "
            + (
                ", ".join(names)
                if len(names) <= 3
                else f"{len(names)} levers (listed in the report)"
            )
        )
    elif marks:
        handles.append(Line2D([], [], color=mark_color, lw=0.6, ls=(0, (2, 2))))
        labels.append("a policy lever first acts (median day over seeds)")
    title = f"{scenario}" + (f" against {baseline}" if compare else "") + ": weekly, in real people"
    fig.suptitle(title, fontsize=12.5)
    legend = fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncols=2,
        fontsize=8.5,
        frameon=False,
        title="bands: 5th to 95th percentile over seeds of each week's value; whole weeks (Monday to "
        "Sunday) only; counts scaled from the simulated sample to the pool of real people",
        title_fontsize=8,
    )
    legend.get_title().set_color("0.35")
    return fig


def plot_effects(effects: pd.DataFrame, baseline: str) -> Figure:
    """Each outcome's effect per scenario: mean (dot), 90 % t-interval of the mean (thick bar),
    5–95 % of the per-seed effects (thin line); one panel per outcome, titled by the effects
    table's ``label``."""
    outcomes = [o for o in OUTCOMES if o.key in set(effects["outcome"])]
    label = dict(zip(effects["outcome"], effects["label"], strict=True))
    scenarios = list(dict.fromkeys(effects["scenario"]))
    ncols = 3
    nrows = max(1, math.ceil(len(outcomes) / ncols))
    fig = Figure(
        figsize=(WIDTH_IN * 1.2, 1.2 + nrows * (0.6 + 0.24 * len(scenarios))),
        dpi=DPI,
        layout="constrained",
    )
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, sharey=True, squeeze=False).ravel()
    y = np.arange(len(scenarios))
    for ax, o in zip(axes, outcomes, strict=False):
        e = effects[effects["outcome"] == o.key].set_index("scenario").reindex(scenarios)
        scale = 1e6 if o.unit == "USD" else 1.0
        clear = e["clear"].fillna(False).to_numpy(dtype=bool)
        colors = np.where(clear, SCENARIO_COLOR, "0.55")
        ax.hlines(y, e["spread_p05"] / scale, e["spread_p95"] / scale, color=colors, lw=1.0)
        ax.hlines(y, e["ci90_low"] / scale, e["ci90_high"] / scale, color=colors, lw=4.0)
        ax.scatter(e["effect_mean"] / scale, y, color=colors, s=16, zorder=3)
        ax.axvline(0, color="k", lw=0.7)
        unit = {"USD": "M USD", "days": "days"}.get(o.unit, o.unit)
        ax.set_title(f"{label[o.key]} ({unit})", loc="left", fontsize=9.5)
        ax.grid(axis="x", color="0.9", lw=0.8)
        ax.set_axisbelow(True)
        ax.xaxis.set_major_formatter(
            matplotlib.ticker.FuncFormatter(
                lambda v, _: f"{v:,.0f}" if abs(v) >= 10 or v == 0 else f"{v:,.1f}"
            )
        )
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(5))
        ax.tick_params(labelsize=8)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    for ax in axes[len(outcomes) :]:
        ax.set_visible(False)
    axes[0].set_yticks(y, scenarios, fontsize=8.5)
    axes[0].set_ylim(len(scenarios) - 0.5, -0.5)
    fig.suptitle(
        f"Effects against {baseline} (scenario − baseline, same seeds, real people)", fontsize=12.5
    )
    fig.supxlabel(
        "dot: mean effect; thick bar: 90 % confidence interval of the mean (t); thin line: 5th–95th "
        "percentile of the per-seed effects; orange: interval excludes zero, grey: within seed noise",
        fontsize=8,
        color="0.35",
    )
    return fig


# --------------------------------------------------------------------------------------
# the report
# --------------------------------------------------------------------------------------


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> list[str]:
    out = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(":---" if a == "l" else "---:" for a in align) + "|",
    ]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def _interval(lo: float, hi: float, unit: str) -> str:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "n/a"
    return f"{fmt_n(lo, unit, signed=True)} to {fmt_n(hi, unit, signed=True)}"


def _mean_value(value: float, unit: str, start: dt.date) -> str:
    if unit == "days":
        return _date(start + dt.timedelta(days=round(value))) if math.isfinite(value) else "n/a"
    return fmt_n(value, unit)


def effects_rows(effects: pd.DataFrame, scenario: str, start: dt.date) -> list[list[str]]:
    rows = []
    for r in effects[effects["scenario"] == scenario].itertuples():
        mark = " ◆" if r.clear else ""
        rows.append(
            [
                r.label,
                _mean_value(r.baseline_mean, r.unit, start),
                _mean_value(r.scenario_mean, r.unit, start),
                f"**{fmt_n(r.effect_mean, r.unit, signed=True)}**{mark}",
                "—" if r.unit == "days" else fmt_pct(r.effect_pct),
                _interval(r.ci90_low, r.ci90_high, r.unit),
                _interval(r.spread_p05, r.spread_p95, r.unit),
            ]
        )
    return rows


HEADLINE = [
    "arrivals",
    "reached_destination",
    "applied",
    "got_through",
    "attempts",
    "peak_in_transit_country",
    "person_days_in_transit_country",
    "repatriated",
    "deaths",
]


def _baseline_rows(metrics: pd.DataFrame, baseline: str, start: dt.date, labels: Labels) -> list[list[str]]:
    b = metrics[metrics["scenario"] == baseline]
    rows = []
    for o in OUTCOMES:
        label = labels.say(o.label)
        v = b[o.key].to_numpy(dtype=float)
        if not v.size:
            continue
        lo, hi = np.percentile(v, [LOW_Q, HIGH_Q])
        if o.unit == "days":
            rows.append(
                [
                    label,
                    _mean_value(v.mean(), "days", start),
                    f"{_mean_value(lo, 'days', start)} to {_mean_value(hi, 'days', start)}",
                ]
            )
        else:
            rows.append(
                [label, fmt_n(v.mean(), o.unit), f"{fmt_n(lo, o.unit)} to {fmt_n(hi, o.unit)}"]
            )
    return rows


def write_report(
    ens: EnsembleResult,
    out_dir: Path | str,
    baseline: str | None = None,
    command: str = "",
    extra_seconds: float = 0.0,
) -> list[Path]:
    """Write ``report.md``, ``effects.csv``, ``runs.parquet``, ``failures.csv`` and figures.

    The report is titled by the baseline's ``meta.title`` (its name if it has none) and
    introduces each scenario by its own; places are named in the words of the world.

    Args:
        ens: the ensemble; it should include ``baseline`` (otherwise only bands are drawn).
        out_dir: the report folder (created; files in it are overwritten).
        baseline: the scenario every other is compared with (default: the scenarios' own,
            :func:`ensemble_baseline`).
        command: the command line that made the report (written into it).
        extra_seconds: time spent before the ensemble's own runs (e.g. checking), for the record.

    Returns:
        the paths written.
    """


    t0 = time.perf_counter()
    out = Path(out_dir)
    figdir = out / "figures"
    figdir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    baseline = ensemble_baseline(ens, baseline)
    labels = ensemble_labels(ens, baseline)

    def question(scenario: str) -> list[str]:  # under its heading: its meta.title, the question it answers
        title, q = scenario_title(ens.configs[scenario]), scenario_question(scenario)
        return ([f"**{title}**", ""] if title != scenario else []) + ([f"*{q}*", ""] if q else [])

    metrics = run_metrics(ens)
    has_base = (
        baseline in ens.configs and not metrics.empty and (metrics["scenario"] == baseline).any()
    )
    effects = paired_effects(ens, baseline, metrics) if has_base else pd.DataFrame()

    table = ens.summary_table()
    written.append(out / "runs.parquet")
    table.to_parquet(written[-1], index=False)
    written.append(out / "effects.csv")
    effects.to_csv(written[-1], index=False)
    written.append(out / "failures.csv")
    pd.DataFrame(
        [vars(f) for f in ens.failures],
        columns=["scenario", "seed", "error_type", "message", "traceback", "seconds"],
    ).to_csv(written[-1], index=False)

    def save(fig: Figure, name: str) -> str:
        path = figdir / f"{name}.png"
        fig.savefig(path, dpi=DPI)
        written.append(path)
        return f"figures/{path.name}"

    others = [sc for sc in ens.scenarios if sc != baseline]
    any_cfg = next(iter(ens.configs.values()))
    start = any_cfg.run.start
    per_row = any_cfg.population.pool / any_cfg.population.size
    git = git_revision()
    n_runs = len(ens.seeds) * len(ens.scenarios)

    md: list[str] = [
        f"# Corridor: {scenario_title(ens.configs[baseline]) if baseline in ens.configs else baseline}",
        "",
        f"Scenarios compared with the baseline, `{baseline}`.",
        "",
        f"Made {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} by `{command or 'sim.studies.report.write_report'}` "
        f"(code {git['revision'][:10]}{', uncommitted changes' if git['dirty'] else ''}).",
        "",
        f"- **Runs:** {len(ens.scenarios)} scenarios × {len(ens.seeds)} seeds ({', '.join(map(str, ens.seeds[:8]))}"
        f"{', …' if len(ens.seeds) > 8 else ''}) = {n_runs} runs, {run_window(any_cfg)}; "
        f"{len(ens.runs)} finished, {len(ens.failures)} failed"
        + (" (listed at the end)." if ens.failures else "."),
        f"- **Scale:** each run simulates {any_cfg.population.size:,} people sampled from a pool of "
        f"{any_cfg.population.pool:,} who might leave; every number here is in real people "
        f"(simulated counts × {per_row:g}).",
        f"- **Time:** {ens.check_seconds + extra_seconds:.0f} s to compose and check every config, "
        f"{ens.seconds:.0f} s to run on {ens.n_jobs} worker process{'es' if ens.n_jobs > 1 else ''}"
        + (
            f" ({np.mean([r.seconds for r in ens.runs.values()]):.1f} s per run)"
            if ens.runs
            else ""
        )
        + ".",
        "",
        "## How to read this report",
        "",
        f"Every scenario was run with the same seeds as the baseline (`{baseline}`). A seed fixes every "
        "random draw of every person (who decides to leave when, which seat, which attempt succeeds), "
        "and the draws are the same in the scenario and the baseline (*common random numbers*). "
        "The **effect** of a scenario is therefore computed seed by seed, scenario minus baseline: "
        "the difference is what the changed levers did, not luck.",
        "",
        "- **Effect (mean):** the average of the per-seed effects.",
        f"- **90 % CI of the mean (t):** a {LEVEL * 100:.0f} % confidence interval of the average effect "
        "(mean ± t × sd / √n over the seeds). It narrows with more seeds. ◆ marks effects whose "
        "interval excludes zero (distinguishable from seed noise).",
        "- **5–95 % across seeds:** the 5th to 95th percentile of the per-seed effects: how different the "
        "effect can be in one replay of the year. It does not narrow with more seeds.",
        (
            f"- **Parameters drawn from the posterior:** replicate *i* ran every scenario with seed *i* "
            f"and the *i*-th of {len(ens.draws)} parameter sets drawn from the calibration's posterior "
            f"({', '.join(f'`{k}`' for k in ens.draws[0])}; docs/calibration.md). Both intervals "
            "therefore include the parameters' uncertainty as well as the model's own randomness."
            if ens.draws
            else "- Neither interval includes uncertainty in the model's parameters (every run used the "
            "default parameters, the calibration's best set; docs/calibration.md): they show the "
            "model's own randomness only. `--posterior data/calibration/full` draws the parameters "
            "from the posterior instead."
        ),
        "- Dates in the peak row are average dates; its effect is the shift in days.",
        "",
    ]

    if has_base and others:
        md += [
            "## Effects at a glance",
            "",
            "Mean effect against the baseline (change in % of the baseline "
            "mean); ◆: the 90 % CI of the mean excludes zero.",
            "",
        ]
        headline = [k for k in HEADLINE if k in set(effects["outcome"])]  # what this world has
        head = ["scenario", *[labels.say(next(o.label for o in OUTCOMES if o.key == k)) for k in headline]]
        rows = []
        for sc in others:
            e = effects[effects["scenario"] == sc].set_index("outcome")
            cells = [f"`{sc}`"]
            for k in headline:
                r = e.loc[k]
                unit = next(o.unit for o in OUTCOMES if o.key == k)
                cells.append(
                    f"{fmt_n(r.effect_mean, unit, signed=True)} ({fmt_pct(r.effect_pct)})"
                    f"{' ◆' if r.clear else ''}"
                )
            rows.append(cells)
        md += _table(head, rows, "l" + "r" * len(headline))
        md += [
            "",
            f"![Effects of each scenario against {baseline}]({save(plot_effects(effects, baseline), 'effects')})",
            "",
        ]
    if has_base:
        md += [f"## The baseline: `{baseline}`", "", *question(baseline)]
        md += [
            f"Mean over {len(ens.seeds_of(baseline))} seeds, and the range of 90 % of the seeds.",
            "",
        ]
        md += _table(
            ["outcome", "mean", "5–95 % across seeds"],
            _baseline_rows(metrics, baseline, start, labels),
            "lrr",
        )
        md += [
            "",
            f"![{baseline}, weekly]({save(plot_scenario(ens, baseline, None), baseline)})",
            "",
        ]

    for sc in others if has_base else ens.scenarios:
        md += [f"## {sc}", "", *question(sc)]
        if has_base:
            changes = lever_changes(ens.configs[sc], ens.configs[baseline])
            md += [
                "**What changed from the baseline:** "
                + ("; ".join(changes) if changes else "no lever differs from the baseline")
                + "."
            ]
            timing = lever_timing(ens, sc, baseline)
            if timing:
                md += ["In the runs, " + "; ".join(timing) + "."]
            md += [
                "",
                "**What happened, and through which mechanism:** "
                + mechanism_paragraph(ens, sc, baseline, metrics, effects),
                "",
            ]
            n = (
                int(effects.loc[effects["scenario"] == sc, "n_seeds"].max())
                if not effects.empty
                else 0
            )
            md += [
                f"Effects against the baseline over {n} paired seeds (◆: the 90 % CI of the mean excludes zero):",
                "",
            ]
            md += _table(
                [
                    "outcome",
                    "baseline",
                    "scenario",
                    "effect (mean)",
                    "change",
                    "90 % CI of the mean (t)",
                    "5–95 % across seeds",
                ],
                effects_rows(effects, sc, start),
                "lrrrrrr",
            )
            md += [""]
        md += [
            f"![{sc}, weekly]({save(plot_scenario(ens, sc, baseline if has_base else None), sc)})",
            "",
        ]

    if ens.failures:
        md += [
            "## Runs that failed",
            "",
            "These runs raised an error; the other runs' results are kept, and the effects above use the "
            "seeds that finished for both the scenario and the baseline. Tracebacks: `failures.csv`.",
            "",
        ]
        md += _table(
            ["scenario", "seed", "error"],
            [
                [f"`{f.scenario}`", str(f.seed), f"{f.error_type}: {f.message}".replace("|", "\\|")]
                for f in ens.failures
            ],
            "lrl",
        )
        md += [""]

    md += [
        "## Files",
        "",
        "- `report.md`: this report; `figures/*.png`: its figures.",
        "- `effects.csv`: the effects table, one row per scenario and outcome (columns described in "
        "docs/counterfactuals.md).",
        "- `runs.parquet`: one row per run (scenario, seed, status, run time, every summary total in real "
        "people).",
        "- `failures.csv`: failed runs with their tracebacks (empty when none failed).",
        "",
        f"Report written in {time.perf_counter() - t0:.0f} s.",
        "",
    ]
    (out / "report.md").write_text("\n".join(md), encoding="utf-8")
    written.insert(0, out / "report.md")
    return written


def run_window(cfg: Config) -> str:
    return f"{_date(cfg.run.start)} to {_date(cfg.run.end)} ({cfg.n_days} days)"
