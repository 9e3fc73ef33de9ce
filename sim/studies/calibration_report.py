"""The validation report of a calibration: each target against the record, with bands.

:func:`write_report` takes the full fit and (optionally) the out-of-sample fit
(:mod:`sim.studies.calibration`) and runs three ensembles in parallel on the local cores:

- **seeds**: the best set with ``seeds`` seeds at the default population size: the spread that
  is the model's own randomness at fixed parameters;
- **posterior**: ``draws`` parameter sets resampled from the full fit's posterior, each with its
  own seed, at the calibration's size: parameter uncertainty and randomness together;
- **out of sample**: the same from the fit to the targets before a day only (its spec's
  ``fit_before``), to see how well that fit predicts the targets it never saw.

It writes ``report.md`` and four figures into ``<calibration dir>/report/`` and, with
``docs=True``, the same tables into ``docs/calibration.md`` (between markers) and the figures
into ``docs/figures/``. Every number in the report is computed from those runs.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import textwrap
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.model.config import sampled_value, set_dotted
from sim.running.compose import compose_dict
from sim.running.docs import replace_section
from sim.running.paths import DOCS_DIR, PROJECT_DIR
from sim.studies.calibration import Calibration, posterior_summary
from sim.studies.ensemble import default_jobs, simulate
from sim.studies.targets import (
    Observation,
    Target,
    compare,
    distances,
    inputs,
    load_observations,
    load_targets,
    record_paths,
)

ROOT = PROJECT_DIR  # the checkout, or the working directory of an installed wheel (sim/running/paths.py)
# docs/ of the checkout; None for an installed wheel (no docs to update, nothing written into it)
DOC = DOCS_DIR / "calibration.md" if DOCS_DIR is not None else None
FIGURES = DOCS_DIR / "figures" if DOCS_DIR is not None else None
BEGIN, END = "<!-- calibration-report:begin -->", "<!-- calibration-report:end -->"
GROUPS = {
    "seeds": "best set, seeds",
    "posterior": "posterior (full fit)",
    "oos": "posterior (out-of-sample fit)",
}
COLORS = {"seeds": "#1f77b4", "posterior": "#ff7f0e", "oos": "#2ca02c"}


# --------------------------------------------------------------------------------------
# runs
# --------------------------------------------------------------------------------------


def config_with(values: dict[str, float], size: int | None, overrides: list[str]) -> dict[str, Any]:
    """The default config (with overrides) with parameter values set by their dotted keys."""

    data = compose_dict(list(overrides))
    for k, v in values.items():
        set_dotted(data, k, sampled_value(k, v))
    if size is not None:
        data["population"]["size"] = int(size)
    return data


def value_at(data: dict[str, Any], dotted: str) -> float | None:
    """The number at a dotted key of a plain config (list elements by ``id`` or ``name``), or None."""
    node: Any = data
    for part in dotted.split("."):
        if isinstance(node, list):
            node = next((x for x in node if isinstance(x, dict) and part in (x.get("id"), x.get("name"))), None)
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
        if node is None:
            return None
    return float(node) if isinstance(node, int | float) and not isinstance(node, bool) else None


def _one(config: dict[str, Any], seed: int) -> tuple[pd.DataFrame, float]:

    daily, _, per_row = simulate(config, seed)
    return daily, 1.0 / per_row


def run_sets(jobs: list[tuple[dict[str, Any], int]], n_jobs: int | None = None) -> list[tuple[pd.DataFrame, float]]:
    """Run (config, seed) jobs on the local cores; results in job order (any ``n_jobs``)."""
    from joblib import Parallel, delayed


    n = default_jobs() if n_jobs is None else n_jobs
    return list(Parallel(n_jobs=n, backend="loky", batch_size=1)(delayed(_one)(c, s) for c, s in jobs))


def seed_list(n: int, base: int = 20211118) -> list[int]:
    return [base + i for i in range(n)]


# --------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------


def target_values(runs: list[tuple[pd.DataFrame, float]]) -> tuple[pd.DataFrame, np.ndarray]:
    """The compare table of the first run (record columns) and (runs, targets) model values."""

    tables = [compare(d, None, s) for d, s in runs]
    return tables[0].drop(columns=["model", "within"]), np.array([t["model"].to_numpy(float) for t in tables])


def band_table(base: pd.DataFrame, values: dict[str, np.ndarray], fit_before: dt.date | None) -> pd.DataFrame:
    """One row per target: the record, and per group the median, 5th and 95th percentiles,
    the distance of the median (in tolerances) and whether the median is within the band."""

    out = base[["metric", "period", "record", "low", "high", "band_low", "band_high", "kind", "tol"]].copy()
    ends = [dt.date.fromisoformat(p.split("..")[1]) for p in out["period"]]
    out["held_out"] = [fit_before is not None and e >= fit_before for e in ends]

    for g, v in values.items():
        with warnings.catch_warnings():  # a share of nobody in every run (tiny runs) is NaN: shown as "—"
            warnings.simplefilter("ignore", RuntimeWarning)
            med = np.nanmedian(v, axis=0)
            out[f"{g}_p5"] = np.nanpercentile(v, 5, axis=0)
            out[f"{g}_p95"] = np.nanpercentile(v, 95, axis=0)
        out[f"{g}_median"] = med
        out[f"{g}_distance"] = distances(out.assign(model=med)).to_numpy()
        out[f"{g}_within"] = (out["band_low"] <= med) & (med <= out["band_high"])
        out[f"{g}_covers"] = (out[f"{g}_p5"] <= out["band_high"]) & (out[f"{g}_p95"] >= out["band_low"])
    return out


def overall(table: pd.DataFrame, group: str, rows: pd.Series | None = None) -> dict[str, Any]:
    """Error metrics over targets: RMS distance, within tolerance, band covering the record."""
    t = table if rows is None else table[rows]
    d = t[f"{group}_distance"].to_numpy(float)
    return {
        "targets": len(t),
        "rms_distance": float(np.sqrt(np.mean(d**2))) if len(d) else float("nan"),
        "median_distance": float(np.median(d)) if len(d) else float("nan"),
        "within": int(t[f"{group}_within"].sum()),
        "covers": int(t[f"{group}_covers"].sum()),
    }


# --------------------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------------------


def _label(r: pd.Series) -> str:
    return f"{r['metric']} {r['period']}"


def _day(d: dt.date) -> str:
    return f"{d.day} {d:%b %Y}"


def plot_targets(table: pd.DataFrame, groups: list[str], path: Path, fit_before: dt.date | None = None) -> Path:
    """Each target on one line: the model's bands as a ratio to the record's value."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(table)
    fig, ax = plt.subplots(figsize=(10, 0.36 * n + 1.6))
    y = np.arange(n)[::-1]
    ref = table["record"].to_numpy(float)
    ax.barh(y, table["band_high"] / ref - table["band_low"] / ref, left=table["band_low"] / ref, height=0.8,
            color="#dddddd", label="tolerance band around the record's range")
    ax.barh(y, table["high"] / ref - table["low"] / ref, left=table["low"] / ref, height=0.8, color="#999999",
            label="record (value or range)")
    off = {g: (i - (len(groups) - 1) / 2) * 0.25 for i, g in enumerate(groups)}
    for g in groups:
        lo, med, hi = (table[f"{g}_{q}"].to_numpy(float) / ref for q in ("p5", "median", "p95"))
        ax.errorbar(np.clip(med, 1e-2, 1e2), y + off[g], xerr=[np.clip(med - lo, 0, None), np.clip(hi - med, 0, None)],
                    fmt="o", ms=3.5, color=COLORS[g], lw=1.4, capsize=2, label=f"{GROUPS[g]}: median, 5-95 %")
    ax.set_xscale("log")
    ax.set_xlim(0.05, 20)
    ax.axvline(1.0, color="k", lw=0.6)
    ax.set_yticks(y)
    ax.set_yticklabels([_label(r) + ("  [held out]" if r["held_out"] else "") for _, r in table.iterrows()], fontsize=7.5)
    ax.set_xlabel("model / record value (log scale)")
    ax.set_title("Targets of the record: model against record"
                 + (f"\n[held out]: not seen by the fit to targets before {_day(fit_before)}" if fit_before else ""),
                 fontsize=10)
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 1.2 / (0.36 * n + 1.6), 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_posterior(fits: dict[str, Calibration], previous: dict[str, float], path: Path) -> Path:
    """Weighted histograms of each parameter's posterior (full and out-of-sample fits)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    spec = next(iter(fits.values())).spec
    k = len(spec.names)
    cols = 5
    rows = int(np.ceil(k / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.1 * cols, 2.5 * rows), squeeze=False)
    for ax, name in zip(axes.flat, spec.names, strict=False):
        p = spec.parameters[name]
        edges = np.geomspace(p.low, p.high, 16) if p.scale == "log" else np.linspace(p.low, p.high, 16)
        for (label, cal), color in zip(fits.items(), [COLORS["posterior"], COLORS["oos"]], strict=False):
            ax.hist(cal.posterior[name], bins=edges, weights=cal.posterior["weight"], density=False, alpha=0.55,
                    color=color, label=label)
            ax.axvline(cal.best["parameters"][name], color=color, lw=1.5)
        if name in previous:
            ax.axvline(previous[name], color="k", ls=":", lw=1.2, label="the default config")
        if p.scale == "log":
            from matplotlib.ticker import LogLocator, NullFormatter

            ax.set_xscale("log")
            ax.xaxis.set_major_locator(LogLocator(numticks=4))
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlim(p.low, p.high)
        ax.set_title(name.replace("world.", "").replace("_per_day", "/day"), fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_yticks([])
    for ax in list(axes.flat)[k:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("Posterior weight over each prior's range (vertical lines: best sets)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# the observations' kind of a flow the record counts month by month (docs/validation.md)
MONTHLY = "monthly flow"
PANEL_ORDER = ("month", "day", "cumulative")


def series_panels(observations: dict[str, Observation], targets: list[Target]
                  ) -> list[tuple[str, tuple[str, ...], list[Target]]]:
    """The panels of the series figure: the record's counts of people over time, one panel per
    way of drawing them and output they are compared with, as ``(how, output, targets)``.

    The observations file decides (no metric is named here): a figure counted on a day
    (``how: on_day``) is a stock, drawn day by day (``"day"``); a sum of kind
    :data:`MONTHLY` is drawn month by month (``"month"``); any other sum is drawn as a count
    since each figure's own start (``"cumulative"``). Only counts of people are drawn (the
    others are in the targets figure).
    """
    panels: dict[tuple[str, tuple[str, ...]], list[Target]] = {}
    for t in targets:
        o = observations.get(t.metric)
        if o is None or not o.people or o.how not in ("on_day", "sum"):
            continue
        how = "day" if o.how == "on_day" else ("month" if o.kind == MONTHLY else "cumulative")
        panels.setdefault((how, o.output), []).append(t)
    ordered = sorted(panels.items(), key=lambda kv: PANEL_ORDER.index(kv[0][0]))
    return [(how, output, ts) for (how, output), ts in ordered]


def _columns(daily: pd.DataFrame, observation: Observation) -> pd.Series:
    """The sum of an observation's output columns, day by day."""
    return daily[observation.columns(daily, observation.output)].sum(axis=1)


def _monthly(daily: pd.DataFrame, observation: Observation, scale: float) -> pd.Series:
    month = pd.PeriodIndex(pd.to_datetime(daily["date"]), freq="M")
    return pd.Series(_columns(daily, observation).to_numpy(float) / scale, index=month).groupby(level=0).sum()


def _since(daily: pd.DataFrame, observation: Observation, scale: float, start: dt.date | None) -> np.ndarray:
    """The output day by day (``start`` None), or its count since ``start`` (NaN before it)."""
    v = _columns(daily, observation).to_numpy(float) / scale
    if start is None:
        return v
    after = daily["date"].to_numpy() >= start.isoformat()
    return np.where(after, np.cumsum(np.where(after, v, 0.0)), np.nan)


def _band(ax: Any, x: Any, v: np.ndarray, color: str, label: str | None, **line: Any) -> None:
    with warnings.catch_warnings():  # days before a count's start are NaN in every run
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, med, hi = np.nanpercentile(v, 5, 0), np.nanmedian(v, 0), np.nanpercentile(v, 95, 0)
    ax.fill_between(x, lo, hi, color=color, alpha=0.25, step=line.get("drawstyle", "").removeprefix("steps-") or None)
    ax.plot(x, med, color=color, label=label, **line)


def plot_series(runs: dict[str, list[tuple[pd.DataFrame, float]]], path: Path,
                targets: list[Target] | None = None, observations: dict[str, Observation] | None = None) -> Path:
    """The record's counts of people over time against each ensemble's 5-95 % band and median
    (:func:`series_panels`; default: the default world's record)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    targets = load_targets() if targets is None else targets
    observations = load_observations() if observations is None else observations
    panels = series_panels(observations, targets)
    cols = min(3, max(1, len(panels)))
    rows = int(np.ceil(len(panels) / cols)) or 1
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 4 * rows), squeeze=False)
    for ax, (how, output, ts) in zip(axes.flat, panels, strict=False):
        obs = observations[ts[0].metric]
        starts = [None] if how == "day" else sorted({t.start for t in ts})
        for g, rs in runs.items():
            if how == "month":
                months = _monthly(rs[0][0], obs, rs[0][1]).index.to_timestamp() + pd.Timedelta(days=14)
                m = np.array([_monthly(d, obs, s).to_numpy() for d, s in rs])
                _band(ax, months, m, COLORS[g], GROUPS[g], drawstyle="steps-mid")
                continue
            dates = pd.to_datetime(rs[0][0]["date"])
            for i, start in enumerate(starts):
                v = np.array([_since(d, obs, s, start) for d, s in rs])
                _band(ax, dates, v, COLORS[g], GROUPS[g] if i == 0 else None, lw=1.2, ls="-" if i == 0 else "--")
        for t in ts:  # the record
            if how == "month":
                days = (t.end - t.start).days + 1
                if days > 20:  # a figure over several months: its monthly mean, mid-period
                    mid = pd.Timestamp(t.start) + (pd.Timestamp(t.end) - pd.Timestamp(t.start)) / 2
                    ax.plot([mid], [t.value / max(1, round(days / 30.44))], "ks", ms=5)
            else:
                ax.errorbar([pd.Timestamp(t.end)], [t.value], yerr=[[t.value - t.low], [t.high - t.value]],
                            fmt="ks", capsize=3)
        metrics = ", ".join(dict.fromkeys(t.metric for t in ts))
        head, squares = {"month": ("per month", f"squares: {metrics}; over several months: its monthly mean"),
                         "day": ("on the day", f"squares: {metrics}, with their ranges"),
                         "cumulative": ("since each figure's start", f"squares: {metrics}"
                                        + ("; dashed: from a later start" if len(starts) > 1 else ""))}[how]
        ax.set_title(f"{' + '.join(output)} {head}\n" + textwrap.fill(f"({squares})", 64), fontsize=9)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    for ax in list(axes.flat)[:len(panels)]:
        ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 4, 7, 10)))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
        ax.tick_params(labelsize=8)
        ax.set_ylabel("people")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_convergence(fits: dict[str, Calibration], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for (label, cal), color in zip(fits.items(), [COLORS["posterior"], COLORS["oos"]], strict=False):
        g = cal.generations
        axes[0].plot(g["runs"], g["eps"], "o-", color=color, label=label)
        axes[1].plot(g["runs"], g["acceptance"], "o-", color=color, label=label)
        axes[1].axhline(cal.spec.min_acceptance, color=color, ls=":", lw=1)
    axes[0].set_ylabel("tolerance (RMS distance, in tolerances)")
    axes[1].set_ylabel("acceptance of new particles")
    for ax in axes:
        ax.set_xlabel("runs so far")
        ax.legend(fontsize=8)
    fig.suptitle("ABC-SMC: tolerance and acceptance by generation (stops below the dotted line)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# --------------------------------------------------------------------------------------
# the spec's tables (docs/calibration.md, written by scripts/write_config_docs.py)
# --------------------------------------------------------------------------------------


SPEC_BEGIN, SPEC_END = "<!-- calibration-spec:begin -->", "<!-- calibration-spec:end -->"


def spec_markdown(spec: Any) -> str:
    """The free parameters and the observation model of every target, as Markdown tables."""

    lines = ["### Free parameters (configs/calibration/default.yaml)", "",
             "| parameter | prior (uniform on this scale) | unit | why the record does not pin it down |",
             "|---|---|---|---|"]
    for k, p in spec.parameters.items():
        lines.append(f"| `{k}` | {p.scale} [{p.low:g}, {p.high:g}] | {p.unit} | {p.why} |")
    targets_file, observations_file = (f"data/observed/{p.name}" for p in record_paths())
    observations = load_observations()
    given = inputs(observations)
    targets = load_targets()
    lines += ["", f"### Observation models ({observations_file})", "",
              f"Each target of `{targets_file}`, what its source counts, and the model output "
              f"that counts the same thing over the same period, as `{observations_file}` declares it. Counts of people are divided by the run's "
              "sampling fraction (population.size / population.pool). 'tol.' widens the record's range by that "
              "relative margin for the verdict, and is the unit of the calibration's distance.", "",
              "| target | period | record | what the source counts | model output | kind | tol. |",
              "|---|---|---:|---|---|---|---:|"]
    joint: dict[str, tuple[float, float]] = {}  # joint range -> (lowest, highest) of its figures
    for t in targets:
        if t.metric in given:
            continue
        o = observations[t.metric]
        if o.joint_range:
            lo, hi = joint.get(o.joint_range, (t.low, t.high))
            joint[o.joint_range] = (min(lo, t.low), max(hi, t.high))
        rec = f"{t.value:g}" if t.low == t.high else f"{t.value:g} ({t.low:g}–{t.high:g})"
        if o.joint_range:
            rec += " ‡"
        lines.append(f"| `{t.metric}` | {t.start}..{t.end} | {rec} | {t.counts} | {o.describes} | {o.kind} | {o.tol:g} |")
    lines += [""] + [f"‡ estimates of one {g} by interested parties: compared with their joint range "
                     f"({lo:,.0f}–{hi:,.0f}), as the record's README advises." for g, (lo, hi) in joint.items()]
    lines += [f"Inputs of the model, not targets: {', '.join(sorted(given))}."]
    return "\n".join(lines)


def update_spec_docs(spec: Any, doc: Path = DOC) -> bool:
    """Write :func:`spec_markdown` between the markers of docs/calibration.md; True if changed."""

    return replace_section(doc, SPEC_BEGIN, SPEC_END, spec_markdown(spec))


# --------------------------------------------------------------------------------------
# the report
# --------------------------------------------------------------------------------------


def _fmt(x: float) -> str:
    if not np.isfinite(x):
        return "—"
    a = abs(x)
    if a >= 100:
        return f"{x:,.0f}"
    if a >= 1:
        return f"{x:.1f}"
    return f"{x:.3g}"


def _range(lo: float, hi: float) -> str:
    return _fmt(lo) if lo == hi else f"{_fmt(lo)}–{_fmt(hi)}"


def _timing(cal: Calibration) -> str:
    g = cal.generations
    secs = g["seconds"].fillna(0).sum() if "seconds" in g else float("nan")
    path = cal.root / cal.best.get("refined", "refine") / "generation.json"
    refine = json.loads(path.read_text()) if path.is_file() else {}
    secs += float(refine.get("seconds", 0))
    size = cal.best.get("size", cal.spec.size)
    return (f"{int(g['runs'].iloc[-1])} runs of {cal.spec.size:,} people ({len(g)} generations) and "
            f"{int(refine.get('runs', 0))} of {size:,} (refinement) in {secs / 60:.0f} min wall")


def markdown(fits: dict[str, Calibration], table: pd.DataFrame, groups: list[str], meta: dict[str, Any]) -> str:
    full = next(iter(fits.values()))
    # the out-of-sample fit's cut (the day from which targets are held out), if there is one
    cut = next((c.spec.fit_before for c in fits.values() if c.spec.fit_before), None)
    lines = [
        f"Made by `{meta['command']}` on {meta['date']} ({meta['seconds'] / 60:.1f} min for the report's "
        f"{meta['runs']} runs). Calibration folders: "
        + ", ".join(f"`{c.root.relative_to(ROOT) if c.root.is_relative_to(ROOT) else c.root}`" for c in fits.values())
        + ".",
        "",
        "### The fits",
        "",
        "| fit | targets fitted | runs and time | stopped | final tolerance | posterior: particles, "
        f"effective size | best set: mean distance ± sd over {full.spec.refine_seeds} seeds "
        f"of {full.best.get('size', full.spec.size):,} people |",
        "|---|---:|---|---|---:|---:|---:|",
    ]
    for label, cal in fits.items():
        nfit = int((~table["held_out"]).sum()) if cal.spec.fit_before else len(table)
        g = cal.generations
        acc = float(g["acceptance"].iloc[-1])
        stop = (f"acceptance {acc:.2f} < {cal.spec.min_acceptance:g}" if len(g) > 1 and acc < cal.spec.min_acceptance
                else f"after {len(g)} generations (acceptance still {acc:.2f})")
        post = cal.best.get("posterior", {})
        lines.append(f"| {label} | {nfit} | {_timing(cal)} | {stop} | {g['eps'].iloc[-1]:.2f} | "
                     f"{post.get('particles', len(cal.posterior))}, {post.get('ess', float('nan')):.0f} | "
                     f"{cal.best['mean_distance']:.2f} ± {cal.best['sd_distance']:.2f} |")
    lines += ["", "### Parameters: prior, posterior and best set", "",
              "| parameter | unit | prior | " + " | ".join(f"{lab}: median [5–95 %]" for lab in fits)
              + " | best set (→ default) |", "|---|---|---|" + "---:|" * len(fits) + "---:|"]
    sums = {lab: posterior_summary(cal).set_index("parameter") for lab, cal in fits.items()}
    for name, p in full.spec.parameters.items():
        cells = [f"{_fmt(s.loc[name, 'median'])} [{_fmt(s.loc[name, 'p5'])}–{_fmt(s.loc[name, 'p95'])}]" for s in sums.values()]
        lines.append(f"| `{name}` | {p.unit} | {p.scale} [{p.low:g}, {p.high:g}] | " + " | ".join(cells)
                     + f" | {_fmt(full.best['parameters'][name])} |")
    head = " | ".join(f"{GROUPS[g]}: median [5–95 %] | dist." for g in groups)
    lines += ["", "### Each target", "",
              "Distance: how far the median lies outside the record's range, in units of the target's tolerance "
              "(0 inside the range, ≤ 1 within the tolerance band; capped at 10). ✓: the median is within the "
              "tolerance band."
              + (f" Held-out targets (period ending on or after {_day(cut)}) were not seen by the "
                 "out-of-sample fit." if cut else ""), "",
              f"| target | period | record | {head} |", "|---|---|---:|" + "---:|---:|" * len(groups)]
    for _, r in table.iterrows():
        cells = []
        for g in groups:
            cells.append(f"{_fmt(r[f'{g}_median'])} [{_fmt(r[f'{g}_p5'])}–{_fmt(r[f'{g}_p95'])}]")
            cells.append(f"{r[f'{g}_distance']:.2f}{' ✓' if r[f'{g}_within'] else ''}")
        held = " *(held out)*" if r["held_out"] else ""
        lines.append(f"| {r['metric']}{held} | {r['period']} | {_range(r['low'], r['high'])} | " + " | ".join(cells) + " |")
    lines += ["", "### Overall, and out of sample", "",
              "| ensemble | targets | RMS distance | median distance | median within tolerance | 5–95 % band meets the band |",
              "|---|---:|---:|---:|---:|---:|"]
    held = table["held_out"]
    parts = [("all targets", None)]
    if cut:
        parts += [(f"targets before {_day(cut)}", ~held), (f"held-out targets (from {_day(cut)})", held)]
    for g in groups:
        for label, rows in parts:
            o = overall(table, g, rows)
            lines.append(f"| {GROUPS[g]}, {label} | {o['targets']} | {o['rms_distance']:.2f} | {o['median_distance']:.2f} | "
                         f"{o['within']} | {o['covers']} |")
    lines += ["", "![targets](figures/calibration_targets.png)", "",
              "![series](figures/calibration_series.png)", "",
              "![posterior](figures/calibration_posterior.png)", "",
              "![convergence](figures/calibration_convergence.png)", ""]
    return "\n".join(lines)


def write_report(
    full: Calibration,
    oos: Calibration | None = None,
    seeds: int = 8,
    draws: int = 32,
    size: int | None = None,
    docs: bool = True,
    n_jobs: int | None = None,
    command: str = "corridor-calibrate --report-only",
) -> list[Path]:
    """Run the report's ensembles and write ``report.md`` + figures (and docs/calibration.md)."""
    t0 = time.perf_counter()
    fits = {"full fit": full} | ({f"fit before {_day(oos.spec.fit_before)}": oos}
                                 if oos is not None and oos.spec.fit_before else
                                 {"out-of-sample fit": oos} if oos is not None else {})
    over = full.spec.overrides
    jobs: dict[str, list[tuple[dict[str, Any], int]]] = {
        "seeds": [(config_with(full.best["parameters"], size, over), s) for s in seed_list(seeds)],
        "posterior": [(config_with(v, full.spec.size, over), s)
                      for v, s in zip(full.draws(draws, seed=1), seed_list(draws, 7_000_000), strict=True)],
    }
    if oos is not None:
        jobs["oos"] = [(config_with(v, oos.spec.size, oos.spec.overrides), s)
                       for v, s in zip(oos.draws(draws, seed=1), seed_list(draws, 7_000_000), strict=True)]
    flat = [j for js in jobs.values() for j in js]
    results = run_sets(flat, n_jobs)
    runs: dict[str, list[tuple[pd.DataFrame, float]]] = {}
    i = 0
    for g, js in jobs.items():
        runs[g] = results[i:i + len(js)]
        i += len(js)
    base = None
    values = {}
    for g, rs in runs.items():
        b, v = target_values(rs)
        base = b if base is None else base
        values[g] = v
    fit_before = oos.spec.fit_before if oos is not None else None
    table = band_table(base, values, fit_before)
    out = full.root.parent / "report"
    out.mkdir(parents=True, exist_ok=True)
    groups = list(runs)

    defaults = compose_dict(list(full.spec.overrides))  # the values the config holds now, where each lives
    previous = {k: v for k in full.spec.names if (v := value_at(defaults, k)) is not None}
    figs = [
        plot_targets(table, groups, out / "calibration_targets.png", fit_before),
        plot_series(runs, out / "calibration_series.png"),
        plot_posterior(fits, previous, out / "calibration_posterior.png"),
        plot_convergence(fits, out / "calibration_convergence.png"),
    ]
    table.to_csv(out / "targets.csv", index=False)
    meta = {"command": command, "date": dt.date.today().isoformat(), "seconds": time.perf_counter() - t0,
            "runs": len(flat)}
    md = markdown(fits, table, groups, meta)
    (out / "report.md").write_text("# Calibration and validation report\n\n" + md.replace("figures/", "") + "\n",
                                   encoding="utf-8")
    paths = [out / "report.md", out / "targets.csv", *figs]
    if docs and DOC is not None:
        FIGURES.mkdir(parents=True, exist_ok=True)
        for f in figs:
            shutil.copy(f, FIGURES / f.name)

        replace_section(DOC, BEGIN, END, md)
        paths.append(DOC)
    return paths
